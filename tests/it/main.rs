//! reaper's integration tests: real processes, all the tests' own (found by a unique token or
//! an exact pid), reaped by `Drop` guards.
//!
//! They start Unix processes (Python fixtures, shells, signals): on Windows they are not built.
//! Under the `portable` feature the tests of what that backend does not do are ignored, each
//! saying why (README "Platforms").
#![cfg(unix)]

mod adversarial;
mod adversarial_kill;
mod docs;
mod edges;
mod engine;
#[cfg(target_os = "linux")]
mod guard_thread;
mod hardening;
mod kill;
mod layout;
mod list;
mod liveness;
mod manners;
mod netns;
mod pick;
mod props;
mod run;
mod stopped_trees;
mod teardown;
mod terminal;
mod trust;
mod util;
mod wait;
mod why;
