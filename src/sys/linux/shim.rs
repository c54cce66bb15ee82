//! The guard's shim, the code that runs in the children `clone3()` makes for `reaper run`:
//! the shim (a PID namespace's init, or a subreaper) and the command it starts. The caller may
//! have threads, so nothing here allocates, locks or touches libc state other than errno: only
//! raw system calls on what [`Prep`] built before the fork, and the stack. Each step is a small
//! function and each system call has its own justification; the exec and its failure handshake
//! are `unix_exec`'s, shared with macOS's watcher. The parent side is in `spawn.rs`.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::libc::{self, c_char, c_int};

use crate::sys::unix_exec::{Exec, ExecPipe, StatusPipe, drain, errno, exit};

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

/// Everything the shim and the command need, built before the fork.
pub(super) struct Prep {
    pub(super) exec: Exec,
    pub(super) uid_map: CString,
    pub(super) gid_map: CString,
    pub(super) full_mask: libc::sigset_t,
    pub(super) empty_mask: libc::sigset_t,
    pub(super) chld_mask: libc::sigset_t,
}

/// Writes one message on the status pipe.
fn send(status: StatusPipe<'_>, msg: Msg, value: i32) {
    status.send(msg as u32, value);
}

/// Replaces the calling thread's signal mask with `mask`.
fn set_mask(mask: &libc::sigset_t) {
    // SAFETY: `mask` is a live, initialised sigset; the old mask is not asked for (null).
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
}

/// Whether `fd` reads ready now, without waiting (a pidfd does once its process has exited);
/// also true when it cannot be polled.
fn ready_now(fd: BorrowedFd<'_>) -> bool {
    let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one live pollfd, as the count says; a zero timeout.
    unsafe { libc::poll(&mut pfd, 1, 0) != 0 }
}

/// Writes a whole small file (the user-namespace maps).
fn write_file(path: &CStr, data: &[u8]) -> Result<(), c_int> {
    // SAFETY: `path` is a C string; the flags ask for no creation, so no mode is read.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: writes `data`, a live buffer of the length given, to the fd just opened.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let e = errno();
    // SAFETY: closes the fd opened above, used no more.
    unsafe { libc::close(fd) };
    if n < 0 || n as usize != data.len() { Err(e.max(1)) } else { Ok(()) }
}

/// The user namespace's maps: the command keeps its own uid and gid inside it.
fn write_id_maps(p: &Prep) -> Result<(), c_int> {
    write_file(c"/proc/self/setgroups", b"deny")?;
    write_file(c"/proc/self/uid_map", p.uid_map.as_bytes())?;
    write_file(c"/proc/self/gid_map", p.gid_map.as_bytes())
}

/// As `unshare --mount-proc`: nothing mounted here propagates to the host's mount namespace,
/// then a procfs of the new PID namespace over /proc.
fn mount_own_proc() -> Result<(), c_int> {
    let null = std::ptr::null::<c_char>();
    // SAFETY: the target is a C string literal; source, type and data may be null for a
    // propagation change.
    if unsafe { libc::mount(null, c"/".as_ptr(), null, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) } != 0 {
        return Err(errno());
    }
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    // SAFETY: source, target and type are C string literals; procfs takes no data (null).
    if unsafe { libc::mount(c"proc".as_ptr(), c"/proc".as_ptr(), c"proc".as_ptr(), flags, std::ptr::null()) } != 0 {
        return Err(errno());
    }
    Ok(())
}

/// Makes this process a child subreaper: orphans of the tree are reparented to it.
fn become_subreaper() -> Result<(), c_int> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer; the rest are unused zeros.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 { Err(errno()) } else { Ok(()) }
}

/// What `setup` asks for, in order; on failure, the message that says so and errno.
fn set_up(p: &Prep, setup: ShimSetup) -> Result<(), (Msg, c_int)> {
    if setup.userns {
        write_id_maps(p).map_err(|e| (Msg::SetupFailed, e))?;
    }
    if setup.mount_proc {
        mount_own_proc().map_err(|e| (Msg::ProcFailed, e))?;
    }
    if setup.subreaper {
        become_subreaper().map_err(|e| (Msg::SetupFailed, e))?;
    }
    Ok(())
}

