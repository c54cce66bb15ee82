//! Signalling and waiting where there are no pidfds (macOS, the BSDs, Windows; Linux under the
//! `portable` feature, which runs this code in CI): written to be small and careful rather than
//! fast.
//!
//! On Windows there are no signals: TERM, INT and BREAK are a graceful close (`WM_CLOSE` to the
//! process's windows, `CTRL_BREAK_EVENT` to a console group reaper created), KILL is
//! `TerminateProcess` (`windows::deliver`), and SIGSTOP/SIGCONT (the engine's freeze) do
//! nothing: there, every pinned target is assigned to a Job Object, which catches every process
//! they create from then on, and the KILL step ends the job (`windows_job`).
//!
//! On Unix the freeze is SIGSTOP, each recorded first with a resumer process that continues
//! whatever is still stopped if reaper dies, even by SIGKILL (`unix_freeze`).
//!
//! Identity is re-checked (pid + start time, from the platform's `read_process`) right before
//! every `kill(2)`, which leaves only the microseconds between the check and the call for a pid
//! to be recycled. Exits are waited for by re-reading the processes every 10 ms until the
//! deadline (one read of the whole table when there are many): kqueue `EVFILT_PROC`/`NOTE_EXIT`
//! would be the event-driven way on macOS. Tree walks read the whole table once per round. Interrupts
//! are not intercepted here (no signalfd): SIGINT keeps its usual effect.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Control;
use crate::model::{Process, Seen, Sent, Unpinned, Waited};

/// A process named by its identity; on Windows also a handle that pins it.
#[derive(Clone, Debug)]
pub struct Handle {
    pid: u32,
    start_ticks: u64,
    #[cfg(windows)]
    pinned: std::sync::Arc<super::windows_job::Pinned>,
}

/// The portable [`Control`]: identity re-checked before each `kill(2)` (on Windows a handle
/// pins each target, and a Job Object holds the tree: see `windows_job`).
#[derive(Debug, Default)]
pub struct Signaller {
    /// The freeze's safety net, started at the first stop (see `unix_freeze`).
    #[cfg(unix)]
    resumer: Option<super::unix_freeze::Resumer>,
    /// The kill's job, made at the first pin.
    #[cfg(windows)]
    job: Option<super::windows_job::KillJob>,
    /// A KILL step asked for: the job is ended once the step has sent every target its signal.
    #[cfg(windows)]
    end_job: bool,
    /// Every process pinned during the kill, kept open until its end: an exited target's pid
    /// cannot be given to another process meanwhile, so a process whose parent pid names it is
    /// its child (Windows never updates a parent pid), and can be found after it has ended.
    #[cfg(windows)]
    held: Vec<Handle>,
    /// User names by uid, looked up once each (on Windows a lookup lists every account).
    users: HashMap<u32, String>,
}

impl Signaller {
    /// A signaller.
    pub fn new() -> Signaller {
        Signaller::default()
    }
}

/// Whether the process with this identity is still there and not a zombie: asked of the
/// system now (on Windows, of the handle that pins it).
fn is_alive(h: &Handle) -> bool {
    #[cfg(windows)]
    {
        !h.pinned.exited()
    }
    #[cfg(not(windows))]
    {
        super::portable::fresh_seen(h.pid).is_some_and(|s| s.start_ticks == h.start_ticks && s.state != 'Z')
    }
}

/// Above this many handles a wait reads the whole table once per round instead of asking for
/// each process (Unix; a Windows handle is asked directly).
const BULK_WAIT: usize = 16;

/// How long the end of the job may keep ending what is left of it (see
/// [`Signaller::end_the_job`]) before the wait goes on: on Windows the job is empty at once, and
/// a walk finds the strays, if any, in a round or two; under a loaded Wine a member still being
/// created can take seconds to run (and be ended).
#[cfg(windows)]
const STRAYS_FOR: Duration = Duration::from_secs(10);

#[cfg(windows)]
impl Signaller {
    /// The deadline: each target its own `TerminateProcess` (so that each is reported as killed
    /// by it), then, once the step has sent them all, the whole job at once (see
    /// [`Control::signalled_all`]): what the targets spawned meanwhile, and members reaper has
    /// not seen.
    fn kill_step(&mut self, h: &Handle) -> Sent {
        if !is_alive(h) {
            return Sent::Gone;
        }
        self.end_job = true;
        super::windows_job::terminate(&h.pinned)
    }

