//! Linux: processes from `/proc`, sockets from netlink `sock_diag` (through netstat2, with a
//! `/proc/net` fallback), socket owners from each `/proc/PID/fd`.

pub mod freeze;
pub mod guard;
pub mod pidfd;
pub mod pidwatch;
pub mod procfs;
mod procns;
mod shim;
mod sockdiag;
mod spawn;

pub use pidfd::{PinHandle, Signaller, drops_signal, pin, scan_tree};
pub use pidwatch::wait_pid_exit;
pub use procns::check_own_proc;

use std::ffi::{CStr, OsStr};
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::model::{HolderScan, InodeSet, Process, Proto, Socket, SocketFilter, SocketState};

/// Every pid in `/proc` (thread-group leaders only: threads are not listed there).
pub fn list_pids() -> Result<Vec<u32>> {
    let dir = rustix::fs::open("/proc", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io("reading /proc", e.into()))?;
    let mut pids = Vec::with_capacity(1024);
    let mut buf = DirentBuf::new();
    loop {
        let n = buf.fill(&dir).map_err(|e| Error::io("reading /proc", e.into()))?;
        if n == 0 {
            break;
        }
        for name in buf.names(n) {
            if let Some(pid) = parse_pid(name) {
                pids.push(pid);
            }
        }
    }
    Ok(pids)
}

/// A decimal pid from a directory entry name (`None` for anything else).
fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || name.len() > 10 || name[0] == b'0' {
        return None;
    }
    let mut n: u32 = 0;
    for &b in name {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

/// `/proc`, opened once: every per-process path is resolved relative to it. Only a success is
/// kept: a failure (no fd left, say) is retried by the next call instead of sticking for the
/// life of the process, which for a library inside a long-running app could be forever.
fn proc_dir() -> std::io::Result<BorrowedFd<'static>> {
    static PROC: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = PROC.get() {
        return Ok(fd.as_fd());
    }
    let fd = rustix::fs::open("/proc", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(PROC.get_or_init(|| fd).as_fd())
}

/// `PID/LEAF` relative to `/proc`, NUL-terminated, built on the stack (no allocation per
/// process).
struct PidPath {
    buf: [u8; 40],
    len: usize,
}

impl PidPath {
    fn new(pid: u32, leaf: &[u8]) -> PidPath {
        let mut buf = [0u8; 40];
        let mut digits = [0u8; 10];
        let mut n = pid;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let digits = &digits[i..];
        // Leaves are short constants; the pid is at most 10 digits.
        let leaf = &leaf[..leaf.len().min(buf.len() - digits.len() - 2)];
        buf[..digits.len()].copy_from_slice(digits);
        buf[digits.len()] = b'/';
        buf[digits.len() + 1..digits.len() + 1 + leaf.len()].copy_from_slice(leaf);
        PidPath { buf, len: digits.len() + 1 + leaf.len() }
    }

    fn as_cstr(&self) -> &CStr {
        // The buffer is zeroed past `len`, and pid digits and leaves contain no NUL.
        CStr::from_bytes_until_nul(&self.buf[..=self.len]).unwrap_or(c"")
    }
}

/// Reads `/proc/PID/LEAF` into `buf` (cleared first). procfs produces these files whole in one
/// read when the buffer is large enough, so a short read is the end and costs no extra call.
fn read_proc_file(pid: u32, leaf: &[u8], buf: &mut Vec<u8>) -> Option<()> {
    let dir = proc_dir().ok()?;
    let fd =
        rustix::fs::openat(dir, PidPath::new(pid, leaf).as_cstr(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .ok()?;
    buf.clear();
    if buf.capacity() < 4096 {
        buf.reserve(4096);
    }
    loop {
        let room = buf.capacity() - buf.len();
        let filled = rustix::io::read(&fd, rustix::buffer::spare_capacity(buf)).ok()?;
        if filled == 0 || filled < room {
            return Some(());
        }
        buf.reserve(buf.capacity());
    }
}

thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on the contents of `/proc/PID/LEAF`, read into a reused per-thread buffer.
fn with_proc_file<T>(pid: u32, leaf: &[u8], f: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
    READ_BUF.with(|cell| {
        let mut buf = cell.try_borrow_mut().ok()?;
        let out = read_proc_file(pid, leaf, &mut buf).and_then(|()| f(&buf));
        // A huge command line should not stay allocated for the life of a library user.
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::new();
        }
        out
    })
}

fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .and_then(|t| u64::try_from(t).ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// The wall-clock time of boot, to the nanosecond: `CLOCK_REALTIME` now minus `CLOCK_BOOTTIME`
/// now (the clock start times in `/proc/PID/stat` count on), computed once. `btime` in
/// `/proc/stat` is whole seconds, which made every age up to a second too old; it remains the
/// fallback.
fn boot_time() -> SystemTime {
    static BOOT: OnceLock<SystemTime> = OnceLock::new();
    *BOOT.get_or_init(|| {
        precise_boot_time().unwrap_or_else(|| {
            let secs = fs::read("/proc/stat").ok().and_then(|b| procfs::parse_btime(&b)).unwrap_or(0);
            UNIX_EPOCH + Duration::from_secs(secs)
        })
    })
}

fn precise_boot_time() -> Option<SystemTime> {
    let mut ts = nix::libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call; clock_gettime writes
    // only into it.
    let rc = unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_BOOTTIME, &raw mut ts) };
    let now = SystemTime::now();
    if rc != 0 {
        return None;
    }
    let since_boot = Duration::new(u64::try_from(ts.tv_sec).ok()?, u32::try_from(ts.tv_nsec).ok()?);
    now.checked_sub(since_boot)
}

/// Wall-clock time of a start time in clock ticks after boot.
pub fn ticks_to_time(ticks: u64) -> SystemTime {
    let hz = clock_ticks();
    boot_time() + Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz)
}

