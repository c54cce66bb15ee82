//! Durations: never panic (no float overflow in `Duration::from_secs_f64`), never above the
//! ten-year cap, and every error names the rejected value.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match reaper::parse_duration(s) {
        Ok(d) => assert!(d <= Duration::from_secs(315_360_000), "{s:?} -> {d:?}"),
        Err(e) => assert!(e.to_string().contains(s), "error {e} does not name {s:?}"),
    }
});
