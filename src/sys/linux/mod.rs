//! Linux: processes from `/proc`, sockets from netlink `sock_diag` (through netstat2, with a
//! `/proc/net` fallback), socket owners from each `/proc/PID/fd`.

pub mod guard;
pub mod pidwatch;
pub mod procfs;

pub use pidwatch::wait_pid_exit;

use std::ffi::OsStr;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo, TcpState};
use rustix::fs::{Dir, Mode, OFlags};

use super::{HolderScan, InodeSet};
use crate::error::{Error, Result};
use crate::snapshot::{Process, Socket, SocketFilter, SocketState};
use crate::spec::Proto;

/// Every pid in `/proc` (thread-group leaders only: threads are not listed there).
pub fn list_pids() -> Result<Vec<u32>> {
    let dir = fs::read_dir("/proc").map_err(|e| Error::io("reading /proc", e))?;
    Ok(dir
        .filter_map(|e| e.ok())
        .filter_map(|e| std::str::from_utf8(e.file_name().as_bytes()).ok()?.parse().ok())
        .collect())
}

fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .and_then(|t| u64::try_from(t).ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

fn boot_time() -> SystemTime {
    static BOOT: OnceLock<SystemTime> = OnceLock::new();
    *BOOT.get_or_init(|| {
        let secs = fs::read("/proc/stat").ok().and_then(|b| procfs::parse_btime(&b)).unwrap_or(0);
        UNIX_EPOCH + Duration::from_secs(secs)
    })
}

/// Wall-clock time of a start time in clock ticks after boot.
pub fn ticks_to_time(ticks: u64) -> SystemTime {
    let hz = clock_ticks();
    boot_time() + Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz)
}

/// Reads `/proc/PID/stat` alone: enough to check a process's identity.
pub fn read_stat(pid: u32) -> Option<procfs::Stat> {
    let buf = fs::read(format!("/proc/{pid}/stat")).ok()?;
    procfs::parse_stat(&buf).filter(|s| s.pid == pid)
}

/// The start time (identity) of `pid`, or `None` when it does not exist.
pub fn start_ticks(pid: u32) -> Option<u64> {
    read_stat(pid).map(|s| s.starttime)
}

/// Reads one process (without its command line); `None` if it vanished.
pub fn read_process(pid: u32) -> Option<Process> {
    let stat = read_stat(pid)?;
    let uid = fs::read(format!("/proc/{pid}/status")).ok().and_then(|b| procfs::parse_status_uid(&b))?;
    Some(Process {
        pid,
        ppid: stat.ppid,
        pgid: stat.pgrp,
        sid: stat.session,
        uid,
        name: stat.comm,
        state: stat.state,
        start_ticks: stat.starttime,
        start_time: ticks_to_time(stat.starttime),
        kernel_thread: stat.flags & procfs::PF_KTHREAD != 0,
        cmdline: None,
        exe: None,
    })
}

/// The arguments of `pid`.
pub fn read_cmdline(pid: u32) -> Option<Vec<String>> {
    fs::read(format!("/proc/{pid}/cmdline")).ok().map(|b| procfs::parse_cmdline(&b))
}

/// The executable of `pid` (unreadable for other users' processes when not root).
pub fn read_exe(pid: u32) -> Option<PathBuf> {
    let p = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    // A deleted executable reads as "/path (deleted)"; keep the path.
    let s = p.as_os_str().as_bytes();
    Some(match s.strip_suffix(b" (deleted)") {
        Some(stripped) => PathBuf::from(OsStr::from_bytes(stripped)),
        None => p,
    })
}

/// Whether `p` is a session subreaper that adopts orphans: `systemd --user`.
pub fn is_session_subreaper(p: &Process) -> bool {
    p.pid != 1 && p.name == "systemd"
}

fn tcp_state(s: &TcpState) -> SocketState {
    match s {
        TcpState::Listen => SocketState::Listen,
        TcpState::Established => SocketState::Established,
        TcpState::SynSent => SocketState::SynSent,
        TcpState::SynReceived => SocketState::SynRecv,
        TcpState::FinWait1 => SocketState::FinWait1,
        TcpState::FinWait2 => SocketState::FinWait2,
        TcpState::TimeWait => SocketState::TimeWait,
        TcpState::Closed => SocketState::Close,
        TcpState::CloseWait => SocketState::CloseWait,
        TcpState::LastAck => SocketState::LastAck,
        TcpState::Closing => SocketState::Closing,
        _ => SocketState::Unknown,
    }
}

