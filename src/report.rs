//! The report of a kill: what happened to each target and to each port. Serialised as the
//! documented `--format json` object of `reaper kill`.

use serde::Serialize;

/// What happened to one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Exited after a graceful signal.
    Exited,
    /// Ended by SIGKILL.
    Killed,
    /// Already gone before it was signalled (or exited on its own).
    Gone,
    /// A signal was refused (EPERM).
    Denied,
    /// Still alive when the sequence ended.
    Survived,
    /// Dry run: would be signalled.
    Planned,
}

impl Outcome {
    /// The name used in JSON and in human output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Exited => "exited",
            Outcome::Killed => "killed",
            Outcome::Gone => "gone",
            Outcome::Denied => "denied",
            Outcome::Survived => "survived",
            Outcome::Planned => "planned",
        }
    }
}

/// One target in the report.
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    /// Process id.
    pub pid: u32,
    /// Parent pid at planning time.
    pub ppid: u32,
    /// Kernel name.
    pub name: String,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Owner's name.
    pub user: String,
    /// What happened.
    pub outcome: Outcome,
    /// Signals sent (or, in a dry run, that would be sent), such as `["SIGTERM", "SIGKILL"]`.
    pub signals: Vec<String>,
    /// Milliseconds from the first signal to the exit, when it exited.
    pub elapsed_ms: Option<u64>,
    /// Whether the selectors matched it (`false`: it is a descendant of a match).
    pub matched: bool,
    /// Something the user must know about how it was signalled, such as a signal the kernel
    /// drops (the init of a PID namespace without a handler for it). Absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Start time in the platform's units: with `pid`, the identity every signal is checked
    /// against.
    #[serde(skip)]
    pub start_ticks: u64,
    /// Real uid of the owner.
    #[serde(skip)]
    pub uid: u32,
}

/// A port selector's end state.
#[derive(Clone, Debug, Serialize)]
pub struct PortReport {
    /// `tcp`, `udp` or `tcp+udp`.
    pub proto: String,
    /// The port (the first of a range).
    pub port: u16,
    /// The last port of a range (equal to `port` for a single port).
    pub last: u16,
    /// Whether nothing holds it any more.
    pub free: bool,
    /// Who still holds it (pids; empty with `free: false` when the holder is not visible).
    pub holders: Vec<u32>,
}

/// The whole result of `reaper kill`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KillReport {
    /// Whether nothing was signalled on purpose.
    pub dry_run: bool,
    /// Every target.
    pub targets: Vec<TargetReport>,
    /// Every port selector, re-read after the sequence.
    pub ports: Vec<PortReport>,
    /// Pids still alive at the end (outcomes `survived` and `denied`).
    pub survivors: Vec<u32>,
    /// Whether SIGINT, SIGTERM or SIGHUP cut the sequence short (every process reaper had
    /// stopped was continued first).
    pub interrupted: bool,
}

impl KillReport {
    /// Whether the end state holds: every target gone, every port free, nothing denied.
    pub fn success(&self) -> bool {
        !self.interrupted
            && self.survivors.is_empty()
            && self.ports.iter().all(|p| p.free)
            && !self.targets.iter().any(|t| matches!(t.outcome, Outcome::Denied | Outcome::Survived))
    }
}
