//! The adversarial suite: /proc races, hostile command lines, scale, and hostile environments
//! (not root, IPv6 disabled, a PID namespace, a low RLIMIT_NOFILE). Every process here is the
//! test's own (a unique token on its command line) and is killed and reaped in `Drop`.
//!
//! The long versions are `#[ignore]`d: `cargo test --test it -- --ignored adversarial`.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use reaper::{PortSpec, ProcessRecord, Selection, Snapshot, select};

use crate::util::*;

/// Kills every process carrying a token when dropped (for fixtures started by a shell script).
struct TokenGuard(String);

impl Drop for TokenGuard {
    fn drop(&mut self) {
        kill_token(&self.0);
    }
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(token(tag));
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `argv` (a wrapper such as `setpriv ...` or `unshare ...` followed by a command) with
/// `NO_COLOR=1` and `FIXTURE`, `REAPER`, `TOKEN` and `TMP` in the environment.
fn wrapped(argv: &[&str], token: &str, tmp: &std::path::Path) -> Run {
    let mut cmd = wrapper_cmd(argv[0]);
    cmd.args(&argv[1..]).env("FIXTURE", FIXTURE).env("TOKEN", token).env("TMP", tmp);
    run_bounded(&mut cmd, argv.join(" "))
}

/// Checks that nothing a process chose about itself reached the output raw: no escape, bell,
/// C1 control or bidi override, and no line beyond `lines`.
#[track_caller]
fn assert_printed_safely(run: &Run, lines: usize) {
    let out = run.stdout();
    for bad in ['\x1b', '\x07', '\r', '\u{9b}', '\u{202e}', '\u{0}'] {
        assert!(!out.contains(bad), "{}: raw {bad:?} in output", run.cmd);
    }
    let shown: String = out.chars().take(4000).collect();
    assert_eq!(out.lines().count(), lines, "{}: a hostile argument added lines:\n{shown}", run.cmd);
    assert!(!run.stderr().contains("panicked"), "{}: {}", run.cmd, run.stderr());
}

// ---------------------------------------------------------------------------------------------
// /proc races: processes exiting mid-scan, fds closing while read, /proc/PID vanishing.

/// Runs `select::find` (by signature, by port, and a full snapshot with records) `rounds` times
/// against a churn of short-lived children: never an error, the long-lived parent always found.
fn library_scan_under_churn(rounds: usize, churn_secs: &str) {
    let fx = Fixture::start("churn-lib", "churn", &[churn_secs]);
    let (parent, port) = (fx.pid(), fx.port());
    let by_sig = Selection::new().signature(&fx.token).expect("a valid regex");
    let by_port = Selection::new().port(PortSpec::tcp(port));
    let mut transient = BTreeSet::new();
    for round in 0..rounds {
        let mut snap = Snapshot::new();
        let m = select::find(&by_sig, &mut snap).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(m.pids.contains(&parent), "round {round}: parent {parent} missing from {:?}", m.pids);
        transient.extend(m.pids.iter().copied().filter(|&p| p != parent));

        let mut snap = Snapshot::new();
        let m = select::find(&by_port, &mut snap).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(m.pids.contains(&parent), "round {round}: port {port} holder {parent} missing: {m:?}");
        assert!(m.unresolved.is_empty(), "round {round}: {m:?}");

        // Every 10th round, a whole-system snapshot as `list --tree` takes it: every process,
        // command line, exe and fd table, and the records of our own processes.
        if round % 10 == 0 {
            let mut snap = Snapshot::new();
            snap.load_all_processes().unwrap_or_else(|e| panic!("round {round}: {e}"));
            snap.load_all_details();
            let pids: Vec<u32> = snap.processes().map(|p| p.pid).collect();
            snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true })
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            snap.find_ports_of(&pids).unwrap_or_else(|e| panic!("round {round}: {e}"));
            let ours: Vec<u32> = snap
                .processes()
                .filter(|p| p.cmdline.as_ref().is_some_and(|a| a.contains(&fx.token)))
                .map(|p| p.pid)
                .collect();
            let records: Vec<ProcessRecord> = ours.iter().filter_map(|&p| ProcessRecord::new(&mut snap, p)).collect();
            let me = records.iter().find(|r| r.pid == parent).expect("the parent's record");
            assert!(me.ports.iter().any(|p| p.local_port == port), "round {round}: {:?}", me.ports);
        }
    }
    // The test is only worth something if the churn was caught mid-flight.
    assert!(!transient.is_empty(), "no short-lived child was ever seen: the churn did not run");
}

