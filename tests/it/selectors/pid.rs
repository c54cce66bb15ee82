//! `--pid` (a thread id is refused on every path) and the tree selectors (`--orphans`).

use crate::util::*;

// `--pid <tid>` treated a thread of a process as a process of its own.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a thread's id is a pid only there")]
fn a_thread_id_is_refused() {
    let fx = Fixture::start("threads", "thread-id", &[]);
    let (pid, tid) = (fx.pid(), fx.get("tid"));
    assert_ne!(pid, tid);
    let run = reaper(&["kill", "--pid", &tid.to_string(), "--timeout", "10s"]);
    run.expect(2);
    assert!(
        run.stderr().contains(&format!("refusing to signal pid {tid}: {tid} is a thread of {pid}")),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(pid));
    // The process itself is a fine target.
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(json["targets"][0]["pid"], pid, "{json:#}");
}

// One exit-code table: a thread id named where a process is meant is bad input (exit 2), said
// once and clearly, on every path that takes a pid. Regression: `kill --pid TID` refused with
// exit 2, but `wait --pid TID` and `run --watch-pid TID` exited 3 with "No such file or
// directory" said twice.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a thread's id is a pid only there")]
fn a_thread_id_is_refused_with_exit_2_on_every_path() {
    let fx = Fixture::start("threaded", "thread-id", &[]);
    let tid = fx.get("tid");
    let t = tid.to_string();
    let token = token("tid-run");
    for args in [
        vec!["kill", "--pid", &t, "--yes"],
        vec!["wait", "--pid", &t, "--timeout", "1s"],
        vec!["run", "--watch-pid", &t, "--", "echo", &token],
    ] {
        let run = reaper(&args);
        run.expect(2);
        let err = run.stderr();
        assert!(err.contains(&format!("{tid} is a thread of {}", fx.pid())), "{args:?}: {err}");
        assert!(!err.contains("os error"), "{args:?}: {err}");
        assert!(!run.stdout().contains(&token), "run started nothing: {}", run.stdout());
    }
    assert!(!is_dead(fx.pid()));
}

#[test]
fn daemon_is_an_orphan_and_a_live_child_is_not() {
    let daemon = Fixture::start("daemon", "daemon", &[]);
    let attached = Fixture::start("attached", "tree", &["2"]);
    let dpid = daemon.pid();
    let sig = format!("^\\S*python\\S* \\S+ {}", daemon.token);
    assert_eq!(reaper(&["list", "--orphans", "--signature", &sig, "--format", "pid"]).expect(0).pids(), vec![dpid]);
    let json = reaper(&["list", "--pid", &dpid.to_string(), "--format", "json"]).expect(0).json();
    assert_eq!(json[0]["orphan"], true);
    // The attached tree's child has a live parent: not an orphan.
    reaper(&["list", "--orphans", "--signature", &attached.token]).expect(1);
    let pids = reaper(&["list", "--signature", &attached.token, "--format", "pid"]).expect(0).pids();
    assert_eq!(pids.len(), 2);
}