/// Reads `/proc/PID/stat` alone: enough to check a process's identity.
pub fn read_stat(pid: u32) -> Option<procfs::Stat> {
    with_proc_file(pid, b"stat", procfs::parse_stat).filter(|s| s.pid == pid)
}

/// The start time (identity) of `pid`, or `None` when it does not exist.
pub fn start_ticks(pid: u32) -> Option<u64> {
    read_stat(pid).map(|s| s.starttime)
}

/// Reads one process (without its command line); `None` if it vanished.
pub fn read_process(pid: u32) -> Option<Process> {
    let stat = read_stat(pid)?;
    let uid = with_proc_file(pid, b"status", procfs::parse_status_uid)?;
    Some(Process {
        pid,
        ppid: stat.ppid,
        pgid: stat.pgrp,
        sid: stat.session,
        uid,
        name: stat.comm,
        state: stat.state,
        start_ticks: stat.starttime,
        start_time: ticks_to_time(stat.starttime),
        kernel_thread: stat.flags & procfs::PF_KTHREAD != 0,
        cmdline: None,
        exe: None,
    })
}

/// The arguments of `pid`.
pub fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    with_proc_file(pid, b"cmdline", |b| Some(procfs::parse_cmdline(b)))
}

/// The executable of `pid` (unreadable for other users' processes when not root).
pub fn read_exe(pid: u32) -> Option<PathBuf> {
    let dir = proc_dir().ok()?;
    let target = rustix::fs::readlinkat(dir, PidPath::new(pid, b"exe").as_cstr(), Vec::new()).ok()?;
    let bytes = target.into_bytes();
    // A deleted executable reads as "/path (deleted)"; keep the path.
    let path = bytes.strip_suffix(b" (deleted)").unwrap_or(&bytes);
    Some(PathBuf::from(OsStr::from_bytes(path)))
}

/// The identity of `pid`'s executable file: device and inode of what `/proc/PID/exe` points
/// to (the file itself, also when it was renamed or deleted). Unreadable for other users'
/// processes when not root. The file is never opened; `statx` with `AT_STATX_DONT_SYNC` takes
/// what the kernel has cached and asks no remote file system (a dead NFS server cannot hang
/// it), and device and inode are always in the inode.
pub fn exe_identity(pid: u32) -> Option<(u64, u64)> {
    use rustix::fs::{AtFlags, StatxFlags};
    let dir = proc_dir().ok()?;
    let path = PidPath::new(pid, b"exe");
    let st = rustix::fs::statx(dir, path.as_cstr(), AtFlags::STATX_DONT_SYNC, StatxFlags::INO).ok()?;
    Some((rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino))
}

/// The process (thread group) `tid` belongs to: `tid` itself for a process, another pid for
/// a thread. `None` when it does not exist.
pub fn thread_group(tid: u32) -> Option<u32> {
    with_proc_file(tid, b"status", procfs::parse_status_tgid)
}

