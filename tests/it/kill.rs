//! `reaper kill` against real processes: servers, launchers, supervisors, fork storms, zombies,
//! shared sockets, racing reapers, another user's processes and a PID namespace of our own.

use std::net::TcpListener;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::*;

fn sigkill(pid: u32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
}

fn target(json: &Value, pid: u32) -> &Value {
    json["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["pid"] == pid)
        .unwrap_or_else(|| panic!("no target {pid} in {json:#}"))
}

fn outcomes(json: &Value) -> Vec<String> {
    json["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["outcome"].as_str().expect("str").to_string())
        .collect()
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

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
fn bounded_fork_storm_leaves_nothing() {
    let fx = Fixture::start("kill-storm", "storm", &["3", "3"]);
    wait_for("the storm to grow", || fx.live_pids().len() >= 13);
    let run = reaper(&["kill", "--signature", &fx.token, "--timeout", "1s", "--format", "json"]);
    run.expect(0);
    assert_eq!(fx.live_pids(), Vec::<u32>::new(), "{}", run.stdout());
    assert!(run.json()["targets"].as_array().expect("targets").len() >= 13);
}

#[test]
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

/// A two-process tree (bash and a `sleep` child) owned by `nobody`, carrying `token`.
fn nobodys_tree(token: &str) -> Started {
    let script = format!("(exec -a {token}-child sleep 1000) & wait");
    let p = Started::spawn(
        token.to_string(),
        Command::new("setpriv").args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "bash",
            "-c",
            &script,
            token,
        ]),
    );
    wait_for("the other user's tree", || pids_with_token(token).len() == 2);
    p
}

#[test]
fn another_users_process_is_denied_and_left_alive() {
    let token = token("kill-denied");
    let p = nobodys_tree(&token);
    let mut out = wrapper_cmd("setpriv");
    out.args(["--reuid", "65533", "--regid", "65533", "--clear-groups", REAPER, "kill", "--pid", &p.pid().to_string()])
        .args(["--format", "json"]);
    let out = run_bounded(&mut out, "setpriv 65533 reaper kill".into()).out;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(outcomes(&json).iter().all(|o| o == "denied"), "{json:#}");
    assert_eq!(outcomes(&json).len(), 2);
    assert_eq!(target(&json, p.pid())["user"], "nobody");
    assert!(stderr.contains("permission denied") && stderr.contains("nobody"), "{stderr}");
    assert_eq!(json["survivors"].as_array().expect("survivors").len(), 2);
    assert_eq!(pids_with_token(&token).len(), 2, "the fixture must still be alive");
    assert!(!is_dead(p.pid()));
}

#[test]
fn broad_selectors_only_touch_the_callers_processes() {
    let token = token("kill-owner");
    let p = nobodys_tree(&token);
    // As root, a signature does not reach nobody's processes without --all-users or --user;
    // what it matched is still accounted for, and still running, so the kill fails (exit 1).
    // Regression (issue 10): with -q it printed nothing and exited 0, JSON `"targets":[]`.
    let run = reaper(&["kill", "--signature", &token, "--format", "json", "-q"]);
    run.expect(1);
    let json = run.json();
    assert_eq!(json["targets"], serde_json::json!([]));
    let skipped = json["skipped"].as_array().expect("skipped");
    let me = skipped.iter().find(|s| s["pid"] == p.pid()).unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(me["flag"], "--all-users", "{json:#}");
    assert_eq!(me["running"], true);
    assert_eq!(me["matched"], true);
    assert_eq!(me["user"], "nobody");
    assert!(me["reason"].as_str().is_some_and(|r| r.contains("nobody")), "{json:#}");
    assert!(
        run.stderr().contains(&format!("skipping {}", p.pid())) && run.stderr().contains("--all-users"),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(p.pid()));
    // The table form says it too, and does not claim that nothing matched.
    let run = reaper(&["kill", "--signature", &token]);
    run.expect(1);
    assert!(!run.stdout().contains("nothing matched"), "{}", run.stdout());
    assert!(run.stdout().contains("nothing signalled"), "{}", run.stdout());
    let json = reaper(&["kill", "--signature", &token, "--user", "nobody", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, p.pid())["outcome"], "exited");
    assert_eq!(pids_with_token(&token), Vec::<u32>::new());
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

/// Runs `script` as PID 1 of a new PID namespace (with its own /proc), `$REAPER` set.
fn in_pid_namespace(script: &str, token: &str) -> std::process::Output {
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "bash", "-c", script, token]);
    run_bounded(&mut cmd, format!("unshare --pid ... {token}")).out
}

