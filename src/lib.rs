//! reaper: find processes by the port they hold, by their command line or by their place in
//! the process tree, and end orphaned process trees cleanly.
//!
//! The data flows one way, one module per step:
//! selection ([`select`]) -> snapshot ([`snapshot`]) -> matches ([`select::find`]) -> plan and
//! signals and waits ([`kill`]) -> report ([`report`]).
//!
//! Linux is the tested platform; see the README's platform table for the others.

#![warn(missing_docs)]

pub mod error;
#[cfg(target_os = "linux")]
pub mod guard;
pub mod kill;
pub mod record;
pub mod report;
pub mod select;
pub mod snapshot;
pub mod spec;
pub mod sys;
pub mod wait;

pub use error::{Error, Result};
pub use kill::{KillOptions, kill};
pub use record::ProcessRecord;
pub use report::{KillReport, Outcome};
pub use select::{Matches, Selection};
pub use snapshot::{PortEntry, Process, Snapshot, Socket, SocketState};
pub use spec::{PortSpec, Proto, Sequence, Signal, Step, parse_duration};
