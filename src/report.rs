//! The report of a kill: what happened to each target and to each port. Serialised as the
//! documented `--format json` object of `reaper kill`.

use serde::Serialize;

pub use crate::ports::PortState;

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
    /// Whether this outcome fails the kill: the target was left running. Every outcome says
    /// which it is: a new one does not compile until it does.
    fn fails(self) -> bool {
        match self {
            Outcome::Denied | Outcome::Survived => true,
            Outcome::Exited | Outcome::Killed | Outcome::Gone | Outcome::Planned => false,
        }
    }

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
    /// Where it comes from and who starts it again ([`crate::origin`]), for a matched target;
    /// absent for descendants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::origin::Origin>,
    /// Start time in the platform's units: with `pid`, the identity every signal is checked
    /// against.
    #[serde(skip)]
    pub start_ticks: u64,
    /// Real uid of the owner.
    #[serde(skip)]
    pub uid: u32,
}

/// A process the plan leaves alone, and why. Every one is reported (table, `-q`, JSON): a
/// match that is not signalled never just vanishes.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Process id.
    pub pid: u32,
    /// Kernel name.
    pub name: String,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Owner's name.
    pub user: String,
    /// Which rule protects it.
    #[serde(rename = "reason")]
    pub why: String,
    /// The option that would include it (`--all-users`), when one would. A skipped process
    /// that a flag could include and that still runs at the end makes `kill` exit 1.
    pub flag: Option<String>,
    /// Whether a selector matched it (`false`: a descendant of a match).
    pub matched: bool,
    /// Whether it still ran when the kill ended (set by the report; `true` in a plan).
    pub running: bool,
    /// What to run instead, when there is a better way to stop what it serves: a container
    /// runtime's port proxy names the container's stop command (`docker stop 1a2b3c4d5e6f`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// Start time: with `pid`, its identity.
    #[serde(skip)]
    pub start_ticks: u64,
}

/// A live process that started a target and is not one itself (PM2, supervisord, a shell
/// loop, a node cluster primary): it may start the target again once it is gone.
#[derive(Clone, Debug, Serialize)]
pub struct Supervisor {
    /// Process id.
    pub pid: u32,
    /// Kernel name.
    pub name: String,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// The targets it started.
    pub children: Vec<u32>,
}

/// The whole result of `reaper kill`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KillReport {
    /// Whether nothing was signalled on purpose.
    pub dry_run: bool,
    /// Every target.
    pub targets: Vec<TargetReport>,
    /// Matches (and descendants) that were not signalled, each with its reason.
    pub skipped: Vec<Skipped>,
    /// Every port selector, re-read after the sequence ([`crate::ports::survey`]).
    pub ports: Vec<PortState>,
    /// Whether TIME_WAIT on a port counts as held (`--strict`).
    #[serde(skip)]
    pub strict: bool,
    /// Live parents of targets that were not targets: they may start them again (a port they
    /// took again during the settle time is in `ports[].retaken`).
    pub supervisors: Vec<Supervisor>,
    /// Pids still alive at the end (outcomes `survived` and `denied`).
    pub survivors: Vec<u32>,
    /// Whether SIGINT, SIGTERM or SIGHUP cut the sequence short (every process reaper had
    /// stopped was continued first).
    pub interrupted: bool,
    /// Every `--cgroup` selector, looked at after the sequence.
    pub cgroups: Vec<CgroupState>,
}

/// A `--cgroup` after `kill`'s sequence.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CgroupState {
    /// The cgroup v2 path, as given.
    pub path: String,
    /// Whether reaper finished it with `cgroup.kill` (SIGKILL to everything left in it).
    pub cgroup_kill: bool,
    /// Whether no process is left in it or below it; `null` when that could not be read (no
    /// cgroup2 mount, no such cgroup, not Linux).
    pub empty: Option<bool>,
}

impl KillReport {
    /// Whether the end state holds: every target gone, nothing denied, no match that a flag
    /// could have included still running, and every selected port usable (free, or with
    /// `strict` off only TIME_WAIT left) and not taken again during the settle time.
    pub fn success(&self) -> bool {
        !self.interrupted
            && self.survivors.is_empty()
            && self.cgroups.iter().all(|c| c.empty != Some(false))
            && self.ports.iter().all(|p| p.usable(self.strict) && p.retaken.is_none())
            && !self.targets.iter().any(|t| t.outcome.fails())
            && !self.skipped.iter().any(Skipped::blocks)
    }
}

impl Skipped {
    /// Whether this skip fails the kill: a process a flag would have included still runs.
    pub fn blocks(&self) -> bool {
        self.flag.is_some() && self.running
    }
}
