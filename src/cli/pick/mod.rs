//! `reaper pick` (and plain `reaper` on a terminal): the interactive picker. A live list of
//! processes (refreshed every [`REFRESH`]), a filter line, marks; Enter shows the plan the kill
//! engine made for the picked processes and asks; `y` runs that plan through the same engine as
//! `reaper kill` (`reaper::kill::execute_hurried`, on a worker thread so that the screen keeps
//! drawing), with each target's end and the step's progress on screen, and the ports the picked
//! processes held read again afterwards.
//!
//! The data flow is `kill`'s: selection (the picked pids) -> snapshot -> plan -> signals and
//! waits -> report -> output. The rooms: `rows` (reading the list), `filter` (what the filter
//! line means), `app` (state and keys), `view` (drawing); this module is the loop.

mod app;
mod filter;
mod rows;
mod view;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::Result;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use reaper::kill::{self, Event, KillOptions, Plan};
use reaper::ports::PortState;
use reaper::{KillReport, PortSpec, Selection, Sequence, Snapshot};

use self::app::{Action, App, Screen};
use super::args::PickArgs;
use super::config::Style;
use super::exit::Exit;
use super::output;

/// How often the list is read again while it is shown.
pub const REFRESH: Duration = Duration::from_millis(1500);

/// Runs the picker. Exit 0 when the last kill reached its end state, 1 when it did not or when
/// nothing was signalled (Esc), as `reaper kill` exits 1 when its question is answered no.
pub fn pick(args: &PickArgs, style: &Style) -> Result<Exit> {
    if !style.stdin_tty || !style.stdout_tty {
        anyhow::bail!(reaper::Error::Usage(
            "the picker needs a terminal on stdin and stdout; in a script use reaper list and reaper kill".into()
        ));
    }
    reaper::check_own_proc()?;
    let sequence = args.sequence.sequence();
    let mut reader = rows::Reader::default();
    let mut app = App::new(reaper::caller_uid() == 0);
    refresh(&mut app, &mut reader)?;
    // crossterm drops colours itself when NO_COLOR is set; reaper has decided already
    // (`--color always` overrides NO_COLOR, and without colour nothing asks for any).
    ratatui::crossterm::style::force_color_output(style.color);
    let mut term = Term::new()?;
    let mut last_read = Instant::now();
    let mut exit = Exit::Failure;
    let mut pending: Option<Pending> = None;
    let mut job: Option<Job> = None;
    let mut origin_shown: Option<((u32, u64), Option<String>)> = None;
    loop {
        if let Some(j) = &job
            && let Some(code) = j.drain(&mut app)
        {
            exit = code;
            job = None;
        }
        show_origin(&mut app, &mut origin_shown);
        term.0.draw(|f| view::draw(f, &app, style.color))?;
        let wait = if job.is_some() { Duration::from_millis(50) } else { REFRESH.saturating_sub(last_read.elapsed()) };
        if event::poll(wait)?
            && let TermEvent::Key(key) = event::read()?
            && key.kind == KeyEventKind::Press
        {
            match app.key(key) {
                Action::Quit => break,
                Action::Plan => match plan_kill(&app, &sequence) {
                    Ok((p, text)) => {
                        app.screen = Screen::Confirm(text);
                        pending = Some(p);
                    }
                    Err(message) => app.message = Some(message),
                },
                Action::Run => {
                    if let Some(p) = pending.take() {
                        app.screen = Screen::Running {
                            lines: p.intro(),
                            progress: String::new(),
                            forced: false,
                            left: p.plan.targets.len(),
                        };
                        job = Some(Job::start(p));
                    }
                }
                Action::Force => {
                    if let Some(j) = &job {
                        j.hurry.store(true, Ordering::Relaxed);
                    }
                }
                Action::Refresh => {
                    refresh(&mut app, &mut reader)?;
                    last_read = Instant::now();
                }
                Action::Nothing => {}
            }
        }
        if app.screen == Screen::List && last_read.elapsed() >= REFRESH {
            refresh(&mut app, &mut reader)?;
            last_read = Instant::now();
        }
    }
    drop(term);
    Ok(exit)
}

/// The origin of the highlighted process (`reaper why` for it), on the line under the detail
/// line; read again only when the highlight moves to another process.
fn show_origin(app: &mut App, cache: &mut Option<((u32, u64), Option<String>)>) {
    let Some(id) = app.current().map(|r| (r.pid, r.start_ticks)).filter(|_| app.screen == Screen::List) else {
        app.origin = None;
        return;
    };
    if cache.as_ref().is_none_or(|c| c.0 != id) {
        *cache = Some((id, super::why::picker_line(id.0)));
    }
    app.origin = cache.as_ref().and_then(|c| c.1.clone());
}

