//! `reaper generate`: shell completions and the man page, printed from the same clap definition
//! the binary parses (no second CLI definition, no build script). The committed copies under
//! `completions/` and `man/` are refreshed with `scripts/gen-docs.sh`; a test fails when they
//! drift.

use std::io::{self, Write};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::args::{Cli, GenerateArgs, GenerateTarget, PICK_KEYS};
use super::exit::{Exit, STATUSES};
use super::output;

/// Runs `reaper generate TARGET`.
pub fn generate(args: &GenerateArgs) -> Result<Exit> {
    let mut buf = Vec::new();
    match args.target {
        GenerateTarget::Bash => completions(Shell::Bash, &mut buf),
        GenerateTarget::Zsh => completions(Shell::Zsh, &mut buf),
        GenerateTarget::Fish => completions(Shell::Fish, &mut buf),
        GenerateTarget::Powershell => completions(Shell::PowerShell, &mut buf),
        GenerateTarget::Elvish => completions(Shell::Elvish, &mut buf),
        GenerateTarget::Man => man(&mut buf).context("rendering the man page")?,
        GenerateTarget::MarkdownKeys => buf.extend_from_slice(markdown_keys().as_bytes()),
        GenerateTarget::MarkdownExit => buf.extend_from_slice(markdown_exit().as_bytes()),
    }
    output::emit(&String::from_utf8_lossy(&buf))?;
    Ok(Exit::Success)
}

fn completions(shell: Shell, out: &mut Vec<u8>) {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "reaper", &mut script);
    let script = String::from_utf8_lossy(&script);
    let live = match shell {
        Shell::Bash => live_bash(&script),
        Shell::Zsh => live_zsh(&script),
        Shell::Fish => live_fish(&script),
        _ => script.into_owned(),
    };
    out.extend_from_slice(live.as_bytes());
}

/// Which values are live (listening ports, pids, user names), by the value name an option
/// declares in `args.rs`, as `reaper complete` names them: what the shells offer instead of
/// file names (as kubectl and git do, the scripts call the program itself for them). An option
/// gets live completion by its value name alone; no list of options is kept by hand.
const LIVE_VALUES: [(&str, &str); 3] = [("SPEC", "port"), ("PID", "pid"), ("NAME|UID", "user")];

/// Every option (`--long` and `-s` forms) whose value is live, with what `reaper complete`
/// offers for it, read from the clap definition of every subcommand.
fn live_options() -> Vec<(String, &'static str)> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    for arg in cmd.get_subcommands().flat_map(|sub| sub.get_arguments()) {
        let Some(what) = arg
            .get_value_names()
            .and_then(|names| names.first())
            .and_then(|n| LIVE_VALUES.iter().find(|(v, _)| n.as_str() == *v))
            .map(|(_, what)| *what)
        else {
            continue;
        };
        let forms =
            arg.get_long().map(|l| format!("--{l}")).into_iter().chain(arg.get_short().map(|c| format!("-{c}")));
        for form in forms {
            if !out.iter().any(|(f, _)| *f == form) {
                out.push((form, what));
            }
        }
    }
    out
}

/// The subcommands that take ports as plain arguments (`reaper kill 3000`): their plain
/// arguments complete to the listening ports.
const PLAIN_PORTS: [&str; 4] = ["list", "kill", "why", "wait"];

/// clap's bash script with live values: each live option's case offers `reaper complete`'s
/// values instead of file names, and a wrapper completes `tree PID` and the plain ports of
/// [`PLAIN_PORTS`].
fn live_bash(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 1024);
    let options = live_options();
    let mut live: Option<&str> = None;
    for line in script.lines() {
        match live.take() {
            Some(what) if line.trim() == r#"COMPREPLY=($(compgen -f "${cur}"))"# => {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(&format!(
                    "{indent}COMPREPLY=($(compgen -W \"$(reaper complete {what} 2>/dev/null | cut -f1)\" -- \"${{cur}}\"))\n"
                ));
                continue;
            }
            _ => {}
        }
        live = options.iter().find(|(opt, _)| line.trim() == format!("{opt})")).map(|(_, what)| *what);
        let line = line.replace("complete -F _reaper ", "complete -F _reaper_live ");
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&BASH_WRAPPER.replace("@PLAIN_PORTS@", &PLAIN_PORTS.join("|")));
    out
}

