//! Linux: freezing a process with ptrace (`PTRACE_SEIZE` + `PTRACE_INTERRUPT`), the kill
//! engine's way to keep a tree from forking between two signals.
//!
//! Why not SIGSTOP (what reaper did first), measured and read:
//! - a SIGSTOP is a job-control stop: the parent is told (`waitpid(WUNTRACED)`, SIGCHLD with
//!   `CLD_STOPPED`), so a shell whose foreground job reaper kills prints `[1]+ Stopped`, sets
//!   `$?` to 147 and runs the next command of `server; next` while the server still shuts down;
//! - a SIGSTOP outlives reaper: if reaper dies during the freeze (SIGKILL from a CI runner's
//!   timeout, or any signal it does not catch), everything it stopped stays stopped forever.
//!
//! A ptrace-stop has neither problem: it is reported to the tracer only (never to the parent or
//! its shell), and when the tracer dies, by any signal including SIGKILL, the kernel detaches
//! every tracee and resumes it (`exit_ptrace`). Nothing has to outlive reaper to undo it, unlike
//! a watchdog process (which would have to be told of every process frozen, and can itself be
//! killed), or a cgroup v2 `cgroup.freeze` (moving the tree into another cgroup is a side effect
//! on the user's accounting and limits, it needs root, and a frozen cgroup stays frozen when
//! reaper dies).
//!
//! Measured on a 1500-process tree (`fixture.py forest 1500`, debug build, 2 cores shared with
//! other builds), a whole `reaper kill --signature TOKEN` (plan, freeze, SIGTERM, exits): 480-560
//! ms with SIGSTOP, 550-700 ms with ptrace (566-606 ms in the last runs). The freeze costs 3
//! `ptrace` and 3 `waitid` calls and one `stat` read a process (`strace -c`: 4500 `ptrace`, 4500
//! `waitid`), well under 0.1 ms a process: the price of a freeze that nobody else sees and that
//! cannot outlive reaper.
//!
//! The caveats, and how each is handled:
//! - ptrace is per thread: every thread in `/proc/PID/task` is seized and interrupted, and the
//!   list is read again until no new thread shows up (a stopped thread cannot create one);
//! - a process that is already traced (a debugger, strace), that is not dumpable, or that
//!   ptrace may not reach (Yama `ptrace_scope`, another user without `CAP_SYS_PTRACE`) refuses
//!   `PTRACE_SEIZE`: the engine falls back to SIGSTOP for that process, and only when its tree
//!   is growing (see the kill engine);
//! - a signal that arrives while a thread is traced stops it in a signal-delivery-stop instead of
//!   being delivered: on detach that signal is given back (`PTRACE_DETACH` with its number), so
//!   nothing sent to the tree during the freeze is lost; the engine's own signal is sent while
//!   the tree is in an interrupt-stop, stays pending, and is delivered after the detach;
//! - a traced thread that dies (SIGKILL during the freeze) is not released to its parent until
//!   the tracer waits for it: such threads are waited for without blocking on every call, and
//!   until then waits are short (see [`Tracer::settle`]);
//! - the seized tid is checked after the seize (a tid cannot be recycled while we trace it) to
//!   be a thread of the process the caller pinned; the leader is checked through its pidfd.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::libc;

/// One traced thread.
#[derive(Clone, Copy, Debug)]
struct Tracee {
    tid: i32,
    /// A signal that stopped it (signal-delivery-stop) and must be given back on detach.
    inject: i32,
    /// The leader of a child of this process: its exit status belongs to this process's own
    /// `wait`, which the tracer must not consume.
    keep_exit: bool,
}

/// The threads this thread traces, by process.
#[derive(Debug, Default)]
pub struct Tracer {
    traced: HashMap<u32, Vec<Tracee>>,
    /// Processes that were stopped by job control (state `T`) when seized: they go back to
    /// that stop when detached.
    group_stopped: HashSet<u32>,
    /// Threads detached from their process's entry but not released yet (not in a stop when
    /// detached, or dying): retried on every call.
    owed: Vec<Tracee>,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn ptrace(req: libc::c_uint, tid: i32, data: usize) -> Result<(), i32> {
    // SAFETY: SEIZE, INTERRUPT and DETACH take a tid, a null address and an integer `data`
    // (options, or the signal to deliver); no memory of ours is read or written.
    let r = unsafe { libc::ptrace(req, tid, std::ptr::null_mut::<libc::c_void>(), data) };
    if r == -1 { Err(errno()) } else { Ok(()) }
}

/// The thread ids of `pid` (empty when it is gone).
fn threads(pid: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok())).collect()
}

