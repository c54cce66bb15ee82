#![allow(dead_code)]
//! The test harness: run the reaper binary with a pinned environment, and start fixture
//! processes that carry a unique token, wait for them to be ready, and are killed and reaped in
//! `Drop`, also when the test fails.
//!
//! The one harness of the suite: a helper two test files need lives here, once.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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

/// `setpriv` and its arguments that run a command as user nobody (65534, no groups).
pub const AS_NOBODY: [&str; 6] = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"];

/// `reaper ARGS` as user nobody (65534), through `setpriv`, from `/` (which nobody can enter).
pub fn reaper_as_nobody(args: &[&str]) -> Run {
    let mut cmd = wrapper_cmd(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]).arg(REAPER).args(args).current_dir("/");
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
        num(&self.info, key)
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

/// The number under `key` in the pairs of a READY line.
#[track_caller]
pub fn num(info: &HashMap<String, String>, key: &str) -> u32 {
    info.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {key} in {info:?}"))
}

/// SIGKILLs every live process whose command line carries `token`, and the process group it
/// leads if it leads one, three passes over the process table (a process forking meanwhile is
/// caught by the next pass).
pub fn kill_token(token: &str) {
    for _ in 0..3 {
        for pid in pids_with_token(token) {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The process table, read by the tests themselves (never through reaper's code, which they
// judge): `/proc` on Linux; elsewhere (macOS, which has no `/proc`) `ps(1)` and `lsof(8)`, which
// every Mac has. Same answers, so every test that does not need Linux itself runs there too.

/// Pids of live processes whose command line contains `token` (zombies excluded).
#[cfg(target_os = "linux")]
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

/// Pids of live processes whose command line contains `token` (zombies excluded).
#[cfg(not(target_os = "linux"))]
pub fn pids_with_token(token: &str) -> Vec<u32> {
    let mut out: Vec<u32> =
        ps::table().iter().filter(|r| r.args.contains(token) && !matches!(r.state, 'Z' | 'X')).map(|r| r.pid).collect();
    out.sort();
    out
}

/// Whether `pid` is gone or a zombie.
pub fn is_dead(pid: u32) -> bool {
    stat(pid).is_none_or(|s| matches!(s.state, 'Z' | 'X'))
}

pub fn is_zombie(pid: u32) -> bool {
    matches!(state(pid), Some('Z' | 'X'))
}

/// What the tests read of a process (`/proc/PID/stat` on Linux, `ps` elsewhere).
#[derive(Clone, Copy, Debug)]
pub struct Stat {
    /// One-letter state: `R`, `S`, `T` stopped, `t` ptrace-stopped (Linux), `Z` zombie, ...
    pub state: char,
    /// Parent pid.
    pub ppid: u32,
    /// Start time, equal for the same process: clock ticks after boot on Linux; elsewhere
    /// `YYYYMMDDhhmmss` from `ps -o lstart` (whole seconds).
    pub start: u64,
}

/// `/proc/PID/stat`, if the process exists.
#[cfg(target_os = "linux")]
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

/// `ps -p PID`'s state, parent and start time, if the process exists.
#[cfg(not(target_os = "linux"))]
pub fn stat(pid: u32) -> Option<Stat> {
    let out = ps::run(&["-p", &pid.to_string(), "-o", "ppid=", "-o", "stat=", "-o", "lstart="])?;
    let mut words = out.split_whitespace();
    let ppid = words.next()?.parse().ok()?;
    let state = words.next()?.chars().next()?;
    // `Tue Dec  3 14:29:08 2024` (LC_ALL=C).
    let lstart: Vec<&str> = words.collect();
    let [_, month, day, time, year] = lstart[..] else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == month)? as u64
        + 1;
    let hms: u64 = time.replace(':', "").parse().ok()?;
    let start = ((year.parse::<u64>().ok()? * 100 + month) * 100 + day.parse::<u64>().ok()?) * 1_000_000 + hms;
    Some(Stat { state, ppid, start })
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
#[cfg(target_os = "linux")]
pub fn comm(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/comm")).unwrap_or_default()).trim().to_string()
}

/// The process's name: the file name of `ps -o comm` (which is a path on macOS); empty when it
/// is gone.
#[cfg(not(target_os = "linux"))]
pub fn comm(pid: u32) -> String {
    let out = ps::run(&["-p", &pid.to_string(), "-o", "comm="]).unwrap_or_default();
    let name = out.trim();
    name.rsplit('/').next().unwrap_or(name).to_string()
}

/// The pids of `pid`'s children (of its main thread).
#[cfg(target_os = "linux")]
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The pids of `pid`'s children.
#[cfg(not(target_os = "linux"))]
pub fn children(pid: u32) -> Vec<u32> {
    ps::table().iter().filter(|r| r.ppid == pid).map(|r| r.pid).collect()
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether a process holds a TCP or UDP socket on local `port` (any state, any address), read
/// from `/proc/net/{tcp,udp}[6]`: a socket with an inode is open in some process's fd table
/// (TIME_WAIT and other kernel-only remnants have none). The tests' own judge of "free", so
/// that reaper is not asked to judge itself.
#[cfg(target_os = "linux")]
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

/// Whether a process holds a TCP or UDP socket on local `port` (any state, any address): `lsof`
/// lists the sockets open in processes' fd tables (run as root: everyone's), with their local
/// address first. The tests' own judge of "free", so that reaper is not asked to judge itself.
#[cfg(not(target_os = "linux"))]
pub fn port_held(port: u16) -> bool {
    let out = ps::run_tool("lsof", &["-nP", "-F", "n", &format!("-i:{port}")]).unwrap_or_default();
    // `n` lines: `nLOCAL` or `nLOCAL->REMOTE`, the port after the address's last colon.
    out.lines()
        .filter_map(|l| l.strip_prefix('n'))
        .filter_map(|n| n.split("->").next()?.rsplit_once(':'))
        .any(|(_, p)| p.parse() == Ok(port))
}

/// `ps` and `lsof` for the harness where there is no `/proc`.
#[cfg(not(target_os = "linux"))]
mod ps {
    use std::process::{Command, Stdio};

    /// One process of `ps -A`.
    pub struct Row {
        pub pid: u32,
        pub ppid: u32,
        pub state: char,
        /// Its command line, arguments joined by spaces.
        pub args: String,
    }

    /// Every process: `ps -A` with the whole command line (`-ww`: never cut at a width).
    pub fn table() -> Vec<Row> {
        let out = run(&["-A", "-ww", "-o", "pid=", "-o", "ppid=", "-o", "stat=", "-o", "command="]).unwrap_or_default();
        out.lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let pid = words.next()?.parse().ok()?;
                let ppid = words.next()?.parse().ok()?;
                let state = words.next()?.chars().next()?;
                Some(Row { pid, ppid, state, args: words.collect::<Vec<_>>().join(" ") })
            })
            .collect()
    }

    /// `ps ARGS`' output, `None` when it fails (`-p PID` of a process that is gone).
    pub fn run(args: &[&str]) -> Option<String> {
        run_tool("ps", args)
    }

    /// `tool ARGS`' output in the C locale, `None` when it fails or says nothing.
    pub fn run_tool(tool: &str, args: &[&str]) -> Option<String> {
        let out = Command::new(tool).args(args).env("LC_ALL", "C").stdin(Stdio::null()).stderr(Stdio::null()).output();
        let out = out.unwrap_or_else(|e| panic!("running {tool}: {e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && !text.trim().is_empty()).then_some(text)
    }
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

    /// Spawns `cmd` like [`Started::spawn`] but with its stdout piped, and returns it with the
    /// first line it prints (trimmed); the test fails if none comes within [`DEADLINE`].
    #[track_caller]
    pub fn spawn_saying(token: &str, cmd: &mut Command) -> (Started, String) {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).process_group(0).spawn().expect("spawning");
        let stdout = child.stdout.take().expect("piped stdout");
        let started = Started { token: token.to_string(), child };
        let line = read_line_within(stdout, DEADLINE).unwrap_or_else(|| panic!("{cmd:?} never printed a line"));
        (started, line.trim().to_string())
    }

    /// [`Started::spawn_saying`] for a process that prints `READY key=value ...`: its pairs.
    #[track_caller]
    pub fn spawn_ready(token: &str, cmd: &mut Command) -> (Started, HashMap<String, String>) {
        let (started, line) = Started::spawn_saying(token, cmd);
        assert!(line.starts_with("READY"), "{cmd:?} said {line:?}");
        (started, parse_ready(&line))
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

// ---------------------------------------------------------------------------------------------
// Other users' processes.

/// A process of user nobody carrying `token`: `bash -c SCRIPT ARG0` through [`AS_NOBODY`].
pub fn nobodys_bash(token: &str, script: &str, arg0: &str) -> Started {
    let mut cmd = Command::new(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]).args(["bash", "-c", script, arg0]);
    Started::spawn(token.to_string(), &mut cmd)
}

/// A two-process tree (bash and a `sleep` child) owned by `nobody`, carrying `token`.
pub fn nobodys_tree(token: &str) -> Started {
    let p = nobodys_bash(token, &format!("(exec -a {token}-child sleep 1000) & wait"), token);
    wait_for("the other user's tree", || pids_with_token(token).len() == 2);
    p
}

// ---------------------------------------------------------------------------------------------
// Scratch directories, cgroups and ports of the test's own.

/// A scratch directory of the test's own (a token in its name), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Under the temp dir.
    pub fn new(tag: &str) -> TempDir {
        TempDir::under(&std::env::temp_dir(), tag)
    }

    /// Under cargo's target directory: the same file system as the reaper binary (hard links).
    pub fn in_target(tag: &str) -> TempDir {
        TempDir::under(Path::new(env!("CARGO_TARGET_TMPDIR")), tag)
    }

    /// Under the temp dir, and open to every user (mode 0777): for a process of another user
    /// (postgres, nobody) that writes there.
    pub fn open_to_all(tag: &str) -> TempDir {
        let dir = TempDir::new(tag);
        std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o777)).expect("chmod 0777");
        dir
    }

    fn under(parent: &Path, tag: &str) -> TempDir {
        let dir = parent.join(token(tag));
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The cgroup v2 mount point (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host).
pub fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let point = pre.split_whitespace().nth(4)?;
        (post.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(point))
    })
}

/// A cgroup v2 of the test's own, `NAME` directly under the cgroup2 mount; removed on drop,
/// once its processes are gone (they leave it when they are reaped, which can trail their end).
pub struct Cgroup {
    pub dir: PathBuf,
    /// Its path as `/proc/PID/cgroup` shows it: `/NAME`.
    pub path: String,
}

impl Cgroup {
    /// `None` without a writable cgroup2 mount.
    pub fn new(name: &str) -> Option<Cgroup> {
        let dir = cgroup2_mount()?.join(name);
        std::fs::create_dir(&dir).ok()?;
        Some(Cgroup { dir, path: format!("/{name}") })
    }

    /// The file that moves a process into it.
    pub fn procs(&self) -> String {
        self.dir.join("cgroup.procs").display().to_string()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let events = self.dir.join("cgroup.events");
        let empty = || std::fs::read_to_string(&events).is_ok_and(|e| e.contains("populated 0"));
        let start = Instant::now();
        while !empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A TCP port nothing listens on right now (the kernel's pick; nothing else on this machine
/// binds it on purpose).
pub fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    l.local_addr().expect("its address").port()
}

/// Whether this test process can bind 127.0.0.1:`port` (TCP) now.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Whether a python server that sets SO_REUSEADDR (or not, `reuse` false) can bind
/// 127.0.0.1:`port` now.
pub fn bind_works(port: u16, reuse: bool) -> bool {
    let code = format!(
        "import socket\ns = socket.socket()\nif {}: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {port}))",
        if reuse { "True" } else { "False" }
    );
    Command::new("python3").args(["-c", &code]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// Reading kill's JSON report.

/// The target with `pid` in a kill report; the test fails if there is none.
#[track_caller]
pub fn target(json: &serde_json::Value, pid: u32) -> &serde_json::Value {
    json["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["pid"] == pid)
        .unwrap_or_else(|| panic!("no target {pid} in {json:#}"))
}

/// Every target's outcome in a kill report.
pub fn outcomes(json: &serde_json::Value) -> Vec<String> {
    json["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["outcome"].as_str().expect("str").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Commands in wrappers, python one-liners, network namespaces and cgroups named as a container
// runtime names them, and scenarios run as PID 1 of a fresh PID namespace.

/// Runs `argv` (a wrapper such as `setpriv ...` or `unshare ...` followed by a command) with
/// `NO_COLOR=1` and `FIXTURE`, `REAPER`, `TOKEN` and `TMP` in the environment.
pub fn wrapped(argv: &[&str], token: &str, tmp: &std::path::Path) -> Run {
    let mut cmd = wrapper_cmd(argv[0]);
    cmd.args(&argv[1..]).env("FIXTURE", FIXTURE).env("TOKEN", token).env("TMP", tmp);
    run_bounded(&mut cmd, argv.join(" "))
}

/// Starts `python3 -c CODE ARGS... TOKEN` (guarded by the token) and returns the guard and the
/// first line it prints, parsed (a port or a pid).
pub fn python_saying<T: std::str::FromStr>(code: &str, args: &[&std::ffi::OsStr], token: &str) -> (Started, T) {
    let (guard, line) = Started::spawn_saying(token, Command::new("python3").args(["-c", code]).args(args).arg(token));
    let value = line.parse().unwrap_or_else(|_| panic!("not a number: {line:?}"));
    (guard, value)
}

/// A network namespace named `reaper-test-...`, deleted when dropped (the namespace itself ends
/// with the last process in it: the PID namespace's end takes those along).
pub struct Netns(pub String);

impl Netns {
    pub fn new(tag: &str) -> Option<Netns> {
        let name = token(tag);
        let ok = run_bounded(wrapper_cmd("ip").args(["netns", "add", &name]), format!("ip netns add {name}"));
        if ok.code() != 0 {
            eprintln!("ip netns add failed: {}", ok.stderr());
            return None;
        }
        let ns = Netns(name);
        run_bounded(wrapper_cmd("ip").args(["-n", &ns.0, "link", "set", "lo", "up"]), "ip link set lo up".into())
            .expect(0);
        Some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A cgroup v2 named as a container runtime names a container's (`docker-<64 hex>.scope`),
/// under the cgroup2 mount; removed when dropped, once its processes are gone.
pub struct ContainerCgroup {
    cgroup: Cgroup,
    pub id: String,
}

impl ContainerCgroup {
    pub fn new(tag: &str) -> Option<ContainerCgroup> {
        // 64 hex digits of the test's own: no other container has this id.
        let seed = token(tag);
        let id: String = (0..4u8)
            .map(|i| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (&seed, i).hash(&mut h);
                format!("{:016x}", h.finish())
            })
            .collect();
        let cgroup = Cgroup::new(&format!("docker-{id}.scope"))?;
        Some(ContainerCgroup { cgroup, id })
    }

    pub fn procs(&self) -> String {
        self.cgroup.procs()
    }
}

/// What each reaper run of a scenario said: exit code, stdout, stderr, by the run's name.
pub struct Runs(HashMap<String, (i32, String, String)>, String);

impl Runs {
    #[track_caller]
    pub fn get(&self, name: &str) -> (i32, &str, &str) {
        let (code, out, err) = self.0.get(name).unwrap_or_else(|| panic!("no run {name}; scenario said:\n{}", self.1));
        (*code, out, err)
    }

    #[track_caller]
    pub fn expect(&self, name: &str, code: i32) -> (&str, &str) {
        let (c, out, err) = self.get(name);
        assert_eq!(c, code, "{name}\nstdout:\n{out}\nstderr:\n{err}\nscenario:\n{}", self.1);
        (out, err)
    }

    #[track_caller]
    pub fn json(&self, name: &str) -> serde_json::Value {
        let (_, out, _) = self.get(name);
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{out}"))
    }
}

/// The shell functions every scenario starts with: `check NAME CMD...` runs a command and keeps
/// what it said in `$D/NAME.{out,err,rc}`; `r NAME ARGS...` does that for reaper; `rin NS NAME ARGS...` does the same inside network
/// namespace NS; `ready FILE` polls (with a deadline) for a file a server writes once it listens.
pub const PRELUDE: &str = r#"
set -u
check() { n=$1; shift; "$@" >"$D/$n.out" 2>"$D/$n.err"; echo $? >"$D/$n.rc"; }
r() { n=$1; shift; check "$n" "$REAPER" "$@"; }
rin() { ns=$1; n=$2; shift 2; check "$n" ip netns exec "$ns" "$REAPER" "$@"; }
ready() { for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "never ready: $1" >&2; exit 9; }
alive() { [ -e /proc/$1 ] && ! grep -q ') Z' /proc/$1/stat; }
# A TCP server: binds HOST:0 (or a port), writes the port to FILE once it listens.
SRV='import socket,sys,os,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[2],0)); s.listen()
open(sys.argv[1]+".t","w").write(str(s.getsockname()[1])); os.rename(sys.argv[1]+".t",sys.argv[1]); time.sleep(600)'
"#;

/// Runs `script` (after [`PRELUDE`]) as PID 1 of a new PID namespace, with `$D` a directory of
/// its own, `$0` the token and `args` as `$1...`; returns every run it recorded.
pub fn scenario(token: &str, script: &str, args: &[&str]) -> Runs {
    let tmp = TempDir::new("netns-runs");
    let mut cmd = wrapper_cmd("unshare");
    let body = format!("{PRELUDE}\n{script}");
    cmd.args(["--pid", "--fork", "--mount-proc", "bash", "-c", &body, token]).args(args).env("D", &tmp.0);
    let run = run_bounded(&mut cmd, format!("unshare --pid bash -c SCRIPT {token}"));
    let said = format!("exit {}\nstdout:\n{}\nstderr:\n{}", run.code(), run.stdout(), run.stderr());
    assert_eq!(run.code(), 0, "the scenario failed:\n{said}");
    let mut runs = HashMap::new();
    for entry in std::fs::read_dir(&tmp.0).expect("runs").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rc") {
            let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
            let read = |ext: &str| std::fs::read_to_string(path.with_extension(ext)).unwrap_or_default();
            let code = read("rc").trim().parse().expect("exit code");
            runs.insert(name, (code, read("out"), read("err")));
        }
    }
    Runs(runs, said)
}

pub fn ready_to_run() -> bool {
    if !is_root() {
        skip("needs root: network namespaces, cgroups, PID namespaces");
        return false;
    }
    have("ip") && have("unshare")
}
