#!/usr/bin/env bash
# Wine test of the Windows guard (`reaper run`) and of the graceful step of `reaper kill` on
# Windows: reaper.exe (x86_64-pc-windows-gnu, linked by mingw) under Debian's wine64, against
# Windows processes of its own (tests/wine/guard_child.c), each marked by a unique token.
#   0. probe: does this Wine deliver CTRL_BREAK_EVENT to a console group at all?
#   1. run --watch-pid: the anchor exits -> CTRL_BREAK_EVENT to the command's console group
#      (both levels log "break" and exit 7), reaper exits with the command's status; where the
#      probe says Wine cannot, the tree is forced at the deadline instead (exit 1)
#   2. run, reaper.exe SIGKILLed from Linux -> the kill-on-close job ends the tree (3 levels)
#   3. run, a tree that ignores the break -> TerminateProcess / TerminateJobObject after the
#      deadline
#   4. kill, a process with a window -> WM_CLOSE (it logs "close" and exits 5); needs a display:
#      an Xvfb of its own when Xvfb is installed and DISPLAY is unset, else skipped
#   5. kill, a windowless console process reaper did not start -> nothing at TERM (no channel
#      reaches it alone), TerminateProcess at KILL
#   6. run --watch-pid, a command with a window: the anchor exits -> WM_CLOSE (exit 5)
# Separate from the general Wine smoke test; it can be merged into it. Every wine call is
# bounded, only processes carrying this run's token are signalled, and the prefix's wineserver
# is shut down at the end, which ends whatever is left in it.
#   usage: tests/wine/guard.sh        env: XPLAT_DIR (default /tmp/xplat), WINEPREFIX,
#                                          NO_BUILD=1 (use $BIN/reaper.exe as it is)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
NAME=guard . tests/wine/env.sh
mkdir -p "$BIN" || exit 1
TOK=rg$$x$RANDOM$RANDOM
LOGS=$(mktemp -d /tmp/reaper-wine-guard.XXXXXX) || exit 1
fail=0
check() { # check WHAT COND...: prints the verdict, remembers a failure
  local what=$1; shift
  if "$@"; then echo "wine-guard: ok: $what"; else echo "wine-guard: FAILED: $what"; fail=1; fi
}
note() { echo "wine-guard: $*"; }
XVFB=
finish() {
  pkill -9 -f "$TOK" 2>/dev/null # only this run's processes (the token is on their command lines)
  timeout 30 wineserver -k >/dev/null 2>&1
  [ -n "$XVFB" ] && kill "$XVFB" 2>/dev/null
  rm -rf "$LOGS"
}
trap finish EXIT
trap 'exit 130' INT TERM
W() { timeout "${WINE_CALL_TIMEOUT:-300}" wine64 "$@"; } # one bounded wine call (see .ci/wine: slow on a host with many sockets)
R() { W "$BIN/reaper.exe" "$@"; }
C="$BIN/guard_child.exe"
winpath() { echo "Z:$1"; } # Wine maps Z: to /
count() { grep -c "^$2 " "$1" 2>/dev/null || true; }
# until SECONDS CMD...: polls CMD every 100 ms until it succeeds or SECONDS pass (no event for
# "a Windows process wrote its log" reaches this shell)
until_ok() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
has() { test "$(count "$1" "$2")" = "$3"; } # has LOG WORD N: exactly N lines "WORD pid"
alive() { pgrep -f "$1" >/dev/null; }
gone() { ! alive "$1"; }

if [ -z "${NO_BUILD:-}" ]; then
  echo "== cargo build reaper.exe (debug)"
  # sysinfo's user lookup trips a debug assertion under Wine (no logon sessions).
  cargo build --config 'profile.dev.package.sysinfo.debug-assertions=false' -Zbuild-std=std,panic_abort \
    --target x86_64-pc-windows-gnu --bin reaper -q || exit 1
  cp "$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/debug/reaper.exe" "$BIN/" || exit 1
