//! Processes that make reading them hard: /proc churning under a scan, hostile command lines
//! (escape sequences, 100 KB of arguments), names that are not UTF-8, a process whose main thread
//! has exited, an fd that would block if opened, and a PATH of fake tools. Every process here is
//! the test's own (a unique token on its command line) and is killed and reaped in `Drop`.
//!
//! The long versions are `#[ignore]`d: `cargo test --test it -- --ignored long_`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use reaper::{PortSpec, ProcessRecord, Selection, Snapshot, select};

use crate::util::*;

/// Runs `select::find` (by signature, by port, and a full snapshot with records) `rounds` times
/// against a churn of short-lived children: never an error, the long-lived parent always found.
fn library_scan_under_churn(rounds: usize, churn_secs: &str) {
    let fx = Fixture::start("churn-lib", "churn", &[churn_secs]);
    let (parent, port) = (fx.pid(), fx.port());
    let by_sig = Selection::new().signature(&fx.token).expect("a valid regex");
    let by_port = Selection::new().port(PortSpec::tcp(port));
    let mut transient = BTreeSet::new();
    for round in 0..rounds {
        let mut snap = Snapshot::new();
        let m = select::find(&by_sig, &mut snap).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(m.pids.contains(&parent), "round {round}: parent {parent} missing from {:?}", m.pids);
        transient.extend(m.pids.iter().copied().filter(|&p| p != parent));

        let mut snap = Snapshot::new();
        let m = select::find(&by_port, &mut snap).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(m.pids.contains(&parent), "round {round}: port {port} holder {parent} missing: {m:?}");
        assert!(m.unresolved.is_empty(), "round {round}: {m:?}");

        // Every 10th round, a whole-system snapshot as `list --tree` takes it: every process,
        // command line, exe and fd table, and the records of our own processes.
        if round % 10 == 0 {
            let mut snap = Snapshot::new();
            snap.load_all_processes().unwrap_or_else(|e| panic!("round {round}: {e}"));
            snap.load_all_details();
            let pids: Vec<u32> = snap.processes().map(|p| p.pid).collect();
            snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true })
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            snap.find_ports_of(&pids).unwrap_or_else(|e| panic!("round {round}: {e}"));
            let ours: Vec<u32> = snap
                .processes()
                .filter(|p| p.cmdline.as_ref().is_some_and(|a| a.contains(&fx.token)))
                .map(|p| p.pid)
                .collect();
            let records: Vec<ProcessRecord> = ours.iter().filter_map(|&p| ProcessRecord::new(&mut snap, p)).collect();
            let me = records.iter().find(|r| r.pid == parent).expect("the parent's record");
            assert!(me.ports.iter().any(|p| p.local_port == port), "round {round}: {:?}", me.ports);
        }
    }
    // The test is only worth something if the churn was caught mid-flight.
    assert!(!transient.is_empty(), "no short-lived child was ever seen: the churn did not run");
}

#[test]
fn library_scan_survives_process_churn() {
    library_scan_under_churn(50, "600");
}

#[test]
#[ignore = "long: 1000 scans against a churn"]
fn long_library_scan_1000_rounds_under_churn() {
    library_scan_under_churn(1000, "3000");
}

/// The binary, `rounds` times per query shape, against the same kind of churn.
fn binary_list_under_churn(rounds: usize, churn_secs: &str) {
    let fx = Fixture::start("churn-bin", "churn", &[churn_secs]);
    let (parent, port) = (fx.pid(), fx.port().to_string());
    for round in 0..rounds {
        let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
        run.expect(0);
        let json = run.json();
        let rows = json.as_array().expect("a JSON array");
        assert!(rows.iter().any(|r| r["pid"] == parent), "round {round}: {}", run.stdout());

        assert!(run.stderr().is_empty(), "round {round}: {}: {}", run.cmd, run.stderr());
        let run = reaper(&["list", "--port", &format!("tcp:{port}"), "--format", "pid"]);
        run.expect(0);
        assert!(run.pids().contains(&parent), "round {round}: {}", run.stdout());

        let tree = reaper(&["list", "--signature", &fx.token, "--tree"]);
        tree.expect(0);
        assert!(tree.stdout().contains(&format!("* {parent} ")), "round {round}: {}", tree.stdout());
        for r in [&run, &tree] {
            assert!(r.stderr().is_empty(), "round {round}: {}: {}", r.cmd, r.stderr());
        }
    }
}

