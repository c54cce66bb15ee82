//! Port state: the one answer to "what is on port P". `list`, `kill`, `wait`, `run
//! --ready-port` and the library all ask [`survey`], so they cannot disagree.
//!
//! A port is, by [`Verdict`]:
//! - **free**: no socket uses it;
//! - **time_wait**: no process holds a socket on it, but the kernel still keeps connections
//!   that ended there (TIME_WAIT, or a closing socket whose process is gone). A server that
//!   sets `SO_REUSEADDR` can bind it (Node, Python's `socketserver`/uvicorn, Go, Rust's std,
//!   the JVM, nginx, redis and PostgreSQL all do) **if the ended connections' server set it
//!   too** (Linux's rule); one that does not gets `EADDRINUSE` until the kernel lets them go,
//!   at most 60 s on Linux. Which of the two holds is not in the kernel's tables: a bind probe
//!   with `SO_REUSEADDR` on the wildcard address (reaper's network namespace) says, in
//!   [`Lingering::reuse_bind`]; when it fails the port is not usable;
//! - **held**: a process holds a socket on it: a listener, a bound UDP socket, a connection
//!   (an accepted one left with a helper that outlived the server, in `CLOSE_WAIT`, say), or a
//!   socket bound and not yet listening. Any of them can make the next `bind()` fail. A held
//!   socket whose process cannot be seen (another user's, when reaper is not root) is still
//!   held: it is reported with the owner uid the socket table gives.
//!
//! A socket table or fd table that cannot be read is an error, never an empty table.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use crate::error::Result;
use crate::snapshot::{Snapshot, Socket, SocketFilter, SocketState};
use crate::spec::{PortSpec, Proto};
use crate::sys;

/// What a port is used for, in order of how much it is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No socket uses it.
    Free,
    /// Only connections that ended and the kernel still keeps (see the module docs).
    TimeWait,
    /// A process holds a socket on it.
    Held,
}

impl Verdict {
    /// `free`, `time_wait`, `held`: as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Free => "free",
            Verdict::TimeWait => "time_wait",
            Verdict::Held => "held",
        }
    }
}

/// A socket held by a process, on a surveyed port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldSocket {
    /// `tcp` or `udp`.
    pub proto: Proto,
    /// Local address.
    pub local_addr: String,
    /// Local port.
    pub local_port: u16,
    /// `LISTEN`, `UNCONN` (bound UDP), `ESTABLISHED`, `CLOSE_WAIT`, ...
    pub state: SocketState,
    /// Owner uid, from the socket table (known even when the process is not visible).
    pub uid: u32,
    /// The processes that hold it; empty when none is visible (not asked for, or another
    /// user's when reaper is not root).
    pub holders: Vec<u32>,
    /// The network namespace it is in when it is not reaper's own (`netns:NAME`,
    /// `net:[INODE]`; only with `--all-netns`), else `null`.
    pub netns: Option<String>,
    /// The kernel's socket inode.
    #[serde(skip)]
    pub inode: u64,
}

impl HeldSocket {
    /// Whether it is what a server holds: a TCP listener or a bound UDP socket.
    pub fn is_listening(&self) -> bool {
        self.proto == Proto::Udp || self.state == SocketState::Listen
    }
}

/// Ended connections the kernel still keeps on a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lingering {
    /// How many.
    pub count: usize,
    /// Milliseconds until the last of them goes, when the kernel says (Linux: sock_diag).
    pub expires_ms: Option<u64>,
    /// Whether a server that sets `SO_REUSEADDR` can bind the port now (a bind probe in
    /// reaper's network namespace, Linux): `false` when an ended connection's socket did not
    /// set it (then no server can bind until the kernel lets it go); `null` when not known
    /// (another platform, or a port below 1024 reaper may not bind).
    pub reuse_bind: Option<bool>,
}

