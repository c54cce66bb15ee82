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
    let mut reply = Vec::new();
    stream.take(4 << 20).read_to_end(&mut reply).ok()?;
    // Bytes, not text: an answer that is not UTF-8 where HTTP and JSON need it is no answer.
    let split = reply.windows(4).position(|w| w == b"\r\n\r\n")?;
    let (head, json) = (reply.get(..split)?, reply.get(split + 4..)?);
    let status = head.split(|&b| b == b'\r' || b == b'\n').next()?;
    if !status.starts_with(b"HTTP/1.") || status.split(|&b| b == b' ').nth(1) != Some(b"200".as_slice()) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
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

    /// A container engine's API socket of the test's own, in a temp dir: it takes one
    /// connection, reads the request, answers `reply` (nothing when `None`) and closes.
    /// Returns the socket's path and what the engine was asked.
    struct Engine {
        dir: PathBuf,
        server: Option<std::thread::JoinHandle<String>>,
    }

    impl Engine {
        fn serve(tag: &str, reply: Option<&'static [u8]>) -> Engine {
            let dir = std::env::temp_dir().join(format!("reaper-engine-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let listener = std::os::unix::net::UnixListener::bind(dir.join("engine.sock")).unwrap();
            let server = std::thread::spawn(move || {
                let (mut conn, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 512];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                match reply {
                    Some(r) => {
                        let _ = conn.write_all(r);
                    }
                    // Say nothing until the client gives up and closes.
                    None => while conn.read(&mut buf).is_ok_and(|n| n > 0) {},
                }
                String::from_utf8_lossy(&request).into_owned()
            });
            Engine { dir, server: Some(server) }
        }

        fn socket(&self) -> PathBuf {
            self.dir.join("engine.sock")
        }

        /// What the engine was asked.
        fn request(mut self) -> String {
            self.server.take().map(|s| s.join().unwrap()).unwrap_or_default()
        }
    }

    impl Drop for Engine {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    const ID: &str = "4f3c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e";

    #[test]
    fn a_restart_policy_is_read_from_the_engines_answer() {
        let e = Engine::serve(
            "always",
            Some(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Id\":\"x\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":0}}}"),
        );
        assert_eq!(restart_policy_at(&e.socket(), ID).as_deref(), Some("always"));
        let request = e.request();
        assert!(request.starts_with(&format!("GET /containers/{ID}/json HTTP/1.0\r\n")), "{request}");
        // Docker writes an empty name for a container started without a policy: `no`.
        let e = Engine::serve(
            "empty",
            Some(b"HTTP/1.1 200 OK\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"\"}}}"),
        );
        assert_eq!(restart_policy_at(&e.socket(), ID).as_deref(), Some("no"));
    }

    #[test]
    fn a_garbled_or_missing_answer_is_no_policy() {
        let answers: [(&str, &'static [u8]); 9] = [
            ("notfound", b"HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"No such container\"}"),
            ("notjson", b"HTTP/1.0 200 OK\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"alw"),
            ("nopolicy", b"HTTP/1.0 200 OK\r\n\r\n{\"HostConfig\":{}}"),
            ("notastring", b"HTTP/1.0 200 OK\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":7}}}"),
            ("nohead", b"{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\"}}}"),
            ("nobody", b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n"),
            ("nothttp", b"SSH-2.0-OpenSSH_9.6\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\"}}}"),
            // Bytes that are not UTF-8, in the status line and in the JSON.
            ("binary", b"HTTP/1.0 2\xff0 OK\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\"}}}"),
            (
                "binaryjson",
                b"HTTP/1.0 200 OK\r\n\r\n{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"alw\xfe\xffays\"}}}",
            ),
        ];
        for (tag, answer) in answers {
            let e = Engine::serve(tag, Some(answer));
            assert_eq!(restart_policy_at(&e.socket(), ID), None, "{tag}");
            drop(e.request());
        }
        // An engine that accepts and says nothing: the read times out.
        let e = Engine::serve("silent", None);
        assert_eq!(restart_policy_at(&e.socket(), ID), None);
        drop(e.request());
        // An engine that answers nothing at all and closes.
        let e = Engine::serve("closes", Some(b""));
        assert_eq!(restart_policy_at(&e.socket(), ID), None);
        drop(e.request());
    }

    #[test]
    fn a_closed_or_absent_socket_is_no_policy() {
        let dir = std::env::temp_dir().join(format!("reaper-engine-closed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("engine.sock");
        // The socket file stays, nothing listens on it any more: the connect is refused.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        assert_eq!(restart_policy_at(&path, ID), None);
        // A regular file, and no file at all.
        std::fs::write(dir.join("file"), b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        assert_eq!(restart_policy_at(&dir.join("file"), ID), None);
        assert_eq!(restart_policy_at(&dir.join("missing"), ID), None);
        let _ = std::fs::remove_dir_all(&dir);
        // An id that is not hex is never put into a request.
        assert_eq!(container_restart_policy("docker", "../../version"), None);
        assert_eq!(container_restart_policy("containerd", ID), None);
    }
}
