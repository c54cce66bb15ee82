//! What the picker's filter line means: `:3000` (a port spec, as `--port` takes it: ranges,
//! `udp:53`, service names), a number (a pid, by its leading digits), or anything else, matched
//! fuzzily (its characters in order, case ignored) against the name and command line.

use reaper::PortSpec;

use super::rows::Row;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Nothing typed: every row.
    All,
    /// `:SPEC`: holders of a port in the spec.
    Port(PortSpec),
    /// Digits: pids that start with them.
    Pid(String),
    /// Characters to find in order (spaces ignored), lower case.
    Fuzzy(Vec<char>),
    /// A `:SPEC` that does not parse: nothing matches, and the message says why.
    Bad(String),
}

impl Filter {
    /// Parses the filter line.
    pub fn parse(text: &str) -> Filter {
        let t = text.trim();
        if t.is_empty() {
            Filter::All
        } else if let Some(spec) = t.strip_prefix(':') {
            if spec.is_empty() {
                return Filter::All;
            }
            match PortSpec::parse_named(spec) {
                Ok(p) => Filter::Port(p),
                Err(e) => Filter::Bad(e.to_string()),
            }
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            Filter::Pid(t.to_string())
        } else {
            Filter::Fuzzy(t.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect())
        }
    }

    /// How well `row` matches (higher is better), or `None` when it does not.
    pub fn score(&self, row: &Row) -> Option<i64> {
        match self {
            Filter::All => Some(0),
            Filter::Port(spec) => {
                row.ports.iter().any(|p| spec.contains(p.local_port) && spec.admits(p.proto)).then_some(0)
            }
            Filter::Pid(digits) => {
                let pid = row.pid.to_string();
                pid.starts_with(digits.as_str()).then(|| if pid == *digits { 1 } else { 0 })
            }
            Filter::Fuzzy(needle) => fuzzy(needle, &row.haystack),
            Filter::Bad(_) => None,
        }
    }
}

/// Whether the characters of `needle` appear in `hay` in order, and a score: matches that
/// follow each other or start a word count more, gaps count against.
pub fn fuzzy(needle: &[char], hay: &str) -> Option<i64> {
    let mut score = 0i64;
    let mut want = needle.iter().peekable();
    let mut prev: Option<char> = None;
    let mut last_hit: Option<usize> = None;
    for (i, c) in hay.chars().enumerate() {
        let Some(&&w) = want.peek() else { break };
        if c == w {
            score += 1;
            if last_hit.is_some_and(|l| l + 1 == i) {
                score += 4;
            }
            if prev.is_none_or(|p| !p.is_alphanumeric()) {
                score += 2;
            }
            if let Some(l) = last_hit {
                score -= i64::try_from((i - l).min(20)).unwrap_or(20) / 4;
            }
            last_hit = Some(i);
            want.next();
        }
        prev = Some(c);
    }
    want.peek().is_none().then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reaper::Proto;

    fn row(pid: u32, cmd: &str, ports: &[(Proto, u16)]) -> Row {
        Row {
            pid,
            start_ticks: 1,
            user: "root".into(),
            age: std::time::Duration::ZERO,
            cpu: None,
            rss: 0,
            ports: ports
                .iter()
                .map(|&(proto, port)| reaper::PortEntry {
                    proto,
                    family: 4,
                    local_addr: "127.0.0.1".into(),
                    local_port: port,
                    state: "LISTEN".into(),
                    netns: None,
                })
                .collect(),
            command: cmd.into(),
            short: cmd.into(),
            haystack: cmd.to_lowercase().into(),
        }
    }

    #[test]
    fn ports_pids_and_fuzzy() {
        let vite = row(4242, "node /app/node_modules/.bin/vite --port 3000", &[(Proto::Tcp, 3000)]);
        let dns = row(53, "dnsmasq", &[(Proto::Udp, 53)]);
        assert_eq!(Filter::parse(":3000").score(&vite), Some(0));
        assert_eq!(Filter::parse(":3000").score(&dns), None);
        assert!(Filter::parse(":2990-3010").score(&vite).is_some());
        assert!(Filter::parse(":udp:53").score(&dns).is_some());
        assert!(Filter::parse(":tcp:53").score(&dns).is_none());
        assert!(matches!(Filter::parse(":70000"), Filter::Bad(m) if m.contains("70000")));
        assert_eq!(Filter::parse(":"), Filter::All);
        assert!(Filter::parse("42").score(&vite).is_some());
        assert_eq!(Filter::parse("4242").score(&vite), Some(1));
        assert!(Filter::parse("43").score(&vite).is_none());
        assert!(Filter::parse("VITE").score(&vite).is_some());
        assert!(Filter::parse("nd vt").score(&vite).is_some());
        assert!(Filter::parse("vtn").score(&vite).is_none(), "order matters");
        // Together beats scattered.
        let a = fuzzy(&['v', 'i', 't', 'e'], "vite").unwrap_or(0);
        let b = fuzzy(&['v', 'i', 't', 'e'], "v-i-t-e").unwrap_or(0);
        assert!(a > b, "{a} {b}");
    }
}
