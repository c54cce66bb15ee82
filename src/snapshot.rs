//! The snapshot: what the system looked like when we asked. Processes and sockets are read once,
//! and only as much as the query needs: a port query reads the socket table and the fd tables
//! that can hold those sockets, not every command line on the machine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use crate::error::Result;
pub use crate::sys::{ProcessTable, SocketTable, Source, System};

pub use crate::model::{NetNs, PortEntry, Process, Socket, SocketFilter, SocketState};

/// How many times [`Snapshot::load_details`] reads an empty command line again (a process
/// caught between the two halves of exec).
const EXEC_RETRIES: usize = 20;

/// Processes and sockets, read once, from `S`: the real system unless a test gives the fake
/// world (see [`Snapshot::with_source`]).
#[derive(Debug, Default)]
pub struct Snapshot<S = System> {
    /// Where processes and sockets are read from.
    src: S,
    procs: BTreeMap<u32, Process>,
    full: bool,
    sockets: Vec<Socket>,
    /// Socket inode -> pids holding it, for the inodes whose owners were looked up.
    holders: HashMap<u64, Vec<u32>>,
    /// Set when `sockets` holds only the listening sockets of this filter.
    listeners_only: Option<SocketFilter>,
    /// Pids whose fd table has been scanned against `sockets`.
    scanned: HashSet<u32>,
    /// Whether some fd table could not be read (not root).
    pub fd_denied: bool,
    users: HashMap<u32, String>,
    /// Pids whose executable link has been read (`Process::exe` is `None` both before that and
    /// when it is unreadable).
    exe_read: HashSet<u32>,
    /// When the snapshot was taken.
    pub taken_at: Option<SystemTime>,
    /// Whether the socket table is every network namespace's (`--all-netns`), not only
    /// reaper's own.
    all_netns: bool,
    /// The filter of the last table read.
    filter: SocketFilter,
    /// Socket inode -> its network namespace, for the sockets not in reaper's own (socket
    /// inodes are unique across namespaces).
    socket_netns: HashMap<u64, NetNs>,
    /// Sockets of other network namespaces, read only to show the ports of processes there:
    /// never part of `sockets`, and so never of a port's verdict.
    elsewhere: Vec<Socket>,
    /// The network namespaces whose tables are in `elsewhere`.
    netns_read: HashSet<u64>,
    /// How many network namespaces could not be read (not root): their ports are not known.
    pub netns_denied: usize,
    /// Answers of the system's tools and services that provenance asked, by question (see
    /// [`Snapshot::answer`]).
    answers: HashMap<String, Option<String>>,
}

impl Snapshot {
    /// An empty snapshot of this system; fill it with the `load_*` methods.
    pub fn new() -> Snapshot {
        Snapshot::with_source(System)
    }
}

impl<S: Source> Snapshot<S> {
    /// An empty snapshot read from `src`.
    pub fn with_source(src: S) -> Snapshot<S> {
        Snapshot {
            src,
            procs: BTreeMap::new(),
            full: false,
            sockets: Vec::new(),
            holders: HashMap::new(),
            listeners_only: None,
            scanned: HashSet::new(),
            fd_denied: false,
            users: HashMap::new(),
            exe_read: HashSet::new(),
            taken_at: Some(SystemTime::now()),
            all_netns: false,
            filter: SocketFilter::default(),
            socket_netns: HashMap::new(),
            elsewhere: Vec::new(),
            netns_read: HashSet::new(),
            netns_denied: 0,
            answers: HashMap::new(),
        }
    }

    /// Where this snapshot reads from.
    pub fn source(&self) -> &S {
        &self.src
    }

    /// Reads every process on the system (without command lines).
    pub fn load_all_processes(&mut self) -> Result<()> {
        if self.full {
            return Ok(());
        }
        for pid in self.src.list_pids()? {
            if let std::collections::btree_map::Entry::Vacant(e) = self.procs.entry(pid)
                && let Some(p) = self.src.read_process(pid)
            {
                e.insert(p);
            }
        }
        self.full = true;
        Ok(())
    }

    /// Reads the given processes, if not already read; pids that do not exist are skipped.
    pub fn load_processes(&mut self, pids: impl IntoIterator<Item = u32>) {
        for pid in pids {
            if !self.procs.contains_key(&pid)
                && let Some(p) = self.src.read_process(pid)
            {
                self.procs.insert(pid, p);
            }
        }
    }

