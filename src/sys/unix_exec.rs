//! Starting a command from a forked child, written once for the guards' spawns (Linux's shim,
//! macOS's session watcher): what is prepared before the fork ([`Exec`]), the exec itself, and
//! the exec-failure handshake ([`ExecPipe`]).
//!
//! The handshake: the process that forks the command first makes a pipe whose ends both close
//! on exec. The command's child execs; if `execve` returns, the child writes its errno (4 bytes)
//! to the pipe and exits with 127. The forking process closes its write end and reads: EOF
//! means the exec succeeded (it closed the child's write end), 4 bytes are the errno of the
//! failure, and the failed child is then reaped.
//!
//! Async-signal-safety: the caller may have threads, whose locks a forked child copies in
//! whatever state they were. So everything here that runs after a fork makes raw system calls
//! only, on memory allocated before the fork ([`Exec`]) or on the stack: nothing allocates,
//! locks or touches libc state other than errno.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::libc::{self, c_char, c_int};

use crate::error::{Error, Result};

/// The calling thread's errno (async-signal-safe: reads it, allocates nothing).
pub(crate) fn errno() -> c_int {
    nix::errno::Errno::last_raw()
}

/// Ends this process at once with `code`, running no exit handlers or destructors (the only way
/// a forked child of a threaded process may end).
pub(crate) fn exit(code: c_int) -> ! {
    // SAFETY: `_exit` is async-signal-safe and touches no memory of this process.
    unsafe { libc::_exit(code) }
}

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::Usage(format!("argument contains a NUL byte: {}", s.to_string_lossy())))
}

/// Finds `program` the way a shell does: as given when it contains `/`, else in `$PATH`.
fn resolve(program: &OsStr) -> Result<PathBuf> {
    let not_found =
        || Error::spawn(program.to_string_lossy(), io::Error::new(io::ErrorKind::NotFound, "command not found"));
    if program.is_empty() {
        return Err(not_found());
    }
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    for dir in std::env::split_paths(&path) {
        let candidate = if dir.as_os_str().is_empty() { Path::new(".").join(program) } else { dir.join(program) };
        if candidate.is_file() && nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok() {
            return Ok(candidate);
        }
    }
    Err(not_found())
}

/// The NULL-terminated pointer array `execve` takes, into `v` (valid while `v`'s strings live).
fn nul_terminated(v: &[CString]) -> Vec<*const c_char> {
    v.iter().map(|c| c.as_ptr()).chain([std::ptr::null()]).collect()
}

/// A command made ready for `execve` before any fork (nothing after it may allocate): the
/// program found as a shell finds it, the arguments, and this process's environment.
pub(crate) struct Exec {
    /// The program's path, as found.
    pub(crate) path: CString,
    // The strings the pointer arrays point into: kept alive, never read directly.
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const c_char>,
}

impl Exec {
    /// Prepares `argv` (the program first).
    pub(crate) fn new(argv: &[OsString]) -> Result<Exec> {
        let program = argv.first().ok_or_else(|| Error::Usage("no command given".into()))?;
        let path = cstring(resolve(program)?.as_os_str())?;
        let argv: Vec<CString> = argv.iter().map(|a| cstring(a)).collect::<Result<_>>()?;
        let envp: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).ok()
            })
            .collect();
        // A CString's bytes live on the heap: moving the vectors below keeps the pointers valid.
        Ok(Exec { path, argv_ptrs: nul_terminated(&argv), _argv: argv, envp_ptrs: nul_terminated(&envp), _envp: envp })
    }

    /// The program's path for a message.
    pub(crate) fn program(&self) -> String {
        String::from_utf8_lossy(self.path.as_bytes()).into_owned()
    }
}

