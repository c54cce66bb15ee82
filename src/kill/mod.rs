//! The kill engine: signals and waits. A [`Plan`] (see [`crate::plan`]) is carried out step by
//! step of the [`Sequence`], race-free:
//!
//! 1. every target is pinned by identity as the plan reads it (on Linux a pidfd, opened and then
//!    checked against the start time the snapshot read, carried by the plan as a [`Pin`]); a
//!    target that is gone, or whose pid was recycled meanwhile (even within one clock tick,
//!    while a y/N prompt waits), is `gone`, never signalled;
//! 2. each step first freezes the trees (every target, then every new descendant, to a fixed
//!    point), sends the step's signal, then lets them go, so a supervisor cannot respawn a child
//!    between two signals. On Linux the freeze is a ptrace-stop (`PTRACE_SEIZE` +
//!    `PTRACE_INTERRUPT`, see `sys::linux::freeze`): the parent shell is not told (no
//!    `[1]+ Stopped`, `$?` is the signal's), and if reaper dies, even by SIGKILL, the kernel
//!    resumes every process it froze. Where ptrace is refused (an already traced process,
//!    Yama), only SIGSTOP/SIGCONT are left, which the parent sees: they are used only when the
//!    trees grow between two reads (a tree that does not fork needs no freeze), and a target
//!    stopped by job control before reaper came is continued after its signal;
//! 3. it waits for exits on events (pidfds polled together with a signalfd), never with a sleep
//!    loop; a zombie is dead. Any signal that would end reaper by default (INT, TERM, HUP, USR1,
//!    ALRM, ...) is read from the signalfd instead: everything frozen is let go, the report says
//!    `interrupted`;
//! 4. while a step waits, the trees are scanned again (on exits, and every 250 ms):
//!    a descendant that appeared (a worker re-forked by a SIGTERM handler) is frozen and gets
//!    the current step at once, and the later steps with the others; after the last step this
//!    repeats to a fixed point, bounded by time;
//! 5. a target that is the init of its own PID namespace with no handler for the step's signal
//!    would never receive it (the kernel drops it): the report says so (`note`) and it gets the
//!    next step's signal at once instead of waiting the step out;
//! 6. finally the socket table is re-read for every port selector.
//!
//! Left open: a child forked by a target inside its own signal handler and reparented (its
//! parent exited) before the next scan is no descendant any more; only a cgroup (`reaper run`)
//! or tracing every fork could keep it.
//!
//! The OS is behind the [`Control`] trait so that the logic above is unit-tested with a fake.
//!
//! The room, by job: `control` (what the engine needs of the OS), `engine` (the steps above),
//! this module (the entry points: [`kill`], [`execute`]) and `tally` (outcomes counted).
//! [`KillOptions`] and the plan live in [`crate::plan`], re-exported here.

mod control;
mod engine;
mod tally;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::error::Result;
use crate::ports;
use crate::report::{CgroupState, KillReport, TargetReport};
use crate::select::Selection;
use crate::snapshot::Snapshot;
use crate::spec::{Sequence, Signal, cgroup_within};
use crate::sys;

pub use crate::plan::{DEFAULT_SETTLE, KillOptions, Pin, Plan, Skipped, plan};
pub use control::{Control, Seen, Sent, Unpinned, Waited};
pub use engine::{Event, execute_with};
pub use tally::tally;