    /// Reads the ancestors of the given processes, up to the root.
    pub fn load_ancestors(&mut self, pids: &[u32]) {
        for &pid in pids {
            let mut cur = self.procs.get(&pid).map(|p| p.ppid);
            let mut hops = 0;
            while let Some(pp) = cur.filter(|&pp| pp != 0) {
                self.load_processes([pp]);
                cur = self.procs.get(&pp).map(|p| p.ppid);
                hops += 1;
                if hops > 4096 {
                    break;
                }
            }
        }
    }

    /// Reads command lines and executables of the given processes.
    pub fn load_details(&mut self, pids: impl IntoIterator<Item = u32>) {
        for pid in pids {
            if let Some(p) = self.procs.get_mut(&pid) {
                if p.cmdline.is_none() {
                    let mut args = self.src.read_cmdline(pid).unwrap_or_default();
                    // A process in the middle of exec reads as empty for a few microseconds (its
                    // old image is gone, the new one's arguments are not set up yet; a parent
                    // whose spawn just returned can see it). Only kernel threads and zombies
                    // have no arguments for good: look again, a bounded few times.
                    for _ in 0..EXEC_RETRIES {
                        if !args.is_empty() || p.kernel_thread || p.is_zombie() {
                            break;
                        }
                        std::thread::yield_now();
                        args = self.src.read_cmdline(pid).unwrap_or_default();
                    }
                    p.cmdline = Some(args);
                }
                if self.exe_read.insert(pid) {
                    p.exe = self.src.read_exe(pid);
                }
            }
        }
    }

