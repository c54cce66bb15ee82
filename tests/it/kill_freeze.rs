//! The freeze a kill holds a tree in, and interrupts during a kill: every thread stopped, a
//! traced child's exit status left to its parent, job control never seeing the stop, and
//! nothing left stopped when reaper is interrupted or SIGKILLed mid-freeze. Every process is
//! the test's own (a unique token, or an exact pid it spawned), reaped by `Drop` guards.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reaper::Selection;
use reaper::kill::{self as engine, KillOptions};
use serde_json::Value;

use crate::util::*;

// Every thread of a target is frozen (ptrace stops one thread at a time), the whole process
// gets the signal, and a target SIGKILLed while traced is released to its parent at once.
#[test]
fn multithreaded_target_is_frozen_whole_and_released_to_its_parent() {
    let mut fx = Fixture::start("threads", "threads", &["4", "ignore-term"]);
    let pid = fx.pid();
    assert_eq!(pid, fx.child.id(), "the fixture is our child: we are the parent that must be told");
    let started = Instant::now();
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "1s", "--format", "json"]).expect(0).json();
    let t = target(&json, pid);
    assert_eq!(t["outcome"], "killed", "{json:#}");
    assert_eq!(t["signals"], serde_json::json!(["SIGTERM", "SIGKILL"]), "{json:#}");
    // Its parent (this test) sees it killed by SIGKILL, not held by a tracer.
    let status = fx.child.wait().expect("wait");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}

// A library killing its own child (an app ending its sidecar): the freeze traces the child, and
// the tracer must not consume the exit status that the app's own `wait` is owed.
#[test]
fn library_killing_its_own_child_leaves_the_exit_status_to_it() {
    for (mode, sig) in [("idle", 15), ("ignore-term", 9)] {
        let mut fx = Fixture::start("own-child", mode, &[]);
        let pid = fx.pid();
        assert_eq!(pid, fx.child.id());
        let opts = KillOptions { sequence: "TERM:300ms,KILL".parse().expect("sequence"), ..KillOptions::default() };
        let report = engine::kill(&Selection::new().pid(pid), &opts, &mut |_| {}).expect("a report");
        assert!(report.success(), "{report:?}");
        let status = fx.child.wait().expect("our own wait gets the status");
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(sig), "{mode}: {status:?}");
    }
}

