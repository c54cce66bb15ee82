//! Provenance: where a process comes from, who will start it again when it ends, and the right
//! way to stop it (`reaper why`, the `origin` of `list --format json`, and the check `kill`
//! makes before it signals).
//!
//! The data flow is the crate's: a [`Snapshot`] (the process, its ancestors, their command
//! lines) and the system's own records, read through the platform layer, in; a plain
//! [`Origin`] out. Each cause comes from a record that names it, never from a name alone where
//! a record exists:
//!
//! - the ancestry (`managers`: supervisord, PM2, runit's `runsv`, s6's `s6-supervise`, file
//!   watchers; `sessions`: tmux, screen, sshd, an interactive shell on a terminal, cron, atd, the
//!   parent that is none of those);
//! - the environment the process inherited (supervisord's `SUPERVISOR_PROCESS_NAME`, PM2's
//!   `name` and `autorestart`, `TMUX`, `STY`, `SSH_CONNECTION`, a CI job's marker);
//! - the cgroup (`units`: a systemd unit, system or user, and a container, as the CONTAINER
//!   column reads it), with the restart policy from systemd (`systemctl show`, only when systemd
//!   runs) and from the container engine's API socket (only when one answers);
//! - the supervisors' own files: supervisord's configuration, PM2's process list
//!   (`PM2_HOME/pids`);
//! - on macOS and Windows, the platform's service manager (launchd jobs, Windows services).
//!
//! What could not be read (another user's environment, an unreadable configuration) is listed
//! in [`Origin::unread`], never taken as "not there". Provenance is advice: the safety rails
//! decide what may be signalled, never this module.

mod managers;
mod sessions;
mod units;

use serde::Serialize;

use crate::model::Process;
use crate::snapshot::Snapshot;
use crate::sys;

/// What kind of cause a [`Cause`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A systemd service (system or user), from the cgroup.
    SystemdUnit,
    /// A systemd scope or login session (no restarts), from the cgroup.
    SystemdScope,
    /// A container (Docker, Podman, containerd, CRI-O, a Kubernetes pod), from the cgroup.
    Container,
    /// supervisord.
    Supervisord,
    /// PM2's God daemon.
    Pm2,
    /// runit's `runsv`.
    Runit,
    /// s6's `s6-supervise`.
    S6,
    /// A file watcher that starts its command again (nodemon, `dotnet watch`, cargo-watch,
    /// watchexec).
    Watcher,
    /// A launchd job (macOS).
    Launchd,
    /// A Windows service.
    WindowsService,
    /// A tmux session.
    Tmux,
    /// A GNU screen session.
    Screen,
    /// An ssh login.
    Ssh,
    /// An interactive shell on a terminal.
    Shell,
    /// cron.
    Cron,
    /// at/batch.
    At,
    /// A CI job (its marker variable in the environment).
    Ci,
    /// A desktop app that started it (the parent, in a graphical session).
    App,
    /// The parent, when it is none of the above.
    Parent,
    /// PID 1: the init of this PID namespace (or what adopted an orphan).
    Init,
    /// The kernel (kernel threads).
    Kernel,
}

/// Whether something starts the process again when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Restarts {
    /// Yes: its policy, as recorded, restarts it.
    Yes,
    /// No.
    No,
    /// Cannot be told from what could be read (a policy not readable, systemd not running, a
    /// parent that may or may not loop).
    Unknown,
}

impl Restarts {
    /// `yes`, `no`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Restarts::Yes => "yes",
            Restarts::No => "no",
            Restarts::Unknown => "unknown",
        }
    }
}

/// One link of the chain that explains a process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// What it is.
    pub kind: Kind,
    /// The process that is this cause (the supervisor, the shell, the tmux server), when one is.
    pub pid: Option<u32>,
    /// Its name: the unit, the program, the app, the session, the container.
    pub name: String,
    /// More about it, for people (`window 1 (vite)`, `from 192.0.2.7`, `on pts/3`).
    pub detail: Option<String>,
    /// Whether it starts the process again.
    pub restarts: Restarts,
    /// The restart policy as the cause spells it (`autorestart=true`, `Restart=always`).
    pub policy: Option<String>,
    /// How many times it restarted it, where recorded.
    pub restart_count: Option<u64>,
    /// The command that stops it the right way, when a signal is not.
    pub stop: Option<String>,
    /// Where this was read.
    pub source: String,
}

impl Cause {
    fn new(kind: Kind, pid: Option<u32>, name: impl Into<String>, source: impl Into<String>) -> Cause {
        Cause {
            kind,
            pid,
            name: name.into(),
            detail: None,
            restarts: Restarts::No,
            policy: None,
            restart_count: None,
            stop: None,
            source: source.into(),
        }
    }

