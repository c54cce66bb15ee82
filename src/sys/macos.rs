//! macOS (cross-compiled and clippy-checked in CI, never run on a Mac). Processes and sockets
//! come from the shared sysinfo/netstat2 backend (`portable.rs`, which imports this file); this
//! file adds what is particular to macOS. Signals, users and our own identity are in `unix_common`.

use crate::model::Process;

/// The real uid of a process, or `u32::MAX` (no user) when sysinfo could not read it, so that
/// an unknown owner is never taken for the caller.
pub(crate) fn uid_of(p: &sysinfo::Process) -> u32 {
    p.user_id().map_or(u32::MAX, |uid| **uid)
}

/// Process group and session of `pid` (0 when they cannot be read).
pub(crate) fn group_and_session(pid: u32, _p: &sysinfo::Process) -> (u32, u32) {
    super::unix_common::group_and_session(pid)
}

/// `kernel_task` is pid 0.
pub(crate) fn is_kernel(pid: u32) -> bool {
    pid == 0
}

/// macOS has no session subreapers: orphans are adopted by launchd, PID 1.
pub fn is_session_subreaper(_p: &Process) -> bool {
    false
}
