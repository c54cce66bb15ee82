"""cargo --message-format=json on stdin -> the rendered diagnostics into the log (argv[1]).
Prints "ERRORS WARNINGS", then one line per distinct diagnostic (reaper's own or a dependency's)."""
import collections
import json
import sys

log = open(sys.argv[1], "w")
n, seen = collections.Counter(), collections.Counter()
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        log.write(line)
        continue
    if m.get("reason") != "compiler-message":
        continue
    d = m["message"]
    log.write(d.get("rendered") or "")
    if d["level"] not in ("error", "warning") or d["message"].startswith(("aborting", "could not compile")):
        continue
    n[d["level"]] += 1
    sp = next((s for s in d["spans"] if s["is_primary"]), None)
    where = "%s:%d" % (sp["file_name"], sp["line_start"]) if sp else "-"
    pkg = m["package_id"]
    own = "reaper" if pkg.startswith("path+") else "dep " + pkg.rsplit("/", 1)[-1]
    code = "[%s]" % d["code"]["code"] if d.get("code") else ""
    seen["  %s %s%s: %s  @ %s" % (own, d["level"], code, d["message"].splitlines()[0], where)] += 1
print(n["error"], n["warning"])
for k, c in sorted(seen.items()):
    print(k + ("  (x%d)" % c if c > 1 else ""))
