//! `--env`: a CI job's marker ends the job and not a bystander, what sheds the marker, and
//! environments that cannot be read (other users', not-dumpable processes) accounted for.

use std::process::Command;

use super::{can_run, job, postgres};
use crate::util::*;

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the job runs in a PID namespace (unshare)")]
fn env_marker_ends_the_job_and_not_the_bystander() {
    if !can_run() {
        return;
    }
    let dir = TempDir::open_to_all("envjob");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let pg = postgres();
    let out = job(&dir.0, pg.as_deref(), "", false, &format!("env {marker}"), &["--env", &marker]);
    out.assert_job_ended();
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the job runs in a PID namespace (unshare)")]
fn env_marker_survivor_fails_the_kill() {
    if !can_run() {
        return;
    }
    let dir = TempDir::open_to_all("envstub");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let out =
        job(&dir.0, None, "stubborn", false, &format!("env {marker}"), &["--env", &marker, "--sequence", "TERM:200ms"]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(1), "{say}");
    let survivors = out.kill_json["survivors"].as_array().map_or(0, Vec::len);
    assert_eq!(survivors, 1, "the marked process ignoring TERM is the one survivor: {say}");
    assert!(out.kill_err.contains("survived SIGTERM"), "{say}");
    assert!(out.run.stdout().contains("BYSTANDER=alive"), "{say}");
}

/// redis-server blanks its environment block when it sets its process title, and its
/// `--daemonize yes` parent exits: the marker does not reach it (docs/src/ci.md says so).
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the job runs in a PID namespace (unshare)")]
fn env_marker_misses_a_daemonized_redis() {
    if !can_run() || !have("redis-server") {
        return;
    }
    let dir = TempDir::open_to_all("envredis");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let out = job(&dir.0, None, "", true, &format!("env {marker}"), &["--env", &marker]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(0), "{say}");
    let left = out.left();
    assert!(left.len() == 1 && left[0].ends_with("redis-server"), "only redis escapes: {left:?}\n{say}");
}

/// Not root, `--env` cannot read other users' environments: a root process carrying the
/// marker is not listed, and stderr says how many environments could not be read.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs reaper as nobody")]
fn env_unreadable_environments_are_counted_on_stderr() {
    if !is_root() {
        skip("needs root to run a marked process that nobody cannot read");
        return;
    }
    if !have("setpriv") {
        return;
    }
    let fx = Fixture::start("envhidden", "idle", &[]);
    let marker = format!("REAPER_TEST_HIDDEN={}", fx.token);
    // The fixture itself is root's and unmarked; a marked root process is what nobody misses.
    let marked =
        Started::spawn(fx.token.clone(), Command::new("sleep").arg("600").env("REAPER_TEST_HIDDEN", &fx.token));
    let run = reaper_as_nobody(&["list", "--env", &marker]);
    run.expect(1);
    assert!(run.stderr().contains("could not be read") && run.stderr().contains("--env"), "{}", run.stderr());
    // As root, it is found.
    let pids = reaper(&["list", "--env", &marker, "--format", "pid"]).expect(0).pids();
    assert_eq!(pids, vec![marked.pid()]);
}

/// A process of user nobody that makes itself not dumpable (as ssh-agent and gpg-agent do), so
/// its environment is closed to other processes of the same user; started by `sh -c` as nobody
/// when `parent_sh`, else directly by the test. Its environment has `MARK=token`. Prints its pid.
fn not_dumpable(token: &str, parent_sh: bool) -> (Started, u32) {
    let code = "import ctypes, os, sys, time\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n\
                print(os.getpid(), flush=True)\ntime.sleep(600)";
    let py = ["/usr/bin/python3", "-c", code, token];
    let mut cmd = Command::new(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]);
    if parent_sh {
        // The shell stays (it waits), carrying the entry that its child inherited.
        cmd.args(["sh", "-c", "\"$@\" & wait", token]).args(py);
    } else {
        cmd.args(py);
    }
    let (guard, line) = Started::spawn_saying(token, cmd.env("MARK", token).current_dir("/"));
    let pid = line.parse().expect("a pid");
    wait_for("it to be not dumpable", || {
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| s.contains("Uid:\t65534"))
    });
    (guard, pid)
}

// `--env` and the caller's own process whose environment cannot be read (not dumpable): it is
// not a process that did not match. Its ancestry settles it when an ancestor carries the entry
// (it inherited it): a match. Otherwise it is reported by pid and the kill does not exit 0.
// Regression: counted as "other users' (need root)", left running, exit 0.
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: an unreadable environment is not settled through the ancestry"
)]
#[test]
fn env_accounts_for_the_callers_own_unreadable_process() {
    if !is_root() || !std::path::Path::new("/usr/bin/python3").exists() {
        return skip("needs root (to become nobody) and /usr/bin/python3");
    }
    let alone_token = token("env-undumpable");
    let mark = format!("MARK={alone_token}");
    let (_alone, pid) = not_dumpable(&alone_token, false);
    assert!(std::fs::read(format!("/proc/{pid}/environ")).is_ok(), "root reads it");
    let run = reaper_as_nobody(&["kill", "--env", &mark, "--yes"]);
    run.expect(1);
    assert!(
        run.stderr().contains(&format!("pid {pid} (python3): its environment could not be read")),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(pid), "not checked, so not signalled");
    drop(_alone);

    let tree_token = token("env-undumpable-child");
    let mark = format!("MARK={tree_token}");
    let (_tree, pid) = not_dumpable(&tree_token, true);
    let run = reaper_as_nobody(&["kill", "--env", &mark, "--yes", "--format", "json"]);
    run.expect(0);
    let json = run.json();
    assert!(json["targets"].as_array().expect("targets").iter().any(|t| t["pid"] == pid), "{json:#}");
    wait_for("the process to end", || is_dead(pid));
}

// As root, processes without an environment (kernel threads, zombies: the kernel answers
// ESRCH) are not "environments that could not be read". Regression: every `--env` call as root
// warned that ~60 environments could not be read.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the zombies fixture reads /proc/PID/stat")]
fn env_as_root_does_not_count_kernel_threads_and_zombies_as_unreadable() {
    if !is_root() {
        return skip("as root only");
    }
    let fx = Fixture::start("env-root", "zombies", &["3"]);
    let run = reaper(&["list", "--env", &format!("REAPER_TEST_NOTHING={}", fx.token)]);
    run.expect(1);
    let err = run.stderr();
    // No count of environments that do not exist...
    assert!(!err.contains("could not be read (other users'"), "{err}");
    // ...and a process named as unchecked (another test's sandboxed one, say) is none of them.
    for line in err.lines().filter(|l| l.contains("its environment could not be read")) {
        let pid: u32 = line.split_whitespace().nth(2).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        assert!(!fx.info["zombies"].split(',').any(|z| z == pid.to_string()), "a zombie of the fixture: {line}");
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            assert!(!cmd.is_empty() || state(pid).is_none(), "a kernel thread: {line}");
        }
    }
}
