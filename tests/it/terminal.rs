//! The person at the terminal: a bare port as killport and fkill take it, `list` as a preview of
//! `kill` (the same selectors and rails), `run` without `--`, and the small messages.

use std::process::Command;

use crate::util::*;

#[test]
fn a_bare_port_selects_its_holder_on_list_kill_and_wait() {
    let fx = Fixture::start("bareport", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let pid = fx.pid();
    for spec in [port.clone(), format!(":{port}"), format!("tcp:{port}"), format!("{port}-{port}")] {
        let run = reaper(&["list", &spec, "--format", "pid"]);
        run.expect(0);
        assert_eq!(run.pids(), [pid], "list {spec}");
    }
    // --port takes the colon too.
    assert_eq!(reaper(&["list", "--port", &format!(":{port}"), "--format", "pid"]).expect(0).pids(), [pid]);
    let plan = reaper(&["kill", &port, "--dry-run"]);
    plan.expect(0);
    assert!(plan.stdout().contains(&format!("* {pid} ")), "{}", plan.stdout());
    reaper(&["wait", &format!(":{port}"), "--listening", "--timeout", "10s"]).expect(0);
    assert_eq!(fx.live_pids(), [pid], "nothing was signalled");
}

#[test]
fn a_plain_argument_that_is_not_a_port_says_what_was_expected() {
    let token = token("notaport");
    for (arg, hint) in [(token.as_str(), "--name"), ("70000", "--pid 70000"), ("3000x", "a plain argument is a port")] {
        for cmd in ["list", "kill"] {
            let run = reaper(&[cmd, arg]);
            run.expect(2);
            let err = run.stderr();
            assert!(err.contains(&format!("'{arg}'")), "{cmd} {arg}: {err}");
            assert!(err.contains("a plain argument is a port: 3000, :3000, 3000-3010, udp:53"), "{cmd} {arg}: {err}");
            assert!(err.contains(hint), "{cmd} {arg}: {err}");
        }
    }
}

#[test]
fn list_takes_all_users_and_previews_what_kill_would_take() {
    if !have("setpriv") {
        return;
    }
    // A process of nobody's carrying the token: a broad selector (--signature) takes only the
    // caller's processes unless --all-users, in kill and now in list.
    let token = token("allusers");
    let p = Started::spawn(
        token.clone(),
        Command::new("setpriv").args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "bash",
            "-c",
            r#"exec -a "$0" sleep 1000"#,
            &format!("{token}-nobody"),
        ]),
    );
    let pid = p.pid();
    wait_for("the exec", || comm(pid) == "sleep");
    let run = reaper(&["list", "--signature", &token, "--format", "pid"]);
    run.expect(1);
    assert!(run.pids().is_empty(), "{}", run.stdout());
    assert!(run.stderr().contains("--all-users shows it"), "{}", run.stderr());
    let run = reaper(&["list", "--signature", &token, "--all-users", "--format", "pid"]);
    run.expect(0);
    assert_eq!(run.pids(), [pid]);
    let plan = reaper(&["kill", "--signature", &token, "--all-users", "--dry-run", "--format", "pid"]);
    assert_eq!(plan.expect(0).pids(), [pid], "kill --all-users takes what list --all-users shows");
    assert!(!is_dead(pid));
}

#[test]
fn run_takes_its_command_without_a_double_dash() {
    let run = reaper(&["run", "sh", "-c", "echo $0 $1; exit 7", "a", "--timeout"]);
    run.expect(7);
    assert_eq!(run.stdout(), "a --timeout\n", "everything from the first word on is the command's");
    reaper(&["run", "--timeout", "1s", "--", "sh", "-c", "exit 5"]).expect(5);
    let run = reaper(&["run", "--no-such-option", "sh"]);
    run.expect(2);
    assert!(run.stderr().contains("--no-such-option"), "{}", run.stderr());
}

#[test]
fn small_messages() {
    // wait --pid with --free is refused with the reason; the usage does not demand --free with --pid.
    let run = reaper(&["wait", "--pid", "4194304", "--free"]);
    run.expect(2);
    assert!(run.stderr().contains("--pid waits until that process has exited"), "{}", run.stderr());
    let run = reaper(&["wait"]);
    run.expect(2);
    assert!(run.stderr().contains("reaper wait [OPTIONS] --pid PID"), "{}", run.stderr());
    let run = reaper(&["wait", "3000"]);
    run.expect(2);
    assert!(run.stderr().contains("--free") && run.stderr().contains("--listening"), "{}", run.stderr());
    // --json points at --format json.
    let run = reaper(&["list", "--json"]);
    run.expect(2);
    assert!(run.stderr().contains("tip: --format json"), "{}", run.stderr());
    // --signal 9 plans as -9 does.
    let fx = Fixture::start("sig9", "listen", &["tcp", "127.0.0.1"]);
    let pid = fx.pid().to_string();
    let a = reaper(&["kill", "--pid", &pid, "--signal", "9", "--dry-run"]).expect(0).stdout();
    let b = reaper(&["kill", "--pid", &pid, "-9", "--dry-run"]).expect(0).stdout();
    assert_eq!(a, b);
    assert!(a.contains("SIGKILL, wait 2s"), "{a}");
    // pick -h: every Keys line is indented under its column and fits 80 columns.
    let help = reaper(&["pick", "-h"]).expect(0).stdout();
    let keys: Vec<&str> = help.lines().skip_while(|l| *l != "Keys:").skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(keys.len() >= 9, "{help}");
    for l in &keys {
        assert!(l.starts_with("  ") && l.chars().count() <= 80, "{l:?}");
    }
    assert!(keys.iter().any(|l| l.starts_with("                ")), "wrapped lines are indented: {help}");
}

#[test]
fn run_says_which_port_and_how_long_and_why_it_stopped_restarting() {
    let port = "1"; // nothing may listen on tcp port 1 here (it needs root and nobody does)
    let run = reaper(&["run", "--ready-port", port, "--ready-timeout", "300ms", "sleep", "30"]);
    run.expect(1);
    assert!(run.stderr().contains("nothing listened on tcp port 1 within 300ms (--ready-timeout)"), "{}", run.stderr());
    let run = reaper(&["run", "--restart", "always", "--max-restarts", "1", "sh", "-c", "exit 4"]);
    run.expect(4);
    assert!(run.stderr().contains("--max-restarts 1 reached"), "{}", run.stderr());
}

#[test]
fn not_root_against_roots_processes_gets_one_sentence_saying_sudo() {
    if !have("setpriv") {
        return;
    }
    let fx = Fixture::start("notroot", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    // list: the row says it; stderr does not say it again.
    let run = reaper_as_nobody(&["list", &port]);
    run.expect(0);
    assert!(run.stdout().contains(&format!("sudo reaper list {port}")), "{}", run.stdout());
    assert!(run.stderr().is_empty(), "said twice:\n{}", run.stderr());
    // kill --port: one line, what to run; no "nothing matched", no port lines repeating it.
    let run = reaper_as_nobody(&["kill", "--port", &port, "--yes"]);
    run.expect(1);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let lines: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&format!("run sudo reaper kill --port {port} --yes")), "{lines:?}");
    // A broad selector: one sentence for all of root's matches, not --all-users alone.
    let run = reaper_as_nobody(&["kill", "--signature", &fx.token, "--yes"]);
    let lines: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("only root can signal it: run sudo reaper kill --signature"), "{lines:?}");
    assert!(lines[0].ends_with("--all-users"), "{lines:?}");
    assert_eq!(fx.live_pids(), [fx.pid()], "nothing was signalled");
}
