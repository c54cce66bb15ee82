//! reaper and PID namespaces: inside one it reports the namespace's pids; a holder outside it is
//! said to be in another namespace; a namespace's init that drops SIGTERM is killed at once.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID namespaces (unshare)")]
fn inside_a_pid_namespace_reports_namespace_pids() {
    let token = token("pidns");
    let _guard = TokenReaper(token.clone());
    let tmp = TempDir::new("pidns");
    let script = r#"
        set -e
        mkfifo "$TMP/ready"
        python3 "$FIXTURE" "$TOKEN" tree 3 > "$TMP/ready" &
        read -r line < "$TMP/ready"
        echo "$line"
        port=${line##*port=}
        echo "--- by port"
        "$REAPER" list --port "$port" --format json
        echo "--- by signature"
        "$REAPER" list --signature "$TOKEN" --format pid
        echo "--- tree 1"
        "$REAPER" tree 1 --format json
        echo "--- orphans"
        "$REAPER" list --orphans --signature "$TOKEN" --format pid
    "#;
    let run = wrapped(&["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script], &token, &tmp.0);
    run.expect(0);
    let out = run.stdout();
    let ready = out.lines().next().expect("READY line");
    let chain: Vec<u32> = ready
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("pids="))
        .expect("pids=")
        .split(',')
        .map(|p| p.parse().expect("a pid"))
        .collect();
    assert_eq!(chain.len(), 3);
    // Namespace pids are small: sh is 1, the fixture chain comes right after.
    assert!(chain.iter().all(|&p| p < 100), "{chain:?} are not namespace pids");
    let (_, rest) = out.split_once("--- by port\n").expect("by port");
    let (json, rest) = rest.split_once("--- by signature\n").expect("by signature");
    let json: serde_json::Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(json[0]["pid"], chain[2], "{json}");
    assert_eq!(json[0]["ppid"], chain[1], "{json}");
    let (sig, rest) = rest.split_once("--- tree 1\n").expect("tree 1");
    let sig: Vec<u32> = sig.lines().map(|l| l.trim().parse().expect("a pid")).collect();
    assert_eq!(sig, chain);
    let (tree, orphans) = rest.split_once("--- orphans\n").expect("orphans");
    let tree: serde_json::Value = serde_json::from_str(tree).expect("JSON");
    let pids: Vec<u64> = tree.as_array().expect("array").iter().filter_map(|r| r["pid"].as_u64()).collect();
    assert!(pids.contains(&1), "PID 1 of the namespace is sh: {tree}");
    for p in &chain {
        assert!(pids.contains(&u64::from(*p)), "{p} missing from tree 1: {pids:?}");
    }
    // The orphan rule is "the parent is PID 1 of reaper's namespace": here that is the chain's
    // head (a child of the namespace's sh), and only it.
    let orphans: Vec<u32> = orphans.lines().map(|l| l.trim().parse().expect("a pid")).collect();
    assert_eq!(orphans, vec![chain[0]]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: PID namespaces (unshare)")]
fn root_in_pid_namespace_does_not_advise_running_as_root() {
    // Regression: as root, a holder outside reaper's PID namespace was reported with "run as
    // root to see it", which cannot help.
    let fx = Fixture::start("pidns-outside", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let tmp = TempDir::new("pidns-outside");
    let run =
        wrapped(&["unshare", "--pid", "--fork", "--mount-proc", REAPER, "list", "--port", &port], &fx.token, &tmp.0);
    run.expect(0);
    // The row of the holder says it (once: not again on stderr).
    let out = run.stdout();
    let row = out.lines().find(|l| l.contains(&format!("127.0.0.1:{port}"))).unwrap_or_else(|| panic!("{out}"));
    assert!(!row.contains("run as root") && !row.contains("sudo"), "{row}");
    assert!(row.contains("another PID namespace"), "{row}");
    assert!(run.stderr().is_empty(), "{}", run.stderr());
}

// Regression: the init of a PID namespace without a SIGTERM handler never
// receives SIGTERM (the kernel drops it); reaper waited the whole timeout and said nothing.
#[test]
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: no PID namespaces")]
fn namespace_init_without_term_handler_is_killed_at_once_and_told() {
    let token = token("nsinit");
    let (guard, line) = Started::spawn_saying(
        &token,
        Command::new("unshare").args(["--pid", "--fork", "python3", FIXTURE, &token, "idle"]).stderr(Stdio::null()),
    );
    assert!(line.starts_with("READY pid=1"), "the fixture is PID 1 of its namespace: {line}");
    // Its host pid: the process with the token whose NSpid ends in 1.
    let pid = pids_with_token(&token)
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .is_ok_and(|s| s.lines().any(|l| l.starts_with("NSpid:") && l.ends_with("\t1")))
        })
        .expect("the namespace's init on the host");
    // The plan says so.
    let plan = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--dry-run", "--format", "json"]);
    let json = plan.expect(0).json();
    let note = target(&json, pid)["note"].as_str().unwrap_or_default().to_string();
    assert!(note.contains("drops SIGTERM") && note.contains("SIGKILL would be sent at once"), "{json:#}");
    let started = Instant::now();
    let run = reaper(&["kill", "--pid", &pid.to_string(), "--timeout", "10s", "--format", "json"]);
    let took = started.elapsed();
    run.expect(0);
    let json = run.json();
    let t = target(&json, pid);
    assert_eq!(t["outcome"], "killed", "{json:#}");
    assert_eq!(t["signals"], serde_json::json!(["SIGKILL"]), "{json:#}");
    let note = t["note"].as_str().unwrap_or_default();
    assert!(note.contains(&format!("pid {pid} is the init of its own PID namespace")), "{json:#}");
    assert!(note.contains("SIGTERM"), "{note}");
    assert!(took < Duration::from_secs(5), "waited {took:?} for a signal the kernel drops");
    assert!(is_dead(pid));
    drop(guard);
}
