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
//! door to them and to the fd-wait layer (`pidwatch.rs`).

pub use super::pidwatch::{Notifier, Signals};
pub use super::spawn::{Child, descendants, spawn};
