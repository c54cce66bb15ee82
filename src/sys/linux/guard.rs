//! Linux side of `reaper run`: starting a command under a guard process (the "shim") that
//! the kernel ends together with reaper.
//!
//! reaper forks the shim with `clone3()`, in a new PID namespace when it can (with a new user
//! namespace when it is not root), always together with a new mount namespace in which the shim
//! makes every mount private and mounts a procfs of the new PID namespace on /proc (as
//! `unshare --pid --fork --mount-proc` does): inside, /proc and the pids agree, so `ps`, `pgrep`
//! and `reaper` itself work there. The shim is that namespace's init: it forks the command,
//! reaps every orphan of the namespace, and reports the command's exit status on a pipe.
//!
//! The shim watches a pidfd of the process that started it (the owner), not its parent thread:
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, which would end the tree of a
//! guard spawned from a worker thread. A pidfd becomes readable once the whole process has
//! exited, however it died (SIGKILL included); the shim then exits, and the kernel kills every
//! process of the namespace with its init. Where namespaces are not available the shim is a
//! child subreaper instead (orphans still come back to it and are ended with the tree, but a
//! SIGKILL of reaper ends only the shim and, by its `PR_SET_PDEATHSIG` on the single-threaded
//! shim, the command; what the command started keeps running).
//!
//! The caller may have threads, so nothing between the fork and `execve()` allocates, locks or
//! touches libc state: everything is prepared before the fork and the children make only raw
//! system calls. The network namespace is not touched: the command's ports are the host's.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::libc::{self, c_char, c_int};

use super::pidwatch::{open_pidfd, pidfd_signal, poll_readable};
use crate::error::{Error, Result};
use crate::model::{Isolation, Status};

/// The shim started the command; the value is its pid as the shim sees it.
const MSG_STARTED: u32 = 1;
/// `execve()` failed; the value is errno.
const MSG_EXEC_FAILED: u32 = 2;
/// Setting up the shim failed (user-namespace maps, subreaper); the value is errno.
const MSG_SETUP_FAILED: u32 = 3;
/// The command exited; the value is its raw wait status.
const MSG_EXITED: u32 = 4;
/// Mounting the namespace's own /proc failed; the value is errno.
const MSG_PROC_FAILED: u32 = 5;

/// The shim's exit code when its owner process exited without ending the tree (or setup failed).
const SHIM_ORPHANED: c_int = 125;

/// `struct clone_args` (the first version, 64 bytes) of `clone3(2)`.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// `clone3()` used like `fork()` (no shared memory, no new stack): returns twice, 0 in the
/// child. With `pidfd`, the kernel stores a pidfd for the child there. Where `clone3` is
/// refused with ENOSYS (old kernels, container seccomp profiles), plain `clone()` is used and
/// `pidfd` is left alone: the caller opens one with `pidfd_open` (safe: the child is ours and
/// not reaped, so its pid cannot be reused).
///
/// # Safety
/// In the child only async-signal-safe raw system calls may follow (the caller may have
/// threads, whose locks are copied in whatever state they were).
unsafe fn clone3(flags: u64, pidfd: Option<&mut c_int>) -> libc::c_long {
    let mut args = CloneArgs { flags, exit_signal: libc::SIGCHLD as u64, ..CloneArgs::default() };
    if let Some(p) = pidfd {
        args.flags |= libc::CLONE_PIDFD as u64;
        args.pidfd = std::ptr::from_mut(p) as u64;
    }
    // SAFETY: `args` is a valid clone_args of the size passed and lives across the call; the
    // caller upholds the fork-like contract.
    let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::from_mut(&mut args), std::mem::size_of::<CloneArgs>()) };
    if r >= 0 || errno() != libc::ENOSYS {
        return r;
    }
    // SAFETY: clone without CLONE_VM and with a null stack is fork with namespace flags; the
    // remaining arguments (tids, tls) are unused without the flags that read them. The first
    // two arguments are (flags, stack) on every architecture this is built for but s390x.
    unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_ulong | libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    }
}

