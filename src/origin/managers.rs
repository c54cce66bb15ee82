//! Supervisors found in the ancestry, each from its own records: supervisord (the program's
//! name from the environment supervisord gives it, its policy from supervisord's configuration),
//! PM2 (the app from PM2's process list, `PM2_HOME/pids/NAME-ID.pid`, and the environment PM2
//! gives it), runit's `runsv` and s6's `s6-supervise` (the service directory on their command
//! line), and file watchers that start their command again (nodemon, `dotnet watch`,
//! cargo-watch, watchexec: recognised by their own command lines only).

use std::path::{Path, PathBuf};

use super::{Cause, Env, Kind, Restarts, args, program, quote};
use crate::model::Process;
use crate::sys;

/// The most of a configuration file read (supervisord's, an included one).
const CONFIG_LIMIT: u64 = 1 << 20;

/// The supervisor `anc` is, seen from `child` (the process right below it in the ancestry)
/// and the explained process's environment.
pub(super) fn classify(anc: &Process, child: &Process, env: Option<&Env>, unread: &mut Vec<String>) -> Option<Cause> {
    let prog = program(anc);
    let a = args(anc);
    // The program itself, or a Python interpreter running it (`python3 /usr/bin/supervisord`).
    let runs = |name: &str| {
        prog == name || (prog.starts_with("python") && a.get(1).is_some_and(|x| x.rsplit('/').next() == Some(name)))
    };
    if anc.name == "supervisord" || runs("supervisord") {
        return Some(supervisord(anc, child, env, unread));
    }
    if anc.name.starts_with("PM2 v") || a.first().is_some_and(|x| x.starts_with("PM2 v") && x.contains("God")) {
        return Some(pm2(anc, child, env, unread));
    }
    if anc.name == "runsv" {
        return Some(service_supervisor(anc, Kind::Runit, "runsv", "sv down"));
    }
    if anc.name == "s6-supervise" {
        return Some(service_supervisor(anc, Kind::S6, "s6-supervise", "s6-svc -d"));
    }
    watcher(anc)
}

/// runit's `runsv DIR` or s6's `s6-supervise DIR`: it starts the service in DIR again whenever
/// it exits; `down` (`sv down`, `s6-svc -d`) stops it for good.
fn service_supervisor(anc: &Process, kind: Kind, program: &str, down: &str) -> Cause {
    let dir = service_dir(anc);
    let name = dir.as_ref().map_or_else(String::new, |d| d.display().to_string());
    let mut c = Cause::new(kind, Some(anc.pid), name.clone(), format!("{program}'s command line"));
    c.restarts = Restarts::Yes;
    c.policy = Some(format!("{program} starts the service again whenever it exits"));
    // A directory that was not read, or not read exactly (not UTF-8), makes no command to
    // paste: it could name another directory.
    if dir.is_some() && !name.contains(char::REPLACEMENT_CHARACTER) {
        c.stop = Some(format!("{down} {}", quote(&name)));
    } else {
        c.detail =
            Some(format!("its service directory is not known exactly ({program}'s command line unread, or not UTF-8)"));
    }
    c
}

/// A supervisor's service directory: its argument, against its working directory; `None`
/// when its command line has none (or was not read).
fn service_dir(anc: &Process) -> Option<PathBuf> {
    let path = PathBuf::from(args(anc).get(1).filter(|a| !a.is_empty())?);
    Some(if path.is_absolute() { path } else { sys::read_cwd(anc.pid).map_or(path.clone(), |cwd| cwd.join(&path)) })
}

/// The value of a command-line option (`-c FILE`, `--configuration FILE`, `--configuration=FILE`).
fn option(a: &[String], short: &str, long: &str) -> Option<String> {
    for (i, x) in a.iter().enumerate() {
        if x == short || x == long {
            return a.get(i + 1).cloned();
        }
        if let Some(v) = x.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
            return Some(v.to_string());
        }
        if let Some(v) = x.strip_prefix(short).filter(|v| !v.is_empty() && !short.is_empty() && !x.starts_with("--")) {
            return Some(v.to_string());
        }
    }
    None
}

