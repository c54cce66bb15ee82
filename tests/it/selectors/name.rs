//! `--name`, `--signature` (the command line, as `pgrep -f` reads it), `--exe`, `--exclude` and
//! `--user`: processes posing as others, rewritten titles.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::*;

#[test]
fn signature_name_exclude_and_user() {
    let fx = Fixture::start("sig", "listen", &["tcp", "127.0.0.1"]);
    let tok = fx.token.as_str();
    assert_eq!(reaper(&["list", "--signature", tok, "--format", "pid"]).expect(0).pids(), vec![fx.pid()]);
    // reaper never matches itself, though its own command line carries the token.
    // Regression: this asserted a non-empty list, which a self-match passes too.
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
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: the mimic fixture writes /proc/self/comm")]
fn process_posing_as_sshd_is_matched_as_documented() {
    // argv[0] and comm both say `sshd`; only /proc/PID/exe says python.
    let fx = Fixture::start("mimic", "mimic", &["sshd"]);
    let pid = fx.pid();
    // --name matches comm, argv[0]'s basename or the exe's basename: `sshd` matches.
    assert_eq!(
        reaper(&["list", "--name", "sshd", "--signature", &fx.token, "--format", "pid"]).expect(0).pids(),
        vec![pid]
    );
    // --exe looks at the real executable only: the pose does not fool it.
    reaper(&["list", "--exe", "sshd", "--signature", &fx.token, "--format", "pid"]).expect(1);
    assert_eq!(
        reaper(&["list", "--exe", "python3*", "--signature", &fx.token, "--format", "pid"]).expect(0).pids(),
        vec![pid]
    );
    // The JSON shows both the claim and the truth.
    let json = reaper(&["list", "--signature", &fx.token, "--format", "json"]).expect(0).json();
    assert_eq!(json[0]["name"], "sshd");
    assert_eq!(json[0]["cmdline"][0], "sshd");
    let exe = json[0]["exe"].as_str().expect("exe is readable as root");
    let base = std::path::Path::new(exe).file_name().and_then(OsStr::to_str).unwrap_or_default();
    assert!(base.starts_with("python"), "exe {exe}");
}

// Daemons that rewrite their title left dozens of "" arguments: `-s '... 40$'` missed them.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: reads /proc/PID/cmdline")]
fn title_padding_is_not_arguments() {
    let fx = Fixture::start("title", "title", &["40"]);
    let raw = std::fs::read(format!("/proc/{}/cmdline", fx.pid())).expect("cmdline");
    assert!(raw.ends_with(&[0; 40]), "the fixture's cmdline ends in NUL padding");
    let pattern = format!("{} title 40$", fx.token);
    let json = reaper(&["list", "--signature", &pattern, "--format", "json"]).expect(0).json();
    let rows = json.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{json:#}");
    assert_eq!(rows[0]["pid"], fx.pid());
    let args: Vec<&str> = rows[0]["cmdline"].as_array().expect("cmdline").iter().filter_map(Value::as_str).collect();
    assert_eq!(args.last(), Some(&"40"), "{args:?}");
    assert!(!args.contains(&""), "{args:?}");
    let table = reaper(&["list", "--signature", &pattern]).expect(0).stdout();
    assert!(table.contains(&format!("{} title 40\n", fx.token)), "{table}");
}

// The real thing, when redis-server is installed: its title is "redis-server *:PORT" padded
// with NULs, and `-s 'redis-server .*:PORT$'` finds it as `pgrep -f` does.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: reads /proc/PID/cmdline")]
fn redis_title_matches_like_pgrep() {
    let Ok(out) = Command::new("sh").args(["-c", "command -v redis-server"]).output() else { return };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if path.is_empty() {
        skip("redis-server is not installed");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let token = token("redis");
    let redis = Started {
        token,
        child: Command::new(&path)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("redis-server"),
    };
    let pid = redis.pid();
    let pattern = format!("redis-server .*:{port}$");
    wait_for("redis to rewrite its title", || {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&format!(":{port}")))
    });
    let pgrep = Command::new("pgrep").args(["-f", &pattern]).output().expect("pgrep");
    assert!(String::from_utf8_lossy(&pgrep.stdout).lines().any(|l| l.trim() == pid.to_string()));
    let found = reaper(&["list", "--signature", &pattern, "--format", "pid"]).expect(0).pids();
    assert_eq!(found, vec![pid]);
}
