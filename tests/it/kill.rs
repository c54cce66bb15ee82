//! `reaper kill` against real processes: servers, launchers, supervisors, zombies, shared
//! sockets; its signal sequences, its output, the dry run, the y/N prompt and bad input.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::*;

#[test]
fn server_exiting_on_term_is_reported_exited_and_port_free() {
    let fx = Fixture::start("kill-term", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let json = reaper(&["kill", "--port", &port, "--format", "json"]).expect(0).json();
    assert_eq!(json["dry_run"], false);
    let t = target(&json, fx.pid());
    assert_eq!(t["outcome"], "exited", "{json:#}");
    assert_eq!(t["signals"], serde_json::json!(["SIGTERM"]));
    assert!(t["elapsed_ms"].as_u64().expect("elapsed_ms") < 5000);
    assert!(t["cmdline"].as_array().expect("cmdline").iter().any(|a| a == fx.token.as_str()));
    for key in ["ppid", "name", "user"] {
        assert!(t.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["ports"][0]["port"], fx.port());
    assert_eq!(json["ports"][0]["free"], true);
    assert_eq!(json["ports"][0]["holders"], serde_json::json!([]));
    assert_eq!(json["survivors"], serde_json::json!([]));
    assert!(is_dead(fx.pid()));
    assert!(port_is_free(fx.port()));
}

#[test]
fn human_output_has_one_line_per_target_and_a_summary() {
    let fx = Fixture::start("kill-human", "tree", &["3"]);
    let pids: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().expect("pid")).collect();
    let run = reaper(&["kill", "--signature", &fx.token]);
    run.expect(0);
    let out = run.stdout();
    for pid in &pids {
        let line = out.lines().find(|l| l.starts_with(&format!("{pid} "))).unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains(&fx.token) && line.contains("SIGTERM -> exited in "), "{line}");
        assert!(is_dead(*pid));
    }
    assert!(out.contains("3 targets: 3 exited"), "{out}");
    // -q prints nothing when all went well.
    let fx = Fixture::start("kill-quiet", "listen", &["tcp", "127.0.0.1"]);
    let run = reaper(&["-q", "kill", "--pid", &fx.pid().to_string()]);
    run.expect(0);
    assert_eq!(run.stdout(), "");
    assert_eq!(run.stderr(), "");
    assert!(is_dead(fx.pid()));
}

#[test]
fn server_ignoring_term_is_killed_after_the_timeout() {
    let fx = Fixture::start("kill-ignore", "ignore-term", &[]);
    let pid = fx.pid().to_string();
    let json = reaper(&["kill", "--pid", &pid, "--timeout", "300ms", "--format", "json"]).expect(0).json();
    let t = target(&json, fx.pid());
    assert_eq!(t["outcome"], "killed", "{json:#}");
    assert_eq!(t["signals"], serde_json::json!(["SIGTERM", "SIGKILL"]));
    assert!(t["elapsed_ms"].as_u64().expect("elapsed") >= 300, "{t}");
    assert!(is_dead(fx.pid()));
}

#[test]
fn custom_sequence_and_force() {
    let fx = Fixture::start("kill-seq", "ignore-term", &[]);
    let json =
        reaper(&["kill", "--pid", &fx.pid().to_string(), "--sequence", "TERM:100ms,INT:20s,KILL", "--format", "json"])
            .expect(0)
            .json();
    // SIGINT ends the fixture (its default action: no traceback; the long step only bounds a loaded machine).
    assert_eq!(target(&json, fx.pid())["signals"], serde_json::json!(["SIGTERM", "SIGINT"]), "{json:#}");
    assert_eq!(target(&json, fx.pid())["outcome"], "exited");
    let fx = Fixture::start("kill-force", "listen", &["tcp", "127.0.0.1"]);
    let json = reaper(&["kill", "--pid", &fx.pid().to_string(), "-9", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, fx.pid())["signals"], serde_json::json!(["SIGKILL"]));
    assert_eq!(target(&json, fx.pid())["outcome"], "killed");
}

