//! `reaper why` (provenance) and the kill that consults it, against real software: a real
//! supervisord restarting a real HTTP server and a real PM2 restarting a listener, a process that
//! only claims a supervisor, cgroups named like a systemd service and a Docker container, a tmux
//! window, an interactive bash on a terminal (`script`), and the processes that have no starter
//! to name (PID 1, a kernel thread) or cannot be read (another user's).
//!
//! Every fixture carries a unique token (supervisord's and PM2's directories too) and is ended
//! in a `Drop` guard, also when the test fails.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::util::*;

/// The fixture's listener command line, for a supervisor's configuration.
fn listener(token: &str, port: u16) -> String {
    format!("python3 {FIXTURE} {token} listen tcp 127.0.0.1 {port}")
}

/// Python's HTTP server on 127.0.0.1:`port`, serving `dir` (whose path carries the test's
/// token), for a supervisor's configuration.
fn http_server(dir: &Path, port: u16) -> String {
    format!("python3 -m http.server {port} --bind 127.0.0.1 --directory {}", dir.display())
}

/// The answer to `GET /` on 127.0.0.1:`port`: its status line and body.
fn get(port: u16) -> (String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connecting to the HTTP server");
    // A bound on a server that never answers, not a timing assertion.
    s.set_read_timeout(Some(DEADLINE)).expect("read timeout");
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("sending GET /");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("reading the reply");
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// The pid holding `port`, as the test reads it (through reaper's list: one holder).
fn holder(port: u16) -> u32 {
    let pids = reaper(&["list", "--port", &port.to_string(), "--format", "pid"]).expect(0).pids();
    assert_eq!(pids.len(), 1, "one holder of {port}: {pids:?}");
    pids[0]
}

/// A supervisord of the test's own (configuration, socket and logs in a temp dir), run in the
/// foreground as the test's child; on drop it is killed with everything carrying the token.
struct Supervisord {
    child: Child,
    token: String,
    conf: PathBuf,
    _dir: TempDir,
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_token(&self.token);
    }
}

