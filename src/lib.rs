//! reaper: find processes by the port they hold, by their command line or by their place in
//! the process tree, and end orphaned process trees cleanly.
//!
//! The data flows one way, one module per step:
//! selection ([`select`]) -> snapshot ([`snapshot`]) -> matches ([`select::find`]).
//!
//! Linux is the tested platform; see the README's platform table for the others.

#![warn(missing_docs)]

pub mod error;
pub mod record;
pub mod select;
pub mod snapshot;
pub mod spec;
pub mod sys;

pub use error::{Error, Result};
pub use record::ProcessRecord;
pub use select::{Matches, Selection};
pub use snapshot::{PortEntry, Process, Snapshot, Socket, SocketState};
pub use spec::{PortSpec, Proto, Sequence, Signal, Step, parse_duration};
