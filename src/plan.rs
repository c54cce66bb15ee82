//! The kill plan: which processes `reaper kill` will signal. Matches from [`select::find`], plus
//! every descendant (unless `--no-tree`), minus what the safety rails protect. Each target
//! carries its identity (pid + start time), so that nothing signals a recycled pid later.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::kill::KillOptions;
use crate::report::{Outcome, TargetReport};
pub use crate::report::{Skipped, Supervisor};
use crate::select::{self, Selection};
use crate::snapshot::{Process, Snapshot, Socket};
use crate::sys;

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
    /// Live parents of targets that are not targets themselves.
    pub supervisors: Vec<Supervisor>,
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

/// `p` skipped for `why`; `flag` names the option that would include it.
fn skipped(snap: &mut Snapshot, p: &Process, why: impl Into<String>, flag: Option<&str>, matched: bool) -> Skipped {
    Skipped {
        pid: p.pid,
        name: p.name.clone(),
        cmdline: p.cmdline.clone().unwrap_or_default(),
        user: snap.user_name(p.uid),
        why: why.into(),
        flag: flag.map(str::to_string),
        matched,
        running: true,
        start_ticks: p.start_ticks,
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
    crate::sys::check_own_proc()?; // pids from a /proc of another PID namespace name other processes
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
        let Some(p) = snap.process(pid).cloned() else { continue };
        if let Some(why) = rails.protects(&p) {
            out.skipped.push(skipped(snap, &p, why, None, true));
        } else if own_only && p.uid != caller {
            let why = format!("it belongs to {} (uid {}), and the selector is broad", snap.user_name(p.uid), p.uid);
            out.skipped.push(skipped(snap, &p, why, Some("--all-users"), true));
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
            out.skipped.push(skipped(snap, &p, why, None, false));
            continue;
        }
        let user = snap.user_name(p.uid);
        out.targets.push(target_report(&p, user, matched, signals.clone()));
    }
    out.supervisors = supervisors(snap, &out.targets, &rails);
    Ok(out)
}

/// The live parents of `targets` that are not targets: whoever may start them again. PID 1 and
/// kernel threads are left out (every orphan's parent is PID 1; see the README for services),
/// and so are reaper's own ancestors: the shell or program running reaper is busy running it,
/// not restarting what reaper ends.
fn supervisors(snap: &mut Snapshot, targets: &[TargetReport], rails: &Rails) -> Vec<Supervisor> {
    let pids: HashSet<u32> = targets.iter().map(|t| t.pid).collect();
    let mut out: Vec<Supervisor> = Vec::new();
    for t in targets.iter().filter(|t| t.ppid > 1 && !pids.contains(&t.ppid) && !rails.ancestors.contains(&t.ppid)) {
        if let Some(s) = out.iter_mut().find(|s| s.pid == t.ppid) {
            s.children.push(t.pid);
            continue;
        }
        snap.load_processes([t.ppid]);
        snap.load_details([t.ppid]);
        let Some(p) = snap.process(t.ppid).filter(|p| !p.kernel_thread && !p.is_zombie()) else {
            continue;
        };
        out.push(Supervisor {
            pid: p.pid,
            name: p.name.clone(),
            cmdline: p.cmdline.clone().unwrap_or_default(),
            children: vec![t.pid],
        });
    }
    out
}