fn supervisord(program: &str, command: &str, token: &str) -> Supervisord {
    let dir = TempDir::new(token);
    let d = dir.0.display();
    let conf = dir.0.join("supervisord.conf");
    std::fs::write(
        &conf,
        format!(
            "[unix_http_server]\nfile={d}/supervisor.sock\n\n[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nnodaemon=true\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n[supervisorctl]\nserverurl=unix://{d}/supervisor.sock\n\n[program:{program}]\ncommand={command}\nautorestart=true\nstartsecs=0\n"
        ),
    )
    .expect("writing supervisord.conf");
    let child = Command::new("supervisord")
        .args(["-n", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting supervisord");
    Supervisord { child, token: token.to_string(), conf, _dir: dir }
}

// A program supervisord restarts (autorestart=true) serves HTTP on a port: `why` names
// supervisord and the program with the stop command; `kill --port` signals nothing, says who
// restarts it and how to stop it, and exits 1; the stop command it prints works.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux only: supervisord and PM2 come from .ci/provenance-deps (Debian packages, npm)"
)]
fn supervisord_program_is_explained_and_not_killed_in_vain() {
    if !is_root() {
        return skip("needs root: supervisord's program is run as root, and kill --port must find it");
    }
    if !have("supervisord") || !have("supervisorctl") {
        return;
    }
    let token = token("why-supervisord");
    let port = unused_port();
    let program = format!("web{}", std::process::id());
    // The document root carries the token: the server's command line does too.
    let root = TempDir::new(&token);
    std::fs::write(root.0.join("index.html"), &token).expect("writing index.html");
    let sup = supervisord(&program, &http_server(&root.0, port), &token);
    wait_for("supervisord's program to listen", || port_held(port));
    let (status, body) = get(port);
    assert!(status.starts_with("HTTP/1.0 200"), "GET / answered {status:?}");
    assert_eq!(body, token, "the page served is the test's own");
    let pid = holder(port);
    let started = stat(pid).expect("the holder").start;

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    let stop = format!("supervisorctl -c {} stop {program}", sup.conf.display());
    assert!(out.contains(&format!("supervisord (pid {})", sup.child.id())), "{out}");
    assert!(out.contains(&format!("program {program}")) && out.contains("autorestart=true"), "{out}");
    assert!(out.contains("restarts: yes") && out.contains(&format!("stop it with: {stop}")), "{out}");

    // The picker: the highlighted process's origin is shown, and Enter refuses it with the
    // stop command instead of planning a signal.
    if have("tmux") {
        // A token of its own: the guard's sweep must not reach supervisord's processes.
        let picker = crate::util::token("why-pick");
        let t = TmuxServer { socket: picker.clone(), token: picker.clone() };
        let line = format!("env NO_COLOR=1 '{REAPER}' pick # {picker}");
        let out = t.run(&["-f", "/dev/null", "new-session", "-d", "-x", "220", "-y", "40", &line]);
        assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
        t.screen_shows("the picker", "filter>");
        t.run(&["send-keys", "-l", &format!(":{port}")]);
        t.screen_shows(
            "the origin of the highlighted process",
            &format!("origin: supervisord (pid {})", sup.child.id()),
        );
        t.run(&["send-keys", "Enter"]);
        t.screen_shows("the refusal with the stop command", "stop it with: supervisorctl");
        t.run(&["send-keys", "Escape"]);
    }
    assert!(!is_dead(pid) && stat(pid).map(|s| s.start) == Some(started), "the picker signalled nothing");

    let kill = reaper(&["kill", "--port", &port.to_string(), "--yes"]);
    kill.expect(1);
    let all = kill.stdout() + &kill.stderr();
    assert!(all.contains(&stop), "the stop command is printed:\n{all}");
    assert!(all.contains("supervisord"), "{all}");
    assert!(!is_dead(pid) && stat(pid).map(|s| s.start) == Some(started), "the holder was not signalled:\n{all}");

    // The printed command is the right way: the port is free afterwards, for good.
    let out = Command::new("sh").args(["-c", &stop]).output().expect("supervisorctl");
    assert!(out.status.success(), "{stop}: {}", String::from_utf8_lossy(&out.stdout));
    wait_for("the program to stop", || !port_held(port));
}

// A process that claims a supervisor (supervisord's variables in its environment) with no
// supervisord above it is not taken for supervised: `why` names no supervisord, and `kill` ends
// it. A claim is no record: provenance only ever holds a signal back, and this one must not.
#[test]
fn a_claimed_supervisor_is_not_a_supervisor() {
    let token = token("why-claim");
    let mut cmd = Command::new("python3");
    cmd.arg(FIXTURE)
        .arg(&token)
        .args(["listen", "tcp", "127.0.0.1"])
        .env("SUPERVISOR_ENABLED", "1")
        .env("SUPERVISOR_PROCESS_NAME", "web")
        .env("SUPERVISOR_GROUP_NAME", "web")
        .env("SUPERVISOR_SERVER_URL", "unix:///run/supervisor.sock");
    let (started, info) = Started::spawn_ready(&token, &mut cmd);
    let (pid, port) = (started.pid(), num(&info, "port"));

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    assert!(out.contains(&format!("{pid} ")), "{out}");
    assert!(!out.contains("supervisord") && !out.contains("restarts: yes"), "{out}");
    let json = reaper(&["why", "--pid", &pid.to_string(), "--format", "json"]).expect(0).json();
    let origin = &json[0]["origin"];
    assert!(origin["chain"].as_array().is_some_and(|c| c.iter().all(|c| c["kind"] != "supervisord")), "{json:#}");
    assert_ne!(origin["restarts"], "yes", "{json:#}");

    let kill = reaper(&["kill", "--port", &port.to_string(), "--yes", "--format", "json"]);
    kill.expect(0);
    let report = kill.json();
    assert!(report["skipped"].as_array().is_none_or(|s| s.is_empty()), "nothing held back: {report:#}");
    assert_eq!(report["targets"][0]["pid"], pid, "{report:#}");
    wait_for("the claimant to end", || is_dead(pid));
    drop(started);
}

