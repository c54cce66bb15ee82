//! The guard's shim, the code that runs in the children `clone3()` makes for `reaper run`:
//! the shim (a PID namespace's init, or a subreaper) and the command it starts. The caller may
//! have threads, so nothing here allocates, locks or touches libc state: only raw system calls
//! on what [`Prep`] built before the fork. The parent side is in `spawn.rs`.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;

use nix::libc::{self, c_char, c_int};

/// What the shim says on the status pipe: a tag (this) and a value, 8 bytes per message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(super) enum Msg {
    /// The shim started the command; the value is its pid as the shim sees it.
    Started = 1,
    /// `execve()` failed; the value is errno.
    ExecFailed = 2,
    /// Setting up the shim failed (user-namespace maps, subreaper); the value is errno.
    SetupFailed = 3,
    /// The command exited; the value is its raw wait status.
    Exited = 4,
    /// Mounting the namespace's own /proc failed; the value is errno.
    ProcFailed = 5,
}

impl Msg {
    /// The message with this tag, if the shim sends one.
    pub(super) fn from_tag(tag: u32) -> Option<Msg> {
        [Msg::Started, Msg::ExecFailed, Msg::SetupFailed, Msg::Exited, Msg::ProcFailed]
            .into_iter()
            .find(|m| *m as u32 == tag)
    }
}

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
pub(super) unsafe fn clone3(flags: u64, pidfd: Option<&mut c_int>) -> libc::c_long {
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

pub(super) fn errno() -> c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Everything the shim and the command need, built before the fork.
pub(super) struct Prep {
    pub(super) path: CString,
    pub(super) _argv: Vec<CString>,
    pub(super) argv_ptrs: Vec<*const c_char>,
    pub(super) _envp: Vec<CString>,
    pub(super) envp_ptrs: Vec<*const c_char>,
    pub(super) uid_map: CString,
    pub(super) gid_map: CString,
    pub(super) full_mask: libc::sigset_t,
    pub(super) empty_mask: libc::sigset_t,
    pub(super) chld_mask: libc::sigset_t,
}

/// Writes one message on the status pipe (8 bytes: atomic on a pipe).
///
/// # Safety
/// Async-signal-safe; `fd` must be the status pipe's write end.
unsafe fn send(fd: RawFd, msg: Msg, value: i32) {
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&(msg as u32).to_ne_bytes());
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
pub(super) unsafe fn shim_main(p: &Prep, owner_pidfd: RawFd, status_w: RawFd, setup: ShimSetup) -> ! {
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
                send(status_w, Msg::SetupFailed, e);
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
                send(status_w, Msg::ProcFailed, errno());
                libc::_exit(SHIM_ORPHANED);
            }
        }
        if setup.subreaper && libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            send(status_w, Msg::SetupFailed, errno());
            libc::_exit(SHIM_ORPHANED);
        }
        let sfd = libc::signalfd(-1, &p.chld_mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        let mut ep = [0 as c_int; 2];
        if sfd < 0 || libc::pipe2(ep.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            send(status_w, Msg::SetupFailed, errno());
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
            send(status_w, Msg::ExecFailed, errno());
            libc::_exit(127);
        }
        let cmd = cmd as libc::pid_t;
        let mut e: c_int = 0;
        let n = libc::read(ep[0], std::ptr::from_mut(&mut e).cast(), 4);
        libc::close(ep[0]);
        if n == 4 {
            let mut st = 0;
            libc::waitpid(cmd, &mut st, 0);
            send(status_w, Msg::ExecFailed, e);
            libc::_exit(127);
        }
        send(status_w, Msg::Started, cmd);
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
                    send(status_w, Msg::Exited, st);
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
pub(super) struct ShimSetup {
    /// Write the user namespace's uid and gid maps.
    pub(super) userns: bool,
    /// Mount a fresh procfs on /proc (in its own, private mount namespace).
    pub(super) mount_proc: bool,
    /// Become a child subreaper.
    pub(super) subreaper: bool,
}
