//! `--port` specs: never panic; whatever parses is a valid range that prints and re-parses to
//! itself, and every error names the rejected value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::PortSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match s.parse::<PortSpec>() {
        Ok(spec) => {
            assert!(spec.first >= 1 && spec.first <= spec.last, "{s:?} -> {spec:?}");
            assert!(spec.contains(spec.first) && spec.contains(spec.last));
            let again: PortSpec = spec.to_string().parse().expect("Display output re-parses");
            assert_eq!(again, spec);
        }
        Err(e) => assert!(e.to_string().contains(s), "error {e} does not name {s:?}"),
    }
});