#[test]
fn binary_list_survives_process_churn() {
    binary_list_under_churn(10, "600");
}

#[test]
#[ignore = "long: 200 rounds of the binary against a churn"]
fn long_binary_list_200_rounds_under_churn() {
    binary_list_under_churn(200, "3000");
}

/// Checks that nothing a process chose about itself reached the output raw: no escape, bell,
/// C1 control or bidi override, and no line beyond `lines`.
#[track_caller]
fn assert_printed_safely(run: &Run, lines: usize) {
    let out = run.stdout();
    for bad in ['\x1b', '\x07', '\r', '\u{9b}', '\u{202e}', '\u{0}'] {
        assert!(!out.contains(bad), "{}: raw {bad:?} in output", run.cmd);
    }
    let shown: String = out.chars().take(4000).collect();
    assert_eq!(out.lines().count(), lines, "{}: a hostile argument added lines:\n{shown}", run.cmd);
    assert!(!run.stderr().contains("panicked"), "{}: {}", run.cmd, run.stderr());
}

#[test]
fn escape_sequences_and_newlines_are_printed_escaped() {
    let hostile: Vec<OsString> = [
        &b"\x1b[2J"[..],
        b"\x1b]0;title\x07",
        b"line1\nline2",
        b"cr\rhere",
        b"\xc2\x9b31m",      // C1 CSI, as UTF-8
        b"\xe2\x80\xaeevil", // right-to-left override
        b"bad\xff\xfeend",   // invalid UTF-8
    ]
    .iter()
    .map(|b| OsString::from_vec(b.to_vec()))
    .collect();
    let fx = Fixture::start_with("hostile", "idle", &hostile, DEADLINE);
    let pid = fx.pid();

    // Table: a header and one row, all controls escaped.
    let run = reaper(&["list", "--signature", &fx.token]);
    run.expect(0);
    assert_printed_safely(&run, 2);
    let row = run.stdout().lines().nth(1).expect("a row").to_string();
    for shown in [
        "\\x1b[2J",
        "\\x1b]0;title\\x07",
        "line1\\nline2",
        "cr\\rhere",
        "\\x9b31m",
        "\\u{202e}evil",
        "bad\u{fffd}\u{fffd}end",
    ] {
        assert!(row.contains(shown), "{shown:?} not in {row:?}");
    }

    // Tree views: one line per process.
    let run = reaper(&["list", "--signature", &fx.token, "--tree"]);
    run.expect(0);
    let lines = run.stdout().lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(run.stdout().lines().filter(|l| l.contains(&fx.token)).count(), 1, "{}", run.stdout());
    let run = reaper(&["tree", &pid.to_string()]);
    run.expect(0);
    let lines = run.stdout().lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(run.stdout().lines().filter(|l| l.contains(&fx.token)).count(), 1, "{}", run.stdout());

    // JSON: valid, no raw control byte, and the arguments are exactly what the process has
    // (invalid UTF-8 replaced by U+FFFD).
    let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
    run.expect(0);
    assert!(!run.out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'), "raw control byte in JSON");
    let json = run.json();
    let args: Vec<String> = json[0]["cmdline"]
        .as_array()
        .expect("cmdline")
        .iter()
        .map(|a| a.as_str().expect("a string").to_string())
        .collect();
    let want: Vec<String> = hostile.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    assert_eq!(&args[args.len() - want.len()..], &want[..]);

    // Matching is over the arguments joined by single spaces, controls and all.
    let joined = format!(
        "{} idle \\x1b\\[2J \\x1b\\]0;title\\x07 line1\\nline2 cr\\rhere \\x{{9b}}31m \\x{{202e}}evil bad\\x{{fffd}}\\x{{fffd}}end$",
        fx.token
    );
    assert_eq!(reaper(&["list", "--signature", &joined, "--format", "pid"]).expect(0).pids(), vec![pid]);
    // A pattern cannot match across the boundary in a way the joined form does not have.
    let wrong = format!("{} idle \\x1b\\[2J\\x1b", fx.token);
    reaper(&["list", "--signature", &wrong, "--format", "pid"]).expect(1);
}

#[test]
fn a_100kb_argument_list_is_read_whole() {
    let big = "x".repeat(100_000);
    let mut args: Vec<OsString> = vec![OsString::from(&big)];
    args.extend((0..1000).map(|i| OsString::from(format!("{i:0>99}"))));
    args.push(OsString::from("END-OF-ARGS"));
    let fx = Fixture::start_with("bigargv", "idle", &args, DEADLINE);
    let pid = fx.pid();
    // The last argument is still matched: nothing was truncated at a page or buffer size.
    let sig = format!("{} idle x{{100000}} .* END-OF-ARGS$", fx.token);
    assert_eq!(reaper(&["list", "--signature", &sig, "--format", "pid"]).expect(0).pids(), vec![pid]);
    let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
    run.expect(0);
    let cmdline = run.json()[0]["cmdline"].as_array().expect("cmdline").clone();
    assert_eq!(cmdline.len(), 4 + args.len());
    assert_eq!(cmdline[4].as_str().map(str::len), Some(100_000));
    assert_eq!(cmdline.last().and_then(|a| a.as_str()), Some("END-OF-ARGS"));
    // The table holds it all. (comfy-table measures cells in u16, so a 200 KB cell is folded
    // onto continuation lines: one row, several lines, nothing lost.)
    let run = reaper(&["list", "--signature", &fx.token]);
    run.expect(0);
    let out = run.stdout();
    let lines = out.lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(out.lines().filter(|l| l.trim_start().starts_with(&pid.to_string())).count(), 1);
    assert!(out.lines().skip(2).all(|l| l.starts_with(&" ".repeat(10))), "continuation lines only after the row");
    let folded: usize = out.lines().skip(1).map(|l| l.trim().len()).sum();
    assert!(folded > 200_000, "table output was cut: {folded} bytes");
}

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
    Started::spawn_ready(token, Command::new(prog).args([token, name_hex]))
}

