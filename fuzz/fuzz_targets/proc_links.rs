//! `/proc/PID/fd/N` link targets, read as text (`socket:[INODE]`, `pipe:[INODE]`): never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    if let Some(inode) = procfs::parse_socket_link(data) {
        assert!(data.starts_with(b"socket:[") && data.ends_with(b"]"), "{inode}");
    }
    if let Some(inode) = procfs::parse_pipe_link(data) {
        assert!(data.starts_with(b"pipe:[") && data.ends_with(b"]"), "{inode}");
    }
});
