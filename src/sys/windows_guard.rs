//! Windows side of `reaper run` and `reaper::guard`: the command in a Job Object that the
//! kernel ends together with reaper.
//!
//! The job has `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`, and only reaper holds a handle to it (not
//! inheritable): when reaper's process exits, however it dies, its handles close and the kernel
//! terminates every process of the job. The command is created suspended
//! (`CREATE_SUSPENDED`), assigned to the job, then resumed, so not even its first instruction
//! runs outside the job, and every process it starts joins the job at creation (nested jobs:
//! Windows 8 and later). It is also created with `CREATE_NEW_PROCESS_GROUP`, so that its
//! console process group can be given `CTRL_BREAK_EVENT` (the graceful step, see
//! `windows.rs`) without reaching reaper or the rest of the console.
//!
//! The job's process list is the tree: exact, where Toolhelp parent pids can be stale (a pid
//! is recycled and the "child" is older than its "parent"). A completion port on the job says
//! when its last process has exited (`JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO`); waits are
//! `WaitForMultipleObjects` on process handles and events, never sleeps.
//!
//! Verified here: compiled and clippy-clean for x86_64-pc-windows-gnu and -msvc; exercised under
//! Wine (see `tests/wine/guard.sh` and the platform table, docs/src/platforms.md), not on a real Windows.

use std::ffi::OsString;
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    ERROR_INVALID_PARAMETER, ERROR_MORE_DATA, GetLastError, HANDLE, INVALID_HANDLE_VALUE, WAIT_FAILED, WAIT_OBJECT_0,
    WAIT_TIMEOUT,
};
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT, SetConsoleCtrlHandler};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, TH32CS_SNAPTHREAD, THREADENTRY32, Thread32First, Thread32Next,
};
use windows_sys::Win32::System::IO::{CreateIoCompletionPort, GetQueuedCompletionStatus, OVERLAPPED};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_ASSOCIATE_COMPLETION_PORT, JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_BASIC_PROCESS_ID_LIST,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectAssociateCompletionPortInformation,
    JobObjectBasicAccountingInformation, JobObjectBasicProcessIdList, JobObjectExtendedLimitInformation,
    QueryInformationJobObject, SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_PROCESS_GROUP, CREATE_SUSPENDED, CreateEventW, INFINITE, OpenProcess, OpenThread,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, ResetEvent, ResumeThread, SetEvent, THREAD_SUSPEND_RESUME,
    TerminateProcess, WaitForMultipleObjects, WaitForSingleObject,
};
use windows_sys::core::BOOL;

use crate::error::{Error, Result};
use crate::model::{Isolation, Status};

/// What the guard's event loop waits on: a handle (process, event).
pub type Waitable<'a> = BorrowedHandle<'a>;

/// The exit code the job's processes get from [`Child::kill_shim`] (`TerminateJobObject`).
const KILLED: u32 = 1;

fn last_error(what: impl Into<String>) -> Error {
    Error::io(what, io::Error::last_os_error())
}

/// Takes ownership of a handle a call returned; `None` for NULL (or `INVALID_HANDLE_VALUE`).
pub(crate) fn owned(h: HANDLE) -> Option<OwnedHandle> {
    // SAFETY: `h` is a handle just returned to us by the system, owned by nothing else.
    (!h.is_null() && h != INVALID_HANDLE_VALUE).then(|| unsafe { OwnedHandle::from_raw_handle(h) })
}

pub(crate) fn raw(h: &impl AsRawHandle) -> HANDLE {
    h.as_raw_handle()
}

/// A timeout in whole milliseconds, rounded up (so that 0.4 ms does not spin at 0), `INFINITE`
/// for `None`.
fn millis(timeout: Option<Duration>) -> u32 {
    timeout.map_or(INFINITE, |t| t.as_micros().div_ceil(1000).min(u128::from(INFINITE - 1)) as u32)
}

/// Whether `h` is signalled now.
pub(crate) fn is_signalled(h: HANDLE) -> bool {
    // SAFETY: a live handle borrowed by the caller; a zero timeout only tests it.
    unsafe { WaitForSingleObject(h, 0) == WAIT_OBJECT_0 }
}

