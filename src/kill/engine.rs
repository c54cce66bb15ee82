//! The engine: carries a [`Plan`] out against a [`Control`], step by step of the sequence
//! (pin, freeze, signal, thaw, wait, rescan), as the [`kill`](mod@crate::kill) module documentation
//! describes. Each target's state is one [`State`]: pinned and running, pinned and frozen by
//! us, or ended.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::control::{Control, Sent, Unpinned, Waited};
use crate::plan::{KillOptions, Pin, Plan, Rails, target_report};
use crate::report::{KillReport, Outcome, TargetReport};
use crate::spec::{Sequence, Signal};
use crate::sys;

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

/// How long a freeze may keep looking for processes that have not stopped yet before it
/// signals anyway (another reaper may be continuing them at the same time).
const FREEZE_LIMIT: Duration = Duration::from_millis(250);
/// How often a waiting step reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// How often a waiting step scans the trees for new descendants (each scan reads every
/// `/proc/PID/stat`: about 15 ms with 2000 processes). An exit also triggers a scan, at most
/// every [`RESCAN_AFTER_EXIT`].
const RESCAN_EVERY: Duration = Duration::from_millis(250);
/// The shortest time between two scans triggered by exits.
const RESCAN_AFTER_EXIT: Duration = Duration::from_millis(20);
/// After the last step, descendants that keep appearing get it again for at least this long
/// (or the last step's wait, when longer).
const SETTLE_AT_LEAST: Duration = Duration::from_secs(1);

/// Where a target stands. One value, so that a live target without a handle, or a frozen one
/// that has ended, cannot be written.
enum State<H> {
    /// Pinned, and running.
    Running(H),
    /// Pinned, and frozen by reaper: it is let go before reaper lets go of it.
    Frozen(H),
    /// Ended (the outcome is in the report), or not pinned yet: no handle.
    Ended,
}

impl<H> State<H> {
    fn handle(&self) -> Option<&H> {
        match self {
            State::Running(h) | State::Frozen(h) => Some(h),
            State::Ended => None,
        }
    }

    fn is_live(&self) -> bool {
        !matches!(self, State::Ended)
    }

    fn is_running(&self) -> bool {
        matches!(self, State::Running(_))
    }

    fn is_frozen(&self) -> bool {
        matches!(self, State::Frozen(_))
    }

    /// Marks a live target frozen (or running); an ended one stays ended.
    fn set_frozen(&mut self, frozen: bool) {
        *self = match std::mem::replace(self, State::Ended) {
            State::Running(h) | State::Frozen(h) if frozen => State::Frozen(h),
            State::Running(h) | State::Frozen(h) => State::Running(h),
            State::Ended => State::Ended,
        };
    }
}

struct Target<H> {
    report: TargetReport,
    state: State<H>,
    /// This step's signal is dropped by the kernel: no use waiting for it.
    futile: bool,
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
    /// `--no-tree`: never adds descendants.
    no_tree: bool,
    /// Targets this step's freeze left running (nothing could freeze them quietly and the trees
    /// did not grow).
    unfrozen: Vec<usize>,
    /// Set by another thread to skip to SIGKILL ([`execute_hurried`](super::execute_hurried)).
    hurry: Option<&'e AtomicBool>,
    /// The SIGKILL step that `hurry` asked for is under way: its wait is not cut short.
    forcing: bool,
}

impl<C: Control> Drop for Engine<'_, '_, C> {
    fn drop(&mut self) {
        for t in &mut self.targets {
            if let State::Frozen(h) = std::mem::replace(&mut t.state, State::Ended) {
                let _ = self.ctl.resume(&h);
            }
        }
    }
}

impl<C: Control> Engine<'_, '_, C> {
    /// Whether SIGKILL was asked for and is not under way yet.
    fn hurried(&self) -> bool {
        !self.forcing && self.hurry.is_some_and(|h| h.load(Ordering::Relaxed))
    }

