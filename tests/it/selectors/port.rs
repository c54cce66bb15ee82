//! `--port` and the bare port (as killport and fkill take it): protocols, ranges, service names,
//! and a plain argument that is not a port.

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
fn a_bare_port_is_why_s_too() {
    let fx = Fixture::start("bareport-why", "listen", &["tcp", "127.0.0.1"]);
    let (port, pid) = (fx.port().to_string(), fx.pid().to_string());
    let run = reaper(&["why", &port]);
    run.expect(0);
    assert!(run.stdout().lines().next().is_some_and(|l| l.starts_with(&format!("{pid} "))), "{}", run.stdout());
    assert_eq!(fx.live_pids(), [fx.pid()]);
}

#[test]
fn a_bare_udp_port_selects_only_the_udp_holder() {
    let udp = Fixture::start("bareport-udp", "listen", &["udp", "127.0.0.1"]);
    let spec = format!("udp:{}", udp.port());
    assert_eq!(reaper(&["list", &spec, "--format", "pid"]).expect(0).pids(), [udp.pid()]);
    // The same number over tcp is nothing of the fixture's.
    let tcp = format!("tcp:{}", udp.port());
    assert!(!reaper(&["list", &tcp, "--format", "pid"]).pids().contains(&udp.pid()));
    let plan = reaper(&["kill", &spec, "--dry-run"]);
    plan.expect(0);
    assert!(plan.stdout().contains(&format!("* {} ", udp.pid())), "{}", plan.stdout());
    assert!(
        plan.stdout().contains(&format!("udp port {}: held by pid {}", udp.port(), udp.pid())),
        "{}",
        plan.stdout()
    );
    assert_eq!(udp.live_pids(), [udp.pid()], "nothing was signalled");
}

// `http` as killport takes it: the service name parses as a plain argument (port 80 over tcp),
// and what it exits with is what `list` and `kill` document; only a dry run, nothing signalled.
#[test]
fn a_bare_service_name_parses_as_its_port() {
    // Port 80 is free on a test machine; where something holds it, only the parse is checked.
    let held = port_held(80);
    let list = reaper(&["list", "http", "--format", "pid"]);
    let plan = reaper(&["kill", "http", "--dry-run"]);
    if held {
        assert!(matches!(list.code(), 0 | 1) && plan.code() != 2, "{}{}", list.stderr(), plan.stderr());
        assert!(plan.stdout().contains("tcp port 80: "), "{}", plan.stdout());
    } else {
        list.expect(1);
        assert!(list.stdout().is_empty(), "{}", list.stdout());
        plan.expect(0);
        assert!(
            plan.stdout().contains("nothing matched") && plan.stdout().contains("tcp port 80: free"),
            "{}",
            plan.stdout()
        );
    }
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
