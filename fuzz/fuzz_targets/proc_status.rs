//! `/proc/PID/status` (`Uid:`, `Tgid:`), `/proc/stat` (`btime`), `/proc/uptime` and
//! `/proc/PID/fdinfo/N` (`flags:`): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    let _ = procfs::parse_status_uid(data);
    let _ = procfs::parse_btime(data);
    let _ = procfs::parse_status_tgid(data);
    let _ = procfs::parse_fdinfo_flags(data);
    if let Some(up) = procfs::parse_uptime(data) {
        assert!(up.is_finite() && up >= 0.0);
    }
});
