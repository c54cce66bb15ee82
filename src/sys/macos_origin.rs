//! launchd jobs (macOS; compiled and linted in CI, never run on a Mac). Read: the job's label
//! from `XPC_SERVICE_NAME` in the process's environment (launchd sets it for every job it
//! starts; `0` outside one, such as in a Terminal session), then the job's property list in the
//! standard folders, for `KeepAlive`. Not read: launchd's own state (`launchctl print` needs
//! the job's domain and, for daemons, root), binary property lists (the policy is then unknown).

use std::path::PathBuf;

use crate::model::ServiceRecord;

/// The launchd job that runs `pid`, when its environment names one.
pub fn service_of(pid: u32) -> Option<ServiceRecord> {
    let env = super::read_environ(pid)?;
    let var = |name: &str| env.iter().find_map(|e| e.strip_prefix(name)?.strip_prefix('=').map(str::to_string));
    let label = var("XPC_SERVICE_NAME").filter(|l| !l.is_empty() && l != "0")?;
    // Labels are reverse-DNS names; anything else is not put into a command to paste.
    if label.starts_with('.') || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return None;
    }
    let home = var("HOME").map(PathBuf::from);
    let mut places: Vec<(PathBuf, bool)> = vec![
        (PathBuf::from("/Library/LaunchDaemons"), true),
        (PathBuf::from("/System/Library/LaunchDaemons"), true),
        (PathBuf::from("/Library/LaunchAgents"), false),
        (PathBuf::from("/System/Library/LaunchAgents"), false),
    ];
    if let Some(h) = home {
        places.insert(0, (h.join("Library/LaunchAgents"), false));
    }
    let found = places.into_iter().find_map(|(dir, daemon)| {
        let path = dir.join(format!("{label}.plist"));
        super::read_regular_file(&path, 1 << 20).map(|b| (path, daemon, b))
    });
    let uid = super::read_process(pid).map_or(0, |p| p.uid);
    let (restarts, policy, stop, source) = match found {
        Some((path, daemon, bytes)) => {
            let keep = keep_alive(&bytes);
            let stop = if daemon {
                format!("sudo launchctl bootout system/{label}")
            } else {
                format!("launchctl bootout gui/{uid}/{label}")
            };
            (keep.0, keep.1, stop, format!("XPC_SERVICE_NAME, {}", path.display()))
        }
        None => (None, None, format!("launchctl bootout gui/{uid}/{label}"), "XPC_SERVICE_NAME".to_string()),
    };
    Some(ServiceRecord { manager: "launchd".into(), name: label, restarts, policy, stop, source })
}

/// `KeepAlive` in an XML property list: `<true/>`, `<false/>`, or a dictionary of conditions.
/// A list that is binary, cut short (the read stops at 1 MiB) or not XML says nothing: unknown.
fn keep_alive(xml: &str) -> (Option<bool>, Option<String>) {
    const KEY: &str = "<key>KeepAlive</key>";
    if xml.starts_with("bplist") {
        return (None, Some("KeepAlive unknown: a binary property list (not read)".into()));
    }
    if !xml.trim_end().ends_with("</plist>") {
        return (None, Some("KeepAlive unknown: the property list is cut short or not XML".into()));
    }
    let Some(at) = xml.find(KEY) else {
        return (Some(false), Some("no KeepAlive".into()));
    };
    let rest = xml[at + KEY.len()..].trim_start();
    if rest.starts_with("<true/>") {
        (Some(true), Some("KeepAlive=true".into()))
    } else if rest.starts_with("<false/>") {
        (Some(false), Some("KeepAlive=false".into()))
    } else if rest.starts_with("<dict>") || rest.starts_with("<dict/>") {
        (None, Some("KeepAlive with conditions".into()))
    } else {
        (None, Some("KeepAlive unknown: not <true/>, <false/> or a dictionary".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A launchd job's property list with `keep` after its `KeepAlive` key (none when `None`).
    fn plist(keep: Option<&str>) -> String {
        let keep = keep.map_or_else(String::new, |k| format!("\t<key>KeepAlive</key>\n\t{k}\n"));
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>Label</key>\n\t<string>com.example.web</string>\n{keep}\t<key>ProgramArguments</key>\n\t<array><string>/usr/local/bin/web</string></array>\n</dict>\n</plist>\n"
        )
    }

    #[test]
    fn keep_alive_as_the_property_list_says() {
        assert_eq!(keep_alive(&plist(Some("<true/>"))), (Some(true), Some("KeepAlive=true".into())));
        assert_eq!(keep_alive(&plist(Some("<false/>"))), (Some(false), Some("KeepAlive=false".into())));
        assert_eq!(keep_alive(&plist(None)), (Some(false), Some("no KeepAlive".into())));
        let cond = plist(Some("<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>"));
        assert_eq!(keep_alive(&cond), (None, Some("KeepAlive with conditions".into())));
    }

    #[test]
    fn a_property_list_not_read_whole_is_unknown() {
        // Binary (read lossily, as `read_regular_file` does), with bytes that are not UTF-8.
        let binary = String::from_utf8_lossy(b"bplist00\xd1\x01\x02YKeepAlive\t\x08\x0b\x15\x00\x00\x00\x00\xff");
        assert_eq!(keep_alive(&binary).0, None);
        // Cut short before the key, or right after it: not "no KeepAlive", not "true".
        let whole = plist(Some("<true/>"));
        for cut in [whole.len() / 3, whole.find("<key>KeepAlive</key>").unwrap() + 20, whole.len() - 10] {
            let (restarts, policy) = keep_alive(&whole[..cut]);
            assert_eq!(restarts, None, "cut at {cut}: {policy:?}");
        }
        // A value that is not one launchd takes, or not UTF-8.
        assert_eq!(keep_alive(&plist(Some("<string>yes</string>"))).0, None);
        let mut bytes = plist(Some("<true/>")).into_bytes();
        let at = bytes.windows(7).position(|w| w == b"<true/>").unwrap();
        bytes[at + 3] = 0xff; // <tr\xffe/>
        assert_eq!(keep_alive(&String::from_utf8_lossy(&bytes)).0, None);
        assert_eq!(keep_alive("").0, None);
        assert_eq!(keep_alive("not a plist at all").0, None);
    }
}
