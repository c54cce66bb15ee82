#!/usr/bin/env python3
"""Builds a busy machine for bench/run.sh: idle processes with open fds, a socket farm, and one
listener on the port under test. Run by hand (through run.sh), never in tests.

Usage: [REAPER_BENCH_TARGET=TOKEN2] busy.py TOKEN READY_FILE --procs N [--farm M --listeners L --pairs C]

Everything this script starts is in one process group (its own; this process is the leader),
so `kill -KILL -- -PID` ends all of it. Every process carries TOKEN on its command line:
  * N idle processes: `sleep` exec'd with argv[0] = "TOKEN-idle", each with 10 open fds
    (stdin/stdout/stderr, 3 files, a pipe, a unix socketpair);
  * M socket-farm processes (forks of this script), each with L TCP listeners and C connected
    loopback pairs (2 sockets each) on 127.0.0.1;
  * with REAPER_BENCH_TARGET set, one listener on a free port, exec'd as
    `python3 -c ... TOKEN2 PORT FD`; it carries TOKEN2 (and not TOKEN; TOKEN2 comes through
    the environment so this script's own command line does not carry it), so a signature
    query for TOKEN2 matches exactly one process.
When all are set up it writes one line of JSON to READY_FILE and waits to be killed.
"""
import argparse
import json
import os
import resource
import signal
import socket
import sys
import time

TARGET_CODE = (
    "import socket,sys,time\n"
    "s=socket.socket(fileno=int(sys.argv[3]))\n"
    "while True: time.sleep(3600)\n"
)


def spawn_idle(token, sleep_bin):
    pid = os.fork()
    if pid:
        return pid
    try:
        fds = [
            os.open("/dev/null", os.O_RDONLY),
            os.open("/etc/hostname", os.O_RDONLY),
            os.open(__file__, os.O_RDONLY),
            *os.pipe(),
        ]
        a, b = socket.socketpair()
        fds += [a.detach(), b.detach()]
        for fd in fds:
            os.set_inheritable(fd, True)
        null = os.open("/dev/null", os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(null, std)
        os.close(null)
        os.execv(sleep_bin, [f"{token}-idle", "infinity"])
    finally:
        os._exit(127)


def spawn_farm(listeners, pairs, ready_w):
    pid = os.fork()
    if pid:
        return pid
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = listeners + 2 * pairs + 64
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
        keep = []
        for _ in range(listeners):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(16)
            keep.append(s)
        if pairs:
            hub = keep[0] if keep else socket.socket()
            if not keep:
                hub.bind(("127.0.0.1", 0))
                hub.listen(16)
                keep.append(hub)
            for _ in range(pairs):
                c = socket.create_connection(hub.getsockname())
                conn, _ = hub.accept()
                keep += [c, conn]
        os.write(ready_w, b"x")
        while True:
            signal.pause()
    finally:
        os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("token")
    ap.add_argument("ready_file")
    ap.add_argument("--procs", type=int, default=1500)
    ap.add_argument("--farm", type=int, default=0)
    ap.add_argument("--listeners", type=int, default=0)
    ap.add_argument("--pairs", type=int, default=0)
    a = ap.parse_args()
    target = os.environ.pop("REAPER_BENCH_TARGET", "")

    if os.getpgrp() != os.getpid():
        os.setpgid(0, 0)
    sleep_bin = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"
    idle = [spawn_idle(a.token, sleep_bin) for _ in range(a.procs)]

    ready_r, ready_w = os.pipe()
    farm = [spawn_farm(a.listeners, a.pairs, ready_w) for _ in range(a.farm)]
    os.close(ready_w)
    got = 0
    while got < len(farm):
        chunk = os.read(ready_r, 64)
        if not chunk:
            sys.exit("a socket-farm process died")
        got += len(chunk)

    out = {"pgid": os.getpid(), "idle": len(idle), "farm": len(farm)}
    if target:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        os.set_inheritable(s.fileno(), True)
        tpid = os.fork()
        if tpid == 0:
            try:
                os.execv(sys.executable, [sys.executable, "-c", TARGET_CODE, target, str(s.getsockname()[1]), str(s.fileno())])
            finally:
                os._exit(127)
        out.update(port=s.getsockname()[1], target_pid=tpid)
        s.close()
        # Ready once the exec has happened (the token is on its command line).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{tpid}/cmdline", "rb") as f:
                    if target.encode() in f.read():
                        break
            except OSError:
                pass
            time.sleep(0.01)

    # Every idle child has exec'd (its argv[0] carries the token).
    want = f"{a.token}-idle".encode()
    deadline = time.monotonic() + 120
    pending = list(idle)
    while pending and time.monotonic() < deadline:
        still = []
        for pid in pending:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if not f.read().startswith(want):
                        still.append(pid)
            except OSError:
                sys.exit(f"idle process {pid} died")
        pending = still
        if pending:
            time.sleep(0.05)
    if pending:
        sys.exit(f"{len(pending)} idle processes never exec'd")

    tmp = a.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(out) + "\n")
    os.rename(tmp, a.ready_file)
    # Reap whatever exits; wait to be killed.
    while True:
        try:
            os.wait()
        except ChildProcessError:
            signal.pause()


if __name__ == "__main__":
    main()
