//! Signalling and waiting where there are no pidfds (macOS, the BSDs, Windows; Linux under the
//! `portable` feature, which runs this code in CI): written to be small and careful rather than
//! fast.
//!
//! On Windows there are no signals: TERM, INT and BREAK are a graceful close (`WM_CLOSE` to the
//! process's windows, `CTRL_BREAK_EVENT` to a console group reaper created), KILL is
//! `TerminateProcess` (`windows::deliver`), and SIGSTOP/SIGCONT (the engine's freeze) do
//! nothing: Windows does not reparent orphans, so a tree cannot escape by forking while it is
//! being killed the way it can on Unix.
//!
//! Identity is re-checked (pid + start time, from the platform's `read_process`) right before
//! every `kill(2)`, which leaves only the microseconds between the check and the call for a pid
//! to be recycled. Exits are waited for by re-reading each process every 10 ms until the
//! deadline: kqueue `EVFILT_PROC`/`NOTE_EXIT` would be the event-driven way on macOS. Interrupts
//! are not intercepted here (no signalfd): SIGINT keeps its usual effect.

use std::time::{Duration, Instant};

use super::Control;
use crate::model::{Seen, Sent, Unpinned, Waited};

/// A process named by its identity.
#[derive(Clone, Copy, Debug)]
pub struct Handle {
    pid: u32,
    start_ticks: u64,
}

/// The portable [`Control`]: identity re-checked before each `kill(2)`.
#[derive(Debug, Default)]
pub struct Signaller;

impl Signaller {
    /// A signaller.
    pub fn new() -> Signaller {
        Signaller
    }
}

/// Whether the process with this identity is still there and not a zombie.
fn is_alive(h: &Handle) -> bool {
    super::read_process(h.pid).is_some_and(|p| p.start_ticks == h.start_ticks && !p.is_zombie())
}

impl Control for Signaller {
    type Handle = Handle;

    fn open(&mut self, pid: u32, start_ticks: u64) -> Result<Handle, Unpinned> {
        let h = Handle { pid, start_ticks };
        if is_alive(&h) { Ok(h) } else { Err(Unpinned::Gone) }
    }

    fn signal(&mut self, h: &Handle, sig: i32) -> Sent {
        if !is_alive(h) {
            return Sent::Gone;
        }
        deliver(h.pid, sig)
    }

    fn exited(&mut self, h: &Handle) -> bool {
        !is_alive(h)
    }

    fn wait(&mut self, handles: &[&Handle], deadline: Instant) -> Waited {
        loop {
            let exited: Vec<usize> = (0..handles.len()).filter(|&i| !is_alive(handles[i])).collect();
            if !exited.is_empty() {
                return Waited::Exited(exited);
            }
            let now = Instant::now();
            if now >= deadline {
                return Waited::Timeout;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    fn interrupted(&mut self) -> bool {
        false
    }

    fn scan(&mut self, roots: &[u32]) -> Vec<Seen> {
        scan_tree(roots)
    }

    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool {
        if cfg!(windows) {
            // The freeze is a no-op there (see the module docs).
            return true;
        }
        super::read_process(pid)
            .is_none_or(|p| p.start_ticks != start_ticks || matches!(p.state, 'T' | 't' | 'Z' | 'X'))
    }
}

/// `roots` (those that exist) and every current descendant of them, parents before children:
/// one read of the process table, then the one tree walk ([`super::tree::walk`]).
pub fn scan_tree(roots: &[u32]) -> Vec<Seen> {
    let table = super::list_pids()
        .unwrap_or_default()
        .into_iter()
        .filter_map(super::read_process)
        .map(|p| (p.ppid, Seen { pid: p.pid, start_ticks: p.start_ticks, state: p.state }));
    super::tree::walk(roots, table)
}

/// Sends `sig` to `pid` with `kill(2)`.
#[cfg(unix)]
fn deliver(pid: u32, sig: i32) -> Sent {
    use nix::errno::Errno;
    use nix::sys::signal::{Signal as NixSignal, kill};
    use nix::unistd::Pid;

    let Ok(signal) = NixSignal::try_from(sig) else {
        return Sent::Failed(format!("unknown signal {sig}"));
    };
    let Ok(raw) = i32::try_from(pid) else {
        return Sent::Gone;
    };
    match kill(Pid::from_raw(raw), signal) {
        Ok(()) => Sent::Ok,
        Err(Errno::ESRCH) => Sent::Gone,
        Err(Errno::EPERM) => Sent::Denied,
        Err(e) => Sent::Failed(e.to_string()),
    }
}

/// Windows' meaning of each signal (a graceful close, `TerminateProcess`): see
/// `windows::deliver`.
#[cfg(windows)]
fn deliver(pid: u32, sig: i32) -> Sent {
    super::windows::deliver(pid, sig)
}