/// A non-blocking signalfd for the signals of `mask` (SIGCHLD, blocked).
fn signalfd(mask: &libc::sigset_t) -> Result<OwnedFd, c_int> {
    // SAFETY: `mask` is a live, initialised sigset; -1 asks for a new fd.
    let fd = unsafe { libc::signalfd(-1, mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Outside a PID namespace the command dies with the shim (`shim`, its parent): SIGKILL at the
/// parent's death, and an exit now if the shim is already gone (the parent is another process).
fn die_with(shim: libc::pid_t) {
    // SAFETY: PR_SET_PDEATHSIG takes one signal number; the rest are unused zeros.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) };
    // SAFETY: getppid takes nothing and cannot fail.
    if unsafe { libc::getppid() } != shim {
        exit(127);
    }
}

/// The command: unblock every signal, restore SIGPIPE, exec; on failure errno goes to the shim
/// through `pipe` (see `unix_exec`). With `shim` (outside a PID namespace, the shim's pid) the
/// command also dies with the shim: that much holds even when reaper is SIGKILLed.
///
/// # Safety
/// Runs in a fresh child after `clone3`: async-signal-safe calls only, on `p` (built before).
unsafe fn command_main(p: &Prep, pipe: ExecPipe, shim: Option<libc::pid_t>) -> ! {
    if let Some(shim) = shim {
        die_with(shim);
    }
    set_mask(&p.empty_mask);
    // SAFETY: SIG_DFL installs no handler.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // SAFETY: the child `pipe` was made for, as the caller's contract says.
    unsafe { pipe.exec(&p.exec) }
}

/// Forks the command (see [`command_main`]) and waits until it has exec'd (`pipe` says): its
/// pid, or errno when the fork or the exec failed (the failed child reaped).
///
/// # Safety
/// In the shim, a fresh child after `clone3`: async-signal-safe calls only.
unsafe fn start_command(p: &Prep, pipe: ExecPipe, subreaper: bool) -> Result<libc::pid_t, c_int> {
    // SAFETY: getpid takes nothing and cannot fail.
    let me = subreaper.then(|| unsafe { libc::getpid() });
    // SAFETY: fork-like (no flags); the child only runs `command_main`, async-signal-safe.
    let cmd = unsafe { clone3(0, None) };
    if cmd == 0 {
        // SAFETY: in the fresh child, which `pipe` was made for.
        unsafe { command_main(p, pipe, me) }
    }
    let cmd = cmd as libc::pid_t; // a pid, or -1
    pipe.outcome(cmd).map(|()| cmd)
}

/// Closes every fd from 3 up except those in `keep` (at most three, any order).
///
/// # Safety
/// Async-signal-safe; no fd but those in `keep` is in use by the calling process any more.
unsafe fn close_all_but(mut keep: [c_int; 3]) {
    keep.sort_unstable(); // in place on the stack: no allocation
    let mut lo: c_int = 3;
    for k in keep {
        if k < lo {
            continue;
        }
        if k > lo {
            // SAFETY: closes fds nothing uses any more (the caller's contract).
            unsafe { libc::syscall(libc::SYS_close_range, lo, k - 1, 0) };
        }
        lo = k + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, lo, c_int::MAX, 0) };
}

/// What woke [`supervise`]: the owner's pidfd, the signalfd, or an error (errno).
fn wait_owner_or_child(owner: BorrowedFd<'_>, sfd: BorrowedFd<'_>) -> Result<[bool; 2], c_int> {
    let mut fds = [
        libc::pollfd { fd: owner.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        libc::pollfd { fd: sfd.as_raw_fd(), events: libc::POLLIN, revents: 0 },
    ];
    // SAFETY: a live array of two pollfds, as the count says.
    if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
        return Err(errno());
    }
    Ok([fds[0].revents != 0, fds[1].revents != 0])
}

/// Reaps every child that has exited, saying the command's status on the status pipe and
/// keeping its exit code (128 + the signal when killed) in `code`. False once none is left.
fn reap_children(cmd: libc::pid_t, status: StatusPipe<'_>, code: &mut c_int) -> bool {
    loop {
        let mut st: c_int = 0;
        // SAFETY: any child of this process, without waiting; `st` is a live out-parameter.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r == cmd {
            send(status, Msg::Exited, st);
            *code = if libc::WIFEXITED(st) { libc::WEXITSTATUS(st) } else { 128 + libc::WTERMSIG(st) };
        } else if r == 0 {
            return true;
        } else if r < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return false; // ECHILD: the tree is gone
        }
    }
}

