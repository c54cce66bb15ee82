//! The person at the terminal: colour follows `--color` and `NO_COLOR`, a closed pipe ends output
//! quietly, command lines cannot smuggle escape sequences onto the terminal, tables fit the
//! width, and the small messages, usage errors and exit codes (also with an unwritable stdout or
//! a full stderr).

use std::process::Stdio;

use crate::util::*;

const ESC: char = '\x1b';

/// Runs reaper with `args` and the environment changes in `env` (`None` removes the variable),
/// stdout a pipe.
fn reaper_env(args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut cmd = reaper_cmd();
    cmd.args(args).env_remove("NO_COLOR");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    run_bounded(&mut cmd, format!("{env:?} reaper {}", args.join(" ")))
}

/// Runs reaper with stdout on a pseudo-terminal (through util-linux `script`), or `None` when
/// `script` is missing (a failure under `CI=true`).
fn reaper_on_tty(args: &[&str], no_color: Option<&str>) -> Option<Run> {
    if !have("script") {
        return None;
    }
    let script = "script";
    let line =
        std::iter::once(REAPER.to_string()).chain(args.iter().map(|a| format!("'{a}'"))).collect::<Vec<_>>().join(" ");
    let mut cmd = wrapper_cmd(script);
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"]).env("COLUMNS", "200");
    match no_color {
        Some(v) => cmd.env("NO_COLOR", v),
        None => cmd.env_remove("NO_COLOR"),
    };
    Some(run_bounded(&mut cmd, format!("NO_COLOR={no_color:?} script -c {line}")))
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn list_colour_follows_the_flag_and_no_color() {
    let fx = Fixture::start("color", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let args = |color: &'static str| ["list", "--port", &port, "--color", color].map(str::to_string);
    let run = |color: &'static str, env: &[(&str, Option<&str>)]| {
        let a = args(color);
        reaper_env(&a.iter().map(String::as_str).collect::<Vec<_>>(), env)
    };

    // --color always: the header is bold, the rows are plain text.
    let always = run("always", &[]);
    let out = always.expect(0).stdout();
    let header = out.lines().next().expect("a header");
    assert!(header.starts_with("\x1b[1m") && header.ends_with("\x1b[0m") && header.contains("PID"), "{out:?}");
    let row = out.lines().find(|l| l.contains(&fx.token)).expect("the fixture's row");
    assert!(!row.contains(ESC), "{row:?}");
    // --tree: the match's `* PID` is bold, the rest of the tree plain.
    let tree = reaper_env(&["list", "--port", &port, "--tree", "--color", "always"], &[]).expect(0).stdout();
    let line = tree.lines().find(|l| l.contains(&fx.token)).expect("the fixture in the tree");
    assert!(line.contains(&format!("\x1b[1m* {}\x1b[0m ", fx.pid())), "{line:?}");
    assert_eq!(tree.matches(ESC).count(), 2, "{tree:?}");
    let plain = reaper_env(&["list", "--port", &port, "--tree", "--color", "never"], &[]).expect(0).stdout();
    assert!(plain.contains(&format!("* {} ", fx.pid())) && !plain.contains(ESC), "{plain:?}");

    // Machine formats never carry escapes, whatever --color says.
    for format in ["json", "pid"] {
        let out =
            reaper_env(&["list", "--port", &port, "--color", "always", "--format", format], &[]).expect(0).stdout();
        assert!(!out.contains(ESC), "--format {format}: {out:?}");
    }
    // An explicit --color always wins over NO_COLOR.
    assert!(run("always", &[("NO_COLOR", Some("1"))]).expect(0).stdout().contains(ESC));

    // --color never, and auto on a pipe: no escape at all.
    assert!(!run("never", &[]).expect(0).stdout().contains(ESC));
    let auto_pipe = run("auto", &[]);
    assert!(!auto_pipe.expect(0).stdout().contains(ESC), "auto on a pipe coloured: {:?}", auto_pipe.stdout());
    // The same header, escapes aside (column widths may differ: the AGE cell grows meanwhile).
    let plain = auto_pipe.stdout();
    let words = |h: &str| h.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        words(&header.replace("\x1b[1m", "").replace("\x1b[0m", "")),
        words(plain.lines().next().expect("a header"))
    );

    // auto on a terminal: colour unless NO_COLOR is set to something non-empty.
    let auto = ["list", "--port", &port];
    let Some(tty) = reaper_on_tty(&auto, None) else {
        return;
    };
    assert!(tty.expect(0).stdout().contains("\x1b[1m"), "{}: {:?}", tty.cmd, tty.stdout());
    let tty = reaper_on_tty(&auto, Some("")).expect("script");
    assert!(
        tty.expect(0).stdout().contains("\x1b[1m"),
        "an empty NO_COLOR does not disable colour: {:?}",
        tty.stdout()
    );
    let tty = reaper_on_tty(&auto, Some("1")).expect("script");
    let text = tty.expect(0).stdout();
    assert!(!text.contains("\x1b[1m"), "NO_COLOR=1 on a terminal: {text:?}");
    // Regression: `script` gives a terminal of 0 columns, and the table wrapped every cell to one
    // character per line. A terminal without a width gets the unwrapped table.
    let row = text.lines().find(|l| l.contains(&fx.token)).unwrap_or_else(|| panic!("no row with the token: {text:?}"));
    assert!(row.contains(&format!("tcp 127.0.0.1:{port}")), "{row:?}");
}

