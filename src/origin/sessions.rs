//! Terminals and sessions found in the ancestry and the environment: tmux (the session and
//! window from `TMUX`/`TMUX_PANE`, asked of that tmux server), screen (`STY`, `WINDOW`), an ssh
//! login (`SSH_CONNECTION`, or sshd's title), an interactive shell on a terminal, cron and atd,
//! a CI job (the marker variables of the CI teardown recipes, docs/src/ci.md), and the parent that is
//! none of those (a desktop app when the environment has a display).

use std::time::Duration;

use super::{Cause, Env, Kind, Restarts, args, program, quote};
use crate::model::Process;
use crate::sys;

/// The shells whose interactive instances wait for their jobs rather than restart them.
const SHELLS: [&str; 14] =
    ["bash", "zsh", "fish", "sh", "dash", "ksh", "mksh", "tcsh", "csh", "ash", "nu", "elvish", "pwsh", "xonsh"];

/// How long tmux may take to answer which session a pane is in.
const TMUX_TIMEOUT: Duration = Duration::from_millis(500);

/// The terminal of `p` when it is an interactive shell on one: a shell program with only
/// options (no script, no `-c`), and a controlling terminal.
pub(super) fn interactive_tty(p: &Process) -> Option<String> {
    let prog = program(p);
    if !SHELLS.contains(&prog.as_str()) && !SHELLS.contains(&p.name.as_str()) {
        return None;
    }
    let a = args(p);
    let scripted = a.iter().skip(1).any(|x| {
        !x.starts_with('-') || x == "--command" || (x.starts_with('-') && !x.starts_with("--") && x.contains('c'))
    });
    if scripted {
        return None;
    }
    sys::read_tty(p.pid)
}

/// The session `anc` is, if it is one.
pub(super) fn classify(anc: &Process, env: Option<&Env>) -> Option<Cause> {
    let prog = program(anc);
    if anc.name.starts_with("tmux")
        && (anc.name.contains("server") || args(anc).first().is_some_and(|a| a.contains("server")))
        || (prog == "tmux" && anc.ppid == 1)
    {
        return Some(tmux(Some(anc.pid), env));
    }
    if prog == "SCREEN" || (anc.name == "screen" && anc.ppid == 1) {
        return Some(screen(Some(anc.pid), env));
    }
    if anc.name == "sshd" || anc.name == "sshd-session" {
        return Some(ssh(Some(anc), env));
    }
    if matches!(anc.name.as_str(), "cron" | "crond" | "CROND") {
        let mut c = Cause::new(Kind::Cron, Some(anc.pid), "", "cron is an ancestor");
        c.detail = Some("started by a crontab entry; cron starts it again at the next scheduled time".into());
        return Some(c);
    }
    if anc.name == "atd" {
        return Some(Cause::new(Kind::At, Some(anc.pid), "", "atd is an ancestor"));
    }
    let tty = interactive_tty(anc)?;
    let mut c = Cause::new(Kind::Shell, Some(anc.pid), prog, "a shell with no script, and its controlling terminal");
    c.detail = Some(format!("on {tty}"));
    Some(c)
}

/// A tmux session: from `TMUX` (socket, server pid, session id) and `TMUX_PANE`, asked of that
/// server for the session's name and the window.
fn tmux(pid: Option<u32>, env: Option<&Env>) -> Cause {
    let var = env.and_then(|e| e.get("TMUX"));
    let pane = env.and_then(|e| e.get("TMUX_PANE"));
    let socket = var.and_then(|v| v.split(',').next()).filter(|s| !s.is_empty());
    let server = var.and_then(|v| v.split(',').nth(1)).and_then(|s| s.parse::<u32>().ok());
    // Only a server of the caller's own is asked: a tmux client takes orders from its server,
    // and the socket's path comes from the process's environment, which it chose.
    let own = socket.is_some_and(|s| sys::file_owner(std::path::Path::new(s)) == Some(sys::caller_uid()));
    let answer = match (socket, pane) {
        (Some(s), Some(p)) if own => sys::run_tool(
            &["tmux", "-S", s, "display-message", "-p", "-t", p, "#{session_name}\t#{window_index}\t#{window_name}"],
            TMUX_TIMEOUT,
        ),
        _ => None,
    };
    let fields: Vec<String> = answer.as_deref().unwrap_or("").trim_end().split('\t').map(str::to_string).collect();
    let (name, source) = match fields.as_slice() {
        [s, _, _] if !s.is_empty() => (s.clone(), "TMUX and TMUX_PANE in its environment, asked of that tmux server"),
        _ => (String::new(), "the tmux server is an ancestor"),
    };
    let mut c = Cause::new(Kind::Tmux, pid.or(server), name, source);
    c.detail = match fields.as_slice() {
        [_, i, w] => Some(format!("window {i} ({w}){}", pane.map_or_else(String::new, |p| format!(", pane {p}")))),
        _ if socket.is_some() && !own => {
            Some("session not asked: its tmux server is another user's (run as that user to name it)".into())
        }
        _ => Some("session unknown (its TMUX variables could not be read or asked)".into()),
    };
    c
}

