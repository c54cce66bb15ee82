#!/usr/bin/env python3
"""Turns the measurements of bench/run.sh into BENCHMARKS.md.

Usage: report.py WORK_DIR OUT_FILE "SCENARIOS" WARMUP RUNS
"""
import datetime
import json
import os
import platform
import subprocess
import sys

WORK, OUT, SCENARIOS, WARMUP, RUNS = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TITLES = {
    "idle": "idle machine",
    "busy": "busy machine (+1500 processes)",
    "big": "bigger machine (+5000 processes)",
}
GROUPS = [
    ("port", "Who holds a port: `reaper list --port P --format pid`"),
    ("signature", "By command line: `reaper list --signature TOKEN --format pid`"),
    ("env", "By environment marker (a CI job's): `reaper list --env NAME=VALUE --format pid`"),
    ("all", "Every listener: `reaper list --format pid`"),
    ("startup", "Start-up: `reaper --help`"),
]


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


def load(name):
    path = os.path.join(WORK, name)
    return json.load(open(path)) if os.path.exists(path) else None


def ms(x):
    return f"{x * 1000:.1f} ms" if x < 10 else f"{x:.2f} s"


def group_table(data):
    rows = data["results"]
    reaper = next(r for r in rows if r["command"] == "reaper")
    out = [
        "| tool | command | median | mean ± σ | min | CPU (user+sys) | reaper is |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = "—" if r is reaper else f"**{r['median'] / reaper['median']:.1f}× faster**"
        if r is not reaper and r["median"] < reaper["median"]:
            ratio = f"{reaper['median'] / r['median']:.1f}× slower"
        out.append(
            f"| {r['command']} | `{command_of(data, r)}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} "
            f"| {ms(r['min'])} | {ms(cpu(r))} | {ratio} |"
        )
    return "\n".join(out)


def command_of(data, r):
    # hyperfine exports the -n name as "command"; run.sh keeps the commands in commands.tsv.
    return r.get("_cmd", r["command"])


def load_commands():
    cmds = {}
    path = os.path.join(WORK, "commands.tsv")
    if os.path.exists(path):
        for line in open(path):
            key, _, cmd = line.rstrip("\n").partition("\t")
            cmds[key] = cmd.replace(os.path.join(ROOT, "target/release/reaper"), "reaper")
    return cmds


def cpu(r):
    """Mean CPU time (user + system) of one hyperfine result, in seconds."""
    return (r.get("user") or 0) + (r.get("system") or 0)


def cpu_of(data, tool):
    for r in data["results"]:
        if r["command"] == tool:
            return cpu(r)
    return None


def median(data, tool):
    for r in data["results"]:
        if r["command"] == tool:
            return r["median"]
    return None


def why_section(scenarios, cmds, measured):
    """`why --port P` against `list --port P`, per scenario measured: the acceptance is within 2x."""
    have = [s for s in scenarios if load(f"{s}-why.json")]
    if not have:
        return []
    systemd = os.path.isdir("/run/systemd/system")
    L = ["## Provenance: `why` against `list`\n"]
    L.append(
        "`why --port P` reads what `list --port P` reads (the socket table, the fd tables), then, for the "
        "holder, its ancestry, its environment and its cgroup; `list --format json` explains every process it "
        "lists the same way. The three are measured side by side on the same machine state; the aim is `why` "
        "within 2× of `list`. "
        + (
            "systemd runs here: a holder in a service's cgroup costs a `systemctl show` (once per unit)."
            if systemd
            else "systemd does not run here, so no `systemctl show` is started (it would be once per unit)."
        )
        + "\n"
    )
    L.append(f"- Measured: {measured}")
    L.append(
        "- P: the port of the listener under test on each machine state (`bench/busy.py`'s); this section alone: "
        "`bench/run.sh --quick --only why --runs 30` (the busy state)\n"
    )
    for s in have:
        d = load(f"{s}-why.json")
        rows = d["results"]
        base = next((r for r in rows if r["command"] == "list --port"), None)
        L.append(f"### {TITLES[s][0].upper() + TITLES[s][1:]}\n")
        L.append("| command | median | mean ± σ | min | CPU (user+sys) | against `list --port P` (median, CPU) |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            cmd = cmds.get(f"{s}-why-{r['command']}", r["command"])
            if base is None or r is base:
                ratio = "—"
            else:
                ratio = f"**{r['median'] / base['median']:.2f}×**, {cpu(r) / cpu(base):.2f}×" if cpu(base) else f"**{r['median'] / base['median']:.2f}×**"
            L.append(
                f"| `{cmd}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {ms(r['min'])} "
                f"| {ms(cpu(r))} | {ratio} |"
            )
        L.append("")
    return L


def main():
    facts = {s: load(f"{s}-facts.json") for s in SCENARIOS}
    cmds = load_commands()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    load_avg = open("/proc/loadavg").read().split()[:3]
    git = sh("git", "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if sh("git", "status", "--porcelain", "--untracked-files=no") else ""
    L = []
    L.append("# Benchmarks\n")
    L.append(
        "Written by `bench/run.sh` (run by hand, never in CI). Every number on this page was measured in the "
        "same run; ratios compare tools measured side by side on the same machine state, one after another, "
        "with the same warm-up, so they are the numbers to quote. Absolute times depend on the machine.\n"
    )
    L.append(f"- Date: {now}")
    L.append(f"- Machine: {os.cpu_count()} cores ({cpu}), {mem_kib // 1024} MiB RAM, Linux {platform.release()}")
    start_load = open(os.path.join(WORK, "load-start")).read().split()[:3] if os.path.exists(os.path.join(WORK, "load-start")) else ["?"]
    L.append(
        f"- Load average (1, 5, 15 min) at the start: {' '.join(start_load)}; at the end: {' '.join(load_avg)} "
        "(the machine was shared with other work while this ran: 2 cores)"
    )
    L.append(f"- reaper: `{sh('target/release/reaper', '--version')}`, git {git}{dirty}, `cargo build --release`")
    L.append(
        f"- Peers: {sh('ss', '-V')}; fuser {sh_first('fuser', '-V')}; lsof {lsof_version()}; {sh('pgrep', '-V')}; {sh('hyperfine', '--version')}"
    )
    L.append(f"- hyperfine: `-N --warmup {WARMUP} --min-runs {RUNS}`; medians; run as root\n")

    L.append("## Machine states\n")
    L.append("| scenario | processes | fds | TCP sockets | TCP listeners |")
    L.append("|---|---:|---:|---:|---:|")
    for s in SCENARIOS:
        f = facts[s]
        if f:
            L.append(f"| {TITLES[s]} | {f['processes']} | {f['fds']} | {f['tcp_sockets']} | {f['tcp_listeners']} |")
    L.append(
        "\nThe busy states are built by `bench/busy.py`: idle `sleep` processes with 10 open fds each "
        "(stdio, 3 files, a pipe, a unix socket pair), and 8 processes holding 250 TCP listeners and 250 connected "
        "loopback pairs each; one more process listens on the port under test.\n"
    )

    L.append("## Summary: reaper's median against each peer's\n")
    pairs = [
        ("port", "ss"),
        ("port", "fuser"),
        ("port", "lsof"),
        ("signature", "pgrep"),
        ("env", "pgrep"),
        ("env", "grep"),
        ("all", "ss"),
    ]

    def comparison(stat):
        """The reaper-against-peer table, by `stat` (median wall time, or mean CPU time)."""
        L.append("| query | peer | " + " | ".join(TITLES[s] for s in SCENARIOS) + " |")
        L.append("|---|---|" + "---:|" * len(SCENARIOS))
        labels = {
            "port": "`list --port P`",
            "signature": "`list --signature T`",
            "env": "`list --env N=V`",
            "all": "`list` (all listeners)",
        }
        for g, peer in pairs:
            # A peer this machine does not have (pgrep without --env) has no row.
            if not any((load(f"{s}-{g}.json") or {}).get("results") and stat(load(f"{s}-{g}.json"), peer) is not None for s in SCENARIOS):
                continue
            cells = []
            for s in SCENARIOS:
                d = load(f"{s}-{g}.json")
                r, p = (stat(d, "reaper"), stat(d, peer)) if d else (None, None)
                cells.append(f"{ms(r)} vs {ms(p)}: **{p / r:.1f}×**" if r else "—")
            L.append(f"| {labels[g]} | {peer} | " + " | ".join(cells) + " |")

    comparison(median)
    cells = []
    for s in SCENARIOS:
        d = load(f"{s}-startup.json")
        cells.append(ms(median(d, "reaper")) if d else "—")
    L.append("| `--help` (start-up) | — | " + " | ".join(cells) + " |")
    L.append("\n×: how many times faster reaper's median is than the peer's (peer median / reaper median).\n")
    L.append(
        "Wall time on a shared machine depends on what else runs; CPU time (user + system, mean) much less. "
        "The same comparison in CPU time:\n"
    )
    comparison(cpu_of)
    L.append("")

    for s in SCENARIOS:
        L.append(f"## {TITLES[s][0].upper() + TITLES[s][1:]}\n")
        for g, title in GROUPS:
            d = load(f"{s}-{g}.json")
            if not d:
                continue
            for r in d["results"]:
                r["_cmd"] = cmds.get(f"{s}-{g}-{r['command']}", r["command"])
            L.append(f"### {title}\n")
            L.append(group_table(d) + "\n")
        rss_path = os.path.join(WORK, f"{s}-rss.jsonl")
        if os.path.exists(rss_path):
            L.append("### Peak RSS (`/usr/bin/time -v`, max of 3 runs)\n")
            L.append("| command | peak RSS |")
            L.append("|---|---:|")
            for line in open(rss_path):
                r = json.loads(line)
                L.append(f"| {r['label']} | {r['kib'] / 1024:.1f} MiB |")
            L.append("")

    start = open(os.path.join(WORK, "load-start")).read().split()[:3] if os.path.exists(os.path.join(WORK, "load-start")) else ["?"]
    L += why_section(
        SCENARIOS,
        cmds,
        f"{now}, git {git}{dirty}, `cargo build --release`, hyperfine `-N --warmup {WARMUP} --min-runs {RUNS}`, "
        f"run as root; load average (1, 5, 15 min) at the start {' '.join(start)}, at the end {' '.join(load_avg)} "
        f"({os.cpu_count()} cores, shared with other work)",
    )

    k = load("kill.json")
    if k:
        L.append("## Kill timings\n")
        L.append(
            "Measured by `bench/killbench.py` on the idle machine: each run starts fresh token-named processes, "
            "times `reaper kill` from spawn to exit (CLOCK_MONOTONIC, in the driver), and checks the result.\n"
        )
        L.append("| scenario | command | median | min | max | runs |")
        L.append("|---|---|---:|---:|---:|---:|")
        rows = [
            ("SIGTERM-obeying server, reaper start to exit", "obey", "total"),
            ("… reaper's overhead after the server's own exit", "obey", "overhead"),
            ("SIGTERM-ignoring server, `--timeout 1s`", "ignore", "total"),
            (f"{k.get('tree', {}).get('processes', 2000)}-process tree", "tree", "total"),
            ("`run`: the watched pid's death to run's exit (its tree ended between)", "run", "total"),
            ("… the same without the PID namespace", "run_no_pidns", "total"),
        ]
        for label, key, what in rows:
            sc = k.get(key, {})
            if "error" in sc and what not in sc:
                L.append(f"| {label} | `{sc.get('command', '')}` | not measured: {sc['error']} | | | |")
                continue
            m = sc.get(what)
            if m:
                L.append(
                    f"| {label} | `{sc['command']}` | {m['median_ms']:.1f} ms | {m['min_ms']:.1f} ms | {m['max_ms']:.1f} ms | {m['runs']} |"
                )
        if "tree" in k and "left_after_exit" in k["tree"]:
            L.append(f"\nProcesses of the tree left when reaper exited (worst run): {k['tree']['left_after_exit']}.")
        L.append(
            "\nThe overhead is the time from the server's last act (it stamps CLOCK_MONOTONIC in its SIGTERM "
            "handler, then `_exit`s) to reaper's exit: the kernel tearing the server down, reaper seeing it gone, "
            "checking the port is free, reporting and exiting.\n"
        )

    L.append("## Where the time goes\n")
    L.append(
        "Profiled with `perf record -g` on the busy state: about 85% of `reaper list --port` is kernel time in "
        "the owner scan, which has to look at every fd of every process (a socket shared across fork has "
        "several holders, so the scan cannot stop at the first): `readlinkat` per fd about 42%, `getdents64` "
        "per fd directory about 28% (procfs builds a dentry per fd), the netlink socket dump about 7%, "
        "`openat` per process about 6%. What reaper does about it:\n"
    )
    L.append("- the scan runs on every available core (scoped threads taking chunks of 32 pids from a shared cursor);")
    L.append(
        "- one `openat(\"PID/fd\")` relative to a `/proc` fd opened once, the path built on the stack; one "
        "`getdents64` per process into a reused 32 KiB buffer (when room is left, procfs had nothing more, so "
        "the call that would return 0 is skipped); one `readlinkat` per fd into a stack buffer: no allocation "
        "per process or per fd (before: 2 `openat`, `fcntl`, 2 `close` and 2 `getdents64` per process);"
    )
    L.append(
        "- a query by command line reads only `/proc/PID/cmdline` for every process, and `stat`/`status`/`exe` "
        "only for the matches (before: `stat`, `status`, `cmdline` and `exe` of every process, each with "
        "several small reads);"
    )
    L.append("- `/proc` files are read with one `read` into a reused buffer (procfs returns them whole);")
    L.append("- release profile: fat LTO, one codegen unit (smaller binary, faster start-up); `panic` stays `unwind`.\n")
    L.append(
        "Measured and not taken: `fstatat`/`statx` instead of `readlinkat` (same cost: both resolve the fd); "
        "probing fd numbers from 0 up to the count `stat` reports for `/proc/PID/fd` instead of `getdents64` "
        "(most processes have holes in their fd tables, so it cost more than it saved); reading the uid from "
        "the owner of `/proc/PID` instead of `status` (that is the effective uid, and root for non-dumpable "
        "processes: wrong for `--user` and the safety rules). Not done yet: asking `sock_diag` for listeners "
        "on the queried port only (the kernel can filter by state and source port), worth about 5% on the "
        "busy state.\n"
    )
    L.append("## Exact commands\n")
    L.append("```sh")
    L.append("bench/run.sh   # builds the states, runs everything below, writes this file")
    for s in SCENARIOS:
        f = facts[s] or {}
        L.append(f"# {TITLES[s]} (port {f.get('port', '?')})")
        for g in [g for g, _ in GROUPS] + ["why"]:
            L += [c for k2, c in cmds.items() if k2.startswith(f"{s}-{g}-")]
    L.append("/usr/bin/time -v COMMAND   # peak RSS")
    L.append("bench/killbench.py target/release/reaper TOKEN kill.json --runs N --tree-size 2000")
    L.append("```")
    L.append(
        "\nP is the port of the listener under test, TOKEN/T the unique token on its command line; each scenario "
        "has its own (see the state table)."
    )
    # The sections this report does not write are kept, in their order, after its own: the
    # picker's idle cost (bench/pick-idle.sh, between its markers), bench/compare.sh's numbers,
    # the ones measured by hand.
    kept = ""
    if os.path.exists(OUT):
        # Its own headings, also those a run left out (a scenario or the kill timings not run):
        # its own numbers are never kept from an older run.
        ours = {line.strip() for part in L for line in part.splitlines() if line.startswith("## ")}
        ours |= {"## Kill timings"} | {f"## {t[0].upper() + t[1:]}" for t in TITLES.values()}
        kept = "".join("\n" + s.rstrip("\n") + "\n" for s in sections(open(OUT).read()) if heading(s) not in ours)
    with open(OUT, "w") as f:
        f.write("\n".join(L) + "\n" + kept)


def sections(text):
    """The `## ` sections of a page, each with the marker comment right above its heading (the
    pick-idle one); the text before the first is left out."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    starts = [i - 1 if i > 0 and lines[i - 1].startswith("<!-- ") else i for i in starts]
    return ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]


def heading(section):
    return next(line for line in section.splitlines() if line.startswith("## ")).strip()


def sh_first(*cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().splitlines()[0].split()[-1]
    except (OSError, IndexError):
        return "?"


def lsof_version():
    try:
        r = subprocess.run(["lsof", "-v"], capture_output=True, text=True)
        for line in (r.stdout + r.stderr).splitlines():
            if "revision:" in line and "latest" not in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    main()