/// One end of a pipe that a process holds: the pipe, and which way the end goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeEnd {
    /// The pipe's inode.
    pub inode: u64,
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
}

impl PipeEnd {
    /// Whether `other` is the far end of the same pipe: it reads what this end writes, or
    /// writes what this end reads.
    pub fn faces(&self, other: &PipeEnd) -> bool {
        self.inode == other.inode && ((self.write && other.read) || (self.read && other.write))
    }
}

/// The pipe end behind `/proc/PID/fd/FD`, if that fd is a pipe.
fn pipe_end(pid: u32, fd_name: &[u8]) -> Option<PipeEnd> {
    let dir = proc_dir().ok()?;
    let mut leaf = b"fd/".to_vec();
    leaf.extend_from_slice(fd_name);
    let target = rustix::fs::readlinkat(dir, PidPath::new(pid, &leaf).as_cstr(), Vec::new()).ok()?;
    let inode = procfs::parse_pipe_link(target.as_bytes())?;
    leaf.splice(..2, b"fdinfo".iter().copied());
    let flags = with_proc_file(pid, &leaf, procfs::parse_fdinfo_flags)?;
    let mode = flags & 0o3;
    Some(PipeEnd { inode, read: mode != 1, write: mode != 0 })
}

/// The pipes on this process's stdin, stdout and stderr: its pipeline, when a shell runs it
/// in one (`reaper kill ... | tee log`).
pub fn own_pipe_ends() -> Vec<PipeEnd> {
    let me = crate::sys::self_pid();
    let mut out: Vec<PipeEnd> = [&b"0"[..], b"1", b"2"].iter().filter_map(|fd| pipe_end(me, fd)).collect();
    out.dedup();
    out
}

/// Whether `pid` holds the far end of one of the pipes in `mine` (see [`PipeEnd::faces`]):
/// it reads what we write or writes what we read. Reads its fd table; `false` when that is
/// unreadable.
pub fn holds_far_end(pid: u32, mine: &[PipeEnd]) -> bool {
    if mine.is_empty() {
        return false;
    }
    let Ok(proc_dir) = proc_dir() else { return false };
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(fd_dir) = rustix::fs::openat(proc_dir, PidPath::new(pid, b"fd").as_cstr(), flags, Mode::empty()) else {
        return false;
    };
    let mut dents = DirentBuf::new();
    let mut link = [0u8; 64];
    while let Ok(n) = dents.fill(&fd_dir) {
        if n == 0 {
            break;
        }
        for name in dents.names(n) {
            let mut cname = [0u8; 16];
            let Some(slot) = cname.get_mut(..name.len()) else { continue };
            slot.copy_from_slice(name);
            let Ok(cname) = CStr::from_bytes_until_nul(&cname) else { continue };
            let Ok(len) = rustix::fs::readlinkat_raw(&fd_dir, cname, &mut link) else {
                continue;
            };
            let Some(inode) = procfs::parse_pipe_link(&link[..len.min(link.len())]) else { continue };
            if !mine.iter().any(|m| m.inode == inode) {
                continue;
            }
            if let Some(end) = pipe_end(pid, name)
                && mine.iter().any(|m| m.faces(&end))
            {
                return true;
            }
        }
    }
    false
}

/// Whether `p` is a session subreaper that adopts orphans: `systemd --user`.
pub fn is_session_subreaper(p: &Process) -> bool {
    p.pid != 1 && p.name == "systemd"
}

pub(crate) fn tcp_state_num(n: u8) -> SocketState {
    match n {
        1 => SocketState::Established,
        2 => SocketState::SynSent,
        3 => SocketState::SynRecv,
        4 => SocketState::FinWait1,
        5 => SocketState::FinWait2,
        6 => SocketState::TimeWait,
        7 => SocketState::Close,
        8 => SocketState::CloseWait,
        9 => SocketState::LastAck,
        10 => SocketState::Listen,
        11 => SocketState::Closing,
        _ => SocketState::Unknown,
    }
}

