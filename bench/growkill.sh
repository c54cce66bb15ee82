#!/usr/bin/env bash
# Kills of a growing tree, off-Linux backends against Linux's own engine: `kill --pid ROOT --yes
# --timeout 2s` of a tree that is still growing (tests/fixtures/fixture.py `grow W 2`: every
# process forks a child every 2 ms until it has W, two levels, all stay alive; W=22 is 507
# processes, W=44 is 1981), started once half of it runs. Prints one row per run: backend,
# processes when the kill started, targets, wall time, exit code, processes left (and stopped).
#
#   bench/growkill.sh [W] [RUNS]     env: WINE=1 also runs the Windows build under Wine
#                                         BINS="NAME=PATH ..." compares these binaries instead
#                                         (tests/wine/tree.sh with a tree of the same size)
# Builds debug binaries (the Linux engine, and `--features portable` copied to
# target/debug/reaper-portable). Everything it starts carries a unique token; run by hand, as root, never in CI.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
W=${1:-22} RUNS=${2:-3}
TOTAL=$((1 + W + W * W))
if [ -z "${BINS:-}" ]; then
  cargo build -q --features portable --bin reaper && cp target/debug/reaper target/debug/reaper-portable || exit 1
  cargo build -q --bin reaper || exit 1
  BINS="linux=target/debug/reaper portable=target/debug/reaper-portable"
fi
TOK=reaper-growkill-$$-$RANDOM
trap 'pkill -9 -f "$TOK" 2>/dev/null' EXIT
count() { pgrep -fc "$TOK-$1\b" || true; } # quick, zombies included: for the start threshold
# live RUN / stopped RUN: processes of run RUN that are not zombies / that are stopped (one ps).
live() { ps -eo stat=,args= | awk -v t="$TOK-$1 " 'index($0, t) && !/awk/ && $1 !~ /^Z/' | wc -l; }
stopped() { ps -eo stat=,args= | awk -v t="$TOK-$1 " 'index($0, t) && !/awk/ && $1 ~ /^[Tt]/' | wc -l; }

echo "| backend | tree (final size) | processes when the kill started | targets | time | exit | left | stopped |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run=0
for nb in $BINS; do
  name=${nb%%=*} bin=${nb#*=}
  for _ in $(seq "$RUNS"); do
    run=$((run + 1))
    ready=$(mktemp)
    setsid python3 tests/fixtures/fixture.py "$TOK-$run" grow "$W" 2 >"$ready" &
    until [ "$(count $run)" -ge $((TOTAL / 2)) ]; do :; done
    seen=$(count $run)
    root=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$ready")
    rm -f "$ready"
    s=$(date +%s%N)
    out=$("$bin" kill --pid "$root" --yes --timeout 2s --format json 2>/dev/null)
    rc=$?
    ms=$((($(date +%s%N) - s) / 1000000))
    targets=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["targets"]))' <<<"$out" 2>/dev/null)
    echo "| $name | $TOTAL | $seen | ${targets:-?} | $ms ms | $rc | $(live $run) | $(stopped $run) |"
    pkill -9 -f "$TOK-$run" 2>/dev/null
  done
done
if [ -n "${WINE:-}" ]; then
  echo
  echo "Wine (tests/wine/tree.sh, spawner.exe $W children a process, 2 levels):"
  WIDTH=$W DEPTH=2 AT=$((TOTAL / 2)) ROUNDS=$RUNS LIMIT=60 bash tests/wine/tree.sh | grep -E "round .*ms|clean|FAILED"
fi
