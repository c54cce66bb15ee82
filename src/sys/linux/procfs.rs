//! Pure parsers for the `/proc` files reaper reads. They take bytes and return `None` on
//! anything malformed: a process may vanish or be replaced mid-read, and a parser must never
//! panic on what it finds (these are fuzzed).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The fields of `/proc/PID/stat` reaper uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Process id.
    pub pid: u32,
    /// `comm`, between the outer parentheses.
    pub comm: String,
    /// State letter.
    pub state: char,
    /// Parent pid.
    pub ppid: u32,
    /// Process group.
    pub pgrp: u32,
    /// Session.
    pub session: u32,
    /// `flags` (PF_* bits).
    pub flags: u64,
    /// Start time in clock ticks after boot.
    pub starttime: u64,
}

/// `PF_KTHREAD`: the task is a kernel thread.
pub const PF_KTHREAD: u64 = 0x0020_0000;

/// Parses `/proc/PID/stat`. The name may contain spaces and parentheses, so the fields are
/// found after the *last* `)`.
pub fn parse_stat(buf: &[u8]) -> Option<Stat> {
    let open = buf.iter().position(|&b| b == b'(')?;
    let close = buf.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&buf[..open]).ok()?.trim().parse().ok()?;
    let comm = String::from_utf8_lossy(&buf[open + 1..close]).into_owned();
    let rest = std::str::from_utf8(buf.get(close + 1..)?).ok()?;
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    // tty_nr, tpgid
    let mut f = f.skip(2);
    let flags = f.next()?.parse().ok()?;
    // minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads
    // itrealvalue, then starttime (field 22).
    let starttime = f.nth(12)?.parse().ok()?;
    Some(Stat { pid, comm, state, ppid, pgrp, session, flags, starttime })
}

/// CPU time (`utime` + `stime`, clock ticks) and resident set (`rss`, pages) from
/// `/proc/PID/stat` (fields 14, 15 and 24, counted after the last `)` as [`parse_stat`] does).
pub fn parse_stat_usage(buf: &[u8]) -> Option<(u64, u64)> {
    let close = buf.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(buf.get(close + 1..)?).ok()?;
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt, then utime (14).
    let mut f = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    // cutime cstime priority nice num_threads itrealvalue starttime vsize, then rss (24).
    let rss: i64 = f.nth(8)?.parse().ok()?;
    Some((utime.saturating_add(stime), u64::try_from(rss).unwrap_or(0)))
}

/// The value of the `KEY:` line of a `/proc/PID/status` file, as bytes. The file is read as
/// bytes, never as text: its `Name:` line is the kernel's name of the process, which can be any
/// bytes (a file name cut mid-character at 15 bytes, or whatever `prctl(PR_SET_NAME)` set), and
/// must never make the other lines unreadable. A name cannot forge a line: the kernel escapes
/// a newline in it.
pub fn status_field<'a>(buf: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    buf.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(key)?.strip_prefix(b":"))
}

/// A decimal number among ASCII blanks (` `, `\t`).
fn number<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field.trim_ascii()).ok()?.parse().ok()
}

/// The real uid from `/proc/PID/status` (`Uid:` line, first number).
pub fn parse_status_uid(buf: &[u8]) -> Option<u32> {
    let field = status_field(buf, b"Uid")?;
    number(field.trim_ascii().split(u8::is_ascii_whitespace).next()?)
}

/// The thread-group id (the process a task belongs to) from `/proc/PID/status` (`Tgid:`).
pub fn parse_status_tgid(buf: &[u8]) -> Option<u32> {
    number(status_field(buf, b"Tgid")?)
}

/// The pids of the process in each PID namespace from `/proc`'s down to its own (`NSpid:`,
/// outermost first); `None` when there is no such line (Linux < 4.1).
pub fn parse_status_nspid(buf: &[u8]) -> Option<Vec<u32>> {
    let field = status_field(buf, b"NSpid")?;
    Some(field.split(u8::is_ascii_whitespace).filter(|f| !f.is_empty()).filter_map(number).collect())
}

/// Splits `/proc/PID/cmdline` into arguments. Invalid UTF-8 is replaced (for matching and
/// display), an empty buffer (zombie, kernel thread) gives no arguments. Trailing empty
/// arguments are dropped: a daemon that rewrites its title (redis, nginx, postgres) leaves the
/// rest of its argument area as NUL padding, which would otherwise read as dozens of `""`.
pub fn parse_cmdline(buf: &[u8]) -> Vec<String> {
    let end = buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let buf = &buf[..end];
    if buf.is_empty() {
        return Vec::new();
    }
    buf.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// The seconds since boot in `/proc/uptime` (its first field).
pub fn parse_uptime(buf: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(buf).ok()?;
    text.split_ascii_whitespace().next()?.parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)
}

/// `btime` (boot time, seconds since the epoch) from `/proc/stat`.
pub fn parse_btime(buf: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(buf).ok()?;
    text.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()
}

