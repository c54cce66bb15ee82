//! The one in-memory fake of the operating system, for every unit test: a process table, a
//! socket table, and the kill engine's [`Control`] over the same processes. Nothing here touches
//! a real process, so the tests that use it run as any user.
//!
//! A test builds a [`World`], adds processes ([`World::add`], then edits the returned entry's
//! fields through [`World::proc`]) and sockets ([`World::listen`]), and hands it to
//! `Snapshot::with_source`, to the rails, or to the engine.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::contract::{Control, Pin, ProcessTable, SocketTable};
use crate::error::{Error, Result};
use crate::model::{
    HolderScan, InodeSet, NetNs, Process, Proto, Seen, Sent, Socket, SocketFilter, SocketState, Unpinned, Waited,
};

/// [`World::desktop`]: reaper's pid, its shell's, the terminal emulator's that runs the shell.
pub const ME: u32 = 500;
pub const SHELL: u32 = 300;
pub const TERM: u32 = 200;
/// [`World::desktop`]: the caller's uid, and another user's.
pub const CALLER: u32 = 1000;
pub const OTHER: u32 = 1001;

/// The inode of reaper's own network namespace in the fake world.
pub const OWN_NETNS: u64 = 1;

/// One fake process.
#[derive(Clone, Debug)]
pub struct FakeProc {
    pub start: u64,
    pub ppid: u32,
    pub pgid: u32,
    pub sid: u32,
    pub uid: u32,
    pub name: String,
    /// `None`: unreadable.
    pub cmdline: Option<Vec<String>>,
    pub exe: Option<PathBuf>,
    /// Device and inode of the executable.
    pub exe_id: Option<(u64, u64)>,
    /// `None`: unreadable (another user's, or not dumpable).
    pub env: Option<Vec<String>>,
    pub cgroup: Option<String>,
    /// Its network namespace's inode ([`OWN_NETNS`] is reaper's).
    pub netns: u64,
    pub started: SystemTime,
    pub kernel_thread: bool,
    /// Hidden from the process table (`hidepid`): listed nowhere, unreadable.
    pub hidden: bool,
    pub alive: bool,
    pub stopped: bool,
    /// Signals it ignores (SIGKILL and SIGSTOP cannot be).
    pub ignores: Vec<i32>,
    /// Signals sent and not yet acted on (it is stopped).
    pub pending: Vec<i32>,
    pub denied: bool,
    /// The signal that ended it.
    pub died_of: Option<i32>,
}

/// The fake machine.
#[derive(Clone, Debug)]
pub struct World {
    pub procs: HashMap<u32, FakeProc>,
    /// Reaper's own pid in this world (it need not be a process of it).
    pub me: u32,
    /// The uid reaper runs as.
    pub caller: u32,
    /// The process table is another PID namespace's.
    pub foreign_proc: bool,
    /// Names of uids; others are `user<uid>`, uid 0 `root`.
    pub users: HashMap<u32, String>,
    /// Sockets, each with the pids holding it.
    pub sockets: Vec<(Socket, Vec<u32>)>,
    /// Socket inode -> the network namespace it is in, for those not in [`OWN_NETNS`].
    pub socket_netns: HashMap<u64, u64>,
    /// Network namespaces whose tables cannot be read (not root).
    pub netns_denied: HashSet<u64>,
    /// Pids whose fd tables cannot be read.
    pub fd_hidden: HashSet<u32>,
    /// Thread id -> the process it belongs to.
    pub threads: HashMap<u32, u32>,
    /// Reaper's stdio pipes, and the pids the pipeline check finds among its group.
    pub pipes: Vec<super::PipeEnd>,
    pub partners: Vec<u32>,
    /// Every signal sent, in order.
    pub log: Vec<(u32, i32)>,
    /// Start times replaced after planning (pid recycled).
    pub recycle: Vec<u32>,
    /// Pids that fork a new child the first time they are stopped.
    pub fork_on_stop: Vec<u32>,
    pub interrupt_after_signals: Option<usize>,
    pub next_pid: u32,
    /// A signal the fake kernel refuses (EINVAL).
    pub refuse: Option<i32>,
    /// (pid, signal) pairs the fake kernel drops (a namespace's init without a handler).
    pub drops: Vec<(u32, i32)>,
    /// Pids that fork a new child when a signal is delivered to them (a SIGTERM handler that
    /// re-forks a worker).
    pub fork_on_delivery: Vec<u32>,
    /// Whether those children keep what their parent ignores (or reset it, as a worker does).
    pub inherit_ignores: bool,
    /// No quiet freeze (as when ptrace is refused): only SIGSTOP.
    pub loud_only: bool,
    /// The backend asks for every tree with children to be stopped (the portable one).
    pub every_tree: bool,
    /// Pids that fork a new child just before the next scan (a tree growing right now).
    pub fork_on_scan: Vec<u32>,
    /// What a forked child is called (its name and argv[0]).
    pub child_name: String,
    /// POSIX job control: when a process dies, its stopped children (a process group left
    /// orphaned with stopped members) get SIGHUP, then SIGCONT, from the kernel.
    pub orphan_hup: bool,
    /// Reads of the whole process table so far (a pid list, a tree scan): what a real backend
    /// pays for with every process of the machine, so what a kill must not do once per process.
    pub table_reads: std::cell::Cell<usize>,
    /// Waits the kill engine asked for so far ([`Control::wait`]): its rounds.
    pub waits: usize,
    /// The length of [`World::log`] each time the engine said a step had signalled every
    /// target ([`Control::signalled_all`]).
    pub all_signalled: Vec<usize>,
}

