//! Linux network namespaces: which one a process is in (`/proc/PID/ns/net`), which ones exist
//! (every process's, and those `ip netns` names under `/run/netns`), the socket table of one,
//! and the addresses of one.
//!
//! A namespace's socket table is read from inside it: a short-lived thread enters it with
//! `setns(CLONE_NEWNET)` (a network namespace is per thread; the rest of reaper never moves)
//! and asks netlink `sock_diag` there, which filters listeners in the kernel. Where entering is
//! not permitted (it needs `CAP_SYS_ADMIN`), the member process's `/proc/PID/net/{tcp,udp}{,6}`
//! are read instead: the whole table as text, slower on a busy namespace (see docs/src/containers.md).

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::thread::LinkNameSpaceType;

use super::proc::{PidPath, list_pids, proc_dir};
use super::sockets;
use crate::error::{Error, Result};
use crate::model::{NetNs, Socket, SocketFilter};

/// Where `ip netns` keeps its names: bind mounts of namespace files.
const NAMED: &str = "/run/netns";

/// The inode of `pid`'s network namespace, from the `/proc/PID/ns/net` link (`net:[INODE]`):
/// one `readlink`. `None` when the process is gone, or not ours to look at (another user's,
/// when not root).
pub fn netns_inode(pid: u32) -> Option<u64> {
    let dir = proc_dir().ok()?;
    let mut buf = [0u8; 64];
    let n = rustix::fs::readlinkat_raw(dir, PidPath::new(pid, b"ns/net").as_cstr(), &mut buf).ok()?;
    parse_link(buf.get(..n)?)
}

/// `net:[4026531840]` -> 4026531840.
fn parse_link(link: &[u8]) -> Option<u64> {
    std::str::from_utf8(link).ok()?.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

/// The names `ip netns` gives, by namespace inode. A name whose bind mount is gone (a stale
/// file, not a namespace: another device than `nsfs`) is no name.
fn names() -> HashMap<u64, String> {
    let mut out = HashMap::new();
    let Ok(nsfs) = fs::metadata("/proc/self/ns/net").map(|m| m.dev()) else { return out };
    let Ok(dir) = fs::read_dir(NAMED) else { return out };
    for entry in dir.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        if let Ok(m) = fs::metadata(entry.path())
            && m.dev() == nsfs
        {
            out.entry(m.ino()).or_insert(name);
        }
    }
    out
}

/// The network namespace `pid` is in, with its name when it has one.
pub fn net_namespace_of(pid: u32) -> Option<NetNs> {
    let inode = netns_inode(pid)?;
    Some(NetNs { inode, name: names().remove(&inode), member: Some(pid) })
}

/// Every network namespace that a process is in or that `ip netns` names, each once, with a
/// member (the lowest pid) and its name. Reaper's own is among them.
pub fn net_namespaces() -> Result<Vec<NetNs>> {
    let mut pids = list_pids()?;
    pids.sort_unstable();
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for pid in pids {
        if let Some(inode) = netns_inode(pid) {
            seen.entry(inode).or_insert(pid);
        }
    }
    let mut names = names();
    let mut out: Vec<NetNs> =
        seen.into_iter().map(|(inode, pid)| NetNs { inode, name: names.remove(&inode), member: Some(pid) }).collect();
    out.extend(names.into_iter().map(|(inode, name)| NetNs { inode, name: Some(name), member: None }));
    out.sort_by_key(|n| n.inode);
    Ok(out)
}

/// Opens the namespace file of `ns` (its name under `/run/netns`, else its member's
/// `/proc/PID/ns/net`) and checks that it is still that namespace. `Ok(None)`: it is gone (its
/// member exited and no name keeps it), or the member's pid now names another process.
fn open(ns: &NetNs) -> Result<Option<std::os::fd::OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let opened = match (&ns.name, ns.member) {
        (Some(name), _) => rustix::fs::open(format!("{NAMED}/{name}").as_str(), flags, Mode::empty()),
        (None, Some(pid)) => {
            let dir = proc_dir().map_err(|e| Error::io("opening /proc", e))?;
            rustix::fs::openat(dir, PidPath::new(pid, b"ns/net").as_cstr(), flags, Mode::empty())
        }
        (None, None) => return Ok(None),
    };
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::NOENT | Errno::SRCH) => return Ok(None),
        Err(e) => return Err(Error::io(format!("opening network namespace {}", ns.label()), e.into())),
    };
    let same = rustix::fs::fstat(&fd).is_ok_and(|st| st.st_ino == ns.inode);
    Ok(same.then_some(fd))
}