/// The notes a dry run can give: signals of the sequence the kernel would drop.
fn plan_notes(targets: &mut [TargetReport], seq: &Sequence) {
    for t in targets {
        let dropped: Vec<String> = seq
            .steps
            .iter()
            .take_while(|s| sys::drops_signal(t.pid, s.signal.number()))
            .map(|s| s.signal.name())
            .collect();
        if !dropped.is_empty() {
            let instead = seq.steps.get(dropped.len()).map(|s| s.signal.name());
            t.note = Some(engine::dropped_note(t.pid, dropped, instead.as_deref(), true));
        }
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
    execute_hurried(plan, sel, opts, &AtomicBool::new(false), on_event)
}

/// [`execute`], with a way to cut the sequence short: once another thread sets `hurry`, the
/// step under way stops waiting and every target still alive gets SIGKILL at once (a person
/// who will not wait out the graceful period: the picker's force key).
pub fn execute_hurried(
    plan: &Plan,
    sel: &Selection,
    opts: &KillOptions,
    hurry: &AtomicBool,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<KillReport> {
    let mut report = if opts.dry_run {
        let mut targets = plan.targets.clone();
        plan_notes(&mut targets, &opts.sequence);
        KillReport { dry_run: true, targets, ..KillReport::default() }
    } else {
        let mut ctl = sys::Signaller::new();
        let mut report = engine::run_engine(&mut ctl, plan, opts, Some(hurry), on_event);
        // An interrupt that came after the engine's last look is still queued: count it, and
        // consume it, or restoring the signal mask would kill reaper before it reports.
        report.interrupted |= ctl.interrupted();
        report
    };
    report.strict = opts.strict;
    report.supervisors = plan.supervisors.clone();
    report.skipped = plan.skipped.clone();
    if !opts.dry_run {
        for s in &mut report.skipped {
            s.running = sys::read_process(s.pid).is_some_and(|p| p.start_ticks == s.start_ticks && !p.is_zombie());
        }
    }
    if !opts.dry_run && !report.interrupted {
        report.cgroups = finish_cgroups(sel, opts, &report);
    }
    report.ports = ports::state_in(&sel.ports, sel.proto, sel.all_netns)?;
    // Only selected ports can be retaken: without one there is nothing to watch.
    let watch = !opts.dry_run
        && !report.interrupted
        && !opts.settle.is_zero()
        && !plan.supervisors.is_empty()
        && !sel.ports.is_empty();
    if watch
        && report.ports.iter().all(|p| p.usable(opts.strict))
        && let Some(retaken) = ports::watch_retake_in(&sel.ports, sel.proto, opts.settle, sel.all_netns)?
    {
        report.ports = retaken;
    }
    Ok(report)
}

/// How long `kill --cgroup` waits for its cgroups to empty after the sequence.
const CGROUP_WAIT: Duration = Duration::from_secs(3);

/// After the sequence, each `--cgroup`: when the sequence ends with KILL, the cgroup is the whole
/// selection (no other selector narrows it) and processes are left, `cgroup.kill` ends them too
/// (forks in flight included), unless the cgroup holds reaper, one of its ancestors or a process
/// the plan skipped (another user's, a protected one): those it never signals. Then whether
/// the cgroup is empty.
fn finish_cgroups(sel: &Selection, opts: &KillOptions, report: &KillReport) -> Vec<CgroupState> {
    let whole = Selection { cgroups: Vec::new(), proto: None, any_state: false, ..sel.clone() };
    let forced = opts.sequence.steps.last().is_some_and(|s| s.signal == Signal::KILL)
        && whole.is_empty()
        && whole.excludes.is_empty()
        && !opts.no_tree;
    let mut spared = Vec::new(); // reaper, its ancestors, skipped processes still running
    let mut pid = sys::self_pid();
    while pid > 1 && spared.len() < 4096 {
        spared.push(pid);
        pid = sys::read_process(pid).map_or(0, |p| p.ppid);
    }
    spared.extend(report.skipped.iter().filter(|s| s.running).map(|s| s.pid));
    let spared_cgroups: Vec<String> = spared.iter().filter_map(|&p| sys::read_cgroup(p)).collect();
    sel.cgroups
        .iter()
        .map(|path| {
            let kill = forced && !spared_cgroups.iter().any(|c| cgroup_within(c, path));
            let (cgroup_kill, empty) = sys::finish_cgroup(path, kill, CGROUP_WAIT);
            CgroupState { path: path.clone(), cgroup_kill, empty }
        })
        .collect()
}

/// Plans and executes in one call: what `reaper kill` does.
pub fn kill(sel: &Selection, opts: &KillOptions, on_event: &mut dyn FnMut(Event<'_>)) -> Result<KillReport> {
    let mut snap = Snapshot::new();
    let plan = plan(sel, &mut snap, opts)?;
    execute(&plan, sel, opts, on_event)
}
