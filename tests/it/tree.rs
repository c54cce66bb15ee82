//! `reaper tree` and the tree views (`list --tree`, `tree PID --format pid`) against real trees.

use crate::util::*;

#[test]
fn three_level_tree_by_descendants_and_tree_view() {
    let fx = Fixture::start("tree", "tree", &["3"]);
    let pids: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 3);
    let root = pids[0].to_string();
    let found = reaper(&["list", "--descendants-of", &root, "--format", "pid"]).expect(0).pids();
    assert_eq!(found, pids[1..].to_vec());
    let children = reaper(&["list", "--children-of", &root, "--format", "pid"]).expect(0).pids();
    assert_eq!(children, vec![pids[1]]);

    // --tree: the listener within its ancestry (root and middle above it).
    let port = fx.port().to_string();
    let tree = reaper(&["list", "-p", &port, "--tree"]).expect(0).stdout();
    let line_of = |pid: u32| {
        tree.lines()
            .position(|l| l.contains(&format!(" {pid} ")) || l.starts_with(&format!("{pid} ")))
            .unwrap_or_else(|| panic!("{pid} not in\n{tree}"))
    };
    let (a, b, c) = (line_of(pids[0]), line_of(pids[1]), line_of(pids[2]));
    assert!(a < b && b < c, "{tree}");
    let leaf = tree.lines().nth(c).unwrap();
    assert!(leaf.contains(&format!("* {}", pids[2])), "the match is marked: {leaf}");
    assert!(leaf.contains(&format!("tcp 127.0.0.1:{port}")), "{leaf}");

    // reaper tree ROOT: the root's descendants, with the leaf's port.
    let t = reaper(&["tree", &root]).expect(0).stdout();
    for p in &pids {
        assert!(t.contains(&p.to_string()), "{p} missing in\n{t}");
    }
    assert!(t.contains(&format!("tcp 127.0.0.1:{port}")), "{t}");
    let json = reaper(&["tree", &root, "--format", "json"]).expect(0).json();
    let listed: Vec<u64> = json.as_array().unwrap().iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    for p in &pids {
        assert!(listed.contains(&u64::from(*p)));
    }
}

// `tree PID --format pid` prints PID and its descendants, never its ancestors: `kill $(reaper
// tree P --format pid)` must not reach PID 1 or the caller's shells. Regression: the ancestry,
// PID 1 and the test itself included, was printed.
#[test]
fn tree_pids_are_the_process_and_its_descendants_only() {
    let fx = Fixture::start("tree-pids", "tree", &["3"]);
    let chain: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().expect("pid")).collect();
    // From the middle of the chain: its parent (and the test, and PID 1) are ancestors.
    let mut want = chain[1..].to_vec();
    want.sort_unstable();
    let mut got = reaper(&["tree", &chain[1].to_string(), "--format", "pid"]).expect(0).pids();
    got.sort_unstable();
    assert_eq!(got, want);
    assert!(!got.contains(&1) && !got.contains(&std::process::id()) && !got.contains(&chain[0]));
}
