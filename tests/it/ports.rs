//! Ports and the kernel's socket states: UDP, accepted connections, a socket shared across fork
//! or held by a thread with an fd table of its own, a socket bound and never listened on,
//! CLOSE_WAIT kept by an escaped helper, TIME_WAIT with and without SO_REUSEADDR, and a socket
//! table that cannot be read. One verdict on a port for `list`, `kill`, `wait` and the library.

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use reaper::wait::{self, PortCondition};
use serde_json::Value;

use crate::util::*;

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

// A listener held only by a thread that unshared its fd table (`unshare(CLONE_FILES)`): its
// leader's /proc/PID/fd does not show it, its own /proc/PID/task/TID/fd does. `list --port` names
// the process and `kill --port` ends it. Regression: "not visible ... a sandbox", exit 1.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: netstat2 reads the leaders' fd tables only"
)]
fn a_listener_in_a_thread_with_its_own_fd_table_is_found() {
    let token = token("files");
    let code = r#"
import ctypes, os, socket, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def run():
    if libc.unshare(0x400) != 0:  # CLONE_FILES
        print("ERROR unshare", ctypes.get_errno(), flush=True); return
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
    print(f"READY pid={os.getpid()} tid={threading.get_native_id()} port={s.getsockname()[1]}", flush=True)
    time.sleep(600)
t = threading.Thread(target=run, daemon=True); t.start(); t.join()
"#;
    let (started, info) = Started::spawn_ready(&token, Command::new("python3").args(["-c", code, &token]));
    let (pid, tid, port) = (num(&info, "pid"), num(&info, "tid"), num(&info, "port"));
    let leader_fds: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd")
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .collect();
    let thread_fds = std::fs::read_dir(format!("/proc/{pid}/task/{tid}/fd")).expect("task fd").count();
    assert!(
        thread_fds > 0 && leader_fds.iter().filter(|l| l.as_os_str().as_bytes().starts_with(b"socket:")).count() == 0
    );
    let port = port.to_string();
    assert_eq!(reaper(&["list", "--port", &port, "--format", "pid"]).expect(0).pids(), vec![pid]);
    let killed = reaper(&["kill", "--port", &port, "--yes", "--format", "json"]).expect(0).json();
    assert_eq!(killed["targets"][0]["pid"].as_u64(), Some(u64::from(pid)), "{killed:#}");
    wait_for("the holder to be gone", || is_dead(pid) || is_zombie(pid));
    drop(started);
}

/// Whether this kernel reports sockets bound and not listening (sock_diag's bound-inactive
/// state, Linux 6.6 and later).
fn kernel_sees_bound_inactive() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (6, 6)
}

// A TCP socket bound and never listened on holds its port: bind() by anyone else fails with
// EADDRINUSE. `wait --free` must not say free, and `kill --port` ends its holder. Regression:
// both exited 0 and the socket lived on (it is in no table but sock_diag's bound-inactive one).
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: netstat2 has no bound-inactive sockets (sock_diag's, Linux 6.6+)"
)]
#[test]
fn a_socket_bound_but_not_listening_holds_the_port() {
    if cfg!(any(feature = "portable", not(target_os = "linux"))) || !kernel_sees_bound_inactive() {
        return skip("sock_diag's bound-inactive state needs Linux 6.6 and the Linux backend");
    }
    let token = token("bound-inactive");
    let code = "import socket, sys, time\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n\
                print(s.getsockname()[1], flush=True)\ntime.sleep(600)";
    let (guard, port): (Started, u16) = python_saying(code, &[], &token);
    assert!(!bind_works(port, true), "the bound socket holds the port");
    let p = port.to_string();

    let wait = reaper(&["wait", "--port", &p, "--free", "--timeout", "100ms"]);
    wait.expect(1);
    let json = reaper(&["list", "--port", &p, "--format", "json"]).expect(0).json();
    assert_eq!(json[0]["pid"], guard.pid(), "{json:#}");

    let run = reaper(&["kill", "--port", &p, "--yes", "--format", "json"]);
    run.expect(0);
    let json = run.json();
    assert_eq!(json["ports"][0]["state"], "free", "{json:#}");
    assert_eq!(json["targets"][0]["pid"], guard.pid(), "{json:#}");
    wait_for("the holder to end", || is_dead(guard.pid()));
    assert!(bind_works(port, false));
}