#[test]
fn closed_pipe_exits_quietly() {
    // `reaper list | head -1` where head has already gone: every write fails with EPIPE.
    let fx = Fixture::start("pipe", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    for format in ["table", "json", "pid"] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut cmd = reaper_cmd();
        cmd.args(["list", "--port", &port, "--format", format]);
        let out = run_bounded_to(&mut cmd, format!("reaper list --format {format} > closed pipe"), writer.into()).out;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "--format {format}: a closed pipe printed {stderr:?}");
        assert_eq!(out.status.code(), Some(0), "--format {format}: {stderr}");
    }
}

#[test]
fn list_piped_into_head_exits_quietly() {
    // The shell form. A 120 kB argument makes the table row bigger than a pipe buffer, so
    // reaper is still writing when `head -1` has its line and exits.
    let long = "x".repeat(120_000);
    let fx = Fixture::start("head", "listen", &["tcp", "127.0.0.1", "0", &long]);
    for format in ["table", "json"] {
        let script = format!(
            "set -o pipefail; '{bin}' list --port {port} --format {format} | head -1",
            bin = REAPER,
            port = fx.port()
        );
        let out = run_bounded(wrapper_cmd("bash").args(["-c", &script]), script.clone()).out;
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stderr.is_empty(), "{script}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{script}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
    }
}

#[test]
fn escape_sequences_in_command_lines_are_shown_escaped() {
    // Anyone can put terminal escapes in argv; they must not reach the terminal raw.
    let evil = "\x1b[2J\x1b]0;owned\x07line1\nline2\u{202e}";
    let fx = Fixture::start("evil", "listen", &["tcp", "127.0.0.1", "0", evil]);
    let port = fx.port().to_string();
    for extra in [&[][..], &["--tree"][..]] {
        let mut args = vec!["list", "--port", &port, "--color", "always"];
        args.extend_from_slice(extra);
        let out = reaper(&args).expect(0).stdout();
        let shown: String = out.replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert!(!shown.contains(ESC) && !shown.contains('\x07') && !shown.contains('\u{202e}'), "{args:?}: {out:?}");
        assert!(shown.contains(r"\x1b[2J\x1b]0;owned\x07line1\nline2\u{202e}"), "{args:?}: {shown}");
    }
    // JSON keeps the argument exactly (serde escapes it).
    let json = reaper(&["list", "--port", &port, "--format", "json"]).expect(0).json();
    assert!(json[0]["cmdline"].as_array().expect("cmdline").iter().any(|a| a == evil), "{json}");
}

