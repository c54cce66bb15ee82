//! The safety rails: reaper never signals PID 1, itself, its ancestors (the caller's shell, also
//! when `/proc` hides part of the ancestry), its own pipeline, another reaper, another user's
//! processes through a broad selector (the owner rule), or a container runtime's port proxy.
//! Whatever could reach a process the test did not start runs inside a fresh PID namespace.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::*;

#[test]
fn naming_an_ancestor_of_reaper_by_pid_is_refused() {
    // The test process is reaper's parent. --dry-run keeps this safe even if the rail broke.
    let me = std::process::id().to_string();
    let run = reaper(&["kill", "--pid", &me, "--dry-run"]);
    run.expect(2);
    assert!(run.stderr().contains(&format!("refusing to signal pid {me}")), "{}", run.stderr());
    assert!(run.stderr().contains("ancestor of reaper"), "{}", run.stderr());
}

/// Runs `script` as PID 1 of a new PID namespace (with its own /proc), `$REAPER` set.
fn in_pid_namespace(script: &str, token: &str) -> std::process::Output {
    let mut cmd = wrapper_cmd("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "bash", "-c", script, token]);
    run_bounded(&mut cmd, format!("unshare --pid ... {token}")).out
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a PID namespace (unshare)")]
fn safety_rails_inside_a_pid_namespace() {
    let token = token("kill-rails");
    // PID 1 is this bash (its $0 is the token); the inner shell running reaper carries the
    // token too, and so does one victim that must die.
    let script = r#"
        (exec -a "$0-victim" sleep 1000) &
        victim=$!
        "$REAPER" kill --pid 1; echo "pid1=$?"
        bash -c '"$REAPER" kill --signature "$0" --format json > /tmp/$0.json 2> /tmp/$0.err; echo "sig=$?"' "$0"
        kill -0 1 && echo "init-alive"
        if [ -e /proc/$victim ] && ! grep -q ') Z' /proc/$victim/stat; then echo victim-alive; else echo victim-dead; fi
        cat /tmp/$0.json; cat /tmp/$0.err >&2; rm -f /tmp/$0.json /tmp/$0.err
    "#;
    let out = in_pid_namespace(script, &token);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("pid1=2"), "{stdout}\n{stderr}");
    assert!(stderr.contains("refusing to signal pid 1"), "{stderr}");
    assert!(stdout.contains("sig=0"), "{stdout}\n{stderr}");
    assert!(stdout.contains("init-alive") && stdout.contains("victim-dead"), "{stdout}\n{stderr}");
    assert!(stderr.contains("skipping 1 "), "{stderr}");
    assert!(stderr.contains("ancestor of reaper"), "{stderr}");
    let json: Value =
        serde_json::from_str(&stdout[stdout.find('{').expect("json")..stdout.rfind('}').expect("json") + 1])
            .expect("json");
    let targets = json["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 1, "{json:#}");
    assert!(targets[0]["cmdline"][0].as_str().expect("argv0").ends_with("-victim"));
}

// `/proc` mounted hidepid=2 hides a process between a non-root user's shell and reaper (here a
// non-dumpable one, which /proc shows as root's, as it shows sudo): the ancestor walk cannot reach
// PID 1. `kill --name bash` from there spares the user's shell and says why. Regression: the walk
// stopped at the hidden process and the shell was killed. In a PID and mount namespace of its own.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID and mount namespaces, /proc hidepid")]
fn hidepid_hiding_part_of_the_ancestry_keeps_the_callers_shell() {
    if !is_root() {
        return skip("needs root: PID and mount namespaces, hidepid");
    }
    if !have("unshare") || !have("setpriv") {
        return;
    }
    let token = token("hidepid");
    let script = r#"
        mount -t proc -o hidepid=2 proc /proc || exit 7
        chmod 777 "$D"
        printf '%s\n' 'import ctypes, subprocess, sys' \
            'ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc shows it as root' \
            'sys.exit(subprocess.call(sys.argv[1:]))' >"$D/mid.py"
        setpriv --reuid 65534 --regid 65534 --clear-groups bash -c '
            /usr/bin/python3 "$D/mid.py" "$REAPER" kill --name bash --yes --format json >"$D/k.out" 2>"$D/k.err"
            echo $? >"$D/k.rc"
            echo $$ >"$D/shell.out"; echo 0 >"$D/shell.rc"'
    "#;
    let runs = scenario(&token, script, &[]);
    let (shell, _) = runs.expect("shell", 0);
    let shell: u64 = shell.trim().parse().expect("the shell's pid");
    let (_, out, err) = runs.get("k");
    let json: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let skipped = json["skipped"].as_array().expect("skipped");
    let shell_skip = skipped.iter().find(|s| s["pid"].as_u64() == Some(shell));
    let reason =
        shell_skip.and_then(|s| s["reason"].as_str()).unwrap_or_else(|| panic!("{shell} not skipped: {json:#}"));
    assert!(reason.contains("hides part of reaper's ancestry"), "{reason}");
    assert_eq!(json["targets"].as_array().map(Vec::len), Some(0), "{json:#}");
}

#[test]
fn other_reaper_processes_are_never_targets() {
    // A long-lived reaper whose command line carries the token: it stops a fixture and waits a
    // minute for it to exit.
    let token = token("kill-other-reaper");
    let holder = Fixture::start("kill-other-reaper-port", "listen", &["tcp", "127.0.0.1"]);
    let p = Started::spawn(
        token.clone(),
        reaper_cmd().args(["kill", "--pid", &holder.pid().to_string(), "--sequence", "STOP:60s", "-x", &token]),
    );
    wait_for("the other reaper", || pids_with_token(&token).contains(&p.pid()));
    let run = reaper(&["kill", "--signature", &token, "--format", "json"]);
    run.expect(0);
    assert_eq!(run.json()["targets"], serde_json::json!([]));
    assert!(run.stderr().contains("another reaper process"), "{}", run.stderr());
    assert!(!is_dead(p.pid()));
}

// Another reaper is recognised by its executable file, not by a name anyone can set.
// A process that called prctl(PR_SET_NAME, "reaper") was skipped as "another reaper process".
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: no exe identity (device, inode): a deleted link is another path"
)]
fn a_process_named_reaper_is_not_immune_but_a_real_reaper_is() {
    let mimic = Fixture::start("mimic-reaper", "mimic", &["reaper"]);
    assert_eq!(comm(mimic.pid()), "reaper", "the fixture poses as reaper");
    let watched = Fixture::start("watched", "idle", &[]);
    // A real reaper, started from a hard link of the binary that is deleted before the kill
    // runs from another link: /proc/PID/exe then reads ".../a/reaper (deleted)", a path that
    // differs from the killer's, while the file is the same.
    let dir = TempDir::in_target("exe");
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

// In a container whose PID 1 is the job shell, `reaper kill --orphans | tee log` killed tee.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: pipes on the standard streams are not read"
)]
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

