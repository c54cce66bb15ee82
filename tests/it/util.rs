#![allow(dead_code)]
//! The test harness: run the reaper binary with a pinned environment, and start fixture
//! processes that carry a unique token, wait for them to be ready, and are killed and reaped in
//! `Drop`, also when the test fails.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
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
/// `RUST_BACKTRACE`, stdin closed): add arguments, then [`run_bounded`] it (or spawn it and
/// [`wait_bounded`] / [`wait_exit`] it, when the test acts while it runs).
pub fn reaper_cmd() -> Command {
    wrapper_cmd(REAPER)
}

/// A `Command` for `program` that runs reaper inside it: a wrapper (`setpriv`, `prlimit`,
/// `unshare`, `script`, `timeout`), a hard link of the binary, or a shell script that calls
/// `"$REAPER"`. Same pinned environment as [`reaper_cmd`], with `REAPER` set to the binary
/// under test; run it with [`run_bounded`].
pub fn wrapper_cmd(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("NO_COLOR", "1").env("REAPER", REAPER).env_remove("RUST_BACKTRACE").stdin(Stdio::null());
    cmd
}

/// `reaper ARGS` as user nobody (65534), through `setpriv`, from `/` (which nobody can enter).
pub fn reaper_as_nobody(args: &[&str]) -> Run {
    let mut cmd = wrapper_cmd("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", REAPER]).args(args).current_dir("/");
    run_bounded(&mut cmd, format!("setpriv nobody reaper {}", args.join(" ")))
}

/// Runs reaper with `args` like [`reaper`], and also returns the pid it ran as.
pub fn reaper_with_pid(args: &[&str]) -> (u32, Run) {
    let what = format!("reaper {}", args.join(" "));
    let child = reaper_cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    let pid = child.id();
    (pid, Run { out: wait_bounded(child, &what), cmd: what })
}

/// Waits for `child` (a reaper, or a process hosting reaper's library, that the test signals
/// or watches while it runs) to exit, for at most [`DEADLINE`]; then the test fails and the
/// caller's `Drop` guard kills it.
#[track_caller]
pub fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    let mut status = None;
    wait_for(&format!("{what} to exit"), || {
        status = child.try_wait().unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
        status.is_some()
    });
    status.unwrap_or_else(|| panic!("{what}: no exit status"))
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
        // Daemons escape the process group: every process with our token goes too.
        end_started(&self.token, &mut self.child);
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

/// SIGKILLs every live process whose command line carries `token`, and the process group it
/// leads if it leads one, three passes over /proc (a process forking meanwhile is caught by the
/// next pass).
pub fn kill_token(token: &str) {
    for _ in 0..3 {
        for pid in pids_with_token(token) {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
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
    matches!(state(pid), Some('Z' | 'X'))
}

// ---------------------------------------------------------------------------------------------
// /proc, read by the tests themselves (never through reaper's code, which they judge).

/// What the tests read from `/proc/PID/stat`.
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    /// One-letter state: `R`, `S`, `T` stopped, `t` ptrace-stopped, `Z` zombie, ...
    pub state: char,
    /// Parent pid.
    pub ppid: u32,
    /// Start time in clock ticks after boot.
    pub start: u64,
}

/// `/proc/PID/stat`, if the process exists.
pub fn stat(pid: u32) -> Option<Stat> {
    // Bytes: the name between the parentheses need not be UTF-8; what follows it is ASCII.
    let b = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let s = String::from_utf8_lossy(&b[b.iter().rposition(|&c| c == b')')? + 1..]).into_owned();
    let rest: Vec<&str> = s.split_whitespace().collect();
    Some(Stat {
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        start: rest.get(19)?.parse().ok()?,
    })
}

/// The one-letter state of `pid`, if it exists.
pub fn state(pid: u32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// The parent of `pid`, if it exists.
pub fn ppid(pid: u32) -> Option<u32> {
    stat(pid).map(|s| s.ppid)
}

/// Whether `pid` is stopped: `T` (SIGSTOP, job control) or `t` (a ptrace-stop, reaper's freeze).
pub fn frozen(pid: u32) -> bool {
    matches!(state(pid), Some('T' | 't'))
}

/// `/proc/PID/comm`, trimmed (empty when it is gone).
pub fn comm(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/comm")).unwrap_or_default()).trim().to_string()
}

/// The pids of `pid`'s children (of its main thread).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether a process holds a TCP or UDP socket on local `port` (any state, any address), read
/// from `/proc/net/{tcp,udp}[6]`: a socket with an inode is open in some process's fd table
/// (TIME_WAIT and other kernel-only remnants have none). The tests' own judge of "free", so
/// that reaper is not asked to judge itself.
pub fn port_held(port: u16) -> bool {
    ["tcp", "tcp6", "udp", "udp6"].iter().any(|table| {
        let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
        text.lines().skip(1).any(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port =
                cols.get(1).and_then(|a| a.rsplit_once(':')).and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            let inode = cols.get(9).and_then(|i| i.parse::<u64>().ok()).unwrap_or(0);
            local_port == Some(port) && inode != 0
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Guards for processes a test starts some other way than [`Fixture`].

/// A process the test spawned itself, SIGKILLed and reaped on drop.
pub struct Spawned(pub Child);

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process the test started (an exact pid), plus every process carrying `token`: on drop
/// all of them, and the child's process group, are SIGKILLed and the child reaped.
pub struct Started {
    pub token: String,
    pub child: Child,
}

impl Started {
    /// Spawns `cmd` in a process group of its own, stdin and stdout closed.
    pub fn spawn(token: String, cmd: &mut Command) -> Started {
        let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).process_group(0).spawn().expect("spawning");
        Started { token, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        end_started(&self.token, &mut self.child);
    }
}

/// SIGKILLs every process with `token`, then `child`'s process group and `child`, and reaps it.
fn end_started(token: &str, child: &mut Child) {
    kill_token(token);
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL);
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGKILLs every process carrying the token when dropped (also when the test fails).
pub struct TokenReaper(pub String);

impl Drop for TokenReaper {
    fn drop(&mut self) {
        kill_token(&self.0);
    }
}

/// Spawns `sleep 600` so that it gets `pid`, through `ns_last_pid` (root only), within
/// `attempts` tries (other processes fork too); `None` if the pid could not be had.
pub fn spawn_at_pid(pid: u32, attempts: usize) -> Option<Spawned> {
    for _ in 0..attempts {
        std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).ok()?;
        let child = Command::new("/bin/sleep").arg("600").stdin(Stdio::null()).process_group(0).spawn().ok()?;
        let got = child.id();
        let s = Spawned(child);
        if got == pid {
            return Some(s);
        }
    }
    None
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
