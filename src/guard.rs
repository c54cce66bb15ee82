//! Guarding a command: start it so that its whole process tree ends when an anchor process
//! dies, when the guard is told to stop, or when the guard itself is killed. This is the engine
//! of `reaper run`; a Rust app can use it in-process.
//!
//! ```no_run
//! use reaper::guard::{self, GuardOptions};
//! let opts = GuardOptions { watch_pids: vec![4242], ..GuardOptions::default() };
//! // Progress on stderr; a write that fails (a closed pipe) is ignored, never a panic.
//! let mut show = |e: guard::GuardEvent| {
//!     use std::io::Write;
//!     let _ = writeln!(std::io::stderr(), "{e}");
//! };
//! let outcome = guard::run(&["./server".into(), "--port".into(), "5700".into()], &opts, &mut show)?;
//! std::process::exit(outcome.exit_code().into());
//! # Ok::<(), reaper::Error>(())
//! ```
//!
//! The same API on Linux, macOS and Windows (one code path for a Tauri or Electron app); how
//! the tree is held, and so what is guaranteed, is each kernel's best:
//!
//! | | Linux | Windows | macOS |
//! |---|---|---|---|
//! | [`Isolation`] | [`PidNamespace`](Isolation::PidNamespace) (else [`Subreaper`](Isolation::Subreaper)) | [`JobObject`](Isolation::JobObject) | [`SessionWatcher`](Isolation::SessionWatcher) |
//! | the calling process SIGKILLed / crashed | the kernel ends the whole tree | the kernel ends the whole tree (kill-on-close job) | a watcher process ends the command's process group: best effort |
//! | graceful step | the sequence's signals | `CTRL_BREAK_EVENT` to the command's console group, `WM_CLOSE` to windows; KILL is `TerminateProcess`, then `TerminateJobObject` | the sequence's signals |
//! | the tree | the shim's descendants | the job's processes (exact) | the watcher's descendants + the command's process group |
//! | where it ran | Linux: `cargo test` | Wine 8 (`tests/wine/guard.sh`); compiled for `-gnu` and `-msvc` | compiled only (x86_64, aarch64); the watcher's POSIX code is unit-tested on Linux |
//!
//! **Linux.** The command runs under a small guard process (the "shim"), forked from the
//! caller. Preferably the shim is the init of a new PID namespace, with a mount namespace and a
//! /proc of its own (so pids and /proc agree inside), and dies with the calling *process* (it
//! watches a pidfd of it), so the kernel ends every process of the tree even when the process is
//! SIGKILLed. The calling thread does not matter: a guard spawned from a worker thread that then
//! exits (a tokio blocking-pool thread) keeps its tree, and any thread may end it. Otherwise the
//! shim is a child subreaper: orphans still come back to it and are ended with the tree, but
//! only an orderly stop can end them ([`Isolation`]).
//!
//! **Windows.** The command is created suspended in a new console process group, put in a Job
//! Object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` that only the caller holds, then resumed:
//! every descendant is in the job, and when the caller's process exits (however) the kernel
//! ends the job. There is no shim: [`Guard::shim_pid`] is the command's pid.
//!
//! **macOS.** No PID namespace, parent-death signal or subreaper: the caller forks a watcher
//! process, which starts the command as the leader of a new session (its own process group) and
//! holds a pipe whose other end only the caller has. When the caller dies (SIGKILL included) the
//! pipe reads EOF and the watcher ends the group (SIGTERM, up to 2 s, SIGKILL). A process that
//! left the group and was orphaned escapes that; [`GuardEvent::Degraded`] says so at each start.
//!
//! Ending the tree uses the kill engine ([`crate::kill`](mod@crate::kill)), and only it, on the
//! shim's descendants, whoever owns them (as root, a process that switched to another uid gets
//! the graceful signal too); what the engine's rails leave alone (another reaper process, such
//! as a nested `reaper run`) is then given the same sequence by a second run of the engine, on
//! those processes only (their own trees are theirs to end). What is left after that: in a PID
//! namespace the shim is SIGKILLed, so the kernel takes it; under a subreaper the engine
//! SIGKILLs it (also when a [`Guard`] is dropped).
//!
//! [`run`] and [`Guard::spawn`] refuse to start anything when `/proc` belongs to another PID
//! namespace ([`Error::ForeignProc`], Linux): the guard finds its tree through /proc.

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::kill::{self, KillOptions};
use crate::plan::{self, Skipped};
use crate::ports::{self, Holders};
use crate::report::KillReport;
use crate::select::Selection;
use crate::snapshot::Snapshot;
use crate::spec::{PortSpec, Sequence};
use crate::sys;

