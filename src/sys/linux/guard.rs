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
//!
//! The parent side is in `spawn.rs`, the children's code in `shim.rs`; this file is the guard's
//! door to them and to the fd-wait layer (`pidwatch.rs`), with the items every platform's guard
//! backend provides (`Waitable`, `wait_any`, `Watched`, `Notifier`, `Signals`, `Child`, `spawn`).

use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

pub use super::pidwatch::{Notifier, Signals};
use super::pidwatch::{open_pidfd, poll_readable};
pub use super::spawn::{Child, descendants};
use crate::error::Result;

/// What the guard's event loop waits on: an fd.
pub type Waitable<'a> = BorrowedFd<'a>;

/// Waits until one of `w` is ready or `timeout` passes; one flag per item.
pub fn wait_any(w: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Vec<bool>> {
    poll_readable(w, timeout)
}

/// A watched process (`--watch-pid`): a pidfd, readable once it has exited.
#[derive(Debug)]
pub struct Watched(OwnedFd);

impl Watched {
    /// Starts watching `pid`; `None` when there is no such process.
    pub fn open(pid: u32) -> Result<Option<Watched>> {
        Ok(open_pidfd(pid)?.map(Watched))
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.0.as_fd()
    }
}

impl Notifier {
    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.fd()
    }
}

impl Signals {
    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.fd()
    }
}

impl Child {
    /// What to wait on for news of the command: the shim's exit and its status pipe.
    pub fn waitables(&self) -> Vec<Waitable<'_>> {
        vec![self.exit_fd(), self.status_fd()]
    }

    /// Every process of the tree: the shim's descendants.
    pub fn tree_pids(&self) -> Result<Vec<u32>> {
        descendants(self.shim_pid())
    }

    /// The tree's processes for the kill engine: `None`, meaning exactly the shim's
    /// descendants (read again by the engine itself).
    pub fn members(&self) -> Result<Option<Vec<u32>>> {
        Ok(None)
    }
}

/// Starts `argv` under a shim: see the module documentation. With `isolate`, a PID namespace
/// if it can; the second value says what is not guaranteed when it could not.
pub fn spawn(argv: &[OsString], isolate: bool) -> Result<(Child, Option<String>)> {
    let (child, why) = super::spawn::spawn(argv, isolate)?;
    let note = why.map(|why| {
        format!(
            "no PID namespace ({why}): the tree is ended when reaper is signalled or its anchor exits, \
             but if reaper is SIGKILLed only the command itself dies and processes it started keep running"
        )
    });
    Ok((child, note))
}
