#!/usr/bin/env python3
"""End-to-end test of the example, under Xvfb: does the sidecar's whole tree (the PyInstaller
launcher and its Python child) end with the app, and is the port free?

    e2e.py --app APP --baseline BASELINE --sidecar SIDECAR [--readme PAGE] [--write-readme]

For each app variant (reaper::guard; tauri-plugin-shell; tauri-plugin-shell with a process
group) and each way the app ends (window closed, SIGTERM, SIGKILL, a panic), with a sidecar that
ends on SIGTERM and one that ignores it: the app is started on a port of its own, the test waits
until the sidecar answers GET / with 200, ends the app, then watches the port and the sidecar's
processes. Then the startup cases: a stale orphaned sidecar on the port, and a foreign process.

The reaper variant must pass every case (exit 1 otherwise). Every variant's outcome goes into a
table; with --readme the table must equal the one in PAGE between the markers (exit 1 and a
diff otherwise); --write-readme writes it there instead. .ci/tauri passes the book's library
chapter, docs/src/library.md.

Only processes this test started are ever signalled: the apps, the Xvfb and the foreign
listener by pid, and the sidecars by a token unique to this run in their environment (checked
together with their executable).
"""

import argparse
import difflib
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

FREED = 3.0  # the acceptance: the port free and the sidecar's tree gone within 3 s of the app's end
GRACE = 3.0  # the app's guard sequence: SIGTERM, up to 3 s, SIGKILL (src/main.rs, GRACE)
SLACK = 3.0  # a sidecar that ignores SIGTERM: what the app may take on top of GRACE (its exit, the kernel's)
READY = 20.0  # the acceptance: the app serves on its port within 20 s
XVFB_READY = 10.0  # how long Xvfb gets to say its display number
CLEANUP = 5.0  # how long SIGKILLed processes of a case get to be gone before the next case
TOKEN_VAR = "TAURI_SIDECAR_E2E_TOKEN"
BEGIN = "<!-- tauri-sidecar-e2e:begin (examples/tauri-sidecar/e2e.py --write-readme writes this table) -->"
END = "<!-- tauri-sidecar-e2e:end -->"

EVENTS = ["window closed", "SIGTERM", "SIGKILL", "panic"]
MODES = ["ends on SIGTERM", "ignores SIGTERM"]


def log(msg):
    print(f"e2e: {msg}", file=sys.stderr, flush=True)


# --- processes and sockets, read from /proc ----------------------------------------------------


def start_time(pid):
    """The process's start time (clock ticks), its identity with the pid; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] == b"Z":
        return None  # a zombie has ended
    return int(fields[19])


def alive(pid, start):
    return start is not None and start_time(pid) == start


def token_processes(token, exe=None):
    """(pid, start) of every live process whose environment has the token (and whose executable is `exe`)."""
    found = []
    want = f"{TOKEN_VAR}={token}".encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        try:
            if exe is not None and os.readlink(f"/proc/{pid}/exe") != exe:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        st = start_time(pid)
        if want in env and st is not None:
            found.append((pid, st))
    return found


def socket_inodes(port):
    """Inodes of the sockets held on TCP `port` (TIME_WAIT has none)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[9] != "0":
                inodes.add(cols[9])
    return inodes


def port_free(port):
    return not socket_inodes(port)


def holders(port):
    """Pids holding a socket on `port`."""
    want = {f"socket:[{i}]" for i in socket_inodes(port)}
    out = set()
    if not want:
        return out
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                if os.readlink(f"/proc/{d}/fd/{fd}") in want:
                    out.add(int(d))
                    break
        except OSError:
            continue
    return out


def free_port():
    """A port nothing holds now (the kernel's pick): unique to this run."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serves(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def read_line(fd, timeout):
    """The first line written to pipe `fd` within `timeout` (without its newline), or "" (EOF or too late)."""
    end = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return ""
        chunk = os.read(fd, 64)
        if not chunk:
            return ""
        buf += chunk
    return buf.split(b"\n", 1)[0].decode().strip()


def wait_for(cond, timeout, step=0.05):
    """Polls `cond` until it holds or `timeout` passes (what is waited for is another program's state)."""
    end = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)


# --- X11 ----------------------------------------------------------------------------------------


