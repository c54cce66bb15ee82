//! The picker's rows: one per process, read through the library's snapshot (the same reads as
//! `reaper list`), with the CPU use measured between two refreshes; what did not change since
//! the last refresh is not read again (see [`Reader`]).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use reaper::snapshot::SocketFilter;
use reaper::{PortEntry, Selection, Snapshot, Socket};

use crate::cli::output;

/// One process as the picker shows it.
#[derive(Clone, Debug)]
pub struct Row {
    /// Process id.
    pub pid: u32,
    /// Start time in the platform's units: with the pid, the identity that is killed.
    pub start_ticks: u64,
    /// Owner name, sanitised.
    pub user: Rc<str>,
    /// Age when read.
    pub age: Duration,
    /// CPU use since the last refresh, in percent of one core (`None` on the first read).
    pub cpu: Option<f64>,
    /// Resident memory in bytes.
    pub rss: u64,
    /// The listening sockets it holds (TCP listeners and bound UDP sockets).
    pub ports: Vec<PortEntry>,
    /// The command line for display (sanitised).
    pub command: Rc<str>,
    /// The same with the executable's base name instead of its path (`python3 app.py` for
    /// `/home/u/.pyenv/versions/3.11.7/bin/python3 app.py`): what tells rows apart on a
    /// narrow screen.
    pub short: Rc<str>,
    /// Name and command line, lower case: what the fuzzy filter searches.
    pub haystack: Rc<str>,
}

impl Row {
    /// The ports as `tcp:3000 udp:53`, each once: the `--port` syntax the filter takes.
    pub fn ports_text(&self) -> String {
        let mut seen: Vec<String> = Vec::new();
        for p in &self.ports {
            let s = format!("{}:{}", p.proto, p.local_port);
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen.join(" ")
    }
}

/// A process started this recently is scanned for new listening sockets at once; older ones
/// only in the full scans (at most one every [`FULL_SCAN_EVERY`]).
const YOUNG: Duration = Duration::from_secs(10);

/// How often, at most, every process's fd table is scanned for a listening socket whose holder
/// is not known yet (a long-running process that starts listening, or one reaper cannot see).
const FULL_SCAN_EVERY: Duration = Duration::from_secs(15);

/// Reads rows, keeping what does not change between refreshes. Each refresh reads, per
/// process, only its CPU time and memory (one `/proc/PID/stat` on Linux, as `top` does); the
/// command line, owner and identity only of a process not seen before; the listening sockets
/// (one socket-table dump), and the holder of a new one by scanning the fd tables of young
/// processes, the table of every process (the expensive part) only when that did not find it,
/// and not more often than [`FULL_SCAN_EVERY`].
#[derive(Default)]
pub struct Reader {
    /// Every process seen, by pid.
    known: HashMap<u32, Known>,
    /// User names by uid.
    users: HashMap<u32, Rc<str>>,
    /// The listening sockets now.
    listeners: Vec<Socket>,
    /// The holders of each listening socket, by inode, as far as found.
    owners: HashMap<u64, Vec<u32>>,
    /// Listening sockets a full scan found no holder of (not visible to the caller).
    unseen: HashSet<u64>,
    /// When every fd table was last scanned.
    last_full: Option<Instant>,
    /// The ports each process holds.
    ports: HashMap<u32, Vec<PortEntry>>,
    /// The listening sockets whose process cannot be seen (another user's, for a caller who is
    /// not root).
    pub hidden: Vec<Socket>,
}

/// A process seen before.
struct Known {
    /// Its row, but for the fields read each refresh.
    row: Row,
    uid: u32,
    start_time: SystemTime,
    /// Left out for good: a kernel thread.
    skip: bool,
    /// CPU time at the last refresh, and when it was read.
    cpu: Duration,
    at: Instant,
}

impl Reader {
    /// Every process (everyone's, or the caller's own), sorted: holders of ports first, then the
    /// youngest first. Kernel threads, zombies and the picker itself are left out.
    pub fn read(&mut self, everyone: bool) -> reaper::Result<Vec<Row>> {
        let me = reaper::caller_uid();
        let own = std::process::id();
        let now = SystemTime::now();
        let pids = reaper::list_pids()?;
        let mut fresh = Vec::new();
        let mut alive: HashSet<u32> = HashSet::with_capacity(pids.len());
        for &pid in &pids {
            alive.insert(pid);
            if pid == own {
                continue;
            }
            let Some(k) = self.known.get_mut(&pid) else {
                fresh.push(pid);
                continue;
            };
            if k.skip {
                continue;
            }
            let Some(usage) = reaper::read_usage(pid) else { continue };
            if usage.cpu < k.cpu {
                // Less CPU time than before: another process with a reused pid.
                fresh.push(pid);
                continue;
            }
            let at = Instant::now();
            let wall = at.duration_since(k.at).as_secs_f64();
            k.row.cpu = (wall > 0.0).then(|| usage.cpu.saturating_sub(k.cpu).as_secs_f64() / wall * 100.0);
            k.row.rss = usage.rss_bytes;
            k.row.age = now.duration_since(k.start_time).unwrap_or_default();
            k.cpu = usage.cpu;
            k.at = at;
        }
        self.known.retain(|pid, _| alive.contains(pid));
        for pid in &fresh {
            self.known.remove(pid);
        }
        let young: Vec<u32> = fresh
            .iter()
            .copied()
            .chain(self.known.iter().filter(|(_, k)| !k.skip && k.row.age < YOUNG).map(|(&pid, _)| pid))
            .collect();
        let everything = self.known.is_empty();
        self.read_ports(&fresh, &young, everything)?;
        if !fresh.is_empty() {
            self.remember(&fresh, now);
        }
        let mut rows: Vec<Row> = self
            .known
            .iter()
            .filter(|(_, k)| !k.skip && (everyone || k.uid == me))
            .map(|(pid, k)| Row { ports: self.ports.get(pid).cloned().unwrap_or_default(), ..k.row.clone() })
            .collect();
        rows.sort_by(|a, b| {
            a.ports.is_empty().cmp(&b.ports.is_empty()).then(a.age.cmp(&b.age)).then(a.pid.cmp(&b.pid))
        });
        Ok(rows)
    }

