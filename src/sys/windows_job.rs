//! Windows: the kill's process handles and Job Object (cross-compiled and clippy-checked here,
//! run under Wine by `tests/wine/tree.sh`). Every target of a kill is pinned by a handle
//! ([`Pinned`]: a pid cannot be given to another process while a handle is open, and the
//! creation time is checked once, so a stale parent pid never names a newer process) and
//! assigned to the kill's [`KillJob`], so whatever it spawns from then on is in the job; the KILL
//! step ends the job. Also what `portable.rs` asks of one process without a snapshot of all of
//! them ([`fresh_start`], [`has_exited`]), and every process's creation time in one read
//! ([`creation_times`]).
//!
//! The start ticks of a Windows process are its creation time whole, as Windows records it: a
//! `FILETIME`, 100 ns intervals since 1601-01-01 (at the resolution of the system clock's tick).
//! sysinfo gives whole seconds only; compared to the second, a pid that another process took
//! within the same second would pass for the process the plan read. The whole time comes from a
//! handle (`GetProcessTimes`) or from the system's process list ([`creation_times`]).

use std::collections::HashMap;

/// 100 ns intervals from 1601-01-01 (Windows' epoch) to 1970-01-01.
const UNIX_EPOCH_FILETIME: u64 = 116_444_736_000_000_000;
/// 100 ns intervals in a second.
const PER_SECOND: u64 = 10_000_000;

/// A process's creation and exit times through a handle to it, as `FILETIME`s (the exit time
/// is 0 until it has exited).
fn process_times(h: windows_sys::Win32::Foundation::HANDLE) -> Option<(u64, u64)> {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::GetProcessTimes;
    let zero = FILETIME { dwLowDateTime: 0, dwHighDateTime: 0 };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: a live handle with query access; four live out-parameters.
    if unsafe { GetProcessTimes(h, &mut created, &mut exited, &mut kernel, &mut user) } == 0 {
        return None;
    }
    let whole = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    Some((whole(created), whole(exited)))
}

/// A process's creation time through a handle to it: the start ticks (see the module docs).
fn creation_ticks(h: windows_sys::Win32::Foundation::HANDLE) -> Option<u64> {
    process_times(h).map(|(created, _)| created)
}

/// Whether the process behind a handle has exited. Its handle is signalled then; but Wine
/// also signals the handle of a process that is still being created (it has no thread yet, and
/// Wine's wineserver signals a process without running threads), which then runs: there it has
/// no exit time yet. (Windows signals a process handle only at its exit, when the exit time is
/// set.)
fn ended(h: windows_sys::Win32::Foundation::HANDLE) -> bool {
    super::windows_guard::is_signalled(h) && process_times(h).is_none_or(|(_, exited)| exited != 0)
}

/// The whole seconds since the Unix epoch of start ticks: what sysinfo's `start_time` says of
/// the same process.
pub(crate) fn ticks_to_secs(ticks: u64) -> u64 {
    ticks.saturating_sub(UNIX_EPOCH_FILETIME) / PER_SECOND
}

/// Start ticks from sysinfo's whole seconds, for a process whose whole creation time could not
/// be read (it never equals a whole time read later unless that fell on the second: a pin then
/// fails as gone, never the other way).
pub(crate) fn secs_to_ticks(secs: u64) -> u64 {
    secs.saturating_mul(PER_SECOND).saturating_add(UNIX_EPOCH_FILETIME)
}

/// Wall-clock time of start ticks.
pub(crate) fn ticks_to_time(ticks: u64) -> std::time::SystemTime {
    let since_epoch = ticks.saturating_sub(UNIX_EPOCH_FILETIME);
    std::time::UNIX_EPOCH + std::time::Duration::new(since_epoch / PER_SECOND, (since_epoch % PER_SECOND * 100) as u32)
}

