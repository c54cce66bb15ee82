//! Kill sequences: never panic; a parsed sequence has 1 to 16 steps and its Display form
//! re-parses to the same sequence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::Sequence;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match s.parse::<Sequence>() {
        Ok(seq) => {
            assert!((1..=16).contains(&seq.steps.len()), "{s:?} -> {seq:?}");
            let again: Sequence = seq.to_string().parse().expect("Display output re-parses");
            assert_eq!(again, seq);
        }
        Err(e) => assert!(e.to_string().contains(s), "error {e} does not name {s:?}"),
    }
});
