//! Liveness and exit codes at the edges: a port held by a socket that is only bound, TIME_WAIT
//! left by a server without SO_REUSEADDR, environments that cannot be read, processes started
//! in the same clock tick, processes whose main thread has exited, an unwritable stdout, one
//! exit-code table, and `run`'s exit as soon as its tree has ended.

use std::process::{Command, Stdio};

use crate::util::*;

/// Whether a server that sets SO_REUSEADDR (or not, `reuse` false) can bind 127.0.0.1:`port` now.
fn bind_works(port: u16, reuse: bool) -> bool {
    let code = format!(
        "import socket\ns = socket.socket()\nif {}: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {port}))",
        if reuse { "True" } else { "False" }
    );
    Command::new("python3").args(["-c", &code]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
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
#[test]
fn a_socket_bound_but_not_listening_holds_the_port() {
    if cfg!(feature = "portable") || !kernel_sees_bound_inactive() {
        return skip("sock_diag's bound-inactive state needs Linux 6.6 and the Linux backend");
    }
    let token = token("bound-inactive");
    let code = "import socket, sys, time\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\n\
                print(s.getsockname()[1], flush=True)\ntime.sleep(600)";
    let mut child = Command::new("python3")
        .args(["-c", code, &token])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("python3");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Started { token, child };
    let port: u16 = read_line_within(stdout, DEADLINE).expect("the port").trim().parse().expect("a port");
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
