//! `reaper list` and `reaper tree` against real listeners, trees and daemons.

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
fn udp_socket_on_ipv6_loopback() {
    let fx = Fixture::start("udp6", "listen", &["udp", "::1"]);
    let port = fx.port().to_string();
    let json = reaper(&["list", "--port", &format!("udp:{port}"), "--format", "json"]).expect(0).json();
    let p = &json[0];
    assert_eq!(p["pid"], fx.pid());
    assert_eq!(p["ports"][0]["proto"], "udp");
    assert_eq!(p["ports"][0]["family"], 6);
    assert_eq!(p["ports"][0]["local_addr"], "::1");
    // Unqualified ports cover UDP too.
    assert_eq!(reaper(&["list", "-p", &port, "--format", "pid"]).expect(0).pids(), vec![fx.pid()]);
    // A TCP-only spec does not match a UDP socket.
    reaper(&["list", "-p", &format!("tcp:{port}"), "--format", "pid"]).expect(1);
}

#[test]
fn proto_filter_and_ranges() {
    let tcp = Fixture::start("proto-tcp", "listen", &["tcp", "127.0.0.1"]);
    let udp = Fixture::start("proto-udp", "listen", &["udp", "127.0.0.1"]);
    let (t, u) = (tcp.port().to_string(), udp.port().to_string());
    let both = format!("{t},{u}");
    let mut all = reaper(&["list", "-p", &both, "--format", "pid"]).expect(0).pids();
    all.sort();
    let mut want = vec![tcp.pid(), udp.pid()];
    want.sort();
    assert_eq!(all, want);
    assert_eq!(reaper(&["list", "-p", &both, "--proto", "udp", "--format", "pid"]).expect(0).pids(), vec![udp.pid()]);
    assert_eq!(reaper(&["list", "-p", &both, "--proto", "tcp", "--format", "pid"]).expect(0).pids(), vec![tcp.pid()]);
    // A range that contains the port matches; matching is numeric, never a substring.
    let p = tcp.port();
    let range = format!("tcp:{}-{}", p - 1, p + 1);
    assert_eq!(reaper(&["list", "-p", &range, "--format", "pid"]).expect(0).pids(), vec![tcp.pid()]);
    if p >= 10 {
        let prefix = (p / 10).to_string();
        let pids = reaper(&["list", "-p", &prefix, "--format", "pid"]).stdout();
        assert!(!pids.lines().any(|l| l == tcp.pid().to_string()), "port {prefix} matched {p}");
    }
}