// `reaper kill ... | tee LOG | cat`: every stage of reaper's own pipeline is spared, also `cat`,
// which only reads what `tee` writes. Regression: `tee` was spared and `cat` received SIGTERM
// (then `tee` died of SIGPIPE and the log was lost). The stages carry the token on their command
// lines, so the selector matches them; a real target is ended.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: pipes on the standard streams are not read"
)]
fn every_stage_of_reapers_pipeline_is_spared() {
    let fx = Fixture::start("pipeline", "listen", &["tcp", "127.0.0.1"]);
    let tmp = TempDir::new("pipeline");
    let tok = &fx.token;
    let log = tmp.0.join(format!("{tok}.log"));
    let empty = tmp.0.join(format!("{tok}.empty"));
    std::fs::write(&empty, "").expect("empty file");
    let script = r#""$REAPER" kill --signature "$1" --yes --format json | tee "$2" | cat - "$3""#;
    let mut cmd = wrapper_cmd("sh");
    cmd.args(["-c", script, "sh", tok]).arg(&log).arg(&empty);
    let run = run_bounded(&mut cmd, "reaper kill | tee | cat".into());
    let json = run.json();
    let skipped: Vec<&str> = json["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["reason"].as_str().is_some_and(|r| r.contains("pipeline")))
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(skipped.contains(&"tee") && skipped.contains(&"cat"), "both stages spared: {json:#}");
    let targets: Vec<u64> =
        json["targets"].as_array().expect("targets").iter().filter_map(|t| t["pid"].as_u64()).collect();
    assert_eq!(targets, vec![u64::from(fx.pid())], "{json:#}");
    assert_eq!(std::fs::read(&log).expect("the log"), run.out.stdout, "tee wrote the whole report");
    wait_for("the fixture to be gone", || is_dead(fx.pid()) || is_zombie(fx.pid()));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs processes as nobody")]
fn another_users_process_is_denied_and_left_alive() {
    let token = token("kill-denied");
    let p = nobodys_tree(&token);
    let mut out = wrapper_cmd("setpriv");
    out.args(["--reuid", "65533", "--regid", "65533", "--clear-groups", REAPER, "kill", "--pid", &p.pid().to_string()])
        .args(["--format", "json"]);
    let out = run_bounded(&mut out, "setpriv 65533 reaper kill".into()).out;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(outcomes(&json).iter().all(|o| o == "denied"), "{json:#}");
    assert_eq!(outcomes(&json).len(), 2);
    assert_eq!(target(&json, p.pid())["user"], "nobody");
    assert!(stderr.contains("permission denied") && stderr.contains("nobody"), "{stderr}");
    assert_eq!(json["survivors"].as_array().expect("survivors").len(), 2);
    assert_eq!(pids_with_token(&token).len(), 2, "the fixture must still be alive");
    assert!(!is_dead(p.pid()));
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs processes as nobody")]
fn broad_selectors_only_touch_the_callers_processes() {
    let token = token("kill-owner");
    let p = nobodys_tree(&token);
    // As root, a signature does not reach nobody's processes without --all-users or --user;
    // what it matched is still accounted for, and still running, so the kill fails (exit 1).
    // Regression: with -q it printed nothing and exited 0, JSON `"targets":[]`.
    let run = reaper(&["kill", "--signature", &token, "--format", "json", "-q"]);
    run.expect(1);
    let json = run.json();
    assert_eq!(json["targets"], serde_json::json!([]));
    let skipped = json["skipped"].as_array().expect("skipped");
    let me = skipped.iter().find(|s| s["pid"] == p.pid()).unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(me["flag"], "--all-users", "{json:#}");
    assert_eq!(me["running"], true);
    assert_eq!(me["matched"], true);
    assert_eq!(me["user"], "nobody");
    assert!(me["reason"].as_str().is_some_and(|r| r.contains("nobody")), "{json:#}");
    assert!(
        run.stderr().contains(&format!("skipping {}", p.pid())) && run.stderr().contains("--all-users"),
        "{}",
        run.stderr()
    );
    assert!(!is_dead(p.pid()));
    // The table form says it too, and does not claim that nothing matched.
    let run = reaper(&["kill", "--signature", &token]);
    run.expect(1);
    assert!(!run.stdout().contains("nothing matched"), "{}", run.stdout());
    assert!(run.stdout().contains("nothing signalled"), "{}", run.stdout());
    let json = reaper(&["kill", "--signature", &token, "--user", "nobody", "--format", "json"]).expect(0).json();
    assert_eq!(target(&json, p.pid())["outcome"], "exited");
    assert_eq!(pids_with_token(&token), Vec::<u32>::new());
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs processes as nobody")]
fn list_takes_all_users_and_previews_what_kill_would_take() {
    if !have("setpriv") {
        return;
    }
    // A process of nobody's carrying the token: a broad selector (--signature) takes only the
    // caller's processes unless --all-users, in kill and now in list.
    let token = token("allusers");
    let p = nobodys_bash(&token, r#"exec -a "$0" sleep 1000"#, &format!("{token}-nobody"));
    let pid = p.pid();
    wait_for("the exec", || comm(pid) == "sleep");
    let run = reaper(&["list", "--signature", &token, "--format", "pid"]);
    run.expect(1);
    assert!(run.pids().is_empty(), "{}", run.stdout());
    assert!(run.stderr().contains("--all-users shows it"), "{}", run.stderr());
    let run = reaper(&["list", "--signature", &token, "--all-users", "--format", "pid"]);
    run.expect(0);
    assert_eq!(run.pids(), [pid]);
    let plan = reaper(&["kill", "--signature", &token, "--all-users", "--dry-run", "--format", "pid"]);
    assert_eq!(plan.expect(0).pids(), [pid], "kill --all-users takes what list --all-users shows");
    assert!(!is_dead(pid));
}

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

// The owner rule applies to the whole plan, and to port ranges that mean "every listener".
// As root, `kill --signature X` skipped X's other-user matches but killed other-user descendants.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs processes as nobody")]
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
    let mut cmd = Command::new(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]).args([python, FIXTURE, &token, "listen", "tcp", "127.0.0.1"]);
    let (started, info) = Started::spawn_ready(&token, &mut cmd);
    (started, num(&info, "port") as u16)
}

// `--port 1-65535` named "every listener" but was exempt from the owner rule, as one port is.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs processes as nobody")]
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

// A container runtime's port proxy holding a published port (here a listener whose name and
// command line are docker-proxy's, forwarding to an address of a real netns whose process is in
// a `docker-<id>.scope` cgroup): kill names the container and `docker stop`, signals nothing
// and exits 1; named with --pid, it is signalled.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: network namespaces and containers are Linux's"
)]
fn docker_proxy_is_refused_with_the_container_named_unless_pid_names_it() {
    if !ready_to_run() {
        return;
    }
    let Some(ns) = Netns::new("proxy") else { return skip("ip netns add failed") };
    let Some(cg) = ContainerCgroup::new("proxy") else { return skip("no writable cgroup2 mount") };
    let token = token("proxy");
    let n = std::process::id();
    let ip = format!("10.213.{}.{}", (n >> 8) & 0xff, (n & 0xff).max(1));
    let script = r#"
        NS=$1; CG=$2; IP=$3
        ip -n "$NS" addr add "$IP/32" dev lo
        ip netns exec "$NS" python3 -c "$SRV" "$D/cport" "$IP" "$0" &
        c=$!; echo "$c" > "$CG"
        ready "$D/cport"
        ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$D/docker-proxy"
        "$D/docker-proxy" -c "$SRV" "$D/hport" 127.0.0.1 -proto tcp -host-ip 127.0.0.1 -host-port 0 \
            -container-ip "$IP" -container-port "$(cat "$D/cport")" "$0" &
        p=$!
        ready "$D/hport"; HP=$(cat "$D/hport")
        echo "$p" > "$D/p.pid"; check pid cat "$D/p.pid"
        r refused kill --port "$HP" --yes --format json
        r refused-text kill --port "$HP" --yes
        check alive-refused alive "$p"
        check alive-container alive "$c"
        r named kill --port "$HP" --pid "$p" --yes --format json
        check alive-named alive "$p"
    "#;
    let runs = scenario(&token, script, &[&ns.0, &cg.procs(), &ip]);
    let pid: u64 = runs.expect("pid", 0).0.trim().parse().expect("pid");
    let short = &cg.id[..12];

    let refused = runs.json("refused");
    runs.expect("refused", 1);
    assert_eq!(refused["targets"].as_array().map(Vec::len), Some(0), "{refused:#}");
    let skipped = &refused["skipped"][0];
    assert_eq!(skipped["pid"].as_u64(), Some(pid), "{refused:#}");
    assert_eq!(skipped["stop"], format!("docker stop {short}").as_str(), "{refused:#}");
    assert_eq!(skipped["flag"], format!("--pid {pid}").as_str(), "{refused:#}");
    let reason = skipped["reason"].as_str().expect("reason");
    assert!(reason.contains(&format!("docker:{short}")) && reason.contains(&ip), "{reason}");
    assert_eq!(refused["ports"][0]["state"], "held", "{refused:#}");
    let (_, err) = runs.expect("refused-text", 1);
    assert!(err.contains(&format!("skipping {pid} (docker-proxy)")) && err.contains("docker stop"), "{err}");
    runs.expect("alive-refused", 0);
    runs.expect("alive-container", 0);

    let named = runs.json("named");
    runs.expect("named", 0);
    assert_eq!(named["targets"][0]["pid"].as_u64(), Some(pid), "{named:#}");
    runs.expect("alive-named", 1);
}

// A port proxy's refusal quotes its arguments (`-container-ip`): escape sequences in them reach
// the terminal escaped, never raw. Regression: the reason was printed as the argv said, so a
// process could write to the terminal of whoever ran `reaper kill --port`.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux only: docker's port proxy runs on Linux (a python symlinked as it is named after the link there)"
)]
fn a_port_proxys_arguments_are_sanitized_in_the_refusal() {
    let tmp = TempDir::new("proxy-esc");
    let token = token("proxy-esc");
    let python = String::from_utf8(
        Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3").stdout,
    )
    .expect("path");
    let proxy = tmp.0.join("docker-proxy");
    std::os::unix::fs::symlink(python.trim(), &proxy).expect("symlink");
    let code = "import socket,sys,time\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\nprint('READY port=%d' % s.getsockname()[1], flush=True); time.sleep(600)";
    let evil = "\x1b]0;owned\x07\x1b[31mEVIL";
    let (started, info) = Started::spawn_ready(
        &token,
        Command::new(&proxy).args([
            "-c",
            code,
            &token,
            "-proto",
            "tcp",
            "-container-ip",
            evil,
            "-container-port",
            "80",
        ]),
    );
    let port = info["port"].clone();
    let run = reaper(&["kill", "--port", &port, "--yes"]);
    let err = run.expect(1).stderr();
    assert!(err.contains("docker-proxy") && err.contains("EVIL"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "raw escapes on stderr: {err:?}");
    assert!(err.contains("\\x1b"), "{err}");
    assert!(!is_dead(started.pid()));
}
