//! Selection: which processes a command is about. A [`Selection`] is the resolved form of the
//! selectors on the command line; [`find`] applies it to a [`Snapshot`], reading only what the
//! selection needs.
//!
//! Selectors combine with AND across kinds and OR within one kind. No selector at all means
//! "every process that holds a listening TCP or bound UDP socket".

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, SystemTime};

use regex::Regex;

use crate::error::{Error, Result};
use crate::ports;
use crate::snapshot::{Snapshot, Socket, SocketFilter};
use crate::spec::{EnvSpec, PortSpec, Proto};
use crate::sys::{self, ProcessTable, Source};

/// An `--exe` pattern: a glob matched against the full path when it contains `/`, else against
/// the file name.
#[derive(Clone, Debug)]
pub struct ExePattern {
    glob: glob::Pattern,
    full_path: bool,
}

impl ExePattern {
    /// Compiles a path or glob.
    pub fn new(pattern: &str) -> Result<ExePattern> {
        let glob = glob::Pattern::new(pattern)
            .map_err(|e| Error::InvalidGlob { value: pattern.to_string(), reason: e.msg.to_string() })?;
        Ok(ExePattern { glob, full_path: pattern.contains('/') })
    }

    fn matches(&self, exe: &std::path::Path) -> bool {
        if self.full_path {
            // Not `matches_path`, which never matches a path that is not UTF-8.
            self.glob.matches(&exe.to_string_lossy())
        } else {
            exe.file_name().is_some_and(|n| self.glob.matches(&n.to_string_lossy()))
        }
    }
}

/// Compiles a regex, naming the pattern in the error.
pub fn regex(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| Error::InvalidRegex {
        value: pattern.to_string(),
        reason: e.to_string().lines().last().unwrap_or("").trim().to_string(),
    })
}

/// The selectors. Build one with the methods, or fill the fields.
///
/// ```
/// let sel = reaper::Selection::new().port("3000".parse().unwrap()).signature("server").unwrap();
/// assert!(!sel.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `--port`: OR across specs.
    pub ports: Vec<PortSpec>,
    /// `--proto`: restricts port matching to one protocol.
    pub proto: Option<Proto>,
    /// `--state any`: TCP sockets in any state, not only LISTEN.
    pub any_state: bool,
    /// `--signature`: regexes over the command line joined by single spaces.
    pub signatures: Vec<Regex>,
    /// `--name`: exact process names.
    pub names: Vec<String>,
    /// `--exe`: executable paths or globs.
    pub exes: Vec<ExePattern>,
    /// `--exclude`: command lines that never match.
    pub excludes: Vec<Regex>,
    /// `--pid`.
    pub pids: Vec<u32>,
    /// `--descendants-of`.
    pub descendants_of: Vec<u32>,
    /// `--children-of`.
    pub children_of: Vec<u32>,
    /// `--pgid`.
    pub pgids: Vec<u32>,
    /// `--sid`.
    pub sids: Vec<u32>,
    /// `--user`: uids.
    pub users: Vec<u32>,
    /// `--orphans`: see [`Snapshot::is_orphan`] for the rule.
    pub orphans: bool,
    /// `--older-than`.
    pub older_than: Option<Duration>,
    /// `--younger-than`.
    pub younger_than: Option<Duration>,
    /// `--env`: environment entries, OR across specs. Read from each candidate's environment
    /// block, which other users' processes hide unless reaper is root.
    pub envs: Vec<EnvSpec>,
    /// `--cgroup`: cgroup v2 paths (absolute, see [`crate::spec::parse_cgroup`]); a process in
    /// one of them or below matches.
    pub cgroups: Vec<String>,
    /// `--started-after`: started strictly after this time.
    pub started_after: Option<SystemTime>,
    /// `--started-before`: started strictly before this time.
    pub started_before: Option<SystemTime>,
    /// `--started-after pid:N`: N's pid and start time (clock ticks after boot). Selects what
    /// started after N exactly: in N's clock tick or later, N itself and its ancestors excluded
    /// (a wall-clock bound would lose what started in N's own tick).
    pub started_after_process: Option<(u32, u64)>,
    /// `--container`: container id prefixes (lowercase hex, see
    /// [`crate::container::parse_prefix`]); a process in a container whose id begins so matches.
    pub containers: Vec<String>,
    /// `--all-netns`: ports are looked up in every network namespace, not only reaper's own
    /// (the host's network, by default). Refines `--port`; not a selector of its own.
    pub all_netns: bool,
}

impl Selection {
    /// An empty selection.
    pub fn new() -> Selection {
        Selection::default()
    }

    /// Adds a port spec.
    pub fn port(mut self, spec: PortSpec) -> Selection {
        self.ports.push(spec);
        self
    }

    /// Adds a command-line regex.
    pub fn signature(mut self, pattern: &str) -> Result<Selection> {
        self.signatures.push(regex(pattern)?);
        Ok(self)
    }

    /// Adds an exact process name.
    pub fn name(mut self, name: &str) -> Selection {
        self.names.push(name.to_string());
        self
    }

    /// Adds an executable path or glob.
    pub fn exe(mut self, pattern: &str) -> Result<Selection> {
        self.exes.push(ExePattern::new(pattern)?);
        Ok(self)
    }

