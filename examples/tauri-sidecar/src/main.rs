//! A Tauri v2 app whose sidecar (a PyInstaller onefile server: a launcher and the Python child
//! that holds the port) is started through `reaper::guard`, so that the sidecar's whole tree ends
//! whenever the app ends: window closed, SIGTERM, SIGKILL, a panic.
//!
//! Before it starts the sidecar, the app frees its port from a stale sidecar of its own (an
//! earlier run that was killed before reaper guarded it), matched by executable and command
//! line, and never touches a foreign process on the port: it names it and exits 1.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use reaper::guard::{self, GuardOptions, RunOutcome, Stopper};
use reaper::{KillOptions, PortSpec, ProcessRecord, Selection, Sequence, Signal, Snapshot};
use tauri::{Manager, RunEvent};

/// How the sidecar's tree is ended on quit: SIGTERM, up to this long, then SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// How long the sidecar gets to listen on its port after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The running sidecar, in Tauri's state: its stopper and the thread that guards it.
struct Sidecar {
    stopper: Stopper,
    thread: Mutex<Option<JoinHandle<Result<RunOutcome, reaper::Error>>>>,
}

impl Sidecar {
    /// Starts `program` under the guard on a thread of its own (`guard::run` blocks until the
    /// tree ends). The tree belongs to this process: if the app dies, even by SIGKILL, the
    /// kernel ends it (Linux: the guard is the init of a PID namespace and dies with the app;
    /// Windows: a kill-on-close Job Object); on macOS a watcher process does.
    fn start(program: &Path, port: u16) -> Result<Sidecar, reaper::Error> {
        let stopper = Stopper::new()?;
        let opts = GuardOptions {
            sequence: Sequence::graceful(Signal::TERM, GRACE),
            ready_port: Some(port),
            ready_timeout: Some(READY_TIMEOUT),
            stopper: Some(stopper.clone()),
            // The app owns its signals (see `common::quit_on_signals`).
            handle_signals: false,
            ..GuardOptions::default()
        };
        let mut cmd = vec![program.as_os_str().to_owned()];
        cmd.extend(common::sidecar_args(port));
        let thread = std::thread::spawn(move || guard::run(&cmd, &opts, &mut |e| eprintln!("sidecar: {e}")));
        Ok(Sidecar { stopper, thread: Mutex::new(Some(thread)) })
    }

    /// Ends the sidecar's whole tree (SIGTERM, then SIGKILL after `GRACE`) and waits for it.
    fn stop(&self) {
        self.stopper.stop();
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        match thread.map(JoinHandle::join) {
            Some(Ok(Ok(outcome))) => eprintln!("sidecar: stopped ({}, {:?})", outcome.reason, outcome.status),
            Some(Ok(Err(e))) => eprintln!("sidecar: {e}"),
            Some(Err(_)) => eprintln!("sidecar: the guard thread panicked"),
            None => {}
        }
    }
}

/// A glob that matches exactly `path` (`ExePattern` takes globs).
fn glob_literal(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        if matches!(c, '*' | '?' | '[' | ']') {
            out.extend(['[', c, ']']);
        } else {
            out.push(c);
        }
    }
    out
}

/// Frees `port` from a stale sidecar of this app: a process holding the port whose executable
/// is `sidecar` and whose command line has `--port PORT`, with its tree (SIGTERM, then SIGKILL).
/// Anything else on the port is left alone and named in the error.
fn free_port(port: u16, sidecar: &Path) -> Result<(), String> {
    let spec = PortSpec::tcp(port);
    let own = Selection::new()
        .port(spec)
        .exe(&glob_literal(sidecar))
        .and_then(|s| s.signature(&format!(r"(^|\s)--port\s+{port}(\s|$)")))
        .map_err(|e| e.to_string())?;
    let opts = KillOptions { sequence: Sequence::graceful(Signal::TERM, GRACE), ..KillOptions::default() };
    let report = reaper::kill::kill(&own, &opts, &mut |_| {}).map_err(|e| e.to_string())?;
    for t in &report.targets {
        eprintln!("{}: ended a stale sidecar on port {port}: pid {} ({:?})", common::app_name(), t.pid, t.outcome);
    }
    // Whatever still holds the port is not ours.
    let states = reaper::ports::state(std::slice::from_ref(&spec), None).map_err(|e| e.to_string())?;
    let holders: Vec<u32> = states.iter().flat_map(|s| s.holders.iter().copied()).collect();
    if states.iter().all(|s| s.free) {
        return Ok(());
    }
    let mut snap = Snapshot::new();
    snap.load_processes(holders.iter().copied());
    snap.load_details(holders.iter().copied());
    let named: Vec<String> = holders
        .iter()
        .map(|&pid| match ProcessRecord::new(&mut snap, pid) {
            Some(r) => format!(
                "pid {} ({}, user {}: {})",
                r.pid,
                r.exe.as_deref().unwrap_or(&r.name),
                r.user,
                r.cmdline.join(" ").escape_debug()
            ),
            None => format!("pid {pid}"),
        })
        .collect();
    let who = if named.is_empty() { "a process this app cannot see".to_string() } else { named.join(", ") };
    Err(format!("port {port} is held by {who}: not this app's sidecar, left alone"))
}

fn main() {
    let port = common::port();
    let sidecar = match common::sidecar_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: cannot find the sidecar: {e}", common::app_name());
            std::process::exit(1);
        }
    };
    if let Err(e) = free_port(port, &sidecar) {
        eprintln!("{}: {e}", common::app_name());
        std::process::exit(1);
    }
    let app = tauri::Builder::default()
        .setup(move |app| {
            app.manage(Sidecar::start(&sidecar, port)?);
            common::quit_on_signals(app.handle())?;
            common::panic_on_request(app.handle());
            common::open_window(app.handle(), port)?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: {e}", common::app_name());
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            app.state::<Sidecar>().stop();
        }
    });
}
