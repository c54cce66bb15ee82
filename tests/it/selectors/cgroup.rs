//! `--cgroup`: a CI job's cgroup ends whole (with `cgroup.kill` for what escaped its tree), and
//! says whether it is empty.

use super::{can_run, job, postgres};
use crate::util::*;

/// What a cgroup test needs, or `None` (said) where it cannot run: a cgroup and a job directory
/// of its own, and the prefix that starts the job inside that cgroup.
fn cgroup_job(tag: &str) -> Option<(Cgroup, TempDir, String)> {
    if !can_run() {
        return None;
    }
    let Some(cg) = Cgroup::new(&token(tag)) else {
        skip("no writable cgroup2 mount");
        return None;
    };
    let dir = TempDir::open_to_all(tag);
    let prefix = format!("env JOIN_CGROUP={}", cg.dir.display());
    Some((cg, dir, prefix))
}

#[test]
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: cgroups are Linux's")]
fn cgroup_ends_the_job_and_says_it_is_empty() {
    let Some((cg, dir, prefix)) = cgroup_job("cgjob") else { return };
    let pg = postgres();
    let out = job(&dir.0, pg.as_deref(), "", have("redis-server"), &prefix, &["--cgroup", &cg.path]);
    out.assert_job_ended();
    let say = out.say();
    assert_eq!(out.kill_json["cgroups"][0]["path"], cg.path.as_str(), "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], true, "{say}");
}

#[test]
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: cgroups are Linux's")]
fn cgroup_survivor_fails_the_kill_and_the_cgroup_is_not_empty() {
    let Some((cg, dir, prefix)) = cgroup_job("cgstub") else { return };
    let out = job(&dir.0, None, "stubborn", false, &prefix, &["--cgroup", &cg.path, "--sequence", "TERM:200ms"]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(1), "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], false, "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["cgroup_kill"], false, "no KILL in the sequence: no cgroup.kill: {say}");
    assert!(out.kill_err.contains("still holds processes"), "{say}");
}

/// A process that, on SIGTERM, double-forks a new process and exits: the new one is no
/// descendant of any target (its parent exited), so only the cgroup still holds it, and
/// `cgroup.kill` ends it.
#[test]
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: cgroups are Linux's")]
fn cgroup_kill_ends_what_escaped_the_tree_during_the_sequence() {
    let Some((cg, dir, prefix)) = cgroup_job("cgrespawn") else { return };
    let out = job(&dir.0, None, "respawn", false, &prefix, &["--cgroup", &cg.path, "--timeout", "3s"]);
    let say = out.say();
    out.assert_job_ended();
    assert_eq!(out.kill_json["cgroups"][0]["cgroup_kill"], true, "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], true, "{say}");
}