fn errno() -> c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Everything the shim and the command need, built before the fork.
struct Prep {
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const c_char>,
    uid_map: CString,
    gid_map: CString,
    full_mask: libc::sigset_t,
    empty_mask: libc::sigset_t,
    chld_mask: libc::sigset_t,
}

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::Usage(format!("argument contains a NUL byte: {}", s.to_string_lossy())))
}

/// Finds `program` the way a shell does: as given when it contains `/`, else in `$PATH`.
fn resolve(program: &OsStr) -> Result<PathBuf> {
    let not_found = || {
        Error::io(
            format!("starting '{}'", program.to_string_lossy()),
            io::Error::new(io::ErrorKind::NotFound, "command not found"),
        )
    };
    if program.is_empty() {
        return Err(not_found());
    }
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    for dir in std::env::split_paths(&path) {
        let candidate = if dir.as_os_str().is_empty() { Path::new(".").join(program) } else { dir.join(program) };
        let Ok(c) = CString::new(candidate.as_os_str().as_bytes()) else {
            continue;
        };
        // SAFETY: `c` is a valid NUL-terminated path.
        if candidate.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0 {
            return Ok(candidate);
        }
    }
    Err(not_found())
}

impl Prep {
    fn new(argv: &[OsString]) -> Result<Prep> {
        let program = argv.first().ok_or_else(|| Error::Usage("no command given".into()))?;
        let path = cstring(resolve(program)?.as_os_str())?;
        let argv: Vec<CString> = argv.iter().map(|a| cstring(a)).collect::<Result<_>>()?;
        let envp: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).ok()
            })
            .collect();
        let ptrs = |v: &[CString]| v.iter().map(|c| c.as_ptr()).chain([std::ptr::null()]).collect::<Vec<_>>();
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        // SAFETY: sigset_t is plain data; sigfillset/sigemptyset/sigaddset initialise it.
        let (full_mask, empty_mask, chld_mask) = unsafe {
            let mut full: libc::sigset_t = std::mem::zeroed();
            let mut empty: libc::sigset_t = std::mem::zeroed();
            let mut chld: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut full);
            libc::sigemptyset(&mut empty);
            libc::sigemptyset(&mut chld);
            libc::sigaddset(&mut chld, libc::SIGCHLD);
            (full, empty, chld)
        };
        Ok(Prep {
            path,
            argv_ptrs: ptrs(&argv),
            _argv: argv,
            envp_ptrs: ptrs(&envp),
            _envp: envp,
            // The command keeps its own uid and gid inside the user namespace.
            uid_map: CString::new(format!("{uid} {uid} 1\n")).map_err(|_| Error::Usage("uid".into()))?,
            gid_map: CString::new(format!("{gid} {gid} 1\n")).map_err(|_| Error::Usage("gid".into()))?,
            full_mask,
            empty_mask,
            chld_mask,
        })
    }
}

/// Writes one message on the status pipe (8 bytes: atomic on a pipe).
///
/// # Safety
/// Async-signal-safe; `fd` must be the status pipe's write end.
unsafe fn send(fd: RawFd, tag: u32, value: i32) {
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&tag.to_ne_bytes());
    buf[4..].copy_from_slice(&value.to_ne_bytes());
    // SAFETY: writes 8 bytes from a live stack buffer.
    unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
}

/// Writes a whole small file with raw calls (for the user-namespace maps).
///
/// # Safety
/// Async-signal-safe.
unsafe fn write_file(path: &[u8], data: &[u8]) -> Result<(), c_int> {
    // SAFETY: `path` is NUL-terminated (callers pass literals ending in \0 or CString bytes).
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: writes `data` from a live buffer to the fd just opened, then closes it.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let e = errno();
    // SAFETY: closes the fd opened above.
    unsafe { libc::close(fd) };
    if n < 0 || n as usize != data.len() { Err(e.max(1)) } else { Ok(()) }
}

