//! Liveness and exit codes at the edges: a port held by a socket that is only bound, TIME_WAIT
//! left by a server without SO_REUSEADDR, environments that cannot be read, processes started
//! in the same clock tick, processes whose main thread has exited, an unwritable stdout, one
//! exit-code table, and `run`'s exit as soon as its tree has ended.

use std::os::unix::process::CommandExt;
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

/// Starts `python3 -c CODE ARGS... TOKEN` (guarded by the token) and returns the guard and the
/// first line it prints, parsed (a port or a pid).
fn python_saying<T: std::str::FromStr>(code: &str, args: &[&std::ffi::OsStr], token: &str) -> (Started, T) {
    let mut child = Command::new("python3")
        .args(["-c", code])
        .args(args)
        .arg(token)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("python3");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Started { token: token.to_string(), child };
    let line = read_line_within(stdout, DEADLINE).expect("its first line");
    let value = line.trim().parse().unwrap_or_else(|_| panic!("not a number: {line:?}"));
    (guard, value)
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
    feature = "portable",
    ignore = "portable backend: netstat2 has no bound-inactive sockets (sock_diag's, Linux 6.6+)"
)]
#[test]
fn a_socket_bound_but_not_listening_holds_the_port() {
    if cfg!(feature = "portable") || !kernel_sees_bound_inactive() {
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

// `run` returns as soon as its tree has ended: the path from the anchor's death to run's exit
// waits on events (pidfds) only, never on a polling interval. Regression: it slept in 10 ms
// steps for a full second (the kill engine watched for a supervisor retaking a port, with no
// port selected), so `run` exited ~1 s after its tree. Asserted on the mechanism, not a time:
// strace counts the sleeps of reaper's main thread. The latency is in BENCHMARKS.md.
#[cfg_attr(feature = "portable", ignore = "portable backend: its waits poll the process table")]
#[test]
fn run_exits_on_the_event_that_its_tree_ended_without_a_polling_sleep() {
    if !have("strace") {
        return;
    }
    for isolate in ["--pid-namespace-default", "--no-pid-namespace"] {
        let token = token("run-exit");
        let anchor = Spawned(Command::new("sleep").arg("600").stdin(Stdio::null()).spawn().expect("sleep"));
        let trace = std::env::temp_dir().join(format!("{token}.strace"));
        let mut cmd = wrapper_cmd("strace");
        cmd.arg("-o").arg(&trace).args(["-e", "trace=nanosleep,clock_nanosleep", "--", REAPER, "run"]);
        if isolate == "--no-pid-namespace" {
            cmd.arg(isolate);
        }
        cmd.args([
            "--watch-pid",
            &anchor.pid().to_string(),
            "--",
            "python3",
            "-c",
            "import time; time.sleep(600)",
            &token,
        ]);
        let mut run = Started { token: token.clone(), child: cmd.stderr(Stdio::null()).spawn().expect("strace") };
        // strace's and reaper's command lines carry the token too: wait for the command's.
        let command = || pids_with_token(&token).into_iter().filter(|&p| comm(p).starts_with("python")).count();
        wait_for("the command to start", || command() > 0);
        drop(anchor); // SIGKILLed and reaped: run ends its tree
        let status = wait_exit(&mut run.child, "reaper run");
        assert_eq!(status.code(), Some(143), "{isolate}: the command's status (SIGTERM)");
        assert_eq!(command(), 0, "{isolate}: the tree is gone");
        let text = std::fs::read_to_string(&trace).expect("the trace");
        let _ = std::fs::remove_file(&trace);
        let sleeps: Vec<&str> = text.lines().filter(|l| l.contains("sleep(")).collect();
        assert!(
            sleeps.is_empty(),
            "{isolate}: reaper run slept instead of waiting for an event:\n{}",
            sleeps.join("\n")
        );
    }
}

/// Runs reaper with stdout on `/dev/full` (every write fails with ENOSPC).
fn reaper_to_full(args: &[&str]) -> Run {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let mut cmd = reaper_cmd();
    cmd.args(args);
    run_bounded_to(&mut cmd, format!("reaper {} >/dev/full", args.join(" ")), Stdio::from(full))
}

// A stdout that cannot be written does not decide the exit code once signals are sent: the kill's
// outcome does, the write error is said on stderr, and the warnings after the summary still come.
// Regression: the holder was ended, then the write error made the command exit 3 ("nothing could
// be concluded") and the warnings were skipped.
#[test]
fn an_unwritable_stdout_does_not_hide_what_the_kill_did() {
    let fx = Fixture::start("full-ok", "listen", &["tcp", "127.0.0.1"]);
    let p = fx.port().to_string();
    let run = reaper_to_full(&["kill", "--port", &p, "--yes"]);
    run.expect(0);
    assert!(run.stderr().contains("could not write to stdout"), "{}", run.stderr());
    wait_for("the holder to end", || is_dead(fx.pid()));

    // A survivor: exit 1, and its warning (after the summary) is still on stderr.
    let stubborn = Fixture::start("full-survivor", "ignore-term", &[]);
    let pid = stubborn.pid().to_string();
    for format in ["table", "json"] {
        let run = reaper_to_full(&["kill", "--pid", &pid, "--sequence", "TERM:100ms", "--format", format]);
        run.expect(1);
        let err = run.stderr();
        assert!(err.contains(&format!("pid {pid}")) && err.contains("survived"), "{format}: {err}");
        assert!(err.contains("could not write to stdout"), "{format}: {err}");
    }
    assert!(!is_dead(stubborn.pid()));
}

// One exit-code table: a thread id named where a process is meant is bad input (exit 2), said
// once and clearly, on every path that takes a pid. Regression: `kill --pid TID` refused with
// exit 2, but `wait --pid TID` and `run --watch-pid TID` exited 3 with "No such file or
// directory" said twice.
#[test]
fn a_thread_id_is_refused_with_exit_2_on_every_path() {
    let fx = Fixture::start("threaded", "thread-id", &[]);
    let tid = fx.get("tid");
    let t = tid.to_string();
    let token = token("tid-run");
    for args in [
        vec!["kill", "--pid", &t, "--yes"],
        vec!["wait", "--pid", &t, "--timeout", "1s"],
        vec!["run", "--watch-pid", &t, "--", "echo", &token],
    ] {
        let run = reaper(&args);
        run.expect(2);
        let err = run.stderr();
        assert!(err.contains(&format!("{tid} is a thread of {}", fx.pid())), "{args:?}: {err}");
        assert!(!err.contains("os error"), "{args:?}: {err}");
        assert!(!run.stdout().contains(&token), "run started nothing: {}", run.stdout());
    }
    assert!(!is_dead(fx.pid()));
}

// The exit-code table (docs/src/exit-codes-json.md) is the one authority: the foreign-/proc rule
// in the safety chapter says what the table and the code say (exit 3, tested in `run::`), not another code.
#[test]
fn the_readme_states_one_exit_code_for_a_foreign_proc() {
    let readme = ["docs/src/exit-codes-json.md", "docs/src/safety.md"]
        .map(|p| std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).expect(p))
        .join("\n");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut said = 0;
    for (at, _) in flat.match_indices("another PID namespace") {
        let near = &flat[at..(at + 300).min(flat.len())];
        assert!(!near.contains("exit 1"), "{near}");
        said += usize::from(near.contains("exit 3"));
    }
    assert!(said >= 1, "the README says a foreign /proc exits 3");
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
    feature = "portable",
    ignore = "portable backend: sysinfo reads a process whose main thread exited as a zombie"
)]
#[test]
fn a_process_whose_main_thread_exited_is_alive_and_so_are_its_children() {
    let token = token("leaderless");
    let go = std::env::temp_dir().join(format!("{token}.go"));
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

// The cause of a flaky `kill::custom_sequence_and_force`: a test suite started as a background
// job of a non-interactive shell (`cargo test &` in a script, a CI step) inherits SIGINT set to
// SIG_IGN, and Python then keeps ignoring SIGINT instead of raising KeyboardInterrupt: the INT
// step did nothing and the sequence ended with KILL. The fixtures install Python's SIGINT
// handler themselves, whatever they inherit; started here exactly that way, INT ends it.
#[test]
fn a_fixture_started_with_sigint_ignored_still_exits_on_sigint() {
    let token = token("sigint-ignored");
    let script = format!("python3 '{FIXTURE}' '{token}' ignore-term & wait");
    let mut child = Command::new("bash")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("bash");
    let stdout = child.stdout.take().expect("stdout");
    let _guard = Started { token, child };
    let line = read_line_within(stdout, DEADLINE).expect("READY");
    let pid = parse_ready(line.trim())["pid"].clone();
    let json =
        reaper(&["kill", "--pid", &pid, "--sequence", "TERM:100ms,INT:20s,KILL", "--format", "json"]).expect(0).json();
    assert_eq!(json["targets"][0]["signals"], serde_json::json!(["SIGTERM", "SIGINT"]), "{json:#}");
    assert_eq!(json["targets"][0]["outcome"], "exited", "{json:#}");
}

// `--started-after pid:1` in a container's trap (`trap 'reaper kill --started-after pid:1' EXIT`)
// means everything PID 1 started, also in PID 1's own clock tick: a process forked in that tick
// matches, PID 1 and reaper never do. Regression: "strictly after PID 1's start time" missed the
// children of the first 10 ms and the recipe exited 0 with them running. Run in a fresh PID
// namespace until a child shares PID 1's tick (compared directly, from /proc).
#[test]
fn started_after_a_pid_includes_its_own_clock_tick_and_excludes_it() {
    if !is_root() {
        return skip("unshare --pid needs root");
    }
    let script = r#"sleep 600 & c=$!
t1=$(cut -d' ' -f22 /proc/1/stat); tc=$(cut -d' ' -f22 /proc/$c/stat)
[ "$t1" = "$tc" ] || { echo other-tick; exit 0; }
echo "child=$c"
"$REAPER" list --started-after pid:1 --format pid; echo "list=$?"
"$REAPER" kill --started-after pid:1 --yes >/dev/null; echo "kill=$?"
kill -0 "$c" 2>/dev/null && echo child-alive; kill -0 1 && echo init-alive"#;
    for _ in 0..30 {
        let mut cmd = wrapper_cmd("unshare");
        cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script]);
        let run = run_bounded(&mut cmd, "unshare --pid --fork --mount-proc sh -c SCRIPT".into());
        let out = run.stdout();
        if out.trim() == "other-tick" {
            continue;
        }
        let child =
            out.lines().find_map(|l| l.strip_prefix("child=")).unwrap_or_else(|| panic!("{out}\n{}", run.stderr()));
        let listed: Vec<&str> = out.lines().take_while(|l| !l.starts_with("list=")).skip(1).collect();
        assert_eq!(listed, vec![child], "the child of PID 1's own tick, and nothing else: {out}\n{}", run.stderr());
        assert!(out.contains("list=0\n") && out.contains("kill=0\n"), "{out}\n{}", run.stderr());
        assert!(!out.contains("child-alive"), "{out}");
        assert!(out.contains("init-alive"), "PID 1 is never a target: {out}");
        return;
    }
    panic!("no child forked in PID 1's clock tick in 30 namespaces");
}

