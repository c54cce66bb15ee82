//! The generated documentation: the committed completions and man page match what the binary
//! generates from its one clap definition, each completion file works in its shell, the man page
//! renders, and `--help` shows examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

const REFRESH: &str = "scripts/gen-docs.sh";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Fails when `file` differs from `reaper generate target`, naming the command that refreshes it.
#[track_caller]
fn assert_fresh(target: &str, file: &str) {
    let run = reaper(&["generate", target]);
    run.expect(0);
    let want = run.stdout();
    let have = std::fs::read_to_string(repo(file))
        .unwrap_or_else(|e| panic!("{file} is missing ({e}): run {REFRESH} to create it"));
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(have.lines().count().min(want.lines().count()));
        panic!(
            "{file} is out of date with the CLI definition (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\nrefresh it with `{REFRESH}` (or `cargo run -- generate {target} > {file}`)",
            line + 1,
            have.lines().nth(line).unwrap_or("<end of file>"),
            want.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn bash_completions_are_fresh() {
    assert_fresh("bash", "completions/reaper.bash");
}

#[test]
fn zsh_completions_are_fresh() {
    assert_fresh("zsh", "completions/_reaper");
}

#[test]
fn fish_completions_are_fresh() {
    assert_fresh("fish", "completions/reaper.fish");
}

#[test]
fn powershell_completions_are_fresh() {
    assert_fresh("powershell", "completions/_reaper.ps1");
}

#[test]
fn elvish_completions_are_fresh() {
    assert_fresh("elvish", "completions/reaper.elv");
}

#[test]
fn man_page_is_fresh() {
    assert_fresh("man", "man/reaper.1");
}

#[test]
fn generate_rejects_an_unknown_target() {
    let run = reaper(&["generate", "tcsh"]);
    run.expect(2);
    assert!(run.stderr().contains("tcsh"), "{}", run.stderr());
    assert!(run.stdout().is_empty());
}

#[test]
fn generate_is_hidden_from_help() {
    let help = reaper(&["--help"]).expect(0).stdout();
    assert!(!help.contains("generate"), "{help}");
    assert!(help.contains("kill"), "{help}");
}

/// Runs a shell command line, with stdin closed; returns stdout, panicking with everything on
/// a failure.
#[track_caller]
fn shell(program: &str, args: &[&str]) -> String {
    shell_path(program, args, None)
}

/// [`shell`] with `bin` first on PATH (where the completion scripts find `reaper`).
#[track_caller]
fn shell_path(program: &str, args: &[&str], bin: Option<&Path>) -> String {
    let mut cmd = Command::new(program);
    if let Some(bin) = bin {
        cmd.env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let out = cmd
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    stdout.into_owned()
}

#[test]
fn bash_completes_ki_to_kill() {
    if !have("bash") {
        return;
    }
    // Load the file as a user would, ask bash which function it registered for `reaper`, and
    // call it the way programmable completion does.
    let script = r#"
        source completions/reaper.bash || exit 3
        spec=$(complete -p reaper) || exit 4
        fn=$(printf '%s\n' "$spec" | sed -n 's/.*-F \([^ ]*\).*/\1/p')
        complete_line() {
            COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<<"$COMP_LINE"
            [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
            "$fn" reaper "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\n' "${COMPREPLY[@]}"
        }
        complete_line 'reaper ki'
        echo --
        complete_line 'reaper kill --dry'
        echo --
        complete_line 'reaper kill --signal TE'
        echo --
        complete_line 'reaper kill --signal '
    "#;
    let out = shell("bash", &["--norc", "--noprofile", "-c", script]);
    let answers: Vec<Vec<&str>> = out.split("--\n").map(|a| a.lines().collect()).collect();
    assert_eq!(answers.len(), 4, "four answers expected: {out:?}");
    assert_eq!(answers[0], ["kill"], "{out}");
    assert_eq!(answers[1], ["--dry-run"], "{out}");
    // Regression: `--signal <TAB>` completed file names.
    assert_eq!(answers[2], ["TERM"], "{out}");
    for sig in ["HUP", "INT", "KILL", "TERM", "USR1"] {
        assert!(answers[3].contains(&sig), "{sig} is not offered: {out}");
    }
}

#[test]
fn fish_completes_ki_to_kill() {
    if !have("fish") {
        return;
    }
    let out = shell(
        "fish",
        &[
            "--no-config",
            "-c",
            "source completions/reaper.fish; or exit 3; complete -C 'reaper ki'; echo ==; complete -C 'reaper kill --dry'",
        ],
    );
    let (sub, flag) = out.split_once("==\n").unwrap_or_else(|| panic!("two answers expected: {out:?}"));
    let names = |s: &str| s.lines().map(|l| l.split('\t').next().unwrap_or("").to_string()).collect::<Vec<_>>();
    assert_eq!(names(sub), ["kill"], "{out}");
    assert_eq!(names(flag), ["--dry-run"], "{out}");
    assert!(sub.contains("End matching processes"), "the description comes along: {out}");
}

#[test]
fn zsh_completes_ki_to_kill() {
    if !have("zsh") {
        return;
    }
    // zsh completes only inside its line editor, so drive an interactive zsh through a
    // pseudo-terminal (zpty): type `reaper ki`, press Tab, then a key bound to a widget that
    // writes the edited line to a file.
    let dir = std::env::temp_dir().join(token("zsh"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let result = dir.join("buffer");
    let script = r#"
        zmodload zsh/zpty || exit 3
        out=$1; fdir=$2
        zpty z zsh -f -i
        zpty -w z "PS1=''; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
        zpty -w z "dump() { print -r -- \"<\$BUFFER>\" > ${(q)out}; BUFFER='' }; zle -N dump; bindkey '^X' dump"
        zpty -w -n z $'reaper ki\t\C-x'
        for i in {1..400}; do [[ -s $out ]] && break; sleep 0.05; done
        zpty -d z
        cat $out 2>/dev/null || echo 'no answer within 20s'
    "#;
    let completions = repo("completions");
    let out = shell(
        "zsh",
        &["-f", "-c", script, "zsh", result.to_str().expect("utf-8 path"), completions.to_str().expect("utf-8 path")],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.trim(), "<reaper kill >", "zsh did not complete `reaper ki`: {out}");
}

#[test]
fn man_page_renders_with_every_section() {
    let page = repo("man/reaper.1");
    let page = page.to_str().expect("utf-8 path");
    // man-db where it is installed; groff or mandoc directly otherwise.
    let text = if have("man") {
        let out = Command::new("man")
            .args(["-l", page])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C.UTF-8")
            .stderr(Stdio::piped())
            .output()
            .expect("running man");
        assert!(out.status.success(), "man -l {page} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else if have("groff") {
        shell("groff", &["-man", "-Tutf8", page])
    } else if have("mandoc") {
        shell("mandoc", &["-Tutf8", page])
    } else {
        // `have` has failed the test under CI=true already; here, say why it skips.
        skip("neither man, groff nor mandoc is installed");
        return;
    };
    // Strip overstrike bold/underline (`X\bX`, `_\bX`) that groff emits without a pager.
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    for want in [
        "NAME",
        "SYNOPSIS",
        "COMMANDS",
        "reaper list",
        "reaper tree",
        "reaper kill",
        "reaper run",
        "reaper wait",
        "EXIT STATUS",
        "SAFETY",
        "EXAMPLES",
        "NO_COLOR",
        "--dry-run",
        "Kill sequence",
    ] {
        assert!(plain.contains(want), "the rendered man page lacks {want:?}:\n{plain}");
    }
    assert!(!plain.contains("generate"), "the hidden subcommand leaked into the man page");
    // groff's own checker: no warnings at all (unknown macros, bad escapes, ...).
    if have("groff") {
        let out = Command::new("groff").args(["-man", "-Tutf8", "-ww", "-z", page]).output().expect("running groff");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && warnings.trim().is_empty(), "groff warns about {page}:\n{warnings}");
    }
}

#[test]
fn every_subcommand_help_shows_examples() {
    for sub in ["list", "tree", "kill", "run", "wait", "pick"] {
        let help = reaper(&[sub, "--help"]).expect(0).stdout();
        let examples = help
            .split_once("Examples:")
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("reaper {sub} --help has no examples:\n{help}"));
        assert!(
            examples.contains(&format!("reaper {sub} ")),
            "reaper {sub} --help: examples of another command:\n{examples}"
        );
    }
    let top = reaper(&["--help"]).expect(0).stdout();
    assert!(top.contains("Examples:"), "{top}");
}

// The README's excerpts of the example apps (a code block right after a line
// `<!-- excerpt: PATH -->`) are not compiled with the README: each must be the file's code,
// verbatim, so that the recipe the README shows is the one the example builds and CI runs.
#[test]
fn readme_excerpts_are_the_examples_code() {
    let readme = std::fs::read_to_string(repo("README.md")).expect("reading README.md");
    let mut lines = readme.lines();
    let mut checked = 0;
    while let Some(line) = lines.next() {
        let Some(path) = line.trim().strip_prefix("<!-- excerpt: ").and_then(|l| l.strip_suffix(" -->")) else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```"), "README: `{line}` is not followed by a code block");
        let block: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let source = std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("README excerpt of {path}: {e}"));
        let excerpt = block.join("\n") + "\n";
        assert!(
            source.contains(&excerpt),
            "README's excerpt of {path} is not verbatim in that file (copy it again):\n{excerpt}"
        );
        checked += 1;
    }
    assert!(checked > 0, "README has no excerpt of the Tauri example (<!-- excerpt: PATH --> before a code block)");
}

#[test]
fn readme_picker_keys_are_the_generated_table() {
    // One source: the table `pick --help` and the man page print is the README's.
    let run = reaper(&["generate", "markdown-keys"]);
    run.expect(0);
    let table = run.stdout();
    let readme = std::fs::read_to_string(repo("README.md")).expect("README.md");
    assert!(readme.contains(&table), "README.md's picker keys differ from `reaper generate markdown-keys`:\n{table}");
    let man = reaper(&["generate", "man"]).expect(0).stdout();
    let help = reaper(&["pick", "--help"]).expect(0).stdout();
    for line in table.lines().skip(2) {
        let key = line.split(" | ").next().unwrap_or_default().trim_start_matches("| ");
        assert!(help.contains(key), "pick --help lacks {key:?}");
        assert!(man.contains(&key.replace('-', "\\-")), "the man page lacks {key:?}");
    }
    for text in ["reaper pick\\fR", "127", "126", "exits 3"] {
        assert!(man.contains(text), "the man page lacks {text:?}");
    }
}

#[test]
fn readme_first_screen_shows_a_bare_port() {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README.md");
    let first: String = readme.lines().take(24).collect::<Vec<_>>().join("\n");
    assert!(first.contains("reaper kill 3000"), "{first}");
}

/// [`shell`] with the reaper under test first on PATH: the completion scripts call `reaper
/// complete` for live values.
#[track_caller]
fn shell_with_reaper(program: &str, args: &[&str]) -> String {
    shell_path(program, args, Path::new(REAPER).parent())
}

#[test]
fn complete_prints_live_ports_pids_and_users() {
    let fx = Fixture::start("complete-live", "listen", &["tcp", "127.0.0.1"]);
    let ports = reaper(&["complete", "port"]).expect(0).stdout();
    assert!(ports.lines().any(|l| l.starts_with(&format!("{}\ttcp python", fx.port()))), "{ports}");
    let pids = reaper(&["complete", "pid"]).expect(0).stdout();
    assert!(pids.lines().any(|l| l.starts_with(&format!("{}\t", fx.pid())) && l.contains("python")), "{pids}");
    let users = reaper(&["complete", "user"]).expect(0).stdout();
    assert!(users.lines().any(|l| l == "root\tuid 0"), "{users}");
}

#[test]
fn bash_completes_live_ports_and_pids() {
    if !have("bash") {
        return;
    }
    let fx = Fixture::start("complete-bash", "listen", &["tcp", "127.0.0.1"]);
    let script = r#"
        source completions/reaper.bash || exit 3
        complete_line() {
            COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<<"$COMP_LINE"
            [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
            _reaper_live reaper "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\n' "${COMPREPLY[@]}"
        }
        complete_line "reaper kill --port $1"
        echo --
        complete_line "reaper tree $2"
        echo --
        complete_line "reaper list $1"
        echo --
        complete_line "reaper kill --user roo"
    "#;
    let (port, pid) = (fx.port().to_string(), fx.pid().to_string());
    let out = shell_with_reaper("bash", &["--norc", "--noprofile", "-c", script, "bash", &port, &pid]);
    let answers: Vec<Vec<&str>> = out.split("--\n").map(|a| a.lines().collect()).collect();
    assert_eq!(answers.len(), 4, "{out:?}");
    assert_eq!(answers[0], [port.as_str()], "--port offers the listening port, not file names: {out}");
    assert!(answers[1].contains(&pid.as_str()), "tree offers pids: {out}");
    assert_eq!(answers[2], [port.as_str()], "a plain port: {out}");
    assert_eq!(answers[3], ["root"], "{out}");
}

#[test]
fn fish_completes_live_ports_with_their_process() {
    if !have("fish") {
        return;
    }
    let fx = Fixture::start("complete-fish", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let cmd = format!(
        "source completions/reaper.fish; or exit 3; complete -C 'reaper kill --port {port}'; echo ==; complete -C 'reaper tree {}'",
        fx.pid()
    );
    let out = shell_with_reaper("fish", &["--no-config", "-c", &cmd]);
    let (ports, pids) = out.split_once("==\n").unwrap_or_else(|| panic!("two answers expected: {out:?}"));
    assert!(ports.lines().any(|l| l.starts_with(&format!("{port}\ttcp python"))), "{out}");
    assert!(pids.lines().any(|l| l.starts_with(&format!("{}\t", fx.pid()))), "{out}");
}

#[test]
fn zsh_completes_a_live_port() {
    if !have("zsh") {
        return;
    }
    // The whole port typed, then Tab: a live value is complete (a space follows); a file name
    // completion (what clap's script does) finds no such file and leaves the line as it is.
    let fx = Fixture::start("complete-zsh", "listen", &["tcp", "127.0.0.1"]);
    let dir = std::env::temp_dir().join(token("zsh-live"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let result = dir.join("buffer");
    let script = r#"
        zmodload zsh/zpty || exit 3
        out=$1; fdir=$2; port=$3
        zpty z zsh -f -i
        zpty -w z "PS1=''; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
        zpty -w z "dump() { print -r -- \"<\$BUFFER>\" > ${(q)out}; BUFFER='' }; zle -N dump; bindkey '^X' dump"
        zpty -w -n z "reaper kill --port $port"$'\t\C-x'
        for i in {1..400}; do [[ -s $out ]] && break; sleep 0.05; done
        zpty -d z
        cat $out 2>/dev/null || echo 'no answer within 20s'
    "#;
    let completions = repo("completions");
    let port = fx.port().to_string();
    let out = shell_with_reaper(
        "zsh",
        &[
            "-f",
            "-c",
            script,
            "zsh",
            result.to_str().expect("utf-8 path"),
            completions.to_str().expect("utf-8 path"),
            &port,
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.trim(), format!("<reaper kill --port {port} >"), "zsh did not complete the live port: {out}");
}