    /// Adds a command-line regex that excludes.
    pub fn exclude(mut self, pattern: &str) -> Result<Selection> {
        self.excludes.push(regex(pattern)?);
        Ok(self)
    }

    /// Adds an exact pid.
    pub fn pid(mut self, pid: u32) -> Selection {
        self.pids.push(pid);
        self
    }

    /// Selects every descendant of `pid` (not `pid` itself).
    pub fn descendants_of(mut self, pid: u32) -> Selection {
        self.descendants_of.push(pid);
        self
    }

    /// Selects the direct children of `pid`.
    pub fn children_of(mut self, pid: u32) -> Selection {
        self.children_of.push(pid);
        self
    }

    /// Selects orphans only.
    pub fn orphans(mut self) -> Selection {
        self.orphans = true;
        self
    }

    /// Adds a user, by name or uid.
    pub fn user(mut self, user: &str) -> Result<Selection> {
        self.users.push(sys::uid_by_name(user).ok_or_else(|| Error::UnknownUser(user.to_string()))?);
        Ok(self)
    }

    /// Selects processes older than `age`.
    pub fn older_than(mut self, age: Duration) -> Selection {
        self.older_than = Some(age);
        self
    }

    /// Selects processes younger than `age`.
    pub fn younger_than(mut self, age: Duration) -> Selection {
        self.younger_than = Some(age);
        self
    }

    /// Adds an environment selector: `NAME` or `NAME=VALUE`.
    pub fn env(mut self, spec: &str) -> Result<Selection> {
        self.envs.push(spec.parse()?);
        Ok(self)
    }

    /// Adds a cgroup v2 path (absolute).
    pub fn cgroup(mut self, path: &str) -> Result<Selection> {
        self.cgroups.push(crate::spec::parse_cgroup(path)?);
        Ok(self)
    }

    /// Selects processes started strictly after `t`.
    pub fn started_after(mut self, t: SystemTime) -> Selection {
        self.started_after = Some(t);
        self
    }

    /// Selects processes started after process `pid`: in its clock tick or later, `pid` and its
    /// ancestors excluded. Errors: no such process ([`Error::InvalidTime`], naming `pid:N`).
    pub fn started_after_process(mut self, pid: u32) -> Result<Selection> {
        let p = sys::read_process(pid).ok_or_else(|| Error::InvalidTime {
            value: format!("pid:{pid}"),
            reason: format!("no process with pid {pid}"),
        })?;
        self.started_after_process = Some((pid, p.start_ticks));
        Ok(self)
    }

    /// Adds a container id prefix (at least 4 hex digits).
    pub fn container(mut self, prefix: &str) -> Result<Selection> {
        self.containers.push(crate::container::parse_prefix(prefix)?);
        Ok(self)
    }

    /// Looks up ports in every network namespace, not only reaper's own.
    pub fn all_netns(mut self) -> Selection {
        self.all_netns = true;
        self
    }

    /// Selects processes started strictly before `t`.
    pub fn started_before(mut self, t: SystemTime) -> Selection {
        self.started_before = Some(t);
        self
    }

    /// Whether no selector is set at all (`--proto`, `--state`, `--all-netns` and `--exclude` only
    /// refine). Every field is named (no `..`): a new selector does not compile until it says
    /// here whether it selects.
    pub fn is_empty(&self) -> bool {
        let Selection {
            ports,
            proto: _,
            any_state: _,
            signatures,
            names,
            exes,
            excludes: _,
            pids,
            descendants_of,
            children_of,
            pgids,
            sids,
            users,
            orphans,
            older_than,
            younger_than,
            envs,
            cgroups,
            started_after,
            started_before,
            started_after_process,
            containers,
            all_netns: _,
        } = self;
        ports.is_empty()
            && signatures.is_empty()
            && names.is_empty()
            && exes.is_empty()
            && pids.is_empty()
            && descendants_of.is_empty()
            && children_of.is_empty()
            && pgids.is_empty()
            && sids.is_empty()
            && !orphans
            && users.is_empty()
            && older_than.is_none()
            && younger_than.is_none()
            && envs.is_empty()
            && cgroups.is_empty()
            && containers.is_empty()
            && started_after.is_none()
            && started_before.is_none()
            && started_after_process.is_none()
    }

    /// Whether the selection names processes by something a user can choose freely (command
    /// line, name, ancestry, ...) rather than by port or pid. Such selections touch only the
    /// caller's own processes unless users are named (see the kill safety rules).
    pub fn is_broad(&self) -> bool {
        self.ports.is_empty() && self.pids.is_empty()
    }

    /// The port specs a query looks at: the given ones, or every port when no selector is set.
    pub fn effective_ports(&self) -> Vec<PortSpec> {
        if self.ports.is_empty() && self.is_empty() {
            vec![PortSpec { proto: None, first: 1, last: u16::MAX }]
        } else {
            self.ports.clone()
        }
    }

    /// Whether a socket is one the port selectors mean.
    pub fn socket_matches(&self, s: &Socket) -> bool {
        s.is_held()
            && (self.any_state || s.holds_port())
            && self.effective_ports().iter().any(|spec| ports::on(spec, self.proto, s))
    }

    /// Which socket tables the port selectors need.
    pub fn socket_filter(&self) -> SocketFilter {
        ports::filter(&self.effective_ports(), self.proto)
    }