const BASH_WRAPPER: &str = r#"
# Live values (reaper's own, not clap's): `tree PID`, and the plain ports of @PLAIN_PORTS@.
_reaper_live() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" sub="${COMP_WORDS[1]}"
    if [[ ${cur} != -* && ${prev} != -* ]]; then
        case "${sub}" in
            tree)
                if [[ ${COMP_CWORD} -eq 2 ]]; then
                    COMPREPLY=($(compgen -W "$(reaper complete pid 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                fi
                ;;
            @PLAIN_PORTS@)
                if [[ ${COMP_CWORD} -ge 2 && ${cur} =~ ^[0-9]*$ ]]; then
                    COMPREPLY=($(compgen -W "$(reaper complete port 2>/dev/null | cut -f1)" -- "${cur}"))
                    return 0
                fi
                ;;
        esac
    fi
    _reaper "$@"
}
"#;

/// clap's zsh script with live values: the live options, `tree`'s pid and the plain ports (of
/// [`PLAIN_PORTS`]: `ports` of the selectors, `port_arg` of `wait`) complete through helpers that
/// describe `reaper complete`'s values.
fn live_zsh(script: &str) -> String {
    let helper = |what: &str| format!("_reaper_live {what}");
    let mut s = script.to_string();
    for (value_name, what) in LIVE_VALUES {
        let value_name = format!(":{value_name}:_default'");
        s = s.replace(&value_name, &value_name.replace("_default", &helper(what)));
    }
    s = s.replace(":pid -- The process to show:_default'", &format!(":pid -- The process to show:{}'", helper("pid")));
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines() {
        let plain = line.starts_with("'*::ports -- ") || line.starts_with("'::port_arg -- ");
        if plain && line.ends_with(":_default' \\") {
            lines.push(line.replace(":_default' \\", &format!(":{}' \\", helper("port"))));
        } else {
            lines.push(line.to_string());
        }
    }
    let mut s = lines.join("\n") + "\n";
    let tail = "if [ \"$funcstack[1]\" = \"_reaper\" ]; then";
    if let Some(at) = s.rfind(tail) {
        s.insert_str(at, ZSH_HELPER);
    }
    s
}

const ZSH_HELPER: &str = r#"(( $+functions[_reaper_live] )) ||
_reaper_live() {
    # Live values (reaper's own, not clap's): `reaper complete` prints VALUE<TAB>WHAT.
    # _arguments puts its own options first: what to complete is the last argument.
    local what=${@[-1]}
    local -a values
    values=(${(f)"$(reaper complete $what 2>/dev/null | sed -e 's/:/\\:/g' -e 's/\t/:/')"})
    _describe -t $what $what values
}

"#;

/// clap's fish script with live values: the live options offer `reaper complete`'s values (and
/// no file names); `tree` and the plain ports of [`PLAIN_PORTS`] too.
fn live_fish(script: &str) -> String {
    let options = live_options();
    let mut out = String::with_capacity(script.len() + 1024);
    for line in script.lines() {
        let what = options.iter().find_map(|(opt, what)| {
            let flag = match opt.strip_prefix("--") {
                Some(long) => format!(" -l {long} "),
                None => format!(" -s {} ", opt.trim_start_matches('-')),
            };
            (line.contains(&flag) && line.ends_with(" -r")).then_some(*what)
        });
        out.push_str(line);
        if let Some(what) = what {
            out.push_str(&format!(" -f -a \"(reaper complete {what} 2>/dev/null)\""));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "# Live values (reaper's own, not clap's): `tree PID`, and the plain ports of {}.\n",
        PLAIN_PORTS.join(", ")
    ));
    out.push_str(
        "complete -c reaper -n \"__fish_reaper_using_subcommand tree\" -f -a \"(reaper complete pid 2>/dev/null)\"\n",
    );
    for sub in PLAIN_PORTS {
        out.push_str(&format!(
            "complete -c reaper -n \"__fish_reaper_using_subcommand {sub}\" -f -a \"(reaper complete port 2>/dev/null)\"\n"
        ));
    }
    out
}

