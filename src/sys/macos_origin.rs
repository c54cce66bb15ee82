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
fn keep_alive(xml: &str) -> (Option<bool>, Option<String>) {
    let Some(at) = xml.find("<key>KeepAlive</key>") else {
        return if xml.starts_with("bplist") { (None, None) } else { (Some(false), Some("no KeepAlive".into())) };
    };
    let rest = xml[at + "<key>KeepAlive</key>".len()..].trim_start();
    if rest.starts_with("<true/>") {
        (Some(true), Some("KeepAlive=true".into()))
    } else if rest.starts_with("<false/>") {
        (Some(false), Some("KeepAlive=false".into()))
    } else {
        (None, Some("KeepAlive with conditions".into()))
    }
}
