//! Linux signalling and waiting through pidfds (kernel >= 5.3): a pidfd pins one process, so
//! a signal sent through it can never reach a recycled pid, and it becomes readable when the
//! process exits (at the zombie stage), so exits are waited for with one `poll()` and no
//! sleep loop. SIGINT, SIGTERM, SIGHUP and every other signal that would end reaper by default
//! are blocked while a [`Signaller`] lives and read from a signalfd polled alongside the pidfds.
//! Freezing is ptrace's (see [`super::freeze`]), with SIGSTOP where ptrace is refused.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::libc;

use nix::sys::signal::SigSet;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Resource, getrlimit, pidfd_open, pidfd_send_signal, setrlimit};

use super::freeze::Tracer;
use super::pidwatch::{Signals, is_readable, timespec};
use crate::model::{Seen, Sent, Unpinned, Waited};
use crate::sys::{Control, Pin};

/// What pins a process on Linux: a pidfd.
pub type PinHandle = OwnedFd;

/// A process pinned by a pidfd.
#[derive(Debug)]
pub struct Handle {
    fd: OwnedFd,
    pid: u32,
}

/// The Linux [`Control`]: pidfds, a signalfd for interrupts, ptrace (or SIGSTOP) to freeze,
/// `/proc` scans for descendants.
#[derive(Debug)]
pub struct Signaller {
    /// The interrupts, as a signalfd (none when it could not be made: they keep their effect).
    signals: Option<Signals>,
    tracer: Tracer,
    /// Since when the tracer has owed threads (see [`Control::wait`]).
    owed_since: Option<Instant>,
}

/// The signals read from the signalfd: SIGINT, SIGTERM, SIGHUP, and every other signal whose
/// disposition is the default and whose default ends the process (SIGUSR1, SIGALRM, ...). Any
/// of them arriving mid-kill must not end reaper before it lets go of what it froze. SIGPIPE
/// stays out (a write to a closed pipe must fail with EPIPE, not count as an interrupt), and so
/// do signals with a handler or ignored: they do not end the process.
fn interrupt_set() -> SigSet {
    let mut raw: libc::sigset_t = *SigSet::empty().as_ref();
    let fatal = [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSTKFLT,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGSYS,
        libc::SIGTRAP,
    ];
    for sig in fatal.into_iter().chain(libc::SIGRTMIN()..=libc::SIGRTMAX()) {
        // INT, TERM and HUP always (they were always read here); the others only when they
        // would end the process.
        if sig == libc::SIGINT || sig == libc::SIGTERM || sig == libc::SIGHUP || has_default_action(sig) {
            // SAFETY: `raw` is an initialised sigset_t; sigaddset only sets the bit of a valid
            // signal number (it fails with EINVAL otherwise, ignored).
            unsafe { libc::sigaddset(&mut raw, sig) };
        }
    }
    // SAFETY: `raw` came from an initialised SigSet and was changed by sigaddset only.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

/// Whether `sig`'s disposition is the default (no handler, not ignored).
fn has_default_action(sig: i32) -> bool {
    // SAFETY: sigaction with a null new action only writes the current one into `old`, a
    // zeroed sigaction struct that lives for the call.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL
    }
}

impl Signaller {
    /// Blocks SIGINT, SIGTERM and SIGHUP on this thread (restored on drop) and opens a signalfd
    /// for them. Without a signalfd the signals keep their usual effect.
    pub fn new() -> Signaller {
        Signaller { signals: Signals::of(&interrupt_set()).ok(), tracer: Tracer::default(), owed_since: None }
    }

    fn drain(&mut self) -> bool {
        self.signals.as_ref().is_some_and(Signals::drain)
    }
}

impl Default for Signaller {
    fn default() -> Signaller {
        Signaller::new()
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        // Let go of every traced process first (the tracer's own Drop would, but only after
        // the mask is restored below).
        self.tracer = Tracer::default();
        // Consume interrupts still queued, so that unblocking them does not end the process
        // (the signalfd's own Drop), and restore the mask.
        self.signals = None;
    }
}

/// Raises the soft limit on open files to the hard limit, once per process: a big tree needs a
/// pidfd per process, and 1024 is a common soft limit. Returns whether it was raised now.
fn raise_nofile() -> bool {
    static RAISED: AtomicBool = AtomicBool::new(false);
    if RAISED.swap(true, Ordering::SeqCst) {
        return false;
    }
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current == lim.maximum {
        return false;
    }
    lim.current = lim.maximum;
    setrlimit(Resource::Nofile, lim).is_ok()
}

