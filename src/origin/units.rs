//! What the cgroup names (a container, a systemd unit or scope) and the platform's service
//! manager (launchd, Windows services). systemd's restart policy and restart count are asked
//! of systemd (`systemctl show -p Restart -p NRestarts`) only when systemd runs; otherwise they
//! are unknown, never guessed. A container's restart policy comes from its engine's API socket
//! when one answers.

use std::time::Duration;

use super::{Cause, Kind, Restarts, quote};
use crate::container::{self, Container};
use crate::model::ServiceRecord;
use crate::snapshot::Snapshot;
use crate::sys;

/// How long `systemctl show` may take.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(2);

/// The container and the systemd unit (or scope) a `/proc/PID/cgroup` text names, the
/// container first (it is inside the unit that runs it).
pub(super) fn from_cgroup(snap: &mut Snapshot, pid: u32, cgroup: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    let container = container::parse(cgroup);
    if let Some(c) = &container {
        out.push(container_cause(snap, pid, c));
    }
    if let Some(u) = unit(snap, pid, cgroup, container.is_some()) {
        out.push(u);
    }
    out
}

/// A container, with its engine's restart policy when the API socket answers (asked once per
/// container and snapshot). The policy restarts the container when its main process (pid 1
/// inside it) exits: for any other process of the container it does not apply.
fn container_cause(snap: &mut Snapshot, pid: u32, c: &Container) -> Cause {
    let mut cause = Cause::new(Kind::Container, None, c.label(), "/proc/PID/cgroup");
    cause.stop = Some(c.stop_command());
    cause.restarts = Restarts::Unknown;
    let asked = format!("the restart policy of {} container {}", c.runtime, c.id);
    let Some(policy) = snap.answer(asked, || sys::container_restart_policy(&c.runtime, &c.id)) else {
        cause.policy = Some(match c.runtime.as_str() {
            "docker" | "podman" => format!("restart policy unknown: no answer from {}'s API socket", c.runtime),
            other => format!("restart policy unknown: {other}'s is not asked"),
        });
        return cause;
    };
    cause.restarts = match policy.as_str() {
        "no" => Restarts::No,
        "always" | "unless-stopped" | "on-failure" => Restarts::Yes,
        _ => Restarts::Unknown,
    };
    cause.source = format!("/proc/PID/cgroup, {}'s API socket", c.runtime);
    cause.policy = Some(format!("restart policy {policy}"));
    if sys::pid_in_namespace(pid).is_some_and(|p| p != 1) {
        cause.restarts = Restarts::No;
        cause.policy =
            Some(format!("restart policy {policy}, which applies to the container's main process, not this one"));
    }
    cause
}

/// The cgroup path systemd placed the process in: the v2 line, else the v1 `name=systemd` one.
fn systemd_path(cgroup: &str) -> Option<&str> {
    let v2 = cgroup.lines().find_map(|l| l.strip_prefix("0::")).filter(|p| *p != "/");
    v2.or_else(|| cgroup.lines().find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p)))
}

/// The systemd unit a cgroup path names: the innermost service (a user unit below
/// `user@UID.service`), else the innermost scope (a login session, a `systemd-run --scope`).
fn unit(snap: &mut Snapshot, pid: u32, cgroup: &str, in_container: bool) -> Option<Cause> {
    let path = systemd_path(cgroup)?;
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let user_of = |upto: usize| {
        parts[..upto].iter().rev().find_map(|c| c.strip_prefix("user@")?.strip_suffix(".service")?.parse::<u32>().ok())
    };
    if let Some(i) = parts.iter().rposition(|c| c.ends_with(".service")) {
        let name = parts[i];
        let user = if name.starts_with("user@") { None } else { user_of(i) };
        return Some(service(snap, pid, name, user));
    }
    if in_container {
        return None; // the container's scope (docker-ID.scope) is the container
    }
    let scope = parts.iter().rev().find(|c| c.ends_with(".scope"))?;
    let mut c = Cause::new(Kind::SystemdScope, None, scope.to_string(), "/proc/PID/cgroup");
    c.detail = Some(match scope.strip_prefix("session-").and_then(|s| s.strip_suffix(".scope")) {
        Some(n) => format!("login session {n}: systemd does not restart what runs in it"),
        None => "a scope: systemd does not restart what runs in it".into(),
    });
    Some(c)
}

