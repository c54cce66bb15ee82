//! The kill engine's freeze where there is no ptrace freeze (macOS; Linux under the `portable`
//! feature, which runs this code in CI): SIGSTOP, made safe against reaper's own death.
//!
//! A SIGSTOP outlives the process that sent it: if reaper were SIGKILLed (a CI runner's
//! timeout, the OOM killer) between stopping a tree and continuing it, the tree would stay
//! stopped forever. So before the first stop, reaper forks a small resumer process that holds
//! the read end of a pipe whose only write end reaper holds. Reaper writes "stopping PID" to
//! the pipe before each SIGSTOP and "resumed PID" after each SIGCONT; when reaper's process
//! exits, however it dies, the pipe reads EOF and the resumer sends SIGCONT to every pid still
//! recorded as stopped, then exits. After an orderly kill nothing is recorded and it exits at
//! once.
//!
//! The resumer is in a session of its own (`setsid`), so a signal to reaper's process group
//! (Ctrl-C, a runner ending the job's group) does not take it along, and it ignores the usual
//! terminating signals. The caller may have threads: between `fork()` and `_exit()` the resumer
//! only makes async-signal-safe calls (`read`, `kill`, `close`, `setsid`, `signal`) on memory
//! allocated before the fork.
//!
//! Left open: a process killed while stopped whose pid is recycled before reaper's death reaches
//! the resumer gets a SIGCONT it did not need (which only matters if that new process was
//! stopped on purpose); a SIGKILL of the resumer itself while reaper also dies.

use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::libc;

use super::unix_exec::{errno, exit};

/// How many pids the resumer can hold at once (stopped and not yet resumed): 4 MiB of
/// addresses reserved before the fork, touched only as far as used.
const CAPACITY: usize = 1 << 20;

/// One record on the pipe: the pid, then 1 (stopping) or 0 (resumed), both native-endian u32.
const RECORD: usize = 8;

/// A running resumer (see the module documentation). Dropping it closes the pipe and reaps
/// the resumer, which first continues whatever is still recorded as stopped.
#[derive(Debug)]
pub struct Resumer {
    write: std::fs::File,
    child: libc::pid_t,
    /// How many pids are recorded as stopped now.
    held: usize,
}

impl Resumer {
    /// Forks the resumer.
    pub fn start() -> io::Result<Resumer> {
        let (r, w) = std::io::pipe()?;
        let (r, w): (OwnedFd, OwnedFd) = (r.into(), w.into());
        let mut slots: Vec<u32> = Vec::with_capacity(CAPACITY);
        let slots_ptr = slots.as_mut_ptr();
        // SAFETY: the child only runs `resumer_main`, which makes async-signal-safe calls on
        // the fds and the buffer made before the fork, and ends with `_exit`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: in the child; see `resumer_main`.
            unsafe { resumer_main(r.as_raw_fd(), w.as_raw_fd(), slots_ptr, CAPACITY) }
        }
        drop(r);
        drop(slots);
        Ok(Resumer { write: std::fs::File::from(w), child: pid, held: 0 })
    }

    fn send(&mut self, pid: u32, op: u32) -> bool {
        let mut rec = [0u8; RECORD];
        rec[..4].copy_from_slice(&pid.to_ne_bytes());
        rec[4..].copy_from_slice(&op.to_ne_bytes());
        // 8 bytes, less than PIPE_BUF: one atomic write.
        self.write.write_all(&rec).is_ok()
    }

    /// Records that `pid` is about to be stopped. `false` when it could not be recorded (the
    /// resumer is gone, or full): the caller must not stop it.
    pub fn stopping(&mut self, pid: u32) -> bool {
        if self.held >= CAPACITY || !self.send(pid, 1) {
            return false;
        }
        self.held += 1;
        true
    }

    /// Records that `pid` was continued (or has ended).
    pub fn resumed(&mut self, pid: u32) {
        if self.send(pid, 0) {
            self.held = self.held.saturating_sub(1);
        }
    }
}

impl Drop for Resumer {
    fn drop(&mut self) {
        // Closing our end is the resumer's EOF; it continues what is left and exits.
        let null = std::fs::File::open("/dev/null");
        if let Ok(null) = null {
            // SAFETY: both fds are live; dup2 replaces our write end with /dev/null, closing it.
            unsafe { libc::dup2(null.as_raw_fd(), self.write.as_raw_fd()) };
        }
        let mut status = 0;
        // SAFETY: `child` is our child, reaped here only; `status` is a live out-parameter.
        while unsafe { libc::waitpid(self.child, &mut status, 0) } < 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }
}

/// The pids recorded as stopped, in the order they were stopped: a stack in memory allocated
/// before the fork (the resumer may not allocate), written only as far as used.
struct Held<'a> {
    slots: &'a mut [MaybeUninit<u32>],
    /// How many of `slots`, from the start, hold a pid.
    n: usize,
}

