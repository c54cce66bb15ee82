//! The descendant walk: one implementation over `(pid, parent pid)` pairs, whoever read them
//! (a snapshot in memory, a backend's pass over the live process table). Plain logic that
//! imports nothing of reaper's.

use std::collections::{HashMap, HashSet, VecDeque};

/// Every descendant of `roots` among `procs` (`(pid, parent pid, item)`), as their items:
/// parents before children (breadth first), each once. The roots themselves are not included,
/// nor is a process that names itself as its parent; a pid loop (a table read while pids were
/// reused) ends where it closes.
pub fn descendants<T>(roots: &[u32], procs: impl IntoIterator<Item = (u32, u32, T)>) -> Vec<T> {
    let mut by_parent: HashMap<u32, Vec<(u32, T)>> = HashMap::new();
    for (pid, ppid, item) in procs {
        if pid != ppid {
            by_parent.entry(ppid).or_default().push((pid, item));
        }
    }
    let mut seen: HashSet<u32> = roots.iter().copied().collect();
    let mut queue: VecDeque<u32> = roots.iter().copied().collect();
    let mut out = Vec::new();
    while let Some(parent) = queue.pop_front() {
        for (pid, item) in by_parent.remove(&parent).unwrap_or_default() {
            if seen.insert(pid) {
                out.push(item);
                queue.push_back(pid);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::descendants;

    fn walk(roots: &[u32], pairs: &[(u32, u32)]) -> Vec<u32> {
        descendants(roots, pairs.iter().map(|&(pid, ppid)| (pid, ppid, pid)))
    }

    #[test]
    fn parents_come_before_children_and_roots_are_left_out() {
        let pairs = [(30, 20), (20, 10), (10, 1), (21, 10), (40, 2)];
        assert_eq!(walk(&[10], &pairs), [20, 21, 30]);
        assert_eq!(walk(&[10, 2], &pairs), [20, 21, 40, 30]);
        assert_eq!(walk(&[99], &pairs), Vec::<u32>::new());
    }

    #[test]
    fn a_pid_loop_or_a_self_parent_ends_the_walk() {
        assert_eq!(walk(&[1], &[(2, 1), (3, 2), (1, 3), (3, 3)]), [2, 3]);
        // A root that is a descendant of another root is listed by neither.
        assert_eq!(walk(&[1, 2], &[(2, 1), (3, 2)]), [3]);
    }
}
