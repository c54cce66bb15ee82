//! Issue 11, the safety rails and what is shown: processes posing as reaper, the owner rule on
//! descendants and wide port ranges, pipeline partners, thread ids, rewritten process titles,
//! sub-second ages and the dry-run tree.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// A directory of the test's own, removed in Drop.
struct TempDir(PathBuf);

impl TempDir {
    /// Under cargo's target directory: the same file system as the reaper binary (hard links).
    fn new(tag: &str) -> TempDir {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(token(tag));
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Another reaper is recognised by its executable file, not by a name anyone can set.

// A process that called prctl(PR_SET_NAME, "reaper") was skipped as "another reaper process".
#[test]
#[cfg_attr(
    feature = "portable",
    ignore = "portable backend: no exe identity (device, inode): a deleted link is another path"
)]
fn a_process_named_reaper_is_not_immune_but_a_real_reaper_is() {
    let mimic = Fixture::start("mimic-reaper", "mimic", &["reaper"]);
    assert_eq!(comm(mimic.pid()), "reaper", "the fixture poses as reaper");
    let watched = Fixture::start("watched", "idle", &[]);
    // A real reaper, started from a hard link of the binary that is deleted before the kill
    // runs from another link: /proc/PID/exe then reads ".../a/reaper (deleted)", a path that
    // differs from the killer's, while the file is the same.
    let dir = TempDir::new("exe");
    let (a, b) = (dir.0.join("a"), dir.0.join("b"));
    std::fs::create_dir_all(&a).expect("a");
    std::fs::create_dir_all(&b).expect("b");
    std::fs::hard_link(REAPER, a.join("reaper")).expect("linking reaper");
    let other = Started {
        token: mimic.token.clone(),
        child: wrapper_cmd(a.join("reaper"))
            .arg0(format!("{}-reaper", mimic.token))
            .args(["wait", "--pid", &watched.pid().to_string(), "--timeout", "300s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting reaper wait"),
    };
    wait_for("reaper wait to be running", || comm(other.pid()) == "reaper");
    std::fs::hard_link(a.join("reaper"), b.join("reaper")).expect("linking reaper again");
    std::fs::remove_file(a.join("reaper")).expect("deleting the first link");
    let link = std::fs::read_link(format!("/proc/{}/exe", other.pid())).expect("exe");
    assert!(link.to_string_lossy().ends_with("(deleted)"), "{link:?}");

    let mut cmd = wrapper_cmd(b.join("reaper"));
    cmd.args(["kill", "--signature", &mimic.token, "--timeout", "10s", "--format", "json"]);
    let run = run_bounded(&mut cmd, "b/reaper kill".into()).out;
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let targets: Vec<u64> =
        json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
    assert_eq!(targets, vec![u64::from(mimic.pid())], "{json:#}\n{stderr}");
    wait_for("the mimic to die", || is_dead(mimic.pid()));
    assert!(!is_dead(other.pid()), "the real reaper was signalled:\n{stderr}");
    assert!(stderr.contains(&format!("skipping {} (reaper): it is another reaper process", other.pid())), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// 4. The owner rule applies to the whole plan, and to port ranges that mean "every listener".

/// A root-owned bash (whose last argument is `token`) with one child, a `sleep` owned by
/// nobody whose argv[0] is `TOKEN-child`.
fn root_parent_nobody_child(token: &str) -> (Started, u32) {
    let script =
        r#"setpriv --reuid 65534 --regid 65534 --clear-groups bash -c 'exec -a "$0" sleep 1000' "$0-child" & wait"#;
    let parent = Started {
        token: token.to_string(),
        child: Command::new("bash")
            .args(["-c", script, token])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("bash"),
    };
    let mut child = 0;
    wait_for("the nobody-owned child", || {
        child = pids_with_token(token).into_iter().find(|&p| p != parent.pid() && comm(p) == "sleep").unwrap_or(0);
        child != 0
    });
    assert_eq!(ppid(child), Some(parent.pid()));
    (parent, child)
}

// As root, `kill --signature X` skipped X's other-user matches but killed other-user descendants.
#[test]
fn the_owner_rule_covers_descendants() {
    if !is_root() {
        skip("needs root to own processes of two users");
        return;
    }
    let token = token("owner-tree");
    let (parent, child) = root_parent_nobody_child(&token);
    // The signature matches the root-owned parent only; the child comes in as a descendant.
    let pattern = format!("{token}$");
    let run = reaper(&["kill", "--signature", &pattern, "--timeout", "10s", "--format", "json"]);
    // Exit 1: a process of the selected tree still runs, and --all-users would include it.
    run.expect(1);
    let json = run.json();
    let targets: Vec<u64> =
        json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
    assert_eq!(targets, vec![u64::from(parent.pid())], "{json:#}");
    assert!(run.stderr().contains(&format!("skipping {child} (sleep): it belongs to uid 65534")), "{}", run.stderr());
    assert!(!is_dead(child), "nobody's descendant was signalled");
    // --all-users lifts the rule (the child is an orphan now, matched by its own token).
    let run = reaper(&["kill", "--signature", &token, "--all-users", "--timeout", "10s", "--format", "json"]);
    run.expect(0);
    wait_for("the child to die", || is_dead(child));
}

/// A TCP listener owned by nobody, carrying a token; (process, port).
fn nobodys_listener() -> (Started, u16) {
    let token = token("owner-port");
    // A python that nobody may run (a pyenv shim under /root is not one).
    let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let mut child = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", python, FIXTURE, &token])
        .args(["listen", "tcp", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("setpriv python3");
    let stdout = child.stdout.take().expect("stdout");
    let started = Started { token, child };
    let line = read_line_within(stdout, DEADLINE).expect("READY from nobody's listener");
    let info = parse_ready(line.trim());
    let port = info.get("port").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line}"));
    (started, port)
}

// `--port 1-65535` named "every listener" but was exempt from the owner rule, as one port is.
#[test]
fn a_port_range_over_everything_is_a_broad_selector() {
    if !is_root() {
        skip("needs root to own processes of two users");
        return;
    }
    let (p, port) = nobodys_listener();
    let planned = |args: &[&str]| -> (Vec<u64>, String) {
        let mut all = vec!["kill", "--signature", &p.token, "--dry-run", "--format", "json"];
        all.extend_from_slice(args);
        let run = reaper(&all);
        run.expect(0);
        let json = run.json();
        let pids = json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
        (pids, run.stderr())
    };
    let me = vec![u64::from(p.pid())];
    // Ports around the listener's: `span` ports including it.
    let around = |span: u32| {
        let first = u32::from(port).saturating_sub(span / 2).max(1).min(65536 - span);
        format!("{first}-{}", first + span - 1)
    };
    // Wide: more than 1024 ports, in one range or several.
    for wide in ["1-65535".to_string(), "1024-65535".into(), around(1025), format!("1-1024,{port}")] {
        let (pids, stderr) = planned(&["--port", &wide]);
        assert!(pids.is_empty(), "--port {wide} reached nobody's listener: {pids:?}");
        assert!(stderr.contains("it belongs to uid 65534") && stderr.contains("--all-users"), "{stderr}");
        assert_eq!(planned(&["--port", &wide, "--all-users"]).0, me, "--port {wide} --all-users");
        assert_eq!(planned(&["--port", &wide, "--user", "nobody"]).0, me, "--port {wide} --user nobody");
        // A pid names exactly one process, whatever the ports.
        assert_eq!(planned(&["--port", &wide, "--pid", &p.pid().to_string()]).0, me, "--port {wide} --pid");
    }
    // Narrow: the port itself, 1024 ports around it, the privileged range and the port.
    for narrow in [port.to_string(), around(1024), format!("1-1023,{port}")] {
        assert_eq!(planned(&["--port", &narrow]).0, me, "--port {narrow}");
    }
    assert!(!is_dead(p.pid()));
}

// ---------------------------------------------------------------------------------------------
// 6. The partners of reaper's own pipeline are never targets.

// In a container whose PID 1 is the job shell, `reaper kill --orphans | tee log` killed tee.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: pipes on the standard streams are not read")]
fn a_pipeline_partner_is_never_a_target() {
    let token = token("pipeline");
    let tmp = TempDir::new("pipeline");
    // bash is PID 1 of a new PID namespace (the job shell of a container), without job control:
    // everything it starts shares its process group. First a background job that writes to the
    // same pipe as reaper (not a partner: it must die), then one next to `reaper | tee`.
    let script = r#"
        sleep 1000 &
        a=$!
        "$REAPER" kill --orphans --timeout 10s 2>"$TMP/err-a"
        echo "a-status=$?"
        if [ -e /proc/$a ] && ! grep -q ') Z' /proc/$a/stat; then echo a-alive; else echo a-dead; fi
        sleep 1000 &
        b=$!
        "$REAPER" kill --orphans --timeout 10s 2>"$TMP/err-b" | tee "$TMP/log"
        echo "b-status=${PIPESTATUS[*]}"
        if [ -e /proc/$b ] && ! grep -q ') Z' /proc/$b/stat; then echo b-alive; else echo b-dead; fi
        cat "$TMP/err-a" "$TMP/err-b" >&2
    "#;
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "bash", "-c", script, &token]).env("TMP", &tmp.0);
    let out = run_bounded(&mut cmd, "unshare --pid bash -c SCRIPT".into()).out;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("a-status=0") && stdout.contains("a-dead"), "{stdout}\n{stderr}");
    assert!(stdout.contains("b-status=0 0") && stdout.contains("b-dead"), "{stdout}\n{stderr}");
    // The partner is named `tee`, or `bash` when reaper read it between bash's fork and tee's
    // exec (seen under load): either way it is protected, and the log below proves it lived.
    assert!(
        stderr.contains("(tee): it is in reaper's own pipeline")
            || stderr.contains("(bash): it is in reaper's own pipeline"),
        "{stderr}"
    );
    // tee lived to write what reaper printed.
    let log = std::fs::read_to_string(tmp.0.join("log")).expect("tee's log");
    assert!(log.contains("1 target: 1 exited"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// 7. A thread id is not a process.

// `--pid <tid>` treated a thread of a process as a process of its own.
#[test]
fn a_thread_id_is_refused() {
    let fx = Fixture::start("threads", "thread-id", &[]);
    let (pid, tid) = (fx.pid(), fx.get("tid"));
    assert_ne!(pid, tid);
    let run = reaper(&["kill", "--pid", &tid.to_string(), "--timeout", "10s"]);
    run.expect(2);
    assert!(
        run.stderr().contains(&format!("refusing to signal pid {tid}: {tid} is a thread of {pid}")),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(pid));
    // The process itself is a fine target.
    let json = reaper(&["kill", "--pid", &pid.to_string(), "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(json["targets"][0]["pid"], pid, "{json:#}");
}

// ---------------------------------------------------------------------------------------------
// 13. A rewritten title's NUL padding is not arguments.

// Daemons that rewrite their title left dozens of "" arguments: `-s '... 40$'` missed them.
#[test]
fn title_padding_is_not_arguments() {
    let fx = Fixture::start("title", "title", &["40"]);
    let raw = std::fs::read(format!("/proc/{}/cmdline", fx.pid())).expect("cmdline");
    assert!(raw.ends_with(&[0; 40]), "the fixture's cmdline ends in NUL padding");
    let pattern = format!("{} title 40$", fx.token);
    let json = reaper(&["list", "--signature", &pattern, "--format", "json"]).expect(0).json();
    let rows = json.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{json:#}");
    assert_eq!(rows[0]["pid"], fx.pid());
    let args: Vec<&str> = rows[0]["cmdline"].as_array().expect("cmdline").iter().filter_map(Value::as_str).collect();
    assert_eq!(args.last(), Some(&"40"), "{args:?}");
    assert!(!args.contains(&""), "{args:?}");
    let table = reaper(&["list", "--signature", &pattern]).expect(0).stdout();
    assert!(table.contains(&format!("{} title 40\n", fx.token)), "{table}");
}

// The real thing, when redis-server is installed: its title is "redis-server *:PORT" padded
// with NULs, and `-s 'redis-server .*:PORT$'` finds it as `pgrep -f` does.
#[test]
fn redis_title_matches_like_pgrep() {
    let Ok(out) = Command::new("sh").args(["-c", "command -v redis-server"]).output() else { return };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if path.is_empty() {
        skip("redis-server is not installed");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let token = token("redis");
    let redis = Started {
        token,
        child: Command::new(&path)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("redis-server"),
    };
    let pid = redis.pid();
    let pattern = format!("redis-server .*:{port}$");
    wait_for("redis to rewrite its title", || {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&format!(":{port}")))
    });
    let pgrep = Command::new("pgrep").args(["-f", &pattern]).output().expect("pgrep");
    assert!(String::from_utf8_lossy(&pgrep.stdout).lines().any(|l| l.trim() == pid.to_string()));
    let found = reaper(&["list", "--signature", &pattern, "--format", "pid"]).expect(0).pids();
    assert_eq!(found, vec![pid]);
}

// ---------------------------------------------------------------------------------------------
// 14. Ages are exact to the tick, not to the second.

// Start times used the whole-second boot time: ages were up to a second too old, and
// `--younger-than 600ms` missed a 200 ms-old process.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: start times have 1 s resolution")]
fn a_process_started_just_now_is_young() {
    let t0 = Instant::now();
    let fx = Fixture::start("young", "idle", &[]);
    let pid = fx.pid().to_string();
    let json = reaper(&["list", "--pid", &pid, "--format", "json"]).expect(0).json();
    let elapsed = t0.elapsed();
    let age = Duration::from_millis(json[0]["age_ms"].as_u64().expect("age_ms"));
    // The fixture started after t0 and reaper measured before it returned, so the true age is
    // below `elapsed`; a start time counts in 10 ms ticks (truncated), hence a little slack.
    assert!(age <= elapsed + Duration::from_millis(30), "age {age:?} > elapsed {elapsed:?}");
    let young = reaper(&["list", "--pid", &pid, "--younger-than", "600ms", "--format", "pid"]);
    let elapsed = t0.elapsed();
    if elapsed < Duration::from_millis(550) {
        assert_eq!(young.expect(0).pids(), vec![fx.pid()], "{elapsed:?} after the start");
    } else {
        eprintln!("note: the machine is slow ({elapsed:?}); --younger-than 600ms not checked");
    }
}

// ---------------------------------------------------------------------------------------------
// 16. The dry-run tree is depth first.

// `kill --dry-run` printed the tree breadth first: children appeared under the wrong parent.
#[test]
fn dry_run_tree_is_depth_first() {
    let fx = Fixture::start("branches", "branches", &["3", "2", "120"]);
    assert_eq!(fx.get("n"), 15);
    let out = reaper(&["kill", "--pid", &fx.pid().to_string(), "--dry-run"]).expect(0).stdout();
    let mut lines = out.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("would signal 15 processes")), "{out}");
    // Each line: 3 spaces a level, a 2-character mark, the pid.
    let rows: Vec<(usize, u32)> = lines
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            let rest = l.trim_start().trim_start_matches("* ");
            let pid = rest.split_whitespace().next().and_then(|p| p.parse().ok());
            ((indent - indent % 3) / 3, pid.unwrap_or_else(|| panic!("no pid in {l:?}\n{out}")))
        })
        .collect();
    assert_eq!(rows.len(), 15, "{out}");
    assert_eq!(rows[0], (0, fx.pid()), "{out}");
    for (i, &(depth, pid)) in rows.iter().enumerate().skip(1) {
        assert!(depth >= 1, "{out}");
        // The parent is the nearest line above, one level up.
        let parent = rows[..i].iter().rev().find(|&&(d, _)| d == depth - 1).map(|&(_, p)| p);
        assert_eq!(parent, ppid(pid), "{pid} is shown under the wrong parent:\n{out}");
        if i + 1 < rows.len() {
            assert!(rows[i + 1].0 <= depth + 1, "{out}");
        }
    }
    let gone: Vec<String> = rows
        .iter()
        .filter(|&&(_, pid)| is_dead(pid))
        .map(|&(_, pid)| format!("{pid}: {:?}", std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()))
        .collect();
    assert!(gone.is_empty(), "a dry run signals nothing, yet these are gone: {gone:?}\n{out}");
}
