//! The picker, driven as a person drives it: in a real terminal (tmux), keys sent with
//! `send-keys`, the screen read with `capture-pane`. Every session filters to its own fixture
//! (`:PORT` of a port only that fixture holds) and checks the screen shows exactly that before
//! any key that could signal: the picker lists every process of the machine (the tests run as
//! root).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::*;

/// A tmux server of the test's own (`-L` a unique socket) running one command in a window of
/// the given size; the server is killed on drop, also when the test fails.
struct Tmux {
    socket: String,
    status: PathBuf,
    /// The server's socket file (tmux leaves it behind after `kill-server`).
    socket_path: Option<PathBuf>,
}

impl Tmux {
    /// Starts `reaper ARGS` (NO_COLOR=1) in a `width`x`height` terminal; `None` when tmux is
    /// missing (a failure under CI=true). Its exit status is written to a file when it ends.
    fn start(width: u16, height: u16, args: &[&str]) -> Option<Tmux> {
        Tmux::start_env(width, height, args, "NO_COLOR=1")
    }

    /// [`Tmux::start`] with `env`'s arguments `env` (`NAME=VALUE`, `-u NAME`, and a wrapper
    /// command such as `setpriv ...` that then runs reaper) instead of `NO_COLOR=1`.
    fn start_env(width: u16, height: u16, args: &[&str], env: &str) -> Option<Tmux> {
        if !have("tmux") {
            return None;
        }
        let socket = token("tmux");
        let status = std::env::temp_dir().join(format!("{socket}.status"));
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let s = status.display();
        let line = format!("env {env} '{REAPER}' {}; echo $? > '{s}.tmp' && mv '{s}.tmp' '{s}'", quoted.join(" "));
        let mut t = Tmux { socket, status, socket_path: None };
        let (w, h) = (width.to_string(), height.to_string());
        t.tmux(&["-f", "/dev/null", "new-session", "-d", "-x", &w, "-y", &h, "sh", "-c", &line]);
        t.socket_path = Some(PathBuf::from(t.tmux(&["display-message", "-p", "#{socket_path}"]).trim()));
        Some(t)
    }

    /// [`Tmux::start`] with reaper run as user nobody (65534), who owns none of the running
    /// processes; `None` (a skip) without setpriv too.
    fn start_as_nobody(width: u16, height: u16, args: &[&str]) -> Option<Tmux> {
        if !have("setpriv") {
            return None;
        }
        Tmux::start_env(width, height, args, &format!("NO_COLOR=1 {}", AS_NOBODY.join(" ")))
    }

    /// Runs `tmux -L SOCKET ARGS`, failing the test if tmux does.
    #[track_caller]
    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running tmux {args:?}: {e}"));
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What the terminal shows now.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Polls the screen until `cond` holds (then returns it), or fails after [`DEADLINE`]
    /// showing the last screen.
    #[track_caller]
    fn wait_screen(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if cond(&screen) {
                return screen;
            }
            assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Sends keys by tmux's names (`Enter`, `Escape`, `Space`, `y`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
    }

