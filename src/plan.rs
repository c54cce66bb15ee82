//! The kill plan: which processes `reaper kill` will signal. Matches from [`select::find`], plus
//! every descendant (unless `--no-tree`), minus what the safety rails protect. Each target
//! carries its identity (pid + start time), so that nothing signals a recycled pid later.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::report::{Outcome, TargetReport};
pub use crate::report::{Skipped, Supervisor};
use crate::select::{self, Selection};
use crate::snapshot::{Process, Snapshot, Socket};
use crate::spec::Sequence;
use crate::sys::{self, ProcessTable, Source, System};

pub use crate::sys::Pin;

/// How to kill.
#[derive(Clone, Debug)]
pub struct KillOptions {
    /// The signal sequence.
    pub sequence: Sequence,
    /// Only the matched processes, not their descendants (`--no-tree`).
    pub no_tree: bool,
    /// Let broad selectors match other users' processes (`--all-users`).
    pub all_users: bool,
    /// Plan only.
    pub dry_run: bool,
    /// A port with only TIME_WAIT left counts as held (`--strict`): what a server that does not
    /// set `SO_REUSEADDR` needs.
    pub strict: bool,
    /// After the ports are free, how long to watch them for a supervisor that starts the
    /// holder again (`--settle`); only when the plan has [`crate::report::Supervisor`]s.
    /// Zero skips it.
    pub settle: Duration,
}

/// The default settle time: PM2 was measured re-binding 200-750 ms after its child died.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);

impl Default for KillOptions {
    fn default() -> KillOptions {
        KillOptions {
            sequence: Sequence::default(),
            no_tree: false,
            all_users: false,
            dry_run: false,
            strict: false,
            settle: DEFAULT_SETTLE,
        }
    }
}

/// A kill plan: built by [`plan`], carried out by the kill engine (`kill::execute`).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The targets, with their identities, in the report's shape (outcome `planned`), parents
    /// before children.
    pub targets: Vec<TargetReport>,
    /// Matches (or descendants) the safety rails protect, or that belong to another user.
    pub skipped: Vec<Skipped>,
    /// Matching sockets whose holder is not visible (another user's, when not root).
    pub unresolved: Vec<Socket>,
    /// Candidates whose environment `--env` could not read ([`crate::Matches::env_unreadable`]).
    pub env_unreadable: usize,
    /// The caller's processes whose environment `--env` could not check
    /// ([`crate::Matches::env_unchecked`]): not signalled, and the kill cannot be a success.
    pub env_unchecked: Vec<u32>,
    /// Live parents of targets that are not targets themselves.
    pub supervisors: Vec<Supervisor>,
    /// The owner rule: when set, only this uid's processes are targets, the descendants found
    /// while killing included (a broad selection without `--all-users` or `--user`).
    pub owner: Option<u32>,
    /// The targets pinned as the plan read them, by pid. A target without an entry (no pidfds
    /// on this platform, or out of file descriptors) is pinned by pid and start time when the
    /// plan is executed.
    pub pins: HashMap<u32, Pin>,
}

/// How many ports a selection may span and still name "a port": a wider one (`--port 1-65535`,
/// `--port 1024-65535`) is as broad as a pattern, and the owner rule applies to it. More than
/// the whole privileged range (1-1023) plus one is wide.
pub const NARROW_PORTS: u32 = 1024;

/// Whether the owner rule applies to `sel`: it names processes by something anyone can choose
/// ([`Selection::is_broad`]), or by ports so many ([`NARROW_PORTS`]) that they mean "whoever
/// listens", and no `--pid` narrows it.
pub fn is_broad(sel: &Selection) -> bool {
    sel.is_broad() || (sel.pids.is_empty() && ports_spanned(sel) > NARROW_PORTS)
}

/// The owner rule for `sel`: `caller` when only the caller's processes may be signalled (a
/// broad selection, [`is_broad`], without `--all-users` or `--user`), else `None`. `kill`
/// applies it to matches and descendants; `list` to what it shows as kill's preview.
pub fn owner_rule(sel: &Selection, all_users: bool, caller: u32) -> Option<u32> {
    (is_broad(sel) && !all_users && sel.users.is_empty()).then_some(caller)
}

/// How many distinct port numbers the `--port` selectors cover (ranges merged, whatever the
/// protocol).
fn ports_spanned(sel: &Selection) -> u32 {
    let mut ranges: Vec<(u32, u32)> =
        sel.ports.iter().map(|p| (u32::from(p.first.min(p.last)), u32::from(p.first.max(p.last)))).collect();
    ranges.sort_unstable();
    let mut total = 0;
    let mut upto = 0; // ports below this one are counted
    for (first, last) in ranges {
        let first = first.max(upto);
        if last >= first {
            total += last - first + 1;
            upto = last + 1;
        }
    }
    total
}