/// The command: unblock every signal, restore SIGPIPE, exec. On failure, errno goes to the
/// shim through `exec_w` (close-on-exec, so success closes it silently). Outside a PID
/// namespace (`shim` is then the shim's pid) the command also dies with the shim: that much
/// holds even when reaper is SIGKILLed.
///
/// # Safety
/// Runs in a fresh child after `clone3`; only raw calls.
unsafe fn command_main(p: &Prep, exec_w: RawFd, shim: Option<libc::pid_t>) -> ! {
    // SAFETY: raw calls on data prepared before the fork; execve only returns on failure.
    unsafe {
        if let Some(shim) = shim {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
            if libc::getppid() != shim {
                libc::_exit(127);
            }
        }
        libc::sigprocmask(libc::SIG_SETMASK, &p.empty_mask, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::execve(p.path.as_ptr(), p.argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr());
        let e = errno();
        libc::write(exec_w, std::ptr::from_ref(&e).cast(), 4);
        libc::_exit(127)
    }
}

/// Closes every fd from 3 up except those in `keep` (at most three, any order).
///
/// # Safety
/// Async-signal-safe: raw `close_range` calls only.
unsafe fn close_all_but(mut keep: [c_int; 3]) {
    keep.sort_unstable(); // in place on the stack: no allocation
    let mut lo: c_int = 3;
    for k in keep {
        if k < lo {
            continue;
        }
        if k > lo {
            // SAFETY: closes fds nothing in the shim uses any more.
            unsafe { libc::syscall(libc::SYS_close_range, lo, k - 1, 0) };
        }
        lo = k + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, lo, c_int::MAX, 0) };
}

/// The shim: see the module documentation.
///
/// # Safety
/// Runs in a fresh child after `clone3`; only raw calls.
unsafe fn shim_main(p: &Prep, owner_pidfd: RawFd, status_w: RawFd, setup: ShimSetup) -> ! {
    // SAFETY: every call below is a raw system call on data prepared before the fork.
    unsafe {
        // Signals sent to the terminal's process group must not end the shim: the tree is ended
        // by reaper, deliberately. (As a namespace init it ignores them anyway.) Blocked, SIGCHLD
        // is read from a signalfd below.
        libc::sigprocmask(libc::SIG_SETMASK, &p.full_mask, std::ptr::null_mut());
        // The owner may already be gone: its pidfd is readable then.
        let mut pfd = libc::pollfd { fd: owner_pidfd, events: libc::POLLIN, revents: 0 };
        if libc::poll(&mut pfd, 1, 0) != 0 {
            libc::_exit(SHIM_ORPHANED);
        }
        if setup.userns {
            let maps = write_file(b"/proc/self/setgroups\0", b"deny")
                .and_then(|()| write_file(b"/proc/self/uid_map\0", p.uid_map.as_bytes()))
                .and_then(|()| write_file(b"/proc/self/gid_map\0", p.gid_map.as_bytes()));
            if let Err(e) = maps {
                send(status_w, MSG_SETUP_FAILED, e);
                libc::_exit(SHIM_ORPHANED);
            }
        }
        if setup.mount_proc {
            // As `unshare --mount-proc`: nothing mounted here propagates to the host's mount
            // namespace, then a procfs of the new PID namespace over /proc.
            let null = std::ptr::null::<c_char>();
            if libc::mount(null, c"/".as_ptr(), null, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) != 0
                || libc::mount(
                    c"proc".as_ptr(),
                    c"/proc".as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ) != 0
            {
                send(status_w, MSG_PROC_FAILED, errno());
                libc::_exit(SHIM_ORPHANED);
            }
        }
        if setup.subreaper && libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            send(status_w, MSG_SETUP_FAILED, errno());
            libc::_exit(SHIM_ORPHANED);
        }
        let sfd = libc::signalfd(-1, &p.chld_mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        let mut ep = [0 as c_int; 2];
        if sfd < 0 || libc::pipe2(ep.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            send(status_w, MSG_SETUP_FAILED, errno());
            libc::_exit(SHIM_ORPHANED);
        }
        let me = setup.subreaper.then(|| libc::getpid());
        let cmd = clone3(0, None);
        if cmd == 0 {
            libc::close(ep[0]);
            command_main(p, ep[1], me);
        }
        libc::close(ep[1]);
        if cmd < 0 {
            send(status_w, MSG_EXEC_FAILED, errno());
            libc::_exit(127);
        }
        let cmd = cmd as libc::pid_t;
        let mut e: c_int = 0;
        let n = libc::read(ep[0], std::ptr::from_mut(&mut e).cast(), 4);
        libc::close(ep[0]);
        if n == 4 {
            let mut st = 0;
            libc::waitpid(cmd, &mut st, 0);
            send(status_w, MSG_EXEC_FAILED, e);
            libc::_exit(127);
        }
        send(status_w, MSG_STARTED, cmd);
        // Hold nothing of reaper's open (its sockets, pipes, other pidfds).
        close_all_but([status_w, owner_pidfd, sfd]);
        // Wait for children (SIGCHLD on the signalfd) and for the owner process to exit (its
        // pidfd: readable once every thread of it has exited, however it died).
        let mut code: c_int = 0;
        loop {
            let mut fds = [
                libc::pollfd { fd: owner_pidfd, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: sfd, events: libc::POLLIN, revents: 0 },
            ];
            if libc::poll(fds.as_mut_ptr(), 2, -1) < 0 {
                if errno() == libc::EINTR {
                    continue; // nothing is caught, but a stop and continue may interrupt
                }
                libc::_exit(SHIM_ORPHANED); // cannot watch the owner: never hold a tree blind
            }
            if fds[0].revents != 0 {
                // The owner died without ending the tree. As a namespace's init, this exit makes
                // the kernel kill every process of the namespace; as a subreaper, the command
                // dies of its PR_SET_PDEATHSIG.
                libc::_exit(SHIM_ORPHANED);
            }
            // Drain the signalfd first: a child exiting after the reaping below queues a new
            // SIGCHLD and wakes the next poll.
            let mut info = [0u8; 128];
            while libc::read(sfd, info.as_mut_ptr().cast(), info.len()) > 0 {}
            loop {
                let mut st: c_int = 0;
                let r = libc::waitpid(-1, &mut st, libc::WNOHANG);
                if r == cmd {
                    send(status_w, MSG_EXITED, st);
                    code = if libc::WIFEXITED(st) { libc::WEXITSTATUS(st) } else { 128 + libc::WTERMSIG(st) };
                } else if r == 0 {
                    break;
                } else if r < 0 {
                    if errno() == libc::EINTR {
                        continue;
                    }
                    libc::_exit(code); // ECHILD: the tree is gone
                }
            }
        }
    }
}

