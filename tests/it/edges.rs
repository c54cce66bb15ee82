//! The edges of trust, on hostile input: kernel names that are not UTF-8, an ancestry that
//! `/proc` hides (`hidepid=2`), a pipeline of several stages, `-s` as kill(1) means it, the pids
//! of `tree`, a listener in a thread with an fd table of its own, and escape sequences in another
//! process's arguments. Whatever could reach a process the test did not start runs as PID 1 of a
//! fresh PID namespace ([`scenario`]); the rest targets the test's own pids and tokens.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::netns::{TempDir, scenario};
use crate::util::*;

/// A listener in C: `prog TOKEN NAME_HEX`. Sets its kernel name to the bytes of NAME_HEX
/// (`prctl(PR_SET_NAME)`, unless `-`), forks a child that pauses, listens on 127.0.0.1:0 and
/// prints `READY pid=P child=C port=N`. The child dies with it (`PR_SET_PDEATHSIG`).
const LISTENER_C: &str = r#"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    if (strcmp(argv[2], "-") != 0) {
        char name[16] = {0};
        size_t n = strlen(argv[2]) / 2;
        for (size_t i = 0; i < n && i < 15; i++) { unsigned v; sscanf(argv[2] + 2 * i, "%2x", &v); name[i] = (char)v; }
        prctl(PR_SET_NAME, name, 0, 0, 0);
    }
    pid_t child = fork();
    if (child == 0) { prctl(PR_SET_PDEATHSIG, SIGKILL); for (;;) pause(); }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a; memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 8)) return 3;
    socklen_t l = sizeof a; getsockname(s, (struct sockaddr *)&a, &l);
    printf("READY pid=%d child=%d port=%d\n", getpid(), child, ntohs(a.sin_port)); fflush(stdout);
    for (;;) pause();
}
"#;

/// The long non-ASCII file name whose first 15 bytes (the kernel's `comm`) end mid-character.
const CUT_NAME: &str = "app_サーバー起動";

/// Compiles [`LISTENER_C`] to `dir/name`; `None` (a skip) without gcc.
fn compile_listener(dir: &Path, name: impl AsRef<std::ffi::OsStr>) -> Option<PathBuf> {
    if !have("gcc") {
        return None;
    }
    let src = dir.join("listener.c");
    std::fs::write(&src, LISTENER_C).expect("writing listener.c");
    let bin = dir.join(name.as_ref());
    let run = run_bounded(Command::new("gcc").arg("-O0").arg("-o").arg(&bin).arg(&src), "gcc listener.c".into());
    run.expect(0);
    Some(bin)
}

/// Starts `prog TOKEN NAME_HEX` (guarded by a [`Started`]) and returns it with its READY line.
fn start_listener(prog: &Path, token: &str, name_hex: &str) -> (Started, std::collections::HashMap<String, String>) {
    let mut child = Command::new(prog)
        .args([token, name_hex])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("starting the listener");
    let stdout = child.stdout.take().expect("stdout");
    let started = Started { token: token.to_string(), child };
    let line = read_line_within(stdout, DEADLINE).expect("the listener never said READY");
    assert!(line.starts_with("READY"), "{line:?}");
    (started, parse_ready(line.trim()))
}

fn num(info: &std::collections::HashMap<String, String>, key: &str) -> u32 {
    info[key].parse().expect("a number")
}

