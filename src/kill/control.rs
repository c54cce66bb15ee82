//! What the kill engine needs of the operating system: the [`Control`] trait and the results
//! of its calls ([`Sent`], [`Unpinned`], [`Waited`], [`Seen`]). The real implementation lives under
//! `src/sys/` (pidfds on Linux); the engine's unit tests use a fake.

use std::time::Instant;

use crate::plan::Pin;
use crate::snapshot::Process;
use crate::sys;

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

/// Why a process could not be pinned: what [`Control::open`] and [`Control::adopt`] answer
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

/// The operating system as the engine needs it. The real implementation lives under
/// `src/sys/` (pidfds on Linux); tests use a fake.
pub trait Control {
    /// A pinned process.
    type Handle;
    /// Pins `pid` if it is still the process that started at `start_ticks`. `Err(Unpinned::Gone)`
    /// when it has exited or the pid now belongs to another process.
    fn open(&mut self, pid: u32, start_ticks: u64) -> std::result::Result<Self::Handle, Unpinned>;
    /// Takes over the pin the plan took when it read the process (see [`Pin`]): never looks
    /// the pid up again. `Err(Unpinned::Gone)` for [`Pin::Gone`].
    fn adopt(&mut self, pin: &Pin, pid: u32, start_ticks: u64) -> std::result::Result<Self::Handle, Unpinned> {
        match pin {
            Pin::Gone => Err(Unpinned::Gone),
            Pin::Held(_) => self.open(pid, start_ticks),
        }
    }
    /// Sends signal `sig` to the pinned process.
    fn signal(&mut self, h: &Self::Handle, sig: i32) -> Sent;
    /// Freezes the pinned process in a way that its parent does not see and that does not
    /// outlive reaper (on Linux a ptrace-stop). `None` when that cannot be done for it: the
    /// engine then decides whether [`Control::stop`] is worth its side effects.
    fn stop_quietly(&mut self, _h: &Self::Handle) -> Option<Sent> {
        None
    }
    /// Freezes the pinned process: once [`Control::is_stopped`] says so it cannot run (nor
    /// fork) until [`Control::resume`]. Quietly if it can, else SIGSTOP (which the parent's
    /// shell sees as `Stopped`, and which outlives reaper).
    fn stop(&mut self, h: &Self::Handle) -> Sent {
        match self.stop_quietly(h) {
            Some(sent) => sent,
            None => self.signal(h, sys::SIGSTOP),
        }
    }
    /// Undoes [`Control::stop`]; signals sent meanwhile are acted on now. SIGCONT unless the
    /// platform has better.
    fn resume(&mut self, h: &Self::Handle) -> Sent {
        self.signal(h, sys::SIGCONT)
    }
    /// Whether the kernel drops `sig` sent to `pid`: it is the init of a PID namespace below
    /// ours and has no handler for it.
    fn drops(&mut self, _pid: u32, _sig: i32) -> bool {
        false
    }
    /// Whether the pinned process has exited (a zombie has).
    fn exited(&mut self, h: &Self::Handle) -> bool;
    /// Waits until one of `handles` exits, `deadline` passes or an interrupt arrives.
    fn wait(&mut self, handles: &[&Self::Handle], deadline: Instant) -> Waited;
    /// Whether an interrupt (SIGINT, SIGTERM, SIGHUP) is pending; consumes it.
    fn interrupted(&mut self) -> bool;
    /// `roots` (those still existing) and every current descendant of them.
    fn scan(&mut self, roots: &[u32]) -> Vec<Seen>;
    /// Whether the process with this identity is stopped, or no longer running at all.
    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool;
    /// Reads one process with its command line and executable.
    fn describe(&mut self, pid: u32) -> Option<Process> {
        let mut p = sys::read_process(pid)?;
        p.cmdline = sys::read_cmdline(pid);
        p.exe = sys::read_exe(pid);
        Some(p)
    }
    /// The name of a uid.
    fn user_name(&mut self, uid: u32) -> String {
        sys::user_name(uid).unwrap_or_else(|| uid.to_string())
    }
}