    /// Whether a command line (arguments joined by single spaces) passes `--signature` and
    /// `--exclude`.
    fn cmdline_matches(&self, cmd: &str) -> bool {
        (self.signatures.is_empty() || self.signatures.iter().any(|r| r.is_match(cmd)))
            && !self.excludes.iter().any(|r| r.is_match(cmd))
    }

    fn needs_details(&self) -> bool {
        !(self.signatures.is_empty() && self.names.is_empty() && self.exes.is_empty() && self.excludes.is_empty())
    }
}

/// What a selection matched.
#[derive(Clone, Debug, Default)]
pub struct Matches {
    /// Matching pids, ascending.
    pub pids: Vec<u32>,
    /// Matching sockets whose holder could not be seen (other users' fds, when not root).
    pub unresolved: Vec<Socket>,
    /// Candidates whose environment could not be read for `--env` (other users' processes,
    /// when not root): they did not match, but might have.
    pub env_unreadable: usize,
    /// The caller's own processes (its uid's) whose environment exists and could not be read
    /// for `--env` (a process that made itself not dumpable, as ssh-agent and
    /// gpg-agent do), and whose ancestry did not settle it (no ancestor carries the entry):
    /// not checked, so neither a match nor a non-match. Kernel threads and zombies have no
    /// environment and are never here.
    pub env_unchecked: Vec<u32>,
}

impl Matches {
    /// Whether nothing matched at all.
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.unresolved.is_empty()
    }
}

/// Applies `sel` to `snap`, loading into the snapshot what it needs. reaper itself never
/// matches, and neither do kernel threads.
pub fn find(sel: &Selection, snap: &mut Snapshot) -> Result<Matches> {
    find_in(sel, snap)
}

