//! The platform contract: what the rest of the crate needs from an operating system, checked
//! by the compiler for every backend.
//!
//! - [`ProcessTable`]: the process table as selection, the snapshot and the rails read it
//!   (pids, each process's stat, command line, executable, environment, cgroup, users).
//! - [`SocketTable`]: the socket tables and who holds which socket.
//! - [`Control`]: the kill engine's view of the OS (pin, signal, freeze, wait, scan). Each
//!   backend's `Signaller` implements it.
//!
//! [`System`] is the real machine (both tables, through the backend); every unit test uses
//! one in-memory fake of all three (`sys::fake`, test builds only).
//! - the module interface (listed and checked in `sys/mod.rs`): reading processes and sockets,
//!   scanning fd tables, pinning, walking a tree, users and signal names. Every backend
//!   (`linux`, and `portable` for macOS and Windows) provides it with the same signatures, or
//!   does not compile.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::error::Result;
use crate::model::{HolderScan, InodeSet, NetNs, Process, Seen, Sent, Socket, SocketFilter, Unpinned, Waited};

/// The process table, as the snapshot, selection and the safety rails read it. Every read is
/// of the moment it is made; `None` means gone or unreadable (other users' details when not
/// root), never "empty".
pub trait ProcessTable {
    /// Every pid. Errors: the table cannot be read at all (`/proc` of another PID namespace).
    fn list_pids(&self) -> Result<Vec<u32>>;
    /// One process, without its command line and executable.
    fn read_process(&self, pid: u32) -> Option<Process>;
    /// The pids of process group `pgid` (cheaper than `read_process` of every pid).
    fn group_members(&self, pgid: u32) -> Vec<u32>;
    /// Its arguments (empty for zombies and kernel threads).
    fn read_cmdline(&self, pid: u32) -> Option<Vec<String>>;
    /// Its executable.
    fn read_exe(&self, pid: u32) -> Option<PathBuf>;
    /// Its environment block, `NAME=VALUE` each; `None` when it cannot be read.
    fn read_environ(&self, pid: u32) -> Option<Vec<String>>;
    /// Its cgroup v2 path.
    fn read_cgroup(&self, pid: u32) -> Option<String>;
    /// Its whole cgroup file (every hierarchy), where container ids are read.
    fn read_cgroup_file(&self, pid: u32) -> Option<String>;
    /// Device and inode of its executable: what makes a process "another reaper".
    fn exe_identity(&self, pid: u32) -> Option<(u64, u64)>;
    /// Whether `p` is a session subreaper (`systemd --user`): its children are orphans.
    fn is_session_subreaper(&self, p: &Process) -> bool;
    /// The name of a uid.
    fn user_name(&self, uid: u32) -> Option<String>;
    /// The uid reaper runs as.
    fn caller_uid(&self) -> u32;
    /// Reaper's own pid.
    fn self_pid(&self) -> u32;
    /// Errors when the process table is another PID namespace's (its pids name other processes).
    fn check_own_proc(&self) -> Result<()>;
    /// The process a thread id belongs to (`/proc/TID` answers for a thread it does not list).
    fn thread_group(&self, pid: u32) -> Option<u32>;
    /// `roots` (those that exist) and every current descendant of them, parents first.
    fn scan_tree(&self, roots: &[u32]) -> Vec<Seen>;
    /// Pins `pid` if it is still the process that started at `start_ticks` (see [`Pin`]);
    /// `None` where nothing can pin (the pid and start time are checked when signalling).
    fn pin(&self, pid: u32, start_ticks: u64) -> Option<Pin>;
    /// The pipes on reaper's stdin, stdout and stderr.
    fn own_pipe_ends(&self) -> Vec<super::PipeEnd>;
    /// Those of `members` (reaper's process group) that are in reaper's pipeline.
    fn pipeline_partners(&self, pipes: &[super::PipeEnd], members: &[u32]) -> Vec<u32>;
}