    /// Ends the job (`TerminateJobObject`: every member), then what is not in it. A target is
    /// assigned to the job when it is pinned, moments after a scan found it; a child it created
    /// in between is not in the job, and once the target has ended nothing links that child to
    /// the tree but its parent pid. Those pids are held (see `held`), so a walk from them finds
    /// such strays (and theirs): each is pinned, assigned, ended, and held in turn, and the job
    /// ended again, until the job is empty and a walk finds no stray (or [`STRAYS_FOR`] passes).
    /// A stray is ended as a member of the job is, without being a target (and without the
    /// engine's rails: it descends from a target; reaper's own process is never one).
    ///
    /// The job is ended again while it is not empty: Wine's `TerminateJobObject` ends only the
    /// members that run, not one still being created (counted in the job's accounting, and
    /// running a moment later). What Wine does not list while it is being created (a stray of
    /// that age) is not found by the walk either: under Wine, a stray created in the last
    /// moments of a target, and still starting when the walk finds nothing, can escape; on
    /// Windows a process is listed from its creation.
    fn end_the_job(&mut self) {
        use super::windows_job::{Pinned, terminate};
        let Some(job) = &mut self.job else { return };
        let held = &mut self.held;
        let me = std::process::id();
        let limit = Instant::now() + STRAYS_FOR;
        loop {
            job.terminate();
            // The members die now; the walk waits for the job to be empty first (polled: nothing
            // signals "empty" without a completion port), so that it does not list them.
            let settle = (Instant::now() + Duration::from_millis(200)).min(limit);
            while !job.emptied() && Instant::now() < settle {
                std::thread::sleep(Duration::from_millis(10));
            }
            let past: HashMap<u32, u64> = held.iter().map(|h| (h.pid, h.start_ticks)).collect();
            let roots: Vec<u32> = past.keys().copied().collect();
            let strays: Vec<Seen> = scan_tree_past(&roots, &past)
                .into_iter()
                .filter(|s| s.state != 'Z' && s.pid != me && past.get(&s.pid) != Some(&s.start_ticks))
                .collect();
            let clean = strays.is_empty() && job.emptied();
            for s in strays {
                if let Ok(p) = Pinned::open(s.pid, s.start_ticks) {
                    job.assign(&p);
                    let _ = terminate(&p);
                    held.push(Handle { pid: s.pid, start_ticks: s.start_ticks, pinned: std::sync::Arc::new(p) });
                }
            }
            if clean || Instant::now() >= limit {
                return;
            }
        }
    }
}

impl Control for Signaller {
    type Handle = Handle;

    /// A scan is one read of the whole table (a fork storm's children come and go between two
    /// reads), and the resumer continues what is stopped if reaper dies: every tree with
    /// children is stopped before the last scan. Windows has no stop (its Job Object holds
    /// the tree instead).
    fn freezes_every_tree(&self) -> bool {
        cfg!(unix)
    }

    fn open(&mut self, pid: u32, start_ticks: u64) -> Result<Handle, Unpinned> {
        #[cfg(windows)]
        {
            let pinned = super::windows_job::Pinned::open(pid, start_ticks)?;
            if self.job.is_none() {
                self.job = super::windows_job::KillJob::new();
            }
            // Refused (see `KillJob`): ended by `TerminateProcess` and the tree walk instead.
            // A process Windows refuses to assign is still ended by its own TerminateProcess
            // at the KILL step; what it spawns is then found by the tree walk.
            if let Some(job) = &self.job {
                job.assign(&pinned);
            }
            let h = Handle { pid, start_ticks, pinned: std::sync::Arc::new(pinned) };
            self.held.push(h.clone());
            Ok(h)
        }
        #[cfg(not(windows))]
        {
            let h = Handle { pid, start_ticks };
            if is_alive(&h) { Ok(h) } else { Err(Unpinned::Gone) }
        }
    }

    fn signal(&mut self, h: &Handle, sig: i32) -> Sent {
        #[cfg(windows)]
        if sig == super::SIGKILL {
            return self.kill_step(h);
        }
        if !is_alive(h) {
            return Sent::Gone;
        }
        deliver(h.pid, sig)
    }

    /// SIGSTOP, recorded first with the resumer (see `unix_freeze`), so that it does not
    /// outlive reaper. Not stopped (and said delivered) when no resumer can run.
    #[cfg(unix)]
    fn stop(&mut self, h: &Handle) -> Sent {
        if !is_alive(h) {
            return Sent::Gone;
        }
        if self.resumer.is_none() {
            self.resumer = super::unix_freeze::Resumer::start().ok();
        }
        let recorded = self.resumer.as_mut().is_some_and(|r| r.stopping(h.pid));
        if recorded { deliver(h.pid, super::SIGSTOP) } else { Sent::Ok }
    }

    #[cfg(unix)]
    fn resume(&mut self, h: &Handle) -> Sent {
        let sent = if is_alive(h) { deliver(h.pid, super::SIGCONT) } else { Sent::Gone };
        if let Some(r) = &mut self.resumer {
            r.resumed(h.pid);
        }
        sent
    }

    /// After the KILL step's last target (Windows): the job's end takes every member, seen or
    /// not, and what escaped it. (Not at the first target's KILL: the others would read as
    /// exited before theirs.)
    fn signalled_all(&mut self) {
        #[cfg(windows)]
        if std::mem::take(&mut self.end_job) {
            self.end_the_job();
        }
    }

    fn exited(&mut self, h: &Handle) -> bool {
        !is_alive(h)
    }

