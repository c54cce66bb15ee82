//! The kill engine: signals and waits. A [`Plan`] (see [`crate::plan`]) is carried out step by
//! step of the [`Sequence`], race-free:
//!
//! 1. every target is pinned by identity (on Linux a pidfd, opened and then checked against the
//!    planned start time); a target that is gone or whose pid was recycled is `gone`, never
//!    signalled;
//! 2. each step first freezes the trees (SIGSTOP every target, then every new descendant, to a
//!    fixed point), sends the step's signal, then SIGCONT (a stopped process does not act on
//!    SIGTERM), so a supervisor cannot respawn a child between two signals;
//! 3. it waits for exits on events (pidfds polled together with a signalfd), never with a sleep
//!    loop; a zombie is dead;
//! 4. survivors get the next step; descendants that appear meanwhile become targets too;
//! 5. finally the socket table is re-read for every port selector.
//!
//! The OS is behind the [`Control`] trait so that the logic above is unit-tested with a fake.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::plan::{Rails, target_report};
use crate::report::{KillReport, Outcome, PortReport, TargetReport};
use crate::select::Selection;
use crate::snapshot::{Process, Snapshot};
use crate::spec::{Sequence, Signal};
use crate::sys;

pub use crate::plan::{Plan, Skipped, plan};

/// How to kill.
#[derive(Clone, Debug, Default)]
pub struct KillOptions {
    /// The signal sequence.
    pub sequence: Sequence,
    /// Only the matched processes, not their descendants (`--no-tree`).
    pub no_tree: bool,
    /// Let broad selectors match other users' processes (`--all-users`).
    pub all_users: bool,
    /// Plan only.
    pub dry_run: bool,
}

/// Something worth telling the user while a kill runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A target ended (or was found gone, denied, ...).
    Ended(&'a TargetReport),
    /// Still waiting: how many are alive and how long until the next step.
    Waiting {
        /// Targets still alive.
        alive: Vec<u32>,
        /// Time left in this step.
        remaining: Duration,
    },
}

/// The result of sending a signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Delivered.
    Ok,
    /// The process has exited (ESRCH, or its identity no longer matches).
    Gone,
    /// Not permitted (EPERM).
    Denied,
    /// Another failure, with the OS's explanation.
    Failed(String),
}

/// What a wait ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waited {
    /// These handles (indices into the slice given) have exited.
    Exited(Vec<usize>),
    /// The deadline passed.
    Timeout,
    /// SIGINT, SIGTERM or SIGHUP arrived.
    Interrupted,
}

/// A process as a scan sees it: enough to spot new descendants and whether it is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Process id.
    pub pid: u32,
    /// Start time: with the pid, the identity.
    pub start_ticks: u64,
    /// One-letter state (`T` stopped, `Z` zombie, ...).
    pub state: char,
}

/// The operating system as the engine needs it. The real implementation lives under
/// `src/sys/` (pidfds on Linux); tests use a fake.
pub trait Control {
    /// A pinned process.
    type Handle;
    /// Pins `pid` if it is still the process that started at `start_ticks`. `Err(Sent::Gone)`
    /// when it has exited or the pid now belongs to another process.
    fn open(&mut self, pid: u32, start_ticks: u64) -> std::result::Result<Self::Handle, Sent>;
    /// Sends signal `sig` to the pinned process.
    fn signal(&mut self, h: &Self::Handle, sig: i32) -> Sent;
    /// Whether the pinned process has exited (a zombie has).
    fn exited(&mut self, h: &Self::Handle) -> bool;
    /// Waits until one of `handles` exits, `deadline` passes or an interrupt arrives.
    fn wait(&mut self, handles: &[&Self::Handle], deadline: Instant) -> Waited;
    /// Whether an interrupt (SIGINT, SIGTERM, SIGHUP) is pending; consumes it.
    fn interrupted(&mut self) -> bool;
    /// `roots` (those still existing) and every current descendant of them.
    fn scan(&mut self, roots: &[u32]) -> Vec<Seen>;
    /// Reads one process with its command line and executable.
    fn describe(&mut self, pid: u32) -> Option<Process>;
    /// The name of a uid.
    fn user_name(&mut self, uid: u32) -> String {
        sys::user_name(uid).unwrap_or_else(|| uid.to_string())
    }
}

