#!/usr/bin/env bash
# Regenerates the committed shell completions and man page from the one clap definition
# (src/cli/args.rs) through the hidden `reaper generate` subcommand. Run after changing any
# argument or help text; tests/it/docs.rs fails until the committed copies match. It also writes
# the picker's key table into docs/src/by-hand.md and the exit-code table into
# docs/src/exit-codes-json.md.
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
# The picker's keys in the book (docs/src/by-hand.md), between their markers.
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
{ echo; "$bin" generate markdown-keys; echo; } > "$keys"
sed -i -e '/<!-- picker-keys:begin/,/<!-- picker-keys:end/{//!d}' -e "/<!-- picker-keys:begin/r $keys" docs/src/by-hand.md
# The exit codes in the book (docs/src/exit-codes-json.md), between their markers.
{ echo; "$bin" generate markdown-exit; } > "$keys"
sed -i -e '/<!-- exit-codes:begin/,/<!-- exit-codes:end/{//!d}' -e "/<!-- exit-codes:begin/r $keys" docs/src/exit-codes-json.md
echo "regenerated completions/, man/reaper.1, the picker keys in docs/src/by-hand.md and the exit codes in docs/src/exit-codes-json.md"