/// One port spec's state.
#[derive(Clone, Debug, Serialize)]
pub struct PortState {
    /// `tcp`, `udp` or `tcp+udp`.
    pub proto: String,
    /// The port (the first of a range).
    pub port: u16,
    /// The last port of a range (equal to `port` for one port).
    pub last: u16,
    /// Free, time_wait or held.
    pub state: Verdict,
    /// Whether no process holds a socket on it (`state` is not `held`).
    pub free: bool,
    /// The visible holders of its sockets, ascending.
    pub holders: Vec<u32>,
    /// Whether a held socket's process is not visible.
    pub hidden: bool,
    /// The held sockets.
    pub sockets: Vec<HeldSocket>,
    /// Ended connections still kept by the kernel, if any.
    pub lingering: Option<Lingering>,
    /// Set by `kill` when the port was free and then taken again during the settle time: who
    /// took it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retaken: Option<Retaken>,
}

impl PortState {
    /// Whether the port counts as usable: free, or (unless `strict`) only lingering ended
    /// connections, which a server with `SO_REUSEADDR` binds through (unless the bind probe
    /// said it cannot: [`Lingering::reuse_bind`]).
    pub fn usable(&self, strict: bool) -> bool {
        match self.state {
            Verdict::Free => true,
            Verdict::TimeWait => !strict && self.lingering.is_none_or(|l| l.reuse_bind != Some(false)),
            Verdict::Held => false,
        }
    }

    /// Whether something listens on it (a TCP listener or a bound UDP socket).
    pub fn listening(&self) -> bool {
        self.sockets.iter().any(HeldSocket::is_listening)
    }

    /// `tcp port 5700`, `tcp+udp port 3000-3010`.
    pub fn name(&self) -> String {
        let range = if self.last != self.port { format!("{}-{}", self.port, self.last) } else { self.port.to_string() };
        format!("{} port {range}", self.proto)
    }
}

/// Who took a port again after it had been freed (a supervisor restarting its child).
#[derive(Clone, Debug, Serialize)]
pub struct Retaken {
    /// Milliseconds after the port was first seen free.
    pub after_ms: u64,
    /// The new holders.
    pub holders: Vec<u32>,
    /// Their parents (what started them), visible ones.
    pub parents: Vec<u32>,
}

/// Which holders a survey looks for.
#[derive(Clone, Copy, Debug)]
pub enum Holders<'a> {
    /// None: the verdict only (no fd scan: cheap enough to poll).
    No,
    /// Every process's.
    All,
    /// Only these processes' (others' sockets still count, without holders).
    Among(&'a [u32]),
}

/// Whether socket `s` is on a port of `spec` (and of `proto`, when given).
pub fn on(spec: &PortSpec, proto: Option<Proto>, s: &Socket) -> bool {
    proto.is_none_or(|p| p == s.proto) && spec.admits(s.proto) && spec.contains(s.local_port)
}

/// The socket tables `specs` need.
pub fn filter(specs: &[PortSpec], proto: Option<Proto>) -> SocketFilter {
    let wants = |p: Proto| proto.is_none_or(|x| x == p) && specs.iter().any(|s| s.admits(p));
    SocketFilter { tcp: wants(Proto::Tcp), udp: wants(Proto::Udp) }
}

