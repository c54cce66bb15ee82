//! Windows (cross-compiled and clippy-checked here, exercised under Wine; see docs/src/platforms.md's platform
//! table). Processes and sockets come from the shared sysinfo/netstat2 backend (`portable.rs`,
//! which imports this file); this file adds what Unix gets from `unix_common`: signal numbers,
//! users, our own identity, and what a signal means here ([`deliver`]).
//!
//! Windows has no signals. The numbers below are the conventional ones, so that `--signal TERM`
//! and `-9` parse the same everywhere; [`deliver`] gives each its Windows meaning: a graceful
//! close for TERM/INT/BREAK (`WM_CLOSE` to the process's top-level windows, as `taskkill`
//! without `/F` does, and `CTRL_BREAK_EVENT` to a console process group reaper created),
//! `TerminateProcess` for KILL.
//!
//! Users are SIDs, not numbers. A uid here is a 32-bit FNV-1a digest of the SID's text form
//! (`S-1-5-21-...`): stable across runs and processes, good for comparing owners, and mapped
//! back to account names through the local account list.

use crate::model::Process;

/// SIGINT: Ctrl+C.
pub const SIGINT: i32 = 2;
/// SIGKILL: `TerminateProcess`.
pub const SIGKILL: i32 = 9;
/// SIGTERM: a graceful close.
pub const SIGTERM: i32 = 15;

/// SIGSTOP: the kill engine's freeze step (a suspend here).
pub const SIGSTOP: i32 = 19;
/// SIGCONT: resumes what SIGSTOP suspended.
pub const SIGCONT: i32 = 18;

/// SIGBREAK: Ctrl+Break.
pub(crate) const SIGBREAK: i32 = 21;

/// The signals reaper knows on Windows (SIGBREAK is Ctrl+Break, as in the C runtime).
const SIGNALS: [(&str, &str, i32); 6] = [
    ("INT", "SIGINT", SIGINT),
    ("KILL", "SIGKILL", SIGKILL),
    ("TERM", "SIGTERM", SIGTERM),
    ("BREAK", "SIGBREAK", SIGBREAK),
    ("STOP", "SIGSTOP", SIGSTOP),
    ("CONT", "SIGCONT", SIGCONT),
];

/// The conventional name of signal `n` (`SIGTERM`), if reaper knows it here.
pub fn signal_name(n: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|s| s.2 == n).map(|s| s.1)
}

/// The number of the signal named `name` (without the `SIG` prefix, upper case).
pub fn signal_by_name(name: &str) -> Option<i32> {
    SIGNALS.iter().find(|s| s.0 == name).map(|s| s.2)
}

/// FNV-1a, 32 bits.
fn digest(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The uid (SID digest) of a process, or `u32::MAX` when its owner cannot be read, so that an
/// unknown owner is never taken for the caller.
pub(crate) fn uid_of(p: &sysinfo::Process) -> u32 {
    p.user_id().map_or(u32::MAX, |sid| digest(&sid.to_string()))
}

/// Windows has no process groups; the session is the Terminal Services session.
pub(crate) fn group_and_session(_pid: u32, p: &sysinfo::Process) -> (u32, u32) {
    (0, p.session_id().map_or(0, sysinfo::Pid::as_u32))
}

/// The System Idle Process (0) and System (4) are the kernel.
pub(crate) fn is_kernel(pid: u32) -> bool {
    pid == 0 || pid == 4
}

/// Windows does not reparent orphans at all: there is no subreaper.
pub fn is_session_subreaper(_p: &Process) -> bool {
    false
}

/// The account name of `uid` (a SID digest), among the local accounts.
pub fn user_name(uid: u32) -> Option<String> {
    let users = sysinfo::Users::new_with_refreshed_list().ok()?;
    users.iter().find(|u| digest(&u.id().to_string()) == uid).map(|u| u.name().to_string())
}

/// The uid of a user given by account name or by number (a SID digest as printed by reaper).
pub fn uid_by_name(name: &str) -> Option<u32> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name.parse().ok();
    }
    let users = sysinfo::Users::new_with_refreshed_list().ok()?;
    users.iter().find(|u| u.name().eq_ignore_ascii_case(name)).map(|u| digest(&u.id().to_string()))
}

/// The uid (SID digest) of the user running reaper: "the caller" in the safety rules.
pub fn caller_uid() -> u32 {
    crate::sys::read_process(self_pid()).map_or(u32::MAX, |p| p.uid)
}

