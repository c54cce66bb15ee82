//! The tally: outcomes counted, for summaries.

use std::collections::HashMap;

use crate::report::{KillReport, Outcome};

/// Counts outcomes, for summaries.
pub fn tally(report: &KillReport) -> HashMap<Outcome, usize> {
    let mut m = HashMap::new();
    for t in &report.targets {
        *m.entry(t.outcome).or_insert(0) += 1;
    }
    m
}