/// The inode of a `socket:[INODE]` link target.
pub fn parse_socket_link(target: &[u8]) -> Option<u64> {
    let inner = target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// The inode of a `pipe:[INODE]` link target.
pub fn parse_pipe_link(target: &[u8]) -> Option<u64> {
    let inner = target.strip_prefix(b"pipe:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// The open flags (octal `flags:` line) of a `/proc/PID/fdinfo/FD` file.
pub fn parse_fdinfo_flags(buf: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(buf).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("flags:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

/// One row of `/proc/net/{tcp,udp}[6]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetRow {
    /// Local address.
    pub local_addr: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Kernel state number (TCP_LISTEN is 10).
    pub state: u8,
    /// Owner uid.
    pub uid: u32,
    /// Socket inode.
    pub inode: u64,
}

/// Parses a `/proc/net/tcp`-style table (the fallback when sock_diag is unavailable). Malformed
/// rows are skipped.
pub fn parse_net_table(buf: &[u8]) -> Vec<NetRow> {
    let Ok(text) = std::str::from_utf8(buf) else { return Vec::new() };
    text.lines().skip(1).filter_map(parse_net_row).collect()
}

fn parse_net_row(line: &str) -> Option<NetRow> {
    let mut f = line.split_ascii_whitespace();
    let _slot = f.next()?;
    let (addr, port) = f.next()?.split_once(':')?;
    let _remote = f.next()?;
    let state = u8::from_str_radix(f.next()?, 16).ok()?;
    let _queues = f.next()?;
    let _timer = f.next()?;
    let _retr = f.next()?;
    let uid = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode = f.next()?.parse().ok()?;
    let local_port = u16::from_str_radix(port, 16).ok()?;
    let local_addr = parse_hex_addr(addr)?;
    Some(NetRow { local_addr, local_port, state, uid, inode })
}

/// The kernel prints addresses as host-order 32-bit words in hex.
fn parse_hex_addr(hex: &str) -> Option<IpAddr> {
    if !hex.is_ascii() {
        return None;
    }
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes()))),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let word = u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_ne_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_usage_counts_after_the_last_paren() {
        let line =
            b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1234 10000000 321 18446744073709551615";
        assert_eq!(parse_stat_usage(line), Some((300, 321)));
        assert_eq!(parse_stat_usage(b"42 (x) S 1"), None);
    }

    #[test]
    fn stat_with_hostile_name() {
        let line = b"4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.pid, 4242);
        assert_eq!(s.comm, "a) b (c)");
        assert_eq!((s.state, s.ppid, s.pgrp, s.session), ('S', 1, 4242, 4242));
        assert_eq!(s.flags, 4194560);
        assert_eq!(s.starttime, 987654);
        assert!(parse_stat(b"12 (x) S 1").is_none());
        assert!(parse_stat(b")(").is_none());
    }

    #[test]
    fn status_uid() {
        assert_eq!(parse_status_uid(b"Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"), Some(1000));
        assert_eq!(parse_status_uid(b"Name:\tx\n"), None);
        // A name that is not UTF-8 (a file name cut mid-character) leaves the other lines readable.
        let cut = b"Name:\tapp_\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x90\xe3\x83\nTgid:\t77\nUid:\t0\t0\t0\t0\n";
        assert_eq!(parse_status_uid(cut), Some(0));
        assert_eq!(parse_status_tgid(cut), Some(77));
        assert_eq!(parse_status_nspid(b"Name:\t\xff\nNSpid:\t4242\t7\n"), Some(vec![4242, 7]));
        assert_eq!(parse_status_nspid(b"Name:\tx\n"), None);
    }

    #[test]
    fn cmdline() {
        assert_eq!(parse_cmdline(b"python3\0-m\0http.server\0"), ["python3", "-m", "http.server"]);
        assert!(parse_cmdline(b"").is_empty());
        assert_eq!(parse_cmdline(b"a\xffb\0"), ["a\u{fffd}b"]);
        // Empty arguments inside stay; the NUL padding of a rewritten title goes.
        assert_eq!(parse_cmdline(b"a\0\0b\0"), ["a", "", "b"]);
        assert_eq!(parse_cmdline(b"redis-server *:6379\0\0\0\0\0\0"), ["redis-server *:6379"]);
        assert_eq!(parse_cmdline(b"redis-server *:6379\0\0\0"), ["redis-server *:6379"]);
        assert!(parse_cmdline(b"\0\0\0").is_empty());
    }

    #[test]
    fn status_tgid_uptime_pipes_fdinfo() {
        assert_eq!(
            parse_status_tgid(b"Name:\tx\nUmask:\t0022\nState:\tS\nTgid:\t4242\nNgid:\t0\nPid:\t4250\n"),
            Some(4242)
        );
        assert_eq!(parse_status_tgid(b"Name:\tx\n"), None);
        assert_eq!(parse_uptime(b"12345.67 2345.00\n"), Some(12345.67));
        assert_eq!(parse_uptime(b"x 1\n"), None);
        assert_eq!(parse_uptime(b"-1 1\n"), None);
        assert_eq!(parse_pipe_link(b"pipe:[4321]"), Some(4321));
        assert_eq!(parse_pipe_link(b"socket:[4321]"), None);
        assert_eq!(parse_fdinfo_flags(b"pos:\t0\nflags:\t0100001\nmnt_id:\t15\nino:\t4321\n"), Some(0o100001));
        assert_eq!(parse_fdinfo_flags(b"pos:\t0\n"), None);
    }

    #[test]
    fn net_rows() {
        let table = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0\n";
        let rows = parse_net_table(table);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].local_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!((rows[0].local_port, rows[0].state, rows[0].uid, rows[0].inode), (3000, 10, 1000, 12345));
        let v6 = b"hdr\n   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2\n";
        let rows = parse_net_table(v6);
        assert_eq!(rows[0].local_addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(rows[0].local_port, 53);
    }

    #[test]
    fn socket_links() {
        assert_eq!(parse_socket_link(b"socket:[98765]"), Some(98765));
        assert_eq!(parse_socket_link(b"pipe:[98765]"), None);
        assert_eq!(parse_socket_link(b"socket:[]"), None);
    }
}