/// The state of each of `specs`, read now into `snap`: the socket table (every state), and the
/// holders `holders` asks for. The table is the snapshot's scope: reaper's own network
/// namespace (a port held only in another one is free here, as this host's network sees it),
/// or every namespace after [`Snapshot::set_all_netns`] (a port held in any is held).
pub fn survey(
    snap: &mut Snapshot,
    specs: &[PortSpec],
    proto: Option<Proto>,
    holders: Holders<'_>,
) -> Result<Vec<PortState>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    snap.load_sockets(filter(specs, proto))?;
    let on_any = |s: &Socket| specs.iter().any(|spec| on(spec, proto, s));
    let held: HashSet<u64> = snap.sockets().iter().filter(|s| s.is_held() && on_any(s)).map(|s| s.inode).collect();
    match holders {
        Holders::No => {}
        Holders::All => snap.find_holders(&held, None)?,
        Holders::Among(pids) => snap.find_holders(&held, Some(pids))?,
    }
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let mine: Vec<&Socket> = snap.sockets().iter().filter(|s| on(spec, proto, s)).collect();
        let sockets: Vec<HeldSocket> = mine
            .iter()
            .filter(|s| s.is_held())
            .map(|s| HeldSocket {
                proto: s.proto,
                local_addr: s.local_addr.to_string(),
                local_port: s.local_port,
                state: s.state,
                uid: s.uid,
                holders: snap.holders(s.inode).to_vec(),
                netns: snap.socket_netns(s.inode).map(crate::model::NetNs::label),
                inode: s.inode,
            })
            .collect();
        let ended = mine.iter().filter(|s| !s.is_held()).count();
        let lingering = (ended > 0).then(|| Lingering {
            count: ended,
            expires_ms: sys::lingering_expiry(&|p| spec.contains(p)).map(|d: Duration| d.as_millis() as u64),
            // Probed only when nothing holds the port (the verdict is time_wait).
            reuse_bind: if sockets.is_empty() { reuse_bind(&mine) } else { None },
        });
        let mut all: Vec<u32> = sockets.iter().flat_map(|s| s.holders.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        let state = if !sockets.is_empty() {
            Verdict::Held
        } else if lingering.is_some() {
            Verdict::TimeWait
        } else {
            Verdict::Free
        };
        out.push(PortState {
            proto: match spec.proto.or(proto) {
                Some(p) => p.to_string(),
                None => "tcp+udp".into(),
            },
            port: spec.first,
            last: spec.last,
            state,
            free: state != Verdict::Held,
            holders: all,
            // Only a scan of every process can tell that a holder is not visible.
            hidden: matches!(holders, Holders::All) && sockets.iter().any(|s| s.holders.is_empty()),
            sockets,
            lingering,
            retaken: None,
        });
    }
    Ok(out)
}

/// Whether a server with `SO_REUSEADDR` can bind each port and IP version that ended TCP
/// connections are left on (`ended`): `Some(false)` as soon as one probe fails, `None` when a
/// probe says nothing (or there are too many to probe: a wide range).
fn reuse_bind(ended: &[&Socket]) -> Option<bool> {
    let mut pairs: Vec<(u8, u16)> =
        ended.iter().filter(|s| s.proto == Proto::Tcp && !s.is_held()).map(|s| (s.family, s.local_port)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() || pairs.len() > 64 {
        return None;
    }
    let mut all = Some(true);
    for (family, port) in pairs {
        match sys::reuse_bind_works(family, port) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all = None,
        }
    }
    all
}

/// [`survey`] on a fresh snapshot with every holder: what `kill` reports at the end.
pub fn state(specs: &[PortSpec], proto: Option<Proto>) -> Result<Vec<PortState>> {
    state_in(specs, proto, false)
}

/// [`state`] in reaper's own network namespace, or with `all_netns` in every one.
pub fn state_in(specs: &[PortSpec], proto: Option<Proto>, all_netns: bool) -> Result<Vec<PortState>> {
    let mut snap = Snapshot::new();
    snap.set_all_netns(all_netns);
    survey(&mut snap, specs, proto, Holders::All)
}

