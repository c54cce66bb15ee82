//! `reaper kill`: selection -> plan -> (confirmation) -> signals and waits -> report -> output.
//! Lines about targets go to stdout as each target ends; errors (denied, survivors, held
//! ports, skipped processes) go to stderr, also with `-q`.

use std::fmt::Write as _;
use std::io::BufRead;
use std::time::Duration;

use anyhow::Result;
use reaper::kill::{self, Event, KillOptions, Plan};
use reaper::ports::{PortState, Retaken};
use reaper::report::{KillReport, Outcome, Skipped, TargetReport};
use reaper::{Sequence, Snapshot};

use super::args::{Format, KillArgs};
use super::config::{self, Paint, Style};
use super::exit::Exit;
use super::output::{self, emit, sanitize, to_stderr, warn};

/// Runs `reaper kill`.
pub fn kill(args: &KillArgs, style: &Style) -> Result<Exit> {
    let sel = config::selection(&args.select)?;
    let opts = KillOptions {
        sequence: args.sequence.sequence(),
        no_tree: args.no_tree,
        all_users: args.select.all_users,
        dry_run: args.dry_run,
        strict: args.strict,
        settle: args.settle,
    };
    let mut snap = Snapshot::new();
    let plan = kill::plan(&sel, &mut snap, &opts)?;
    // Whatever is not signalled is said, also with -q: a match never just vanishes.
    let root = reaper::caller_uid() == 0;
    // Not root: other users' processes are out of reach whatever the flags; one sentence says
    // so for all of them, with what to run instead.
    let (foreign, skipped): (Vec<&Skipped>, Vec<&Skipped>) =
        plan.skipped.iter().partition(|s| !root && s.flag.as_deref() == Some("--all-users"));
    for s in skipped {
        warn(skipped_line(s));
    }
    if !foreign.is_empty() {
        let mut users: Vec<String> = foreign.iter().map(|s| sanitize(&s.user)).collect();
        users.sort();
        users.dedup();
        let n = foreign.len();
        warn(format_args!(
            "{n} matching process{} of other users ({}) {} not signalled: only root can signal {}: run {} --all-users",
            if n == 1 { "" } else { "es" },
            users.join(", "),
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "them" },
            output::sudo_command()
        ));
    }
    for s in &plan.unresolved {
        warn(output::unresolved(s, "signal"));
    }
    // Ports whose only holders are invisible to a non-root caller: the line above said it all.
    let invisible: std::collections::HashSet<u16> =
        if root { Default::default() } else { plan.unresolved.iter().map(|s| s.local_port).collect() };
    let said = |p: &PortState| {
        !p.sockets.is_empty() && p.sockets.iter().all(|s| s.holders.is_empty() && invisible.contains(&s.local_port))
    };
    if plan.env_unreadable > 0 {
        warn(output::env_unreadable(plan.env_unreadable));
    }
    for &pid in &plan.env_unchecked {
        warn(output::env_unchecked(pid, "signalled"));
    }
    if snap.netns_denied > 0 {
        warn(output::netns_denied(snap.netns_denied));
    }
    let human = output::for_people(args.format);
    if plan.targets.is_empty() && !sel.all_netns && !sel.ports.is_empty() && !style.quiet {
        // Nothing here holds it: say so when a container's (or an `ip netns`) network does.
        if let Some(hint) =
            output::held_elsewhere(&reaper::ports::held_elsewhere(&sel.ports, sel.proto).unwrap_or_default())
        {
            warn(hint);
        }
    }
    if args.dry_run {
        let report = kill::execute(&plan, &sel, &opts, &mut |_| {})?;
        let out = match args.format {
            Format::Table if style.quiet => String::new(),
            Format::Table => {
                let nothing = plan.targets.is_empty() && !invisible.is_empty();
                (if nothing { String::new() } else { plan_text(&plan, &opts.sequence, style) })
                    + &supervisors_text(&plan)
                    + &ports_text(&report.ports, opts.strict, style, &said)
            }
            Format::Json => output::json(&report)?,
            Format::Pid => target_pids(&report),
        };
        emit(&out)?;
        return Ok(Exit::Success);
    }
    if style.stdin_tty && !args.yes && !plan.targets.is_empty() && !confirm(&plan, &opts.sequence, style)? {
        warn("nothing signalled");
        return Ok(Exit::Failure);
    }
    let mut progress = Progress { active: false };
    // Once signals are sent, what was done decides the exit code: a stdout that cannot be
    // written (a full disk) is reported on stderr at the end, and every warning is still shown.
    let mut unwritten: Option<std::io::Error> = None;
    let report = kill::execute(&plan, &sel, &opts, &mut |ev| match ev {
        Event::Ended(t) => {
            progress.clear(style);
            if human
                && !style.quiet
                && unwritten.is_none()
                && let Err(e) = emit(&(target_line(t, style) + "\n"))
            {
                unwritten = Some(e);
            }
            if t.outcome == Outcome::Denied {
                warn(format_args!(
                    "pid {} ({}): permission denied: it belongs to {}; run as that user or as root",
                    t.pid,
                    sanitize(&t.name),
                    sanitize(&t.user)
                ));
            }
        }
        Event::Waiting { alive, remaining } => {
            if style.stderr_tty && !style.quiet {
                progress.show(&alive, remaining);
            }
        }
    })?;
    progress.clear(style);
    let out = match args.format {
        Format::Table if style.quiet => String::new(),
        Format::Table if report.targets.is_empty() && !invisible.is_empty() => {
            ports_text(&report.ports, opts.strict, style, &said)
        }
        Format::Table => summary(&report, style) + &ports_text(&report.ports, opts.strict, style, &said),
        Format::Json => output::json(&report)?,
        Format::Pid => target_pids(&report),
    };
    if unwritten.is_none()
        && let Err(e) = emit(&out)
    {
        unwritten = Some(e);
    }
    for t in report.targets.iter().filter(|t| t.outcome == Outcome::Survived) {
        let sent = if t.signals.is_empty() { "no signal could be sent".to_string() } else { signals(t) };
        let why = t.note.as_deref().map(|n| format!(": {}", sanitize(n))).unwrap_or_default();
        warn(format_args!("pid {} ({}) survived {sent}{why}", t.pid, sanitize(&t.name)));
    }
    for s in report.skipped.iter().filter(|s| s.blocks() && (root || s.flag.as_deref() != Some("--all-users"))) {
        let flag = s.flag.as_deref().unwrap_or_default();
        warn(format_args!(
            "pid {} ({}) was matched but not signalled and still runs: {flag} includes it",
            s.pid,
            sanitize(&s.name)
        ));
    }
    for p in &report.ports {
        if let Some(r) = &p.retaken {
            warn(retaken_line(p, r, &report));
        } else if !p.usable(opts.strict) && !said(p) {
            warn(format_args!(
                "{} is still {}{}",
                p.name(),
                output::port_state(p, opts.strict),
                connection_hint(p, &report)
            ));
        }
    }
    for c in &report.cgroups {
        let how = if c.cgroup_kill { " after cgroup.kill" } else { "" };
        match c.empty {
            Some(true) if human && !style.quiet && unwritten.is_none() => {
                if let Err(e) = emit(&format!("cgroup {} is empty{how}\n", sanitize(&c.path))) {
                    unwritten = Some(e);
                }
            }
            Some(true) => {}
            Some(false) => warn(format_args!("cgroup {} still holds processes{how}", sanitize(&c.path))),
            None => warn(format_args!(
                "cgroup {}: could not read whether it is empty (no cgroup2 mount, or no such cgroup)",
                sanitize(&c.path)
            )),
        }
    }
    if let Some(e) = unwritten {
        warn(format_args!("could not write to stdout: {e} (the exit code still says how the kill went)"));
    }
    if report.interrupted {
        warn("interrupted; every stopped process was continued");
        return Ok(Exit::Interrupted);
    }
    // A process that could not be checked is not one that did not match: no success.
    Ok(if report.success() && plan.env_unchecked.is_empty() { Exit::Success } else { Exit::Failure })
}

