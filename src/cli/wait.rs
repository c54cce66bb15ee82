//! `reaper wait`: wait for a port to be free or listening, or for a process to exit.
//! Silent on success (exit 0); one line on stderr at the timeout (exit 1).

use anyhow::Result;
use reaper::wait::{self, PortCondition};

use super::args::WaitArgs;
use super::config::Style;
use super::exit::Exit;

/// Runs `reaper wait`.
pub fn wait(a: &WaitArgs, style: &Style) -> Result<Exit> {
    let timeout = (!a.timeout.is_zero()).then_some(a.timeout);
    let (done, what) = match (a.port, a.pid) {
        (Some(spec), _) => {
            let (cond, what) = if a.listening {
                (PortCondition::Listening, format!("nothing listens on port {spec}"))
            } else {
                (PortCondition::Free, format!("port {spec} is still held"))
            };
            (wait::port(&spec, cond, timeout)?, what)
        }
        (None, Some(pid)) => (wait::pid(pid, timeout)?, format!("pid {pid} is still running")),
        (None, None) => anyhow::bail!(reaper::Error::Usage("give --port or --pid".into())),
    };
    if done {
        return Ok(Exit::Success);
    }
    if !style.quiet {
        eprintln!("reaper: {what} after {}", humantime(a.timeout));
    }
    Ok(Exit::Failure)
}

fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}