/// Reads the list again.
fn refresh(app: &mut App, reader: &mut rows::Reader) -> reaper::Result<()> {
    app.set_rows(reader.read(app.everyone)?);
    app.hidden.clone_from(&reader.hidden);
    Ok(())
}

/// The terminal in raw mode on the alternate screen, given back as it was on drop (also on an
/// error; ratatui's panic hook restores it on a panic).
struct Term(DefaultTerminal);

impl Term {
    fn new() -> std::io::Result<Term> {
        ratatui::try_init().map(Term)
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// A planned kill waiting for its `y`.
struct Pending {
    plan: Plan,
    sel: Selection,
    opts: KillOptions,
    /// The ports the picked processes held: read again afterwards.
    ports: Vec<PortSpec>,
}

impl Pending {
    /// The first lines of the running screen.
    fn intro(&self) -> Vec<String> {
        let n = self.plan.targets.len();
        let first = self.opts.sequence.steps.first().map(|s| s.signal.name()).unwrap_or_default();
        vec![format!("sending {first} to {n} process{}", if n == 1 { "" } else { "es" })]
    }
}

/// Plans the kill of the picked processes with the library's planner (safety rails, the tree
/// below each, pins), and checks that each picked pid is still the process that was picked.
/// Returns the plan and its text (as `reaper kill` shows it before asking), or what to say.
fn plan_kill(app: &App, sequence: &Sequence) -> std::result::Result<(Pending, Vec<String>), String> {
    let picked = app.picked();
    let sel = Selection { pids: picked.iter().map(|r| r.pid).collect(), ..Selection::new() };
    let opts = KillOptions { sequence: sequence.clone(), ..KillOptions::default() };
    let plan = kill::plan(&sel, &mut Snapshot::new(), &opts).map_err(|e| format!("{e:#}"))?;
    // What a supervisor starts again is not signalled from here, although picking names the
    // pid (which lets `kill --pid` go ahead): the stop command instead, from the plan's origins.
    let refused = plan
        .targets
        .iter()
        .filter(|t| t.matched)
        .find_map(|t| t.origin.as_ref().and_then(|o| super::why::picker_refusal(t.pid, o, &sel.pids)));
    if let Some(why) = refused {
        return Err(why);
    }
    for r in &picked {
        match plan.targets.iter().find(|t| t.pid == r.pid) {
            Some(t) if t.start_ticks != r.start_ticks => {
                return Err(format!(
                    "pid {} is not the process you picked any more (it exited and the pid was reused): nothing signalled",
                    r.pid
                ));
            }
            Some(_) => {}
            None if plan.skipped.iter().any(|s| s.pid == r.pid) => {}
            None => return Err(format!("pid {} has exited: nothing to signal", r.pid)),
        }
    }
    if plan.targets.is_empty() {
        let why: Vec<String> = plan.skipped.iter().map(super::kill::skipped_line).collect();
        return Err(format!("nothing can be signalled: {}", why.join("; ")));
    }
    let mut ports: Vec<PortSpec> = picked
        .iter()
        .flat_map(|r| {
            r.ports.iter().map(|p| PortSpec { proto: Some(p.proto), first: p.local_port, last: p.local_port })
        })
        .collect();
    ports.sort_by_key(|p| (p.first, p.proto.map(|x| x.to_string())));
    ports.dedup();
    let plain = plain_style();
    let mut text: Vec<String> = Vec::new();
    if !app.marked.is_empty() {
        // What Enter acts on is the marks, also those the filter hides: say so.
        let hidden = app.marked_hidden();
        text.push(format!("{} marked, {hidden} not shown by the filter", app.marked.len()));
    }
    text.extend(super::kill::plan_text(&plan, sequence, &plain).lines().map(str::to_string));
    text.extend(super::kill::supervisors_text(&plan).lines().map(str::to_string));
    text.extend(plan.skipped.iter().map(super::kill::skipped_line));
    text.extend(ports.iter().map(|p| format!("{p} is held now; it is read again afterwards")));
    text.push(String::new());
    text.push("proceed? [y/N]".into());
    Ok((Pending { plan, sel, opts, ports }, text))
}

/// The CLI's renderers without ANSI colour: the picker colours through ratatui instead.
fn plain_style() -> Style {
    Style { color: false, stdout_tty: true, stderr_tty: true, stdin_tty: true, quiet: false }
}

/// What the worker tells the screen.
enum Message {
    /// A target ended: its line, as `reaper kill` prints it.
    Ended(String),
    /// Who is still alive and how long the step has left.
    Waiting(String),
    /// The engine is done: the report and the ports read again, or the error.
    Done(std::result::Result<(KillReport, Vec<PortState>), String>),
}

/// A kill running on a worker thread.
struct Job {
    rx: Receiver<Message>,
    hurry: Arc<AtomicBool>,
}

impl Job {
    fn start(p: Pending) -> Job {
        let (tx, rx) = mpsc::channel();
        let hurry = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&hurry);
        std::thread::spawn(move || {
            let plain = plain_style();
            let mut on_event = |ev: Event<'_>| {
                let msg = match ev {
                    Event::Ended(t) => Message::Ended(super::kill::target_line(t, &plain)),
                    Event::Waiting { alive, remaining } => {
                        let mut pids: String = alive.iter().take(8).map(|p| format!(" {p}")).collect();
                        if alive.len() > 8 {
                            pids.push_str(" ...");
                        }
                        let n = alive.len();
                        Message::Waiting(format!(
                            "waiting {:.1}s for {n} process{}:{pids}",
                            remaining.as_secs_f64(),
                            if n == 1 { "" } else { "es" }
                        ))
                    }
                };
                let _ = tx.send(msg);
            };
            let done = kill::execute_hurried(&p.plan, &p.sel, &p.opts, &flag, &mut on_event)
                .and_then(|report| Ok((report, reaper::ports::state(&p.ports, None)?)))
                .map_err(|e| format!("{e:#}"));
            let _ = tx.send(Message::Done(done));
        });
        Job { rx, hurry }
    }

