//! Containers: which container a process runs in, read from its cgroup path, and the container
//! runtimes' port proxies, which hold a container's published port on the host and must not be
//! signalled in its place.
//!
//! The cgroup path names the container the way each runtime lays it out (systemd and cgroupfs
//! drivers alike): `docker-<id>.scope` or `/docker/<id>` (Docker), `libpod-<id>.scope` or
//! `/libpod_parent/libpod-<id>` (Podman), `cri-containerd-<id>.scope` (containerd under
//! Kubernetes), `crio-<id>.scope` (CRI-O), with a `kubepods...pod<uid>` component above it in a
//! Kubernetes pod (`/kubepods/burstable/pod<uid>/<id>` with the cgroupfs driver). The innermost
//! container wins (Docker in Docker). A process inside a container with a cgroup namespace of its
//! own sees `/` and no container: that is what it can know.

use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Process;
use crate::sys;

/// How many hex digits of a container id `list` shows, as `docker ps` does.
pub const SHORT_ID: usize = 12;

/// The fewest hex digits a `--container` prefix may have: fewer would match containers by chance.
pub const MIN_PREFIX: usize = 4;

/// The container a process runs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Container {
    /// `docker`, `podman`, `containerd`, `cri-o`, or `kubernetes` (a pod's container whose
    /// runtime the path does not name).
    pub runtime: String,
    /// The full container id (64 hex digits).
    pub id: String,
    /// The Kubernetes pod's uid, when the container is in a pod.
    pub pod: Option<String>,
}

impl Container {
    /// The container of `pid`, from `/proc/PID/cgroup` (every hierarchy's line).
    pub fn of_pid(pid: u32) -> Option<Container> {
        parse(&sys::read_cgroup_file(pid)?)
    }

    /// The first [`SHORT_ID`] digits of the id.
    pub fn short_id(&self) -> &str {
        self.id.get(..SHORT_ID).unwrap_or(&self.id)
    }

    /// `docker:1a2b3c4d5e6f`, with ` pod:UID8` for a pod's container.
    pub fn label(&self) -> String {
        let pod = self.pod.as_ref().map_or_else(String::new, |p| format!(" pod:{}", p.get(..8).unwrap_or(p)));
        format!("{}:{}{pod}", self.runtime, self.short_id())
    }

    /// The command that stops the container through its runtime.
    pub fn stop_command(&self) -> String {
        match self.runtime.as_str() {
            "docker" => format!("docker stop {}", self.short_id()),
            "podman" => format!("podman stop {}", self.short_id()),
            _ => match &self.pod {
                Some(uid) => format!("kubectl delete pod of uid {uid} (kubectl get pods -A -o wide | grep ...)"),
                None => format!("crictl stop {}", self.short_id()),
            },
        }
    }

    /// Whether `prefix` (lowercase hex, see [`parse_prefix`]) begins the id.
    pub fn matches(&self, prefix: &str) -> bool {
        self.id.starts_with(prefix)
    }
}

/// A `--container` value: a prefix of a container id, at least [`MIN_PREFIX`] hex digits
/// (case does not matter), as `docker ps` and `podman ps` show ids.
pub fn parse_prefix(s: &str) -> Result<String> {
    let p = s.trim().to_ascii_lowercase();
    if p.len() < MIN_PREFIX || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidContainer(s.to_string()));
    }
    Ok(p)
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The container one cgroup path component names, with the runtime; `parent` is the component
/// above it (`docker` in `/docker/<id>`).
fn component(c: &str, parent: Option<&str>) -> Option<(&'static str, String)> {
    let scope = c.strip_suffix(".scope").unwrap_or(c);
    for (prefix, runtime) in
        [("docker-", "docker"), ("libpod-", "podman"), ("cri-containerd-", "containerd"), ("crio-", "cri-o")]
    {
        // `libpod-conmon-<id>`, `crio-conmon-<id>`: the monitor beside the container, not in it.
        if let Some(id) = scope.strip_prefix(prefix)
            && is_id(id)
        {
            return Some((runtime, id.to_string()));
        }
    }
    if is_id(c) {
        return match parent {
            Some("docker") => Some(("docker", c.to_string())),
            Some(p) if pod_uid(p).is_some() => Some(("kubernetes", c.to_string())),
            _ => None,
        };
    }
    None
}