/// A process of user nobody that makes itself not dumpable (as ssh-agent and gpg-agent do), so
/// its environment is closed to other processes of the same user; started by `sh -c` as nobody
/// when `parent_sh`, else directly by the test. Its environment has `MARK=token`. Prints its pid.
fn not_dumpable(token: &str, parent_sh: bool) -> (Started, u32) {
    let code = "import ctypes, os, sys, time\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n\
                print(os.getpid(), flush=True)\ntime.sleep(600)";
    let py = ["/usr/bin/python3", "-c", code, token];
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"]);
    if parent_sh {
        // The shell stays (it waits), carrying the entry that its child inherited.
        cmd.args(["sh", "-c", "\"$@\" & wait", token]).args(py);
    } else {
        cmd.args(py);
    }
    let mut child = cmd
        .env("MARK", token)
        .current_dir("/")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("setpriv");
    let stdout = child.stdout.take().expect("stdout");
    let guard = Started { token: token.to_string(), child };
    let pid = read_line_within(stdout, DEADLINE).expect("its pid").trim().parse().expect("a pid");
    wait_for("it to be not dumpable", || {
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| s.contains("Uid:\t65534"))
    });
    (guard, pid)
}

// `--env` and the caller's own process whose environment cannot be read (not dumpable): it is
// not a process that did not match. Its ancestry settles it when an ancestor carries the entry
// (it inherited it): a match. Otherwise it is reported by pid and the kill does not exit 0.
// Regression: counted as "other users' (need root)", left running, exit 0.
#[cfg_attr(
    feature = "portable",
    ignore = "portable backend: an unreadable environment is not settled through the ancestry"
)]
#[test]
fn env_accounts_for_the_callers_own_unreadable_process() {
    if !is_root() || !std::path::Path::new("/usr/bin/python3").exists() {
        return skip("needs root (to become nobody) and /usr/bin/python3");
    }
    let alone_token = token("env-undumpable");
    let mark = format!("MARK={alone_token}");
    let (_alone, pid) = not_dumpable(&alone_token, false);
    assert!(std::fs::read(format!("/proc/{pid}/environ")).is_ok(), "root reads it");
    let run = reaper_as_nobody(&["kill", "--env", &mark, "--yes"]);
    run.expect(1);
    assert!(
        run.stderr().contains(&format!("pid {pid} (python3): its environment could not be read")),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(pid), "not checked, so not signalled");
    drop(_alone);

    let tree_token = token("env-undumpable-child");
    let mark = format!("MARK={tree_token}");
    let (_tree, pid) = not_dumpable(&tree_token, true);
    let run = reaper_as_nobody(&["kill", "--env", &mark, "--yes", "--format", "json"]);
    run.expect(0);
    let json = run.json();
    assert!(json["targets"].as_array().expect("targets").iter().any(|t| t["pid"] == pid), "{json:#}");
    wait_for("the process to end", || is_dead(pid));
}

