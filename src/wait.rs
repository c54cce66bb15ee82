//! Waiting for a port to be free or listening, or for a process to exit: what `reaper wait`
//! does, and what a program that restarts a server needs between "stop" and "start".
//!
//! Port waits ask [`crate::ports::survey`] (the same verdict `kill` gives) without an fd scan,
//! at most every [`PORT_POLL`]: there is no kernel event for a socket table change. Pid waits
//! are events (a pidfd on Linux).
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
use crate::ports::{self, Holders, Verdict};
use crate::snapshot::Snapshot;
use crate::spec::PortSpec;
use crate::sys;

/// How often a port wait reads the socket table.
pub const PORT_POLL: Duration = Duration::from_millis(20);

/// What to wait for on a port, in the terms of [`crate::ports`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortCondition {
    /// No process holds a socket on the port, in any state (listener, bound UDP socket,
    /// connection): [`Verdict::Free`], or [`Verdict::TimeWait`] (only ended connections the
    /// kernel still keeps; a server with `SO_REUSEADDR` can bind). What `kill` calls free.
    Free,
    /// No socket at all, TIME_WAIT included ([`Verdict::Free`]): what a server that does not
    /// set `SO_REUSEADDR` needs (`--strict`). TIME_WAIT lasts up to 60 s on Linux.
    Unused,
    /// Something listens on the port (a TCP listener, or a bound UDP socket).
    Listening,
}

/// Whether `cond` holds for `spec` right now.
pub fn port_is(spec: &PortSpec, cond: PortCondition) -> Result<bool> {
    let state = ports::survey(&mut Snapshot::new(), std::slice::from_ref(spec), None, Holders::No)?;
    let Some(state) = state.first() else {
        return Ok(false);
    };
    Ok(match cond {
        PortCondition::Free => state.usable(false),
        PortCondition::Unused => state.state == Verdict::Free,
        PortCondition::Listening => state.listening(),
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
/// An event on Linux (pidfd) and macOS (kqueue); Windows (unverified) reads the process table
/// again every 20 ms.
pub fn pid(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    sys::check_own_proc()?; // the pid was read from a /proc that must be this namespace's
    sys::wait_pid_exit(pid, timeout)
}