/// Runs reaper on a pseudo-terminal that reports no width (`script`'s, without a terminal of
/// its own), `COLUMNS` set to `columns`; `None` when `script` is missing.
fn reaper_on_unsized_tty(args: &[&str], columns: &str) -> Option<Run> {
    if !have("script") {
        return None;
    }
    let line =
        std::iter::once(REAPER.to_string()).chain(args.iter().map(|a| format!("'{a}'"))).collect::<Vec<_>>().join(" ");
    let mut cmd = wrapper_cmd("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"]).env("COLUMNS", columns);
    Some(run_bounded(&mut cmd, format!("COLUMNS={columns} script -c {line}")))
}

// Regression: on a terminal of width 0 `--tree` ignored COLUMNS, and at 60 columns its lines
// overflowed, the port wrapping onto a line of its own.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn tree_and_table_fit_columns_on_an_unsized_terminal() {
    let fx = Fixture::start("columns-with-a-long-command-line", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let Some(run) = reaper_on_unsized_tty(&["list", "--port", &port, "--tree"], "60") else {
        return;
    };
    let text = run.expect(0).stdout();
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 2, "{text}");
    for line in &lines {
        assert!(line.chars().count() <= 60, "{} columns: {line:?}\n{text}", line.chars().count());
    }
    let holder = lines.iter().find(|l| l.contains(&format!("* {}", fx.pid()))).expect("the holder's line");
    assert!(holder.contains(&port), "the port is on the holder's line: {holder:?}\n{text}");
    // The table wraps to COLUMNS too (its rows are the command line's pieces).
    let table = reaper_on_unsized_tty(&["list", "--port", &port], "60").expect("script").expect(0).stdout();
    for line in table.lines().map(|l| l.trim_end_matches('\r')) {
        assert!(line.chars().count() <= 60, "{line:?}\n{table}");
    }
}

// At 50 columns the table split addresses mid-token (`tcp 127.0.0` / `.1:38060`) and cut the
// command line into 10-character chunks: columns go first, and values are split at spaces.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn a_narrow_table_drops_columns_before_splitting_a_value() {
    let fx = Fixture::start("narrow", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let Some(run) = reaper_on_unsized_tty(&["list", "--port", &port, "--color", "never"], "50") else {
        return;
    };
    let text = run.expect(0).stdout();
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).collect();
    for line in &lines {
        assert!(line.chars().count() <= 50, "{line:?}\n{text}");
    }
    assert!(!lines[0].contains("PPID"), "PPID goes before a value is split: {text}");
    assert!(
        lines.iter().any(|l| l.contains(&format!("127.0.0.1:{port}")) || l.contains(&format!("tcp:{port}"))),
        "the port whole on one line:\n{text}"
    );
    assert!(lines.iter().any(|l| l.contains(&fx.token)), "the token whole on one line:\n{text}");
    assert!(lines.iter().any(|l| l.contains("fixture.py")), "the script's name whole:\n{text}");
}

// `wait` showed nothing on a terminal during a long wait, where `kill` shows who is left.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: util-linux script(1) gives reaper a terminal")]
fn wait_shows_progress_on_a_terminal_only() {
    let sleeper = Spawned(std::process::Command::new("sleep").arg("600").spawn().expect("sleep"));
    let pid = sleeper.pid().to_string();
    let Some(run) = reaper_on_unsized_tty(&["wait", "--pid", &pid, "--timeout", "1500ms"], "80") else {
        return;
    };
    let text = run.expect(1).stdout();
    assert!(text.contains(&format!("waiting for pid {pid} to exit: ")) && text.contains("s left"), "{text:?}");
    assert!(text.contains(&format!("pid {pid} is still running after")), "{text:?}");
    let quiet = reaper_on_unsized_tty(&["wait", "-q", "--pid", &pid, "--timeout", "600ms"], "80").expect("script");
    assert_eq!(quiet.expect(1).stdout(), "", "-q shows nothing");
    let piped = reaper(&["wait", "--pid", &pid, "--timeout", "600ms"]);
    assert!(!piped.expect(1).stderr().contains("waiting for"), "not a terminal: {}", piped.stderr());
}