/// `skipping 812 (redis-server): it belongs to uid 65534 (nobody), ...; --all-users includes it`.
pub(crate) fn skipped_line(s: &Skipped) -> String {
    // The reason may quote another process's arguments (a port proxy's `-container-ip`).
    let flag = s.flag.as_ref().map_or_else(String::new, |f| format!("; {} includes it", sanitize(f)));
    format!("skipping {} ({}): {}{flag}", s.pid, sanitize(&s.name), sanitize(&s.why))
}

/// Why a port is still held by a process that was not a target, when the reason is that it
/// holds a connection rather than the listener (a helper that outlived its server).
fn connection_hint(p: &PortState, report: &KillReport) -> String {
    let targets: std::collections::HashSet<u32> = report.targets.iter().map(|t| t.pid).collect();
    let strays = p.sockets.iter().any(|s| !s.is_listening() && s.holders.iter().any(|h| !targets.contains(h)));
    if strays {
        "; it holds a connection on the port, not the listener, and was not a target (--state any selects connection holders)"
            .into()
    } else {
        String::new()
    }
}

/// `tcp port 5700 was taken again 420 ms later by pid 913 (node), started by pid 812 (PM2): ...`.
fn retaken_line(p: &PortState, r: &Retaken, report: &KillReport) -> String {
    let mut snap = Snapshot::new();
    snap.load_processes(r.holders.iter().chain(&r.parents).copied());
    let name =
        |pid: u32| snap.process(pid).map_or_else(|| pid.to_string(), |x| format!("{pid} ({})", sanitize(&x.name)));
    let by: Vec<String> = r.holders.iter().map(|&h| name(h)).collect();
    let from: Vec<String> = r.parents.iter().map(|&h| name(h)).collect();
    let started = if from.is_empty() { String::new() } else { format!(", started by pid {}", from.join(", ")) };
    let known = r.parents.iter().any(|pp| report.supervisors.iter().any(|s| s.pid == *pp));
    let advice = if known || !from.is_empty() {
        "; a supervisor restarts it: stop it through the supervisor instead (pm2 stop/delete NAME, supervisorctl stop NAME, systemctl stop UNIT), or kill the supervisor too"
    } else {
        ""
    };
    format!(
        "{} was taken again {} ms after it was free, by pid {}{started}{advice}",
        p.name(),
        r.after_ms,
        by.join(", ")
    )
}