    fn wait(&mut self, handles: &[&Handle], deadline: Instant) -> Waited {
        loop {
            let exited = self.exited_of(handles);
            if !exited.is_empty() {
                return Waited::Exited(exited);
            }
            let now = Instant::now();
            if now >= deadline {
                return Waited::Timeout;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    fn interrupted(&mut self) -> bool {
        false
    }

    fn scan(&mut self, roots: &[u32]) -> Vec<Seen> {
        #[cfg(windows)]
        if let Some(job) = &self.job {
            // Every member of the job descends from a target, whatever its parent pid says
            // now (its parent may have exited, and the pid been reused); so does a child of a
            // target that has ended (its pid is held: see `held`).
            let mut all: std::collections::HashSet<u32> = roots.iter().copied().collect();
            all.extend(job.members());
            all.extend(self.held.iter().map(|h| h.pid));
            let past = self.held.iter().map(|h| (h.pid, h.start_ticks)).collect();
            return scan_tree_past(&all.into_iter().collect::<Vec<u32>>(), &past);
        }
        scan_tree(roots)
    }

    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool {
        if cfg!(windows) {
            // The freeze is a no-op there (see the module docs).
            return true;
        }
        super::portable::fresh_seen(pid)
            .is_none_or(|p| p.start_ticks != start_ticks || matches!(p.state, 'T' | 't' | 'Z' | 'X'))
    }

    fn user_name(&mut self, uid: u32) -> String {
        self.users.entry(uid).or_insert_with(|| super::user_name(uid).unwrap_or_else(|| uid.to_string())).clone()
    }

    /// From the table the last scan read (it read new processes whole): no question to the
    /// system per process.
    fn describe(&mut self, pid: u32) -> Option<Process> {
        super::portable::kept_process(pid).or_else(|| {
            let mut p = super::read_process(pid)?;
            p.cmdline = super::read_cmdline(pid);
            p.exe = super::read_exe(pid);
            Some(p)
        })
    }
}

impl Signaller {
    /// The indexes of `handles` that have exited: each asked directly when they are few (or
    /// on Windows, where a handle answers), else one read of the whole table.
    fn exited_of(&mut self, handles: &[&Handle]) -> Vec<usize> {
        #[cfg(windows)]
        if self.job.as_ref().is_some_and(super::windows_job::KillJob::emptied) {
            // The job was ended and its accounting says no member runs: every assigned target
            // has exited (those that could not be assigned are asked below).
            return (0..handles.len()).filter(|&i| handles[i].pinned.exited()).collect();
        }
        if cfg!(windows) || handles.len() <= BULK_WAIT {
            return (0..handles.len()).filter(|&i| !is_alive(handles[i])).collect();
        }
        let table: HashMap<u32, Seen> = super::portable::bulk_table().into_iter().map(|(_, s)| (s.pid, s)).collect();
        (0..handles.len())
            .filter(|&i| {
                table.get(&handles[i].pid).is_none_or(|s| s.start_ticks != handles[i].start_ticks || s.state == 'Z')
            })
            .collect()
    }
}

/// `roots` (those that exist) and every current descendant of them, parents before children:
/// one read of the whole process table ([`super::portable::bulk_table`]), then the one tree walk
/// ([`super::tree::walk`]). On Windows a parent pid can be stale (the parent exited and its
/// pid was reused): a "parent" that started after its "child" is not its parent (their whole
/// creation times compared, not sysinfo's seconds: see `windows_job`; equal times, within one
/// tick of the system clock, cannot tell, and count as the parent).
pub fn scan_tree(roots: &[u32]) -> Vec<Seen> {
    scan_tree_past(roots, &HashMap::new())
}

/// [`scan_tree`], where `past` gives the start ticks of processes that may have ended (held
/// targets, on Windows): a "parent" they name is theirs only if it did not start after its child
/// (their pid is held, so no other process has it; but a process that had it before them may
/// have left children behind).
fn scan_tree_past(roots: &[u32], past: &HashMap<u32, u64>) -> Vec<Seen> {
    let mut table = super::portable::bulk_table();
    if cfg!(windows) {
        let mut starts: HashMap<u32, u64> = past.clone();
        starts.extend(table.iter().map(|(_, s)| (s.pid, s.start_ticks)));
        for (ppid, s) in &mut table {
            if starts.get(ppid).is_some_and(|&t| t > s.start_ticks) {
                *ppid = 0;
            }
        }
    }
    super::tree::walk(roots, table)
}

/// Sends `sig` to `pid` with `kill(2)`.
#[cfg(unix)]
fn deliver(pid: u32, sig: i32) -> Sent {
    use nix::errno::Errno;
    use nix::sys::signal::{Signal as NixSignal, kill};
    use nix::unistd::Pid;

    let Ok(signal) = NixSignal::try_from(sig) else {
        return Sent::Failed(format!("unknown signal {sig}"));
    };
    let Ok(raw) = i32::try_from(pid) else {
        return Sent::Gone;
    };
    match kill(Pid::from_raw(raw), signal) {
        Ok(()) => Sent::Ok,
        Err(Errno::ESRCH) => Sent::Gone,
        Err(Errno::EPERM) => Sent::Denied,
        Err(e) => Sent::Failed(e.to_string()),
    }
}

/// Windows' meaning of each signal (a graceful close, `TerminateProcess`): see
/// `windows::deliver`.
#[cfg(windows)]
fn deliver(pid: u32, sig: i32) -> Sent {
    super::windows::deliver(pid, sig)
}
