//! Platform code behind one interface. Linux is built and tested; macOS and Windows are compiled
//! and linted in CI, their shared backend (`portable`) also runs on Linux under the `portable`
//! feature, and the Windows build (its guard and graceful close too) runs under Wine; neither has
//! run on a real Mac or Windows machine.
//!
//! The contract is in [`contract`]: the [`ProcessTable`] and [`SocketTable`] traits (what the
//! snapshot, selection and the rails read; [`System`] is this machine), the [`Control`] trait
//! (the kill engine's view of the OS), one in-memory fake of all three for unit tests (`fake`),
//! and the module interface below, which every backend provides with exactly these signatures
//! (checked at compile time by `INTERFACE`, for whichever backend is built). The rest of the
//! crate calls `sys::...` and never uses `cfg` of its own; `sys` imports only [`crate::model`]
//! and [`crate::error`].
//!
//! Backends: `linux` (`/proc`, netlink, pidfds, ptrace); `portable` (sysinfo and netstat2) with
//! `macos` or `windows` for what differs, `unix_common` for what every Unix shares, and
//! `portable_signal` for signalling without pidfds. The guard (`reaper run`) has a backend per
//! platform with the same items: `linux/guard.rs`, `windows_guard.rs`, `macos_guard.rs`; the
//! kqueue exit wait (`kqueue_pidwatch.rs`) is macOS's `wait_pid_exit` and `--watch-pid`.

mod contract;
pub use contract::{Control, Pin, ProcessTable, SocketTable, Source, System};
#[cfg(test)]
pub(crate) mod fake;
mod tool;
pub(crate) mod tree;
pub use tool::run_tool;

// With the `portable` feature, Linux builds the macOS/Windows backend instead of its own (so
// that code runs here); `run`'s guard and the `/proc` parsers stay Linux's, the rest of `linux`
// is then unused.
#[cfg(target_os = "linux")]
#[cfg_attr(feature = "portable", allow(dead_code, unused_imports))]
pub mod linux;
#[cfg(all(target_os = "linux", not(feature = "portable")))]
use linux as backend;
#[cfg(target_os = "linux")]
pub use linux::guard;

#[cfg(any(target_os = "macos", windows, feature = "portable"))]
mod portable;
#[cfg(any(target_os = "macos", windows, feature = "portable"))]
use portable as backend;
// launchd's records; its property-list parsing is plain text, so Linux builds it for its unit
// tests too.
#[cfg(any(target_os = "macos", all(test, target_os = "linux")))]
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
mod macos_origin;
#[cfg(all(target_os = "linux", feature = "portable"))]
mod portable_linux;
#[cfg(any(target_os = "macos", windows, feature = "portable"))]
mod portable_origin;
#[cfg(windows)]
mod windows_origin;

#[cfg(target_os = "macos")]
mod kqueue_pidwatch;
#[cfg(target_os = "macos")]
mod macos;
// The guard (`reaper run`, `reaper::guard`) on each platform: the same items, see
// `linux/guard.rs`. The session watcher is plain POSIX, so Linux builds it for its unit tests.
#[cfg(target_os = "macos")]
pub use macos_guard as guard;
#[cfg(any(target_os = "macos", all(test, target_os = "linux")))]
pub mod macos_guard;
#[cfg(windows)]
pub use windows_guard as guard;
#[cfg(windows)]
pub mod windows_guard;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
mod windows_job;
#[cfg(windows)]
pub use windows::{
    SIGCONT, SIGINT, SIGKILL, SIGSTOP, SIGTERM, caller_uid, self_pid, signal_by_name, signal_name, uid_by_name,
    user_name,
};

#[cfg(any(not(target_os = "linux"), feature = "portable"))]
mod portable_signal;
// The freeze's resumer (SIGSTOP that does not outlive reaper): macOS, and Linux under `portable`.
#[cfg(all(unix, any(not(target_os = "linux"), feature = "portable")))]
mod unix_freeze;

#[cfg(unix)]
mod unix_common;
// Starting a command from a forked child: the guards' spawns (Linux's shim, macOS's watcher).
#[cfg(unix)]
mod unix_exec;
#[cfg(unix)]
pub use unix_common::{
    SIGCONT, SIGINT, SIGKILL, SIGSTOP, SIGTERM, caller_uid, self_pid, signal_by_name, signal_name, uid_by_name,
    user_name,
};

pub use backend::reuse_bind_works;
pub use backend::{
    PinHandle, PipeEnd, check_own_proc, drops_signal, exe_identity, finish_cgroup, group_members, is_session_subreaper,
    lingering_expiry, list_pids, listening_sockets, own_pipe_ends, pin, pipeline_partners, read_cgroup, read_cmdline,
    read_environ, read_exe, read_process, read_usage, scan_socket_holders, sockets, thread_group, wait_pid_exit,
};
// The kill engine's OS and the tree walk: Linux's pidfds, or the portable signaller (which reads
// the portable backend's table).
#[cfg(all(target_os = "linux", not(feature = "portable")))]
pub use linux::{Signaller, scan_tree};
#[cfg(any(not(target_os = "linux"), feature = "portable"))]
pub use portable_signal::{Signaller, scan_tree};
// Containers and network namespaces: Linux's; elsewhere there are none.
pub use backend::{net_namespace_of, net_namespaces, netns_addresses, netns_inode, netns_sockets, read_cgroup_file};
// Provenance (`reaper why`): the records a process's origin is read from.
pub use backend::{
    container_restart_policy, file_owner, pid_in_namespace, read_cwd, read_regular_file, read_tty, service_of,
    systemd_running,
};

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::error::Result;
use crate::model::{HolderScan, InodeSet, NetNs, Process, Seen, ServiceRecord, Socket, SocketFilter, Usage};

