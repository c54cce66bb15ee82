//! The parent side of `reaper run`'s guard: finding the program (`$PATH`), preparing what the
//! children need before the fork, starting the shim with `clone3()` (PID namespace, user
//! namespace, subreaper, in that order of preference), then reading its status pipe and reaping
//! it through its pidfd. The children's code is in `shim.rs`.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::libc::{self, c_int};

use super::pidwatch::{open_pidfd, pidfd_signal, poll_readable};
use super::shim::{Msg, Prep, ShimSetup, clone3, shim_main};
use crate::error::{Error, Result};
use crate::model::{Isolation, Status};
use crate::sys::unix_exec::{Exec, errno};

impl Prep {
    fn new(argv: &[OsString]) -> Result<Prep> {
        let exec = Exec::new(argv)?;
        let (uid, gid) = (rustix::process::getuid().as_raw(), rustix::process::getgid().as_raw());
        // SAFETY: sigset_t is plain data; sigfillset/sigemptyset/sigaddset initialise it.
        let (full_mask, empty_mask, chld_mask) = unsafe {
            let mut full: libc::sigset_t = std::mem::zeroed();
            let mut empty: libc::sigset_t = std::mem::zeroed();
            let mut chld: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut full);
            libc::sigemptyset(&mut empty);
            libc::sigemptyset(&mut chld);
            libc::sigaddset(&mut chld, libc::SIGCHLD);
            (full, empty, chld)
        };
        Ok(Prep {
            exec,
            // The command keeps its own uid and gid inside the user namespace.
            uid_map: CString::new(format!("{uid} {uid} 1\n")).map_err(|_| Error::Usage("uid".into()))?,
            gid_map: CString::new(format!("{gid} {gid} 1\n")).map_err(|_| Error::Usage("gid".into()))?,
            full_mask,
            empty_mask,
            chld_mask,
        })
    }
}

/// A command started under a shim.
#[derive(Debug)]
pub struct Child {
    shim: u32,
    cmd: Option<u32>,
    pidfd: OwnedFd,
    status_r: OwnedFd,
    isolation: Isolation,
    cmd_status: Option<Status>,
    shim_status: Option<Status>,
}

enum Attempt {
    Started(Child),
    /// clone3 or the shim's setup failed (why): try the next isolation.
    Unavailable(String),
}

fn start(p: &Prep, isolation: Isolation, flags: u64) -> Result<Attempt> {
    let parent = open_pidfd(std::process::id())?
        .ok_or_else(|| Error::io("opening a pidfd for reaper itself", io::Error::from_raw_os_error(libc::ESRCH)))?;
    let (status_r, status_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("creating the status pipe", io::Error::from(e)))?;
    let mut pidfd: c_int = -1;
    let setup = ShimSetup {
        userns: flags & libc::CLONE_NEWUSER as u64 != 0,
        mount_proc: flags & libc::CLONE_NEWNS as u64 != 0,
        subreaper: isolation == Isolation::Subreaper,
    };
    // SAFETY: the child runs shim_main, which only makes raw calls on `p` (prepared above).
    let pid = unsafe { clone3(flags, Some(&mut pidfd)) };
    if pid == 0 {
        // SAFETY: in the child; see shim_main.
        unsafe { shim_main(p, parent.as_raw_fd(), status_w.as_raw_fd(), setup) }
    }
    if pid < 0 {
        let e = errno();
        return match e {
            libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS | libc::ENOSYS | libc::EACCES if flags != 0 => {
                Ok(Attempt::Unavailable(unavailable_reason(e)))
            }
            _ => Err(Error::io("starting the guard process (clone3)", io::Error::from_raw_os_error(e))),
        };
    }
    drop(status_w);
    let pidfd = if pidfd >= 0 {
        // SAFETY: with CLONE_PIDFD the kernel stored a new fd for the child in `pidfd`.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    } else {
        // Started with plain clone(): our unreaped child, so the pid is still its own.
        open_pidfd(pid as u32)?.ok_or_else(|| {
            Error::io("opening a pidfd for the guard process", io::Error::from_raw_os_error(libc::ESRCH))
        })?
    };
    let mut child =
        Child { shim: pid as u32, cmd: None, pidfd, status_r, isolation, cmd_status: None, shim_status: None };
    // The first message says whether the command started. Blocking: the shim answers at once.
    match child.read_message(true)? {
        Some((Some(Msg::Started), cmd)) => {
            child.cmd = match isolation {
                // Inside the namespace the command has another pid; the shim has one child.
                Isolation::PidNamespace => first_child(child.shim),
                _ => u32::try_from(cmd).ok(),
            };
            set_nonblocking(child.status_r.as_fd())?;
            Ok(Attempt::Started(child))
        }
        Some((Some(Msg::SetupFailed), e)) => {
            child.reap_blocking();
            Ok(Attempt::Unavailable(unavailable_reason(e)))
        }
        Some((Some(Msg::ProcFailed), e)) => {
            child.reap_blocking();
            Ok(Attempt::Unavailable(format!("mounting its own /proc: {}", unavailable_reason(e))))
        }
        Some((Some(Msg::ExecFailed), e)) => {
            child.reap_blocking();
            Err(Error::spawn(p.exec.program(), io::Error::from_raw_os_error(e)))
        }
        _ => {
            child.reap_blocking();
            Err(Error::io("starting the guard process", io::Error::other("it exited before starting the command")))
        }
    }
}

fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?.split_whitespace().next()?.parse().ok()
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    fcntl_getfl(fd)
        .and_then(|fl| fcntl_setfl(fd, fl | OFlags::NONBLOCK))
        .map_err(|e| Error::io("setting the status pipe non-blocking", io::Error::from(e)))
}

