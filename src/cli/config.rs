//! Arguments -> configuration: everything about the terminal and the selection is decided here,
//! once, before any process is touched.

use std::io::IsTerminal;

use reaper::{Error, Selection};

use super::args::{ColorChoice, SelectArgs, StateArg};

/// How output looks.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Colour on stdout.
    pub color: bool,
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal (progress lines).
    pub stderr_tty: bool,
    /// stdin is a terminal (prompts).
    pub stdin_tty: bool,
    /// `-q`.
    pub quiet: bool,
}

impl Style {
    /// Resolves `--color` and the terminal state.
    pub fn new(choice: ColorChoice, quiet: bool) -> Style {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color,
        };
        Style {
            color,
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            quiet,
        }
    }
}

/// The library selection these arguments spell.
pub fn selection(a: &SelectArgs) -> Result<Selection, Error> {
    let mut sel = Selection {
        ports: a.port.clone(),
        proto: a.proto.map(Into::into),
        any_state: a.state == StateArg::Any,
        signatures: a.signature.clone(),
        names: a.name.clone(),
        excludes: a.exclude.clone(),
        pids: a.pid.clone(),
        descendants_of: a.descendants_of.clone(),
        children_of: a.children_of.clone(),
        pgids: a.pgid.clone(),
        sids: a.sid.clone(),
        orphans: a.orphans,
        older_than: a.older_than,
        younger_than: a.younger_than,
        ..Selection::default()
    };
    for e in &a.exe {
        sel = sel.exe(e)?;
    }
    for u in &a.user {
        sel = sel.user(u)?;
    }
    Ok(sel)
}
