#!/usr/bin/env bash
# Wine test of the Windows tree kill: reaper.exe (x86_64-pc-windows-gnu, linked by mingw) under
# Debian's wine64 ends a Windows tree that keeps spawning while it is being killed
# (tests/wine/spawner.c: every process starts a child every INTERVAL ms until it has WIDTH,
# DEPTH levels, each marked by this run's token) with `kill --pid ROOT --yes --timeout 2s`: the
# targets are pinned by handles and assigned to a Job Object, so what they spawn meanwhile is in
# the job too, and the KILL step ends the job.
# ROUNDS rounds (default 3). In each, the kill starts once AT processes run (the root's pid comes
# from a file the root writes, so nothing delays the start), and the round must show that the tree
# was still growing then (processes appeared after the kill started, or reaper ended more than ran
# at its start), exit 0 within LIMIT seconds (default 30) and leave no process of the tree. The
# defaults keep the tree spawning through the whole kill (a child a second from each of up to 20
# processes, until 20 s after the last of them started): the children that come after the tree
# walk's last look are the Job Object's to end (and its strays, `end_the_job` in
# src/sys/portable_signal.rs). A reaper.exe without the job (no assignment, no end of the job)
# left 32 and 8 processes behind in 2 rounds of 3.
# Prints one line per round: processes when the kill started, processes that appeared after, the
# targets reaper ended, time, exit, survivors (the numbers in BENCHMARKS.md come from here). Every
# wine call is bounded; only processes carrying this run's token are signalled; the prefix's
# wineserver is shut down at the end.
#   usage: tests/wine/tree.sh     env: XPLAT_DIR (default /tmp/xplat), WINEPREFIX, BIN,
#                                      NO_BUILD=1 (use $BIN/reaper.exe as it is),
#                                      ROUNDS, LIMIT, WIDTH (20), DEPTH (2: 421 processes at
#                                      most), INTERVAL (ms between two spawns, 1000),
#                                      AT (start the kill once this many run; default 120)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
NAME=tree . tests/wine/env.sh
ROUNDS=${ROUNDS:-3} LIMIT=${LIMIT:-30} WIDTH=${WIDTH:-20} DEPTH=${DEPTH:-2} INTERVAL=${INTERVAL:-1000} AT=${AT:-120}
mkdir -p "$BIN" || exit 1
TOK=rt$$x$RANDOM$RANDOM
WORK=$(mktemp -d) || exit 1
fail=0
check() { # check WHAT COND...: prints the verdict, remembers a failure
  local what=$1; shift
  if "$@"; then echo "wine-tree: ok: $what"; else echo "wine-tree: FAILED: $what"; fail=1; fi
}
finish() {
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  pkill -9 -f "$TOK" 2>/dev/null # only this run's processes (the token is on their command lines)
  timeout 30 wineserver -k >/dev/null 2>&1
  rm -rf "$WORK" "$BIN"/root-"$TOK"-*.pid*
}
trap finish EXIT
trap 'exit 130' INT TERM
R() { timeout 120 wine64 "$BIN/reaper.exe" "$@"; } # one bounded reaper.exe call
# pids TOKEN: the Linux pids of the tree's processes (one per Windows process), without the
# `timeout` that bounds the root's wine64.
pids() { ps -eo pid=,comm=,args= | awk -v t="$1 " 'index($0, t) && $2 != "timeout" && $2 != "awk" { print $1 }'; }
count() { pids "$1" | wc -l; }
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

at_least() { [ "$(count "$1")" -ge "$2" ]; }
for round in $(seq "$ROUNDS"); do
  tok=$TOK-$round pidfile=root-$TOK-$round.pid
  (cd "$BIN" && exec timeout 300 wine64 spawner.exe "$tok" "$WIDTH" "$DEPTH" "$INTERVAL" "$pidfile") </dev/null >/dev/null 2>&1 &
  check "round $round: the tree grew to $AT processes" until_ok 120 at_least "$tok" "$AT"
  root=$(cat "$BIN/$pidfile" 2>/dev/null)
  check "round $round: the root wrote its pid ($root)" test -n "$root"
  pids "$tok" | sort -u >"$WORK/before"
  seen=$(wc -l <"$WORK/before")
  # What runs while reaper.exe kills: every pid seen, every 200 ms.
  (while :; do pids "$tok"; sleep 0.2; done) >"$WORK/during" &
  sampler=$!
  s=$(date +%s%N)
  out=$(R kill --pid "$root" --yes --timeout 2s --format json 2>&1)
  rc=$?
  ms=$((($(date +%s%N) - s) / 1000000))
  kill "$sampler" 2>/dev/null
  wait "$sampler" 2>/dev/null
  sampler=""
  new=$(sort -u "$WORK/during" | comm -13 "$WORK/before" - | wc -l)
  # reaper.exe has checked the job is empty; the Linux processes behind Wine's go a moment later.
  until_ok 10 test "$(count "$tok")" = 0
  left=$(count "$tok")
  read -r targets ended outcomes < <(python3 -c 'import collections, json, sys
t = json.load(sys.stdin)["targets"]
c = collections.Counter(x["outcome"] for x in t)
print(len(t), sum(c[k] for k in ("killed", "exited", "gone")), ",".join(f"{k}={v}" for k, v in sorted(c.items())))' <<<"$out" 2>/dev/null)
  echo "wine-tree: round $round: $seen processes when the kill started, $new more appeared after it started;" \
    "reaper ended ${ended:-?} of ${targets:-?} targets (${outcomes:-?}), ${ms} ms, exit $rc, $left left"
  [ "$rc" = 0 ] || echo "$out" | tail -20
  check "round $round: the tree was still growing when the kill started" test "$new" -gt 0 -o "${ended:-0}" -gt "$seen"
  check "round $round: kill --pid exits 0" test "$rc" = 0
  check "round $round: within $LIMIT s" test "$ms" -le $((LIMIT * 1000))
  check "round $round: no process of the tree is left" test "$left" = 0
  pkill -9 -f "$tok" 2>/dev/null
done
echo "wine-tree: $([ $fail = 0 ] && echo clean || echo FAILED)"
exit $fail