/// Opens a pidfd for `pid` and checks that it pins the process that started at `start_ticks`.
fn open_verified(pid: u32, start_ticks: u64) -> Result<OwnedFd, Unpinned> {
    let raw = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or(Unpinned::Gone)?;
    let fd = loop {
        match pidfd_open(raw, PidfdFlags::empty()) {
            Ok(fd) => break fd,
            Err(Errno::SRCH) => return Err(Unpinned::Gone),
            Err(Errno::MFILE) if raise_nofile() => continue,
            Err(e) => return Err(unopened(pid, start_ticks, e)),
        }
    };
    // The pidfd now pins whatever process has this pid; it is ours only if it started when
    // the plan saw it start.
    loop {
        match super::start_ticks(pid) {
            Some(t) if t == start_ticks => return Ok(fd),
            Some(_) => return Err(Unpinned::Gone),
            // Unreadable because the pinned process has exited: gone.
            None if readable(&fd) => return Err(Unpinned::Gone),
            // It is alive, so the read failed on our side (the pidfd took the last free fd
            // and the read needs one more): raise the limit once and retry. Never call an
            // unverified live process gone: that reported success while it lived on.
            None if raise_nofile() => continue,
            // /proc cannot show it and its pidfd does not say it exited: if it is on its way
            // out, the pidfd says so soon (waited for, 100 ms at most); else look once more.
            None if exiting(&fd) => return Err(Unpinned::Gone),
            None => match super::start_ticks(pid) {
                Some(t) if t == start_ticks => return Ok(fd),
                Some(_) => return Err(Unpinned::Gone),
                None => return Err(Unpinned::Failed(format!("cannot read /proc/{pid}/stat to verify its identity"))),
            },
        }
    }
}

/// What a failed `pidfd_open` of `pid` means. Kernels answer `EINVAL` (not `ESRCH`) for a pid
/// whose process was reaped while the pid itself was still referenced, a window a fork storm's
/// leaves hit between a tree scan and the open; such a process is gone, as is one whose pid
/// now shows another start time or no `/proc` entry at all. Only a process `/proc` still shows
/// with the start time the plan saw is one that could not be pinned.
fn unopened(pid: u32, start_ticks: u64, e: Errno) -> Unpinned {
    match super::start_ticks(pid) {
        Some(t) if t == start_ticks => Unpinned::Failed(format!("pidfd_open: {e}")),
        Some(_) => Unpinned::Gone,
        None => match std::fs::symlink_metadata(format!("/proc/{pid}")) {
            Err(m) if m.kind() == std::io::ErrorKind::NotFound => Unpinned::Gone,
            _ => Unpinned::Failed(format!("pidfd_open: {e}; /proc/{pid}/stat unreadable")),
        },
    }
}

/// Pins `pid` for a plan: a pidfd, checked against the start time the snapshot read.
/// `Some(Pin::Gone)` when the process has exited or its pid belongs to another process;
/// `None` when it could not be pinned now (out of file descriptors): the engine then pins it by
/// pid and start time when the plan is executed.
pub fn pin(pid: u32, start_ticks: u64) -> Option<Pin> {
    match open_verified(pid, start_ticks) {
        Ok(fd) => Some(Pin::Held(Arc::new(fd))),
        Err(Unpinned::Gone) => Some(Pin::Gone),
        Err(_) => None,
    }
}

/// Whether the pidfd's process exits within 100 ms: a process /proc no longer shows but whose
/// pidfd is not readable yet is between the two steps of its exit.
fn exiting(fd: &OwnedFd) -> bool {
    super::pidwatch::poll_readable(&[fd.as_fd()], Some(Duration::from_millis(100)))
        .is_ok_and(|r| r.first().copied().unwrap_or(false))
}

/// Whether a pidfd is readable: its process has exited (a zombie has).
fn readable(fd: &OwnedFd) -> bool {
    is_readable(fd.as_fd())
}

impl Control for Signaller {
    type Handle = Handle;

    fn open(&mut self, pid: u32, start_ticks: u64) -> Result<Handle, Unpinned> {
        open_verified(pid, start_ticks).map(|fd| Handle { fd, pid })
    }

