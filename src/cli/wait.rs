//! `reaper wait`: wait for a port to be free or listening, or for a process to exit.
//! Silent on success (exit 0); one line on stderr at the timeout (exit 1).

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
    let (done, what) = match (a.port, a.pid) {
        (Some(spec), _) => {
            let cond = match (a.listening, a.strict) {
                (true, _) => PortCondition::Listening,
                (false, true) => PortCondition::Unused,
                (false, false) => PortCondition::Free,
            };
            if wait::port(&spec, cond, timeout)? {
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
        (None, Some(pid)) => (wait::pid(pid, timeout)?, format!("pid {pid} is still running after {after}")),
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
