//! What macOS and Windows share: processes from `sysinfo`, sockets with their owning pids from
//! `netstat2` (libproc on macOS, `GetExtendedTcpTable`/`GetExtendedUdpTable` on Windows).
//!
//! Written against the documented APIs of sysinfo 0.40 and netstat2 0.11; compiled for macOS and
//! Windows in CI, run on Linux under the `portable` feature (with `portable_linux.rs`) and on
//! Wine, never on a real Mac or Windows machine. The platform files (`macos.rs`, `windows.rs`,
//! `portable_linux.rs`) add what differs: user ids, process groups and signals.
//!
//! [`read_process`] and [`start_ticks`] always ask the system afresh: identity and liveness
//! checks before signalling go through them. Command lines and executables are taken from the
//! table kept since the last refresh. On both platforms sysinfo lists every pid even to refresh
//! one (cheap on macOS; on Windows a process snapshot each time): the kill engine's tree walks
//! therefore read the whole table once per round ([`bulk_table`]) and describe new processes
//! from it ([`kept_process`]), and on Windows [`read_process`] answers from the table once a
//! process handle has confirmed the start time (nothing else of a process changes there).
//!
//! These platforms have no socket inodes. [`sockets`] numbers each socket of its table (from 1)
//! and keeps the owning pids netstat2 reported under that number; [`scan_socket_holders`]
//! answers from there, so the rest of the crate works as on Linux.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};
use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System, ThreadKind, UpdateKind};

use super::Pin;
#[cfg(target_os = "macos")]
use super::macos as platform;
#[cfg(target_os = "linux")]
use super::portable_linux as platform;
#[cfg(windows)]
use super::windows as platform;
use crate::error::{Error, Result};
use crate::model::{HolderScan, InodeSet, Process, Proto, Socket, SocketFilter, SocketState};

#[cfg(target_os = "macos")]
pub use super::kqueue_pidwatch::wait_pid_exit;
#[cfg(target_os = "linux")]
pub use super::linux::wait_pid_exit;
pub use super::portable_origin::{
    container_restart_policy, file_owner, pid_in_namespace, read_cwd, read_regular_file, read_tty, service_of,
    systemd_running,
};
#[cfg(windows)]
pub use super::windows_guard::wait_pid_exit;
pub use platform::is_session_subreaper;

/// What pins a process for a plan: nothing where there are no pidfds (the engine checks pid and
/// start time again before every signal).
pub type PinHandle = ();

/// Pins a process for a plan: never where there are no pidfds.
pub fn pin(_pid: u32, _start_ticks: u64) -> Option<Pin> {
    None
}

/// Whether the kernel drops `sig` sent to `pid` (a PID namespace's init without a handler):
/// there are no PID namespaces here.
pub fn drops_signal(_pid: u32, _sig: i32) -> bool {
    false
}

/// Whether `/proc` belongs to this process's PID namespace: always, where there is no `/proc`
/// (Linux checks it: see `sys::linux::procns`).
pub fn check_own_proc() -> Result<()> {
    Ok(())
}

/// What reaper needs of each process: user, command line and executable; never threads.
fn refresh_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .without_tasks()
        .with_user(UpdateKind::Always)
        .with_cmd(UpdateKind::Always)
        .with_exe(UpdateKind::Always)
}

/// The process table, kept between calls.
fn table() -> Result<MutexGuard<'static, System>> {
    static TABLE: OnceLock<Option<Mutex<System>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| System::new().ok().map(Mutex::new)).as_ref().ok_or_else(|| {
        Error::io("reading the process table", io::Error::other("sysinfo does not support this system"))
    })?;
    // A panic while the lock was held leaves a table that is at worst stale; keep using it.
    Ok(table.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Makes sure `pid` is in the table, refreshing just it when it is not.
fn known(sys: &mut System, pid: Pid) -> bool {
    if sys.process(pid).is_none() {
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, refresh_kind());
    }
    sys.process(pid).is_some()
}

/// The light refresh: parent, state and start time only (what a tree walk and a liveness
/// check need), never the user, command line or executable.
fn light_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing().without_tasks()
}

/// One process of the table as the kill engine walks it: (parent pid, identity and state).
fn seen_of(pid: Pid, p: &sysinfo::Process, start_ticks: u64) -> (u32, crate::model::Seen) {
    let seen = crate::model::Seen { pid: pid.as_u32(), start_ticks, state: state_letter(p.status()) };
    (p.parent().map_or(0, Pid::as_u32), seen)
}

