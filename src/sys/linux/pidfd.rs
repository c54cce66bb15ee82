//! Linux signalling and waiting through pidfds (kernel >= 5.3): a pidfd pins one process, so
//! a signal sent through it can never reach a recycled pid, and it becomes readable when the
//! process exits (at the zombie stage), so exits are waited for with one `poll()` and no
//! sleep loop. SIGINT, SIGTERM and SIGHUP are blocked while a [`Signaller`] lives and read
//! from a signalfd polled alongside the pidfds.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use nix::sys::signal::{SigSet, SigmaskHow, Signal as NixSignal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Resource, getrlimit, pidfd_open, pidfd_send_signal, setrlimit};

use crate::kill::{Control, Seen, Sent, Waited};

/// A process pinned by a pidfd.
#[derive(Debug)]
pub struct Handle {
    fd: OwnedFd,
}

/// The Linux [`Control`]: pidfds, a signalfd for interrupts, `/proc` scans for descendants.
#[derive(Debug)]
pub struct Signaller {
    sigfd: Option<SignalFd>,
    old_mask: Option<SigSet>,
    raised_nofile: bool,
}

fn interrupt_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in [NixSignal::SIGINT, NixSignal::SIGTERM, NixSignal::SIGHUP] {
        set.add(s);
    }
    set
}

impl Signaller {
    /// Blocks SIGINT, SIGTERM and SIGHUP on this thread (restored on drop) and opens a signalfd
    /// for them. Without a signalfd the signals keep their usual effect.
    pub fn new() -> Signaller {
        let set = interrupt_set();
        let mut old = SigSet::empty();
        // Block first, then open the signalfd: no interrupt can slip between the two.
        if pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).is_err() {
            return Signaller { sigfd: None, old_mask: None, raised_nofile: false };
        }
        match SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) {
            Ok(fd) => Signaller { sigfd: Some(fd), old_mask: Some(old), raised_nofile: false },
            Err(_) => {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
                Signaller { sigfd: None, old_mask: None, raised_nofile: false }
            }
        }
    }

    /// Raises the soft limit on open files to the hard limit, once: a big tree needs a pidfd
    /// per process, and 1024 is a common soft limit.
    fn raise_nofile(&mut self) -> bool {
        if self.raised_nofile {
            return false;
        }
        self.raised_nofile = true;
        let mut lim = getrlimit(Resource::Nofile);
        if lim.current == lim.maximum {
            return false;
        }
        lim.current = lim.maximum;
        setrlimit(Resource::Nofile, lim).is_ok()
    }

    fn drain(&mut self) -> bool {
        let Some(fd) = &self.sigfd else { return false };
        let mut got = false;
        while let Ok(Some(_)) = fd.read_signal() {
            got = true;
        }
        got
    }
}

impl Default for Signaller {
    fn default() -> Signaller {
        Signaller::new()
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        // Consume interrupts still queued, so that unblocking them does not end the process.
        self.drain();
        if let Some(old) = self.old_mask.take() {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
        }
    }
}

fn readable(fd: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0) && !fds[0].revents().is_empty()
}

impl Control for Signaller {
    type Handle = Handle;

    fn open(&mut self, pid: u32, start_ticks: u64) -> Result<Handle, Sent> {
        let raw = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or(Sent::Gone)?;
        let fd = loop {
            match pidfd_open(raw, PidfdFlags::empty()) {
                Ok(fd) => break fd,
                Err(Errno::SRCH) => return Err(Sent::Gone),
                Err(Errno::MFILE) if self.raise_nofile() => continue,
                Err(e) => return Err(Sent::Failed(format!("pidfd_open: {e}"))),
            }
        };
        // The pidfd now pins whatever process has this pid; it is ours only if it started when
        // the plan saw it start.
        loop {
            match super::start_ticks(pid) {
                Some(t) if t == start_ticks => return Ok(Handle { fd }),
                Some(_) => return Err(Sent::Gone),
                // Unreadable because the pinned process has exited: gone.
                None if readable(&fd) => return Err(Sent::Gone),
                // It is alive, so the read failed on our side (the pidfd took the last free fd
                // and the read needs one more): raise the limit once and retry. Never call an
                // unverified live process gone: that reported success while it lived on.
                None if self.raise_nofile() => continue,
                None => return Err(Sent::Failed(format!("cannot read /proc/{pid}/stat to verify its identity"))),
            }
        }
    }

