//! The selectors, one file each: how a process is chosen (`--port`, `--name`/`--signature`/`--exe`,
//! `--pid` and the tree, ages, `--env`, `--cgroup`, `--container`), and bad values of them.
//!
//! The selectors a CI teardown uses (`--env`, `--cgroup`) are tried on a real job ([`job`]) that
//! runs whole inside a fresh PID namespace (`unshare --pid --fork --mount-proc --kill-child`):
//! the namespace's init is a test script, and when it ends the kernel ends everything left in the
//! namespace. The selectors' values are unique to the test (a token), and `reaper kill` runs
//! inside the namespace too.

mod age;
mod cgroup;
mod container;
mod env;
mod name;
mod pid;
mod port;

use std::path::{Path, PathBuf};

use crate::util::*;

/// The postgres binaries (Debian's layout), if installed.
pub(super) fn pg_bin() -> Option<PathBuf> {
    let dirs = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    let mut found: Vec<PathBuf> = dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin")).collect();
    found.sort();
    found.into_iter().rev().find(|b| b.join("pg_ctl").exists())
}

/// A job as a CI runner would leave it: a shell that starts a python server with `&`, a
/// `setsid -f` server, a double-forked daemon and (with `pg`) a PostgreSQL as user postgres,
/// then exits. Each server writes a ready file once it listens.
pub(super) const JOB: &str = r#"
D=$1; PG=$2; STUBBORN=$3
[ -n "${JOIN_CGROUP:-}" ] && echo $$ > "$JOIN_CGROUP/cgroup.procs"
SRV='import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); open(sys.argv[1],"w").write("ok"); time.sleep(600)'
python3 -c "$SRV" "$D/r1" &
setsid -f python3 -c "$SRV" "$D/r2"
( python3 -c "$SRV" "$D/r3" & ) &
RESP='import os,signal,sys,time
def respawn(*_):
    if os.fork() == 0:
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    os._exit(0)
signal.signal(signal.SIGTERM, respawn); open(sys.argv[1], "w").write("ok")
while True: time.sleep(1)'
case "$STUBBORN" in
  stubborn) (trap '' TERM; exec python3 -c "$SRV" "$D/r4") & ;;
  respawn) python3 -c "$RESP" "$D/r4" & ;;
esac
if [ -n "${REDIS:-}" ]; then
  redis-server --daemonize yes --port 0 --unixsocket "$D/redis.sock" --dir "$D" --save '' >/dev/null || echo REDIS_START_FAILED
fi
if [ -n "$PG" ]; then
  runuser -u postgres -- "$PG/pg_ctl" -D "$D/pg" -l "$D/pg.log" -o "-c listen_addresses='' -k $D" -w start >/dev/null || echo PG_START_FAILED
fi
exit 0
"#;

/// The namespace's init: a bystander without the marker, the job (with `JOB_PREFIX` before
/// it), wait for its servers, then `reaper kill $SEL`, and what is left.
pub(super) const INIT: &str = r#"
D=$1; PG=$2; STUBBORN=$3; shift 3
waitfile() { i=0; while [ ! -s "$1" ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "TIMEOUT $1"; exit 9; }; sleep 0.05; done; }
if [ -n "$PG" ]; then runuser -u postgres -- "$PG/initdb" -D "$D/pg" -A trust >/dev/null 2>&1 || echo INITDB_FAILED; fi
sleep 600 & BY=$!
$JOB_PREFIX sh "$D/job.sh" "$D" "$PG" "$STUBBORN"
for f in r1 r2 r3; do waitfile "$D/$f"; done
[ -n "$STUBBORN" ] && waitfile "$D/r4"
if [ -n "${REDIS:-}" ]; then i=0; while [ ! -S "$D/redis.sock" ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "TIMEOUT redis"; exit 9; }; sleep 0.05; done; fi
"$REAPER" kill "$@" --all-users --yes --format json > "$D/kill.json" 2> "$D/kill.err"
echo "KILL_RC=$?"
kill -0 $BY 2>/dev/null && echo BYSTANDER=alive
# ps to a file first: in a pipeline, awk's shell may not have exec'd yet when ps reads /proc.
ps -eo pid=,stat=,comm= > "$D/ps.out"
echo LEFT:; awk '$2 !~ /^Z/ && $3 != "ps"' "$D/ps.out"
"#;