#[test]
fn adversarial_library_scan_survives_process_churn() {
    library_scan_under_churn(50, "600");
}

#[test]
#[ignore = "long: 1000 scans against a churn"]
fn adversarial_long_library_scan_1000_rounds_under_churn() {
    library_scan_under_churn(1000, "3000");
}

/// The binary, `rounds` times per query shape, against the same kind of churn.
fn binary_list_under_churn(rounds: usize, churn_secs: &str) {
    let fx = Fixture::start("churn-bin", "churn", &[churn_secs]);
    let (parent, port) = (fx.pid(), fx.port().to_string());
    for round in 0..rounds {
        let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
        run.expect(0);
        let json = run.json();
        let rows = json.as_array().expect("a JSON array");
        assert!(rows.iter().any(|r| r["pid"] == parent), "round {round}: {}", run.stdout());

        assert!(run.stderr().is_empty(), "round {round}: {}: {}", run.cmd, run.stderr());
        let run = reaper(&["list", "--port", &format!("tcp:{port}"), "--format", "pid"]);
        run.expect(0);
        assert!(run.pids().contains(&parent), "round {round}: {}", run.stdout());

        let tree = reaper(&["list", "--signature", &fx.token, "--tree"]);
        tree.expect(0);
        assert!(tree.stdout().contains(&format!("* {parent} ")), "round {round}: {}", tree.stdout());
        for r in [&run, &tree] {
            assert!(r.stderr().is_empty(), "round {round}: {}: {}", r.cmd, r.stderr());
        }
    }
}

#[test]
fn adversarial_binary_list_survives_process_churn() {
    binary_list_under_churn(10, "600");
}

#[test]
#[ignore = "long: 200 rounds of the binary against a churn"]
fn adversarial_long_binary_list_200_rounds_under_churn() {
    binary_list_under_churn(200, "3000");
}

// ---------------------------------------------------------------------------------------------
// Hostile command lines.

