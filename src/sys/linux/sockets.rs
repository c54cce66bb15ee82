//! Linux socket tables: netlink `sock_diag` first (`sockdiag.rs`),
//! `/proc/net/{tcp,udp}{,6}` where netlink cannot answer, and the kernel's timers on ended
//! connections.

use std::fs;
use std::time::Duration;

use super::procfs;
use super::sockdiag::{self, tcp_state_num, udp_state_num};
use crate::error::{Error, Result};
use crate::model::{Proto, Socket, SocketFilter};

/// The socket table, from netlink `sock_diag` (well under a millisecond); each family and
/// protocol that netlink cannot answer is read from `/proc/net` instead. A table that neither
/// has (IPv6 disabled: no `/proc/net/tcp6`) is empty; a table that cannot be read (no fd left,
/// say) is an error, never an empty table: an empty table would mean "every port is free".
pub fn sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    sockets_at(filter, OWN_TABLES)
}

/// Where the calling process's own `/proc/net` tables are.
const OWN_TABLES: &str = "/proc/net";

/// [`sockets`], with the `/proc/net` fallback read from `proc_net`: the calling thread's
/// (`/proc/thread-self/net`) in a thread that entered another network namespace, whose
/// netlink sockets answer for that namespace; or a member process's (`/proc/PID/net`).
pub(super) fn sockets_at(filter: SocketFilter, proc_net: &str) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    let combos = [(Proto::Tcp, 4u8, "tcp"), (Proto::Tcp, 6, "tcp6"), (Proto::Udp, 4, "udp"), (Proto::Udp, 6, "udp6")];
    for (proto, family, table) in combos {
        let wanted = match proto {
            Proto::Tcp => filter.tcp,
            Proto::Udp => filter.udp,
        };
        if wanted {
            table_sockets(family, table, proto, proc_net, &mut out)?;
        }
    }
    Ok(out)
}

/// One table: netlink, else `/proc/net/TABLE`. A dump that failed midway is discarded whole.
fn table_sockets(family: u8, table: &str, proto: Proto, proc_net: &str, out: &mut Vec<Socket>) -> Result<()> {
    let mut got = Vec::new();
    let dumped = match proto {
        Proto::Tcp => sockdiag::tcp_dump(family, sockdiag::ALL_STATES, &mut got),
        Proto::Udp => sockdiag::udp_dump(family, &mut got),
    };
    if dumped.is_err() {
        got.clear();
        proc_net_sockets(proc_net, table, proto, family, &mut got)?;
    }
    out.append(&mut got);
    Ok(())
}

/// The sockets that serve ports: TCP listeners and every UDP socket (a bound UDP socket is what
/// holds a UDP port), the same as [`sockets`] filtered by [`Socket::is_listening`], but much
/// cheaper: the kernel is asked for TCP listeners only and walks neither its table of
/// connections nor its bind table (where sockets bound and not listening are: asking for them
/// costs a walk of every bind bucket, about 2 ms a family even on an idle machine, against
/// 0.03 ms for the listeners; [`sockets`] has them).
pub fn listening_sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    listening_sockets_at(filter, OWN_TABLES)
}

/// [`listening_sockets`] with the fallback of [`sockets_at`].
pub(super) fn listening_sockets_at(filter: SocketFilter, proc_net: &str) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    if filter.tcp {
        for (family, table) in [(4u8, "tcp"), (6, "tcp6")] {
            let mut got = Vec::new();
            if sockdiag::tcp_dump(family, sockdiag::LISTEN_ONLY, &mut got).is_err() {
                // A dump that failed midway is discarded and the table read the general way.
                got.clear();
                table_sockets(family, table, Proto::Tcp, proc_net, &mut got)?;
                got.retain(Socket::is_listening);
            }
            out.append(&mut got);
        }
    }
    if filter.udp {
        out.extend(sockets_at(SocketFilter { tcp: false, udp: true }, proc_net)?);
    }
    Ok(out)
}

/// How long the longest-lived ended connection (TIME_WAIT, or a closing socket whose process
/// is gone) on a TCP port in `ports` still has, as the kernel's timer says; `None` when there is
/// none or the kernel does not say.
pub fn lingering_expiry(ports: &dyn Fn(u16) -> bool) -> Option<Duration> {
    let mut longest: Option<Duration> = None;
    for family in [4u8, 6] {
        let mut got = Vec::new();
        if sockdiag::tcp_timers(family, sockdiag::ORPHAN_STATES, &mut got).is_err() {
            continue;
        }
        for (s, expires) in got {
            if s.inode == 0 && ports(s.local_port) {
                longest = Some(longest.map_or(expires, |l| l.max(expires)));
            }
        }
    }
    longest
}

/// Whether a TCP server that sets `SO_REUSEADDR` can bind `port` of IP version `family` (4 or
/// 6) on the wildcard address now, in reaper's network namespace: the ground truth where only
/// ended connections are left on the port. Linux lets such a bind through a TIME_WAIT (or an
/// orphaned closing socket) only when that connection's socket set `SO_REUSEADDR` too, which the
/// kernel's tables do not show. The probe is a socket with `SO_REUSEADDR`, bound and closed,
/// never listening (so a server with `SO_REUSEADDR` binding at the same moment still can).
/// `None` when the probe says nothing (a port below 1024 without the right to bind it, say).
pub fn reuse_bind_works(family: u8, port: u16) -> Option<bool> {
    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    let (af, addr) = if family == 6 {
        (AddressFamily::INET6, SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)))
    } else {
        (AddressFamily::INET, SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
    };
    let fd = rustix::net::socket_with(af, SocketType::STREAM, SocketFlags::CLOEXEC, None).ok()?;
    sockopt::set_socket_reuseaddr(&fd, true).ok()?;
    if family == 6 {
        sockopt::set_ipv6_v6only(&fd, true).ok()?;
    }
    match rustix::net::bind(&fd, &addr) {
        Ok(()) => Some(true),
        Err(Errno::ADDRINUSE) => Some(false),
        Err(_) => None,
    }
}

/// Only the `/proc/net` tables (`proc_net`), no netlink: how a member process's tables are read
/// when entering its namespace is not permitted.
pub(super) fn proc_sockets(filter: SocketFilter, proc_net: &str) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    let tables = [(Proto::Tcp, 4u8, "tcp"), (Proto::Tcp, 6, "tcp6"), (Proto::Udp, 4, "udp"), (Proto::Udp, 6, "udp6")];
    for (proto, family, table) in tables {
        if (proto == Proto::Tcp && filter.tcp) || (proto == Proto::Udp && filter.udp) {
            proc_net_sockets(proc_net, table, proto, family, &mut out)?;
        }
    }
    Ok(out)
}

fn proc_net_sockets(proc_net: &str, table: &str, proto: Proto, family: u8, out: &mut Vec<Socket>) -> Result<()> {
    let path = format!("{proc_net}/{table}");
    let buf = match fs::read(&path) {
        Ok(buf) => buf,
        // No such table: that family is disabled (IPv6 off), so it has no sockets.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("reading the socket table ({path})"), e)),
    };
    for row in procfs::parse_net_table(&buf) {
        let state = match proto {
            Proto::Tcp => tcp_state_num(row.state),
            Proto::Udp => udp_state_num(row.state),
        };
        out.push(Socket {
            proto,
            family,
            local_addr: row.local_addr,
            local_port: row.local_port,
            state,
            inode: row.inode,
            uid: row.uid,
        });
    }
    Ok(())
}
