//! The serializable view of a process that `list` prints (table and JSON), with the fields a
//! reader needs to decide what it is: identity, owner, command, ports, place in the tree.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::snapshot::{PortEntry, Snapshot};

/// One process as `reaper list --format json` prints it. The shape is documented in the README
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
}

impl ProcessRecord {
    /// Builds the record for `pid`; the snapshot must hold the process (and, for `ports` and
    /// `children` to be complete, its fd table scanned and every process loaded).
    pub fn new(snap: &mut Snapshot, pid: u32) -> Option<ProcessRecord> {
        let p = snap.process(pid)?.clone();
        let now = snap.taken_at.unwrap_or_else(SystemTime::now);
        Some(ProcessRecord {
            pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            uid: p.uid,
            user: snap.user_name(p.uid),
            name: p.name.clone(),
            exe: p.exe.as_ref().map(|e| e.to_string_lossy().into_owned()),
            cmdline: p.cmdline.clone().unwrap_or_default(),
            start_time: rfc3339(p.start_time),
            age_ms: p.age(now).as_millis(),
            state: p.state.to_string(),
            orphan: snap.is_orphan(pid),
            ports: snap.ports_of(pid),
            children: snap.children(pid),
        })
    }
}

/// Formats a time as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T23:06:22.150Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_millis())
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
}
