//! TCP and UDP sockets by state from netlink `sock_diag`: Linux's socket table.
//!
//! A dump of every TCP state makes the kernel walk its whole established-connection hash
//! table, empty buckets included: on an idle machine with a large table that walk was a quarter
//! of `reaper list --port`. Asked for `LISTEN` only, the kernel walks the listener table alone
//! (`inet_diag_dump_icsk` skips the rest), which is what `ss -l` does.
//!
//! The messages are `struct nlmsghdr`, `struct inet_diag_req_v2` and `struct inet_diag_msg`
//! from `<linux/netlink.h>` and `<linux/inet_diag.h>`, built and parsed as bytes (no `unsafe`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use crate::model::{Proto, Socket, SocketState};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300; // NLM_F_ROOT | NLM_F_MATCH
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// `TCP_LISTEN` in the kernel's state numbering.
const TCP_LISTEN: u8 = 10;
const HEADER: usize = 16; // struct nlmsghdr
const REQUEST: usize = 56; // struct inet_diag_req_v2
const MESSAGE: usize = 72; // struct inet_diag_msg

/// Appends the TCP sockets of IP version `family` (4 or 6) whose state is in `states` (a bit
/// per kernel state number, such as [`LISTEN_ONLY`]) to `out`.
pub fn tcp_dump(family: u8, states: u32, out: &mut Vec<Socket>) -> io::Result<()> {
    dump(Proto::Tcp, family, states, &mut |m| {
        out.push(socket(m, Proto::Tcp, family).ok_or_else(malformed)?.0);
        Ok(())
    })
}

/// Appends every UDP socket of IP version `family` (4 or 6) to `out`: bound ones are
/// [`SocketState::Unconn`], connected ones [`SocketState::Established`].
pub fn udp_dump(family: u8, out: &mut Vec<Socket>) -> io::Result<()> {
    dump(Proto::Udp, family, ALL_STATES, &mut |m| {
        out.push(socket(m, Proto::Udp, family).ok_or_else(malformed)?.0);
        Ok(())
    })
}

/// Like [`tcp_dump`], with each socket's timer: how long until the kernel lets it go (TIME_WAIT
/// and the closing states of sockets whose process is gone run on such a timer).
pub fn tcp_timers(family: u8, states: u32, out: &mut Vec<(Socket, Duration)>) -> io::Result<()> {
    dump(Proto::Tcp, family, states, &mut |m| {
        out.push(socket(m, Proto::Tcp, family).ok_or_else(malformed)?);
        Ok(())
    })
}

/// TCP listeners only.
pub const LISTEN_ONLY: u32 = 1 << TCP_LISTEN;
/// `TCP_BOUND_INACTIVE` (Linux 6.6+): a pseudo-state the kernel answers only in sock_diag, for
/// sockets that are bound to a port but neither listen nor connect. `/proc/net/tcp` never lists
/// them; an older kernel ignores the bit (it cannot show them at all).
pub const BOUND_INACTIVE: u32 = 1 << TCP_BOUND_INACTIVE;
const TCP_BOUND_INACTIVE: u8 = 13;
/// Every TCP state a socket table shows: the kernel's states 1 to 11 and bound-inactive sockets
/// (not `TCP_NEW_SYN_RECV`, 12: half-open requests, which hold nothing).
pub const ALL_STATES: u32 = 0xffe | BOUND_INACTIVE;
/// The states a TCP socket can linger in once its process is gone: FIN_WAIT1, FIN_WAIT2,
/// TIME_WAIT, LAST_ACK, CLOSING.
pub const ORPHAN_STATES: u32 = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 9) | (1 << 11);

fn malformed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "malformed sock_diag message")
}

/// One `SOCK_DIAG_BY_FAMILY` dump of `proto` sockets of `family` in `states` (a bit per state),
/// each `inet_diag_msg` handed to `each`.
fn dump(proto: Proto, family: u8, states: u32, each: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
    let af = if family == 6 { AF_INET6 } else { AF_INET };
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(netlink::SOCK_DIAG),
    )?;
    rustix::net::sendto(&fd, &request(af, proto, states), SendFlags::empty(), &SocketAddrNetlink::new(0, 0))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (n, _) = rustix::net::recv(&fd, &mut buf[..], RecvFlags::empty())?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "sock_diag dump ended early"));
        }
        if parse(&buf[..n], each)? {
            return Ok(());
        }
    }
}