/// Every process's creation time (start ticks) by pid, in one read of the system's process list
/// (`NtQuerySystemInformation(SystemProcessInformation)`, what Task Manager reads): the whole
/// times sysinfo's snapshot rounds to the second. `None` when the call fails.
pub(crate) fn creation_times() -> Option<HashMap<u32, u64>> {
    use windows_sys::Wdk::System::SystemInformation::{NtQuerySystemInformation, SystemProcessInformation};
    use windows_sys::Win32::Foundation::STATUS_INFO_LENGTH_MISMATCH;
    use windows_sys::Win32::System::WindowsProgramming::SYSTEM_PROCESS_INFORMATION;
    const ENTRY: usize = size_of::<SYSTEM_PROCESS_INFORMATION>();
    // u64s: the entries' alignment (8) whatever the allocator gives bytes.
    let mut buf: Vec<u64> = vec![0; 64 * 1024];
    for _ in 0..8 {
        let size = u32::try_from(buf.len() * 8).ok()?;
        let mut needed = 0u32;
        // SAFETY: `buf` is live, writable and `size` bytes long; `needed` is a live out-parameter.
        let status =
            unsafe { NtQuerySystemInformation(SystemProcessInformation, buf.as_mut_ptr().cast(), size, &mut needed) };
        if status == STATUS_INFO_LENGTH_MISMATCH {
            // Processes come and go between two calls: some room to spare.
            buf = vec![0; (needed as usize / 8 + 8 * 1024).max(buf.len() * 2)];
            continue;
        }
        if status < 0 {
            return None;
        }
        let len = (needed as usize).min(buf.len() * 8);
        let base = buf.as_ptr().cast::<u8>();
        let mut out = HashMap::new();
        let mut at = 0usize;
        while at + ENTRY <= len {
            // SAFETY: `at + ENTRY` bytes of `buf` are in bounds (checked above); the call wrote
            // an entry there (the first, or one a previous entry's `NextEntryOffset` names).
            let e = unsafe { std::ptr::read_unaligned(base.add(at).cast::<SYSTEM_PROCESS_INFORMATION>()) };
            // `Reserved1` is WorkingSetPrivateSize (8 bytes), HardFaultCount (4),
            // NumberOfThreadsHighWatermark (4), CycleTime (8), then CreateTime (8).
            let mut created = [0u8; 8];
            created.copy_from_slice(&e.Reserved1[24..32]);
            let pid = e.UniqueProcessId as usize as u32;
            let created = u64::from_le_bytes(created);
            // The idle process (pid 0) has no creation time.
            if pid != 0 && created != 0 {
                out.insert(pid, created);
            }
            if e.NextEntryOffset == 0 {
                break;
            }
            at += e.NextEntryOffset as usize;
        }
        return Some(out);
    }
    None
}

/// Opens `pid` with `access`: `Err(Gone)` when there is no such process.
fn open_process(pid: u32, access: u32) -> Result<std::os::windows::io::OwnedHandle, crate::model::Unpinned> {
    use crate::model::Unpinned;
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, GetLastError};
    use windows_sys::Win32::System::Threading::OpenProcess;
    // SAFETY: plain call; returns a new handle or NULL.
    let h = unsafe { OpenProcess(access, 0, pid) };
    super::windows_guard::owned(h).ok_or_else(|| {
        // SAFETY: plain call, right after the failed one.
        match unsafe { GetLastError() } {
            ERROR_INVALID_PARAMETER => Unpinned::Gone,
            ERROR_ACCESS_DENIED => Unpinned::Denied,
            e => Unpinned::Failed(std::io::Error::from_raw_os_error(e as i32).to_string()),
        }
    })
}

/// The start ticks of `pid` (its whole creation time) read through a handle now (no snapshot
/// of every process).
pub(crate) fn fresh_start(pid: u32) -> Option<u64> {
    use windows_sys::Win32::System::Threading::PROCESS_QUERY_LIMITED_INFORMATION;
    let h = open_process(pid, PROCESS_QUERY_LIMITED_INFORMATION).ok()?;
    creation_ticks(super::windows_guard::raw(&h))
}

/// Whether `pid` names a process that has exited but is still held open by someone (a
/// handle keeps an exited process's pid and record, like a Unix zombie).
pub(crate) fn has_exited(pid: u32) -> bool {
    use windows_sys::Win32::System::Threading::{PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE};
    open_process(pid, PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION)
        .is_ok_and(|h| ended(super::windows_guard::raw(&h)))
}

/// A process pinned for the kill: a handle (its pid cannot be given to another process while
/// it is open) checked against the start time the plan read.
#[derive(Debug)]
pub struct Pinned(std::os::windows::io::OwnedHandle);