impl Default for World {
    fn default() -> World {
        World {
            procs: HashMap::new(),
            me: 4_000_000,
            caller: 0,
            foreign_proc: false,
            users: HashMap::new(),
            sockets: Vec::new(),
            socket_netns: HashMap::new(),
            netns_denied: HashSet::new(),
            fd_hidden: HashSet::new(),
            threads: HashMap::new(),
            pipes: Vec::new(),
            partners: Vec::new(),
            log: Vec::new(),
            recycle: Vec::new(),
            fork_on_stop: Vec::new(),
            interrupt_after_signals: None,
            next_pid: 4_100_000,
            refuse: None,
            drops: Vec::new(),
            fork_on_delivery: Vec::new(),
            inherit_ignores: false,
            loud_only: false,
            every_tree: false,
            fork_on_scan: Vec::new(),
            child_name: "fake".into(),
            orphan_hup: false,
            table_reads: std::cell::Cell::new(0),
            waits: 0,
            all_signalled: Vec::new(),
        }
    }
}

impl World {
    /// A desktop: PID 1 (root's), a kernel thread (2), the caller's terminal emulator, the
    /// shell in it, and reaper run from that shell (in its own process group, in the shell's
    /// session), each started after the one before.
    pub fn desktop() -> World {
        let mut w = World { me: ME, caller: CALLER, ..World::default() };
        w.spawn(1, 0, &["/sbin/init"]).uid = 0;
        let k = w.spawn(2, 0, &[]);
        k.kernel_thread = true;
        k.name = "kthreadd".into();
        k.uid = 0;
        w.spawn(TERM, 1, &["xterm"]);
        w.spawn(SHELL, TERM, &["-bash"]);
        w.spawn(ME, SHELL, &["reaper", "kill"]).sid = SHELL;
        w
    }

    /// Adds `pid`, a child of `ppid`, running `argv` (named after argv[0]'s file name);
    /// returns it to edit.
    pub fn spawn(&mut self, pid: u32, ppid: u32, argv: &[&str]) -> &mut FakeProc {
        self.add(pid, ppid);
        let p = self.proc(pid);
        p.cmdline = Some(argv.iter().map(|a| a.to_string()).collect());
        let argv0 = argv.first().map_or("", |a| a.rsplit('/').next().unwrap_or(a));
        p.name = argv0.chars().take(15).collect();
        p
    }

    /// Adds a running process `fake <pid>` of the caller's uid, started an hour ago, in its
    /// own group and session; returns it as the table reads it.
    pub fn add(&mut self, pid: u32, ppid: u32) -> Process {
        let name = self.child_name.clone();
        let p = FakeProc {
            start: 100 + u64::from(pid),
            ppid,
            pgid: pid,
            sid: pid,
            uid: self.caller,
            cmdline: Some(vec![name.clone(), pid.to_string()]),
            name,
            exe: None,
            exe_id: None,
            env: Some(Vec::new()),
            cgroup: None,
            netns: OWN_NETNS,
            started: SystemTime::now() - Duration::from_secs(3600),
            kernel_thread: false,
            hidden: false,
            alive: true,
            stopped: false,
            ignores: Vec::new(),
            pending: Vec::new(),
            denied: false,
            died_of: None,
        };
        self.procs.insert(pid, p);
        self.describe(pid).unwrap_or_else(|| panic!("{pid} was just added"))
    }