/// [`find`] on a snapshot of any source (the fake world in unit tests).
pub fn find_in<S: Source>(sel: &Selection, snap: &mut Snapshot<S>) -> Result<Matches> {
    snap.source().check_own_proc()?; // pids from a /proc of another PID namespace name other processes
    let mut out = Matches::default();
    snap.set_all_netns(sel.all_netns);
    // Candidates narrowed by the cheap, exact selectors first: ports, then pids, then trees.
    let mut candidates: Option<BTreeSet<u32>> = None;
    if !sel.effective_ports().is_empty() {
        if sel.any_state {
            snap.load_sockets(sel.socket_filter())?;
        } else {
            // Only listeners can match: the kernel need not walk its connections.
            snap.load_listening_sockets(sel.socket_filter())?;
            // A named port nothing listens on may still be held by a TCP socket bound and not
            // listening, which only the whole table shows (it costs a walk of the kernel's bind
            // table, so only then).
            if !sel.ports.is_empty() && !snap.sockets().iter().any(|s| sel.socket_matches(s)) {
                snap.load_sockets(sel.socket_filter())?;
            }
        }
        let wanted: Vec<Socket> = snap.sockets().iter().filter(|s| sel.socket_matches(s)).cloned().collect();
        let inodes: HashSet<u64> = wanted.iter().map(|s| s.inode).collect();
        let among = (!sel.pids.is_empty()).then_some(sel.pids.as_slice());
        snap.find_holders(&inodes, among)?;
        let mut holders = BTreeSet::new();
        for s in wanted {
            let h = snap.holders(s.inode);
            if h.is_empty() {
                if among.is_none() {
                    out.unresolved.push(s);
                }
            } else {
                holders.extend(h.iter().copied());
            }
        }
        candidates = Some(holders);
    }
    if !sel.pids.is_empty() {
        let pids: BTreeSet<u32> = sel.pids.iter().copied().collect();
        candidates = Some(match candidates {
            Some(c) => c.intersection(&pids).copied().collect(),
            None => pids,
        });
    }
    if !sel.descendants_of.is_empty() {
        // One cheap pass over every stat finds the trees: only their members are read in full
        // (a guard ending its tree is asked this on every stop, on machines with thousands of
        // processes). The roots stay candidates: one may descend from another.
        let tree: BTreeSet<u32> = snap.source().scan_tree(&sel.descendants_of).into_iter().map(|s| s.pid).collect();
        candidates = Some(match candidates {
            Some(c) => c.intersection(&tree).copied().collect(),
            None => tree,
        });
    }
    let mut env_checked = false;
    let candidates: Vec<u32> = match candidates {
        Some(c) => {
            snap.load_processes(c.iter().copied());
            c.into_iter().collect()
        }
        // A command-line query reads one file per process and the rest only for the matches.
        None if !sel.signatures.is_empty() => snap.load_by_cmdline(|cmd| sel.cmdline_matches(cmd))?,
        // So does an environment query (a CI job's marker): environ first, stat for the matches.
        None if !sel.envs.is_empty() => {
            env_checked = true;
            let mut kept = Vec::new();
            let mut unreadable = Vec::new();
            for pid in snap.source().list_pids()? {
                match env_check(sel, snap.source(), pid) {
                    Some(true) => kept.push(pid),
                    Some(false) => {}
                    None => unreadable.push(pid),
                }
            }
            kept.extend(settle_unreadable(sel, snap.source(), &unreadable, &mut out));
            kept.sort_unstable();
            snap.load_processes(kept.iter().copied());
            kept.into_iter().filter(|&pid| snap.process(pid).is_some()).collect()
        }
        None => {
            snap.load_all_processes()?;
            snap.processes().map(|p| p.pid).collect()
        }
    };
    if sel.orphans || !sel.descendants_of.is_empty() {
        snap.load_ancestors(&candidates);
    }
    // `--started-after pid:N`: N and the chain that started it are not "after" it.
    let after_process = sel.started_after_process.map(|(n, ticks)| {
        snap.load_processes([n]);
        snap.load_ancestors(&[n]);
        let mut before = snap.ancestors(n);
        before.push(n);
        (ticks, before)
    });
    let now = snap.taken_at.unwrap_or_else(std::time::SystemTime::now);
    let me = snap.source().self_pid();
    let cheap: Vec<u32> = candidates
        .into_iter()
        .filter(|&pid| {
            let Some(p) = snap.process(pid) else {
                return false;
            };
            let age = p.age(now);
            pid != me
                && !p.kernel_thread
                && (sel.children_of.is_empty() || sel.children_of.contains(&p.ppid))
                && (sel.descendants_of.is_empty() || snap.ancestors(pid).iter().any(|a| sel.descendants_of.contains(a)))
                && (sel.pgids.is_empty() || sel.pgids.contains(&p.pgid))
                && (sel.sids.is_empty() || sel.sids.contains(&p.sid))
                && (sel.users.is_empty() || sel.users.contains(&p.uid))
                && sel.older_than.is_none_or(|d| age > d)
                && sel.younger_than.is_none_or(|d| age < d)
                && sel.started_after.is_none_or(|t| p.start_time > t)
                && sel.started_before.is_none_or(|t| p.start_time < t)
                && after_process
                    .as_ref()
                    .is_none_or(|(ticks, before)| p.start_ticks >= *ticks && !before.contains(&pid))
                && (!sel.orphans || snap.is_orphan(pid))
        })
        .collect();
    let cheap: Vec<u32> = cheap
        .into_iter()
        .filter(|&pid| {
            sel.cgroups.is_empty()
                || snap
                    .source()
                    .read_cgroup(pid)
                    .is_some_and(|cg| sel.cgroups.iter().any(|c| crate::spec::cgroup_within(&cg, c)))
        })
        .filter(|&pid| {
            sel.containers.is_empty()
                || (snap.source().read_cgroup_file(pid).and_then(|f| crate::container::parse(&f)))
                    .is_some_and(|c| sel.containers.iter().any(|p| c.matches(p)))
        })
        .collect();
    let cheap: Vec<u32> = if sel.envs.is_empty() || env_checked {
        cheap
    } else {
        let mut unreadable = Vec::new();
        let mut kept: Vec<u32> = cheap
            .into_iter()
            .filter(|&pid| match env_check(sel, snap.source(), pid) {
                Some(m) => m,
                None => {
                    unreadable.push(pid);
                    false
                }
            })
            .collect();
        kept.extend(settle_unreadable(sel, snap.source(), &unreadable, &mut out));
        kept.sort_unstable();
        kept
    };
    if sel.needs_details() {
        snap.load_details(cheap.iter().copied());
    }
    out.pids = cheap
        .into_iter()
        .filter(|&pid| {
            let Some(p) = snap.process(pid) else {
                return false;
            };
            if !sel.needs_details() {
                return true;
            }
            let cmd = p.cmdline.as_deref().map(|a| a.join(" ")).unwrap_or_default();
            let argv0 = p.cmdline.as_ref().and_then(|a| a.first()).map(|a| basename(a));
            let exe_name = p.exe.as_deref().and_then(|e| e.file_name()).map(|n| n.to_string_lossy());
            sel.cmdline_matches(&cmd)
                && (sel.names.is_empty()
                    || sel
                        .names
                        .iter()
                        .any(|n| *n == p.name || argv0 == Some(n.as_str()) || exe_name.as_deref() == Some(n.as_str())))
                && (sel.exes.is_empty() || p.exe.as_deref().is_some_and(|e| sel.exes.iter().any(|x| x.matches(e))))
        })
        .collect();
    Ok(out)
}

/// Whether `pid`'s environment has an entry `sel.envs` asks for; `None` when it cannot be read.
fn env_check(sel: &Selection, src: &impl ProcessTable, pid: u32) -> Option<bool> {
    src.read_environ(pid).map(|env| env.iter().any(|e| sel.envs.iter().any(|s| s.matches(e))))
}

