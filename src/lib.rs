//! reaper: find processes by the port they hold, by their command line or by their place in
//! the process tree, and end orphaned process trees cleanly.
//!
//! This crate is the engine of the `reaper` command; the binary is a thin layer over it, so a
//! Rust program (a Tauri app freeing its sidecar's port before launch, a test harness cleaning
//! up) can do in-process everything the command line does, without a shell-out.
//!
//! The data flows one way, one module per step:
//! selection ([`select`]) -> snapshot ([`snapshot`]) -> matches ([`select::find`]) -> plan
//! ([`plan`]) -> signals and waits ([`mod@kill`]) -> report ([`report`]). What is on a port is
//! answered in one place, [`ports::survey`], for every command and for the library.
//!
//! Every step reads and writes the plain data of [`model`] (processes, sockets, what a signal or a
//! wait did), which imports nothing of reaper's. The operating system is behind one private
//! platform layer (`sys`: `/proc`, netlink, pidfds and ptrace on Linux; sysinfo and netstat2 on
//! macOS and Windows), whose interface every backend provides with the same signatures; the
//! kill engine's view of it is the [`kill::Control`] trait.
//!
//! Errors at the library boundary are the typed [`Error`]; [`Error::is_usage`] tells bad input
//! (the CLI's exit code 2) from failures of the system.
//!
//! # Parse what a user typed
//!
//! The small languages of the command line have parsers that name the bad value when they fail.
//!
//! ```
//! use std::time::Duration;
//! use reaper::{PortSpec, Proto, Sequence, Signal};
//!
//! let spec: PortSpec = "tcp:3000-3010".parse()?;
//! assert_eq!(spec.proto, Some(Proto::Tcp));
//! assert!(spec.contains(3005) && !spec.contains(30050)); // numeric, never a substring
//!
//! let seq: Sequence = "TERM:5s,INT:2s,KILL".parse()?;
//! assert_eq!(seq.steps[0].signal, Signal::TERM);
//! assert_eq!(seq.steps[0].wait, Duration::from_secs(5));
//! assert_eq!(seq.steps[2].signal, Signal::KILL);
//!
//! assert_eq!(reaper::parse_duration("1.5s")?, Duration::from_millis(1500));
//! let err = "70000".parse::<PortSpec>().unwrap_err();
//! assert!(err.is_usage() && err.to_string().contains("70000"));
//! # Ok::<(), reaper::Error>(())
//! ```
//!
//! # Build a selection and list what it matches
//!
//! A [`Selection`] holds the selectors: AND across kinds, OR within one kind. [`select::find`]
//! applies it to a [`Snapshot`], reading only what the selection needs (a port query reads the
//! socket table and the fd tables, not every command line). [`ProcessRecord`] is the row that
//! `reaper list` prints, in table or JSON form.
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use reaper::{ProcessRecord, Selection, Snapshot, select};
//!
//! // A child of ours to find: `sleep`, selected by ancestry and name.
//! let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
//! let sel = Selection::new().children_of(std::process::id()).name("sleep");
//!
//! let mut snap = Snapshot::new();
//! let matches = select::find(&sel, &mut snap)?;
//! assert!(matches.pids.contains(&child.id()));
//!
//! snap.load_details(matches.pids.iter().copied());
//! let record = ProcessRecord::new(&mut snap, child.id()).expect("still running");
//! assert_eq!(record.cmdline, ["sleep", "30"]);
//! assert_eq!(record.ppid, std::process::id());
//! println!("{}", serde_json::to_string(&record).expect("serialisable"));
//!
//! child.kill()?; // our own child, through std
//! child.wait()?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Who holds a port: the socket table, then the fd tables of the processes that can hold it.
//! Every holder is found, not just the first (a listener inherited across `fork` has several).
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use std::collections::HashSet;
//! use reaper::snapshot::SocketFilter;
//! use reaper::{PortSpec, Selection, Snapshot, select};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//!
//! let mut snap = Snapshot::new();
//! snap.load_sockets(SocketFilter { tcp: true, udp: false })?;
//! let socket = snap.sockets().iter().find(|s| s.local_port == port && s.is_listening()).expect("ours");
//! let inode = socket.inode;
//! snap.find_holders(&HashSet::from([inode]), None);
//! assert!(snap.holders(inode).contains(&std::process::id()));
//!
//! // The caller itself is never a match: reaper does not select (or signal) its own process.
//! let matches = select::find(&Selection::new().port(PortSpec::tcp(port)), &mut Snapshot::new())?;
//! assert!(matches.pids.is_empty());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Kill what holds a port, and check the end state
//!
//! [`kill::kill`] plans (the matches and all their descendants, minus what the safety rules
//! protect), signals (SIGTERM, then SIGKILL after the deadline), waits for exits and re-reads the
//! socket table. [`KillReport::success`] is the CLI's exit code 0: every target gone, every
//! selected port free, nothing denied. This example signals real processes, so it is only
//! compiled here, not run.
//!
//! ```no_run
//! use std::time::Duration;
//! use reaper::{KillOptions, Outcome, PortSpec, Selection, Sequence, Signal};
//!
//! let sel = Selection::new().port(PortSpec::tcp(5700));
//! let opts = KillOptions { sequence: Sequence::graceful(Signal::TERM, Duration::from_secs(2)), ..KillOptions::default() };
//! let report = reaper::kill::kill(&sel, &opts, &mut |_event| {})?;
//! for t in &report.targets {
//!     println!("{} {:?} after {:?}", t.pid, t.outcome, t.signals);
//! }
//! if !report.success() {
//!     let denied = report.targets.iter().filter(|t| t.outcome == Outcome::Denied).count();
//!     eprintln!("port 5700 is still held: {} survivors, {denied} denied", report.survivors.len());
//! }
//! # Ok::<(), reaper::Error>(())
//! ```
//!
//! `KillOptions { dry_run: true, .. }` plans without signalling: the report's targets have the
//! outcome [`Outcome::Planned`].
//!
//! # Platforms
//!
//! Linux is built and tested: processes from `/proc`, sockets from netlink `sock_diag`, and every
//! target pinned by a pidfd before it is signalled. The macOS and Windows code sits behind `cfg`:
//! compiled and linted for both in CI, its shared backend run on Linux (the `portable` feature),
//! the Windows build (with its guard and graceful close) run under Wine, never run on a real Mac
//! or Windows machine; see the platform table in docs/src/platforms.md.
//!
//! [`guard`] (`reaper run`) has the same API on all three, each with its kernel's strongest
//! guarantee that the tree ends with the calling process: a PID namespace on Linux, a
//! kill-on-close Job Object on Windows, a watcher process (best effort) on macOS. The guard
//! module's documentation has the table of what holds where, and what ran where.