fn request(af: u8, proto: Proto, states: u32) -> [u8; HEADER + REQUEST] {
    let mut req = [0u8; HEADER + REQUEST];
    req[0..4].copy_from_slice(&((HEADER + REQUEST) as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes()); // sequence number
    // inet_diag_req_v2: family, protocol, ext, pad, states, then a zeroed sockid (any socket).
    req[HEADER] = af;
    req[HEADER + 1] = match proto {
        Proto::Tcp => IPPROTO_TCP,
        Proto::Udp => IPPROTO_UDP,
    };
    req[HEADER + 4..HEADER + 8].copy_from_slice(&states.to_ne_bytes());
    req
}

/// Parses one datagram of the dump; `Ok(true)` at its end.
fn parse(mut data: &[u8], each: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<bool> {
    while data.len() >= HEADER {
        let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let kind = u16::from_ne_bytes([data[4], data[5]]);
        if len < HEADER || len > data.len() {
            return Err(malformed());
        }
        let body = &data[HEADER..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno =
                    body.get(..4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(malformed)?;
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(errno.wrapping_neg()));
                }
            }
            SOCK_DIAG_BY_FAMILY => each(body)?,
            _ => {}
        }
        data = data.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    Ok(false)
}

/// An `inet_diag_msg`: the socket and its timer (`idiag_expires`, milliseconds).
fn socket(m: &[u8], proto: Proto, family: u8) -> Option<(Socket, Duration)> {
    let m = m.get(..MESSAGE)?;
    let word = |at: usize| u32::from_ne_bytes([m[at], m[at + 1], m[at + 2], m[at + 3]]);
    let local_addr = if m[0] == AF_INET6 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&m[8..24]);
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(m[8], m[9], m[10], m[11]))
    };
    let state = match proto {
        // A TCP socket in CLOSE is in no table the dump walks but the bind table, where it is
        // asked for as bound-inactive (the kernel reports that pseudo-state as CLOSE).
        Proto::Tcp => match m[1] {
            7 => SocketState::BoundInactive,
            n => tcp_state_num(n),
        },
        Proto::Udp => udp_state_num(m[1]),
    };
    let socket = Socket {
        proto,
        family,
        local_addr,
        local_port: u16::from_be_bytes([m[4], m[5]]),
        state,
        inode: u64::from(word(68)),
        uid: word(64),
    };
    Some((socket, Duration::from_millis(u64::from(word(52)))))
}

/// The socket state of the kernel's TCP state number (`/proc/net/tcp`, `sock_diag`).
pub(super) fn tcp_state_num(n: u8) -> SocketState {
    match n {
        1 => SocketState::Established,
        2 => SocketState::SynSent,
        3 => SocketState::SynRecv,
        4 => SocketState::FinWait1,
        5 => SocketState::FinWait2,
        6 => SocketState::TimeWait,
        7 => SocketState::Close,
        8 => SocketState::CloseWait,
        9 => SocketState::LastAck,
        10 => SocketState::Listen,
        11 => SocketState::Closing,
        TCP_BOUND_INACTIVE => SocketState::BoundInactive,
        _ => SocketState::Unknown,
    }
}