/// Waits until one of `w` is signalled or `timeout` passes (`None`: forever); one flag per
/// item, all false at the timeout. At most 64 handles (`MAXIMUM_WAIT_OBJECTS`).
pub fn wait_any(w: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Vec<bool>> {
    let handles: Vec<HANDLE> = w.iter().map(raw).collect();
    if handles.is_empty() || handles.len() > 64 {
        return Err(Error::Usage(format!("cannot wait for {} handles at once (1 to 64)", handles.len())));
    }
    // SAFETY: `handles` are live handles borrowed for the call; the count is the array's.
    let r = unsafe { WaitForMultipleObjects(handles.len() as u32, handles.as_ptr(), 0, millis(timeout)) };
    if r == WAIT_FAILED {
        return Err(last_error("waiting with WaitForMultipleObjects"));
    }
    if r == WAIT_TIMEOUT {
        return Ok(vec![false; handles.len()]);
    }
    // Several may be signalled: ask each (manual-reset events and processes stay signalled).
    Ok(handles.iter().map(|&h| is_signalled(h)).collect())
}

/// How many processes of `job` are running (its basic accounting's `ActiveProcesses`).
pub(crate) fn job_active(job: &OwnedHandle) -> Result<u32> {
    // SAFETY: plain data, filled by the call.
    let mut info: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a live struct of the size given, of the class named.
    let ok = unsafe {
        QueryInformationJobObject(
            raw(job),
            JobObjectBasicAccountingInformation,
            std::ptr::from_mut(&mut info).cast(),
            size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 { Err(last_error("reading the job's accounting")) } else { Ok(info.ActiveProcesses) }
}

/// The pids of `job`'s processes.
pub(crate) fn job_pids(job: &OwnedHandle) -> Result<Vec<u32>> {
    let mut cap = 64usize;
    loop {
        // Two u32 counts, then the pids (usize): a usize buffer is aligned for it.
        let mut buf = vec![0usize; 2 + cap];
        // SAFETY: `buf` is live and as long as the size given; the class names this layout.
        let ok = unsafe {
            QueryInformationJobObject(
                raw(job),
                JobObjectBasicProcessIdList,
                buf.as_mut_ptr().cast(),
                (buf.len() * size_of::<usize>()) as u32,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: plain call, right after the one it describes.
        if ok == 0 && unsafe { GetLastError() } != ERROR_MORE_DATA {
            return Err(last_error("listing the job's processes"));
        }
        // SAFETY: the buffer is aligned for and at least as long as the struct, which the
        // call filled (at least its counts).
        let head = unsafe { &*buf.as_ptr().cast::<JOBOBJECT_BASIC_PROCESS_ID_LIST>() };
        let (assigned, listed) = (head.NumberOfAssignedProcesses as usize, head.NumberOfProcessIdsInList as usize);
        if ok != 0 && listed <= cap {
            // SAFETY: the call wrote `listed` pids from `ProcessIdList` on, inside `buf`.
            let ids = unsafe { std::slice::from_raw_parts(head.ProcessIdList.as_ptr(), listed) };
            return Ok(ids.iter().map(|&p| p as u32).collect());
        }
        cap = (assigned + 16).max(cap * 2);
    }
}

/// A manual-reset event, not signalled.
fn event() -> Result<OwnedHandle> {
    // SAFETY: no attributes, no name; the call returns a new handle or NULL.
    owned(unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) })
        .ok_or_else(|| last_error("creating an event"))
}

/// Opens `pid` for waiting: `Ok(None)` when there is no such process.
fn open_for_wait(pid: u32) -> Result<Option<OwnedHandle>> {
    // SAFETY: plain call; returns a new handle or NULL.
    let h = unsafe { OpenProcess(PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    match owned(h) {
        Some(h) => Ok(Some(h)),
        // SAFETY: plain call, right after the failed one.
        None if unsafe { GetLastError() } == ERROR_INVALID_PARAMETER => Ok(None),
        None => Err(last_error(format!("opening pid {pid}"))),
    }
}

/// A watched process (`--watch-pid`): a process handle, signalled once it has exited. The
/// handle pins the process: its pid cannot be given to another one while reaper holds it.
#[derive(Debug)]
pub struct Watched(OwnedHandle);

impl Watched {
    /// Starts watching `pid`; `None` when there is no such process.
    pub fn open(pid: u32) -> Result<Option<Watched>> {
        Ok(open_for_wait(pid)?.map(Watched))
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.0.as_handle()
    }
}

/// Waits until `pid` has exited, at most `timeout` (`None`: forever), on a process handle. A
/// pid that does not exist has already exited: `Ok(true)`.
pub fn wait_pid_exit(pid: u32, timeout: Option<Duration>) -> Result<bool> {
    let Some(h) = open_for_wait(pid)? else {
        return Ok(true);
    };
    Ok(wait_any(&[h.as_handle()], timeout)?[0])
}

/// An event another thread can set: `guard::Stopper` on Windows.
#[derive(Debug)]
pub struct Notifier(OwnedHandle);

impl Notifier {
    /// A manual-reset event.
    pub fn new() -> Result<Notifier> {
        event().map(Notifier)
    }

    /// Sets the event (for good: it is never reset).
    pub fn notify(&self) {
        // SAFETY: a live event handle.
        unsafe { SetEvent(raw(&self.0)) };
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.0.as_handle()
    }
}

/// The event the console control handler sets (NULL when no [`Signals`] exists).
static CTRL_EVENT: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(std::ptr::null_mut());
/// The signal the handler recorded (0: none).
static CTRL_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set when the [`Signals`] is dropped (the guard has ended its tree): what a close, logoff or
/// shutdown handler waits for before Windows ends reaper.
static CTRL_DONE: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(std::ptr::null_mut());

/// How long the handler holds a close, logoff or shutdown for the graceful end: Windows ends
/// the process 5 s after the event (console close), so a little less.
const CLOSE_HOLD_MS: u32 = 4500;

/// The console control handler: records Ctrl+C as SIGINT, Ctrl+Break as SIGBREAK and closing
/// the console, logoff or shutdown as SIGTERM, and wakes the guard. Returns TRUE (handled):
/// reaper ends the tree itself. For close, logoff and shutdown Windows ends reaper when the
/// handler returns, so the handler first waits (at most [`CLOSE_HOLD_MS`]) for the guard to
/// finish; whatever is left then, the job takes.
unsafe extern "system" fn on_ctrl(ctrl: u32) -> BOOL {
    let sig = match ctrl {
        CTRL_C_EVENT => super::SIGINT,
        CTRL_BREAK_EVENT => super::windows::SIGBREAK,
        _ => super::SIGTERM,
    };
    CTRL_SIGNAL.store(sig, Ordering::SeqCst);
    let ev = CTRL_EVENT.load(Ordering::SeqCst);
    if !ev.is_null() {
        // SAFETY: the event lives until `Signals` is dropped, which unregisters this handler
        // before closing it.
        unsafe { SetEvent(ev) };
    }
    let done = CTRL_DONE.load(Ordering::SeqCst);
    if sig == super::SIGTERM && !done.is_null() {
        // SAFETY: as above; the handler runs on a thread of its own, which may block.
        unsafe { WaitForSingleObject(done, CLOSE_HOLD_MS) };
    }
    1
}

/// Console control events (Ctrl+C, Ctrl+Break, close) as an event to wait on. One at a time.
#[derive(Debug)]
pub struct Signals {
    event: OwnedHandle,
    /// Set on drop: the guard is done (see [`on_ctrl`]).
    done: OwnedHandle,
}

impl Signals {
    /// Registers the console control handler.
    pub fn new() -> Result<Signals> {
        let ev = event()?;
        let done = event()?;
        if CTRL_EVENT.compare_exchange(std::ptr::null_mut(), raw(&ev), Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Err(Error::io("catching console events", io::Error::other("already caught by another guard")));
        }
        CTRL_DONE.store(raw(&done), Ordering::SeqCst);
        // SAFETY: registers a handler that only touches atomics and the two events.
        if unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 1) } == 0 {
            CTRL_EVENT.store(std::ptr::null_mut(), Ordering::SeqCst);
            CTRL_DONE.store(std::ptr::null_mut(), Ordering::SeqCst);
            return Err(last_error("registering a console control handler"));
        }
        Ok(Signals { event: ev, done })
    }

    /// The signal that arrived, if any.
    pub fn take(&self) -> Option<i32> {
        // Reset first: a signal recorded after the swap sets the event again.
        // SAFETY: a live event handle.
        unsafe { ResetEvent(raw(&self.event)) };
        match CTRL_SIGNAL.swap(0, Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// What to wait on.
    pub fn waitable(&self) -> Waitable<'_> {
        self.event.as_handle()
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Release a close handler that waits, then unregister. A handler that loaded the
        // handles just before waits on a set event or a closed handle: it returns at once.
        // SAFETY: a live event handle.
        unsafe { SetEvent(raw(&self.done)) };
        // SAFETY: unregisters the handler registered in `new`.
        unsafe { SetConsoleCtrlHandler(Some(on_ctrl), 0) };
        CTRL_EVENT.store(std::ptr::null_mut(), Ordering::SeqCst);
        CTRL_DONE.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

/// A command started in a kill-on-close job.
#[derive(Debug)]
pub struct Child {
    job: OwnedHandle,
    /// Tells when the job's last process has exited (`None` if it could not be associated).
    port: Option<OwnedHandle>,
    process: std::process::Child,
    pid: u32,
    status: Option<Status>,
    reaped: bool,
}

/// Sets `info` (of class `class`) on `job`.
fn set_job<T>(job: &OwnedHandle, class: i32, info: &T, what: &str) -> Result<()> {
    // SAFETY: `info` is a live struct of the size given, of the type `class` names.
    let ok =
        unsafe { SetInformationJobObject(raw(job), class, std::ptr::from_ref(info).cast(), size_of::<T>() as u32) };
    if ok == 0 { Err(last_error(what.to_string())) } else { Ok(()) }
}

/// A new job whose processes the kernel ends when its last handle closes, with a completion
/// port when one can be associated.
fn kill_on_close_job() -> Result<(OwnedHandle, Option<OwnedHandle>)> {
    // SAFETY: no attributes (not inheritable), no name.
    let job = owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })
        .ok_or_else(|| last_error("creating a job object"))?;
    // SAFETY: plain data; all zero means no limits.
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    set_job(&job, JobObjectExtendedLimitInformation, &limits, "setting the job to kill on close")?;
    // SAFETY: a new completion port, not tied to a file.
    let port = owned(unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 1) });
    let port = port.filter(|port| {
        let assoc = JOBOBJECT_ASSOCIATE_COMPLETION_PORT { CompletionKey: raw(&job), CompletionPort: raw(port) };
        set_job(&job, JobObjectAssociateCompletionPortInformation, &assoc, "").is_ok()
    });
    Ok((job, port))
}

/// Resumes every thread of `pid` (a process created suspended has one). Returns how many.
fn resume_threads(pid: u32) -> Result<usize> {
    // SAFETY: a snapshot of every thread of the system; returns a new handle.
    let snap = owned(unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) })
        .ok_or_else(|| last_error("listing threads"))?;
    // SAFETY: plain data; dwSize is set as the API requires.
    let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<THREADENTRY32>() as u32;
    let mut resumed = 0;
    // SAFETY: `entry` is a live THREADENTRY32 with its size set; the snapshot is live.
    let mut more = unsafe { Thread32First(raw(&snap), &mut entry) } != 0;
    while more {
        if entry.th32OwnerProcessID == pid {
            // SAFETY: plain call; returns a new handle or NULL.
            if let Some(t) = owned(unsafe { OpenThread(THREAD_SUSPEND_RESUME, 0, entry.th32ThreadID) }) {
                // SAFETY: a live thread handle with THREAD_SUSPEND_RESUME.
                if unsafe { ResumeThread(raw(&t)) } != u32::MAX {
                    resumed += 1;
                }
            }
        }
        // SAFETY: as above.
        more = unsafe { Thread32Next(raw(&snap), &mut entry) } != 0;
    }
    Ok(resumed)
}