pub use crate::model::{Isolation, Status};

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Status::Exited(c) => write!(f, "exit code {c}"),
            Status::Signaled(s) => write!(f, "signal {}", signal_name(s)),
        }
    }
}

/// When to start the command again after it exits on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Restart {
    /// Never.
    #[default]
    No,
    /// When it exits non-zero or dies of a signal.
    OnFailure,
    /// Whenever it exits.
    Always,
}

fn signal_name(n: i32) -> String {
    sys::signal_name(n).map_or_else(|| n.to_string(), str::to_string)
}

/// Restart delays: 250 ms, doubling up to 30 s, back to 250 ms after 30 s of healthy uptime.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    /// The first delay.
    pub const INITIAL: Duration = Duration::from_millis(250);
    /// The longest delay.
    pub const MAX: Duration = Duration::from_secs(30);
    /// Uptime after which the command counts as healthy and the delay starts over.
    pub const HEALTHY: Duration = Duration::from_secs(30);

    /// A fresh backoff.
    pub fn new() -> Backoff {
        Backoff { next: Backoff::INITIAL }
    }

    /// The delay before the next start, given how long the last run lasted.
    pub fn delay(&mut self, uptime: Duration) -> Duration {
        if uptime >= Backoff::HEALTHY {
            self.next = Backoff::INITIAL;
        }
        let d = self.next;
        self.next = (self.next * 2).min(Backoff::MAX);
        d
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new()
    }
}

/// Lets another thread stop a [`run`]: the tree is ended with the sequence and `run` returns.
/// One-shot: once stopped, it stays stopped (a later `run` given it stops at once).
#[derive(Clone, Debug)]
pub struct Stopper(Arc<sys::guard::Notifier>);

impl Stopper {
    /// A new stopper; put a clone in [`GuardOptions::stopper`].
    pub fn new() -> Result<Stopper> {
        Ok(Stopper(Arc::new(sys::guard::Notifier::new()?)))
    }

    /// Asks the guard to end the tree and return.
    pub fn stop(&self) {
        self.0.notify();
    }
}

/// What [`run`] does.
#[derive(Clone, Debug)]
pub struct GuardOptions {
    /// How the tree is ended.
    pub sequence: Sequence,
    /// End the tree when any of these processes exits. Each must exist when `run` starts.
    pub watch_pids: Vec<u32>,
    /// Whether to start the command again when it exits on its own.
    pub restart: Restart,
    /// At most this many restarts (`None`: no limit).
    pub max_restarts: Option<u32>,
    /// Report when the tree listens on this TCP port.
    pub ready_port: Option<u16>,
    /// End the tree (outcome [`EndReason::NotReady`]) if it is not listening on `ready_port`
    /// by then, counted from each start.
    pub ready_timeout: Option<Duration>,
    /// Linux: try a PID namespace (the kernel-level guarantee); `false` uses a subreaper only.
    /// No effect on Windows (always a job) or macOS (always the session watcher).
    pub pid_namespace: bool,
    /// Catch SIGINT, SIGTERM and SIGHUP and end the tree on them. Linux: through a signalfd,
    /// which blocks those signals in the calling thread: use it in a program whose other threads
    /// block them too (or that has none), such as the `reaper` binary. macOS: signal handlers
    /// (replacing the program's own for these three while the guard runs). Windows: a console
    /// control handler (Ctrl+C is SIGINT, Ctrl+Break SIGBREAK, closing the console SIGTERM).
    /// One guard at a time may catch them.
    pub handle_signals: bool,
    /// A stopper another thread can trigger.
    pub stopper: Option<Stopper>,
}

