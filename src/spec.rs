//! Parsers for the small languages on the command line: port specs, durations, signal names and
//! signal sequences. Every error names the value it rejects.
//!
//! These are pure functions over strings (fuzzed in `fuzz/`), shared by the CLI and the library.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::Error;
use crate::sys;

pub use crate::model::Proto;

/// One `--port` value: a port or an inclusive range, optionally restricted to one protocol.
///
/// ```
/// use reaper::PortSpec;
/// let spec: PortSpec = "tcp:3000-3010".parse().unwrap();
/// assert!(spec.contains(3005));
/// assert!(!spec.contains(49302));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortSpec {
    /// `None` means both TCP and UDP.
    pub proto: Option<Proto>,
    /// First port of the range.
    pub first: u16,
    /// Last port of the range (equal to `first` for a single port).
    pub last: u16,
}

impl PortSpec {
    /// A single port, both protocols.
    pub fn port(port: u16) -> PortSpec {
        PortSpec { proto: None, first: port, last: port }
    }

    /// A single TCP port.
    pub fn tcp(port: u16) -> PortSpec {
        PortSpec { proto: Some(Proto::Tcp), first: port, last: port }
    }

    /// Whether `port` is in the range (exact numeric comparison, never a substring).
    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    /// Whether this spec admits `proto`.
    pub fn admits(&self, proto: Proto) -> bool {
        self.proto.is_none_or(|p| p == proto)
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.proto {
            write!(f, "{p}:")?;
        }
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}-{}", self.first, self.last) }
    }
}

impl FromStr for PortSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidPort { value: s.to_string(), reason: why.to_string() };
        let t = s.trim();
        let (proto, rest) = match t.split_once(':') {
            Some((p, rest)) => {
                let proto = match p.to_ascii_lowercase().as_str() {
                    "tcp" => Proto::Tcp,
                    "udp" => Proto::Udp,
                    _ => return Err(bad("the protocol must be tcp or udp")),
                };
                (Some(proto), rest)
            }
            None => (None, t),
        };
        let one = |p: &str| -> Result<u16, Error> {
            let p = p.trim();
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("expected a port number from 1 to 65535"));
            }
            match p.parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
                _ => Err(bad("a port is a number from 1 to 65535")),
            }
        };
        let (first, last) = match rest.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let p = one(rest)?;
                (p, p)
            }
        };
        if first > last {
            return Err(bad("the range's first port is above its last"));
        }
        Ok(PortSpec { proto, first, last })
    }
}

/// Where service names (`http`, `postgresql`) are looked up.
#[cfg(windows)]
pub const SERVICES: &str = r"C:\Windows\System32\drivers\etc\services";
/// Where service names (`http`, `postgresql`) are looked up.
#[cfg(not(windows))]
pub const SERVICES: &str = "/etc/services";

impl PortSpec {
    /// Parses a `--port` value as [`FromStr`] does, and also a service name from
    /// [`SERVICES`] (`http`, `tcp:postgresql`, `udp:domain`). A number always wins; a name is
    /// resolved per protocol: with `tcp:`/`udp:` that protocol's entry, without one every
    /// protocol the file lists it for (`http` is `tcp:80`, `domain` is port 53 on both).
    ///
    /// ```
    /// use reaper::PortSpec;
    /// assert_eq!(PortSpec::parse_named("8080").unwrap(), PortSpec::port(8080));
    /// assert!(PortSpec::parse_named("no-such-service-here").is_err());
    /// ```
    pub fn parse_named(s: &str) -> Result<PortSpec, Error> {
        let numeric = match s.parse::<PortSpec>() {
            Ok(spec) => return Ok(spec),
            Err(e) => e,
        };
        let t = s.trim();
        let (proto, name) = match t.split_once(':') {
            Some((p, n)) if p.eq_ignore_ascii_case("tcp") => (Some(Proto::Tcp), n),
            Some((p, n)) if p.eq_ignore_ascii_case("udp") => (Some(Proto::Udp), n),
            Some(_) => return Err(numeric),
            None => (None, t),
        };
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(numeric);
        }
        let text = std::fs::read_to_string(SERVICES).unwrap_or_default();
        service_port(&text, name, proto).map_err(|reason| Error::InvalidPort { value: s.to_string(), reason })
    }
}