/// The other network namespaces in which a process holds a socket on one of `specs`: their
/// labels (`netns:NAME`, `net:[INODE]`), sorted. What to tell someone for whom a port is free
/// here while a container holds it (reads every namespace's table, without an fd scan).
pub fn held_elsewhere(specs: &[PortSpec], proto: Option<Proto>) -> Result<Vec<String>> {
    let mut snap = Snapshot::new();
    snap.set_all_netns(true);
    let states = survey(&mut snap, specs, proto, Holders::No)?;
    let mut out: Vec<String> = states.iter().flat_map(|p| &p.sockets).filter_map(|s| s.netns.clone()).collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// How often [`watch_retake`] reads the socket table (a sock_diag dump: well under 1 ms).
const RETAKE_POLL: Duration = Duration::from_millis(10);

/// Watches `specs`, just found usable, for `window`: the first time one is held again, returns
/// every spec's state with its holders and, on the retaken ones, [`Retaken`] (who took it and
/// what started them). There is no kernel event for a bind, so this reads the socket table
/// every `RETAKE_POLL` (10 ms) without an fd scan, until the deadline.
pub fn watch_retake(specs: &[PortSpec], proto: Option<Proto>, window: Duration) -> Result<Option<Vec<PortState>>> {
    watch_retake_in(specs, proto, window, false)
}

/// [`watch_retake`] in reaper's own network namespace, or with `all_netns` in every one.
pub fn watch_retake_in(
    specs: &[PortSpec],
    proto: Option<Proto>,
    window: Duration,
    all_netns: bool,
) -> Result<Option<Vec<PortState>>> {
    if specs.is_empty() {
        return Ok(None); // no port, nothing to retake: never a wait
    }
    let start = std::time::Instant::now();
    let deadline = start + window;
    loop {
        let mut snap = Snapshot::new();
        snap.set_all_netns(all_netns);
        let now = survey(&mut snap, specs, proto, Holders::No)?;
        if now.iter().any(|p| p.state == Verdict::Held) {
            let after_ms = start.elapsed().as_millis() as u64;
            let mut states = survey(&mut snap, specs, proto, Holders::All)?;
            for p in states.iter_mut().filter(|p| p.state == Verdict::Held) {
                snap.load_processes(p.holders.iter().copied());
                let mut parents: Vec<u32> = p
                    .holders
                    .iter()
                    .filter_map(|&h| snap.process(h).map(|x| x.ppid))
                    .filter(|pp| !p.holders.contains(pp))
                    .collect();
                parents.sort_unstable();
                parents.dedup();
                p.retaken = Some(Retaken { after_ms, holders: p.holders.clone(), parents });
            }
            return Ok(Some(states));
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(left.min(RETAKE_POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(verdict: Verdict) -> PortState {
        PortState {
            proto: "tcp".into(),
            port: 1,
            last: 1,
            state: verdict,
            free: verdict != Verdict::Held,
            holders: Vec::new(),
            hidden: false,
            sockets: Vec::new(),
            lingering: None,
            retaken: None,
        }
    }

    #[test]
    fn time_wait_is_usable_unless_strict() {
        assert!(state(Verdict::Free).usable(true) && state(Verdict::Free).usable(false));
        assert!(state(Verdict::TimeWait).usable(false) && !state(Verdict::TimeWait).usable(true));
        assert!(!state(Verdict::Held).usable(false));
    }

    // One name per state, in JSON and in text alike (tables printed `CLOSEWAIT` once).
    #[test]
    fn socket_state_names_match_json() {
        // The names with more than one word are where a hand-made spelling went wrong.
        for s in [
            SocketState::CloseWait,
            SocketState::FinWait1,
            SocketState::TimeWait,
            SocketState::SynRecv,
            SocketState::LastAck,
        ] {
            assert_eq!(serde_json::to_value(s).expect("json"), s.as_str(), "{s:?}");
        }
        assert_eq!(serde_json::to_value(Verdict::TimeWait).expect("json"), Verdict::TimeWait.as_str());
    }

    #[test]
    fn a_spec_admits_its_protocol_and_ports_only() {
        let s = |proto, port| Socket {
            proto,
            family: 4,
            local_addr: std::net::Ipv4Addr::LOCALHOST.into(),
            local_port: port,
            state: SocketState::Listen,
            inode: 1,
            uid: 0,
        };
        let spec: PortSpec = "tcp:3000-3001".parse().expect("spec");
        assert!(on(&spec, None, &s(Proto::Tcp, 3001)));
        assert!(!on(&spec, None, &s(Proto::Udp, 3001)));
        assert!(!on(&spec, None, &s(Proto::Tcp, 30001)), "numeric, never a substring");
        let any: PortSpec = "3000".parse().expect("spec");
        assert!(on(&any, None, &s(Proto::Udp, 3000)) && !on(&any, Some(Proto::Tcp), &s(Proto::Udp, 3000)));
    }
}
