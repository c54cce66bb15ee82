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

/// The identity and state of `pid` from its BSD info (`proc_pidinfo(PROC_PIDTBSDINFO)`): one
/// call about one process, where sysinfo lists every pid to refresh one. The kill's checks
/// before each signal and of each frozen target go through this, so that a round over n targets
/// costs n calls, not n listings of the whole table. The start time is taken to the second, as
/// sysinfo's table has it (the identity compared with the plan's). `Err(())` when the call fails
/// other than with "no such process" (the caller asks sysinfo then); `Ok(None)` for no such
/// process. A zombie is answered too (state `Z`).
pub(crate) fn bsd_seen(pid: u32) -> Result<Option<crate::model::Seen>, ()> {
    use nix::libc;
    let Ok(raw) = libc::c_int::try_from(pid) else {
        return Ok(None);
    };
    // SAFETY: proc_bsdinfo is plain old data; all zeroes is a valid value.
    let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: `info` is live, writable and `size` bytes long; arg 0 also answers for a zombie.
    let got = unsafe { libc::proc_pidinfo(raw, libc::PROC_PIDTBSDINFO, 0, (&raw mut info).cast(), size) };
    if got != size {
        return match nix::errno::Errno::last() {
            nix::errno::Errno::ESRCH => Ok(None),
            _ => Err(()),
        };
    }
    let state = match info.pbi_status {
        libc::SRUN => 'R',
        libc::SIDL | libc::SSLEEP => 'S',
        libc::SSTOP => 'T',
        libc::SZOMB => 'Z',
        _ => '?',
    };
    Ok(Some(crate::model::Seen { pid, start_ticks: info.pbi_start_tvsec.saturating_mul(1_000_000), state }))
}
