//! `reaper list` and `reaper tree`: selection -> snapshot -> matches -> records -> output.

use std::collections::BTreeSet;

use anyhow::Result;
use reaper::{ProcessRecord, Snapshot, select};

use super::args::{Format, ListArgs, TreeArgs};
use super::config::{self, Paint, Style};
use super::exit::Exit;
use super::output;

/// Runs `reaper list`.
pub fn list(args: &ListArgs, style: &Style) -> Result<Exit> {
    let sel = config::selection(&args.select)?;
    let mut snap = Snapshot::new();
    let matches = select::find(&sel, &mut snap)?;
    let matched: BTreeSet<u32> = matches.pids.iter().copied().collect();
    // With --tree, show each match inside its ancestry and with its descendants.
    let shown: Vec<u32> = if args.tree {
        snap.load_all_processes()?;
        let mut set = matched.clone();
        for &pid in &matches.pids {
            set.extend(snap.ancestors(pid));
            set.extend(snap.descendants(pid));
        }
        set.into_iter().collect()
    } else {
        matches.pids.clone()
    };
    let out = render(&mut snap, &shown, &matched, args.format, args.tree, style);
    output::emit(&out)?;
    for s in &matches.unresolved {
        if !style.quiet {
            eprintln!("reaper: {}", output::unresolved(s, "see"));
        }
    }
    Ok(if matches.is_empty() { Exit::Failure } else { Exit::Success })
}

/// Runs `reaper tree PID`.
pub fn tree(args: &TreeArgs, style: &Style) -> Result<Exit> {
    let mut snap = Snapshot::new();
    snap.load_all_processes()?;
    if snap.process(args.pid).is_none() {
        return Err(reaper::Error::NoSuchProcess(args.pid).into());
    }
    snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true })?;
    let mut shown: BTreeSet<u32> = snap.ancestors(args.pid).into_iter().collect();
    shown.insert(args.pid);
    shown.extend(snap.descendants(args.pid));
    let shown: Vec<u32> = shown.into_iter().collect();
    let out = render(&mut snap, &shown, &BTreeSet::from([args.pid]), args.format, true, style);
    output::emit(&out)?;
    Ok(Exit::Success)
}

/// Loads what the records need (command lines, ports) and renders them.
fn render(
    snap: &mut Snapshot,
    pids: &[u32],
    matched: &BTreeSet<u32>,
    format: Format,
    tree: bool,
    style: &Style,
) -> String {
    if format == Format::Pid {
        return pids.iter().map(|p| format!("{p}\n")).collect();
    }
    if snap.sockets().is_empty() {
        // A query that never read the socket table (by signature, say) still shows ports.
        let _ = snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true });
    }
    snap.load_details(pids.iter().copied());
    snap.find_ports_of(pids);
    let records: Vec<ProcessRecord> = pids.iter().filter_map(|&pid| ProcessRecord::new(snap, pid)).collect();
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&records).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
        _ if tree => output::tree_marked(
            &records,
            matched,
            &|s| style.paint(s, Paint::Bold),
            if style.stdout_tty { output::terminal_width() } else { None },
        ),
        _ if records.is_empty() => String::new(),
        _ => style.bold_header(&output::table(&records, style.stdout_tty)),
    }
}