fn tcp_state_num(n: u8) -> SocketState {
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
        _ => SocketState::Unknown,
    }
}

/// The socket table, from netlink `sock_diag` (well under a millisecond); each family and
/// protocol that netlink cannot answer is read from `/proc/net` instead, and one that neither
/// has (IPv6 disabled) is simply empty.
pub fn sockets(filter: SocketFilter) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    let combos = [
        (Proto::Tcp, 4u8, AddressFamilyFlags::IPV4, ProtocolFlags::TCP, "tcp"),
        (Proto::Tcp, 6, AddressFamilyFlags::IPV6, ProtocolFlags::TCP, "tcp6"),
        (Proto::Udp, 4, AddressFamilyFlags::IPV4, ProtocolFlags::UDP, "udp"),
        (Proto::Udp, 6, AddressFamilyFlags::IPV6, ProtocolFlags::UDP, "udp6"),
    ];
    for (proto, family, af, pf, table) in combos {
        let wanted = match proto {
            Proto::Tcp => filter.tcp,
            Proto::Udp => filter.udp,
        };
        if !wanted {
            continue;
        }
        if !netlink_sockets(af, pf, family, &mut out) {
            proc_net_sockets(table, proto, family, &mut out);
        }
    }
    Ok(out)
}

fn netlink_sockets(af: AddressFamilyFlags, pf: ProtocolFlags, family: u8, out: &mut Vec<Socket>) -> bool {
    let Ok(iter) = netstat2::iterate_sockets_info_without_pids(af, pf) else { return false };
    for item in iter {
        // An error mid-dump ends this table; what was read stands.
        let Ok(info) = item else { break };
        let (proto, local_addr, local_port, state) = match &info.protocol_socket_info {
            ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port, tcp_state(&t.state)),
            ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port, SocketState::Unconn),
        };
        out.push(Socket { proto, family, local_addr, local_port, state, inode: u64::from(info.inode), uid: info.uid });
    }
    true
}

fn proc_net_sockets(table: &str, proto: Proto, family: u8, out: &mut Vec<Socket>) {
    let Ok(buf) = fs::read(format!("/proc/net/{table}")) else { return };
    for row in procfs::parse_net_table(&buf) {
        let state = match proto {
            Proto::Tcp => tcp_state_num(row.state),
            Proto::Udp if row.state == 1 => SocketState::Established,
            Proto::Udp => SocketState::Unconn,
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
}

/// Scans fd tables for the sockets in `inodes`: every process when `among` is `None`. Every
/// holder is found (a socket shared across fork has several).
pub fn scan_socket_holders(inodes: &InodeSet, among: Option<&[u32]>) -> HolderScan {
    let mut scan = HolderScan::default();
    let Ok(proc_dir) = rustix::fs::open("/proc", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
    else {
        return scan;
    };
    let pids = match among {
        Some(p) => p.to_vec(),
        None => list_pids().unwrap_or_default(),
    };
    let mut link = Vec::with_capacity(64);
    for pid in pids {
        match scan_one(&proc_dir, pid, inodes, &mut link, &mut scan) {
            Ok(()) => scan.scanned.push(pid),
            Err(rustix::io::Errno::ACCESS | rustix::io::Errno::PERM) => scan.denied = true,
            Err(_) => {} // vanished mid-scan: nothing to report
        }
    }
    scan
}

fn scan_one(
    proc_dir: &OwnedFd,
    pid: u32,
    inodes: &InodeSet,
    link: &mut Vec<u8>,
    scan: &mut HolderScan,
) -> rustix::io::Result<()> {
    let fd_dir = rustix::fs::openat(
        proc_dir,
        format!("{pid}/fd"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut dir = Dir::read_from(&fd_dir)?;
    while let Some(entry) = dir.next() {
        let Ok(entry) = entry else { break };
        let name = entry.file_name();
        if name.to_bytes().first().is_none_or(|b| !b.is_ascii_digit()) {
            continue;
        }
        let Ok(target) = rustix::fs::readlinkat(&fd_dir, name, std::mem::take(link)) else { continue };
        let bytes = target.into_bytes();
        if let Some(inode) = procfs::parse_socket_link(&bytes)
            && inodes.contains(&inode)
        {
            let holders = scan.holders.entry(inode).or_default();
            if !holders.contains(&pid) {
                holders.push(pid);
            }
        }
        *link = bytes;
        link.clear();
    }
    Ok(())
}