    /// Moves what the worker said onto the screen; the exit code once it is done.
    fn drain(&self, app: &mut App) -> Option<Exit> {
        while let Ok(msg) = self.rx.try_recv() {
            let Screen::Running { lines, progress, left, .. } = &mut app.screen else { return None };
            match msg {
                Message::Ended(line) => {
                    lines.push(line);
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        // Every target has ended: the wait for them is over, whatever the engine
                        // checks next (the ports, a supervisor restarting the holder).
                        progress.clear();
                    }
                }
                Message::Waiting(text) if *left > 0 => *progress = text,
                Message::Waiting(_) => {}
                Message::Done(result) => {
                    let mut out = std::mem::take(lines);
                    let exit = match result {
                        Ok((report, ports)) => {
                            let plain = plain_style();
                            out.extend(super::kill::summary(&report, &plain).lines().map(str::to_string));
                            let mut free = true;
                            for p in &ports {
                                free &= p.usable(false);
                                out.push(format!("{}: {}", p.name(), output::port_state(p, false)));
                            }
                            for pid in &report.survivors {
                                out.push(format!("pid {pid} survived"));
                            }
                            if report.success() && free { Exit::Success } else { Exit::Failure }
                        }
                        Err(e) => {
                            out.push(format!("error: {e}"));
                            Exit::Error
                        }
                    };
                    app.screen = Screen::Done(out);
                    return Some(exit);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `sleep` of the test's own (an exact pid), SIGKILLed and reaped on drop.
    struct Sleeper(std::process::Child);

    impl Drop for Sleeper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn row(pid: u32, start_ticks: u64) -> rows::Row {
        rows::Row {
            pid,
            start_ticks,
            user: "root".into(),
            age: Duration::ZERO,
            cpu: None,
            rss: 0,
            ports: Vec::new(),
            command: "sleep 60".into(),
            short: "sleep 60".into(),
            haystack: "sleep 60".into(),
        }
    }

    // A row is seconds old when Enter is pressed: a pid that is another process by then (its
    // start time differs) must be refused, not planned.
    #[test]
    fn a_picked_pid_that_is_another_process_now_is_refused() {
        let child = std::process::Command::new("sleep").arg("60").spawn().expect("sleep");
        let sleeper = Sleeper(child);
        let pid = sleeper.0.id();
        let start = reaper::read_process(pid).expect("the sleep").start_ticks;
        let mut app = App::new(true);
        app.set_rows(vec![row(pid, start + 1)]);
        let err = plan_kill(&app, &Sequence::default()).err().expect("refused");
        assert!(err.contains(&format!("pid {pid} is not the process you picked")), "{err}");
        app.set_rows(vec![row(pid, start)]);
        let (pending, text) = plan_kill(&app, &Sequence::default()).expect("planned");
        assert_eq!(pending.plan.targets.iter().map(|t| t.pid).collect::<Vec<_>>(), [pid]);
        assert!(text.iter().any(|l| l.starts_with("would signal 1 process")), "{text:?}");
        assert!(reaper::read_process(pid).is_some_and(|p| !p.is_zombie()), "planning signals nothing");
    }
}