/// A PM2 of the test's own: its own PM2_HOME (with the token in its path), `pm2 kill` on drop.
struct Pm2 {
    bin: PathBuf,
    home: TempDir,
    token: String,
}

impl Pm2 {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("PM2_HOME", &self.home.0).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        c
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill").status();
        kill_token(&self.token);
    }
}

/// PM2: on PATH, or where `.ci/provenance-deps` installs it (an npm prefix in the temp dir).
fn pm2_bin() -> Option<PathBuf> {
    let cached = std::env::temp_dir().join("reaper-ci-npm/node_modules/.bin/pm2");
    if cached.exists() {
        return Some(cached);
    }
    have("pm2").then(|| PathBuf::from("pm2"))
}

// A PM2 app (autorestart, PM2's default) holds a port: `why` names PM2 and the app; `kill`
// exits 1 without signalling it and prints `pm2 stop NAME`.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux only: supervisord and PM2 come from .ci/provenance-deps (Debian packages, npm)"
)]
fn pm2_app_is_explained_and_not_killed_in_vain() {
    if !is_root() {
        return skip("needs root: PM2's daemon and kill's refusal, as in CI");
    }
    let Some(bin) = pm2_bin() else { return };
    let token = token("why-pm2");
    let pm2 = Pm2 { bin, home: TempDir::new(&token), token: token.clone() };
    let port = unused_port();
    let app = format!("app{}", std::process::id());
    let status = pm2
        .cmd()
        .args(["start", FIXTURE, "--interpreter", "python3", "--name", &app, "--"])
        .args([token.as_str(), "listen", "tcp", "127.0.0.1", &port.to_string()])
        .status()
        .expect("pm2 start");
    assert!(status.success(), "pm2 start failed");
    wait_for("the PM2 app to listen", || port_held(port));
    let pid = holder(port);
    let started = stat(pid).expect("the holder").start;

    let why = reaper(&["why", "--port", &port.to_string(), "--format", "json"]);
    why.expect(0);
    let json = why.json();
    let origin = &json[0]["origin"];
    assert_eq!(origin["chain"][0]["kind"], "pm2", "{json:#}");
    assert_eq!(origin["chain"][0]["name"], app.as_str(), "{json:#}");
    assert_eq!(origin["restarts"], "yes", "{json:#}");
    assert!(origin["stop"].as_str().is_some_and(|s| s.ends_with(&format!("pm2 stop {app}"))), "{json:#}");

    let kill = reaper(&["kill", "--port", &port.to_string(), "--yes"]);
    kill.expect(1);
    let all = kill.stdout() + &kill.stderr();
    assert!(all.contains(&format!("pm2 stop {app}")) && all.contains("PM2"), "{all}");
    assert!(!is_dead(pid) && stat(pid).map(|s| s.start) == Some(started), "the holder was not signalled:\n{all}");

    // `--pid` naming it overrides the refusal, and says what will happen; PM2 is watched.
    let run = reaper(&["kill", "--pid", &pid.to_string(), "--yes", "--format", "json"]);
    let json = run.json();
    let note = json["targets"][0]["note"].as_str().unwrap_or_else(|| panic!("a note: {json:#}"));
    assert!(note.contains("starts it again") && note.contains(&format!("pm2 stop {app}")), "{note}");
    let god = json["targets"][0]["origin"]["chain"][0]["pid"].clone();
    assert!(json["supervisors"].as_array().is_some_and(|s| s.iter().any(|x| x["pid"] == god)), "{json:#}");
    wait_for("the holder to end", || is_dead(pid));
}

/// A cgroup `system.slice/NAME` of the test's own below the cgroup2 mount, with a listener
/// moved into it; on drop the listener is killed and the cgroup removed (and `system.slice`, when
/// this test made it and nothing else is in it).
struct InCgroup {
    fixture: Option<Fixture>,
    dir: PathBuf,
    made_slice: bool,
}