/// A systemd service, with its policy and restart count from systemd when it runs, asked once
/// per unit and snapshot. systemd restarts a service when its main process exits: the policy
/// applies to that process only.
fn service(snap: &mut Snapshot, pid: u32, name: &str, user: Option<u32>) -> Cause {
    let mut c = Cause::new(Kind::SystemdUnit, None, name, "/proc/PID/cgroup");
    let scope = match user {
        Some(uid) => {
            c.detail = Some(format!("a user unit of uid {uid}"));
            "--user "
        }
        None => "",
    };
    c.stop = Some(format!("systemctl {scope}stop {}", quote(name)));
    c.restarts = Restarts::Unknown;
    if !sys::systemd_running() {
        c.policy = Some("unknown: systemd is not running here (the cgroup names the unit)".into());
        return c;
    }
    let machine = user.map(|uid| format!("--machine={}@", sys::user_name(uid).unwrap_or_else(|| uid.to_string())));
    let mut argv = vec!["systemctl"];
    if let Some(m) = &machine {
        argv.extend(["--user", m.as_str()]);
    }
    argv.extend(["show", "-p", "LoadState", "-p", "Restart", "-p", "NRestarts", "-p", "MainPID", "--", name]);
    let Some(out) = snap.answer(argv.join(" "), || sys::run_tool(&argv, SYSTEMCTL_TIMEOUT)) else {
        c.policy = Some("unknown: systemctl show did not answer".into());
        return c;
    };
    apply_show(&mut c, pid, &parse_show(&out));
    c.source = "/proc/PID/cgroup, systemctl show".into();
    c
}

/// The values of `Restart=` that systemd writes (systemd.service(5)).
const RESTART_VALUES: [&str; 7] =
    ["no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog"];

/// What `systemctl show -p LoadState -p Restart -p NRestarts -p MainPID` says of a unit. A field
/// is `None` when it is missing, given twice, or not what systemd writes there.
#[derive(Debug, Default, PartialEq, Eq)]
struct Show {
    /// `LoadState=`: `loaded`, `not-found`, `masked`, ...
    load_state: Option<String>,
    /// `Restart=`, one of [`RESTART_VALUES`].
    restart: Option<String>,
    /// `NRestarts=`.
    n_restarts: Option<u64>,
    /// `MainPID=` (0: the unit has no main process now).
    main_pid: Option<u32>,
}

/// Parses `systemctl show`'s `KEY=VALUE` lines.
fn parse_show(out: &str) -> Show {
    let field = |key: &str| {
        let mut values = out.lines().filter_map(|l| l.strip_prefix(key)?.strip_prefix('=')).map(str::trim);
        let v = values.next().filter(|v| !v.is_empty())?;
        // The same key twice is not systemd's answer: no value is taken for it.
        values.next().is_none().then_some(v)
    };
    let word = |v: &str| v.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    Show {
        load_state: field("LoadState").filter(|v| word(v)).map(str::to_string),
        restart: field("Restart").filter(|v| RESTART_VALUES.contains(v)).map(str::to_string),
        n_restarts: field("NRestarts").and_then(|v| v.parse().ok()),
        main_pid: field("MainPID").and_then(|v| v.parse().ok()),
    }
}