    /// Reads what is shown of processes not seen before: identity, owner, command line.
    fn remember(&mut self, fresh: &[u32], now: SystemTime) {
        let mut snap = Snapshot::new();
        snap.load_processes(fresh.iter().copied());
        let keep: Vec<u32> =
            fresh.iter().copied().filter(|&pid| snap.process(pid).is_some_and(|p| !p.is_zombie())).collect();
        snap.load_details(keep.iter().copied());
        for &pid in fresh {
            let Some(p) = snap.process(pid).cloned() else { continue };
            if p.is_zombie() {
                continue; // not remembered: read again next time (it is reaped soon)
            }
            let usage = reaper::read_usage(pid).unwrap_or_default();
            let user =
                Rc::clone(self.users.entry(p.uid).or_insert_with(|| output::sanitize(&snap.user_name(p.uid)).into()));
            let cmdline = p.cmdline.clone().unwrap_or_default();
            let row = Row {
                pid,
                start_ticks: p.start_ticks,
                user,
                age: p.age(now),
                cpu: None,
                rss: usage.rss_bytes,
                ports: Vec::new(),
                command: output::command(&cmdline, &p.name).into(),
                short: short_command(&cmdline, &p.name).into(),
                haystack: format!("{} {}", p.name, cmdline.join(" ")).to_lowercase().into(),
            };
            let k = Known {
                row,
                uid: p.uid,
                start_time: p.start_time,
                skip: p.kernel_thread,
                cpu: usage.cpu,
                at: Instant::now(),
            };
            self.known.insert(pid, k);
        }
    }