/// The man page: clap_mangen's sections for the top level, one section per subcommand with its
/// own synopsis and options, then the hand-written sections clap knows nothing about.
fn man(out: &mut Vec<u8>) -> io::Result<()> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    // The date is left out on purpose: the committed page must not change with the calendar.
    let page = clap_mangen::Man::new(cmd.clone()).manual("User Commands");
    let mut top = Vec::new();
    page.render_title(&mut top)?;
    page.render_name_section(&mut top)?;
    page.render_synopsis_section(&mut top)?;
    page.render_description_section(&mut top)?;
    top.extend_from_slice(DESCRIPTION.as_bytes());
    page.render_options_section(&mut top)?;
    out.extend_from_slice(PREAMBLE.as_bytes());
    out.extend_from_slice(strip_preamble(&top).as_bytes());

    out.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // Global options are documented once, above; -h and -V are the usual ones.
        let sub =
            ["color", "quiet", "help", "version"].iter().fold(sub.clone(), |c, id| c.mut_arg(*id, |a| a.hide(true)));
        let name = format!("reaper {}", sub.get_name());
        writeln!(out, ".SS \"{name}\"")?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", roff_text(&about.to_string()))?;
        }
        let sub_page = clap_mangen::Man::new(sub.clone().bin_name(&name));
        let mut rendered = Vec::new();
        sub_page.render_synopsis_section(&mut rendered)?;
        sub_page.render_options_section(&mut rendered)?;
        // The subcommand's headings become bold paragraphs inside its subsection.
        for line in strip_preamble(&rendered).lines() {
            match line.strip_prefix(".SH ") {
                Some("SYNOPSIS") => writeln!(out, ".PP")?,
                Some(heading) => {
                    let heading = heading.trim_matches('"');
                    let heading = if heading == "OPTIONS" { "Options" } else { heading };
                    writeln!(out, ".PP\n\\fB{}\\fR", roff_text(&capitalise(heading)))?;
                }
                None => writeln!(out, "{line}")?,
            }
        }
    }
    // The picker's keys, from the table `pick --help` prints.
    out.extend_from_slice(b".SH \"PICKER KEYS\"\n");
    for (key, text) in PICK_KEYS {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff_text(key), roff_text(text))?;
    }
    exit_status(out)?;
    out.extend_from_slice(MAN_SECTIONS.as_bytes());
    let mut version = Vec::new();
    page.render_version_section(&mut version)?;
    out.extend_from_slice(strip_preamble(&version).as_bytes());
    Ok(())
}

/// The man page's EXIT STATUS: every command's codes from [`STATUSES`], the table each
/// command's `--help` prints; a line a code.
fn exit_status(out: &mut Vec<u8>) -> io::Result<()> {
    out.extend_from_slice(EXIT_INTRO.as_bytes());
    for (cmd, rows) in STATUSES {
        writeln!(out, ".TP\n\\fBreaper {cmd}\\fR")?;
        let lines: Vec<String> =
            rows.iter().map(|(code, text)| format!("\\fB{}\\fR {}", roff_text(code), roff_text(text))).collect();
        writeln!(out, "{}", lines.join("\n.br\n"))?;
    }
    out.extend_from_slice(EXIT_OUTRO.as_bytes());
    Ok(())
}

/// The table of exit codes in docs/src/exit-codes-json.md: a column for 0, 1 and 2 each, the
/// other codes together (`CODE: meaning`, a line each).
fn markdown_exit() -> String {
    let mut s = String::from("| command | 0 | 1 | 2 | other |\n|---|---|---|---|---|\n");
    for (cmd, rows) in STATUSES {
        let cell = |code: &str| rows.iter().find(|(c, _)| *c == code).map_or("", |(_, text)| *text);
        let other: Vec<String> = rows
            .iter()
            .filter(|(c, _)| !["0", "1", "2"].contains(c))
            .map(|(c, text)| format!("{c}: {}", code_flags(text)))
            .collect();
        let (zero, one, two) = (code_flags(cell("0")), code_flags(cell("1")), code_flags(cell("2")));
        s.push_str(&format!("| `{cmd}` | {zero} | {one} | {two} | {} |\n", other.join("<br>")));
    }
    s
}