/// Accounts for the processes whose environment `--env` could not read, and returns those it
/// matches after all. None is dropped as "did not match" unseen:
/// - gone meanwhile, a kernel thread or a zombie: it has no environment (the kernel answers
///   ESRCH), nothing to count;
/// - another user's: counted in [`Matches::env_unreadable`] (it needs root; a few, such as a
///   sandboxed browser's, are closed even to root), and a broad selection does not signal
///   another user's processes unless asked to (`--all-users`);
/// - PID 1, reaper and its ancestors: never targets, nothing to settle;
/// - else its ancestry settles it: an ancestor whose environment has the entry passed it on (a
///   process inherits its parent's environment), and it matches; with none, it is
///   [`Matches::env_unchecked`].
fn settle_unreadable(sel: &Selection, src: &impl ProcessTable, pids: &[u32], out: &mut Matches) -> Vec<u32> {
    if pids.is_empty() {
        return Vec::new();
    }
    let caller = src.caller_uid();
    let me = src.self_pid();
    let mut mine = vec![me];
    let mut cur = src.read_process(me).map(|p| p.ppid);
    while let Some(pp) = cur.filter(|&pp| pp != 0 && !mine.contains(&pp) && mine.len() < 4096) {
        mine.push(pp);
        cur = src.read_process(pp).map(|p| p.ppid);
    }
    let mut matched = Vec::new();
    for &pid in pids {
        let Some(p) = src.read_process(pid) else { continue };
        if p.kernel_thread || p.is_zombie() || pid == 1 || mine.contains(&pid) {
            continue;
        }
        if p.uid != caller {
            out.env_unreadable += 1;
            continue;
        }
        let mut seen = vec![pid];
        let mut up = Some(p.ppid);
        let mut inherited = false;
        while let Some(pp) = up.filter(|&pp| pp != 0 && !seen.contains(&pp) && seen.len() < 4096) {
            seen.push(pp);
            if env_check(sel, src, pp) == Some(true) {
                inherited = true;
                break;
            }
            up = src.read_process(pp).map(|x| x.ppid);
        }
        if inherited {
            matched.push(pid);
        } else {
            out.env_unchecked.push(pid);
        }
    }
    matched
}

fn basename(arg: &str) -> &str {
    arg.rsplit('/').next().unwrap_or(arg)
}

#[cfg(test)]
mod tests {
    //! Every selector against the fake world (`sys::fake`): no real process is read, and they
    //! run as any user.
    use super::*;
    use crate::model::{Proto, SocketState};
    use crate::sys::fake::World;

    use crate::sys::fake::{CALLER, ME, OTHER, SHELL, TERM};

    fn world() -> World {
        World::desktop()
    }

    fn run(w: World, sel: &Selection) -> Matches {
        find_in(sel, &mut Snapshot::with_source(w)).expect("find")
    }

    fn pids(w: World, sel: &Selection) -> Vec<u32> {
        run(w, sel).pids
    }

    fn port(spec: &str) -> PortSpec {
        spec.parse().expect("port spec")
    }

    #[test]
    fn port_matches_the_holders_of_listeners_on_it() {
        let mut w = world();
        w.spawn(10, SHELL, &["node", "server.js"]);
        w.spawn(11, SHELL, &["node", "other.js"]);
        w.spawn(12, 10, &["node", "worker.js"]);
        w.listen(Proto::Tcp, 3000, 900, &[10, 12]);
        w.listen(Proto::Tcp, 4000, 901, &[11]);
        assert_eq!(pids(w, &Selection::new().port(port("3000"))), [10, 12]);
    }

    #[test]
    fn a_port_whose_holder_cannot_be_seen_is_unresolved_never_free() {
        let mut w = world();
        w.spawn(10, 1, &["postgres"]).uid = OTHER;
        w.listen(Proto::Tcp, 5432, 900, &[10]);
        w.fd_hidden.insert(10);
        let m = run(w, &Selection::new().port(port("5432")));
        assert!(m.pids.is_empty());
        assert_eq!(m.unresolved.iter().map(|s| s.local_port).collect::<Vec<_>>(), [5432]);
        assert!(!m.is_empty(), "could not check is reported, not counted as nothing matched");
    }

    #[test]
    fn proto_restricts_ports_to_one_protocol() {
        let mut w = world();
        w.spawn(10, SHELL, &["tcpd"]);
        w.spawn(11, SHELL, &["udpd"]);
        w.listen(Proto::Tcp, 3000, 900, &[10]);
        w.listen(Proto::Udp, 3000, 901, &[11]);
        assert_eq!(pids(w.clone(), &Selection::new().port(port("3000"))), [10, 11]);
        let sel = Selection { proto: Some(Proto::Udp), ..Selection::new().port(port("3000")) };
        assert_eq!(pids(w, &sel), [11]);
    }

    #[test]
    fn state_any_also_matches_connections() {
        let mut w = world();
        w.spawn(10, SHELL, &["client"]);
        w.listen(Proto::Tcp, 3000, 900, &[10]);
        w.sockets[0].0.state = SocketState::Established;
        assert!(pids(w.clone(), &Selection::new().port(port("3000"))).is_empty());
        let sel = Selection { any_state: true, ..Selection::new().port(port("3000")) };
        assert_eq!(pids(w, &sel), [10]);
    }

    /// A port held in another network namespace (a container's) is not this host's port:
    /// `--all-netns` looks there too; a namespace it cannot read is counted, not taken as free.
    #[test]
    fn all_netns_looks_up_ports_in_every_network_namespace() {
        let mut w = world();
        w.spawn(10, 1, &["nginx"]).netns = 7;
        w.spawn(11, 1, &["nginx"]).netns = 8;
        w.listen_in(7, Proto::Tcp, 80, 900, &[10]);
        w.listen_in(8, Proto::Tcp, 80, 901, &[11]);
        assert!(pids(w.clone(), &Selection::new().port(port("80"))).is_empty());
        w.netns_denied.insert(8);
        let mut snap = Snapshot::with_source(w);
        let m = find_in(&Selection::new().port(port("80")).all_netns(), &mut snap).expect("find");
        assert_eq!(m.pids, [10]);
        assert_eq!(snap.netns_denied, 1, "the unreadable namespace is reported");
        assert_eq!(snap.socket_netns(900).map(|n| n.inode), Some(7));
    }

