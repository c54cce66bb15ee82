//! The one walk of a process tree: from a table of (parent, process) to `roots` and all their
//! descendants. Every backend's `scan_tree` reads its process table and hands it here.

use std::collections::{HashMap, HashSet};

use crate::model::Seen;

/// `roots` (those in `table`) and every descendant of them, parents before children. `table`
/// holds each process with its parent's pid; a process that is its own parent is no child.
pub(crate) fn walk(roots: &[u32], table: impl IntoIterator<Item = (u32, Seen)>) -> Vec<Seen> {
    let mut by_parent: HashMap<u32, Vec<Seen>> = HashMap::new();
    let mut roots_seen = Vec::new();
    let root_set: HashSet<u32> = roots.iter().copied().collect();
    for (ppid, seen) in table {
        if root_set.contains(&seen.pid) {
            roots_seen.push(seen);
        }
        if ppid != seen.pid {
            by_parent.entry(ppid).or_default().push(seen);
        }
    }
    let mut out = roots_seen;
    let mut queue: Vec<u32> = roots.to_vec();
    let mut visited = root_set;
    while let Some(p) = queue.pop() {
        for s in by_parent.remove(&p).unwrap_or_default() {
            if visited.insert(s.pid) {
                out.push(s);
                queue.push(s.pid);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(pid: u32) -> Seen {
        Seen { pid, start_ticks: u64::from(pid), state: 'S' }
    }

    #[test]
    fn parents_come_before_children_and_strangers_stay_out() {
        // 1 -> 2 -> {3, 4}, 4 -> 5; 6 is no descendant; 7 is its own parent.
        let table = [(0, seen(1)), (1, seen(2)), (2, seen(3)), (2, seen(4)), (4, seen(5)), (1, seen(6)), (7, seen(7))];
        let pids: Vec<u32> = walk(&[2], table).into_iter().map(|s| s.pid).collect();
        assert_eq!(pids[0], 2);
        assert_eq!(pids.len(), 4, "{pids:?}");
        let at = |p: u32| pids.iter().position(|&q| q == p).unwrap();
        assert!(at(4) < at(5) && at(2) < at(3));
        assert!(walk(&[7], [(7, seen(7))]).iter().map(|s| s.pid).eq([7]));
        assert!(walk(&[9], table).is_empty(), "a root that does not exist");
    }
}
