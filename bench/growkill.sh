#!/usr/bin/env bash
# Kills of a growing tree, off-Linux backends against Linux's own engine: `kill --pid ROOT --yes
# --timeout 2s` of a tree that is still growing (tests/fixtures/fixture.py `grow W 2 - INTERVAL`:
# every process forks a child every INTERVAL seconds until it has W, two levels, all stay alive;
# W=22 is 507 processes, W=44 is 1981), started once three quarters of it run: with the default
# INTERVAL (0.05 s: 2.2 s to grow 507, 4.4 s for 1981) the tree is still growing while it is
# killed. Prints one row per run: backend, final size, processes when the kill started, targets
# (what reaper found: those of the plan and those it found while killing) and how many of them
# it ended, wall time, exit code, processes left when reaper exited (and, if any, a second
# later) and stopped.
#
#   bench/growkill.sh [W] [RUNS]     env: INTERVAL (seconds between two forks, 0.05)
#                                         WINE=1 also runs the Windows build under Wine
#                                         (tests/wine/tree.sh with a tree of the same size,
#                                         WINE_INTERVAL ms between two spawns, 300)
#                                         BINS="NAME=PATH ..." compares these binaries instead
# Builds debug binaries (the Linux engine, and `--features portable` copied to
# target/debug/reaper-portable). Everything it starts carries a unique token; run by hand, as root, never in CI.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
W=${1:-22} RUNS=${2:-3} INTERVAL=${INTERVAL:-0.05}
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

echo "| backend | tree (final size) | processes when the kill started | targets | ended | time | exit | left | stopped |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
run=0
for nb in $BINS; do
  name=${nb%%=*} bin=${nb#*=}
  for _ in $(seq "$RUNS"); do
    run=$((run + 1))
    ready=$(mktemp)
    setsid python3 tests/fixtures/fixture.py "$TOK-$run" grow "$W" 2 - "$INTERVAL" >"$ready" &
    until [ "$(count $run)" -ge $((TOTAL * 3 / 4)) ]; do :; done
    seen=$(count $run)
    root=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$ready")
    rm -f "$ready"
    s=$(date +%s%N)
    out=$("$bin" kill --pid "$root" --yes --timeout 2s --format json 2>/dev/null)
    rc=$?
    ms=$((($(date +%s%N) - s) / 1000000))
    read -r targets ended < <(python3 -c 'import json, sys
t = json.load(sys.stdin)["targets"]
print(len(t), sum(x["outcome"] in ("killed", "exited", "gone") for x in t))' <<<"$out" 2>/dev/null)
    # Left: not zombies when reaper exited; a second later too (a target still on its way out
    # at the first count is gone by the second; an escaped process is not).
    left=$(live $run) held=$(stopped $run)
    [ "$left" = 0 ] || { sleep 1; left="$left ($(live $run) 1 s later)"; }
    echo "| $name | $TOTAL | $seen | ${targets:-?} | ${ended:-?} | $ms ms | $rc | $left | $held |"
    pkill -9 -f "$TOK-$run" 2>/dev/null
  done
done
if [ -n "${WINE:-}" ]; then
  echo
  echo "Wine (tests/wine/tree.sh, spawner.exe $W children a process, 2 levels, one every ${WINE_INTERVAL:-300} ms):"
  WIDTH=$W DEPTH=2 INTERVAL=${WINE_INTERVAL:-300} AT=$((TOTAL * 3 / 4)) ROUNDS=$RUNS LIMIT=60 bash tests/wine/tree.sh |
    grep -E "round .*ms|clean|FAILED"
fi
