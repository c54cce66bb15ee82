//! reaper run by a user who is not root, against root's processes: a port it cannot resolve is
//! shown with its owner and one sentence saying `sudo`, never taken for free.

use crate::util::*;

fn setpriv_nobody(args: &[&str]) -> Vec<String> {
    AS_NOBODY.iter().chain(&[REAPER]).chain(args).map(|s| s.to_string()).collect()
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs reaper as nobody")]
fn not_root_reports_unresolved_holder_with_its_uid() {
    let fx = Fixture::start("notroot", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let tmp = TempDir::new("notroot");
    let argv = setpriv_nobody(&["list", "--port", &port]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let run = wrapped(&argv, &fx.token, &tmp.0);
    run.expect(0);
    // Regression: the held port printed nothing on stdout, as if it were free.
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
    // table (regression: it was `[]`, what a free port prints).
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
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs reaper as nobody")]
fn not_root_against_roots_processes_gets_one_sentence_saying_sudo() {
    if !have("setpriv") {
        return;
    }
    let fx = Fixture::start("notroot", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    // list: the row says it; stderr does not say it again.
    let run = reaper_as_nobody(&["list", &port]);
    run.expect(0);
    assert!(run.stdout().contains(&format!("sudo reaper list {port}")), "{}", run.stdout());
    assert!(run.stderr().is_empty(), "said twice:\n{}", run.stderr());
    // kill --port: one line, what to run; no "nothing matched", no port lines repeating it.
    let run = reaper_as_nobody(&["kill", "--port", &port, "--yes"]);
    run.expect(1);
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    let lines: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&format!("run sudo reaper kill --port {port} --yes")), "{lines:?}");
    // A broad selector: one sentence for all of root's matches, not --all-users alone.
    let run = reaper_as_nobody(&["kill", "--signature", &fx.token, "--yes"]);
    let lines: Vec<String> = run.stderr().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("only root can signal it: run sudo reaper kill --signature"), "{lines:?}");
    assert!(lines[0].ends_with("--all-users"), "{lines:?}");
    assert_eq!(fx.live_pids(), [fx.pid()], "nothing was signalled");
}