fn state_of(json: &Value) -> &str {
    json["ports"][0]["state"].as_str().unwrap_or_else(|| panic!("no port state: {json:#}"))
}

/// The real interpreter behind `python3` (not a version manager's shim script).
fn python() -> String {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

// A helper that a socat handler daemonized (`setsid -f`) keeps the accepted connection after
// the server is gone: the port is held (CLOSE_WAIT), and `kill --port`, `wait --free` and the
// library all say so. Regression: `kill --port` said "free" and exited 0, and bind() failed.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setsid(1) (util-linux)")]
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
            .find(|&p| ppid(p).is_some_and(|pp| !pids_with_token(&token).contains(&pp)))
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
    assert!(!bind_works(port, false), "a server without SO_REUSEADDR cannot bind while the helper holds it");

    // Selecting connection holders too ends the helper; then the port is free by every account.
    reaper(&["kill", "--port", &p, "--state", "any", "--yes"]).expect(0);
    assert!(holders.iter().all(|&h| is_dead(h)));
    reaper(&["wait", "--port", &p, "--free", "--timeout", "20s"]).expect(0);
    assert!(wait::port_is(&reaper::PortSpec::tcp(port), PortCondition::Free).expect("port_is"));
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
    if cfg!(not(any(feature = "portable", not(target_os = "linux")))) {
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
    assert!(!bind_works(port, false));
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

/// A server that does not set SO_REUSEADDR, closes the first connection it accepts (so the
/// TIME_WAIT is on its side) and keeps listening. Prints its port, then `closed` once its side
/// of that connection is closed.
const PLAIN_SERVER: &str = r#"
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b'x')
c.close()
time.sleep(600)
"#;

// TIME_WAIT left by a server that did not set SO_REUSEADDR blocks every bind, one with
// SO_REUSEADDR included (Linux lets it through only when both sockets set it). The verdict
// must be that truth, found by a bind probe: not usable, `kill` exits 1, `wait --free` waits.
// Regression: "free for a server that sets SO_REUSEADDR", exit 0, and such a server's bind
// failed.
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: no SO_REUSEADDR bind probe (the Linux backend's)"
)]
#[test]
fn time_wait_of_a_server_without_reuseaddr_is_not_free() {
    if cfg!(any(feature = "portable", not(target_os = "linux"))) {
        return skip("the bind probe is the Linux backend's");
    }
    let token = token("plain-timewait");
    let (server, port): (Started, u16) = python_saying(PLAIN_SERVER, &[], &token);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut byte = [0u8; 1];
    client.set_read_timeout(Some(DEADLINE)).expect("timeout");
    std::io::Read::read_exact(&mut client, &mut byte).expect("the server's byte");
    // The server closed first; once the client closes too, the server's side is in TIME_WAIT.
    assert_eq!(std::io::Read::read(&mut client, &mut byte).expect("EOF"), 0);
    drop(client);
    let p = port.to_string();
    let run = reaper(&["kill", "--port", &p, "--yes", "--format", "json"]);
    let json = run.json();
    assert!(is_dead(server.pid()) || state(server.pid()).is_none(), "{json:#}");
    assert!(!bind_works(port, true), "the truth: even a bind with SO_REUSEADDR fails");
    run.expect(1);
    assert_eq!(json["ports"][0]["state"], "time_wait", "{json:#}");
    assert_eq!(json["ports"][0]["lingering"]["reuse_bind"], false, "{json:#}");
    let text = reaper(&["kill", "--port", &p, "--yes"]);
    text.expect(1);
    assert!(text.stderr().contains("did not set SO_REUSEADDR"), "{}", text.stderr());
    reaper(&["wait", "--port", &p, "--free", "--timeout", "100ms"]).expect(1);
}

// With no fd left, neither the socket table nor the fd tables can be read: that is an error
// (exit 3), never "nothing matched, port free". Regression: under `ulimit -n 4`,
// `kill --port` printed "nothing matched ... free" and exited 0 while the listener lived.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: prlimit (util-linux)")]
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

// A selected port that nothing held stays a success for kill: nothing to end, the port free.
#[test]
fn kill_of_a_free_port_is_success_with_state_free() {
    let p = unused_port().to_string();
    let json = reaper(&["kill", "--port", &p, "--format", "json"]).expect(0).json();
    assert_eq!(state_of(&json), "free", "{json:#}");
    assert_eq!(json["skipped"], serde_json::json!([]));
}
