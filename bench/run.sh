#!/usr/bin/env bash
# Benchmarks reaper side by side with ss, fuser, lsof and pgrep on an idle machine, on a busy one
# (1500 extra processes) and on a bigger one (5000), and writes BENCHMARKS.md.
#
# Run by hand, as root (the peers need it to see every process's fds), from anywhere:
#   bench/run.sh                 # full run, writes BENCHMARKS.md at the repository root
#   bench/run.sh --quick         # fewer runs, busy scenario only, writes /tmp/reaper-bench-quick.md
#   bench/run.sh --out FILE      # write the report elsewhere
#   bench/run.sh --only GROUP    # one group of queries only (port, signature, env, all, startup,
#                                # why), no peak RSS and no kill timings; with --quick, busy only
#   bench/run.sh --runs N        # hyperfine's --min-runs (default 30, --quick 10)
#
# Everything it starts carries a unique token on its command line and lives in process groups
# of its own; a trap ends those groups on exit, however the script ends. Never run in CI.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
ONLY=
MIN_RUNS=
OUT=$ROOT/BENCHMARKS.md
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1 ;;
        --out) OUT=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --runs) MIN_RUNS=$2; shift ;;
        *) echo "usage: bench/run.sh [--quick] [--only GROUP] [--runs N] [--out FILE]" >&2; exit 2 ;;
    esac
    shift
done
case $ONLY in
    "" | port | signature | env | all | startup | why) ;;
    *) echo "bench: --only takes port, signature, env, all, startup or why" >&2; exit 2 ;;
