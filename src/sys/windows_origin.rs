//! Windows services (cross-compiled and linted in CI; not exercised under Wine). Read: the
//! service control manager's list of running services with their process ids
//! (`EnumServicesStatusExW`), and the failure actions of the one that runs the process
//! (`QueryServiceConfig2W`, `SERVICE_CONFIG_FAILURE_ACTIONS`): a `restart` action means the
//! manager starts it again when it dies. Not read: scheduled tasks, and services hosted in a
//! shared `svchost.exe` are named by the first service the list gives for that process.

use windows_sys::Win32::System::Services::{
    CloseServiceHandle, ENUM_SERVICE_STATUS_PROCESSW, EnumServicesStatusExW, OpenSCManagerW, OpenServiceW,
    QueryServiceConfig2W, SC_ACTION_OWN_RESTART, SC_ACTION_REBOOT, SC_ACTION_RESTART, SC_ACTION_RUN_COMMAND,
    SC_ENUM_PROCESS_INFO, SC_HANDLE, SC_MANAGER_CONNECT, SC_MANAGER_ENUMERATE_SERVICE, SERVICE_ACTIVE,
    SERVICE_CONFIG_FAILURE_ACTIONS, SERVICE_FAILURE_ACTIONSW, SERVICE_QUERY_CONFIG, SERVICE_WIN32,
};

use crate::model::ServiceRecord;

/// A service manager handle, closed on drop.
struct Handle(SC_HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: a handle OpenSCManagerW or OpenServiceW returned, closed once.
            unsafe { CloseServiceHandle(self.0) };
        }
    }
}

/// A NUL-terminated UTF-16 string as Rust text.
///
/// # Safety
/// `p` is null or points to a NUL-terminated UTF-16 string.
unsafe fn wide(p: *const u16) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut len = 0;
    // SAFETY: the caller's promise: the string ends with a NUL within its allocation.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` u16s were just read from `p`.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The running service whose process is `pid`, with its failure actions.
pub fn service_of(pid: u32) -> Option<ServiceRecord> {
    // SAFETY: null machine and database names mean the local, active database.
    let scm = Handle(unsafe {
        OpenSCManagerW(std::ptr::null(), std::ptr::null(), SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE)
    });
    if scm.0.is_null() {
        return None;
    }
    let name = service_name(&scm, pid)?;
    let (restarts, policy) = failure_actions(&scm, &name);
    Some(ServiceRecord {
        manager: "windows-service".into(),
        stop: if name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            format!("sc stop {name}")
        } else {
            format!("sc stop \"{}\"", name.replace('"', ""))
        },
        name,
        restarts,
        policy,
        source: "the service control manager (EnumServicesStatusExW, QueryServiceConfig2W)".into(),
    })
}

/// The name of the running Win32 service whose process is `pid`.
fn service_name(scm: &Handle, pid: u32) -> Option<String> {
    let mut buf: Vec<u64> = vec![0; 64 * 1024 / 8];
    for _ in 0..3 {
        let (mut needed, mut count, mut resume) = (0u32, 0u32, 0u32);
        let bytes = u32::try_from(buf.len() * 8).ok()?;
        // SAFETY: the buffer is `bytes` long and 8-aligned; the out-pointers are live locals.
        let ok = unsafe {
            EnumServicesStatusExW(
                scm.0,
                SC_ENUM_PROCESS_INFO,
                SERVICE_WIN32,
                SERVICE_ACTIVE,
                buf.as_mut_ptr().cast(),
                bytes,
                &mut needed,
                &mut count,
                &mut resume,
                std::ptr::null(),
            )
        };
        if ok == 0 && needed > bytes {
            buf = vec![0; (needed as usize).div_ceil(8) + 1];
            continue;
        }
        let entries: *const ENUM_SERVICE_STATUS_PROCESSW = buf.as_ptr().cast();
        for i in 0..count as usize {
            // SAFETY: the call wrote `count` entries at the start of the buffer, their strings
            // after them in the same buffer.
            let e = unsafe { &*entries.add(i) };
            if e.ServiceStatusProcess.dwProcessId == pid {
                // SAFETY: the service name is a NUL-terminated string in the buffer.
                return Some(unsafe { wide(e.lpServiceName) });
            }
        }
        return None;
    }
    None
}

/// Whether the service's failure actions restart it, and those actions in words.
fn failure_actions(scm: &Handle, name: &str) -> (Option<bool>, Option<String>) {
    let wname: Vec<u16> = name.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: `wname` is NUL-terminated and outlives the call.
    let svc = Handle(unsafe { OpenServiceW(scm.0, wname.as_ptr(), SERVICE_QUERY_CONFIG) });
    if svc.0.is_null() {
        return (None, None);
    }
    let mut buf: Vec<u64> = vec![0; 8 * 1024 / 8];
    let mut needed = 0u32;
    let Ok(bytes) = u32::try_from(buf.len() * 8) else { return (None, None) };
    // SAFETY: the buffer is `bytes` long and 8-aligned; `needed` is a live local.
    let ok = unsafe {
        QueryServiceConfig2W(svc.0, SERVICE_CONFIG_FAILURE_ACTIONS, buf.as_mut_ptr().cast(), bytes, &mut needed)
    };
    if ok == 0 {
        return (None, None);
    }
    // SAFETY: on success the buffer starts with a SERVICE_FAILURE_ACTIONSW.
    let fa = unsafe { &*buf.as_ptr().cast::<SERVICE_FAILURE_ACTIONSW>() };
    let actions: Vec<i32> = if fa.lpsaActions.is_null() {
        Vec::new()
    } else {
        // SAFETY: `cActions` actions at `lpsaActions`, within the same buffer.
        (0..fa.cActions as usize).map(|i| unsafe { (*fa.lpsaActions.add(i)).Type }).collect()
    };
    let words: Vec<&str> = actions
        .iter()
        .map(|&t| match t {
            SC_ACTION_RESTART => "restart",
            SC_ACTION_REBOOT => "reboot",
            SC_ACTION_RUN_COMMAND => "run a command",
            SC_ACTION_OWN_RESTART => "restart",
            _ => "none",
        })
        .collect();
    let restarts = actions.iter().any(|&t| t == SC_ACTION_RESTART || t == SC_ACTION_OWN_RESTART);
    let policy =
        if words.is_empty() { "no failure actions".to_string() } else { format!("on failure: {}", words.join(", ")) };
    (Some(restarts), Some(policy))
}
