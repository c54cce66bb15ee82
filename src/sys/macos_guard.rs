//! macOS side of `reaper run` and `reaper::guard`: the command in a session of its own, held by
//! a watcher process that ends it when reaper dies.
//!
//! macOS has no PID namespace, no parent-death signal and no subreaper, so no kernel mechanism
//! ends a tree with reaper. What it has is POSIX: reaper forks a small watcher process first; the
//! watcher forks the command, which calls `setsid()` (leader of a new session and process group,
//! whose id is its pid) and execs. The watcher holds the read end of a pipe whose only write end
//! reaper holds: when reaper's process exits, however it dies (SIGKILL included), the pipe reads
//! EOF and the watcher ends the command's process group (SIGTERM, up to [`GRACE`] for the command
//! to exit, then SIGKILL) and exits. A pipe, not the watcher's parent pid: `getppid()` would name
//! the thread's process only after reparenting, and kqueue on a pid can be registered too late.
//!
//! The group id cannot be taken by another process meanwhile: the watcher does not reap the
//! command until the end (it learns the exit status with `waitid(WNOWAIT)`), and a pid stays
//! reserved while it names a process or group. The tree, for an orderly end through the kill
//! engine and for `--ready-port`, is the watcher's descendants plus every member of the
//! command's process group (orphans reparented to launchd included).
//!
//! Best effort, and said so (`Isolation::SessionWatcher`): a process that left the group
//! (`setsid`, `setpgid`) and was orphaned escapes the watcher's end; SIGKILLing the watcher
//! itself leaves the tree to the orderly path. The caller may have threads, so between `fork()`
//! and `execve()` the children only make async-signal-safe calls on what [`Prep`] built before
//! the fork.
//!
//! Nothing here is macOS-specific but the group listing and the kqueue [`Watched`]: Linux builds
//! this file for its unit tests (the watcher, the group, the owner's SIGKILL). macOS itself is
//! cross-compiled and clippy-checked here, never run.

#![cfg_attr(target_os = "linux", allow(dead_code))]

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::libc::{self, c_int};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use super::unix_exec::{Exec, ExecPipe, StatusPipe, drain, errno, exit};
use crate::error::{Error, Result};
use crate::model::{Isolation, Status};

/// What the guard's event loop waits on: an fd.
pub type Waitable<'a> = BorrowedFd<'a>;

/// How long the watcher gives the command, after SIGTERM to its group, before SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Waits until at least one of `w` is readable (or hung up), or `timeout` passes (`None`:
/// forever). One flag per fd; all false at the timeout. Interrupted calls resume.
pub fn wait_any(w: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Vec<bool>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut fds: Vec<libc::pollfd> =
        w.iter().map(|fd| libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    loop {
        let ms = deadline.map_or(-1, |d| {
            d.saturating_duration_since(Instant::now()).as_micros().div_ceil(1000).min(i32::MAX as u128) as c_int
        });
        // SAFETY: `fds` is a live array of pollfd of the length given.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n > 0 {
            return Ok(fds.iter().map(|p| p.revents != 0).collect());
        }
        if n < 0 && errno() != libc::EINTR {
            return Err(Error::io("waiting with poll()", io::Error::last_os_error()));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(vec![false; fds.len()]);
        }
    }
}

fn set_flags(fd: RawFd, nonblock: bool) {
    // SAFETY: fcntl on an fd we own; flags only.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        if nonblock {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// A pipe (both ends close-on-exec; `std::io::pipe` sets it atomically where it can).
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
    Ok((r.into(), w.into()))
}

/// A readable fd that another thread can make readable: `guard::Stopper` here (a pipe).
#[derive(Debug)]
pub struct Notifier {
    r: OwnedFd,
    w: OwnedFd,
}

impl Notifier {
    /// A pipe, its write end non-blocking.
    pub fn new() -> Result<Notifier> {
        let (r, w) = pipe()?;
        set_flags(w.as_raw_fd(), true);
        Ok(Notifier { r, w })
    }

