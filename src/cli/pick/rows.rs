//! The picker's rows: one per process, read through the library's snapshot (the same reads as
//! `reaper list`), with the CPU use measured between two refreshes; what did not change since
//! the last refresh is not read again (see [`Reader`]).

use std::collections::{HashMap, HashSet};
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
    pub user: String,
    /// Age when read.
    pub age: Duration,
    /// CPU use since the last refresh, in percent of one core (`None` on the first read).
    pub cpu: Option<f64>,
    /// Resident memory in bytes.
    pub rss: u64,
    /// The listening sockets it holds (TCP listeners and bound UDP sockets).
    pub ports: Vec<PortEntry>,
    /// The command line for display (sanitised).
    pub command: String,
    /// The same with the executable's base name instead of its path (`python3 app.py` for
    /// `/home/u/.pyenv/versions/3.11.7/bin/python3 app.py`): what tells rows apart on a
    /// narrow screen.
    pub short: String,
    /// Name and command line, lower case: what the fuzzy filter searches.
    pub haystack: String,
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

/// Reads rows, keeping what does not change between refreshes. Each refresh reads, per
/// process, only its CPU time and memory (one `/proc/PID/stat` on Linux, as `top` does); the
/// command line, owner and identity only of a process not seen before; the socket table's
/// listeners, and their owners (an fd scan of every process, the expensive part) only when the
/// set of listening sockets changed.
#[derive(Default)]
pub struct Reader {
    /// Every process seen, by pid.
    known: HashMap<u32, Known>,
    /// User names by uid.
    users: HashMap<u32, String>,
    /// The listening sockets' inodes at the last fd scan.
    inodes: HashSet<u64>,
    /// The listening sockets at the last fd scan.
    listeners: Vec<Socket>,
    /// The ports each process held at the last fd scan.
    ports: HashMap<u32, Vec<PortEntry>>,
    /// The listening sockets whose process the last fd scan could not see (another user's,
    /// for a caller who is not root).
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
        let rescanned = self.read_ports()?;
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
        if !fresh.is_empty() && !rescanned {
            self.ports_of_fresh(&fresh)?;
        }
        if !fresh.is_empty() {
            let mut snap = Snapshot::new();
            snap.load_processes(fresh.iter().copied());
            let keep: Vec<u32> =
                fresh.iter().copied().filter(|&pid| snap.process(pid).is_some_and(|p| !p.is_zombie())).collect();
            snap.load_details(keep.iter().copied());
            for pid in fresh {
                self.known.remove(&pid);
                let Some(p) = snap.process(pid).cloned() else { continue };
                if p.is_zombie() {
                    continue; // not remembered: read again next time (it is reaped soon)
                }
                let usage = reaper::read_usage(pid).unwrap_or_default();
                let user = self.users.entry(p.uid).or_insert_with(|| output::sanitize(&snap.user_name(p.uid))).clone();
                let cmdline = p.cmdline.clone().unwrap_or_default();
                let row = Row {
                    pid,
                    start_ticks: p.start_ticks,
                    user,
                    age: p.age(now),
                    cpu: None,
                    rss: usage.rss_bytes,
                    ports: Vec::new(),
                    command: output::command(&cmdline, &p.name),
                    short: short_command(&cmdline, &p.name),
                    haystack: format!("{} {}", p.name, cmdline.join(" ")).to_lowercase(),
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

    /// Reads the listening sockets (TCP listeners, bound UDP sockets: what `reaper list` with no
    /// selector finds), and who holds them when they are not the ones of the last scan.
    fn read_ports(&mut self) -> reaper::Result<bool> {
        let mut snap = Snapshot::new();
        snap.load_listening_sockets(SocketFilter { tcp: true, udp: true })?;
        let all = Selection::new();
        let inodes: HashSet<u64> = snap.sockets().iter().filter(|s| all.socket_matches(s)).map(|s| s.inode).collect();
        if inodes == self.inodes {
            return Ok(false);
        }
        snap.find_holders(&inodes, None)?;
        let mut ports: HashMap<u32, Vec<PortEntry>> = HashMap::new();
        for s in snap.sockets().iter().filter(|s| inodes.contains(&s.inode)) {
            for &pid in snap.holders(s.inode) {
                ports.entry(pid).or_default().push(PortEntry::of(s));
            }
        }
        for v in ports.values_mut() {
            v.sort();
            v.dedup();
        }
        self.ports = ports;
        self.inodes = inodes;
        self.listeners = snap.sockets().iter().filter(|s| self.inodes.contains(&s.inode)).cloned().collect();
        self.hidden = self.listeners.iter().filter(|s| snap.holders(s.inode).is_empty()).cloned().collect();
        Ok(true)
    }

    /// The listening sockets that processes not seen before hold (a worker forked with its
    /// server's listener, say): their fd tables alone are scanned.
    fn ports_of_fresh(&mut self, fresh: &[u32]) -> reaper::Result<()> {
        for pid in fresh {
            self.ports.remove(pid);
        }
        if self.inodes.is_empty() {
            return Ok(());
        }
        let mut snap = Snapshot::new();
        snap.find_holders(&self.inodes, Some(fresh))?;
        for s in &self.listeners {
            for &pid in snap.holders(s.inode) {
                let v = self.ports.entry(pid).or_default();
                v.push(PortEntry::of(s));
                v.sort();
                v.dedup();
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