    fn signal(&mut self, h: &Handle, sig: i32) -> Sent {
        // SAFETY: `sig` is a signal number this platform named (parsed by `spec::Signal` or
        // one of the libc constants); the kernel checks it again and answers EINVAL otherwise.
        let signal = unsafe { rustix::process::Signal::from_raw_unchecked(sig) };
        match pidfd_send_signal(&h.fd, signal) {
            Ok(()) => Sent::Ok,
            Err(Errno::SRCH) => Sent::Gone,
            Err(Errno::PERM) => Sent::Denied,
            Err(e) => Sent::Failed(e.to_string()),
        }
    }

    fn exited(&mut self, h: &Handle) -> bool {
        readable(&h.fd)
    }

    fn wait(&mut self, handles: &[&Handle], deadline: Instant) -> Waited {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(handles.len() + 1);
        if let Some(s) = &self.sigfd {
            fds.push(PollFd::from_borrowed_fd(s.as_fd(), PollFlags::IN));
        }
        let first = fds.len();
        fds.extend(handles.iter().map(|h| PollFd::new(&h.fd, PollFlags::IN)));
        let timeout =
            Timespec { tv_sec: left.as_secs().min(i64::MAX as u64) as i64, tv_nsec: left.subsec_nanos().into() };
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(_) => Waited::Timeout,
            Ok(_) => {
                let interrupt = first == 1 && !fds[0].revents().is_empty();
                let exited: Vec<usize> =
                    fds[first..].iter().enumerate().filter(|(_, f)| !f.revents().is_empty()).map(|(i, _)| i).collect();
                drop(fds);
                if interrupt && self.drain() {
                    Waited::Interrupted
                } else if exited.is_empty() {
                    Waited::Timeout
                } else {
                    Waited::Exited(exited)
                }
            }
        }
    }

    fn interrupted(&mut self) -> bool {
        self.drain()
    }

    fn scan(&mut self, roots: &[u32]) -> Vec<Seen> {
        scan_tree(roots)
    }

    fn is_stopped(&mut self, pid: u32, start_ticks: u64) -> bool {
        super::read_stat(pid).is_none_or(|s| s.starttime != start_ticks || matches!(s.state, 'T' | 't' | 'Z' | 'X'))
    }
}

/// `roots` (those that exist) and every current descendant of them, parents before children:
/// one pass over every `/proc/PID/stat`.
pub fn scan_tree(roots: &[u32]) -> Vec<Seen> {
    // /proc/PID/task/*/children needs CONFIG_PROC_CHILDREN, which many kernels lack: read
    // every stat once instead (about 10 µs a process).
    let mut by_parent: HashMap<u32, Vec<Seen>> = HashMap::new();
    let mut roots_seen = Vec::new();
    let root_set: HashSet<u32> = roots.iter().copied().collect();
    for pid in super::list_pids().unwrap_or_default() {
        let Some(st) = super::read_stat(pid) else {
            continue;
        };
        let seen = Seen { pid, start_ticks: st.starttime, state: st.state };
        if root_set.contains(&pid) {
            roots_seen.push(seen);
        }
        if st.ppid != pid {
            by_parent.entry(st.ppid).or_default().push(seen);
        }
    }
    let mut out = roots_seen;
    let mut queue: Vec<u32> = roots.to_vec();
    let mut visited = root_set;
    while let Some(p) = queue.pop() {
        for s in by_parent.remove(&p).unwrap_or_default() {
            if visited.insert(s.pid) {
                out.push(s);
                queue.push(s.pid);
            }
        }
    }
    out
}