/// A screen session: `STY` and `WINDOW`.
fn screen(pid: Option<u32>, env: Option<&Env>) -> Cause {
    let sty = env.and_then(|e| e.get("STY")).unwrap_or("").to_string();
    let mut c = Cause::new(Kind::Screen, pid, sty, "STY and WINDOW in its environment");
    c.detail = env.and_then(|e| e.get("WINDOW")).map(|w| format!("window {w}"));
    c
}

/// An ssh login: the client's address from `SSH_CONNECTION` (or `SSH_CLIENT`), else sshd's
/// title (`sshd: alice@pts/0`).
fn ssh(sshd: Option<&Process>, env: Option<&Env>) -> Cause {
    let conn = env.and_then(|e| e.get("SSH_CONNECTION").or_else(|| e.get("SSH_CLIENT")));
    // sshd writes an address and a port there; anything else is not taken for a client.
    let client = conn.and_then(|c| {
        let mut f = c.split_whitespace();
        let addr = f.next()?.parse::<std::net::IpAddr>().ok()?;
        let port = f.next()?.parse::<u16>().ok()?;
        Some((addr.to_string(), port.to_string()))
    });
    let title = sshd.map(|p| args(p).join(" ")).filter(|t| t.starts_with("sshd: "));
    let name = client.as_ref().map_or_else(String::new, |(addr, _)| format!("from {addr}"));
    let source = match (&client, sshd) {
        (Some(_), _) => "SSH_CONNECTION in its environment",
        (None, Some(_)) => "sshd is an ancestor",
        (None, None) => "SSH_CONNECTION in its environment, not an address and a port",
    };
    let mut c = Cause::new(Kind::Ssh, sshd.map(|p| p.pid), name, source);
    c.detail = match (client, title) {
        (Some((_, port)), Some(t)) => Some(format!("client port {port}, {t}")),
        (Some((_, port)), None) => Some(format!("client port {port}")),
        (None, Some(t)) => Some(t),
        (None, None) => Some("the client's address is not known".into()),
    };
    c
}

/// What the environment says that the ancestry did not: a tmux, screen or ssh session the
/// process is no longer below (its shell exited), and a CI job.
pub(super) fn from_environment(env: &Env, chain: &[Cause]) -> Vec<Cause> {
    let has = |k: Kind| chain.iter().any(|c| c.kind == k);
    let mut out = Vec::new();
    if !has(Kind::Tmux) && env.get("TMUX").is_some() {
        let mut c = tmux(None, Some(env));
        c.detail = Some(format!("{}; started there, no longer below it", c.detail.unwrap_or_default()));
        out.push(c);
    }
    if !has(Kind::Screen) && env.get("STY").is_some() {
        out.push(screen(None, Some(env)));
    }
    if !has(Kind::Ssh) && (env.get("SSH_CONNECTION").is_some() || env.get("SSH_CLIENT").is_some()) {
        out.push(ssh(None, Some(env)));
    }
    if let Some(c) = ci(env) {
        out.push(c);
    }
    out
}

