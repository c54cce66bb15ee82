//! `reaper kill` against processes that change under it: a pid recycled between plan and signal,
//! workers forked during the grace period, fork storms, growing trees, two reapers at once.
//! Every process is the test's own (a unique token, or an exact pid it spawned), reaped by
//! `Drop` guards.
//!
//! The long versions are `#[ignore]`d: `cargo test --test it -- --ignored long_`.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reaper::kill::{self as engine, KillOptions};
use reaper::{Outcome, Selection, Snapshot};
use serde_json::Value;

use crate::util::*;

#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: no pidfd pins (pid + start time re-checked instead)"
)]
fn pid_recycled_between_plan_and_signal_is_never_signalled() {
    // The target is planned, then exits and is reaped, and an unrelated process takes its pid
    // before the signals go out: the impostor must not be signalled, the target is `gone`.
    let mut fx = Fixture::start("reuse", "idle", &[]);
    let pid = fx.pid();
    assert_eq!(pid, fx.child.id(), "the fixture is our direct child (so we can reap it)");
    let sel = Selection::new().pid(pid);
    let opts = KillOptions::default();
    let mut snap = Snapshot::new();
    let plan = engine::plan(&sel, &mut snap, &opts).expect("a plan");
    assert!(plan.targets.iter().any(|t| t.pid == pid), "{plan:?}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL).expect("SIGKILL");
    fx.child.wait().expect("reaping the target");
    let mut impostor = spawn_at_pid(pid, 500).expect("recycling the pid");

    let report = engine::execute(&plan, &sel, &opts, &mut |_| {}).expect("a report");
    let t = report.targets.iter().find(|t| t.pid == pid).expect("the target in the report");
    assert_eq!(t.outcome, Outcome::Gone, "{report:?}");
    assert!(t.signals.is_empty(), "a recycled pid was signalled: {report:?}");
    assert_eq!(impostor.0.try_wait().expect("try_wait"), None, "the impostor was killed");
    let st = state(pid);
    assert!(st.is_some_and(|c| !"TtZX".contains(c)), "the impostor was stopped or killed: state {st:?}");
}

// Regression: the pidfd was opened when the plan was executed, and identity
// was the start time in clock ticks, so a pid recycled within the same tick passed the check.
#[test]
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: no pidfd pins")]
fn pid_recycled_within_the_same_clock_tick_is_never_signalled() {
    // Plan a fresh `sleep`, kill it, and have another `sleep` take its pid: when that happens
    // within the same clock tick, nothing but the plan's pin tells them apart. Executing a copy
    // of the plan without its pins (the old way: pinned by pid and start time at execute time)
    // signals the impostor, proving the case real; the plan itself never signals it.
    let mut same_tick = 0;
    for _ in 0..40 {
        let mut first = Spawned(
            Command::new("/bin/sleep").arg("600").stdin(Stdio::null()).process_group(0).spawn().expect("sleep"),
        );
        let pid = first.0.id();
        let start = stat(pid).expect("stat").start;
        let sel = Selection::new().pid(pid);
        let opts = KillOptions { sequence: "TERM:2s,KILL".parse().expect("sequence"), ..KillOptions::default() };
        let plan = engine::plan(&sel, &mut Snapshot::new(), &opts).expect("a plan");
        assert!(plan.pins.contains_key(&pid), "the plan pins its target: {plan:?}");
        first.0.kill().expect("SIGKILL");
        first.0.wait().expect("reaping it");
        let Some(mut impostor) = spawn_at_pid(pid, 200) else { continue };
        let tick = stat(pid).expect("the impostor's stat").start;

        let report = engine::execute(&plan, &sel, &opts, &mut |_| {}).expect("a report");
        let t = report.targets.iter().find(|t| t.pid == pid).expect("the target");
        assert_eq!(t.outcome, Outcome::Gone, "{report:?}");
        assert!(t.signals.is_empty(), "the impostor was signalled: {report:?}");
        assert_eq!(impostor.0.try_wait().expect("try_wait"), None, "the impostor was killed");
        assert!(!frozen(pid), "the impostor was left stopped");

        if tick == start {
            same_tick += 1;
            let mut unpinned = plan.clone();
            unpinned.pins.clear();
            let report = engine::execute(&unpinned, &sel, &opts, &mut |_| {}).expect("a report");
            let t = report.targets.iter().find(|t| t.pid == pid).expect("the target");
            assert_eq!(t.signals, ["SIGTERM"], "without the pin the impostor passes for the target: {report:?}");
            assert!(impostor.0.try_wait().expect("try_wait").is_some(), "SIGTERM ends a sleep");
            if same_tick >= 2 {
                break;
            }
        }
        drop(impostor);
    }
    eprintln!("same clock tick reached {same_tick} times");
}

// Regression: a worker forked by its parent's SIGTERM handler (a node
// cluster primary replacing a worker) was no target: it never got SIGTERM, the parent waited
// for it, and both were SIGKILLed after the whole timeout (or the worker survived).
#[test]
fn worker_forked_during_the_grace_period_gets_the_same_signal() {
    let fx = Fixture::start("refork", "refork", &["120"]);
    let (parent, first) = (fx.pid(), fx.get("worker"));
    let started = Instant::now();
    let run = reaper(&["kill", "--pid", &parent.to_string(), "--timeout", "10s", "--format", "json"]);
    let took = started.elapsed();
    run.expect(0);
    let json = run.json();
    let targets = json["targets"].as_array().expect("targets");
    let reforked: Vec<&Value> = targets.iter().filter(|t| t["pid"] != parent && t["pid"] != first).collect();
    assert_eq!(reforked.len(), 1, "the re-forked worker is a target: {json:#}");
    assert_eq!(reforked[0]["signals"], serde_json::json!(["SIGTERM"]), "{json:#}");
    assert_eq!(reforked[0]["outcome"], "exited", "{json:#}");
    assert_eq!(target(&json, parent)["outcome"], "exited", "{json:#}");
    assert!(took < Duration::from_secs(8), "took {took:?}: the grace period ran out\n{json:#}");
    assert_eq!(fx.live_pids(), Vec::<u32>::new());
}

#[test]
fn two_concurrent_reapers_both_succeed() {
    let fx = Fixture::start("kill-race", "tree", &["4"]);
    let pids: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().expect("pid")).collect();
    let spawn = || {
        reaper_cmd()
            .args(["kill", "--signature", &fx.token, "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("reaper")
    };
    let (a, b) = (spawn(), spawn());
    for out in [wait_bounded(a, "reaper a"), wait_bounded(b, "reaper b")] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(pids.iter().all(|&p| is_dead(p)));
}

#[test]
fn bounded_fork_storm_leaves_nothing() {
    let fx = Fixture::start("kill-storm", "storm", &["3", "3"]);
    wait_for("the storm to grow", || fx.live_pids().len() >= 13);
    let run = reaper(&["kill", "--signature", &fx.token, "--timeout", "1s", "--format", "json"]);
    run.expect(0);
    assert_eq!(fx.live_pids(), Vec::<u32>::new(), "{}", run.stdout());
    assert!(run.json()["targets"].as_array().expect("targets").len() >= 13);
}

/// `rounds` kills of a bounded fork storm (every process keeps 3 children alive, 3 levels
/// deep, leaves exit and are re-forked all the time): zero survivors every time.
fn repeated_fork_storm_kills(rounds: usize) {
    for round in 0..rounds {
        let fx = Fixture::start("storm-rep", "storm", &["3", "3"]);
        wait_for("the storm to grow", || fx.live_pids().len() >= 13);
        let run = reaper(&["kill", "--signature", &fx.token, "--timeout", "2s", "--format", "json"]);
        run.expect(0);
        let left = fx.live_pids();
        assert!(left.is_empty(), "round {round}: survivors {left:?}\n{}", run.stdout());
    }
}

#[test]
fn repeated_fork_storms_leave_nothing() {
    repeated_fork_storm_kills(5);
}

#[test]
#[ignore = "long: 100 fork storms"]
fn long_kill_100_fork_storms_leave_nothing() {
    repeated_fork_storm_kills(100);
}

#[test]
fn growing_tree_by_root_pid_leaves_nothing_5_rounds() {
    // Every process keeps forking children that stay alive, 4 levels deep, while `kill --pid
    // ROOT` ends the tree: nothing may escape (a child forked between the last look and its
    // parent's end is reparented and no descendant any more), and nothing may stay stopped.
    for round in 0..5 {
        let fx = Fixture::start("grow-rep", "grow", &["4", "4"]);
        wait_for("the tree to grow", || fx.live_pids().len() >= 40);
        let run = reaper(&["kill", "--pid", &fx.pid().to_string(), "--timeout", "2s", "--format", "json"]);
        let left = fx.live_pids();
        let stopped: Vec<u32> = left.iter().copied().filter(|&p| frozen(p)).collect();
        assert!(left.is_empty(), "round {round}: {} left, stopped {stopped:?}\n{}", left.len(), run.stdout());
        run.expect(0);
    }
}