    /// Makes the read end readable (for good: it is never drained).
    pub fn notify(&self) {
        // SAFETY: one byte from a static to a non-blocking fd we own; a full pipe is readable
        // already, so a failed write loses nothing.
        unsafe { libc::write(self.w.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.r.as_fd()
    }
}

/// The write end of the [`Signals`] self-pipe (-1: none).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: c_int) {
    let saved = nix::errno::Errno::last_raw();
    let fd = SIGNAL_PIPE.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; one byte from the stack.
        unsafe { libc::write(fd, std::ptr::from_ref(&b).cast(), 1) };
    }
    nix::errno::Errno::set_raw(saved);
}

/// SIGINT, SIGTERM and SIGHUP as a readable fd: a handler writes each signal's number to a
/// non-blocking pipe. One at a time; dropping it restores the previous handlers.
#[derive(Debug)]
pub struct Signals {
    r: OwnedFd,
    _w: OwnedFd,
    old: Vec<(Signal, SigAction)>,
}

impl Signals {
    /// Installs the handlers.
    pub fn new() -> Result<Signals> {
        let (r, w) = pipe()?;
        set_flags(r.as_raw_fd(), true);
        set_flags(w.as_raw_fd(), true);
        if SIGNAL_PIPE.compare_exchange(-1, w.as_raw_fd(), Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Err(Error::io("catching signals", io::Error::other("already caught by another guard")));
        }
        let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
        let mut me = Signals { r, _w: w, old: Vec::new() };
        for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            // SAFETY: the handler only makes async-signal-safe calls.
            let old = unsafe { sigaction(sig, &action) }.map_err(|e| Error::io("catching signals", e.into()))?;
            me.old.push((sig, old));
        }
        Ok(me)
    }

    /// The signal that arrived, if any.
    pub fn take(&self) -> Option<i32> {
        let mut b = 0u8;
        // SAFETY: reads at most one byte into a live local from a non-blocking fd we own.
        let n = unsafe { libc::read(self.r.as_raw_fd(), std::ptr::from_mut(&mut b).cast(), 1) };
        (n == 1).then_some(i32::from(b))
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.r.as_fd()
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for (sig, old) in &self.old {
            // SAFETY: restores the action that was there before `new`.
            let _ = unsafe { sigaction(*sig, old) };
        }
        SIGNAL_PIPE.store(-1, Ordering::SeqCst);
    }
}

/// A watched process (`--watch-pid`): a kqueue with `EVFILT_PROC`/`NOTE_EXIT` registered for
/// it, which `poll()` sees readable once the process has exited.
#[cfg(target_os = "macos")]
#[derive(Debug)]
pub struct Watched(OwnedFd);

#[cfg(target_os = "macos")]
impl Watched {
    /// Starts watching `pid`; `None` when there is no such process (or it is a zombie).
    pub fn open(pid: u32) -> Result<Option<Watched>> {
        Ok(super::kqueue_pidwatch::exit_queue(pid)?.map(Watched))
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.0.as_fd()
    }
}

/// What the watcher says on the status pipe: a tag and a value, 8 bytes per message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Msg {
    /// The command started; the value is its pid.
    Started = 1,
    /// `fork()` or `execve()` failed; the value is errno.
    ExecFailed = 2,
    /// The command exited; the value is a raw wait status.
    Exited = 3,
}

impl Msg {
    fn from_tag(t: u32) -> Option<Msg> {
        [Msg::Started, Msg::ExecFailed, Msg::Exited].into_iter().find(|m| *m as u32 == t)
    }
}

/// `siginfo_t.si_code` values for a child's end (the same on macOS and Linux); any other
/// (`CLD_KILLED`, 2) means killed by the signal in `si_status`.
const CLD_EXITED: c_int = 1;
const CLD_DUMPED: c_int = 3;

/// Everything the children need, built before the fork.
struct Prep {
    exec: Exec,
    grace_ms: c_int,
}

impl Prep {
    fn new(argv: &[OsString]) -> Result<Prep> {
        Ok(Prep { exec: Exec::new(argv)?, grace_ms: GRACE.as_millis() as c_int })
    }
}

