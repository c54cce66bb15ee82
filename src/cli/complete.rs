//! `reaper complete TARGET`: the live values the committed shell completions offer (listening
//! ports with the process holding each, pids with their command lines, user names), one a line
//! as `VALUE<TAB>WHAT`, the form fish reads as is; the bash and zsh scripts cut or reshape it.
//! Nothing here can fail loudly: a completion that finds nothing offers nothing.

use std::collections::BTreeMap;

use anyhow::Result;
use reaper::snapshot::SocketFilter;
use reaper::{Selection, Snapshot};

use super::args::{CompleteArgs, CompleteTarget};
use super::exit::Exit;
use super::output;

/// How much of a command line a pid's description shows.
const DESCRIPTION: usize = 60;

/// Runs `reaper complete TARGET`.
pub fn complete(args: &CompleteArgs) -> Result<Exit> {
    let lines = match args.target {
        CompleteTarget::Port => ports(),
        CompleteTarget::Pid => pids(),
        CompleteTarget::User => users(),
    };
    let mut out = String::new();
    for (value, what) in lines {
        // A tab or newline inside would break the line format: sanitised text has neither.
        out.push_str(&format!("{value}\t{}\n", output::truncate(&what, DESCRIPTION)));
    }
    output::emit(&out)?;
    Ok(Exit::Success)
}

/// Listening ports (TCP listeners, bound UDP sockets) and who holds each.
fn ports() -> Vec<(String, String)> {
    let mut snap = Snapshot::new();
    if snap.load_listening_sockets(SocketFilter { tcp: true, udp: true }).is_err() {
        return Vec::new();
    }
    let all = Selection::new();
    let sockets: Vec<reaper::Socket> = snap.sockets().iter().filter(|s| all.socket_matches(s)).cloned().collect();
    let inodes = sockets.iter().map(|s| s.inode).collect();
    let _ = snap.find_holders(&inodes, None);
    let mut by_port: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for s in &sockets {
        let holders = snap.holders(s.inode).to_vec();
        snap.load_processes(holders.iter().copied());
        let entry = by_port.entry(s.local_port).or_default();
        let names: Vec<String> = holders
            .iter()
            .map(|&pid| {
                snap.process(pid).map_or_else(|| pid.to_string(), |p| format!("{} ({pid})", output::sanitize(&p.name)))
            })
            .collect();
        let what = if names.is_empty() {
            format!("{} (uid {})", s.proto, s.uid)
        } else {
            format!("{} {}", s.proto, names.join(", "))
        };
        if !entry.contains(&what) {
            entry.push(what);
        }
    }
    by_port.into_iter().map(|(port, what)| (port.to_string(), what.join("; "))).collect()
}

/// Every process but kernel threads, with its command line.
fn pids() -> Vec<(String, String)> {
    let mut snap = Snapshot::new();
    if snap.load_all_processes().is_err() {
        return Vec::new();
    }
    let pids: Vec<u32> = snap.processes().filter(|p| !p.kernel_thread && !p.is_zombie()).map(|p| p.pid).collect();
    snap.load_details(pids.iter().copied());
    pids.iter()
        .filter_map(|&pid| {
            let p = snap.process(pid)?;
            Some((pid.to_string(), output::command(p.cmdline.as_deref().unwrap_or_default(), &p.name)))
        })
        .collect()
}

/// User names from the password database file (where there is one), with their uids.
fn users() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next().filter(|n| !n.is_empty())?;
            let uid = f.nth(1)?;
            Some((output::sanitize(name), format!("uid {}", output::sanitize(uid))))
        })
        .collect()
}
