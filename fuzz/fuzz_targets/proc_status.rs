//! `/proc/PID/status` (`Uid:`, `Tgid:`, `NSpid:`; a `Name:` of any bytes must not hide them), `/proc/stat` (`btime`), `/proc/uptime` and
//! `/proc/PID/fdinfo/N` (`flags:`): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reaper::procfs;

fuzz_target!(|data: &[u8]| {
    let _ = procfs::parse_status_uid(data);
    let _ = procfs::parse_btime(data);
    let _ = procfs::parse_status_tgid(data);
    let _ = procfs::parse_status_nspid(data);
    // Any bytes as the name: the lines after it are still read.
    let mut status = b"Name:\t".to_vec();
    status.extend(data.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
    status.extend_from_slice(b"\nTgid:\t42\nUid:\t7\t7\t7\t7\n");
    assert_eq!(procfs::parse_status_uid(&status), Some(7));
    assert_eq!(procfs::parse_status_tgid(&status), Some(42));
    let _ = procfs::parse_fdinfo_flags(data);
    if let Some(up) = procfs::parse_uptime(data) {
        assert!(up.is_finite() && up >= 0.0);
    }
});
