//! Network namespaces and containers (issue 16), with real ones: `ip netns` namespaces with a
//! server in them, cgroup v2 cgroups named as container runtimes name them, and a docker-proxy
//! simulated by a listener with its command line. Each scenario runs as PID 1 of a fresh PID
//! namespace (every process reaper can see is the test's own), and writes each reaper run's
//! stdout, stderr and exit code to files the test reads afterwards.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::util::*;

/// A network namespace named `reaper-test-...`, deleted when dropped (the namespace itself ends
/// with the last process in it: the PID namespace's end takes those along).
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Option<Netns> {
        let name = token(tag);
        let ok = run_bounded(wrapper_cmd("ip").args(["netns", "add", &name]), format!("ip netns add {name}"));
        if ok.code() != 0 {
            eprintln!("ip netns add failed: {}", ok.stderr());
            return None;
        }
        let ns = Netns(name);
        run_bounded(wrapper_cmd("ip").args(["-n", &ns.0, "link", "set", "lo", "up"]), "ip link set lo up".into())
            .expect(0);
        Some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A cgroup v2 named as a container runtime names a container's (`docker-<64 hex>.scope`),
/// under the cgroup2 mount; removed when dropped, once its processes are gone.
struct ContainerCgroup {
    dir: PathBuf,
    id: String,
}

impl ContainerCgroup {
    fn new(tag: &str) -> Option<ContainerCgroup> {
        let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
        let mount = mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_ascii_whitespace().collect();
            (f.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(f[1]))
        })?;
        // 64 hex digits of the test's own: no other container has this id.
        let seed = token(tag);
        let id: String = (0..4u8)
            .map(|i| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (&seed, i).hash(&mut h);
                format!("{:016x}", h.finish())
            })
            .collect();
        let dir = mount.join(format!("docker-{id}.scope"));
        std::fs::create_dir(&dir).ok()?;
        Some(ContainerCgroup { dir, id })
    }

    fn procs(&self) -> String {
        self.dir.join("cgroup.procs").display().to_string()
    }
}

impl Drop for ContainerCgroup {
    fn drop(&mut self) {
        let events = self.dir.join("cgroup.events");
        let empty = || std::fs::read_to_string(&events).is_ok_and(|e| e.contains("populated 0"));
        let start = Instant::now();
        while !empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(token(tag));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What each reaper run of a scenario said: exit code, stdout, stderr, by the run's name.
pub(crate) struct Runs(HashMap<String, (i32, String, String)>, String);

impl Runs {
    #[track_caller]
    pub(crate) fn get(&self, name: &str) -> (i32, &str, &str) {
        let (code, out, err) = self.0.get(name).unwrap_or_else(|| panic!("no run {name}; scenario said:\n{}", self.1));
        (*code, out, err)
    }

    #[track_caller]
    pub(crate) fn expect(&self, name: &str, code: i32) -> (&str, &str) {
        let (c, out, err) = self.get(name);
        assert_eq!(c, code, "{name}\nstdout:\n{out}\nstderr:\n{err}\nscenario:\n{}", self.1);
        (out, err)
    }

    #[track_caller]
    pub(crate) fn json(&self, name: &str) -> serde_json::Value {
        let (_, out, _) = self.get(name);
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{out}"))
    }
}

/// The shell functions every scenario starts with: `check NAME CMD...` runs a command and keeps
/// what it said in `$D/NAME.{out,err,rc}`; `r NAME ARGS...` does that for reaper; `rin NS NAME ARGS...` does the same inside network
/// namespace NS; `ready FILE` polls (with a deadline) for a file a server writes once it listens.
const PRELUDE: &str = r#"
set -u
check() { n=$1; shift; "$@" >"$D/$n.out" 2>"$D/$n.err"; echo $? >"$D/$n.rc"; }
r() { n=$1; shift; check "$n" "$REAPER" "$@"; }
rin() { ns=$1; n=$2; shift 2; check "$n" ip netns exec "$ns" "$REAPER" "$@"; }
ready() { for _ in $(seq 400); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "never ready: $1" >&2; exit 9; }
alive() { [ -e /proc/$1 ] && ! grep -q ') Z' /proc/$1/stat; }
# A TCP server: binds HOST:0 (or a port), writes the port to FILE once it listens.
SRV='import socket,sys,os,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[2],0)); s.listen()
open(sys.argv[1]+".t","w").write(str(s.getsockname()[1])); os.rename(sys.argv[1]+".t",sys.argv[1]); time.sleep(600)'
"#;

/// Runs `script` (after [`PRELUDE`]) as PID 1 of a new PID namespace, with `$D` a directory of
/// its own, `$0` the token and `args` as `$1...`; returns every run it recorded.
pub(crate) fn scenario(token: &str, script: &str, args: &[&str]) -> Runs {
    let tmp = TempDir::new("netns-runs");
    let mut cmd = wrapper_cmd("unshare");
    let body = format!("{PRELUDE}\n{script}");
    cmd.args(["--pid", "--fork", "--mount-proc", "bash", "-c", &body, token]).args(args).env("D", &tmp.0);
    let run = run_bounded(&mut cmd, format!("unshare --pid bash -c SCRIPT {token}"));
    let said = format!("exit {}\nstdout:\n{}\nstderr:\n{}", run.code(), run.stdout(), run.stderr());
    assert_eq!(run.code(), 0, "the scenario failed:\n{said}");
    let mut runs = HashMap::new();
    for entry in std::fs::read_dir(&tmp.0).expect("runs").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rc") {
            let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
            let read = |ext: &str| std::fs::read_to_string(path.with_extension(ext)).unwrap_or_default();
            let code = read("rc").trim().parse().expect("exit code");
            runs.insert(name, (code, read("out"), read("err")));
        }
    }
    Runs(runs, said)
}