/// The safety rails: processes reaper never signals, whatever matches them.
#[derive(Clone, Debug, Default)]
pub struct Rails {
    me: u32,
    ancestors: HashSet<u32>,
    my_exe: Option<PathBuf>,
    /// Device and inode of our executable: what makes a process "another reaper".
    my_exe_id: Option<(u64, u64)>,
    /// Our process group, and the pipes on our stdin/stdout/stderr: our pipeline.
    pgid: Option<u32>,
    pipes: Vec<sys::PipeEnd>,
    /// The members of our process group in our pipeline, found when first needed.
    partners: std::sync::OnceLock<HashSet<u32>>,
    /// Where the walk up our ancestry stopped short of the root, when it did.
    gap: Option<Gap>,
    /// The owner rule ([`Rails::owner`]).
    owner: Option<u32>,
}

/// What is known when the ancestor walk cannot reach the root: an ancestor could not be read
/// (`/proc` mounted `hidepid=2` hides a root-owned `sudo` or `su` between the user's shell and
/// reaper; a non-dumpable process is hidden the same way), so its own ancestors are unknown.
#[derive(Clone, Copy, Debug)]
struct Gap {
    /// Start time of the last process of the chain that could be read (reaper itself, or an
    /// ancestor): an ancestor of the hidden part started no later than this.
    before: u64,
    /// Our session: the caller's shell, its session leader and whatever runs on our
    /// controlling terminal (a terminal belongs to one session) are in it.
    sid: u32,
}

/// Why a process is not signalled: the one place the safety rails are decided, for the plan
/// (matches and descendants), the kill engine (descendants found while killing), the CLI and
/// the picker (through the plan).
#[derive(Clone, Debug)]
pub enum Refusal {
    /// Never signalled, whatever names it: PID 1, a kernel thread, reaper itself or an
    /// ancestor (also one `/proc` may hide), another reaper process, reaper's pipeline.
    Protected(&'static str),
    /// Another user's process, and the selection is broad (the owner rule, [`Rails::owner`]).
    Foreign {
        /// Its uid.
        uid: u32,
    },
    /// A container runtime's port proxy (see [`crate::container::PortProxy`]): only `--pid`
    /// naming it lets it through.
    Proxy(crate::container::PortProxy),
}

impl Rails {
    /// The rails for this process: itself, its ancestors (read now), PID 1, kernel threads,
    /// other reaper processes and the partners of its pipeline.
    pub fn current() -> Rails {
        Rails::of(&sys::System)
    }

    /// The rails of the reaper process that `src` says runs (its [`ProcessTable::self_pid`]).
    pub fn of(src: &dyn ProcessTable) -> Rails {
        let me = src.self_pid();
        let mut ancestors = HashSet::new();
        let myself = src.read_process(me);
        let mut last = myself.as_ref().map(|p| p.start_ticks);
        let mut cur = myself.as_ref().map(|p| p.ppid);
        let mut gap = None;
        while let Some(pid) = cur.filter(|&p| p != 0 && ancestors.insert(p)) {
            match src.read_process(pid) {
                Some(p) => {
                    cur = Some(p.ppid);
                    last = Some(p.start_ticks);
                }
                None => {
                    gap = last.zip(myself.as_ref()).map(|(before, m)| Gap { before, sid: m.sid });
                    cur = None;
                }
            }
        }
        Rails {
            me,
            ancestors,
            my_exe: std::env::current_exe().ok(),
            my_exe_id: src.exe_identity(me),
            pgid: myself.map(|p| p.pgid),
            pipes: src.own_pipe_ends(),
            partners: std::sync::OnceLock::new(),
            gap,
            owner: None,
        }
    }

    /// These rails with the owner rule: only `owner`'s processes may be signalled.
    pub fn with_owner(mut self, owner: Option<u32>) -> Rails {
        self.owner = owner;
        self
    }

    /// The owner rule: when set, only this uid's processes may be signalled.
    pub fn owner(&self) -> Option<u32> {
        self.owner
    }

    /// Why `p` must not be signalled, or `None` when it may be: the rails ([`Rails::protects`]),
    /// then the owner rule, then the port-proxy rule (which `named`, `--pid` naming `p`, lifts).
    /// `src` is where the rails read what they need of other processes.
    pub fn refusal(&self, src: &dyn ProcessTable, p: &Process, named: bool) -> Option<Refusal> {
        if let Some(why) = self.protected(src, p) {
            Some(Refusal::Protected(why))
        } else if self.owner.is_some_and(|uid| p.uid != uid) {
            Some(Refusal::Foreign { uid: p.uid })
        } else if named {
            None
        } else {
            crate::container::port_proxy(p).map(Refusal::Proxy)
        }
    }

    /// Why `p` must not be signalled whatever names it, or `None`: the rails without the owner
    /// and port-proxy rules (see [`Rails::refusal`]).
    pub fn protects(&self, p: &Process) -> Option<&'static str> {
        self.protected(&sys::System, p)
    }