    /// The process `pid`, to edit.
    pub fn proc(&mut self, pid: u32) -> &mut FakeProc {
        self.procs.get_mut(&pid).unwrap_or_else(|| panic!("no fake process {pid}"))
    }

    /// Adds a socket held by `holders`: a TCP listener, or a bound UDP socket.
    pub fn listen(&mut self, proto: Proto, port: u16, inode: u64, holders: &[u32]) {
        let state = match proto {
            Proto::Tcp => SocketState::Listen,
            Proto::Udp => SocketState::Close,
        };
        let s = Socket {
            proto,
            family: 4,
            local_addr: std::net::IpAddr::from([127, 0, 0, 1]),
            local_port: port,
            state,
            inode,
            uid: 0,
        };
        self.sockets.push((s, holders.to_vec()));
    }

    /// [`World::listen`] in network namespace `ns`.
    pub fn listen_in(&mut self, ns: u64, proto: Proto, port: u16, inode: u64, holders: &[u32]) {
        self.listen(proto, port, inode, holders);
        if ns != OWN_NETNS {
            self.socket_netns.insert(inode, ns);
        }
    }

    /// The sockets of namespace `ns` that `filter` asks for.
    fn table(&self, ns: u64, filter: SocketFilter) -> Vec<Socket> {
        let wanted = |s: &&Socket| match s.proto {
            Proto::Tcp => filter.tcp,
            Proto::Udp => filter.udp,
        };
        let in_ns = |s: &&Socket| self.socket_netns.get(&s.inode).copied().unwrap_or(OWN_NETNS) == ns;
        self.sockets.iter().map(|(s, _)| s).filter(wanted).filter(in_ns).cloned().collect()
    }

    fn fork(&mut self, parent: u32) -> u32 {
        let child = self.next_pid;
        self.next_pid += 1;
        self.add(child, parent);
        child
    }

    fn deliver(&mut self, pid: u32) {
        let inherit = self.inherit_ignores;
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if p.stopped {
            return;
        }
        // The kernel delivers the lowest-numbered pending signal first.
        let fatal = p.pending.iter().copied().filter(|s| !p.ignores.contains(s)).min();
        let delivered = !p.pending.is_empty();
        let ignores = if inherit { p.ignores.clone() } else { Vec::new() };
        p.pending.clear();
        if let Some(sig) = fatal {
            self.dies(pid, sig);
        }
        if delivered && let Some(i) = self.fork_on_delivery.iter().position(|&x| x == pid) {
            self.fork_on_delivery.remove(i);
            let child = self.fork(pid);
            self.proc(child).ignores = ignores;
        }
    }

    /// `pid` dies of `sig`; with [`World::orphan_hup`], its stopped children are hung up.
    fn dies(&mut self, pid: u32, sig: i32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.alive = false;
            p.died_of = Some(sig);
        }
        if !self.orphan_hup {
            return;
        }
        let stopped: Vec<u32> =
            self.procs.iter().filter(|(_, c)| c.ppid == pid && c.alive && c.stopped).map(|(&c, _)| c).collect();
        for child in stopped {
            let c = self.proc(child);
            c.pending.push(1); // SIGHUP
            c.stopped = false;
            self.deliver(child);
        }
    }

    fn visible(&self, pid: u32) -> Option<&FakeProc> {
        self.procs.get(&pid).filter(|p| !p.hidden)
    }
}

/// The one-letter state `ps` would show.
fn state(p: &FakeProc) -> char {
    if !p.alive {
        'Z'
    } else if p.stopped {
        'T'
    } else {
        'S'
    }
}

impl ProcessTable for World {
    fn list_pids(&self) -> Result<Vec<u32>> {
        self.table_reads.set(self.table_reads.get() + 1);
        if self.foreign_proc {
            return Err(Error::ForeignProc("the fake /proc is another namespace's".into()));
        }
        let mut pids: Vec<u32> = self.procs.iter().filter(|(_, p)| !p.hidden).map(|(&pid, _)| pid).collect();
        pids.sort_unstable();
        Ok(pids)
    }

    fn group_members(&self, pgid: u32) -> Vec<u32> {
        self.list_pids()
            .unwrap_or_default()
            .into_iter()
            .filter(|&pid| self.visible(pid).is_some_and(|p| p.pgid == pgid))
            .collect()
    }