#![warn(missing_docs)]

pub mod container;
pub mod error;
pub mod guard;
pub mod kill;
pub mod model;
pub mod origin;
pub mod plan;
pub mod ports;
pub mod record;
pub mod report;
pub mod select;
pub mod snapshot;
pub mod spec;
pub(crate) mod sys;
pub(crate) mod tree;
pub mod wait;

pub use error::{Error, Result};
/// The `/proc` parsers, for the fuzz targets and the property tests.
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub use sys::linux::procfs;
/// The platform layer's answers the command line needs (the layer itself, `sys`, is private).
pub use sys::{caller_uid, check_own_proc, list_pids, read_process, read_usage, user_name};

/// The Rust snippets of the book's chapters (docs/src/), checked by `cargo test --doc`. They only
/// define functions, so nothing is signalled; a snippet that would kill when run must be marked
/// `no_run`. tests/it/docs.rs fails when a page with Rust code is missing here.
#[cfg(doctest)]
#[doc = include_str!("../docs/src/pre-launch.md")]
#[doc = include_str!("../docs/src/library.md")]
pub struct DocsDoctests;
pub use kill::{KillOptions, kill};
pub use record::ProcessRecord;
pub use report::{KillReport, Outcome};
pub use select::{Matches, Selection};
pub use snapshot::{PortEntry, Process, Snapshot, Socket, SocketState};
pub use spec::{PortSpec, Proto, Sequence, Signal, Step, parse_duration};