/// The part of a `stat` file after the command name (from the state letter on), read with
/// one `read()` (procfs produces the file whole; this runs for every process of a big tree,
/// several times).
fn stat_fields(path: &str, buf: &mut [u8; 1024]) -> Option<usize> {
    use std::io::Read;
    let n = std::fs::File::open(path).ok()?.read(buf).ok()?;
    let close = buf[..n].iter().rposition(|&b| b == b')')?;
    (close + 2 < n).then_some(close + 2)
}

/// The state letter of one thread, `None` when it is gone.
fn thread_state(pid: u32, tid: i32) -> Option<char> {
    let mut buf = [0u8; 1024];
    let at = stat_fields(&format!("/proc/{pid}/task/{tid}/stat"), &mut buf)?;
    Some(char::from(buf[at]))
}

/// The leader's state letter and the number of threads of `pid` (threads that died traced
/// count until the tracer waits for them), `None` when it is gone.
fn leader_stat(pid: u32) -> Option<(char, usize)> {
    super::with_proc_file(pid, b"stat", parse_leader)
}

fn parse_leader(buf: &[u8]) -> Option<(char, usize)> {
    let close = buf.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(buf.get(close + 2..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 20 of the file; the state is field 3.
    let threads = fields.nth(16)?.parse().ok()?;
    Some((state, threads))
}

impl Tracer {
    /// Whether `pid` is frozen by ptrace (as opposed to not at all, or by SIGSTOP).
    pub fn holds(&self, pid: u32) -> bool {
        self.traced.contains_key(&pid)
    }

    /// Seizes and interrupts every thread of `pid`, pinned by `pidfd`. `Err(errno)` when the
    /// leader cannot be seized (the caller falls back to SIGSTOP); nothing is left traced then.
    pub fn freeze(&mut self, pid: u32, pidfd: &OwnedFd) -> Result<(), i32> {
        if self.holds(pid) {
            return Ok(());
        }
        let leader = i32::try_from(pid).map_err(|_| libc::ESRCH)?;
        let stat = super::read_stat(pid);
        let own_child = stat.as_ref().is_some_and(|s| s.ppid == std::process::id());
        let group_stopped = stat.as_ref().is_some_and(|s| s.state == 'T');
        ptrace(libc::PTRACE_SEIZE, leader, 0)?;
        let mut list = vec![Tracee { tid: leader, inject: 0, keep_exit: own_child }];
        let _ = ptrace(libc::PTRACE_INTERRUPT, leader, 0);
        // The seized task is the pinned process only if that process has not exited: a pid is
        // recycled only after its process is reaped.
        if super::pidwatch::is_readable(pidfd.as_fd()) {
            self.owed.append(&mut list);
            self.settle();
            return Err(libc::ESRCH);
        }
        self.traced.insert(pid, list);
        if group_stopped {
            self.group_stopped.insert(pid);
        }
        if leader_stat(pid).is_some_and(|(_, n)| n > 1) {
            self.seize_new_threads(pid);
        }
        Ok(())
    }

    /// Seizes the threads of `pid` not traced yet. Returns how many were added.
    fn seize_new_threads(&mut self, pid: u32) -> usize {
        let Some(list) = self.traced.get_mut(&pid) else {
            return 0;
        };
        let mut added = 0;
        for tid in threads(pid) {
            if list.iter().any(|t| t.tid == tid) {
                continue;
            }
            if ptrace(libc::PTRACE_SEIZE, tid, 0).is_err() {
                continue; // exited meanwhile
            }
            let _ = ptrace(libc::PTRACE_INTERRUPT, tid, 0);
            let t = Tracee { tid, inject: 0, keep_exit: false };
            // Traced, the tid cannot be recycled; it must still be a thread of `pid` (it was
            // listed there, but may have exited and been reused before the seize).
            if std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists() {
                list.push(t);
                added += 1;
            } else {
                self.owed.push(t);
            }
        }
        added
    }

    /// Whether every thread of `pid` is in a stop (or gone). Seizes threads created since: a
    /// thread count above the number traced means some thread is not (a traced thread that
    /// died still counts until we wait for it), and once every traced thread is stopped no
    /// new one can appear: a fixed point.
    pub fn stopped(&mut self, pid: u32) -> bool {
        let Some((state, n)) = leader_stat(pid) else {
            return true;
        };
        let Some(traced) = self.traced.get(&pid).map(Vec::len) else {
            return true;
        };
        let halted = |s: char| matches!(s, 't' | 'T' | 'Z' | 'X');
        if n > traced && self.seize_new_threads(pid) > 0 {
            return false;
        }
        if n <= 1 {
            return halted(state);
        }
        let Some(list) = self.traced.get(&pid) else {
            return true;
        };
        list.iter().all(|t| thread_state(pid, t.tid).is_none_or(halted))
    }

    /// Detaches every thread of `pid`, giving back any signal that arrived meanwhile. `None`
    /// when `pid` was not traced; else whether it was stopped by job control when seized (it
    /// goes back to that stop, where it does not act on a signal until continued).
    pub fn thaw(&mut self, pid: u32) -> Option<bool> {
        let list = self.traced.remove(&pid)?;
        self.owed.extend(list);
        self.settle();
        Some(self.group_stopped.remove(&pid))
    }

    /// Releases what can be released now: detaches threads in a stop, collects threads that
    /// died. Returns whether threads are still owed: the kernel tells the tracer of those by
    /// SIGCHLD only, which a library cannot rely on, so the caller looks again soon.
    pub fn settle(&mut self) -> bool {
        self.owed.retain_mut(|t| !release(t));
        !self.owed.is_empty()
    }
}

/// `waitid(P_PID, tid, flags | __WALL | WNOHANG)`: `Some((si_code, si_status))` when there
/// was something to report, `None` when not (or on an error: `ECHILD`, not ours to wait for).
fn wait_tid(tid: i32, flags: libc::c_int) -> Result<Option<(i32, i32)>, i32> {
    loop {
        // SAFETY: an all-zero siginfo_t is valid; waitid writes into it for the call only.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let id = libc::id_t::try_from(tid).unwrap_or(0);
        // SAFETY: `info` is a valid siginfo_t that outlives the call; the other arguments are
        // plain integers.
        let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, flags | libc::__WALL | libc::WNOHANG) };
        if r == -1 {
            match errno() {
                libc::EINTR => continue,
                e => return Err(e),
            }
        }
        // SAFETY: waitid filled `info` for a child state change (si_pid 0: none to report).
        let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
        return Ok((pid != 0).then_some((info.si_code, status)));
    }
}

