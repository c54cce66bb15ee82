//! CI teardown: `--env`, `--cgroup`, `--started-after`/`--started-before` on real job trees.
//!
//! Every test that kills by one of these selectors runs the whole job inside a fresh PID
//! namespace (`unshare --pid --fork --mount-proc --kill-child`): the namespace's init is a test
//! script, and when it ends the kernel ends everything left in the namespace. The selectors'
//! values are unique to the test (a token), and `reaper kill` runs inside the namespace too.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Fixture, Run, have, is_root, reaper, run_bounded, skip, token, wait_for, wrapper_cmd};

/// A directory of the test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(token(tag));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // postgres (another user) must reach its data directory and write its log here.
        let _ = Command::new("chmod").arg("0777").arg(&dir).status();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A cgroup v2 of the test's own under the cgroup2 mount, removed when dropped (once the
/// namespace that used it is gone, it is empty).
struct Cgroup {
    dir: PathBuf,
    path: String,
}

impl Cgroup {
    fn new(tag: &str) -> Option<Cgroup> {
        let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
        let mount = mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_ascii_whitespace().collect();
            (f.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(f[1]))
        })?;
        let name = token(tag);
        let dir = mount.join(&name);
        std::fs::create_dir(&dir).ok()?;
        Some(Cgroup { dir, path: format!("/{name}") })
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let events = self.dir.join("cgroup.events");
        // Processes leave a cgroup when they are reaped: that can trail the namespace's end.
        let empty = || std::fs::read_to_string(&events).is_ok_and(|e| e.contains("populated 0"));
        let start = std::time::Instant::now();
        while !empty() && start.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The postgres binaries (Debian's layout), if installed.
fn pg_bin() -> Option<PathBuf> {
    let dirs = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    let mut found: Vec<PathBuf> = dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin")).collect();
    found.sort();
    found.into_iter().rev().find(|b| b.join("pg_ctl").exists())
}

/// A job as a CI runner would leave it: a shell that starts a python server with `&`, a
/// `setsid -f` server, a double-forked daemon and (with `pg`) a PostgreSQL as user postgres,
/// then exits. Each server writes a ready file once it listens.
const JOB: &str = r#"
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
const INIT: &str = r#"
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

struct Outcome {
    run: Run,
    kill_json: serde_json::Value,
    kill_err: String,
    pg_log: Option<String>,
}

/// Runs a job in a fresh PID namespace and ends it with `reaper kill SEL...`.
fn job(dir: &Path, pg: Option<&Path>, mode: &str, redis: bool, prefix: &str, sel: &[&str]) -> Outcome {
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

/// Whether this test can run: root, unshare, python3.
fn can_run() -> bool {
    if !is_root() {
        skip("needs root (PID namespaces, other users' environments)");
        return false;
    }
    have("unshare") && have("python3") && have("setsid") && have("runuser") && have("ps")
}

/// postgres's binaries when this test should start one.
fn postgres() -> Option<PathBuf> {
    let pg = pg_bin();
    if pg.is_none() {
        skip("postgresql is not installed (/usr/lib/postgresql/*/bin/pg_ctl)");
    }
    pg
}

#[test]
fn teardown_env_marker_ends_the_job_and_not_the_bystander() {
    if !can_run() {
        return;
    }
    let dir = TempDir::new("envjob");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let pg = postgres();
    let out = job(&dir.0, pg.as_deref(), "", false, &format!("env {marker}"), &["--env", &marker]);
    out.assert_job_ended();
}

#[test]
fn teardown_env_marker_survivor_fails_the_kill() {
    if !can_run() {
        return;
    }
    let dir = TempDir::new("envstub");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let out =
        job(&dir.0, None, "stubborn", false, &format!("env {marker}"), &["--env", &marker, "--sequence", "TERM:200ms"]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(1), "{say}");
    let survivors = out.kill_json["survivors"].as_array().map_or(0, Vec::len);
    assert_eq!(survivors, 1, "the marked process ignoring TERM is the one survivor: {say}");
    assert!(out.kill_err.contains("survived SIGTERM"), "{say}");
    assert!(out.run.stdout().contains("BYSTANDER=alive"), "{say}");
}

/// redis-server blanks its environment block when it sets its process title, and its
/// `--daemonize yes` parent exits: the marker does not reach it (the README says so).
#[test]
fn teardown_env_marker_misses_a_daemonized_redis() {
    if !can_run() || !have("redis-server") {
        return;
    }
    let dir = TempDir::new("envredis");
    let marker = format!("REAPER_JOB={}", token("marker"));
    let out = job(&dir.0, None, "", true, &format!("env {marker}"), &["--env", &marker]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(0), "{say}");
    let left = out.left();
    assert!(left.len() == 1 && left[0].ends_with("redis-server"), "only redis escapes: {left:?}\n{say}");
}

#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: cgroups are Linux's")]
fn teardown_cgroup_ends_the_job_and_says_it_is_empty() {
    if !can_run() {
        return;
    }
    let Some(cg) = Cgroup::new("cgjob") else {
        skip("no writable cgroup2 mount");
        return;
    };
    let dir = TempDir::new("cgjob");
    let pg = postgres();
    let prefix = format!("env JOIN_CGROUP={}", cg.dir.display());
    let out = job(&dir.0, pg.as_deref(), "", have("redis-server"), &prefix, &["--cgroup", &cg.path]);
    out.assert_job_ended();
    let say = out.say();
    assert_eq!(out.kill_json["cgroups"][0]["path"], cg.path.as_str(), "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], true, "{say}");
}

#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: cgroups are Linux's")]
fn teardown_cgroup_survivor_fails_the_kill_and_the_cgroup_is_not_empty() {
    if !can_run() {
        return;
    }
    let Some(cg) = Cgroup::new("cgstub") else {
        skip("no writable cgroup2 mount");
        return;
    };
    let dir = TempDir::new("cgstub");
    let prefix = format!("env JOIN_CGROUP={}", cg.dir.display());
    let out = job(&dir.0, None, "stubborn", false, &prefix, &["--cgroup", &cg.path, "--sequence", "TERM:200ms"]);
    let say = out.say();
    assert_eq!(out.kill_rc(), Some(1), "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], false, "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["cgroup_kill"], false, "no KILL in the sequence: no cgroup.kill: {say}");
    assert!(out.kill_err.contains("still holds processes"), "{say}");
}

/// A process that, on SIGTERM, double-forks a new process and exits: the new one is no
/// descendant of any target (its parent exited), so only the cgroup still holds it, and
/// `cgroup.kill` ends it.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: cgroups are Linux's")]
fn teardown_cgroup_kill_ends_what_escaped_the_tree_during_the_sequence() {
    if !can_run() {
        return;
    }
    let Some(cg) = Cgroup::new("cgrespawn") else {
        skip("no writable cgroup2 mount");
        return;
    };
    let dir = TempDir::new("cgrespawn");
    let prefix = format!("env JOIN_CGROUP={}", cg.dir.display());
    let out = job(&dir.0, None, "respawn", false, &prefix, &["--cgroup", &cg.path, "--timeout", "3s"]);
    let say = out.say();
    out.assert_job_ended();
    assert_eq!(out.kill_json["cgroups"][0]["cgroup_kill"], true, "{say}");
    assert_eq!(out.kill_json["cgroups"][0]["empty"], true, "{say}");
}

/// `--started-after pid:N` and `@SECONDS` select only processes started later; `kill` with
/// them ends only those (inside a PID namespace: `--name sleep` is broad).
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: start times have 1 s resolution")]
fn teardown_started_after_selects_only_newer_processes() {
    if !can_run() {
        return;
    }
    // Start times count in clock ticks (10 ms): the sleeps between the processes make their
    // start times differ by more than one tick.
    // `--name sleep` sees a child only once it has exec'd sleep: wait for that (bounded).
    let script = r#"
execd() { i=0; while [ "$(cat /proc/$1/comm 2>/dev/null)" != sleep ] && [ $i -lt 2000 ]; do i=$((i+1)); sleep 0.01; done; }
sleep 600 & OLD=$!; execd $OLD
sleep 0.1
sleep 601 & MARK=$!; execd $MARK
sleep 0.1
AT=$(date +@%s.%N)
sleep 0.1
sleep 602 & NEW=$!; execd $NEW
echo "OLD=$OLD MARK=$MARK NEW=$NEW"
echo "AFTER_PID=$("$REAPER" list --name sleep --started-after pid:$MARK --format json | tr -d ' \n')"
echo "AFTER_AT=$("$REAPER" list --name sleep --started-after $AT --format json | tr -d ' \n')"
echo "BEFORE_AT=$("$REAPER" list --name sleep --started-before $AT --format json | tr -d ' \n')"
"$REAPER" kill --name sleep --started-after pid:$MARK --yes -q; echo "KILL_RC=$?"
kill -0 $OLD && kill -0 $MARK && echo OLDER=alive
kill -0 $NEW 2>/dev/null || echo NEW=gone
"#;
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script]);
    let run = run_bounded(&mut cmd, "started-after in a namespace".into());
    let out = run.stdout();
    let say = format!("{out}\n{}", run.stderr());
    let pids = |key: &str| -> Vec<u64> {
        let line = out.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(line).unwrap_or(serde_json::Value::Null);
        let mut v: Vec<u64> = json.as_array().into_iter().flatten().filter_map(|p| p["pid"].as_u64()).collect();
        v.sort_unstable();
        v
    };
    let ids = out.lines().find(|l| l.starts_with("OLD=")).unwrap_or_default().to_string();
    let id = |k: &str| -> u64 {
        ids.split_whitespace().find_map(|w| w.strip_prefix(&format!("{k}="))?.parse().ok()).unwrap_or(0)
    };
    assert_eq!(pids("AFTER_PID"), vec![id("NEW")], "{say}");
    assert_eq!(pids("AFTER_AT"), vec![id("NEW")], "{say}");
    assert_eq!(pids("BEFORE_AT"), vec![id("OLD"), id("MARK")], "{say}");
    assert!(out.contains("KILL_RC=0") && out.contains("OLDER=alive") && out.contains("NEW=gone"), "{say}");
}

// Bad values of the new selectors exit 2 naming the value, and nothing is signalled.
#[test]
fn teardown_bad_selector_values_exit_2_naming_them() {
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

/// Not root, `--env` cannot read other users' environments: a root process carrying the
/// marker is not listed, and stderr says how many environments could not be read.
#[test]
fn teardown_env_unreadable_environments_are_counted_on_stderr() {
    if !is_root() {
        skip("needs root to run a marked process that nobody cannot read");
        return;
    }
    if !have("setpriv") {
        return;
    }
    let fx = Fixture::start("envhidden", "idle", &[]);
    let marker = format!("REAPER_TEST_HIDDEN={}", fx.token);
    // The fixture itself is root's and unmarked; a marked root process is what nobody misses.
    let marked = crate::util::Started::spawn(
        fx.token.clone(),
        Command::new("sleep").arg("600").env("REAPER_TEST_HIDDEN", &fx.token),
    );
    let mut cmd = wrapper_cmd("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", crate::util::REAPER, "list", "--env", &marker]);
    let run = run_bounded(&mut cmd, format!("list --env {marker} as nobody"));
    run.expect(1);
    assert!(run.stderr().contains("could not be read") && run.stderr().contains("--env"), "{}", run.stderr());
    // As root, it is found.
    let pids = reaper(&["list", "--env", &marker, "--format", "pid"]).expect(0).pids();
    assert_eq!(pids, vec![marked.pid()]);
}