/// `--flag` (and `--pid 1`, a flag and its number) as Markdown code: what the book's drift test
/// checks against the binary's flags.
fn code_flags(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let flag = &rest[at..];
        let mut end = 2 + flag[2..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(flag.len() - 2);
        // A number after it is its value: `--pid 1`.
        let value = flag[end..].strip_prefix(' ').map(|v| v.bytes().take_while(u8::is_ascii_digit).count());
        if let Some(n) = value.filter(|&n| n > 0) {
            end += 1 + n;
        }
        out.push_str(&format!("`{}`", &flag[..end]));
        rest = &flag[end..];
    }
    out.push_str(rest);
    out
}

/// The table of the picker's keys in docs/src/by-hand.md.
fn markdown_keys() -> String {
    let mut s = String::from("| key | does |\n|---|---|\n");
    for (key, text) in PICK_KEYS {
        s.push_str(&format!("| {} | {} |\n", key.replace('|', "\\|"), text.replace('|', "\\|")));
    }
    s
}

/// What every clap_mangen render starts with (defines `\*(Aq`); written once at the top.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

fn strip_preamble(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(s.len());
    for line in s.lines().filter(|l| !PREAMBLE.lines().any(|p| p == *l)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `SELECTORS (AND ACROSS KINDS, OR WITHIN A KIND)` -> `Selectors (AND across kinds, ...)`:
/// clap_mangen upper-cases headings; a sub-heading reads better as written in args.rs.
fn capitalise(heading: &str) -> String {
    let lower = heading.to_lowercase().replace("and across", "AND across").replace("or within", "OR within");
    let mut c = lower.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Escapes text for roff: a leading `.` or `'` would be a request; `\` starts an escape.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') { format!("\\&{s}") } else { s }
}

/// Extra paragraphs after clap's one-line description.
const DESCRIPTION: &str = r#".PP
reaper finds processes by the port they hold, by their command line, or by their place in the
process tree, and ends orphaned process trees cleanly: a graceful signal first, SIGKILL after a
deadline, and a check that the port is really free afterwards.
.PP
Selectors combine with AND across kinds and OR within one kind: \fB\-\-port 3000 \-\-port 3001
\-\-user alice\fR means "alice's processes holding 3000 or 3001". \fBlist\fR with no selector
shows every process that holds a listening TCP or bound UDP socket; \fBkill\fR requires one.
"#;

/// What EXIT STATUS says before the commands' codes.
const EXIT_INTRO: &str = r#".SH "EXIT STATUS"
Every subcommand exits 2 on bad usage or input (an unparsable port, duration, signal, regex,
an unknown user); nothing has been signalled then.
"#;

/// What EXIT STATUS says after the commands' codes.
const EXIT_OUTRO: &str = r#".PP
Every subcommand exits 3 when reaper could not find out (the socket table or /proc could not be
read, or /proc belongs to another PID namespace): nothing can be concluded then, neither "free"
nor "nothing matched".
"#;

/// The sections clap cannot generate: environment, safety rules, examples.
const MAN_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
When set to a non\-empty value, \fB\-\-color auto\fR (the default) does not colour.
\fB\-\-color always\fR still does.
.SH SAFETY
reaper signals processes, so some are out of its reach whatever the selectors say:
.IP \(bu 2
PID 1, and the init process of the PID namespace reaper runs in: killing init takes down the
whole system or container.
.IP \(bu 2
Kernel threads: they cannot be signalled meaningfully and are never listed.
.IP \(bu 2
reaper itself, its ancestors (the shell or program that started it), and other running reaper
processes: a broad pattern such as \fB\-\-signature node\fR must not end the terminal, the CI
runner or the watcher that invoked it.
.PP
Selectors that anyone can match by choosing a command line \(em \fB\-\-signature\fR,
\fB\-\-name\fR, \fB\-\-exe\fR, ancestry, process group, session, age, \fB\-\-orphans\fR \(em
only match the caller's own processes unless \fB\-\-all\-users\fR or \fB\-\-user\fR is given.
\fB\-\-port\fR and \fB\-\-pid\fR name one thing exactly and need no such flag.
.PP
Each target is identified by its pid and its start time. On Linux reaper holds a pidfd for every
target before signalling, so a pid recycled by a new process is never signalled; on other
systems the identity is re\-checked just before each signal. A process stopped with SIGSTOP is
sent SIGCONT after the graceful signal, which it would otherwise never see.
.PP
\fB\-\-dry\-run\fR prints the plan and signals nothing. On a terminal, \fBkill\fR asks before
signalling unless \fB\-\-yes\fR is given.
.SH EXAMPLES
.TP
\fBreaper kill 3000\fR
End what holds port 3000 and what it started (a plain argument is a port, as \fB\-\-port\fR
takes it: \fB:3000\fR, \fB3000\-3010\fR, \fBudp:53\fR, \fBhttp\fR; a bare number is never a
pid: \fB\-\-pid\fR names one).
.TP
\fBreaper list \-\-port 3000\fR
What holds port 3000?
.TP
\fBreaper list \-\-signature 'uvicorn .*:5700' \-\-format json\fR
Matching processes as JSON.
.TP
\fBreaper tree 1234\fR
The ancestry and descendants of 1234, with the ports each holds.
.TP
\fBreaper kill \-\-port 3000 \-\-dry\-run\fR
Show what would be signalled: the holder of port 3000 and everything it spawned.
.TP
\fBreaper kill \-\-port 3000 \-\-yes\fR
SIGTERM the holder of 3000 and its descendants, SIGKILL whatever is left after 5 seconds, and
exit 0 only once the port is free.
.TP
\fBreaper kill \-\-signature 'node .*vite' \-\-sequence 'TERM:5s,INT:2s,KILL'\fR
A custom escalation.
.TP
\fBreaper kill \-\-orphans \-\-signature my\-sidecar \-\-yes\fR
End sidecars whose parent app has died.
.TP
\fBreaper run \-\-watch\-pid $$ \-\- ./server \-\-port 5700\fR
Run a server and end its whole tree when the calling shell exits.
.TP
\fBreaper wait \-\-port 5700 \-\-free \-\-timeout 10s\fR
Wait until nothing holds port 5700.
.SH "SEE ALSO"
\fBkill\fR(1), \fBpkill\fR(1), \fBfuser\fR(1), \fBlsof\fR(8), \fBss\fR(8)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_keep_their_case() {
        assert_eq!(
            capitalise("SELECTORS (AND ACROSS KINDS, OR WITHIN A KIND)"),
            "Selectors (AND across kinds, OR within a kind)"
        );
        assert_eq!(capitalise("KILL SEQUENCE"), "Kill sequence");
    }

    // The live options come from the value names in `args.rs`: these are the ones that have
    // live values today (a new option with one of those value names joins them by itself).
    #[test]
    fn live_options_are_read_from_the_value_names() {
        let mut got = live_options();
        got.sort();
        let mut want: Vec<(String, &str)> = [
            ("--port", "port"),
            ("-p", "port"),
            ("--pid", "pid"),
            ("--descendants-of", "pid"),
            ("--children-of", "pid"),
            ("--watch-pid", "pid"),
            ("--user", "user"),
            ("-u", "user"),
        ]
        .iter()
        .map(|&(o, w)| (o.to_string(), w))
        .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn flags_are_code_in_markdown() {
        assert_eq!(
            code_flags("with --strict), a target (--pid 1, x) --all-users"),
            "with `--strict`), a target (`--pid 1`, x) `--all-users`"
        );
        assert_eq!(code_flags("no flag"), "no flag");
    }

    #[test]
    fn roff_text_escapes_requests() {
        assert_eq!(roff_text(".hidden"), "\\&.hidden");
        assert_eq!(roff_text("a-b\\c"), "a\\-b\\ec");
    }
}
