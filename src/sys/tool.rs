//! The system's own tools that provenance asks (`systemctl show`, `tmux display-message`): run
//! directly (never through a shell), read-only queries, their output bounded by a timeout.
//! Nothing else under `src/` runs another program, apart from `reaper run`'s command.

use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `argv` and returns its standard output, or `None` when it is missing, fails or takes
/// longer than `timeout` (then it is ended: it is reaper's own child).
pub fn run_tool(argv: &[&str], timeout: Duration) -> Option<String> {
    let (first, rest) = argv.split_first()?;
    let mut child = Command::new(first)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if !super::wait_pid_exit(child.id(), Some(timeout)).unwrap_or(false) {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    let out = child.wait_with_output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