/// The path of a program on PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Runs `fixture.py TOKEN ARGS...` as the foreground job of an interactive bash (job control
/// on) in a pseudo-terminal (`script`), and kills the fixture's first process (its `pid`, or
/// the first of its `pids`) with `reaper kill --pid ROOT --timeout 10s`. Bash echoes
/// `status=$?` as soon as the job leaves the foreground, then waits (on a FIFO) until reaper
/// has exited and runs `jobs`, which prints what bash last learnt of the job (as a prompt
/// would). Returns what the terminal showed, or `None` without `script` (a failure under CI).
fn foreground_job(tag: &str, args: &[&str]) -> Option<String> {
    let Some(script) = which("script") else {
        assert!(std::env::var_os("CI").is_none(), "script (bsdutils) is missing under CI");
        eprintln!("skipped: no `script` to give bash a terminal");
        return None;
    };
    let token = token(tag);
    let tmp = TempDir::new(tag);
    let fifo = tmp.0.join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let fixture = format!("python3 {FIXTURE} {token} {}", args.join(" "));
    let inner =
        format!("{fixture}; echo status=$?; read -r _ < {}; jobs; echo line-ran-to-its-end; exit 0", fifo.display());
    let out_path = tmp.0.join("out");
    let out = std::fs::File::create(&out_path).expect("output file");
    // An interactive bash (job control on) in a pseudo-terminal, the fixture in the foreground.
    let child = Command::new(script)
        .args(["-qfec", &format!("bash --norc --noprofile -i -c '{inner}'"), "/dev/null"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out)
        .process_group(0)
        .spawn()
        .expect("script");
    let guard = Started { token: token.clone(), child };
    let read = || std::fs::read_to_string(&out_path).unwrap_or_default();
    wait_for("the fixture's READY", || read().contains("READY"));
    let pid: u32 = read()
        .split("READY ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|kv| kv.split('=').nth(1))
        .and_then(|pids| pids.split(',').next())
        .and_then(|p| p.parse().ok())
        .expect("the fixture's pid");
    reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s"]).expect(0);
    // Bash reads the FIFO once the job has left the foreground (a writer waits for a reader).
    let mut go = None;
    wait_for("bash to wait for reaper's end", || {
        use std::os::unix::fs::OpenOptionsExt;
        go = std::fs::OpenOptions::new().write(true).custom_flags(nix::libc::O_NONBLOCK).open(&fifo).ok();
        go.is_some()
    });
    std::io::Write::write_all(&mut go.expect("the FIFO"), b"go\n").expect("writing the FIFO");
    wait_for("bash to finish", || read().contains("line-ran-to-its-end"));
    let text = read();
    drop(guard);
    Some(text)
}

// Regression: the SIGSTOP freeze was visible to job control: killing a
// shell's foreground job printed `[1]+ Stopped` and `$?` was 147, not 143 (SIGTERM).
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives bash a terminal")]
fn a_shells_foreground_job_ends_by_sigterm_not_stopped() {
    let Some(text) = foreground_job("jobctl", &["idle"]) else { return };
    assert!(text.contains("status=143"), "bash saw another end of its job:\n{text}");
    assert!(!text.contains("Stopped"), "job control saw the freeze:\n{text}");
}

// A shell's foreground job that is a tree (a chain of 3): what the shell shows is what
// docs/src/platforms.md says. Linux's engine freezes it with ptrace-stops, which job control
// never sees: the job ends by SIGTERM. The portable backend (macOS) SIGSTOPs a tree with
// children before its signal, and SIGSTOP is job control: bash reports the job stopped, sets
// `$?` to 147 (128 + SIGSTOP) and runs the rest of its line while the job is still being ended;
// once reaper is done, bash reports it terminated.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives bash a terminal")]
fn a_shells_foreground_tree_shows_what_the_docs_say() {
    let Some(text) = foreground_job("jobtree", &["tree", "3"]) else { return };
    if cfg!(feature = "portable") {
        let stopped = text.find("Stopped").unwrap_or_else(|| panic!("bash never saw the job stopped:\n{text}"));
        let status = text.find("status=147").unwrap_or_else(|| panic!("$? was not 147:\n{text}"));
        let ended = text.rfind("Terminated").unwrap_or_else(|| panic!("bash never saw the job end:\n{text}"));
        assert!(stopped < status && status < ended, "in another order:\n{text}");
    } else {
        assert!(text.contains("status=143"), "bash saw another end of its job:\n{text}");
        assert!(!text.contains("Stopped"), "job control saw the freeze:\n{text}");
    }
}

// Regression: a job stopped with Ctrl-Z before reaper came went back to its stop when the
// ptrace freeze let it go, with SIGTERM pending, and waited out the whole timeout for SIGKILL.
#[test]
fn a_job_stopped_by_job_control_is_ended_by_sigterm() {
    let fx = Fixture::start("ctrl-z", "idle", &[]);
    let pid = fx.pid();
    kill(Pid::from_raw(pid as i32), Signal::SIGSTOP).expect("SIGSTOP");
    wait_for("the job to stop", || state(pid) == Some('T'));
    let started = Instant::now();
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, pid)["outcome"], "exited", "{json:#}");
    assert_eq!(target(&json, pid)["signals"], serde_json::json!(["SIGTERM"]), "{json:#}");
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
}

/// Traces `pid` from a thread of this test (so that reaper's ptrace is refused: a process has
/// one tracer), passing every signal on. Returns the signals delivered, in order, then the
/// negated signal it died of.
#[cfg(target_os = "linux")]
fn trace_from_a_thread(pid: u32) -> std::thread::JoinHandle<Vec<i32>> {
    use nix::libc;
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = pid as libc::pid_t;
    let handle = std::thread::spawn(move || {
        // SAFETY: PTRACE_SEIZE with a pid and no address, data or options.
        let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) };
        tx.send(r).expect("send");
        let mut seen = Vec::new();
        loop {
            let mut st = 0;
            // SAFETY: waitpid writes the status into `st`.
            if unsafe { libc::waitpid(pid, &mut st, libc::__WALL) } != pid {
                break;
            }
            if libc::WIFSIGNALED(st) {
                seen.push(-libc::WTERMSIG(st));
                break;
            }
            if libc::WIFEXITED(st) {
                break;
            }
            let sig = libc::WSTOPSIG(st);
            let (req, data) = if st >> 16 == 0 {
                seen.push(sig); // a signal on its way: pass it on
                (libc::PTRACE_CONT, sig as usize)
            } else {
                (libc::PTRACE_LISTEN, 0) // a group-stop: stay stopped, as without a tracer
            };
            // SAFETY: resumes the tracee (or listens) with a signal number or 0.
            unsafe { libc::ptrace(req, pid, 0usize, data) };
        }
        seen
    });
    assert_eq!(rx.recv().expect("seize"), 0, "the test could not trace its fixture");
    handle
}