/// The pod uid a `kubepods-burstable-pod<uid>.slice` or `pod<uid>` component names (systemd
/// writes the uid's dashes as underscores).
fn pod_uid(c: &str) -> Option<String> {
    let c = c.strip_suffix(".slice").unwrap_or(c);
    let at = c.rfind("pod")?;
    if at > 0 && !c[..at].ends_with('-') {
        return None;
    }
    let uid = c[at + 3..].replace('_', "-");
    (uid.len() >= 8 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(uid)
}

/// The container a `/proc/PID/cgroup` text (or a single cgroup path) names: the v2 line first,
/// then the v1 lines; in each, the innermost container.
pub fn parse(cgroup: &str) -> Option<Container> {
    // The v2 line (`0::PATH`) first: v1 lines of other hierarchies can lag behind.
    let v2 = cgroup.lines().filter(|l| l.starts_with("0::"));
    let v1 = cgroup.lines().filter(|l| !l.starts_with("0::"));
    for line in v2.chain(v1) {
        let path = line.splitn(3, ':').nth(2).unwrap_or(line);
        let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for (i, c) in parts.iter().enumerate().rev() {
            let parent = i.checked_sub(1).map(|j| parts[j]);
            if let Some((runtime, id)) = component(c, parent) {
                let pod = parts[..i].iter().rev().find_map(|p| pod_uid(p));
                return Some(Container { runtime: runtime.to_string(), id, pod });
            }
        }
    }
    None
}

/// A container runtime's process that holds ports on the host for a container: Docker's
/// `docker-proxy`, Podman's `rootlessport` and `conmon` (which keeps a rootful container's
/// published ports bound), and the user-mode network forwarders of rootless containers
/// (`rootlesskit`, `slirp4netns`, `pasta`). Signalling one breaks the runtime's state (the
/// port stops answering while the container runs on); the container is what to stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortProxy {
    /// The program, as the table of proxies names it (`docker-proxy`, ...).
    pub program: String,
    /// `docker` or `podman` (`rootlesskit` serves rootless Docker, `pasta` and `slirp4netns`
    /// both, named by the one that fits best).
    pub runtime: String,
    /// Where it forwards to (`172.17.0.2:80`), when its command line says.
    pub forwards_to: Option<String>,
    /// The container it serves, when that could be found from what is local.
    pub container: Option<Container>,
    /// The container id its command line names (`conmon -c ID`), when no container was found.
    pub container_id: Option<String>,
}

impl PortProxy {
    /// Why a kill plan leaves it alone, and how to stop what it serves instead.
    pub fn reason(&self) -> String {
        let what = match (&self.container, &self.container_id, &self.forwards_to) {
            (Some(c), _, Some(to)) => format!("container {} ({to})", c.label()),
            (Some(c), _, None) => format!("container {}", c.label()),
            (None, Some(id), _) => format!("container {}", id.get(..SHORT_ID).unwrap_or(id)),
            (None, None, Some(to)) => format!("a container at {to} (no local container has that address)"),
            (None, None, None) => "a container".to_string(),
        };
        format!(
            "it is {}, {}'s port proxy for {what}: signalling it breaks the runtime's state while the container runs on; stop the container instead: {}",
            self.program,
            self.runtime,
            self.stop_command()
        )
    }

    /// `docker stop 1a2b3c4d5e6f`, or the runtime's way to find the container.
    pub fn stop_command(&self) -> String {
        if let Some(c) = &self.container {
            return c.stop_command();
        }
        match &self.container_id {
            Some(id) => format!("{} stop {}", self.runtime, id.get(..SHORT_ID).unwrap_or(id)),
            None => format!("{} stop CONTAINER (`{} ps` lists them with their ports)", self.runtime, self.runtime),
        }
    }
}

/// The value after `flag` (`-container-ip 172.17.0.2`, also `--flag=value`).
fn arg<'a>(args: &'a [String], flags: &[&str]) -> Option<&'a str> {
    for (i, a) in args.iter().enumerate() {
        for f in flags {
            if a == f {
                return args.get(i + 1).map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(f).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
    }
    None
}

/// Whether `p` is a container runtime's port proxy (see [`PortProxy`]), by its name and
/// command line; for `docker-proxy`, the container its `-container-ip` belongs to is looked up
/// among the network namespaces of this machine.
pub fn port_proxy(p: &Process) -> Option<PortProxy> {
    let args = p.cmdline.as_deref().unwrap_or_default();
    let argv0 = args.first().map(|a| a.rsplit('/').next().unwrap_or(a));
    let is = |n: &str| p.name == n || argv0 == Some(n);
    let (program, runtime) = if is("docker-proxy") {
        ("docker-proxy", "docker")
    } else if is("rootlessport") || is("rootlessport-child") {
        ("rootlessport", "podman")
    } else if is("conmon") {
        ("conmon", if args.iter().any(|a| a.contains("crio")) { "cri-o" } else { "podman" })
    } else if is("rootlesskit") {
        ("rootlesskit", "docker")
    } else if is("slirp4netns") {
        ("slirp4netns", "podman")
    } else if is("pasta") || is("pasta.avx2") {
        ("pasta", "podman")
    } else {
        return None;
    };
    let mut proxy = PortProxy {
        program: program.to_string(),
        runtime: runtime.to_string(),
        forwards_to: None,
        container: None,
        container_id: None,
    };
    if program == "docker-proxy" {
        let ip = arg(args, &["-container-ip", "--container-ip"]);
        let port = arg(args, &["-container-port", "--container-port"]);
        if let Some(ip) = ip {
            let shown = if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() };
            proxy.forwards_to = Some(match port {
                Some(port) => format!("{shown}:{port}"),
                None => shown,
            });
            proxy.container = ip.parse().ok().and_then(container_at);
        }
    }
    if program == "conmon" {
        proxy.container_id = arg(args, &["-c", "--cid"]).map(str::to_string);
        proxy.container = proxy.container_id.as_deref().and_then(|id| {
            let c = Container { runtime: runtime.to_string(), id: id.to_string(), pod: None };
            is_id(id).then_some(c)
        });
    }
    Some(proxy)
}

