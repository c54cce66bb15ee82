//! The library guard and threads: a [`reaper::guard::Guard`] spawned from a worker thread
//! belongs to the process, not to that thread. The test re-runs this test binary as the
//! "app" (one test, selected by name, told its role by an environment variable), so that the
//! app can be SIGKILLed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::*;

/// Set (to the token) in the app's environment.
const ROLE: &str = "REAPER_TEST_GUARD_THREAD_APP";

/// The app: spawns a guard (a fixture that carries the token) from a thread that then exits,
/// prints `APP ready shim=S cmd=C` once that thread is gone, and on `end` from stdin ends the
/// tree from the main thread and prints `APP ended STATUS`.
#[test]
fn guard_thread_app() {
    let Ok(token) = std::env::var(ROLE) else {
        return; // an ordinary test run: nothing to do
    };
    let argv = ["python3".into(), FIXTURE.into(), token.into(), "idle".into()];
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let (guard, _) = reaper::guard::Guard::spawn(&argv, true).expect("spawning the guard");
        tx.send(nix::unistd::gettid().as_raw()).unwrap();
        guard
    });
    let tid = rx.recv().unwrap();
    let mut guard = worker.join().unwrap();
    // The thread's task is gone from /proc once its exit is complete (PR_SET_PDEATHSIG fires
    // during that exit).
    wait_for("the worker thread to be gone", || !std::path::Path::new(&format!("/proc/self/task/{tid}")).exists());
    println!("APP ready shim={} cmd={}", guard.shim_pid(), guard.pid().unwrap_or(0));
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    if line.trim() == "end" {
        let (status, warning) = guard.end(&reaper::Sequence::default()).expect("ending the tree");
        println!("APP ended {status:?} {warning:?}");
    }
}

/// The app process; SIGKILLed and reaped on drop, with every process of the token.
struct App {
    child: Child,
    lines: mpsc::Receiver<String>,
    token: String,
}

impl App {
    fn start(tag: &str) -> App {
        let token = token(tag);
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args(["guard_thread::guard_thread_app", "--exact", "--nocapture", "--test-threads=1"])
            .env(ROLE, &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the app");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // libtest prints "test NAME ... " before the app's first line, on the same line.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("APP ")
                    && tx.send(line[at..].to_string()).is_err()
                {
                    break;
                }
            }
        });
        App { child, lines, token }
    }

    #[track_caller]
    fn line(&self) -> String {
        self.lines.recv_timeout(DEADLINE).expect("a line from the app")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_token(&self.token);
    }
}

/// `(shim, cmd)` from `APP ready shim=S cmd=C`.
fn ready(line: &str) -> (u32, u32) {
    let kv = parse_ready(line.trim_start_matches("APP "));
    (kv["shim"].parse().expect("a shim pid"), kv["cmd"].parse().expect("a command pid"))
}

#[test]
fn guard_spawned_on_a_thread_outlives_the_thread_and_dies_with_the_process() {
    // Regression: the guard process had PR_SET_PDEATHSIG, which follows the parent *thread*:
    // a guard spawned from a worker thread (a tokio blocking-pool thread) killed its tree as
    // soon as that thread exited.
    let mut app = App::start("guard-thread");
    let (shim, cmd) = ready(&app.line());
    assert!(cmd != 0 && !is_dead(shim) && !is_dead(cmd));
    // Nothing to wait for here but the absence of an event: the kill used to follow at once.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        assert!(!is_dead(shim) && !is_dead(cmd), "the tree died with the thread that spawned it");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Another thread (the main one) ends it: gracefully, the fixture dies of SIGTERM.
    writeln!(app.child.stdin.as_mut().unwrap(), "end").unwrap();
    let ended = app.line();
    assert!(ended.starts_with("APP ended Some(Signaled(15)) None"), "{ended}");
    wait_for("the tree to be gone", || is_dead(cmd) && is_dead(shim));
    assert!(wait_exit(&mut app.child, "the app").success());

    // SIGKILL of the app process (every thread of it): the tree still dies.
    let app = App::start("guard-thread-kill");
    let (shim, cmd) = ready(&app.line());
    kill(Pid::from_raw(app.child.id() as i32), Signal::SIGKILL).unwrap();
    wait_for("the tree to die with the app", || is_dead(cmd) && is_dead(shim));
    assert!(pids_with_token(&app.token).is_empty());
}