    fn end(&mut self, i: usize, outcome: Outcome) {
        let t = &mut self.targets[i];
        // Never let go of a process we stopped without continuing it.
        if let State::Frozen(h) = std::mem::replace(&mut t.state, State::Ended) {
            let _ = self.ctl.resume(&h);
        }
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

    fn add(&mut self, report: TargetReport, pin: Option<&Pin>) {
        self.known.insert((report.pid, report.start_ticks));
        let (pid, start) = (report.pid, report.start_ticks);
        self.targets.push(Target { report, state: State::Ended, futile: false, first_signal: None, last_signal: None });
        let i = self.targets.len() - 1;
        let opened = match pin {
            Some(pin) => self.ctl.adopt(pin, pid, start),
            None => self.ctl.open(pid, start),
        };
        match opened {
            Ok(h) if !self.ctl.exited(&h) => self.targets[i].state = State::Running(h),
            Ok(_) | Err(Unpinned::Gone) => self.end(i, Outcome::Gone),
            Err(Unpinned::Denied) => self.end(i, Outcome::Denied),
            Err(Unpinned::Failed(why)) => {
                self.targets[i].report.note = Some(format!("pid {pid} could not be pinned: {why}"));
                self.end(i, Outcome::Survived)
            }
        }
    }

    fn alive(&self) -> Vec<usize> {
        (0..self.targets.len()).filter(|&i| self.targets[i].state.is_live()).collect()
    }

    /// Sends `sig`; records what it means. Returns whether it was delivered.
    fn send(&mut self, i: usize, sig: i32) -> bool {
        let Some(h) = self.targets[i].state.handle() else {
            return false;
        };
        let r = self.ctl.signal(h, sig);
        self.record(i, r)
    }

    /// Freezes target `i` and records it. Returns whether it is frozen.
    fn stop(&mut self, i: usize) -> bool {
        let State::Running(h) = &self.targets[i].state else {
            return false;
        };
        let r = self.ctl.stop(h);
        let ok = self.record(i, r);
        if ok {
            self.targets[i].state.set_frozen(true);
        }
        ok
    }

    /// Lets target `i` go if it is frozen.
    fn resume(&mut self, i: usize) {
        let State::Frozen(h) = &self.targets[i].state else {
            return;
        };
        let r = self.ctl.resume(h);
        self.targets[i].state.set_frozen(false);
        self.record(i, r);
    }

    /// What the OS's answer means for target `i`. Returns whether it was `Sent::Ok`.
    fn record(&mut self, i: usize, r: Sent) -> bool {
        match r {
            Sent::Ok => true,
            Sent::Gone => {
                self.exited(i);
                false
            }
            Sent::Denied => {
                self.end(i, Outcome::Denied);
                false
            }
            Sent::Failed(why) => {
                let pid = self.targets[i].report.pid;
                self.targets[i].report.note = Some(format!("signalling pid {pid} failed: {why}"));
                self.end(i, Outcome::Survived);
                false
            }
        }
    }

    /// Finds descendants of live targets that are not targets yet and adds them (stopping
    /// them when `stop`). Returns how many were added.
    fn discover(&mut self, stop: bool) -> usize {
        let roots: Vec<u32> = self.alive().into_iter().map(|i| self.targets[i].report.pid).collect();
        if roots.is_empty() || self.no_tree {
            return 0;
        }
        let mut added = 0;
        for s in self.ctl.scan(&roots) {
            if matches!(s.state, 'Z' | 'X')
                || self.known.contains(&(s.pid, s.start_ticks))
                || self.skipped.contains(&s.pid)
            {
                continue;
            }
            let Some(p) = self.ctl.describe(s.pid).filter(|p| p.start_ticks == s.start_ticks) else {
                continue;
            };
            // The same rails as the plan's: reaper's own, the owner rule, port proxies.
            if self.rails.refusal(self.ctl.table(), &p, false).is_some() {
                self.skipped.insert(p.pid);
                continue;
            }
            let user = self.ctl.user_name(p.uid);
            self.add(target_report(&p, user, false, Vec::new()), None);
            added += 1;
            let i = self.targets.len() - 1;
            if stop && self.targets[i].state.is_live() {
                self.stop(i);
            }
        }
        added
    }

    /// Waits (yielding the CPU) until every target sent SIGSTOP shows as stopped, or `limit`.
    /// A stop is not instant: a running process stops on its way back to user space, and
    /// until then it can still fork.
    fn await_stopped(&mut self, limit: Instant) {
        let mut pending: Vec<usize> = self.alive().into_iter().filter(|&i| self.targets[i].state.is_frozen()).collect();
        while !pending.is_empty() && Instant::now() < limit {
            pending.retain(|&i| {
                let t = &self.targets[i].report;
                !self.ctl.is_stopped(t.pid, t.start_ticks)
            });
            if !pending.is_empty() {
                std::thread::yield_now();
            }
        }
    }

    /// Freezes every live target; once they are stopped, looks for descendants not yet known
    /// and freezes those too, until a scan finds nothing new (or [`FREEZE_LIMIT`] passes:
    /// another reaper may be continuing them at the same time).
    fn freeze(&mut self) {
        let mut loud = Vec::new();
        for i in self.alive() {
            let State::Running(h) = &self.targets[i].state else { continue };
            match self.ctl.stop_quietly(h) {
                Some(r) => {
                    if self.record(i, r) {
                        self.targets[i].state.set_frozen(true);
                    }
                }
                None => loud.push(i),
            }
        }
        // What cannot be frozen quietly would need SIGSTOP, which the parent's shell reports as
        // `Stopped`. It only matters against a tree that forks right now: look again, and
        // SIGSTOP them only if the trees grew; or, where the backend says a scan cannot be
        // trusted to see growth and a stop cannot outlive reaper, whenever a tree has children.
        let every_tree = !loud.is_empty() && self.ctl.freezes_every_tree() && self.has_children();
        if !loud.is_empty() && (self.grows() || every_tree) {
            for &i in &loud {
                if self.targets[i].state.is_running() {
                    self.stop(i);
                }
            }
        }
        self.unfrozen = loud.into_iter().filter(|&i| !self.targets[i].state.is_frozen()).collect();
        self.freeze_descendants();
    }

    /// Whether a live target's parent is a live target too: a tree, not lone processes.
    fn has_children(&self) -> bool {
        let live = self.alive();
        let pids: std::collections::HashSet<u32> = live.iter().map(|&i| self.targets[i].report.pid).collect();
        live.iter().any(|&i| pids.contains(&self.targets[i].report.ppid))
    }

    /// Whether the trees have descendants not known yet (the last look was the plan's, or the
    /// last scan); they become targets, frozen.
    fn grows(&mut self) -> bool {
        let first = self.targets.len();
        if self.discover(false) == 0 {
            return false;
        }
        for i in first..self.targets.len() {
            if self.targets[i].state.is_live() {
                self.stop(i);
            }
        }
        true
    }

    fn freeze_descendants(&mut self) {
        let limit = Instant::now() + FREEZE_LIMIT;
        loop {
            self.await_stopped(limit);
            if self.discover(true) == 0 || Instant::now() >= limit {
                break;
            }
        }
    }

    /// Continues every frozen target, children before their parents (see [`Engine::leaves_first`]).
    fn thaw(&mut self) {
        for i in self.leaves_first(self.alive()) {
            self.resume(i);
        }
    }

    /// `targets` ordered so that a target comes before every target it descends from. A frozen
    /// tree is signalled and continued in this order: the kernel sends SIGHUP and SIGCONT to
    /// every stopped process of a process group that a parent's exit leaves orphaned (POSIX job
    /// control), so a parent that ended (SIGKILL ends a stopped process at once) or was
    /// continued first would have its still-stopped children hung up, killed by a signal
    /// nobody chose and before their own graceful one.
    fn leaves_first(&self, mut targets: Vec<usize>) -> Vec<usize> {
        let index: HashMap<u32, usize> = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state.is_live())
            .map(|(i, t)| (t.report.pid, i))
            .collect();
        let depth = |i: usize| {
            let (mut d, mut ppid) = (0usize, self.targets[i].report.ppid);
            while let Some(&p) = index.get(&ppid).filter(|_| d < index.len()) {
                d += 1;
                ppid = self.targets[p].report.ppid;
            }
            d
        };
        targets.sort_by_cached_key(|&i| std::cmp::Reverse(depth(i)));
        targets
    }