    fn protected(&self, src: &dyn ProcessTable, p: &Process) -> Option<&'static str> {
        if p.pid == 1 {
            Some("it is PID 1, the init of this PID namespace")
        } else if p.kernel_thread {
            Some("it is a kernel thread")
        } else if p.pid == self.me {
            Some("it is reaper itself")
        } else if self.ancestors.contains(&p.pid) {
            Some("it is an ancestor of reaper (the shell or script running it)")
        } else if self.may_be_hidden_ancestor(p) {
            Some(
                "it may be an ancestor of reaper: /proc hides part of reaper's ancestry (hidepid, or a non-dumpable \
                 process), and it is in reaper's session and older than the hidden part",
            )
        } else if self.is_reaper(src, p) {
            Some("it is another reaper process (it runs the same executable)")
        } else if self.is_pipeline_partner(src, p) {
            Some(
                "it is in reaper's own pipeline (it reads reaper's output or writes its input, directly or through other stages)",
            )
        } else {
            None
        }
    }

    /// Whether `p` cannot be ruled out as an ancestor beyond the part of our ancestry that
    /// could not be read: it is in our session (the caller's shell, the session leader, what
    /// runs on our terminal) and started no later than the last ancestor read.
    fn may_be_hidden_ancestor(&self, p: &Process) -> bool {
        self.gap.is_some_and(|g| p.sid == g.sid && p.start_ticks <= g.before)
    }

    /// Whether `p` runs our executable: the same file (device and inode), which a process can
    /// only get by executing it; a name (`prctl(PR_SET_NAME)`, argv[0]) anyone can set. Where
    /// file identities are not available, the same path.
    fn is_reaper(&self, src: &dyn ProcessTable, p: &Process) -> bool {
        match self.my_exe_id {
            Some(id) => src.exe_identity(p.pid) == Some(id),
            None => p.exe.is_some() && p.exe == self.my_exe,
        }
    }

    /// Whether `p` is a member of our process group in our pipeline ([`sys::pipeline_partners`]):
    /// `tee` and `cat` in `reaper kill --orphans | tee log | cat`. Members that merely share the
    /// pipe we write to (a script's background job writing to the same log) are not partners:
    /// without job control a script's background jobs are in its process group. The members
    /// are read once, and only when reaper's stdio has a pipe and `p` is in its group.
    fn is_pipeline_partner(&self, src: &dyn ProcessTable, p: &Process) -> bool {
        if self.pipes.is_empty() || self.pgid != Some(p.pgid) {
            return false;
        }
        self.partners
            .get_or_init(|| {
                let members: Vec<u32> = src.group_members(p.pgid).into_iter().filter(|&pid| pid != self.me).collect();
                src.pipeline_partners(&self.pipes, &members).into_iter().collect()
            })
            .contains(&p.pid)
    }
}

/// `p` skipped for `why`; `flag` names the option that would include it.
fn skipped<S: Source>(
    snap: &mut Snapshot<S>,
    p: &Process,
    why: impl Into<String>,
    flag: Option<&str>,
    matched: bool,
) -> Skipped {
    Skipped {
        pid: p.pid,
        name: p.name.clone(),
        cmdline: p.cmdline.clone().unwrap_or_default(),
        user: snap.user_name(p.uid),
        why: why.into(),
        flag: flag.map(str::to_string),
        matched,
        running: true,
        stop: None,
        start_ticks: p.start_ticks,
    }
}

/// `p` skipped because it is a container runtime's port proxy (see
/// [`crate::container::PortProxy`]): only `--pid` names it for a signal. The reason names the
/// container it serves and how to stop that instead.
fn skipped_proxy<S: Source>(
    snap: &mut Snapshot<S>,
    p: &Process,
    proxy: &crate::container::PortProxy,
    matched: bool,
) -> Skipped {
    let flag = format!("--pid {}", p.pid);
    Skipped { stop: Some(proxy.stop_command()), ..skipped(snap, p, proxy.reason(), Some(&flag), matched) }
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
        origin: None,
        start_ticks: p.start_ticks,
        uid: p.uid,
    }
}

/// Builds the plan for `sel`: the matches, their descendants unless `opts.no_tree`, without
/// the processes the [`Rails`] protect. Broad selections ([`is_broad`]) only target the
/// caller's own processes, matches and descendants alike, unless `opts.all_users` or a
/// `--user` selector says otherwise.
///
/// Errors: an empty selection ([`Error::Usage`]); a `--pid` that names a protected process,
/// such as 1, or a thread rather than a process ([`Error::Refused`]).
pub fn plan(sel: &Selection, snap: &mut Snapshot, opts: &KillOptions) -> Result<Plan> {
    plan_in(sel, snap, opts, &mut Origins)
}

/// What the plan asks about where a process comes from. The real answers read the system
/// ([`crate::origin`]); the plan's unit tests give their own.
pub(crate) trait Provenance<S> {
    /// Where `pid` comes from (see [`crate::origin::explain`]).
    fn explain(&mut self, snap: &mut Snapshot<S>, pid: u32) -> Option<crate::origin::Origin>;
    /// Whether `p` is an interactive shell on a terminal: it waits for its job and never
    /// starts it again (see [`crate::origin::is_interactive_shell`]).
    fn is_interactive_shell(&self, p: &Process) -> bool;
}

/// The real provenance: [`crate::origin`] on this system.
struct Origins;