/// How long a freeze may keep looking for processes that have not stopped yet before it
/// signals anyway (another reaper may be continuing them at the same time).
const FREEZE_LIMIT: Duration = Duration::from_millis(250);
/// How often a waiting step reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// How many times the last step is repeated for descendants that appeared during it.
const EXTRA_ROUNDS: usize = 3;

struct Target<H> {
    report: TargetReport,
    handle: Option<H>,
    alive: bool,
    stopped: bool,
    first_signal: Option<Instant>,
    last_signal: Option<i32>,
}

/// The engine's state; dropping it continues every process it left stopped, whatever happened.
struct Engine<'c, 'e, C: Control> {
    ctl: &'c mut C,
    rails: Rails,
    targets: Vec<Target<C::Handle>>,
    known: HashSet<(u32, u64)>,
    skipped: HashSet<u32>,
    on_event: &'e mut dyn FnMut(Event<'_>),
    interrupted: bool,
}

impl<C: Control> Drop for Engine<'_, '_, C> {
    fn drop(&mut self) {
        for t in &mut self.targets {
            if t.stopped
                && let Some(h) = &t.handle
            {
                let _ = self.ctl.signal(h, sys::SIGCONT);
                t.stopped = false;
            }
        }
    }
}

impl<C: Control> Engine<'_, '_, C> {
    fn end(&mut self, i: usize, outcome: Outcome) {
        let t = &mut self.targets[i];
        t.alive = false;
        t.handle = None;
        t.stopped = false;
        t.report.outcome = outcome;
        if matches!(outcome, Outcome::Exited | Outcome::Killed) {
            t.report.elapsed_ms = t.first_signal.map(|s| s.elapsed().as_millis() as u64);
        }
        (self.on_event)(Event::Ended(&self.targets[i].report));
    }

    fn exited(&mut self, i: usize) {
        let outcome = match self.targets[i].last_signal {
            None => Outcome::Gone,
            Some(s) if s == sys::SIGKILL => Outcome::Killed,
            Some(_) => Outcome::Exited,
        };
        self.end(i, outcome);
    }

    fn add(&mut self, report: TargetReport) {
        self.known.insert((report.pid, report.start_ticks));
        let (pid, start) = (report.pid, report.start_ticks);
        self.targets.push(Target {
            report,
            handle: None,
            alive: true,
            stopped: false,
            first_signal: None,
            last_signal: None,
        });
        let i = self.targets.len() - 1;
        match self.ctl.open(pid, start) {
            Ok(h) if !self.ctl.exited(&h) => self.targets[i].handle = Some(h),
            Ok(_) | Err(Sent::Gone) | Err(Sent::Ok) => self.end(i, Outcome::Gone),
            Err(Sent::Denied) => self.end(i, Outcome::Denied),
            Err(Sent::Failed(_)) => self.end(i, Outcome::Survived),
        }
    }

    fn alive(&self) -> Vec<usize> {
        (0..self.targets.len())
            .filter(|&i| self.targets[i].alive)
            .collect()
    }

    /// Sends `sig`; records what it means. Returns whether it was delivered.
    fn send(&mut self, i: usize, sig: i32) -> bool {
        let Some(h) = &self.targets[i].handle else {
            return false;
        };
        match self.ctl.signal(h, sig) {
            Sent::Ok => true,
            Sent::Gone => {
                self.exited(i);
                false
            }
            Sent::Denied => {
                self.end(i, Outcome::Denied);
                false
            }
            Sent::Failed(_) => {
                self.end(i, Outcome::Survived);
                false
            }
        }
    }

