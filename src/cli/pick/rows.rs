//! The picker's rows: one per process, read through the library's snapshot (the same reads as
//! `reaper list`), with the CPU use measured between two refreshes.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use reaper::{PortEntry, Selection, Snapshot, select};

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

/// Reads rows, remembering each process's CPU time to measure the next read against.
#[derive(Default)]
pub struct Reader {
    last: HashMap<(u32, u64), (Duration, Instant)>,
}

impl Reader {
    /// Every process (everyone's, or the caller's own), sorted: holders of ports first, then the
    /// youngest first. Kernel threads, zombies and the picker itself are left out.
    pub fn read(&mut self, everyone: bool) -> reaper::Result<Vec<Row>> {
        let mut snap = Snapshot::new();
        // Who holds a listening port: what `reaper list` without a selector finds.
        let holders = select::find(&Selection::new(), &mut snap)?;
        snap.find_ports_of(&holders.pids)?;
        snap.load_all_processes()?;
        let me = reaper::caller_uid();
        let own = std::process::id();
        let pids: Vec<u32> = snap
            .processes()
            .filter(|p| !p.kernel_thread && !p.is_zombie() && p.pid != own && (everyone || p.uid == me))
            .map(|p| p.pid)
            .collect();
        snap.load_details(pids.iter().copied());
        let now = SystemTime::now();
        let at = Instant::now();
        let mut rows = Vec::with_capacity(pids.len());
        let mut last = HashMap::with_capacity(pids.len());
        for pid in pids {
            let Some(p) = snap.process(pid).cloned() else { continue };
            let usage = reaper::read_usage(pid).unwrap_or_default();
            let key = (pid, p.start_ticks);
            let cpu = self.last.get(&key).and_then(|&(before, when)| {
                let wall = at.duration_since(when).as_secs_f64();
                (wall > 0.0).then(|| usage.cpu.saturating_sub(before).as_secs_f64() / wall * 100.0)
            });
            last.insert(key, (usage.cpu, at));
            let cmdline = p.cmdline.clone().unwrap_or_default();
            rows.push(Row {
                pid,
                start_ticks: p.start_ticks,
                user: output::sanitize(&snap.user_name(p.uid)),
                age: p.age(now),
                cpu,
                rss: usage.rss_bytes,
                ports: snap.ports_of(pid),
                command: output::command(&cmdline, &p.name),
                short: short_command(&cmdline, &p.name),
                haystack: format!("{} {}", p.name, cmdline.join(" ")).to_lowercase(),
            });
        }
        self.last = last;
        rows.sort_by(|a, b| a.ports.is_empty().cmp(&b.ports.is_empty()).then(a.age.cmp(&b.age)));
        Ok(rows)
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