/// Starts `argv` under a shim. With `isolate`, tries a PID namespace (plus a user namespace
/// when not privileged) and falls back to a subreaper shim; the second value then says why.
pub fn spawn(argv: &[OsString], isolate: bool) -> Result<(Child, Option<String>)> {
    let p = Prep::new(argv)?;
    let mut why = None;
    if isolate {
        let mut reasons = Vec::new();
        // A PID namespace always comes with a mount namespace and a /proc of its own, so that
        // the command's pids and /proc's agree.
        let pid_mount = (libc::CLONE_NEWPID | libc::CLONE_NEWNS) as u64;
        for (flags, what) in [(pid_mount, "PID namespace"), (pid_mount | libc::CLONE_NEWUSER as u64, "user namespace")]
        {
            match start(&p, Isolation::PidNamespace, flags)? {
                Attempt::Started(c) => return Ok((c, None)),
                Attempt::Unavailable(why) => reasons.push(format!("{what}: {why}")),
            }
        }
        why = Some(reasons.join("; "));
    }
    match start(&p, Isolation::Subreaper, 0)? {
        Attempt::Started(c) => Ok((c, why)),
        Attempt::Unavailable(why) => Err(Error::io("making the guard process a subreaper", io::Error::other(why))),
    }
}

fn unavailable_reason(e: c_int) -> String {
    match e {
        libc::EPERM | libc::EACCES => "not permitted".into(),
        libc::ENOSPC | libc::EUSERS => "limit reached (user.max_user_namespaces)".into(),
        libc::ENOSYS | libc::EINVAL => "not supported by this kernel".into(),
        _ => io::Error::from_raw_os_error(e).to_string(),
    }
}

impl Child {
    /// Whether the shim has exited and been reaped.
    pub fn is_reaped(&self) -> bool {
        self.shim_status.is_some()
    }

    /// The shim's pid: every process of the command's tree descends from it.
    pub fn shim_pid(&self) -> u32 {
        self.shim
    }

    /// The command's pid (as reaper sees it), when known.
    pub fn cmd_pid(&self) -> Option<u32> {
        self.cmd
    }

    /// How the command is isolated.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// Readable when the shim has exited.
    pub fn exit_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Readable when the shim has news (the command exited).
    pub fn status_fd(&self) -> BorrowedFd<'_> {
        self.status_r.as_fd()
    }

    /// The command's status once it has exited, as reported by the shim (or, if the shim was
    /// killed first, the shim's own).
    pub fn status(&self) -> Option<Status> {
        self.cmd_status.or(self.shim_status)
    }

    fn read_message(&mut self, _first: bool) -> Result<Option<(Option<Msg>, i32)>> {
        let mut buf = [0u8; 8];
        loop {
            let n = match rustix::io::read(&self.status_r, &mut buf) {
                Ok(n) => n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => return Ok(None),
                Err(e) => return Err(Error::io("reading the guard's status pipe", io::Error::from(e))),
            };
            if n == 8 {
                let tag = Msg::from_tag(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
                let value = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
                if tag == Some(Msg::Exited) {
                    self.cmd_status = Some(Status::from_raw(value));
                }
                return Ok(Some((tag, value)));
            }
            return Ok(None); // EOF (or a torn read, which a pipe does not do for 8 bytes)
        }
    }

    /// Reads whatever the shim has said; true when the command has exited.
    pub fn poll_status(&mut self) -> Result<bool> {
        while self.read_message(false)?.is_some() {}
        Ok(self.cmd_status.is_some())
    }

    /// Reaps the shim if it has exited.
    pub fn try_reap(&mut self) -> Result<bool> {
        if self.shim_status.is_some() {
            return Ok(true);
        }
        self.waitid(true)
    }

    fn waitid(&mut self, nohang: bool) -> Result<bool> {
        use rustix::process::{WaitId, WaitIdOptions, waitid};
        let options = if nohang { WaitIdOptions::EXITED | WaitIdOptions::NOHANG } else { WaitIdOptions::EXITED };
        loop {
            let info = match waitid(WaitId::PidFd(self.pidfd.as_fd()), options) {
                Ok(info) => info,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    return Err(Error::io(format!("reaping the guard process {}", self.shim), io::Error::from(e)));
                }
            };
            // None: not exited yet (with `nohang`).
            let Some(info) = info else {
                return Ok(false);
            };
            self.shim_status = Some(match info.exit_status() {
                Some(code) => Status::Exited(code),
                None => Status::Signaled(info.terminating_signal().unwrap_or(0)),
            });
            let _ = self.poll_status();
            return Ok(true);
        }
    }

    fn reap_blocking(&mut self) {
        if self.shim_status.is_none() {
            let _ = self.waitid(false);
        }
    }

    /// SIGKILLs the shim. In a PID namespace the kernel then kills every process of the tree.
    pub fn kill_shim(&self) {
        if self.shim_status.is_none() {
            let _ = pidfd_signal(self.pidfd.as_fd(), libc::SIGKILL);
        }
    }

    /// Waits up to `timeout` for the shim to exit and reaps it.
    pub fn wait_reap(&mut self, timeout: Duration) -> Result<bool> {
        if self.try_reap()? {
            return Ok(true);
        }
        poll_readable(&[self.pidfd.as_fd()], Some(timeout))?;
        self.try_reap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.shim_status.is_none() {
            // A subreaper tree was ended by `Guard`'s own `Drop` through the kill engine; what
            // is left here is the shim.
            self.kill_shim();
            self.reap_blocking();
        }
    }
}

/// Every descendant of `root` (the shim), parents first: the one descendant walk
/// ([`super::scan_tree`]).
pub fn descendants(root: u32) -> Result<Vec<u32>> {
    Ok(super::scan_tree(&[root]).into_iter().map(|s| s.pid).filter(|&p| p != root).collect())
}