    /// Finds descendants of live targets that are not targets yet and adds them (stopping
    /// them when `stop`). Returns how many were added, and whether every live target was
    /// seen stopped.
    fn discover(&mut self, stop: bool) -> (usize, bool) {
        let roots: Vec<u32> = self
            .alive()
            .into_iter()
            .map(|i| self.targets[i].report.pid)
            .collect();
        if roots.is_empty() {
            return (0, true);
        }
        let seen = self.ctl.scan(&roots);
        let live: HashSet<u32> = roots.iter().copied().collect();
        let mut all_stopped = true;
        let mut added = 0;
        for s in seen {
            if matches!(s.state, 'Z' | 'X') {
                continue;
            }
            if self.known.contains(&(s.pid, s.start_ticks)) {
                if live.contains(&s.pid) && !matches!(s.state, 'T' | 't') {
                    all_stopped = false;
                }
                continue;
            }
            if self.skipped.contains(&s.pid) {
                continue;
            }
            let Some(p) = self
                .ctl
                .describe(s.pid)
                .filter(|p| p.start_ticks == s.start_ticks)
            else {
                continue;
            };
            if self.rails.protects(&p).is_some() {
                self.skipped.insert(p.pid);
                continue;
            }
            let user = self.ctl.user_name(p.uid);
            self.add(target_report(&p, user, false, Vec::new()));
            added += 1;
            all_stopped = false;
            let i = self.targets.len() - 1;
            if stop && self.targets[i].alive && self.send(i, sys::SIGSTOP) {
                self.targets[i].stopped = true;
            }
        }
        (added, all_stopped)
    }

    /// SIGSTOP every live target, then every new descendant, until a scan finds nothing new
    /// and everything stopped (or [`FREEZE_LIMIT`] passes).
    fn freeze(&mut self) {
        for i in self.alive() {
            if !self.targets[i].stopped && self.send(i, sys::SIGSTOP) {
                self.targets[i].stopped = true;
            }
        }
        let start = Instant::now();
        loop {
            let (added, all_stopped) = self.discover(true);
            if (added == 0 && all_stopped) || start.elapsed() > FREEZE_LIMIT {
                break;
            }
            if added == 0 {
                std::thread::yield_now();
            }
        }
    }

    fn thaw(&mut self) {
        for i in self.alive() {
            if self.targets[i].stopped && self.send(i, sys::SIGCONT) {
                self.targets[i].stopped = false;
            }
        }
    }

    /// One step: freeze, signal, thaw, wait.
    fn step(&mut self, signal: Signal, wait: Duration) {
        let sig = signal.number();
        let freeze = sig != sys::SIGSTOP && sig != sys::SIGCONT;
        if freeze {
            self.freeze();
        } else {
            self.discover(false);
        }
        if self.ctl.interrupted() {
            self.interrupted = true;
            self.thaw();
            return;
        }
        let now = Instant::now();
        for i in self.alive() {
            if self.send(i, sig) {
                let t = &mut self.targets[i];
                t.first_signal.get_or_insert(now);
                t.last_signal = Some(sig);
                t.report.signals.push(signal.name());
            }
        }
        if freeze {
            self.thaw();
        }
        self.wait(Instant::now() + wait);
    }

    fn wait(&mut self, deadline: Instant) {
        let mut next_progress = Instant::now() + PROGRESS_EVERY;
        loop {
            let alive = self.alive();
            if alive.is_empty() {
                return;
            }
            let until = deadline.min(next_progress);
            let handles: Vec<&C::Handle> = alive
                .iter()
                .filter_map(|&i| self.targets[i].handle.as_ref())
                .collect();
            match self.ctl.wait(&handles, until) {
                Waited::Exited(idx) => {
                    for k in idx {
                        if let Some(&i) = alive.get(k) {
                            self.exited(i);
                        }
                    }
                }
                Waited::Interrupted => {
                    self.interrupted = true;
                    return;
                }
                Waited::Timeout => {
                    let now = Instant::now();
                    if now >= deadline {
                        return;
                    }
                    if now >= next_progress {
                        next_progress = now + PROGRESS_EVERY;
                        let alive = self
                            .alive()
                            .into_iter()
                            .map(|i| self.targets[i].report.pid)
                            .collect();
                        (self.on_event)(Event::Waiting {
                            alive,
                            remaining: deadline - now,
                        });
                    }
                }
            }
        }
    }

    fn run(&mut self, seq: &Sequence) {
        let mut rounds = 0;
        for (n, step) in seq.steps.iter().enumerate() {
            if self.alive().is_empty() || self.interrupted {
                break;
            }
            self.step(step.signal, step.wait);
            let last = n + 1 == seq.steps.len();
            // Descendants born during the last step get it too, a bounded number of times.
            while last && !self.interrupted && rounds < EXTRA_ROUNDS && self.discover(false).0 > 0 {
                rounds += 1;
                self.step(step.signal, step.wait);
            }
        }
        self.thaw();
        for i in self.alive() {
            self.end(i, Outcome::Survived);
        }
    }
}