/// The watcher's SIGCHLD self-pipe (its own process, after the fork).
static CHLD_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_chld(_: c_int) {
    let saved = nix::errno::Errno::last_raw();
    // SAFETY: write(2) is async-signal-safe; one byte from a static.
    unsafe { libc::write(CHLD_PIPE.load(Ordering::Relaxed), b"c".as_ptr().cast(), 1) };
    nix::errno::Errno::set_raw(saved);
}

/// Sets `sig`'s disposition with a raw `sigaction` (no allocation).
///
/// # Safety
/// `handler` is `SIG_DFL`, `SIG_IGN` or an async-signal-safe handler.
unsafe fn set_action(sig: c_int, handler: libc::sighandler_t, flags: c_int) {
    // SAFETY: sigaction is plain data, all zeros a valid value.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    // SAFETY: empties the live mask in `sa`.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: `sa` is live and initialised; the handler is as the caller's contract says; the
    // old action is not asked for (null).
    unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) };
}

/// Unblocks every signal for the calling thread.
fn unblock_all_signals() {
    // SAFETY: sigset_t is plain data, all zeros a valid value.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: empties the live set.
    unsafe { libc::sigemptyset(&mut empty) };
    // SAFETY: `empty` is a live, initialised sigset; the old mask is not asked for (null).
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) };
}

/// Writes one message on the status pipe.
fn send(status: StatusPipe<'_>, msg: Msg, value: i32) {
    status.send(msg as u32, value);
}

/// A raw wait status (as `waitpid` gives) from a `waitid` answer.
fn raw_status(code: c_int, status: c_int) -> i32 {
    match code {
        CLD_EXITED => (status & 0xff) << 8,
        CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => status & 0x7f,
    }
}

/// The command, in the forked child: a new session, default signal handling, then `execve`;
/// on failure errno goes to the watcher through `pipe` (see `unix_exec`).
///
/// # Safety
/// Runs in a freshly forked child of a possibly multi-threaded process: only
/// async-signal-safe calls, on `p` built before the fork.
unsafe fn command_main(p: &Prep, pipe: ExecPipe) -> ! {
    // SAFETY: takes nothing; fails only for a group leader, which a fresh child is not.
    unsafe { libc::setsid() };
    for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGCHLD, libc::SIGPIPE] {
        // SAFETY: SIG_DFL installs no handler.
        unsafe { set_action(sig, libc::SIG_DFL, 0) };
    }
    unblock_all_signals();
    // SAFETY: the child `pipe` was made for, as the caller's contract says.
    unsafe { pipe.exec(&p.exec) }
}

/// The highest fd the watcher closes up to (`sysconf(_SC_OPEN_MAX)`, bounded).
fn max_fd() -> c_int {
    // SAFETY: plain call.
    let n = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
    n.clamp(256, 65536) as c_int
}

/// Closes every fd from 3 up to `max_fd` but `keep`.
///
/// # Safety
/// Async-signal-safe; no fd but those in `keep` is in use by the calling process any more.
unsafe fn close_all_but(keep: [RawFd; 2], max_fd: c_int) {
    for fd in (3..max_fd).filter(|fd| !keep.contains(fd)) {
        // SAFETY: an fd nothing uses any more (the caller's contract), or none (EBADF).
        unsafe { libc::close(fd) };
    }
}

/// The watcher's SIGCHLD self-pipe: both ends close-on-exec and non-blocking.
fn chld_pipe() -> std::result::Result<(OwnedFd, OwnedFd), c_int> {
    let mut fds: [c_int; 2] = [-1; 2];
    // SAFETY: pipe writes two new fds into the live two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(errno());
    }
    for fd in fds {
        set_flags(fd, true);
    }
    // SAFETY: two new fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// SIGCHLD makes `chld_w` readable (the handler writes a byte); every signal is unblocked.