/// This process's pid.
pub fn self_pid() -> u32 {
    std::process::id()
}

/// The console process groups reaper created (`CREATE_NEW_PROCESS_GROUP`, the guard's
/// commands), by leader pid: only those get `CTRL_BREAK_EVENT`. `GenerateConsoleCtrlEvent`
/// given a pid that does not lead a group of this console does not fail: the event reaches
/// every process attached to the console, reaper and its shell included.
fn groups() -> std::sync::MutexGuard<'static, std::collections::HashSet<u32>> {
    static GROUPS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<u32>>> = std::sync::OnceLock::new();
    GROUPS.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records (`true`) or forgets that `pid` leads a console process group reaper created.
pub(crate) fn own_group(pid: u32, leads: bool) {
    if leads {
        groups().insert(pid);
    } else {
        groups().remove(&pid);
    }
}

/// `EnumWindows` callback: posts `WM_CLOSE` to a visible top-level window of the pid given
/// as `lparam`.
unsafe extern "system" fn close_window(
    hwnd: windows_sys::Win32::Foundation::HWND,
    lparam: windows_sys::Win32::Foundation::LPARAM,
) -> windows_sys::core::BOOL {
    use windows_sys::Win32::UI::WindowsAndMessaging::{
        GetWindowThreadProcessId, IsWindowVisible, PostMessageW, WM_CLOSE,
    };
    let pid = lparam as u32;
    let mut owner = 0u32;
    // SAFETY: `hwnd` comes from the enumeration; `owner` is a live out-parameter.
    unsafe { GetWindowThreadProcessId(hwnd, &mut owner) };
    // SAFETY: as above.
    if owner == pid && unsafe { IsWindowVisible(hwnd) } != 0 {
        // SAFETY: as above; posting does not wait for the window's thread.
        unsafe { PostMessageW(hwnd, WM_CLOSE, 0, 0) };
    }
    1
}

/// Sends `sig` to `pid`, Windows' way: KILL is `TerminateProcess`; TERM, INT and BREAK post
/// `WM_CLOSE` to the process's visible top-level windows and, when reaper created its console
/// process group, generate `CTRL_BREAK_EVENT` for that group. A process with neither (a console
/// program reaper did not start) has no graceful channel that reaches it alone: nothing is sent,
/// and the sequence's next step (KILL) ends it. STOP and CONT do nothing.
pub(crate) fn deliver(pid: u32, sig: i32) -> crate::model::Sent {
    use crate::model::Sent;
    use windows_sys::Win32::Foundation::{CloseHandle, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, GetLastError};
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_TERMINATE, TerminateProcess};
    use windows_sys::Win32::UI::WindowsAndMessaging::EnumWindows;

    match sig {
        SIGSTOP | SIGCONT => Sent::Ok,
        SIGKILL => {
            // SAFETY: plain call; returns a new handle or NULL.
            let h = unsafe { OpenProcess(PROCESS_TERMINATE, 0, pid) };
            if h.is_null() {
                // SAFETY: plain call, right after the failed one.
                return match unsafe { GetLastError() } {
                    ERROR_INVALID_PARAMETER => Sent::Gone,
                    ERROR_ACCESS_DENIED => Sent::Denied,
                    e => Sent::Failed(std::io::Error::from_raw_os_error(e as i32).to_string()),
                };
            }
            // SAFETY: a live handle with PROCESS_TERMINATE, closed right after.
            let (ok, err) = unsafe {
                let ok = TerminateProcess(h, 1) != 0;
                let err = GetLastError();
                CloseHandle(h);
                (ok, err)
            };
            match (ok, err) {
                (true, _) => Sent::Ok,
                (false, ERROR_ACCESS_DENIED) => Sent::Denied,
                (false, e) => Sent::Failed(std::io::Error::from_raw_os_error(e as i32).to_string()),
            }
        }
        _ => {
            // SAFETY: the callback only reads the pid passed by value.
            unsafe { EnumWindows(Some(close_window), pid as isize) };
            if groups().contains(&pid) {
                // SAFETY: plain call; `pid` leads a console group reaper created (see `groups`).
                unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) };
            }
            Sent::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_round_trip() {
        for (name, full, n) in SIGNALS {
            assert_eq!(signal_by_name(name), Some(n));
            assert_eq!(signal_name(n), Some(full));
        }
        assert_eq!(signal_by_name("USR1"), None);
    }
}