/// The socket table of `ns` (listeners and bound UDP sockets only with `listeners_only`, as
/// [`sockets::listening_sockets`]). A namespace that is gone has no sockets; `None`: reading it
/// is not permitted (not root, and no member of ours to read `/proc/PID/net` of), as other
/// users' fd tables are not; any other failure is an error, never an empty table.
pub fn netns_sockets(ns: &NetNs, filter: SocketFilter, listeners_only: bool) -> Result<Option<Vec<Socket>>> {
    let fd = match open(ns) {
        Ok(Some(fd)) => fd,
        Ok(None) => return Ok(Some(Vec::new())),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied => return Ok(None),
        Err(e) => return Err(e),
    };
    let entered = std::thread::scope(|s| {
        s.spawn(|| {
            // The namespace of this thread only: it ends with the thread.
            rustix::thread::move_into_link_name_space(fd.as_fd(), Some(LinkNameSpaceType::Network))
                .map_err(|e| (e, None))?;
            let table = "/proc/thread-self/net";
            let got = if listeners_only {
                sockets::listening_sockets_at(filter, table)
            } else {
                sockets::sockets_at(filter, table)
            };
            got.map_err(|e| (Errno::IO, Some(e)))
        })
        .join()
    });
    match entered {
        Ok(Ok(got)) => Ok(Some(got)),
        Ok(Err((_, Some(e)))) => Err(e),
        // Not permitted to enter (not root): the member's /proc/PID/net tables, as text.
        Ok(Err((e, None))) if e == Errno::PERM => match ns.member {
            Some(pid) => match sockets::proc_sockets(filter, &format!("/proc/{pid}/net")) {
                Ok(mut got) => {
                    if listeners_only {
                        got.retain(Socket::is_listening);
                    }
                    Ok(Some(got))
                }
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        },
        Ok(Err((e, None))) => Err(Error::Sockets(format!("entering network namespace {}: {e}", ns.label()))),
        Err(_) => Err(Error::Sockets(format!("reading the socket table of {}", ns.label()))),
    }
}

/// The local addresses of `ns` (what its interfaces answer to), from its member's
/// `/proc/PID/net/fib_trie` (IPv4: the `/32 host LOCAL` entries) and `if_inet6`. Empty when
/// it has no member or they cannot be read.
pub fn netns_addresses(ns: &NetNs) -> Vec<IpAddr> {
    let Some(pid) = ns.member else { return Vec::new() };
    let mut out = Vec::new();
    if let Ok(trie) = fs::read_to_string(format!("/proc/{pid}/net/fib_trie")) {
        out.extend(parse_fib_trie(&trie));
    }
    if let Ok(v6) = fs::read_to_string(format!("/proc/{pid}/net/if_inet6")) {
        out.extend(parse_if_inet6(&v6));
    }
    // The member's pid may name another process by now: keep the answer only if it is the same
    // namespace still.
    if netns_inode(pid) != Some(ns.inode) {
        return Vec::new();
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The `|-- ADDR` entries of a `fib_trie` followed by a `/32 host LOCAL` line.
fn parse_fib_trie(trie: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut last: Option<IpAddr> = None;
    for line in trie.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if line.starts_with("/32 host LOCAL")
            && let Some(a) = last
        {
            out.push(a);
        }
    }
    out
}

/// The addresses of `/proc/net/if_inet6` (32 hex digits first on each line).
fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| u128::from_str_radix(l.split_whitespace().next()?, 16).ok())
        .map(|n| IpAddr::V6(Ipv6Addr::from(n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_links_tries_and_inet6() {
        assert_eq!(parse_link(b"net:[4026531840]"), Some(4_026_531_840));
        assert_eq!(parse_link(b"mnt:[4026531840]"), None);
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 127.0.0.0/8 2 0 2\n        |-- 127.0.0.1\n           /32 host LOCAL\n     |-- 172.17.0.2\n        /32 host LOCAL\n     |-- 172.17.255.255\n        /32 link BROADCAST\n";
        assert_eq!(parse_fib_trie(trie), vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([172, 17, 0, 2])]);
        let v6 = "00000000000000000000000000000001 01 80 10 80       lo\n";
        assert_eq!(parse_if_inet6(v6), vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }

    #[test]
    fn own_namespace_is_listed_and_its_table_reads() {
        let me = std::process::id();
        let own = net_namespace_of(me).expect("own namespace");
        assert!(net_namespaces().unwrap().iter().any(|n| n.inode == own.inode));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = netns_sockets(&own, SocketFilter { tcp: true, udp: false }, true).unwrap().unwrap();
        assert!(got.iter().any(|s| s.local_port == port), "{got:?}");
    }
}