/// The unit's policy as systemd told it, for process `pid` of the unit: `Restart=` restarts the
/// main process only, and a unit systemd has not loaded has no policy to tell (systemctl prints
/// the defaults then, `Restart=no`, which would be invented).
fn apply_show(c: &mut Cause, pid: u32, show: &Show) {
    c.restart_count = show.n_restarts;
    if let Some(state) = show.load_state.as_deref().filter(|s| *s != "loaded") {
        c.restarts = Restarts::Unknown;
        c.policy = Some(format!("unknown: systemd has not loaded the unit (LoadState={state})"));
        c.restart_count = None;
        return;
    }
    let Some(restart) = &show.restart else {
        c.restarts = Restarts::Unknown;
        c.policy = Some("unknown: systemctl show gave no Restart= it knows".into());
        return;
    };
    c.policy = Some(format!("Restart={restart}"));
    if restart == "no" {
        c.restarts = Restarts::No;
        return;
    }
    let prefix = c.detail.as_ref().map_or_else(String::new, |d| format!("{d}; "));
    match show.main_pid {
        Some(main) if main == pid => c.restarts = Restarts::Yes,
        Some(main) => {
            c.restarts = Restarts::No;
            let which = if main > 0 { format!(" (pid {main})") } else { String::new() };
            c.detail = Some(format!("{prefix}its policy applies to the unit's main process{which}, not this one"));
        }
        None => {
            c.restarts = Restarts::Unknown;
            c.detail = Some(format!(
                "{prefix}its policy applies to the unit's main process, and systemctl show gave no MainPID="
            ));
        }
    }
}