fn ready_to_run() -> bool {
    if !is_root() {
        skip("needs root: network namespaces, cgroups, PID namespaces");
        return false;
    }
    have("ip") && have("unshare")
}

// A port held in another network namespace is not held on the host (list, kill and wait --free
// there say nothing holds it), never free inside the namespace that holds it, and found with
// --all-netns; `list -s` shows the server's port with the namespace's name.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: network namespaces and containers are Linux's")]
fn a_port_in_another_netns_is_not_the_hosts_and_all_netns_finds_it() {
    if !ready_to_run() {
        return;
    }
    let Some(ns) = Netns::new("ns") else { return skip("ip netns add failed") };
    let token = token("netns");
    let script = r#"
        NS=$1
        ip netns exec "$NS" python3 -c "$SRV" "$D/port" 127.0.0.1 "$0" &
        srv=$!
        ready "$D/port"; P=$(cat "$D/port")
        r list-host list --port "$P"
        r wait-host wait --port "$P" --free --timeout 2s
        r kill-host kill --port "$P" --yes --format json
        check alive-after-host-kill alive "$srv"
        rin "$NS" wait-inside wait --port "$P" --free --timeout 1s
        rin "$NS" list-inside list --port "$P" --format json
        r list-all list --port "$P" --all-netns --format json
        r list-sig list --signature "$0"
        r list-sig-json list --signature "$0" --format json
        r kill-all-dry kill --port "$P" --all-netns --dry-run
        r kill-all kill --port "$P" --all-netns --yes --format json
        check alive-after-all-netns-kill alive "$srv"
    "#;
    let runs = scenario(&token, script, &[&ns.0]);
    let label = format!("netns:{}", ns.0);

    // The host: nothing holds it; kill signals nothing and the server lives on.
    let (out, _) = runs.expect("list-host", 1);
    assert!(out.trim().is_empty(), "{out}");
    runs.expect("wait-host", 0);
    let kill = runs.json("kill-host");
    let (_, why) = runs.expect("kill-host", 0);
    assert!(why.contains(&format!("held in another network namespace ({label}): --all-netns")), "{why}");
    assert_eq!(kill["targets"].as_array().map(Vec::len), Some(0), "{kill:#}");
    assert_eq!(kill["ports"][0]["state"], "free", "{kill:#}");
    runs.expect("alive-after-host-kill", 0);

    // Inside the namespace it is held, by the server, with no mark (it is reaper's own there).
    runs.expect("wait-inside", 1);
    let inside = runs.json("list-inside");
    assert_eq!(inside.as_array().map(Vec::len), Some(1), "{inside:#}");
    assert!(inside[0]["ports"][0]["netns"].is_null(), "{inside:#}");

    // --all-netns: held, by the server, marked with the namespace's name.
    let all = runs.json("list-all");
    runs.expect("list-all", 0);
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all:#}");
    assert_eq!(all[0]["ports"][0]["netns"], label.as_str(), "{all:#}");
    let srv = all[0]["pid"].as_u64().expect("pid");

    // list -s: the port is shown where it is, with the mark (it used to be an empty column).
    let (table, _) = runs.expect("list-sig", 0);
    assert!(table.contains(&label) && table.contains("tcp 127.0.0.1:"), "{table}");
    let sig = runs.json("list-sig-json");
    let row = sig.as_array().expect("rows").iter().find(|r| r["pid"].as_u64() == Some(srv)).expect("server row");
    assert_eq!(row["ports"][0]["netns"], label.as_str(), "{sig:#}");

    // kill --all-netns: the plan names it, it ends, and the port is free in every namespace.
    let (dry, _) = runs.expect("kill-all-dry", 0);
    assert!(dry.contains(&format!("* {srv} ")) && dry.contains(&format!("in {label}")), "{dry}");
    let killed = runs.json("kill-all");
    runs.expect("kill-all", 0);
    assert_eq!(killed["targets"][0]["pid"].as_u64(), Some(srv), "{killed:#}");
    assert_eq!(killed["ports"][0]["state"], "free", "{killed:#}");
    runs.expect("alive-after-all-netns-kill", 1);
}