/// Starts `argv` in a new kill-on-close job: see the module documentation. `isolate` (a PID
/// namespace, Linux's) means nothing here: the job is always there. Nothing is degraded, so
/// the second value is `None`.
pub fn spawn(argv: &[OsString], _isolate: bool) -> Result<(Child, Option<String>)> {
    let program = argv.first().ok_or_else(|| Error::Usage("no command given".into()))?;
    let (job, port) = kill_on_close_job()?;
    let mut process = std::process::Command::new(program)
        .args(&argv[1..])
        .creation_flags(CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP)
        .spawn()
        .map_err(|e| Error::spawn(program.to_string_lossy(), e))?;
    let pid = process.id();
    let started = (|| {
        // SAFETY: both handles are live; the process has not run a single instruction yet.
        if unsafe { AssignProcessToJobObject(raw(&job), raw(&process)) } == 0 {
            return Err(last_error(format!("putting pid {pid} in the job")));
        }
        if resume_threads(pid)? == 0 {
            return Err(Error::io(format!("resuming pid {pid}"), io::Error::other("no thread to resume")));
        }
        Ok(())
    })();
    if let Err(e) = started {
        // SAFETY: our own suspended child, never resumed.
        unsafe { TerminateProcess(raw(&process), KILLED) };
        let _ = process.wait();
        return Err(e);
    }
    super::windows::own_group(pid, true);
    Ok((Child { job, port, process, pid, status: None, reaped: false }, None))
}

