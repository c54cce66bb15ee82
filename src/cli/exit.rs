//! Exit codes, in one place: the codes (`Exit`), and what each command's codes mean
//! ([`STATUSES`]), which each command's `--help`, the man page and the book print.

use std::process::ExitCode;

/// What each command exits with, code by code: the one source of each command's `--help`
/// ("Exit status:"), the man page's EXIT STATUS and the table in docs/src/exit-codes-json.md
/// (`reaper generate markdown-exit`; a test compares them). A meaning is one sentence without
/// `|` (a Markdown table's cells).
pub const STATUSES: [(&str, &[(&str, &str)]); 7] = [
    (
        "list",
        &[
            ("0", "something matched (a held port whose process is not visible counts)"),
            ("1", "nothing matched"),
            ("2", "bad input"),
            ("3", "could not read /proc or the socket table"),
        ],
    ),
    (
        "tree",
        &[
            ("0", "tree shown"),
            ("2", "no such process, or bad input"),
            ("3", "could not read /proc or the socket table"),
        ],
    ),
    (
        "why",
        &[
            ("0", "every match explained"),
            ("1", "nothing matched"),
            ("2", "bad input"),
            (
                "3",
                "a record of a match could not be read (its chain is shown as far as it goes, and the unread records are named), or a selected port's holder is not visible",
            ),
        ],
    ),
    (
        "kill",
        &[
            (
                "0",
                "the end state holds: every target gone, every selected port free and not taken again, also when nothing matched",
            ),
            (
                "1",
                "a process survived, a port is still held (by anyone, or by TIME_WAIT with --strict), a supervisor took it again, a signal was denied (EPERM), or a match that a flag would include (--all-users) was skipped and still runs",
            ),
            ("2", "bad input, no selector, or a protected target named (--pid 1, a thread id)"),
            ("3", "could not read what it needs, nothing signalled on a guess"),
            ("130", "interrupted (SIGINT)"),
        ],
    ),
    (
        "run",
        &[
            ("0", "the command exited 0"),
            ("1", "the command exited 1, or --ready-timeout passed without the tree listening on --ready-port"),
            ("2", "bad input, or a --watch-pid that does not exist or is a thread id (nothing started)"),
            ("N", "the command exited N"),
            ("128+N", "the command died of signal N (143 after the TERM of the sequence)"),
            ("126", "the command cannot be run"),
            ("127", "the command was not found"),
        ],
    ),
    (
        "wait",
        &[
            ("0", "condition met"),
            ("1", "timed out"),
            ("2", "bad input (a --pid that is a thread id, or --free or --listening with --pid)"),
            ("3", "could not read the socket table"),
        ],
    ),
    (
        "pick",
        &[
            ("0", "the last kill reached its end state (every target gone, its ports free)"),
            ("1", "it did not, or nothing was signalled (esc, ^C)"),
            ("2", "no terminal on stdin and stdout, or bad input"),
            ("3", "could not read the process or socket table"),
        ],
    ),
];

/// `cmd`'s rows of [`STATUSES`] (none for a command without any).
pub fn statuses(cmd: &str) -> &'static [(&'static str, &'static str)] {
    STATUSES.iter().find(|(c, _)| *c == cmd).map_or(&[], |(_, rows)| rows)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    // A meaning is a cell of the book's Markdown table.
    #[test]
    fn every_command_has_its_statuses_and_no_meaning_breaks_a_table() {
        for (cmd, rows) in STATUSES {
            assert!(rows.iter().any(|(c, _)| *c == "0") && rows.iter().any(|(c, _)| *c == "2"), "{cmd}");
            for (code, meaning) in rows {
                assert!(!meaning.contains('|') && !meaning.contains('\n'), "{cmd} {code}");
            }
        }
        assert_eq!(statuses("kill").len(), 5);
        assert!(statuses("generate").is_empty());
    }
}
