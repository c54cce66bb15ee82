//! Frees a port the way a desktop app does before it launches its sidecar, through the library
//! alone: parse the port, list what holds it, and plan (dry run) what a kill would end.

use std::time::Duration;

use reaper::{KillOptions, PortSpec, ProcessRecord, Selection, Sequence, Signal, Snapshot, select};

fn main() -> Result<(), reaper::Error> {
    let port: PortSpec = std::env::args().nth(1).as_deref().unwrap_or("tcp:1").parse()?;
    let sel = Selection::new().port(port);
    let mut snap = Snapshot::new();
    let matches = select::find(&sel, &mut snap)?;
    snap.load_details(matches.pids.iter().copied());
    for pid in &matches.pids {
        if let Some(r) = ProcessRecord::new(&mut snap, *pid) {
            println!("holder {} {:?}", r.pid, r.cmdline);
        }
    }
    let opts = KillOptions {
        sequence: Sequence::graceful(Signal::TERM, Duration::from_secs(2)),
        dry_run: true,
        ..KillOptions::default()
    };
    let report = reaper::kill::kill(&sel, &opts, &mut |_event| {})?;
    println!("planned {}", report.targets.len());
    Ok(())
}