impl Default for GuardOptions {
    fn default() -> GuardOptions {
        GuardOptions {
            sequence: Sequence::default(),
            watch_pids: Vec::new(),
            restart: Restart::No,
            max_restarts: None,
            ready_port: None,
            ready_timeout: None,
            pid_namespace: true,
            handle_signals: false,
            stopper: None,
        }
    }
}

/// Why the guard ended the tree (or stopped restarting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The command exited on its own and is not restarted.
    Exited,
    /// A watched process exited.
    WatchedExited(u32),
    /// The guard received this signal.
    Signal(i32),
    /// The [`Stopper`] was triggered.
    Stopped,
    /// The tree did not listen on the ready port in time.
    NotReady,
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EndReason::Exited => f.write_str("the command exited"),
            EndReason::WatchedExited(pid) => write!(f, "watched pid {pid} exited"),
            EndReason::Signal(s) => write!(f, "received {}", signal_name(s)),
            EndReason::Stopped => f.write_str("asked to stop"),
            EndReason::NotReady => f.write_str("the tree is not listening on the ready port in time"),
        }
    }
}

/// Something worth telling the user while the guard runs.
#[derive(Debug)]
pub enum GuardEvent {
    /// The command started.
    Started {
        /// The guard process (shim; macOS: the watcher); every process of the tree descends
        /// from it. Windows has none: the command's pid.
        shim: u32,
        /// The command's pid, when known.
        pid: Option<u32>,
        /// How the tree is held.
        isolation: Isolation,
        /// Which start this is (0 = the first).
        restarts: u32,
    },
    /// The preferred isolation was not available (or, on macOS, none with a kernel guarantee
    /// exists): what is not guaranteed, and why.
    Degraded(String),
    /// The tree listens on the ready port.
    Ready {
        /// The port.
        port: u16,
        /// Time since the command started.
        after: Duration,
    },
    /// The command exited.
    Exited(Status),
    /// The tree is being ended.
    Ending(EndReason),
    /// The command will be started again after `delay`.
    Restarting {
        /// The wait before the start.
        delay: Duration,
        /// Restarts so far, including this one.
        attempt: u32,
    },
    /// Ending the tree did not go cleanly (survivors, or the kill engine failed).
    Warning(String),
}

impl fmt::Display for GuardEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardEvent::Started { shim, pid, isolation, restarts } => {
                let pid = pid.map_or_else(|| format!("under guard {shim}"), |p| format!("pid {p}"));
                if *restarts == 0 {
                    write!(f, "started {pid} ({isolation})")
                } else {
                    write!(f, "restarted {pid} ({isolation}, restart {restarts})")
                }
            }
            GuardEvent::Degraded(why) => f.write_str(why),
            GuardEvent::Ready { port, after } => {
                write!(f, "ready: listening on port {port} after {} ms", after.as_millis())
            }
            GuardEvent::Exited(s) => write!(f, "command ended with {s}"),
            GuardEvent::Ending(r) => write!(f, "{r}: ending the tree"),
            GuardEvent::Restarting { delay, attempt } => {
                write!(f, "restarting in {} ms (restart {attempt})", delay.as_millis())
            }
            GuardEvent::Warning(w) => f.write_str(w),
        }
    }
}

/// How [`run`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The last status of the command (as ended: `Signaled(15)` after a SIGTERM from the
    /// sequence). `None` when it never ran to an end (stopped during a restart wait counts the
    /// previous run).
    pub status: Option<Status>,
    /// Why the guard stopped.
    pub reason: EndReason,
    /// How many times the command was restarted.
    pub restarts: u32,
}