class X:
    """An Xvfb of our own, and the WM_DELETE_WINDOW a window manager would send on a click on x."""

    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
            pass_fds=[w],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(w)
        try:
            num = read_line(r, XVFB_READY)
        finally:
            os.close(r)
        if not num:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"Xvfb did not give its display number within {XVFB_READY:.0f} s")
        self.display = f":{num}"
        from Xlib import display as xdisplay

        self.d = xdisplay.Display(self.display)

    def window_of(self, pid):
        """The top-level window that process `pid` mapped and that takes WM_DELETE_WINDOW."""
        from Xlib import X as XC

        net_wm_pid = self.d.intern_atom("_NET_WM_PID")
        delete = self.d.intern_atom("WM_DELETE_WINDOW")
        for w in self.d.screen().root.query_tree().children:
            try:
                prop = w.get_full_property(net_wm_pid, XC.AnyPropertyType)
                if not prop or prop.value[0] != pid or w.get_attributes().map_state != XC.IsViewable:
                    continue
                if delete in (w.get_wm_protocols() or []):
                    return w
            except Exception:  # a window that went away meanwhile  # noqa: BLE001
                continue
        return None

    def close(self, w):
        from Xlib import X as XC
        from Xlib.protocol import event

        protocols = self.d.intern_atom("WM_PROTOCOLS")
        delete = self.d.intern_atom("WM_DELETE_WINDOW")
        ev = event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, XC.CurrentTime, 0, 0, 0]))
        w.send_event(ev, event_mask=XC.NoEventMask)
        self.d.flush()

    def stop(self):
        try:
            self.d.close()
        except Exception:  # noqa: BLE001
            pass
        self.proc.kill()
        self.proc.wait()


# --- one run of an app --------------------------------------------------------------------------