// The CONTAINER column, JSON and `tree` name the container a real cgroup names
// (`docker-<id>.scope`); the column is left out when no row is in a container; `--container`
// selects by id prefix (case aside, at least 4 hex digits: fewer is bad input, exit 2).
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: network namespaces and containers are Linux's")]
fn container_column_json_and_selector_from_a_real_cgroup() {
    if !ready_to_run() {
        return;
    }
    let Some(cg) = ContainerCgroup::new("container") else { return skip("no writable cgroup2 mount") };
    let token = token("container");
    let script = r#"
        CG=$1; ID=$2
        python3 -c "$SRV" "$D/cport" 127.0.0.1 "$0" &
        c=$!; echo "$c" > "$CG"
        python3 -c "$SRV" "$D/hport" 127.0.0.1 "$0" &
        h=$!
        ready "$D/cport"; ready "$D/hport"
        echo "$c" > "$D/c.pid"; echo "$h" > "$D/h.pid"
        check pids cat "$D/c.pid" "$D/h.pid"
        r list-c list --pid "$c"
        r list-c-json list --pid "$c" --format json
        r list-h list --pid "$h"
        r tree-c tree "$c"
        r prefix list --container "${ID:0:8}" --format pid
        r upper list --container "$(echo "${ID:0:8}" | tr a-f A-F)" --format pid
        r short list --container 12a
        r nothex list --container zzzzz
        r kill-c kill --container "${ID:0:10}" --yes --format json
        check alive-c alive "$c"
        check alive-h alive "$h"
    "#;
    let runs = scenario(&token, script, &[&cg.procs(), &cg.id]);
    let (pids, _) = runs.expect("pids", 0);
    let pids: Vec<&str> = pids.lines().collect();
    let (c, h) = (pids[0], pids[1]);
    let short = &cg.id[..12];
    let label = format!("docker:{short}");

    let (table, _) = runs.expect("list-c", 0);
    let header = table.lines().next().expect("header");
    assert!(header.contains("CONTAINER"), "{table}");
    assert!(table.contains(&label), "{table}");
    let json = runs.json("list-c-json");
    assert_eq!(json[0]["container"]["runtime"], "docker", "{json:#}");
    assert_eq!(json[0]["container"]["id"], cg.id.as_str(), "{json:#}");
    assert!(json[0]["container"]["pod"].is_null(), "{json:#}");
    let (plain, _) = runs.expect("list-h", 0);
    assert!(!plain.contains("CONTAINER"), "no row is in a container: {plain}");
    let (tree, _) = runs.expect("tree-c", 0);
    assert!(tree.lines().any(|l| l.contains(&format!("* {c} ")) && l.contains(&format!("{{{label}}}"))), "{tree}");

    assert_eq!(runs.expect("prefix", 0).0.trim(), c);
    assert_eq!(runs.expect("upper", 0).0.trim(), c);
    for bad in ["short", "nothex"] {
        let (_, err) = runs.expect(bad, 2);
        assert!(err.contains("invalid container"), "{err}");
    }
    let killed = runs.json("kill-c");
    runs.expect("kill-c", 0);
    let targets: Vec<String> =
        killed["targets"].as_array().expect("targets").iter().map(|t| t["pid"].to_string()).collect();
    assert_eq!(targets, vec![c.to_string()], "{killed:#}");
    runs.expect("alive-c", 1);
    runs.expect("alive-h", 0);
    let _ = h;
}