fi
x86_64-w64-mingw32-gcc -O2 -o "$C" tests/wine/guard_child.c -luser32 || exit 1
if [ ! -f "$BIN/bcryptprimitives.dll" ]; then
  # Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std imports.
  printf '%s\n' '#include <windows.h>' 'BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);' \
    '__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE p, SIZE_T n) { return SystemFunction036(p, (ULONG)n); }' \
    >"$LOGS/prng.c"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$BIN/bcryptprimitives.dll" "$LOGS/prng.c" -ladvapi32 || exit 1
fi
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
  d=$((100 + RANDOM % 400))
  Xvfb ":$d" -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB=$! && export DISPLAY=":$d"
  until_ok 10 test -e "/tmp/.X11-unix/X$d"
fi
timeout 300 wineboot -i >/dev/null 2>&1

# The Windows pid of the one process whose command line matches REGEX.
winpid() {
  local p; p=$(R list --signature "$1" --format pid 2>/dev/null | tr -d '\r')
  [ "$(wc -w <<<"$p")" = 1 ] && echo "$p"
}

anchor() { APID=$(winpid "$1"); [ -n "$APID" ]; } # sets APID once one process matches

echo "== 0. probe: console control events under this Wine"
W "$C" probe "$(winpath "$LOGS/0.log")" "${TOK}p"
if [ $? = 0 ]; then BREAK=1; note "0: CTRL_BREAK_EVENT is delivered"; else
  BREAK=0; note "0: this Wine does not deliver CTRL_BREAK_EVENT ($(grep -o 'probe-error [0-9]*' "$LOGS/0.log" || echo 'not taken')): the console-break checks are replaced by the forced path"
fi

echo "== 1. run --watch-pid: the anchor exits, the console group gets Ctrl+Break"
T=${TOK}a; L=$LOGS/1.log
W "$C" exit-after 4000 "$T-anchor" &
until_ok 30 anchor "exit-after.*$T-anchor"
note "anchor: Windows pid ${APID:-?}"
start=$SECONDS
R run --watch-pid "$APID" --sequence TERM:5s,KILL -- "$C" console "$(winpath "$L")" "$T" 1 2>"$LOGS/1.err"
rc=$?
sed 's/^/    > /' "$LOGS/1.err"
check "1: both levels ran [$(count "$L" ready) of 2]" test "$(count "$L" ready)" = 2
if [ $BREAK = 1 ]; then
  check "1: reaper run exits with the command's status (7: its break handler) [got $rc]" test "$rc" = 7
  check "1: both levels got Ctrl+Break [$(count "$L" break) of 2]" test "$(count "$L" break)" = 2
else
  check "1: forced at the deadline (exit code 1) [got $rc]" test "$rc" = 1
fi
check "1: the anchor's exit ended it [stderr]" grep -q "watched pid $APID exited" "$LOGS/1.err"
check "1: nothing of the tree is left" until_ok 10 gone "$T"
note "1: took $((SECONDS - start)) s"

echo "== 2. reaper.exe SIGKILLed: the kill-on-close job ends the tree"
T=${TOK}b; L=$LOGS/2.log
# A control outside the job: it must survive (Wine does not end processes at random).
W "$C" ignore "$(winpath "$LOGS/2c.log")" "$T-control" 0 &
CTL=$!
R run -- "$C" ignore "$(winpath "$L")" "$T" 2 2>"$LOGS/2.err" &
BG=$!
check "2: three levels started" until_ok 60 has "$L" ready 3
sed 's/^/    log: /' "$L"
RP=$(pgrep -f "^[^ ]*reaper.exe run -- .*$T" | head -1) # the Windows process, not `timeout`
note "2: reaper.exe is Linux pid ${RP:-?}; SIGKILL"
[ -n "$RP" ] && kill -9 "$RP"
check "2: the job took the whole tree" until_ok 20 gone "guard_child.exe ignore .*$T "
check "2: the control outside the job still runs" alive "guard_child.exe ignore .*$T-control"
wait $BG
pkill -9 -f "guard_child.exe ignore .*$T-control"
wait $CTL

