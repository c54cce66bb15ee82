//! The kill engine against the cases an adversarial review found (issue 11): a pid recycled
//! after planning, signals to reaper during the freeze of a big tree, workers forked during the
//! grace period, a shell's foreground job, a namespace init that drops SIGTERM. Every process
//! is the test's own (a unique token, or an exact pid it spawned), reaped by `Drop` guards.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reaper::kill::{self as engine, KillOptions};
use reaper::{Outcome, Selection, Snapshot};
use serde_json::Value;

use crate::util::*;

fn target(json: &Value, pid: u32) -> &Value {
    json["targets"].as_array().and_then(|a| a.iter().find(|t| t["pid"] == pid)).unwrap_or(&Value::Null)
}

// Regression (issue 11, item 2): the pidfd was opened when the plan was executed, and identity
// was the start time in clock ticks, so a pid recycled within the same tick passed the check.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: no pidfd pins")]
fn engine_pid_recycled_within_the_same_clock_tick_is_never_signalled() {
    // Plan a fresh `sleep`, kill it, and have another `sleep` take its pid: when that happens
    // within the same clock tick, nothing but the plan's pin tells them apart. Executing a copy
    // of the plan without its pins (the old way: pinned by pid and start time at execute time)
    // signals the impostor, proving the case real; the plan itself never signals it.
    let mut same_tick = 0;
    for _ in 0..40 {
        let mut first = Spawned(
            Command::new("/bin/sleep").arg("600").stdin(Stdio::null()).process_group(0).spawn().expect("sleep"),
        );
        let pid = first.0.id();
        let start = stat(pid).expect("stat").start;
        let sel = Selection::new().pid(pid);
        let opts = KillOptions { sequence: "TERM:2s,KILL".parse().expect("sequence"), ..KillOptions::default() };
        let plan = engine::plan(&sel, &mut Snapshot::new(), &opts).expect("a plan");
        assert!(plan.pins.contains_key(&pid), "the plan pins its target: {plan:?}");
        first.0.kill().expect("SIGKILL");
        first.0.wait().expect("reaping it");
        let Some(mut impostor) = spawn_at_pid(pid, 200) else { continue };
        let tick = stat(pid).expect("the impostor's stat").start;

        let report = engine::execute(&plan, &sel, &opts, &mut |_| {}).expect("a report");
        let t = report.targets.iter().find(|t| t.pid == pid).expect("the target");
        assert_eq!(t.outcome, Outcome::Gone, "{report:?}");
        assert!(t.signals.is_empty(), "the impostor was signalled: {report:?}");
        assert_eq!(impostor.0.try_wait().expect("try_wait"), None, "the impostor was killed");
        assert!(!frozen(pid), "the impostor was left stopped");

        if tick == start {
            same_tick += 1;
            let mut unpinned = plan.clone();
            unpinned.pins.clear();
            let report = engine::execute(&unpinned, &sel, &opts, &mut |_| {}).expect("a report");
            let t = report.targets.iter().find(|t| t.pid == pid).expect("the target");
            assert_eq!(t.signals, ["SIGTERM"], "without the pin the impostor passes for the target: {report:?}");
            assert!(impostor.0.try_wait().expect("try_wait").is_some(), "SIGTERM ends a sleep");
            if same_tick >= 2 {
                break;
            }
        }
        drop(impostor);
    }
    eprintln!("same clock tick reached {same_tick} times");
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

// Regression (issue 11, item 8): only INT/TERM/HUP were caught; SIGUSR1 or SIGALRM to reaper
// during the freeze of a big tree, or a SIGKILL (a CI runner's timeout), left it all stopped.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: no ptrace freeze, interrupts not caught")]
fn engine_sigusr1_sigalrm_sigkill_to_reaper_during_the_freeze_leave_nothing_stopped() {
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

// Regression (issue 11, item 9): a worker forked by its parent's SIGTERM handler (a node
// cluster primary replacing a worker) was no target: it never got SIGTERM, the parent waited
// for it, and both were SIGKILLed after the whole timeout (or the worker survived).
#[test]
fn engine_worker_forked_during_the_grace_period_gets_the_same_signal() {
    let fx = Fixture::start("refork", "refork", &["120"]);
    let (parent, first) = (fx.pid(), fx.get("worker"));
    let started = Instant::now();
    let run = reaper(&["kill", "--pid", &parent.to_string(), "--timeout", "10s", "--format", "json"]);
    let took = started.elapsed();
    run.expect(0);
    let json = run.json();
    let targets = json["targets"].as_array().expect("targets");
    let reforked: Vec<&Value> = targets.iter().filter(|t| t["pid"] != parent && t["pid"] != first).collect();
    assert_eq!(reforked.len(), 1, "the re-forked worker is a target: {json:#}");
    assert_eq!(reforked[0]["signals"], serde_json::json!(["SIGTERM"]), "{json:#}");
    assert_eq!(reforked[0]["outcome"], "exited", "{json:#}");
    assert_eq!(target(&json, parent)["outcome"], "exited", "{json:#}");
    assert!(took < Duration::from_secs(8), "took {took:?}: the grace period ran out\n{json:#}");
    assert_eq!(fx.live_pids(), Vec::<u32>::new());
}

// Regression (issue 11, item 12): the SIGSTOP freeze was visible to job control: killing a
// shell's foreground job printed `[1]+ Stopped` and `$?` was 147, not 143 (SIGTERM).
#[test]
fn engine_a_shells_foreground_job_ends_by_sigterm_not_stopped() {
    let Some(script) = which("script") else {
        assert!(std::env::var_os("CI").is_none(), "script (bsdutils) is missing under CI");
        eprintln!("skipped: no `script` to give bash a terminal");
        return;
    };
    let token = token("jobctl");
    let inner = format!("python3 {FIXTURE} {token} idle; echo status=$?; exit 0");
    let out_path = std::env::temp_dir().join(format!("{token}.out"));
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
        .split("READY pid=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("the fixture's pid");
    reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s"]).expect(0);
    wait_for("bash to report the job", || read().contains("status="));
    let text = read();
    drop(guard);
    let _ = std::fs::remove_file(&out_path);
    assert!(text.contains("status=143"), "bash saw another end of its job:\n{text}");
    assert!(!text.contains("Stopped"), "job control saw the freeze:\n{text}");
}

/// The path of a program on PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

// Regression (issue 11, item 15): the init of a PID namespace without a SIGTERM handler never
// receives SIGTERM (the kernel drops it); reaper waited the whole timeout and said nothing.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: no PID namespaces")]
fn engine_namespace_init_without_term_handler_is_killed_at_once_and_told() {
    let token = token("nsinit");
    let child = Command::new("unshare")
        .args(["--pid", "--fork", "python3", FIXTURE, &token, "idle"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("unshare");
    let mut guard = Started { token: token.clone(), child };
    let stdout = guard.child.stdout.take().expect("stdout");
    let line = read_line_within(stdout, DEADLINE).expect("READY");
    assert!(line.starts_with("READY pid=1"), "the fixture is PID 1 of its namespace: {line}");
    // Its host pid: the process with the token whose NSpid ends in 1.
    let pid = pids_with_token(&token)
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .is_ok_and(|s| s.lines().any(|l| l.starts_with("NSpid:") && l.ends_with("\t1")))
        })
        .expect("the namespace's init on the host");
    // The plan says so.
    let plan = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--dry-run", "--format", "json"]);
    let json = plan.expect(0).json();
    let note = target(&json, pid)["note"].as_str().unwrap_or_default().to_string();
    assert!(note.contains("drops SIGTERM") && note.contains("SIGKILL would be sent at once"), "{json:#}");
    let started = Instant::now();
    let run = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--format", "json"]);
    let took = started.elapsed();
    run.expect(0);
    let json = run.json();
    let t = target(&json, pid);
    assert_eq!(t["outcome"], "killed", "{json:#}");
    assert_eq!(t["signals"], serde_json::json!(["SIGKILL"]), "{json:#}");
    let note = t["note"].as_str().unwrap_or_default();
    assert!(note.contains(&format!("pid {pid} is the init of its own PID namespace")), "{json:#}");
    assert!(note.contains("SIGTERM"), "{note}");
    assert!(took < Duration::from_secs(5), "waited {took:?} for a signal the kernel drops");
    assert!(is_dead(pid));
    drop(guard);
}

// Every thread of a target is frozen (ptrace stops one thread at a time), the whole process
// gets the signal, and a target SIGKILLed while traced is released to its parent at once.
#[test]
fn engine_multithreaded_target_is_frozen_whole_and_released_to_its_parent() {
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
fn engine_library_killing_its_own_child_leaves_the_exit_status_to_it() {
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
// `Stopped` (issue 11, item 12, for the fallback).
#[test]
#[cfg(target_os = "linux")]
fn engine_a_target_ptrace_cannot_reach_and_that_does_not_fork_gets_no_sigstop() {
    let fx = Fixture::start("pretraced", "idle", &[]);
    let pid = fx.pid();
    let tracer = trace_from_a_thread(pid);
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, pid)["outcome"], "exited", "{json:#}");
    let seen = tracer.join().expect("the tracer thread");
    assert_eq!(seen, [15, -15], "signals that reached it (negative: the one it died of)");
}

// Regression: a job stopped with Ctrl-Z before reaper came went back to its stop when the
// ptrace freeze let it go, with SIGTERM pending, and waited out the whole timeout for SIGKILL.
#[test]
fn engine_a_job_stopped_by_job_control_is_ended_by_sigterm() {
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