/// Looks `name` up in the text of a services file (`name port/proto aliases... # comment`),
/// by name or alias, ignoring case: the [`PortSpec`] it names for `proto` (`None`: every
/// protocol it is listed for, as one spec when they agree on the port). The error says why.
pub fn service_port(services: &str, name: &str, proto: Option<Proto>) -> Result<PortSpec, String> {
    let (mut tcp, mut udp) = (None, None);
    for line in services.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let (Some(first), Some(port_proto)) = (fields.next(), fields.next()) else { continue };
        if !std::iter::once(first).chain(fields).any(|n| n.eq_ignore_ascii_case(name)) {
            continue;
        }
        let Some((port, p)) = port_proto.split_once('/') else { continue };
        let Some(port) = port.parse::<u16>().ok().filter(|&p| p > 0) else { continue };
        match p {
            "tcp" => tcp = tcp.or(Some(port)),
            "udp" => udp = udp.or(Some(port)),
            _ => {}
        }
    }
    let one = |proto, port| PortSpec { proto, first: port, last: port };
    match (proto, tcp, udp) {
        (Some(Proto::Tcp), Some(p), _) => Ok(one(Some(Proto::Tcp), p)),
        (Some(Proto::Udp), _, Some(p)) => Ok(one(Some(Proto::Udp), p)),
        (Some(p), _, _) if tcp.is_some() || udp.is_some() => {
            Err(format!("{SERVICES} lists no {p} service named '{name}'"))
        }
        (None, Some(t), Some(u)) if t == u => Ok(one(None, t)),
        (None, Some(t), Some(u)) => {
            Err(format!("'{name}' is tcp port {t} and udp port {u} in {SERVICES}: say tcp:{name} or udp:{name}"))
        }
        (None, Some(t), None) => Ok(one(Some(Proto::Tcp), t)),
        (None, None, Some(u)) => Ok(one(Some(Proto::Udp), u)),
        _ => Err(format!("not a port number (1 to 65535) nor a service name in {SERVICES}")),
    }
}

/// Parses a duration: a number followed by `ms`, `s`, `m` or `h` (`500ms`, `5s`, `1.5s`, `2m`,
/// `1h`); a bare number is seconds.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(reaper::parse_duration("500ms").unwrap(), Duration::from_millis(500));
/// assert!(reaper::parse_duration("5x").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, Error> {
    let bad = || Error::InvalidDuration(s.to_string());
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1 {
        return Err(bad());
    }
    // Nanoseconds per unit. The arithmetic is exact decimal (no floats), so that `1.1m` is
    // exactly 66 s and a printed sequence parses back to the same durations.
    let unit_ns: u128 = match unit {
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    // Ten years is far beyond any sensible timeout.
    const MAX_NS: u128 = 315_360_000 * 1_000_000_000;
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let mut ns: u128 = 0;
    for d in int.bytes() {
        ns = ns * 10 + u128::from(d - b'0');
        if ns * unit_ns > MAX_NS {
            return Err(bad());
        }
    }
    ns *= unit_ns;
    // Digits past the 24th cannot add a nanosecond even to hours: ignore them (truncate).
    let mut scale: u128 = 1;
    let mut frac_value: u128 = 0;
    for d in frac.bytes().take(24) {
        frac_value = frac_value * 10 + u128::from(d - b'0');
        scale *= 10;
    }
    ns += frac_value * unit_ns / scale;
    if ns > MAX_NS {
        return Err(bad());
    }
    let secs = u64::try_from(ns / 1_000_000_000).map_err(|_| bad())?;
    let nanos = u32::try_from(ns % 1_000_000_000).map_err(|_| bad())?;
    Ok(Duration::new(secs, nanos))
}

/// A signal, by its number on this platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signal(i32);

impl Signal {
    /// SIGTERM.
    pub const TERM: Signal = Signal(sys::SIGTERM);
    /// SIGKILL.
    pub const KILL: Signal = Signal(sys::SIGKILL);
    /// SIGINT.
    pub const INT: Signal = Signal(sys::SIGINT);

    /// The platform's signal number.
    pub fn number(self) -> i32 {
        self.0
    }