/// Executes a plan with the given OS implementation: the engine behind [`execute`], public so
/// that it can be driven by a fake [`Control`] in tests. Returns the report without ports.
pub fn execute_with<C: Control>(
    ctl: &mut C,
    plan: &Plan,
    seq: &Sequence,
    on_event: &mut dyn FnMut(Event<'_>),
) -> KillReport {
    let mut engine = Engine {
        ctl,
        rails: Rails::current(),
        targets: Vec::with_capacity(plan.targets.len()),
        known: HashSet::new(),
        skipped: plan.skipped.iter().map(|s| s.pid).collect(),
        on_event,
        interrupted: false,
    };
    for t in &plan.targets {
        let mut report = t.clone();
        report.signals.clear();
        engine.add(report);
    }
    if !engine.ctl.interrupted() {
        engine.run(seq);
    } else {
        engine.interrupted = true;
        for i in engine.alive() {
            engine.end(i, Outcome::Survived);
        }
    }
    let targets: Vec<TargetReport> = engine.targets.iter().map(|t| t.report.clone()).collect();
    let survivors = targets
        .iter()
        .filter(|t| matches!(t.outcome, Outcome::Survived | Outcome::Denied))
        .map(|t| t.pid)
        .collect();
    KillReport {
        dry_run: false,
        targets,
        ports: Vec::new(),
        survivors,
        interrupted: engine.interrupted,
    }
}

/// Executes a plan: signals and waits as described in the module documentation, then re-reads
/// the socket table for every port selector of `sel`. With `opts.dry_run` nothing is signalled
/// and every target's outcome is `planned`.
///
/// While it runs, SIGINT, SIGTERM and SIGHUP are blocked on the calling thread and read from a
/// signalfd: one of them continues every process reaper has stopped and ends the run early with
/// `interrupted: true`.
pub fn execute(
    plan: &Plan,
    sel: &Selection,
    opts: &KillOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<KillReport> {
    let mut report = if opts.dry_run {
        let targets = plan.targets.clone();
        KillReport {
            dry_run: true,
            targets,
            ..KillReport::default()
        }
    } else {
        let mut ctl = sys::Signaller::new();
        execute_with(&mut ctl, plan, &opts.sequence, on_event)
    };
    report.ports = check_ports(sel)?;
    Ok(report)
}

/// Plans and executes in one call: what `reaper kill` does.
pub fn kill(
    sel: &Selection,
    opts: &KillOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<KillReport> {
    let mut snap = Snapshot::new();
    let plan = plan(sel, &mut snap, opts)?;
    execute(&plan, sel, opts, on_event)
}

/// The current state of every port selector: free, or who holds it.
pub fn check_ports(sel: &Selection) -> Result<Vec<PortReport>> {
    if sel.ports.is_empty() {
        return Ok(Vec::new());
    }
    let mut snap = Snapshot::new();
    snap.load_sockets(sel.socket_filter())?;
    let wanted: Vec<_> = snap
        .sockets()
        .iter()
        .filter(|s| sel.socket_matches(s))
        .cloned()
        .collect();
    let inodes: HashSet<u64> = wanted.iter().map(|s| s.inode).collect();
    snap.find_holders(&inodes, None);
    let mut out = Vec::new();
    for spec in &sel.ports {
        let held: Vec<_> = wanted
            .iter()
            .filter(|s| spec.admits(s.proto) && spec.contains(s.local_port))
            .collect();
        let mut holders: Vec<u32> = held
            .iter()
            .flat_map(|s| snap.holders(s.inode).iter().copied())
            .collect();
        holders.sort_unstable();
        holders.dedup();
        let proto = match spec.proto.or(sel.proto) {
            Some(p) => p.to_string(),
            None => "tcp+udp".into(),
        };
        out.push(PortReport {
            proto,
            port: spec.first,
            last: spec.last,
            free: held.is_empty(),
            holders,
        });
    }
    Ok(out)
}

/// Counts outcomes, for summaries.
pub fn tally(report: &KillReport) -> HashMap<Outcome, usize> {
    let mut m = HashMap::new();
    for t in &report.targets {
        *m.entry(t.outcome).or_insert(0) += 1;
    }
    m
}