/// A launchd job or Windows service, as the platform layer read it.
pub(super) fn platform_service(s: ServiceRecord) -> Cause {
    let kind = if s.manager == "launchd" { Kind::Launchd } else { Kind::WindowsService };
    let mut c = Cause::new(kind, None, s.name, s.source);
    c.restarts = match s.restarts {
        Some(true) => Restarts::Yes,
        Some(false) => Restarts::No,
        None => Restarts::Unknown,
    };
    c.policy = s.policy;
    // The platform layer builds the command; a name the service chose is quoted there too.
    c.stop = Some(s.stop);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_from_cgroup_paths() {
        let mut snap = Snapshot::new();
        let mut u = |cg: &str| unit(&mut snap, 0, cg, false).map(|c| (c.kind, c.name, c.stop));
        assert_eq!(
            u("0::/system.slice/nginx.service"),
            Some((Kind::SystemdUnit, "nginx.service".into(), Some("systemctl stop nginx.service".into())))
        );
        assert_eq!(
            u("0::/user.slice/user-1000.slice/user@1000.service/app.slice/vite.service"),
            Some((Kind::SystemdUnit, "vite.service".into(), Some("systemctl --user stop vite.service".into())))
        );
        assert_eq!(u("0::/user.slice/user-1000.slice/session-4.scope").map(|x| x.0), Some(Kind::SystemdScope));
        assert_eq!(u("1:name=systemd:/system.slice/cron.service\n0::/").map(|x| x.1), Some("cron.service".into()));
        assert_eq!(u("0::/"), None);
        assert_eq!(unit(&mut Snapshot::new(), 0, "0::/system.slice/docker-0123.scope", true), None);
    }

    /// A unit's cause after `systemctl show` printed `out`, for process `pid`.
    fn shown(pid: u32, out: &str) -> Cause {
        let mut c = Cause::new(Kind::SystemdUnit, None, "web.service", "test");
        c.restarts = Restarts::Unknown;
        apply_show(&mut c, pid, &parse_show(out));
        c
    }

    #[test]
    fn systemctl_show_is_read_field_by_field() {
        let out = "LoadState=loaded\nRestart=on-failure\nNRestarts=3\nMainPID=812\n";
        assert_eq!(
            parse_show(out),
            Show {
                load_state: Some("loaded".into()),
                restart: Some("on-failure".into()),
                n_restarts: Some(3),
                main_pid: Some(812)
            }
        );
        // The main process: the policy is its own.
        let c = shown(812, out);
        assert_eq!(
            (c.restarts, c.policy.as_deref(), c.restart_count),
            (Restarts::Yes, Some("Restart=on-failure"), Some(3))
        );
        // Another process of the unit: systemd restarts the main process, not this one.
        let c = shown(900, out);
        assert_eq!(c.restarts, Restarts::No);
        assert!(c.detail.as_deref().is_some_and(|d| d.contains("main process (pid 812), not this one")), "{c:?}");
        // No main process now (MainPID=0): nothing of it is this process.
        let c = shown(900, "LoadState=loaded\nRestart=always\nNRestarts=0\nMainPID=0\n");
        assert_eq!(c.restarts, Restarts::No);
        assert!(c.detail.as_deref().is_some_and(|d| d.contains("main process, not this one")), "{c:?}");
        let c = shown(812, "LoadState=loaded\nRestart=no\nNRestarts=0\nMainPID=812\n");
        assert_eq!((c.restarts, c.policy.as_deref()), (Restarts::No, Some("Restart=no")));
        // The order systemctl prints in does not matter, nor other properties.
        let c = shown(7, "MainPID=7\nRestartUSec=100ms\nNRestarts=12\nRestart=always\nLoadState=loaded");
        assert_eq!((c.restarts, c.restart_count), (Restarts::Yes, Some(12)));
    }

    #[test]
    fn missing_or_garbled_show_fields_are_unknown_never_invented() {
        let unknown = |out: &str| {
            let c = shown(812, out);
            assert_eq!(c.restarts, Restarts::Unknown, "{out:?} -> {c:?}");
            c
        };
        // Nothing, or no Restart=.
        assert!(unknown("").policy.is_some_and(|p| p.starts_with("unknown")));
        unknown("LoadState=loaded\nNRestarts=1\nMainPID=812\n");
        // A unit systemd has not loaded: systemctl prints the defaults (Restart=no), which
        // say nothing about this unit.
        let c = unknown("LoadState=not-found\nRestart=no\nNRestarts=0\nMainPID=0\n");
        assert_eq!(c.policy.as_deref(), Some("unknown: systemd has not loaded the unit (LoadState=not-found)"));
        assert_eq!(c.restart_count, None);
        // Values systemd does not write.
        unknown("Restart=sometimes\nMainPID=812\n");
        unknown("Restart=\nMainPID=812\n");
        unknown("Restart=Always\nMainPID=812\n");
        // The same key twice, with different answers.
        unknown("Restart=always\nRestart=no\nMainPID=812\n");
        // Truncated records: a key without its value, a line cut in the middle.
        unknown("LoadState=loaded\nRestart");
        unknown("LoadState=loaded\nRest");
        // Bytes that are not UTF-8 (run_tool reads the output lossily).
        let bytes = String::from_utf8_lossy(b"LoadState=loaded\nRestart=alw\xffays\nMainPID=8\xfe12\nNRestarts=\xc3\n");
        let c = unknown(&bytes);
        assert_eq!(c.restart_count, None);
        assert_eq!(parse_show(&bytes).main_pid, None);
        assert_eq!(parse_show(&String::from_utf8_lossy(b"LoadState=lo\xffaded")).load_state, None);
        // A policy that restarts, and a MainPID that cannot be read: whether it applies to this
        // process is unknown.
        let c = unknown("LoadState=loaded\nRestart=always\nNRestarts=2\nMainPID=-1\n");
        assert_eq!((c.policy.as_deref(), c.restart_count), (Some("Restart=always"), Some(2)));
        unknown("LoadState=loaded\nRestart=always\nMainPID=99999999999\n");
        assert_eq!(parse_show("NRestarts=18446744073709551616").n_restarts, None);
        // A garbled count does not hide the policy.
        let c = shown(812, "LoadState=loaded\nRestart=always\nNRestarts=many\nMainPID=812\n");
        assert_eq!((c.restarts, c.restart_count), (Restarts::Yes, None));
    }
}