/// The socket tables, and who holds which socket.
pub trait SocketTable {
    /// Reaper's own network namespace's sockets of `filter`.
    fn sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>>;
    /// Only those that hold ports (TCP listeners, UDP sockets).
    fn listening_sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>>;
    /// Who holds `inodes`: every process's fd table, or only `among`'s.
    fn scan_socket_holders(&self, inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan;
    /// The inode of `pid`'s network namespace.
    fn netns_inode(&self, pid: u32) -> Option<u64>;
    /// `pid`'s network namespace, named.
    fn net_namespace_of(&self, pid: u32) -> Option<NetNs>;
    /// Every network namespace a process is in or `ip netns` names.
    fn net_namespaces(&self) -> Result<Vec<NetNs>>;
    /// The table of another namespace; `Ok(None)` when it cannot be entered (not root).
    fn netns_sockets(&self, ns: &NetNs, filter: SocketFilter, listeners_only: bool) -> Result<Option<Vec<Socket>>>;
}

/// What a snapshot reads: both tables.
pub trait Source: ProcessTable + SocketTable {}
impl<T: ProcessTable + SocketTable> Source for T {}

/// The real system, through the platform's backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct System;

impl ProcessTable for System {
    fn list_pids(&self) -> Result<Vec<u32>> {
        super::list_pids()
    }
    fn read_process(&self, pid: u32) -> Option<Process> {
        super::read_process(pid)
    }
    fn group_members(&self, pgid: u32) -> Vec<u32> {
        super::group_members(pgid)
    }
    fn read_cmdline(&self, pid: u32) -> Option<Vec<String>> {
        super::read_cmdline(pid)
    }
    fn read_exe(&self, pid: u32) -> Option<PathBuf> {
        super::read_exe(pid)
    }
    fn read_environ(&self, pid: u32) -> Option<Vec<String>> {
        super::read_environ(pid)
    }
    fn read_cgroup(&self, pid: u32) -> Option<String> {
        super::read_cgroup(pid)
    }
    fn read_cgroup_file(&self, pid: u32) -> Option<String> {
        super::read_cgroup_file(pid)
    }
    fn exe_identity(&self, pid: u32) -> Option<(u64, u64)> {
        super::exe_identity(pid)
    }
    fn is_session_subreaper(&self, p: &Process) -> bool {
        super::is_session_subreaper(p)
    }
    fn user_name(&self, uid: u32) -> Option<String> {
        super::user_name(uid)
    }
    fn caller_uid(&self) -> u32 {
        super::caller_uid()
    }
    fn self_pid(&self) -> u32 {
        super::self_pid()
    }
    fn check_own_proc(&self) -> Result<()> {
        super::check_own_proc()
    }
    fn thread_group(&self, pid: u32) -> Option<u32> {
        super::thread_group(pid)
    }
    fn scan_tree(&self, roots: &[u32]) -> Vec<Seen> {
        super::scan_tree(roots)
    }
    fn pin(&self, pid: u32, start_ticks: u64) -> Option<Pin> {
        super::pin(pid, start_ticks)
    }
    fn own_pipe_ends(&self) -> Vec<super::PipeEnd> {
        super::own_pipe_ends()
    }
    fn pipeline_partners(&self, pipes: &[super::PipeEnd], members: &[u32]) -> Vec<u32> {
        super::pipeline_partners(pipes, members)
    }
}

impl SocketTable for System {
    fn sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>> {
        super::sockets(filter)
    }
    fn listening_sockets(&self, filter: SocketFilter) -> Result<Vec<Socket>> {
        super::listening_sockets(filter)
    }
    fn scan_socket_holders(&self, inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
        super::scan_socket_holders(inodes, among)
    }
    fn netns_inode(&self, pid: u32) -> Option<u64> {
        super::netns_inode(pid)
    }
    fn net_namespace_of(&self, pid: u32) -> Option<NetNs> {
        super::net_namespace_of(pid)
    }
    fn net_namespaces(&self) -> Result<Vec<NetNs>> {
        super::net_namespaces()
    }
    fn netns_sockets(&self, ns: &NetNs, filter: SocketFilter, listeners_only: bool) -> Result<Option<Vec<Socket>>> {
        super::netns_sockets(ns, filter, listeners_only)
    }
}

/// A target pinned when the plan read it: whatever happens before the plan is executed (a
/// y/N prompt), nothing reaches another process that took its pid, not even one started
/// within the same clock tick (the start time alone could not tell them apart).
#[derive(Clone, Debug)]
pub enum Pin {
    /// A handle on exactly that process: on Linux a pidfd, opened and then checked against the
    /// start time the snapshot read.
    Held(Arc<super::PinHandle>),
    /// It had exited, or its pid belonged to another process, when it was pinned.
    Gone,
}

/// The operating system as the engine needs it. The real implementation lives under
/// `src/sys/` (pidfds on Linux); tests use the fake world (`sys::fake`).
pub trait Control {
    /// A pinned process.
    type Handle;
    /// Pins `pid` if it is still the process that started at `start_ticks`.
    /// `Err(Unpinned::Gone)` when it has exited or the pid now belongs to another process.
    fn open(&mut self, pid: u32, start_ticks: u64) -> std::result::Result<Self::Handle, Unpinned>;
    /// Takes over the pin the plan took when it read the process (see [`Pin`]): never looks
    /// the pid up again. `Err(Unpinned::Gone)` for [`Pin::Gone`].
    fn adopt(&mut self, pin: &Pin, pid: u32, start_ticks: u64) -> std::result::Result<Self::Handle, Unpinned> {
        match pin {
            Pin::Gone => Err(Unpinned::Gone),
            Pin::Held(_) => self.open(pid, start_ticks),
        }
    }
    /// Sends signal `sig` to the pinned process.
    fn signal(&mut self, h: &Self::Handle, sig: i32) -> Sent;
    /// Freezes the pinned process in a way that its parent does not see and that does not
    /// outlive reaper (on Linux a ptrace-stop). `None` when that cannot be done for it: the
    /// engine then decides whether [`Control::stop`] is worth its side effects.
    fn stop_quietly(&mut self, _h: &Self::Handle) -> Option<Sent> {
        None
    }
    /// Whether every tree with children is worth [`Control::stop`] before the last scan, growing
    /// or not: where a scan reads the whole process table once (too slow to see a fork storm
    /// grow between two reads) and a stop cannot outlive reaper (a resumer continues what is
    /// still stopped if reaper dies). Elsewhere only a tree seen growing is stopped loudly.
    fn freezes_every_tree(&self) -> bool {
        false
    }
    /// Freezes the pinned process: once [`Control::is_stopped`] says so it cannot run (nor
    /// fork) until [`Control::resume`]. Quietly if it can, else SIGSTOP (which the parent's
    /// shell sees as `Stopped`, and which outlives reaper).
    fn stop(&mut self, h: &Self::Handle) -> Sent {
        match self.stop_quietly(h) {
            Some(sent) => sent,
            None => self.signal(h, super::SIGSTOP),
        }
    }
    /// Undoes [`Control::stop`]; signals sent meanwhile are acted on now. SIGCONT unless the
    /// platform has better.
    fn resume(&mut self, h: &Self::Handle) -> Sent {
        self.signal(h, super::SIGCONT)
    }
    /// Whether the kernel drops `sig` sent to `pid`: it is the init of a PID namespace below
    /// ours and has no handler for it.
    fn drops(&mut self, _pid: u32, _sig: i32) -> bool {
        false
    }
    /// Every target that a step (or the newcomers of a step) signals has been sent its signal:
    /// the platform may act on them as a whole now, before the step lets go of them and
    /// waits. Windows ends its Job Object here after a KILL step (the job's end, earlier, would
    /// end the step's later targets before their own `TerminateProcess`; later, the wait, may
    /// not come: a step whose targets are all found ended does not wait).
    fn signalled_all(&mut self) {}
    /// Whether the pinned process has exited (a zombie has).
    fn exited(&mut self, h: &Self::Handle) -> bool;
    /// Waits until one of `handles` exits, `deadline` passes or an interrupt arrives.
    fn wait(&mut self, handles: &[&Self::Handle], deadline: Instant) -> Waited;
    /// Whether an interrupt (SIGINT, SIGTERM, SIGHUP) is pending; consumes it.
    fn interrupted(&mut self) -> bool;
    /// `roots` (those still existing) and every current descendant of them.
    fn scan(&mut self, roots: &[u32]) -> Vec<Seen>;
    /// Whether the process with this identity is stopped, or no longer running at all.
    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool;
    /// The process table of the same OS: what the engine reads descendants from, and the
    /// safety rails check them against.
    fn table(&self) -> &dyn ProcessTable {
        &System
    }
    /// Reads one process with its command line and executable.
    fn describe(&mut self, pid: u32) -> Option<Process> {
        let t = self.table();
        let mut p = t.read_process(pid)?;
        p.cmdline = t.read_cmdline(pid);
        p.exe = t.read_exe(pid);
        Some(p)
    }
    /// The name of a uid.
    fn user_name(&mut self, uid: u32) -> String {
        self.table().user_name(uid).unwrap_or_else(|| uid.to_string())
    }
}