    /// The conventional name, such as `SIGTERM`.
    pub fn name(self) -> String {
        sys::signal_name(self.0).map_or_else(|| format!("SIG{}", self.0), str::to_string)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Signal {
    type Err = Error;

    /// Accepts `TERM`, `SIGTERM`, `sigterm` and `15`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        let found = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<i32>().ok().filter(|n| sys::signal_name(*n).is_some())
        } else {
            let upper = t.to_ascii_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            sys::signal_by_name(name)
        };
        found.map(Signal).ok_or_else(|| Error::InvalidSignal(s.to_string()))
    }
}

/// One step of a kill sequence: send `signal`, then wait up to `wait` for the targets to exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The signal to send.
    pub signal: Signal,
    /// How long to wait for exits before the next step.
    pub wait: Duration,
}

/// A whole kill sequence, such as `TERM:5s,INT:2s,KILL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// How long the last step (normally SIGKILL) waits when the sequence does not say.
pub const FINAL_WAIT: Duration = Duration::from_secs(2);

impl Sequence {
    /// The default: `signal`, wait `timeout`, then SIGKILL and wait up to 2 s.
    pub fn graceful(signal: Signal, timeout: Duration) -> Sequence {
        let mut steps = vec![Step { signal, wait: timeout }];
        if signal != Signal::KILL {
            steps.push(Step { signal: Signal::KILL, wait: FINAL_WAIT });
        }
        Sequence { steps }
    }

    /// SIGKILL at once.
    pub fn force() -> Sequence {
        Sequence { steps: vec![Step { signal: Signal::KILL, wait: FINAL_WAIT }] }
    }
}

impl Default for Sequence {
    fn default() -> Sequence {
        Sequence::graceful(Signal::TERM, Duration::from_secs(5))
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let name = step.signal.name();
            write!(f, "{}:{}", name.trim_start_matches("SIG"), DisplayDuration::exact(step.wait))?;
        }
        Ok(())
    }
}

/// reaper's one duration formatter, in two precisions: [`DisplayDuration::exact`] for text that
/// [`parse_duration`] reads back (a `--sequence` printed by `Sequence`'s `Display`), and
/// [`DisplayDuration::rounded`] for people (ages in `list`, deadlines in messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisplayDuration {
    duration: Duration,
    exact: bool,
}

impl DisplayDuration {
    /// In milliseconds, exact: `5000ms`, or `1000.5ms` when it has a fraction of a millisecond
    /// (so that [`parse_duration`] reads back the same value).
    pub fn exact(duration: Duration) -> DisplayDuration {
        DisplayDuration { duration, exact: true }
    }

    /// Rounded down to its largest unit: `850ms`, `12s`, `5m`, `3h`, `2d` (seconds up to 2
    /// minutes, minutes up to 2 hours, hours up to 2 days).
    pub fn rounded(duration: Duration) -> DisplayDuration {
        DisplayDuration { duration, exact: false }
    }
}

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.duration;
        if self.exact {
            let ns = d.as_nanos();
            let (ms, rest) = (ns / 1_000_000, ns % 1_000_000);
            if rest == 0 {
                return write!(f, "{ms}ms");
            }
            let frac = format!("{rest:06}");
            return write!(f, "{ms}.{}ms", frac.trim_end_matches('0'));
        }
        let s = d.as_secs();
        match s {
            0 => write!(f, "{}ms", d.as_millis()),
            1..=119 => write!(f, "{s}s"),
            120..=7199 => write!(f, "{}m", s / 60),
            7200..=172_799 => write!(f, "{}h", s / 3600),
            _ => write!(f, "{}d", s / 86_400),
        }
    }
}

impl FromStr for Sequence {
    type Err = Error;

    /// `SIG[:DURATION],...`; a step without a duration waits 2 s.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::InvalidSequence { value: s.to_string(), reason: why };
        let mut steps = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad("a step is empty".into()));
            }
            let (sig, wait) = match part.split_once(':') {
                Some((sig, d)) => (sig, parse_duration(d).map_err(|e| bad(e.to_string()))?),
                None => (part, FINAL_WAIT),
            };
            let signal = sig.parse::<Signal>().map_err(|e| bad(e.to_string()))?;
            if steps.last().is_some_and(|s: &Step| s.signal == Signal::KILL) {
                // SIGKILL cannot be caught: nothing is left for a later step to signal.
                return Err(bad(format!("nothing can follow KILL (SIGKILL ends every target), but {part} does")));
            }
            steps.push(Step { signal, wait });
        }
        if steps.len() > 16 {
            return Err(bad("at most 16 steps".into()));
        }
        Ok(Sequence { steps })
    }
}

