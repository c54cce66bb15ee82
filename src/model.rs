//! The plain data every layer shares: processes, sockets and their states, protocols, what an
//! fd-table scan found, and the results of the OS calls the kill engine and the guard make.
//!
//! This module imports nothing of reaper's: the platform layer (`sys`) fills these
//! types, and the snapshot, selection, plan, kill engine, guard and output read them, so no
//! layer needs to import another one backwards. The old paths (`reaper::snapshot::Process`,
//! `reaper::spec::Proto`, `reaper::kill::Sent`, `reaper::guard::Status`, ...) re-export them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// One process (a thread-group leader; threads and kernel threads are never listed).
#[derive(Clone, Debug)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent process id (0 for the roots).
    pub ppid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Session id.
    pub sid: u32,
    /// Real user id.
    pub uid: u32,
    /// The kernel's short name (`comm`, at most 15 bytes on Linux).
    pub name: String,
    /// One-letter state as in `ps` (`R`, `S`, `D`, `Z`, `T`, ...).
    pub state: char,
    /// Start time in the platform's own units (clock ticks since boot on Linux): with the pid, the
    /// process's identity. A recycled pid has a different start time.
    pub start_ticks: u64,
    /// Start time as wall-clock time.
    pub start_time: SystemTime,
    /// Whether this is a kernel thread.
    pub kernel_thread: bool,
    /// The arguments, when they have been read (empty for zombies and kernel threads).
    pub cmdline: Option<Vec<String>>,
    /// The executable, when readable.
    pub exe: Option<PathBuf>,
}

impl Process {
    /// The command line joined with single spaces, or `[name]` when there are no arguments.
    pub fn command(&self) -> String {
        match &self.cmdline {
            Some(args) if !args.is_empty() => args.join(" "),
            _ => format!("[{}]", self.name),
        }
    }

    /// Whether the process has exited and waits to be reaped.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z' || self.state == 'X'
    }

    /// The process's age at `now`.
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.start_time).unwrap_or_default()
    }
}

/// The state of a socket, as the kernel names it (`LISTEN`, `ESTABLISHED`, ...). Bound UDP
/// sockets report `UNCONN` (or `ESTABLISHED` once connected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum SocketState {
    Listen,
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Closing,
    Unconn,
    /// A TCP socket bound to a port that neither listens nor connects (yet): it holds the port.
    BoundInactive,
    Unknown,
}

impl SocketState {
    /// The name as in JSON and `ss`: `LISTEN`, `CLOSE_WAIT`, `UNCONN`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Listen => "LISTEN",
            SocketState::Established => "ESTABLISHED",
            SocketState::SynSent => "SYN_SENT",
            SocketState::SynRecv => "SYN_RECV",
            SocketState::FinWait1 => "FIN_WAIT1",
            SocketState::FinWait2 => "FIN_WAIT2",
            SocketState::TimeWait => "TIME_WAIT",
            SocketState::Close => "CLOSE",
            SocketState::CloseWait => "CLOSE_WAIT",
            SocketState::LastAck => "LAST_ACK",
            SocketState::Closing => "CLOSING",
            SocketState::Unconn => "UNCONN",
            SocketState::BoundInactive => "BOUND_INACTIVE",
            SocketState::Unknown => "UNKNOWN",
        }
    }
}

/// One socket from the socket table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Socket {
    /// TCP or UDP.
    pub proto: Proto,
    /// 4 or 6.
    pub family: u8,
    /// Local address.
    pub local_addr: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Kernel state.
    pub state: SocketState,
    /// The socket's inode (0 for sockets no process holds, such as TIME_WAIT).
    pub inode: u64,
    /// The uid that created the socket.
    pub uid: u32,
}

impl Socket {
    /// Whether the socket is a TCP listener or a UDP socket (bound sockets are what "holds a
    /// port" means for UDP).
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == SocketState::Listen,
            Proto::Udp => true,
        }
    }

    /// Whether the socket holds its port the way a server does: a TCP listener, a TCP socket
    /// bound and not (yet) listening, or a UDP socket. What a port selector matches by default.
    pub fn holds_port(&self) -> bool {
        self.is_listening() || self.state == SocketState::BoundInactive
    }

    /// Whether some process can hold this socket (TIME_WAIT and friends have no owner).
    pub fn is_held(&self) -> bool {
        self.inode != 0 && self.state != SocketState::TimeWait
    }
}

/// A port a process holds, as shown in `list` output.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortEntry {
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// `4` or `6`.
    pub family: u8,
    /// Local address.
    pub local_addr: String,
    /// Local port.
    pub local_port: u16,
    /// Socket state.
    pub state: String,
    /// The network namespace the socket is in, when it is not reaper's own: `netns:NAME` when
    /// `ip netns` names it, else `net:[INODE]`; `null` for reaper's own.
    pub netns: Option<String>,
}

impl PortEntry {
    /// The entry for socket `s`.
    pub fn of(s: &Socket) -> PortEntry {
        PortEntry {
            proto: s.proto,
            family: s.family,
            local_addr: s.local_addr.to_string(),
            local_port: s.local_port,
            state: s.state.as_str().to_string(),
            netns: None,
        }
    }
}