    /// `supervisord (pid 812) program web`: who it is, in a few words.
    pub fn label(&self) -> String {
        let what = match self.kind {
            Kind::SystemdUnit => "systemd unit",
            Kind::SystemdScope => "systemd scope",
            Kind::Container => "container",
            Kind::Supervisord => "supervisord",
            Kind::Pm2 => "PM2",
            Kind::Runit => "runit",
            Kind::S6 => "s6",
            Kind::Watcher => "watcher",
            Kind::Launchd => "launchd job",
            Kind::WindowsService => "Windows service",
            Kind::Tmux => "tmux",
            Kind::Screen => "screen",
            Kind::Ssh => "ssh session",
            Kind::Shell => "interactive shell",
            Kind::Cron => "cron",
            Kind::At => "at",
            Kind::Ci => "CI job",
            Kind::App => "desktop app",
            Kind::Parent => "parent",
            Kind::Init => "init",
            Kind::Kernel => "kernel",
        };
        let pid = self.pid.map_or_else(String::new, |p| format!(" (pid {p})"));
        let name = match self.kind {
            Kind::Supervisord | Kind::Pm2 => format!(" program {}", self.name),
            Kind::Tmux | Kind::Screen => format!(" session {}", self.name),
            _ if self.name.is_empty() => String::new(),
            _ => format!(" {}", self.name),
        };
        format!("{what}{pid}{name}")
    }
}

/// Where a process comes from: its chain of causes, nearest first, and what follows for
/// stopping it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The causes, from the nearest outward.
    pub chain: Vec<Cause>,
    /// Whether something starts it again when it ends: the nearest cause's answer that is not
    /// `no`.
    pub restarts: Restarts,
    /// Who starts it again ([`Cause::label`]), when something does or may.
    pub restarted_by: Option<String>,
    /// The right way to stop it, when a signal is not: the nearest cause's stop command.
    pub stop: Option<String>,
    /// Records that could not be read (the chain may be incomplete there).
    pub unread: Vec<String>,
}

impl Origin {
    /// The nearest cause that starts the process again (`restarts: yes`).
    pub fn restarter(&self) -> Option<&Cause> {
        self.chain.iter().find(|c| c.restarts == Restarts::Yes)
    }

    fn finish(chain: Vec<Cause>, unread: Vec<String>) -> Origin {
        let by = chain
            .iter()
            .find(|c| c.restarts == Restarts::Yes)
            .or_else(|| chain.iter().find(|c| c.restarts == Restarts::Unknown && c.kind != Kind::Parent));
        let restarts = match by {
            Some(c) => c.restarts,
            None if chain.iter().any(|c| c.restarts == Restarts::Unknown) => Restarts::Unknown,
            None => Restarts::No,
        };
        let stop = chain.iter().find_map(|c| c.stop.clone());
        Origin { restarts, restarted_by: by.map(Cause::label), stop, chain, unread }
    }
}

/// The environment of a process, as `NAME=VALUE` entries.
pub(crate) struct Env(Vec<String>);

impl Env {
    /// The value of `name`, when set.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
    }
}

/// `s` as one word of a POSIX shell command line: as it is when it holds only characters no
/// shell gives a meaning to, else in single quotes. A stop command is meant to be pasted into a
/// shell, and the names in it (a program's, a unit's, a path) are chosen by whoever started
/// the process.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

/// The file name of a process's argv[0] (a login shell's leading `-` dropped), or its kernel
/// name.
pub(crate) fn program(p: &Process) -> String {
    let arg0 = p.cmdline.as_ref().and_then(|a| a.first()).map(String::as_str).unwrap_or("");
    let base = arg0.rsplit('/').next().unwrap_or(arg0).trim_start_matches('-');
    if base.is_empty() { p.name.clone() } else { base.to_string() }
}

/// The arguments of a process (empty when not read).
pub(crate) fn args(p: &Process) -> &[String] {
    p.cmdline.as_deref().unwrap_or_default()
}

/// Explains process `pid`: loads what it needs into `snap` (the process, its ancestors, their
/// command lines) and reads the records named in the module documentation. `None` when the
/// process does not exist (or is not visible).
pub fn explain(snap: &mut Snapshot, pid: u32) -> Option<Origin> {
    snap.load_processes([pid]);
    let p = snap.process(pid)?.clone();
    if pid == 1 {
        let mut c = Cause::new(Kind::Init, Some(1), p.name.clone(), "the kernel starts PID 1");
        c.detail = Some("the init of this PID namespace, started by the kernel; nothing restarts it".into());
        return Some(Origin::finish(vec![c], Vec::new()));
    }
    if p.kernel_thread {
        let mut c = Cause::new(Kind::Kernel, None, p.name.clone(), "/proc/PID/stat (PF_KTHREAD)");
        c.detail = Some("a kernel thread: the kernel runs it, no process started it".into());
        return Some(Origin::finish(vec![c], Vec::new()));
    }
    snap.load_ancestors(&[pid]);
    let ancestors = snap.ancestors(pid);
    let mut wanted = ancestors.clone();
    wanted.push(pid);
    snap.load_details(wanted);

    let mut unread = Vec::new();
    let env = match sys::read_environ(pid) {
        Some(e) => Some(Env(e)),
        None => {
            if !p.is_zombie() && snap.process(pid).is_some() {
                unread.push(format!(
                    "its environment (/proc/{pid}/environ): not readable as this user (supervisor, tmux, ssh and CI markers are read there)"
                ));
            }
            None
        }
    };
    let mut chain: Vec<Cause> = Vec::new();
    let mut child = p.clone();
    for (i, &a) in ancestors.iter().enumerate() {
        let Some(anc) = snap.process(a).cloned() else { break };
        if anc.pid == 1 {
            break;
        }
        let found = managers::classify(&anc, &child, env.as_ref(), &mut unread)
            .or_else(|| sessions::classify(&anc, env.as_ref()));
        match found {
            Some(c) if chain.iter().any(|x| x.kind == c.kind && is_session(c.kind)) => {}
            Some(c) => chain.push(c),
            None if i == 0 => chain.push(sessions::parent(&anc, env.as_ref())),
            None => {}
        }
        child = anc;
    }
    if let Some(env) = &env {
        chain.extend(sessions::from_environment(env, &chain));
    }
    if let Some(cgroup) = sys::read_cgroup_file(pid) {
        chain.extend(units::from_cgroup(snap, pid, &cgroup));
    }
    if let Some(s) = sys::service_of(pid) {
        chain.push(units::platform_service(s));
    }
    if p.ppid == 1 {
        let name = snap.process(1).map_or_else(|| "init".to_string(), |i| i.name.clone());
        let mut c = Cause::new(Kind::Init, Some(1), name, "its parent pid is 1");
        c.detail = Some("reparented to PID 1: whatever started it has exited (an orphan)".into());
        chain.push(c);
    }
    Some(Origin::finish(chain, unread))
}

