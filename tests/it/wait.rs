//! `reaper wait` against real listeners and processes.

use std::process::{Child, Command};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::*;

/// A `reaper wait` running in the background; SIGKILLed and reaped on drop.
struct Waiter(Child);

impl Waiter {
    fn start(args: &[&str]) -> Waiter {
        Waiter(reaper_cmd().arg("wait").args(args).spawn().expect("starting reaper wait"))
    }

    fn running(&mut self) -> bool {
        self.0.try_wait().expect("try_wait").is_none()
    }

    #[track_caller]
    fn code(&mut self) -> i32 {
        wait_exit(&mut self.0, "reaper wait").code().unwrap_or(-1)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn wait_free_times_out_while_held_and_returns_after_release() {
    let fx = Fixture::start("wait-free", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let r = reaper(&["wait", "--port", &port, "--free", "--timeout", "300ms"]);
    r.expect(1);
    assert!(r.stderr().contains(&format!("port {port} is still held")), "{}", r.stderr());

    let mut w = Waiter::start(&["--port", &port, "--free", "--timeout", "20s"]);
    assert!(w.running());
    drop(fx); // SIGKILL and reap: the kernel closes the listener
    assert_eq!(w.code(), 0);
}

#[test]
fn wait_listening_returns_once_something_listens() {
    let port = unused_port().to_string();
    reaper(&["wait", "--port", &port, "--listening", "--timeout", "200ms"]).expect(1);
    let mut w = Waiter::start(&["--port", &format!("tcp:{port}"), "--listening", "--timeout", "20s"]);
    let fx = Fixture::start("wait-listen", "listen", &["tcp", "127.0.0.1", &port]);
    assert_eq!(w.code(), 0);
    // Already listening: at once.
    reaper(&["wait", "--port", &port, "--listening", "--timeout", "1s"]).expect(0);
    drop(fx);
}

#[test]
fn wait_pid_counts_a_zombie_as_exited() {
    let mut sleeper = Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let r = reaper(&["wait", "--pid", &pid, "--timeout", "200ms"]);
    r.expect(1);
    assert!(r.stderr().contains(&format!("pid {pid} is still running")), "{}", r.stderr());
    let mut w = Waiter::start(&["--pid", &pid, "--timeout", "0"]);
    kill(Pid::from_raw(sleeper.id() as i32), Signal::SIGKILL).unwrap();
    // Not reaped: `sleep` is a zombie, and a zombie has exited.
    assert_eq!(w.code(), 0);
    assert!(is_zombie(sleeper.id()));
    sleeper.wait().unwrap();
    // Gone entirely: has exited too.
    reaper(&["wait", "--pid", &pid, "--timeout", "1s"]).expect(0);
}

#[test]
fn wait_bad_input_exits_2() {
    let r = reaper(&["wait", "--port", "70000", "--free"]);
    r.expect(2);
    assert!(r.stderr().contains("70000"), "{}", r.stderr());
    let r = reaper(&["wait", "--pid", "1", "--timeout", "5x"]);
    r.expect(2);
    assert!(r.stderr().contains("5x"), "{}", r.stderr());
    reaper(&["wait", "--port", "5700"]).expect(2); // neither --free nor --listening
    reaper(&["wait"]).expect(2);
    reaper(&["wait", "--pid", "0"]).expect(2);
}
