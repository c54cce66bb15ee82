//! An exit code a script can trust (issue 10): one verdict on a port for `kill`, `wait` and the
//! library, reported precisely, against real software where it exists (socat, setsid) and real
//! kernel states (CLOSE_WAIT, TIME_WAIT, EMFILE).

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use reaper::wait::{self, PortCondition};
use serde_json::Value;

use crate::util::*;

/// A port nothing listens on right now (the kernel's pick; nothing else on this machine binds
/// it on purpose).
fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Whether a server that does not set SO_REUSEADDR can bind 127.0.0.1:`port` now.
fn plain_bind_works(port: u16) -> bool {
    let code = format!("import socket\ns = socket.socket()\ns.bind(('127.0.0.1', {port}))");
    Command::new("python3").args(["-c", &code]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn state_of(json: &Value) -> &str {
    json["ports"][0]["state"].as_str().unwrap_or_else(|| panic!("no port state: {json:#}"))
}

// A helper that a socat handler daemonized (`setsid -f`) keeps the accepted connection after
// the server is gone: the port is held (CLOSE_WAIT), and `kill --port`, `wait --free` and the
// library all say so. Regression: `kill --port` said "free" and exited 0, and bind() failed.
#[test]
fn an_escaped_helper_keeping_a_connection_holds_the_port() {
    if !have("socat") || !have("setsid") {
        return;
    }
    let token = token("trust-socat");
    let port = unused_port();
    // `nofork`: the handler gets the connection itself (inetd style), not a socketpair. Each
    // handler holds it on its stdin; its READY line goes elsewhere.
    let py = python();
    let handler =
        format!("setsid -f {py} {FIXTURE} {token} idle >/dev/null; exec {py} {FIXTURE} {token} idle >/dev/null,nofork");
    let child = Command::new("socat")
        .args([format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"), format!("SYSTEM:{handler}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("socat");
    let socat = Started { token: token.clone(), child };
    reaper(&["wait", "--port", &port.to_string(), "--listening", "--timeout", "20s"]).expect(0);

    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // The escaped helper: an idle fixture whose parent does not carry the token.
    let mut escaped = 0;
    wait_for("the escaped helper", || {
        escaped = pids_with_token(&token)
            .into_iter()
            .filter(|&p| p != socat.child.id())
            .find(|&p| parent(p).is_some_and(|pp| !pids_with_token(&token).contains(&pp)))
            .unwrap_or(0);
        escaped != 0
    });
    drop(client);
    wait_for("CLOSE_WAIT on the port", || {
        reaper::ports::state(&[reaper::PortSpec::tcp(port)], None).is_ok_and(|s| {
            s[0].sockets.iter().any(|x| x.state == reaper::SocketState::CloseWait && x.holders.contains(&escaped))
        })
    });

    let p = port.to_string();
    let run = reaper(&["kill", "--port", &p, "--yes", "--format", "json", "--timeout", "5s"]);
    run.expect(1);
    let json = run.json();
    assert_eq!(state_of(&json), "held", "{json:#}");
    assert_eq!(json["ports"][0]["free"], false);
    // The helpers (`setsid -f`, and the inline one whose socat parent is gone) hold it.
    let holders: Vec<u32> = serde_json::from_value(json["ports"][0]["holders"].clone()).expect("holders");
    assert!(holders.contains(&escaped), "{json:#}");
    assert!(holders.iter().all(|&h| !is_dead(h)), "{json:#}");
    assert!(json["ports"][0]["sockets"].as_array().expect("sockets").iter().any(|s| s["state"] == "CLOSE_WAIT"));
    assert!(run.stderr().contains("CLOSE_WAIT") && run.stderr().contains("--state any"), "{}", run.stderr());
    assert!(is_dead(socat.child.id()), "the listener was the target");
    // The same verdict everywhere.
    reaper(&["wait", "--port", &p, "--free", "--timeout", "300ms"]).expect(1);
    assert!(!wait::port_is(&reaper::PortSpec::tcp(port), PortCondition::Free).expect("port_is"));
    assert!(!plain_bind_works(port), "a server without SO_REUSEADDR cannot bind while the helper holds it");

    // Selecting connection holders too ends the helper; then the port is free by every account.
    reaper(&["kill", "--port", &p, "--state", "any", "--yes"]).expect(0);
    assert!(holders.iter().all(|&h| is_dead(h)));
    reaper(&["wait", "--port", &p, "--free", "--timeout", "20s"]).expect(0);
    assert!(wait::port_is(&reaper::PortSpec::tcp(port), PortCondition::Free).expect("port_is"));
}

/// The real interpreter behind `python3` (not a version manager's shim script).
fn python() -> String {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

// A server killed while it had a client leaves the kernel's TIME_WAIT (or FIN_WAIT) on its port.
// That is free for a server that sets SO_REUSEADDR and not for one that does not: `kill` says
// exactly that and exits 0; `--strict` counts it as held, and `wait --free --strict` agrees.
#[test]
fn time_wait_left_by_a_server_with_a_client_is_reported_and_strict_counts_it() {
    let fx = Fixture::start("trust-timewait", "accept", &[]);
    let port = fx.port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut accepted = [0u8; 1];
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    client.read_exact(&mut accepted).expect("the server accepted");

    let p = port.to_string();
    let run = reaper(&["kill", "--port", &p, "--yes", "--format", "json"]);
    run.expect(0);
    let json = run.json();
    assert_eq!(state_of(&json), "time_wait", "{json:#}");
    assert_eq!(json["ports"][0]["free"], true);
    assert!(json["ports"][0]["lingering"]["count"].as_u64().is_some_and(|n| n >= 1), "{json:#}");
    // The kernel's timer is read from sock_diag: the portable backend (netstat2) has none.
    if cfg!(not(feature = "portable")) {
        let left = json["ports"][0]["lingering"]["expires_ms"].as_u64().expect("the kernel's timer");
        assert!(left <= 60_000, "{json:#}");
    }
    drop(client);

    // Table form says what it means for the next server.
    let text = reaper(&["kill", "--port", &p, "--yes"]).expect(0).stdout();
    assert!(text.contains("SO_REUSEADDR") && text.contains("TIME_WAIT"), "{text}");
    // Strict: held, exit 1; the same for wait.
    reaper(&["kill", "--port", &p, "--yes", "--strict"]).expect(1);
    reaper(&["wait", "--port", &p, "--free", "--timeout", "5s"]).expect(0);
    let strict = reaper(&["wait", "--port", &p, "--free", "--strict", "--timeout", "200ms"]);
    strict.expect(1);
    assert!(strict.stderr().contains("TIME_WAIT"), "{}", strict.stderr());
    // The library's verdict is the same one.
    let spec = reaper::PortSpec::tcp(port);
    assert!(wait::port_is(&spec, PortCondition::Free).expect("port_is"));
    assert!(!wait::port_is(&spec, PortCondition::Unused).expect("port_is"));
    // And it is the truth: no plain bind() yet, but a server with SO_REUSEADDR starts, and
    // `run --ready-port` (the same survey) sees it listen.
    assert!(!plain_bind_works(port));
    let server = format!(
        "import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {port}))\ns.listen()\ntime.sleep(3)"
    );
    let run = reaper(&["run", "--ready-port", &p, "--ready-timeout", "20s", "--", "python3", "-c", &server]);
    run.expect(0);
    assert!(run.stderr().contains(&format!("ready: listening on port {p}")), "{}", run.stderr());
    let again = Fixture::start("trust-timewait-again", "listen", &["tcp", "127.0.0.1", &p]);
    assert_eq!(again.port(), port);
}

// With no fd left, neither the socket table nor the fd tables can be read: that is an error
// (exit 3), never "nothing matched, port free". Regression: under `ulimit -n 4`,
// `kill --port` printed "nothing matched ... free" and exited 0 while the listener lived.
#[test]
fn an_unreadable_socket_table_is_an_error_not_a_free_port() {
    if !have("prlimit") {
        return;
    }
    let fx = Fixture::start("trust-emfile", "listen", &["tcp", "127.0.0.1"]);
    let p = fx.port().to_string();
    for args in [
        &["kill", "--port", &p, "--yes"][..],
        &["kill", "--port", &p, "--yes", "--format", "json"][..],
        &["list", "--port", &p],
        &["wait", "--port", &p, "--free", "--timeout", "2s"],
    ] {
        let mut cmd = wrapper_cmd("prlimit");
        cmd.args(["--nofile=4:4", REAPER]).args(args);
        let run = run_bounded(&mut cmd, format!("prlimit --nofile=4:4 reaper {}", args.join(" ")));
        run.expect(3);
        assert!(!run.stdout().contains("free") && !run.stdout().contains("nothing matched"), "{}", run.stdout());
        assert!(run.stderr().contains("Too many open files"), "{args:?}: {}", run.stderr());
        assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    }
    assert!(!is_dead(fx.pid()), "nothing may be signalled");
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

// On a terminal, a free port is said to be free on stderr; a script's JSON and pid output stay
// empty. Regression: `reaper list --port 8080` printed nothing and exited 1.
#[test]
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

// stderr that cannot be written is ignored, never a panic. Regression: `reaper list
// 2>/dev/full` exited 101.
#[test]
fn a_full_stderr_is_not_a_panic() {
    let p = unused_port().to_string();
    for args in [
        &["list", "--port", &p][..],
        &["list", "--port", "70000"],
        &["wait", "--port", &p, "--listening", "--timeout", "10ms"],
    ] {
        let mut cmd = reaper_cmd();
        cmd.args(args).stderr(std::fs::File::options().write(true).open("/dev/full").expect("/dev/full"));
        let mut child = Spawned(cmd.stdout(Stdio::null()).spawn().expect("reaper"));
        let status = wait_exit(&mut child.0, "reaper").code();
        assert!(matches!(status, Some(1 | 2)), "{args:?}: {status:?}");
    }
}

// A selected port that nothing held stays a success for kill: nothing to end, the port free.
#[test]
fn kill_of_a_free_port_is_success_with_state_free() {
    let p = unused_port().to_string();
    let json = reaper(&["kill", "--port", &p, "--format", "json"]).expect(0).json();
    assert_eq!(state_of(&json), "free", "{json:#}");
    assert_eq!(json["skipped"], serde_json::json!([]));
}