/// A CI job, by the markers the CI teardown recipes (docs/src/ci.md) use; GitHub's
/// `GITHUB_ACTIONS=true` alone names the job but is no per-job marker to tear down by.
fn ci(env: &Env) -> Option<Cause> {
    // An empty value marks nothing (`--env NAME=` would match every process that has it empty).
    let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let (name, marker, detail) = if let Some(id) = get("RUNNER_TRACKING_ID") {
        ("GitHub Actions", Some(format!("RUNNER_TRACKING_ID={id}")), github(env))
    } else if get("GITHUB_ACTIONS") == Some("true") {
        ("GitHub Actions", None, github(env))
    } else if let Some(id) = get("CI_JOB_ID") {
        (
            "GitLab CI",
            Some(format!("CI_JOB_ID={id}")),
            get("CI_JOB_NAME").map(|n| format!("job {n}")).unwrap_or_default(),
        )
    } else if let Some(tag) = get("BUILD_TAG").filter(|_| get("JENKINS_URL").is_some() || get("JENKINS_HOME").is_some())
    {
        ("Jenkins", Some(format!("BUILD_TAG={tag}")), String::new())
    } else if let Some(id) = get("BUILDKITE_JOB_ID") {
        ("Buildkite", Some(format!("BUILDKITE_JOB_ID={id}")), String::new())
    } else {
        return None;
    };
    let source = match &marker {
        Some(m) => format!("{m} in its environment"),
        None => "GITHUB_ACTIONS=true in its environment".to_string(),
    };
    let mut c = Cause::new(Kind::Ci, None, name, source);
    // The recipe is meant to be pasted: the value the process chose is quoted, and one that was
    // not read exactly (not UTF-8) would match nothing, so no recipe is given for it.
    let teardown = marker
        .filter(|m| !m.contains(char::REPLACEMENT_CHARACTER))
        .map(|m| format!("reaper kill --env {} --all-users (the CI teardown recipe)", quote(&m)));
    c.detail = match (detail.is_empty(), teardown) {
        (true, None) => None,
        (true, Some(t)) => Some(t),
        (false, None) => Some(detail),
        (false, Some(t)) => Some(format!("{detail}; {t}")),
    };
    Some(c)
}

/// A GitHub Actions job's run and job.
fn github(env: &Env) -> String {
    let run = env.get("GITHUB_RUN_ID").map(|r| format!("run {r}"));
    let job = env.get("GITHUB_JOB").map(|j| format!("job {j}"));
    [run, job].into_iter().flatten().collect::<Vec<_>>().join(", ")
}

/// The parent, when it is no supervisor and no session: a desktop app when the environment
/// has a display, else just the parent. Whether it starts the process again cannot be told.
pub(super) fn parent(p: &Process, env: Option<&Env>) -> Cause {
    let shown = |name: &str| env.and_then(|e| e.get(name)).is_some_and(|d| !d.is_empty());
    let desktop = shown("DISPLAY") || shown("WAYLAND_DISPLAY");
    let kind = if desktop && !SHELLS.contains(&program(p).as_str()) { Kind::App } else { Kind::Parent };
    let exe = p.exe.as_ref().map(|e| e.display().to_string());
    let mut c = Cause::new(kind, Some(p.pid), program(p), "its parent pid");
    c.detail = Some(exe.unwrap_or_else(|| p.command()));
    c.restarts = Restarts::Unknown;
    c
}

#[cfg(test)]
mod tests {
    use super::super::made::{PID, env, lossy, process, with};
    use super::*;
    use crate::sys::fake::World;

    /// What `classify` makes of ancestor `argv` (kernel name `comm`) with the explained
    /// process's environment `vars`.
    fn seen(comm: &str, argv: &[&str], vars: &[&str]) -> Option<Cause> {
        let mut anc = process(PID, 1, argv);
        anc.name = comm.to_string();
        classify(&anc, Some(&env(vars)))
    }

    #[test]
    fn screen_sessions_by_sty_and_window() {
        let c = seen("screen", &["SCREEN", "-S", "work"], &["STY=4242.work", "WINDOW=2"]).unwrap();
        assert_eq!(
            (c.kind, c.pid, c.name.as_str(), c.detail.as_deref()),
            (Kind::Screen, Some(PID), "4242.work", Some("window 2"))
        );
        assert_eq!((c.restarts, c.stop.as_deref()), (Restarts::No, None));
        assert_eq!(c.label(), format!("screen (pid {PID}) session 4242.work"));
        // A screen client in a shell (not the server, whose argv[0] is SCREEN, or which init
        // adopted) is not the session.
        let client = process(PID, PID - 1, &["screen", "-r"]);
        assert_eq!(classify(&client, Some(&env(&["STY=4242.work"]))).map(|c| c.kind), None);
        // Below the ancestry no more (its shell exited): the environment still says it.
        let found = from_environment(&env(&["STY=4242.work"]), &[]);
        assert_eq!(
            found.iter().map(|c| (c.kind, c.pid, c.name.as_str())).collect::<Vec<_>>(),
            [(Kind::Screen, None, "4242.work")]
        );
        // Once is enough: the ancestry's screen is not named again from the environment.
        assert!(from_environment(&env(&["STY=4242.work"]), &found).is_empty());
        // Unreadable environment, or a garbled one: the session's name is not known.
        let mut anc = process(PID, 1, &["SCREEN"]);
        anc.name = "screen".into();
        assert_eq!(classify(&anc, None).map(|c| (c.kind, c.name)), Some((Kind::Screen, String::new())));
        let c = seen("screen", &["SCREEN"], &[&lossy(b"STY=42\xff.w"), "WINDOW"]).unwrap();
        assert_eq!((c.name.as_str(), c.detail), ("42\u{fffd}.w", None));
    }

