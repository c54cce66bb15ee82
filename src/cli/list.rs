//! `reaper list` and `reaper tree`: selection -> snapshot -> matches -> records -> output.

use std::collections::BTreeSet;

use anyhow::Result;
use reaper::{PortEntry, ProcessRecord, Snapshot, select};
use serde::Serialize;

use super::args::{Format, ListArgs, TreeArgs};
use super::config::{self, Paint, Style};
use super::exit::Exit;
use super::output;

/// Runs `reaper list`.
pub fn list(args: &ListArgs, style: &Style) -> Result<Exit> {
    let sel = config::selection(&args.select)?;
    let mut snap = Snapshot::new();
    let mut matches = select::find(&sel, &mut snap)?;
    // The owner rule `kill` applies: a broad selector takes only the caller's processes unless
    // --all-users or --user, so that `list` shows what the same `kill` would take.
    let others = own_only(&sel, args.select.all_users, &mut snap, &mut matches.pids);
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
    // A held port whose process cannot be seen is still held: it is a row of its own.
    let hidden = hidden_holders(&mut snap, &matches.unresolved);
    let out = render(&mut snap, &shown, &matched, &hidden, args.format, args.tree, style)?;
    output::emit(&out)?;
    if !style.quiet {
        // A table or JSON has a row for each: said once, there. `--format pid` has no room.
        let rows_for_unresolved = match args.format {
            Format::Table | Format::Json => true,
            Format::Pid => false,
        };
        if !rows_for_unresolved {
            for s in &matches.unresolved {
                output::warn(output::unresolved(s, "see"));
            }
        }
        if matches.env_unreadable > 0 {
            output::warn(output::env_unreadable(matches.env_unreadable));
        }
        for &pid in &matches.env_unchecked {
            output::warn(output::env_unchecked(pid, "listed"));
        }
        if snap.netns_denied > 0 {
            output::warn(output::netns_denied(snap.netns_denied));
        }
        if others > 0 {
            let root = if reaper::caller_uid() == 0 { "" } else { "; only root can signal them" };
            output::warn(format_args!(
                "{others} process{} of other users match{} too and {} not shown: the selector is broad; --all-users shows {} (as kill --all-users would take {}){root}",
                if others == 1 { "" } else { "es" },
                if others == 1 { "es" } else { "" },
                if others == 1 { "is" } else { "are" },
                if others == 1 { "it" } else { "them" },
                if others == 1 { "it" } else { "them" },
            ));
        }
    }
    if matches.is_empty() && output::for_people(args.format) && !style.quiet && style.stderr_tty {
        output::warn(nothing_text(&sel)?);
    }
    Ok(if matches.is_empty() { Exit::Failure } else { Exit::Success })
}

/// Keeps in `pids` only the caller's processes when kill's owner rule applies (a broad
/// selector, no --all-users, no --user; not plain `list`, which kill refuses); returns how
/// many were left out.
fn own_only(sel: &reaper::Selection, all_users: bool, snap: &mut Snapshot, pids: &mut Vec<u32>) -> usize {
    let owner = if sel.is_empty() { None } else { reaper::plan::owner_rule(sel, all_users, reaper::caller_uid()) };
    let Some(me) = owner else {
        return 0;
    };
    let before = pids.len();
    snap.load_processes(pids.iter().copied());
    pids.retain(|&pid| snap.process(pid).is_none_or(|p| p.uid == me));
    before - pids.len()
}

/// What a terminal user sees when nothing matched: `nothing holds tcp/udp port 8080` (with what
/// lingers there), or `no process matches`.
fn nothing_text(sel: &reaper::Selection) -> Result<String> {
    if sel.ports.is_empty() {
        return Ok("no process matches".into());
    }
    let states = reaper::ports::survey(&mut Snapshot::new(), &sel.ports, sel.proto, reaper::ports::Holders::No)?;
    let lines: Vec<String> = states
        .iter()
        .map(|p| {
            let proto = if p.proto == "tcp+udp" { "tcp/udp" } else { p.proto.as_str() };
            let range = if p.last != p.port { format!("{}-{}", p.port, p.last) } else { p.port.to_string() };
            match p.state {
                reaper::ports::Verdict::Free => format!("nothing holds {proto} port {range}"),
                reaper::ports::Verdict::TimeWait | reaper::ports::Verdict::Held => {
                    format!("no listener on {proto} port {range}: {}", output::port_state(p, false))
                }
            }
        })
        .collect();
    let mut text = lines.join("\n");
    if !sel.all_netns {
        // Free in this host's network, but perhaps held in a container's or an `ip netns` one.
        if let Some(hint) =
            output::held_elsewhere(&reaper::ports::held_elsewhere(&sel.ports, sel.proto).unwrap_or_default())
        {
            text.push('\n');
            text.push_str(&hint);
        }
    }
    Ok(text)
}