    fn adopt(&mut self, pin: &Pin, pid: u32, _start_ticks: u64) -> Result<Handle, Unpinned> {
        let Pin::Held(fd) = pin else {
            return Err(Unpinned::Gone);
        };
        loop {
            match fd.try_clone() {
                Ok(fd) => return Ok(Handle { fd, pid }),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) && raise_nofile() => continue,
                Err(e) => return Err(Unpinned::Failed(format!("duplicating the pidfd of {pid}: {e}"))),
            }
        }
    }

    fn stop_quietly(&mut self, h: &Handle) -> Option<Sent> {
        match self.tracer.freeze(h.pid, &h.fd) {
            Ok(()) => Some(Sent::Ok),
            Err(libc::ESRCH) if readable(&h.fd) => Some(Sent::Gone),
            // Already traced, not dumpable, or out of ptrace's reach (Yama): only SIGSTOP is
            // left, and the engine decides whether it is needed.
            Err(_) => None,
        }
    }

    fn resume(&mut self, h: &Handle) -> Sent {
        match self.tracer.thaw(h.pid) {
            // Frozen by SIGSTOP; or stopped by job control (Ctrl-Z) before reaper came: a
            // stopped process does not act on the signal it was just sent, so continue it.
            None | Some(true) => self.signal(h, libc::SIGCONT),
            Some(false) => Sent::Ok,
        }
    }

    fn drops(&mut self, pid: u32, sig: i32) -> bool {
        drops_signal(pid, sig)
    }

    fn signal(&mut self, h: &Handle, sig: i32) -> Sent {
        // SAFETY: `sig` is a signal number this platform named (parsed by `spec::Signal` or
        // one of the libc constants); the kernel checks it again and answers EINVAL otherwise.
        let signal = unsafe { rustix::process::Signal::from_raw_unchecked(sig) };
        match pidfd_send_signal(&h.fd, signal) {
            Ok(()) => Sent::Ok,
            Err(Errno::SRCH) => Sent::Gone,
            Err(Errno::PERM) => Sent::Denied,
            Err(e) => Sent::Failed(e.to_string()),
        }
    }

    fn exited(&mut self, h: &Handle) -> bool {
        readable(&h.fd)
    }

    fn wait(&mut self, handles: &[&Handle], deadline: Instant) -> Waited {
        let mut left = deadline.saturating_duration_since(Instant::now());
        // Traced threads that died are released to their parents (and their process's pidfd
        // becomes readable) only once the tracer has waited for them, and a thread that was in
        // uninterruptible sleep is detached only once it reaches its stop: no event tells a
        // library of either reliably (SIGCHLD may go to any thread), so look again soon, less
        // and less often (2 ms at first, at most 50 ms).
        if self.tracer.settle() {
            let since = *self.owed_since.get_or_insert_with(Instant::now);
            let every = (since.elapsed() / 10).clamp(Duration::from_millis(2), Duration::from_millis(50));
            left = left.min(every);
        } else {
            self.owed_since = None;
        }
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(handles.len() + 1);
        if let Some(s) = &self.signals {
            fds.push(PollFd::from_borrowed_fd(s.fd(), PollFlags::IN));
        }
        let first = fds.len();
        fds.extend(handles.iter().map(|h| PollFd::new(&h.fd, PollFlags::IN)));
        let timeout = timespec(left);
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(_) => Waited::Timeout,
            Ok(_) => {
                let interrupt = first == 1 && !fds[0].revents().is_empty();
                let exited: Vec<usize> =
                    fds[first..].iter().enumerate().filter(|(_, f)| !f.revents().is_empty()).map(|(i, _)| i).collect();
                drop(fds);
                if interrupt && self.drain() {
                    Waited::Interrupted
                } else if exited.is_empty() {
                    Waited::Timeout
                } else {
                    Waited::Exited(exited)
                }
            }
        }
    }

    fn interrupted(&mut self) -> bool {
        self.drain()
    }

    fn scan(&mut self, roots: &[u32]) -> Vec<Seen> {
        super::scan_tree(roots)
    }

    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool {
        if self.tracer.holds(pid) {
            return self.tracer.stopped(pid);
        }
        super::read_stat(pid).is_none_or(|s| s.starttime != start_ticks || matches!(s.state, 'T' | 't' | 'Z' | 'X'))
    }
}

/// Whether the kernel drops `sig` sent to `pid` from here: `pid` is the init of a PID namespace
/// below ours and has no handler for `sig`.
pub fn drops_signal(pid: u32, sig: i32) -> bool {
    if sig == libc::SIGKILL || sig == libc::SIGSTOP {
        return false; // forced into a namespace's init from an ancestor namespace
    }
    super::with_proc_file(pid, b"status", |b| Some(init_drops(&String::from_utf8_lossy(b), sig))).unwrap_or(false)
}

/// Whether a process with this `/proc/PID/status` is the init of a PID namespace below the one
/// `/proc` shows (its `NSpid` has more than one entry and ends in 1) and has no handler for
/// `sig`: the kernel drops such a signal sent from an ancestor namespace.
fn init_drops(status: &str, sig: i32) -> bool {
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    let nested_init = field("NSpid:").is_some_and(|v| {
        let ids: Vec<&str> = v.split_whitespace().collect();
        ids.len() > 1 && ids.last() == Some(&"1")
    });
    if !nested_init || !(1..=64).contains(&sig) {
        return false;
    }
    let caught = field("SigCgt:").and_then(|v| u64::from_str_radix(v, 16).ok()).unwrap_or(0);
    caught & (1u64 << (sig - 1)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // A failed open is "gone" only when /proc shows that the planned process is not there.
    #[test]
    fn a_failed_open_is_gone_only_when_the_planned_process_is_not_there() {
        let me = std::process::id();
        let start = super::super::start_ticks(me).expect("our own start time");
        assert!(matches!(unopened(me, start, Errno::INVAL), Unpinned::Failed(_)), "alive: not gone");
        assert!(matches!(unopened(me, start + 1, Errno::INVAL), Unpinned::Gone), "another start time");
        // A pid above pid_max (4194304 at most) never has a process.
        assert!(matches!(unopened(4_194_305, start, Errno::INVAL), Unpinned::Gone), "no /proc entry");
    }
}
