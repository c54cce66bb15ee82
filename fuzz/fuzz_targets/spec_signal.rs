//! Signal names and numbers: never panic; a parsed signal's name parses back to the same signal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::Signal;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match s.parse::<Signal>() {
        Ok(sig) => {
            assert!(sig.number() > 0);
            assert_eq!(sig.name().parse::<Signal>().expect("a name re-parses"), sig);
            assert_eq!(sig.number().to_string().parse::<Signal>().expect("a number re-parses"), sig);
        }
        Err(e) => assert!(e.to_string().contains(s), "error {e} does not name {s:?}"),
    }
});
