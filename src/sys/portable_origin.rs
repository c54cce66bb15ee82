//! Provenance records on the sysinfo backend (macOS, Windows, and Linux under the `portable`
//! feature). Read here: the working directory (sysinfo). Not read here: the controlling
//! terminal (sysinfo has none), cgroups and so systemd units and containers (Linux's), engine
//! API sockets. The platform's own service manager is asked in its own file: launchd jobs in
//! `macos_origin.rs`, Windows services in `windows_origin.rs`.

use std::path::PathBuf;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// No controlling terminal is read on this backend.
pub fn read_tty(_pid: u32) -> Option<String> {
    None
}

/// The working directory of `pid`, when sysinfo can read it.
pub fn read_cwd(pid: u32) -> Option<PathBuf> {
    let mut sys = System::new().ok()?;
    let spid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        false,
        ProcessRefreshKind::nothing().with_cwd(UpdateKind::Always),
    );
    sys.process(spid)?.cwd().map(PathBuf::from)
}

/// The text of a regular file of at most `limit` bytes read, or `None` (anything but a regular
/// file is not opened).
pub fn read_regular_file(path: &std::path::Path, limit: u64) -> Option<String> {
    use std::io::Read;
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut text = Vec::new();
    std::fs::File::open(path).ok()?.take(limit).read_to_end(&mut text).ok()?;
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// The uid that owns `path`.
#[cfg(unix)]
pub fn file_owner(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|m| m.uid())
}

/// Files have no uid owner here.
#[cfg(windows)]
pub fn file_owner(_path: &std::path::Path) -> Option<u32> {
    None
}

/// PID namespaces are Linux's: every pid is the one the system knows.
pub fn pid_in_namespace(pid: u32) -> Option<u32> {
    Some(pid)
}

/// systemd is Linux's init: never running here.
pub fn systemd_running() -> bool {
    false
}

/// Containers are Linux's: no engine socket is asked here.
pub fn container_restart_policy(_runtime: &str, _id: &str) -> Option<String> {
    None
}

/// The launchd job (macOS) or Windows service that runs `pid`.
#[cfg(target_os = "macos")]
pub use super::macos_origin::service_of;
#[cfg(windows)]
pub use super::windows_origin::service_of;

/// Linux under the `portable` feature: no launchd, no service control manager.
#[cfg(target_os = "linux")]
pub fn service_of(_pid: u32) -> Option<crate::model::ServiceRecord> {
    None
}