/// The handshake's pipe (see the module documentation), made in the process that forks the
/// command, after its own fork. Consumed by [`ExecPipe::exec`] in the command's child and by
/// [`ExecPipe::outcome`] in the process that forked it; each closes its copies.
#[derive(Debug)]
pub(crate) struct ExecPipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl ExecPipe {
    /// A pipe whose ends both close on exec; `Err(errno)` when none could be made.
    pub(crate) fn open() -> std::result::Result<ExecPipe, c_int> {
        let mut fds: [c_int; 2] = [-1; 2];
        // SAFETY: pipe2 writes two new fds into the live two-element array.
        #[cfg(target_os = "linux")]
        let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
        // SAFETY: pipe writes two new fds into the live two-element array.
        #[cfg(not(target_os = "linux"))]
        let r = unsafe { libc::pipe(fds.as_mut_ptr()) };
        if r != 0 {
            return Err(errno());
        }
        // SAFETY: two new fds that nothing else owns.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // No pipe2 here: close-on-exec is set after. The processes that fork the command (the
        // shim, the watcher) have one thread, so no exec can happen in between.
        #[cfg(not(target_os = "linux"))]
        for fd in [&r, &w] {
            // SAFETY: sets a descriptor flag of an fd owned here.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        Ok(ExecPipe { r, w })
    }

    /// In the command's child, once it is set up: execs `exec`. Only returns by exiting: with
    /// 127 after writing `execve`'s errno to the pipe (a successful exec closes the pipe).
    ///
    /// # Safety
    /// Only in the child forked after [`ExecPipe::open`] to run the command: its memory is a
    /// copy of a possibly multi-threaded process's, so only async-signal-safe calls follow.
    pub(crate) unsafe fn exec(self, exec: &Exec) -> ! {
        let ExecPipe { r, w } = self;
        drop(r); // close(2), nothing else
        // SAFETY: `path` is a C string and both arrays are NULL-terminated arrays of C strings,
        // all alive in this process's copy of the memory allocated before the fork; `execve`
        // returns only on failure.
        unsafe { libc::execve(exec.path.as_ptr(), exec.argv_ptrs.as_ptr(), exec.envp_ptrs.as_ptr()) };
        let e = errno();
        // SAFETY: 4 bytes from a live local to the write end owned here; a failed write only
        // loses the errno (the parent then takes the exec for a success and sees status 127).
        unsafe { libc::write(w.as_raw_fd(), std::ptr::from_ref(&e).cast(), size_of::<c_int>()) };
        exit(127)
    }

    /// In the process that forked the command's child `pid` (negative: the fork failed, errno
    /// still set by it): `Ok(())` once the child has exec'd, `Err(errno)` when the fork or the
    /// exec failed (the failed child then reaped). Closes both ends.
    pub(crate) fn outcome(self, pid: libc::pid_t) -> std::result::Result<(), c_int> {
        let fork_errno = errno();
        let ExecPipe { r, w } = self;
        drop(w); // the child holds its own copy: EOF once it has exec'd or exited
        if pid < 0 {
            return Err(fork_errno);
        }
        let mut e: c_int = 0;
        let n = loop {
            // SAFETY: reads at most 4 bytes into a live local from the read end owned here.
            let n = unsafe { libc::read(r.as_raw_fd(), std::ptr::from_mut(&mut e).cast(), size_of::<c_int>()) };
            if n >= 0 || errno() != libc::EINTR {
                break n;
            }
        };
        drop(r);
        if n != size_of::<c_int>() as isize {
            return Ok(()); // EOF: the exec closed the child's write end
        }
        let mut status: c_int = 0;
        // SAFETY: `pid` is this process's child, exiting with 127; `status` is a live
        // out-parameter.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        Err(e)
    }
}

/// The write end of a guard's status pipe, in the forked guard process: messages of 8 bytes (a
/// tag, then a value, both native-endian), which a pipe never tears.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatusPipe<'fd>(BorrowedFd<'fd>);

impl<'fd> StatusPipe<'fd> {
    /// The status pipe whose write end is `fd`.
    pub(crate) fn new(fd: BorrowedFd<'fd>) -> StatusPipe<'fd> {
        StatusPipe(fd)
    }

    /// Writes one message; a failed write is ignored (reaper is gone, or reads later).
    pub(crate) fn send(self, tag: u32, value: i32) {
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&tag.to_ne_bytes());
        buf[4..].copy_from_slice(&value.to_ne_bytes());
        // SAFETY: 8 bytes from a live stack buffer to an open fd.
        unsafe { libc::write(self.0.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    }
}

/// Reads the non-blocking `fd` until it is empty: a self-pipe, or a signalfd (whose reads take
/// at least 128 bytes, one `signalfd_siginfo`).
pub(crate) fn drain(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 128];
    // SAFETY: reads at most `buf.len()` bytes into a live stack buffer from an open fd.
    while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forks a child that execs `exec` through the handshake; what the parent learns.
    fn handshake(exec: &Exec) -> std::result::Result<(), c_int> {
        let pipe = ExecPipe::open().expect("a pipe");
        // SAFETY: the child only runs `ExecPipe::exec`, async-signal-safe, on `exec` built before.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: the child the pipe was made for.
            unsafe { pipe.exec(exec) }
        }
        let out = pipe.outcome(pid);
        if out.is_ok() {
            let mut st = 0;
            // SAFETY: our own child; `st` is a live out-parameter.
            unsafe { libc::waitpid(pid, &mut st, 0) };
        }
        out
    }

    #[test]
    fn the_handshake_says_whether_the_exec_happened_and_why_not() {
        let dir = std::env::temp_dir().join(format!("reaper-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let not_executable = dir.join("not-executable");
        std::fs::write(&not_executable, "x").expect("a file");
        let cases = [
            (OsString::from("true"), Ok(())),
            (OsString::from("/nonexistent/reaper-exec-test"), Err(libc::ENOENT)),
            (not_executable.into_os_string(), Err(libc::EACCES)),
        ];
        for (program, want) in cases {
            let exec = Exec::new(std::slice::from_ref(&program)).expect("prepared");
            assert_eq!(handshake(&exec), want, "{program:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