    fn read_process(&self, pid: u32) -> Option<Process> {
        let p = self.visible(pid)?;
        Some(Process {
            pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            uid: p.uid,
            name: p.name.clone(),
            state: state(p),
            start_ticks: p.start,
            start_time: p.started,
            kernel_thread: p.kernel_thread,
            cmdline: None,
            exe: None,
        })
    }

    fn read_cmdline(&self, pid: u32) -> Option<Vec<String>> {
        let p = self.visible(pid)?;
        if !p.alive || p.kernel_thread { Some(Vec::new()) } else { p.cmdline.clone() }
    }

    fn read_exe(&self, pid: u32) -> Option<PathBuf> {
        self.visible(pid)?.exe.clone()
    }

    fn read_environ(&self, pid: u32) -> Option<Vec<String>> {
        self.visible(pid).filter(|p| p.alive && !p.kernel_thread)?.env.clone()
    }

    fn read_cgroup(&self, pid: u32) -> Option<String> {
        self.visible(pid)?.cgroup.clone()
    }

    fn read_cgroup_file(&self, pid: u32) -> Option<String> {
        self.read_cgroup(pid).map(|c| format!("0::{c}\n"))
    }

    fn exe_identity(&self, pid: u32) -> Option<(u64, u64)> {
        self.visible(pid)?.exe_id
    }

    fn is_session_subreaper(&self, p: &Process) -> bool {
        p.pid != 1 && p.name == "systemd"
    }

    fn user_name(&self, uid: u32) -> Option<String> {
        Some(
            self.users
                .get(&uid)
                .cloned()
                .unwrap_or_else(|| if uid == 0 { "root".into() } else { format!("user{uid}") }),
        )
    }

    fn caller_uid(&self) -> u32 {
        self.caller
    }

    fn self_pid(&self) -> u32 {
        self.me
    }

    fn check_own_proc(&self) -> Result<()> {
        self.list_pids().map(drop)
    }

    fn thread_group(&self, pid: u32) -> Option<u32> {
        self.threads.get(&pid).copied().or_else(|| self.visible(pid).map(|_| pid))
    }

    fn scan_tree(&self, roots: &[u32]) -> Vec<Seen> {
        self.table_reads.set(self.table_reads.get() + 1);
        // The dead are no one's children any more; a dead root is reported as a zombie.
        let mut table: Vec<(u32, Seen)> = self
            .procs
            .iter()
            .filter(|(pid, p)| p.alive || roots.contains(pid))
            .map(|(&pid, p)| (p.ppid, Seen { pid, start_ticks: p.start, state: state(p) }))
            .collect();
        table.sort_unstable_by_key(|(_, s)| s.pid);
        let mut out = super::tree::walk(roots, table);
        // Roots in the order given, as the real scan reports them.
        out.sort_by_key(|s| roots.iter().position(|&r| r == s.pid).unwrap_or(usize::MAX));
        out
    }

    fn pin(&self, _pid: u32, _start_ticks: u64) -> Option<Pin> {
        None
    }

    fn own_pipe_ends(&self) -> Vec<super::PipeEnd> {
        self.pipes.clone()
    }

    fn pipeline_partners(&self, _pipes: &[super::PipeEnd], members: &[u32]) -> Vec<u32> {
        members.iter().copied().filter(|m| self.partners.contains(m)).collect()
    }
}

impl SocketTable for World {
    fn sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>> {
        Ok(self.table(OWN_NETNS, filter))
    }

    fn listening_sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>> {
        Ok(self.sockets(filter)?.into_iter().filter(Socket::holds_port).collect())
    }

    fn scan_socket_holders(&self, inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
        let pids = match among {
            Some(pids) => pids.to_vec(),
            None => self.list_pids().unwrap_or_default(),
        };
        let mut out = HolderScan::default();
        for pid in pids.into_iter().filter(|pid| self.visible(*pid).is_some()) {
            if self.fd_hidden.contains(&pid) {
                out.denied = true;
                continue;
            }
            out.scanned.push(pid);
            for (s, holders) in self.sockets.iter().filter(|(s, _)| inodes.contains(&s.inode)) {
                if holders.contains(&pid) {
                    out.holders.entry(s.inode).or_default().push(pid);
                }
            }
        }
        out
    }