/// The socket table, from netlink `sock_diag` (well under a millisecond); each family and
/// protocol that netlink cannot answer is read from `/proc/net` instead. A table that neither
/// has (IPv6 disabled: no `/proc/net/tcp6`) is empty; a table that cannot be read (no fd left,
/// say) is an error, never an empty table: an empty table would mean "every port is free".
pub fn sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    let combos = [
        (Proto::Tcp, 4u8, AddressFamilyFlags::IPV4, ProtocolFlags::TCP, "tcp"),
        (Proto::Tcp, 6, AddressFamilyFlags::IPV6, ProtocolFlags::TCP, "tcp6"),
        (Proto::Udp, 4, AddressFamilyFlags::IPV4, ProtocolFlags::UDP, "udp"),
        (Proto::Udp, 6, AddressFamilyFlags::IPV6, ProtocolFlags::UDP, "udp6"),
    ];
    for (proto, family, af, pf, table) in combos {
        let wanted = match proto {
            Proto::Tcp => filter.tcp,
            Proto::Udp => filter.udp,
        };
        if wanted {
            table_sockets(af, pf, family, table, proto, &mut out)?;
        }
    }
    Ok(out)
}

/// One table: netlink, else `/proc/net/TABLE`. A dump that failed midway is discarded whole.
fn table_sockets(
    af: AddressFamilyFlags,
    pf: ProtocolFlags,
    family: u8,
    table: &str,
    proto: Proto,
    out: &mut Vec<Socket>,
) -> Result<()> {
    let mut got = Vec::new();
    if netlink_sockets(af, pf, family, &mut got).is_err() {
        got.clear();
        proc_net_sockets(table, proto, family, &mut got)?;
    }
    out.append(&mut got);
    Ok(())
}

/// The sockets that hold ports: TCP listeners and every UDP socket (a bound UDP socket is what
/// holds a UDP port), the same as [`sockets`] filtered by [`Socket::is_listening`], but cheaper:
/// the kernel is asked for TCP listeners only and skips its table of connections.
pub fn listening_sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    if filter.tcp {
        let combos = [(4u8, AddressFamilyFlags::IPV4, "tcp"), (6, AddressFamilyFlags::IPV6, "tcp6")];
        for (family, af, table) in combos {
            let mut got = Vec::new();
            if sockdiag::tcp_dump(family, sockdiag::LISTEN_ONLY, &mut got).is_err() {
                // A dump that failed midway is discarded and the table read the general way.
                got.clear();
                table_sockets(af, ProtocolFlags::TCP, family, table, Proto::Tcp, &mut got)?;
                got.retain(Socket::is_listening);
            }
            out.append(&mut got);
        }
    }
    if filter.udp {
        out.extend(sockets(SocketFilter { tcp: false, udp: true })?);
    }
    Ok(out)
}

/// How long the longest-lived ended connection (TIME_WAIT, or a closing socket whose process
/// is gone) on a TCP port in `ports` still has, as the kernel's timer says; `None` when there is
/// none or the kernel does not say.
pub fn lingering_expiry(ports: &dyn Fn(u16) -> bool) -> Option<Duration> {
    let mut longest: Option<Duration> = None;
    for family in [4u8, 6] {
        let mut got = Vec::new();
        if sockdiag::tcp_timers(family, sockdiag::ORPHAN_STATES, &mut got).is_err() {
            continue;
        }
        for (s, expires) in got {
            if s.inode == 0 && ports(s.local_port) {
                longest = Some(longest.map_or(expires, |l| l.max(expires)));
            }
        }
    }
    longest
}

fn netlink_sockets(af: AddressFamilyFlags, pf: ProtocolFlags, family: u8, out: &mut Vec<Socket>) -> Result<()> {
    let failed = |e: netstat2::error::Error| Error::Sockets(format!("netlink: {e}"));
    let iter = netstat2::iterate_sockets_info_without_pids(af, pf).map_err(failed)?;
    for item in iter {
        let info = item.map_err(failed)?;
        let (proto, local_addr, local_port, state) = match &info.protocol_socket_info {
            ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port, crate::sys::tcp_state(&t.state)),
            ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port, SocketState::Unconn),
        };
        out.push(Socket { proto, family, local_addr, local_port, state, inode: u64::from(info.inode), uid: info.uid });
    }
    Ok(())
}

