#!/usr/bin/env bash
# Regenerates the committed shell completions and man page from the one clap definition
# (src/cli/args.rs) through the hidden `reaper generate` subcommand. Run after changing any
# argument or help text; tests/it/docs.rs fails until the committed copies match.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/reaper
"$bin" generate bash       > completions/reaper.bash
"$bin" generate zsh        > completions/_reaper
"$bin" generate fish       > completions/reaper.fish
"$bin" generate powershell > completions/_reaper.ps1
"$bin" generate elvish     > completions/reaper.elv
"$bin" generate man        > man/reaper.1
echo "regenerated completions/ and man/reaper.1"