    #[test]
    fn ssh_logins_by_the_client_address() {
        let conn = "SSH_CONNECTION=192.0.2.7 51234 10.0.0.1 22";
        let c = seen("sshd", &["sshd: alice@pts/0"], &[conn]).unwrap();
        assert_eq!((c.kind, c.pid, c.name.as_str()), (Kind::Ssh, Some(PID), "from 192.0.2.7"));
        assert_eq!(c.detail.as_deref(), Some("client port 51234, sshd: alice@pts/0"));
        assert_eq!(c.restarts, Restarts::No);
        // OpenSSH 9.8 splits off sshd-session; SSH_CLIENT is the older variable; IPv6.
        let c = seen("sshd-session", &["sshd-session: bob [priv]"], &["SSH_CLIENT=2001:db8::7 40000 22"]).unwrap();
        assert_eq!((c.name.as_str(), c.detail.as_deref()), ("from 2001:db8::7", Some("client port 40000")));
        // From the environment alone (the login's shell has exited).
        let found = from_environment(&env(&[conn]), &[]);
        assert_eq!(
            found.iter().map(|c| (c.kind, c.pid, c.name.as_str())).collect::<Vec<_>>(),
            [(Kind::Ssh, None, "from 192.0.2.7")]
        );
        // Garbled or truncated values are no client: never an address made up from them.
        for bad in [
            "SSH_CONNECTION=",
            "SSH_CONNECTION=192.0.2.7",
            "SSH_CONNECTION=192.0.2.7 port 10.0.0.1 22",
            "SSH_CONNECTION=x;rm 51234 10.0.0.1 22",
            "SSH_CONNECTION=192.0.2.7 99999 10.0.0.1 22",
            "SSH_CONNECTION=192.0.2.300 51234 10.0.0.1 22",
            &lossy(b"SSH_CONNECTION=192.0.2.\xff7 51234 10.0.0.1 22"),
        ] {
            let c = seen("sshd", &["sshd: alice@pts/0"], &[bad]).unwrap();
            assert_eq!((c.name.as_str(), c.detail.as_deref()), ("", Some("sshd: alice@pts/0")), "{bad:?}");
            assert_eq!(c.source, "sshd is an ancestor", "{bad:?}");
            let found = from_environment(&env(&[bad]), &[]);
            assert_eq!(found.len(), 1, "{bad:?}");
            assert_eq!(found[0].name, "", "{bad:?}");
            assert!(found[0].source.contains("not an address and a port"), "{bad:?}");
        }
    }

    #[test]
    fn cron_and_atd_ancestors() {
        for comm in ["cron", "crond", "CROND"] {
            let c = seen(comm, &["/usr/sbin/cron", "-f"], &[]).unwrap();
            assert_eq!((c.kind, c.pid, c.restarts), (Kind::Cron, Some(PID), Restarts::No), "{comm}");
            assert!(c.detail.is_some_and(|d| d.contains("next scheduled time")));
        }
        let c = seen("atd", &["/usr/sbin/atd", "-f"], &[]).unwrap();
        assert_eq!((c.kind, c.pid, c.label()), (Kind::At, Some(PID), format!("at (pid {PID})")));
        // By the kernel's name: a command line that mentions cron is not cron.
        assert_eq!(seen("vim", &["vim", "/etc/crontab"], &[]), None);
        assert_eq!(seen("cronolog", &["cronolog", "/var/log/x"], &[]), None);
        assert_eq!(seen("atdtool", &["atdtool"], &[]), None);
    }