class Test:
    def __init__(self, args):
        self.args = args
        self.token = uuid.uuid4().hex
        self.tmp = tempfile.mkdtemp(prefix="tauri-sidecar-e2e-")
        # The sidecar is a PyInstaller onefile launcher: it unpacks itself into $TMPDIR/_MEI...
        # and removes that only when it exits by itself, so every SIGKILLed launcher leaves one.
        # Here $TMPDIR is a directory of this run's own, removed in stop().
        self.unpacked = os.path.join(self.tmp, "tmpdir")
        os.mkdir(self.unpacked)
        self.sidecar = os.path.realpath(args.sidecar)
        self.apps = []  # (Popen) every app started
        self.others = []  # (Popen) the foreign listeners
        try:
            self.x = X()
        except Exception:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.timings = []  # (variant, event, mode, seconds until freed or None)

    def env(self, port, sidecar_log, ignore_term, group):
        e = dict(os.environ)
        e.update(
            {
                "DISPLAY": self.x.display,
                "SIDECAR_PORT": str(port),
                "SIDECAR_LOG": sidecar_log,
                TOKEN_VAR: self.token,
                # Software rendering: Xvfb has no GPU.
                "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
                "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
                "LIBGL_ALWAYS_SOFTWARE": "1",
            }
        )
        e.pop("WAYLAND_DISPLAY", None)
        e["TMPDIR"] = self.unpacked
        e["SIDECAR_IGNORE_TERM"] = "1" if ignore_term else "0"
        e["BASELINE_PROCESS_GROUP"] = "1" if group else "0"
        return e

    def start_app(self, exe, name, port, ignore_term=False, group=False):
        sidecar_log = os.path.join(self.tmp, f"{name}.sidecar.log")
        app_log = os.path.join(self.tmp, f"{name}.app.log")
        with open(app_log, "wb") as out:
            p = subprocess.Popen(
                [exe],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(port, sidecar_log, ignore_term, group),
            )
        self.apps.append(p)
        return p, sidecar_log, app_log

    def cleanup(self):
        """Ends what this test started, and only that: its apps and listeners by pid, its sidecars by token."""
        for p in self.apps + self.others:
            if p.poll() is None:
                p.kill()
                p.wait()
        for pid, st in token_processes(self.token):
            if alive(pid, st):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        # A case's leftovers must not leak into the next case (its tree, its guard processes).
        if not wait_for(lambda: not token_processes(self.token), CLEANUP):
            left = [f"pid {p} ({exe_of(p)})" for p, _ in token_processes(self.token)]
            raise RuntimeError(f"processes of this run outlived a SIGKILL by {CLEANUP:.0f} s: {', '.join(left)}")

    def stop(self):
        try:
            self.cleanup()
        finally:
            self.x.stop()
        shutil.rmtree(self.unpacked, ignore_errors=True)

    # -- the cases ----------------------------------------------------------------------------------

    def end_case(self, variant, exe, group, event, ignore_term):
        """Starts the app, ends it by `event`, and says what was left. Returns (cell, passed)."""
        port = free_port()
        name = f"{variant}-{event}-{'ignore' if ignore_term else 'term'}".replace(" ", "_")
        app, sidecar_log, app_log = self.start_app(exe, name, port, ignore_term, group)
        try:
            if not wait_for(lambda: serves(port), READY):
                return f"did not serve in {READY:.0f} s", False
            if not wait_for(lambda: "listening" in read(sidecar_log), 5):
                return "the sidecar did not log its start", False
            tree = token_processes(self.token, self.sidecar)
            kinds = classify(tree)
            role = roles(tree)
            # Without the whole tree, "every process of it is gone" would hold vacuously.
            if sorted(role.values()) != ["Python child", "launcher"]:
                return f"✗ the sidecar's tree is not a launcher and its Python child: {kinds or 'none'}", False
            if event == "window closed":
                win = None

                def found():
                    nonlocal win
                    win = self.x.window_of(app.pid)
                    return win is not None

                if not wait_for(found, READY):
                    return "no window", False
            t0, wall0 = time.monotonic(), time.time()
            if event == "window closed":
                self.x.close(win)
            elif event == "SIGTERM":
                app.send_signal(signal.SIGTERM)
            elif event == "SIGKILL":
                app.send_signal(signal.SIGKILL)
            else:
                app.stdin.write(b"panic\n")
                app.stdin.flush()
            graceful_event = event in ("window closed", "SIGTERM")
            # Only a sidecar that ignores SIGTERM waits out the guard's grace before its SIGKILL.
            bound = (GRACE + SLACK) if graceful_event and ignore_term else FREED

            app_exe = os.path.realpath(exe)

            def guards():
                """Processes of the app's executable other than the app: reaper's guard process."""
                return [(p, s) for p, s in token_processes(self.token, app_exe) if p != app.pid]

            def gone():
                return (
                    port_free(port)
                    and not any(alive(p, s) for p, s in tree)
                    and not token_processes(self.token, self.sidecar)
                    and not guards()
                )

            freed = wait_for(gone, bound)
            took = time.monotonic() - t0
            if not freed:
                # How long the leftovers last, for the log (an orphan lasts forever).
                wait_for(gone, 2)
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            left = [(p, s) for p, s in tree if alive(p, s)] + guards()
            role.update({p: "guard process" for p, _ in guards()})
            stopped = logged_at(sidecar_log, "graceful shutdown")
            graceful = stopped is not None
            self.timings.append(
                (variant, event, "ignores" if ignore_term else "ends on", took if freed else None, bound,
                 stopped - wall0 if graceful else None)
            )
            log(
                f"{variant} | {event} | {'ignores' if ignore_term else 'ends on'} SIGTERM: tree {kinds}, "
                f"{'freed in %.2f s' % took if freed else 'NOT freed in %.1f s' % bound}"
                f"{' (sidecar stopped at +%.2f s)' % (stopped - wall0) if graceful else ''}, "
                f"graceful logged: {graceful}, app exit {app.returncode}, left {left}, port free {port_free(port)}"
            )
            if freed:
                cell = "✓ freed, graceful stop logged" if graceful else "✓ freed, no graceful stop"
                want_graceful = graceful_event and not ignore_term
                passed = graceful or not want_graceful
                if not passed:
                    cell = "✗ freed, but no graceful stop"
            else:
                cell = "✗ orphaned: " + describe(left, port, role)
                passed = False
            return cell, passed
        finally:
            self.cleanup()

    def stale_case(self, variant, exe, group):
        """An orphaned sidecar (its launcher SIGKILLed) holds the port when the app starts."""
        port = free_port()
        name = f"{variant}-stale".replace(" ", "_")
        stale_log = os.path.join(self.tmp, f"{name}.stale.log")
        env = self.env(port, stale_log, False, group)
        launcher = subprocess.Popen(
            [self.sidecar, "--port", str(port), "--log", stale_log], env=env, stdin=subprocess.DEVNULL
        )
        self.others.append(launcher)
        try:
            if not wait_for(lambda: serves(port), READY):
                return "the stale sidecar did not serve", False
            stale = [(p, s) for p, s in token_processes(self.token, self.sidecar) if p != launcher.pid]
            launcher.kill()
            launcher.wait()
            if not stale or not all(alive(p, s) for p, s in stale) or port_free(port):
                return "no orphaned stale sidecar to test with", False
            app, sidecar_log, app_log = self.start_app(exe, name, port, group=group)
            stale_pids = {p for p, _ in stale}

            def new_sidecar_serves():
                h = holders(port)
                return bool(h) and not (h & stale_pids) and serves(port)

            # The baseline's new sidecar cannot bind: it logs that and exits.
            wait_for(lambda: new_sidecar_serves() or "cannot listen" in read(sidecar_log), READY)
            ok = new_sidecar_serves()
            stale_gone = not any(alive(p, s) for p, s in stale)
            log(
                f"{variant} | stale sidecar: new sidecar serves: {ok}, stale gone: {stale_gone}, "
                f"holders {sorted(holders(port))}, app running: {app.poll() is None}; app log: {read(app_log).strip()!r}"
            )
            if ok and stale_gone:
                return "✓ stale sidecar ended, new one serves", True
            if not stale_gone:
                return "✗ stale sidecar keeps the port", False
            return "✗ stale sidecar ended, new one does not serve", False
        finally:
            self.cleanup()

    def foreign_case(self, variant, exe, group):
        """A process that is not the app's sidecar (a plain Python listener) holds the port."""
        port = free_port()
        name = f"{variant}-foreign".replace(" ", "_")
        # A script file, so that its command line is plain words (the app prints it escaped).
        script = os.path.join(self.tmp, "foreign_listener.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(
                "import socket, sys, time\n"
                "s = socket.socket()\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
                "s.listen()\n"
                "print('up', flush=True)\n"
                "time.sleep(3600)\n"
            )
        argv = [sys.executable, script, str(port), self.token]
        foreign = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.others.append(foreign)
        try:
            if read_line(foreign.stdout.fileno(), READY) != "up":
                return "the foreign listener did not start", False
            app, sidecar_log, app_log = self.start_app(exe, name, port, group=group)
            # The reaper app exits 1 at once; the baseline starts and its sidecar fails to bind.
            wait_for(lambda: app.poll() is not None or "cannot listen" in read(sidecar_log), READY)
            foreign_alive = foreign.poll() is None and foreign.pid in holders(port)
            # What src/main.rs's free_port() says of a process on the port that is not its sidecar.
            expected = (
                f"port {port} is held by pid {foreign.pid} ({exe_of(foreign.pid)}, "
                f"user {pwd.getpwuid(os.getuid()).pw_name}: {' '.join(argv)}): not this app's sidecar, left alone"
            )
            named = expected in read(app_log)
            code = app.poll()
            log(
                f"{variant} | foreign process: left alone: {foreign_alive}, named: {named}, "
                f"app exit {code}; app log: {read(app_log).strip()!r}"
            )
            if not foreign_alive:
                return "✗ the foreign process was ended", False
            if named and code == 1:
                return "✓ left alone, named (app exits 1)", True
            if named:
                return f"✗ left alone, named, but the app {'runs' if code is None else f'exits {code}'}", False
            if code is None:
                return "left alone, not named (sidecar fails to bind)", False
            return f"✗ left alone, not named as expected ({expected!r}), app exits {code}", False
        finally:
            self.cleanup()


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return "?"