/// What the shim sets up before it starts the command.
#[derive(Clone, Copy)]
struct ShimSetup {
    /// Write the user namespace's uid and gid maps.
    userns: bool,
    /// Mount a fresh procfs on /proc (in its own, private mount namespace).
    mount_proc: bool,
    /// Become a child subreaper.
    subreaper: bool,
}

/// A command started under a shim.
#[derive(Debug)]
pub struct Child {
    shim: u32,
    cmd: Option<u32>,
    pidfd: OwnedFd,
    status_r: OwnedFd,
    isolation: Isolation,
    cmd_status: Option<Status>,
    shim_status: Option<Status>,
}

enum Attempt {
    Started(Child),
    /// clone3 or the shim's setup failed (why): try the next isolation.
    Unavailable(String),
}

fn start(p: &Prep, isolation: Isolation, flags: u64) -> Result<Attempt> {
    let parent = open_pidfd(std::process::id())?
        .ok_or_else(|| Error::io("opening a pidfd for reaper itself", io::Error::from_raw_os_error(libc::ESRCH)))?;
    let mut fds = [0 as c_int; 2];
    // SAFETY: pipe2 fills a two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::io("creating the status pipe", io::Error::last_os_error()));
    }
    // SAFETY: pipe2 returned two new fds that nothing else owns.
    let (status_r, status_w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut pidfd: c_int = -1;
    let setup = ShimSetup {
        userns: flags & libc::CLONE_NEWUSER as u64 != 0,
        mount_proc: flags & libc::CLONE_NEWNS as u64 != 0,
        subreaper: isolation == Isolation::Subreaper,
    };
    // SAFETY: the child runs shim_main, which only makes raw calls on `p` (prepared above).
    let pid = unsafe { clone3(flags, Some(&mut pidfd)) };
    if pid == 0 {
        // SAFETY: in the child; see shim_main.
        unsafe { shim_main(p, parent.as_raw_fd(), status_w.as_raw_fd(), setup) }
    }
    if pid < 0 {
        let e = errno();
        return match e {
            libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS | libc::ENOSYS | libc::EACCES if flags != 0 => {
                Ok(Attempt::Unavailable(unavailable_reason(e)))
            }
            _ => Err(Error::io("starting the guard process (clone3)", io::Error::from_raw_os_error(e))),
        };
    }
    drop(status_w);
    let pidfd = if pidfd >= 0 {
        // SAFETY: with CLONE_PIDFD the kernel stored a new fd for the child in `pidfd`.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    } else {
        // Started with plain clone(): our unreaped child, so the pid is still its own.
        open_pidfd(pid as u32)?.ok_or_else(|| {
            Error::io("opening a pidfd for the guard process", io::Error::from_raw_os_error(libc::ESRCH))
        })?
    };
    let mut child =
        Child { shim: pid as u32, cmd: None, pidfd, status_r, isolation, cmd_status: None, shim_status: None };
    // The first message says whether the command started. Blocking: the shim answers at once.
    match child.read_message(true)? {
        Some((MSG_STARTED, cmd)) => {
            child.cmd = match isolation {
                Isolation::Subreaper => u32::try_from(cmd).ok(),
                // Inside the namespace the command has another pid; the shim has one child.
                Isolation::PidNamespace => first_child(child.shim),
            };
            set_nonblocking(child.status_r.as_fd())?;
            Ok(Attempt::Started(child))
        }
        Some((MSG_SETUP_FAILED, e)) => {
            child.reap_blocking();
            Ok(Attempt::Unavailable(unavailable_reason(e)))
        }
        Some((MSG_PROC_FAILED, e)) => {
            child.reap_blocking();
            Ok(Attempt::Unavailable(format!("mounting its own /proc: {}", unavailable_reason(e))))
        }
        Some((MSG_EXEC_FAILED, e)) => {
            child.reap_blocking();
            let prog = String::from_utf8_lossy(p.path.as_bytes()).into_owned();
            Err(Error::io(format!("starting '{prog}'"), io::Error::from_raw_os_error(e)))
        }
        _ => {
            child.reap_blocking();
            Err(Error::io("starting the guard process", io::Error::other("it exited before starting the command")))
        }
    }
}

fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?.split_whitespace().next()?.parse().ok()
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: F_GETFL/F_SETFL on an fd we own.
    let ok = unsafe {
        let fl = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        fl >= 0 && libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK) == 0
    };
    if ok { Ok(()) } else { Err(Error::io("setting the status pipe non-blocking", io::Error::last_os_error())) }
}

/// Starts `argv` under a shim. With `isolate`, tries a PID namespace (plus a user namespace
/// when not privileged) and falls back to a subreaper shim; the second value then says why.
pub fn spawn(argv: &[OsString], isolate: bool) -> Result<(Child, Option<String>)> {
    let p = Prep::new(argv)?;
    let mut why = None;
    if isolate {
        let mut reasons = Vec::new();
        // A PID namespace always comes with a mount namespace and a /proc of its own, so that
        // the command's pids and /proc's agree.
        let pid_mount = (libc::CLONE_NEWPID | libc::CLONE_NEWNS) as u64;
        for (flags, what) in [(pid_mount, "PID namespace"), (pid_mount | libc::CLONE_NEWUSER as u64, "user namespace")]
        {
            match start(&p, Isolation::PidNamespace, flags)? {
                Attempt::Started(c) => return Ok((c, None)),
                Attempt::Unavailable(why) => reasons.push(format!("{what}: {why}")),
            }
        }
        why = Some(reasons.join("; "));
    }
    match start(&p, Isolation::Subreaper, 0)? {
        Attempt::Started(c) => Ok((c, why)),
        Attempt::Unavailable(why) => Err(Error::io("making the guard process a subreaper", io::Error::other(why))),
    }
}

