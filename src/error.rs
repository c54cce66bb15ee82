//! The library's typed errors. The binary wraps them in `anyhow` and maps them to exit codes:
//! every variant that is the caller's fault ([`Error::is_usage`]) exits 2.

use std::io;

/// Everything the engine can report as a failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `--port` value that is not a port, a range or `tcp:`/`udp:` one of them.
    #[error("invalid port '{value}': {reason}")]
    InvalidPort {
        /// The rejected text.
        value: String,
        /// Why.
        reason: String,
    },
    /// A duration such as `5x`.
    #[error(
        "invalid duration '{0}': expected a number of seconds (5, 1.5) or a number followed by ms, s, m or h \
         (500ms, 5s, 2m, 1h); it cannot be negative"
    )]
    InvalidDuration(String),
    /// A signal name or number this platform does not know.
    #[error("unknown signal '{0}': use a name such as TERM, SIGINT, HUP or KILL, or its number")]
    InvalidSignal(String),
    /// A `--sequence` that does not parse.
    #[error("invalid sequence '{value}': {reason}")]
    InvalidSequence {
        /// The rejected text.
        value: String,
        /// Why.
        reason: String,
    },
    /// A regular expression that does not compile.
    #[error("invalid regex '{value}': {reason}")]
    InvalidRegex {
        /// The rejected pattern.
        value: String,
        /// The regex crate's explanation.
        reason: String,
    },
    /// An `--exe` glob that does not compile.
    #[error("invalid glob '{value}': {reason}")]
    InvalidGlob {
        /// The rejected pattern.
        value: String,
        /// Why.
        reason: String,
    },
    /// An `--env` value that is not `NAME` or `NAME=VALUE`.
    #[error("invalid environment selector '{0}': expected NAME or NAME=VALUE with a non-empty NAME")]
    InvalidEnv(String),
    /// A `--cgroup` value that is not an absolute cgroup path.
    #[error("invalid cgroup '{0}': expected an absolute cgroup v2 path such as /system.slice/job.scope")]
    InvalidCgroup(String),
    /// A `--container` value that is not a container id prefix.
    #[error(
        "invalid container '{0}': expected a container id or its first 4 or more hex digits, as `docker ps` shows it"
    )]
    InvalidContainer(String),
    /// A `--started-after`/`--started-before` value that is not a time.
    #[error("invalid time '{value}': {reason}")]
    InvalidTime {
        /// The rejected text.
        value: String,
        /// Why.
        reason: String,
    },
    /// A user name that does not exist.
    #[error("unknown user '{0}'")]
    UnknownUser(String),
    /// A pid that cannot be a process (0, or above the kernel's limit).
    #[error("invalid pid '{0}'")]
    InvalidPid(String),
    /// A request the safety rails refuse, such as `--pid 1`.
    #[error("refusing to signal {what}: {why}")]
    Refused {
        /// What was named.
        what: String,
        /// Which rule forbids it.
        why: String,
    },
    /// A request that makes no sense, such as `kill` with no selector.
    #[error("{0}")]
    Usage(String),
    /// A process that must exist (a watched pid, a `tree` root) does not.
    #[error("no process with pid {0}")]
    NoSuchProcess(u32),
    /// The socket table could not be read.
    #[error("reading the socket table: {0}")]
    Sockets(String),
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error. It is part of the message and deliberately not a `source()`, so that
        /// a chain printer (`{:#}`) names the errno once, not twice.
        source: io::Error,
    },
    /// A command (`reaper run -- CMD`) could not be started: not found (`source` is
    /// `NotFound`), or found but not executable. A shell exits 127 and 126 for these.
    #[error("starting '{program}': {source}")]
    Spawn {
        /// The command as given, or the path it resolved to.
        program: String,
        /// Why it could not start. Part of the message, not a `source()`, as for [`Error::Io`].
        source: io::Error,
    },
    /// `/proc` is not mounted for reaper's PID namespace (`unshare --pid --fork` without
    /// `--mount-proc`): the pids it shows name other processes than the pids reaper signals, so
    /// reaper uses neither (checked before anything is read or signalled).
    #[error(
        "{0}; its pids would name other processes, so reaper neither reads nor signals by them: \
         mount a /proc for this PID namespace (as `unshare --pid --fork --mount-proc` does)"
    )]
    ForeignProc(String),
    /// Something this platform cannot do.
    #[error("not supported on this platform: {0}")]
    Unsupported(String),
}

impl Error {
    /// Whether the error is bad input from the caller (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidPort { .. }
                | Error::InvalidDuration(_)
                | Error::InvalidSignal(_)
                | Error::InvalidSequence { .. }
                | Error::InvalidRegex { .. }
                | Error::InvalidGlob { .. }
                | Error::InvalidEnv(_)
                | Error::InvalidCgroup(_)
                | Error::InvalidContainer(_)
                | Error::InvalidTime { .. }
                | Error::UnknownUser(_)
                | Error::InvalidPid(_)
                | Error::Refused { .. }
                | Error::Usage(_)
                | Error::NoSuchProcess(_)
        )
    }

    /// A command that could not be started, and why.
    pub fn spawn(program: impl Into<String>, source: io::Error) -> Error {
        Error::Spawn { program: program.into(), source }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io { context: context.into(), source }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