// clap's usage errors came in clap's own format (`error: ...`, blank lines, a tip paragraph)
// while the docs promise one line `reaper: ...`.
#[test]
fn usage_errors_are_one_reaper_line_and_the_usage() {
    for (args, named) in [
        (vec!["list", "--older-than", "-1s"], "--older-than"),
        (vec!["kill", "--sequence", "KILL,TERM", "--pid", "1"], "KILL,TERM"),
        (vec!["kill", "--dryrun"], "--dry-run"),
        (vec!["list", "--port", "no-such-service-reaper"], "no-such-service-reaper"),
        (vec!["wait", "--port", "5700"], "--free"),
        (vec!["frobnicate"], "frobnicate"),
    ] {
        let run = reaper(&args);
        run.expect(2);
        let err = run.stderr();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].starts_with("reaper: ") && lines[0].contains(named), "{args:?}: {err}");
        assert!(!err.contains("error:") && !err.contains("For more information"), "{args:?}: {err}");
        let sub =
            if args[0] == "frobnicate" { "reaper --help".to_string() } else { format!("reaper {} --help", args[0]) };
        assert!(lines[1].ends_with(&format!("more: {sub}")), "{args:?}: {err}");
        assert_eq!(run.stdout(), "");
    }
    // `-1s` reaches the parser, which names it (it used to be taken for an unknown option).
    let err = reaper(&["list", "--older-than", "-1s"]).stderr();
    assert!(err.contains("'-1s'") && err.contains("cannot be negative") && err.contains("(5, 1.5)"), "{err}");
}

#[test]
fn small_messages() {
    // wait --pid with --free is refused with the reason; the usage does not demand --free with --pid.
    // So is --listening.
    for condition in ["--free", "--listening"] {
        let run = reaper(&["wait", "--pid", "4194304", condition]);
        run.expect(2);
        assert!(run.stderr().contains("--pid waits until that process has exited"), "{condition}: {}", run.stderr());
    }
    let run = reaper(&["wait"]);
    run.expect(2);
    assert!(run.stderr().contains("reaper wait [OPTIONS] --pid PID"), "{}", run.stderr());
    let run = reaper(&["wait", "3000"]);
    run.expect(2);
    assert!(run.stderr().contains("--free") && run.stderr().contains("--listening"), "{}", run.stderr());
    // --json points at --format json.
    let run = reaper(&["list", "--json"]);
    run.expect(2);
    assert!(run.stderr().contains("tip: --format json"), "{}", run.stderr());
    // --signal 9 plans as -9 does.
    let fx = Fixture::start("sig9", "listen", &["tcp", "127.0.0.1"]);
    let pid = fx.pid().to_string();
    let a = reaper(&["kill", "--pid", &pid, "--signal", "9", "--dry-run"]).expect(0).stdout();
    let b = reaper(&["kill", "--pid", &pid, "-9", "--dry-run"]).expect(0).stdout();
    assert_eq!(a, b);
    assert!(a.contains("SIGKILL, wait 2s"), "{a}");
    // pick -h: every Keys line fits 80 columns; a key's text starts at one column for every key,
    // and a wrapped line continues exactly at that column.
    let help = reaper(&["pick", "-h"]).expect(0).stdout();
    let keys: Vec<&str> = help.lines().skip_while(|l| *l != "Keys:").skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(keys.len() >= 9, "{help}");
    // The text column: after the first key and the spaces that pad it.
    let first = keys[0].trim_start();
    let column = keys[0].len() - first.len() + first.find("  ").expect("a key, then two spaces") + 2;
    let column = column + keys[0][column..].len() - keys[0][column..].trim_start().len();
    let mut wrapped = 0;
    for l in &keys {
        assert!(l.chars().count() <= 80, "{l:?}");
        let (lead, text) = l.split_at(column);
        assert!(!text.starts_with(' ') && !text.is_empty(), "the text starts at column {column}: {l:?}");
        if lead.trim().is_empty() {
            wrapped += 1;
        } else {
            assert!(lead.starts_with("  ") && !lead.starts_with("   ") && lead.ends_with("  "), "{l:?}");
        }
    }
    assert!(wrapped > 0, "no wrapped line was checked: {help}");
}

