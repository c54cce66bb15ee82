//! The tree walk as the backends need it: every backend's `scan_tree` reads its process table
//! and hands it here; the walk itself is the crate's one ([`crate::tree::descendants`]).

use crate::model::Seen;

/// `roots` (those in `table`) and every descendant of them, parents before children: the
/// crate's one walk ([`crate::tree::descendants`]) over a table of (parent pid, process).
pub(crate) fn walk(roots: &[u32], table: impl IntoIterator<Item = (u32, Seen)>) -> Vec<Seen> {
    let table: Vec<(u32, Seen)> = table.into_iter().collect();
    let mut out: Vec<Seen> = table.iter().filter(|(_, s)| roots.contains(&s.pid)).map(|&(_, s)| s).collect();
    out.extend(crate::tree::descendants(roots, table.into_iter().map(|(ppid, s)| (s.pid, ppid, s))));
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
