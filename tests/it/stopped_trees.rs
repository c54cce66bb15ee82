//! Trees that reaper stops with SIGSTOP while it signals them (the portable backend stops every
//! tree with children; Linux falls back to SIGSTOP where ptrace is refused). The kernel sends
//! SIGHUP, then SIGCONT, to every stopped member of a process group that a parent's exit leaves
//! orphaned: each target must still end by the signal reaper chose, not the kernel's hangup.

use crate::util::*;

#[test]
fn a_stopped_tree_is_killed_children_first_never_left_to_the_kernels_hangup() {
    let fx = Fixture::start("brood", "brood", &["40", "ignore-term"]);
    let kids: Vec<u32> = fx.info["children"].split(',').map(|p| p.parse().expect("a pid")).collect();
    assert_eq!(kids.len(), 40);
    let run = reaper(&["kill", "--signature", &fx.token, "--sequence", "TERM:300ms,KILL:10s", "--format", "json"]);
    let json = run.expect(0).json();
    let targets = json["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 41, "{json:#}");
    for t in targets {
        assert_eq!(t["outcome"], "killed", "every target ends by reaper's SIGKILL, not a hangup: {t}");
        assert_eq!(t["signals"], serde_json::json!(["SIGTERM", "SIGKILL"]), "{t}");
    }
    assert_eq!(fx.live_pids(), Vec::<u32>::new());
}
