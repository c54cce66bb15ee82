//! `/proc/PID/stat`: arbitrary bytes (a process can name itself anything, and a file can be cut
//! short when the process exits mid-read) never panic the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    if let Some(stat) = procfs::parse_stat(data) {
        // The name is what lies between the first '(' and the last ')'.
        assert!(stat.comm.len() <= data.len() * 3);
    }
});
