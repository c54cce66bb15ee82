//! What the reaper app (`main.rs`) and the plugin-shell baseline (`baseline.rs`) share: the
//! port, the sidecar's path and arguments, the window, quitting on a signal, and the crash
//! that the end-to-end test asks for.

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;

use tauri::{AppHandle, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The sidecar's file name: Tauri's `externalBin` convention puts it beside the app's executable.
pub const SIDECAR_NAME: &str = "tauri-sidecar-server";

/// The port the sidecar serves on: `SIDECAR_PORT`, else 5700.
pub fn port() -> u16 {
    match std::env::var("SIDECAR_PORT") {
        Err(_) => 5700,
        Ok(v) => match v.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                eprintln!("{}: SIDECAR_PORT={v:?} is not a port (1-65535)", app_name());
                std::process::exit(2);
            }
        },
    }
}

/// This executable's file name, for messages.
pub fn app_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "tauri-sidecar".into())
}

/// Where the sidecar is: beside the app's executable (as Tauri installs an `externalBin`).
/// (The baseline lets the plugin's `sidecar()` find it there.)
#[allow(dead_code)]
pub fn sidecar_path() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?.with_file_name(SIDECAR_NAME);
    Ok(if cfg!(windows) { exe.with_extension("exe") } else { exe })
}

/// The sidecar's arguments: `--port P`, plus what the end-to-end test asks for through the
/// environment (`SIDECAR_IGNORE_TERM=1`: a server that ignores SIGTERM; `SIDECAR_LOG`: where it
/// logs).
pub fn sidecar_args(port: u16) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--port".into(), port.to_string().into()];
    if std::env::var_os("SIDECAR_IGNORE_TERM").is_some_and(|v| v == "1") {
        args.push("--ignore-term".into());
    }
    if let Some(log) = std::env::var_os("SIDECAR_LOG") {
        args.push("--log".into());
        args.push(log);
    }
    args
}

/// The app's one window; its title names the port.
pub fn open_window<R: Runtime>(app: &AppHandle<R>, port: u16) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title(format!("tauri-sidecar (port {port})"))
        .inner_size(480.0, 240.0)
        .build()?;
    Ok(())
}

/// SIGTERM, SIGINT and SIGHUP quit the app the orderly way (`AppHandle::exit`, so
/// `RunEvent::Exit` runs), as closing the window does. Without this a GTK app dies of SIGTERM
/// at once, running nothing.
pub fn quit_on_signals<R: Runtime>(app: &AppHandle<R>) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        let app = app.clone();
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                eprintln!("{}: signal {sig}: quitting", app_name());
                app.exit(0);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = app;
    Ok(())
}

/// The end-to-end test's crash: a line `panic` on stdin makes the app panic on its main thread
/// (the GTK loop), as a bug in an event handler would. EOF (no test) does nothing.
pub fn panic_on_request<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_ok_and(|l| l.trim() == "panic") {
                let _ = app.run_on_main_thread(|| panic!("crash requested on stdin"));
                return;
            }
        }
    });
}