impl Child {
    /// Whether the command has exited and the job is empty.
    pub fn is_reaped(&self) -> bool {
        self.reaped
    }

    /// The command's pid: there is no guard process on Windows (the job holds the tree).
    pub fn shim_pid(&self) -> u32 {
        self.pid
    }

    /// The command's pid.
    pub fn cmd_pid(&self) -> Option<u32> {
        Some(self.pid)
    }

    /// How the tree is held: a job.
    pub fn isolation(&self) -> Isolation {
        Isolation::JobObject
    }

    /// What to wait on for news of the command: its process handle.
    pub fn waitables(&self) -> Vec<Waitable<'_>> {
        vec![self.process.as_handle()]
    }

    /// The command's exit code, once it has exited.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Reads the command's exit code if it has exited; true when it has.
    pub fn poll_status(&mut self) -> Result<bool> {
        if self.status.is_none()
            && let Some(st) = self.process.try_wait().map_err(|e| Error::io("reading the command's exit code", e))?
        {
            // Windows exit codes are 32-bit; NTSTATUS codes (0xC000013A for Ctrl+Break) keep
            // their bits.
            self.status = Some(Status::Exited(st.code().unwrap_or(KILLED as i32)));
        }
        Ok(self.status.is_some())
    }

    /// How many processes of the job are running.
    fn active(&self) -> Result<u32> {
        job_active(&self.job)
    }

    /// Every process of the tree: the job's processes, exactly.
    pub fn tree_pids(&self) -> Result<Vec<u32>> {
        job_pids(&self.job)
    }

    /// The tree's processes for the kill engine: the job's.
    pub fn members(&self) -> Result<Option<Vec<u32>>> {
        self.tree_pids().map(Some)
    }

    /// True once the command has exited and the job is empty.
    pub fn try_reap(&mut self) -> Result<bool> {
        if !self.reaped && self.poll_status()? && self.active()? == 0 {
            self.reaped = true;
        }
        Ok(self.reaped)
    }

    /// Waits up to `timeout` for the command to exit and the job to empty.
    pub fn wait_reap(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.try_reap()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            if self.status.is_none() {
                wait_any(&[self.process.as_handle()], Some(left))?;
            } else if let Some(port) = &self.port {
                let (mut n, mut key, mut ov) = (0u32, 0usize, std::ptr::null_mut::<OVERLAPPED>());
                // SAFETY: out-pointers to live locals; the port is live. Any message (a process
                // exited, the job emptied) or the timeout: check again.
                unsafe { GetQueuedCompletionStatus(raw(port), &mut n, &mut key, &mut ov, millis(Some(left))) };
            } else {
                // No completion port: no event says the job emptied. Poll, with the deadline.
                std::thread::sleep(left.min(Duration::from_millis(10)));
            }
        }
    }

    /// Ends every process of the job (`TerminateJobObject`).
    pub fn kill_shim(&self) {
        if !self.reaped {
            // SAFETY: a live job handle.
            unsafe { TerminateJobObject(raw(&self.job), KILLED) };
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill_shim();
        super::windows::own_group(self.pid, false);
        // Closing the job's last handle would end the tree too (kill on close).
    }
}
