//! `/proc/PID/status` (`Uid:` line) and `/proc/stat` (`btime` line): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::sys::linux::procfs;

fuzz_target!(|data: &[u8]| {
    let _ = procfs::parse_status_uid(data);
    let _ = procfs::parse_btime(data);
});