impl InCgroup {
    /// A listener in `system.slice/NAME`; `None` (said) where no cgroup can be made.
    fn start(tag: &str, name: &str) -> Option<InCgroup> {
        let Some(mount) = cgroup2_mount() else {
            skip("no cgroup2 mount");
            return None;
        };
        let slice = mount.join("system.slice");
        let made_slice = !slice.exists();
        let dir = slice.join(name);
        // Another test's guard may remove an empty system.slice between the two mkdirs: again.
        if !(0..3).any(|_| std::fs::create_dir_all(&dir).is_ok()) {
            skip("cannot create a cgroup under the cgroup2 mount");
            return None;
        }
        let fx = Fixture::start(tag, "listen", &["tcp", "127.0.0.1"]);
        let pid = fx.pid();
        let guard = InCgroup { fixture: Some(fx), dir, made_slice };
        std::fs::write(guard.dir.join("cgroup.procs"), pid.to_string()).expect("moving the fixture into the cgroup");
        Some(guard)
    }

    fn pid(&self) -> u32 {
        self.fixture.as_ref().map_or(0, Fixture::pid)
    }

    fn port(&self) -> u16 {
        self.fixture.as_ref().map_or(0, Fixture::port)
    }
}

impl Drop for InCgroup {
    fn drop(&mut self) {
        drop(self.fixture.take());
        let procs = self.dir.join("cgroup.procs");
        wait_for("the cgroup to empty", || std::fs::read_to_string(&procs).map_or(true, |s| s.trim().is_empty()));
        let _ = std::fs::remove_dir(&self.dir);
        if self.made_slice {
            let _ = std::fs::remove_dir(self.dir.parent().unwrap_or(Path::new("/")));
        }
    }
}

// A server in a cgroup named like a systemd service (systemd need not run): `why` names the
// unit with its `systemctl stop`, list's JSON carries it, and without a running systemd the
// restart policy is said to be unknown, not invented.
#[cfg_attr(any(feature = "portable", not(target_os = "linux")), ignore = "portable backend: no cgroups")]
#[test]
fn a_systemd_service_cgroup_names_the_unit() {
    if !is_root() {
        return skip("needs root: a cgroup of the test's own");
    }
    let unit = format!("{}.service", token("why-unit"));
    let Some(guard) = InCgroup::start("why-unit", &unit) else { return };
    let (pid, port) = (guard.pid(), guard.port());

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    assert!(out.contains(&format!("systemd unit {unit}")), "{out}");
    assert!(out.contains(&format!("stop it with: systemctl stop {unit}")), "{out}");
    let systemd = Path::new("/run/systemd/system").is_dir();
    if !systemd {
        assert!(out.contains("unknown: systemd is not running"), "{out}");
    }

    let list = reaper(&["list", "--port", &port.to_string(), "--format", "json"]).expect(0).json();
    let chain = list[0]["origin"]["chain"].as_array().unwrap_or_else(|| panic!("no origin: {list:#}")).clone();
    let c = chain.iter().find(|c| c["kind"] == "systemd-unit").unwrap_or_else(|| panic!("no unit: {list:#}"));
    assert_eq!(c["name"], unit.as_str());
    assert_eq!(c["stop"], format!("systemctl stop {unit}").as_str());
    if !systemd {
        assert_eq!(c["restarts"], "unknown", "{list:#}");
        assert_eq!(list[0]["origin"]["restarts"], "unknown", "{list:#}");
    }
    // kill's plan says it too, and its JSON carries the origin of the match.
    let dry = reaper(&["kill", "--port", &port.to_string(), "--dry-run"]).expect(0).stdout();
    assert!(dry.contains(&format!("origin of {pid}: ")) && dry.contains(&format!("systemctl stop {unit}")), "{dry}");
    let plan = reaper(&["kill", "--port", &port.to_string(), "--dry-run", "--format", "json"]).expect(0).json();
    assert_eq!(plan["targets"][0]["origin"]["stop"], format!("systemctl stop {unit}").as_str(), "{plan:#}");
    drop(guard);
}