impl Provenance<System> for Origins {
    fn explain(&mut self, snap: &mut Snapshot, pid: u32) -> Option<crate::origin::Origin> {
        crate::origin::explain(snap, pid)
    }

    fn is_interactive_shell(&self, p: &Process) -> bool {
        crate::origin::is_interactive_shell(p)
    }
}

/// [`plan`] on a snapshot of any source, with the provenance `prov` gives.
pub(crate) fn plan_in<S: Source>(
    sel: &Selection,
    snap: &mut Snapshot<S>,
    opts: &KillOptions,
    prov: &mut impl Provenance<S>,
) -> Result<Plan> {
    snap.source().check_own_proc()?; // pids from a /proc of another PID namespace name other processes
    if sel.is_empty() {
        return Err(Error::Usage(
            "kill needs a selector (--port, --signature, --name, --pid, ...): it never means every process".into(),
        ));
    }
    let rails = Rails::of(snap.source());
    snap.load_processes(sel.pids.iter().copied());
    snap.load_details(sel.pids.iter().copied());
    for &pid in &sel.pids {
        // /proc/TID answers for a thread although it is not listed: it is not a process.
        if let Some(tgid) = snap.source().thread_group(pid).filter(|&t| t != pid) {
            let why = format!("{pid} is a thread of {tgid}, not a process (--pid {tgid} names the process)");
            return Err(Error::Refused { what: format!("pid {pid}"), why });
        }
        let why = if pid == 1 { Some("it is PID 1, the init of this PID namespace") } else { None };
        if let Some(why) = why.or_else(|| snap.process(pid).and_then(|p| rails.protected(snap.source(), p))) {
            return Err(Error::Refused { what: format!("pid {pid}"), why: why.into() });
        }
    }
    let matches = select::find_in(sel, snap)?;
    let mut out = Plan {
        unresolved: matches.unresolved,
        env_unreadable: matches.env_unreadable,
        env_unchecked: matches.env_unchecked,
        ..Plan::default()
    };
    let rails = rails.with_owner(owner_rule(sel, opts.all_users, snap.source().caller_uid()));
    out.owner = rails.owner();
    let signals: Vec<String> = opts.sequence.steps.iter().map(|s| s.signal.name()).collect();

    // Matched roots first, with the rails, the owner rule and the port-proxy rule applied.
    let mut roots = Vec::new();
    snap.load_details(matches.pids.iter().copied());
    for &pid in &matches.pids {
        let Some(p) = snap.process(pid).cloned() else { continue };
        match rails.refusal(snap.source(), &p, sel.pids.contains(&pid)) {
            Some(refusal) => out.skipped.push(skipped_for(snap, &p, refusal, true)),
            None => roots.push(pid),
        }
    }
    // Provenance: a match that a supervisor outside the selection starts again is not signalled
    // (the same rule as a port proxy: only `--pid` naming it overrides, and then says so).
    let mut origins = HashMap::new();
    let mut restarters = Vec::new();
    let mut overridden = HashSet::new();
    for pid in roots.clone() {
        let Some(origin) = prov.explain(snap, pid) else { continue };
        let Some(by) = origin.restarter().filter(|c| c.pid.is_none_or(|sp| !roots.contains(&sp))).cloned() else {
            origins.insert(pid, origin);
            continue;
        };
        let Some(p) = snap.process(pid).cloned() else { continue };
        if sel.pids.contains(&pid) {
            overridden.insert(pid);
            restarters.extend(by.pid.map(|sp| (sp, pid)));
        } else {
            out.skipped.push(skipped_supervised(snap, &p, &origin, &by));
            roots.retain(|&r| r != pid);
        }
        origins.insert(pid, origin);
    }
    // Then every descendant of a root, parents before children.
    let mut chosen: Vec<(u32, bool)> = roots.iter().map(|&p| (p, true)).collect();
    if !opts.no_tree && !roots.is_empty() {
        // One cheap pass over every stat finds the trees; only their members are read in full.
        let tree = snap.source().scan_tree(&roots);
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
        if !matched {
            // A descendant passes the same rules as a match.
            if let Some(refusal) = rails.refusal(snap.source(), &p, sel.pids.contains(&pid)) {
                out.skipped.push(skipped_for(snap, &p, refusal, false));
                continue;
            }
        }
        out.add(snap, &p, matched, signals.clone());
        if let Some(t) = out.targets.last_mut() {
            t.origin = origins.remove(&pid);
            if overridden.contains(&pid) {
                t.note = t.origin.as_ref().and_then(restart_note);
            }
        }
    }
    out.supervisors = supervisors(snap, &out.targets, &rails, prov);
    // A supervised target that `--pid` named: its supervisor is watched (the settle time) too.
    for (sp, pid) in restarters {
        if out.targets.iter().any(|t| t.pid == sp) {
            continue;
        }
        if let Some(s) = out.supervisors.iter_mut().find(|s| s.pid == sp) {
            if !s.children.contains(&pid) {
                s.children.push(pid);
            }
            continue;
        }
        snap.load_processes([sp]);
        snap.load_details([sp]);
        if let Some(p) = snap.process(sp) {
            out.supervisors.push(Supervisor {
                pid: sp,
                name: p.name.clone(),
                cmdline: p.cmdline.clone().unwrap_or_default(),
                children: vec![pid],
            });
        }
    }
    Ok(out)
}

