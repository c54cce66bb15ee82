//! reaper's integration tests: real processes, all the tests' own (found by a unique token or
//! an exact pid), reaped by `Drop` guards.
//!
//! They start Unix processes (Python fixtures, shells, signals): on Windows they are not built.
//! Where the portable backend runs (macOS always, Linux under the `portable` feature: the
//! condition `src/sys/mod.rs` builds it under, `any(feature = "portable", not(target_os =
//! "linux"))`) the tests of what that backend does not do are ignored, each saying why
//! (docs/src/platforms.md). Off Linux, the tests that need Linux itself (its namespaces, `/proc`,
//! util-linux's `setpriv`, `prlimit` and `script`) are ignored too, each saying `Linux only:` and
//! why; the harness reads the process table from `/proc` on Linux and through `ps` and `lsof`
//! elsewhere (util.rs), so the rest runs on macOS as it does here.
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
