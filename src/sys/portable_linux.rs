//! Linux under the `portable` feature: what `macos.rs` and `windows.rs` add to the shared
//! sysinfo/netstat2 backend (`portable.rs`), for Linux, so that backend runs and is tested here.
//! Signals and users come from `unix_common`, as on macOS.

/// The real uid of a process, or `u32::MAX` (no user) when sysinfo could not read it, so that
/// an unknown owner is never taken for the caller.
pub(crate) fn uid_of(p: &sysinfo::Process) -> u32 {
    p.user_id().map_or(u32::MAX, |uid| **uid)
}

/// Process group and session of `pid` (0 when they cannot be read): sysinfo has neither.
pub(crate) fn group_and_session(pid: u32, _p: &sysinfo::Process) -> (u32, u32) {
    super::unix_common::group_and_session(pid)
}

/// No pid is the kernel's by number on Linux: sysinfo marks kernel threads (see `portable.rs`).
pub(crate) fn is_kernel(_pid: u32) -> bool {
    false
}

/// `systemd --user` adopts orphans: the Linux backend's rule.
pub use super::linux::is_session_subreaper;