#[test]
fn adversarial_escape_sequences_and_newlines_are_printed_escaped() {
    let hostile: Vec<OsString> = [
        &b"\x1b[2J"[..],
        b"\x1b]0;title\x07",
        b"line1\nline2",
        b"cr\rhere",
        b"\xc2\x9b31m",      // C1 CSI, as UTF-8
        b"\xe2\x80\xaeevil", // right-to-left override
        b"bad\xff\xfeend",   // invalid UTF-8
    ]
    .iter()
    .map(|b| OsString::from_vec(b.to_vec()))
    .collect();
    let fx = Fixture::start_with("hostile", "idle", &hostile, DEADLINE);
    let pid = fx.pid();

    // Table: a header and one row, all controls escaped.
    let run = reaper(&["list", "--signature", &fx.token]);
    run.expect(0);
    assert_printed_safely(&run, 2);
    let row = run.stdout().lines().nth(1).expect("a row").to_string();
    for shown in [
        "\\x1b[2J",
        "\\x1b]0;title\\x07",
        "line1\\nline2",
        "cr\\rhere",
        "\\x9b31m",
        "\\u{202e}evil",
        "bad\u{fffd}\u{fffd}end",
    ] {
        assert!(row.contains(shown), "{shown:?} not in {row:?}");
    }

    // Tree views: one line per process.
    let run = reaper(&["list", "--signature", &fx.token, "--tree"]);
    run.expect(0);
    let lines = run.stdout().lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(run.stdout().lines().filter(|l| l.contains(&fx.token)).count(), 1, "{}", run.stdout());
    let run = reaper(&["tree", &pid.to_string()]);
    run.expect(0);
    let lines = run.stdout().lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(run.stdout().lines().filter(|l| l.contains(&fx.token)).count(), 1, "{}", run.stdout());

    // JSON: valid, no raw control byte, and the arguments are exactly what the process has
    // (invalid UTF-8 replaced by U+FFFD).
    let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
    run.expect(0);
    assert!(!run.out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'), "raw control byte in JSON");
    let json = run.json();
    let args: Vec<String> = json[0]["cmdline"]
        .as_array()
        .expect("cmdline")
        .iter()
        .map(|a| a.as_str().expect("a string").to_string())
        .collect();
    let want: Vec<String> = hostile.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    assert_eq!(&args[args.len() - want.len()..], &want[..]);

    // Matching is over the arguments joined by single spaces, controls and all.
    let joined = format!(
        "{} idle \\x1b\\[2J \\x1b\\]0;title\\x07 line1\\nline2 cr\\rhere \\x{{9b}}31m \\x{{202e}}evil bad\\x{{fffd}}\\x{{fffd}}end$",
        fx.token
    );
    assert_eq!(reaper(&["list", "--signature", &joined, "--format", "pid"]).expect(0).pids(), vec![pid]);
    // A pattern cannot match across the boundary in a way the joined form does not have.
    let wrong = format!("{} idle \\x1b\\[2J\\x1b", fx.token);
    reaper(&["list", "--signature", &wrong, "--format", "pid"]).expect(1);
}

#[test]
fn adversarial_100kb_argument_list_is_read_whole() {
    let big = "x".repeat(100_000);
    let mut args: Vec<OsString> = vec![OsString::from(&big)];
    args.extend((0..1000).map(|i| OsString::from(format!("{i:0>99}"))));
    args.push(OsString::from("END-OF-ARGS"));
    let fx = Fixture::start_with("bigargv", "idle", &args, DEADLINE);
    let pid = fx.pid();
    // The last argument is still matched: nothing was truncated at a page or buffer size.
    let sig = format!("{} idle x{{100000}} .* END-OF-ARGS$", fx.token);
    assert_eq!(reaper(&["list", "--signature", &sig, "--format", "pid"]).expect(0).pids(), vec![pid]);
    let run = reaper(&["list", "--signature", &fx.token, "--format", "json"]);
    run.expect(0);
    let cmdline = run.json()[0]["cmdline"].as_array().expect("cmdline").clone();
    assert_eq!(cmdline.len(), 4 + args.len());
    assert_eq!(cmdline[4].as_str().map(str::len), Some(100_000));
    assert_eq!(cmdline.last().and_then(|a| a.as_str()), Some("END-OF-ARGS"));
    // The table holds it all. (comfy-table measures cells in u16, so a 200 KB cell is folded
    // onto continuation lines: one row, several lines, nothing lost.)
    let run = reaper(&["list", "--signature", &fx.token]);
    run.expect(0);
    let out = run.stdout();
    let lines = out.lines().count();
    assert_printed_safely(&run, lines);
    assert_eq!(out.lines().filter(|l| l.trim_start().starts_with(&pid.to_string())).count(), 1);
    assert!(out.lines().skip(2).all(|l| l.starts_with(&" ".repeat(10))), "continuation lines only after the row");
    let folded: usize = out.lines().skip(1).map(|l| l.trim().len()).sum();
    assert!(folded > 200_000, "table output was cut: {folded} bytes");
}

#[test]
fn adversarial_process_posing_as_sshd_is_matched_as_documented() {
    // argv[0] and comm both say `sshd`; only /proc/PID/exe says python.
    let fx = Fixture::start("mimic", "mimic", &["sshd"]);
    let pid = fx.pid();
    // --name matches comm, argv[0]'s basename or the exe's basename: `sshd` matches.
    assert_eq!(
        reaper(&["list", "--name", "sshd", "--signature", &fx.token, "--format", "pid"]).expect(0).pids(),
        vec![pid]
    );
    // --exe looks at the real executable only: the pose does not fool it.
    reaper(&["list", "--exe", "sshd", "--signature", &fx.token, "--format", "pid"]).expect(1);
    assert_eq!(
        reaper(&["list", "--exe", "python3*", "--signature", &fx.token, "--format", "pid"]).expect(0).pids(),
        vec![pid]
    );
    // The JSON shows both the claim and the truth.
    let json = reaper(&["list", "--signature", &fx.token, "--format", "json"]).expect(0).json();
    assert_eq!(json[0]["name"], "sshd");
    assert_eq!(json[0]["cmdline"][0], "sshd");
    let exe = json[0]["exe"].as_str().expect("exe is readable as root");
    let base = std::path::Path::new(exe).file_name().and_then(OsStr::to_str).unwrap_or_default();
    assert!(base.starts_with("python"), "exe {exe}");
}

// ---------------------------------------------------------------------------------------------
// Environments.

fn setpriv_nobody(args: &[&str]) -> Vec<String> {
    ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", REAPER]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn adversarial_not_root_reports_unresolved_holder_with_its_uid() {
    let fx = Fixture::start("notroot", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let tmp = TempDir::new("notroot");
    let argv = setpriv_nobody(&["list", "--port", &port]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let run = wrapped(&argv, &fx.token, &tmp.0);
    run.expect(0);
    // Regression (issue 10): the held port printed nothing on stdout, as if it were free.
    let row = run.stdout().lines().find(|l| l.contains(&format!("127.0.0.1:{port}"))).map(str::to_string);
    let row = row.unwrap_or_else(|| panic!("no row for the held port:\n{}", run.stdout()));
    assert!(
        row.trim_start().starts_with('-')
            && row.contains("root")
            && row.contains(&format!("sudo reaper list --port {port}")),
        "{row}"
    );
    assert!(!row.contains(&fx.pid().to_string()), "the holder's pid is not visible to nobody: {row}");
    // The row says it; stderr does not say it again.
    let err = run.stderr();
    assert!(err.is_empty(), "{err}");

    // JSON: the held port is an entry of its own, with pid null and the owner from the socket
    // table (regression, issue 10: it was `[]`, what a free port prints).
    let argv = setpriv_nobody(&["list", "--port", &port, "--format", "json"]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let run = wrapped(&argv, &fx.token, &tmp.0);
    run.expect(0);
    let json = run.json();
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{json:#}");
    assert_eq!(rows[0]["pid"], serde_json::Value::Null, "{json:#}");
    assert_eq!(rows[0]["uid"], 0);
    assert_eq!(rows[0]["visible"], false);
    assert!(rows[0]["hint"].as_str().is_some_and(|h| h.contains("run sudo reaper list")), "{json:#}");
    assert_eq!(rows[0]["ports"][0]["local_port"].as_u64(), Some(u64::from(fx.port())));
    // And `--format pid` prints no pid for it: there is none to print.
    let argv = setpriv_nobody(&["list", "--port", &port, "--format", "pid"]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    assert_eq!(wrapped(&argv, &fx.token, &tmp.0).expect(0).stdout(), "");

    // By signature the process is visible (cmdline is world-readable); its exe is not. It is
    // root's: a broad selector shows it with --all-users, as kill would take it.
    let argv = setpriv_nobody(&["list", "--signature", &fx.token, "--all-users", "--format", "json"]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let run = wrapped(&argv, &fx.token, &tmp.0);
    run.expect(0);
    let json = run.json();
    assert_eq!(json[0]["pid"], fx.pid());
    assert_eq!(json[0]["uid"], 0);
    assert_eq!(json[0]["exe"], serde_json::Value::Null);
    // `tree` of a root process works too.
    let argv = setpriv_nobody(&["tree", &fx.pid().to_string()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    wrapped(&argv, &fx.token, &tmp.0).expect(0);
}

#[test]
fn adversarial_root_in_pid_namespace_does_not_advise_running_as_root() {
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

#[test]
fn adversarial_ipv6_disabled_network_namespace() {
    // A fresh network namespace with IPv6 switched off: only an IPv4 listener exists there.
    let token = token("noipv6");
    let _guard = TokenGuard(token.clone());
    let tmp = TempDir::new("noipv6");
    let script = r#"
        set -e
        ip link set lo up
        sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        sysctl -qw net.ipv6.conf.default.disable_ipv6=1
        sysctl -qw net.ipv6.conf.lo.disable_ipv6=1
        echo "ipv6-disabled=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6)"
        mkfifo "$TMP/ready"
        python3 "$FIXTURE" "$TOKEN" listen tcp 127.0.0.1 > "$TMP/ready" &
        read -r line < "$TMP/ready"
        port=${line##*port=}
        echo "port=$port"
        echo "--- by port"
        "$REAPER" list --port "$port" --format json
        echo "--- everything"
        "$REAPER" list --format pid
        echo "--- udp"
        set +e
        "$REAPER" list --port udp:1-65535 --format pid
        echo "udp-exit=$?"
        kill $!
    "#;
    let run = wrapped(&["unshare", "--net", "sh", "-c", script], &token, &tmp.0);
    run.expect(0);
    let out = run.stdout();
    assert!(out.contains("ipv6-disabled=1"), "{out}");
    assert!(!run.stderr().contains("reaper:"), "{}", run.stderr());
    let (_, rest) = out.split_once("--- by port\n").expect("by port section");
    let (json, rest) = rest.split_once("--- everything\n").expect("everything section");
    let json: serde_json::Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    assert!(json[0]["cmdline"].as_array().expect("cmdline").iter().any(|a| *a == token.as_str()));
    let (all, rest) = rest.split_once("--- udp\n").expect("udp section");
    assert_eq!(all.lines().count(), 1, "only the fixture listens in this namespace: {all}");
    assert_eq!(all.trim(), json[0]["pid"].to_string());
    // No UDP socket at all in the namespace: nothing matched (exit 1), and no error.
    assert_eq!(rest.trim(), "udp-exit=1", "{rest}");
}

#[test]
fn adversarial_inside_a_pid_namespace_reports_namespace_pids() {
    let token = token("pidns");
    let _guard = TokenGuard(token.clone());
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

/// `many N` under RLIMIT_NOFILE 256 (soft and hard, so it cannot be raised): list, tree and a
/// port query all work and see all N + 1 processes.
fn many_processes_under_low_nofile(n: usize) {
    let args = [OsString::from(n.to_string()), OsString::from("900")];
    let fx = Fixture::start_with("many", "many", &args, std::time::Duration::from_secs(300));
    let parent = fx.pid();
    wait_for("every child to exist", || fx.live_pids().len() > n);
    let tmp = TempDir::new("nofile");
    let limit = ["prlimit", "--nofile=256:256", REAPER];
    let argv = |extra: &[&str]| -> Vec<String> { limit.iter().chain(extra).map(|s| s.to_string()).collect() };
    let run_with = |extra: &[&str]| {
        let v = argv(extra);
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        wrapped(&v, &fx.token, &tmp.0)
    };

    let run = run_with(&["list", "--signature", &fx.token, "--format", "pid"]);
    run.expect(0);
    assert_eq!(run.pids().len(), n + 1, "{}", run.stderr());

    let run = run_with(&["list", "--signature", &fx.token, "--format", "json"]);
    run.expect(0);
    let json = run.json();
    let root = json.as_array().expect("array").iter().find(|r| r["pid"] == parent).expect("parent record");
    assert_eq!(root["children"].as_array().map(Vec::len), Some(n));

    let run = run_with(&["tree", &parent.to_string()]);
    run.expect(0);
    assert_eq!(run.stdout().lines().filter(|l| l.contains(&fx.token)).count(), n + 1);

    // A port query scans every fd table on the machine, one directory at a time.
    let l = Fixture::start("many-port", "listen", &["tcp", "127.0.0.1"]);
    let run = run_with(&["list", "--port", &l.port().to_string(), "--format", "pid"]);
    run.expect(0);
    assert_eq!(run.pids(), vec![l.pid()]);
}

#[test]
fn adversarial_500_processes_listed_under_nofile_256() {
    many_processes_under_low_nofile(500);
}

#[test]
#[ignore = "long: 2000 processes"]
fn adversarial_long_2000_processes_listed_under_nofile_256() {
    many_processes_under_low_nofile(2000);
}

#[test]
#[ignore = "long: 5000 processes"]
fn adversarial_long_5000_process_machine() {
    many_processes_under_low_nofile(5000);
}

// ---------------------------------------------------------------------------------------------
// What reaper never does.

#[test]
fn adversarial_never_shells_out_to_process_tools() {
    // A PATH where lsof, ps, ss, kill & co. only leave a mark: reaper must not run any of them.
    let fx = Fixture::start("noshell", "listen", &["tcp", "127.0.0.1"]);
    let tmp = TempDir::new("noshell");
    let bin = tmp.0.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let tools = ["lsof", "ps", "ss", "netstat", "fuser", "kill", "pkill", "pgrep", "killall", "sh", "bash", "python3"];
    for tool in tools {
        let path = bin.join(tool);
        let script = format!("#!/bin/sh\necho {tool} >> '{}/ran'\nexit 1\n", tmp.0.display());
        std::fs::write(&path, script).expect("a fake tool");
        let mut perm = std::fs::metadata(&path).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&path, perm).expect("chmod");
    }
    let port = fx.port().to_string();
    let pid = fx.pid().to_string();
    let runs: [&[&str]; 7] = [
        &["list", "--port", &port, "--format", "json"],
        &["list"],
        &["list", "--signature", &fx.token, "--tree"],
        &["list", "--pid", &pid, "--format", "json"],
        &["tree", &pid],
        &["why", "--port", &port],
        &["why", "--pid", &pid, "--format", "json"],
    ];
    for args in runs {
        let mut cmd = reaper_cmd();
        cmd.args(args).env("PATH", &bin);
        let out = run_bounded(&mut cmd, format!("reaper {args:?}")).out;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&pid), "{args:?} did not find {pid}");
    }
    let ran = std::fs::read_to_string(tmp.0.join("ran")).unwrap_or_default();
    assert_eq!(ran, "", "reaper ran external tools");
}

#[test]
fn adversarial_fd_link_targets_are_read_as_text_never_opened() {
    // The fixture holds a FIFO open for reading with no writer. Opening /proc/PID/fd/N (rather
    // than reading the link) would block forever; `timeout` turns that into exit 124 (the limit
    // is generous: a debug build on a loaded machine with thousands of processes is slow).
    let tmp = TempDir::new("fifo");
    let fifo = tmp.0.join("trap");
    let fx = Fixture::start_with("fifo", "fifo", &[fifo.clone().into_os_string()], DEADLINE);
    let fd = fx.get("fd");
    assert_eq!(std::fs::read_link(format!("/proc/{}/fd/{fd}", fx.pid())).expect("the fd link"), fifo);
    let port = fx.port().to_string();
    let pid = fx.pid().to_string();
    for args in [
        vec!["timeout", "120", REAPER, "list", "--port", &port, "--format", "pid"],
        vec!["timeout", "120", REAPER, "list", "--format", "pid"],
        vec!["timeout", "120", REAPER, "list", "--signature", &fx.token, "--format", "json"],
        vec!["timeout", "120", REAPER, "tree", &pid],
    ] {
        let run = wrapped(&args, &fx.token, &tmp.0);
        run.expect(0);
    }
    let run = wrapped(&["timeout", "120", REAPER, "list", "--port", &port, "--format", "pid"], &fx.token, &tmp.0);
    assert_eq!(run.pids(), vec![fx.pid()]);
}