/// Requires `C` to be the kill engine's OS and to be made without arguments.
const fn control<C: Control + Default>() {}

/// The module interface: every backend provides these items with these signatures. A backend
/// that lacks one, or has it with another signature, does not compile.
#[allow(clippy::type_complexity)]
const INTERFACE: () = {
    control::<Signaller>();
    let _: fn() -> Result<Vec<u32>> = list_pids;
    let _: fn(u32) -> Option<Process> = read_process;
    let _: fn(u32) -> Vec<u32> = group_members;
    let _: fn(u32) -> Option<Vec<String>> = read_cmdline;
    let _: fn(u32) -> Option<Usage> = read_usage;
    let _: fn(u32) -> Option<PathBuf> = read_exe;
    let _: fn(u32) -> Option<Vec<String>> = read_environ;
    let _: fn(u32) -> Option<String> = read_cgroup;
    let _: fn(&str, bool, Duration) -> (bool, Option<bool>) = finish_cgroup;
    let _: fn(u32) -> Option<String> = read_cgroup_file;
    let _: fn(u32) -> Option<String> = read_tty;
    let _: fn(u32) -> Option<PathBuf> = read_cwd;
    let _: fn() -> bool = systemd_running;
    let _: fn(&str, &str) -> Option<String> = container_restart_policy;
    let _: fn(u32) -> Option<ServiceRecord> = service_of;
    let _: fn(&std::path::Path, u64) -> Option<String> = read_regular_file;
    let _: fn(&std::path::Path) -> Option<u32> = file_owner;
    let _: fn(u32) -> Option<u32> = pid_in_namespace;
    let _: fn(u32) -> Option<u64> = netns_inode;
    let _: fn(u32) -> Option<NetNs> = net_namespace_of;
    let _: fn() -> Result<Vec<NetNs>> = net_namespaces;
    let _: fn(&NetNs, SocketFilter, bool) -> Result<Option<Vec<Socket>>> = netns_sockets;
    let _: fn(&NetNs) -> Vec<std::net::IpAddr> = netns_addresses;
    let _: fn(u32) -> Option<(u64, u64)> = exe_identity;
    let _: fn(u32) -> Option<u32> = thread_group;
    let _: fn(u64) -> SystemTime = backend::ticks_to_time;
    let _: fn(u32) -> Option<u64> = backend::start_ticks;
    let _: fn() -> Vec<PipeEnd> = own_pipe_ends;
    let _: fn(&[PipeEnd], &[u32]) -> Vec<u32> = pipeline_partners;
    let _: fn(&Process) -> bool = is_session_subreaper;
    let _: fn(SocketFilter) -> Result<Vec<Socket>> = sockets;
    let _: fn(SocketFilter) -> Result<Vec<Socket>> = listening_sockets;
    let _: fn(&dyn Fn(u16) -> bool) -> Option<Duration> = lingering_expiry;
    let _: fn(u8, u16) -> Option<bool> = reuse_bind_works;
    let _: fn(&InodeSet, Option<&[u32]>) -> HolderScan = scan_socket_holders;
    let _: fn(&[u32]) -> Vec<Seen> = scan_tree;
    let _: fn(u32, u64) -> Option<Pin> = pin;
    let _: fn(u32, i32) -> bool = drops_signal;
    let _: fn() -> Result<()> = check_own_proc;
    let _: fn(u32, Option<Duration>) -> Result<bool> = wait_pid_exit;
    let _: fn(i32) -> Option<&'static str> = signal_name;
    let _: fn(&str) -> Option<i32> = signal_by_name;
    let _: fn(u32) -> Option<String> = user_name;
    let _: fn(&str) -> Option<u32> = uid_by_name;
    let _: fn() -> u32 = caller_uid;
    let _: fn() -> u32 = self_pid;
    let _: [i32; 5] = [SIGINT, SIGTERM, SIGKILL, SIGSTOP, SIGCONT];
};
const _: () = INTERFACE;

/// The kernel's TCP state as netstat2 reports it (the socket source of macOS, Windows and the
/// `portable` feature; Linux reads `sock_diag` itself).
#[cfg(any(not(target_os = "linux"), feature = "portable"))]
pub(crate) fn tcp_state(s: &netstat2::TcpState) -> crate::model::SocketState {
    use crate::model::SocketState;
    use netstat2::TcpState;
    match s {
        TcpState::Listen => SocketState::Listen,
        TcpState::Established => SocketState::Established,
        TcpState::SynSent => SocketState::SynSent,
        TcpState::SynReceived => SocketState::SynRecv,
        TcpState::FinWait1 => SocketState::FinWait1,
        TcpState::FinWait2 => SocketState::FinWait2,
        TcpState::TimeWait => SocketState::TimeWait,
        TcpState::Closed | TcpState::DeleteTcb => SocketState::Close,
        TcpState::CloseWait => SocketState::CloseWait,
        TcpState::LastAck => SocketState::LastAck,
        TcpState::Closing => SocketState::Closing,
        _ => SocketState::Unknown,
    }
}