def logged_at(path, what):
    """The time.time() stamp of the sidecar log's first line that says `what`, or None."""
    for line in read(path).splitlines():
        if what in line:
            try:
                return float(line.split(" ", 1)[0])
            except ValueError:
                return None
    return None


def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def roles(tree):
    """{pid: "launcher" or "Python child"}: the launcher is the one whose parent is not a sidecar process."""
    pids = {p for p, _ in tree}
    return {p: ("Python child" if ppid(p) in pids else "launcher") for p, _ in tree}


def classify(tree):
    return ", ".join(f"{r} {p}" for p, r in sorted(roles(tree).items()))


def describe(left, port, role):
    held = "port held" if not port_free(port) else "port free"
    names = sorted({role.get(p, "?") for p, _ in left}, key=lambda r: r != "launcher")
    return (" + ".join(names) + " left, " if names else "") + held


def table(results, variants):
    head = "| case | sidecar | " + " | ".join(variants) + " |"
    rows = [head, "|" + "---|" * (2 + len(variants))]
    for (case, mode), cells in results.items():
        rows.append(f"| {case} | {mode} | " + " | ".join(cells[v] for v in variants) + " |")
    return "\n".join(rows) + "\n"


def readme_table(text):
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--sidecar", required=True)
    ap.add_argument("--readme")
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--only", help="run only this variant (reaper::guard, tauri-plugin-shell or \"tauri-plugin-shell, process group\"; no table check)")
    args = ap.parse_args()

    variants = [
        ("tauri-plugin-shell", args.baseline, False),
        ("tauri-plugin-shell, process group", args.baseline, True),
        ("reaper::guard", args.app, False),
    ]
    if args.only:
        variants = [v for v in variants if v[0] == args.only]
    results = {}
    failed = []

    def interrupted(signum, _frame):
        raise SystemExit(f"e2e: interrupted by signal {signum}")  # runs the cleanup below

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        t = Test(args)
    except RuntimeError as e:
        log(f"FAILED: {e}")
        return 1
    try:
        for variant, exe, group in variants:
            for event in EVENTS:
                for mode in MODES:
                    cell, ok = t.end_case(variant, exe, group, event, mode == "ignores SIGTERM")
                    results.setdefault((f"app {event}", mode), {})[variant] = cell
                    if variant == "reaper::guard" and not ok:
                        failed.append(f"{event}, {mode}: {cell}")
            cell, ok = t.stale_case(variant, exe, group)
            results.setdefault(("start: a stale sidecar of its own holds the port", "ends on SIGTERM"), {})[variant] = cell
            if variant == "reaper::guard" and not ok:
                failed.append(f"stale sidecar: {cell}")
            cell, ok = t.foreign_case(variant, exe, group)
            results.setdefault(("start: a foreign process holds the port", "-"), {})[variant] = cell
            if variant == "reaper::guard" and not ok:
                failed.append(f"foreign process: {cell}")
    except RuntimeError as e:
        # Leftovers that would leak into the next case: no table from this run.
        log(f"FAILED: {e}; logs in {t.tmp}")
        return 1
    finally:
        t.stop()

    names = [v[0] for v in variants]
    measured = table(results, names)
    print(measured, end="")
    log(f"logs in {t.tmp} (kept only when a case failed)")
    for variant, event, mode, took, bound, stopped in t.timings:
        log(
            f"time to a free port and no sidecar process: {variant}, {event}, sidecar {mode} SIGTERM: "
            + (f"{took:.2f} s" if took is not None else f"not within {bound:.0f} s (orphaned)")
            + (f" (the sidecar logged its graceful shutdown at +{stopped:.2f} s)" if stopped is not None else "")
        )
    for mode in ("ends on", "ignores"):
        for events in (("window closed", "SIGTERM"), ("SIGKILL", "panic")):
            took = [x[3] for x in t.timings if x[0] == "reaper::guard" and x[2] == mode and x[1] in events]
            if took and None not in took:
                log(f"reaper::guard, {' or '.join(events)}, sidecar {mode} SIGTERM: max {max(took):.2f} s")
    status = 0
    if failed:
        log("reaper::guard failed: " + "; ".join(failed))
        status = 1
    if args.readme and len(variants) == 3:
        text = read(args.readme)
        if args.write_readme and failed:
            log(f"not writing {args.readme}: reaper::guard failed")
        elif args.write_readme:
            if readme_table(text) is None:
                log(f"{args.readme} has no table markers")
                return 1
            before, rest = text.split(BEGIN, 1)
            after = rest.split(END, 1)[1]
            with open(args.readme, "w", encoding="utf-8") as f:
                f.write(before + BEGIN + "\n" + measured + END + after)
            log(f"wrote the table into {args.readme}")
        else:
            have = readme_table(text)
            if have != measured:
                log(f"{args.readme}'s table differs from what was measured (regenerate: e2e.py --write-readme):")
                sys.stderr.writelines(difflib.unified_diff((have or "").splitlines(True), measured.splitlines(True), args.readme, "measured"))
                status = 1
    if status == 0:
        shutil.rmtree(t.tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
