//! The platform contract: what the rest of the crate needs from an operating system, checked
//! by the compiler for every backend.
//!
//! - [`Control`]: the kill engine's view of the OS (pin, signal, freeze, wait, scan). Each
//!   backend's `Signaller` implements it; the engine's unit tests use a fake.
//! - the module interface (listed and checked in `sys/mod.rs`): reading processes and sockets,
//!   scanning fd tables, pinning, walking a tree, users and signal names. Every backend
//!   (`linux`, and `portable` for macOS and Windows) provides it with the same signatures, or
//!   does not compile.

use std::sync::Arc;
use std::time::Instant;

use crate::model::{Process, Seen, Sent, Unpinned, Waited};

/// A target pinned when the plan read it: whatever happens before the plan is executed (a
/// y/N prompt), nothing reaches another process that took its pid, not even one started
/// within the same clock tick (the start time alone could not tell them apart).
#[derive(Clone, Debug)]
pub enum Pin {
    /// A handle on exactly that process: on Linux a pidfd, opened and then checked against the
    /// start time the snapshot read.
    Held(Arc<super::PinHandle>),
    /// It had exited, or its pid belonged to another process, when it was pinned.
    Gone,
}

/// The operating system as the engine needs it. The real implementation lives under
/// `src/sys/` (pidfds on Linux); tests use a fake.
pub trait Control {
    /// A pinned process.
    type Handle;
    /// Pins `pid` if it is still the process that started at `start_ticks`.
    /// `Err(Unpinned::Gone)` when it has exited or the pid now belongs to another process.
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
    /// Whether every tree with children is worth [`Control::stop`] before the last scan, growing
    /// or not: where a scan reads the whole process table once (too slow to see a fork storm
    /// grow between two reads) and a stop cannot outlive reaper (a resumer continues what is
    /// still stopped if reaper dies). Elsewhere only a tree seen growing is stopped loudly.
    fn freezes_every_tree(&self) -> bool {
        false
    }
    /// Freezes the pinned process: once [`Control::is_stopped`] says so it cannot run (nor
    /// fork) until [`Control::resume`]. Quietly if it can, else SIGSTOP (which the parent's
    /// shell sees as `Stopped`, and which outlives reaper).
    fn stop(&mut self, h: &Self::Handle) -> Sent {
        match self.stop_quietly(h) {
            Some(sent) => sent,
            None => self.signal(h, super::SIGSTOP),
        }
    }
    /// Undoes [`Control::stop`]; signals sent meanwhile are acted on now. SIGCONT unless the
    /// platform has better.
    fn resume(&mut self, h: &Self::Handle) -> Sent {
        self.signal(h, super::SIGCONT)
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
        let mut p = super::read_process(pid)?;
        p.cmdline = super::read_cmdline(pid);
        p.exe = super::read_exe(pid);
        Some(p)
    }
    /// The name of a uid.
    fn user_name(&mut self, uid: u32) -> String {
        super::user_name(uid).unwrap_or_else(|| uid.to_string())
    }
}