    #[test]
    fn ci_jobs_by_their_markers() {
        let ci = |vars: &[&str]| from_environment(&env(vars), &[]).into_iter().find(|c| c.kind == Kind::Ci);
        let c = ci(&["GITHUB_ACTIONS=true", "RUNNER_TRACKING_ID=github_5f2a", "GITHUB_RUN_ID=77", "GITHUB_JOB=test"])
            .unwrap();
        assert_eq!((c.name.as_str(), c.restarts, c.stop.as_deref()), ("GitHub Actions", Restarts::No, None));
        assert_eq!(
            c.detail.as_deref(),
            Some(
                "run 77, job test; reaper kill --env RUNNER_TRACKING_ID=github_5f2a --all-users (the CI teardown recipe)"
            )
        );
        assert_eq!(c.source, "RUNNER_TRACKING_ID=github_5f2a in its environment");
        // GITHUB_ACTIONS alone names the job, but is no per-job marker: no recipe.
        let c = ci(&["GITHUB_ACTIONS=true", "GITHUB_RUN_ID=77"]).unwrap();
        assert_eq!((c.name.as_str(), c.detail.as_deref()), ("GitHub Actions", Some("run 77")));
        let c = ci(&["CI=true", "CI_JOB_ID=9001", "CI_JOB_NAME=unit"]).unwrap();
        assert_eq!((c.name.as_str(), c.source.as_str()), ("GitLab CI", "CI_JOB_ID=9001 in its environment"));
        assert!(c.detail.is_some_and(|d| d.starts_with("job unit; reaper kill --env CI_JOB_ID=9001")));
        let c = ci(&["JENKINS_URL=https://ci.example/", "BUILD_TAG=jenkins-app-12"]).unwrap();
        assert_eq!((c.name.as_str(), c.source.as_str()), ("Jenkins", "BUILD_TAG=jenkins-app-12 in its environment"));
        let c = ci(&["BUILDKITE_JOB_ID=0190-ab"]).unwrap();
        assert_eq!(c.name, "Buildkite");
        // Not markers: a BUILD_TAG without Jenkins, CI=true alone, GITHUB_ACTIONS not true,
        // empty values.
        for vars in [
            &["BUILD_TAG=v1.2"][..],
            &["CI=true"][..],
            &["GITHUB_ACTIONS=false"][..],
            &["RUNNER_TRACKING_ID=", "CI_JOB_ID="][..],
            &["JENKINS_URL=", "BUILD_TAG=x"][..],
            &["RUNNER_TRACKING_ID"][..],
            &[][..],
        ] {
            assert_eq!(ci(vars), None, "{vars:?}");
        }
        // A value the process chose is quoted in the recipe; one not read exactly (not UTF-8)
        // gives no recipe, since it would match nothing.
        let c = ci(&["CI_JOB_ID=1; rm -rf ~"]).unwrap();
        assert!(c.detail.is_some_and(|d| d.contains("--env 'CI_JOB_ID=1; rm -rf ~' --all-users")));
        let c = ci(&[&lossy(b"CI_JOB_ID=12\xff3")]).unwrap();
        assert_eq!((c.name.as_str(), c.detail), ("GitLab CI", None));
    }

    #[test]
    fn the_parent_a_desktop_app_or_not() {
        let mut w = World::default();
        w.spawn(PID, 1, &["/usr/share/code/code", "--type=renderer"]).exe = Some("/usr/share/code/code".into());
        w.spawn(PID + 1, 1, &["-bash"]);
        w.spawn(PID + 2, 1, &["make", "serve"]);
        let (app, shell, make) = (with(&w, PID), with(&w, PID + 1), with(&w, PID + 2));
        let c = parent(&app, Some(&env(&["DISPLAY=:0"])));
        assert_eq!((c.kind, c.pid, c.name.as_str()), (Kind::App, Some(PID), "code"));
        assert_eq!((c.detail.as_deref(), c.restarts), (Some("/usr/share/code/code"), Restarts::Unknown));
        assert_eq!(parent(&app, Some(&env(&["WAYLAND_DISPLAY=wayland-0"]))).kind, Kind::App);
        // No display (or an empty one, or none readable): just the parent.
        for vars in [None, Some(env(&[])), Some(env(&["DISPLAY="]))] {
            assert_eq!(parent(&app, vars.as_ref()).kind, Kind::Parent);
        }
        // A shell in a graphical session is no app; the command line stands in for an
        // executable that was not read.
        assert_eq!(parent(&shell, Some(&env(&["DISPLAY=:0"]))).kind, Kind::Parent);
        let c = parent(&make, Some(&env(&["DISPLAY=:0"])));
        assert_eq!((c.kind, c.detail.as_deref()), (Kind::App, Some("make serve")));
        // A shell running a script is not an interactive shell (whatever its terminal).
        assert_eq!(seen("bash", &["bash", "-c", "npm start"], &[]), None);
        assert_eq!(seen("bash", &["bash", "deploy.sh"], &[]), None);
    }
}