echo "== 3. run, a tree that ignores the break: TerminateJobObject after the deadline"
T=${TOK}c; L=$LOGS/3.log
W "$C" exit-after 4000 "$T-anchor" &
until_ok 30 anchor "exit-after.*$T-anchor"
R run --watch-pid "$APID" --sequence TERM:2s,KILL -- "$C" ignore "$(winpath "$L")" "$T" 1 2>"$LOGS/3.err"
rc=$?
sed 's/^/    > /' "$LOGS/3.err"
if [ $BREAK = 1 ]; then
  check "3: both levels were asked first [$(count "$L" ignored) ignored]" test "$(count "$L" ignored)" = 2
fi
check "3: then forced (exit code 1) [got $rc]" test "$rc" = 1
check "3: nothing of the tree is left" until_ok 10 gone "guard_child.exe ignore .*$T"

echo "== 4. kill: WM_CLOSE to a process's window"
T=${TOK}d; L=$LOGS/4.log
W "$C" window "$(winpath "$L")" "$T" &
BG=$!
until_ok 30 grep -qsE "^(ready|nowindow) " "$L"
if grep -q "^nowindow " "$L"; then
  note "4: SKIPPED: Wine could not create a window here (no display)"
  [ "${CI:-}" = true ] && { echo "wine-guard: FAILED: no display under CI=true (install xvfb)"; fail=1; }
else
  R kill --signature "window .*$T" --yes --sequence TERM:10s,KILL >"$LOGS/4.out" 2>&1
  rc=$?
  sed 's/^/    > /' "$LOGS/4.out"
  check "4: the window got WM_CLOSE" grep -q "^close " "$L"
  check "4: reaper kill exits 0 [got $rc]" test "$rc" = 0
fi
wait $BG

echo "== 5. kill: a windowless console process reaper did not start"
T=${TOK}e; L=$LOGS/5.log
W "$C" console "$(winpath "$L")" "$T" 0 &
BG=$!
until_ok 30 grep -qs "^ready " "$L"
R kill --signature "console .*$T" --yes --sequence TERM:1s,KILL >"$LOGS/5.out" 2>&1
rc=$?
sed 's/^/    > /' "$LOGS/5.out"
[ $BREAK = 1 ] || note "5: (this Wine delivers no console event at all: the next check cannot fail here)"
check "5: no console event reached it (nothing reaches it alone)" test "$(count "$L" break)" = 0
check "5: TerminateProcess at KILL, reaper kill exits 0 [got $rc]" test "$rc" = 0
check "5: it is gone" until_ok 10 gone "console .*$T"
wait $BG

echo "== 6. run --watch-pid, a command with a window: WM_CLOSE is run's graceful step"
T=${TOK}f; L=$LOGS/6.log
if grep -qs "^nowindow " "$LOGS/4.log"; then
  note "6: SKIPPED: no display"
  [ "${CI:-}" = true ] && fail=1
else
  W "$C" exit-after 5000 "$T-anchor" &
  until_ok 30 anchor "exit-after.*$T-anchor"
  R run --watch-pid "$APID" --sequence TERM:10s,KILL -- "$C" window "$(winpath "$L")" "$T" 2>"$LOGS/6.err"
  rc=$?
  sed 's/^/    > /' "$LOGS/6.err"
  check "6: the window got WM_CLOSE" grep -q "^close " "$L"
  check "6: reaper run exits with the command's status (5: its WM_CLOSE handler) [got $rc]" test "$rc" = 5
fi

[ $fail = 0 ] && echo "wine-guard: all passed" || echo "wine-guard: some checks FAILED"
exit $fail
