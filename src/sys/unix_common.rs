//! What every Unix shares: signal names and numbers (from `nix`, so the numbers are right for
//! each platform), users, our own identity, and a command made ready for `execve` (the guards'
//! spawns: Linux's shim, macOS's session watcher).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::libc::c_char;
use nix::sys::signal::Signal as NixSignal;
use nix::unistd::{Uid, User};

use crate::error::{Error, Result};

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

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::Usage(format!("argument contains a NUL byte: {}", s.to_string_lossy())))
}

/// Finds `program` the way a shell does: as given when it contains `/`, else in `$PATH`.
fn resolve(program: &OsStr) -> Result<PathBuf> {
    let not_found =
        || Error::spawn(program.to_string_lossy(), io::Error::new(io::ErrorKind::NotFound, "command not found"));
    if program.is_empty() {
        return Err(not_found());
    }
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    for dir in std::env::split_paths(&path) {
        let candidate = if dir.as_os_str().is_empty() { Path::new(".").join(program) } else { dir.join(program) };
        if candidate.is_file() && nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok() {
            return Ok(candidate);
        }
    }
    Err(not_found())
}

/// A command made ready for `execve` before any fork (nothing after it may allocate): the
/// program found as a shell finds it, the arguments, and this process's environment.
pub(crate) fn exec_args(argv: &[OsString]) -> Result<(CString, Vec<CString>, Vec<CString>)> {
    let program = argv.first().ok_or_else(|| Error::Usage("no command given".into()))?;
    let path = cstring(resolve(program)?.as_os_str())?;
    let argv: Vec<CString> = argv.iter().map(|a| cstring(a)).collect::<Result<_>>()?;
    let envp: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    Ok((path, argv, envp))
}

/// The NULL-terminated pointer array `execve` takes, into `v` (valid while `v` lives).
pub(crate) fn nul_terminated(v: &[CString]) -> Vec<*const c_char> {
    v.iter().map(|c| c.as_ptr()).chain([std::ptr::null()]).collect()
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