// The cause of a flaky `kill::custom_sequence_and_force`: a test suite started as a background
// job of a non-interactive shell (`cargo test &` in a script, a CI step) inherits SIGINT set to
// SIG_IGN, and Python then keeps ignoring SIGINT instead of raising KeyboardInterrupt: the INT
// step did nothing and the sequence ended with KILL. The fixtures set SIGINT to its default
// action themselves, whatever they inherit; started here exactly that way, INT ends it.
#[test]
fn a_fixture_started_with_sigint_ignored_still_exits_on_sigint() {
    let token = token("sigint-ignored");
    let script = format!("python3 '{FIXTURE}' '{token}' ignore-term & wait");
    let (_guard, info) = Started::spawn_ready(&token, Command::new("bash").args(["-c", &script]));
    let pid = info["pid"].clone();
    let json =
        reaper(&["kill", "--pid", &pid, "--sequence", "TERM:100ms,INT:20s,KILL", "--format", "json"]).expect(0).json();
    assert_eq!(json["targets"][0]["signals"], serde_json::json!(["SIGTERM", "SIGINT"]), "{json:#}");
    assert_eq!(json["targets"][0]["outcome"], "exited", "{json:#}");
}

// SIGINT ends a fixture by the signal, as it ends a C program, and says nothing: no
// KeyboardInterrupt traceback on the test run's stderr. Regression: main() installed Python's
// KeyboardInterrupt handler again (to undo an inherited SIG_IGN), and every INT step of a test
// printed a traceback during `cargo test`. Started as it is and with SIGINT ignored (as a
// background job of a script starts it: `env --ignore-signal`).
#[test]
fn a_fixture_dies_of_sigint_without_a_traceback() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    for ignored in [false, true] {
        let token = token("sigint-quiet");
        let mut cmd = Command::new("env");
        if ignored {
            cmd.arg("--ignore-signal=INT");
        }
        cmd.args(["python3", FIXTURE, &token, "listen", "tcp", "127.0.0.1"]).stderr(Stdio::piped());
        let (mut started, info) = Started::spawn_ready(&token, &mut cmd);
        let pid = num(&info, "pid");
        assert_eq!(pid, started.pid(), "env execs the fixture");
        let mut stderr = started.child.stderr.take().expect("piped stderr");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGINT)
            .expect("SIGINT");
        let status = wait_exit(&mut started.child, "the fixture");
        let mut said = String::new();
        stderr.read_to_string(&mut said).expect("reading its stderr");
        assert_eq!(status.signal(), Some(nix::libc::SIGINT), "ignored={ignored}: {status:?}; stderr: {said}");
        assert_eq!(said, "", "ignored={ignored}: the fixture printed on SIGINT");
    }
}

