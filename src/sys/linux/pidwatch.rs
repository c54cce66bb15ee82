//! Linux: the one signal and fd-wait layer, on rustix. A pidfd becomes readable when its
//! process exits (already at the zombie stage), so one `poll()` can wait for any number of
//! processes, pipes, eventfds and signalfds at once, with a timeout; [`Signals`] turns signals
//! into such an fd. `reaper run` and `reaper wait` use it directly, the kill engine
//! (`pidfd.rs`) and the ptrace freeze (`freeze.rs`) through [`is_readable`] and [`Signals`].
//! Raw system calls are left only to the code that runs after `clone3()` (`shim.rs`).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, SigmaskHow, Signal as NixSignal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec, eventfd, poll};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

use crate::error::{Error, Result};

/// Opens a pidfd for `pid`: `Ok(None)` when no such process exists (it has exited and been
/// reaped). A zombie still gets a pidfd, which is readable at once. A thread id that is not its
/// process's (the kernel answers ENOENT) is bad input ([`Error::Usage`], exit 2), as for
/// `kill --pid`: it names a thread, not a process.
pub fn open_pidfd(pid: u32) -> Result<Option<OwnedFd>> {
    let raw = i32::try_from(pid).map_err(|_| Error::InvalidPid(pid.to_string()))?;
    let failed = |e: Errno| Error::io(format!("opening a pidfd for pid {pid}"), io::Error::from(e));
    let pid_t = Pid::from_raw(raw).ok_or_else(|| failed(Errno::INVAL))?;
    match pidfd_open(pid_t, PidfdFlags::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::SRCH) => Ok(None),
        Err(e) => match super::thread_group(pid).filter(|&t| t != pid) {
            Some(tgid) => Err(Error::Usage(format!(
                "pid {pid} is a thread of {tgid}, not a process (pid {tgid} names the process)"
            ))),
            None => Err(failed(e)),
        },
    }
}

/// Sends `signal` through a pidfd: never to a recycled pid. `Ok(false)` when the process had
/// already exited.
pub fn pidfd_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<bool> {
    // SAFETY: `signal` is a signal number this platform named (a libc constant or one parsed by
    // `spec::Signal`); the kernel checks it again and answers EINVAL otherwise.
    let signal = unsafe { Signal::from_raw_unchecked(signal) };
    match pidfd_send_signal(pidfd, signal) {
        Ok(()) => Ok(true),
        Err(Errno::SRCH) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether `fd` is readable now (for a pidfd: its process has exited; a zombie has).
pub fn is_readable(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0) && !fds[0].revents().is_empty()
}

/// `d` as poll's timeout.
pub(super) fn timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs().min(i64::MAX as u64) as i64, tv_nsec: d.subsec_nanos().into() }
}

/// Waits until at least one of `fds` is readable (or hung up), or `timeout` passes (`None`
/// waits forever). Returns one flag per fd; all false means the timeout passed. Interrupted
/// calls are resumed with the time that is left.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Result<Vec<bool>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut pfds: Vec<PollFd<'_>> = fds.iter().map(|fd| PollFd::from_borrowed_fd(*fd, PollFlags::IN)).collect();
    loop {
        // Rounded up to whole milliseconds, as poll(2) counts them, so that a timeout of 0.4 ms
        // does not spin at 0 ms.
        let left = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            timespec(Duration::from_millis(left.as_micros().div_ceil(1000).min(i32::MAX as u128) as u64))
        });
        match poll(&mut pfds, left.as_ref()) {
            Ok(n) if n > 0 => return Ok(pfds.iter().map(|p| !p.revents().is_empty()).collect()),
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(Error::io("waiting with poll()", io::Error::from(e))),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(vec![false; pfds.len()]);
        }
    }
}

/// Waits until `pid` has exited (a zombie counts), at most `timeout` (`None`: forever).
/// A pid that does not exist has already exited: `Ok(true)`. `Ok(false)` at the timeout.
pub fn wait_pid_exit(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    let Some(fd) = open_pidfd(pid)? else {
        return Ok(true);
    };
    Ok(poll_readable(&[fd.as_fd()], timeout)?[0])
}

/// A readable fd that another thread can make readable: `guard::Stopper` on Linux.
#[derive(Debug)]
pub struct Notifier(OwnedFd);

impl Notifier {
    /// An eventfd.
    pub fn new() -> Result<Notifier> {
        eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map(Notifier)
            .map_err(|e| Error::io("creating an eventfd", io::Error::from(e)))
    }

    /// Makes the fd readable (for good: it is never drained).
    pub fn notify(&self) {
        let _ = rustix::io::write(&self.0, &1u64.to_ne_bytes());
    }

    /// The fd to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Signals as a readable fd (a signalfd): creating it blocks them in the calling thread (only
/// sound when no other thread leaves them unblocked); dropping it consumes what arrived
/// meanwhile and restores the thread's previous mask. `reaper run` reads SIGINT, SIGTERM and
/// SIGHUP this way ([`Signals::new`]), the kill engine every signal that would end reaper.
#[derive(Debug)]
pub struct Signals {
    fd: SignalFd,
    old_mask: SigSet,
}

impl Signals {
    /// Blocks INT, TERM and HUP and opens a signalfd for them.
    pub fn new() -> Result<Signals> {
        let mut set = SigSet::empty();
        for s in [NixSignal::SIGINT, NixSignal::SIGTERM, NixSignal::SIGHUP] {
            set.add(s);
        }
        Signals::of(&set)
    }

    /// Blocks the signals of `set` and opens a signalfd for them (blocked first: none can slip
    /// between the two). On failure the mask is as before.
    pub fn of(set: &SigSet) -> Result<Signals> {
        let mut old_mask = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(set), Some(&mut old_mask))
            .map_err(|e| Error::io("blocking signals", io::Error::from(e)))?;
        match SignalFd::with_flags(set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
            Ok(fd) => Ok(Signals { fd, old_mask }),
            Err(e) => {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
                Err(Error::io("creating a signalfd", io::Error::from(e)))
            }
        }
    }

    /// The fd to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The signal that arrived, if any.
    pub fn take(&self) -> Option<i32> {
        self.fd.read_signal().ok().flatten().map(|info| info.ssi_signo as i32)
    }

    /// Consumes every signal that arrived; whether there was one.
    pub fn drain(&self) -> bool {
        let mut got = false;
        while self.take().is_some() {
            got = true;
        }
        got
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Consume what arrived meanwhile (it was acted on), then unblock.
        self.drain();
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.old_mask), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::libc;

    #[test]
    fn pidfd_of_a_child_becomes_readable_at_exit() {
        let mut child = std::process::Command::new("sleep").arg("100").spawn().unwrap();
        let fd = open_pidfd(child.id()).unwrap().unwrap();
        assert_eq!(poll_readable(&[fd.as_fd()], Some(Duration::from_millis(10))).unwrap(), vec![false]);
        assert!(pidfd_signal(fd.as_fd(), libc::SIGKILL).unwrap());
        // Not reaped yet: a zombie counts as exited.
        assert!(wait_pid_exit(child.id(), Some(Duration::from_secs(10))).unwrap());
        child.wait().unwrap();
        assert!(!pidfd_signal(fd.as_fd(), libc::SIGKILL).unwrap());
    }
}
