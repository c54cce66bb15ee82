//! Rendering: tables, trees, JSON and pid lists. Everything a process chose about itself (its
//! name, its arguments) is sanitised before it reaches a terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use comfy_table::{Cell, Table, presets};
use reaper::ports::{HeldSocket, Lingering, PortState, Verdict};
use reaper::spec::DisplayDuration;
use reaper::{PortEntry, ProcessRecord};

use super::args::Format;

/// Escapes control characters (C0, DEL, C1) so that a command line cannot move the cursor,
/// change colours or fake extra lines. Printable text, including non-ASCII, is kept.
///
/// A backslash is printed as it is (Windows paths read as paths), unless the text after it
/// would read as one of the escapes written here (`\n`, `\r`, `\t`, `\xHH`, `\u{`): then it
/// is written `\x5c`, so that no name can forge an escape (a literal `\x1b` in an argument
/// prints `\x5cx1b`, never what an ESC prints). On Windows, where `\` separates path
/// components (`\node_modules`, `\resources`), controls are always written `\xHH`, so that
/// only `\xHH` and `\u{` after a backslash need that.
pub fn sanitize(s: &str) -> String {
    sanitize_for(s, !cfg!(windows))
}

/// [`sanitize`], with or without the short escapes `\n`, `\r`, `\t`.
fn sanitize_for(s: &str, short: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' if short => out.push_str("\\n"),
            '\r' if short => out.push_str("\\r"),
            '\t' if short => out.push_str("\\t"),
            '\\' if reads_as_escape(chars.clone(), short) => out.push_str("\\x5c"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // Bidirectional overrides can reorder what a reader sees.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a backslash followed by `rest` would read as an escape of [`sanitize_for`].
fn reads_as_escape(mut rest: impl Iterator<Item = char>, short: bool) -> bool {
    match rest.next() {
        Some('n' | 'r' | 't') => short,
        Some('x') => rest.take(2).filter(char::is_ascii_hexdigit).count() == 2,
        Some('u') => rest.next() == Some('{'),
        _ => false,
    }
}

/// A command for display: its arguments joined by spaces, or `[name]` when it has none (a kernel
/// thread, a zombie), sanitised. The one rendering of a command line, for `list`, `tree` and `kill`.
pub fn command(cmdline: &[String], name: &str) -> String {
    if cmdline.is_empty() { format!("[{}]", sanitize(name)) } else { sanitize(&cmdline.join(" ")) }
}

/// `tcp 127.0.0.1:3000`, `udp [::1]:53`, with the state when it is not the usual one.
pub fn port(p: &PortEntry) -> String {
    let addr = if p.family == 6 { format!("[{}]", p.local_addr) } else { p.local_addr.clone() };
    let mut s = format!("{} {}:{}", p.proto, addr, p.local_port);
    if p.state != "LISTEN" && p.state != "UNCONN" {
        let _ = write!(s, " ({})", p.state);
    }
    if let Some(ns) = &p.netns {
        let _ = write!(s, " {}", sanitize(ns));
    }
    s
}

/// `850ms`, `12s`, `5m`, `3h`, `2d`: the library's one duration formatter, rounded for people.
pub fn age(d: Duration) -> String {
    DisplayDuration::rounded(d).to_string()
}

/// `value` as pretty JSON and a newline: the one JSON renderer (`list`, `tree`, `kill`).
pub fn json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

/// One pid a line: `--format pid`.
pub fn pids(pids: impl IntoIterator<Item = u32>) -> String {
    pids.into_iter().map(|p| format!("{p}\n")).collect()
}

/// The `list` table: a row per record, then the `extra` rows as they are (holders that are
/// not visible).
pub fn table(records: &[ProcessRecord], extra: &[[String; 6]], tty: bool) -> String {
    // CONTAINER only when some row is in one: a narrow terminal keeps its room otherwise.
    let containers = records.iter().any(|r| r.container.is_some());
    let mut header = vec!["PID", "PPID", "USER", "AGE", "PORTS", "COMMAND"];
    if containers {
        header.insert(5, "CONTAINER");
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut short_ports: Vec<String> = Vec::new();
    for r in records {
        let ports: Vec<String> = r.ports.iter().map(port).collect();
        let mut short: Vec<String> = r.ports.iter().map(|p| format!("{}:{}", p.proto, p.local_port)).collect();
        short.dedup();
        short_ports.push(short.join("\n"));
        let mut row = vec![
            r.pid.to_string(),
            r.ppid.to_string(),
            sanitize(&r.user),
            age(Duration::from_millis(r.age_ms as u64)),
            ports.join("\n"),
            command(&r.cmdline, &r.name),
        ];
        if containers {
            row.insert(5, r.container.as_ref().map_or_else(|| "-".into(), |c| sanitize(&c.label())));
        }
        rows.push(row);
    }
    for row in extra {
        let mut row = row.to_vec();
        short_ports.push(row[4].clone());
        if containers {
            row.insert(5, "-".into());
        }
        rows.push(row);
    }
    // Fit a terminal's width (when it has one: a pseudo-terminal never sized, as under `script`
    // or some CI runners, reports 0 columns; then COLUMNS says, or nothing is fitted): drop
    // columns before splitting a value, and wrap the command line at its spaces.
    if let Some(w) = terminal_width().filter(|_| tty) {
        fit(&mut header, &mut rows, &short_ports, w);
    }
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.force_no_tty();
    t.set_header(header);
    for row in rows {
        t.add_row(row.into_iter().map(Cell::new).collect::<Vec<_>>());
    }
    let mut s = t.to_string();
    // comfy-table pads the last column; keep lines clean for grep and diff.
    s = s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    s.push('\n');
    s
}

/// The fewest characters the last column (the command line) keeps before columns are dropped.
const MIN_COMMAND: usize = 24;

/// Fits a table to `width` columns: drops PPID, then AGE, then CONTAINER, then USER, then
/// shortens the ports to `tcp:3000` (`short_ports`, one per row), until the other columns fit
/// whole and the last one has [`MIN_COMMAND`] characters; then wraps the last column at
/// token boundaries (a token longer than a line is the only thing cut).
fn fit(header: &mut Vec<&str>, rows: &mut [Vec<String>], short_ports: &[String], width: usize) {
    let widest = |header: &[&str], rows: &[Vec<String>], i: usize| {
        rows.iter()
            .map(|r| r[i].lines().map(|l| l.chars().count()).max().unwrap_or(0))
            .chain(std::iter::once(header[i].len()))
            .max()
            .unwrap_or(0)
    };
    // Each column is padded by one space on each side.
    let needed = |header: &[&str], rows: &[Vec<String>]| {
        let last = header.len() - 1;
        (0..last).map(|i| widest(header, rows, i) + 2).sum::<usize>() + 2 + MIN_COMMAND.min(widest(header, rows, last))
    };
    for drop in ["PPID", "AGE", "CONTAINER", "USER", "ports"] {
        if needed(header, rows) <= width {
            break;
        }
        if drop == "ports" {
            if let Some(i) = header.iter().position(|h| *h == "PORTS") {
                for (row, short) in rows.iter_mut().zip(short_ports) {
                    row[i].clone_from(short);
                }
            }
        } else if let Some(i) = header.iter().position(|h| *h == drop) {
            header.remove(i);
            for row in rows.iter_mut() {
                row.remove(i);
            }
        }
    }
    let last = header.len() - 1;
    let used: usize = (0..last).map(|i| widest(header, rows, i) + 2).sum::<usize>() + 2;
    let room = width.saturating_sub(used).max(MIN_COMMAND.min(width.max(1)));
    for row in rows.iter_mut() {
        row[last] = wrap_tokens(&row[last], room);
    }
}

/// `s` wrapped to lines of at most `width` characters, breaking at spaces; a token longer than
/// a line is broken after a `/` when it has one that fits, else cut (the only thing that is).
pub fn wrap_tokens(s: &str, width: usize) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split(' ') {
            let wl = word.chars().count();
            if len > 0 && len + 1 + wl > width {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            let mut rest: Vec<char> = word.chars().collect();
            while len + rest.len() > width {
                let room = width - len;
                // After the last `/` that fits, else at the edge.
                if room == 0 {
                    lines.push(std::mem::take(&mut line).trim_end().to_string());
                    len = 0;
                    continue;
                }
                let cut = rest[..room.min(rest.len())].iter().rposition(|&c| c == '/').map_or(room, |i| i + 1);
                line.extend(rest.drain(..cut.min(rest.len())));
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            len += rest.len();
            line.extend(rest);
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// A forest drawn with box characters: every record is a node, placed under its parent when the
/// parent is in the set too. Each match's `* PID` goes through `mark` (bold when colour is on).
/// With a `width` (a terminal's), long command lines are cut with `…` so that each line fits;
/// the ports after them stay whole.
pub fn tree_marked(
    records: &[ProcessRecord],
    matched: &BTreeSet<u32>,
    mark: &dyn Fn(&str) -> String,
    width: Option<usize>,
) -> String {
    let mut out = String::new();
    for node in forest(records.iter().map(|r| (r.pid, r.ppid))) {
        let r = &records[node.index];
        let (parents, last) = match node.last.split_last() {
            Some((&last, parents)) => (parents, Some(last)),
            None => (&[][..], None),
        };
        let prefix: String = parents.iter().map(|&l| if l { "   " } else { "│  " }).collect();
        let branch = match last {
            None => "",
            Some(true) => "└─ ",
            Some(false) => "├─ ",
        };
        let is_match = matched.contains(&r.pid);
        let head = if is_match { mark(&format!("* {}", r.pid)) } else { r.pid.to_string() };
        let mut ports: String = r.ports.iter().map(|p| format!("  [{}]", port(p))).collect();
        let container = r.container.as_ref().map(|c| format!("  {{{}}}", sanitize(&c.label()))).unwrap_or_default();
        ports.push_str(&container);
        let user = sanitize(&r.user);
        let mut cmd = command(&r.cmdline, &r.name);
        if let Some(width) = width {
            // Each line fits: the command line is cut first, and when fewer than MIN_CMD of its
            // characters would be left the ports lose their addresses (`[tcp:3000]`) and the
            // command line is cut further (a deep tree); then the owner goes, and only then is
            // the line's end cut.
            const MIN_CMD: usize = 12;
            let chars = |s: &str| s.chars().count();
            let lead = chars(&prefix) + chars(branch) + r.pid.to_string().len() + if is_match { 2 } else { 0 } + 1;
            let mut owner = format!(" ({user})");
            let fixed = |owner: &str, ports: &str| lead + chars(owner) + chars(ports);
            if fixed(&owner, &ports) + MIN_CMD.min(chars(&cmd)) > width {
                let mut short: Vec<String> = r.ports.iter().map(|p| format!("{}:{}", p.proto, p.local_port)).collect();
                short.dedup();
                ports = short.iter().map(|p| format!(" [{p}]")).collect();
                ports.push_str(&container);
            }
            if fixed(&owner, &ports) + 4 > width {
                owner.clear();
            }
            cmd = truncate(&cmd, width.saturating_sub(fixed(&owner, &ports)).max(4));
            let tail = truncate(&format!("{cmd}{owner}{ports}"), width.saturating_sub(lead).max(1));
            let _ = writeln!(out, "{prefix}{branch}{head} {tail}");
            continue;
        }
        let _ = writeln!(out, "{prefix}{branch}{head} {cmd} ({user}){ports}");
    }
    out
}

/// A node of [`forest`]: which item, and for it and each of its ancestors below the root,
/// whether it is the last of its siblings (empty for a root; its length is the depth).
pub struct Node {
    /// The item's index in the input.
    pub index: usize,
    /// Last-of-siblings flags from the root's child down to this node.
    pub last: Vec<bool>,
}

/// The one tree walk of the output: `(pid, ppid)` items in depth-first order, each under its
/// parent when the parent is an item too, roots and siblings in input order. Every item comes
/// once: items whose parent chain loops (impossible in a consistent snapshot) come from the top
/// level.
pub fn forest(items: impl IntoIterator<Item = (u32, u32)>) -> Vec<Node> {
    let items: Vec<(u32, u32)> = items.into_iter().collect();
    let n = items.len();
    let index: BTreeMap<u32, usize> = items.iter().enumerate().map(|(i, &(pid, _))| (pid, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, &(pid, ppid)) in items.iter().enumerate() {
        match index.get(&ppid) {
            Some(&parent) if ppid != pid && parent != i => children[parent].push(i),
            _ => roots.push(i),
        }
    }
    let mut shown = vec![false; n];
    let mut out = Vec::with_capacity(n);
    for start in roots.into_iter().chain(0..n) {
        let mut stack = vec![(start, Vec::new())];
        while let Some((i, last)) = stack.pop() {
            if std::mem::replace(&mut shown[i], true) {
                continue;
            }
            let kids = &children[i];
            for (k, &c) in kids.iter().enumerate().rev() {
                let mut l: Vec<bool> = last.clone();
                l.push(k + 1 == kids.len());
                stack.push((c, l));
            }
            out.push(Node { index: i, last });
        }
    }
    out
}

/// Why a matching socket has no visible holder. When reaper is not root, other users' fd tables
/// are unreadable and root would see more; as root, the holder is in another PID namespace or a
/// sandbox whose fd tables stay closed, or it exited between the socket dump and the fd scan.
/// `verb` is what root could then do with it ("see", "signal").
pub fn invisible_holder(verb: &str) -> String {
    if reaper::caller_uid() != 0 {
        format!("only root can {verb} it: run {}", sudo_command())
    } else {
        "it is in another PID namespace or a sandbox whose fd tables are closed even to root, or it just exited"
            .to_string()
    }
}

/// The command line reaper was started with, behind `sudo`: what to run when only root can
/// see or signal what was asked for. Arguments are quoted for a POSIX shell when they need it.
pub fn sudo_command() -> String {
    let quote = |a: String| {
        let plain = !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-+=:,./@%".contains(&b));
        if plain { a } else { format!("'{}'", a.replace('\'', r"'\''")) }
    };
    let args: Vec<String> = std::env::args().skip(1).map(|a| sanitize(&a)).map(quote).collect();
    if args.is_empty() { "sudo reaper".into() } else { format!("sudo reaper {}", args.join(" ")) }
}

/// The line for a matching socket without a visible holder.
pub fn unresolved(s: &reaper::Socket, verb: &str) -> String {
    if reaper::caller_uid() != 0 {
        let user = reaper::Snapshot::new().user_name(s.uid);
        return format!(
            "{} port {} ({}) is held by a process of {} (uid {}) that only root can {verb}: run {}",
            s.proto,
            s.local_port,
            s.local_addr,
            sanitize(&user),
            s.uid,
            sudo_command()
        );
    }
    format!(
        "{} port {} ({}) is held by uid {} but its process is not visible: {}",
        s.proto,
        s.local_port,
        s.local_addr,
        s.uid,
        invisible_holder(verb)
    )
}

/// The line for `--env` candidates whose environment could not be read.
pub fn env_unreadable(n: usize) -> String {
    let what = if n == 1 { "1 process's environment" } else { &format!("{n} processes' environments") };
    format!(
        "{what} could not be read (other users' need root; a few are closed even to root), so --env could not match it"
    )
}

/// `pid 812 (ssh-agent): its environment could not be read ...` for a process of the caller's
/// that `--env` could not check ([`reaper::Matches::env_unchecked`]); `what` is what was not
/// done to it (`signalled`, `listed`).
pub fn env_unchecked(pid: u32, what: &str) -> String {
    let name = reaper::read_process(pid).map_or_else(String::new, |p| format!(" ({})", sanitize(&p.name)));
    format!(
        "pid {pid}{name}: its environment could not be read (a process that made itself not dumpable), and no ancestor carries the --env entry, so --env could not check it; not {what} (select it by --pid, --name or --signature)"
    )
}

/// `held in another network namespace (netns:web): --all-netns ...` for the labels of
/// [`reaper::ports::held_elsewhere`], or `None` when there are none.
pub fn held_elsewhere(labels: &[String]) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let names: Vec<String> = labels.iter().map(|n| sanitize(n)).collect();
    Some(format!("held in another network namespace ({}): --all-netns shows who holds it there", names.join(", ")))
}

/// The line for network namespaces `--all-netns` could not read.
pub fn netns_denied(n: usize) -> String {
    let what = if n == 1 { "1 network namespace" } else { &format!("{n} network namespaces") };
    format!("{what} could not be read (entering one needs root): ports held there are not known")
}

/// `s` cut to at most `max` characters, the cut marked with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The width to fit output to on a terminal: the one it reports, or `COLUMNS` when it reports
/// none (a pseudo-terminal never sized, as under `script` or some CI runners, says 0 columns).
/// `None` below 20 columns: nothing sensible fits there, so nothing is fitted.
pub fn terminal_width() -> Option<usize> {
    let reported = Table::new().width().map(usize::from).filter(|&w| w > 0);
    let columns = || std::env::var("COLUMNS").ok()?.trim().parse::<usize>().ok();
    reported.or_else(columns).filter(|&w| w >= 20)
}

/// Writes `reaper: MSG` and a newline on stderr. An error writing it (stderr closed, or
/// `/dev/full`) is ignored: a message that cannot be shown must not turn into a panic, nor stop
/// what reaper is doing (a graceful stop of a tree, say).
pub fn warn(msg: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "reaper: {msg}");
}

/// Writes `s` to stderr as it is (prompts, progress lines), ignoring errors as [`warn`] does.
pub fn to_stderr(s: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(s.as_bytes()).and_then(|()| err.flush());
}

/// What a port's state means, for people: `free`; `free for a server that sets SO_REUSEADDR:
/// ...`; `held by pid 4242 (tcp 127.0.0.1:5700 CLOSE_WAIT)`. `strict`: TIME_WAIT counts as held.
pub fn port_state(p: &PortState, strict: bool) -> String {
    match p.state {
        Verdict::Free => "free".into(),
        Verdict::TimeWait => {
            let l = p.lingering.unwrap_or(Lingering { count: 0, expires_ms: None, reuse_bind: None });
            let n = l.count;
            let conns = format!("{n} ended connection{} in TIME_WAIT", if n == 1 { "" } else { "s" });
            let left = l.expires_ms.map_or_else(|| "up to 60s".to_string(), |ms| age(Duration::from_millis(ms)));
            if strict {
                format!("held by {conns} for {left} more (the kernel's: no process to signal)")
            } else if l.reuse_bind == Some(false) {
                format!(
                    "held by {conns} for {left} more: their server did not set SO_REUSEADDR, so no server can bind it until they go, not even one that sets it (a bind with SO_REUSEADDR fails now; the kernel's: no process to signal)"
                )
            } else {
                format!(
                    "free for a server that sets SO_REUSEADDR (most do); one that does not gets EADDRINUSE for {left} more ({conns}; --strict waits for them)"
                )
            }
        }
        Verdict::Held => {
            let parts: Vec<String> = p.sockets.iter().map(held_socket).collect();
            format!("held by {}", parts.join(", "))
        }
    }
}

/// `pid 4242 (tcp 127.0.0.1:5700 CLOSE_WAIT)`, or the owner uid when the process is not visible.
fn held_socket(s: &HeldSocket) -> String {
    let addr = if s.local_addr.contains(':') { format!("[{}]", s.local_addr) } else { s.local_addr.clone() };
    let mut what = format!("{} {addr}:{} {}", s.proto, s.local_port, s.state.as_str());
    if let Some(ns) = &s.netns {
        let _ = write!(what, " in {}", sanitize(ns));
    }
    if s.holders.is_empty() {
        let user = reaper::Snapshot::new().user_name(s.uid);
        format!("a process of {user} (uid {}) that is not visible ({what}): {}", s.uid, invisible_holder("see"))
    } else {
        let pids: Vec<String> = s.holders.iter().map(|p| format!("pid {p}")).collect();
        format!("{} ({what})", pids.join(" and "))
    }
}

/// Whether `format` is read by a person (who gets hints and progress lines) rather than by a
/// program. Every format says which it is: a new one does not compile until it does.
pub fn for_people(format: Format) -> bool {
    match format {
        Format::Table => true,
        Format::Json | Format::Pid => false,
    }
}

/// Writes `s` to stdout. A closed pipe (`reaper list | head -1`) is not an error: the reader
/// has what it wanted.
pub fn emit(s: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_tokens_breaks_at_spaces_then_slashes() {
        assert_eq!(wrap_tokens("python3 -m http.server 5700", 12), "python3 -m\nhttp.server\n5700");
        assert_eq!(
            wrap_tokens("/root/.pyenv/versions/3.11.7/bin/python3 -m x", 24),
            "/root/.pyenv/versions/\n3.11.7/bin/python3 -m x"
        );
        assert_eq!(wrap_tokens("abcdefghij", 4), "abcd\nefgh\nij");
        for w in 1..30 {
            for l in wrap_tokens("tcp 127.0.0.1:38060 /a/b/c/ddddddddddddd e", w).lines() {
                assert!(l.chars().count() <= w, "{w}: {l:?}");
            }
        }
    }

    fn record(pid: u32, ppid: u32, cmd: &str, port: u16) -> ProcessRecord {
        ProcessRecord {
            pid,
            ppid,
            pgid: pid,
            sid: pid,
            uid: 0,
            user: "root".into(),
            name: "python3".into(),
            exe: None,
            cmdline: cmd.split(' ').map(str::to_string).collect(),
            start_time: String::new(),
            age_ms: 0,
            state: "S".into(),
            orphan: false,
            ports: if port == 0 {
                Vec::new()
            } else {
                vec![PortEntry {
                    proto: reaper::Proto::Tcp,
                    family: 4,
                    local_addr: "127.0.0.1".into(),
                    local_port: port,
                    state: "LISTEN".into(),
                    netns: None,
                }]
            },
            children: Vec::new(),
            container: None,
            origin: None,
        }
    }

    // Regression: at 60 columns `--tree` lines overflowed and the port wrapped onto a line of
    // its own.
    #[test]
    fn tree_lines_fit_sixty_columns() {
        let long = "python3 /usr/lib/some/very/long/path/to/a/server.py --port 41234 --workers 8 --verbose";
        let records = [
            record(1, 0, "init", 0),
            record(4242, 1, long, 41234),
            record(4243, 4242, long, 41235),
            record(4244, 4243, long, 0),
        ];
        let matched = BTreeSet::from([4242]);
        for width in [60, 80, 200] {
            let text = tree_marked(&records, &matched, &|s| s.to_string(), Some(width));
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?} is {} long", line.chars().count());
            }
            assert!(text.contains("41234]") && text.contains("41235]"), "the ports stay: {text}");
        }
        // A deep tree: the owner goes before the port does.
        let mut deep: Vec<ProcessRecord> = (1..=11).map(|i| record(i, i - 1, long, 0)).collect();
        deep.push(record(4242, 11, long, 41234));
        let text = tree_marked(&deep, &matched, &|s| s.to_string(), Some(60));
        let holder = text.lines().find(|l| l.contains("* 4242")).unwrap_or_default();
        assert!(holder.ends_with("[tcp:41234]") && holder.chars().count() <= 60, "{text}");
        let wide = tree_marked(&records, &matched, &|s| s.to_string(), Some(200));
        assert!(wide.contains("[tcp 127.0.0.1:41234]") && wide.contains("--verbose"), "{wide}");
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("héllo", 3), "hé…");
    }

    #[test]
    fn sanitize_escapes_controls() {
        assert_eq!(sanitize("a\x1b[31mb\nc\td"), "a\\x1b[31mb\\nc\\td");
        assert_eq!(sanitize("héllo wörld"), "héllo wörld");
        assert_eq!(sanitize("\u{9b}x\u{7f}"), "\\x9bx\\x7f");
        assert_eq!(sanitize("a\u{202e}b"), "a\\u{202e}b");
    }

    // Table output once doubled every backslash of a Windows path.
    #[test]
    fn sanitize_keeps_backslashes_unless_they_would_forge_an_escape() {
        for short in [true, false] {
            let s = |t: &str| sanitize_for(t, short);
            assert_eq!(s(r"C:\Program Files\App\App.exe"), r"C:\Program Files\App\App.exe");
            assert_eq!(s(r"\\server\share"), r"\\server\share");
            // Text that would read as an escape keeps its backslash visible as `\x5c`.
            assert_eq!(s(r"a\x1b[2J"), r"a\x5cx1b[2J");
            assert_eq!(s(r"a\u{202e}"), r"a\x5cu{202e}");
            assert_eq!(s("a\\\x1b"), r"a\\x1b", "a backslash before a real ESC");
            assert_eq!(s(r"\xz \x1 \u \"), r"\xz \x1 \u \");
        }
        assert_eq!(sanitize_for(r"C:\node\tools\run", true), r"C:\x5cnode\x5ctools\x5crun");
        assert_eq!(sanitize_for(r"C:\node\tools\run", false), r"C:\node\tools\run");
        assert_eq!(sanitize_for("a\nb\tc", false), r"a\x0ab\x09c");
        assert_eq!(sanitize_for(r"C:\x64\x", false), r"C:\x5cx64\x");
    }

    #[test]
    fn ages() {
        assert_eq!(age(Duration::from_millis(850)), "850ms");
        assert_eq!(age(Duration::from_secs(12)), "12s");
        assert_eq!(age(Duration::from_secs(300)), "5m");
        assert_eq!(age(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(age(Duration::from_secs(3 * 86_400)), "3d");
    }

    #[test]
    fn forest_places_children_under_parents_and_shows_loops_once() {
        let walk = |items: &[(u32, u32)]| -> Vec<(usize, Vec<bool>)> {
            forest(items.iter().copied()).into_iter().map(|n| (n.index, n.last)).collect()
        };
        // 10 -> {11 -> 13, 12}; 20 is a root of its own.
        assert_eq!(
            walk(&[(10, 1), (11, 10), (12, 10), (20, 1), (13, 11)]),
            vec![(0, vec![]), (1, vec![false]), (4, vec![false, true]), (2, vec![true]), (3, vec![])]
        );
        // A parent chain that loops (5 <-> 6) still shows both, once each.
        assert_eq!(walk(&[(5, 6), (6, 5)]), vec![(0, vec![]), (1, vec![true])]);
    }
}
