//! The `reaper` binary: parse arguments, run one subcommand, map the outcome to an exit code.
//! All the work is in the library; this file and `cli/` only translate.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command};
use cli::config::Style;
use cli::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Help and version go to stdout (exit 0); help asked for by omission to stderr.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
        Err(e) => {
            // A usage error, in reaper's own one-line style, with the usage to follow.
            use clap::CommandFactory;
            let subs: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
            let sub = std::env::args().skip(1).find(|a| subs.contains(a));
            cli::output::to_stderr(&usage_error(&e.render().to_string(), sub.as_deref()));
            return Exit::Usage.into();
        }
    };
    let style = Style::new(cli.color, cli.quiet);
    match run(&cli, &style) {
        Ok(exit) => exit.into(),
        Err(err) => {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            cli::output::warn(format_args!("{}", error_text(&err)));
            let usage = err.downcast_ref::<reaper::Error>().is_some_and(reaper::Error::is_usage);
            if usage { Exit::Usage } else { Exit::Error }.into()
        }
    }
}

/// The error and its causes, `: `-joined, each said once: a cause whose text the message
/// already carries (an OS error quoted in its context) is not repeated.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text = format!("{text}: {c}");
        }
    }
    text
}

/// clap's rendering of a usage error (`error: MSG`, tips, `Usage: ...`, `For more information,
/// try '--help'.`) as `reaper: MSG (tip: ...)` on one line and the usage on the next, which
/// names the subcommand (`sub`, the first argument that is one) whose `--help` says more.
fn usage_error(rendered: &str, sub: Option<&str>) -> String {
    let mut msg = String::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for para in rendered.split("\n\n") {
        let joined = para.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        if let Some(m) = joined.strip_prefix("error: ") {
            msg = m.to_string();
        } else if let Some(t) = joined.strip_prefix("tip: ") {
            tips.push(t.to_string());
        } else if let Some(u) = joined.strip_prefix("Usage: ") {
            // A usage of several lines (one per form) reads as alternatives.
            let forms: Vec<&str> = para.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            usage = Some(if forms.len() > 1 {
                forms.join(" or ").trim_start_matches("Usage: ").to_string()
            } else {
                u.to_string()
            });
        } else if !joined.is_empty() && !joined.starts_with("For more information") {
            tips.push(joined);
        }
    }
    if msg.contains("unexpected argument '--json'") {
        tips = vec!["--format json prints JSON".into()];
    }
    if msg.is_empty() {
        msg = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string();
    }
    let tips = if tips.is_empty() { String::new() } else { format!(" (tip: {})", tips.join("; ")) };
    // `reaper kill --dry-run [OPTIONS]`: the command is the words before the first argument.
    let command = sub.map_or_else(|| "reaper".to_string(), |s| format!("reaper {s}"));
    let usage = usage.map_or_else(String::new, |u| format!("usage: {u}; "));
    format!("reaper: {msg}{tips}\n{usage}more: {command} --help\n")
}

fn run(cli: &Cli, style: &Style) -> anyhow::Result<Exit> {
    let Some(command) = &cli.command else {
        // Plain `reaper`: the picker on a terminal; in a script, the help and exit 2 (as clap
        // does for a missing subcommand).
        if style.stdin_tty && style.stdout_tty {
            use clap::{Args, FromArgMatches};
            // `pick`'s arguments, all at their defaults.
            let defaults = cli::args::PickArgs::augment_args(clap::Command::new("pick"))
                .try_get_matches_from(["pick"])
                .and_then(|m| cli::args::PickArgs::from_arg_matches(&m));
            return match defaults {
                Ok(a) => cli::pick::pick(&a, style),
                Err(_) => Ok(Exit::Usage),
            };
        }
        use clap::CommandFactory;
        cli::output::to_stderr(&Cli::command().render_help().to_string());
        return Ok(Exit::Usage);
    };
    match command {
        Command::List(a) => cli::list::list(a, style),
        Command::Tree(a) => {
            reaper::check_own_proc()?; // the library checks in select::find and plan::plan
            cli::list::tree(a, style)
        }
        Command::Why(a) => cli::why::why(a, style),
        Command::Generate(a) => cli::generate::generate(a),
        Command::Complete(a) => cli::complete::complete(a),
        Command::Kill(a) => cli::kill::kill(a, style),
        Command::Run(a) => cli::run::run(a, style),
        Command::Wait(a) => cli::wait::wait(a, style),
        Command::Pick(a) => cli::pick::pick(a, style),
    }
}