// A container runtime's port proxy holding a published port (here a listener whose name and
// command line are docker-proxy's, forwarding to an address of a real netns whose process is in
// a `docker-<id>.scope` cgroup): kill names the container and `docker stop`, signals nothing
// and exits 1; named with --pid, it is signalled.
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: network namespaces and containers are Linux's")]
fn docker_proxy_is_refused_with_the_container_named_unless_pid_names_it() {
    if !ready_to_run() {
        return;
    }
    let Some(ns) = Netns::new("proxy") else { return skip("ip netns add failed") };
    let Some(cg) = ContainerCgroup::new("proxy") else { return skip("no writable cgroup2 mount") };
    let token = token("proxy");
    let n = std::process::id();
    let ip = format!("10.213.{}.{}", (n >> 8) & 0xff, (n & 0xff).max(1));
    let script = r#"
        NS=$1; CG=$2; IP=$3
        ip -n "$NS" addr add "$IP/32" dev lo
        ip netns exec "$NS" python3 -c "$SRV" "$D/cport" "$IP" "$0" &
        c=$!; echo "$c" > "$CG"
        ready "$D/cport"
        ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$D/docker-proxy"
        "$D/docker-proxy" -c "$SRV" "$D/hport" 127.0.0.1 -proto tcp -host-ip 127.0.0.1 -host-port 0 \
            -container-ip "$IP" -container-port "$(cat "$D/cport")" "$0" &
        p=$!
        ready "$D/hport"; HP=$(cat "$D/hport")
        echo "$p" > "$D/p.pid"; check pid cat "$D/p.pid"
        r refused kill --port "$HP" --yes --format json
        r refused-text kill --port "$HP" --yes
        check alive-refused alive "$p"
        check alive-container alive "$c"
        r named kill --port "$HP" --pid "$p" --yes --format json
        check alive-named alive "$p"
    "#;
    let runs = scenario(&token, script, &[&ns.0, &cg.procs(), &ip]);
    let pid: u64 = runs.expect("pid", 0).0.trim().parse().expect("pid");
    let short = &cg.id[..12];

    let refused = runs.json("refused");
    runs.expect("refused", 1);
    assert_eq!(refused["targets"].as_array().map(Vec::len), Some(0), "{refused:#}");
    let skipped = &refused["skipped"][0];
    assert_eq!(skipped["pid"].as_u64(), Some(pid), "{refused:#}");
    assert_eq!(skipped["stop"], format!("docker stop {short}").as_str(), "{refused:#}");
    assert_eq!(skipped["flag"], format!("--pid {pid}").as_str(), "{refused:#}");
    let reason = skipped["reason"].as_str().expect("reason");
    assert!(reason.contains(&format!("docker:{short}")) && reason.contains(&ip), "{reason}");
    assert_eq!(refused["ports"][0]["state"], "held", "{refused:#}");
    let (_, err) = runs.expect("refused-text", 1);
    assert!(err.contains(&format!("skipping {pid} (docker-proxy)")) && err.contains("docker stop"), "{err}");
    runs.expect("alive-refused", 0);
    runs.expect("alive-container", 0);

    let named = runs.json("named");
    runs.expect("named", 0);
    assert_eq!(named["targets"][0]["pid"].as_u64(), Some(pid), "{named:#}");
    runs.expect("alive-named", 1);
}

/// Removes a Podman container when dropped (podman's state outlives the PID namespace that
/// ended the container's processes), from a mount namespace without the cgroup2 mount, as it
/// was run.
struct PodmanContainer(String);

