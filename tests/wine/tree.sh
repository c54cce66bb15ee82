#!/usr/bin/env bash
# Wine test of the Windows tree kill: reaper.exe (x86_64-pc-windows-gnu, linked by mingw) under
# Debian's wine64 ends a Windows tree that keeps spawning (tests/wine/spawner.c: every process
# starts WIDTH children, DEPTH levels, each marked by this run's token) with
# `kill --pid ROOT --yes --timeout 2s`: the targets are pinned by handles and assigned to a Job
# Object, so what they spawn meanwhile is in the job too, and the KILL step ends the job.
# ROUNDS rounds (default 3); each must exit 0 within LIMIT seconds (default 30) and leave no
# process of the tree. Prints one line per round: processes seen, time, survivors (the numbers
# in BENCHMARKS.md come from here). Every wine call is bounded; only processes carrying this
# run's token are signalled; the prefix's wineserver is shut down at the end.
#   usage: tests/wine/tree.sh     env: XPLAT_DIR (default /tmp/xplat), WINEPREFIX, BIN,
#                                      NO_BUILD=1 (use $BIN/reaper.exe as it is),
#                                      ROUNDS, LIMIT, WIDTH (4), DEPTH (4), AT (start the kill
#                                      once this many processes run; default 200)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
NAME=tree . tests/wine/env.sh
ROUNDS=${ROUNDS:-3} LIMIT=${LIMIT:-30} WIDTH=${WIDTH:-4} DEPTH=${DEPTH:-4} AT=${AT:-200}
mkdir -p "$BIN" || exit 1
TOK=rt$$x$RANDOM$RANDOM
fail=0
check() { # check WHAT COND...: prints the verdict, remembers a failure
  local what=$1; shift
  if "$@"; then echo "wine-tree: ok: $what"; else echo "wine-tree: FAILED: $what"; fail=1; fi
}
finish() {
  pkill -9 -f "$TOK" 2>/dev/null # only this run's processes (the token is on their command lines)
  timeout 30 wineserver -k >/dev/null 2>&1
}
trap finish EXIT
trap 'exit 130' INT TERM
R() { timeout 120 wine64 "$BIN/reaper.exe" "$@"; } # one bounded reaper.exe call
count() { pgrep -fc "$1" 2>/dev/null || true; }    # Linux processes of the tree (one per Windows process)
# until SECONDS CMD...: polls CMD every 100 ms until it succeeds or SECONDS pass (no event for
# "Wine's process table changed" reaches this shell)
until_ok() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }

if [ -z "${NO_BUILD:-}" ]; then
  echo "== cargo build reaper.exe (debug)"
  cargo build --config 'profile.dev.package.sysinfo.debug-assertions=false' -Zbuild-std=std,panic_abort \
    --target x86_64-pc-windows-gnu --bin reaper -q || exit 1
  cp "$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/debug/reaper.exe" "$BIN/" || exit 1
fi
x86_64-w64-mingw32-gcc -O2 -o "$BIN/spawner.exe" tests/wine/spawner.c || exit 1
[ -f "$BIN/bcryptprimitives.dll" ] ||
  x86_64-w64-mingw32-gcc -O2 -shared -o "$BIN/bcryptprimitives.dll" tests/wine/bcryptprimitives.c -ladvapi32 || exit 1
timeout 300 wine64 wineboot -i >/dev/null 2>&1 && timeout 300 wineserver -w

at_least() { [ "$(count "$TOK-$1")" -ge "$2" ]; }
for round in $(seq "$ROUNDS"); do
  tok=$TOK-$round
  (cd "$BIN" && exec timeout 300 wine64 spawner.exe "$tok" "$WIDTH" "$DEPTH") </dev/null >/dev/null 2>&1 &
  check "round $round: the tree grew to $AT processes" until_ok 120 at_least "$round" "$AT"
  root="" until=$((SECONDS + 30))
  while [ -z "$root" ] && [ $SECONDS -lt $until ]; do
    root=$(R list --signature "$tok $WIDTH $DEPTH" --format pid 2>/dev/null | head -1)
  done
  check "round $round: the root is listed ($root)" test -n "$root"
  seen=$(count "$tok")
  s=$(date +%s%N)
  out=$(R kill --pid "$root" --yes --timeout 2s --format json 2>&1)
  rc=$?
  ms=$((($(date +%s%N) - s) / 1000000))
  # reaper.exe has checked the job is empty; the Linux processes behind Wine's go a moment later.
  until_ok 10 test "$(count "$tok")" = 0
  left=$(count "$tok")
  targets=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["targets"]))' <<<"$out" 2>/dev/null)
  echo "wine-tree: round $round: $seen processes when the kill started, $targets targets, ${ms} ms, exit $rc, $left left"
  [ "$rc" = 0 ] || echo "$out" | tail -20
  check "round $round: kill --pid exits 0" test "$rc" = 0
  check "round $round: within $LIMIT s" test "$ms" -le $((LIMIT * 1000))
  check "round $round: no process of the tree is left" test "$left" = 0
  pkill -9 -f "$tok" 2>/dev/null
done
echo "wine-tree: $([ $fail = 0 ] && echo clean || echo FAILED)"
exit $fail