impl RunOutcome {
    /// The exit code for `reaper run`: 1 when the tree never became ready, else the command's
    /// status in the shell's convention (code, or 128 + signal).
    pub fn exit_code(&self) -> u8 {
        match (self.reason, self.status) {
            (EndReason::NotReady, _) => 1,
            (_, Some(s)) => s.code(),
            (_, None) => 1,
        }
    }
}

/// One running command and its tree. Dropping it SIGKILLs the tree (Windows: `TerminateJobObject`). It belongs to the process
/// that spawned it, not to the thread: it may be moved to, used and ended from any thread.
#[derive(Debug)]
pub struct Guard {
    child: sys::guard::Child,
    started: Instant,
}

impl Guard {
    /// Starts `cmd` (program and arguments; the program is looked up in `PATH`) with stdio
    /// inherited. The second value says what is not guaranteed: on Linux when `pid_namespace`
    /// was asked for but is not available, on macOS always (no kernel guarantee there).
    ///
    /// Any thread may call it: the tree lives as long as the calling *process* (not thread), and
    /// any thread may end it. Errors: [`Error::ForeignProc`] when `/proc` belongs to another
    /// PID namespace (Linux; nothing is started), a command that cannot be started.
    pub fn spawn(cmd: &[OsString], pid_namespace: bool) -> Result<(Guard, Option<String>)> {
        sys::check_own_proc()?;
        let (child, note) = sys::guard::spawn(cmd, pid_namespace)?;
        Ok((Guard { child, started: Instant::now() }, note))
    }

    /// The guard process (Linux: the shim, macOS: the watcher): every process of the tree
    /// descends from it. Windows has none: the command's pid.
    pub fn shim_pid(&self) -> u32 {
        self.child.shim_pid()
    }

    /// The command's pid, when known.
    pub fn pid(&self) -> Option<u32> {
        self.child.cmd_pid()
    }

    /// How the tree is held.
    pub fn isolation(&self) -> Isolation {
        self.child.isolation()
    }

    /// How long since the command started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The command's status, once it has exited.
    pub fn status(&mut self) -> Result<Option<Status>> {
        self.child.poll_status()?;
        self.child.try_reap()?;
        Ok(self.child.status())
    }

    /// Whether the tree listens on TCP `port`: a listening socket on the port held by one of
    /// the tree's processes (another process's listener does not count). The verdict is
    /// [`crate::ports::survey`]'s, as for `wait --listening`.
    pub fn listens_on(&self, port: u16) -> Result<bool> {
        let mut snap = Snapshot::new();
        let spec = [PortSpec::tcp(port)];
        if !ports::survey(&mut snap, &spec, None, Holders::No)?.iter().any(ports::PortState::listening) {
            return Ok(false);
        }
        let tree = self.child.tree_pids()?;
        let states = ports::survey(&mut snap, &spec, None, Holders::Among(&tree))?;
        Ok(states.iter().flat_map(|p| &p.sockets).any(|s| s.is_listening() && !s.holders.is_empty()))
    }

