//! `reaper list` against real listeners, trees and daemons: the output formats, kernel threads,
//! exit codes and bad input.

use crate::util::*;

#[test]
fn tcp_listener_found_by_port_in_every_format() {
    let fx = Fixture::start("tcp", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();

    let pids = reaper(&["list", "--port", &port, "--format", "pid"]).expect(0).pids();
    assert_eq!(pids, vec![fx.pid()]);

    let table = reaper(&["list", "--port", &port]).expect(0).stdout();
    let header = table.lines().next().unwrap();
    for col in ["PID", "PPID", "USER", "AGE", "PORTS", "COMMAND"] {
        assert!(header.contains(col), "{header}");
    }
    let row = table.lines().find(|l| l.contains(&fx.token)).expect("a row with the fixture");
    assert!(row.trim_start().starts_with(&fx.pid().to_string()), "{row}");
    assert!(row.contains(&format!("tcp 127.0.0.1:{port}")), "{row}");

    let json = reaper(&["list", "--port", &port, "--format", "json"]).expect(0).json();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    let p = &arr[0];
    assert_eq!(p["pid"], fx.pid());
    for key in
        ["ppid", "pgid", "sid", "uid", "user", "name", "exe", "cmdline", "start_time", "state", "orphan", "children"]
    {
        assert!(p.get(key).is_some(), "missing {key} in {p}");
    }
    assert!(p["cmdline"].as_array().unwrap().iter().any(|a| a == fx.token.as_str()));
    assert!(p["start_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(p["orphan"], false);
    let ports = p["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["proto"], "tcp");
    assert_eq!(ports[0]["family"], 4);
    assert_eq!(ports[0]["local_addr"], "127.0.0.1");
    assert_eq!(ports[0]["local_port"], fx.port());
    assert_eq!(ports[0]["state"], "LISTEN");
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: kernel threads (kthreadd, pid 2) are Linux's")]
fn kernel_threads_are_never_listed() {
    // kthreadd is pid 2 where the kernel has one in this namespace.
    let is_kthread = std::fs::read_to_string("/proc/2/stat").is_ok_and(|s| s.contains("(kthreadd)"));
    if !is_kthread {
        eprintln!("skipped: no kthreadd at pid 2 here");
        return;
    }
    reaper(&["list", "--pid", "2"]).expect(1);
    let all = reaper(&["list", "-n", "kthreadd", "--format", "pid"]).stdout();
    assert!(all.trim().is_empty(), "{all}");
}

#[test]
fn nothing_matched_exits_1_and_prints_nothing() {
    let run = reaper(&["list", "--signature", &token("nothing")]);
    run.expect(1);
    assert_eq!(run.stdout(), "");
}

#[test]
fn bad_input_names_the_value_and_exits_2() {
    for (args, bad) in [
        (vec!["list", "--port", "70000"], "70000"),
        (vec!["list", "--port", "abc"], "abc"),
        (vec!["list", "--port", "tcp:no-such-service-reaper"], "tcp:no-such-service-reaper"),
        (vec!["list", "--older-than", "-1s"], "-1s"),
        (vec!["list", "--port", "tcp:0"], "tcp:0"),
        (vec!["list", "--signature", "("], "("),
        (vec!["list", "--older-than", "5x"], "5x"),
        (vec!["list", "--pid", "0"], "0"),
        (vec!["list", "--user", "no-such-user-reaper"], "no-such-user-reaper"),
        (vec!["list", "--exe", "[z-a"], "[z-a"),
        (vec!["list", "--format", "xml"], "xml"),
    ] {
        let run = reaper(&args);
        run.expect(2);
        let err = run.stderr();
        assert!(err.contains(&format!("'{bad}'")), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
        assert_eq!(run.stdout(), "");
    }
}

// On a terminal, a free port is said to be free on stderr; a script's JSON and pid output stay
// empty. Regression: `reaper list --port 8080` printed nothing and exited 1.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn list_of_a_free_port_says_so_on_a_terminal_only() {
    if !have("script") {
        return;
    }
    let p = unused_port().to_string();
    let line = format!("{REAPER} list --port {p}");
    let mut cmd = wrapper_cmd("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    let run = run_bounded(&mut cmd, format!("script -c '{line}'"));
    run.expect(1);
    assert!(run.stdout().contains(&format!("nothing holds tcp/udp port {p}")), "{}", run.stdout());
    for format in ["json", "pid"] {
        let run = reaper(&["list", "--port", &p, "--format", format]);
        run.expect(1);
        assert!(run.stderr().is_empty(), "{}", run.stderr());
    }
    assert_eq!(reaper(&["list", "--port", &p, "--format", "json"]).stdout().trim(), "[]");
}
