#!/usr/bin/env bash
# The picker's idle cost, side by side with `top -d 1.5` (the same refresh): both in a 120x35
# terminal (tmux) at the same time, on a machine with 1500 extra processes (bench/busy.py),
# left alone for DURATION seconds; CPU time of each from /proc/PID/stat. Writes its section of
# BENCHMARKS.md (between the pick-idle markers; bench/run.sh keeps it), and exits 1 when the
# picker used more than top (the goal: ratio <= 1.0).
#
# Run by hand, as root (the picker then lists everyone's processes, as top does):
#   bench/pick-idle.sh              # 60 s, writes BENCHMARKS.md
#   bench/pick-idle.sh 20 --print   # 20 s, prints the section only
#
# Everything it starts carries a unique token or runs on tmux sockets of its own; a trap ends
# them however the script ends. Never run in CI.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-60}
PRINT=${2:-}
R=$ROOT/target/release/reaper
# Always built: a release binary left from another commit would be measured under this one's name.
cargo build --release --quiet --bin reaper
command -v tmux >/dev/null && command -v top >/dev/null || { echo "pick-idle: needs tmux and top" >&2; exit 2; }

TOKEN=reaper-pickbench-$$
WORK=$(mktemp -d)
BUSY=0
cleanup() {
    tmux -L "$TOKEN-pick" kill-server 2>/dev/null || true
    tmux -L "$TOKEN-top" kill-server 2>/dev/null || true
    [ "$BUSY" -gt 1 ] && kill -KILL -- "-$BUSY" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# 1500 extra processes, in a process group of their own.
setsid python3 "$ROOT/bench/busy.py" "$TOKEN" "$WORK/ready" --procs 1500 &
BUSY=$!
disown "$BUSY" # no job notice when the trap ends it
for ((i = 0; i < 3000; i++)); do
    [ -f "$WORK/ready" ] && break
    kill -0 "$BUSY" 2>/dev/null || { echo "pick-idle: busy.py failed" >&2; exit 1; }
    sleep 0.1
done
[ -f "$WORK/ready" ] || { echo "pick-idle: busy.py was not ready in time" >&2; exit 1; }

start() { # start NAME COMMAND...: a detached 120x35 tmux session; prints the command's pid
    tmux -L "$TOKEN-$1" -f /dev/null new-session -d -x 120 -y 35 "exec env TERM=xterm-256color ${*:2}"
    tmux -L "$TOKEN-$1" display-message -p '#{pane_pid}'
}
PICK=$(start pick NO_COLOR=1 "$R" pick)
TOP=$(start top top -d 1.5)
sleep 5 # both have drawn their first screens and settled

ticks() { # utime + stime of PID, in clock ticks
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
procs=$(ls /proc | grep -c '^[0-9]')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
p0=$(ticks "$PICK"); t0=$(ticks "$TOP"); s0=$(date +%s.%N)
sleep "$DURATION"
p1=$(ticks "$PICK"); t1=$(ticks "$TOP"); s1=$(date +%s.%N)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# Both still running (a crash would make the picker look cheap).
kill -0 "$PICK" && kill -0 "$TOP"
hz=$(getconf CLK_TCK)
section=$(python3 - "$p0" "$p1" "$t0" "$t1" "$s0" "$s1" "$hz" "$procs" "$DURATION" "$("$R" --version)" "$(git rev-parse --short HEAD)" "$WORK/ratio" "$load0" "$load1" "$(nproc)" <<'PY'
import sys, datetime
p0, p1, t0, t1, s0, s1, hz = (float(x) for x in sys.argv[1:8])
procs, duration, version, rev, ratio_file = sys.argv[8], sys.argv[9], sys.argv[10], sys.argv[11], sys.argv[12]
load0, load1, cores = sys.argv[13], sys.argv[14], sys.argv[15]
wall = s1 - s0
pick = (p1 - p0) / hz / wall * 100
top = (t1 - t0) / hz / wall * 100
ratio = pick / top if top > 0 else float("inf")
open(ratio_file, "w").write(f"{ratio:.2f}\n")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print(f"""<!-- pick-idle: written by bench/pick-idle.sh -->
## The picker left open, against `top -d 1.5`

`bench/pick-idle.sh`: `reaper pick` (as root: everyone's processes) and `top -d 1.5`, each in a
120x35 terminal (tmux), side by side at the same time, on a machine with 1500 extra processes
(`bench/busy.py`: {procs} processes in all), left alone for {duration} s; CPU time from
/proc/PID/stat (utime + stime) over the same {wall:.1f} s. Both refresh every 1.5 s.

| program | CPU (% of one core) |
|---|---:|
| `reaper pick` | {pick:.2f} |
| `top -d 1.5` | {top:.2f} |
| ratio (reaper / top) | **{ratio:.2f}** |

- Date: {now}; {version}, git {rev}, `cargo build --release`
- Machine: {cores} cores; load average (1, 5, 15 min) {load0} at the start, {load1} at the end
- Goal: ratio <= 1.0. Each refresh the picker reads `/proc/PID/stat` of every process (as top
  does) and one dump of the listening sockets; the command line and owner only of processes it
  has not seen; the holder of a new listener among processes younger than 10 s, and in every
  fd table at most every 15 s; it builds only the rows on screen.
<!-- /pick-idle -->""")
PY
)
# The goal, as the section prints it (two decimals): the picker at most as costly as top.
over_goal() {
    python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) > 1.0 else 1)' "$WORK/ratio"
}
if [ "$PRINT" = --print ]; then
    echo "$section"
    if over_goal; then echo "pick-idle: ratio $(cat "$WORK/ratio") > 1.0" >&2; exit 1; fi
    exit 0
fi
python3 - "$ROOT/BENCHMARKS.md" "$section" <<'PY'
import sys
path, section = sys.argv[1], sys.argv[2]
start, end = "<!-- pick-idle: written by bench/pick-idle.sh -->", "<!-- /pick-idle -->"
text = open(path).read()
if start in text and end in text:
    text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
echo "$section" | grep -E 'reaper pick|top -d|ratio'
if over_goal; then
    echo "pick-idle: the picker used more CPU than top: ratio $(cat "$WORK/ratio") > 1.0" >&2
    exit 1
fi