/// One attempt to let go of a thread. Returns whether it is released.
fn release(t: &mut Tracee) -> bool {
    // Stops first, one at a time: a signal-delivery-stop (a signal that arrived while traced,
    // no ptrace event above its number) gives its signal back on detach.
    // (ECHILD here also when it is dead: a zombie has no stop to report.)
    while let Ok(Some((code, status))) = wait_tid(t.tid, libc::WSTOPPED) {
        if code == libc::CLD_TRAPPED && status >> 8 == 0 {
            t.inject = status & 0x7f;
        }
    }
    // Died while traced: a traced thread is released (and its process's end told to its
    // parent) only once the tracer waits for it. When this process is the parent itself (a
    // library killing its own child), the exit is left for its own wait: only looked at.
    let flags = if t.keep_exit { libc::WEXITED | libc::WNOWAIT } else { libc::WEXITED };
    match wait_tid(t.tid, flags) {
        // Collected; or ECHILD: not ours (any more), nothing to release.
        Ok(Some(_)) | Err(_) => return true,
        Ok(None) => {}
    }
    match ptrace(libc::PTRACE_DETACH, t.tid, t.inject as usize) {
        Ok(()) => true,
        // Not in a stop (still on its way into one, or dying): try again later.
        Err(_) => false,
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let pids: Vec<u32> = self.traced.keys().copied().collect();
        for pid in pids {
            self.thaw(pid);
        }
        // Threads on their way into a stop or out of life get there within microseconds (a
        // thread in uninterruptible sleep may take longer; if it does, the kernel detaches it
        // when this thread exits). No event tells a library of it reliably: look again briefly.
        let limit = Instant::now() + Duration::from_secs(2);
        while self.settle() && Instant::now() < limit {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    fn task_states(pid: u32) -> Vec<char> {
        threads(pid).into_iter().filter_map(|tid| thread_state(pid, tid)).collect()
    }

    fn tracer_pid(pid: u32) -> String {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        s.lines().find_map(|l| l.strip_prefix("TracerPid:")).unwrap().trim().to_string()
    }

    /// The test fixture with four extra threads (`name` goes into its token), and the line it
    /// printed once they run.
    fn threads_fixture(name: &str) -> (std::process::Child, String) {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fixture.py");
        let token = format!("reaper-unit-{name}-{}", std::process::id());
        let mut child = Command::new("python3")
            .args([fixture, &token, "threads", "4"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        (child, line)
    }

    /// Pins `pid`, freezes it and waits until it is stopped; the pidfd, the tracer and the time
    /// limit of the test (20 s from now).
    fn frozen(pid: u32) -> (OwnedFd, Tracer, Instant) {
        let fd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(pid as i32).unwrap(),
            rustix::process::PidfdFlags::empty(),
        )
        .unwrap();
        let mut tracer = Tracer::default();
        tracer.freeze(pid, &fd).unwrap();
        let limit = Instant::now() + Duration::from_secs(20);
        while !tracer.stopped(pid) {
            assert!(Instant::now() < limit, "never stopped: {:?}", task_states(pid));
            std::thread::yield_now();
        }
        (fd, tracer, limit)
    }

    // Every thread is seized (ptrace stops one thread at a time): frozen, none runs; thawed,
    // all run again and nothing traces them.
    #[test]
    fn freeze_stops_every_thread_and_thaw_lets_them_all_go() {
        let (mut child, line) = threads_fixture("freeze");
        assert!(line.starts_with("READY"), "{line}");
        let pid = child.id();
        let (_fd, mut tracer, _) = frozen(pid);
        let states = task_states(pid);
        assert_eq!(states.len(), 5, "{states:?}");
        assert!(states.iter().all(|&s| s == 't'), "{states:?}");
        assert_eq!(tracer_pid(pid), nix::unistd::gettid().to_string(), "traced by this thread");
        assert_eq!(tracer.thaw(pid), Some(false));
        assert!(!tracer.settle(), "every thread detached at once");
        assert_eq!(tracer_pid(pid), "0");
        let limit = Instant::now() + Duration::from_secs(20);
        while task_states(pid).iter().any(|&s| s == 't' || s == 'T') {
            assert!(Instant::now() < limit, "left stopped: {:?}", task_states(pid));
            std::thread::yield_now();
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    // A signal sent while the process is frozen is not lost: it acts once the process is let go.
    #[test]
    fn a_signal_sent_during_the_freeze_acts_after_the_thaw() {
        let mut child = Command::new("/bin/sleep").arg("600").stdin(Stdio::null()).spawn().unwrap();
        let pid = child.id();
        let (fd, mut tracer, _) = frozen(pid);
        rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::USR1).unwrap();
        // Still frozen: the signal waits (no waitpid here: we are its parent and its tracer, and
        // would be told of the ptrace-stop).
        assert_eq!(task_states(pid), ['t']);
        assert_eq!(tracer.thaw(pid), Some(false));
        let status = child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGUSR1), "{status:?}");
        assert!(!tracer.settle());
    }

    // Regression: a thread that died traced (SIGKILL during the freeze) was taken for "not
    // ours" (a zombie has no stop to report: ECHILD) and never waited for: its process never
    // became readable on its pidfd, and its parent could not reap it (`reaper run` hung).
    #[test]
    fn a_process_killed_while_frozen_is_released_to_its_parent() {
        let (mut child, _) = threads_fixture("freeze-kill");
        let pid = child.id();
        let (fd, mut tracer, limit) = frozen(pid);
        rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::KILL).unwrap();
        tracer.thaw(pid);
        while tracer.settle() {
            assert!(Instant::now() < limit, "never released");
            std::thread::yield_now();
        }
        assert!(super::super::pidwatch::is_readable(fd.as_fd()), "exited, on its pidfd");
        // We are also its parent: the exit status is still ours to collect.
        let status = child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL));
    }
}