    /// Reads the command line of every process on the system and loads those for which `keep`
    /// holds of the command line (arguments joined by single spaces; empty for zombies and
    /// kernel threads), with their command lines. Returns their pids, ascending. This is how a
    /// query by command line avoids reading everything else about every process.
    pub fn load_by_cmdline(&mut self, mut keep: impl FnMut(&str) -> bool) -> Result<Vec<u32>> {
        let mut pids = self.src.list_pids()?;
        pids.sort_unstable();
        let mut kept = Vec::new();
        for pid in pids {
            let args = match self.procs.get(&pid).and_then(|p| p.cmdline.clone()) {
                Some(args) => args,
                None => match self.src.read_cmdline(pid) {
                    Some(args) => args,
                    None => continue, // gone
                },
            };
            if !keep(&args.join(" ")) {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = self.procs.entry(pid) {
                let Some(p) = self.src.read_process(pid) else {
                    continue;
                };
                e.insert(p);
            }
            if let Some(p) = self.procs.get_mut(&pid) {
                p.cmdline.get_or_insert(args);
                kept.push(pid);
            }
        }
        Ok(kept)
    }

    /// Reads command lines and executables of every loaded process.
    pub fn load_all_details(&mut self) {
        let pids: Vec<u32> = self.procs.keys().copied().collect();
        self.load_details(pids);
    }

    /// Makes the socket table every network namespace's (`--all-netns`): reaper's own, and
    /// the table of each other one a process is in or `ip netns` names, read once each. Off,
    /// the table is reaper's own namespace's: the ports as this host's network sees them.
    /// Applies to the tables read from now on.
    pub fn set_all_netns(&mut self, all: bool) {
        self.all_netns = all;
    }

    /// Reads the table(s) of the scope: reaper's own network namespace, and with
    /// [`Snapshot::set_all_netns`] every other one, each socket of those tagged with its
    /// namespace.
    fn read_tables(&mut self, filter: SocketFilter, listeners_only: bool) -> Result<Vec<Socket>> {
        let mut out = if listeners_only { self.src.listening_sockets(filter)? } else { self.src.sockets(filter)? };
        self.filter = filter;
        if self.all_netns {
            self.netns_denied = 0;
            let own = self.src.netns_inode(self.src.self_pid());
            for ns in self.src.net_namespaces()?.into_iter().filter(|n| Some(n.inode) != own) {
                let Some(got) = self.src.netns_sockets(&ns, filter, listeners_only)? else {
                    self.netns_denied += 1;
                    continue;
                };
                for s in got.iter().filter(|s| s.inode != 0) {
                    self.socket_netns.insert(s.inode, ns.clone());
                }
                out.extend(got);
            }
        }
        Ok(out)
    }

    /// Reads the socket table (no owners yet).
    pub fn load_sockets(&mut self, filter: SocketFilter) -> Result<()> {
        self.sockets = self.read_tables(filter, false)?;
        self.listeners_only = None;
        Ok(())
    }

    /// Reads only the sockets that hold ports (TCP listeners, UDP sockets): enough for a query
    /// about listeners, and much cheaper on a machine with many connections. Methods that need
    /// a process's other sockets ([`Snapshot::find_ports_of`]) read the rest when they need it.
    pub fn load_listening_sockets(&mut self, filter: SocketFilter) -> Result<()> {
        self.sockets = self.read_tables(filter, true)?;
        self.listeners_only = Some(filter);
        Ok(())
    }

    /// Finds every process that holds one of `inodes` by scanning fd tables: all processes when
    /// `among` is `None`, else only those pids. Every holder is recorded, not just the first.
    ///
    /// Errors: a scan that could not read an fd table for another reason than permissions (no fd
    /// left, say): who holds what is then unknown, and a missing holder must not read as "free".
    pub fn find_holders(&mut self, inodes: &HashSet<u64>, among: Option<&[u32]>) -> Result<()> {
        if inodes.is_empty() {
            return Ok(());
        }
        let scan = self.src.scan_socket_holders(inodes, among);
        if let Some(why) = scan.error {
            return Err(crate::error::Error::Sockets(why));
        }
        self.fd_denied |= scan.denied;
        for (inode, pids) in scan.holders {
            let entry = self.holders.entry(inode).or_default();
            for pid in pids {
                if !entry.contains(&pid) {
                    entry.push(pid);
                }
            }
        }
        match among {
            Some(pids) => self.scanned.extend(pids.iter().copied()),
            None => self.scanned.extend(scan.scanned),
        }
        Ok(())
    }

    /// Makes sure the fd tables of `pids` have been scanned against every held socket, so that
    /// [`Snapshot::ports_of`] is complete for them. A process in another network namespace
    /// holds its sockets in that namespace's table: that table is read too (once per
    /// namespace), its sockets marked with the namespace, and kept apart from the verdicts.
    pub fn find_ports_of(&mut self, pids: &[u32]) -> Result<()> {
        let todo: Vec<u32> = pids.iter().copied().filter(|p| !self.scanned.contains(p)).collect();
        if todo.is_empty() {
            return Ok(());
        }
        if let Some(filter) = self.listeners_only {
            // The whole table, as `load_sockets` would have read it; the inodes, and so the
            // holders found so far, stay valid. On failure the listeners are all there is.
            if let Ok(all) = self.read_tables(filter, false) {
                self.sockets = all;
                self.listeners_only = None;
            }
        }
        if !self.all_netns {
            let own = self.src.netns_inode(self.src.self_pid());
            for &pid in &todo {
                // One readlink per process; the namespace's name only for another one.
                let inode = self.src.netns_inode(pid);
                if inode.is_none() || inode == own || inode.is_some_and(|i| self.netns_read.contains(&i)) {
                    continue;
                }
                let Some(ns) = self.src.net_namespace_of(pid) else { continue };
                self.netns_read.insert(ns.inode);
                // Unreadable (not root): the process's ports there stay unknown, as other
                // users' fd tables do.
                if let Ok(Some(got)) = self.src.netns_sockets(&ns, self.filter, false) {
                    for s in got.iter().filter(|s| s.inode != 0) {
                        self.socket_netns.insert(s.inode, ns.clone());
                    }
                    self.elsewhere.extend(got);
                }
            }
        }
        let inodes: HashSet<u64> =
            self.sockets.iter().chain(&self.elsewhere).filter(|s| s.is_held()).map(|s| s.inode).collect();
        self.find_holders(&inodes, Some(&todo))
    }

    /// The network namespace of the socket with this inode, when it is not reaper's own.
    pub fn socket_netns(&self, inode: u64) -> Option<&NetNs> {
        self.socket_netns.get(&inode)
    }

    /// The process with this pid, if read.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// Every process read so far, by pid.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }

    /// Whether every process on the system has been read.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The socket table.
    pub fn sockets(&self) -> &[Socket] {
        &self.sockets
    }

    /// The pids known to hold the socket with this inode.
    pub fn holders(&self, inode: u64) -> &[u32] {
        self.holders.get(&inode).map_or(&[], Vec::as_slice)
    }

    /// The sockets a process holds, among those whose holders were looked up, in whatever
    /// network namespace (see [`Snapshot::find_ports_of`]).
    pub fn sockets_of(&self, pid: u32) -> Vec<&Socket> {
        self.sockets
            .iter()
            .chain(&self.elsewhere)
            .filter(|s| s.is_held() && self.holders(s.inode).contains(&pid))
            .collect()
    }

    /// The ports a process holds, sorted and without duplicates, each marked with its network
    /// namespace when that is not reaper's own.
    pub fn ports_of(&self, pid: u32) -> Vec<PortEntry> {
        let entry = |s: &Socket| PortEntry { netns: self.socket_netns(s.inode).map(NetNs::label), ..PortEntry::of(s) };
        let mut v: Vec<PortEntry> = self.sockets_of(pid).into_iter().map(entry).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The direct children of `pid`, sorted (complete only after [`Snapshot::load_all_processes`]).
    pub fn children(&self, pid: u32) -> Vec<u32> {
        self.procs.values().filter(|p| p.ppid == pid && p.pid != pid).map(|p| p.pid).collect()
    }

    /// Every descendant of `pid` among the processes read so far, parents before children:
    /// the crate's one descendant walk (`tree::descendants`) over
    /// this snapshot, complete only after [`Snapshot::load_all_processes`].
    pub fn descendants(&self, pid: u32) -> Vec<u32> {
        crate::tree::descendants(&[pid], self.procs.values().map(|p| (p.pid, p.ppid, p.pid)))
    }

    /// The parent chain of `pid`, nearest first (only the processes read so far).
    pub fn ancestors(&self, pid: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.procs.get(&pid).map(|p| p.ppid);
        while let Some(pp) = cur.filter(|&pp| pp != 0 && !out.contains(&pp) && pp != pid) {
            out.push(pp);
            cur = self.procs.get(&pp).map(|p| p.ppid);
        }
        out
    }

    /// Whether `pid` is an orphan: reparented away from whoever started it. The rule: its parent
    /// is PID 1 (the init of reaper's PID namespace), or a session subreaper (a `systemd`
    /// process other than PID 1, i.e. `systemd --user`). PID 1 itself and kernel threads are
    /// never orphans. The parent must have been read for the subreaper case.
    pub fn is_orphan(&self, pid: u32) -> bool {
        let Some(p) = self.procs.get(&pid) else {
            return false;
        };
        if p.pid == 1 || p.kernel_thread || p.ppid == 0 {
            return false;
        }
        if p.ppid == 1 {
            return true;
        }
        self.procs.get(&p.ppid).is_some_and(|p| self.src.is_session_subreaper(p))
    }

    /// The name of `uid`, or the number when it has no name.
    pub fn user_name(&mut self, uid: u32) -> String {
        self.users.entry(uid).or_insert_with(|| self.src.user_name(uid).unwrap_or_else(|| uid.to_string())).clone()
    }

    /// The answer to `question`, asked (`ask` run) at most once per snapshot: provenance asks
    /// system tools and services (`systemctl show` of a unit, a container engine's API socket)
    /// about what many processes share, and `list` explains every process it lists. An answer
    /// of `None` (no answer) is kept too.
    pub(crate) fn answer(&mut self, question: String, ask: impl FnOnce() -> Option<String>) -> Option<String> {
        self.answers.entry(question).or_insert_with(ask).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fake::World;

    #[test]
    fn a_question_is_asked_once_per_snapshot() {
        let mut snap = Snapshot::with_source(World::default());
        let mut asked = 0;
        for _ in 0..3 {
            let a = snap.answer("systemctl show a.service".into(), || {
                asked += 1;
                Some("Restart=always".into())
            });
            assert_eq!(a.as_deref(), Some("Restart=always"));
        }
        // No answer is an answer too: a tool that timed out is not run again for the next
        // process of the same unit.
        for _ in 0..2 {
            assert_eq!(
                snap.answer("systemctl show b.service".into(), || {
                    asked += 1;
                    None
                }),
                None
            );
        }
        assert_eq!(asked, 2);
        // A new snapshot asks again.
        let mut snap = Snapshot::with_source(World::default());
        snap.answer("systemctl show a.service".into(), || {
            asked += 1;
            None
        });
        assert_eq!(asked, 3);
    }
}
