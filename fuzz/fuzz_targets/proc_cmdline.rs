//! `/proc/PID/cmdline`: NUL-separated, any bytes, any length. Never panics, and no argument
//! contains a NUL, and
//! the last is never empty (NUL padding is not arguments).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    let args = procfs::parse_cmdline(data);
    assert!(args.iter().all(|a| !a.contains('\0')));
    assert!(args.len() <= data.len());
    assert!(args.last().is_none_or(|a| !a.is_empty()));
});