    /// Ends the whole tree with `seq` and reaps the guard process; returns the command's status
    /// as ended and any problem worth reporting.
    pub fn end(&mut self, seq: &Sequence) -> Result<(Option<Status>, Option<String>)> {
        let mut warning = None;
        let shim = self.shim_pid();
        // The shim exits by itself once the tree is empty: nothing left to end.
        if self.child.try_reap()? || (self.child.tree_pids()?.is_empty() && self.child.wait_reap(FINISH)?) {
            self.child.poll_status()?;
            return Ok((self.child.status(), None));
        }
        let (clean, spared) = match end_tree(&self.child, seq) {
            // Survivors include a sequence cut short by a second INT/TERM/HUP.
            Ok(report) => (report.survivors.is_empty(), report.skipped),
            Err(e) => {
                warning = Some(format!("ending the tree: {e}"));
                (false, Vec::new())
            }
        };
        // The shim exits once its last child is reaped.
        let mut done = clean && self.child.wait_reap(SETTLE)?;
        if clean && !done && !spared.is_empty() {
            // What the kill engine's rails leave alone is still the guard's own tree: another
            // reaper process, such as a nested `reaper run` (which, given SIGTERM, ends its own
            // tree gracefully). The same sequence, to those processes only.
            match end_spared(&spared, seq) {
                Ok(left) if left.is_empty() => {}
                Ok(left) => {
                    warning = Some(format!("ending the tree of pid {shim}: processes survived the sequence: {left:?}"))
                }
                Err(e) => warning = Some(format!("ending the tree: {e}")),
            }
            done = self.child.wait_reap(SETTLE)?;
        }
        if !done {
            match self.isolation() {
                // The kernel ends every process of the namespace with its init, or of the job.
                Isolation::PidNamespace | Isolation::JobObject => self.child.kill_shim(),
                Isolation::Subreaper | Isolation::SessionWatcher => match force_tree(&self.child) {
                    Ok(left) if left.is_empty() => {}
                    Ok(left) => warning = Some(format!("processes survived SIGKILL: {left:?}")),
                    Err(e) => warning = Some(format!("ending the tree: {e}")),
                },
            }
            if !self.child.wait_reap(sequence_final_wait(seq))? {
                self.child.kill_shim();
                self.child.wait_reap(sequence_final_wait(seq))?;
            }
        }
        self.child.poll_status()?;
        Ok((self.child.status(), warning))
    }
}

impl Drop for Guard {
    /// A subreaper's (or a session watcher's) tree does not die with the guard process: SIGKILL
    /// it through the kill engine first (in a PID namespace or a job the kernel ends it with the
    /// shim or the job, which the child's own drop ends).
    fn drop(&mut self) {
        if !self.child.is_reaped() && matches!(self.isolation(), Isolation::Subreaper | Isolation::SessionWatcher) {
            let _ = force_tree(&self.child);
        }
    }
}

/// The kill engine's options for the guard's own tree: whoever owns its processes (as root, a
/// process that switched to another uid, a database dropping privileges, gets the graceful
/// signal too). No settle time: the guard ends a tree, not a port, and its own process is the
/// "supervisor" the plan sees above the command; `run` returns as soon as the tree has ended.
fn tree_options(seq: &Sequence) -> KillOptions {
    KillOptions { sequence: seq.clone(), all_users: true, settle: Duration::ZERO, ..KillOptions::default() }
}

/// Ends every process of the tree with `seq` through the kill engine; the report's `skipped`
/// are what its rails spared. The tree is the guard process's descendants (Linux), or the
/// members the platform lists (the job's processes, the session's) and their descendants.
fn end_tree(child: &sys::guard::Child, seq: &Sequence) -> Result<KillReport> {
    let sel = match child.members()? {
        None => Selection::new().descendants_of(child.shim_pid()),
        Some(pids) if pids.is_empty() => return Ok(KillReport::default()),
        Some(pids) => pids.into_iter().fold(Selection::new(), Selection::pid),
    };
    kill::kill(&sel, &tree_options(seq), &mut |_| {})
}

/// Gives `seq` to what the rails spared in the guard's tree and still runs, those processes
/// only (their own trees are theirs to end); returns the pids still alive.
fn end_spared(spared: &[Skipped], seq: &Sequence) -> Result<Vec<u32>> {
    let plan = plan::plan_skipped(spared);
    if plan.targets.is_empty() {
        return Ok(Vec::new());
    }
    let opts = KillOptions { no_tree: true, ..tree_options(seq) };
    Ok(kill::execute(&plan, &Selection::new(), &opts, &mut |_| {})?.survivors)
}

/// SIGKILLs every process of the tree, what the rails spare included; returns the pids that
/// survived it.
fn force_tree(child: &sys::guard::Child) -> Result<Vec<u32>> {
    let force = Sequence::force();
    let report = end_tree(child, &force)?;
    let mut left = report.survivors;
    left.extend(end_spared(&report.skipped, &force)?);
    Ok(left)
}

