//! What every Unix shares: signal names and numbers (from `nix`, so the numbers are right for
//! each platform), users and our own identity. Starting a command from a forked child (the
//! guards' spawns) is in `unix_exec`.

use nix::sys::signal::Signal as NixSignal;
use nix::unistd::{Uid, User};

pub use nix::libc::{SIGCONT, SIGINT, SIGKILL, SIGSTOP, SIGTERM};

/// The conventional name of signal `n`, if this platform has it.
pub fn signal_name(n: i32) -> Option<&'static str> {
    NixSignal::try_from(n).ok().map(NixSignal::as_str)
}

/// The number of the signal named `name` (without the `SIG` prefix, upper case).
pub fn signal_by_name(name: &str) -> Option<i32> {
    if name.is_empty() {
        return None;
    }
    format!("SIG{name}").parse::<NixSignal>().ok().map(|s| s as i32)
}

/// The login name of `uid`.
pub fn user_name(uid: u32) -> Option<String> {
    User::from_uid(Uid::from_raw(uid)).ok().flatten().map(|u| u.name)
}

/// The uid of a user given by name or number.
pub fn uid_by_name(name: &str) -> Option<u32> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        return name.parse().ok();
    }
    User::from_name(name).ok().flatten().map(|u| u.uid.as_raw())
}

/// The real uid of this process: "the caller" in the safety rules.
pub fn caller_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// This process's pid.
pub fn self_pid() -> u32 {
    std::process::id()
}

/// Process group and session of `pid` (0 when they cannot be read): for the sysinfo backend,
/// which has neither.
#[cfg(any(target_os = "macos", feature = "portable"))]
pub(crate) fn group_and_session(pid: u32) -> (u32, u32) {
    use nix::unistd::{Pid, getpgid, getsid};
    let Ok(raw) = i32::try_from(pid) else {
        return (0, 0);
    };
    let id = |r: nix::Result<Pid>| r.ok().and_then(|p| u32::try_from(p.as_raw()).ok()).unwrap_or(0);
    (id(getpgid(Some(Pid::from_raw(raw)))), id(getsid(Some(Pid::from_raw(raw)))))
}
