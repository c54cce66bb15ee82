#!/usr/bin/env bash
# Kills of a growing tree, off-Linux backends against Linux's own engine: `kill --pid ROOT --yes
# --timeout 2s` of a tree that is still growing (tests/fixtures/fixture.py `grow W 2`: every
# process forks a child every 2 ms until it has W, two levels, all stay alive; W=22 is 507
# processes, W=44 is 1981), started once half of it runs. Prints one row per run: backend,
# processes when the kill started, targets, wall time, exit code, processes left (and stopped).
#
#   bench/growkill.sh [W] [RUNS]     env: WINE=1 also runs the Windows build under Wine
#                                         (tests/wine/tree.sh with a tree of the same size)
# Builds debug binaries (the Linux engine and `--features portable`, in target/ and
# target/portable). Everything it starts carries a unique token; run by hand, as root, never in CI.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
W=${1:-22} RUNS=${2:-3}
TOTAL=$((1 + W + W * W))
cargo build -q --bin reaper || exit 1
cargo build -q --features portable --target-dir target/portable --bin reaper || exit 1
TOK=reaper-growkill-$$-$RANDOM
trap 'pkill -9 -f "$TOK" 2>/dev/null' EXIT
live() { local n=0 p; for p in $(pgrep -f "$TOK-$1"); do [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && n=$((n + 1)); done; echo $n; }
stopped() { local n=0 p; for p in $(pgrep -f "$TOK-$1"); do case $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) in T|t) n=$((n + 1));; esac; done; echo $n; }

echo "| backend | tree (final size) | processes when the kill started | targets | time | exit | left | stopped |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run=0
for bin in target/debug/reaper target/portable/debug/reaper; do
  name=linux; [ "$bin" = target/portable/debug/reaper ] && name=portable
  for _ in $(seq "$RUNS"); do
    run=$((run + 1))
    setsid python3 tests/fixtures/fixture.py "$TOK-$run" grow "$W" 2 >/dev/null &
    until [ "$(live $run)" -ge $((TOTAL / 2)) ]; do sleep 0.01; done
    root=$(pgrep -f "$TOK-$run" | head -1)
    seen=$(live $run)
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