/// The plan's supervisors, one note each: they are not targets and may restart what goes.
pub(crate) fn supervisors_text(plan: &Plan) -> String {
    let mut s = String::new();
    for sup in &plan.supervisors {
        let kids: Vec<String> = sup.children.iter().map(u32::to_string).collect();
        let cmd = output::command(&sup.cmdline, &sup.name);
        let _ = writeln!(
            s,
            "note: pid {} ({}) started {} and is not a target: if it restarts what it started, the port is taken again",
            sup.pid,
            output::truncate(&cmd, 60),
            kids.join(", ")
        );
    }
    s
}

/// The progress line on stderr while a step waits.
struct Progress {
    active: bool,
}

impl Progress {
    fn show(&mut self, alive: &[u32], remaining: Duration) {
        let mut pids: String = alive.iter().take(8).map(|p| format!(" {p}")).collect();
        if alive.len() > 8 {
            pids.push_str(" ...");
        }
        to_stderr(&format!("\r\x1b[2Kwaiting {:.1}s for {} process(es):{pids}", remaining.as_secs_f64(), alive.len()));
        self.active = true;
    }

    fn clear(&mut self, _style: &Style) {
        if self.active {
            to_stderr("\r\x1b[2K");
            self.active = false;
        }
    }
}

/// An outcome's word in its traffic-light colour: exited green, killed yellow, survived and
/// denied red.
fn paint(s: &str, outcome: Outcome, style: &Style) -> String {
    match outcome {
        Outcome::Exited => style.paint(s, Paint::Green),
        Outcome::Killed => style.paint(s, Paint::Yellow),
        Outcome::Survived | Outcome::Denied => style.paint(s, Paint::Red),
        Outcome::Gone | Outcome::Planned => s.to_string(),
    }
}

fn command(t: &TargetReport) -> String {
    output::command(&t.cmdline, &t.name)
}

fn signals(t: &TargetReport) -> String {
    t.signals.join(", ")
}

