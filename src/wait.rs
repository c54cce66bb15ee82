//! Waiting for a port to be free or listening, or for a process to exit: what `reaper wait`
//! does, and what a program that restarts a server needs between "stop" and "start".
//!
//! Port waits read the socket table (no fd scan: only whether a matching socket exists) at most
//! every [`PORT_POLL`]; there is no event for a socket table change. Pid waits are events (a
//! pidfd on Linux).
//!
//! ```no_run
//! use std::time::Duration;
//! use reaper::wait::{self, PortCondition};
//! let free = wait::port(&"5700".parse()?, PortCondition::Free, Some(Duration::from_secs(10)))?;
//! assert!(free, "port 5700 still held after 10 s");
//! # Ok::<(), reaper::Error>(())
//! ```

use std::thread;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::select::Selection;
use crate::snapshot::Snapshot;
use crate::spec::PortSpec;
use crate::sys;

/// How often a port wait reads the socket table.
pub const PORT_POLL: Duration = Duration::from_millis(20);

/// What to wait for on a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortCondition {
    /// No process holds a socket on the port, in any state: no listener, no bound UDP socket,
    /// no connection (TIME_WAIT has no holder and does not count).
    Free,
    /// Something listens on the port (a TCP listener, or a bound UDP socket).
    Listening,
}

/// Whether `cond` holds for `spec` right now.
pub fn port_is(spec: &PortSpec, cond: PortCondition) -> Result<bool> {
    let sel = Selection { any_state: cond == PortCondition::Free, ..Selection::new().port(*spec) };
    let mut snap = Snapshot::new();
    snap.load_sockets(sel.socket_filter())?;
    let held = snap.sockets().iter().any(|s| sel.socket_matches(s));
    Ok(match cond {
        PortCondition::Free => !held,
        PortCondition::Listening => held,
    })
}

/// Waits until `cond` holds for `spec`: `Ok(true)` as soon as it does, `Ok(false)` when
/// `timeout` passes first (`None` waits forever).
pub fn port(spec: &PortSpec, cond: PortCondition, timeout: Option<Duration>) -> Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let checked = Instant::now();
        if port_is(spec, cond)? {
            return Ok(true);
        }
        let next = checked + PORT_POLL;
        let wake = deadline.map_or(next, |d| d.min(next));
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
        thread::sleep(wake.saturating_duration_since(Instant::now()));
    }
}

/// Waits until process `pid` has exited: `Ok(true)` once it has (a zombie counts; a pid that
/// does not exist has already exited), `Ok(false)` when `timeout` passes first (`None`: forever).
/// An event on Linux (pidfd) and macOS (kqueue).
#[cfg(any(target_os = "linux", target_os = "macos"))]
pub fn pid(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    sys::check_own_proc()?; // the pid was read from a /proc that must be this namespace's
    sys::wait_pid_exit(pid, timeout)
}

/// Waits until process `pid` has exited: `Ok(true)` once it has (a pid that does not exist has
/// already exited), `Ok(false)` when `timeout` passes first (`None`: forever). Elsewhere than
/// Linux and macOS (unverified) this polls the process table every [`PORT_POLL`].
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn pid(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        if sys::read_process(pid).is_none_or(|p| p.is_zombie()) {
            return Ok(true);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
        thread::sleep(PORT_POLL);
    }
}