impl Pinned {
    /// Pins `pid` if it is still the process that started at `start_ticks` (its whole creation
    /// time: see the module docs) and runs.
    pub(crate) fn open(pid: u32, start_ticks: u64) -> Result<Pinned, crate::model::Unpinned> {
        use crate::model::Unpinned;
        use windows_sys::Win32::System::Threading::{
            PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SET_QUOTA, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
        };
        let full = PROCESS_TERMINATE | PROCESS_SET_QUOTA | PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION;
        let h = match open_process(pid, full) {
            // Not ours to end (another user's, a protected process): still pinned for waiting,
            // and `TerminateProcess` then says it is denied.
            Err(Unpinned::Denied) => open_process(pid, PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION)?,
            other => other?,
        };
        let raw = super::windows_guard::raw(&h);
        if creation_ticks(raw) != Some(start_ticks) || ended(raw) {
            return Err(Unpinned::Gone);
        }
        Ok(Pinned(h))
    }

    /// Whether the process has exited.
    pub(crate) fn exited(&self) -> bool {
        ended(super::windows_guard::raw(&self.0))
    }

    fn raw(&self) -> windows_sys::Win32::Foundation::HANDLE {
        super::windows_guard::raw(&self.0)
    }
}

/// The kill's Job Object: every pinned target is assigned to it, so every process a target
/// creates from then on is in it too (a child inherits its parent's job), whatever its parent
/// pid says later. The KILL step ends the job with `TerminateJobObject` (every member, the ones
/// reaper has not seen yet included), and the job's accounting tells when none is left.
///
/// Nested jobs exist since Windows 8: a process already in another job (a CI runner's, a
/// terminal's) is assigned to this one as a child job of its own. The assignment is refused
/// (`ERROR_ACCESS_DENIED`) on Windows 7 for a process already in a job, and anywhere when
/// reaper may not set quotas on the process; such a target is still ended by `TerminateProcess`,
/// and its children by the tree walk (parent pid and creation time), without the job's
/// guarantee. A process created with `CREATE_BREAKAWAY_FROM_JOB` in a job that allows breakaway,
/// or created through WMI (by another process), is not in the job.
#[derive(Debug)]
pub struct KillJob {
    job: std::os::windows::io::OwnedHandle,
    /// `TerminateJobObject` was called.
    terminated: bool,
}

impl KillJob {
    /// A new, empty job (no limits: no breakaway allowed, nothing ended when it is closed).
    pub(crate) fn new() -> Option<KillJob> {
        use windows_sys::Win32::System::JobObjects::CreateJobObjectW;
        // SAFETY: no attributes, no name; returns a new handle or NULL.
        let job = super::windows_guard::owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
        Some(KillJob { job, terminated: false })
    }

    /// Assigns a pinned process; `false` when Windows refuses (see the type's documentation).
    pub(crate) fn assign(&self, p: &Pinned) -> bool {
        use windows_sys::Win32::System::JobObjects::AssignProcessToJobObject;
        // SAFETY: two live handles.
        unsafe { AssignProcessToJobObject(super::windows_guard::raw(&self.job), p.raw()) != 0 }
    }

    /// Ends every process of the job: each time it is called, since processes assigned after
    /// an earlier call (found later) are members it did not end.
    pub(crate) fn terminate(&mut self) {
        use windows_sys::Win32::System::JobObjects::TerminateJobObject;
        // SAFETY: a live job handle.
        unsafe { TerminateJobObject(super::windows_guard::raw(&self.job), 1) };
        self.terminated = true;
    }

    /// Whether the job was ended and none of its processes runs any more.
    pub(crate) fn emptied(&self) -> bool {
        self.terminated && super::windows_guard::job_active(&self.job).is_ok_and(|n| n == 0)
    }

    /// The pids of the job's processes (those reaper assigned and every one they created).
    pub(crate) fn members(&self) -> Vec<u32> {
        super::windows_guard::job_pids(&self.job).unwrap_or_default()
    }
}

/// `TerminateProcess` on a pinned process.
pub(crate) fn terminate(p: &Pinned) -> crate::model::Sent {
    use crate::model::Sent;
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, GetLastError};
    use windows_sys::Win32::System::Threading::TerminateProcess;
    if p.exited() {
        return Sent::Gone;
    }
    // SAFETY: a live handle.
    let (ok, err) = unsafe { (TerminateProcess(p.raw(), 1) != 0, GetLastError()) };
    match (ok, err) {
        (true, _) => Sent::Ok,
        // Already exiting (the job's end got there first).
        (false, _) if p.exited() => Sent::Ok,
        (false, ERROR_ACCESS_DENIED) => Sent::Denied,
        (false, e) => Sent::Failed(std::io::Error::from_raw_os_error(e as i32).to_string()),
    }
}
