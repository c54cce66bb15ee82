//! Containers, from real cgroups named as container runtimes name them: the CONTAINER column, JSON,
//! `tree`, and `--container` by id prefix; a real Podman container by hand.

use crate::util::*;

// The CONTAINER column, JSON and `tree` name the container a real cgroup names
// (`docker-<id>.scope`); the column is left out when no row is in a container; `--container`
// selects by id prefix (case aside, at least 4 hex digits: fewer is bad input, exit 2).
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: network namespaces and containers are Linux's"
)]
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

// A real container: Podman with a root filesystem made by debootstrap, run as docs/src/safety.md's
// testing notes say (crun refuses this machine's hybrid cgroups, and the container cannot raise
// its limits). Its server's port is found with --all-netns and named with the container; the
// published port is held on the host by conmon, which kill refuses with `podman stop`.
// By hand: REAPER_TEST_ROOTFS=/path/to/rootfs cargo test --test it -- --ignored podman
#[test]
#[ignore = "needs podman and REAPER_TEST_ROOTFS (a debootstrap root filesystem); see docs/src/safety.md"]
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
