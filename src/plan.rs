//! The kill plan: which processes `reaper kill` will signal. Matches from [`select::find`], plus
//! every descendant (unless `--no-tree`), minus what the safety rails protect. Each target
//! carries its identity (pid + start time), so that nothing signals a recycled pid later.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::kill::KillOptions;
use crate::report::{Outcome, TargetReport};
use crate::select::{self, Selection};
use crate::snapshot::{Process, Snapshot, Socket};
use crate::sys;

/// A process the plan leaves alone, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// Process id.
    pub pid: u32,
    /// Kernel name.
    pub name: String,
    /// Which rule protects it.
    pub why: String,
}

/// A kill plan: built by [`plan`], carried out by [`crate::kill::execute`].
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The targets, with their identities, in the report's shape (outcome `planned`), parents
    /// before children.
    pub targets: Vec<TargetReport>,
    /// Matches (or descendants) the safety rails protect, or that belong to another user.
    pub skipped: Vec<Skipped>,
    /// Matching sockets whose holder is not visible (another user's, when not root).
    pub unresolved: Vec<Socket>,
    /// The targets pinned as the plan read them, by pid. A target without an entry (no pidfds
    /// on this platform, or out of file descriptors) is pinned by pid and start time when the
    /// plan is executed.
    pub pins: HashMap<u32, Pin>,
}

/// A target pinned when the plan read it: whatever happens before the plan is executed (a
/// y/N prompt), nothing reaches another process that took its pid, not even one started
/// within the same clock tick (the start time alone could not tell them apart).
#[derive(Clone, Debug)]
pub enum Pin {
    /// A handle on exactly that process: on Linux a pidfd, opened and then checked against the
    /// start time the snapshot read.
    Held(Arc<sys::PinHandle>),
    /// It had exited, or its pid belonged to another process, when it was pinned.
    Gone,
}

/// The safety rails: processes reaper never signals, whatever matches them.
#[derive(Clone, Debug, Default)]
pub struct Rails {
    me: u32,
    ancestors: HashSet<u32>,
    my_exe: Option<PathBuf>,
}

impl Rails {
    /// The rails for this process: itself, its ancestors (read now), PID 1, kernel threads and
    /// other reaper processes.
    pub fn current() -> Rails {
        let me = sys::self_pid();
        let mut ancestors = HashSet::new();
        let mut cur = sys::read_process(me).map(|p| p.ppid);
        while let Some(pid) = cur.filter(|&p| p != 0 && ancestors.insert(p)) {
            cur = sys::read_process(pid).map(|p| p.ppid);
        }
        Rails { me, ancestors, my_exe: std::env::current_exe().ok() }
    }

    /// Why `p` must not be signalled, or `None` when it may be.
    pub fn protects(&self, p: &Process) -> Option<&'static str> {
        if p.pid == 1 {
            Some("it is PID 1, the init of this PID namespace")
        } else if p.kernel_thread {
            Some("it is a kernel thread")
        } else if p.pid == self.me {
            Some("it is reaper itself")
        } else if self.ancestors.contains(&p.pid) {
            Some("it is an ancestor of reaper (the shell or script running it)")
        } else if p.name == "reaper" || (p.exe.is_some() && p.exe == self.my_exe) {
            Some("it is another reaper process")
        } else {
            None
        }
    }
}

/// The report entry of a target, outcome `planned`.
pub(crate) fn target_report(p: &Process, user: String, matched: bool, signals: Vec<String>) -> TargetReport {
    TargetReport {
        pid: p.pid,
        ppid: p.ppid,
        name: p.name.clone(),
        cmdline: p.cmdline.clone().unwrap_or_default(),
        user,
        outcome: Outcome::Planned,
        signals,
        elapsed_ms: None,
        matched,
        note: None,
        start_ticks: p.start_ticks,
        uid: p.uid,
    }
}

/// Builds the plan for `sel`: the matches, their descendants unless `opts.no_tree`, without
/// the processes the [`Rails`] protect. Broad selectors ([`Selection::is_broad`]) only match
/// the caller's own processes unless `opts.all_users` or a `--user` selector says otherwise.
///
/// Errors: an empty selection ([`Error::Usage`]); a `--pid` that names a protected process,
/// such as 1 ([`Error::Refused`]).
pub fn plan(sel: &Selection, snap: &mut Snapshot, opts: &KillOptions) -> Result<Plan> {
    if sel.is_empty() {
        return Err(Error::Usage(
            "kill needs a selector (--port, --signature, --name, --pid, ...): it never means every process".into(),
        ));
    }
    let rails = Rails::current();
    snap.load_processes(sel.pids.iter().copied());
    snap.load_details(sel.pids.iter().copied());
    for &pid in &sel.pids {
        let why = if pid == 1 { Some("it is PID 1, the init of this PID namespace") } else { None };
        if let Some(why) = why.or_else(|| snap.process(pid).and_then(|p| rails.protects(p))) {
            return Err(Error::Refused { what: format!("pid {pid}"), why: why.into() });
        }
    }
    let matches = select::find(sel, snap)?;
    let mut out = Plan { unresolved: matches.unresolved, ..Plan::default() };
    let own_only = sel.is_broad() && !opts.all_users && sel.users.is_empty();
    let caller = sys::caller_uid();
    let signals: Vec<String> = opts.sequence.steps.iter().map(|s| s.signal.name()).collect();

    // Matched roots first, with the rails and the owner rule applied.
    let mut roots = Vec::new();
    snap.load_details(matches.pids.iter().copied());
    for &pid in &matches.pids {
        let Some(p) = snap.process(pid) else { continue };
        if let Some(why) = rails.protects(p) {
            out.skipped.push(Skipped { pid, name: p.name.clone(), why: why.into() });
        } else if own_only && p.uid != caller {
            let why = format!("it belongs to uid {} (pass --all-users or --user to include it)", p.uid);
            out.skipped.push(Skipped { pid, name: p.name.clone(), why });
        } else {
            roots.push(pid);
        }
    }
    // Then every descendant of a root, parents before children.
    let mut chosen: Vec<(u32, bool)> = roots.iter().map(|&p| (p, true)).collect();
    if !opts.no_tree && !roots.is_empty() {
        // One cheap pass over every stat finds the trees; only their members are read in full.
        let tree = sys::scan_tree(&roots);
        snap.load_processes(tree.iter().map(|s| s.pid));
        let mut seen: HashSet<u32> = roots.iter().copied().collect();
        for s in tree {
            if seen.insert(s.pid) {
                chosen.push((s.pid, false));
            }
        }
        snap.load_details(chosen.iter().map(|&(p, _)| p));
    }
    for (pid, matched) in chosen {
        let Some(p) = snap.process(pid).cloned() else {
            continue;
        };
        if !matched && let Some(why) = rails.protects(&p) {
            out.skipped.push(Skipped { pid, name: p.name.clone(), why: why.into() });
            continue;
        }
        let user = snap.user_name(p.uid);
        if let Some(pin) = sys::pin(p.pid, p.start_ticks) {
            out.pins.insert(p.pid, pin);
        }
        out.targets.push(target_report(&p, user, matched, signals.clone()));
    }
    Ok(out)
}
