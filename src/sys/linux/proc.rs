//! Linux processes from `/proc`: the pid list (`getdents64` on one `/proc` fd), each process's
//! `stat`, `status`, `cmdline` and `exe`, start times as wall-clock time, thread groups, and
//! the one walk of a process tree ([`scan_tree`]).

use std::ffi::{CStr, OsStr};
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{Mode, OFlags};

use super::procfs;
use crate::error::{Error, Result};
use crate::model::{Process, Seen};

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
pub(super) fn proc_dir() -> std::io::Result<BorrowedFd<'static>> {
    static PROC: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = PROC.get() {
        return Ok(fd.as_fd());
    }
    let fd = rustix::fs::open("/proc", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(PROC.get_or_init(|| fd).as_fd())
}

/// `PID/LEAF` relative to `/proc`, NUL-terminated, built on the stack (no allocation per
/// process).
pub(super) struct PidPath {
    buf: [u8; 40],
    len: usize,
}

impl PidPath {
    pub(super) fn new(pid: u32, leaf: &[u8]) -> PidPath {
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

    pub(super) fn as_cstr(&self) -> &CStr {
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
pub(super) fn with_proc_file<T>(pid: u32, leaf: &[u8], f: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
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
///
/// The state is the process's, not its main thread's: a main thread that called `pthread_exit`
/// shows `Z` while the other threads run, and such a process is alive (its pidfd is not readable
/// until every thread has exited), so its state is then a running thread's.
pub fn read_stat(pid: u32) -> Option<procfs::Stat> {
    let (mut stat, threads) = with_proc_file(pid, b"stat", |b| {
        let s = procfs::parse_stat(b)?;
        // Only a zombie's thread count is looked at (a true zombie has 1: itself).
        let threads = if s.state == 'Z' { stat_threads(b) } else { 1 };
        Some((s, threads))
    })
    .filter(|(s, _)| s.pid == pid)?;
    if stat.state == 'Z'
        && threads > 1
        && let Some((_, state)) = live_thread(pid)
    {
        stat.state = state;
    }
    Some(stat)
}

/// `num_threads` (field 20) of a `stat` file; 1 when it does not parse.
fn stat_threads(buf: &[u8]) -> u64 {
    let after = buf.iter().rposition(|&b| b == b')').map_or(&[][..], |i| &buf[i + 1..]);
    after
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .nth(17)
        .and_then(|f| std::str::from_utf8(f).ok()?.parse().ok())
        .unwrap_or(1)
}

/// A thread of `pid` other than its main one that has not exited, and its state, if any: only
/// asked of a process whose main thread is a zombie (rare), so the cost is nil elsewhere.
fn live_thread(pid: u32) -> Option<(u32, char)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    tasks
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&tid| tid != pid)
        .filter_map(|tid| {
            let stat = std::fs::read(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
            procfs::parse_stat(&stat).map(|s| (tid, s.state))
        })
        .find(|(_, s)| !matches!(s, 'Z' | 'X'))
}

/// When `pid`'s main thread has exited and another thread runs on: that thread's
/// `/proc/PID/task/TID/` directory, which still shows the process's memory (command line,
/// environment, executable) that the main thread's entries no longer do.
fn leaderless_task_dir(pid: u32) -> Option<String> {
    let threads = with_proc_file(pid, b"stat", |b| {
        let s = procfs::parse_stat(b)?;
        Some(if s.state == 'Z' { stat_threads(b) } else { 0 })
    })?;
    if threads < 2 {
        return None;
    }
    live_thread(pid).map(|(tid, _)| format!("/proc/{pid}/task/{tid}"))
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

/// What `pid` has used so far (CPU time, resident memory), or `None` when it is gone.
pub fn read_usage(pid: u32) -> Option<crate::model::Usage> {
    let (ticks, pages) = with_proc_file(pid, b"stat", procfs::parse_stat_usage)?;
    let hz = clock_ticks();
    Some(crate::model::Usage {
        cpu: Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz),
        rss_bytes: pages.saturating_mul(page_size()),
    })
}

/// The size of a memory page in bytes (4096 when sysconf cannot say).
fn page_size() -> u64 {
    static SIZE: OnceLock<u64> = OnceLock::new();
    *SIZE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|t| u64::try_from(t).ok())
            .filter(|&t| t > 0)
            .unwrap_or(4096)
    })
}

/// The arguments of `pid`.
pub fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    let args = with_proc_file(pid, b"cmdline", |b| Some(procfs::parse_cmdline(b)))?;
    if args.is_empty()
        && let Some(dir) = leaderless_task_dir(pid)
    {
        return std::fs::read(format!("{dir}/cmdline")).ok().map(|b| procfs::parse_cmdline(&b));
    }
    Some(args)
}