// A process whose kernel name is not UTF-8 is a process like any other: a file name cut
// mid-character at 15 bytes, or raw bytes (and escape sequences) set by prctl(PR_SET_NAME).
// `list --port` shows its port, `--name`, `--exe` and `--signature` match it, its descendants are
// its, and `kill --pid` ends it with its child. Regression: /proc/PID/status was read as UTF-8,
// the whole record dropped: "nothing matched", exit 0, the process ran on.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: prctl(PR_SET_NAME) and /proc/PID/comm")]
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
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: its listener is built with prctl (sys/prctl.h)")]
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
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a PID namespace (unshare)")]
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

/// A Python process whose main thread calls `pthread_exit` (its `/proc/PID/stat` then says `Z`)
/// while a second thread runs on, forking a child every 50 ms once `go` exists. SIGTERM is
/// ignored (Python's handlers would run in the main thread, which is gone). Prints its pid.
const LEADERLESS: &str = r#"
import ctypes, os, signal, sys, threading, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
go = sys.argv[1]
def worker():
    while True:
        if os.path.exists(go) and os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        time.sleep(0.05)
threading.Thread(target=worker).start()
print(os.getpid(), flush=True)
ctypes.CDLL(None).pthread_exit(None)
"#;

// A process whose main thread has exited (state Z in /proc/PID/stat) while other threads run is
// alive: it matches, it is a target, and the children it forks during the grace period are
// targets too. Regression: discovery skipped it as a zombie; `kill` said nothing matched (or
// `survivors: []`) and exited 0 while it and its children ran on.
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: sysinfo reads a process whose main thread exited as a zombie"
)]
#[test]
fn a_process_whose_main_thread_exited_is_alive_and_so_are_its_children() {
    let token = token("leaderless");
    let tmp = TempDir::new("leaderless");
    let go = tmp.0.join(format!("{token}.go"));
    let (guard, pid): (Started, u32) = python_saying(LEADERLESS, &[go.as_os_str()], &token);
    wait_for("the main thread to exit", || state(pid) == Some('Z'));
    assert!(std::fs::read_dir(format!("/proc/{pid}/task")).expect("tasks").count() >= 2, "a thread runs on");

    let listed = reaper(&["list", "--signature", &token, "--format", "pid"]);
    listed.expect(0);
    assert_eq!(listed.pids(), vec![pid]);

    // The children it forks while the kill waits out SIGTERM's grace period are targets too.
    std::fs::write(&go, b"").expect("go");
    let run = reaper(&["kill", "--signature", &token, "--sequence", "TERM:1s,KILL", "--yes", "--format", "json"]);
    let _ = std::fs::remove_file(&go);
    run.expect(0);
    let json = run.json();
    let targets: Vec<u64> =
        json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
    assert!(targets.contains(&u64::from(pid)), "{json:#}");
    assert!(targets.len() >= 2, "its children are targets: {json:#}");
    assert_eq!(json["survivors"], serde_json::json!([]), "{json:#}");
    assert!(is_dead(pid) || state(pid).is_none(), "the process is gone");
    assert_eq!(pids_with_token(&token), Vec::<u32>::new(), "no child escaped: {json:#}");
    drop(guard);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: /proc/PID/fd, and GNU timeout")]
fn fd_link_targets_are_read_as_text_never_opened() {
    // The fixture holds a FIFO open for reading with no writer. Opening /proc/PID/fd/N (rather
    // than reading the link) would block forever; `timeout` turns that into exit 124 (the limit
    // is generous: a debug build on a loaded machine with thousands of processes is slow).
    let tmp = TempDir::new("fifo");
    let fifo = tmp.0.join("trap");
    let fx = Fixture::start_with("fifo", "fifo", &[fifo.clone().into_os_string()], DEADLINE);
    let fd = fx.get("fd");
    assert_eq!(std::fs::read_link(format!("/proc/{}/fd/{fd}", fx.pid())).expect("the fd link"), fifo);
    let port = fx.port().to_string();
    let pid = fx.pid().to_string();
    for args in [
        vec!["timeout", "120", REAPER, "list", "--port", &port, "--format", "pid"],
        vec!["timeout", "120", REAPER, "list", "--format", "pid"],
        vec!["timeout", "120", REAPER, "list", "--signature", &fx.token, "--format", "json"],
        vec!["timeout", "120", REAPER, "tree", &pid],
    ] {
        let run = wrapped(&args, &fx.token, &tmp.0);
        run.expect(0);
    }
    let run = wrapped(&["timeout", "120", REAPER, "list", "--port", &port, "--format", "pid"], &fx.token, &tmp.0);
    assert_eq!(run.pids(), vec![fx.pid()]);
}

#[test]
fn never_shells_out_to_process_tools() {
    // A PATH where lsof, ps, ss, kill & co. only leave a mark: reaper must not run any of them.
    let fx = Fixture::start("noshell", "listen", &["tcp", "127.0.0.1"]);
    let tmp = TempDir::new("noshell");
    let bin = tmp.0.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let tools = ["lsof", "ps", "ss", "netstat", "fuser", "kill", "pkill", "pgrep", "killall", "sh", "bash", "python3"];
    for tool in tools {
        let path = bin.join(tool);
        let script = format!("#!/bin/sh\necho {tool} >> '{}/ran'\nexit 1\n", tmp.0.display());
        std::fs::write(&path, script).expect("a fake tool");
        let mut perm = std::fs::metadata(&path).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&path, perm).expect("chmod");
    }
    let port = fx.port().to_string();
    let pid = fx.pid().to_string();
    let runs: [&[&str]; 7] = [
        &["list", "--port", &port, "--format", "json"],
        &["list"],
        &["list", "--signature", &fx.token, "--tree"],
        &["list", "--pid", &pid, "--format", "json"],
        &["tree", &pid],
        &["why", "--port", &port],
        &["why", "--pid", &pid, "--format", "json"],
    ];
    for args in runs {
        let mut cmd = reaper_cmd();
        cmd.args(args).env("PATH", &bin);
        let out = run_bounded(&mut cmd, format!("reaper {args:?}")).out;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&pid), "{args:?} did not find {pid}");
    }
    let ran = std::fs::read_to_string(tmp.0.join("ran")).unwrap_or_default();
    assert_eq!(ran, "", "reaper ran external tools");
}
