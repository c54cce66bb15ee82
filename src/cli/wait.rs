//! `reaper wait`: wait for a port to be free or listening, or for a process to exit.
//! Silent on success (exit 0); one line on stderr at the timeout (exit 1). On a terminal (stderr
//! a tty, no `-q`) a progress line says what it waits for and how long is left, as `kill` does.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reaper::wait::{self, PortCondition};

use super::args::WaitArgs;
use super::config::Style;
use super::exit::Exit;
use super::output;

/// Runs `reaper wait`.
pub fn wait(a: &WaitArgs, style: &Style) -> Result<Exit> {
    let timeout = (!a.timeout.is_zero()).then_some(a.timeout);
    let after = output::age(a.timeout);
    let show = style.stderr_tty && !style.quiet;
    let port = a.port_arg.or(a.port);
    if a.pid.is_some() && (a.free || a.listening) {
        anyhow::bail!(reaper::Error::Usage(
            "--free and --listening are about a port; --pid waits until that process has exited (drop them, or give a port instead of --pid)".into()
        ));
    }
    if port.is_some() && !a.free && !a.listening {
        anyhow::bail!(reaper::Error::Usage(
            "wait for what: give --free (nothing holds the port) or --listening (something listens on it)".into()
        ));
    }
    let (done, what) = match (port, a.pid) {
        (Some(spec), _) => {
            let cond = match (a.listening, a.strict) {
                (true, _) => PortCondition::Listening,
                (false, true) => PortCondition::Unused,
                (false, false) => PortCondition::Free,
            };
            let goal = if cond == PortCondition::Listening { "something listens" } else { "it is free" };
            let doing = format!("waiting for port {spec} until {goal}");
            if with_progress(show, &doing, timeout, move || wait::port(&spec, cond, timeout))? {
                return Ok(Exit::Success);
            }
            // Say why, in the same words `kill` uses: the state with its holders.
            let state = reaper::ports::state(&[spec], None)?;
            let what = match (cond, state.first()) {
                (PortCondition::Listening, _) => format!("nothing listens on port {spec} after {after}"),
                (_, Some(p)) => format!("{} is still {} after {after}", p.name(), output::port_state(p, a.strict)),
                (_, None) => format!("port {spec} is still held after {after}"),
            };
            (false, what)
        }
        (None, Some(pid)) => {
            let doing = format!("waiting for pid {pid} to exit");
            let done = with_progress(show, &doing, timeout, move || wait::pid(pid, timeout))?;
            (done, format!("pid {pid} is still running after {after}"))
        }
        (None, None) => anyhow::bail!(reaper::Error::Usage("give --port or --pid".into())),
    };
    if done {
        return Ok(Exit::Success);
    }
    if !style.quiet {
        output::warn(what);
    }
    Ok(Exit::Failure)
}

/// Runs `wait` (one of the library's waits, which block) and, when `show`, keeps a progress line
/// on stderr meanwhile: `doing`, and the time left (or waited, without a timeout). The wait runs
/// on a thread of its own, so it stays what it is (a pidfd event, the port poll); this thread
/// only redraws. Nothing is drawn for a wait that ends within a quarter second.
fn with_progress<T: Send + 'static>(
    show: bool,
    doing: &str,
    timeout: Option<Duration>,
    wait: impl FnOnce() -> T + Send + 'static,
) -> T {
    if !show {
        return wait();
    }
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let value = wait();
        let _ = tx.send(());
        value
    });
    let start = Instant::now();
    let mut drawn = false;
    while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_millis(250)) {
        let waited = start.elapsed();
        let clock = match timeout {
            Some(t) => format!("{:.1}s left", t.saturating_sub(waited).as_secs_f64()),
            None => format!("{:.1}s so far", waited.as_secs_f64()),
        };
        output::to_stderr(&format!("\r\x1b[2K{doing}: {clock}"));
        drawn = true;
    }
    if drawn {
        output::to_stderr("\r\x1b[2K");
    }
    worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
