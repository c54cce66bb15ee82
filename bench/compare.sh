#!/usr/bin/env bash
# Two reaper binaries side by side on the busy machine of bench/run.sh (1500 extra processes,
# 2000 listening and 4000 connected sockets): the same commands, one hyperfine run each, so a
# refactor that should change nothing can say so in ratios measured together. Then the kill
# timings of bench/killbench.py (obey, ignore, a 2000-process tree) for each binary in turn.
#
# Run by hand, as root, never in CI:
#   bench/compare.sh OLD_REAPER NEW_REAPER [OUT.md]    # default /tmp/reaper-compare.md
#
# Everything it starts carries a unique token and lives in a process group of its own, ended by
# a trap however the script ends.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
[ $# -ge 2 ] || { echo "usage: bench/compare.sh OLD_REAPER NEW_REAPER [OUT.md]" >&2; exit 2; }
OLD=$(realpath "$1")
NEW=$(realpath "$2")
OUT=${3:-/tmp/reaper-compare.md}
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }

TOKEN=reaper-compare-$$-$RANDOM
WORK=$(mktemp -d /tmp/reaper-compare.XXXXXX)
PGID=0
cleanup() {
    [ "$PGID" -gt 1 ] && kill -KILL -- "-$PGID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TARGET=$TOKEN-target
REAPER_BENCH_TARGET=$TARGET setsid python3 "$ROOT/bench/busy.py" "$TOKEN-busy" "$WORK/ready" \
    --procs 1500 --farm 8 --listeners 250 --pairs 250 &
PGID=$!
for ((i = 0; i < 3000; i++)); do
    [ -f "$WORK/ready" ] && break
    kill -0 "$PGID" 2>/dev/null || { echo "bench: busy.py failed" >&2; exit 1; }
    sleep 0.1
done
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/ready")
for r in "$OLD" "$NEW"; do
    [ -n "$("$r" list --port "$PORT" --format pid)" ] || { echo "bench: $r does not find the listener" >&2; exit 1; }
done

{
    echo "# reaper: two binaries on the busy machine"
    echo
    echo "old: \`$OLD\`; new: \`$NEW\`; $(nproc) cores, load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
} >"$OUT"
# CPU time (user + system) rather than wall time: on a shared machine the wall time follows
# whatever else runs. Three rounds, the order of the two swapped each round, medians of all.
{
    echo "| command | old CPU ms | new CPU ms | new/old |"
    echo "|:---|---:|---:|---:|"
} >>"$OUT"
for cmd in "list --port $PORT --format pid" "list --signature $TARGET --format pid" \
    "list --env REAPER_BENCH_TARGET=$TARGET --format pid" "list --format pid" "tree $PGID --format pid"; do
    for round in 1 2 3; do
        if [ $((round % 2)) = 1 ]; then order=(-n old "$OLD $cmd" -n new "$NEW $cmd"); else order=(-n new "$NEW $cmd" -n old "$OLD $cmd"); fi
        hyperfine -N --style none --warmup 2 --min-runs 10 --export-json "$WORK/hf-$round.json" "${order[@]}" >/dev/null 2>&1
    done
    label=${cmd//$TARGET/TOKEN}
    label=${label//$PORT/PORT}
    label=${label//$PGID/PID}
    python3 - "$label" "$WORK"/hf-[123].json >>"$OUT" <<'PY'
import json, statistics, sys
cpu = {"old": [], "new": []}
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        cpu[r["command"]] += [(u + s) * 1000 for u, s in zip(r["user"], r["system"])] if isinstance(r["user"], list) else [(r["user"] + r["system"]) * 1000]
old, new = statistics.median(cpu["old"]), statistics.median(cpu["new"])
print(f"| `reaper {sys.argv[1]}` | {old:.1f} | {new:.1f} | {new / old:.2f} |")
PY
done
# User-space instructions (valgrind's count does not follow the machine's load; the kernel's
# share, most of a port lookup, is not in it): what a change of reaper's own code costs.
if command -v valgrind >/dev/null; then
    {
        echo
        echo "| command | old instructions (user space) | new | new/old |"
        echo "|:---|---:|---:|---:|"
    } >>"$OUT"
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}'; }
    for cmd in "list --port $PORT --format pid" "list --signature $TARGET --format pid" "list --format pid"; do
        o=(); n=()
        # shellcheck disable=SC2086 # the command's words
        for _ in 1 2 3; do o+=("$(ir "$OLD" $cmd)"); n+=("$(ir "$NEW" $cmd)"); done
        label=${cmd//$TARGET/TOKEN}
        label=${label//$PORT/PORT}
        python3 -c 'import statistics as s, sys; a = sys.argv[2:5]; b = sys.argv[5:8]; o = s.median(map(int, a)); n = s.median(map(int, b)); print(f"| `reaper {sys.argv[1]}` | {o:,.0f} | {n:,.0f} | {n / o:.3f} |")' \
            "$label" "${o[@]}" "${n[@]}" >>"$OUT"
    done
fi
kill -KILL -- "-$PGID" 2>/dev/null || true
PGID=0

# Kill timings on the otherwise idle machine: old, new, new, old (the first scenario after the
# busy machine's teardown runs slower, whichever binary it is).
{
    echo
    echo "## kill timings (bench/killbench.py, medians in ms)"
    echo
    echo "| binary | obey: total | obey: after the server's exit | ignore (1 s timeout) | 2000-process tree | run: watched pid's death to exit |"
    echo "|:---|---:|---:|---:|---:|---:|"
} >>"$OUT"
for which in old new new old; do
    r=$OLD; [ "$which" = new ] && r=$NEW
    python3 "$ROOT/bench/killbench.py" "$r" "$TOKEN-kill-$which" "$WORK/kill.json" --runs 8 --tree-size 2000 >/dev/null 2>&1
    python3 - "$which" "$WORK/kill.json" >>"$OUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
cells = [d[s][k]["median_ms"] for s, k in [("obey", "total"), ("obey", "overhead"), ("ignore", "total"), ("tree", "total"), ("run", "total")]]
print(f"| {sys.argv[1]} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
PY
done
echo "bench: wrote $OUT" >&2