/// The start ticks of a process of the table: sysinfo's start time (whole seconds) in
/// microseconds; on Windows its whole creation time (see `windows_job`), `created` when that was
/// read for this pid and falls in the second sysinfo says (else the pid changed hands between
/// the two reads: sysinfo's seconds, which no handle's whole time will equal).
fn start_of(p: &sysinfo::Process, created: Option<u64>) -> u64 {
    #[cfg(windows)]
    {
        use super::windows_job::{secs_to_ticks, ticks_to_secs};
        created.filter(|&t| ticks_to_secs(t) == p.start_time()).unwrap_or_else(|| secs_to_ticks(p.start_time()))
    }
    #[cfg(not(windows))]
    {
        let _ = created;
        p.start_time().saturating_mul(1_000_000)
    }
}

/// The whole creation times (Windows) that the last [`bulk_table`] read with the table, for
/// [`kept_process`] to describe a process of that read as it was read.
#[cfg(windows)]
fn last_creation_times() -> MutexGuard<'static, HashMap<u32, u64>> {
    static TIMES: OnceLock<Mutex<HashMap<u32, u64>>> = OnceLock::new();
    TIMES.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// The whole creation time of `pid` as the last [`bulk_table`] read it (Windows), if any.
fn last_created(pid: u32) -> Option<u64> {
    #[cfg(windows)]
    {
        last_creation_times().get(&pid).copied()
    }
    #[cfg(not(windows))]
    {
        let _ = pid;
        None
    }
}

/// The whole process table in one read (one snapshot on Windows, one pass over `/proc` or
/// the pid list elsewhere): every process's parent, identity and state. Processes that were
/// not in the previous read get their user, command line and executable read too (one more
/// bulk read, for those pids only), so that [`kept_process`] can describe any of them without
/// asking the system once per process. On Windows one more read of the system's process list
/// gives every process's whole creation time (sysinfo's is to the second).
pub(crate) fn bulk_table() -> Vec<(u32, crate::model::Seen)> {
    let Ok(mut sys) = table() else {
        return Vec::new();
    };
    let before: HashMap<Pid, u64> = sys.processes().iter().map(|(&pid, p)| (pid, p.start_time())).collect();
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, light_kind());
    let new: Vec<Pid> = sys
        .processes()
        .iter()
        .filter(|(pid, p)| before.get(pid) != Some(&p.start_time()))
        .map(|(&pid, _)| pid)
        .collect();
    if !new.is_empty() {
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&new), false, refresh_kind());
    }
    #[cfg(windows)]
    let created = {
        let mut last = last_creation_times();
        *last = super::windows_job::creation_times().unwrap_or_default();
        last.clone()
    };
    #[cfg(not(windows))]
    let created: HashMap<u32, u64> = HashMap::new();
    sys.processes()
        .iter()
        .filter(|(_, p)| p.thread_kind() != Some(ThreadKind::Userland))
        .map(|(&pid, p)| seen_of(pid, p, start_of(p, created.get(&pid.as_u32()).copied())))
        .collect()
}

/// The identity and state of `pid` asked of the system now, with the light refresh (no
/// command line): what a check right before a signal needs. `None` when it does not exist.
/// Asked of that one process: the kill engine checks each target through this every round
/// (before each signal, while a freeze waits for each stop), so it must not cost a read of the
/// whole table, which sysinfo's refresh of one pid is on macOS (it lists every pid first).
pub(crate) fn fresh_seen(pid: u32) -> Option<crate::model::Seen> {
    #[cfg(windows)]
    {
        // A handle answers without a snapshot of every process (see `windows_job::fresh_start`).
        let start_ticks = super::windows_job::fresh_start(pid)?;
        let state = if super::windows_job::has_exited(pid) { 'Z' } else { 'R' };
        Some(crate::model::Seen { pid, start_ticks, state })
    }
    #[cfg(not(windows))]
    {
        // macOS: the process's BSD info, one call (see `macos::bsd_seen`); sysinfo only when
        // that call fails for another reason than "no such process".
        #[cfg(target_os = "macos")]
        if let Ok(seen) = super::macos::bsd_seen(pid) {
            return seen;
        }
        // Linux (the `portable` feature): sysinfo reads that one pid's `/proc` entries.
        let mut sys = table().ok()?;
        let spid = Pid::from_u32(pid);
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[spid]), true, light_kind());
        sys.process(spid).map(|p| seen_of(spid, p, start_of(p, None)).1)
    }
}