fn proc_net_sockets(table: &str, proto: Proto, family: u8, out: &mut Vec<Socket>) -> Result<()> {
    let path = format!("/proc/net/{table}");
    let buf = match fs::read(&path) {
        Ok(buf) => buf,
        // No such table: that family is disabled (IPv6 off), so it has no sockets.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("reading the socket table ({path})"), e)),
    };
    for row in procfs::parse_net_table(&buf) {
        let state = match proto {
            Proto::Tcp => tcp_state_num(row.state),
            Proto::Udp if row.state == 1 => SocketState::Established,
            Proto::Udp => SocketState::Unconn,
        };
        out.push(Socket {
            proto,
            family,
            local_addr: row.local_addr,
            local_port: row.local_port,
            state,
            inode: row.inode,
            uid: row.uid,
        });
    }
    Ok(())
}

/// A `getdents64` buffer, reused across directories.
struct DirentBuf {
    // u64 words keep the records 8-byte aligned, as the kernel writes them.
    words: Vec<u64>,
}

/// Room that guarantees one more entry would have fit: the `linux_dirent64` header (19 bytes)
/// plus the longest name (255 bytes) and its NUL, rounded up to 8.
const MAX_DIRENT: usize = 280;

impl DirentBuf {
    fn new() -> DirentBuf {
        DirentBuf { words: vec![0; 32 * 1024 / 8] }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: a `[u64]` is valid as `[u8]` of 8 times the length (no padding, any bit
        // pattern is a valid `u8`, and `u8` has alignment 1); the borrow keeps `words` alive.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.words.len() * 8) }
    }

    /// One `getdents64` call on `dir`: the number of bytes of records written (0 at the end).
    fn fill(&mut self, dir: impl AsFd) -> rustix::io::Result<usize> {
        let len = self.words.len() * 8;
        // SAFETY: `getdents64(fd, buf, len)` writes at most `len` bytes into `buf`, which is the
        // `words` allocation (exactly `len` bytes, 8-byte aligned) borrowed mutably here; the fd
        // is borrowed for the duration of the call.
        let n = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_getdents64,
                dir.as_fd().as_raw_fd(),
                self.words.as_mut_ptr().cast::<u8>(),
                len,
            )
        };
        if n < 0 {
            return Err(
                rustix::io::Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(rustix::io::Errno::IO)
            );
        }
        Ok(usize::try_from(n).unwrap_or(0).min(len))
    }

    /// The names in the first `n` bytes (as filled by [`DirentBuf::fill`]), without `.` and `..`.
    fn names(&self, n: usize) -> impl Iterator<Item = &[u8]> {
        let bytes = &self.bytes()[..n];
        let mut off = 0;
        std::iter::from_fn(move || {
            loop {
                // d_ino (8) d_off (8) d_reclen (2) d_type (1) d_name (NUL-terminated)
                let rec = bytes.get(off..)?;
                let reclen = usize::from(u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]));
                if reclen < 20 {
                    return None;
                }
                off += reclen;
                let name = rec.get(19..reclen)?;
                let name = &name[..name.iter().position(|&b| b == 0)?];
                if name != b"." && name != b".." {
                    return Some(name);
                }
            }
        })
    }
}

/// How many threads scan fd tables: the scan is system-call bound and processes are
/// independent, so every available core helps once there are enough processes to share.
fn scan_threads(pids: usize) -> usize {
    const PIDS_PER_THREAD: usize = 256;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.min(pids / PIDS_PER_THREAD).clamp(1, 8)
}

/// Scans fd tables for the sockets in `inodes`: every process when `among` is `None`. Every
/// holder is found (a socket shared across fork has several).
pub fn scan_socket_holders(inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
    let proc_dir = match proc_dir() {
        Ok(dir) => dir,
        Err(e) => return HolderScan::failed(format!("opening /proc: {e}")),
    };
    let listed;
    let pids: &[u32] = match among {
        Some(p) => p,
        None => match list_pids() {
            Ok(p) => {
                listed = p;
                &listed
            }
            Err(e) => return HolderScan::failed(e.to_string()),
        },
    };
    let threads = scan_threads(pids.len());
    if threads <= 1 {
        let mut w = Scanner::new(proc_dir, inodes);
        pids.iter().for_each(|&pid| w.scan(pid));
        return w.finish();
    }
    // Workers take chunks of pids from a shared cursor, so a few big fd tables do not leave
    // one thread with all the work.
    const CHUNK: usize = 32;
    let next = AtomicUsize::new(0);
    let work = || {
        let mut w = Scanner::new(proc_dir, inodes);
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            let Some(chunk) = pids.get(start..pids.len().min(start + CHUNK)) else {
                break;
            };
            if chunk.is_empty() {
                break;
            }
            chunk.iter().for_each(|&pid| w.scan(pid));
        }
        w.finish()
    };
    let parts: Vec<HolderScan> = std::thread::scope(|s| {
        let helpers: Vec<_> =
            (1..threads).filter_map(|_| std::thread::Builder::new().spawn_scoped(s, work).ok()).collect();
        // This thread works too; if no helper could be started it does everything.
        let mut parts = vec![work()];
        for h in helpers {
            parts.push(h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        parts
    });
    let mut scan = HolderScan::default();
    for part in parts {
        scan.denied |= part.denied;
        scan.error = scan.error.or(part.error);
        scan.scanned.extend(part.scanned);
        for (inode, pids) in part.holders {
            scan.holders.entry(inode).or_default().extend(pids);
        }
    }
    // Threads finish in any order; keep the result independent of it (and of a pid given twice).
    scan.holders.values_mut().for_each(|v| {
        v.sort_unstable();
        v.dedup();
    });
    scan
}

/// One thread's fd-table scan: its buffers and what it found.
struct Scanner<'a> {
    proc_dir: BorrowedFd<'a>,
    inodes: &'a InodeSet,
    dents: DirentBuf,
    scan: HolderScan,
}