/// `1234 python3 server.py  SIGTERM -> exited in 12 ms`.
pub(crate) fn target_line(t: &TargetReport, style: &Style) -> String {
    let word = paint(t.outcome.as_str(), t.outcome, style);
    let what = match t.outcome {
        Outcome::Exited | Outcome::Killed => {
            format!("{} -> {word} in {} ms", signals(t), t.elapsed_ms.unwrap_or(0))
        }
        Outcome::Gone => format!("{word} (exited before it was signalled)"),
        Outcome::Denied => format!("{word} (owned by {})", sanitize(&t.user)),
        Outcome::Survived if t.signals.is_empty() => format!("{word} (could not be signalled)"),
        Outcome::Survived => format!("{} -> {word}", signals(t)),
        Outcome::Planned => format!("would get {}", signals(t)),
    };
    format!("{} {}  {what}{}", t.pid, command(t), note(t))
}

/// `  (note: ...)` when the engine has something to say about how a target was signalled.
fn note(t: &TargetReport) -> String {
    t.note.as_ref().map_or_else(String::new, |n| format!("  (note: {})", sanitize(n)))
}

pub(crate) fn summary(r: &KillReport, style: &Style) -> String {
    if r.targets.is_empty() {
        return if r.skipped.is_empty() {
            "nothing matched\n".into()
        } else {
            format!("nothing signalled: {} skipped (see above)\n", r.skipped.len())
        };
    }
    let counts = kill::tally(r);
    let order = [Outcome::Exited, Outcome::Killed, Outcome::Gone, Outcome::Denied, Outcome::Survived];
    let parts: Vec<String> =
        order.iter().filter_map(|o| counts.get(o).map(|n| format!("{n} {}", paint(o.as_str(), *o, style)))).collect();
    let n = r.targets.len();
    format!("{n} target{}: {}\n", if n == 1 { "" } else { "s" }, parts.join(", "))
}

/// The ports' end states, but for those `skip` says were explained already.
fn ports_text(ports: &[PortState], strict: bool, style: &Style, skip: &dyn Fn(&PortState) -> bool) -> String {
    let mut s = String::new();
    for p in ports.iter().filter(|p| !skip(p)) {
        let state = output::port_state(p, strict);
        let painted = if p.usable(strict) && p.retaken.is_none() {
            paint(&state, Outcome::Exited, style)
        } else {
            paint(&state, Outcome::Survived, style)
        };
        let _ = writeln!(s, "{}: {painted}", p.name());
    }
    s
}

fn sequence_text(seq: &Sequence) -> String {
    let steps: Vec<String> =
        seq.steps.iter().map(|s| format!("{}, wait {}", s.signal.name(), output::age(s.wait))).collect();
    steps.join(", then ")
}

/// The plan as a forest, depth first: each target right under its parent, indented one step
/// deeper, siblings in plan order; matches marked with `*`.
pub(crate) fn plan_text(plan: &Plan, seq: &Sequence, _style: &Style) -> String {
    if plan.targets.is_empty() {
        return "nothing matched\n".into();
    }
    let n = plan.targets.len();
    let mut s = format!("would signal {n} process{}: {}\n", if n == 1 { "" } else { "es" }, sequence_text(seq));
    for node in output::forest(plan.targets.iter().map(|t| (t.pid, t.ppid))) {
        let t = &plan.targets[node.index];
        let mark = if t.matched { "* " } else { "  " };
        let indent = "   ".repeat(node.last.len());
        let _ = writeln!(s, "{indent}{mark}{} {}  ({}){}", t.pid, command(t), sanitize(&t.user), note(t));
    }
    // Under the tree (which stays one line a process): the origin of each match that something
    // may start again or that has a better way to stop (`reaper why` has the whole chain).
    for t in &plan.targets {
        if let Some(o) = t.origin.as_ref().filter(|o| o.stop.is_some() || o.restarted_by.is_some()) {
            let _ = writeln!(s, "origin of {}: {}", t.pid, super::why::summary(o));
        }
    }
    s
}

/// `--format pid`: one line per target.
fn target_pids(r: &KillReport) -> String {
    output::pids(r.targets.iter().map(|t| t.pid))
}

/// Shows the plan on stderr and asks; anything but `y`/`yes` is no.
fn confirm(plan: &Plan, seq: &Sequence, style: &Style) -> Result<bool> {
    to_stderr(&(plan_text(plan, seq, style) + &supervisors_text(plan) + "proceed? [y/N] "));
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
