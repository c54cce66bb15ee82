//! What the cgroup names (a container, a systemd unit or scope) and the platform's service
//! manager (launchd, Windows services). systemd's restart policy and restart count are asked
//! of systemd (`systemctl show -p Restart -p NRestarts`) only when systemd runs; otherwise they
//! are unknown, never guessed. A container's restart policy comes from its engine's API socket
//! when one answers.

use std::time::Duration;

use super::{Cause, Kind, Restarts, quote};
use crate::container::{self, Container};
use crate::model::ServiceRecord;
use crate::sys;

/// How long `systemctl show` may take.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(2);

/// The container and the systemd unit (or scope) a `/proc/PID/cgroup` text names, the
/// container first (it is inside the unit that runs it).
pub(super) fn from_cgroup(pid: u32, cgroup: &str) -> Vec<Cause> {
    let mut out = Vec::new();
    let container = container::parse(cgroup);
    if let Some(c) = &container {
        out.push(container_cause(pid, c));
    }
    if let Some(u) = unit(pid, cgroup, container.is_some()) {
        out.push(u);
    }
    out
}

/// A container, with its engine's restart policy when the API socket answers. The policy
/// restarts the container when its main process (pid 1 inside it) exits: for any other
/// process of the container it does not apply.
fn container_cause(pid: u32, c: &Container) -> Cause {
    let mut cause = Cause::new(Kind::Container, None, c.label(), "/proc/PID/cgroup");
    cause.stop = Some(c.stop_command());
    cause.restarts = Restarts::Unknown;
    if let Some(policy) = sys::container_restart_policy(&c.runtime, &c.id) {
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
fn unit(pid: u32, cgroup: &str, in_container: bool) -> Option<Cause> {
    let path = systemd_path(cgroup)?;
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let user_of = |upto: usize| {
        parts[..upto].iter().rev().find_map(|c| c.strip_prefix("user@")?.strip_suffix(".service")?.parse::<u32>().ok())
    };
    if let Some(i) = parts.iter().rposition(|c| c.ends_with(".service")) {
        let name = parts[i];
        let user = if name.starts_with("user@") { None } else { user_of(i) };
        return Some(service(pid, name, user));
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

/// A systemd service, with its policy and restart count from systemd when it runs. systemd
/// restarts a service when its main process exits: the policy applies to that process only.
fn service(pid: u32, name: &str, user: Option<u32>) -> Cause {
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
    argv.extend(["show", "-p", "Restart", "-p", "NRestarts", "-p", "MainPID", "--", name]);
    let Some(out) = sys::run_tool(&argv, SYSTEMCTL_TIMEOUT) else {
        c.policy = Some("unknown: systemctl show did not answer".into());
        return c;
    };
    for line in out.lines() {
        if let Some(v) = line.strip_prefix("Restart=") {
            c.restarts = if v == "no" { Restarts::No } else { Restarts::Yes };
            c.policy = Some(format!("Restart={v}"));
        } else if let Some(v) = line.strip_prefix("NRestarts=") {
            c.restart_count = v.trim().parse().ok();
        }
    }
    let main = out.lines().find_map(|l| l.strip_prefix("MainPID=")).and_then(|v| v.trim().parse::<u32>().ok());
    if c.restarts == Restarts::Yes && main.is_some_and(|m| m != pid) {
        c.restarts = Restarts::No;
        c.detail = Some(format!(
            "{}its policy applies to the unit's main process{}, not this one",
            c.detail.as_ref().map_or_else(String::new, |d| format!("{d}; ")),
            main.filter(|&m| m > 0).map_or_else(String::new, |m| format!(" (pid {m})"))
        ));
    }
    c.source = "/proc/PID/cgroup, systemctl show".into();
    c
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
        let u = |cg: &str| unit(0, cg, false).map(|c| (c.kind, c.name, c.stop));
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
        assert_eq!(unit(0, "0::/system.slice/docker-0123.scope", true), None);
    }
}