/// Kinds of which only the nearest counts (an ssh login inside an ssh login is one story).
fn is_session(k: Kind) -> bool {
    matches!(k, Kind::Shell | Kind::Ssh | Kind::Tmux | Kind::Screen)
}

/// Whether `p` is an interactive shell on a terminal: a shell program with no script or `-c`
/// to run, and a controlling terminal. Such a parent waits for its job; it never starts it
/// again, so a kill of its child needs no settle wait.
pub fn is_interactive_shell(p: &Process) -> bool {
    sessions::interactive_tty(p).is_some()
}

/// Made-up processes and environments for the unit tests of provenance's sources.
#[cfg(test)]
mod made {
    use super::Env;
    use crate::model::Process;
    use crate::sys::ProcessTable;
    use crate::sys::fake::World;

    /// The first pid of made-up processes: above Linux's largest (`PID_MAX_LIMIT`, 2^22), so
    /// what a source reads of one from the system (its terminal, its working directory) finds
    /// nothing.
    pub const PID: u32 = 5_000_000;

    /// Process `pid`, child of `ppid`, running `argv` (named after argv[0]), as the fake world's
    /// table reads it.
    pub fn process(pid: u32, ppid: u32, argv: &[&str]) -> Process {
        let mut w = World::default();
        w.spawn(pid, ppid, argv);
        with(&w, pid)
    }

    /// Process `pid` of `w`, with its command line and executable.
    pub fn with(w: &World, pid: u32) -> Process {
        let mut p = w.read_process(pid).unwrap_or_else(|| panic!("no made-up process {pid}"));
        p.cmdline = w.read_cmdline(pid);
        p.exe = w.read_exe(pid);
        p
    }

    /// An environment of `NAME=VALUE` entries.
    pub fn env(entries: &[&str]) -> Env {
        Env(entries.iter().map(|e| e.to_string()).collect())
    }

    /// `bytes` as the platform reads an argument or an environment entry that is not UTF-8.
    pub fn lossy(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(kind: Kind, restarts: Restarts, stop: Option<&str>) -> Cause {
        Cause { restarts, stop: stop.map(str::to_string), ..Cause::new(kind, Some(7), "x", "test") }
    }

    #[test]
    fn stop_commands_quote_what_a_process_chose() {
        assert_eq!(quote("web-1:api_2"), "web-1:api_2");
        assert_eq!(quote("/etc/supervisor/supervisord.conf"), "/etc/supervisor/supervisord.conf");
        assert_eq!(quote("x; rm -rf ~"), "'x; rm -rf ~'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn the_nearest_restarter_and_stop_command_win() {
        let o = Origin::finish(
            vec![
                cause(Kind::Shell, Restarts::No, None),
                cause(Kind::Supervisord, Restarts::Yes, Some("supervisorctl stop x")),
                cause(Kind::SystemdUnit, Restarts::Unknown, Some("systemctl stop s.service")),
            ],
            Vec::new(),
        );
        assert_eq!(o.restarts, Restarts::Yes);
        assert_eq!(o.restarted_by.as_deref(), Some("supervisord (pid 7) program x"));
        assert_eq!(o.stop.as_deref(), Some("supervisorctl stop x"));
        let o = Origin::finish(vec![cause(Kind::Shell, Restarts::No, None)], Vec::new());
        assert_eq!((o.restarts, o.restarted_by, o.stop), (Restarts::No, None, None));
        // A unit whose policy is not known: it may restart, and it is the way to stop.
        let o = Origin::finish(vec![cause(Kind::SystemdUnit, Restarts::Unknown, Some("systemctl stop a"))], Vec::new());
        assert_eq!(o.restarts, Restarts::Unknown);
        assert!(o.restarter().is_none());
    }
}