/// The shim's life once the command runs: waits for children (SIGCHLD on the signalfd) and for
/// the owner process to exit (its pidfd: readable once every thread of it has exited, however
/// it died). Exits with the command's code when the tree is gone, or [`SHIM_ORPHANED`] when the
/// owner is: as a namespace's init, that exit makes the kernel kill every process of the
/// namespace; as a subreaper, the command dies of its PR_SET_PDEATHSIG.
fn supervise(owner: BorrowedFd<'_>, sfd: BorrowedFd<'_>, status: StatusPipe<'_>, cmd: libc::pid_t) -> ! {
    let mut code: c_int = 0;
    loop {
        let [owner_gone, _] = match wait_owner_or_child(owner, sfd) {
            Ok(ready) => ready,
            Err(libc::EINTR) => continue, // nothing is caught, but a stop and continue may interrupt
            Err(_) => exit(SHIM_ORPHANED), // cannot watch the owner: never hold a tree blind
        };
        if owner_gone {
            exit(SHIM_ORPHANED);
        }
        // Drain the signalfd first: a child exiting after the reaping below queues a new
        // SIGCHLD and wakes the next poll.
        drain(sfd);
        if !reap_children(cmd, status, &mut code) {
            exit(code);
        }
    }
}

/// The shim: see the module documentation. A failed step is said on the status pipe and ends
/// the shim.
///
/// # Safety
/// Runs in a fresh child after `clone3`: async-signal-safe calls only, on `p` (built before).
/// `owner_pidfd` and `status_w` are fds of this child, open for its whole life.
pub(super) unsafe fn shim_main(p: &Prep, owner_pidfd: RawFd, status_w: RawFd, setup: ShimSetup) -> ! {
    // SAFETY: open for the shim's whole life (the caller's contract); it never returns.
    let (owner, status_w) = unsafe { (BorrowedFd::borrow_raw(owner_pidfd), BorrowedFd::borrow_raw(status_w)) };
    let status = StatusPipe::new(status_w);
    // Signals sent to the terminal's process group must not end the shim: the tree is ended by
    // reaper, deliberately. (As a namespace init it ignores them anyway.) Blocked, SIGCHLD is
    // read from a signalfd below.
    set_mask(&p.full_mask);
    if ready_now(owner) {
        exit(SHIM_ORPHANED); // the owner is already gone
    }
    if let Err((msg, e)) = set_up(p, setup) {
        send(status, msg, e);
        exit(SHIM_ORPHANED);
    }
    let (sfd, pipe) = match signalfd(&p.chld_mask).and_then(|sfd| Ok((sfd, ExecPipe::open()?))) {
        Ok(fds) => fds,
        Err(e) => {
            send(status, Msg::SetupFailed, e);
            exit(SHIM_ORPHANED);
        }
    };
    // SAFETY: in the shim, as this function's contract says.
    let cmd = match unsafe { start_command(p, pipe, setup.subreaper) } {
        Ok(cmd) => cmd,
        Err(e) => {
            send(status, Msg::ExecFailed, e);
            exit(127);
        }
    };
    send(status, Msg::Started, cmd);
    // Hold nothing of reaper's open (its sockets, pipes, other pidfds).
    // SAFETY: the shim uses no other fd from here on.
    unsafe { close_all_but([status_w.as_raw_fd(), owner.as_raw_fd(), sfd.as_raw_fd()]) };
    supervise(owner, sfd.as_fd(), status, cmd)
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