/// A network namespace: a socket table of its own. A port held in one is held there only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetNs {
    /// The namespace's inode, as `/proc/PID/ns/net` names it (`net:[INODE]`).
    pub inode: u64,
    /// Its name when `ip netns` names it (a bind mount under `/run/netns`).
    pub name: Option<String>,
    /// A process in it: how to enter it when it has no name.
    pub member: Option<u32>,
}

impl NetNs {
    /// `netns:NAME` when it has a name, else `net:[INODE]`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("netns:{n}"),
            None => format!("net:[{}]", self.inode),
        }
    }
}

/// Which sockets a snapshot reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocketFilter {
    /// Read TCP sockets.
    pub tcp: bool,
    /// Read UDP sockets.
    pub udp: bool,
}

/// The result of an fd-table scan.
#[derive(Debug, Default)]
pub struct HolderScan {
    /// Socket inode -> the pids holding it.
    pub holders: HashMap<u64, Vec<u32>>,
    /// Pids whose tables were read.
    pub scanned: Vec<u32>,
    /// Whether some table could not be read (permission denied).
    pub denied: bool,
    /// Why the scan is incomplete for another reason than permissions (no fd left, /proc
    /// unreadable): what it found cannot be trusted to be every holder.
    pub error: Option<String>,
}

impl HolderScan {
    /// A scan that could not run at all.
    pub fn failed(why: String) -> HolderScan {
        HolderScan { error: Some(why), ..HolderScan::default() }
    }
}

/// Inodes to look for, as the scan wants them.
pub type InodeSet = HashSet<u64>;

/// The result of sending a signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Delivered.
    Ok,
    /// The process has exited (ESRCH, or its identity no longer matches).
    Gone,
    /// Not permitted (EPERM).
    Denied,
    /// Another failure, with the OS's explanation.
    Failed(String),
}

/// Why a process could not be pinned: what `Control::open` and `Control::adopt` answer
/// instead of a handle (there is no "delivered" here, unlike [`Sent`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unpinned {
    /// The process has exited, or its pid now belongs to another process.
    Gone,
    /// Not permitted.
    Denied,
    /// Another failure, with the OS's explanation.
    Failed(String),
}

/// What a wait ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waited {
    /// These handles (indices into the slice given) have exited.
    Exited(Vec<usize>),
    /// The deadline passed.
    Timeout,
    /// SIGINT, SIGTERM or SIGHUP arrived.
    Interrupted,
}

/// A process as a scan sees it: enough to spot new descendants and whether it is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Process id.
    pub pid: u32,
    /// Start time: with the pid, the identity.
    pub start_ticks: u64,
    /// One-letter state (`T` stopped, `Z` zombie, ...).
    pub state: char,
}

/// How the command's tree is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// A new PID namespace (with a /proc of its own) whose init dies with the guard's process:
    /// the kernel ends the whole tree even when that process is SIGKILLed.
    PidNamespace,
    /// A child subreaper: orphans come back to the guard and are ended with the tree on an
    /// orderly stop; a SIGKILLed guard takes only the command itself along
    /// (`PR_SET_PDEATHSIG`), not what the command started.
    Subreaper,
    /// Windows: a Job Object with `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE` that the command joined
    /// before it ran: every descendant is in the job, and the kernel ends the job when the
    /// guard's process exits, however it dies.
    JobObject,
    /// macOS (any Unix without PID namespaces): the command leads a session of its own, under
    /// a watcher process forked from the guard's; when the guard's process dies (SIGKILL
    /// included), the watcher ends the command's process group. Best effort: a process that
    /// left the group and was orphaned before that escapes it.
    SessionWatcher,
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Isolation::PidNamespace => "pid namespace",
            Isolation::Subreaper => "subreaper",
            Isolation::JobObject => "job object",
            Isolation::SessionWatcher => "session watcher",
        })
    }
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
}

impl Status {
    /// Decodes a raw `wait()` status.
    #[cfg(unix)]
    pub fn from_raw(raw: i32) -> Status {
        if nix::libc::WIFEXITED(raw) {
            Status::Exited(nix::libc::WEXITSTATUS(raw))
        } else {
            Status::Signaled(nix::libc::WTERMSIG(raw))
        }
    }

    /// Whether the command exited with code 0.
    pub fn success(self) -> bool {
        self == Status::Exited(0)
    }

    /// The shell's convention: the exit code, or 128 + the signal number.
    pub fn code(self) -> u8 {
        match self {
            Status::Exited(c) => (c & 0xff) as u8,
            Status::Signaled(s) => (128 + s).clamp(0, 255) as u8,
        }
    }
}

/// What a process has used so far: for a live view (the picker's CPU and memory columns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time in user and kernel mode since it started.
    pub cpu: Duration,
    /// Resident memory in bytes.
    pub rss_bytes: u64,
}

/// A service of the platform's own service manager that runs a process, as that manager
/// records it: a launchd job on macOS, a service of the service control manager on Windows
/// (systemd units are named by the cgroup instead, on Linux).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRecord {
    /// `launchd` or `windows-service`.
    pub manager: String,
    /// The job's label, or the service's name.
    pub name: String,
    /// Whether the manager starts it again when it exits (`KeepAlive`, a restart recovery
    /// action); `None` when that could not be read.
    pub restarts: Option<bool>,
    /// The policy as the manager spells it (`KeepAlive=true`, `on failure: restart`).
    pub policy: Option<String>,
    /// The command that stops it through the manager.
    pub stop: String,
    /// What was read to find it.
    pub source: String,
}