// Where ptrace is refused (a debugger, Yama's ptrace_scope for non-root users on Ubuntu), a tree
// that does not fork is signalled without SIGSTOP, so that its parent's shell does not see it
// `Stopped` (what `a_shells_foreground_job_ends_by_sigterm_not_stopped` checks with the freeze).
#[test]
#[cfg(target_os = "linux")]
fn a_target_ptrace_cannot_reach_and_that_does_not_fork_gets_no_sigstop() {
    let fx = Fixture::start("pretraced", "idle", &[]);
    let pid = fx.pid();
    let tracer = trace_from_a_thread(pid);
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, pid)["outcome"], "exited", "{json:#}");
    let seen = tracer.join().expect("the tracer thread");
    assert_eq!(seen, [15, -15], "signals that reached it (negative: the one it died of)");
}

/// Whether `pid` has SIGINT blocked (read from a signalfd, as the kill engine does).
fn blocks_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let blk = status.lines().find_map(|l| l.strip_prefix("SigBlk:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(blk, 16).is_ok_and(|m| m & (1 << (nix::libc::SIGINT - 1)) != 0)
}

fn has_pidfd(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.flatten().any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("pidfd"))))
        .unwrap_or(false)
}

#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: interrupts are not caught during a kill"
)]
fn interrupted_reaper_continues_what_it_stopped_and_exits_130() {
    let fx = Fixture::start("kill-intr", "ignore-term", &[]);
    let child = reaper_cmd()
        .args(["kill", "--pid", &fx.pid().to_string(), "--timeout", "60s", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reaper");
    let reaper_pid = child.id();
    // Pins are taken while planning, before the engine catches SIGINT: wait until it does.
    wait_for("reaper to catch SIGINT", || has_pidfd(reaper_pid) && blocks_sigint(reaper_pid));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(reaper_pid as i32), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    let out = wait_bounded(child, "reaper kill (interrupted)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["interrupted"], true);
    assert_eq!(target(&json, fx.pid())["outcome"], "survived");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Alive, and not left stopped.
    assert!(matches!(state(fx.pid()), Some('S' | 'R')), "{:?}", state(fx.pid()));
}

/// Starts `reaper kill` on a tree, SIGINTs it while some of the tree is stopped (the freeze),
/// and checks that nothing is left stopped and the report is whole. Returns whether the
/// interrupt landed while a process was stopped.
fn sigint_during_kill(mode: &str, args: &[&str], extra: &[&str]) -> bool {
    let fx = Fixture::start("sigint", mode, args);
    let mut cmd = reaper_cmd();
    cmd.args(["kill", "--signature", &fx.token, "--format", "json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("running reaper");
    let reaper_pid = child.id();
    // Wait for the freeze (a process of ours in state T) or for reaper to finish.
    let start = Instant::now();
    let mut caught = false;
    while start.elapsed() < DEADLINE {
        if fx.live_pids().iter().any(|&p| frozen(p)) {
            caught = true;
            break;
        }
        if state(reaper_pid).is_none_or(|s| s == 'Z') {
            break;
        }
        std::thread::yield_now();
    }
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(reaper_pid as i32), nix::sys::signal::Signal::SIGINT);
    let out = wait_bounded(child, "reaper kill (interrupted)");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1) | Some(130)),
        "exit {:?}, caught {caught}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    if code == Some(130) {
        assert_eq!(json["interrupted"], true, "{json:#}");
    }
    // Whatever happened, reaper left nothing stopped.
    let stopped: Vec<u32> = fx.live_pids().into_iter().filter(|&p| frozen(p)).collect();
    assert!(stopped.is_empty(), "left stopped: {stopped:?}\n{json:#}");
    caught
}

#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: interrupts are not caught during a kill"
)]
fn sigint_during_a_kill_leaves_nothing_stopped() {
    let mut caught = 0;
    for _ in 0..5 {
        caught += usize::from(sigint_during_kill("storm", &["3", "3"], &["--timeout", "10s"]));
        caught += usize::from(sigint_during_kill("forest", &["200", "120", "ignore-term"], &["--timeout", "10s"]));
    }
    // At least some interrupts must have hit a freeze, or the test proved nothing.
    assert!(caught > 0, "no SIGINT landed while a process was stopped");
}