/// `p` skipped because `by` starts it again when it ends: signalling it is in vain. The reason
/// names the supervisor, its policy and the command that stops it the right way.
fn skipped_supervised<S: Source>(
    snap: &mut Snapshot<S>,
    p: &Process,
    origin: &crate::origin::Origin,
    by: &crate::origin::Cause,
) -> Skipped {
    let flag = format!("--pid {}", p.pid);
    let policy = by.policy.as_ref().map_or_else(String::new, |x| format!(" ({x})"));
    let stop = by.stop.clone().or_else(|| origin.stop.clone());
    let how = stop.as_ref().map_or_else(String::new, |s| format!("; stop it with: {s}"));
    let why = format!("{} starts it again when it ends{policy}: a signal would be in vain{how}", by.label());
    Skipped { stop, ..skipped(snap, p, why, Some(&flag), true) }
}

/// What a target that something starts again will do once signalled (`--pid` named it).
fn restart_note(origin: &crate::origin::Origin) -> Option<String> {
    let by = origin.restarter()?;
    let policy = by.policy.as_ref().map_or_else(String::new, |x| format!(" ({x})"));
    let how = origin.stop.as_ref().map_or_else(String::new, |s| format!("; to stop it for good: {s}"));
    Some(format!("{} starts it again{policy}: it will be back after the signal{how}", by.label()))
}

/// `p` skipped for `refusal`, with the option that would include it when there is one.
fn skipped_for<S: Source>(snap: &mut Snapshot<S>, p: &Process, refusal: Refusal, matched: bool) -> Skipped {
    match refusal {
        Refusal::Protected(why) => skipped(snap, p, why, None, matched),
        Refusal::Foreign { uid } => {
            let why = format!("it belongs to uid {uid} ({}), and the selector is broad", snap.user_name(uid));
            skipped(snap, p, why, Some("--all-users"), matched)
        }
        Refusal::Proxy(proxy) => skipped_proxy(snap, p, &proxy, matched),
    }
}

impl Plan {
    /// Adds `p` as a target, pinned now.
    fn add<S: Source>(&mut self, snap: &mut Snapshot<S>, p: &Process, matched: bool, signals: Vec<String>) {
        let user = snap.user_name(p.uid);
        if let Some(pin) = snap.source().pin(p.pid, p.start_ticks) {
            self.pins.insert(p.pid, pin);
        }
        self.targets.push(target_report(p, user, matched, signals));
    }
}

/// A plan whose targets are the processes of `skipped` that still run as the same processes
/// (pid and start time), whatever the rails say. Only for the guard, after a plan of its own
/// tree: every process of that tree is the guard's to end, also what the rails spare for every
/// other caller (another reaper process: a nested `reaper run`).
pub(crate) fn plan_skipped(skipped: &[Skipped]) -> Plan {
    let mut snap = Snapshot::new();
    snap.load_processes(skipped.iter().map(|s| s.pid));
    snap.load_details(skipped.iter().map(|s| s.pid));
    let mut out = Plan::default();
    for s in skipped {
        let Some(p) = snap.process(s.pid).filter(|p| p.start_ticks == s.start_ticks && !p.is_zombie()).cloned() else {
            continue;
        };
        out.add(&mut snap, &p, true, Vec::new());
    }
    out
}