    #[test]
    fn the_ports_of_a_process_in_another_namespace_are_shown_with_it() {
        let mut w = world();
        w.spawn(10, 1, &["nginx"]).netns = 7;
        w.spawn(11, SHELL, &["node"]);
        w.listen_in(7, Proto::Tcp, 80, 900, &[10]);
        w.listen(Proto::Tcp, 3000, 901, &[11]);
        let mut snap = Snapshot::with_source(w);
        let m = find_in(&Selection::new().signature("nginx|node").expect("re"), &mut snap).expect("find");
        assert_eq!(m.pids, [10, 11]);
        snap.load_sockets(SocketFilter { tcp: true, udp: true }).expect("sockets");
        snap.find_ports_of(&m.pids).expect("ports");
        let shown = |pid| snap.ports_of(pid).iter().map(|e| (e.local_port, e.netns.clone())).collect::<Vec<_>>();
        assert_eq!(shown(10), [(80, Some("net:[7]".to_string()))]);
        assert_eq!(shown(11), [(3000, None)]);
    }

    #[test]
    fn no_selector_means_every_port_holder() {
        let mut w = world();
        w.spawn(10, SHELL, &["server"]);
        w.spawn(11, SHELL, &["idle"]);
        w.listen(Proto::Udp, 53, 900, &[10]);
        assert_eq!(pids(w, &Selection::new()), [10]);
    }

    #[test]
    fn signature_is_a_regex_over_the_joined_command_line() {
        let mut w = world();
        w.spawn(10, SHELL, &["python3", "-m", "http.server", "8000"]);
        w.spawn(11, SHELL, &["python3", "app.py"]);
        assert_eq!(pids(w, &Selection::new().signature(r"http\.server 8\d+").expect("re")), [10]);
    }

    #[test]
    fn signatures_or_within_their_kind_and_and_across_kinds() {
        let mut w = world();
        w.spawn(10, SHELL, &["alpha"]);
        w.spawn(11, SHELL, &["beta"]);
        w.spawn(12, SHELL, &["gamma"]).uid = OTHER;
        w.spawn(13, SHELL, &["gamma"]);
        let sel = Selection::new().signature("alpha").expect("re").signature("gamma").expect("re");
        assert_eq!(pids(w.clone(), &sel), [10, 12, 13]);
        let sel = sel.user(&CALLER.to_string()).expect("uid");
        assert_eq!(pids(w, &sel), [10, 13]);
    }

    #[test]
    fn exclude_removes_command_lines() {
        let mut w = world();
        w.spawn(10, SHELL, &["node", "server.js"]);
        w.spawn(11, SHELL, &["node", "server.js", "--keep"]);
        let sel = Selection::new().signature("server").expect("re").exclude("--keep").expect("re");
        assert_eq!(pids(w, &sel), [10]);
    }

    #[test]
    fn name_matches_comm_argv0_or_the_executable() {
        let mut w = world();
        w.spawn(10, SHELL, &["/usr/bin/redis-server", "*:6379"]);
        w.spawn(11, SHELL, &["renamed"]).exe = Some("/usr/bin/redis-server".into());
        let p = w.spawn(12, SHELL, &["worker"]);
        p.name = "redis-server".into();
        w.spawn(13, SHELL, &["redis-cli"]);
        assert_eq!(pids(w, &Selection::new().name("redis-server")), [10, 11, 12]);
    }

    #[test]
    fn exe_globs_the_file_name_or_with_a_slash_the_path() {
        let mut w = world();
        w.spawn(10, SHELL, &["a"]).exe = Some("/opt/app/bin/server".into());
        w.spawn(11, SHELL, &["b"]).exe = Some("/usr/bin/server".into());
        w.spawn(12, SHELL, &["c"]).exe = None; // unreadable: cannot match a path
        assert_eq!(pids(w.clone(), &Selection::new().exe("serv*").expect("glob")), [10, 11]);
        assert_eq!(pids(w, &Selection::new().exe("/opt/*/server").expect("glob")), [10]);
    }

    #[test]
    fn pid_selects_exactly_and_narrows_ports() {
        let mut w = world();
        w.spawn(10, SHELL, &["a"]);
        w.spawn(11, SHELL, &["b"]);
        w.listen(Proto::Tcp, 3000, 900, &[10, 11]);
        assert_eq!(pids(w.clone(), &Selection::new().pid(11)), [11]);
        assert_eq!(pids(w.clone(), &Selection::new().pid(11).port(port("3000"))), [11]);
        assert!(pids(w, &Selection::new().pid(11).port(port("4000"))).is_empty());
    }

    #[test]
    fn descendants_of_is_the_tree_below_without_its_root() {
        let mut w = world();
        w.spawn(10, SHELL, &["root"]);
        w.spawn(11, 10, &["child"]);
        w.spawn(12, 11, &["grandchild"]);
        w.spawn(13, SHELL, &["elsewhere"]);
        assert_eq!(pids(w, &Selection::new().descendants_of(10)), [11, 12]);
    }