esac
[ -z "$MIN_RUNS" ] || [[ $MIN_RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs takes a count" >&2; exit 2; }

need() { # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return
    echo "bench: installing $2 (for $1)" >&2
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}
need hyperfine hyperfine
[ -x /usr/bin/time ] || need /usr/bin/time time
need ss iproute2
need fuser psmisc
need lsof lsof
need pgrep procps
need python3 python3

cargo build --release --quiet
R=$ROOT/target/release/reaper

TOKEN=reaper-bench-$$-$RANDOM
WORK=$(mktemp -d /tmp/reaper-bench.XXXXXX)
GROUPS_FILE=$WORK/groups
cat /proc/loadavg >"$WORK/load-start"
: >"$GROUPS_FILE"

cleanup() {
    local g
    while read -r g; do
        # Only the groups this script started: a positive pid of ours, never 0 or 1.
        [[ $g =~ ^[0-9]+$ ]] && [ "$g" -gt 1 ] && kill -KILL -- "-$g" 2>/dev/null || true
    done <"$GROUPS_FILE"
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$QUICK" = 1 ]; then
    [ "$OUT" = "$ROOT/BENCHMARKS.md" ] && OUT=/tmp/reaper-bench-quick.md
    WARMUP=2 RUNS=10 KILL_RUNS=6 SCENARIOS="busy"
else
    WARMUP=3 RUNS=30 KILL_RUNS=20 SCENARIOS="idle busy big"
fi
RUNS=${MIN_RUNS:-$RUNS}
# One group is not the whole page: it never overwrites BENCHMARKS.md.
[ -n "$ONLY" ] && [ "$OUT" = "$ROOT/BENCHMARKS.md" ] && OUT=/tmp/reaper-bench-$ONLY.md

# Builds one machine state: NAME IDLE_PROCS FARM_PROCS LISTENERS PAIRS. Sets PORT, TARGET, PGID.
start_machine() {
    local name=$1 procs=$2 farm=$3 listeners=$4 pairs=$5
    TARGET=$TOKEN-target-$name
    local ready=$WORK/ready-$name
    # setsid: a session and process group of its own from the start, so the trap can end it.
    REAPER_BENCH_TARGET=$TARGET setsid python3 "$ROOT/bench/busy.py" "$TOKEN-$name" "$ready" \
        --procs "$procs" --farm "$farm" --listeners "$listeners" --pairs "$pairs" &
    local pid=$!
    echo "$pid" >>"$GROUPS_FILE"
    local i
    for ((i = 0; i < 3000; i++)); do
        [ -f "$ready" ] && break
        kill -0 "$pid" 2>/dev/null || { echo "bench: busy.py failed" >&2; exit 1; }
        sleep 0.1
    done
    [ -f "$ready" ] || { echo "bench: busy.py was not ready in time" >&2; exit 1; }
    PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$ready")
    PGID=$pid
    # Sanity: every tool sees the listener, and reaper finds exactly it.
    local want got
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["target_pid"])' "$ready")
    got=$("$R" list --port "$PORT" --format pid)
    [ "$got" = "$want" ] || { echo "bench: reaper found '$got', expected $want" >&2; exit 1; }
}

stop_machine() {
    [ "$PGID" -gt 1 ] && kill -KILL -- "-$PGID" 2>/dev/null || true
    wait "$PGID" 2>/dev/null || true
    # Wait until the group is gone, so the next scenario starts from a clean table.
    local i
    for ((i = 0; i < 300; i++)); do
        pgrep -g "$PGID" >/dev/null 2>&1 || break
        sleep 0.1
    done
}

machine_facts() { # NAME -> one JSON line
    local procs fds socks listeners
    # Processes come and go while we count: find complains about those, which is fine.
    procs=$( (find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null || true) | wc -l)
    fds=$( (find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
    socks=$(ss -Htan | wc -l)
    listeners=$(ss -Htln | wc -l)
    printf '{"scenario":"%s","processes":%s,"fds":%s,"tcp_sockets":%s,"tcp_listeners":%s,"port":%s}\n' \
        "$1" "$procs" "$fds" "$socks" "$listeners" "$PORT"
}

hf() { # NAME GROUP -n LABEL COMMAND ... -> $WORK/NAME-GROUP.json, commands in commands.tsv
    local name=$1 group=$2
    shift 2
    local a=("$@") i
    for ((i = 0; i + 2 < ${#a[@]}; i += 3)); do
        printf '%s-%s-%s\t%s\n' "$name" "$group" "${a[i + 1]}" "${a[i + 2]}" >>"$WORK/commands.tsv"
    done
    hyperfine -N --style basic --warmup "$WARMUP" --min-runs "$RUNS" \
        --export-json "$WORK/$name-$group.json" "$@" >"$WORK/$name-$group.txt" 2>&1 ||
        { cat "$WORK/$name-$group.txt" >&2; exit 1; }
}

rss() { # NAME LABEL COMMAND... -> appends peak RSS (max of 3 runs, KiB) to $WORK/NAME-rss.jsonl
    local name=$1 label=$2 max=0 kb i
    shift 2
    for i in 1 2 3; do
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>&1 || true
        kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt")
        kb=${kb:-0}
        [ "$kb" -gt "$max" ] && max=$kb
    done
    printf '{"label":"%s","kib":%s}\n' "$label" "$max" >>"$WORK/$name-rss.jsonl"
}

want() { # GROUP -> whether this run measures it
    [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]
}

measure() { # NAME
    local n=$1
    machine_facts "$n" >"$WORK/$n-facts.json"
    echo "bench: $n: $(cat "$WORK/$n-facts.json")" >&2
    want port && hf "$n" port \
        -n reaper "$R list --port $PORT --format pid" \
        -n ss "ss -Htlnp 'sport = :$PORT'" \
        -n fuser "fuser -n tcp $PORT" \
        -n lsof "lsof -ti tcp:$PORT"
    want signature && hf "$n" signature \
        -n reaper "$R list --signature $TARGET --format pid" \
        -n pgrep "pgrep -f $TARGET"
    # A CI job's marker: every process busy.py starts inherits REAPER_BENCH_TARGET (1500 on the
    # busy machine). pgrep has --env from procps-ng 4.0.5; an older pgrep is replaced by the
    # shell way of asking the same question (grep over every environ, through sh for the glob;
    # grep says 2 when an environ vanished mid-scan, as processes come and go).
    local env_peer=(-n grep "sh -c 'grep -lsxz REAPER_BENCH_TARGET=$TARGET /proc/[0-9]*/environ; true'")
    if pgrep --help 2>&1 | grep -q -- '--env'; then
        env_peer=(-n pgrep "pgrep --env REAPER_BENCH_TARGET=$TARGET")
    fi
    want env && hf "$n" env \
        -n reaper "$R list --env REAPER_BENCH_TARGET=$TARGET --format pid" \
        "${env_peer[@]}"
    want all && hf "$n" all \
        -n reaper "$R list --format pid" \
        -n ss "ss -Htlnp"
    want startup && hf "$n" startup -n reaper "$R --help"
    # Provenance against the query it adds to: the same port, the table for people each time,
    # and list's JSON, which explains every process it lists too.
    want why && hf "$n" why \
        -n "list --port" "$R list --port $PORT" \
        -n "list --port --format json" "$R list --port $PORT --format json" \
        -n "why --port" "$R why --port $PORT"
    [ -z "$ONLY" ] || return 0
    : >"$WORK/$n-rss.jsonl"
    rss "$n" "reaper list --port" "$R" list --port "$PORT" --format pid
    rss "$n" "reaper list --signature" "$R" list --signature "$TARGET" --format pid
    rss "$n" "reaper list (all listeners)" "$R" list --format pid
    rss "$n" "reaper list --port (table)" "$R" list --port "$PORT"
    rss "$n" "ss -Htlnp" ss -Htlnp
    rss "$n" "lsof -ti" lsof -ti "tcp:$PORT"
    rss "$n" "fuser" fuser -n tcp "$PORT"
    rss "$n" "pgrep -f" pgrep -f "$TARGET"
}

for s in $SCENARIOS; do
    case $s in
        # The idle machine: only what already runs, plus the listener under test.
        idle) start_machine idle 0 0 0 0 ;;
        # 1500 idle processes with 10 fds each; 8 processes with 250 listeners and 250
        # connected pairs each: 2000 listening and 4000 connected sockets.
        busy) start_machine busy 1500 8 250 250 ;;
        big) start_machine big 5000 8 250 250 ;;
    esac
    measure "$s"
    stop_machine
done

# Kill timings, on the otherwise idle machine (processes of their own, token-named).
if [ -z "$ONLY" ]; then
    echo "bench: kill timings" >&2
    python3 "$ROOT/bench/killbench.py" "$R" "$TOKEN-kill" "$WORK/kill.json" --runs "$KILL_RUNS" --tree-size 2000
fi

python3 "$ROOT/bench/report.py" "$WORK" "$OUT" "$SCENARIOS" "$WARMUP" "$RUNS"
echo "bench: wrote $OUT" >&2