/// How long a shim with no children left gets to exit before it is treated as stuck.
const FINISH: Duration = Duration::from_secs(1);

/// How long the shim gets to reap its last children after the kill engine ended the tree.
const SETTLE: Duration = Duration::from_millis(500);

fn sequence_final_wait(seq: &Sequence) -> Duration {
    seq.steps.last().map_or(crate::spec::FINAL_WAIT, |s| s.wait).max(Duration::from_millis(100))
}

/// What the event loop saw.
enum Wake {
    Stop(EndReason),
    CommandExited,
    Tick,
}

/// What every wait watches: signals, the stopper, watched pids.
struct Anchors {
    signals: Option<sys::guard::Signals>,
    stopper: Option<Stopper>,
    watched: Vec<(u32, sys::guard::Watched)>,
}

impl Anchors {
    fn new(opts: &GuardOptions) -> Result<Anchors> {
        let mut watched = Vec::new();
        for &pid in &opts.watch_pids {
            let w = sys::guard::Watched::open(pid)?.ok_or(Error::NoSuchProcess(pid))?;
            watched.push((pid, w));
        }
        let signals = if opts.handle_signals { Some(sys::guard::Signals::new()?) } else { None };
        Ok(Anchors { signals, stopper: opts.stopper.clone(), watched })
    }

    /// Waits for an anchor, the child (if any) or the timeout.
    fn wait(&self, child: Option<&Guard>, timeout: Option<Duration>) -> Result<Wake> {
        let mut fds: Vec<sys::guard::Waitable<'_>> = Vec::new();
        if let Some(s) = &self.signals {
            fds.push(s.waitable());
        }
        if let Some(s) = &self.stopper {
            fds.push(s.0.waitable());
        }
        fds.extend(self.watched.iter().map(|(_, w)| w.waitable()));
        if let Some(g) = child {
            fds.extend(g.child.waitables());
        }
        let ready = sys::guard::wait_any(&fds, timeout)?;
        let mut i = 0;
        if let Some(s) = &self.signals {
            if ready[i]
                && let Some(sig) = s.take()
            {
                return Ok(Wake::Stop(EndReason::Signal(sig)));
            }
            i += 1;
        }
        if self.stopper.is_some() {
            if ready[i] {
                return Ok(Wake::Stop(EndReason::Stopped));
            }
            i += 1;
        }
        for (pid, _) in &self.watched {
            if ready[i] {
                return Ok(Wake::Stop(EndReason::WatchedExited(*pid)));
            }
            i += 1;
        }
        if child.is_some() && ready[i..].iter().any(|&r| r) {
            return Ok(Wake::CommandExited);
        }
        Ok(Wake::Tick)
    }
}

/// How often the ready port is checked (the socket table is cheap; at most every 20 ms).
const READY_POLL: Duration = Duration::from_millis(20);

