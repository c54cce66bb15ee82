"""The example app's sidecar: a small HTTP server, built into a PyInstaller onefile executable.

A onefile executable is a launcher that unpacks Python and runs this file in a child process:
the launcher is the process an app starts, the child is the one that holds the port.

    server --port 5700 [--ignore-term] [--log FILE]

GET / answers 200 with {"pid": ..., "port": ...}. On SIGTERM (which the launcher forwards to the
child) it stops serving, closes the socket and logs "graceful shutdown"; with --ignore-term it
ignores SIGTERM, so only a SIGKILL ends it.
"""

import argparse
import http.server
import json
import os
import signal
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(prog="tauri-sidecar-server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--log", default=None)
    args = p.parse_args()

    def log(msg: str) -> None:
        line = f"{time.time():.3f} pid {os.getpid()}: {msg}\n"
        if args.log:
            with open(args.log, "a", encoding="utf-8") as f:
                f.write(line)
        else:
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except OSError:
                pass  # the app that read our stderr is gone

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = json.dumps({"pid": os.getpid(), "port": args.port}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass  # no request log: stdout/stderr may be a pipe nobody reads any more

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as e:
        log(f"cannot listen on port {args.port}: {e}")
        return 1

    class Terminated(Exception):
        pass

    def on_term(signum: int, _frame: object) -> None:
        # Python runs this on the main thread, inside serve_forever's select(): raising ends
        # serve_forever at once. (server.shutdown() from another thread would wait for
        # serve_forever's next poll, every 0.5 s.)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated(signal.Signals(signum).name)

    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        mode = "ignoring SIGTERM"
    else:
        signal.signal(signal.SIGTERM, on_term)
        mode = "ending on SIGTERM"
    try:
        log(f"listening on 127.0.0.1:{args.port} ({mode})")
        server.serve_forever()
        why = "stopped"
    except Terminated as e:
        why = str(e)
    server.server_close()
    log(f"graceful shutdown: {why}, port {args.port} closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
