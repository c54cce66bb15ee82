//! The serializable view of a process that `list` prints (table and JSON), with the fields a
//! reader needs to decide what it is: identity, owner, command, ports, place in the tree.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::container::Container;
use crate::snapshot::{PortEntry, Snapshot};

/// One process as `reaper list --format json` prints it. The shape is documented in docs/src/exit-codes-json.md
/// and only grows.
#[derive(Clone, Debug, Serialize)]
pub struct ProcessRecord {
    /// Process id.
    pub pid: u32,
    /// Parent pid.
    pub ppid: u32,
    /// Process group.
    pub pgid: u32,
    /// Session.
    pub sid: u32,
    /// Real uid.
    pub uid: u32,
    /// User name (or the uid when it has none).
    pub user: String,
    /// Kernel name.
    pub name: String,
    /// Executable path, when readable.
    pub exe: Option<String>,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Start time, RFC 3339 UTC with milliseconds.
    pub start_time: String,
    /// Age in milliseconds at the time of the snapshot.
    pub age_ms: u128,
    /// One-letter state.
    pub state: String,
    /// Whether the process is an orphan (see `Snapshot::is_orphan`).
    pub orphan: bool,
    /// Ports it holds.
    pub ports: Vec<PortEntry>,
    /// Pids of its children.
    pub children: Vec<u32>,
    /// The container it runs in (from its cgroup path), `null` when none.
    pub container: Option<Container>,
    /// Where it comes from, who starts it again and how to stop it ([`crate::origin`]): filled
    /// by [`ProcessRecord::with_origin`] (`list --format json` does), absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::origin::Origin>,
}

impl ProcessRecord {
    /// Builds the record for `pid`; the snapshot must hold the process (and, for `ports` and
    /// `children` to be complete, its fd table scanned and every process loaded).
    pub fn new(snap: &mut Snapshot, pid: u32) -> Option<ProcessRecord> {
        let p = snap.process(pid)?.clone();
        let now = snap.taken_at.unwrap_or_else(SystemTime::now);
        // What the snapshot knows beyond the process itself, then the process's own fields
        // (JSON keeps the order of the struct above, not of this literal).
        let (user, orphan, ports, children) =
            (snap.user_name(p.uid), snap.is_orphan(pid), snap.ports_of(pid), snap.children(pid));
        Some(ProcessRecord {
            user,
            orphan,
            ports,
            children,
            container: Container::of_pid(pid),
            origin: None,
            start_time: rfc3339(p.start_time),
            age_ms: p.age(now).as_millis(),
            exe: p.exe.as_ref().map(|e| e.to_string_lossy().into_owned()),
            cmdline: p.cmdline.unwrap_or_default(),
            state: p.state.to_string(),
            name: p.name,
            pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            uid: p.uid,
        })
    }
}

impl ProcessRecord {
    /// The record with its [`crate::origin::Origin`] read (the process, its ancestors and the
    /// records named there).
    pub fn with_origin(mut self, snap: &mut Snapshot) -> ProcessRecord {
        self.origin = crate::origin::explain(snap, self.pid);
        self
    }
}

/// Formats a time as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T23:06:22.150Z`, through
/// humantime. A time before 1970 (a clock set back) is shown as the epoch, and one past the
/// year 9999 (which RFC 3339 cannot write) as its last millisecond, instead of panicking.
pub fn rfc3339(t: SystemTime) -> String {
    let last = UNIX_EPOCH + std::time::Duration::from_millis(253_402_300_799_999);
    humantime::format_rfc3339_millis(t.clamp(UNIX_EPOCH, last)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_250)), "2000-02-29T00:00:00.250Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_302_382)), "2026-11-21T23:06:22.000Z");
    }

    // humantime panics on a time before 1970 and fails past 9999: both are clamped.
    #[test]
    fn rfc3339_out_of_range_times_do_not_panic() {
        assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_secs(5)), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(300_000_000_000)), "9999-12-31T23:59:59.999Z");
    }
}
