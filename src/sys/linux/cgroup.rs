//! cgroup v2 for `kill --cgroup`: the cgroup2 mount from `/proc/mounts` (never assumed),
//! whether a cgroup is populated (`cgroup.events`, which the kernel also signals with POLLPRI
//! when it changes), and `cgroup.kill` (Linux 5.14+), which SIGKILLs every process in the
//! cgroup and its descendants atomically, forks in flight included.

use std::fs;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;

use super::pidwatch::timespec;

/// Where cgroup2 is mounted (the first `cgroup2` line of `/proc/mounts`).
fn mount() -> Option<PathBuf> {
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let mut f = l.split_ascii_whitespace();
        let (_, dir, kind) = (f.next()?, f.next()?, f.next()?);
        // Spaces in mount points are written \040.
        (kind == "cgroup2").then(|| PathBuf::from(dir.replace("\\040", " ")))
    })
}

/// `populated` from a `cgroup.events` text.
fn populated(text: &[u8]) -> Option<bool> {
    std::str::from_utf8(text).ok()?.lines().find_map(|l| match l.strip_prefix("populated ")?.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    })
}

/// Finishes cgroup `path` (absolute, as `/proc/PID/cgroup` shows it): when `kill` is set and
/// processes are left, writes `cgroup.kill`; then waits up to `timeout` for the cgroup to
/// empty. Returns whether `cgroup.kill` was written, and whether the cgroup is empty at the end
/// (`None`: its `cgroup.events` could not be read, e.g. no cgroup2 mount or no such cgroup).
pub fn finish_cgroup(path: &str, kill: bool, timeout: Duration) -> (bool, Option<bool>) {
    let Some(dir) = mount().map(|m| m.join(path.trim_start_matches('/'))) else {
        return (false, None);
    };
    let Ok(events) = fs::File::open(dir.join("cgroup.events")) else {
        return (false, None);
    };
    let read = || {
        let mut buf = [0u8; 256];
        rustix::io::pread(&events, &mut buf, 0).ok().and_then(|n| populated(&buf[..n]))
    };
    let Some(mut full) = read() else {
        return (false, None);
    };
    let killed = full && kill && fs::write(dir.join("cgroup.kill"), b"1").is_ok();
    let deadline = Instant::now() + timeout;
    while full {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        // The kernel notifies a change of cgroup.events with POLLPRI (kernfs_notify).
        let mut fds = [PollFd::from_borrowed_fd(events.as_fd(), PollFlags::PRI)];
        match poll(&mut fds, Some(&timespec(left))) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => break,
        }
        match read() {
            Some(f) => full = f,
            None => return (killed, None),
        }
    }
    (killed, Some(!full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populated_is_read_from_cgroup_events() {
        assert_eq!(populated(b"populated 1\nfrozen 0\n"), Some(true));
        assert_eq!(populated(b"populated 0\nfrozen 0\n"), Some(false));
        assert_eq!(populated(b"frozen 0\n"), None);
    }
}
