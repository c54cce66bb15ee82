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
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
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
            cli::output::warn(format_args!("{err:#}"));
            let usage = err.downcast_ref::<reaper::Error>().is_some_and(reaper::Error::is_usage);
            if usage { Exit::Usage } else { Exit::Error }.into()
        }
    }
}

fn run(cli: &Cli, style: &Style) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::List(a) => cli::list::list(a, style),
        Command::Tree(a) => {
            reaper::check_own_proc()?; // the library checks in select::find and plan::plan
            cli::list::tree(a, style)
        }
        Command::Generate(a) => cli::generate::generate(a),
        Command::Kill(a) => cli::kill::kill(a, style),
        Command::Run(a) => cli::run::run(a, style),
        Command::Wait(a) => cli::wait::wait(a, style),
    }
}