// In `kill` (and `run`, `pick`) `-s` is the signal, as in kill(1): `-s TERM --port P` ends the
// holder, `-s 9` is SIGKILL. Regression: `-s` was `--signature`: `kill -s TERM --port P`
// planned nothing and exited 0 while the holder ran on. `--signature` has no short form.
#[test]
fn dash_s_is_the_signal_as_in_kill() {
    let fx = Fixture::start("dash-s", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let planned = reaper(&["kill", "-s", "9", "--port", &port, "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(planned["targets"][0]["pid"].as_u64(), Some(u64::from(fx.pid())), "{planned:#}");
    assert_eq!(planned["targets"][0]["signals"][0], "SIGKILL", "{planned:#}");
    let killed = reaper(&["kill", "-s", "TERM", "--port", &port, "--yes", "--format", "json"]).expect(0).json();
    assert_eq!(killed["targets"][0]["pid"].as_u64(), Some(u64::from(fx.pid())), "{killed:#}");
    assert_eq!(killed["targets"][0]["signals"][0], "SIGTERM", "{killed:#}");
    wait_for("the holder to be gone", || is_dead(fx.pid()) || is_zombie(fx.pid()));
    // A bad signal names the value and signals nothing; `list` has no `-s`.
    let bad = reaper(&["kill", "-s", "NOPE", "--pid", "1"]);
    assert!(bad.expect(2).stderr().contains("NOPE"), "{}", bad.stderr());
    reaper(&["list", "-s", &fx.token]).expect(2);
}

fn sigkill(pid: u32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
}

// The PyInstaller onefile case: the launcher dies, its server is orphaned and keeps the port.
#[test]
fn orphaned_server_of_a_killed_launcher_is_found_by_port_and_the_port_freed() {
    let fx = Fixture::start("kill-launcher", "launcher", &[]);
    let (launcher, server) = (fx.pid(), fx.get("child"));
    sigkill(launcher);
    wait_for("the server to be orphaned", || ppid(server).is_some_and(|p| p != launcher));
    assert!(!port_is_free(fx.port()));
    let json = reaper(&["kill", "-p", &fx.port().to_string(), "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, server)["outcome"], "exited", "{json:#}");
    assert_eq!(json["ports"][0]["free"], true);
    assert!(is_dead(server));
    assert!(port_is_free(fx.port()));
}

#[test]
fn killing_a_launcher_kills_its_tree_unless_no_tree() {
    let fx = Fixture::start("kill-notree", "launcher", &[]);
    let (launcher, server) = (fx.pid(), fx.get("child"));
    let pids = reaper(&["kill", "--pid", &launcher.to_string(), "--no-tree", "--format", "pid"]).expect(0).pids();
    assert_eq!(pids, vec![launcher]);
    assert!(is_dead(launcher));
    assert!(!is_dead(server), "--no-tree killed the child");

    let fx = Fixture::start("kill-tree", "launcher", &[]);
    let (launcher, server) = (fx.pid(), fx.get("child"));
    let json = reaper(&["kill", "--pid", &launcher.to_string(), "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, launcher)["matched"], true);
    assert_eq!(target(&json, server)["matched"], false);
    assert_eq!(target(&json, server)["ppid"], launcher);
    assert!(is_dead(launcher) && is_dead(server));
    assert!(port_is_free(fx.port()));
}

#[test]
fn respawning_supervisor_that_ignores_term_leaves_nothing() {
    let fx = Fixture::start("kill-respawn", "respawn", &[]);
    let json =
        reaper(&["kill", "--pid", &fx.pid().to_string(), "--timeout", "300ms", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, fx.pid())["outcome"], "killed", "{json:#}");
    assert!(is_dead(fx.pid()));
    assert_eq!(fx.live_pids(), Vec::<u32>::new(), "{json:#}");
}

#[test]
fn respawning_shell_loop_leaves_nothing() {
    let token = token("kill-shloop");
    let script = format!("while true; do (exec -a {token}-child sleep 1000) & wait; done");
    let p = Started::spawn(token.clone(), Command::new("bash").args(["-c", &script, &token]));
    wait_for("the loop's child", || pids_with_token(&token).len() == 2);
    reaper(&["kill", "--signature", &token, "--timeout", "2s"]).expect(0);
    assert!(is_dead(p.pid()));
    assert_eq!(pids_with_token(&token), Vec::<u32>::new());
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the zombies fixture reads /proc/PID/stat")]
fn parent_with_zombie_children() {
    let fx = Fixture::start("kill-zombies", "zombies", &["3"]);
    let zombies: Vec<u32> = fx.info["zombies"].split(',').map(|p| p.parse().expect("pid")).collect();
    let json = reaper(&["kill", "--pid", &fx.pid().to_string(), "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, fx.pid())["outcome"], "exited");
    for z in zombies {
        // A zombie is dead: never signalled.
        let t = target(&json, z);
        assert_eq!(t["outcome"], "gone", "{t}");
        assert_eq!(t["signals"], serde_json::json!([]));
    }
    assert!(is_dead(fx.pid()));
}

#[test]
fn socket_shared_by_two_processes() {
    let fx = Fixture::start("kill-shared", "shared", &[]);
    let (parent, child) = (fx.pid(), fx.get("child"));
    let json = reaper(&["kill", "-p", &fx.port().to_string(), "--no-tree", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, parent)["outcome"], "exited");
    assert_eq!(target(&json, child)["outcome"], "exited");
    assert_eq!(json["ports"][0]["free"], true);
    assert!(port_is_free(fx.port()));
}

#[test]
fn port_still_held_by_a_survivor_exits_1_and_names_the_holder() {
    let fx = Fixture::start("kill-held", "shared", &[]);
    let (parent, child) = (fx.pid(), fx.get("child"));
    // Only the parent is a target: the child still holds the inherited socket.
    let run =
        reaper(&["kill", "-p", &fx.port().to_string(), "--pid", &parent.to_string(), "--no-tree", "--format", "json"]);
    run.expect(1);
    let json = run.json();
    assert_eq!(target(&json, parent)["outcome"], "exited");
    assert_eq!(json["ports"][0]["free"], false);
    assert_eq!(json["ports"][0]["holders"], serde_json::json!([child]));
    assert!(run.stderr().contains(&format!("by pid {child}")), "{}", run.stderr());
    assert!(!is_dead(child));
}

// A supervisor (like PM2) starts its child again on the same port after it dies: `kill --port`
// names it in the plan, watches the port for the settle time, and reports who took the port
// again and who started that, exit 1. Regression: exit 0 "free", and the next server failed.
#[test]
fn a_supervisor_that_restarts_the_holder_is_named_and_fails_the_kill() {
    let fx = Fixture::start("trust-supervise", "supervise", &["1000"]);
    let (sup, first, p) = (fx.pid(), fx.get("child"), fx.port().to_string());

    let dry = reaper(&["kill", "--port", &p, "--dry-run"]).expect(0).stdout();
    assert!(dry.contains(&format!("note: pid {sup} ")), "{dry}");

    // Settle long enough for the restart even on a loaded machine.
    let run = reaper(&["kill", "--port", &p, "--yes", "--format", "json", "--settle", "20s"]);
    run.expect(1);
    let json = run.json();
    assert!(is_dead(first));
    assert!(json["supervisors"].as_array().expect("supervisors").iter().any(|s| s["pid"] == sup), "{json:#}");
    let retaken = &json["ports"][0]["retaken"];
    assert!(retaken["after_ms"].as_u64().is_some(), "{json:#}");
    assert!(retaken["parents"].as_array().expect("parents").contains(&Value::from(sup)), "{json:#}");
    let second = retaken["holders"][0].as_u64().expect("a new holder") as u32;
    assert_ne!(second, first);
    let err = run.stderr();
    assert!(err.contains("taken again") && err.contains(&format!("pid {sup}")), "{err}");

    // --settle 0 skips the watch: the port is free the moment it is checked (the supervisor
    // waits 1 s before it restarts), so exit 0.
    wait_for("the restarted child to listen", || !pids_with_token(&fx.token).is_empty());
    reaper(&["wait", "--port", &p, "--listening", "--timeout", "20s"]).expect(0);
    reaper(&["kill", "--port", &p, "--yes", "--settle", "0"]).expect(0);
    assert!(!is_dead(sup), "the supervisor is not a target");
}

#[test]
fn dry_run_signals_nothing() {
    let fx = Fixture::start("kill-dry", "launcher", &[]);
    let (launcher, server) = (fx.pid(), fx.get("child"));
    let json = reaper(&["kill", "--signature", &fx.token, "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(json["dry_run"], true);
    assert!(outcomes(&json).iter().all(|o| o == "planned"));
    assert_eq!(target(&json, launcher)["signals"], serde_json::json!(["SIGTERM", "SIGKILL"]));
    let text =
        reaper(&["kill", "-p", &fx.port().to_string(), "--dry-run", "--sequence", "INT:1s,KILL"]).expect(0).stdout();
    assert!(text.contains("would signal 1 process: SIGINT, wait 1s, then SIGKILL, wait 2s"), "{text}");
    assert!(text.contains(&server.to_string()) && text.contains(&fx.token), "{text}");
    assert!(text.contains("held"), "{text}");
    assert_eq!(fx.live_pids(), {
        let mut v = vec![launcher, server];
        v.sort();
        v
    });
}

// `kill --dry-run` printed the tree breadth first: children appeared under the wrong parent.
#[test]
fn dry_run_tree_is_depth_first() {
    let fx = Fixture::start("branches", "branches", &["3", "2", "120"]);
    assert_eq!(fx.get("n"), 15);
    let out = reaper(&["kill", "--pid", &fx.pid().to_string(), "--dry-run"]).expect(0).stdout();
    let mut lines = out.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("would signal 15 processes")), "{out}");
    // Each line: 3 spaces a level, a 2-character mark, the pid.
    let rows: Vec<(usize, u32)> = lines
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            let rest = l.trim_start().trim_start_matches("* ");
            let pid = rest.split_whitespace().next().and_then(|p| p.parse().ok());
            ((indent - indent % 3) / 3, pid.unwrap_or_else(|| panic!("no pid in {l:?}\n{out}")))
        })
        .collect();
    assert_eq!(rows.len(), 15, "{out}");
    assert_eq!(rows[0], (0, fx.pid()), "{out}");
    for (i, &(depth, pid)) in rows.iter().enumerate().skip(1) {
        assert!(depth >= 1, "{out}");
        // The parent is the nearest line above, one level up.
        let parent = rows[..i].iter().rev().find(|&&(d, _)| d == depth - 1).map(|&(_, p)| p);
        assert_eq!(parent, ppid(pid), "{pid} is shown under the wrong parent:\n{out}");
        if i + 1 < rows.len() {
            assert!(rows[i + 1].0 <= depth + 1, "{out}");
        }
    }
    let gone: Vec<String> = rows
        .iter()
        .filter(|&&(_, pid)| is_dead(pid))
        .map(|&(_, pid)| format!("{pid}: {:?}", std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()))
        .collect();
    assert!(gone.is_empty(), "a dry run signals nothing, yet these are gone: {gone:?}\n{out}");
}

#[test]
fn no_selector_is_a_usage_error() {
    let run = reaper(&["kill"]);
    run.expect(2);
    assert!(run.stderr().contains("selector"), "{}", run.stderr());
    reaper(&["kill", "--timeout", "1s", "--dry-run"]).expect(2);
}

#[test]
fn bad_input_exits_2_and_signals_nothing() {
    let fx = Fixture::start("kill-bad", "listen", &["tcp", "127.0.0.1"]);
    let pid = fx.pid().to_string();
    for (args, named) in [
        (vec!["--signal", "FOO"], "FOO"),
        (vec!["--sequence", "TERM:5x,KILL"], "TERM:5x,KILL"),
        (vec!["--sequence", "KILL,TERM"], "KILL,TERM"), // nothing can follow KILL
        (vec!["--timeout", "5x"], "5x"),
        (vec!["-p", "70000"], "70000"),
        (vec!["--signature", "("], "("),
        (vec!["--user", "no-such-user-reaper"], "no-such-user-reaper"),
    ] {
        let mut all = vec!["kill", "--pid", &pid];
        all.extend(args);
        let run = reaper(&all);
        run.expect(2);
        assert!(run.stderr().contains(named), "{}", run.stderr());
        assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    }
    assert!(!is_dead(fx.pid()));
}

#[test]
fn nothing_matched_is_success() {
    let token = token("kill-nothing");
    let run = reaper(&["kill", "--signature", &token]);
    run.expect(0);
    assert!(run.stdout().contains("nothing matched"), "{}", run.stdout());
}

/// Runs reaper under `script(1)`, so that its stdin, stdout and stderr are a terminal, feeding
/// `input` to it.
fn reaper_on_a_terminal(args: &str, input: &str) -> std::process::Output {
    let mut child = wrapper_cmd("script")
        .args(["-qec", &format!("{REAPER} {args}"), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    wait_bounded(child, &format!("script -c 'reaper {args}'"))
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn asks_on_a_terminal_and_no_means_nothing_signalled() {
    let fx = Fixture::start("kill-ask", "listen", &["tcp", "127.0.0.1"]);
    let out = reaper_on_a_terminal(&format!("kill --pid {}", fx.pid()), "n\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("proceed? [y/N]") && text.contains("nothing signalled"), "{text}");
    assert!(!is_dead(fx.pid()));
    let out = reaper_on_a_terminal(&format!("kill --pid {}", fx.pid()), "y\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("SIGTERM -> exited"), "{text}");
    assert!(is_dead(fx.pid()));
    // --yes never asks.
    let fx = Fixture::start("kill-yes", "listen", &["tcp", "127.0.0.1"]);
    let out = reaper_on_a_terminal(&format!("kill --yes --pid {}", fx.pid()), "");
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("proceed?"));
    assert!(is_dead(fx.pid()));
}