// As root, processes without an environment (kernel threads, zombies: the kernel answers
// ESRCH) are not "environments that could not be read". Regression: every `--env` call as root
// warned that ~60 environments could not be read.
#[test]
fn env_as_root_does_not_count_kernel_threads_and_zombies_as_unreadable() {
    if !is_root() {
        return skip("as root only");
    }
    let fx = Fixture::start("env-root", "zombies", &["3"]);
    let run = reaper(&["list", "--env", &format!("REAPER_TEST_NOTHING={}", fx.token)]);
    run.expect(1);
    let err = run.stderr();
    // No count of environments that do not exist...
    assert!(!err.contains("could not be read (other users'"), "{err}");
    // ...and a process named as unchecked (another test's sandboxed one, say) is none of them.
    for line in err.lines().filter(|l| l.contains("its environment could not be read")) {
        let pid: u32 = line.split_whitespace().nth(2).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        assert!(!fx.info["zombies"].split(',').any(|z| z == pid.to_string()), "a zombie of the fixture: {line}");
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            assert!(!cmd.is_empty() || state(pid).is_none(), "a kernel thread: {line}");
        }
    }
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
#[cfg_attr(feature = "portable", ignore = "portable backend: no SO_REUSEADDR bind probe (the Linux backend's)")]
#[test]
fn time_wait_of_a_server_without_reuseaddr_is_not_free() {
    if cfg!(feature = "portable") {
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
