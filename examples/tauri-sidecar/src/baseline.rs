//! The baseline: the same app with Tauri's own shell plugin, as Tauri's sidecar guide shows it:
//! `app.shell().sidecar(..).spawn()` in setup, `CommandChild::kill()` on `RunEvent::Exit`. No
//! port check before the start.
//!
//! `BASELINE_PROCESS_GROUP=1` adds the plugin's `set_process_group(true)` (the sidecar in a
//! process group of its own, which `kill()` SIGKILLs as a whole).

mod common;

use std::sync::Mutex;

use tauri::{Manager, RunEvent};
use tauri_plugin_shell::ShellExt;
use tauri_plugin_shell::process::{CommandChild, CommandEvent};

/// The sidecar's handle, in Tauri's state.
struct Sidecar(Mutex<Option<CommandChild>>);

fn main() {
    let port = common::port();
    let group = std::env::var_os("BASELINE_PROCESS_GROUP").is_some_and(|v| v == "1");
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_shell::init())
        .setup(move |app| {
            let mut cmd = app.shell().sidecar(common::SIDECAR_NAME)?.args(common::sidecar_args(port));
            if group {
                cmd = cmd.set_process_group(true);
            }
            let (mut events, child) = cmd.spawn()?;
            eprintln!("sidecar: started pid {}", child.pid());
            app.manage(Sidecar(Mutex::new(Some(child))));
            // The plugin pipes the sidecar's output: read it, or the sidecar blocks on a full pipe.
            tauri::async_runtime::spawn(async move {
                while let Some(event) = events.recv().await {
                    match event {
                        CommandEvent::Stdout(line) | CommandEvent::Stderr(line) => {
                            eprintln!("sidecar: {}", String::from_utf8_lossy(&line).trim_end());
                        }
                        CommandEvent::Terminated(t) => eprintln!("sidecar: terminated ({:?}, {:?})", t.code, t.signal),
                        _ => {}
                    }
                }
            });
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
        if let RunEvent::Exit = event
            && let Some(child) = app.state::<Sidecar>().0.lock().ok().and_then(|mut c| c.take())
        {
            let pid = child.pid();
            match child.kill() {
                Ok(()) => eprintln!("sidecar: killed pid {pid}"),
                Err(e) => eprintln!("sidecar: kill pid {pid}: {e}"),
            }
        }
    });
}