/// One `--env` value: a variable name, optionally with the exact value it must have.
///
/// ```
/// let e: reaper::spec::EnvSpec = "CI_JOB=42".parse().unwrap();
/// assert!(e.matches("CI_JOB=42") && !e.matches("CI_JOB=420"));
/// assert!("=x".parse::<reaper::spec::EnvSpec>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSpec {
    /// The variable's name.
    pub name: String,
    /// The value it must have; `None` matches any value.
    pub value: Option<String>,
}

impl EnvSpec {
    /// Whether one `NAME=VALUE` entry of an environment block is what this spec means.
    pub fn matches(&self, entry: &str) -> bool {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        name == self.name && self.value.as_deref().is_none_or(|v| v == value)
    }
}

impl FromStr for EnvSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<EnvSpec, Error> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (s, None),
        };
        if name.is_empty() || name.contains('\0') {
            return Err(Error::InvalidEnv(s.to_string()));
        }
        Ok(EnvSpec { name: name.to_string(), value })
    }
}

/// Parses a `--cgroup` value: an absolute cgroup v2 path (`/` is the root, every process);
/// a trailing `/` is dropped.
pub fn parse_cgroup(s: &str) -> Result<String, Error> {
    if !s.starts_with('/') || s.contains('\n') || s.split('/').any(|c| c == "." || c == "..") {
        return Err(Error::InvalidCgroup(s.to_string()));
    }
    let trimmed = s.trim_end_matches('/');
    Ok(if trimmed.is_empty() { "/".to_string() } else { trimmed.to_string() })
}

/// Whether cgroup `path` (as `/proc/PID/cgroup` shows it) is `under` or below it.
pub fn cgroup_within(path: &str, under: &str) -> bool {
    under == "/" || path == under || path.strip_prefix(under).is_some_and(|rest| rest.starts_with('/'))
}

/// A `--started-after`/`--started-before` bound: a wall-clock time, or the start time of a
/// process, looked up when the selection is built ([`StartBound::resolve`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartBound {
    /// An RFC 3339 time or `@UNIX_SECONDS[.frac]`.
    At(std::time::SystemTime),
    /// `pid:N`: when process N started.
    StartOf(u32),
}

impl StartBound {
    /// The time this bound means. Errors name the value: a `pid:N` that does not exist.
    pub fn resolve(self) -> Result<std::time::SystemTime, Error> {
        match self {
            StartBound::At(t) => Ok(t),
            StartBound::StartOf(pid) => sys::read_process(pid).map(|p| p.start_time).ok_or_else(|| {
                Error::InvalidTime { value: format!("pid:{pid}"), reason: format!("no process with pid {pid}") }
            }),
        }
    }
}

impl FromStr for StartBound {
    type Err = Error;