/// Starts `cmd` and guards it until it ends for good: see the module documentation.
///
/// Returns when the command exits and is not restarted, or after the tree has been ended
/// because a watched pid exited, a signal arrived ([`GuardOptions::handle_signals`]), the
/// stopper fired or the tree was not ready in time. Errors: a watched pid that does not exist
/// ([`Error::NoSuchProcess`], before anything is started), a command that cannot be started.
pub fn run(cmd: &[OsString], opts: &GuardOptions, on_event: &mut dyn FnMut(GuardEvent)) -> Result<RunOutcome> {
    if cmd.is_empty() {
        return Err(Error::Usage("no command given".into()));
    }
    let anchors = Anchors::new(opts)?;
    let mut backoff = Backoff::new();
    let mut restarts = 0u32;
    let mut last: Option<Status> = None;
    loop {
        let (mut guard, note) = Guard::spawn(cmd, opts.pid_namespace)?;
        if let Some(n) = note {
            on_event(GuardEvent::Degraded(n));
        }
        on_event(GuardEvent::Started {
            shim: guard.shim_pid(),
            pid: guard.pid(),
            isolation: guard.isolation(),
            restarts,
        });
        let ready_deadline = opts.ready_port.and(opts.ready_timeout).map(|t| Instant::now() + t);
        let mut ready = opts.ready_port.is_none();
        let reason = loop {
            if !ready && let Some(port) = opts.ready_port {
                if guard.listens_on(port)? {
                    ready = true;
                    on_event(GuardEvent::Ready { port, after: guard.uptime() });
                } else if ready_deadline.is_some_and(|d| Instant::now() >= d) {
                    break Some(EndReason::NotReady);
                }
            }
            let timeout = if ready {
                None
            } else {
                let to_deadline = ready_deadline.map(|d| d.saturating_duration_since(Instant::now()));
                Some(to_deadline.map_or(READY_POLL, |d| d.min(READY_POLL)))
            };
            match anchors.wait(Some(&guard), timeout)? {
                Wake::Stop(r) => break Some(r),
                Wake::CommandExited => {
                    if guard.status()?.is_some() {
                        break None;
                    }
                }
                Wake::Tick => {}
            }
        };
        match reason {
            Some(r) => {
                on_event(GuardEvent::Ending(r));
                let (status, warning) = guard.end(&opts.sequence)?;
                if let Some(w) = warning {
                    on_event(GuardEvent::Warning(w));
                }
                if let Some(s) = status {
                    on_event(GuardEvent::Exited(s));
                }
                return Ok(RunOutcome { status: status.or(last), reason: r, restarts });
            }
            None => {
                // The command exited on its own: end whatever it left behind (a daemon it
                // forked) before deciding anything.
                let status = guard.status()?;
                if let Some(s) = status {
                    on_event(GuardEvent::Exited(s));
                }
                let (_, warning) = guard.end(&opts.sequence)?;
                if let Some(w) = warning {
                    on_event(GuardEvent::Warning(w));
                }
                last = status;
                let again = match opts.restart {
                    Restart::No => false,
                    Restart::OnFailure => !status.is_some_and(Status::success),
                    Restart::Always => true,
                };
                if !again || opts.max_restarts.is_some_and(|m| restarts >= m) {
                    return Ok(RunOutcome { status, reason: EndReason::Exited, restarts });
                }
                let delay = backoff.delay(guard.uptime());
                drop(guard);
                on_event(GuardEvent::Restarting { delay, attempt: restarts + 1 });
                // The backoff is a poll timeout: signals and watched pids still end it.
                let until = Instant::now() + delay;
                loop {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    if let Wake::Stop(r) = anchors.wait(None, Some(left))? {
                        on_event(GuardEvent::Ending(r));
                        return Ok(RunOutcome { status, reason: r, restarts });
                    }
                }
                restarts += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guard's tree holding a process the kill engine's rails spare (Linux: it needs the
    /// shim's `/proc` view).
    #[cfg(target_os = "linux")]
    mod spared {
        use super::*;
        use std::io::Write;
        use std::os::fd::IntoRawFd;
        use std::sync::atomic::{AtomicI32, Ordering};

        /// The log of a process of this test binary run under a guard by the test below.
        fn helper_log(pid: u32) -> std::path::PathBuf {
            std::env::temp_dir().join(format!("reaper-guard-spared-{pid}.log"))
        }

        /// Where [`on_term`] writes.
        static LOG_FD: AtomicI32 = AtomicI32::new(-1);

        extern "C" fn on_term(_: nix::libc::c_int) {
            let msg = b"got-term\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffer is a static.
            unsafe {
                nix::libc::write(LOG_FD.load(Ordering::Relaxed), msg.as_ptr().cast(), msg.len());
                nix::libc::_exit(7);
            }
        }

        /// Not a test: this test binary run as a guard's command by
        /// `a_process_the_rails_spare_gets_the_graceful_sequence` (it then runs the same executable
        /// as its guard process, its parent). Says `ready` in its log, records a SIGTERM there and
        /// exits 7 on it.
        #[test]
        #[ignore = "a helper, run under a guard by another test"]
        fn spared_helper() {
            let me = std::process::id();
            let parent = std::os::unix::process::parent_id();
            if sys::exe_identity(parent).is_none() || sys::exe_identity(parent) != sys::exe_identity(me) {
                return; // not under a guard of this test binary: nothing to do
            }
            let mut log = std::fs::File::create(helper_log(me)).expect("the log");
            LOG_FD.store(log.try_clone().expect("a second fd").into_raw_fd(), Ordering::Relaxed);
            let action = nix::sys::signal::SigAction::new(
                nix::sys::signal::SigHandler::Handler(on_term),
                nix::sys::signal::SaFlags::empty(),
                nix::sys::signal::SigSet::empty(),
            );
            // SAFETY: the handler only calls async-signal-safe functions.
            unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGTERM, &action) }.expect("sigaction");
            log.write_all(b"ready\n").expect("writing the log");
            loop {
                std::thread::park();
            }
        }

        // The guard's tree holds a process the kill engine's rails spare (it runs the same
        // executable as the caller: another reaper, such as a nested `reaper run`): it must get the
        // graceful sequence through the engine's second run, not the SIGKILL meant for what is left.
        #[test]
        #[cfg_attr(
            feature = "portable",
            ignore = "portable backend: no executable identity (device and inode), so no process is another reaper's"
        )]
        fn a_process_the_rails_spare_gets_the_graceful_sequence() {
            let exe = std::env::current_exe().expect("the test binary");
            let cmd: Vec<OsString> = [
                exe.as_os_str(),
                "guard::tests::spared::spared_helper".as_ref(),
                "--exact".as_ref(),
                "--ignored".as_ref(),
                "--quiet".as_ref(),
                "--test-threads=1".as_ref(),
            ]
            .iter()
            .map(|s| s.to_os_string())
            .collect();
            let (mut guard, _) = Guard::spawn(&cmd, false).expect("spawning the guard");
            let pid = guard.pid().expect("the command's pid");
            let log = helper_log(pid);
            let deadline = Instant::now() + Duration::from_secs(30);
            // No event says the helper installed its handler: poll its log, with a deadline.
            while std::fs::read_to_string(&log).unwrap_or_default() != "ready\n" {
                assert!(Instant::now() < deadline, "the helper never said ready");
                std::thread::sleep(Duration::from_millis(10));
            }
            let (status, warning) = guard.end(&"TERM:20s".parse().expect("a sequence")).expect("ending the tree");
            let logged = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            assert_eq!(logged, "ready\ngot-term\n", "status {status:?}, warning {warning:?}");
            assert_eq!(status, Some(Status::Exited(7)));
            assert_eq!(warning, None);
        }
    }

    #[test]
    fn backoff_doubles_caps_and_resets_after_healthy_uptime() {
        let mut b = Backoff::new();
        let short = Duration::from_millis(10);
        let got: Vec<u128> = (0..10).map(|_| b.delay(short).as_millis()).collect();
        assert_eq!(got, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        assert_eq!(b.delay(Duration::from_secs(31)), Backoff::INITIAL);
        assert_eq!(b.delay(short), Duration::from_millis(500));
    }

    #[test]
    fn status_codes_follow_the_shell() {
        assert_eq!(Status::Exited(3).code(), 3);
        assert_eq!(Status::Signaled(9).code(), 137);
        assert_eq!(Status::Signaled(15).code(), 143);
        assert!(Status::Exited(0).success());
        assert!(!Status::Signaled(15).success());
        let out = RunOutcome { status: Some(Status::Exited(0)), reason: EndReason::NotReady, restarts: 0 };
        assert_eq!(out.exit_code(), 1);
    }
}