impl Drop for PodmanContainer {
    fn drop(&mut self) {
        let script = "umount /sys/fs/cgroup/unified 2>/dev/null; podman --cgroup-manager=cgroupfs rm -f -t 0 \"$0\"";
        let _ = std::process::Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", script, &self.0])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

// A real container: Podman with a root filesystem made by debootstrap, run as the README's
// testing notes say (crun refuses this machine's hybrid cgroups, and the container cannot raise
// its limits). Its server's port is found with --all-netns and named with the container; the
// published port is held on the host by conmon, which kill refuses with `podman stop`.
// By hand: REAPER_TEST_ROOTFS=/path/to/rootfs cargo test --test it -- --ignored podman
#[test]
#[ignore = "needs podman and REAPER_TEST_ROOTFS (a debootstrap root filesystem); see the README"]
fn podman_container_is_named_and_its_conmon_is_refused() {
    let Some(rootfs) = std::env::var_os("REAPER_TEST_ROOTFS") else {
        return skip("REAPER_TEST_ROOTFS is not set");
    };
    if !ready_to_run() || !have("podman") {
        return;
    }
    let token = token("podman");
    let name = PodmanContainer(token.clone());
    let script = r#"
        ROOTFS=$1
        umount /sys/fs/cgroup/unified 2>/dev/null
        O=--cgroup-manager=cgroupfs
        podman $O run -d --name "$0" --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
            -p 127.0.0.1::8000 -v /usr:/usr:ro --rootfs "$ROOTFS" /usr/bin/python3 -m http.server 8000 >/dev/null
        for _ in $(seq 400); do HP=$(podman $O port "$0" 8000 2>/dev/null | sed 's/.*://'); [ -n "$HP" ] && break; sleep 0.05; done
        check id podman $O inspect --format '{{.Id}}' "$0"
        for _ in $(seq 400); do "$REAPER" list --port 8000 --all-netns --format pid >/dev/null && break; sleep 0.05; done
        r all list --port 8000 --all-netns --format json
        r refused kill --port "$HP" --yes --format json
        check stop podman $O stop -t 1 "$0"
    "#;
    let runs = scenario(&token, script, &[&rootfs.to_string_lossy()]);
    let id = runs.expect("id", 0).0.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let all = runs.json("all");
    runs.expect("all", 0);
    let server = all.as_array().expect("rows").iter().find(|r| r["container"]["id"] == id.as_str()).expect("server");
    assert_eq!(server["container"]["runtime"], "podman", "{all:#}");
    assert!(server["ports"][0]["netns"].as_str().is_some_and(|n| n.starts_with("net")), "{all:#}");
    let refused = runs.json("refused");
    runs.expect("refused", 1);
    assert_eq!(refused["skipped"][0]["name"], "conmon", "{refused:#}");
    assert_eq!(refused["skipped"][0]["stop"], format!("podman stop {}", &id[..12]).as_str(), "{refused:#}");
    runs.expect("stop", 0);
    drop(name);
}

// Without root reaper cannot enter another network namespace (setns needs CAP_SYS_ADMIN): it
// reads the member process's /proc/PID/net tables instead. A user's own server in a user +
// network namespace of its own is found with --all-netns and its port shown by `list -s`; a
// root namespace the user cannot read is counted on stderr (it once made the whole query fail).
#[test]
#[cfg_attr(feature = "portable", ignore = "portable backend: network namespaces and containers are Linux's")]
fn without_root_a_namespace_is_read_from_its_members_proc_net() {
    if !ready_to_run() || !have("setpriv") {
        return;
    }
    // A root namespace nobody may not enter: counted on stderr, never an error or "free".
    let Some(_root_ns) = Netns::new("netns-root") else { return skip("ip netns add failed") };
    let tmp = TempDir::new("netns-user");
    std::fs::set_permissions(&tmp.0, std::os::unix::fs::PermissionsExt::from_mode(0o777)).expect("chmod");
    let token = token("netns-user");
    let portfile = tmp.0.join("port");
    let inner = format!("ip link set lo up; exec python3 -c \"$0\" {} 127.0.0.1 {token}", portfile.display());
    let srv = PRELUDE.split("SRV='").nth(1).and_then(|s| s.split("'\n").next()).expect("SRV in the prelude");
    let mut cmd = wrapper_cmd("setpriv");
    cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", "unshare", "-rn", "sh", "-c", &inner, srv]);
    let server = Started::spawn(token.clone(), &mut cmd);
    wait_for("the server in its namespace to listen", || portfile.exists());
    let port = std::fs::read_to_string(&portfile).expect("port");
    let nobody = |args: &[&str]| {
        let mut cmd = wrapper_cmd("setpriv");
        cmd.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", REAPER]).args(args);
        run_bounded(&mut cmd, format!("setpriv nobody reaper {}", args.join(" ")))
    };
    let host = nobody(&["list", "--port", &port]);
    host.expect(1);
    let all = nobody(&["list", "--port", &port, "--all-netns", "--format", "json"]);
    all.expect(0);
    assert!(all.stderr().contains("could not be read (entering one needs root)"), "{}", all.stderr());
    let json = all.json();
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json:#}");
    assert!(json[0]["ports"][0]["netns"].as_str().is_some_and(|n| n.starts_with("net:[")), "{json:#}");
    let by_sig = nobody(&["list", "--signature", &token]);
    by_sig.expect(0);
    assert!(by_sig.stdout().contains(&format!("tcp 127.0.0.1:{port} net:[")), "{}", by_sig.stdout());
    drop(server);
}