impl Held<'_> {
    /// The `i`th pid held (`i < n`).
    fn get(&self, i: usize) -> u32 {
        // SAFETY: every slot below `n` was written by `push` or `remove`.
        unsafe { self.slots[i].assume_init() }
    }

    /// Records `pid` as stopped (when full, it is not recorded: reaper's count stops it first).
    fn push(&mut self, pid: u32) {
        if let Some(slot) = self.slots.get_mut(self.n) {
            slot.write(pid);
            self.n += 1;
        }
    }

    /// Records `pid` as resumed: its latest record goes, the last one takes its place.
    fn remove(&mut self, pid: u32) {
        if let Some(i) = (0..self.n).rev().find(|&i| self.get(i) == pid) {
            self.n -= 1;
            let last = self.get(self.n);
            self.slots[i].write(last);
        }
    }

    /// Applies one record (see [`RECORD`]).
    fn apply(&mut self, rec: &[u8]) {
        let pid = u32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let op = u32::from_ne_bytes([rec[4], rec[5], rec[6], rec[7]]);
        if op == 1 { self.push(pid) } else { self.remove(pid) }
    }
}

/// Leaves reaper's session (a signal to reaper's process group does not take the resumer
/// along) and ignores the usual terminating signals.
fn detach() {
    // SAFETY: takes nothing; fails only for a group leader, which a fresh child is not.
    unsafe { libc::setsid() };
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE, libc::SIGTSTP] {
        // SAFETY: SIG_IGN installs no handler.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
}

/// Reads records from `r` until EOF (or an error other than EINTR) into `held`.
fn read_records(r: BorrowedFd<'_>, held: &mut Held<'_>) {
    let mut buf = [0u8; 4096];
    let mut have = 0usize;
    loop {
        let free = &mut buf[have..];
        // SAFETY: reads at most `free.len()` bytes into the live rest of `buf`.
        let got = unsafe { libc::read(r.as_raw_fd(), free.as_mut_ptr().cast(), free.len()) };
        if got == 0 {
            return;
        }
        if got < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return;
        }
        have += got as usize;
        let whole = have - have % RECORD;
        buf[..whole].chunks_exact(RECORD).for_each(|rec| held.apply(rec));
        buf.copy_within(whole..have, 0);
        have -= whole;
    }
}

/// Continues every pid held. Parents were stopped before their children: children go first,
/// so that a parent does not run (and fork) while reaper's freeze of its children is undone.
fn continue_held(held: &Held<'_>) {
    for i in (0..held.n).rev() {
        let pid = held.get(i);
        if pid > 0 && pid <= i32::MAX as u32 {
            // SAFETY: plain integers; a pid that is gone is ESRCH, nothing else.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
        }
    }
}

/// The resumer: reads records until EOF, then continues every pid still recorded as stopped.
///
/// # Safety
/// Only in the child of `fork()` (async-signal-safe calls only): `slots` must point to `cap`
/// writable u32s allocated before the fork, `r` and `w` are the pipe's ends.
unsafe fn resumer_main(r: libc::c_int, w: libc::c_int, slots: *mut u32, cap: usize) -> ! {
    // SAFETY: this child's copy of the write end: only reaper may hold one, or EOF never comes.
    unsafe { libc::close(w) };
    detach();
    // Nothing else of reaper's stays open here (a pipe someone reads to its EOF).
    for fd in (0..4096).filter(|&fd| fd != r) {
        // SAFETY: the resumer uses no fd but `r`; a number that is no fd is EBADF.
        unsafe { libc::close(fd) };
    }
    // SAFETY: `r` stays open for the resumer's whole life; it never returns.
    let r = unsafe { BorrowedFd::borrow_raw(r) };
    // SAFETY: `cap` writable u32s (the caller's contract), seen as possibly uninitialised.
    let slots = unsafe { std::slice::from_raw_parts_mut(slots.cast::<MaybeUninit<u32>>(), cap) };
    let mut held = Held { slots, n: 0 };
    read_records(r, &mut held);
    continue_held(&held);
    exit(0)
}

// Read from /proc: Linux only.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn state(pid: u32) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?.1.chars().next()
    }

    fn wait_state(pid: u32, want: impl Fn(char) -> bool) -> bool {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < until {
            if state(pid).is_some_and(&want) {
                return true;
            }
            std::thread::yield_now();
        }
        false
    }

    #[test]
    fn dropping_the_resumer_continues_what_is_still_recorded_stopped() {
        let mut kids: Vec<_> =
            (0..2).map(|_| Command::new("sleep").arg("600").stdin(Stdio::null()).spawn().expect("sleep")).collect();
        let (a, b) = (kids[0].id(), kids[1].id());
        let mut res = Resumer::start().expect("resumer");
        for pid in [a, b] {
            assert!(res.stopping(pid));
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::SIGSTOP).expect("stop");
            assert!(wait_state(pid, |s| s == 'T'), "{pid} stopped");
        }
        // `a` was continued by us; `b` is left for the resumer.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(a as i32), nix::sys::signal::SIGCONT).expect("cont");
        res.resumed(a);
        drop(res);
        assert!(wait_state(b, |s| s != 'T'), "the resumer continued {b}");
        for k in &mut kids {
            let _ = k.kill();
            let _ = k.wait();
        }
    }
}