/// A UDP socket's state from the kernel's number: connected (`TCP_ESTABLISHED`) or not.
pub(super) fn udp_state_num(n: u8) -> SocketState {
    if n == 1 { SocketState::Established } else { SocketState::Unconn }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_listeners_and_nothing_else() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v6 = std::net::TcpListener::bind("[::1]:0").ok(); // IPv6 may be disabled
        let client = std::net::TcpStream::connect(v4.local_addr().unwrap()).unwrap();
        let mut out = Vec::new();
        tcp_dump(4, LISTEN_ONLY, &mut out).unwrap();
        let port = v4.local_addr().unwrap().port();
        let mine: Vec<&Socket> = out.iter().filter(|s| s.local_port == port).collect();
        assert_eq!(mine.len(), 1, "{out:?}");
        assert_eq!(mine[0].local_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(mine[0].state, SocketState::Listen);
        assert_eq!(mine[0].uid, nix::unistd::geteuid().as_raw());
        assert!(mine[0].inode != 0);
        // The connected client socket is not a listener.
        let cport = client.local_addr().unwrap().port();
        assert!(!out.iter().any(|s| s.local_port == cport));
        assert!(out.iter().all(|s| s.state == SocketState::Listen && s.family == 4));
        if let Some(v6) = v6 {
            let mut out6 = Vec::new();
            tcp_dump(6, LISTEN_ONLY, &mut out6).unwrap();
            let p6 = v6.local_addr().unwrap().port();
            assert!(out6.iter().any(|s| s.local_port == p6 && s.local_addr == IpAddr::V6(Ipv6Addr::LOCALHOST)));
        }
    }

    #[test]
    fn finds_our_own_udp_sockets_bound_and_connected() {
        let bound = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let connected = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        connected.connect(bound.local_addr().unwrap()).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut out = Vec::new();
        udp_dump(4, &mut out).unwrap();
        let find = |port: u16| out.iter().filter(|s| s.local_port == port).collect::<Vec<_>>();
        let b = find(bound.local_addr().unwrap().port());
        assert_eq!(b.len(), 1, "{out:?}");
        assert_eq!((b[0].proto, b[0].state, b[0].family), (Proto::Udp, SocketState::Unconn, 4));
        assert_eq!(b[0].uid, nix::unistd::geteuid().as_raw());
        assert!(b[0].inode != 0);
        let c = find(connected.local_addr().unwrap().port());
        assert_eq!(c.len(), 1, "{out:?}");
        assert_eq!(c[0].state, SocketState::Established);
        // A TCP listener is not in the UDP table, and every TCP state is in the full TCP dump.
        let tport = listener.local_addr().unwrap().port();
        assert!(find(tport).is_empty());
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut tcp = Vec::new();
        tcp_dump(4, ALL_STATES, &mut tcp).unwrap();
        let cport = client.local_addr().unwrap().port();
        assert!(tcp.iter().any(|s| s.local_port == tport && s.state == SocketState::Listen), "{tcp:?}");
        assert!(tcp.iter().any(|s| s.local_port == cport && s.state == SocketState::Established), "{tcp:?}");
        assert!(tcp.iter().all(|s| s.proto == Proto::Tcp));
    }

    #[test]
    fn a_socket_bound_and_not_listening_is_in_the_full_table() {
        use rustix::net::{AddressFamily, SocketAddrV4, SocketType, bind, socket};
        let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        bind(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = match rustix::net::getsockname(&fd).unwrap().try_into().unwrap() {
            std::net::SocketAddr::V4(a) => a.port(),
            other => panic!("{other:?}"),
        };
        let mut out = Vec::new();
        tcp_dump(4, ALL_STATES, &mut out).unwrap();
        let mine: Vec<&Socket> = out.iter().filter(|s| s.local_port == port).collect();
        assert_eq!(mine.len(), 1, "{out:?}");
        assert_eq!(mine[0].state, SocketState::BoundInactive);
        assert!(mine[0].inode != 0);
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let mut out = Vec::new();
        let mut push = |m: &[u8]| {
            out.push(socket(m, Proto::Tcp, 4).ok_or_else(malformed)?.0);
            Ok(())
        };
        assert!(parse(&[0xff; 20], &mut push).is_err());
        let mut short = [0u8; 20];
        short[0..4].copy_from_slice(&20u32.to_ne_bytes());
        short[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        assert!(parse(&short, &mut push).is_err());
        let mut done = [0u8; 16];
        done[0..4].copy_from_slice(&16u32.to_ne_bytes());
        done[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        assert!(parse(&done, &mut push).unwrap());
        // Regression: an NLMSG_ERROR carrying errno i32::MIN overflowed `-errno`.
        let mut err = [0u8; 20];
        err[0..4].copy_from_slice(&20u32.to_ne_bytes());
        err[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err[16..20].copy_from_slice(&i32::MIN.to_ne_bytes());
        assert!(parse(&err, &mut push).is_err());
        assert!(out.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_sequence_of_messages_parses_without_panic(
            msgs in proptest::collection::vec(
                (proptest::sample::select(vec![NLMSG_ERROR, NLMSG_DONE, SOCK_DIAG_BY_FAMILY, 0, 0xffff]),
                 proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)),
                0..6,
            ),
            lie in proptest::prelude::any::<Option<u32>>(),
        ) {
            // Well-framed messages of any kind and body (and, sometimes, a lying length).
            let mut data = Vec::new();
            for (kind, body) in &msgs {
                let len = lie.unwrap_or((HEADER + body.len()) as u32);
                data.extend_from_slice(&len.to_ne_bytes());
                data.extend_from_slice(&kind.to_ne_bytes());
                data.extend_from_slice(&[0u8; 10]);
                data.extend_from_slice(body);
                data.resize(data.len().next_multiple_of(4), 0);
            }
            for family in [4, 6] {
                let mut out = Vec::new();
                let _ = parse(&data, &mut |m| {
                    out.push(socket(m, Proto::Udp, family).ok_or_else(malformed)?);
                    Ok(())
                });
            }
        }
    }
}