/// `pid` as the last [`bulk_table`] read it, with its command line and executable: no
/// question to the system (the caller checks identity against what it scanned).
pub(crate) fn kept_process(pid: u32) -> Option<Process> {
    let sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    let p = sys.process(spid)?;
    let mut out = process_of(pid, p, start_of(p, last_created(pid)));
    let mut args: Vec<String> = p.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect();
    while args.last().is_some_and(String::is_empty) {
        args.pop();
    }
    out.cmdline = Some(args);
    out.exe = p.exe().map(PathBuf::from);
    Some(out)
}

/// Every pid (threads are not processes here).
pub fn list_pids() -> Result<Vec<u32>> {
    let mut sys = table()?;
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, refresh_kind());
    // Threads of a process are not processes; a kernel thread (Linux) is, marked as such.
    Ok(sys
        .processes()
        .iter()
        .filter(|(_, p)| p.thread_kind() != Some(ThreadKind::Userland))
        .map(|(pid, _)| pid.as_u32())
        .collect())
}

/// The start time of `pid` in microseconds since the epoch (sysinfo resolves it to the second;
/// on Windows the whole creation time, through a handle: see `windows_job`), asked of the system
/// now: with the pid, the process's identity.
pub fn start_ticks(pid: u32) -> Option<u64> {
    #[cfg(windows)]
    {
        super::windows_job::fresh_start(pid)
    }
    #[cfg(not(windows))]
    {
        let mut sys = table().ok()?;
        let spid = Pid::from_u32(pid);
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[spid]), true, refresh_kind());
        sys.process(spid).map(|p| start_of(p, None))
    }
}

/// Wall-clock time of a start time from [`start_ticks`].
pub fn ticks_to_time(ticks: u64) -> SystemTime {
    #[cfg(windows)]
    {
        super::windows_job::ticks_to_time(ticks)
    }
    #[cfg(not(windows))]
    {
        std::time::UNIX_EPOCH + Duration::from_micros(ticks)
    }
}

/// `ps`-style state letter.
fn state_letter(s: ProcessStatus) -> char {
    match s {
        ProcessStatus::Run => 'R',
        ProcessStatus::Sleep | ProcessStatus::Idle => 'S',
        ProcessStatus::Stop | ProcessStatus::Suspended => 'T',
        ProcessStatus::Zombie => 'Z',
        ProcessStatus::Dead => 'X',
        ProcessStatus::Tracing => 't',
        ProcessStatus::UninterruptibleDiskSleep => 'D',
        _ => '?',
    }
}

/// What `pid` has used so far (CPU time, resident memory), asked of the system now.
pub fn read_usage(pid: u32) -> Option<crate::model::Usage> {
    let mut sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    let kind = ProcessRefreshKind::nothing().without_tasks().with_cpu().with_memory();
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[spid]), true, kind);
    let p = sys.process(spid)?;
    Some(crate::model::Usage { cpu: Duration::from_millis(p.accumulated_cpu_time()), rss_bytes: p.memory() })
}

/// The pids of process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    list_pids()
        .unwrap_or_default()
        .into_iter()
        .filter(|&pid| read_process(pid).is_some_and(|p| p.pgid == pgid))
        .collect()
}

/// Reads one process (without its command line), asked of the system now: the signalling code
/// re-checks identity and liveness through this, so it must never answer from the kept table.
/// `None` if it does not exist.
pub fn read_process(pid: u32) -> Option<Process> {
    let mut sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    // Windows: sysinfo reads one process by taking a snapshot of all of them, so reading every
    // process one by one cost O(n²) (minutes for a few hundred under Wine). A process's parent,
    // name, user and session never change there (Windows does not reparent): when the table has
    // this pid with the start time a handle gives now, the table answers, and the handle says
    // whether it still runs. The handle's creation time is the whole one (sysinfo's is to the
    // second): the identity the plan pins.
    #[cfg(windows)]
    let created = {
        let start = super::windows_job::fresh_start(pid)?;
        if let Some(p) = sys.process(spid).filter(|p| start_of(p, Some(start)) == start) {
            let mut out = process_of(pid, p, start);
            if super::windows_job::has_exited(pid) {
                out.state = 'Z';
            }
            return Some(out);
        }
        Some(start)
    };
    #[cfg(not(windows))]
    let created = None;
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[spid]), true, refresh_kind());
    let p = sys.process(spid)?;
    Some(process_of(pid, p, start_of(p, created)))
}