fn unavailable_reason(e: c_int) -> String {
    match e {
        libc::EPERM | libc::EACCES => "not permitted".into(),
        libc::ENOSPC | libc::EUSERS => "limit reached (user.max_user_namespaces)".into(),
        libc::ENOSYS | libc::EINVAL => "not supported by this kernel".into(),
        _ => io::Error::from_raw_os_error(e).to_string(),
    }
}

impl Child {
    /// The shim's pid: every process of the command's tree descends from it.
    pub fn shim_pid(&self) -> u32 {
        self.shim
    }

    /// The command's pid (as reaper sees it), when known.
    pub fn cmd_pid(&self) -> Option<u32> {
        self.cmd
    }

    /// How the command is isolated.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Readable when the shim has exited.
    pub fn exit_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Readable when the shim has news (the command exited).
    pub fn status_fd(&self) -> BorrowedFd<'_> {
        self.status_r.as_fd()
    }

    /// The command's status once it has exited, as reported by the shim (or, if the shim was
    /// killed first, the shim's own).
    pub fn status(&self) -> Option<Status> {
        self.cmd_status.or(self.shim_status)
    }

    fn read_message(&mut self, _first: bool) -> Result<Option<(u32, i32)>> {
        let mut buf = [0u8; 8];
        loop {
            // SAFETY: reads at most 8 bytes into a live buffer from an fd we own.
            let n = unsafe { libc::read(self.status_r.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
            if n == 8 {
                let tag = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
                let value = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
                if tag == MSG_EXITED {
                    self.cmd_status = Some(Status::from_raw(value));
                }
                return Ok(Some((tag, value)));
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => return Ok(None),
                    _ => return Err(Error::io("reading the guard's status pipe", e)),
                }
            }
            return Ok(None); // EOF (or a torn read, which a pipe does not do for 8 bytes)
        }
    }

    /// Reads whatever the shim has said; true when the command has exited.
    pub fn poll_status(&mut self) -> Result<bool> {
        while self.read_message(false)?.is_some() {}
        Ok(self.cmd_status.is_some())
    }

    /// Reaps the shim if it has exited.
    pub fn try_reap(&mut self) -> Result<bool> {
        if self.shim_status.is_some() {
            return Ok(true);
        }
        self.waitid(libc::WNOHANG)
    }

    fn waitid(&mut self, flags: c_int) -> Result<bool> {
        loop {
            // SAFETY: siginfo_t is plain data, filled by waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid on our own child's pidfd with a valid siginfo pointer.
            let r = unsafe {
                libc::waitid(libc::P_PIDFD, self.pidfd.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED | flags)
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::io(format!("reaping the guard process {}", self.shim), e));
            }
            // SAFETY: waitid filled `info` for a child event (si_pid 0 means none yet).
            let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
            if pid == 0 {
                return Ok(false);
            }
            self.shim_status =
                Some(if info.si_code == libc::CLD_EXITED { Status::Exited(status) } else { Status::Signaled(status) });
            let _ = self.poll_status();
            return Ok(true);
        }
    }

    fn reap_blocking(&mut self) {
        if self.shim_status.is_none() {
            let _ = self.waitid(0);
        }
    }

    /// SIGKILLs the shim. In a PID namespace the kernel then kills every process of the tree.
    pub fn kill_shim(&self) {
        if self.shim_status.is_none() {
            let _ = pidfd_signal(self.pidfd.as_fd(), libc::SIGKILL);
        }
    }

    /// Waits up to `timeout` for the shim to exit and reaps it.
    pub fn wait_reap(&mut self, timeout: Duration) -> Result<bool> {
        if self.try_reap()? {
            return Ok(true);
        }
        poll_readable(&[self.pidfd.as_fd()], Some(timeout))?;
        self.try_reap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.shim_status.is_none() {
            if self.isolation == Isolation::Subreaper {
                let _ = end_tree_fallback(self.shim, &[(libc::SIGKILL, FINAL_WAIT)]);
            }
            self.kill_shim();
            self.reap_blocking();
        }
    }
}

/// Every descendant of `root`, parents first: the one descendant walk ([`super::scan_tree`]).
pub fn descendants(root: u32) -> Result<Vec<u32>> {
    Ok(super::scan_tree(&[root]).into_iter().map(|s| s.pid).filter(|&p| p != root).collect())
}

