//! The kill engine: plan (targets = matches + descendants, minus what the safety rails
//! protect), then signals and waits, then the end state checked.
//!
//! SKELETON: the public API below is fixed; the implementation lands with issue 3.

use crate::error::{Error, Result};
use crate::report::{KillReport, TargetReport};
use crate::select::Selection;
use crate::snapshot::Snapshot;
use crate::spec::Sequence;
use std::time::Duration;

/// How to kill.
#[derive(Clone, Debug, Default)]
pub struct KillOptions {
    /// The signal sequence.
    pub sequence: Sequence,
    /// Only the matched processes, not their descendants (`--no-tree`).
    pub no_tree: bool,
    /// Let broad selectors match other users' processes (`--all-users`).
    pub all_users: bool,
    /// Plan only.
    pub dry_run: bool,
}

/// Something worth telling the user while a kill runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A target ended (or was found gone, denied, ...).
    Ended(&'a TargetReport),
    /// Still waiting: how many are alive and how long until the next step.
    Waiting {
        /// Targets still alive.
        alive: Vec<u32>,
        /// Time left in this step.
        remaining: Duration,
    },
}

/// A kill plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The targets, with their identities, in the report's shape (outcome `planned`).
    pub targets: Vec<TargetReport>,
}

/// Builds the plan for `sel`.
pub fn plan(_sel: &Selection, _snap: &mut Snapshot, _opts: &KillOptions) -> Result<Plan> {
    Err(Error::Unsupported("kill engine not built yet".into()))
}

/// Executes a plan.
pub fn execute(
    _plan: &Plan,
    _sel: &Selection,
    _opts: &KillOptions,
    _on_event: &mut dyn FnMut(Event<'_>),
) -> Result<KillReport> {
    Err(Error::Unsupported("kill engine not built yet".into()))
}

/// Plans and executes in one call: what `reaper kill` does.
pub fn kill(sel: &Selection, opts: &KillOptions, on_event: &mut dyn FnMut(Event<'_>)) -> Result<KillReport> {
    let mut snap = Snapshot::new();
    let plan = plan(sel, &mut snap, opts)?;
    execute(&plan, sel, opts, on_event)
}
