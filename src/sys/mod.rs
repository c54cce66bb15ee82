//! Platform code behind one interface. Linux is built and tested; macOS and Windows are written
//! against their documented APIs but unverified (no toolchain for them here).
//!
//! Each platform module provides the same free functions; the rest of the crate calls them
//! through this module and never through `cfg` of its own.

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(any(target_os = "macos", windows))]
mod portable;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::*;
#[cfg(target_os = "macos")]
mod macos_pidwatch;
#[cfg(target_os = "macos")]
pub use macos_pidwatch::wait_pid_exit;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(not(target_os = "linux"))]
mod portable_signal;
#[cfg(not(target_os = "linux"))]
pub use portable_signal::{Signaller, scan_tree};

/// What pins a process for a plan: nothing where there are no pidfds (the engine checks pid and
/// start time again before every signal).
#[cfg(not(target_os = "linux"))]
pub type PinHandle = ();

/// Pins a process for a plan: never where there are no pidfds.
#[cfg(not(target_os = "linux"))]
pub fn pin(_pid: u32, _start_ticks: u64) -> Option<crate::plan::Pin> {
    None
}

/// Whether the kernel drops `sig` sent to `pid` (a PID namespace's init without a handler):
/// there are no PID namespaces here.
#[cfg(not(target_os = "linux"))]
pub fn drops_signal(_pid: u32, _sig: i32) -> bool {
    false
}

#[cfg(unix)]
mod unix_common;
#[cfg(unix)]
pub use unix_common::*;

use std::collections::{HashMap, HashSet};

/// Whether `/proc` belongs to this process's PID namespace: always, where there is no `/proc`
/// (Linux checks it: see `sys::linux::procns`).
#[cfg(not(target_os = "linux"))]
pub fn check_own_proc() -> crate::error::Result<()> {
    Ok(())
}

/// The result of an fd-table scan.
#[derive(Debug, Default)]
pub struct HolderScan {
    /// Socket inode -> the pids holding it.
    pub holders: HashMap<u64, Vec<u32>>,
    /// Pids whose tables were read.
    pub scanned: Vec<u32>,
    /// Whether some table could not be read (permission denied).
    pub denied: bool,
    /// Why the scan is incomplete for another reason than permissions (no fd left, /proc
    /// unreadable): what it found cannot be trusted to be every holder.
    pub error: Option<String>,
}

impl HolderScan {
    /// A scan that could not run at all.
    pub fn failed(why: String) -> HolderScan {
        HolderScan { error: Some(why), ..HolderScan::default() }
    }
}

/// Inodes to look for, as the scan wants them.
pub type InodeSet = HashSet<u64>;

/// The kernel's TCP state as netstat2 reports it (every platform's socket source).
pub(crate) fn tcp_state(s: &netstat2::TcpState) -> crate::snapshot::SocketState {
    use crate::snapshot::SocketState;
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
