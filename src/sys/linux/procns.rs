//! Linux: whether `/proc` belongs to reaper's own PID namespace.
//!
//! Every pid reaper reads comes from `/proc`, and every signal it sends goes to a pid of its own
//! PID namespace (`pidfd_open`, `kill`). A `/proc` mounted for another namespace (a process
//! started by `unshare --pid --fork` without `--mount-proc`, a container sharing the host's
//! `/proc`) numbers processes differently: its pid 2 is not this namespace's pid 2. Reaper then
//! refuses to work rather than signal by pids it cannot trust.
//!
//! The test: `/proc/self/status` lists this process's pid in every namespace from the one
//! `/proc` was mounted for down to its own (`NSpid`). Exactly one entry, equal to `getpid()`,
//! means `/proc` is ours. Kernels before 4.1 have no `NSpid`: there `/proc/self` must point to
//! `getpid()`.

use std::io;

use crate::error::{Error, Result};

/// `Ok(())` when `/proc` is mounted for this process's PID namespace; [`Error::ForeignProc`]
/// when it is another namespace's (or shows no `self`). Costs one read of
/// `/proc/self/status`.
pub fn check_own_proc() -> Result<()> {
    let own = std::process::id();
    // Bytes, not text: the `Name:` line is whatever name reaper was started under.
    let status = match std::fs::read("/proc/self/status") {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::ForeignProc(format!(
                "/proc does not show this process (pid {own}): it is not mounted, or it belongs to another \
                 PID namespace"
            )));
        }
        Err(e) => return Err(Error::io("reading /proc/self/status", e)),
    };
    let shown: Vec<u32> = match super::procfs::parse_status_nspid(&status) {
        Some(list) => list,
        // No NSpid line (Linux < 4.1): where /proc/self points is the pid /proc knows us by.
        None => std::fs::read_link("/proc/self")
            .ok()
            .and_then(|p| p.to_str().and_then(|s| s.parse().ok()))
            .into_iter()
            .collect(),
    };
    verdict(own, &shown)
}

/// The decision on the pids `/proc` shows for this process (`NSpid`, outermost first).
fn verdict(own: u32, shown: &[u32]) -> Result<()> {
    match shown {
        [pid] if *pid == own => Ok(()),
        [] => Err(Error::ForeignProc(format!("/proc does not say which pid this process (pid {own}) has there"))),
        [outer, ..] => Err(Error::ForeignProc(format!(
            "/proc belongs to another PID namespace: it shows this process as pid {outer}, but its pid is {own}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_proc_is_accepted_here() {
        // The test process runs with a /proc of its own namespace (the machine's, or a
        // container's own mount).
        check_own_proc().unwrap();
    }

    #[test]
    fn an_outer_namespace_or_a_mismatch_is_refused() {
        assert!(verdict(7, &[7]).is_ok());
        let e = verdict(1, &[4242, 1]).unwrap_err();
        assert!(matches!(e, Error::ForeignProc(_)) && !e.is_usage());
        assert!(e.to_string().contains("shows this process as pid 4242, but its pid is 1"), "{e}");
        assert!(verdict(5, &[6]).is_err());
        assert!(verdict(5, &[]).is_err());
    }
}