/// A process of the table as the crate's [`Process`] (without command line and executable),
/// with the start ticks from [`start_of`].
fn process_of(pid: u32, p: &sysinfo::Process, start_ticks: u64) -> Process {
    let (pgid, sid) = platform::group_and_session(pid, p);
    Process {
        pid,
        ppid: p.parent().map_or(0, Pid::as_u32),
        pgid,
        sid,
        uid: platform::uid_of(p),
        name: p.name().to_string_lossy().into_owned(),
        state: state_letter(p.status()),
        start_ticks,
        start_time: ticks_to_time(start_ticks),
        kernel_thread: platform::is_kernel(pid) || p.thread_kind() == Some(ThreadKind::Kernel),
        cmdline: None,
        exe: None,
    }
}

/// The arguments of `pid`.
pub fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    let mut sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    if !known(&mut sys, spid) {
        return None;
    }
    let mut args: Vec<String> = sys.process(spid)?.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect();
    // A rewritten title's padding is not arguments (as on Linux).
    while args.last().is_some_and(String::is_empty) {
        args.pop();
    }
    Some(args)
}

/// The environment of `pid` as `NAME=VALUE` entries, when readable.
pub fn read_environ(pid: u32) -> Option<Vec<String>> {
    let mut sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        refresh_kind().with_environ(UpdateKind::Always),
    );
    let p = sys.process(spid)?;
    let env = p.environ();
    // sysinfo answers an empty list for a block it could not read, and for one that is empty (a
    // daemon that blanked it): another user's is taken as unreadable, the caller's own as empty
    // (the closed block of a process that is not dumpable cannot be told apart here).
    if env.is_empty() {
        return (platform::uid_of(p) == super::caller_uid()).then(Vec::new);
    }
    Some(env.iter().map(|e| e.to_string_lossy().into_owned()).collect())
}

/// cgroups are Linux's: no process is in one here.
pub fn read_cgroup(_pid: u32) -> Option<String> {
    None
}

/// cgroups are Linux's: no process is in one here (so in no container reaper can name).
pub fn read_cgroup_file(_pid: u32) -> Option<String> {
    None
}

/// Network namespaces are Linux's: every process shares the one socket table.
pub fn netns_inode(_pid: u32) -> Option<u64> {
    None
}

/// Network namespaces are Linux's: every process shares the one socket table.
pub fn net_namespace_of(_pid: u32) -> Option<crate::model::NetNs> {
    None
}

/// Network namespaces are Linux's: none to list.
pub fn net_namespaces() -> Result<Vec<crate::model::NetNs>> {
    Ok(Vec::new())
}

/// Network namespaces are Linux's: there is no other table.
pub fn netns_sockets(
    _ns: &crate::model::NetNs,
    _filter: SocketFilter,
    _listeners: bool,
) -> Result<Option<Vec<Socket>>> {
    Ok(Some(Vec::new()))
}

/// Network namespaces are Linux's: no addresses of one.
pub fn netns_addresses(_ns: &crate::model::NetNs) -> Vec<std::net::IpAddr> {
    Vec::new()
}

/// cgroups are Linux's: nothing to finish, emptiness unknown.
pub fn finish_cgroup(_path: &str, _kill: bool, _timeout: std::time::Duration) -> (bool, Option<bool>) {
    (false, None)
}

/// The executable of `pid`, when readable.
pub fn read_exe(pid: u32) -> Option<PathBuf> {
    let mut sys = table().ok()?;
    let spid = Pid::from_u32(pid);
    if !known(&mut sys, spid) {
        return None;
    }
    sys.process(spid)?.exe().map(PathBuf::from)
}

/// The identity of `pid`'s executable file: not known here (the rails compare paths instead).
pub fn exe_identity(_pid: u32) -> Option<(u64, u64)> {
    None
}