// A process whose kernel name is not UTF-8 is a process like any other: a file name cut
// mid-character at 15 bytes, or raw bytes (and escape sequences) set by prctl(PR_SET_NAME).
// `list --port` shows its port, `--name`, `--exe` and `--signature` match it, its descendants are
// its, and `kill --pid` ends it with its child. Regression: /proc/PID/status was read as UTF-8,
// the whole record dropped: "nothing matched", exit 0, the process ran on.
#[test]
fn a_name_that_is_not_utf8_never_hides_a_process() {
    let tmp = TempDir::new("hostile-name");
    let Some(cut) = compile_listener(&tmp.0, CUT_NAME) else { return };
    // A file name that is not UTF-8 at all: the executable's path, argv[0] and the name.
    let raw = compile_listener(&tmp.0, std::ffi::OsStr::from_bytes(b"srv_\xff\xfe_listener")).expect("gcc");
    let token = token("hostile");
    for (prog, name_hex) in [(&cut, "-"), (&cut, "fffe1b5b33316d41c3"), (&raw, "-")] {
        let (_guard, info) = start_listener(prog, &token, name_hex);
        let (pid, child, port) = (num(&info, "pid"), num(&info, "child"), num(&info, "port"));
        let comm = std::fs::read(format!("/proc/{pid}/comm")).expect("comm");
        assert!(std::str::from_utf8(&comm).is_err(), "the fixture's name should not be UTF-8: {comm:?}");

        let by_port = reaper(&["list", "--port", &port.to_string(), "--format", "pid"]);
        assert_eq!(by_port.expect(0).pids(), vec![pid], "list --port");
        let by_sig = reaper(&["list", "--signature", &token, "--format", "pid"]);
        assert_eq!(by_sig.expect(0).pids(), vec![pid, child], "list --signature");
        // The executable by its full path (a glob over the directory for the raw name, which no
        // argument can spell as UTF-8) and by its file name.
        let exe =
            if prog == &cut { prog.to_str().expect("path").to_string() } else { format!("{}/srv_*", tmp.0.display()) };
        let by_exe = reaper(&["list", "--exe", &exe, "--signature", &token, "--format", "pid"]);
        assert_eq!(by_exe.expect(0).pids(), vec![pid, child], "list --exe {exe}");
        let by_glob = reaper(&["list", "--exe", "*_listener", "--signature", &token, "--format", "pid"]);
        if prog == &raw {
            assert_eq!(by_glob.expect(0).pids(), vec![pid, child], "list --exe *_listener");
        } else {
            let by_name = reaper(&["list", "--name", CUT_NAME, "--signature", &token, "--format", "pid"]);
            assert_eq!(by_name.expect(0).pids(), vec![pid, child], "list --name");
        }
        let tree = reaper(&["list", "--descendants-of", &pid.to_string(), "--format", "pid"]);
        assert_eq!(tree.expect(0).pids(), vec![child], "list --descendants-of");
        // What reaches the terminal is sanitized: the name's escape sequence is shown, not sent.
        let table = reaper(&["kill", "--pid", &pid.to_string(), "--dry-run"]);
        assert!(!table.stdout().contains('\x1b') && !table.stderr().contains('\x1b'), "{}", table.stdout());

        let killed = reaper(&["kill", "--pid", &pid.to_string(), "--yes", "--format", "json"]).expect(0).json();
        let targets: Vec<u64> =
            killed["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
        assert_eq!(targets, vec![u64::from(pid), u64::from(child)], "{killed:#}");
        wait_for("the listener to be gone", || is_dead(pid) || is_zombie(pid));
        wait_for("its child to be gone", || is_dead(child) || is_zombie(child));
    }
}

// `reaper run --no-pid-namespace` ends what its command left running, also a process whose name
// is not UTF-8. Regression: the engine could not read such a process, skipped it, and it ran on
// after `run` exited 0.
#[test]
fn run_ends_a_leftover_whose_name_is_not_utf8() {
    let tmp = TempDir::new("hostile-run");
    let Some(prog) = compile_listener(&tmp.0, CUT_NAME) else { return };
    let tok = token("hostile-run");
    let _guard = TokenReaper(tok.clone());
    let out = tmp.0.join("ready");
    let script = r#""$1" "$2" - >"$3" & while ! grep -q READY "$3"; do sleep 0.05; done; exit 0"#;
    let mut cmd = reaper_cmd();
    cmd.args(["run", "--no-pid-namespace", "--timeout", "3s", "--", "sh", "-c", script, "sh"])
        .arg(&prog)
        .arg(&tok)
        .arg(&out);
    let run = run_bounded(&mut cmd, "reaper run --no-pid-namespace -- sh -c 'hostile &'".into());
    let left = pids_with_token(&tok);
    run.expect(0);
    assert!(left.is_empty(), "the leftover outlived reaper run: {left:?}");
}

// A script whose name is not UTF-8 sits between the caller's shell and reaper: the ancestor walk
// goes through it, and `kill --name bash` run from it spares the shell that ran it. Regression:
// the walk stopped at the script and the caller's shell was killed. In a PID namespace, where
// every bash is the test's own.
#[test]
fn a_hostile_name_between_the_shell_and_reaper_keeps_the_ancestor_rail() {
    if !is_root() {
        return skip("needs root: a PID namespace");
    }
    if !have("unshare") {
        return;
    }
    let token = token("hostile-rail");
    let script = format!(
        r#"
        cp "$(command -v bash)" "$D/{CUT_NAME}"
        printf '%s\n' '"$REAPER" kill --name bash --yes --format json >"$D/k.out" 2>"$D/k.err"; echo $? >"$D/k.rc"' >"$D/inner.sh"
        bash -c '"$D/{CUT_NAME}" "$D/inner.sh"; echo $$ >"$D/shell.out"; echo 0 >"$D/shell.rc"'
        "#
    );
    let runs = scenario(&token, &script, &[]);
    let (shell, _) = runs.expect("shell", 0);
    let (_, out, err) = runs.get("k");
    let shell: u64 = shell.trim().parse().expect("the shell's pid");
    let json: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let skipped = json["skipped"].as_array().expect("skipped");
    assert!(
        skipped
            .iter()
            .any(|s| s["pid"].as_u64() == Some(shell) && s["reason"].as_str().is_some_and(|r| r.contains("ancestor"))),
        "the caller's shell {shell} should be skipped as an ancestor: {json:#}"
    );
}

// `/proc` mounted hidepid=2 hides a process between a non-root user's shell and reaper (here a
// non-dumpable one, which /proc shows as root's, as it shows sudo): the ancestor walk cannot reach
// PID 1. `kill --name bash` from there spares the user's shell and says why. Regression: the walk
// stopped at the hidden process and the shell was killed. In a PID and mount namespace of its own.
#[test]
fn hidepid_hiding_part_of_the_ancestry_keeps_the_callers_shell() {
    if !is_root() {
        return skip("needs root: PID and mount namespaces, hidepid");
    }
    if !have("unshare") || !have("setpriv") {
        return;
    }
    let token = token("hidepid");
    let script = r#"
        mount -t proc -o hidepid=2 proc /proc || exit 7
        chmod 777 "$D"
        printf '%s\n' 'import ctypes, subprocess, sys' \
            'ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc shows it as root' \
            'sys.exit(subprocess.call(sys.argv[1:]))' >"$D/mid.py"
        setpriv --reuid 65534 --regid 65534 --clear-groups bash -c '
            /usr/bin/python3 "$D/mid.py" "$REAPER" kill --name bash --yes --format json >"$D/k.out" 2>"$D/k.err"
            echo $? >"$D/k.rc"
            echo $$ >"$D/shell.out"; echo 0 >"$D/shell.rc"'
    "#;
    let runs = scenario(&token, script, &[]);
    let (shell, _) = runs.expect("shell", 0);
    let shell: u64 = shell.trim().parse().expect("the shell's pid");
    let (_, out, err) = runs.get("k");
    let json: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let skipped = json["skipped"].as_array().expect("skipped");
    let shell_skip = skipped.iter().find(|s| s["pid"].as_u64() == Some(shell));
    let reason =
        shell_skip.and_then(|s| s["reason"].as_str()).unwrap_or_else(|| panic!("{shell} not skipped: {json:#}"));
    assert!(reason.contains("hides part of reaper's ancestry"), "{reason}");
    assert_eq!(json["targets"].as_array().map(Vec::len), Some(0), "{json:#}");
}

// `reaper kill ... | tee LOG | cat`: every stage of reaper's own pipeline is spared, also `cat`,
// which only reads what `tee` writes. Regression: `tee` was spared and `cat` received SIGTERM
// (then `tee` died of SIGPIPE and the log was lost). The stages carry the token on their command
// lines, so the selector matches them; a real target is ended.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: pipes on the standard streams are not read")]
fn every_stage_of_reapers_pipeline_is_spared() {
    let fx = Fixture::start("pipeline", "listen", &["tcp", "127.0.0.1"]);
    let tmp = TempDir::new("pipeline");
    let tok = &fx.token;
    let log = tmp.0.join(format!("{tok}.log"));
    let empty = tmp.0.join(format!("{tok}.empty"));
    std::fs::write(&empty, "").expect("empty file");
    let script = r#""$REAPER" kill --signature "$1" --yes --format json | tee "$2" | cat - "$3""#;
    let mut cmd = wrapper_cmd("sh");
    cmd.args(["-c", script, "sh", tok]).arg(&log).arg(&empty);
    let run = run_bounded(&mut cmd, "reaper kill | tee | cat".into());
    let json = run.json();
    let skipped: Vec<&str> = json["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["reason"].as_str().is_some_and(|r| r.contains("pipeline")))
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(skipped.contains(&"tee") && skipped.contains(&"cat"), "both stages spared: {json:#}");
    let targets: Vec<u64> =
        json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
    assert_eq!(targets, vec![u64::from(fx.pid())], "{json:#}");
    assert_eq!(std::fs::read(&log).expect("the log"), run.out.stdout, "tee wrote the whole report");
    wait_for("the fixture to be gone", || is_dead(fx.pid()) || is_zombie(fx.pid()));
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

// `tree PID --format pid` prints PID and its descendants, never its ancestors: `kill $(reaper
// tree P --format pid)` must not reach PID 1 or the caller's shells. Regression: the ancestry,
// PID 1 and the test itself included, was printed.
#[test]
fn tree_pids_are_the_process_and_its_descendants_only() {
    let fx = Fixture::start("tree-pids", "tree", &["3"]);
    let chain: Vec<u32> = fx.info["pids"].split(',').map(|p| p.parse().expect("pid")).collect();
    // From the middle of the chain: its parent (and the test, and PID 1) are ancestors.
    let mut want = chain[1..].to_vec();
    want.sort_unstable();
    let mut got = reaper(&["tree", &chain[1].to_string(), "--format", "pid"]).expect(0).pids();
    got.sort_unstable();
    assert_eq!(got, want);
    assert!(!got.contains(&1) && !got.contains(&std::process::id()) && !got.contains(&chain[0]));
}

// A listener held only by a thread that unshared its fd table (`unshare(CLONE_FILES)`): its
// leader's /proc/PID/fd does not show it, its own /proc/PID/task/TID/fd does. `list --port` names
// the process and `kill --port` ends it. Regression: "not visible ... a sandbox", exit 1.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: netstat2 reads the leaders' fd tables only")]
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
    let mut child = Command::new("python3")
        .args(["-c", code, &token])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("python3");
    let stdout = child.stdout.take().expect("stdout");
    let started = Started { token: token.clone(), child };
    let line = read_line_within(stdout, DEADLINE).expect("never ready");
    assert!(line.starts_with("READY"), "{line}");
    let info = parse_ready(line.trim());
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

// A port proxy's refusal quotes its arguments (`-container-ip`): escape sequences in them reach
// the terminal escaped, never raw. Regression: the reason was printed as the argv said, so a
// process could write to the terminal of whoever ran `reaper kill --port`.
#[test]
fn a_port_proxys_arguments_are_sanitized_in_the_refusal() {
    let tmp = TempDir::new("proxy-esc");
    let token = token("proxy-esc");
    let python = String::from_utf8(
        Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3").stdout,
    )
    .expect("path");
    let proxy = tmp.0.join("docker-proxy");
    std::os::unix::fs::symlink(python.trim(), &proxy).expect("symlink");
    let code = "import socket,sys,time\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\nprint('READY port=%d' % s.getsockname()[1], flush=True); time.sleep(600)";
    let evil = "\x1b]0;owned\x07\x1b[31mEVIL";
    let mut child = Command::new(&proxy)
        .args(["-c", code, &token, "-proto", "tcp", "-container-ip", evil, "-container-port", "80"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("docker-proxy");
    let stdout = child.stdout.take().expect("stdout");
    let started = Started { token, child };
    let line = read_line_within(stdout, DEADLINE).expect("the proxy never said READY");
    let port = parse_ready(line.trim())["port"].clone();
    let run = reaper(&["kill", "--port", &port, "--yes"]);
    let err = run.expect(1).stderr();
    assert!(err.contains("docker-proxy") && err.contains("EVIL"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "raw escapes on stderr: {err:?}");
    assert!(err.contains("\\x1b"), "{err}");
    assert!(!is_dead(started.pid()));
}