    // A tree is found by one pass over every stat: the rest of the system is not read in full
    // (a guard ends its tree this way on every stop).
    #[test]
    fn descendants_of_reads_only_the_tree_in_full() {
        let mut w = world();
        w.spawn(10, SHELL, &["root"]);
        w.spawn(11, 10, &["child"]);
        w.spawn(13, SHELL, &["elsewhere"]);
        let mut snap = Snapshot::with_source(w);
        assert_eq!(find_in(&Selection::new().descendants_of(10), &mut snap).expect("find").pids, [11]);
        assert!(snap.process(11).is_some());
        assert!(snap.process(13).is_none(), "a process outside the tree was read");
    }

    #[test]
    fn descendants_of_two_roots_keeps_a_root_below_the_other() {
        let mut w = world();
        w.spawn(10, SHELL, &["root"]);
        w.spawn(11, 10, &["child"]);
        w.spawn(12, 11, &["grandchild"]);
        assert_eq!(pids(w, &Selection::new().descendants_of(10).descendants_of(11)), [11, 12]);
    }

    #[test]
    fn children_of_is_one_level() {
        let mut w = world();
        w.spawn(10, SHELL, &["root"]);
        w.spawn(11, 10, &["child"]);
        w.spawn(12, 11, &["grandchild"]);
        assert_eq!(pids(w, &Selection::new().children_of(10)), [11]);
    }

    #[test]
    fn pgid_and_sid_select_groups_and_sessions() {
        let mut w = world();
        w.spawn(10, SHELL, &["a"]).pgid = 77;
        let p = w.spawn(11, SHELL, &["b"]);
        p.pgid = 77;
        p.sid = 88;
        w.spawn(12, SHELL, &["c"]).sid = 88;
        assert_eq!(pids(w.clone(), &Selection { pgids: vec![77], ..Selection::new() }), [10, 11]);
        assert_eq!(pids(w, &Selection { sids: vec![88], ..Selection::new() }), [11, 12]);
    }

    #[test]
    fn user_selects_by_uid() {
        let mut w = world();
        w.spawn(10, 1, &["a"]).uid = OTHER;
        w.spawn(11, SHELL, &["b"]);
        assert_eq!(pids(w, &Selection { users: vec![OTHER], ..Selection::new() }), [10]);
    }

    #[test]
    fn orphans_are_children_of_pid_1_or_of_a_session_subreaper() {
        let mut w = world();
        w.spawn(10, 1, &["left-behind"]);
        w.spawn(20, 1, &["/lib/systemd/systemd", "--user"]);
        w.spawn(21, 20, &["under-user-manager"]);
        w.spawn(22, SHELL, &["has-a-parent"]);
        // PID 1 itself and kernel threads are never orphans; the terminal (a child of PID 1) is
        // one: only the rails keep it from a kill.
        assert_eq!(pids(w, &Selection::new().orphans()), [10, 20, 21, TERM]);
    }

    #[test]
    fn older_and_younger_than_compare_ages() {
        let mut w = world();
        let now = SystemTime::now();
        w.spawn(10, SHELL, &["old"]).started = now - Duration::from_secs(7200);
        w.spawn(11, SHELL, &["young"]).started = now - Duration::from_secs(5);
        let sel = Selection::new().older_than(Duration::from_secs(3600)).signature("old|young").expect("re");
        assert_eq!(pids(w.clone(), &sel), [10]);
        let sel = Selection::new().younger_than(Duration::from_secs(60)).signature("old|young").expect("re");
        assert_eq!(pids(w, &sel), [11]);
    }

    #[test]
    fn started_after_and_before_are_strict_bounds() {
        let mut w = world();
        let t = SystemTime::now() - Duration::from_secs(100);
        w.spawn(10, SHELL, &["before"]).started = t - Duration::from_secs(1);
        w.spawn(11, SHELL, &["at"]).started = t;
        w.spawn(12, SHELL, &["after"]).started = t + Duration::from_secs(1);
        let only = |s: Selection| s.signature("^(before|at|after)$").expect("re");
        assert_eq!(pids(w.clone(), &only(Selection::new().started_after(t))), [12]);
        assert_eq!(pids(w, &only(Selection::new().started_before(t))), [10]);
    }

    #[test]
    fn started_after_a_process_includes_its_tick_and_excludes_it_and_its_ancestors() {
        let mut w = world();
        w.spawn(10, SHELL, &["job"]);
        w.spawn(11, 10, &["same-tick"]);
        w.spawn(12, SHELL, &["earlier"]);
        w.spawn(13, 11, &["later"]);
        let ticks = 5_000;
        for (pid, start) in [(10, ticks), (11, ticks), (12, ticks - 1), (13, ticks + 1)] {
            w.proc(pid).start = start;
        }
        w.proc(SHELL).start = 1;
        let sel = Selection { started_after_process: Some((10, ticks)), ..Selection::new() };
        let got = pids(w, &sel.signature("^(job|same-tick|earlier|later)$").expect("re"));
        assert_eq!(got, [11, 13]);
    }

    #[test]
    fn env_matches_a_name_or_a_name_and_value() {
        let mut w = world();
        w.spawn(10, SHELL, &["a"]).env = Some(vec!["CI_JOB=42".into(), "X=1".into()]);
        w.spawn(11, SHELL, &["b"]).env = Some(vec!["CI_JOB=43".into()]);
        w.spawn(12, SHELL, &["c"]).env = Some(vec!["OTHER=42".into()]);
        assert_eq!(pids(w.clone(), &Selection::new().env("CI_JOB").expect("env")), [10, 11]);
        assert_eq!(pids(w.clone(), &Selection::new().env("CI_JOB=42").expect("env")), [10]);
        // The same with a cheaper selector first (the environment read per candidate).
        let sel = Selection::new().env("CI_JOB=43").expect("env").signature("^[abc]$").expect("re");
        assert_eq!(pids(w, &sel), [11]);
    }