fn catch_sigchld(chld_w: BorrowedFd<'_>) {
    CHLD_PIPE.store(chld_w.as_raw_fd(), Ordering::Relaxed);
    let handler = on_chld as extern "C" fn(c_int) as libc::sighandler_t;
    // SAFETY: `on_chld` only makes async-signal-safe calls.
    unsafe { set_action(libc::SIGCHLD, handler, libc::SA_RESTART | libc::SA_NOCLDSTOP) };
    unblock_all_signals();
}

/// Forks the command (see [`command_main`]) and waits until it has exec'd (`pipe` says): its
/// pid, or errno when the fork or the exec failed (the failed child reaped).
///
/// # Safety
/// In the watcher, a forked child: async-signal-safe calls only.
unsafe fn start_command(p: &Prep, pipe: ExecPipe) -> std::result::Result<libc::pid_t, c_int> {
    // SAFETY: the child only runs `command_main`, async-signal-safe.
    let cmd = unsafe { libc::fork() };
    if cmd == 0 {
        // SAFETY: in the fresh child, which `pipe` was made for.
        unsafe { command_main(p, pipe) }
    }
    pipe.outcome(cmd).map(|()| cmd)
}

/// Reports the command's exit on the status pipe, once, without reaping it (so that its pid,
/// the group's id, stays reserved); drains the SIGCHLD pipe first.
fn check_exit(chld_r: BorrowedFd<'_>, cmd: libc::pid_t, status: StatusPipe<'_>, exited: &mut bool) {
    drain(chld_r);
    if *exited {
        return;
    }
    // SAFETY: siginfo_t is plain data, all zeros a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: our own child, without waiting or reaping; `info` is a live out-parameter.
    let r = unsafe { libc::waitid(libc::P_PID, cmd as libc::id_t, &mut info, flags) };
    // SAFETY: `info` was filled by a successful waitid (or is all zeros: pid 0).
    if r == 0 && unsafe { info.si_pid() } == cmd {
        *exited = true;
        // SAFETY: as above; a child's exit fills si_status.
        send(status, Msg::Exited, raw_status(info.si_code, unsafe { info.si_status() }));
    }
}

