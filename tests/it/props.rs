//! Property tests for the parsers (the same ones `fuzz/` fuzzes), run in plain `cargo test`:
//! round-trips through `Display`, and no panic on arbitrary input.

use std::time::Duration;

use proptest::prelude::*;
#[cfg(target_os = "linux")]
use reaper::procfs;
use reaper::{PortSpec, Proto, Sequence, Signal, Step, parse_duration};

fn port_spec() -> impl Strategy<Value = PortSpec> {
    (prop_oneof![Just(None), Just(Some(Proto::Tcp)), Just(Some(Proto::Udp))], 1u16.., 1u16..)
        .prop_map(|(proto, a, b)| PortSpec { proto, first: a.min(b), last: a.max(b) })
}

fn signal() -> impl Strategy<Value = Signal> {
    // Every signal this platform can name.
    (1i32..65).prop_filter_map("unnamed signal", |n| n.to_string().parse::<Signal>().ok())
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..10_000_000).prop_map(Duration::from_millis),
        (0u64..315_360_000_000_000_000).prop_map(Duration::from_nanos),
    ]
}

fn sequence() -> impl Strategy<Value = Sequence> {
    proptest::collection::vec((signal(), duration()).prop_map(|(signal, wait)| Step { signal, wait }), 1..=16)
        // Nothing may follow KILL: the steps up to the first one.
        .prop_map(|mut steps| {
            if let Some(k) = steps.iter().position(|s| s.signal == Signal::KILL) {
                steps.truncate(k + 1);
            }
            Sequence { steps }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn port_spec_display_round_trips(spec in port_spec()) {
        let text = spec.to_string();
        prop_assert_eq!(text.parse::<PortSpec>().unwrap(), spec, "{}", text);
        // Upper case and surrounding blanks are accepted too.
        prop_assert_eq!(format!("  {}  ", text.to_uppercase()).parse::<PortSpec>().unwrap(), spec);
    }

    #[test]
    fn sequence_display_round_trips(seq in sequence()) {
        let text = seq.to_string();
        prop_assert_eq!(text.parse::<Sequence>().unwrap(), seq, "{}", text);
    }

    #[test]
    fn signal_name_and_number_round_trip(sig in signal()) {
        prop_assert_eq!(sig.name().parse::<Signal>().unwrap(), sig);
        prop_assert_eq!(sig.name().to_lowercase().trim_start_matches("sig").parse::<Signal>().unwrap(), sig);
        prop_assert_eq!(sig.number().to_string().parse::<Signal>().unwrap(), sig);
    }

    #[test]
    fn duration_decimal_is_exact(whole in 0u64..100_000, frac in 0u32..1000) {
        // `W.FFFs` is exactly W seconds and FFF milliseconds (no float rounding).
        let text = format!("{whole}.{frac:03}s");
        prop_assert_eq!(parse_duration(&text).unwrap(), Duration::from_secs(whole) + Duration::from_millis(frac.into()));
        let text = format!("{whole}.{frac:03}m");
        prop_assert_eq!(parse_duration(&text).unwrap(), Duration::from_millis(whole * 60_000 + u64::from(frac) * 60));
    }

    #[test]
    fn spec_parsers_never_panic_and_name_the_value(s in "\\PC{0,40}|[0-9a-zA-Z:.,\\- ]{0,40}") {
        for err in [
            s.parse::<PortSpec>().err().map(|e| e.to_string()),
            parse_duration(&s).err().map(|e| e.to_string()),
            s.parse::<Signal>().err().map(|e| e.to_string()),
            s.parse::<Sequence>().err().map(|e| e.to_string()),
        ].into_iter().flatten() {
            prop_assert!(err.contains(&format!("'{s}'")), "{} does not name {:?}", err, s);
        }
        if let Ok(d) = parse_duration(&s) {
            prop_assert!(d <= Duration::from_secs(315_360_000));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_parsers_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = procfs::parse_stat(&buf);
        let _ = procfs::parse_status_uid(&buf);
        let _ = procfs::parse_btime(&buf);
        let _ = procfs::parse_socket_link(&buf);
        let rows = procfs::parse_net_table(&buf);
        prop_assert!(rows.len() <= buf.iter().filter(|&&b| b == b'\n').count());
        let args = procfs::parse_cmdline(&buf);
        prop_assert!(args.iter().all(|a| !a.contains('\0')));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stat_comm_can_be_anything(comm in proptest::collection::vec(any::<u8>(), 0..64), pid in 1u32.., start in any::<u64>()) {
        // A process names itself anything (parentheses, spaces, newlines, bytes): the fields
        // after the last ')' are still read right.
        let mut line = format!("{pid} (").into_bytes();
        line.extend_from_slice(&comm);
        line.extend_from_slice(format!(") S 1 2 3 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0\n").as_bytes());
        let stat = procfs::parse_stat(&line).unwrap();
        prop_assert_eq!(stat.pid, pid);
        prop_assert_eq!((stat.state, stat.ppid, stat.pgrp, stat.session, stat.starttime), ('S', 1, 2, 3, start));
        prop_assert_eq!(stat.comm, String::from_utf8_lossy(&comm).into_owned());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn cmdline_round_trips(args in proptest::collection::vec("[^\\x00]{0,20}", 1..10)) {
        let mut buf = Vec::new();
        for a in &args {
            buf.extend_from_slice(a.as_bytes());
            buf.push(0);
        }
        let parsed = procfs::parse_cmdline(&buf);
        // Trailing empty arguments are a rewritten title's NUL padding, not arguments.
        let mut kept = args.clone();
        while kept.last().is_some_and(String::is_empty) {
            kept.pop();
        }
        prop_assert_eq!(parsed, kept);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn socket_link_round_trips(inode in any::<u64>()) {
        prop_assert_eq!(procfs::parse_socket_link(format!("socket:[{inode}]").as_bytes()), Some(inode));
        prop_assert_eq!(procfs::parse_socket_link(format!("pipe:[{inode}]").as_bytes()), None);
    }
}

#[test]
fn sequence_display_keeps_sub_millisecond_waits() {
    // Found by `sequence_display_round_trips` / `duration_decimal_is_exact`: durations went through
    // f64 (`1.1m` was 66.00000000000001 s, `65536.866s` was off by a nanosecond), and Display cut
    // waits to whole milliseconds, so a printed sequence parsed back to a different one.
    let seq: Sequence = "TERM:1.1m,KILL:1000.5ms".parse().unwrap();
    assert_eq!(seq.steps[0].wait, Duration::from_secs(66));
    assert_eq!(seq.steps[1].wait, Duration::from_micros(1_000_500));
    assert_eq!(seq.to_string(), "TERM:66000ms,KILL:1000.5ms");
    assert_eq!(seq.to_string().parse::<Sequence>().unwrap(), seq);
    // Leading zeros and long fractions are fine; the ten-year cap still holds.
    assert_eq!(parse_duration("0000000000000000000000001s").unwrap(), Duration::from_secs(1));
    assert_eq!(parse_duration("0.1234567891234s").unwrap(), Duration::from_nanos(123_456_789));
    assert!(parse_duration("87601h").is_err());
    assert_eq!(parse_duration("87600h").unwrap(), Duration::from_secs(315_360_000));
}

// Names are bytes: whatever a process calls itself, every /proc parser still reads the rest of
// its record, and a real process named so is read whole (never dropped for its name).
#[cfg(target_os = "linux")]
mod names_are_bytes {
    use proptest::prelude::*;
    use reaper::procfs;

    /// `/proc/PID/status` as the kernel writes it for a process named `name` (it escapes `\n`
    /// and `\\` in the name, and nothing else).
    fn status_file(name: &[u8], tgid: u32, uid: u32) -> Vec<u8> {
        let mut out = b"Name:\t".to_vec();
        for &b in name {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\\' => out.extend_from_slice(b"\\\\"),
                _ => out.push(b),
            }
        }
        out.extend_from_slice(
            format!(
                "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{tgid}\nPPid:\t1\n\
                 Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t0\t0\t0\t0\nNSpid:\t{tgid}\n"
            )
            .as_bytes(),
        );
        out
    }

    /// Writes `name` as this process's kernel name (`/proc/self/comm` names the thread-group
    /// leader, which a process may rename); `false` if the kernel refused.
    fn rename_self(name: &[u8]) -> bool {
        std::fs::write("/proc/self/comm", name).is_ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_name_leaves_status_readable(
            name in proptest::collection::vec(any::<u8>(), 0..=64),
            tgid in 1u32..,
            uid in any::<u32>(),
        ) {
            let status = status_file(&name, tgid, uid);
            prop_assert_eq!(procfs::parse_status_uid(&status), Some(uid));
            prop_assert_eq!(procfs::parse_status_tgid(&status), Some(tgid));
            prop_assert_eq!(procfs::parse_status_nspid(&status), Some(vec![tgid]));
        }

        #[test]
        fn status_and_fd_parsers_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = procfs::parse_status_tgid(&buf);
            let _ = procfs::parse_status_nspid(&buf);
            let _ = procfs::status_field(&buf, b"Uid");
            let _ = procfs::parse_stat_usage(&buf);
            let _ = procfs::parse_pipe_link(&buf);
            let _ = procfs::parse_fdinfo_flags(&buf);
            let _ = procfs::parse_uptime(&buf);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        // The real thing: this test process takes arbitrary bytes as its kernel name (cut
        // mid-character, `)`, blanks, escapes, anything but NUL), and reaper reads it whole.
        #[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: sysinfo names a process after its executable, not its kernel name")]
        #[test]
        fn a_real_process_is_never_dropped_for_its_name(name in proptest::collection::vec(1u8..=255, 1..=15)) {
            let me = std::process::id();
            let before = std::fs::read("/proc/self/comm").unwrap_or_default();
            prop_assume!(rename_self(&name));
            let read = reaper::read_process(me);
            let stat_name = std::fs::read("/proc/self/comm").unwrap_or_default();
            rename_self(before.strip_suffix(b"\n").unwrap_or(&before));
            let p = read.ok_or_else(|| TestCaseError::fail(format!("pid {me} dropped for the name {name:?}")))?;
            prop_assert_eq!(p.pid, me);
            prop_assert_eq!(p.uid, nix::unistd::getuid().as_raw());
            let kernel = stat_name.strip_suffix(b"\n").unwrap_or(&stat_name);
            prop_assert_eq!(p.name, String::from_utf8_lossy(kernel).into_owned());
        }
    }
}
