//! Linux fd tables (`/proc/PID/fd`): who holds a socket (a threaded scan of every table, or
//! of some), and the pipes of our own pipeline and who holds their far ends.

use std::ffi::CStr;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::proc::{DirentBuf, MAX_DIRENT, PidPath, list_pids, proc_dir, with_proc_file};
use super::procfs;
use crate::model::{HolderScan, InodeSet};

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

/// Every pipe end in `pid`'s fd table, with its fd number; empty when the table is unreadable.
fn pipe_ends_of(pid: u32) -> Vec<(u32, PipeEnd)> {
    let mut out = Vec::new();
    let Ok(proc_dir) = proc_dir() else { return out };
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(fd_dir) = rustix::fs::openat(proc_dir, PidPath::new(pid, b"fd").as_cstr(), flags, Mode::empty()) else {
        return out;
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
            if procfs::parse_pipe_link(&link[..len.min(link.len())]).is_none() {
                continue;
            }
            let fd = std::str::from_utf8(name).ok().and_then(|n| n.parse().ok());
            if let (Some(fd), Some(end)) = (fd, pipe_end(pid, name)) {
                out.push((fd, end));
            }
        }
    }
    out
}

/// Which of `members` (the processes of our process group) are in our pipeline: connected to
/// the pipes in `mine` (our stdin, stdout, stderr) directly or through other stages, as in
/// `reaper kill ... | tee log | cat`, where `cat` reads what `tee` writes.
///
/// The pipeline is followed one way from each end: downstream, a member that reads a pipe the
/// pipeline writes is a stage, and what its stdout and stderr write is the pipeline's too;
/// upstream, a member that writes a pipe the pipeline reads is a stage, and its stdin is the
/// pipeline's. Direction matters: a background job that writes to the same pipe as reaper
/// (a script's log) faces none of the pipeline's ends and is not a stage. Only stdio carries
/// the pipeline on (fds 0-2): other pipes a stage holds (a make jobserver's) do not join it.
pub fn pipeline_partners(mine: &[PipeEnd], members: &[u32]) -> Vec<u32> {
    if mine.is_empty() {
        return Vec::new();
    }
    let tables: Vec<(u32, Vec<(u32, PipeEnd)>)> =
        members.iter().map(|&pid| (pid, pipe_ends_of(pid))).filter(|(_, ends)| !ends.is_empty()).collect();
    let mut down: Vec<u64> = mine.iter().filter(|e| e.write).map(|e| e.inode).collect();
    let mut up: Vec<u64> = mine.iter().filter(|e| e.read).map(|e| e.inode).collect();
    let mut partners: Vec<u32> = Vec::new();
    loop {
        let mut grew = false;
        for (pid, ends) in &tables {
            if partners.contains(pid) {
                continue;
            }
            let reads_down = ends.iter().any(|(_, e)| e.read && down.contains(&e.inode));
            let writes_up = ends.iter().any(|(_, e)| e.write && up.contains(&e.inode));
            if !reads_down && !writes_up {
                continue;
            }
            partners.push(*pid);
            grew = true;
            for (_, e) in ends.iter().filter(|(fd, _)| *fd <= 2) {
                if reads_down && e.write && !down.contains(&e.inode) {
                    down.push(e.inode);
                }
                if writes_up && e.read && !up.contains(&e.inode) {
                    up.push(e.inode);
                }
            }
        }
        if !grew {
            return partners;
        }
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
///
/// The leaders' tables (`/proc/PID/fd`) first. A thread that called `unshare(CLONE_FILES)` has
/// a table of its own, which its leader's does not show: only when some inode is still without
/// a holder are the other threads' tables (`/proc/PID/task/TID/fd`) read, and only those that
/// are not the leader's (`kcmp`), so the common case costs nothing more.
pub fn scan_socket_holders(inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
    let mut scan = scan_leaders(inodes, among);
    let missing: InodeSet = inodes.iter().filter(|i| !scan.holders.contains_key(i)).copied().collect();
    if missing.is_empty() || scan.error.is_some() {
        return scan;
    }
    let Ok(proc_dir) = proc_dir() else { return scan };
    let mut w = Scanner::new(proc_dir, &missing);
    let mut tids = Vec::new();
    for &pid in &scan.scanned {
        w.scan_private_tables(pid, &mut tids);
    }
    let found = w.finish();
    scan.denied |= found.denied;
    for (inode, pids) in found.holders {
        let holders = scan.holders.entry(inode).or_default();
        holders.extend(pids);
        holders.sort_unstable();
        holders.dedup();
    }
    scan
}

/// `KCMP_FILES`: whether two tasks share one fd table.
const KCMP_FILES: nix::libc::c_int = 2;

/// Whether task `tid` of process `pid` has an fd table of its own (`unshare(CLONE_FILES)`);
/// `true` when the kernel cannot say (no `kcmp`), so that its table is read.
fn has_own_fd_table(pid: u32, tid: u32) -> bool {
    // SAFETY: kcmp takes two pids, a type and two integer indices (unused for KCMP_FILES); it
    // reads no memory of ours.
    let rc = unsafe {
        nix::libc::syscall(nix::libc::SYS_kcmp, pid as nix::libc::pid_t, tid as nix::libc::pid_t, KCMP_FILES, 0, 0)
    };
    rc != 0
}

fn scan_leaders(inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
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

    /// Reads `/proc/PID/fd`, see [`Scanner::scan_table`]; `pid` counts as scanned when it
    /// could be read.
    fn scan(&mut self, pid: u32) {
        if self.scan_table(pid, b"fd") {
            self.scan.scanned.push(pid);
        }
    }

    /// Reads the tables of `pid`'s threads that do not share its own (`tids` is a reused
    /// buffer); what they hold is held by `pid`.
    fn scan_private_tables(&mut self, pid: u32, tids: &mut Vec<u32>) {
        use rustix::fs::{AtFlags, StatxFlags};
        let task = PidPath::new(pid, b"task");
        // procfs counts the threads in the link count of `task` (2 + threads): one `statx`
        // tells a single-threaded process, most of them, which has no other table.
        match rustix::fs::statx(self.proc_dir, task.as_cstr(), AtFlags::empty(), StatxFlags::NLINK) {
            Ok(st) if st.stx_nlink <= 3 => return,
            _ => {}
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Ok(dir) = rustix::fs::openat(self.proc_dir, task.as_cstr(), flags, Mode::empty()) else {
            return;
        };
        tids.clear();
        while let Ok(n) = self.dents.fill(&dir) {
            if n == 0 {
                break;
            }
            tids.extend(self.dents.names(n).filter_map(|name| std::str::from_utf8(name).ok()?.parse::<u32>().ok()));
            if n + MAX_DIRENT <= self.dents.capacity() {
                break; // procfs had nothing more to give (see `scan_table`)
            }
        }
        for &tid in tids.iter().filter(|&&t| t != pid) {
            if has_own_fd_table(pid, tid) {
                let mut leaf = *b"task/0000000000/fd";
                let digits = tid.to_string();
                let len = 5 + digits.len();
                leaf[5..len].copy_from_slice(digits.as_bytes());
                leaf.copy_within(15..18, len);
                self.scan_table(pid, &leaf[..len + 3]);
            }
        }
    }

    /// Reads the fd table `/proc/PID/LEAF` (`fd`, or a thread's `task/TID/fd`): one
    /// `getdents64` for the names (procfs returns them all at once when they fit), then one
    /// `readlinkat` per fd, relative to the directory. `false` when it could not be read.
    fn scan_table(&mut self, pid: u32, leaf: &[u8]) -> bool {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd_dir = match rustix::fs::openat(self.proc_dir, PidPath::new(pid, leaf).as_cstr(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ACCESS | Errno::PERM) => {
                self.scan.denied = true;
                return false;
            }
            Err(Errno::NOENT | Errno::SRCH) => return false, // vanished mid-scan: nothing to report
            Err(e) => {
                self.fail(pid, e);
                return false;
            }
        };
        let mut link = [0u8; 64];
        loop {
            let n = match self.dents.fill(&fd_dir) {
                Ok(n) => n,
                Err(Errno::ACCESS | Errno::PERM) => {
                    self.scan.denied = true;
                    return false;
                }
                Err(Errno::NOENT | Errno::SRCH) => break, // exited while we read: what was read stands
                Err(e) => {
                    self.fail(pid, e);
                    return false;
                }
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
                        return false;
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
            if n + MAX_DIRENT <= self.dents.capacity() {
                // Room for another record was left, so procfs had nothing more to give: skip
                // the extra call that would return 0.
                break;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn pipe_ends_face_each_other() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let me = std::process::id();
        let end = |fd: &OwnedFd| pipe_end(me, fd.as_raw_fd().to_string().as_bytes()).unwrap();
        let (re, we) = (end(&r), end(&w));
        assert_eq!(re.inode, we.inode);
        assert!(re.read && !re.write && we.write && !we.read);
        // We hold both ends, so we read what the write end writes.
        assert_eq!(pipeline_partners(&[we], &[me]), vec![me]);
        assert!(pipeline_partners(&[PipeEnd { inode: we.inode + 1, read: false, write: true }], &[me]).is_empty());
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
