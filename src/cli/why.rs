//! `reaper why`: selection -> snapshot -> matches -> provenance ([`reaper::origin`]) -> output.
//! For each match, the chain that explains it from the nearest cause outward, whether something
//! starts it again, and the right way to stop it. Also the picker's view of the same facts.

use std::fmt::Write as _;

use anyhow::Result;
use reaper::origin::{self, Origin, Restarts};
use reaper::{Snapshot, select};
use serde::Serialize;

use super::args::{Format, WhyArgs};
use super::config::{self, Style};
use super::exit::Exit;
use super::output::{self, sanitize};

/// One explained process, as `why --format json` prints it.
#[derive(Debug, Serialize)]
pub struct WhyRecord {
    /// Process id.
    pub pid: u32,
    /// Parent pid.
    pub ppid: u32,
    /// Kernel name.
    pub name: String,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Owner's name.
    pub user: String,
    /// Where it comes from.
    pub origin: Origin,
}

/// Runs `reaper why`. Exit 0: every match explained; 1: nothing matched; 3: some record of a
/// match could not be read (its chain is shown as far as it goes, and what was not read is
/// named), or a selected port is held by a process that is not visible.
pub fn why(args: &WhyArgs, style: &Style) -> Result<Exit> {
    let sel = config::selection(&args.select)?;
    let mut snap = Snapshot::new();
    let matches = select::find(&sel, &mut snap)?;
    // A kernel thread is never a match (no selector lists one), but `--pid` naming one is
    // answered: the kernel runs it.
    let mut pids = matches.pids.clone();
    for &pid in &sel.pids {
        if !pids.contains(&pid) && reaper::read_process(pid).is_some_and(|p| p.kernel_thread) {
            pids.push(pid);
        }
    }
    snap.load_details(pids.iter().copied());
    let mut records = Vec::new();
    for &pid in &pids {
        let Some(origin) = origin::explain(&mut snap, pid) else { continue };
        let Some(p) = snap.process(pid).cloned() else { continue };
        records.push(WhyRecord {
            pid,
            ppid: p.ppid,
            user: snap.user_name(p.uid),
            cmdline: p.cmdline.clone().unwrap_or_default(),
            name: p.name,
            origin,
        });
    }
    let out = match args.format {
        Format::Json => output::json(&records)?,
        Format::Pid => output::pids(records.iter().map(|r| r.pid)),
        Format::Table if style.quiet => String::new(),
        Format::Table => records.iter().map(text).collect::<Vec<_>>().join("\n"),
    };
    output::emit(&out)?;
    for s in &matches.unresolved {
        output::warn(output::unresolved(s, "explain"));
    }
    if records.is_empty() && matches.unresolved.is_empty() && !style.quiet && output::for_people(args.format) {
        output::warn("no process matches");
    }
    // A held port whose process is not visible is not "nothing matched": it cannot be explained.
    Ok(if !matches.unresolved.is_empty() || records.iter().any(|r| !r.origin.unread.is_empty()) {
        Exit::Error
    } else if records.is_empty() {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// One process's explanation for people:
///
/// ```text
/// 4242 python3 -m http.server 8000  (root)
///   <- supervisord (pid 4200) program web: autorestart=true
///   <- init (pid 1) systemd: ...
///   restarts: yes, by supervisord (pid 4200) program web
///   stop it with: supervisorctl -c /etc/supervisor/supervisord.conf stop web
/// ```
pub(crate) fn text(r: &WhyRecord) -> String {
    let mut s = format!("{} {}  ({})\n", r.pid, output::command(&r.cmdline, &r.name), sanitize(&r.user));
    s.push_str(&chain_text(&r.origin, "  "));
    s
}

/// The chain, the restart verdict, the stop command and what was not read, each line indented.
pub(crate) fn chain_text(o: &Origin, indent: &str) -> String {
    let mut s = String::new();
    for c in &o.chain {
        let mut extra: Vec<String> = Vec::new();
        extra.extend(c.detail.clone());
        extra.extend(c.policy.clone());
        if let Some(n) = c.restart_count {
            extra.push(format!("restarted {n} time{}", if n == 1 { "" } else { "s" }));
        }
        let extra = if extra.is_empty() { String::new() } else { format!(": {}", extra.join("; ")) };
        let _ = writeln!(s, "{indent}<- {}{}", sanitize(&c.label()), sanitize(&extra));
    }
    let verdict = match (o.restarts, &o.restarted_by) {
        (Restarts::Yes, Some(by)) => format!("yes, by {by}"),
        (Restarts::Unknown, Some(by)) => format!("unknown ({by} may)"),
        (Restarts::Unknown, None) => "unknown (the parent may, or may not)".into(),
        (r, _) => r.as_str().into(),
    };
    let _ = writeln!(s, "{indent}restarts: {}", sanitize(&verdict));
    if let Some(stop) = &o.stop {
        let _ = writeln!(s, "{indent}stop it with: {}", sanitize(stop));
    }
    for u in &o.unread {
        let _ = writeln!(s, "{indent}not read: {}", sanitize(u));
    }
    s
}

/// The picker's line about the highlighted process: its nearest cause and whether something
/// starts it again (`origin: supervisord (pid 4200) program web; restarts: yes`).
pub(crate) fn picker_line(pid: u32) -> Option<String> {
    let o = origin::explain(&mut Snapshot::new(), pid)?;
    Some(format!("origin: {}", summary(&o)))
}

/// One line about an origin: the nearest cause, whether something starts it again, and the
/// stop command (`supervisord (pid 4200) program web; restarts: yes, by ...; stop it with: ...`).
pub(crate) fn summary(o: &Origin) -> String {
    let first = o.chain.first().map_or_else(|| "unknown".to_string(), |c| c.label());
    let by = match (&o.restarts, &o.restarted_by) {
        (Restarts::Yes, Some(by)) => format!("restarts: yes, by {by}"),
        (Restarts::Unknown, Some(by)) => format!("restarts: unknown ({by} may)"),
        (r, _) => format!("restarts: {}", r.as_str()),
    };
    let stop = o.stop.as_ref().map_or_else(String::new, |s| format!("; stop it with: {s}"));
    sanitize(&format!("{first}; {by}{stop}"))
}

/// Why the picker refuses to signal `pid`, from the plan's reading of where it comes from: a
/// supervisor outside the picked processes starts it again; what to run instead. `None` when
/// nothing outside `picked` restarts it.
pub(crate) fn picker_refusal(pid: u32, o: &Origin, picked: &[u32]) -> Option<String> {
    let by = o.restarter().filter(|by| by.pid.is_none_or(|sp| !picked.contains(&sp)))?;
    let stop = by.stop.as_ref().or(o.stop.as_ref()).map_or_else(String::new, |s| format!("; stop it with: {s}"));
    Some(sanitize(&format!("pid {pid}: {} starts it again when it ends: nothing signalled{stop}", by.label())))
}
