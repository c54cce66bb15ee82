//! Linux: processes from `/proc` (`proc.rs`, parsers in `procfs.rs`), sockets from netlink
//! `sock_diag` with a `/proc/net` fallback (`sockets.rs`, `sockdiag.rs`), socket owners and
//! pipes from each `/proc/PID/fd` (`fdscan.rs`), pidfds for the kill engine (`pidfd.rs`, with
//! the ptrace freeze in `freeze.rs`), the signal and fd-wait layer (`pidwatch.rs`), `/proc`'s
//! namespace check (`procns.rs`), network namespaces (`netns.rs`) and `reaper run`'s guard (`guard.rs`, `spawn.rs`, `shim.rs`).

mod cgroup;
mod fdscan;
pub mod freeze;
pub mod guard;
// Under `portable` the portable backend answers for sockets (stubs for namespaces there).
#[cfg(not(feature = "portable"))]
mod netns;
mod origin;
// The kill engine's `Control` of pidfds pins `sys::PinHandle`: the portable backend's then.
#[cfg(not(feature = "portable"))]
pub mod pidfd;
pub mod pidwatch;
mod proc;
pub mod procfs;
mod procns;
mod shim;
mod sockdiag;
mod sockets;
mod spawn;

pub use cgroup::finish_cgroup;
pub use fdscan::{PipeEnd, own_pipe_ends, pipeline_partners, scan_socket_holders};
#[cfg(not(feature = "portable"))]
pub use netns::{net_namespace_of, net_namespaces, netns_addresses, netns_inode, netns_sockets};
pub use origin::{
    container_restart_policy, file_owner, pid_in_namespace, read_cwd, read_regular_file, read_tty, service_of,
    systemd_running,
};
#[cfg(not(feature = "portable"))]
pub use pidfd::{PinHandle, Signaller, drops_signal, pin};
pub use pidwatch::wait_pid_exit;
use proc::with_proc_file;
pub use proc::{
    exe_identity, group_members, is_session_subreaper, list_pids, read_cgroup, read_cgroup_file, read_cmdline,
    read_environ, read_exe, read_process, read_stat, read_usage, scan_tree, start_ticks, thread_group, ticks_to_time,
};
pub use procns::check_own_proc;
pub use sockets::{lingering_expiry, listening_sockets, reuse_bind_works, sockets};