/// The process a thread belongs to: macOS and Windows list processes only (their thread ids
/// are no pids), so not known there. Linux shows a thread id as a `/proc` entry that sysinfo
/// reads like a process: its backend's answer is needed there, or `--pid TID` would signal the
/// whole thread group.
#[cfg(not(target_os = "linux"))]
pub fn thread_group(_tid: u32) -> Option<u32> {
    None
}
#[cfg(target_os = "linux")]
pub use super::linux::thread_group;

/// One end of a pipe (as on Linux; never produced here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeEnd {
    /// The pipe's identity.
    pub inode: u64,
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
}

/// The pipes on this process's standard streams: not read on these platforms.
pub fn own_pipe_ends() -> Vec<PipeEnd> {
    Vec::new()
}

/// Which of `members` are in our pipeline: not read on these platforms.
pub fn pipeline_partners(_mine: &[PipeEnd], _members: &[u32]) -> Vec<u32> {
    Vec::new()
}

/// The numbers [`sockets`] gives, and the owning pids of each socket it last saw.
///
/// A number names one socket for as long as it is seen: the same socket (protocol, both ends,
/// state) keeps its number from one call to the next, as an inode does on Linux, and a number
/// is never given twice. So a holder's number read by one call still names that socket in a
/// later call's owners (reaper reads the table more than once: the selection, then the ports
/// of a tree view; and another thread may read it in between), never a socket that took its
/// place in the listing. A call forgets the sockets of the protocols it read that are gone.
#[derive(Default)]
struct Numbering {
    /// The last number given.
    last: u64,
    by_key: HashMap<SocketKey, u64>,
    owners: HashMap<u64, Vec<u32>>,
}

fn numbering() -> MutexGuard<'static, Numbering> {
    static NUMBERING: OnceLock<Mutex<Numbering>> = OnceLock::new();
    NUMBERING.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// What makes two netstat2 entries the same socket: protocol, both ends and state.
type SocketKey = (Proto, IpAddr, u16, Option<(IpAddr, u16)>, SocketState);

/// The socket table with owners. netstat2 reports a socket once per process (on macOS once per
/// descriptor) that holds it; entries for the same socket are merged and their pids kept
/// together, so a socket shared across fork lists every holder.
pub fn sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    let mut pf = ProtocolFlags::empty();
    if filter.tcp {
        pf |= ProtocolFlags::TCP;
    }
    if filter.udp {
        pf |= ProtocolFlags::UDP;
    }
    let mut out: Vec<Socket> = Vec::new();
    let mut pids: Vec<Vec<u32>> = Vec::new();
    let mut keys: Vec<SocketKey> = Vec::new();
    let mut index: HashMap<SocketKey, usize> = HashMap::new();
    if !pf.is_empty() {
        let iter = netstat2::iterate_sockets_info(AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6, pf)
            .map_err(|e| Error::io("reading the socket table", os_error(e)))?;
        // A descriptor that closes mid-listing is an error item; the rest of the table stands.
        for info in iter.flatten() {
            let (proto, local_addr, local_port, remote, state) = match &info.protocol_socket_info {
                ProtocolSocketInfo::Tcp(t) => (
                    Proto::Tcp,
                    t.local_addr,
                    t.local_port,
                    Some((t.remote_addr, t.remote_port)),
                    super::tcp_state(&t.state),
                ),
                ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port, None, SocketState::Unconn),
            };
            let key = (proto, local_addr, local_port, remote, state);
            let i = *index.entry(key).or_insert_with(|| {
                out.push(Socket {
                    proto,
                    family: if local_addr.is_ipv4() { 4 } else { 6 },
                    local_addr,
                    local_port,
                    state,
                    // Numbered below (see `Numbering`): 0 means "no owner" to the crate.
                    inode: 0,
                    uid: 0,
                });
                keys.push(key);
                pids.push(Vec::new());
                out.len() - 1
            });
            // Windows reports pid 0 (the idle process) for a socket no process holds.
            for &pid in &info.associated_pids {
                if pid != 0 && !pids[i].contains(&pid) {
                    pids[i].push(pid);
                }
            }
        }
    }
    let read = |proto: Proto| match proto {
        Proto::Tcp => filter.tcp,
        Proto::Udp => filter.udp,
    };
    let mut table = numbering();
    let Numbering { last, by_key, owners } = &mut *table;
    let mut before: HashMap<SocketKey, u64> = HashMap::new();
    by_key.retain(|key, number| {
        let keep = !read(key.0);
        if !keep {
            before.insert(*key, *number);
        }
        keep
    });
    for ((s, p), key) in out.iter_mut().zip(pids).zip(keys) {
        if p.is_empty() && !s.is_listening() {
            // A connection no process holds (closing after its process exited; Windows says
            // pid 0): inode 0, as Linux reports it, so it lingers, never a hidden holder's. A
            // listener always has one: without pids, its holder could not be read (another
            // user's, another namespace's) and is reported so. (A connection of a process whose
            // fds cannot be read looks ownerless too: only where netstat2 reads fd tables.)
            continue;
        }
        let number = before.remove(&key).unwrap_or_else(|| {
            *last += 1;
            *last
        });
        by_key.insert(key, number);
        owners.insert(number, p);
        s.inode = number;
    }
    for gone in before.values() {
        owners.remove(gone);
    }
    Ok(out)
}

