#!/usr/bin/env python3
"""Kill timings for bench/run.sh: real servers started here, ended by `reaper kill`.

Usage: killbench.py REAPER TOKEN OUT_JSON [--runs N] [--tree-size N]

Scenarios (each run starts fresh processes that carry TOKEN on their command line):
  obey    a TCP server that exits on SIGTERM, stamping CLOCK_MONOTONIC just before _exit;
          `reaper kill --port P --yes`. Reports reaper's wall time (start to exit) and its
          overhead beyond the server's own exit (reaper exit - server's stamp).
  ignore  a TCP server that ignores SIGTERM; `reaper kill --port P --yes --timeout 1s`.
  tree    a process tree of --tree-size processes (a root, 20 branches, sleeps under them);
          `reaper kill --signature TOKEN-tree-N --yes --timeout 1s`; checks that none is left.
  run     `reaper run --watch-pid A -- CMD` (in its PID namespace, and with
          --no-pid-namespace): the time from the watched process's death (SIGKILL sent here) to
          run's exit, with the command's tree ended in between.

`--only SCENARIO` measures that one alone (a before/after comparison of two binaries).

This process makes itself a child subreaper so that every orphan is reaped here, and ends
whatever is left of its own process groups on the way out. It writes a JSON summary.
"""
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys
import time

SERVER = r"""
import os, signal, socket, sys, time
mode, stamp = sys.argv[2], sys.argv[3]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
def bye(*_):
    fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, str(time.monotonic_ns()).encode())
    os._exit(0)
signal.signal(signal.SIGTERM, bye if mode == "obey" else signal.SIG_IGN)
print(s.getsockname()[1], flush=True)
while True:
    time.sleep(3600)
"""

TREE = r"""
import os, sys, time
token, size = sys.argv[1], int(sys.argv[2])
branches = 20
leaves = max(0, size - 1 - branches)
sleep_bin = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"
r, w = os.pipe()
for b in range(branches):
    if os.fork() == 0:
        os.close(r)
        n = leaves // branches + (1 if b < leaves % branches else 0)
        for _ in range(n):
            if os.fork() == 0:
                os.execv(sleep_bin, [token + "-leaf", "infinity"])
        os.write(w, b"x")
        while True:
            time.sleep(3600)
os.close(w)
got = 0
while got < branches:
    got += len(os.read(r, 64))
print("ready", flush=True)
while True:
    time.sleep(3600)
"""

groups = []


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def cleanup():
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.2)
    reap()


def start(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True, text=True)
    groups.append(p.pid)
    line = p.stdout.readline().strip()
    if not line:
        raise RuntimeError(f"{argv[:3]} did not start")
    return p, line


def run_reaper(cmd):
    t0 = time.monotonic_ns()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t1 = time.monotonic_ns()
    return r, t0, t1


def summary(xs):
    xs = sorted(xs)
    return {"median_ms": statistics.median(xs), "min_ms": xs[0], "max_ms": xs[-1], "runs": len(xs)}


def count_token(token):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        n += 1
            except OSError:
                pass
    return n


def bench_server(reaper, token, mode, runs, stampdir):
    total, overhead, errors = [], [], []
    for i in range(runs):
        stamp = os.path.join(stampdir, f"{mode}-{i}")
        p, port = start([sys.executable, "-c", SERVER, f"{token}-{mode}-{i}", mode, stamp])
        cmd = [reaper, "kill", "--port", port, "--yes"]
        if mode == "ignore":
            cmd += ["--timeout", "1s"]
        r, t0, t1 = run_reaper(cmd)
        if r.returncode != 0:
            errors.append(f"exit {r.returncode}: {r.stderr.strip()[:200]}")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            break
        p.wait()
        total.append((t1 - t0) / 1e6)
        if mode == "obey":
            with open(stamp) as f:
                overhead.append((t1 - int(f.read())) / 1e6)
        reap()
    out = {"command": f"reaper kill --port P --yes{' --timeout 1s' if mode == 'ignore' else ''}"}
    if errors:
        out["error"] = errors[0]
    if total:
        out["total"] = summary(total)
    if overhead:
        out["overhead"] = summary(overhead)
    return out


def bench_tree(reaper, token, size, runs):
    total, left, errors = [], [], []
    for i in range(runs):
        t = f"{token}-tree-{i}"
        p, _ = start([sys.executable, "-c", TREE, t, str(size)])
        n = count_token(t)
        r, t0, t1 = run_reaper([reaper, "kill", "--signature", t, "--yes", "--timeout", "1s"])
        if r.returncode != 0:
            errors.append(f"exit {r.returncode}: {r.stderr.strip()[:200]}")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            break
        total.append((t1 - t0) / 1e6)
        reap()
        left.append(count_token(t))
        p.wait()
        reap()
    out = {"command": "reaper kill --signature TOKEN --yes --timeout 1s", "processes": size}
    if errors:
        out["error"] = errors[0]
    if total:
        out["total"] = summary(total)
        out["left_after_exit"] = max(left)
    return out


SLEEPER = r"""
import sys, time
print("ready", flush=True)
time.sleep(3600)
"""


def bench_run(reaper, token, runs, isolate):
    total, errors = [], []
    for i in range(runs):
        anchor = subprocess.Popen(["sleep", "3600"], start_new_session=True)
        groups.append(anchor.pid)
        cmd = [reaper, "run", "--watch-pid", str(anchor.pid)]
        if not isolate:
            cmd.append("--no-pid-namespace")
        cmd += ["--", sys.executable, "-c", SLEEPER, f"{token}-run-{i}"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True)
        groups.append(p.pid)
        if p.stdout.readline().strip() != "ready":
            errors.append(f"the command did not start: {p.stderr.read()[:200]}")
            break
        t0 = time.monotonic_ns()
        anchor.kill()
        p.wait()
        t1 = time.monotonic_ns()
        anchor.wait()
        total.append((t1 - t0) / 1e6)
        reap()
    flag = "" if isolate else " --no-pid-namespace"
    out = {"command": f"reaper run{flag} --watch-pid A -- CMD"}
    if errors:
        out["error"] = errors[0]
    if total:
        out["total"] = summary(total)
    return out


def main():
    reaper, token, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 20
    tree_size = int(args[args.index("--tree-size") + 1]) if "--tree-size" in args else 2000
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans of our trees come back here
    stampdir = os.path.dirname(os.path.abspath(out_path))
    only = args[args.index("--only") + 1] if "--only" in args else None
    result = {}
    try:
        if only in (None, "obey"):
            result["obey"] = bench_server(reaper, token, "obey", runs, stampdir)
        if only in (None, "ignore"):
            result["ignore"] = bench_server(reaper, token, "ignore", max(3, runs // 4), stampdir)
        if only in (None, "tree"):
            result["tree"] = bench_tree(reaper, token, tree_size, max(3, runs // 4))
        if only in (None, "run"):
            result["run"] = bench_run(reaper, token, runs, True)
            result["run_no_pidns"] = bench_run(reaper, token, runs, False)
    finally:
        cleanup()
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
