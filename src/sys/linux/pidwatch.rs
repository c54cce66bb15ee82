//! Linux: waiting on processes and file descriptors without polling. A pidfd becomes readable
//! when its process exits (already at the zombie stage), so one `poll()` can wait for any number
//! of processes, pipes and signalfds at once, with a timeout.
//!
//! These helpers serve `reaper run` and `reaper wait`; the kill engine keeps its own.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::libc;

use crate::error::{Error, Result};

/// Opens a pidfd for `pid`: `Ok(None)` when no such process exists (it has exited and been
/// reaped). A zombie still gets a pidfd, which is readable at once.
pub fn open_pidfd(pid: u32) -> Result<Option<OwnedFd>> {
    let raw = i32::try_from(pid).map_err(|_| Error::InvalidPid(pid.to_string()))?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is shared.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::ESRCH) => Ok(None),
            _ => Err(Error::io(format!("opening a pidfd for pid {pid}"), err)),
        };
    }
    // SAFETY: the syscall returned a new fd (close-on-exec) that nothing else owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

/// Sends `signal` through a pidfd: never to a recycled pid. `Ok(false)` when the process had
/// already exited.
pub fn pidfd_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<bool> {
    // SAFETY: pidfd_send_signal with a null siginfo and no flags only reads its arguments.
    let r = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, std::ptr::null::<libc::siginfo_t>(), 0)
    };
    if r == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) { Ok(false) } else { Err(err) }
}

/// Waits until at least one of `fds` is readable (or hung up), or `timeout` passes (`None`
/// waits forever). Returns one flag per fd; all false means the timeout passed. Interrupted
/// calls are resumed with the time that is left.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Result<Vec<bool>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|fd| libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    loop {
        let ms: i32 = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so that a timeout of 0.4 ms does not spin at 0 ms.
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structs that outlives the call.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io("waiting with poll()", err));
        }
        if n > 0 {
            return Ok(pfds.iter().map(|p| p.revents != 0).collect());
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
    use std::os::fd::AsFd;
    Ok(poll_readable(&[fd.as_fd()], timeout)?[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

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