    /// Reads the listening sockets (TCP listeners, bound UDP sockets: what `reaper list` with no
    /// selector finds) and finds the holders of new ones: among `young` processes first, then
    /// (at most every [`FULL_SCAN_EVERY`]) among all; `fresh` ones are also scanned against
    /// every listener (a worker forked with its server's socket). `everything`: `young` is every
    /// process (the first read), so its scan is a full one.
    fn read_ports(&mut self, fresh: &[u32], young: &[u32], everything: bool) -> reaper::Result<()> {
        let mut snap = Snapshot::new();
        snap.load_listening_sockets(SocketFilter { tcp: true, udp: true })?;
        let all = Selection::new();
        self.listeners = snap.sockets().iter().filter(|s| all.socket_matches(s)).cloned().collect();
        let inodes: HashSet<u64> = self.listeners.iter().map(|s| s.inode).collect();
        self.owners.retain(|inode, _| inodes.contains(inode));
        self.unseen.retain(|inode| inodes.contains(inode));
        let new: HashSet<u64> =
            inodes.iter().copied().filter(|i| !self.owners.contains_key(i) && !self.unseen.contains(i)).collect();
        if !new.is_empty() {
            self.scan(&new, Some(young))?;
            let left: HashSet<u64> = new.iter().copied().filter(|i| !self.owners.contains_key(i)).collect();
            let due = self.last_full.is_none_or(|t| t.elapsed() >= FULL_SCAN_EVERY);
            if !left.is_empty() && (everything || due) {
                if !everything {
                    self.scan(&left, None)?;
                }
                self.last_full = Some(Instant::now());
                self.unseen.extend(left.iter().filter(|i| !self.owners.contains_key(i)));
            }
        }
        if !fresh.is_empty() && !everything {
            let old: HashSet<u64> = inodes.difference(&new).copied().collect();
            self.scan(&old, Some(fresh))?;
        }
        let mut ports: HashMap<u32, Vec<PortEntry>> = HashMap::new();
        for s in &self.listeners {
            for &pid in self.owners.get(&s.inode).map_or(&[][..], Vec::as_slice) {
                ports.entry(pid).or_default().push(PortEntry::of(s));
            }
        }
        for v in ports.values_mut() {
            v.sort();
            v.dedup();
        }
        self.ports = ports;
        self.hidden = self.listeners.iter().filter(|s| self.unseen.contains(&s.inode)).cloned().collect();
        Ok(())
    }

    /// Scans the fd tables of `among` (every process: `None`) for `inodes`, adding the holders.
    fn scan(&mut self, inodes: &HashSet<u64>, among: Option<&[u32]>) -> reaper::Result<()> {
        if inodes.is_empty() || among.is_some_and(<[u32]>::is_empty) {
            return Ok(());
        }
        let mut snap = Snapshot::new();
        snap.find_holders(inodes, among)?;
        for &inode in inodes {
            for &pid in snap.holders(inode) {
                let v = self.owners.entry(inode).or_default();
                if !v.contains(&pid) {
                    v.push(pid);
                }
            }
        }
        Ok(())
    }
}

/// The command line with the executable's base name (`python3 app.py`), sanitised.
pub fn short_command(cmdline: &[String], name: &str) -> String {
    match cmdline.split_first() {
        Some((exe, args)) => {
            let base = exe.rsplit('/').find(|s| !s.is_empty()).unwrap_or(exe);
            let argv: Vec<String> = std::iter::once(base.to_string()).chain(args.iter().cloned()).collect();
            output::command(&argv, name)
        }
        None => output::command(cmdline, name),
    }
}

/// `512K`, `37M`, `1.2G`: memory for a narrow column.
pub fn memory(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K * K {
        format!("{}K", bytes / 1024)
    } else if b < K * K * K {
        format!("{:.0}M", b / (K * K))
    } else {
        format!("{:.1}G", b / (K * K * K))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_command_is_the_base_name_and_the_arguments() {
        let argv = |a: &[&str]| a.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert_eq!(
            short_command(&argv(&["/root/.pyenv/versions/3.11.7/bin/python3", "-m", "http.server"]), "python3"),
            "python3 -m http.server"
        );
        assert_eq!(short_command(&argv(&["nginx: worker process"]), "nginx"), "nginx: worker process");
        assert_eq!(short_command(&[], "kworker"), "[kworker]");
    }

    #[test]
    fn memory_is_short() {
        assert_eq!(memory(512 * 1024), "512K");
        assert_eq!(memory(37 * 1024 * 1024), "37M");
        assert_eq!(memory(1288490188), "1.2G");
    }
}