/// supervisord's configuration file: `-c`, else the first of the places it searches itself.
fn supervisord_conf(sup: &Process) -> Option<PathBuf> {
    let cwd = sys::read_cwd(sup.pid);
    if let Some(c) = option(args(sup), "-c", "--configuration") {
        let p = PathBuf::from(c);
        return Some(if p.is_absolute() { p } else { cwd.map_or(p.clone(), |d| d.join(&p)) });
    }
    let mut places: Vec<PathBuf> = Vec::new();
    if let Some(d) = &cwd {
        places.push(d.join("supervisord.conf"));
        places.push(d.join("etc/supervisord.conf"));
    }
    places.push("/etc/supervisord.conf".into());
    places.push("/etc/supervisor/supervisord.conf".into());
    places.into_iter().find(|p| p.is_file())
}

/// One section of an INI file: its name and its `(key, value)` lines, keys in lowercase.
type Section = (String, Vec<(String, String)>);

/// The sections of an INI file.
fn ini(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
        } else if let Some((k, v)) = line.split_once('=')
            && let Some(last) = out.last_mut()
        {
            // An inline comment starts with ` ;`.
            let v = v.split(" ;").next().unwrap_or(v);
            last.1.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// The files an `[include] files = ...` line names (globs with `*` in the file name only, as
/// the common `conf.d/*.conf`), relative to the including file's directory.
fn includes(conf: &Path, files: &str) -> Vec<PathBuf> {
    let base = conf.parent().unwrap_or(Path::new("/"));
    let mut out = Vec::new();
    for pat in files.split_whitespace() {
        let pat = base.join(pat);
        let name = pat.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some((pre, post)) = name.split_once('*') {
            let Some(dir) = pat.parent() else { continue };
            let Ok(rd) = std::fs::read_dir(dir) else { continue };
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .is_some_and(|n| n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(pat);
        }
    }
    out
}

/// Every `[program:NAME]` section of supervisord's configuration and its includes.
fn programs(conf: &Path) -> Option<Vec<Section>> {
    let text = sys::read_regular_file(conf, CONFIG_LIMIT)?;
    let mut sections = ini(&text);
    let extra: Vec<PathBuf> = sections
        .iter()
        .filter(|(s, _)| s == "include")
        .flat_map(|(_, kv)| kv.iter().filter(|(k, _)| k == "files").flat_map(|(_, v)| includes(conf, v)))
        .collect();
    for f in extra {
        if let Some(t) = sys::read_regular_file(&f, CONFIG_LIMIT) {
            sections.extend(ini(&t));
        }
    }
    Some(
        sections
            .into_iter()
            .filter_map(|(s, kv)| s.strip_prefix("program:").map(|n| (n.trim().to_string(), kv)))
            .collect(),
    )
}

/// supervisord: the program (from `SUPERVISOR_PROCESS_NAME`/`SUPERVISOR_GROUP_NAME`, or the
/// configuration's `command=` that is the child's command line), its `autorestart`, and
/// `supervisorctl -c CONF stop NAME`.
fn supervisord(sup: &Process, child: &Process, env: Option<&Env>, unread: &mut Vec<String>) -> Cause {
    let conf = supervisord_conf(sup);
    let progs = conf.as_deref().and_then(programs);
    if progs.is_none() {
        let which = conf.as_ref().map_or_else(|| "not found".to_string(), |c| format!("{} unreadable", c.display()));
        unread.push(format!("supervisord's configuration ({which}): its restart policy is unknown"));
    }
    let from_env = env.and_then(|e| e.get("SUPERVISOR_PROCESS_NAME").map(|p| (p, e.get("SUPERVISOR_GROUP_NAME"))));
    let (name, group, source) = match from_env {
        Some((p, g)) => (p.to_string(), g.unwrap_or(p).to_string(), "SUPERVISOR_PROCESS_NAME in its environment"),
        None => {
            let cmd = args(child).join(" ");
            let by_cmd = progs.iter().flatten().find(|(_, kv)| {
                kv.iter().any(|(k, v)| k == "command" && !cmd.is_empty() && (v == &cmd || v.ends_with(&cmd)))
            });
            match by_cmd {
                Some((n, _)) => (n.clone(), n.clone(), "the command= of its [program] section"),
                None => (String::new(), String::new(), "supervisord is an ancestor"),
            }
        }
    };
    let section = progs.iter().flatten().find(|(n, _)| n == &group).map(|(_, kv)| kv);
    let mut c = Cause::new(Kind::Supervisord, Some(sup.pid), name.clone(), source);
    if let Some(conf) = &conf {
        c.source = format!("{}, {}", c.source, conf.display());
    }
    let policy =
        section.map(|kv| kv.iter().find(|(k, _)| k == "autorestart").map_or("unexpected", |(_, v)| v.as_str()));
    (c.restarts, c.policy) = match policy.map(str::to_ascii_lowercase).as_deref() {
        Some("true") => (Restarts::Yes, Some("autorestart=true".to_string())),
        Some("false") => (Restarts::No, Some("autorestart=false".to_string())),
        Some("unexpected") => (
            Restarts::Yes,
            Some(
                "autorestart=unexpected (the default): it restarts after an exit it did not expect, a signal included"
                    .into(),
            ),
        ),
        Some(other) => (Restarts::Unknown, Some(format!("autorestart={other}"))),
        None => (Restarts::Unknown, None),
    };
    if !name.is_empty() {
        let target = quote(&if group != name { format!("{group}:{name}") } else { name });
        c.stop = Some(match &conf {
            Some(conf) => format!("supervisorctl -c {} stop {target}", quote(&conf.display().to_string())),
            None => format!("supervisorctl stop {target}"),
        });
    }
    c
}

/// PM2's God daemon: PM2_HOME from its command line (`PM2 v5.4.2: God Daemon (/root/.pm2)`),
/// the app from `PM2_HOME/pids/NAME-ID.pid` holding the child's pid (PM2's own process list on
/// disk), `autorestart` and the restart count from the environment PM2 gives the app.
fn pm2(god: &Process, child: &Process, env: Option<&Env>, unread: &mut Vec<String>) -> Cause {
    let title = args(god).join(" ");
    let home = title
        .rfind('(')
        .and_then(|at| title[at + 1..].strip_suffix(')'))
        .map(PathBuf::from)
        .or_else(|| env.and_then(|e| e.get("PM2_HOME")).map(PathBuf::from));
    let mut from_list = None;
    if let Some(h) = &home {
        match std::fs::read_dir(h.join("pids")) {
            Ok(rd) => {
                for e in rd.filter_map(|e| e.ok()) {
                    let file = e.file_name().to_string_lossy().into_owned();
                    let Some(stem) = file.strip_suffix(".pid") else { continue };
                    let held = sys::read_regular_file(&e.path(), 64).and_then(|t| t.trim().parse::<u32>().ok());
                    if held == Some(child.pid)
                        && let Some((name, id)) = stem.rsplit_once('-')
                    {
                        from_list = Some((name.to_string(), id.to_string()));
                        break;
                    }
                }
            }
            Err(_) => unread.push(format!("PM2's process list ({}): not readable", h.join("pids").display())),
        }
    }
    let env_name = env.and_then(|e| e.get("name")).filter(|_| env.is_some_and(|e| e.get("pm_id").is_some()));
    let (name, source) = match (&from_list, env_name) {
        (Some((n, _)), _) => (n.clone(), "PM2's process list (PM2_HOME/pids)"),
        (None, Some(n)) => (n.to_string(), "PM2's variables in its environment"),
        (None, None) => (String::new(), "PM2's God daemon is an ancestor"),
    };
    let mut c = Cause::new(Kind::Pm2, Some(god.pid), name.clone(), source);
    if let Some(h) = &home {
        c.detail = Some(format!("PM2_HOME {}", h.display()));
    }
    (c.restarts, c.policy) = match env.and_then(|e| e.get("autorestart")) {
        Some("true") => (Restarts::Yes, Some("autorestart=true".into())),
        Some("false") => (Restarts::No, Some("autorestart=false".into())),
        _ => (Restarts::Unknown, None),
    };
    c.restart_count = env.and_then(|e| e.get("restart_time")).and_then(|v| v.parse().ok());
    if !name.is_empty() {
        let prefix = match &home {
            Some(h) if !h.ends_with(".pm2") => format!("PM2_HOME={} ", quote(&h.display().to_string())),
            _ => String::new(),
        };
        c.stop = Some(format!("{prefix}pm2 stop {}", quote(&name)));
    }
    c
}

/// A file watcher that starts its command again when a watched file changes.
fn watcher(anc: &Process) -> Option<Cause> {
    let a = args(anc);
    let prog = program(anc);
    let arg1 = a.get(1).map_or("", String::as_str);
    let base1 = arg1.rsplit('/').next().unwrap_or(arg1);
    // The program itself, or the script its runtime runs (`node .../nodemon/bin/nodemon.js`):
    // an argument further on that merely mentions a watcher (`grep nodemon`) is not one.
    let node = matches!(prog.as_str(), "node" | "nodejs");
    let name = if prog == "nodemon" || (node && matches!(base1, "nodemon" | "nodemon.js")) {
        "nodemon"
    } else if prog == "cargo-watch" || (prog == "cargo" && arg1 == "watch") {
        "cargo-watch"
    } else if prog == "watchexec" {
        "watchexec"
    } else if prog == "dotnet-watch" || (prog == "dotnet" && (arg1 == "watch" || base1 == "dotnet-watch.dll")) {
        "dotnet watch"
    } else {
        return None;
    };
    let mut c = Cause::new(Kind::Watcher, Some(anc.pid), name, "the watcher's command line");
    c.restarts = Restarts::Unknown;
    c.policy = Some("it starts its command again when a watched file changes".into());
    c.stop = Some(format!("reaper kill --pid {}", anc.pid));
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::super::made::{PID, lossy, process};
    use super::*;

    /// What `classify` makes of ancestor `argv` (its kernel name `comm`), seen from a child.
    fn seen(comm: &str, argv: &[&str]) -> Option<Cause> {
        let mut anc = process(PID, 1, argv);
        anc.name = comm.to_string();
        let child = process(PID + 1, PID, &["python3", "-m", "http.server"]);
        let mut unread = Vec::new();
        let c = classify(&anc, &child, None, &mut unread);
        assert!(unread.is_empty(), "{unread:?}");
        c
    }

    #[test]
    fn runsv_and_s6_supervise_restart_their_service() {
        let c = seen("runsv", &["runsv", "/etc/service/web"]).unwrap();
        assert_eq!((c.kind, c.pid, c.name.as_str()), (Kind::Runit, Some(PID), "/etc/service/web"));
        assert_eq!((c.restarts, c.stop.as_deref()), (Restarts::Yes, Some("sv down /etc/service/web")));
        let c = seen("s6-supervise", &["s6-supervise", "/run/service/db"]).unwrap();
        assert_eq!((c.kind, c.name.as_str()), (Kind::S6, "/run/service/db"));
        assert_eq!((c.restarts, c.stop.as_deref()), (Restarts::Yes, Some("s6-svc -d /run/service/db")));
        // runsvdir starts runsv in the services' directory with a relative name; this made-up
        // process has no working directory to read, so the name stays relative.
        assert_eq!(seen("runsv", &["runsv", "web"]).unwrap().stop.as_deref(), Some("sv down web"));
        // A directory a process chose is quoted for the shell.
        let c = seen("runsv", &["runsv", "/srv/x; rm -rf ~"]).unwrap();
        assert_eq!(c.stop.as_deref(), Some("sv down '/srv/x; rm -rf ~'"));
    }

    #[test]
    fn a_service_directory_not_read_exactly_makes_no_stop_command() {
        // The command line not read (another user's, a zombie): it still restarts the service,
        // but which directory is not known.
        for argv in [&[][..], &["runsv"][..], &["runsv", ""][..]] {
            let c = seen("runsv", argv).unwrap();
            assert_eq!(
                (c.kind, c.restarts, c.stop.as_deref(), c.name.as_str()),
                (Kind::Runit, Restarts::Yes, None, "")
            );
            assert!(c.detail.is_some_and(|d| d.contains("not known exactly")));
        }
        // Not UTF-8: the directory as read is not the one on disk.
        let dir = lossy(b"/etc/service/w\xffeb");
        let c = seen("s6-supervise", &["s6-supervise", &dir]).unwrap();
        assert_eq!((c.kind, c.restarts, c.stop), (Kind::S6, Restarts::Yes, None));
    }

    #[test]
    fn watchers_by_their_own_command_lines() {
        let cases: [(&[&str], &str); 9] = [
            (&["node", "/usr/lib/node_modules/nodemon/bin/nodemon.js", "server.js"], "nodemon"),
            (&["node", "/home/a/app/node_modules/.bin/nodemon", "--watch", "src"], "nodemon"),
            (&["/usr/local/bin/nodemon", "app.js"], "nodemon"),
            (&["cargo", "watch", "-x", "run"], "cargo-watch"),
            (&["/root/.cargo/bin/cargo-watch", "watch", "-x", "run"], "cargo-watch"),
            (&["watchexec", "-r", "--", "cargo", "run"], "watchexec"),
            (&["dotnet", "watch", "run"], "dotnet watch"),
            (
                &[
                    "/usr/share/dotnet/dotnet",
                    "/usr/share/dotnet/sdk/8.0.100/DotnetTools/dotnet-watch/8.0.100/tools/net8.0/any/dotnet-watch.dll",
                    "run",
                ],
                "dotnet watch",
            ),
            (&["dotnet-watch", "run"], "dotnet watch"),
        ];
        for (argv, name) in cases {
            let comm = argv[0].rsplit('/').next().unwrap_or_default();
            let c = seen(comm, argv).unwrap_or_else(|| panic!("{argv:?} is {name}"));
            assert_eq!((c.kind, c.name.as_str(), c.pid), (Kind::Watcher, name, Some(PID)), "{argv:?}");
            // It starts the command again on the next change of a file, not on exit: unknown.
            assert_eq!(c.restarts, Restarts::Unknown, "{argv:?}");
            assert_eq!(c.stop, Some(format!("reaper kill --pid {PID}")), "{argv:?}");
        }
    }

    #[test]
    fn a_mention_of_a_watcher_is_not_one() {
        let not: [&[&str]; 9] = [
            &["grep", "nodemon", "package.json"],
            &["node", "server.js", "--title", "nodemon"],
            &["node", "/srv/app/not-nodemon.js"],
            &["cargo", "run", "--", "watch"],
            &["cargo", "build"],
            &["less", "/usr/share/dotnet/sdk/dotnet-watch.dll"],
            &["dotnet", "run", "watch"],
            &["bash", "-c", "watchexec -r make"],
            &["python3", "-m", "http.server"],
        ];
        for argv in not {
            let comm = argv[0].rsplit('/').next().unwrap_or_default();
            assert_eq!(seen(comm, argv), None, "{argv:?}");
        }
        // Hostile bytes: arguments that are not UTF-8, a command line not read at all.
        let garbled = lossy(b"nodemon\xff");
        assert_eq!(seen("node", &["node", &garbled, "app.js"]), None);
        assert_eq!(seen(&lossy(b"watch\xfeexec"), &[&lossy(b"watch\xfeexec"), "-r"]), None);
        assert_eq!(seen("node", &[]), None);
    }

    #[test]
    fn ini_sections_and_includes() {
        let s = ini(
            "[supervisord]\nlogfile=/x ; comment\n[program:web]\ncommand = python3 -m http.server 8000\nautorestart=true\n",
        );
        assert_eq!(s[0].1, [("logfile".to_string(), "/x".to_string())]);
        assert_eq!(s[1].0, "program:web");
        assert!(s[1].1.contains(&("autorestart".into(), "true".into())));
        let dir = std::env::temp_dir().join(format!("reaper-ini-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "[program:a]\ncommand=a\n").unwrap();
        std::fs::write(dir.join("conf.d/b.txt"), "[program:b]\n").unwrap();
        std::fs::write(dir.join("main.conf"), "[include]\nfiles = conf.d/*.conf\n").unwrap();
        let p = programs(&dir.join("main.conf")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(p.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn options_in_every_spelling() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(option(&v(&["supervisord", "-c", "/a.conf"]), "-c", "--configuration").as_deref(), Some("/a.conf"));
        assert_eq!(option(&v(&["s", "--configuration=/b"]), "-c", "--configuration").as_deref(), Some("/b"));
        assert_eq!(option(&v(&["s", "-c/c"]), "-c", "--configuration").as_deref(), Some("/c"));
        assert_eq!(option(&v(&["s", "-n"]), "-c", "--configuration"), None);
    }
}