    /// Sends target `i` the signal of step `n`, or, when the kernel would drop it (a
    /// namespace's init without a handler), the first later one it would not drop, at once.
    fn signal_target(&mut self, i: usize, n: usize, seq: &Sequence, now: Instant) {
        // Exited meanwhile (another reaper, or on its own): gone, not signalled.
        if self.targets[i].state.handle().is_some_and(|h| self.ctl.exited(h)) {
            self.exited(i);
            return;
        }
        let pid = self.targets[i].report.pid;
        let mut k = n;
        let mut dropped = Vec::new();
        while k < seq.steps.len() && self.ctl.drops(pid, seq.steps[k].signal.number()) {
            dropped.push(seq.steps[k].signal.name());
            k += 1;
        }
        let futile = k == seq.steps.len();
        let signal = seq.steps[k.min(seq.steps.len() - 1)].signal;
        if !dropped.is_empty() {
            let instead = (!futile).then(|| signal.name());
            self.targets[i].report.note = Some(dropped_note(pid, dropped, instead.as_deref(), false));
        }
        self.targets[i].futile = futile;
        if self.send(i, signal.number()) {
            let t = &mut self.targets[i];
            t.first_signal.get_or_insert(now);
            t.last_signal = Some(signal.number());
            t.report.signals.push(signal.name());
        }
    }

