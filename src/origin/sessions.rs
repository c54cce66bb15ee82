//! Terminals and sessions found in the ancestry and the environment: tmux (the session and
//! window from `TMUX`/`TMUX_PANE`, asked of that tmux server), screen (`STY`, `WINDOW`), an ssh
//! login (`SSH_CONNECTION`, or sshd's title), an interactive shell on a terminal, cron and atd,
//! a CI job (the marker variables of the CI teardown recipes, docs/src/ci.md), and the parent that is
//! none of those (a desktop app when the environment has a display).

use std::time::Duration;

use super::{Cause, Env, Kind, Restarts, args, program};
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
    let client = conn.and_then(|c| {
        let mut f = c.split_whitespace();
        Some((f.next()?.to_string(), f.next()?.to_string()))
    });
    let title = sshd.map(|p| args(p).join(" ")).filter(|t| t.starts_with("sshd: "));
    let name = client.as_ref().map_or_else(String::new, |(addr, _)| format!("from {addr}"));
    let mut c = Cause::new(Kind::Ssh, sshd.map(|p| p.pid), name, "SSH_CONNECTION in its environment");
    c.detail = match (client, title) {
        (Some((_, port)), Some(t)) => Some(format!("client port {port}, {t}")),
        (Some((_, port)), None) => Some(format!("client port {port}")),
        (None, Some(t)) => Some(t),
        (None, None) => None,
    };
    if conn.is_none() {
        c.source = "sshd is an ancestor".into();
    }
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

/// A CI job, by the markers the CI teardown recipes (docs/src/ci.md) use.
fn ci(env: &Env) -> Option<Cause> {
    let (name, marker, detail) = if let Some(id) = env.get("RUNNER_TRACKING_ID") {
        let run = env.get("GITHUB_RUN_ID").map(|r| format!("run {r}"));
        let job = env.get("GITHUB_JOB").map(|j| format!("job {j}"));
        let detail = [run, job].into_iter().flatten().collect::<Vec<_>>().join(", ");
        ("GitHub Actions", format!("RUNNER_TRACKING_ID={id}"), detail)
    } else if let Some(id) = env.get("CI_JOB_ID") {
        ("GitLab CI", format!("CI_JOB_ID={id}"), env.get("CI_JOB_NAME").map(|n| format!("job {n}")).unwrap_or_default())
    } else if let Some(tag) =
        env.get("BUILD_TAG").filter(|_| env.get("JENKINS_URL").is_some() || env.get("JENKINS_HOME").is_some())
    {
        ("Jenkins", format!("BUILD_TAG={tag}"), String::new())
    } else if let Some(id) = env.get("BUILDKITE_JOB_ID") {
        ("Buildkite", format!("BUILDKITE_JOB_ID={id}"), String::new())
    } else {
        return None;
    };
    let mut c = Cause::new(Kind::Ci, None, name, format!("{marker} in its environment"));
    let teardown = format!("reaper kill --env {marker} --all-users (the CI teardown recipe)");
    c.detail = Some(if detail.is_empty() { teardown } else { format!("{detail}; {teardown}") });
    Some(c)
}

/// The parent, when it is no supervisor and no session: a desktop app when the environment
/// has a display, else just the parent. Whether it starts the process again cannot be told.
pub(super) fn parent(p: &Process, env: Option<&Env>) -> Cause {
    let desktop = env.is_some_and(|e| e.get("DISPLAY").is_some() || e.get("WAYLAND_DISPLAY").is_some());
    let kind = if desktop && !SHELLS.contains(&program(p).as_str()) { Kind::App } else { Kind::Parent };
    let exe = p.exe.as_ref().map(|e| e.display().to_string());
    let mut c = Cause::new(kind, Some(p.pid), program(p), "its parent pid");
    c.detail = Some(exe.unwrap_or_else(|| p.command()));
    c.restarts = Restarts::Unknown;
    c
}
