//! `reaper run`: arguments -> guard options -> the guard's event loop -> the command's status.
//! Progress goes to stderr (stdout belongs to the command). A stderr that cannot be written
//! (a closed pipe, a full disk) loses the messages, never the tree: nothing here panics on it.

use anyhow::Result;

use super::args::RunArgs;
use super::config::Style;
use super::exit::Exit;

/// Runs `reaper run`.
pub fn run(a: &RunArgs, style: &Style) -> Result<Exit> {
    use super::args::RestartArg;
    use reaper::guard::{self, GuardEvent, GuardOptions, Restart};

    let opts = GuardOptions {
        watch_pids: a.watch_pid.clone(),
        sequence: a.sequence.sequence(),
        restart: match a.restart {
            RestartArg::No => Restart::No,
            RestartArg::OnFailure => Restart::OnFailure,
            RestartArg::Always => Restart::Always,
        },
        max_restarts: a.max_restarts,
        ready_port: a.ready_port,
        ready_timeout: a.ready_timeout,
        pid_namespace: !a.no_pid_namespace,
        handle_signals: true,
        stopper: None,
    };
    let cmd: Vec<std::ffi::OsString> = a.command.iter().map(Into::into).collect();
    let quiet = style.quiet;
    let mut on_event = |e: GuardEvent| {
        let show = match e {
            GuardEvent::Warning(_) => true,
            // Said once the tree has ended, with the port and the time.
            GuardEvent::Ending(guard::EndReason::NotReady) => false,
            GuardEvent::Started { .. } | GuardEvent::Exited(_) => false,
            GuardEvent::Degraded(_)
            | GuardEvent::Ready { .. }
            | GuardEvent::Restarting { .. }
            | GuardEvent::Ending(
                guard::EndReason::Exited
                | guard::EndReason::WatchedExited(_)
                | guard::EndReason::Signal(_)
                | guard::EndReason::Stopped,
            ) => !quiet,
        };
        if show {
            say(format_args!("reaper: {e}"));
        }
    };
    match guard::run(&cmd, &opts, &mut on_event) {
        Ok(outcome) => {
            if !quiet {
                match outcome.reason {
                    guard::EndReason::NotReady => {
                        if let (Some(port), Some(t)) = (a.ready_port, a.ready_timeout) {
                            say(format_args!(
                                "reaper: nothing listened on tcp port {port} within {} (--ready-timeout): the tree was ended",
                                super::output::age(t)
                            ));
                        }
                    }
                    guard::EndReason::Exited
                        if a.restart != RestartArg::No && a.max_restarts.is_some_and(|m| outcome.restarts >= m) =>
                    {
                        say(format_args!(
                            "reaper: not restarting: --max-restarts {} reached; the command's last status is reaper's",
                            outcome.restarts
                        ));
                    }
                    guard::EndReason::Exited
                    | guard::EndReason::WatchedExited(_)
                    | guard::EndReason::Signal(_)
                    | guard::EndReason::Stopped => {}
                }
            }
            Ok(Exit::Code(outcome.exit_code()))
        }
        Err(e @ reaper::Error::Spawn { .. }) => {
            // Like a shell: 127 for a command that is not there, 126 for one that cannot run.
            let not_found =
                matches!(&e, reaper::Error::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
            say(format_args!("reaper: {e}"));
            Ok(Exit::Code(if not_found { 127 } else { 126 }))
        }
        Err(e) => Err(e.into()),
    }
}

/// One line on stderr; a failed write is ignored (`eprintln!` would panic, and the guard
/// would SIGKILL the tree while unwinding instead of stopping it).
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