pub(super) struct Outcome {
    run: Run,
    kill_json: serde_json::Value,
    kill_err: String,
    pg_log: Option<String>,
}

impl Outcome {
    fn say(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}\nkill stderr:\n{}\nkill json:\n{:#}\npg log:\n{}",
            self.run.stdout(),
            self.run.stderr(),
            self.kill_err,
            self.kill_json,
            self.pg_log.as_deref().unwrap_or("-")
        )
    }

    fn kill_rc(&self) -> Option<i32> {
        self.run.stdout().lines().find_map(|l| l.strip_prefix("KILL_RC=")?.trim().parse().ok())
    }

    /// The commands left in the namespace after the kill (besides its init and the bystander).
    fn left(&self) -> Vec<String> {
        let out = self.run.stdout();
        let after = out.split("LEFT:").nth(1).unwrap_or_default();
        after
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 3 && f[0] != "1" && f[2] != "sleep").then(|| l.trim().to_string())
            })
            .collect()
    }

    /// The job ended whole, cleanly, and the bystander lives.
    fn assert_job_ended(&self) {
        let say = self.say();
        assert!(!self.run.stdout().contains("FAILED") && !self.run.stdout().contains("TIMEOUT"), "{say}");
        assert_eq!(self.kill_rc(), Some(0), "{say}");
        assert!(self.run.stdout().contains("BYSTANDER=alive"), "the bystander without the marker was ended: {say}");
        assert!(self.left().is_empty(), "job processes left: {:?}\n{say}", self.left());
        let targets = self.kill_json["targets"].as_array().map_or(0, Vec::len);
        assert!(targets >= 3, "{say}");
        if let Some(log) = &self.pg_log {
            assert!(log.contains("database system is shut down"), "postgres was not shut down cleanly: {say}");
        }
    }
}

/// Runs a job in a fresh PID namespace and ends it with `reaper kill SEL...`.
pub(super) fn job(dir: &Path, pg: Option<&Path>, mode: &str, redis: bool, prefix: &str, sel: &[&str]) -> Outcome {
    std::fs::write(dir.join("job.sh"), JOB).expect("job.sh");
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", INIT, "init"])
        .arg(dir)
        .arg(pg.map(|p| p.as_os_str().to_owned()).unwrap_or_default())
        .arg(mode)
        .args(sel)
        .env("JOB_PREFIX", prefix)
        .env("REDIS", if redis { "1" } else { "" });
    let run = run_bounded(&mut cmd, format!("job with reaper kill {}", sel.join(" ")));
    let kill_json = std::fs::read_to_string(dir.join("kill.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let kill_err = std::fs::read_to_string(dir.join("kill.err")).unwrap_or_default();
    let pg_log = pg.and_then(|_| std::fs::read_to_string(dir.join("pg.log")).ok());
    Outcome { run, kill_json, kill_err, pg_log }
}

/// Whether this test can run: root, unshare, python3.
pub(super) fn can_run() -> bool {
    if !is_root() {
        skip("needs root (PID namespaces, other users' environments)");
        return false;
    }
    have("unshare") && have("python3") && have("setsid") && have("runuser") && have("ps")
}

/// postgres's binaries when this test should start one.
pub(super) fn postgres() -> Option<PathBuf> {
    let pg = pg_bin();
    if pg.is_none() {
        skip("postgresql is not installed (/usr/lib/postgresql/*/bin/pg_ctl)");
    }
    pg
}

// Bad values of the new selectors exit 2 naming the value, and nothing is signalled.
#[test]
fn bad_selector_values_exit_2_naming_them() {
    let fx = Fixture::start("badsel", "idle", &[]);
    let sig = fx.token.clone();
    let cases: [(&str, &str); 6] = [
        ("--env", "=x"),
        ("--env", ""),
        ("--cgroup", "relative/path"),
        ("--started-after", "yesterday"),
        ("--started-before", "@12abc"),
        ("--started-after", "pid:4194304"),
    ];
    for (flag, value) in cases {
        let run = reaper(&["kill", "--signature", &sig, flag, value, "--yes"]);
        run.expect(2);
        assert!(run.stderr().contains(&format!("'{value}'")), "{flag} {value:?}: {}", run.stderr());
        assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    }
    wait_for("the fixture to be still alive", || !fx.live_pids().is_empty());
    assert!(fx.live_pids().contains(&fx.pid()), "a bad selector signalled the fixture");
}