    /// The picker's exit status, once it has ended.
    #[track_caller]
    fn exit_code(&self) -> i32 {
        let mut code = None;
        wait_for("the picker to exit", || {
            code = std::fs::read_to_string(&self.status).ok().and_then(|s| s.trim().parse().ok());
            code.is_some()
        });
        code.unwrap_or(-1)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.status);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The pids a plan screen lists (the lines from `would signal` to the first blank one).
fn plan_pids(screen: &str) -> Vec<u32> {
    let mut pids: Vec<u32> = screen
        .lines()
        .skip_while(|l| !l.starts_with("would signal"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("note:") && !l.contains(" is held now"))
        .filter_map(|l| l.trim_start().trim_start_matches("* ").split_whitespace().next()?.parse().ok())
        .collect();
    pids.sort();
    pids
}

/// The fixture's holder and its two children, sorted.
fn family(fx: &Fixture) -> Vec<u32> {
    let mut pids: Vec<u32> = fx.info["children"].split(',').map(|p| p.parse().expect("a pid")).collect();
    pids.push(fx.pid());
    pids.sort();
    pids
}

/// Filters the picker to the fixture's port and waits until the list is exactly its holder.
#[track_caller]
fn filter_to(t: &Tmux, fx: &Fixture) -> String {
    t.wait_screen("the list", |s| s.contains("filter>") && s.contains("PID"));
    t.type_text(&format!(":{}", fx.port()));
    let row = format!("tcp:{}", fx.port());
    t.wait_screen("the fixture's row alone", |s| {
        s.contains("reaper pick: 1 of ") && s.lines().any(|l| l.contains(&fx.pid().to_string()) && l.contains(&row))
    })
}

#[test]
fn pick_filters_by_port_marks_confirms_and_ends_the_tree() {
    let fx = Fixture::start("pick", "family", &[]);
    let Some(t) = Tmux::start(120, 40, &["pick"]) else {
        return;
    };
    filter_to(&t, &fx);
    t.keys(&["Space"]);
    t.wait_screen("the mark", |s| s.contains(&format!("*{}", fx.pid())));
    t.keys(&["Enter"]);
    let plan = t.wait_screen("the plan", |s| s.contains("proceed? [y/N]"));
    assert!(plan.contains("would signal 3 processes: SIGTERM, wait 5s, then SIGKILL"), "{plan}");
    assert_eq!(plan_pids(&plan), family(&fx), "the plan is the holder and its children, nothing else:\n{plan}");
    assert!(fx.live_pids().len() == 3, "nothing is signalled before y");
    t.keys(&["y"]);
    let port = fx.port();
    let done = t.wait_screen("the result", |s| {
        s.contains("3 targets: 3 exited") && s.contains(&format!("tcp port {port}: free"))
    });
    for pid in family(&fx) {
        assert!(is_dead(pid), "{pid} still runs:\n{done}");
        assert!(done.contains(&format!("{pid} ")), "{pid} has no line:\n{done}");
    }
    assert!(!port_held(port));
    t.keys(&["q"]);
    assert_eq!(t.exit_code(), 0);
}

#[test]
fn pick_esc_leaves_everything_running() {
    let fx = Fixture::start("pick-esc", "family", &[]);
    let Some(t) = Tmux::start(120, 40, &["pick"]) else {
        return;
    };
    filter_to(&t, &fx);
    t.keys(&["Enter"]);
    t.wait_screen("the plan", |s| s.contains("proceed? [y/N]"));
    t.keys(&["n"]);
    t.wait_screen("the list again", |s| s.contains("nothing signalled") && s.contains("PORTS"));
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1, "leaving without a kill is exit 1, as a kill answered no");
    assert_eq!(fx.live_pids(), family(&fx), "everything still runs");
    assert!(port_held(fx.port()));
}

#[test]
fn pick_force_key_sends_sigkill_without_waiting_out_the_timeout() {
    let fx = Fixture::start("pick-force", "family", &["ignore-term"]);
    let Some(t) = Tmux::start(120, 40, &["pick", "--timeout", "60s"]) else {
        return;
    };
    filter_to(&t, &fx);
    t.keys(&["Enter"]);
    let plan = t.wait_screen("the plan", |s| s.contains("proceed? [y/N]"));
    assert_eq!(plan_pids(&plan), family(&fx), "{plan}");
    t.keys(&["y"]);
    t.wait_screen("the graceful wait", |s| s.contains("waiting ") && s.contains("for 3 processes"));
    let pressed = Instant::now();
    t.keys(&["k"]);
    // The progress line ends with the last target, not when the engine is done checking ports.
    let ended = t.wait_screen("every target's line", |s| s.matches("-> killed").count() == 3);
    assert!(!ended.contains("waiting "), "the progress line outlived the targets:\n{ended}");
    let done = t.wait_screen("the result", |s| s.contains("3 targets: 3 killed"));
    assert!(pressed.elapsed() < std::time::Duration::from_secs(30), "SIGKILL waited for the 60 s timeout");
    assert!(done.contains("SIGTERM, SIGKILL -> killed"), "{done}");
    for pid in family(&fx) {
        assert!(is_dead(pid), "{pid}:\n{done}");
    }
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 0);
}