/// The live parents of `targets` that are not targets: whoever may start them again. PID 1 and
/// kernel threads are left out (every orphan's parent is PID 1; see docs/src/selectors.md for services),
/// and so are reaper's own ancestors: the shell or program running reaper is busy running it,
/// not restarting what reaper ends.
fn supervisors<S: Source>(
    snap: &mut Snapshot<S>,
    targets: &[TargetReport],
    rails: &Rails,
    prov: &impl Provenance<S>,
) -> Vec<Supervisor> {
    let pids: HashSet<u32> = targets.iter().map(|t| t.pid).collect();
    let mut out: Vec<Supervisor> = Vec::new();
    for t in targets.iter().filter(|t| t.ppid > 1 && !pids.contains(&t.ppid) && !rails.ancestors.contains(&t.ppid)) {
        if let Some(s) = out.iter_mut().find(|s| s.pid == t.ppid) {
            s.children.push(t.pid);
            continue;
        }
        snap.load_processes([t.ppid]);
        snap.load_details([t.ppid]);
        // An interactive shell on a terminal waits for its job; it never starts it again.
        let Some(p) =
            snap.process(t.ppid).filter(|p| !p.kernel_thread && !p.is_zombie() && !prov.is_interactive_shell(p))
        else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::World;

    use crate::sys::fake::{CALLER, ME, SHELL, TERM};

    fn world() -> World {
        World::desktop()
    }

    /// Adds `pid` (a child of `ppid`) and returns it with its command line, as the plan sees it.
    fn process(w: &mut World, pid: u32, ppid: u32) -> Process {
        w.add(pid, ppid);
        read(w, pid)
    }

    fn read(w: &World, pid: u32) -> Process {
        let mut p = w.read_process(pid).expect("in the world");
        p.cmdline = w.read_cmdline(pid);
        p
    }

    fn protected(w: &World, rails: &Rails, pid: u32) -> Option<&'static str> {
        match rails.refusal(w, &read(w, pid), false) {
            Some(Refusal::Protected(why)) => Some(why),
            _ => None,
        }
    }

    #[test]
    fn pid_1_kernel_threads_reaper_and_its_ancestors_are_protected() {
        let mut w = world();
        process(&mut w, 600, SHELL);
        let rails = Rails::of(&w);
        assert!(protected(&w, &rails, 1).is_some_and(|y| y.contains("PID 1")));
        assert!(protected(&w, &rails, 2).is_some_and(|y| y.contains("kernel thread")));
        assert!(protected(&w, &rails, ME).is_some_and(|y| y.contains("reaper itself")));
        for pid in [SHELL, TERM] {
            assert!(protected(&w, &rails, pid).is_some_and(|y| y.contains("ancestor")), "{pid}");
        }
        // A sibling in the same session is not an ancestor.
        assert!(rails.refusal(&w, &read(&w, 600), false).is_none());
    }

    /// `/proc` hides reaper's parent (`hidepid`, a root `sudo`): what is in reaper's session and
    /// older than the hidden part may be an ancestor, and is protected; the rest is not.
    #[test]
    fn hidden_ancestry_protects_what_may_be_above_the_gap() {
        let mut w = world();
        w.add(450, SHELL); // sudo, hidden
        w.proc(450).hidden = true;
        w.proc(ME).ppid = 450;
        w.proc(ME).start = 10_000;
        w.proc(SHELL).sid = SHELL;
        w.proc(SHELL).start = 50;
        process(&mut w, 610, 1);
        w.proc(610).sid = SHELL;
        w.proc(610).start = 20_000; // in the session, started after reaper
        process(&mut w, 620, 1);
        w.proc(620).start = 60; // older, another session
        let rails = Rails::of(&w);
        assert!(protected(&w, &rails, SHELL).is_some_and(|y| y.contains("may be an ancestor")));
        assert!(rails.refusal(&w, &read(&w, 610), false).is_none());
        assert!(rails.refusal(&w, &read(&w, 620), false).is_none());
        // Without the gap the shell is a sibling's ancestor, nothing more.
        w.proc(450).hidden = false;
        let rails = Rails::of(&w);
        assert!(protected(&w, &rails, SHELL).is_some_and(|y| y.contains("an ancestor of reaper")));
    }

    #[test]
    fn another_reaper_is_known_by_its_executable_not_its_name() {
        let mut w = world();
        w.proc(ME).exe_id = Some((8, 42));
        process(&mut w, 700, 1);
        w.proc(700).exe_id = Some((8, 42));
        process(&mut w, 701, 1);
        w.proc(701).name = "reaper".into();
        w.proc(701).exe_id = Some((8, 43));
        let rails = Rails::of(&w);
        assert!(protected(&w, &rails, 700).is_some_and(|y| y.contains("another reaper")));
        assert!(rails.refusal(&w, &read(&w, 701), false).is_none());
    }

    #[test]
    fn the_partners_of_reapers_pipeline_are_protected_not_the_rest_of_its_group() {
        let mut w = world();
        w.pipes = vec![sys::PipeEnd { inode: 7, read: false, write: true }];
        w.partners = vec![800, 802];
        for pid in [800, 801] {
            process(&mut w, pid, SHELL);
            w.proc(pid).pgid = ME; // reaper's group
        }
        process(&mut w, 802, SHELL); // a partner by its pipe, but in another group
        let rails = Rails::of(&w);
        assert!(protected(&w, &rails, 800).is_some_and(|y| y.contains("pipeline")));
        assert!(rails.refusal(&w, &read(&w, 801), false).is_none());
        assert!(rails.refusal(&w, &read(&w, 802), false).is_none());
        // Without a pipe on reaper's stdio nothing is a partner.
        w.pipes.clear();
        assert!(Rails::of(&w).refusal(&w, &read(&w, 800), false).is_none());
    }

    #[test]
    fn the_owner_rule_refuses_other_users_processes_after_the_rails() {
        let mut w = world();
        process(&mut w, 900, 1);
        w.proc(900).uid = 1001;
        process(&mut w, 901, SHELL);
        let rails = Rails::of(&w).with_owner(Some(CALLER));
        assert!(matches!(rails.refusal(&w, &read(&w, 900), false), Some(Refusal::Foreign { uid: 1001 })));
        assert!(
            matches!(rails.refusal(&w, &read(&w, 900), true), Some(Refusal::Foreign { .. })),
            "--pid does not lift it"
        );
        assert!(rails.refusal(&w, &read(&w, 901), false).is_none());
        // PID 1 is root's: the rail, not the owner rule, says why.
        assert!(matches!(rails.refusal(&w, &read(&w, 1), false), Some(Refusal::Protected(_))));
        assert!(Rails::of(&w).refusal(&w, &read(&w, 900), false).is_none(), "no owner rule, no refusal");
    }

    #[test]
    fn the_owner_rule_applies_to_broad_selections_unless_users_are_named() {
        let broad = Selection::new().signature("x").unwrap();
        assert_eq!(owner_rule(&broad, false, CALLER), Some(CALLER));
        assert_eq!(owner_rule(&broad, true, CALLER), None, "--all-users");
        assert_eq!(owner_rule(&broad.clone().user("0").unwrap(), false, CALLER), None, "--user");
        assert_eq!(owner_rule(&ports(&["3000"]), false, CALLER), None);
        assert_eq!(owner_rule(&ports(&["1-65535"]), false, CALLER), Some(CALLER));
        assert_eq!(owner_rule(&Selection::new().pid(42), false, CALLER), None);
    }

    /// Provenance as a test says it: who restarts which pid, which pids are interactive shells.
    #[derive(Default)]
    struct FakeOrigins {
        restarters: HashMap<u32, crate::origin::Cause>,
        shells: Vec<u32>,
    }

    impl Provenance<World> for FakeOrigins {
        fn explain(&mut self, _snap: &mut Snapshot<World>, pid: u32) -> Option<crate::origin::Origin> {
            let by = self.restarters.get(&pid)?;
            Some(crate::origin::Origin {
                chain: vec![by.clone()],
                restarts: crate::origin::Restarts::Yes,
                restarted_by: Some(by.label()),
                stop: by.stop.clone(),
                unread: Vec::new(),
            })
        }

        fn is_interactive_shell(&self, p: &Process) -> bool {
            self.shells.contains(&p.pid)
        }
    }

    /// supervisord (pid `sup`), which starts its program again.
    fn supervisord(sup: u32) -> crate::origin::Cause {
        crate::origin::Cause {
            kind: crate::origin::Kind::Supervisord,
            pid: Some(sup),
            name: "web".into(),
            detail: None,
            restarts: crate::origin::Restarts::Yes,
            policy: Some("autorestart=true".into()),
            restart_count: None,
            stop: Some("supervisorctl stop web".into()),
            source: "test".into(),
        }
    }

    fn plan_of(w: World, sel: &Selection, opts: &KillOptions, prov: &mut FakeOrigins) -> Result<Plan> {
        plan_in(sel, &mut Snapshot::with_source(w), opts, prov)
    }

    fn planned(w: World, sel: &Selection, opts: &KillOptions) -> Plan {
        plan_of(w, sel, opts, &mut FakeOrigins::default()).expect("plan")
    }

    fn target_pids(plan: &Plan) -> Vec<u32> {
        plan.targets.iter().map(|t| t.pid).collect()
    }

    fn skipped_pids(plan: &Plan) -> Vec<(u32, Option<&str>, bool)> {
        plan.skipped.iter().map(|s| (s.pid, s.flag.as_deref(), s.matched)).collect()
    }

    #[test]
    fn a_kill_without_a_selector_is_a_usage_error() {
        let err = plan_of(world(), &Selection::new(), &KillOptions::default(), &mut FakeOrigins::default());
        assert!(matches!(err, Err(Error::Usage(_))), "{err:?}");
    }

    /// `--pid` naming what the rails protect, or a thread, is refused outright (exit 2), not
    /// skipped.
    #[test]
    fn pid_naming_a_protected_process_or_a_thread_is_refused() {
        let mut w = world();
        w.spawn(600, SHELL, &["app"]);
        w.threads.insert(601, 600);
        for (pid, says) in [(1, "PID 1"), (SHELL, "ancestor"), (ME, "reaper itself"), (601, "thread of 600")] {
            let got =
                plan_of(w.clone(), &Selection::new().pid(pid), &KillOptions::default(), &mut FakeOrigins::default());
            match got {
                Err(Error::Refused { why, .. }) => assert!(why.contains(says), "{pid}: {why}"),
                other => panic!("{pid}: {other:?}"),
            }
        }
        assert_eq!(target_pids(&planned(w, &Selection::new().pid(600), &KillOptions::default())), [600]);
    }

    /// A broad selection signals only the caller's processes, matches and descendants alike;
    /// a port proxy below a match is spared with its stop command; the rails hold for both.
    #[test]
    fn matches_and_descendants_pass_the_same_rails() {
        let mut w = world();
        w.spawn(600, SHELL, &["app"]);
        w.spawn(601, 1, &["app"]);
        w.proc(601).uid = 1001;
        w.spawn(602, 600, &["helper"]);
        w.proc(602).uid = 1001;
        w.spawn(603, 600, &["helper"]);
        w.spawn(604, 600, &["rootlessport"]);
        let w2 = w.clone();
        let sel = Selection::new().signature("^app").unwrap();
        let p = planned(w, &sel, &KillOptions::default());
        assert_eq!(target_pids(&p), [600, 603]);
        assert_eq!(p.owner, Some(CALLER));
        assert_eq!(
            skipped_pids(&p),
            [(601, Some("--all-users"), true), (602, Some("--all-users"), false), (604, Some("--pid 604"), false)]
        );
        assert!(p.skipped[2].stop.as_deref().is_some_and(|s| s.contains("podman")), "{:?}", p.skipped[2]);
        // --all-users lifts the owner rule, never the proxy rule.
        let p = planned(w2, &sel, &KillOptions { all_users: true, ..KillOptions::default() });
        assert_eq!(target_pids(&p), [600, 601, 602, 603]);
        assert_eq!(skipped_pids(&p), [(604, Some("--pid 604"), false)]);
    }

    #[test]
    fn no_tree_plans_only_the_matches() {
        let mut w = world();
        w.spawn(600, SHELL, &["app"]);
        w.spawn(601, 600, &["helper"]);
        let p = planned(w, &Selection::new().pid(600), &KillOptions { no_tree: true, ..KillOptions::default() });
        assert_eq!(target_pids(&p), [600]);
    }

    /// What a supervisor starts again is spared with the supervisor's stop command; `--pid`
    /// naming it plans it with a note, and watches the supervisor.
    #[test]
    fn a_supervised_match_is_spared_unless_pid_names_it() {
        let mut w = world();
        w.spawn(650, 1, &["supervisord"]);
        w.spawn(700, 650, &["web"]);
        let w2 = w.clone();
        let mut prov = FakeOrigins::default();
        prov.restarters.insert(700, supervisord(650));
        let sel = Selection::new().signature("^web").unwrap();
        let p = plan_of(w, &sel, &KillOptions::default(), &mut prov).expect("plan");
        assert!(p.targets.is_empty(), "{p:?}");
        assert_eq!(skipped_pids(&p), [(700, Some("--pid 700"), true)]);
        assert_eq!(p.skipped[0].stop.as_deref(), Some("supervisorctl stop web"));
        assert!(p.skipped[0].why.contains("starts it again"), "{}", p.skipped[0].why);

        let p = plan_of(w2, &Selection::new().pid(700), &KillOptions::default(), &mut prov).expect("plan");
        assert_eq!(target_pids(&p), [700]);
        assert!(p.targets[0].note.as_deref().is_some_and(|n| n.contains("supervisorctl stop web")), "{p:?}");
        assert_eq!(p.supervisors.iter().map(|s| (s.pid, s.children.clone())).collect::<Vec<_>>(), [(650, vec![700])]);
    }

    /// The live parent of a target is a supervisor to watch, unless it is PID 1, an
    /// interactive shell (it waits for its job) or reaper's own ancestor.
    #[test]
    fn supervisors_are_parents_that_may_start_a_target_again() {
        let mut w = world();
        w.spawn(750, 1, &["node-runner"]);
        w.spawn(800, 750, &["app"]);
        w.spawn(760, 1, &["bash"]);
        w.spawn(810, 760, &["app"]);
        w.spawn(820, SHELL, &["app"]);
        w.spawn(830, 1, &["app"]);
        let mut prov = FakeOrigins { shells: vec![760], ..FakeOrigins::default() };
        let sel = Selection::new().signature("^app").unwrap();
        let p = plan_of(w, &sel, &KillOptions::default(), &mut prov).expect("plan");
        assert_eq!(target_pids(&p), [800, 810, 820, 830]);
        assert_eq!(p.supervisors.iter().map(|s| (s.pid, s.children.clone())).collect::<Vec<_>>(), [(750, vec![800])]);
    }

    #[test]
    fn a_port_proxy_is_refused_unless_pid_names_it() {
        let mut w = world();
        let mut proxy = process(&mut w, 950, 1);
        proxy.name = "rootlessport".into();
        proxy.cmdline = Some(vec!["rootlessport".into()]);
        let rails = Rails::of(&w);
        let Some(Refusal::Proxy(p)) = rails.refusal(&w, &proxy, false) else {
            panic!("not refused as a proxy");
        };
        assert_eq!(p.runtime, "podman");
        assert!(rails.refusal(&w, &proxy, true).is_none(), "--pid names it");
    }

    fn ports(specs: &[&str]) -> Selection {
        specs.iter().fold(Selection::new(), |s, p| s.port(p.parse().unwrap()))
    }

    #[test]
    fn wide_port_selections_are_broad() {
        assert_eq!(ports_spanned(&ports(&["1-65535"])), 65535);
        // Overlaps and protocols count each port number once.
        assert_eq!(ports_spanned(&ports(&["tcp:1-1000", "udp:500-1500", "1200"])), 1500);
        assert!(is_broad(&ports(&["1-65535"])));
        assert!(is_broad(&ports(&["1024-65535"])));
        assert!(is_broad(&ports(&["1-1024", "3000"])));
        assert!(!is_broad(&ports(&["1-1023", "3000"])));
        assert!(!is_broad(&ports(&["8000-8999"])));
        assert!(!is_broad(&ports(&["3000"])));
        // A pid narrows any port selection; a pattern is broad whatever the ports.
        assert!(!is_broad(&ports(&["1-65535"]).pid(42)));
        assert!(is_broad(&Selection::new().signature("x").unwrap()));
    }
}
