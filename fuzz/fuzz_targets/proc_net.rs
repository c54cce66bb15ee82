//! `/proc/net/{tcp,udp}[6]` tables: malformed rows are skipped, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    let rows = procfs::parse_net_table(data);
    assert!(rows.len() <= data.iter().filter(|&&b| b == b'\n').count());
});