#[test]
fn plain_reaper_on_a_terminal_is_the_picker_at_60_and_200_columns() {
    let fx = Fixture::start("pick-narrow", "listen", &["tcp", "127.0.0.1"]);
    for width in [60u16, 200] {
        let Some(t) = Tmux::start(width, 20, &[]) else {
            return;
        };
        let screen = filter_to(&t, &fx);
        let header = screen.lines().find(|l| l.starts_with("PID")).unwrap_or_else(|| panic!("a header:\n{screen}"));
        for col in ["AGE", "PORTS", "COMMAND"] {
            assert!(header.contains(col), "{width}: {header}");
        }
        assert_eq!(header.contains("USER"), width >= 80, "{width}: {header}");
        for line in screen.lines() {
            assert!(line.chars().count() <= usize::from(width), "{width}: {line:?}");
        }
        t.keys(&["Escape"]);
        assert_eq!(t.exit_code(), 1);
    }
    assert_eq!(fx.live_pids(), vec![fx.pid()]);
}

#[test]
fn plain_reaper_in_a_script_prints_the_usage_and_pick_needs_a_terminal() {
    let run = reaper(&[]);
    run.expect(2);
    assert!(run.stderr().contains("Usage: reaper"), "{}", run.stderr());
    let run = reaper(&["pick"]);
    run.expect(2);
    assert!(run.stderr().starts_with("reaper: the picker needs a terminal"), "{}", run.stderr());
}

#[test]
fn pick_colour_follows_no_color_and_the_flag() {
    let fx = Fixture::start("pick-colour", "listen", &["tcp", "127.0.0.1"]);
    // 38;5;N / 48;5;N: the foreground and background colours ratatui writes.
    let coloured = |screen: &str| screen.contains("\x1b[38;5;") || screen.contains("\x1b[48;5;");
    for (env, args, colour) in [
        ("-u NO_COLOR", vec!["pick"], true),
        ("NO_COLOR=1", vec!["pick"], false),
        ("-u NO_COLOR", vec!["--color", "never", "pick"], false),
        ("NO_COLOR=1", vec!["--color", "always", "pick"], true),
    ] {
        let Some(t) = Tmux::start_env(120, 20, &args, env) else {
            return;
        };
        filter_to(&t, &fx);
        let screen = t.tmux(&["capture-pane", "-p", "-e"]);
        assert_eq!(coloured(&screen), colour, "{env} {args:?}:\n{screen:?}");
        if !colour {
            assert!(
                screen.contains("\x1b[7m") || screen.contains(";7m"),
                "without colour the highlight is reverse video: {screen:?}"
            );
        }
        t.keys(&["Escape"]);
        assert_eq!(t.exit_code(), 1);
    }
}

