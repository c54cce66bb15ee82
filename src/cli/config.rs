//! Arguments -> configuration: everything about the terminal and the selection is decided here,
//! once, before any process is touched.

use std::io::IsTerminal;

use reaper::spec::StartBound;
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

/// A colour or emphasis for [`Style::paint`], the one painter. `kill`'s outcomes use the
/// traffic-light colours: exited green, killed yellow, survived and denied red.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// Bold: table headers.
    Bold,
    /// Green: a process that exited after the graceful signal.
    Green,
    /// Yellow: a process that had to be killed.
    Yellow,
    /// Red: a survivor, a refused signal, a port still held.
    Red,
}

impl Style {
    /// `s` wrapped in the ANSI sequence for `paint` when colour is on, else `s` unchanged.
    pub fn paint(&self, s: &str, paint: Paint) -> String {
        if !self.color || s.is_empty() {
            return s.to_string();
        }
        let code = match paint {
            Paint::Bold => "1",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::Red => "31",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    /// A rendered table with its first line (the header) in bold when colour is on.
    pub fn bold_header(&self, table: &str) -> String {
        match table.split_once('\n') {
            Some((head, rest)) if self.color => format!("{}\n{rest}", self.paint(head, Paint::Bold)),
            _ => table.to_string(),
        }
    }
}

/// The library selection these arguments spell: each selector of [`SelectArgs`] (its flag,
/// help and value name, which also decides its shell completion) mapped to its field of
/// [`Selection`] (its match, and whether it is broad).
pub fn selection(a: &SelectArgs) -> Result<Selection, Error> {
    // Every argument is named (no `..`): a new flag does not compile until it is mapped here.
    let SelectArgs {
        ports,
        port,
        proto,
        state,
        signature,
        name,
        exe,
        exclude,
        pid,
        descendants_of,
        children_of,
        pgid,
        sid,
        orphans,
        user,
        older_than,
        younger_than,
        env,
        cgroup,
        started_after,
        started_before,
        container,
        all_netns,
        all_users: _, // not a selector: the owner rule (see `reaper::plan::owner_rule`)
    } = a;
    let mut sel = Selection {
        ports: ports.iter().chain(port).cloned().collect(),
        proto: proto.map(Into::into),
        any_state: *state == StateArg::Any,
        signatures: signature.clone(),
        names: name.clone(),
        excludes: exclude.clone(),
        pids: pid.clone(),
        descendants_of: descendants_of.clone(),
        children_of: children_of.clone(),
        pgids: pgid.clone(),
        sids: sid.clone(),
        orphans: *orphans,
        older_than: *older_than,
        younger_than: *younger_than,
        envs: env.clone(),
        cgroups: cgroup.clone(),
        containers: container.clone(),
        all_netns: *all_netns,
        // `pid:N` is exact to N's clock tick and its ancestry, not a wall-clock time.
        started_after: started_after
            .filter(|b| !matches!(b, StartBound::StartOf(_)))
            .map(StartBound::resolve)
            .transpose()?,
        started_before: started_before.map(StartBound::resolve).transpose()?,
        // Set below, where they are resolved (a glob compiled, a user looked up, a process
        // read). Every field is named: a new selector does not compile until it is mapped here.
        exes: Vec::new(),
        users: Vec::new(),
        started_after_process: None,
    };
    if let Some(StartBound::StartOf(pid)) = started_after {
        sel = sel.started_after_process(*pid)?;
    }
    for e in exe {
        sel = sel.exe(e)?;
    }
    for u in user {
        sel = sel.user(u)?;
    }
    Ok(sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(color: bool) -> Style {
        Style { color, stdout_tty: false, stderr_tty: false, stdin_tty: false, quiet: false }
    }

    #[test]
    fn paint_only_when_colour_is_on() {
        assert_eq!(style(true).paint("killed", Paint::Yellow), "\x1b[33mkilled\x1b[0m");
        assert_eq!(style(false).paint("killed", Paint::Yellow), "killed");
        assert_eq!(style(true).bold_header("PID CMD\n1 x\n"), "\x1b[1mPID CMD\x1b[0m\n1 x\n");
        assert_eq!(style(false).bold_header("PID CMD\n1 x\n"), "PID CMD\n1 x\n");
    }
}
