//! What Linux records about where a process comes from, beyond its parent and its cgroup (read
//! in `proc.rs`): its controlling terminal and working directory from `/proc/PID`, whether
//! systemd is the running init (`/run/systemd/system`, as `sd_booted(3)` checks), and a
//! container's restart policy from the engine's API socket (Docker's, then Podman's), when one
//! answers.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::proc::{PidPath, proc_dir, with_proc_file};
use crate::model::ServiceRecord;

/// The controlling terminal of `pid` (`pts/3`, `tty1`), from `tty_nr` in `/proc/PID/stat`;
/// `None` without one (daemons, services) or when it is gone.
pub fn read_tty(pid: u32) -> Option<String> {
    let nr = with_proc_file(pid, b"stat", |buf| {
        let close = buf.iter().rposition(|&b| b == b')')?;
        let rest = std::str::from_utf8(buf.get(close + 1..)?).ok()?;
        // state ppid pgrp session tty_nr
        rest.split_ascii_whitespace().nth(4)?.parse::<i64>().ok()
    })?;
    tty_name(u64::try_from(nr).ok()?)
}

/// The name of the terminal device `nr` (the kernel's `new_encode_dev` form).
fn tty_name(nr: u64) -> Option<String> {
    if nr == 0 {
        return None;
    }
    let major = (nr >> 8) & 0xfff;
    let minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        _ => format!("tty({major}:{minor})"),
    })
}

/// The pid of `pid` in its own (innermost) PID namespace, from `NSpid` in `/proc/PID/status`:
/// 1 for a container's main process.
pub fn pid_in_namespace(pid: u32) -> Option<u32> {
    with_proc_file(pid, b"status", |buf| {
        let text = std::str::from_utf8(buf).ok()?;
        let line = text.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
        line.split_whitespace().last()?.parse().ok()
    })
}

/// The working directory of `pid` (unreadable for other users' processes when not root).
pub fn read_cwd(pid: u32) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let dir = proc_dir().ok()?;
    let target = rustix::fs::readlinkat(dir, PidPath::new(pid, b"cwd").as_cstr(), Vec::new()).ok()?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&target.into_bytes())))
}

/// The text of a regular file of at most `limit` bytes read (a configuration, a pid file), or
/// `None`. Opened non-blocking and checked to be a regular file before any read: a path a
/// process chose (a supervisor's `-c`) can name a FIFO or a device, which must not hang reaper.
pub fn read_regular_file(path: &Path, limit: u64) -> Option<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32 | rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = Vec::new();
    file.take(limit).read_to_end(&mut text).ok()?;
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// The uid that owns `path` (a tmux socket), without following it if it is a link.
pub fn file_owner(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).ok().map(|m| m.uid())
}

/// Whether systemd is the init that runs this machine's services.
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// How long an engine's API socket may take to answer.
const API_TIMEOUT: Duration = Duration::from_millis(300);

/// The restart policy of container `id` as its engine's API answers (`always`, `on-failure`,
/// `unless-stopped`, `no`): Docker's socket for `docker`, Podman's (its Docker-compatible API)
/// for `podman`. `None` when no socket answers within a short time.
pub fn container_restart_policy(runtime: &str, id: &str) -> Option<String> {
    let sockets: &[&str] = match runtime {
        "docker" => &["/var/run/docker.sock", "/run/docker.sock"],
        "podman" => &["/run/podman/podman.sock"],
        _ => &[],
    };
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    sockets.iter().find_map(|s| restart_policy_at(Path::new(s), id))
}

/// `GET /containers/ID/json` over one API socket; the `RestartPolicy` `Name`.
fn restart_policy_at(socket: &Path, id: &str) -> Option<String> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(API_TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(API_TIMEOUT)).ok()?;
    let request = format!("GET /containers/{id}/json HTTP/1.0\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut body = Vec::new();
    stream.take(4 << 20).read_to_end(&mut body).ok()?;
    let text = String::from_utf8_lossy(&body);
    let (head, json) = text.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1).is_none_or(|c| c != "200") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let name = value.pointer("/HostConfig/RestartPolicy/Name")?.as_str()?;
    Some(if name.is_empty() { "no".to_string() } else { name.to_string() })
}

/// The services of other platforms' service managers (launchd, the Windows service control
/// manager): Linux's are systemd units, named by the cgroup.
pub fn service_of(_pid: u32) -> Option<ServiceRecord> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_numbers_name_their_devices() {
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name((136 << 8) | 3).as_deref(), Some("pts/3"));
        assert_eq!(tty_name((4 << 8) | 1).as_deref(), Some("tty1"));
        assert_eq!(tty_name((4 << 8) | 64).as_deref(), Some("ttyS0"));
        // pts/300: minor 44 of major 137
        assert_eq!(tty_name((137 << 8) | 44).as_deref(), Some("pts/300"));
    }

    #[test]
    fn our_own_directory_reads() {
        assert_eq!(read_cwd(std::process::id()), std::env::current_dir().ok());
    }
}