#[test]
fn state_any_matches_accepted_connections() {
    let fx = Fixture::start("state", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port();
    // A client of our own holds a connection whose *remote* port is the listener's: not a match.
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let local = client.local_addr().unwrap().port().to_string();
    reaper(&["list", "-p", &local, "--format", "pid"]).expect(1);
    let me = std::process::id();
    let pids = reaper(&["list", "-p", &local, "--state", "any", "--format", "pid"]).expect(0).pids();
    // Another test thread forking at that moment briefly shares the fd (until its exec closes
    // it), so the test process must be among the holders, not necessarily alone.
    assert!(pids.contains(&me), "{pids:?} lacks {me}");
    assert!(!pids.contains(&fx.pid()), "the listener does not hold the client's port");
}

#[test]
fn socket_shared_across_fork_lists_every_holder() {
    let mut fx = Fixture::start("shared", "shared", &[]);
    let port = fx.port().to_string();
    let (parent, child) = (fx.pid(), fx.get("child"));
    let mut pids = reaper(&["list", "-p", &port, "--format", "pid"]).expect(0).pids();
    pids.sort();
    let mut want = vec![parent, child];
    want.sort();
    assert_eq!(pids, want);
    // The binder exits: the inheritor, which never called bind, is now the holder.
    fx.child.kill().unwrap();
    fx.child.wait().unwrap();
    assert_eq!(reaper(&["list", "-p", &port, "--format", "pid"]).expect(0).pids(), vec![child]);
}

#[test]
fn three_level_tree_by_descendants_and_tree_view() {
    let fx = Fixture::start("tree", "tree", &["3"]);
    let pids: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 3);
    let root = pids[0].to_string();
    let found = reaper(&["list", "--descendants-of", &root, "--format", "pid"]).expect(0).pids();
    assert_eq!(found, pids[1..].to_vec());
    let children = reaper(&["list", "--children-of", &root, "--format", "pid"]).expect(0).pids();
    assert_eq!(children, vec![pids[1]]);

    // --tree: the listener within its ancestry (root and middle above it).
    let port = fx.port().to_string();
    let tree = reaper(&["list", "-p", &port, "--tree"]).expect(0).stdout();
    let line_of = |pid: u32| {
        tree.lines()
            .position(|l| l.contains(&format!(" {pid} ")) || l.starts_with(&format!("{pid} ")))
            .unwrap_or_else(|| panic!("{pid} not in\n{tree}"))
    };
    let (a, b, c) = (line_of(pids[0]), line_of(pids[1]), line_of(pids[2]));
    assert!(a < b && b < c, "{tree}");
    let leaf = tree.lines().nth(c).unwrap();
    assert!(leaf.contains(&format!("* {}", pids[2])), "the match is marked: {leaf}");
    assert!(leaf.contains(&format!("tcp 127.0.0.1:{port}")), "{leaf}");

    // reaper tree ROOT: the root's descendants, with the leaf's port.
    let t = reaper(&["tree", &root]).expect(0).stdout();
    for p in &pids {
        assert!(t.contains(&p.to_string()), "{p} missing in\n{t}");
    }
    assert!(t.contains(&format!("tcp 127.0.0.1:{port}")), "{t}");
    let json = reaper(&["tree", &root, "--format", "json"]).expect(0).json();
    let listed: Vec<u64> = json.as_array().unwrap().iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    for p in &pids {
        assert!(listed.contains(&u64::from(*p)));
    }
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

#[test]
fn signature_name_exclude_and_user() {
    let fx = Fixture::start("sig", "listen", &["tcp", "127.0.0.1"]);
    let tok = fx.token.as_str();
    assert_eq!(reaper(&["list", "--signature", tok, "--format", "pid"]).expect(0).pids(), vec![fx.pid()]);
    // reaper never matches itself, though its own command line carries the token.
    // Regression (issue 12): this asserted a non-empty list, which a self-match passes too.
    let (own, run) = reaper_with_pid(&["list", "--signature", tok, "--format", "pid"]);
    assert!(!run.expect(0).pids().contains(&own), "reaper {own} matched itself: {}", run.stdout());
    assert_eq!(run.pids(), vec![fx.pid()]);
    reaper(&["list", "--signature", tok, "-x", "fixture"]).expect(1);
    assert_eq!(
        reaper(&["list", "--signature", tok, "-n", "python3", "--format", "pid"]).expect(0).pids(),
        vec![fx.pid()]
    );
    reaper(&["list", "--signature", tok, "-n", "python"]).expect(1);
    assert_eq!(
        reaper(&["list", "--signature", tok, "--exe", "python3*", "--format", "pid"]).expect(0).pids(),
        vec![fx.pid()]
    );
    reaper(&["list", "--signature", tok, "--exe", "/nonexistent/*"]).expect(1);
    let uid = nix::unistd::getuid().to_string();
    assert_eq!(reaper(&["list", "--signature", tok, "-u", &uid, "--format", "pid"]).expect(0).pids(), vec![fx.pid()]);
    reaper(&["list", "--signature", tok, "--older-than", "1h"]).expect(1);
    assert_eq!(
        reaper(&["list", "--signature", tok, "--younger-than", "1h", "--format", "pid"]).expect(0).pids(),
        vec![fx.pid()]
    );
    let pgid = nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(fx.pid() as i32))).unwrap().to_string();
    assert_eq!(
        reaper(&["list", "--pgid", &pgid, "--signature", tok, "--format", "pid"]).expect(0).pids(),
        vec![fx.pid()]
    );
}

#[test]
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

/// A TCP-only service of /etc/services whose port nothing holds: `(name, port)`.
fn free_tcp_service() -> Option<(String, u16)> {
    let text = std::fs::read_to_string("/etc/services").ok()?;
    let entries: Vec<(String, u16, String)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('#').next()?.split_whitespace();
            let name = f.next()?.to_string();
            let (port, proto) = f.next()?.split_once('/')?;
            Some((name, port.parse().ok()?, proto.to_string()))
        })
        .collect();
    entries
        .iter()
        .filter(|(n, p, proto)| proto == "tcp" && !entries.iter().any(|(m, _, q)| m == n && q == "udp") && *p > 1000)
        .find(|(_, p, _)| !port_held(*p))
        .map(|(n, p, _)| (n.clone(), *p))
}

// A request seen in killport's tracker: `--port http` by the name in /etc/services.
#[test]
fn named_ports_resolve_through_etc_services_per_protocol() {
    let Some((name, port)) = free_tcp_service() else {
        skip("no /etc/services with a free tcp-only service above port 1000");
        return;
    };
    let fx = Fixture::start("named", "listen", &["tcp", "127.0.0.1", &port.to_string()]);
    for spec in [name.clone(), format!("tcp:{name}"), name.to_uppercase()] {
        let pids = reaper(&["list", "--port", &spec, "--format", "pid"]).expect(0).pids();
        assert_eq!(pids, vec![fx.pid()], "--port {spec}");
    }
    // A number still wins, and a name without a udp entry is not a udp port.
    assert_eq!(reaper(&["list", "--port", &port.to_string(), "--format", "pid"]).expect(0).pids(), vec![fx.pid()]);
    let run = reaper(&["kill", "--port", &format!("udp:{name}"), "--yes"]);
    run.expect(2);
    assert!(
        run.stderr().contains(&format!("'udp:{name}'")) && run.stderr().contains("no udp service"),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(fx.pid()));
}