    /// An environment that cannot be read is reported (`env_unreadable`, `env_unchecked`),
    /// never counted as "did not match"; an ancestor that has the entry settles it.
    #[test]
    fn an_unreadable_environment_is_reported_or_settled_by_ancestry_never_dropped() {
        for cheap_first in [false, true] {
            let mut w = world();
            w.spawn(10, SHELL, &["job"]).env = Some(vec!["CI_JOB=42".into()]);
            w.spawn(11, 10, &["ssh-agent"]).env = None; // not dumpable, under the job
            w.spawn(12, SHELL, &["gpg-agent"]).env = None; // not dumpable, no ancestor has it
            let other = w.spawn(13, 1, &["postgres"]);
            other.env = None;
            other.uid = OTHER;
            w.spawn(14, SHELL, &["unrelated"]);
            let mut sel = Selection::new().env("CI_JOB=42").expect("env");
            if cheap_first {
                sel = sel.signature("^(job|ssh-agent|gpg-agent|postgres|unrelated)$").expect("re");
            }
            let m = run(w, &sel);
            assert_eq!(m.pids, [10, 11], "cheap first: {cheap_first}");
            assert_eq!(m.env_unchecked, [12], "cheap first: {cheap_first}");
            assert_eq!(m.env_unreadable, 1, "cheap first: {cheap_first}");
        }
    }

    #[test]
    fn cgroup_matches_the_path_and_below() {
        let mut w = world();
        w.spawn(10, SHELL, &["a"]).cgroup = Some("/system.slice/app.service".into());
        w.spawn(11, SHELL, &["b"]).cgroup = Some("/system.slice/app.service/worker".into());
        w.spawn(12, SHELL, &["c"]).cgroup = Some("/system.slice/app.service2".into());
        w.spawn(13, SHELL, &["d"]).cgroup = None;
        let sel = Selection::new().cgroup("/system.slice/app.service").expect("cgroup");
        assert_eq!(pids(w, &sel), [10, 11]);
    }

    #[test]
    fn container_matches_an_id_prefix() {
        let id = "0123456789abcdef".repeat(4);
        let mut w = world();
        w.spawn(10, 1, &["nginx"]).cgroup = Some(format!("/system.slice/docker-{id}.scope"));
        let other = "f".repeat(64);
        w.spawn(11, 1, &["nginx"]).cgroup = Some(format!("/system.slice/docker-{other}.scope"));
        w.spawn(12, SHELL, &["nginx"]).cgroup = Some("/user.slice".into());
        assert_eq!(pids(w, &Selection::new().container("01234567").expect("prefix")), [10]);
    }

    #[test]
    fn reaper_itself_and_kernel_threads_never_match() {
        let w = world();
        let sel = Selection::new().signature("").expect("re");
        let got = pids(w.clone(), &sel);
        assert!(got.contains(&SHELL) && got.contains(&1), "{got:?}");
        assert!(!got.contains(&ME) && !got.contains(&2), "{got:?}");
        assert!(pids(w, &Selection::new().pid(ME).pid(2)).is_empty());
    }

    #[test]
    fn a_process_table_of_another_namespace_is_an_error_not_an_empty_match() {
        let mut w = world();
        w.foreign_proc = true;
        let err = find_in(&Selection::new().pid(1), &mut Snapshot::with_source(w)).expect_err("foreign /proc");
        assert!(matches!(err, Error::ForeignProc(_)), "{err}");
    }

    #[test]
    fn is_empty_and_is_broad_know_every_selector() {
        assert!(Selection::new().is_empty());
        let refinements = Selection { proto: Some(Proto::Tcp), any_state: true, all_netns: true, ..Selection::new() };
        assert!(refinements.exclude("x").expect("re").is_empty());
        let one_each = [
            Selection::new().port(port("1")),
            Selection::new().signature("x").expect("re"),
            Selection::new().name("x"),
            Selection::new().exe("x").expect("glob"),
            Selection::new().pid(1),
            Selection::new().descendants_of(1),
            Selection::new().children_of(1),
            Selection { pgids: vec![1], ..Selection::new() },
            Selection { sids: vec![1], ..Selection::new() },
            Selection { users: vec![1], ..Selection::new() },
            Selection::new().orphans(),
            Selection::new().older_than(Duration::from_secs(1)),
            Selection::new().younger_than(Duration::from_secs(1)),
            Selection::new().env("X").expect("env"),
            Selection::new().cgroup("/x").expect("cgroup"),
            Selection::new().container("abcd").expect("prefix"),
            Selection::new().started_after(SystemTime::UNIX_EPOCH),
            Selection::new().started_before(SystemTime::UNIX_EPOCH),
            Selection { started_after_process: Some((1, 1)), ..Selection::new() },
        ];
        for (i, sel) in one_each.iter().enumerate() {
            assert!(!sel.is_empty(), "selector {i}: {sel:?}");
            assert_eq!(sel.is_broad(), i > 0 && i != 4, "selector {i}: {sel:?}");
        }
    }
}
