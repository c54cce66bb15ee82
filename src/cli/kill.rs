//! `reaper kill`: selection -> plan -> (confirmation) -> signals and waits -> report -> output.
//! Lines about targets go to stdout as each target ends; errors (denied, survivors, held
//! ports, skipped processes) go to stderr, also with `-q`.

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::Result;
use reaper::kill::{self, Event, KillOptions, Plan};
use reaper::report::{KillReport, Outcome, PortReport, TargetReport};
use reaper::{Sequence, Snapshot};

use super::args::{Format, KillArgs};
use super::config::{self, Style};
use super::exit::Exit;
use super::output::{emit, sanitize};

/// Runs `reaper kill`.
pub fn kill(args: &KillArgs, style: &Style) -> Result<Exit> {
    let sel = config::selection(&args.select)?;
    let opts = KillOptions {
        sequence: args.sequence.sequence(),
        no_tree: args.no_tree,
        all_users: args.all_users,
        dry_run: args.dry_run,
    };
    let mut snap = Snapshot::new();
    let plan = kill::plan(&sel, &mut snap, &opts)?;
    if !style.quiet {
        for s in &plan.skipped {
            eprintln!("reaper: skipping {} ({}): {}", s.pid, sanitize(&s.name), s.why);
        }
        for s in &plan.unresolved {
            eprintln!("reaper: {}", super::output::unresolved(s, "signal"));
        }
    }
    let human = args.format == Format::Table;
    if args.dry_run {
        let report = kill::execute(&plan, &sel, &opts, &mut |_| {})?;
        let out = match args.format {
            Format::Table if style.quiet => String::new(),
            Format::Table => plan_text(&plan, &opts.sequence, style) + &ports_text(&report.ports, style),
            _ => render(&report, args.format),
        };
        emit(&out)?;
        return Ok(Exit::Success);
    }
    if style.stdin_tty && !args.yes && !plan.targets.is_empty() && !confirm(&plan, &opts.sequence, style)? {
        eprintln!("reaper: nothing signalled");
        return Ok(Exit::Failure);
    }
    let mut progress = Progress { active: false };
    let report = kill::execute(&plan, &sel, &opts, &mut |ev| match ev {
        Event::Ended(t) => {
            progress.clear(style);
            if human && !style.quiet {
                let _ = emit(&(target_line(t, style) + "\n"));
            }
            if t.outcome == Outcome::Denied {
                eprintln!(
                    "reaper: pid {} ({}): permission denied: it belongs to {}; run as that user or as root",
                    t.pid,
                    sanitize(&t.name),
                    sanitize(&t.user)
                );
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
        Format::Table => summary(&report, style) + &ports_text(&report.ports, style),
        _ => render(&report, args.format),
    };
    emit(&out)?;
    for t in report.targets.iter().filter(|t| t.outcome == Outcome::Survived) {
        eprintln!("reaper: pid {} ({}) survived {}", t.pid, sanitize(&t.name), signals(t));
    }
    for p in report.ports.iter().filter(|p| !p.free) {
        eprintln!("reaper: {} is still held{}", port_name(p), holders(p));
    }
    if report.interrupted {
        eprintln!("reaper: interrupted; every stopped process was continued");
        return Ok(Exit::Interrupted);
    }
    Ok(if report.success() { Exit::Success } else { Exit::Failure })
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
        eprint!("\r\x1b[2Kwaiting {:.1}s for {} process(es):{pids}", remaining.as_secs_f64(), alive.len());
        let _ = std::io::stderr().flush();
        self.active = true;
    }

    fn clear(&mut self, _style: &Style) {
        if self.active {
            eprint!("\r\x1b[2K");
            self.active = false;
        }
    }
}

fn paint(s: &str, outcome: Outcome, style: &Style) -> String {
    if !style.color {
        return s.to_string();
    }
    let code = match outcome {
        Outcome::Exited => "32",
        Outcome::Killed => "33",
        Outcome::Survived | Outcome::Denied => "31",
        Outcome::Gone | Outcome::Planned => return s.to_string(),
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn command(t: &TargetReport) -> String {
    if t.cmdline.is_empty() { format!("[{}]", sanitize(&t.name)) } else { sanitize(&t.cmdline.join(" ")) }
}

fn signals(t: &TargetReport) -> String {
    t.signals.join(", ")
}

/// `1234 python3 server.py  SIGTERM -> exited in 12 ms`.
fn target_line(t: &TargetReport, style: &Style) -> String {
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
    format!("{} {}  {what}", t.pid, command(t))
}

fn summary(r: &KillReport, style: &Style) -> String {
    if r.targets.is_empty() {
        return "nothing matched\n".into();
    }
    let counts = kill::tally(r);
    let order = [Outcome::Exited, Outcome::Killed, Outcome::Gone, Outcome::Denied, Outcome::Survived];
    let parts: Vec<String> =
        order.iter().filter_map(|o| counts.get(o).map(|n| format!("{n} {}", paint(o.as_str(), *o, style)))).collect();
    let n = r.targets.len();
    format!("{n} target{}: {}\n", if n == 1 { "" } else { "s" }, parts.join(", "))
}

fn port_name(p: &PortReport) -> String {
    let range = if p.last != p.port { format!("{}-{}", p.port, p.last) } else { p.port.to_string() };
    format!("{} port {range}", p.proto)
}

fn holders(p: &PortReport) -> String {
    if p.holders.is_empty() {
        format!(" (by a process that is not visible: {})", super::output::invisible_holder("see"))
    } else {
        let pids: Vec<String> = p.holders.iter().map(u32::to_string).collect();
        format!(" by pid {}", pids.join(", "))
    }
}

fn ports_text(ports: &[PortReport], style: &Style) -> String {
    let mut s = String::new();
    for p in ports {
        let state = if p.free {
            paint("free", Outcome::Exited, style)
        } else {
            paint("held", Outcome::Survived, style) + &holders(p)
        };
        let _ = writeln!(s, "{}: {state}", port_name(p));
    }
    s
}

fn sequence_text(seq: &Sequence) -> String {
    let steps: Vec<String> =
        seq.steps.iter().map(|s| format!("{}, wait {}", s.signal.name(), super::output::age(s.wait))).collect();
    steps.join(", then ")
}

/// The plan as a forest, depth first: each target right under its parent, indented one step
/// deeper, siblings in plan order; matches marked with `*`.
fn plan_text(plan: &Plan, seq: &Sequence, _style: &Style) -> String {
    if plan.targets.is_empty() {
        return "nothing matched\n".into();
    }
    let n = plan.targets.len();
    let mut s = format!("would signal {n} process{}: {}\n", if n == 1 { "" } else { "es" }, sequence_text(seq));
    let index: std::collections::HashMap<u32, usize> =
        plan.targets.iter().enumerate().map(|(i, t)| (t.pid, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, t) in plan.targets.iter().enumerate() {
        match index.get(&t.ppid) {
            Some(&parent) if parent != i => children[parent].push(i),
            _ => roots.push(i),
        }
    }
    let mut shown = vec![false; n];
    // Every target is shown once: one whose parent chain loops (impossible in a consistent
    // snapshot) is shown from the top level.
    for start in roots.into_iter().chain(0..n) {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut shown[i], true) {
                continue;
            }
            let t = &plan.targets[i];
            let mark = if t.matched { "* " } else { "  " };
            let _ = writeln!(s, "{}{mark}{} {}  ({})", "   ".repeat(depth), t.pid, command(t), sanitize(&t.user));
            stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
        }
    }
    s
}

fn render(r: &KillReport, format: Format) -> String {
    match format {
        Format::Pid => r.targets.iter().map(|t| format!("{}\n", t.pid)).collect(),
        _ => {
            let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|_| "{}".into());
            s.push('\n');
            s
        }
    }
}

/// Shows the plan on stderr and asks; anything but `y`/`yes` is no.
fn confirm(plan: &Plan, seq: &Sequence, style: &Style) -> Result<bool> {
    eprint!("{}", plan_text(plan, seq, style));
    eprint!("proceed? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