/// The container whose network namespace has address `ip` (a docker-proxy's `-container-ip`):
/// the container of a process in that namespace.
fn container_at(ip: IpAddr) -> Option<Container> {
    let own = sys::netns_inode(sys::self_pid());
    let namespaces = sys::net_namespaces().ok()?;
    namespaces
        .iter()
        .filter(|ns| Some(ns.inode) != own)
        .find(|ns| sys::netns_addresses(ns).contains(&ip))
        .and_then(|ns| ns.member)
        .and_then(Container::of_pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn each_runtime_layout_names_its_container() {
        let c = |path: &str| parse(&path.replace("ID", ID)).map(|c| (c.runtime, c.pod));
        assert_eq!(c("0::/system.slice/docker-ID.scope"), Some(("docker".into(), None)));
        assert_eq!(c("0::/docker/ID"), Some(("docker".into(), None)));
        assert_eq!(c("0::/machine.slice/libpod-ID.scope/container"), Some(("podman".into(), None)));
        assert_eq!(c("0::/libpod_parent/libpod-ID"), Some(("podman".into(), None)));
        assert_eq!(c("0::/machine.slice/libpod-conmon-ID.scope"), None, "conmon runs beside it");
        let k8s = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_7980_1122_334455667788.slice/cri-containerd-ID.scope";
        assert_eq!(c(k8s), Some(("containerd".into(), Some("1f2e3d4c-5b6a-7980-1122-334455667788".into()))));
        assert_eq!(
            c("0::/kubepods/besteffort/pod1f2e3d4c-5b6a-7980-1122-334455667788/ID").map(|x| x.0),
            Some("kubernetes".into())
        );
        assert_eq!(
            c("0::/kubepods.slice/kubepods-pod1f2e3d4c_5b6a.slice/crio-ID.scope").map(|x| x.0),
            Some("cri-o".into())
        );
        // v1 only (a v1 host), and nothing at all.
        assert_eq!(c("4:memory:/docker/ID\n0::/").map(|x| x.0), Some("docker".into()));
        assert_eq!(c("0::/user.slice/user-1000.slice/session-2.scope"), None);
        assert_eq!(c("0::/system.slice/docker-0123.scope"), None, "a short id is no id");
        let x = parse(&"0::/system.slice/docker-ID.scope".replace("ID", ID)).unwrap();
        assert_eq!(x.label(), "docker:0123456789ab");
        assert_eq!(x.stop_command(), "docker stop 0123456789ab");
        assert!(x.matches("0123") && !x.matches("1234"));
    }

    #[test]
    fn container_prefixes_are_hex_and_long_enough() {
        assert_eq!(parse_prefix("0123AB").unwrap(), "0123ab");
        for bad in ["", "012", "xyz12", "0123-", &"a".repeat(65)] {
            assert!(matches!(parse_prefix(bad), Err(Error::InvalidContainer(v)) if v == bad), "{bad}");
        }
    }

    #[test]
    fn docker_proxy_command_lines_name_their_target() {
        let p = |args: &[&str]| Process {
            pid: 10,
            ppid: 1,
            pgid: 10,
            sid: 10,
            uid: 0,
            name: args[0].rsplit('/').next().unwrap().chars().take(15).collect(),
            state: 'S',
            start_ticks: 0,
            start_time: std::time::SystemTime::UNIX_EPOCH,
            kernel_thread: false,
            cmdline: Some(args.iter().map(|s| s.to_string()).collect()),
            exe: None,
        };
        let proxy = port_proxy(&p(&[
            "/usr/bin/docker-proxy",
            "-proto",
            "tcp",
            "-host-ip",
            "0.0.0.0",
            "-host-port",
            "8080",
            "-container-ip",
            "192.0.2.77",
            "-container-port",
            "80",
        ]))
        .unwrap();
        assert_eq!(proxy.forwards_to.as_deref(), Some("192.0.2.77:80"));
        assert!(proxy.reason().contains("docker stop"), "{}", proxy.reason());
        assert_eq!(port_proxy(&p(&["conmon", "--cid", ID])).unwrap().stop_command(), "podman stop 0123456789ab");
        assert!(port_proxy(&p(&["python3", "-m", "http.server"])).is_none());
    }
}