    fn netns_inode(&self, pid: u32) -> Option<u64> {
        if pid == self.me { Some(OWN_NETNS) } else { self.visible(pid).map(|p| p.netns) }
    }

    fn net_namespace_of(&self, pid: u32) -> Option<NetNs> {
        Some(NetNs { inode: self.netns_inode(pid)?, name: None, member: Some(pid) })
    }

    fn net_namespaces(&self) -> Result<Vec<NetNs>> {
        let mut inodes: Vec<u64> =
            self.procs.values().map(|p| p.netns).chain(self.socket_netns.values().copied()).collect();
        inodes.push(OWN_NETNS);
        inodes.sort_unstable();
        inodes.dedup();
        Ok(inodes.into_iter().map(|inode| NetNs { inode, name: None, member: None }).collect())
    }

    fn netns_sockets(&self, ns: &NetNs, filter: SocketFilter, listeners_only: bool) -> Result<Option<Vec<Socket>>> {
        if self.netns_denied.contains(&ns.inode) {
            return Ok(None);
        }
        let all = self.table(ns.inode, filter);
        Ok(Some(if listeners_only { all.into_iter().filter(Socket::holds_port).collect() } else { all }))
    }
}

impl Control for World {
    type Handle = (u32, u64);

    fn open(&mut self, pid: u32, start: u64) -> std::result::Result<(u32, u64), Unpinned> {
        if self.recycle.contains(&pid)
            && let Some(p) = self.procs.get_mut(&pid)
        {
            p.start += 1_000;
        }
        match self.procs.get(&pid) {
            Some(p) if p.start == start => Ok((pid, start)),
            _ => Err(Unpinned::Gone),
        }
    }

    fn signal(&mut self, h: &(u32, u64), sig: i32) -> Sent {
        let Some(p) = self.procs.get_mut(&h.0).filter(|p| p.start == h.1) else {
            return Sent::Gone;
        };
        if !p.alive {
            return Sent::Gone;
        }
        if p.denied {
            return Sent::Denied;
        }
        if self.refuse == Some(sig) {
            return Sent::Failed("EINVAL".into());
        }
        if self.drops.contains(&(h.0, sig)) {
            return Sent::Ok; // accepted, and dropped
        }
        self.log.push((h.0, sig));
        if sig == super::SIGSTOP {
            p.stopped = true;
            if let Some(i) = self.fork_on_stop.iter().position(|&x| x == h.0) {
                self.fork_on_stop.remove(i);
                self.fork(h.0);
            }
        } else if sig == super::SIGCONT {
            p.stopped = false;
            self.deliver(h.0);
        } else if sig == super::SIGKILL {
            self.dies(h.0, sig);
        } else {
            p.pending.push(sig);
            self.deliver(h.0);
        }
        Sent::Ok
    }

    fn stop_quietly(&mut self, h: &(u32, u64)) -> Option<Sent> {
        if self.loud_only { None } else { Some(self.signal(h, super::SIGSTOP)) }
    }

    fn freezes_every_tree(&self) -> bool {
        self.every_tree
    }

    fn signalled_all(&mut self) {
        self.all_signalled.push(self.log.len());
    }

    fn exited(&mut self, h: &(u32, u64)) -> bool {
        !self.procs.get(&h.0).is_some_and(|p| p.alive && p.start == h.1)
    }

    fn wait(&mut self, handles: &[&(u32, u64)], deadline: Instant) -> Waited {
        self.waits += 1;
        let exited: Vec<usize> = (0..handles.len()).filter(|&i| self.exited(handles[i])).collect();
        if !exited.is_empty() {
            return Waited::Exited(exited);
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        Waited::Timeout
    }

    fn interrupted(&mut self) -> bool {
        self.interrupt_after_signals.is_some_and(|n| self.log.len() >= n)
    }

    fn scan(&mut self, roots: &[u32]) -> Vec<Seen> {
        for parent in std::mem::take(&mut self.fork_on_scan) {
            self.fork(parent);
        }
        self.scan_tree(roots)
    }

    fn drops(&mut self, pid: u32, sig: i32) -> bool {
        self.drops.contains(&(pid, sig))
    }

    fn is_stopped(&mut self, pid: u32, start: u64) -> bool {
        self.procs.get(&pid).is_none_or(|p| p.start != start || !p.alive || p.stopped)
    }

    fn table(&self) -> &dyn ProcessTable {
        self
    }
}
