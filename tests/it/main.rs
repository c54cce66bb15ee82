//! reaper's integration tests: real processes, all the tests' own (found by a unique token or
//! an exact pid), reaped by `Drop` guards.
//!
//! They start Unix processes (Python fixtures, shells, signals): on Windows they are not built.
//! Under the `portable` feature the tests of what that backend does not do are ignored, each
//! saying why (docs/src/platforms.md).
#![cfg(unix)]

mod docs;
#[cfg(target_os = "linux")]
mod guard_thread;
mod hostile;
mod kill;
mod kill_freeze;
mod kill_races;
mod layout;
mod list;
mod netns;
mod not_root;
mod pick;
mod pidns;
mod ports;
mod props;
mod rails;
mod run;
mod scale;
mod selectors;
mod terminal;
mod tree;
mod util;
mod wait;
mod why;