/// Every live (not zombie) descendant of `root`.
pub fn live_descendants(root: u32) -> Result<Vec<u32>> {
    Ok(super::scan_tree(&[root])
        .into_iter()
        .filter(|s| s.pid != root && s.state != 'Z' && s.state != 'X')
        .map(|s| s.pid)
        .collect())
}

/// How long the last step of a tree end waits for the exits (as `spec::FINAL_WAIT`).
const FINAL_WAIT: Duration = Duration::from_secs(2);

/// Ends every descendant of `root` with `steps` (signal number, wait), on its own (used when
/// the kill engine is not available): each step signals every live descendant through a
/// pidfd, then waits for their pidfds up to the step's wait. The tree is re-read at each step,
/// so late children are caught.
pub fn end_tree_fallback(root: u32, steps: &[(i32, Duration)]) -> Result<()> {
    for &(signal, wait) in steps {
        let targets = live_descendants(root)?;
        if targets.is_empty() {
            return Ok(());
        }
        let mut fds = Vec::new();
        for pid in targets {
            if let Some(fd) = open_pidfd(pid)? {
                let _ = pidfd_signal(fd.as_fd(), signal);
                if signal != libc::SIGKILL {
                    // A stopped process acts on SIGTERM only once continued.
                    let _ = pidfd_signal(fd.as_fd(), libc::SIGCONT);
                }
                fds.push(fd);
            }
        }
        let deadline = Instant::now() + wait;
        while !fds.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let ready = {
                let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
                poll_readable(&borrowed, Some(left))?
            };
            let mut i = 0;
            fds.retain(|_| {
                i += 1;
                !ready[i - 1]
            });
        }
    }
    if live_descendants(root)?.is_empty() {
        Ok(())
    } else {
        Err(Error::io(format!("ending the tree of pid {root}"), io::Error::other("processes survived the sequence")))
    }
}

/// A readable fd that another thread can make readable: `guard::Stopper` on Linux.
#[derive(Debug)]
pub struct Notifier(OwnedFd);

impl Notifier {
    /// An eventfd.
    pub fn new() -> Result<Notifier> {
        // SAFETY: eventfd returns a new fd or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(Error::io("creating an eventfd", io::Error::last_os_error()));
        }
        // SAFETY: a new fd that nothing else owns.
        Ok(Notifier(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Makes the fd readable (for good: it is never drained).
    pub fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd.
        unsafe { libc::write(self.0.as_raw_fd(), std::ptr::from_ref(&one).cast(), 8) };
    }

    /// The fd to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// SIGINT, SIGTERM and SIGHUP as a readable fd (a signalfd). Creating it blocks the signals in
/// the calling thread (only sound when no other thread leaves them unblocked); dropping it
/// restores the thread's previous mask.
#[derive(Debug)]
pub struct Signals {
    fd: nix::sys::signalfd::SignalFd,
    old_mask: nix::sys::signal::SigSet,
}

impl Signals {
    /// Blocks INT, TERM and HUP and opens a signalfd for them.
    pub fn new() -> Result<Signals> {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal as S, pthread_sigmask};
        let mut set = SigSet::empty();
        for s in [S::SIGINT, S::SIGTERM, S::SIGHUP] {
            set.add(s);
        }
        let mut old_mask = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old_mask))
            .map_err(|e| Error::io("blocking signals", io::Error::from(e)))?;
        let fd = nix::sys::signalfd::SignalFd::with_flags(
            &set,
            nix::sys::signalfd::SfdFlags::SFD_CLOEXEC | nix::sys::signalfd::SfdFlags::SFD_NONBLOCK,
        )
        .map_err(|e| Error::io("creating a signalfd", io::Error::from(e)))?;
        Ok(Signals { fd, old_mask })
    }

    /// The fd to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The signal that arrived, if any.
    pub fn take(&self) -> Option<i32> {
        self.fd.read_signal().ok().flatten().map(|info| info.ssi_signo as i32)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Consume what arrived meanwhile (the tree was ended for it), then unblock.
        while self.take().is_some() {}
        let _ = self.old_mask.thread_set_mask();
    }
}
