//! `--younger-than`, `--started-after` and `--started-before`: ages exact to the clock tick.

use std::time::{Duration, Instant};

use super::can_run;
use crate::util::*;

// Start times used the whole-second boot time: ages were up to a second too old, and
// `--younger-than 600ms` missed a 200 ms-old process.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: start times have 1 s resolution"
)]
fn a_process_started_just_now_is_young() {
    let t0 = Instant::now();
    let fx = Fixture::start("young", "idle", &[]);
    let pid = fx.pid().to_string();
    let json = reaper(&["list", "--pid", &pid, "--format", "json"]).expect(0).json();
    let elapsed = t0.elapsed();
    let age = Duration::from_millis(json[0]["age_ms"].as_u64().expect("age_ms"));
    // The fixture started after t0 and reaper measured before it returned, so the true age is
    // below `elapsed`; a start time counts in 10 ms ticks (truncated), hence a little slack.
    assert!(age <= elapsed + Duration::from_millis(30), "age {age:?} > elapsed {elapsed:?}");
    let young = reaper(&["list", "--pid", &pid, "--younger-than", "600ms", "--format", "pid"]);
    let elapsed = t0.elapsed();
    if elapsed < Duration::from_millis(550) {
        assert_eq!(young.expect(0).pids(), vec![fx.pid()], "{elapsed:?} after the start");
    } else {
        eprintln!("note: the machine is slow ({elapsed:?}); --younger-than 600ms not checked");
    }
}

/// `--started-after pid:N` and `@SECONDS` select only processes started later; `kill` with
/// them ends only those (inside a PID namespace: `--name sleep` is broad).
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: start times have 1 s resolution"
)]
fn started_after_selects_only_newer_processes() {
    if !can_run() {
        return;
    }
    // Start times count in clock ticks (10 ms): the sleeps between the processes make their
    // start times differ by more than one tick.
    // `--name sleep` sees a child only once it has exec'd sleep: wait for that (bounded).
    let script = r#"
execd() { i=0; while [ "$(cat /proc/$1/comm 2>/dev/null)" != sleep ] && [ $i -lt 2000 ]; do i=$((i+1)); sleep 0.01; done; }
sleep 600 & OLD=$!; execd $OLD
sleep 0.1
sleep 601 & MARK=$!; execd $MARK
sleep 0.1
AT=$(date +@%s.%N)
sleep 0.1
sleep 602 & NEW=$!; execd $NEW
echo "OLD=$OLD MARK=$MARK NEW=$NEW"
echo "AFTER_PID=$("$REAPER" list --name sleep --started-after pid:$MARK --format json | tr -d ' \n')"
echo "AFTER_AT=$("$REAPER" list --name sleep --started-after $AT --format json | tr -d ' \n')"
echo "BEFORE_AT=$("$REAPER" list --name sleep --started-before $AT --format json | tr -d ' \n')"
"$REAPER" kill --name sleep --started-after pid:$MARK --yes -q; echo "KILL_RC=$?"
kill -0 $OLD && kill -0 $MARK && echo OLDER=alive
kill -0 $NEW 2>/dev/null || echo NEW=gone
"#;
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script]);
    let run = run_bounded(&mut cmd, "started-after in a namespace".into());
    let out = run.stdout();
    let say = format!("{out}\n{}", run.stderr());
    let pids = |key: &str| -> Vec<u64> {
        let line = out.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(line).unwrap_or(serde_json::Value::Null);
        let mut v: Vec<u64> = json.as_array().into_iter().flatten().filter_map(|p| p["pid"].as_u64()).collect();
        v.sort_unstable();
        v
    };
    let ids = out.lines().find(|l| l.starts_with("OLD=")).unwrap_or_default().to_string();
    let id = |k: &str| -> u64 {
        ids.split_whitespace().find_map(|w| w.strip_prefix(&format!("{k}="))?.parse().ok()).unwrap_or(0)
    };
    assert_eq!(pids("AFTER_PID"), vec![id("NEW")], "{say}");
    assert_eq!(pids("AFTER_AT"), vec![id("NEW")], "{say}");
    assert_eq!(pids("BEFORE_AT"), vec![id("OLD"), id("MARK")], "{say}");
    assert!(out.contains("KILL_RC=0") && out.contains("OLDER=alive") && out.contains("NEW=gone"), "{say}");
}

// `--started-after pid:1` in a container's trap (`trap 'reaper kill --started-after pid:1' EXIT`)
// means everything PID 1 started, also in PID 1's own clock tick: a process forked in that tick
// matches, PID 1 and reaper never do. Regression: "strictly after PID 1's start time" missed the
// children of the first 10 ms and the recipe exited 0 with them running. Run in a fresh PID
// namespace until a child shares PID 1's tick (compared directly, from /proc).
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a PID namespace (unshare) and /proc/PID/stat")]
fn started_after_a_pid_includes_its_own_clock_tick_and_excludes_it() {
    if !is_root() {
        return skip("unshare --pid needs root");
    }
    let script = r#"sleep 600 & c=$!
t1=$(cut -d' ' -f22 /proc/1/stat); tc=$(cut -d' ' -f22 /proc/$c/stat)
[ "$t1" = "$tc" ] || { echo other-tick; exit 0; }
echo "child=$c"
"$REAPER" list --started-after pid:1 --format pid; echo "list=$?"
"$REAPER" kill --started-after pid:1 --yes >/dev/null; echo "kill=$?"
kill -0 "$c" 2>/dev/null && echo child-alive; kill -0 1 && echo init-alive"#;
    for _ in 0..30 {
        let mut cmd = wrapper_cmd("unshare");
        cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script]);
        let run = run_bounded(&mut cmd, "unshare --pid --fork --mount-proc sh -c SCRIPT".into());
        let out = run.stdout();
        if out.trim() == "other-tick" {
            continue;
        }
        let child =
            out.lines().find_map(|l| l.strip_prefix("child=")).unwrap_or_else(|| panic!("{out}\n{}", run.stderr()));
        let listed: Vec<&str> = out.lines().take_while(|l| !l.starts_with("list=")).skip(1).collect();
        assert_eq!(listed, vec![child], "the child of PID 1's own tick, and nothing else: {out}\n{}", run.stderr());
        assert!(out.contains("list=0\n") && out.contains("kill=0\n"), "{out}\n{}", run.stderr());
        assert!(!out.contains("child-alive"), "{out}");
        assert!(out.contains("init-alive"), "PID 1 is never a target: {out}");
        return;
    }
    panic!("no child forked in PID 1's clock tick in 30 namespaces");
}
