//! Network namespaces, with real ones: `ip netns` namespaces with a server in them, a namespace
//! without IPv6, and one a user who is not root reads through its members' `/proc/PID/net`. Each
//! scenario runs as PID 1 of a fresh PID namespace (every process reaper can see is the test's
//! own) and writes each reaper run's stdout, stderr and exit code to files the test reads
//! afterwards (`scenario` in the harness).

use crate::util::*;

// A port held in another network namespace is not held on the host (list, kill and wait --free
// there say nothing holds it), never free inside the namespace that holds it, and found with
// --all-netns; `list -s` shows the server's port with the namespace's name.
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: network namespaces and containers are Linux's"
)]
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

// Without root reaper cannot enter another network namespace (setns needs CAP_SYS_ADMIN): it
// reads the member process's /proc/PID/net tables instead. A user's own server in a user +
// network namespace of its own is found with --all-netns and its port shown by `list -s`; a
// root namespace the user cannot read is counted on stderr (it once made the whole query fail).
#[test]
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: network namespaces and containers are Linux's"
)]
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
    let mut cmd = wrapper_cmd(AS_NOBODY[0]);
    cmd.args(&AS_NOBODY[1..]).args(["unshare", "-rn", "sh", "-c", &inner, srv]);
    let server = Started::spawn(token.clone(), &mut cmd);
    wait_for("the server in its namespace to listen", || portfile.exists());
    let port = std::fs::read_to_string(&portfile).expect("port");
    let nobody = reaper_as_nobody;
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

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: network namespaces (ip netns)")]
fn ipv6_disabled_network_namespace() {
    // A fresh network namespace with IPv6 switched off: only an IPv4 listener exists there.
    let token = token("noipv6");
    let _guard = TokenReaper(token.clone());
    let tmp = TempDir::new("noipv6");
    let script = r#"
        set -e
        ip link set lo up
        sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        sysctl -qw net.ipv6.conf.default.disable_ipv6=1
        sysctl -qw net.ipv6.conf.lo.disable_ipv6=1
        echo "ipv6-disabled=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6)"
        mkfifo "$TMP/ready"
        python3 "$FIXTURE" "$TOKEN" listen tcp 127.0.0.1 > "$TMP/ready" &
        read -r line < "$TMP/ready"
        port=${line##*port=}
        echo "port=$port"
        echo "--- by port"
        "$REAPER" list --port "$port" --format json
        echo "--- everything"
        "$REAPER" list --format pid
        echo "--- udp"
        set +e
        "$REAPER" list --port udp:1-65535 --format pid
        echo "udp-exit=$?"
        kill $!
    "#;
    let run = wrapped(&["unshare", "--net", "sh", "-c", script], &token, &tmp.0);
    run.expect(0);
    let out = run.stdout();
    assert!(out.contains("ipv6-disabled=1"), "{out}");
    assert!(!run.stderr().contains("reaper:"), "{}", run.stderr());
    let (_, rest) = out.split_once("--- by port\n").expect("by port section");
    let (json, rest) = rest.split_once("--- everything\n").expect("everything section");
    let json: serde_json::Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    assert!(json[0]["cmdline"].as_array().expect("cmdline").iter().any(|a| *a == token.as_str()));
    let (all, rest) = rest.split_once("--- udp\n").expect("udp section");
    assert_eq!(all.lines().count(), 1, "only the fixture listens in this namespace: {all}");
    assert_eq!(all.trim(), json[0]["pid"].to_string());
    // No UDP socket at all in the namespace: nothing matched (exit 1), and no error.
    assert_eq!(rest.trim(), "udp-exit=1", "{rest}");
}