    /// `2026-11-22T04:41:00.250Z`, `2026-11-22T05:41:00+01:00`, `@1795322460.25` or `pid:1234`.
    fn from_str(s: &str) -> Result<StartBound, Error> {
        use std::time::UNIX_EPOCH;
        let bad = |why: &str| Error::InvalidTime { value: s.to_string(), reason: why.to_string() };
        let t = s.trim();
        if let Some(pid) = t.strip_prefix("pid:") {
            let pid = pid.parse::<u32>().ok().filter(|&p| p > 0).ok_or_else(|| bad("expected pid:N with N a pid"))?;
            return Ok(StartBound::StartOf(pid));
        }
        if let Some(secs) = t.strip_prefix('@') {
            let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
            let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
            if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
                return Err(bad("expected @SECONDS or @SECONDS.FRACTION since the Unix epoch"));
            }
            let whole: u64 = whole.parse().map_err(|_| bad("seconds out of range"))?;
            let nanos: u32 = format!("{frac:0<9}").parse().map_err(|_| bad("bad fraction"))?;
            return UNIX_EPOCH
                .checked_add(Duration::new(whole, nanos))
                .map(StartBound::At)
                .ok_or_else(|| bad("seconds out of range"));
        }
        let rfc = || bad("expected an RFC 3339 time (2026-01-31T12:00:00.5Z or +01:00), @UNIX_SECONDS or pid:N");
        // humantime reads RFC 3339 in UTC (`Z`); a numeric offset is applied here.
        let (base, offset) = match t.len().checked_sub(6).and_then(|i| t.get(i..).map(|o| (i, o))) {
            Some((i, o)) if t.len() > 19 && (o.starts_with('+') || o.starts_with('-')) && o.as_bytes()[3] == b':' => {
                let h: u64 = o[1..3].parse().map_err(|_| rfc())?;
                let m: u64 = o[4..6].parse().map_err(|_| rfc())?;
                (format!("{}Z", &t[..i]), Some((o.starts_with('+'), Duration::from_secs(h * 3600 + m * 60))))
            }
            _ => (t.replace(['z'], "Z").replacen(' ', "T", 1), None),
        };
        let utc = humantime::parse_rfc3339(&base).map_err(|_| rfc())?;
        let at = match offset {
            // 05:00+01:00 is 04:00 UTC.
            Some((true, d)) => utc.checked_sub(d),
            Some((false, d)) => utc.checked_add(d),
            None => Some(utc),
        };
        at.map(StartBound::At).ok_or_else(rfc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!("3000".parse::<PortSpec>().unwrap(), PortSpec::port(3000));
        assert_eq!("tcp:5432".parse::<PortSpec>().unwrap(), PortSpec::tcp(5432));
        let r: PortSpec = "udp:53-60".parse().unwrap();
        assert_eq!((r.proto, r.first, r.last), (Some(Proto::Udp), 53, 60));
        for bad in ["70000", "abc", "0", "", "tcp:", "sctp:80", "10-5", "-1", "+80", "80-"] {
            let err = bad.parse::<PortSpec>().unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn service_names_resolve_per_protocol() {
        let text = "# comment\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb\ndomain 53/tcp\ndomain 53/udp\n\
                    odd 7000/tcp\nodd 7001/udp\nsnmp 161/udp\nfoo 9/ddp\n";
        assert_eq!(service_port(text, "http", None), Ok(PortSpec::tcp(80)));
        assert_eq!(service_port(text, "WWW", Some(Proto::Tcp)), Ok(PortSpec::tcp(80)));
        assert_eq!(service_port(text, "domain", None), Ok(PortSpec::port(53)));
        let udp53 = PortSpec { proto: Some(Proto::Udp), first: 53, last: 53 };
        assert_eq!(service_port(text, "domain", Some(Proto::Udp)), Ok(udp53));
        assert_eq!(service_port(text, "snmp", None).map(|s| s.proto), Ok(Some(Proto::Udp)));
        assert!(service_port(text, "http", Some(Proto::Udp)).unwrap_err().contains("no udp service named 'http'"));
        assert!(service_port(text, "odd", None).unwrap_err().contains("tcp:odd or udp:odd"));
        assert!(service_port(text, "foo", None).is_err(), "only tcp and udp entries count");
        assert!(service_port(text, "comment", None).is_err(), "comments are not names");
        // Numbers win, and a value that is neither names itself.
        assert_eq!(PortSpec::parse_named("tcp:8080").unwrap(), PortSpec::tcp(8080));
        for bad in ["no-such-service-x", "udp:no-such-service-x", "sctp:http", "-1", "70000"] {
            let err = PortSpec::parse_named(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn port_match_is_numeric_not_substring() {
        let spec = PortSpec::port(9302);
        assert!(spec.contains(9302));
        assert!(!spec.contains(49302));
        assert!(!spec.contains(930));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["5x", "", "s", "-1s", "1..2s", ".5s", "1e9h", "99999999999h", "5 s"] {
            let err = parse_duration(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn signals() {
        for s in ["TERM", "SIGTERM", "sigterm", "15"] {
            assert_eq!(s.parse::<Signal>().unwrap(), Signal::TERM, "{s}");
        }
        assert_eq!("KILL".parse::<Signal>().unwrap().name(), "SIGKILL");
        assert_eq!("HUP".parse::<Signal>().unwrap().name(), "SIGHUP");
        for bad in ["FOO", "0", "999", "", "SIG"] {
            let err = bad.parse::<Signal>().unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn env_cgroup_and_time_values() {
        use std::time::UNIX_EPOCH;
        let e: EnvSpec = "A=b=c".parse().unwrap();
        assert_eq!(e, EnvSpec { name: "A".into(), value: Some("b=c".into()) });
        assert!(e.matches("A=b=c") && !e.matches("A=b") && !e.matches("AB=b=c"));
        let any: EnvSpec = "A".parse().unwrap();
        assert!(any.matches("A=") && any.matches("A=x") && !any.matches("AA=x"));
        for bad in ["", "=x", "="] {
            assert!(matches!(bad.parse::<EnvSpec>(), Err(Error::InvalidEnv(v)) if v == bad), "{bad}");
        }
        assert_eq!(parse_cgroup("/a/b/").unwrap(), "/a/b");
        assert_eq!(parse_cgroup("/").unwrap(), "/");
        for bad in ["relative/path", "", "/a/../b"] {
            assert!(matches!(parse_cgroup(bad), Err(Error::InvalidCgroup(v)) if v == bad), "{bad}");
        }
        assert!(cgroup_within("/a/b", "/a") && cgroup_within("/a", "/a") && !cgroup_within("/ab", "/a"));
        assert!(cgroup_within("/x", "/"));
        let at = |s: &str| match s.parse::<StartBound>().unwrap() {
            StartBound::At(t) => t.duration_since(UNIX_EPOCH).unwrap(),
            StartBound::StartOf(_) => panic!("{s}"),
        };
        assert_eq!(at("@1.5"), Duration::from_millis(1500));
        assert_eq!(at("1970-01-01T00:00:01.25Z"), Duration::from_millis(1250));
        assert_eq!(at("1970-01-01T01:00:01.25+01:00"), Duration::from_millis(1250));
        assert_eq!(at("1970-01-01T00:00:01-00:30"), Duration::from_secs(1801));
        assert_eq!("pid:42".parse::<StartBound>().unwrap(), StartBound::StartOf(42));
        for bad in ["yesterday", "@", "@1.x", "pid:", "pid:0", "2026-13-01T00:00:00Z", "@-1"] {
            let err = bad.parse::<StartBound>().unwrap_err();
            assert!(err.is_usage() && err.to_string().contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn sequences() {
        let s: Sequence = "TERM:5s,INT:2s,KILL".parse().unwrap();
        assert_eq!(s.steps.len(), 3);
        assert_eq!(s.steps[0], Step { signal: Signal::TERM, wait: Duration::from_secs(5) });
        assert_eq!(s.steps[1].signal, Signal::INT);
        assert_eq!(s.steps[2], Step { signal: Signal::KILL, wait: FINAL_WAIT });
        assert_eq!(Sequence::default().steps.len(), 2);
        assert_eq!(Sequence::graceful(Signal::KILL, Duration::ZERO).steps.len(), 1);
        for bad in ["", "TERM:5x", "FOO", "TERM,,KILL", "KILL,TERM", "TERM,9,INT"] {
            assert!(bad.parse::<Sequence>().is_err(), "{bad}");
        }
        let err = "KILL,TERM".parse::<Sequence>().unwrap_err().to_string();
        assert!(err.contains("'KILL,TERM'") && err.contains("nothing can follow KILL"), "{err}");
    }

    #[test]
    fn durations_display_in_both_precisions() {
        let rounded = |d| DisplayDuration::rounded(d).to_string();
        assert_eq!(rounded(Duration::from_millis(850)), "850ms");
        assert_eq!(rounded(Duration::from_secs(12)), "12s");
        assert_eq!(rounded(Duration::from_secs(300)), "5m");
        assert_eq!(rounded(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(rounded(Duration::from_secs(3 * 86_400)), "3d");
        let exact = |d| DisplayDuration::exact(d).to_string();
        assert_eq!(exact(Duration::from_secs(5)), "5000ms");
        assert_eq!(exact(Duration::from_micros(1_000_500)), "1000.5ms");
        assert_eq!(parse_duration(&exact(Duration::from_micros(1_000_500))).unwrap(), Duration::from_micros(1_000_500));
    }
}