// stderr that cannot be written is ignored, never a panic. Regression: `reaper list
// 2>/dev/full` exited 101.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: /dev/full")]
fn a_full_stderr_is_not_a_panic() {
    let p = unused_port().to_string();
    for args in [
        &["list", "--port", &p][..],
        &["list", "--port", "70000"],
        &["wait", "--port", &p, "--listening", "--timeout", "10ms"],
    ] {
        let mut cmd = reaper_cmd();
        cmd.args(args).stderr(std::fs::File::options().write(true).open("/dev/full").expect("/dev/full"));
        let mut child = Spawned(cmd.stdout(Stdio::null()).spawn().expect("reaper"));
        let status = wait_exit(&mut child.0, "reaper").code();
        assert!(matches!(status, Some(1 | 2)), "{args:?}: {status:?}");
    }
}

/// Runs reaper with stdout on `/dev/full` (every write fails with ENOSPC).
fn reaper_to_full(args: &[&str]) -> Run {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let mut cmd = reaper_cmd();
    cmd.args(args);
    run_bounded_to(&mut cmd, format!("reaper {} >/dev/full", args.join(" ")), Stdio::from(full))
}

// A stdout that cannot be written does not decide the exit code once signals are sent: the kill's
// outcome does, the write error is said on stderr, and the warnings after the summary still come.
// Regression: the holder was ended, then the write error made the command exit 3 ("nothing could
// be concluded") and the warnings were skipped.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: /dev/full")]
fn an_unwritable_stdout_does_not_hide_what_the_kill_did() {
    let fx = Fixture::start("full-ok", "listen", &["tcp", "127.0.0.1"]);
    let p = fx.port().to_string();
    let run = reaper_to_full(&["kill", "--port", &p, "--yes"]);
    run.expect(0);
    assert!(run.stderr().contains("could not write to stdout"), "{}", run.stderr());
    wait_for("the holder to end", || is_dead(fx.pid()));

    // A survivor: exit 1, and its warning (after the summary) is still on stderr.
    let stubborn = Fixture::start("full-survivor", "ignore-term", &[]);
    let pid = stubborn.pid().to_string();
    for format in ["table", "json"] {
        let run = reaper_to_full(&["kill", "--pid", &pid, "--sequence", "TERM:100ms", "--format", format]);
        run.expect(1);
        let err = run.stderr();
        assert!(err.contains(&format!("pid {pid}")) && err.contains("survived"), "{format}: {err}");
        assert!(err.contains("could not write to stdout"), "{format}: {err}");
    }
    assert!(!is_dead(stubborn.pid()));
}

// The exit-code table (docs/src/exit-codes-json.md) is the one authority: the foreign-/proc rule
// in the safety chapter says what the table and the code say (exit 3, tested in `run::`), not
// another code.
#[test]
fn the_docs_state_one_exit_code_for_a_foreign_proc() {
    let readme = ["docs/src/exit-codes-json.md", "docs/src/safety.md"]
        .map(|p| std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).expect(p))
        .join("\n");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut said = 0;
    for (at, _) in flat.match_indices("another PID namespace") {
        let near = &flat[at..(at + 300).min(flat.len())];
        assert!(!near.contains("exit 1"), "{near}");
        said += usize::from(near.contains("exit 3"));
    }
    assert!(said >= 1, "the docs say a foreign /proc exits 3");
}