/// A held socket whose process is not visible, as a row of `list`: pid `null`, the owner the
/// socket table gives, and what would show the process.
#[derive(Debug, Serialize)]
pub struct HiddenHolder {
    /// Always `null`: the process is not visible.
    pub pid: Option<u32>,
    /// Owner uid, from the socket table.
    pub uid: u32,
    /// Owner's name.
    pub user: String,
    /// The sockets it holds on the selected ports.
    pub ports: Vec<PortEntry>,
    /// Always `false`.
    pub visible: bool,
    /// What would show it.
    pub hint: String,
}

fn hidden_holders(snap: &mut Snapshot, unresolved: &[reaper::Socket]) -> Vec<HiddenHolder> {
    let mut by_uid: std::collections::BTreeMap<u32, Vec<PortEntry>> = std::collections::BTreeMap::new();
    for s in unresolved {
        let netns = snap.socket_netns(s.inode).map(reaper::snapshot::NetNs::label);
        by_uid.entry(s.uid).or_default().push(PortEntry { netns, ..PortEntry::of(s) });
    }
    by_uid
        .into_iter()
        .map(|(uid, mut ports)| {
            ports.sort();
            ports.dedup();
            HiddenHolder {
                pid: None,
                uid,
                user: snap.user_name(uid),
                ports,
                visible: false,
                hint: output::invisible_holder("see"),
            }
        })
        .collect()
}

/// Runs `reaper tree PID`.
pub fn tree(args: &TreeArgs, style: &Style) -> Result<Exit> {
    let mut snap = Snapshot::new();
    snap.load_all_processes()?;
    if snap.process(args.pid).is_none() {
        return Err(reaper::Error::NoSuchProcess(args.pid).into());
    }
    snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true })?;
    // The ancestry belongs to the drawing only: `kill $(reaper tree P --format pid)` must name
    // P and its descendants, never P's parents, the caller's shells or PID 1.
    let mut shown: BTreeSet<u32> = match args.format {
        Format::Pid => BTreeSet::new(),
        Format::Table | Format::Json => snap.ancestors(args.pid).into_iter().collect(),
    };
    shown.insert(args.pid);
    shown.extend(snap.descendants(args.pid));
    let shown: Vec<u32> = shown.into_iter().collect();
    let out = render(&mut snap, &shown, &BTreeSet::from([args.pid]), &[], args.format, true, style)?;
    output::emit(&out)?;
    Ok(Exit::Success)
}

/// Renders the processes `pids` in `format`, with the rows of holders that are not visible.
fn render(
    snap: &mut Snapshot,
    pids: &[u32],
    matched: &BTreeSet<u32>,
    hidden: &[HiddenHolder],
    format: Format,
    tree: bool,
    style: &Style,
) -> Result<String> {
    Ok(match format {
        Format::Pid => output::pids(pids.iter().copied()),
        Format::Json => {
            // Where each comes from (`origin`): JSON only, the table stays as fast as it was.
            let records: Vec<ProcessRecord> = records(snap, pids)?.into_iter().map(|r| r.with_origin(snap)).collect();
            #[derive(Serialize)]
            #[serde(untagged)]
            enum Row<'a> {
                Process(&'a ProcessRecord),
                Hidden(&'a HiddenHolder),
            }
            let rows: Vec<Row<'_>> = records.iter().map(Row::Process).chain(hidden.iter().map(Row::Hidden)).collect();
            output::json(&rows)?
        }
        Format::Table => {
            let records = records(snap, pids)?;
            if tree {
                output::tree_marked(
                    &records,
                    matched,
                    &|s| style.paint(s, Paint::Bold),
                    if style.stdout_tty { output::terminal_width() } else { None },
                )
            } else if records.is_empty() && hidden.is_empty() {
                String::new()
            } else {
                let extra: Vec<[String; 6]> = hidden
                    .iter()
                    .map(|h| {
                        let ports: Vec<String> = h.ports.iter().map(output::port).collect();
                        let who = format!("(not visible: {})", h.hint);
                        ["-".into(), "-".into(), output::sanitize(&h.user), "-".into(), ports.join("\n"), who]
                    })
                    .collect();
                style.bold_header(&output::table(&records, &extra, style.stdout_tty))
            }
        }
    })
}

/// The records of `pids`, with what they show loaded first (command lines, ports).
fn records(snap: &mut Snapshot, pids: &[u32]) -> Result<Vec<ProcessRecord>> {
    if snap.sockets().is_empty() {
        // A query that never read the socket table (by signature, say) still shows ports.
        snap.load_sockets(reaper::snapshot::SocketFilter { tcp: true, udp: true })?;
    }
    snap.load_details(pids.iter().copied());
    snap.find_ports_of(pids)?;
    Ok(pids.iter().filter_map(|&pid| ProcessRecord::new(snap, pid)).collect())
}
