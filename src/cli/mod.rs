//! The command line: one clap definition, used by the binary to parse arguments and by
//! `reaper generate` to print completions and the man page. Help text lives in the doc comments.

pub mod args;
pub mod complete;
pub mod config;
pub mod exit;
pub mod generate;
pub mod kill;
pub mod list;
pub mod output;
pub mod pick;
pub mod run;
pub mod wait;
pub mod why;
