//! reaper's integration tests: real processes, all the tests' own (found by a unique token or
//! an exact pid), reaped by `Drop` guards.

mod adversarial;
mod adversarial_kill;
mod docs;
mod engine;
mod guard_thread;
mod hardening;
mod kill;
mod layout;
mod list;
mod manners;
mod netns;
mod pick;
mod props;
mod run;
mod teardown;
mod trust;
mod util;
mod wait;
