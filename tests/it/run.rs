//! `reaper run` against real trees: a launcher whose child holds a port and that does not
//! forward signals, a double-forking daemon, crashing commands. Every `reaper run` a test
//! starts is SIGKILLed in a `Drop` guard, with every process carrying the test's token.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::*;

/// A `reaper run ... -- python3 fixture.py TOKEN MODE ARGS` whose fixture said READY.
pub struct Guarded {
    pub token: String,
    pub reaper: Child,
    pub info: std::collections::HashMap<String, String>,
    stderr: PathBuf,
}

impl Guarded {
    pub fn start(tag: &str, run_args: &[&str], mode: &str, mode_args: &[&str]) -> Guarded {
        Guarded::start_via(&[], tag, run_args, mode, mode_args)
    }

    /// Like `start`, with `reaper` exec'd by `prefix` (which must exec, so that the child's
    /// pid is reaper's).
    pub fn start_via(prefix: &[&str], tag: &str, run_args: &[&str], mode: &str, mode_args: &[&str]) -> Guarded {
        let token = token(tag);
        let stderr = std::env::temp_dir().join(format!("{token}.stderr"));
        let mut cmd = match prefix.split_first() {
            Some((wrapper, args)) => {
                let mut cmd = wrapper_cmd(wrapper);
                cmd.args(args).arg(REAPER);
                cmd
            }
            None => reaper_cmd(),
        };
        let mut reaper = cmd
            .arg("run")
            .args(run_args)
            .args(["--", "python3", FIXTURE, &token, mode])
            .args(mode_args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("starting reaper run");
        let stdout = reaper.stdout.take().expect("piped stdout");
        let mut g = Guarded { token, reaper, info: Default::default(), stderr };
        let line =
            read_line_within(stdout, DEADLINE).unwrap_or_else(|| panic!("{mode} under reaper run never became ready"));
        assert!(line.starts_with("READY"), "fixture {mode} said {line:?}; stderr: {}", g.stderr());
        g.info = parse_ready(&line);
        g
    }

    /// The live processes of the guarded tree: those with the token, but not `reaper run`
    /// and its guard process (whose command lines carry the token too).
    pub fn tree(&self) -> Vec<u32> {
        pids_with_token(&self.token).into_iter().filter(|&p| !comm(p).is_empty() && comm(p) != "reaper").collect()
    }

    pub fn port(&self) -> u16 {
        self.info["port"].parse().expect("a port")
    }

    pub fn pid(&self) -> u32 {
        self.reaper.id()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.pid() as i32), sig).expect("signalling reaper run");
    }

    /// Waits for `reaper run` to exit (within the deadline).
    #[track_caller]
    pub fn wait(&mut self) -> ExitStatus {
        wait_exit(&mut self.reaper, "reaper run")
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.reaper.kill();
        let _ = self.reaper.wait();
        kill_token(&self.token);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// A process of the test's own that a guard can watch; SIGKILLed and reaped on drop.
struct Anchor(Child);

impl Anchor {
    fn start() -> Anchor {
        Anchor(Command::new("sleep").arg("1000").spawn().expect("starting sleep"))
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether no process holds `port` any more, read from /proc/net by the test itself.
// Regression: this asked `reaper list`, so reaper judged its own work.
fn port_free(port: u16) -> bool {
    !port_held(port)
}

#[track_caller]
fn assert_tree_gone(g: &Guarded, port: Option<u16>) {
    wait_for("the guarded tree to be gone", || g.tree().is_empty());
    if let Some(port) = port {
        wait_for("the port to be free", || port_free(port));
    }
}

fn in_own_pid_namespace(pid: u32) -> bool {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    ns(&pid.to_string()).is_some_and(|n| Some(n) != ns("self"))
}

#[test]
fn anchor_sigkilled_ends_launcher_tree_and_frees_port() {
    let anchor = Anchor::start();
    let watch = anchor.pid().to_string();
    let mut g = Guarded::start("run-anchor", &["--watch-pid", &watch, "--timeout", "3s"], "launcher", &[]);
    let port = g.port();
    assert_eq!(g.tree().len(), 2, "launcher and its server run");
    assert!(!port_free(port));
    kill(Pid::from_raw(anchor.pid() as i32), Signal::SIGKILL).unwrap();
    // The anchor is not reaped yet: a zombie anchor is an exited anchor.
    assert_tree_gone(&g, Some(port));
    let status = g.wait();
    // The launcher died of the sequence's SIGTERM: 128 + 15.
    assert_eq!(status.code(), Some(143), "stderr: {}", g.stderr());
    assert!(g.stderr().contains(&format!("watched pid {watch} exited")), "{}", g.stderr());
    drop(anchor);
}

#[test]
fn sigterm_to_reaper_run_ends_launcher_tree() {
    let mut g = Guarded::start("run-term", &[], "launcher", &[]);
    let port = g.port();
    g.signal(Signal::SIGTERM);
    assert_tree_gone(&g, Some(port));
    assert_eq!(g.wait().code(), Some(143), "stderr: {}", g.stderr());
    assert!(g.stderr().contains("received SIGTERM"), "{}", g.stderr());
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID namespaces")]
fn sigkill_to_reaper_run_still_ends_tree_in_pid_namespace() {
    let mut g = Guarded::start("run-kill", &[], "launcher", &[]);
    let port = g.port();
    let pids = g.tree();
    if !pids.iter().all(|&p| in_own_pid_namespace(p)) {
        skip(&format!("PID namespaces are not available here (reaper said: {})", g.stderr().trim()));
        return;
    }
    g.signal(Signal::SIGKILL);
    assert!(g.wait().signal() == Some(9));
    // Nobody ended the tree in an orderly way: the kernel did, when the namespace's init died.
    assert_tree_gone(&g, Some(port));
    wait_for("the guard process to be gone too", || pids_with_token(&g.token).is_empty());
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID namespaces")]
fn double_forking_daemon_is_ended_in_pid_namespace() {
    let mut g = Guarded::start("run-daemon-ns", &[], "daemon", &[]);
    wait_for("the daemon and its parent", || g.tree().len() == 2);
    g.signal(Signal::SIGTERM);
    assert_tree_gone(&g, None);
    assert_eq!(g.wait().code(), Some(143));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a subreaper (PR_SET_CHILD_SUBREAPER)")]
fn double_forking_daemon_reparents_to_subreaper_and_is_ended() {
    let mut g = Guarded::start("run-daemon-sub", &["--no-pid-namespace"], "daemon", &[]);
    let daemon: u32 = g.info["pid"].parse().unwrap(); // real pids: no namespace
    // The daemon's parent exited; it was adopted by the guard process (reaper run's child),
    // not by PID 1.
    let ppid_of = |pid: u32| ppid(pid).expect("a live process");
    let shim = ppid_of(daemon);
    assert_ne!(shim, 1);
    assert_eq!(ppid_of(shim), g.pid(), "the daemon's adopter is reaper run's guard process");
    g.signal(Signal::SIGTERM);
    assert_tree_gone(&g, None);
    assert_eq!(g.wait().code(), Some(143));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: user namespaces, unshare and setpriv")]
fn without_namespaces_falls_back_to_subreaper_and_says_so() {
    // A user namespace where reaper has no capabilities and may not create user namespaces:
    // neither kind of PID namespace is possible there.
    let prefix = [
        "unshare",
        "--user",
        "--map-root-user",
        "sh",
        "-c",
        "echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --bounding-set=-all --inh-caps=-all \"$@\"",
        "sh",
    ];
    let probe = Command::new(prefix[0]).args(&prefix[1..]).arg("true").status();
    if !probe.is_ok_and(|s| s.success()) {
        skip("cannot build a namespace-less sandbox with unshare and setpriv here");
        return;
    }
    let mut g = Guarded::start_via(&prefix, "run-degraded", &[], "launcher", &[]);
    let port = g.port();
    wait_for("the degraded-mode notice", || g.stderr().contains("no PID namespace"));
    assert!(g.stderr().contains("if reaper is SIGKILLed only the command itself dies"), "{}", g.stderr());
    assert!(g.tree().iter().all(|&p| !in_own_pid_namespace(p)));
    g.signal(Signal::SIGTERM);
    assert_tree_gone(&g, Some(port));
    assert_eq!(g.wait().code(), Some(143), "{}", g.stderr());
}

#[test]
fn leftovers_of_an_exited_command_are_ended_in_both_modes() {
    for extra in [&[][..], &["--no-pid-namespace"][..]] {
        let tok = token("run-leftover");
        let tmp = TempDir::new("run-leftover");
        // The command starts a listener in the background, waits until it is up, and exits 0.
        let script = format!(
            "python3 {FIXTURE} {tok} listen tcp 127.0.0.1 > {out} & while ! grep -q READY {out}; do sleep 0.05; done; exit 0",
            out = tmp.0.join(format!("{tok}.out")).display()
        );
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["--timeout", "3s", "--", "sh", "-c", &script]);
        let r = reaper(&args);
        let _ = std::fs::remove_file(tmp.0.join(format!("{tok}.out")));
        let left = pids_with_token(&tok);
        for &pid in &left {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        r.expect(0);
        assert!(left.is_empty(), "{extra:?}: the background listener outlived reaper run: {left:?}");
    }
}

#[test]
fn sigkill_to_reaper_run_without_namespace_still_kills_the_command() {
    let mut g = Guarded::start("run-kill-sub", &["--no-pid-namespace"], "launcher", &[]);
    let launcher: u32 = g.info["pid"].parse().unwrap(); // real pids: no namespace
    let server: u32 = g.info["child"].parse().unwrap();
    g.signal(Signal::SIGKILL);
    g.wait();
    // The command dies with its guard (PR_SET_PDEATHSIG); its own child is the documented gap.
    wait_for("the launcher to die with the guard", || is_dead(launcher));
    let _ = kill(Pid::from_raw(server as i32), Signal::SIGKILL);
}

#[test]
fn a_command_ignoring_sigterm_is_killed_after_the_timeout() {
    for extra in [&[][..], &["--no-pid-namespace"][..]] {
        let mut args = vec!["--timeout", "500ms"];
        args.extend_from_slice(extra);
        let mut g = Guarded::start("run-ignore-term", &args, "ignore-term", &[]);
        let port = g.port();
        g.signal(Signal::SIGTERM);
        assert_tree_gone(&g, Some(port));
        assert_eq!(g.wait().code(), Some(137), "{extra:?}: {}", g.stderr());
    }
}

#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: interrupts are not caught during a kill"
)]
fn a_second_signal_during_the_stop_kills_at_once() {
    for extra in [&[][..], &["--no-pid-namespace"][..]] {
        // A 60 s grace period: only the second signal can end this test within the deadline.
        let mut args = vec!["--timeout", "60s"];
        args.extend_from_slice(extra);
        let mut g = Guarded::start("run-second-signal", &args, "ignore-term", &[]);
        let port = g.port();
        g.signal(Signal::SIGTERM);
        wait_for("the first signal to be taken", || g.stderr().contains("ending the tree"));
        g.signal(Signal::SIGINT);
        assert_tree_gone(&g, Some(port));
        assert_eq!(g.wait().code(), Some(137), "{extra:?}: {}", g.stderr());
    }
}

#[test]
fn exit_status_passes_through() {
    reaper(&["run", "--", "sh", "-c", "exit 3"]).expect(3);
    reaper(&["run", "--", "sh", "-c", "kill -9 $$"]).expect(137);
    reaper(&["run", "--no-pid-namespace", "--", "sh", "-c", "kill -9 $$"]).expect(137);
    reaper(&["run", "--", "true"]).expect(0);
    let missing = token("no-such-command");
    let r = reaper(&["run", "--", &missing]);
    r.expect(127);
    assert!(r.stderr().contains(&missing), "{}", r.stderr());
}

#[test]
fn stdio_passes_through() {
    let r = reaper(&["run", "--", "sh", "-c", "echo out; echo err >&2"]);
    r.expect(0);
    assert_eq!(r.stdout(), "out\n");
    assert_eq!(r.stderr(), "err\n");
}

#[test]
fn restart_on_failure_backs_off_and_stops_at_max_restarts() {
    let tok = token("run-restart");
    let tmp = TempDir::new("run-restart");
    let log = tmp.0.join(format!("{tok}.log"));
    // Each start appends its wall-clock time in nanoseconds, then fails. (Python's clock: `date
    // +%N` is GNU's.)
    let script = format!("python3 -c 'import time; print(time.time_ns())' >> '{}'; exit 7", log.display());
    let r = reaper(&["run", "--restart", "on-failure", "--max-restarts", "3", "--", "sh", "-c", &script]);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    r.expect(7);
    let starts: Vec<f64> = text.lines().map(|l| l.trim().parse::<f64>().unwrap() / 1e9).collect();
    assert_eq!(starts.len(), 4, "one start and 3 restarts: {text}");
    let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    // 250 ms, 500 ms, 1 s of backoff, plus each start's own run time. Only the lower bounds
    // are the backoff's: what a start adds on top is the machine's load (a ratio of the gaps
    // failed on a busy machine, the first start taking 140 ms longer than the second).
    for (gap, min) in gaps.iter().zip([0.25, 0.5, 1.0]) {
        assert!(*gap >= min, "gaps {gaps:?}");
    }
    assert!(r.stderr().contains("restarting in 250 ms (restart 1)"), "{}", r.stderr());
    assert!(r.stderr().contains("restarting in 500 ms (restart 2)"), "{}", r.stderr());
    assert!(r.stderr().contains("restarting in 1000 ms (restart 3)"), "{}", r.stderr());
    assert!(!r.stderr().contains("restart 4"), "{}", r.stderr());
}

#[test]
fn restart_on_failure_does_not_restart_success_and_always_does() {
    let tok = token("run-always");
    let tmp = TempDir::new("run-always");
    let log = tmp.0.join(format!("{tok}.log"));
    let script = format!("echo start >> '{}'", log.display());
    reaper(&["run", "--restart", "on-failure", "--", "sh", "-c", &script]).expect(0);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    reaper(&["run", "--restart", "always", "--max-restarts", "2", "--", "sh", "-c", &script]).expect(0);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 4);
    let _ = std::fs::remove_file(&log);
}

#[test]
fn sigterm_during_restart_backoff_stops_without_restarting() {
    let tok = token("run-backoff-term");
    let tmp = TempDir::new("run-backoff-term");
    let log = tmp.0.join(format!("{tok}.log"));
    let script = format!("echo start >> '{}'; exit 1", log.display());
    let _reap = TokenReaper(tok.clone());
    let mut child = Spawned(
        reaper_cmd()
            .args(["run", "--restart", "always", "--", "sh", "-c", &script, &tok])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let count = || std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
    // After the third start the backoff is 1 s: signal during it.
    wait_for("three starts", || count() >= 3);
    let at_signal = count();
    kill(Pid::from_raw(child.pid() as i32), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut child.0, "reaper run");
    let starts = count();
    let _ = std::fs::remove_file(&log);
    // The last run exited 1; the signal ends the guard instead of another start.
    assert_eq!(status.code(), Some(1));
    // Regression: `starts <= 4` passed with one restart after the signal too.
    assert_eq!(starts, at_signal, "a start after the signal");
}

#[test]
fn ready_port_reported_and_ready_timeout_ends_tree() {
    // A port for the fixture to bind (with SO_REUSEADDR); the ready check only counts a
    // listener owned by the guarded tree, so a stranger on this port cannot fool it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut g = Guarded::start(
        "run-ready",
        &["--ready-port", &port, "--ready-timeout", "15s"],
        "listen",
        &["tcp", "127.0.0.1", &port],
    );
    wait_for("the ready line", || g.stderr().contains(&format!("ready: listening on port {port}")));
    g.signal(Signal::SIGTERM);
    assert_eq!(g.wait().code(), Some(143));

    let tok = token("run-not-ready");
    let r = reaper(&[
        "run",
        "--ready-port",
        &port,
        "--ready-timeout",
        "300ms",
        "--",
        "sh",
        "-c",
        &format!(": {tok}; sleep 100"),
    ]);
    r.expect(1);
    // The port and the time are named.
    assert!(r.stderr().contains(&format!("nothing listened on tcp port {port} within 300ms")), "{}", r.stderr());
    assert!(pids_with_token(&tok).is_empty());
}

#[test]
fn bad_input_exits_2_and_starts_nothing() {
    // Linux's PID_MAX_LIMIT: pids are below it (macOS's are below 99 999), so it never exists.
    let missing = 4_194_304.to_string();
    let tok = token("run-bad");
    let script = format!("echo {tok}");
    let r = reaper(&["run", "--watch-pid", &missing, "--", "sh", "-c", &script]);
    r.expect(2);
    assert!(r.stderr().contains(&missing), "{}", r.stderr());
    assert!(!r.stdout().contains(&tok), "the command must not run");
    let r = reaper(&["run", "--timeout", "5x", "--", "true"]);
    r.expect(2);
    assert!(r.stderr().contains("5x"), "{}", r.stderr());
    reaper(&["run"]).expect(2);
    reaper(&["run", "--restart", "sometimes", "--", "true"]).expect(2);
}

// ---------------------------------------------------------------------------------------------
// /proc inside `run`, other users' processes, stderr, nested guards.

/// A `reaper run` (or anything) whose stdout lines arrive on a channel; SIGKILLed, reaped and
/// its token's processes SIGKILLed on drop.
struct Lines {
    child: Child,
    rx: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    _reap: TokenReaper,
}

impl Lines {
    fn start(cmd: &mut Command, token: &str) -> Lines {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().expect("starting the command");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { child, rx, seen: Vec::new(), _reap: TokenReaper(token.to_string()) }
    }

    /// Waits for a line starting with `prefix` and returns it.
    #[track_caller]
    fn expect_line(&mut self, prefix: &str) -> String {
        let until = std::time::Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!("no line starting with {prefix:?}; seen: {:?}", self.seen),
            }
        }
    }

    /// Waits for the process to exit (within the deadline), then for the rest of its output.
    #[track_caller]
    fn wait(&mut self) -> (ExitStatus, Vec<String>) {
        let status = wait_exit(&mut self.child, "the command");
        // The reader ends at EOF; anything the tree still holds open is SIGKILLed on drop.
        while let Ok(line) = self.rx.recv_timeout(std::time::Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (status, self.seen.clone())
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The script that checks, from inside `reaper run`, that /proc is the namespace's: its $0 is
/// the token. A background sleep's pid as bash knows it, as pgrep finds it, the shell's own pid
/// and what /proc says it is (NSpid: one pid means /proc is of its own namespace), then a
/// `reaper kill` of the sleep by signature and how the sleep ended (143: by that SIGTERM; 137:
/// it was still alive and the script's own SIGKILL ended it).
fn proc_probe_script() -> String {
    format!(
        r#"(exec -a "$0-victim" sleep 600) & bg=$!
# Until the subshell has exec'd (bounded): before that it is still bash, and pgrep finds nothing.
pg=; i=0; while [ -z "$pg" ] && [ $i -lt 1000 ]; do pg=$(pgrep -f "^$0-victim 600\$" | tr '\n' ,); i=$((i+1)); [ -n "$pg" ] || sleep 0.01; done
while read -r key val; do [ "$key" = NSpid: ] && nspid=$(echo $val | tr ' ' /); done < /proc/self/status
"{REAPER}" kill --signature "$0-victim" --yes --timeout 10s >&2; k=$?
kill -KILL $bg 2>/dev/null; wait $bg; w=$?
echo "PROBE bg=$bg pgrep=$pg self=$$ nspid=$nspid kill=$k wait=$w""#,
        REAPER = REAPER
    )
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID namespaces and their /proc")]
fn run_gives_its_pid_namespace_a_proc_of_its_own() {
    // Regression: `run` kept the host's /proc in its PID namespace, so pgrep printed host pids
    // and `reaper kill` inside reported success while its target lived.
    let mut wrappers: Vec<Vec<&str>> = vec![vec![]];
    if is_root() {
        // Not root: the user-namespace path.
        wrappers.push(vec!["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]);
    }
    let proc_mounts = || {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        mounts.lines().filter(|l| l.split_whitespace().nth(4) == Some("/proc")).count()
    };
    let proc_mounts_before = proc_mounts();
    for prefix in wrappers {
        let tok = token("run-own-proc");
        let _reap = TokenReaper(tok.clone());
        let mut argv: Vec<&str> = prefix.clone();
        argv.extend([REAPER, "run", "--", "bash", "-c"]);
        let script = proc_probe_script();
        argv.extend([script.as_str(), tok.as_str()]);
        let mut cmd = wrapper_cmd(argv[0]);
        cmd.args(&argv[1..]);
        let out = run_bounded(&mut cmd, format!("{prefix:?} reaper run -- bash -c PROBE")).out;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ctx = format!("{prefix:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{ctx}");
        let line = stdout.lines().find(|l| l.starts_with("PROBE")).unwrap_or_else(|| panic!("no probe: {ctx}"));
        let kv = parse_ready(line);
        assert_eq!(format!("{},", kv["bg"]), kv["pgrep"], "pgrep sees the namespace's pids: {ctx}");
        assert_eq!(kv["self"], kv["nspid"], "/proc is the namespace's own: {ctx}");
        assert!(kv["self"].parse::<u32>().unwrap() < 10, "bash is one of the namespace's first pids: {ctx}");
        assert_eq!(kv["kill"], "0", "{ctx}");
        assert_eq!(kv["wait"], "143", "the sleep died of reaper kill's SIGTERM: {ctx}");
        // Nothing mounted in the namespace reached the host's mount table.
        assert_eq!(proc_mounts(), proc_mounts_before, "{ctx}");
    }
}

#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: /proc is not read, so a /proc of another PID namespace is not detected"
)]
fn reaper_refuses_a_proc_of_another_pid_namespace() {
    // Regression: under `unshare --pid --fork` without --mount-proc, reaper read host pids from
    // /proc and signalled the namespace's processes with those numbers.
    if !is_root() {
        skip("unshare --pid needs root");
        return;
    }
    let tok = token("foreign-proc");
    let _reap = TokenReaper(tok.clone());
    let script = format!(
        r#"(exec -a "$0-victim" sleep 600) & v=$!
R="{REAPER}"
"$R" kill --signature "$0-victim" --yes --timeout 1s; echo "kill=$?"
"$R" list --signature "$0-victim"; echo "list=$?"
"$R" tree "$v"; echo "tree=$?"
"$R" wait --pid "$v" --timeout 10s; echo "wait=$?"
"$R" run -- echo "$0-ran"; echo "run=$?"
kill -0 "$v" && echo victim-alive"#,
        REAPER = REAPER
    );
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "bash", "-c", &script, &tok]);
    let out = run_bounded(&mut cmd, "unshare --pid --fork bash -c SCRIPT".into()).out;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("{stdout}\n{stderr}");
    // Exit 3: reaper cannot find out anything it could trust (not 1, which would read as
    // "nothing matched" to `list` and "timed out" to `wait`).
    for cmd in ["kill", "list", "tree", "wait", "run"] {
        assert!(stdout.contains(&format!("{cmd}=3\n")), "{cmd} must exit 3: {ctx}");
    }
    assert!(stdout.contains("victim-alive"), "nothing was signalled: {ctx}");
    assert!(!stdout.contains(&format!("{tok}-ran")), "run started nothing: {ctx}");
    assert_eq!(stderr.matches("/proc belongs to another PID namespace").count(), 5, "{ctx}");
    assert!(stderr.contains("--mount-proc"), "{ctx}");
    assert!(!stderr.contains("panicked"), "{ctx}");
}

/// A bash command for `reaper run` that says READY, records the SIGTERM it gets in `log` and
/// exits 7 on it; its background sleep carries the token ($0) too.
fn term_recorder(log: &std::path::Path) -> String {
    format!(
        r#"trap 'echo got-term >> "{log}"; exit 7' TERM; (exec -a "$0-sleep" sleep 600) & echo READY; wait"#,
        log = log.display()
    )
}

#[test]
fn nested_run_stops_its_inner_command_gracefully() {
    // Regression: inside `run` the inner `reaper run` read the host's /proc with namespace
    // pids, so on SIGTERM it looked for its tree under the wrong process and SIGKILLed its
    // namespace instead; the outer guard's kill engine skips the inner reaper processes.
    let bin = REAPER;
    for signal_inner in [false, true] {
        let tok = token("run-nested");
        let tmp = TempDir::new("run-nested");
        let log = tmp.0.join(format!("{tok}.log"));
        let script = term_recorder(&log);
        let mut cmd = reaper_cmd();
        cmd.args(["run", "--timeout", "10s", "--", bin, "run", "--timeout", "10s", "--", "bash", "-c", &script, &tok]);
        let mut run = Lines::start(cmd.stderr(Stdio::null()), &tok);
        run.expect_line("READY");
        let outer = run.child.id();
        let target = if signal_inner {
            // reaper run -> its guard process -> the inner reaper run.
            let shim = children(outer);
            assert_eq!(shim.len(), 1, "{shim:?}");
            let inner = children(shim[0]);
            assert_eq!(inner.len(), 1, "{inner:?}");
            inner[0]
        } else {
            outer
        };
        kill(Pid::from_raw(target as i32), Signal::SIGTERM).unwrap();
        let (status, _) = run.wait();
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let which = if signal_inner { "inner" } else { "outer" };
        assert_eq!(logged, "got-term\n", "SIGTERM to the {which} reaper: the command got one SIGTERM");
        // The inner reaper passed its command's 7 on, and so did the outer one.
        assert_eq!(status.code(), Some(7), "SIGTERM to the {which} reaper");
        wait_for("the nested tree to be gone", || pids_with_token(&tok).is_empty());
    }
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs the command as nobody")]
fn run_as_root_ends_another_users_process_with_sigterm() {
    // Regression: the guard planned its tree with the owner rule, so as root a process that
    // had switched to another uid got no SIGTERM, only the namespace's SIGKILL.
    if !is_root() {
        skip("needs root to switch the command to uid nobody");
        return;
    }
    let tok = token("run-other-uid");
    let tmp = TempDir::open_to_all("run-other-uid");
    let log = tmp.0.join(format!("{tok}.log"));
    let script = term_recorder(&log);
    for extra in [&[][..], &["--no-pid-namespace"][..]] {
        let mut cmd = reaper_cmd();
        cmd.arg("run").args(extra).args(["--timeout", "10s", "--"]);
        cmd.args(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", &script, &tok])
            .stderr(Stdio::null());
        let mut run = Lines::start(&mut cmd, &tok);
        run.expect_line("READY");
        kill(Pid::from_raw(run.child.id() as i32), Signal::SIGTERM).unwrap();
        let (status, _) = run.wait();
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        assert_eq!(logged, "got-term\n", "{extra:?}: the nobody-owned command got SIGTERM");
        assert_eq!(status.code(), Some(7), "{extra:?}: it exited on it (not 137: SIGKILL)");
        wait_for("the tree to be gone", || pids_with_token(&tok).is_empty());
    }
}

#[test]
fn run_with_stderr_on_a_closed_pipe_still_stops_gracefully() {
    // Regression: with stderr on a closed pipe, the "watched pid exited" line panicked
    // (exit 101) and the unwinding guard SIGKILLed the tree instead of stopping it.
    let anchor = Anchor::start();
    let tok = token("run-closed-stderr");
    let tmp = TempDir::new("run-closed-stderr");
    let log = tmp.0.join(format!("{tok}.log"));
    let script = term_recorder(&log);
    let mut cmd = reaper_cmd();
    cmd.args(["run", "--watch-pid", &anchor.pid().to_string(), "--timeout", "10s", "--", "bash", "-c", &script, &tok])
        .stderr(Stdio::piped());
    let mut run = Lines::start(&mut cmd, &tok);
    drop(run.child.stderr.take()); // the read end closes: every write on stderr fails (EPIPE)
    run.expect_line("READY");
    kill(Pid::from_raw(anchor.pid() as i32), Signal::SIGKILL).unwrap();
    let (status, _) = run.wait();
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert_eq!(logged, "got-term\n", "the command got SIGTERM");
    assert_eq!(status.code(), Some(7), "reaper passed the command's status on (not 101: a panic)");
    drop(anchor);
}

#[test]
fn run_takes_its_command_without_a_double_dash() {
    let run = reaper(&["run", "sh", "-c", "echo $0 $1; exit 7", "a", "--timeout"]);
    run.expect(7);
    assert_eq!(run.stdout(), "a --timeout\n", "everything from the first word on is the command's");
    reaper(&["run", "--timeout", "1s", "--", "sh", "-c", "exit 5"]).expect(5);
    let run = reaper(&["run", "--no-such-option", "sh"]);
    run.expect(2);
    assert!(run.stderr().contains("--no-such-option"), "{}", run.stderr());
}

#[test]
fn run_says_which_port_and_how_long_and_why_it_stopped_restarting() {
    let port = "1"; // nothing may listen on tcp port 1 here (it needs root and nobody does)
    let run = reaper(&["run", "--ready-port", port, "--ready-timeout", "300ms", "sleep", "30"]);
    run.expect(1);
    assert!(run.stderr().contains("nothing listened on tcp port 1 within 300ms (--ready-timeout)"), "{}", run.stderr());
    let run = reaper(&["run", "--restart", "always", "--max-restarts", "1", "sh", "-c", "exit 4"]);
    run.expect(4);
    assert!(run.stderr().contains("--max-restarts 1 reached"), "{}", run.stderr());
}

// `run` returns as soon as its tree has ended: the path from the anchor's death to run's exit
// waits on events (pidfds) only, never on a polling interval. Regression: it slept in 10 ms
// steps for a full second (the kill engine watched for a supervisor retaking a port, with no
// port selected), so `run` exited ~1 s after its tree. Asserted on the mechanism, not a time:
// strace counts the sleeps of reaper's main thread. The latency is in BENCHMARKS.md.
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: its waits poll the process table"
)]
#[test]
fn run_exits_on_the_event_that_its_tree_ended_without_a_polling_sleep() {
    if !have("strace") {
        return;
    }
    for isolate in ["--pid-namespace-default", "--no-pid-namespace"] {
        let token = token("run-exit");
        let anchor = Spawned(Command::new("sleep").arg("600").stdin(Stdio::null()).spawn().expect("sleep"));
        let tmp = TempDir::new("run-exit");
        let trace = tmp.0.join(format!("{token}.strace"));
        let mut cmd = wrapper_cmd("strace");
        cmd.arg("-o").arg(&trace).args(["-e", "trace=nanosleep,clock_nanosleep", "--", REAPER, "run"]);
        if isolate == "--no-pid-namespace" {
            cmd.arg(isolate);
        }
        cmd.args([
            "--watch-pid",
            &anchor.pid().to_string(),
            "--",
            "python3",
            "-c",
            "import time; time.sleep(600)",
            &token,
        ]);
        let mut run = Started { token: token.clone(), child: cmd.stderr(Stdio::null()).spawn().expect("strace") };
        // strace's and reaper's command lines carry the token too: wait for the command's.
        let command = || pids_with_token(&token).into_iter().filter(|&p| comm(p).starts_with("python")).count();
        wait_for("the command to start", || command() > 0);
        drop(anchor); // SIGKILLed and reaped: run ends its tree
        let status = wait_exit(&mut run.child, "reaper run");
        assert_eq!(status.code(), Some(143), "{isolate}: the command's status (SIGTERM)");
        assert_eq!(command(), 0, "{isolate}: the tree is gone");
        let text = std::fs::read_to_string(&trace).expect("the trace");
        let _ = std::fs::remove_file(&trace);
        let sleeps: Vec<&str> = text.lines().filter(|l| l.contains("sleep(")).collect();
        assert!(
            sleeps.is_empty(),
            "{isolate}: reaper run slept instead of waiting for an event:\n{}",
            sleeps.join("\n")
        );
    }
}