// A server in a cgroup named like a Docker container's (`system.slice/docker-ID.scope`; no
// engine need run): `why` names the container and `docker stop ID`, and says its restart policy
// is unknown when no engine's API socket tells it (none answers here, or one that does not know
// this made-up id).
#[cfg_attr(feature = "portable", ignore = "portable backend: no cgroups")]
#[test]
fn a_docker_container_cgroup_names_the_container() {
    if !is_root() {
        return skip("needs root: a cgroup of the test's own");
    }
    // 64 hex digits of the test's own: the time, the pid, a count.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let id = format!("{nanos:016x}{:016x}{n:016x}{:016x}", std::process::id(), 0xfeed_5eed_u64);
    let short = &id[..12];
    let Some(guard) = InCgroup::start("why-docker", &format!("docker-{id}.scope")) else { return };
    let port = guard.port();

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    assert!(out.contains(&format!("<- container docker:{short}: restart policy unknown")), "{out}");
    assert!(out.contains(&format!("stop it with: docker stop {short}")), "{out}");
    assert!(out.contains(&format!("restarts: unknown (container docker:{short} may)")), "{out}");
    // The container's scope is the container, not a systemd unit of its own.
    assert!(!out.contains("systemd"), "{out}");

    let json = reaper(&["why", "--port", &port.to_string(), "--format", "json"]).expect(0).json();
    let origin = &json[0]["origin"];
    let chain = origin["chain"].as_array().unwrap_or_else(|| panic!("no chain: {json:#}"));
    let c = chain.iter().find(|c| c["kind"] == "container").unwrap_or_else(|| panic!("no container: {json:#}"));
    assert_eq!(c["name"], format!("docker:{short}").as_str(), "{json:#}");
    assert_eq!(c["restarts"], "unknown", "{json:#}");
    assert_eq!(origin["stop"], format!("docker stop {short}").as_str(), "{json:#}");
    drop(guard);
}

/// A tmux server of the test's own (`-L` a unique socket), killed on drop with the token.
struct TmuxServer {
    socket: String,
    token: String,
}

impl TmuxServer {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).stdin(Stdio::null()).output().expect("tmux")
    }
}