/// Until reaper's end of the life pipe closes (or it writes): reports the command's exit
/// without reaping it. Returns when reaper is gone or done, or when it cannot be watched.
fn wait_for_release(
    life_r: BorrowedFd<'_>,
    chld_r: BorrowedFd<'_>,
    cmd: libc::pid_t,
    status: StatusPipe<'_>,
    exited: &mut bool,
) {
    loop {
        let mut fds = [
            libc::pollfd { fd: life_r.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: chld_r.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: a live array of two pollfds, as the count says.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return; // cannot watch reaper: never hold a tree blind
        }
        if fds[1].revents != 0 {
            check_exit(chld_r, cmd, status, exited);
        }
        if fds[0].revents != 0 {
            return;
        }
    }
}

/// Ends the command's group, gracefully first: SIGTERM, up to `grace_ms` for the command to
/// exit, SIGKILL; then reaps the command.
fn end_group(grace_ms: c_int, chld_r: BorrowedFd<'_>, cmd: libc::pid_t, status: StatusPipe<'_>, mut exited: bool) {
    // SAFETY: signals the command's own group, whose id stays reserved while it is unreaped.
    unsafe { libc::kill(-cmd, libc::SIGTERM) };
    let mut left = grace_ms;
    check_exit(chld_r, cmd, status, &mut exited);
    while !exited && left > 0 {
        let mut fds = [libc::pollfd { fd: chld_r.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        // Whole slices of at most 50 ms: a SIGCHLD between the check and the poll wakes the
        // next slice, not only the end of the grace.
        let slice = left.min(50);
        // SAFETY: a live array of one pollfd, as the count says.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, slice) };
        left -= slice;
        check_exit(chld_r, cmd, status, &mut exited);
    }
    // SAFETY: as above.
    unsafe { libc::kill(-cmd, libc::SIGKILL) };
    let mut st = 0;
    // SAFETY: our own child; `st` is a live out-parameter.
    unsafe { libc::waitpid(cmd, &mut st, 0) };
}

/// The watcher, in the forked child: see the module documentation.
///
/// # Safety
/// As [`command_main`]; `life_r` and `status_w` are the pipes' ends it keeps, open for its
/// whole life.
unsafe fn watcher_main(p: &Prep, life_r: RawFd, status_w: RawFd, max_fd: c_int) -> ! {
    // Hold nothing of reaper's open (its sockets, pipes; above all the life pipe's write end,
    // which would keep the pipe from reading EOF).
    // SAFETY: the watcher uses no other fd from here on.
    unsafe { close_all_but([life_r, status_w], max_fd) };
    // SAFETY: open for the watcher's whole life (the caller's contract); it never returns.
    let (life_r, status_w) = unsafe { (BorrowedFd::borrow_raw(life_r), BorrowedFd::borrow_raw(status_w)) };
    let status = StatusPipe::new(status_w);
    // The terminal's Ctrl+C reaches this process too (it stays in reaper's process group):
    // reaper decides what it means.
    for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
        // SAFETY: SIG_IGN installs no handler.
        unsafe { set_action(sig, libc::SIG_IGN, 0) };
    }
    let ((chld_r, chld_w), pipe) = match chld_pipe().and_then(|chld| Ok((chld, ExecPipe::open()?))) {
        Ok(fds) => fds,
        Err(e) => {
            send(status, Msg::ExecFailed, e);
            exit(127);
        }
    };
    catch_sigchld(chld_w.as_fd());
    // SAFETY: in the watcher, as this function's contract says.
    let cmd = match unsafe { start_command(p, pipe) } {
        Ok(cmd) => cmd,
        Err(e) => {
            send(status, Msg::ExecFailed, e);
            exit(127);
        }
    };
    send(status, Msg::Started, cmd);
    let mut exited = false;
    wait_for_release(life_r, chld_r.as_fd(), cmd, status, &mut exited);
    // Reaper is gone (or done): end the group.
    end_group(p.grace_ms, chld_r.as_fd(), cmd, status, exited);
    exit(0)
}

/// A command started under a session watcher.
#[derive(Debug)]
pub struct Child {
    watcher: u32,
    cmd: u32,
    /// Reaper's end of the life pipe: closing it tells the watcher to end the group and exit.
    life: Option<OwnedFd>,
    status_r: OwnedFd,
    cmd_status: Option<Status>,
    watcher_status: Option<Status>,
}

/// Starts `argv` under a session watcher: see the module documentation. `isolate` (a PID
/// namespace, Linux's) means nothing here; the second value always says what the watcher
/// does not guarantee.
pub fn spawn(argv: &[OsString], _isolate: bool) -> Result<(Child, Option<String>)> {
    let p = Prep::new(argv)?;
    let (life_r, life_w) = pipe()?;
    let (status_r, status_w) = pipe()?;
    let max = max_fd();
    // SAFETY: the child runs watcher_main, which only makes raw calls on `p` (built above).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the child; see watcher_main.
        unsafe { watcher_main(&p, life_r.as_raw_fd(), status_w.as_raw_fd(), max) }
    }
    if pid < 0 {
        return Err(Error::io("starting the watcher process (fork)", io::Error::last_os_error()));
    }
    drop(life_r);
    drop(status_w);
    let mut child =
        Child { watcher: pid as u32, cmd: 0, life: Some(life_w), status_r, cmd_status: None, watcher_status: None };
    // The first message says whether the command started. Blocking: the watcher answers at once.
    match child.read_message()? {
        Some((Some(Msg::Started), cmd)) => {
            child.cmd = cmd as u32;
            set_flags(child.status_r.as_raw_fd(), true);
            let note = "no kernel guarantee on this platform: a watcher process ends the command's process \
                        group when reaper exits, even by SIGKILL, but a process that leaves the group and is \
                        orphaned escapes it";
            Ok((child, Some(note.to_string())))
        }
        Some((Some(Msg::ExecFailed), e)) => {
            child.release();
            child.reap_blocking();
            Err(Error::spawn(p.exec.program(), io::Error::from_raw_os_error(e)))
        }
        _ => {
            child.release();
            child.reap_blocking();
            Err(Error::io("starting the watcher process", io::Error::other("it exited before starting the command")))
        }
    }
}

/// The members of process group `pgid` (macOS: `proc_listpgrppids`).
#[cfg(target_os = "macos")]
fn group_members(pgid: u32) -> Vec<u32> {
    let mut buf = vec![0 as libc::pid_t; 4096];
    // SAFETY: `buf` is live and as long as the byte size given.
    let n = unsafe {
        libc::proc_listpgrppids(
            pgid as libc::pid_t,
            buf.as_mut_ptr().cast(),
            (buf.len() * size_of::<libc::pid_t>()) as c_int,
        )
    };
    let count = (n.max(0) as usize / size_of::<libc::pid_t>()).min(buf.len());
    buf[..count].iter().filter(|&&p| p > 0).map(|&p| p as u32).collect()
}

/// The members of process group `pgid` (elsewhere: the backend's own reading of the table).
#[cfg(not(target_os = "macos"))]
use super::group_members;

impl Child {
    /// Whether the watcher has exited and been reaped.
    pub fn is_reaped(&self) -> bool {
        self.watcher_status.is_some()
    }

    /// The watcher's pid: the command is its child.
    pub fn shim_pid(&self) -> u32 {
        self.watcher
    }

    /// The command's pid (its session's and process group's id).
    pub fn cmd_pid(&self) -> Option<u32> {
        Some(self.cmd)
    }

    /// How the tree is held.
    pub fn isolation(&self) -> Isolation {
        Isolation::SessionWatcher
    }

    /// What to wait on for news of the command: the status pipe (a message, or EOF when the
    /// watcher has exited).
    pub fn waitables(&self) -> Vec<Waitable<'_>> {
        vec![self.status_r.as_fd()]
    }

    /// The command's status once it has exited (or, if the watcher was killed first, the
    /// watcher's own).
    pub fn status(&self) -> Option<Status> {
        self.cmd_status.or(self.watcher_status)
    }

    /// One message: `Ok(None)` when there is none now, or at EOF.
    fn read_message(&mut self) -> Result<Option<(Option<Msg>, i32)>> {
        let mut buf = [0u8; 8];
        loop {
            // SAFETY: reads at most 8 bytes into a live buffer from an fd we own.
            let n = unsafe { libc::read(self.status_r.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
            if n < 0 {
                match errno() {
                    libc::EINTR => continue,
                    libc::EAGAIN => return Ok(None),
                    _ => return Err(Error::io("reading the watcher's status pipe", io::Error::last_os_error())),
                }
            }
            if n != 8 {
                return Ok(None); // EOF (a pipe does not tear 8-byte writes)
            }
            let tag = Msg::from_tag(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
            let value = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
            if tag == Some(Msg::Exited) {
                self.cmd_status = Some(Status::from_raw(value));
            }
            return Ok(Some((tag, value)));
        }
    }

    /// Reads whatever the watcher has said; true when the command has exited.
    pub fn poll_status(&mut self) -> Result<bool> {
        while self.read_message()?.is_some() {}
        Ok(self.cmd_status.is_some())
    }

    /// Tells the watcher to end the group and exit (closes the life pipe).
    fn release(&mut self) {
        self.life = None;
    }

    fn waitpid(&mut self, flags: c_int) -> bool {
        if self.watcher_status.is_some() {
            return true;
        }
        let mut st: c_int = 0;
        loop {
            // SAFETY: our own child; `st` is a live out-parameter.
            let r = unsafe { libc::waitpid(self.watcher as libc::pid_t, &mut st, flags) };
            if r < 0 && errno() == libc::EINTR {
                continue;
            }
            if r == self.watcher as libc::pid_t {
                self.watcher_status = Some(Status::from_raw(st));
            } else if r < 0 {
                // ECHILD: reaped elsewhere (a SIGCHLD set to SIG_IGN): gone, status unknown.
                self.watcher_status = Some(Status::Exited(0));
            }
            return self.watcher_status.is_some();
        }
    }

    fn reap_blocking(&mut self) {
        self.waitpid(0);
    }

    /// Reaps the watcher if it has exited.
    pub fn try_reap(&mut self) -> Result<bool> {
        let done = self.waitpid(libc::WNOHANG);
        if done {
            let _ = self.poll_status();
        }
        Ok(done)
    }

    /// Releases the watcher (it ends what is left of the group, SIGTERM then after at most
    /// [`GRACE`] SIGKILL) and waits up to `timeout` for it to exit.
    pub fn wait_reap(&mut self, timeout: Duration) -> Result<bool> {
        self.release();
        let deadline = Instant::now() + timeout;
        loop {
            if self.try_reap()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            if wait_any(&[self.status_r.as_fd()], Some(left))?[0] && self.read_message()?.is_none() {
                // EOF: the watcher closed its end by exiting.
                self.reap_blocking();
            }
        }
    }

    /// SIGKILLs the watcher (its pid is ours until reaped). Only after the tree was ended
    /// through the kill engine: the command's group does not die with it.
    pub fn kill_shim(&self) {
        if self.watcher_status.is_none() {
            // SAFETY: plain call on our own unreaped child.
            unsafe { libc::kill(self.watcher as libc::pid_t, libc::SIGKILL) };
        }
    }

    /// Every process of the tree: the watcher's descendants and the command's process group
    /// (orphans included), zombies left out.
    pub fn tree_pids(&self) -> Result<Vec<u32>> {
        let mut out: Vec<u32> = super::scan_tree(&[self.watcher])
            .into_iter()
            .filter(|s| s.pid != self.watcher && s.state != 'Z' && s.state != 'X')
            .map(|s| s.pid)
            .collect();
        if self.watcher_status.is_none() {
            // While the watcher runs, the command is unreaped: the group id is still its own.
            for pid in group_members(self.cmd) {
                if !out.contains(&pid) && super::read_process(pid).is_some_and(|p| !p.is_zombie()) {
                    out.push(pid);
                }
            }
        }
        Ok(out)
    }

    /// The tree's processes for the kill engine.
    pub fn members(&self) -> Result<Option<Vec<u32>>> {
        self.tree_pids().map(Some)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // The watcher ends what is left of the group, then exits.
        self.release();
        self.reap_blocking();
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A `sleep` duration unique to this test run, to find its processes by command line.
    fn token() -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        format!("1000.{}{:09}", std::process::id(), nanos)
    }

    /// Pids of the running (not zombie) processes whose command line holds `token`.
    fn with_token(token: &str) -> Vec<u32> {
        crate::sys::list_pids()
            .unwrap_or_default()
            .into_iter()
            .filter(|&p| crate::sys::read_process(p).is_some_and(|p| !p.is_zombie()))
            .filter(|&p| crate::sys::read_cmdline(p).is_some_and(|c| c.iter().any(|a| a.contains(token))))
            .collect()
    }

    /// Pids of the running `sleep TOKEN` processes (exactly that command line, exec'd).
    fn sleeps(token: &str) -> Vec<u32> {
        with_token(token)
            .into_iter()
            .filter(|&p| crate::sys::read_cmdline(p).is_some_and(|c| c == ["sleep", token]))
            .collect()
    }

    /// SIGKILLs what is left with `token` (our own processes) when a test ends.
    struct Reap(String);
    impl Drop for Reap {
        fn drop(&mut self) {
            for pid in with_token(&self.0) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGKILL);
            }
        }
    }

    fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The command: a shell that leaves an orphan in its group, then a sleep in the foreground.
    fn orphaning(token: &str) -> Vec<OsString> {
        ["sh", "-c", &format!("(sleep {token} &); exec sleep {token}")].iter().map(OsString::from).collect()
    }

    #[test]
    fn the_tree_includes_the_orphan_left_in_the_group_and_ends_with_the_child() {
        let token = token();
        let _reap = Reap(token.clone());
        let (child, note) = spawn(&orphaning(&token), true).expect("spawning");
        assert!(note.is_some_and(|n| n.contains("watcher")));
        // The two sleeps themselves: `sh -c` and its `( ... &)` subshell carry the token in
        // their command line too until they exec or exit, and a subshell seen by one look and
        // gone by the next is in no tree (the flake this test had on a busy machine).
        wait_for("both sleeps", || sleeps(&token).len() == 2);
        let tree = child.tree_pids().expect("the tree");
        for pid in sleeps(&token) {
            assert!(tree.contains(&pid), "{pid} not in {tree:?}");
            let p = crate::sys::read_process(pid).expect("running");
            assert_eq!((p.pgid, p.sid), (child.cmd, child.cmd), "the command leads a session of its own");
        }
        drop(child);
        // SIGKILL is sent, not yet acted on, when the watcher exits: the orphan dies just after.
        wait_for("the group to end", || with_token(&token).is_empty());
    }

    #[test]
    fn the_exit_status_comes_from_the_watcher_and_the_group_still_ends() {
        let token = token();
        let _reap = Reap(token.clone());
        let cmd: Vec<OsString> =
            ["sh", "-c", &format!("(sleep {token} &); exit 3")].iter().map(OsString::from).collect();
        let (mut child, _) = spawn(&cmd, true).expect("spawning");
        wait_any(&child.waitables(), Some(Duration::from_secs(30))).expect("waiting");
        wait_for("the exit status", || child.poll_status().expect("reading"));
        assert_eq!(child.status(), Some(Status::Exited(3)));
        wait_for("the orphan", || with_token(&token).len() == 1);
        assert!(child.wait_reap(Duration::from_secs(30)).expect("reaping"));
        wait_for("the orphan to end", || with_token(&token).is_empty());
    }

    #[test]
    fn a_command_that_is_not_there_is_a_spawn_error() {
        let cmd = [OsString::from("/nonexistent/reaper-test-command")];
        let e = spawn(&cmd, true).expect_err("no such command");
        assert!(matches!(&e, Error::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound), "{e}");
    }

    /// Not a test: run by `a_sigkilled_owner_takes_the_group_along` as the owner it kills.
    /// Starts the orphaning command under a watcher, says so in the file named by
    /// `REAPER_TEST_OWNER_LOG`, then waits to be killed.
    #[test]
    #[ignore = "a helper, run by another test"]
    fn owner_helper() {
        let (Some(token), Some(log)) =
            (std::env::var_os("REAPER_TEST_TOKEN"), std::env::var_os("REAPER_TEST_OWNER_LOG"))
        else {
            return;
        };
        let (child, _) = spawn(&orphaning(&token.to_string_lossy()), true).expect("spawning");
        std::fs::write(log, format!("{}\n", child.cmd)).expect("the log");
        loop {
            std::thread::park();
        }
    }

    // The founding bug: the app is SIGKILLed and its sidecar's tree (an orphan one level down
    // included) keeps running. The watcher must end the group.
    #[test]
    fn a_sigkilled_owner_takes_the_group_along() {
        let token = token();
        let _reap = Reap(token.clone());
        let log = std::env::temp_dir().join(format!("reaper-owner-{token}.log"));
        let mut owner = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["sys::macos_guard::tests::owner_helper", "--exact", "--ignored", "--quiet", "--test-threads=1"])
            .env("REAPER_TEST_TOKEN", &token)
            .env("REAPER_TEST_OWNER_LOG", &log)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the owner");
        wait_for("the owner's log", || std::fs::read_to_string(&log).is_ok_and(|s| s.ends_with('\n')));
        let _ = std::fs::remove_file(&log);
        wait_for("both sleeps", || with_token(&token).len() == 2);
        owner.kill().expect("SIGKILL the owner");
        owner.wait().expect("reaping the owner");
        wait_for("the group to end", || with_token(&token).is_empty());
    }
}
