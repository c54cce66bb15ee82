#![allow(dead_code)]
//! The test harness: run the reaper binary with a pinned environment, and start fixture
//! processes that carry a unique token, wait for them to be ready, and are killed and reaped in
//! `Drop`, also when the test fails.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any readiness or state wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A token no other process on the machine carries.
pub fn token(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("reaper-test-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// The result of running reaper.
pub struct Run {
    pub out: Output,
    pub cmd: String,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    /// Asserts the exit code, printing everything on failure.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            code,
            "\ncommand: {}\nstdout:\n{}\nstderr:\n{}",
            self.cmd,
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}):\n{}", self.cmd, self.stdout()))
    }
    pub fn pids(&self) -> Vec<u32> {
        self.stdout().lines().map(|l| l.trim().parse().expect("a pid per line")).collect()
    }
}

/// The reaper binary under test.
pub const REAPER: &str = env!("CARGO_BIN_EXE_reaper");

/// How long one command a test runs (reaper, or a tool around it) may take before it is killed
/// and the test fails: far above anything a test waits for, so only a hang reaches it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs reaper with `args`, stdin closed and `NO_COLOR=1`, bounded by [`COMMAND_TIMEOUT`].
pub fn reaper(args: &[&str]) -> Run {
    let mut cmd = reaper_cmd();
    cmd.args(args);
    run_bounded(&mut cmd, format!("reaper {}", args.join(" ")))
}

/// A `Command` for the reaper binary with the pinned environment (`NO_COLOR=1`, no
/// `RUST_BACKTRACE`, stdin closed): add arguments, then [`run_bounded`] it.
pub fn reaper_cmd() -> Command {
    let mut cmd = Command::new(REAPER);
    cmd.env("NO_COLOR", "1").env_remove("RUST_BACKTRACE").stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to its end with stdout and stderr captured, but for at most [`COMMAND_TIMEOUT`]:
/// a command still running then is SIGKILLed and the test fails, printing what it had said.
/// `what` names the command in failure messages.
#[track_caller]
pub fn run_bounded(cmd: &mut Command, what: String) -> Run {
    run_bounded_to(cmd, what, Stdio::piped())
}

/// [`run_bounded`] with stdout sent to `stdout` (a closed pipe, say) instead of captured. The
/// command runs in a process group of its own, and on a timeout the whole group is killed (a
/// shell pipeline with reaper in it, say).
#[track_caller]
pub fn run_bounded_to(cmd: &mut Command, what: String, stdout: Stdio) -> Run {
    let child = cmd
        .stdout(stdout)
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    Run { out: wait_bounded(child, &what), cmd: what }
}

/// Waits for `child` (spawned with piped output) for at most [`COMMAND_TIMEOUT`]; then SIGKILLs
/// its process group (and it) and fails the test with what it had printed.
#[track_caller]
pub fn wait_bounded(child: Child, what: &str) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(COMMAND_TIMEOUT) {
        Ok(out) => out.unwrap_or_else(|e| panic!("waiting for {what}: {e}")),
        Err(_) => {
            // Not reaped yet (the waiting thread still holds it), so the pid is still ours.
            let raw = nix::unistd::Pid::from_raw(pid as i32);
            if nix::unistd::getpgid(Some(raw)) == Ok(raw) {
                let _ = nix::sys::signal::killpg(raw, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = nix::sys::signal::kill(raw, nix::sys::signal::Signal::SIGKILL);
            let out = rx.recv().ok().and_then(Result::ok);
            let (stdout, stderr) = out.map_or_else(Default::default, |o| {
                (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
            });
            panic!("{what} still ran after {COMMAND_TIMEOUT:?} and was killed\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
    }
}

/// Skips the calling test, saying `why`; under `CI=true` that is a failure instead: CI runs as
/// root with every tool installed, so a skip there means the suite did not test what it claims.
#[track_caller]
pub fn skip(why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "cannot run under CI=true: {why}");
    eprintln!("skipped: {why}");
}

/// Whether `tool` is on PATH. When it is not, a test that needs it skips, saying so; but under
/// `CI=true` a missing tool is a failure: CI installs what the suite needs, and a skip that
/// passes is invisible.
#[track_caller]
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is not installed, and CI=true: .ci/run must install it"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// A fixture: a process tree started from `tests/fixtures/fixture.py`, all carrying `token`.
pub struct Fixture {
    pub token: String,
    pub child: Child,
    /// The key=value pairs of its READY line.
    pub info: HashMap<String, String>,
}

impl Fixture {
    /// Starts `fixture.py TOKEN MODE ARGS...` and waits for its READY line.
    pub fn start(tag: &str, mode: &str, args: &[&str]) -> Fixture {
        Fixture::start_with(tag, mode, args, DEADLINE)
    }

    /// [`Fixture::start`] with arbitrary (also non-UTF-8) arguments and its own readiness
    /// deadline (thousands of processes take a while to fork).
    pub fn start_with<A: AsRef<OsStr>>(tag: &str, mode: &str, args: &[A], deadline: Duration) -> Fixture {
        let token = token(tag);
        let mut child = Command::new("python3")
            .arg(FIXTURE)
            .arg(&token)
            .arg(mode)
            .args(args)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting python3 fixture");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut fx = Fixture { token, child, info: HashMap::new() };
        let line = read_line_within(stdout, deadline).unwrap_or_else(|| panic!("fixture {mode} never became ready"));
        let line = line.trim();
        assert!(line.starts_with("READY"), "fixture {mode} said {line:?}");
        fx.info = parse_ready(line);
        fx
    }

    pub fn get(&self, key: &str) -> u32 {
        self.info.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {key} in {:?}", self.info))
    }

    pub fn pid(&self) -> u32 {
        self.get("pid")
    }

    pub fn port(&self) -> u16 {
        self.get("port") as u16
    }

    /// Every live (non-zombie) process that carries this fixture's token.
    pub fn live_pids(&self) -> Vec<u32> {
        pids_with_token(&self.token)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SIGKILL every process with our token (daemons escape the process group), then the group.
        kill_token(&self.token);
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture script every test process is started from.
pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fixture.py");

/// The first line `stdout` prints, if it comes within `deadline` (read on a thread of its own).
pub fn read_line_within(stdout: ChildStdout, deadline: Duration) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(deadline).ok()
}

/// The key=value pairs of a `READY key=value ...` line.
pub fn parse_ready(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// SIGKILLs every live process whose command line carries `token`, three passes over /proc (a
/// process forking meanwhile is caught by the next pass).
pub fn kill_token(token: &str) {
    for _ in 0..3 {
        for pid in pids_with_token(token) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Pids of live processes whose command line contains `token` (zombies excluded).
pub fn pids_with_token(token: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        if String::from_utf8_lossy(&cmd).contains(token) && !is_zombie(pid) {
            out.push(pid);
        }
    }
    out.sort();
    out
}

/// Whether `pid` is gone or a zombie.
pub fn is_dead(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid)
}

pub fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().starts_with(['Z', 'X'])))
        .unwrap_or(false)
}

/// Polls `cond` until it holds or the deadline passes (then panics with `what`).
#[track_caller]
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut delay = Duration::from_millis(1);
    while !cond() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}