impl TmuxServer {
    /// Waits until the (only) pane's screen contains `text`.
    #[track_caller]
    fn screen_shows(&self, what: &str, text: &str) {
        let mut last = String::new();
        let start = std::time::Instant::now();
        while start.elapsed() < DEADLINE {
            last = String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-J"]).stdout).into_owned();
            if last.contains(text) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{what}: {text:?} never showed; the screen:\n{last}");
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        kill_token(&self.token);
    }
}

// A dev server in a tmux window: `why` names tmux, the session and the window.
#[test]
fn a_dev_server_in_tmux_names_the_session() {
    if !have("tmux") {
        return;
    }
    let token = token("why-tmux");
    let t = TmuxServer { socket: token.clone(), token: token.clone() };
    let port = unused_port();
    let session = format!("dev{}", std::process::id());
    let out = t.run(&["-f", "/dev/null", "new-session", "-d", "-s", &session, "-n", "vite", &listener(&token, port)]);
    assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    wait_for("the server in tmux to listen", || port_held(port));

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    assert!(out.contains("tmux (pid ") && out.contains(&format!("session {session}")), "{out}");
    assert!(out.contains("window 0 (vite)"), "{out}");
    assert!(!out.contains("stop it with"), "a signal is the right way here: {out}");
}

// A server started from an interactive bash on another terminal (`script` gives it one): `why`
// names the shell and its terminal; `kill` ends it with no settle wait (no supervisor in the
// report) and no "may restart" note.
#[cfg_attr(
    any(feature = "portable", not(target_os = "linux")),
    ignore = "portable backend: the controlling terminal is not read"
)]
#[test]
fn a_server_from_an_interactive_shell_is_killed_without_supervisor_note() {
    if !have("script") || !have("bash") {
        return;
    }
    let token = token("why-shell");
    let port = unused_port();
    let mut child = Command::new("script")
        .args(["-qfc", &format!("bash --norc --noprofile -i # {token}"), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let _guard = Started { token: token.clone(), child };
    writeln!(stdin, "{}", listener(&token, port)).expect("typing into the terminal");
    wait_for("the server from the shell to listen", || port_held(port));
    let pid = holder(port);

    let why = reaper(&["why", "--port", &port.to_string()]);
    why.expect(0);
    let out = why.stdout();
    assert!(out.contains("interactive shell (pid ") && out.contains("bash: on pts/"), "{out}");
    assert!(out.contains("restarts: no"), "{out}");

    let kill = reaper(&["kill", "--port", &port.to_string(), "--yes", "--format", "json"]);
    kill.expect(0);
    let report = kill.json();
    assert_eq!(report["supervisors"], Value::Array(Vec::new()), "no supervisor, so no settle wait: {report:#}");
    assert!(!kill.stderr().contains("note:") && !kill.stderr().contains("supervisor"), "{}", kill.stderr());
    assert!(is_dead(pid) || !port_held(port), "{report:#}");
    drop(stdin);
}

// PID 1 (a dummy of ours in a fresh PID namespace) and a kernel thread are explained honestly
// (exit 0: nothing started them that could be named, and that is said); another user's process
// that cannot be read is shown as far as it can be, with what was not read, and exit 3.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "Linux only: a PID namespace, kthreadd and setpriv")]
fn pid_1_kernel_threads_and_unreadable_processes_answer_honestly() {
    if !is_root() {
        return skip("needs root: a PID namespace, and a process nobody cannot read");
    }
    if !have("unshare") || !have("setpriv") {
        return;
    }
    let token = token("why-pid1");
    let script = format!("exec 3>&-; sleep 60 & '{REAPER}' why --pid 1 --format json # {token}");
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "sh", "-c", &script]);
    let run = run_bounded(&mut cmd, "why --pid 1 in a PID namespace".into());
    run.expect(0);
    let json = run.json();
    assert_eq!(json[0]["pid"], 1, "{json:#}");
    assert_eq!(json[0]["origin"]["chain"][0]["kind"], "init", "{json:#}");
    assert_eq!(json[0]["origin"]["restarts"], "no", "{json:#}");

    // A kernel thread, as the kernel flags it.
    match kernel_thread() {
        Some(kthread) => {
            let k = reaper(&["why", "--pid", &kthread.to_string(), "--format", "json"]);
            k.expect(0);
            let json = k.json();
            assert_eq!(json[0]["pid"], kthread, "{json:#}");
            assert_eq!(json[0]["origin"]["chain"][0]["kind"], "kernel", "{json:#}");
            assert_eq!(json[0]["origin"]["restarts"], "no", "{json:#}");
        }
        None => skip("no kernel thread visible (a PID namespace of its own?)"),
    }

    // root's process, asked by nobody: its environment cannot be read.
    let fx = Fixture::start("why-unreadable", "idle", &[]);
    let run = reaper_as_nobody(&["why", "--pid", &fx.pid().to_string()]);
    run.expect(3);
    assert!(run.stdout().contains(&format!("{} ", fx.pid())), "{}", run.stdout());
    assert!(run.stdout().contains("not read: its environment"), "{}", run.stdout());
}

/// A kernel thread: a process whose `flags` (field 9 of `/proc/PID/stat`) carry `PF_KTHREAD`;
/// kthreadd (pid 2) when it is visible, else the first found.
fn kernel_thread() -> Option<u32> {
    const PF_KTHREAD: u64 = 0x0020_0000;
    let flagged = |pid: u32| {
        let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
        // The name is in parentheses and may hold spaces: the fields after it, from `state` on.
        let close = stat.iter().rposition(|&b| b == b')')?;
        let rest = String::from_utf8_lossy(&stat[close + 1..]).into_owned();
        let flags: u64 = rest.split_whitespace().nth(6)?.parse().ok()?;
        (flags & PF_KTHREAD != 0).then_some(pid)
    };
    flagged(2).or_else(|| {
        let mut pids: Vec<u32> =
            std::fs::read_dir("/proc").ok()?.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        pids.sort_unstable();
        pids.into_iter().find_map(flagged)
    })
}