    /// One step: freeze, signal, thaw, wait.
    fn step(&mut self, n: usize, seq: &Sequence) {
        let step = &seq.steps[n];
        if freezes(step.signal) {
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
        for i in self.leaves_first(self.alive()) {
            self.signal_target(i, n, seq, now);
        }
        self.ctl.signalled_all();
        self.thaw();
        self.continue_stopped(step.signal);
        self.wait(Instant::now() + step.wait, n, seq);
    }

    /// A target stopped by someone else (job control's Ctrl-Z) does not act on the signal it
    /// was just sent until it is continued: continue those the freeze left running (its thaw
    /// does so for those it froze).
    fn continue_stopped(&mut self, signal: Signal) {
        let unfrozen = std::mem::take(&mut self.unfrozen);
        if !freezes(signal) || signal.number() == sys::SIGKILL {
            return;
        }
        for i in unfrozen {
            let t = &self.targets[i];
            if t.state.is_running()
                && t.last_signal.is_some()
                && self.ctl.is_stopped(t.report.pid, t.report.start_ticks)
            {
                self.send(i, sys::SIGCONT);
            }
        }
    }

    /// Descendants of live targets that are not targets yet: frozen (with theirs, to a fixed
    /// point), sent step `n`'s signal, let go. Returns how many there were.
    fn newcomers(&mut self, n: usize, seq: &Sequence) -> usize {
        let first = self.targets.len();
        let freeze = freezes(seq.steps[n].signal);
        if self.discover(freeze) == 0 {
            return 0;
        }
        if freeze {
            self.freeze_descendants();
        }
        if self.ctl.interrupted() {
            self.interrupted = true;
            self.thaw();
            return self.targets.len() - first;
        }
        let now = Instant::now();
        for i in self.leaves_first((first..self.targets.len()).collect()) {
            if self.targets[i].state.is_live() {
                self.signal_target(i, n, seq, now);
            }
        }
        self.ctl.signalled_all();
        self.thaw();
        self.continue_stopped(seq.steps[n].signal);
        self.targets.len() - first
    }

    /// Waits for the targets of step `n` to exit, until `deadline`; descendants that appear
    /// meanwhile get the step too.
    fn wait(&mut self, deadline: Instant, n: usize, seq: &Sequence) {
        let mut next_progress = Instant::now() + PROGRESS_EVERY;
        let mut last_scan = Instant::now();
        loop {
            // The live targets and their handles, index for index: the wait's answer is mapped
            // back through `live`.
            let (live, handles): (Vec<usize>, Vec<&C::Handle>) =
                self.targets.iter().enumerate().filter_map(|(i, t)| Some((i, t.state.handle()?))).unzip();
            if live.iter().all(|&i| self.targets[i].futile) {
                return;
            }
            let until = deadline.min(next_progress).min(last_scan + RESCAN_EVERY);
            let mut exits = false;
            match self.ctl.wait(&handles, until) {
                Waited::Exited(idx) => {
                    exits = true;
                    for k in idx {
                        if let Some(&i) = live.get(k) {
                            self.exited(i);
                        }
                    }
                }
                Waited::Interrupted => {
                    self.interrupted = true;
                    return;
                }
                Waited::Timeout => {}
            }
            let now = Instant::now();
            if !self.no_tree
                && (now >= last_scan + RESCAN_EVERY || (exits && now >= last_scan + RESCAN_AFTER_EXIT))
                && now < deadline
            {
                last_scan = now;
                self.newcomers(n, seq);
                if self.interrupted {
                    return;
                }
            }
            if now >= deadline || self.hurried() {
                return;
            }
            if now >= next_progress {
                next_progress = now + PROGRESS_EVERY;
                let alive = self.alive().into_iter().map(|i| self.targets[i].report.pid).collect();
                (self.on_event)(Event::Waiting { alive, remaining: deadline - now });
            }
        }
    }

    fn run(&mut self, seq: &Sequence) {
        for n in 0..seq.steps.len() {
            if self.alive().is_empty() || self.interrupted || self.hurried() {
                break;
            }
            for t in &mut self.targets {
                t.futile = false;
            }
            self.step(n, seq);
        }
        // SIGKILL asked for while a step waited: what is left gets it now, and the rest of the
        // sequence is SIGKILL's.
        let forced = Sequence::force();
        let seq = if self.hurried() && !self.alive().is_empty() && !self.interrupted {
            self.forcing = true;
            for t in &mut self.targets {
                t.futile = false;
            }
            self.step(0, &forced);
            &forced
        } else {
            seq
        };
        // Descendants that appeared at the very end get the last step too, to a fixed point
        // bounded by time (a fork storm that outlasts it leaves survivors, reported).
        if let Some(last) = seq.steps.len().checked_sub(1) {
            let wait = seq.steps[last].wait;
            let limit = Instant::now() + wait.max(SETTLE_AT_LEAST);
            while !self.interrupted
                && !self.alive().is_empty()
                && Instant::now() < limit
                && self.newcomers(last, seq) > 0
            {
                self.wait((Instant::now() + wait).min(limit), last, seq);
            }
        }
        self.thaw();
        for i in self.alive() {
            self.end(i, Outcome::Survived);
        }
    }
}

/// The note of a target that is the init of a PID namespace without a handler for the signals
/// `dropped`; `instead` is the signal it gets at once (none: the sequence cannot end it).
pub(super) fn dropped_note(pid: u32, mut dropped: Vec<String>, instead: Option<&str>, planned: bool) -> String {
    dropped.dedup();
    let what = dropped.join(", ");
    let then = match (instead, planned) {
        (None, _) => "the sequence cannot end it".to_string(),
        (Some(s), false) => format!("{s} was sent at once instead"),
        (Some(s), true) => format!("{s} would be sent at once instead"),
    };
    format!(
        "pid {pid} is the init of its own PID namespace and has no handler for {what}: the kernel drops \
         {what} sent from outside the namespace; {then}"
    )
}

/// Whether a step freezes the trees around its signal: not for SIGSTOP and SIGCONT
/// themselves.
fn freezes(signal: Signal) -> bool {
    let sig = signal.number();
    sig != sys::SIGSTOP && sig != sys::SIGCONT
}

/// Executes a plan with the given OS implementation: the engine behind [`execute`](super::execute), public so
/// that it can be driven by a fake [`Control`] in tests. Returns the report without ports.
pub fn execute_with<C: Control>(
    ctl: &mut C,
    plan: &Plan,
    opts: &KillOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> KillReport {
    run_engine(ctl, plan, opts, None, on_event)
}

/// [`execute_with`], and `hurry`: once it is set, the step that waits ends at once and every
/// target still alive gets SIGKILL.
pub(super) fn run_engine<C: Control>(
    ctl: &mut C,
    plan: &Plan,
    opts: &KillOptions,
    hurry: Option<&AtomicBool>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> KillReport {
    // The plan's owner rule ([`Plan::owner`]) holds for descendants found while killing too.
    let rails = Rails::of(ctl.table()).with_owner(plan.owner);
    let mut engine = Engine {
        ctl,
        rails,
        targets: Vec::with_capacity(plan.targets.len()),
        known: HashSet::new(),
        skipped: plan.skipped.iter().map(|s| s.pid).collect(),
        on_event,
        interrupted: false,
        no_tree: opts.no_tree,
        unfrozen: Vec::new(),
        hurry,
        forcing: false,
    };
    for t in &plan.targets {
        let mut report = t.clone();
        report.signals.clear();
        engine.add(report, plan.pins.get(&t.pid));
    }
    if !engine.ctl.interrupted() {
        engine.run(&opts.sequence);
    } else {
        engine.interrupted = true;
        for i in engine.alive() {
            engine.end(i, Outcome::Survived);
        }
    }
    let targets: Vec<TargetReport> = engine.targets.iter().map(|t| t.report.clone()).collect();
    let survivors =
        targets.iter().filter(|t| matches!(t.outcome, Outcome::Survived | Outcome::Denied)).map(|t| t.pid).collect();
    KillReport { targets, survivors, interrupted: engine.interrupted, ..KillReport::default() }
}

#[cfg(test)]
mod tests {
    //! The engine against a fake process table: no real process is touched.
    use super::*;
    use crate::sys::fake::World as Fake;

    /// Pids far above any real one, so the real safety rails never apply to them.
    const BASE: u32 = 4_190_000;

    fn setup(n: u32) -> (Fake, Plan) {
        let mut fake = Fake { next_pid: BASE + 100, ..Fake::default() };
        let mut plan = Plan::default();
        for i in 0..n {
            let ppid = if i == 0 { 1 } else { BASE + i - 1 };
            let p = fake.add(BASE + i, ppid);
            plan.targets.push(target_report(&p, "root".into(), i == 0, Vec::new()));
        }
        (fake, plan)
    }

    fn opts(seq: &str) -> KillOptions {
        KillOptions { sequence: seq.parse().expect("sequence"), ..KillOptions::default() }
    }

    fn outcomes(r: &KillReport) -> Vec<Outcome> {
        r.targets.iter().map(|t| t.outcome).collect()
    }

    // A pid recycled between plan and signal must never receive anything.
    #[test]
    fn recycled_pid_is_gone_and_never_signalled() {
        let (mut fake, plan) = setup(1);
        fake.recycle.push(BASE);
        let r = execute_with(&mut fake, &plan, &opts("TERM:10ms,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Gone]);
        assert!(fake.log.is_empty(), "{:?}", fake.log);
        assert!(fake.procs[&BASE].alive);
        assert!(r.success());
    }

    #[test]
    fn graceful_exit_freezes_signals_then_continues() {
        let (mut fake, plan) = setup(2);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Exited]);
        let (stop, term, cont) = (sys::SIGSTOP, sys::SIGTERM, sys::SIGCONT);
        let sigs: Vec<i32> = fake.log.iter().map(|&(_, s)| s).collect();
        assert_eq!(sigs, [stop, stop, term, term, cont, cont]);
        assert_eq!(r.targets[0].signals, ["SIGTERM"]);
        assert!(r.success());
    }

    #[test]
    fn ignored_term_escalates_to_kill() {
        let (mut fake, plan) = setup(1);
        fake.procs.get_mut(&BASE).expect("proc").ignores.push(sys::SIGTERM);
        let mut ended = Vec::new();
        let r = execute_with(&mut fake, &plan, &opts("TERM:20ms,KILL:10ms"), &mut |e| {
            if let Event::Ended(t) = e {
                ended.push(t.pid);
            }
        });
        assert_eq!(outcomes(&r), [Outcome::Killed]);
        assert_eq!(r.targets[0].signals, ["SIGTERM", "SIGKILL"]);
        assert!(r.targets[0].elapsed_ms.expect("elapsed") >= 20);
        assert_eq!(ended, [BASE]);
    }

    #[test]
    fn hurry_cuts_the_graceful_wait_short_with_sigkill() {
        // Both ignore SIGTERM; the sequence would wait 60 s and then send INT, which they
        // ignore too: hurry (set at the first progress report) must end them with SIGKILL.
        let (mut fake, plan) = setup(2);
        for p in fake.procs.values_mut() {
            p.ignores.extend([sys::SIGTERM, sys::SIGINT]);
        }
        let hurry = AtomicBool::new(false);
        let start = Instant::now();
        let r = run_engine(&mut fake, &plan, &opts("TERM:60s,INT:60s"), Some(&hurry), &mut |e| {
            if let Event::Waiting { .. } = e {
                hurry.store(true, Ordering::Relaxed);
            }
        });
        assert_eq!(outcomes(&r), [Outcome::Killed, Outcome::Killed]);
        assert_eq!(r.targets[0].signals, ["SIGTERM", "SIGKILL"]);
        assert!(start.elapsed() < Duration::from_secs(30), "the 60 s wait was not cut short");
        assert!(!fake.log.iter().any(|&(_, s)| s == sys::SIGINT), "the rest of the sequence is skipped");
    }

    #[test]
    fn child_forked_during_the_freeze_is_stopped_and_signalled() {
        let (mut fake, plan) = setup(1);
        fake.fork_on_stop.push(BASE);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        let child = BASE + 100;
        assert_eq!(r.targets.len(), 2);
        assert_eq!(r.targets[1].pid, child);
        assert!(!r.targets[1].matched);
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Exited]);
        // The child was stopped before anyone got SIGTERM.
        let first_term = fake.log.iter().position(|&(_, s)| s == sys::SIGTERM).expect("a TERM");
        assert!(fake.log[..first_term].contains(&(child, sys::SIGSTOP)), "{:?}", fake.log);
        assert!(!fake.procs[&child].alive);
    }

    // The engine checks what it finds while killing with the plan's rails: a container
    // runtime's port proxy forked under a target is left alone, as the plan leaves it.
    #[test]
    fn a_port_proxy_found_while_killing_is_never_signalled() {
        let (mut fake, plan) = setup(1);
        fake.child_name = "rootlessport".into();
        fake.fork_on_stop.push(BASE);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        let proxy = BASE + 100;
        assert_eq!(fake.procs[&proxy].name, "rootlessport");
        assert_eq!(r.targets.iter().map(|t| t.pid).collect::<Vec<_>>(), [BASE], "{r:?}");
        assert!(!fake.log.iter().any(|&(pid, _)| pid == proxy), "{:?}", fake.log);
        assert!(fake.procs[&proxy].alive);
        assert_eq!(outcomes(&r), [Outcome::Exited]);
    }

    // The owner rule holds for descendants found while killing.
    #[test]
    fn another_users_process_found_while_killing_is_never_signalled() {
        let (mut fake, mut plan) = setup(1);
        plan.owner = Some(0);
        fake.caller = 1001; // what forks now is uid 1001's
        fake.fork_on_stop.push(BASE);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(r.targets.len(), 1, "{r:?}");
        assert!(fake.procs[&(BASE + 100)].alive);
    }

    #[test]
    fn no_tree_never_adds_descendants() {
        let (mut fake, plan) = setup(1);
        fake.fork_on_stop.push(BASE);
        let o = KillOptions { no_tree: true, ..opts("TERM:1s") };
        let r = execute_with(&mut fake, &plan, &o, &mut |_| {});
        assert_eq!(r.targets.len(), 1);
        assert!(fake.procs[&(BASE + 100)].alive);
    }

    #[test]
    fn denied_is_reported_and_counts_as_a_survivor() {
        let (mut fake, plan) = setup(2);
        fake.procs.get_mut(&(BASE + 1)).expect("proc").denied = true;
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Denied]);
        assert_eq!(r.survivors, [BASE + 1]);
        assert!(!r.success());
    }

    #[test]
    fn interrupt_continues_everything_that_was_stopped() {
        let (mut fake, plan) = setup(2);
        // Interrupted once both are stopped, before the step's signal.
        fake.interrupt_after_signals = Some(2);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert!(r.interrupted);
        assert_eq!(outcomes(&r), [Outcome::Survived, Outcome::Survived]);
        assert!(fake.procs.values().all(|p| p.alive && !p.stopped), "{:?}", fake.log);
        assert!(!fake.log.iter().any(|&(_, s)| s == sys::SIGTERM));
        assert!(!r.success());
    }

    #[test]
    fn survivor_of_a_sequence_without_kill() {
        let (mut fake, plan) = setup(1);
        fake.procs.get_mut(&BASE).expect("proc").ignores.push(sys::SIGTERM);
        let r = execute_with(&mut fake, &plan, &opts("TERM:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Survived]);
        assert_eq!(r.survivors, [BASE]);
        assert!(!fake.procs[&BASE].stopped, "left stopped");
    }

    #[test]
    fn a_stopped_target_whose_signal_fails_is_continued() {
        let (mut fake, plan) = setup(1);
        fake.refuse = Some(sys::SIGTERM);
        let r = execute_with(&mut fake, &plan, &opts("TERM:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Survived]);
        assert!(!fake.procs[&BASE].stopped, "left stopped: {:?}", fake.log);
        assert_eq!(fake.log.last(), Some(&(BASE, sys::SIGCONT)));
    }

    // Regression: the plan found its target gone when it pinned it; another
    // process then took the pid within the same clock tick (same start time). Re-opening by
    // pid and start time would have signalled it; the pin never does.
    #[test]
    fn pinned_gone_at_plan_time_is_never_signalled_even_with_the_same_start_time() {
        let (mut fake, mut plan) = setup(1);
        plan.pins.insert(BASE, Pin::Gone);
        let r = execute_with(&mut fake, &plan, &opts("TERM:10ms,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Gone]);
        assert!(fake.log.is_empty(), "{:?}", fake.log);
        assert!(fake.procs[&BASE].alive);
    }

    /// `n` targets, the first a namespace's init whose SIGTERM the kernel drops, ended with
    /// `seq` (whose first step waits 10 s): it must not have waited that step out.
    fn term_dropped_for_base(n: u32, seq: &str) -> (Fake, KillReport) {
        let (mut fake, plan) = setup(n);
        fake.drops.push((BASE, sys::SIGTERM));
        let started = Instant::now();
        let r = execute_with(&mut fake, &plan, &opts(seq), &mut |_| {});
        assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
        (fake, r)
    }

    // Regression: a namespace's init without a TERM handler never gets
    // SIGTERM; the engine waited the whole timeout for it and said nothing.
    #[test]
    fn a_dropped_signal_is_noted_and_the_next_step_sent_at_once() {
        let (fake, r) = term_dropped_for_base(2, "TERM:10s,KILL:10ms");
        assert_eq!(outcomes(&r), [Outcome::Killed, Outcome::Exited]);
        assert_eq!(r.targets[0].signals, ["SIGKILL"]);
        assert_eq!(r.targets[1].signals, ["SIGTERM"]);
        let note = r.targets[0].note.as_deref().expect("a note");
        assert!(note.contains(&format!("pid {BASE} is the init of its own PID namespace")), "{note}");
        assert!(note.contains("SIGKILL was sent at once"), "{note}");
        assert!(!fake.log.contains(&(BASE, sys::SIGTERM)), "{:?}", fake.log);
        assert_eq!(r.targets[1].note, None);
    }

    #[test]
    fn a_sequence_whose_every_signal_is_dropped_does_not_wait_for_nothing() {
        let (_, r) = term_dropped_for_base(1, "TERM:10s");
        assert_eq!(outcomes(&r), [Outcome::Survived]);
        assert!(r.targets[0].note.as_deref().is_some_and(|n| n.contains("the sequence cannot end it")), "{r:?}");
    }

    // Regression: a child forked while a step waits (a SIGTERM handler
    // re-forking a worker) got only the next step's signal, or none if the step was the last.
    #[test]
    fn a_child_forked_during_the_grace_period_gets_the_same_step() {
        let (mut fake, plan) = setup(1);
        fake.procs.get_mut(&BASE).expect("proc").ignores.push(sys::SIGTERM);
        fake.fork_on_delivery.push(BASE);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        let child = BASE + 100;
        let t = r.targets.iter().find(|t| t.pid == child).expect("the child is a target");
        assert_eq!(t.signals, ["SIGTERM"], "{r:?}");
        assert_eq!(t.outcome, Outcome::Exited);
        assert_eq!(r.targets[0].signals, ["SIGTERM", "SIGKILL"]);
        // It was frozen before it got SIGTERM.
        let term = fake.log.iter().position(|&x| x == (child, sys::SIGTERM)).expect("TERM");
        assert!(fake.log[..term].contains(&(child, sys::SIGSTOP)), "{:?}", fake.log);
        assert!(!fake.procs[&child].stopped);
    }

    // The last step is repeated for newcomers to a fixed point, bounded by time, not by count.
    #[test]
    fn children_forked_during_the_last_step_get_it_to_a_fixed_point() {
        let (mut fake, plan) = setup(1);
        fake.procs.get_mut(&BASE).expect("proc").ignores.push(sys::SIGTERM);
        // Five generations, each forking the next when signalled, each ignoring SIGTERM.
        fake.inherit_ignores = true;
        fake.fork_on_delivery.push(BASE);
        for k in 0..4 {
            fake.fork_on_delivery.push(BASE + 100 + k);
        }
        let r = execute_with(&mut fake, &plan, &opts("TERM:50ms"), &mut |_| {});
        assert_eq!(r.targets.len(), 6, "{r:?}");
        assert!(r.targets.iter().all(|t| t.signals == ["SIGTERM"]), "{r:?}");
    }

    // Where nothing can freeze quietly (ptrace refused), a tree that does not grow is signalled
    // without SIGSTOP: the parent's shell must not see its job `Stopped` for nothing.
    #[test]
    fn a_static_tree_that_cannot_be_frozen_quietly_is_never_sigstopped() {
        let (mut fake, plan) = setup(2);
        fake.loud_only = true;
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Exited]);
        let sigs: Vec<i32> = fake.log.iter().map(|&(_, s)| s).collect();
        assert_eq!(sigs, [sys::SIGTERM, sys::SIGTERM], "{:?}", fake.log);
    }

    // The portable backend (macOS): a static tree with children is stopped all the same, root
    // first, and continued after its signal; lone processes are not.
    #[test]
    fn a_backend_that_freezes_every_tree_sigstops_a_static_tree_and_not_a_lone_process() {
        let (mut fake, plan) = setup(2);
        fake.loud_only = true;
        fake.every_tree = true;
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Exited]);
        let first_term = fake.log.iter().position(|&(_, s)| s == sys::SIGTERM).expect("a TERM");
        assert_eq!(fake.log[..first_term], [(BASE, sys::SIGSTOP), (BASE + 1, sys::SIGSTOP)], "{:?}", fake.log);
        for pid in [BASE, BASE + 1] {
            assert!(fake.log[first_term..].contains(&(pid, sys::SIGCONT)), "{pid}: {:?}", fake.log);
        }

        let (mut fake, plan) = setup(1);
        fake.loud_only = true;
        fake.every_tree = true;
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited]);
        assert_eq!(fake.log, [(BASE, sys::SIGTERM)]);
    }

    // A SIGSTOPped tree: a parent that ends while its children are still stopped leaves them to
    // the kernel's SIGHUP (POSIX job control). So the KILL goes to children first, and the thaw
    // after a graceful signal continues children first: each dies of the signal reaper chose.
    #[test]
    fn a_sigstopped_tree_is_signalled_and_continued_children_first() {
        for (seq, ignore_term, died_of, outcome) in [
            ("TERM:1s,KILL:10ms", false, sys::SIGTERM, Outcome::Exited),
            ("TERM:10ms,KILL:1s", true, sys::SIGKILL, Outcome::Killed),
        ] {
            let (mut fake, plan) = setup(3);
            fake.loud_only = true;
            fake.every_tree = true;
            fake.orphan_hup = true;
            if ignore_term {
                for p in fake.procs.values_mut() {
                    p.ignores.push(sys::SIGTERM);
                }
            }
            let r = execute_with(&mut fake, &plan, &opts(seq), &mut |_| {});
            assert_eq!(outcomes(&r), [outcome; 3], "{seq}: {:?}", fake.log);
            for pid in [BASE, BASE + 1, BASE + 2] {
                assert_eq!(fake.procs[&pid].died_of, Some(died_of), "{seq}: {pid}: {:?}", fake.log);
            }
        }
    }

    #[test]
    fn a_growing_tree_that_cannot_be_frozen_quietly_is_sigstopped() {
        let (mut fake, plan) = setup(2);
        fake.loud_only = true;
        fake.fork_on_scan.push(BASE + 1);
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        let child = BASE + 100;
        assert_eq!(r.targets.len(), 3);
        assert_eq!(outcomes(&r), [Outcome::Exited, Outcome::Exited, Outcome::Exited]);
        let first_term = fake.log.iter().position(|&(_, s)| s == sys::SIGTERM).expect("a TERM");
        for pid in [BASE, BASE + 1, child] {
            assert!(fake.log[..first_term].contains(&(pid, sys::SIGSTOP)), "{pid}: {:?}", fake.log);
            assert!(fake.log[first_term..].contains(&(pid, sys::SIGCONT)), "{pid}: {:?}", fake.log);
        }
    }

    // Scale: a kill reads the whole process table (a tree scan) a bounded number of times per
    // round, never once per process: 2000 targets, a quarter of which fork a child at the
    // first scan (a tree growing while it is frozen) and another quarter when they get SIGTERM
    // (found by the next step's scan). Reading the table per process would be 2000 reads a
    // round, each of them a pass over the whole table (O(n²)).
    #[test]
    fn a_kill_of_a_large_growing_tree_reads_the_table_a_bounded_number_of_times_per_round() {
        const N: u32 = 2000;
        let mut fake = Fake { next_pid: BASE + 10_000, ..Fake::default() };
        let mut plan = Plan::default();
        for i in 0..N {
            let p = fake.add(BASE + i, if i == 0 { 1 } else { BASE });
            plan.targets.push(target_report(&p, "root".into(), i == 0, Vec::new()));
        }
        for p in fake.procs.values_mut() {
            p.ignores.push(sys::SIGTERM);
        }
        fake.fork_on_scan = (BASE + 1..=BASE + N / 4).collect();
        fake.fork_on_delivery = (BASE + N / 4 + 1..=BASE + N / 2).collect();
        let r = execute_with(&mut fake, &plan, &opts("TERM:50ms,KILL:1s"), &mut |_| {});
        assert_eq!(r.targets.len(), (N + N / 2) as usize, "every newcomer is a target");
        assert!(r.success(), "{:?}", r.survivors);
        assert!(fake.procs.values().all(|p| !p.alive), "nothing escapes");
        // A round: one of the sequence's steps (its freeze), or one wait of the engine (and the
        // rescan that may follow it).
        let (reads, rounds) = (fake.table_reads.get(), fake.waits + 2);
        assert!(reads <= 3 * rounds, "{reads} reads of the table in {rounds} rounds");
    }

    // The platform hears when a step has sent every target its signal, before the thaw (Windows
    // ends its Job Object there): also when the thaw finds every target ended, and no wait
    // follows to tell it later.
    #[test]
    fn the_platform_hears_when_a_step_has_signalled_every_target() {
        let (mut fake, plan) = setup(3);
        fake.loud_only = true;
        fake.every_tree = true;
        let r = execute_with(&mut fake, &plan, &opts("KILL:1s"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Killed; 3]);
        let sigs: Vec<i32> = fake.log.iter().map(|&(_, s)| s).collect();
        let (stop, kill) = (sys::SIGSTOP, sys::SIGKILL);
        assert_eq!(sigs, [stop, stop, stop, kill, kill, kill], "{:?}", fake.log);
        assert_eq!(fake.all_signalled, [6], "once, after the three SIGKILLs");
        assert_eq!(fake.waits, 0, "the step's targets were all found ended: no wait");
    }

    // A job stopped with Ctrl-Z before reaper came does not act on SIGTERM until continued.
    #[test]
    fn a_target_stopped_by_job_control_is_continued_after_its_signal() {
        let (mut fake, plan) = setup(1);
        fake.loud_only = true;
        fake.procs.get_mut(&BASE).expect("proc").stopped = true;
        let r = execute_with(&mut fake, &plan, &opts("TERM:1s,KILL:10ms"), &mut |_| {});
        assert_eq!(outcomes(&r), [Outcome::Exited]);
        assert_eq!(fake.log, [(BASE, sys::SIGTERM), (BASE, sys::SIGCONT)]);
    }
}