/// Starts `reaper kill` on `fx`'s tree (`--timeout 60s`), waits until `watch` is frozen, sends
/// reaper `sig`, and waits for it to end. Returns reaper's exit status.
fn signal_reaper_during_the_freeze(fx: &Fixture, watch: u32, sig: Signal) -> std::process::ExitStatus {
    let child = reaper_cmd()
        .args(["kill", "--signature", &fx.token, "--timeout", "60s", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("running reaper");
    let mut reaper = Spawned(child);
    let start = Instant::now();
    while !frozen(watch) {
        assert!(start.elapsed() < DEADLINE, "the tree was never frozen");
        assert_eq!(reaper.0.try_wait().expect("try_wait"), None, "reaper ended before the freeze");
    }
    kill(Pid::from_raw(reaper.pid() as i32), sig).expect("signalling reaper");
    wait_exit(&mut reaper.0, "reaper kill")
}

/// Waits until no process of `fx` is stopped; fails with the stopped ones at the deadline.
fn nothing_left_stopped(fx: &Fixture, pids: &[u32], what: &str) {
    let start = Instant::now();
    loop {
        let stopped: Vec<u32> = pids.iter().copied().filter(|&p| frozen(p)).collect();
        if stopped.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what}: {} of {} left stopped, e.g. {:?}",
            stopped.len(),
            pids.len(),
            &stopped[..stopped.len().min(8)]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!fx.live_pids().is_empty(), "{what}: the tree (ignoring SIGTERM) should still live");
}

// Regression: only INT/TERM/HUP were caught; SIGUSR1 or SIGALRM to reaper
// during the freeze of a big tree, or a SIGKILL (a CI runner's timeout), left it all stopped.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: no ptrace freeze, interrupts not caught"
)]
fn sigusr1_sigalrm_sigkill_to_reaper_during_the_freeze_leave_nothing_stopped() {
    let fx = Fixture::start_with("freeze-signals", "forest", &["1500", "300", "ignore-term"], Duration::from_secs(120));
    let pids = fx.live_pids();
    assert_eq!(pids.len(), 1500);
    // The last process forked is among the last frozen: once it is, the whole tree is.
    let watch = *pids.iter().max().expect("pids");
    for sig in [Signal::SIGUSR1, Signal::SIGALRM, Signal::SIGKILL] {
        let status = signal_reaper_during_the_freeze(&fx, watch, sig);
        nothing_left_stopped(&fx, &pids, sig.as_str());
        if sig == Signal::SIGKILL {
            assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "{status:?}");
        } else {
            // Read from the signalfd like SIGINT: an interrupt, everything let go first.
            assert_eq!(status.code(), Some(130), "{sig}: {status:?}");
        }
    }
}

/// The fixture's processes that are stopped (`T`, or `t`: a ptrace-stop).
fn stopped_of(fx: &Fixture) -> Vec<u32> {
    fx.live_pids().into_iter().filter(|&p| frozen(p)).collect()
}

// Runs wherever the portable backend does (macOS, and Linux under `portable`): its freeze is
// SIGSTOP, which only the resumer undoes once reaper is gone.
#[test]
#[cfg_attr(
    not(any(feature = "portable", not(target_os = "linux"))),
    ignore = "the Linux engine's freeze is a ptrace-stop, undone by the kernel when reaper dies, and too brief to catch from here"
)]
fn sigkilled_mid_freeze_leaves_nothing_stopped() {
    // reaper is SIGKILLed while it holds part of a growing tree stopped (the tree ignores
    // SIGTERM, so the kill waits and freezes each new generation): whatever it stopped must run
    // again, without reaper (the resumer process, where the freeze is SIGSTOP).
    for round in 0..5 {
        let fx = Fixture::start("grow-sigkill", "grow", &["4", "4", "term", "0.02"]);
        wait_for("the tree to start growing", || fx.live_pids().len() >= 3);
        let mut guard = Spawned(
            reaper_cmd()
                .args(["kill", "--pid", &fx.pid().to_string(), "--timeout", "60s"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("reaper"),
        );
        wait_for("reaper to stop part of the tree", || !stopped_of(&fx).is_empty());
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(guard.pid() as i32), nix::sys::signal::SIGKILL);
        wait_exit(&mut guard.0, "the SIGKILLed reaper");
        wait_for(&format!("round {round}: every stopped process to run again"), || stopped_of(&fx).is_empty());
        // Nobody stops them any more: they stay running.
        assert!(fx.live_pids().len() >= 3);
    }
}

// Trees that reaper stops with SIGSTOP while it signals them (the portable backend stops every
// tree with children; Linux falls back to SIGSTOP where ptrace is refused). The kernel sends
// SIGHUP, then SIGCONT, to every stopped member of a process group that a parent's exit leaves
// orphaned: each target must still end by the signal reaper chose, not the kernel's hangup.
#[test]
fn a_stopped_tree_is_killed_children_first_never_left_to_the_kernels_hangup() {
    let fx = Fixture::start("brood", "brood", &["40", "ignore-term"]);
    let kids: Vec<u32> = fx.info["children"].split(',').map(|p| p.parse().expect("a pid")).collect();
    assert_eq!(kids.len(), 40);
    let run = reaper(&["kill", "--signature", &fx.token, "--sequence", "TERM:300ms,KILL:10s", "--format", "json"]);
    let json = run.expect(0).json();
    let targets = json["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 41, "{json:#}");
    for t in targets {
        assert_eq!(t["outcome"], "killed", "every target ends by reaper's SIGKILL, not a hangup: {t}");
        assert_eq!(t["signals"], serde_json::json!(["SIGTERM", "SIGKILL"]), "{t}");
    }
    assert_eq!(fx.live_pids(), Vec::<u32>::new());
}