#[test]
fn pick_shows_hostile_command_lines_escaped() {
    let evil = "\x1b[2J\x1b]0;owned\x07line1\nline2";
    let fx = Fixture::start("pick-evil", "listen", &["tcp", "127.0.0.1", "0", evil]);
    // Wide enough for the whole command line whatever the paths (the interpreter's, the checkout's).
    let Some(t) = Tmux::start(500, 20, &["pick"]) else {
        return;
    };
    let screen = filter_to(&t, &fx);
    let row = screen.lines().find(|l| l.contains(&fx.pid().to_string())).expect("the row");
    assert!(row.contains(r"0 \x1b[2J\x1b]0;owned\x07line1\nline2"), "{row}");
    assert!(screen.starts_with("reaper pick:"), "the screen was not cleared by the command line: {screen}");
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs the picker as nobody")]
fn pick_shows_your_own_processes_until_ctrl_a() {
    // The picker as user nobody (65534), who owns none of the running processes; the fixture is
    // root's. Only shown, never signalled (nobody could not signal it anyway).
    let fx = Fixture::start("pickown", "listen", &["tcp", "127.0.0.1"]);
    let Some(t) = Tmux::start_as_nobody(120, 20, &["pick"]) else {
        return;
    };
    t.wait_screen("the list", |s| s.contains("(yours)") && s.contains("PID"));
    t.type_text(&fx.token);
    t.wait_screen("nothing of nobody's matches", |s| s.contains("reaper pick: 0 of ") && s.contains("(yours)"));
    t.keys(&["C-a"]);
    let pid = fx.pid().to_string();
    t.wait_screen("everyone's, the fixture among them", |s| {
        s.contains("(everyone's)") && s.lines().any(|l| l.trim_start().starts_with(&pid) && l.contains("root"))
    });
    t.keys(&["C-a"]);
    t.wait_screen("yours again", |s| s.contains("reaper pick: 0 of ") && s.contains("(yours)"));
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
    assert_eq!(fx.live_pids(), vec![fx.pid()]);
}

#[test]
fn pick_typing_q_and_j_into_an_empty_filter_filters() {
    let fx = Fixture::start("pick-qj", "listen", &["tcp", "127.0.0.1"]);
    let Some(t) = Tmux::start(120, 35, &["pick"]) else {
        return;
    };
    t.wait_screen("the list", |s| s.contains("filter>") && s.contains("PID"));
    t.type_text("qj");
    let screen = t.wait_screen("the filter qj", |s| s.lines().any(|l| l.starts_with("filter> qj")));
    assert!(screen.starts_with("reaper pick:"), "the picker is still open:\n{screen}");
    assert!(std::fs::read_to_string(&t.status).is_err(), "the picker exited on q:\n{screen}");
    // Ctrl-U clears it; Ctrl-J and Ctrl-K move without typing.
    t.keys(&["C-u"]);
    t.wait_screen("an empty filter", |s| s.lines().any(|l| l == "filter> _" || l.trim_end() == "filter> _"));
    t.keys(&["C-j", "C-k"]);
    t.wait_screen("still an empty filter", |s| s.lines().any(|l| l.trim_end() == "filter> _"));
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
    assert_eq!(fx.live_pids(), vec![fx.pid()]);
}

/// The list's rows on a screen, top to bottom: (pid, user) when the USER column shows, else
/// (pid, ""); the rows are the lines under the header that start with the mark column and a pid.
fn screen_rows(screen: &str) -> Vec<(u32, String)> {
    screen
        .lines()
        .skip_while(|l| !l.starts_with("PID"))
        .skip(1)
        .map_while(|l| {
            let rest = l.strip_prefix([' ', '*'])?;
            let mut words = rest.split_whitespace();
            let pid = words.next()?.parse().ok()?;
            Some((pid, words.next().unwrap_or_default().to_string()))
        })
        .collect()
}

/// The pid on the detail line (`PID: the whole command line`): the highlighted row's.
fn detail_pid(screen: &str) -> Option<u32> {
    screen.lines().find_map(|l| l.split_once(": ").and_then(|(pid, _)| pid.parse().ok()))
}

/// The code `pick --help` gives for leaving without signalling anything.
fn documented_leave_status() -> i32 {
    let help = reaper(&["pick", "--help"]).expect(0).stdout();
    let exit: Vec<&str> =
        help.lines().skip_while(|l| *l != "Exit status:").skip(1).take_while(|l| !l.is_empty()).collect();
    exit.iter()
        .filter(|l| !l.starts_with("   "))
        .find(|l| l.contains("nothing was signalled"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("pick --help gives no status for leaving without a kill:\n{help}"))
}

#[test]
fn pick_moves_with_arrows_pages_and_ctrl_keys_and_leaves_with_ctrl_c_or_esc() {
    // Fifteen processes with the token (a parent and 14 forked children, the same command
    // line): the filter shows them first (the whole token scores best), in the reader's order.
    let fx = Fixture::start("pick-keys", "brood", &["14"]);
    let mut own: Vec<u32> = fx.info["children"].split(',').map(|p| p.parse().expect("a pid")).collect();
    own.push(fx.pid());
    let leave_status = documented_leave_status();
    for leave in ["C-c", "Escape"] {
        let Some(t) = Tmux::start(120, 35, &["pick"]) else {
            return;
        };
        t.wait_screen("the list", |s| s.contains("filter>") && s.contains("PID"));
        t.type_text(&fx.token);
        let typed = format!("filter> {}_", fx.token);
        // Where the highlight is: the detail line's pid among the rows on screen.
        let cursor = |s: &str| -> Option<usize> {
            if !s.lines().any(|l| l.trim_end() == typed) {
                return None;
            }
            let rows: Vec<u32> = screen_rows(s).into_iter().map(|(pid, _)| pid).collect();
            if rows.len() < own.len() || !rows[..own.len()].iter().all(|p| own.contains(p)) {
                return None;
            }
            rows.iter().position(|&p| Some(p) == detail_pid(s))
        };
        t.wait_screen("the token's rows, the first highlighted", |s| cursor(s) == Some(0));
        if leave == "C-c" {
            // Each key moves the highlight and types nothing (the filter line stays the token).
            for (key, want) in [
                ("Down", 1),
                ("C-n", 2),
                ("C-j", 3),
                ("PageDown", 13),
                ("Up", 12),
                ("C-p", 11),
                ("C-k", 10),
                ("PageUp", 0),
            ] {
                t.keys(&[key]);
                t.wait_screen(&format!("{key} to move the highlight to row {want}"), |s| cursor(s) == Some(want));
            }
        }
        t.keys(&[leave]);
        assert_eq!(t.exit_code(), leave_status, "{leave} leaves as pick --help says");
        let mut live = fx.live_pids();
        live.sort();
        let mut want = own.clone();
        want.sort();
        assert_eq!(live, want, "{leave}: nothing was signalled");
    }
}

#[test]
fn pick_counts_a_mark_the_filter_hides_and_the_plan_says_so() {
    let a = Fixture::start("pick-mark-a", "listen", &["tcp", "127.0.0.1"]);
    let b = Fixture::start("pick-mark-b", "listen", &["tcp", "127.0.0.1"]);
    let Some(t) = Tmux::start(120, 35, &["pick"]) else {
        return;
    };
    filter_to(&t, &a);
    t.keys(&["Tab"]);
    t.wait_screen("one mark", |s| s.contains("; 1 marked") && s.contains(&format!("*{}", a.pid())));
    t.keys(&["C-u"]);
    t.type_text(&format!(":{}", b.port()));
    let screen = t.wait_screen("the mark hidden by the filter, counted", |s| {
        s.contains("reaper pick: 1 of ") && s.contains("; 1 marked, 1 not shown by the filter")
    });
    assert!(!screen.contains(&format!("*{}", a.pid())), "{screen}");
    t.keys(&["Enter"]);
    let plan = t.wait_screen("the plan", |s| s.contains("proceed? [y/N]"));
    assert!(plan.contains("1 marked, 1 not shown by the filter"), "{plan}");
    assert!(plan_pids(&plan).contains(&a.pid()) && !plan_pids(&plan).contains(&b.pid()), "{plan}");
    t.keys(&["n"]);
    t.wait_screen("the list again", |s| s.contains("nothing signalled"));
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
    assert_eq!(a.live_pids(), vec![a.pid()]);
    assert_eq!(b.live_pids(), vec![b.pid()]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: reads /proc/PID/cmdline")]
fn pick_at_80_columns_shows_the_base_name_and_the_whole_line_below() {
    // A process whose executable path is long and carries the token (as a pyenv interpreter's
    // does: ~/.pyenv/versions/3.11.7/bin/python3): the row shows `python3 1000`, the detail
    // line the whole path.
    let token = token("pick80");
    let argv0 = format!("/opt/{token}/versions/3.11.7/bin/python3");
    let p = Started::spawn(token.clone(), Command::new("bash").args(["-c", r#"exec -a "$0" sleep 1000"#, &argv0]));
    let pid = p.pid().to_string();
    wait_for("the exec", || {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(argv0.as_bytes()))
    });
    let Some(t) = Tmux::start(80, 20, &["pick"]) else {
        return;
    };
    t.wait_screen("the list", |s| s.contains("filter>") && s.contains("PID"));
    t.type_text(&token);
    // Fuzzy: other long command lines may match too; the token's own row scores best (first).
    // The whole token first: a screen read while it is still being typed can show the row
    // first and another process's detail line (a partly typed filter matches more).
    let typed = format!("filter> {token}");
    let screen = t.wait_screen("the row", |s| {
        s.lines().any(|l| l.starts_with(&typed))
            && s.lines().skip_while(|l| !l.starts_with("PID")).nth(1).is_some_and(|l| l.trim_start().starts_with(&pid))
    });
    let row = screen.lines().find(|l| l.trim_start().trim_start_matches('*').starts_with(&pid)).expect("the row");
    assert!(row.ends_with("python3 1000") || row.contains(" python3 1000"), "the base name and the arguments: {row:?}");
    assert!(!row.contains(&token), "the path is not in the row at 80 columns: {row:?}");
    // PID as wide as the widest pid on screen plus the mark, USER as wide as its widest name
    // on screen (at least its heading): each next column starts one space after.
    let header = screen.lines().find(|l| l.starts_with("PID")).expect("the header");
    let rows = screen_rows(&screen);
    let pid_width = 1 + rows.iter().map(|(p, _)| p.to_string().len()).max().expect("rows");
    let user_width = rows.iter().map(|(_, u)| u.chars().count()).max().expect("rows").max("USER".len());
    assert_eq!(header.find("USER"), Some(pid_width + 1), "PID is not as wide as its content: {header:?}\n{screen}");
    assert_eq!(header.find("AGE"), Some(pid_width + 1 + user_width + 1), "USER: {header:?}\n{screen}");
    assert!(row.contains(" root "), "{row:?}");
    // The detail line: the whole command line, path and all.
    assert!(screen.lines().any(|l| l.starts_with(&format!("{pid}: {argv0} 1000"))), "{screen}");
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: setpriv (util-linux) runs the picker as nobody")]
fn pick_as_not_root_says_who_holds_a_port_it_cannot_show() {
    // The picker as nobody; the fixture's listener is root's: `:PORT` shows no row, and a line
    // says whose it is and what to run.
    let fx = Fixture::start("pick-hidden", "listen", &["tcp", "127.0.0.1"]);
    let Some(t) = Tmux::start_as_nobody(120, 20, &["pick"]) else {
        return;
    };
    t.wait_screen("the list", |s| s.contains("filter>") && s.contains("PID"));
    t.type_text(&format!(":{}", fx.port()));
    let want = format!("tcp port {} is held by root's process, which only root sees: sudo reaper pick", fx.port());
    t.wait_screen("the hint", |s| s.contains("reaper pick: 0 of ") && s.contains(&want));
    t.keys(&["Escape"]);
    assert_eq!(t.exit_code(), 1);
    assert_eq!(fx.live_pids(), vec![fx.pid()]);
}