#[test]
fn safety_rails_inside_a_pid_namespace() {
    let token = token("kill-rails");
    // PID 1 is this bash (its $0 is the token); the inner shell running reaper carries the
    // token too, and so does one victim that must die.
    let script = r#"
        (exec -a "$0-victim" sleep 1000) &
        victim=$!
        "$REAPER" kill --pid 1; echo "pid1=$?"
        bash -c '"$REAPER" kill --signature "$0" --format json > /tmp/$0.json 2> /tmp/$0.err; echo "sig=$?"' "$0"
        kill -0 1 && echo "init-alive"
        if [ -e /proc/$victim ] && ! grep -q ') Z' /proc/$victim/stat; then echo victim-alive; else echo victim-dead; fi
        cat /tmp/$0.json; cat /tmp/$0.err >&2; rm -f /tmp/$0.json /tmp/$0.err
    "#;
    let out = in_pid_namespace(script, &token);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("pid1=2"), "{stdout}\n{stderr}");
    assert!(stderr.contains("refusing to signal pid 1"), "{stderr}");
    assert!(stdout.contains("sig=0"), "{stdout}\n{stderr}");
    assert!(stdout.contains("init-alive") && stdout.contains("victim-dead"), "{stdout}\n{stderr}");
    assert!(stderr.contains("skipping 1 "), "{stderr}");
    assert!(stderr.contains("ancestor of reaper"), "{stderr}");
    let json: Value =
        serde_json::from_str(&stdout[stdout.find('{').expect("json")..stdout.rfind('}').expect("json") + 1])
            .expect("json");
    let targets = json["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 1, "{json:#}");
    assert!(targets[0]["cmdline"][0].as_str().expect("argv0").ends_with("-victim"));
}

#[test]
fn other_reaper_processes_are_never_targets() {
    // A long-lived reaper whose command line carries the token: it stops a fixture and waits a
    // minute for it to exit.
    let token = token("kill-other-reaper");
    let holder = Fixture::start("kill-other-reaper-port", "listen", &["tcp", "127.0.0.1"]);
    let p = Started::spawn(
        token.clone(),
        reaper_cmd().args(["kill", "--pid", &holder.pid().to_string(), "--sequence", "STOP:60s", "-x", &token]),
    );
    wait_for("the other reaper", || pids_with_token(&token).contains(&p.pid()));
    let run = reaper(&["kill", "--signature", &token, "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["targets"], serde_json::json!([]));
    assert!(run.stderr().contains("another reaper process"), "{}", run.stderr());
    assert!(!is_dead(p.pid()));
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

/// Whether `pid` has SIGINT blocked (read from a signalfd, as the kill engine does).
fn blocks_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let blk = status.lines().find_map(|l| l.strip_prefix("SigBlk:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(blk, 16).is_ok_and(|m| m & (1 << (nix::libc::SIGINT - 1)) != 0)
}

fn has_pidfd(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.flatten().any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("pidfd"))))
        .unwrap_or(false)
}

#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: interrupts are not caught during a kill")]
fn interrupted_reaper_continues_what_it_stopped_and_exits_130() {
    let fx = Fixture::start("kill-intr", "ignore-term", &[]);
    let child = reaper_cmd()
        .args(["kill", "--pid", &fx.pid().to_string(), "--timeout", "60s", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reaper");
    let reaper_pid = child.id();
    // Pins are taken while planning, before the engine catches SIGINT: wait until it does.
    wait_for("reaper to catch SIGINT", || has_pidfd(reaper_pid) && blocks_sigint(reaper_pid));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(reaper_pid as i32), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    let out = wait_bounded(child, "reaper kill (interrupted)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["interrupted"], true);
    assert_eq!(target(&json, fx.pid())["outcome"], "survived");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Alive, and not left stopped.
    assert!(matches!(state(fx.pid()), Some('S' | 'R')), "{:?}", state(fx.pid()));
}

#[test]
fn naming_an_ancestor_of_reaper_by_pid_is_refused() {
    // The test process is reaper's parent. --dry-run keeps this safe even if the rail broke.
    let me = std::process::id().to_string();
    let run = reaper(&["kill", "--pid", &me, "--dry-run"]);
    run.expect(2);
    assert!(run.stderr().contains(&format!("refusing to signal pid {me}")), "{}", run.stderr());
    assert!(run.stderr().contains("ancestor of reaper"), "{}", run.stderr());
}
