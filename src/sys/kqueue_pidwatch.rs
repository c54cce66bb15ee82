//! Waiting for a process to exit with kqueue `EVFILT_PROC`/`NOTE_EXIT`, the event macOS and the
//! BSDs give instead of a pidfd. Built for macOS (cross-compiled and clippy-checked here, never
//! run): `wait_pid_exit` of the portable backend and the guard's `--watch-pid`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::libc;

use crate::error::{Error, Result};

/// A kqueue with `EVFILT_PROC`/`NOTE_EXIT` registered for `pid`: it reads (and polls) ready
/// once the process has exited. `Ok(None)` when the pid does not exist (or is already a zombie,
/// which kqueue refuses): it has exited.
pub(crate) fn exit_queue(pid: u32) -> Result<Option<OwnedFd>> {
    // SAFETY: kqueue returns a new fd or -1.
    let kq = unsafe { libc::kqueue() };
    if kq < 0 {
        return Err(Error::io("creating a kqueue", io::Error::last_os_error()));
    }
    // SAFETY: a new fd that nothing else owns.
    let kq = unsafe { OwnedFd::from_raw_fd(kq) };
    // SAFETY: kevent is plain data.
    let mut change: libc::kevent = unsafe { std::mem::zeroed() };
    change.ident = pid as libc::uintptr_t;
    change.filter = libc::EVFILT_PROC;
    change.flags = libc::EV_ADD | libc::EV_ONESHOT;
    change.fflags = libc::NOTE_EXIT;
    // SAFETY: registers one change from a live struct; no events are read.
    let r = unsafe { libc::kevent(kq.as_raw_fd(), &change, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
    if r < 0 {
        let err = io::Error::last_os_error();
        return if err.raw_os_error() == Some(libc::ESRCH) {
            Ok(None)
        } else {
            Err(Error::io(format!("watching pid {pid} with kqueue"), err))
        };
    }
    Ok(Some(kq))
}

/// Waits until `pid` has exited, at most `timeout` (`None`: forever). A pid that does not
/// exist (or is already a zombie, which kqueue refuses) has exited: `Ok(true)`.
pub fn wait_pid_exit(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    let Some(kq) = exit_queue(pid)? else {
        return Ok(true);
    };
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let ts = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: left.subsec_nanos() as libc::c_long }
        });
        let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: kevent is plain data, filled by the call.
        let mut out: libc::kevent = unsafe { std::mem::zeroed() };
        // SAFETY: reads at most one event into `out`; `ts_ptr` is null or points at `ts`.
        let n = unsafe { libc::kevent(kq.as_raw_fd(), std::ptr::null(), 0, &mut out, 1, ts_ptr) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::io(format!("waiting for pid {pid} with kqueue"), err));
        }
        return Ok(n > 0);
    }
}