/// The environment of `pid` as `NAME=VALUE` entries, as the process started with it or as it
/// rewrote the block since. `None` when it is unreadable (another user's process, when not
/// root) or gone.
pub fn read_environ(pid: u32) -> Option<Vec<String>> {
    let env = with_proc_file(pid, b"environ", |b| Some(procfs::parse_cmdline(b)))?;
    if env.is_empty()
        && let Some(dir) = leaderless_task_dir(pid)
    {
        return std::fs::read(format!("{dir}/environ")).ok().map(|b| procfs::parse_cmdline(&b));
    }
    Some(env)
}

/// The cgroup v2 path of `pid` (the `0::` line of `/proc/PID/cgroup`, relative to reaper's
/// cgroup namespace). `None` when it is gone or has no v2 line.
pub fn read_cgroup(pid: u32) -> Option<String> {
    with_proc_file(pid, b"cgroup", |b| {
        // Bytes first: one path that is not UTF-8 must not hide the v2 line.
        b.split(|&c| c == b'\n').find_map(|l| l.strip_prefix(b"0::")).map(|p| String::from_utf8_lossy(p).into_owned())
    })
}

/// The whole of `/proc/PID/cgroup`: every hierarchy's line (v1 ones included, where a container
/// runtime may name the container too).
pub fn read_cgroup_file(pid: u32) -> Option<String> {
    with_proc_file(pid, b"cgroup", |b| Some(String::from_utf8_lossy(b).into_owned()))
}

/// The executable of `pid` (unreadable for other users' processes when not root).
pub fn read_exe(pid: u32) -> Option<PathBuf> {
    let dir = proc_dir().ok()?;
    let target = match rustix::fs::readlinkat(dir, PidPath::new(pid, b"exe").as_cstr(), Vec::new()) {
        Ok(target) => target,
        Err(_) => rustix::fs::readlink(format!("{}/exe", leaderless_task_dir(pid)?), Vec::new()).ok()?,
    };
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

/// Whether `p` is a session subreaper that adopts orphans: `systemd --user`.
pub fn is_session_subreaper(p: &Process) -> bool {
    p.pid != 1 && p.name == "systemd"
}

/// `roots` (those that exist) and every current descendant of them, parents before children:
/// one pass over every `/proc/PID/stat`, then the one tree walk ([`crate::sys::tree::walk`]).
pub fn scan_tree(roots: &[u32]) -> Vec<Seen> {
    // /proc/PID/task/*/children needs CONFIG_PROC_CHILDREN, which many kernels lack: read
    // every stat once instead (about 10 µs a process).
    let table = list_pids()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|pid| read_stat(pid).map(|st| (st.ppid, Seen { pid, start_ticks: st.starttime, state: st.state })));
    crate::sys::tree::walk(roots, table)
}

/// The pids of process group `pgid`: one pass over every stat (a group needs nothing of
/// `read_process`'s status file, the costlier read).
pub fn group_members(pgid: u32) -> Vec<u32> {
    list_pids()
        .unwrap_or_default()
        .into_iter()
        .filter(|&pid| read_stat(pid).is_some_and(|st| st.pgrp == pgid))
        .collect()
}

/// A `getdents64` buffer, reused across directories.
pub(super) struct DirentBuf {
    // u64 words keep the records 8-byte aligned, as the kernel writes them.
    words: Vec<u64>,
}

/// Room that guarantees one more entry would have fit: the `linux_dirent64` header (19 bytes)
/// plus the longest name (255 bytes) and its NUL, rounded up to 8.
pub(super) const MAX_DIRENT: usize = 280;

impl DirentBuf {
    pub(super) fn new() -> DirentBuf {
        DirentBuf { words: vec![0; 32 * 1024 / 8] }
    }

    /// The buffer's size in bytes.
    pub(super) fn capacity(&self) -> usize {
        self.words.len() * 8
    }

    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: a `[u64]` is valid as `[u8]` of 8 times the length (no padding, any bit
        // pattern is a valid `u8`, and `u8` has alignment 1); the borrow keeps `words` alive.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<u8>(), self.words.len() * 8) }
    }

    /// One `getdents64` call on `dir`: the number of bytes of records written (0 at the end).
    pub(super) fn fill(&mut self, dir: impl AsFd) -> rustix::io::Result<usize> {
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
    pub(super) fn names(&self, n: usize) -> impl Iterator<Item = &[u8]> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn group_members_is_the_group_and_only_it() {
        use std::os::unix::process::CommandExt;
        // Killed and reaped before any assertion.
        let mut child = std::process::Command::new("sleep").arg("30").process_group(0).spawn().expect("sleep");
        let pid = child.id();
        let members = group_members(pid);
        let own = group_members(read_process(std::process::id()).unwrap().pgid);
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert_eq!(members, [pid]);
        assert!(own.contains(&std::process::id()) && !own.contains(&pid), "{own:?}");
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
}