/// netstat2's error as the OS error it carries: its own text ("Failed to call ffi") drops the
/// cause, such as "Too many open files".
fn os_error(e: netstat2::error::Error) -> io::Error {
    use netstat2::error::Error as E;
    match e {
        E::OsError(e) | E::FailedToListProcesses(e) | E::FailedToQueryFileDescriptors(e) => e,
        e => io::Error::other(e.to_string()),
    }
}

/// The sockets that hold ports: TCP listeners and every UDP socket, from [`sockets`].
pub fn listening_sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    let mut all = sockets(filter)?;
    all.retain(Socket::is_listening);
    Ok(all)
}

/// How long the longest-lived ended TCP connection on a port that `ports` admits still has:
/// netstat2 does not report the kernel's timers here, so this is never known.
pub fn lingering_expiry(_ports: &dyn Fn(u16) -> bool) -> Option<std::time::Duration> {
    None
}

/// Whether a server that sets `SO_REUSEADDR` can bind the port through its ended connections:
/// the rule differs between platforms and no probe is made here, so this is never known.
pub fn reuse_bind_works(_family: u8, _port: u16) -> Option<bool> {
    None
}

/// The holders of the sockets numbered in `inodes`, from the last [`sockets`] call: every
/// process when `among` is `None`, else only those pids.
pub fn scan_socket_holders(inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
    let table = &numbering().owners;
    let mut scan = HolderScan::default();
    for inode in inodes {
        let Some(pids) = table.get(inode) else {
            continue;
        };
        let held: Vec<u32> = pids.iter().copied().filter(|p| among.is_none_or(|a| a.contains(p))).collect();
        if !held.is_empty() {
            scan.holders.insert(*inode, held);
        }
    }
    scan.scanned = match among {
        Some(a) => a.to_vec(),
        None => table.values().flatten().copied().collect(),
    };
    scan
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    fn number_of(port: u16) -> Option<u64> {
        let tcp = SocketFilter { tcp: true, udp: false };
        sockets(tcp).expect("the table").iter().find(|s| s.local_port == port && s.is_listening()).map(|s| s.inode)
    }

    fn holders(number: u64) -> Vec<u32> {
        let scan = scan_socket_holders(&InodeSet::from([number]), None);
        scan.holders.get(&number).cloned().unwrap_or_default()
    }

    // A socket keeps its number while it lives, whatever else opens, and whichever protocol a
    // call in between read; its holder is found by that number; once gone, nobody holds it.
    #[test]
    fn a_socket_keeps_its_number_and_its_holder_across_calls() {
        let me = std::process::id();
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = a.local_addr().expect("addr").port();
        let first = number_of(port).expect("listed");
        let others: Vec<TcpListener> = (0..5).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind")).collect();
        let _udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sockets(SocketFilter { tcp: false, udp: true }).expect("the table");
        assert_eq!(holders(first), vec![me], "a UDP read keeps the TCP owners");
        assert_eq!(number_of(port), Some(first));
        assert_eq!(holders(first), vec![me]);
        drop(a);
        assert_eq!(number_of(port), None);
        assert!(holders(first).is_empty(), "a gone socket's number is nobody's");
        let reused = TcpListener::bind(("127.0.0.1", port)).expect("bind the same port again");
        assert_ne!(number_of(port), Some(first), "a new socket never gets an old number");
        drop((reused, others));
    }
}
