//! Exit codes, in one place.

use std::process::ExitCode;

/// What reaper exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: `list` matched something; `kill` reached its end state; `wait` saw its condition.
    Success,
    /// 1: `list` matched nothing; `kill` left a survivor or a held port; `wait` timed out.
    Failure,
    /// 2: bad usage or input; nothing was signalled.
    Usage,
    /// 3: reaper could not find out (the socket table or /proc could not be read, say):
    /// nothing can be concluded, neither "free" nor "nothing matched".
    Error,
    /// 130: interrupted by SIGINT.
    Interrupted,
    /// Any other code (`run` passes its command's status through).
    Code(u8),
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Error => 3,
            Exit::Interrupted => 130,
            Exit::Code(c) => c,
        })
    }
}