impl<'a> Scanner<'a> {
    fn new(proc_dir: BorrowedFd<'a>, inodes: &'a InodeSet) -> Scanner<'a> {
        Scanner { proc_dir, inodes, dents: DirentBuf::new(), scan: HolderScan::default() }
    }

    fn finish(self) -> HolderScan {
        self.scan
    }

    /// A table that exists but could not be read (no fd left, no memory): its sockets are
    /// unknown, so the scan as a whole cannot say who holds what.
    fn fail(&mut self, pid: u32, e: Errno) {
        if self.scan.error.is_none() {
            self.scan.error = Some(format!("reading the fd table of pid {pid}: {}", std::io::Error::from(e)));
        }
    }

    /// Reads `/proc/PID/fd`: one `getdents64` for the names (procfs returns them all at once
    /// when they fit), then one `readlinkat` per fd, relative to the directory.
    fn scan(&mut self, pid: u32) {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd_dir = match rustix::fs::openat(self.proc_dir, PidPath::new(pid, b"fd").as_cstr(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ACCESS | Errno::PERM) => {
                self.scan.denied = true;
                return;
            }
            Err(Errno::NOENT | Errno::SRCH) => return, // vanished mid-scan: nothing to report
            Err(e) => return self.fail(pid, e),
        };
        let mut link = [0u8; 64];
        loop {
            let n = match self.dents.fill(&fd_dir) {
                Ok(n) => n,
                Err(Errno::ACCESS | Errno::PERM) => {
                    self.scan.denied = true;
                    return;
                }
                Err(Errno::NOENT | Errno::SRCH) => break, // exited while we read: what was read stands
                Err(e) => return self.fail(pid, e),
            };
            if n == 0 {
                break;
            }
            for name in self.dents.names(n) {
                if !name.first().is_some_and(u8::is_ascii_digit) {
                    continue;
                }
                // `name` came from a NUL-terminated record; rebuild the terminator on the stack.
                let mut cname = [0u8; 16];
                let Some(slot) = cname.get_mut(..name.len()) else {
                    continue;
                };
                slot.copy_from_slice(name);
                let Ok(cname) = CStr::from_bytes_until_nul(&cname) else {
                    continue;
                };
                let target = match rustix::fs::readlinkat_raw(&fd_dir, cname, &mut link) {
                    Ok(n) => &link[..n],
                    Err(Errno::ACCESS | Errno::PERM) => {
                        // The table exists but its links are hidden from us.
                        self.scan.denied = true;
                        return;
                    }
                    Err(_) => continue, // closed since the listing
                };
                if let Some(inode) = procfs::parse_socket_link(target)
                    && self.inodes.contains(&inode)
                {
                    let holders = self.scan.holders.entry(inode).or_default();
                    // One pid at a time: a repeat (a dup'ed fd) can only be the last entry.
                    if holders.last() != Some(&pid) {
                        holders.push(pid);
                    }
                }
            }
            if n + MAX_DIRENT <= self.dents.words.len() * 8 {
                // Room for another record was left, so procfs had nothing more to give: skip
                // the extra call that would return 0.
                break;
            }
        }
        self.scan.scanned.push(pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn pid_paths_and_names() {
        assert_eq!(PidPath::new(1, b"fd").as_cstr(), c"1/fd");
        assert_eq!(PidPath::new(4_194_304, b"cmdline").as_cstr(), c"4194304/cmdline");
        assert_eq!(parse_pid(b"4242"), Some(4242));
        for bad in [&b""[..], b"0", b"012", b"self", b"12a", b"99999999999"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn list_pids_sees_this_process() {
        assert!(list_pids().unwrap().contains(&std::process::id()));
    }

    #[test]
    fn process_of_this_test_reads_back() {
        let me = std::process::id();
        let p = read_process(me).unwrap();
        assert_eq!(p.pid, me);
        assert_eq!(p.uid, nix::unistd::getuid().as_raw());
        assert_eq!(start_ticks(me), Some(p.start_ticks));
        assert!(read_cmdline(me).unwrap().iter().any(|a| a.contains("reaper")));
    }

    // Start times used the whole-second `btime`, so ages were up to a second too old.
    #[test]
    fn boot_time_is_sub_second() {
        let before = SystemTime::now();
        let up = procfs::parse_uptime(&fs::read("/proc/uptime").unwrap()).unwrap();
        let from_uptime = before - Duration::from_secs_f64(up);
        let boot = boot_time();
        // /proc/uptime counts in hundredths (truncated), and the two reads are apart by a few
        // scheduling delays at most.
        let diff = boot.duration_since(from_uptime).unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_millis(150), "boot {boot:?} vs uptime {from_uptime:?}: {diff:?}");
        // Our own start time lies between boot and now.
        let me = read_process(std::process::id()).unwrap();
        assert!(me.start_time <= SystemTime::now() && me.start_time >= boot);
    }

    #[test]
    fn threads_and_exe_identity() {
        let me = std::process::id();
        assert_eq!(thread_group(me), Some(me));
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tx.send(nix::unistd::gettid().as_raw() as u32).unwrap();
            let _ = done_rx.recv();
        });
        let tid = rx.recv().unwrap();
        assert_ne!(tid, me);
        assert_eq!(thread_group(tid), Some(me));
        drop(done_tx);
        t.join().unwrap();
        let st = fs::metadata(std::env::current_exe().unwrap()).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(exe_identity(me), Some((st.dev(), st.ino())));
    }

    #[test]
    fn pipe_ends_face_each_other() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let me = std::process::id();
        let end = |fd: &OwnedFd| pipe_end(me, fd.as_raw_fd().to_string().as_bytes()).unwrap();
        let (re, we) = (end(&r), end(&w));
        assert_eq!(re.inode, we.inode);
        assert!(re.read && !re.write && we.write && !we.read);
        assert!(re.faces(&we) && we.faces(&re));
        assert!(!we.faces(&we) && !re.faces(&re));
        // We hold both ends, so we hold the far end of each.
        assert!(holds_far_end(me, &[we]));
        assert!(!holds_far_end(me, &[PipeEnd { inode: we.inode + 1, read: false, write: true }]));
    }

    /// The inode of a socket we hold, the way sock_diag reports it.
    fn inode_of(fd: &impl AsRawFd) -> u64 {
        let link = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        procfs::parse_socket_link(link.as_os_str().as_bytes()).unwrap()
    }

    // The threaded scan must find exactly what the one-thread scan finds: every holder, once.
    #[test]
    fn threaded_scan_finds_every_holder_once() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dup = listener.try_clone().unwrap(); // a second fd on the same socket
        let inode = inode_of(&listener);
        let inodes = InodeSet::from([inode]);
        let me = std::process::id();
        // Enough pids for several threads: every pid, plus ourselves many times over.
        let mut pids = list_pids().unwrap();
        pids.extend(std::iter::repeat_n(me, 700));
        let one = scan_socket_holders(&inodes, Some(&[me]));
        assert_eq!(one.holders.get(&inode), Some(&vec![me]));
        let many = scan_socket_holders(&inodes, Some(&pids));
        assert!(scan_threads(pids.len()) >= 2 || std::thread::available_parallelism().map_or(1, usize::from) < 2);
        // Once, although two fds hold it and the pid was scanned 701 times across threads.
        assert_eq!(many.holders.get(&inode), Some(&vec![me]));
        assert!(!many.holders.values().flatten().any(|&p| p != me));
        drop(dup);
    }
}
