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
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux only: man-db's `man -l` and groff render the page (macOS has mandoc)"
)]
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

// The documentation is README.md (a two-minute read), the book's chapters under docs/src/ (an
// mdBook: docs/book.toml, docs/src/SUMMARY.md) and the top-level ARCHITECTURE.md, SECURITY.md,
// BENCHMARKS.md and CHANGELOG.md. The tests below check what those pages claim where it lives:
// the commands and flags they show exist, the exit codes they give are the binary's, the picker
// keys and the example app's code are the generated table and the file's code, every relative
// link and anchor resolves, every chapter is in the book, and each Rust block is doc-tested.

/// The book's chapters, `docs/src/*.md` (SUMMARY.md included), sorted.
fn chapters() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo("docs/src"))
        .expect("reading docs/src")
        .map(|e| e.expect("a docs/src entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/src/{n}"))
        .collect();
    names.sort();
    assert!(names.len() > 5, "docs/src holds no chapters: {names:?}");
    names
}

/// Every page of documentation: the top-level ones and the chapters.
fn doc_pages() -> Vec<String> {
    let mut pages: Vec<String> =
        ["README.md", "ARCHITECTURE.md", "SECURITY.md", "BENCHMARKS.md", "CHANGELOG.md"].map(String::from).to_vec();
    pages.extend(chapters());
    pages
}

fn read_doc(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// A fenced code block: its info string (`sh`, `rust,no_run`, ...), its first line's number and
/// its lines.
struct Block<'a> {
    info: &'a str,
    line: usize,
    lines: Vec<&'a str>,
}

/// The page split into its fenced code blocks and the lines outside them (with their numbers).
fn split_fences(text: &str) -> (Vec<Block<'_>>, Vec<(usize, &str)>) {
    let (mut blocks, mut prose) = (Vec::new(), Vec::new());
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match open.take() {
            Some(b) if fence => blocks.push(b),
            Some(mut b) => {
                b.lines.push(line);
                open = Some(b);
            }
            None if fence => {
                open = Some(Block {
                    info: line.trim_start().trim_start_matches('`').trim(),
                    line: n + 1,
                    lines: Vec::new(),
                })
            }
            None => prose.push((n + 1, line)),
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    (blocks, prose)
}

/// The prose line without its inline code spans (links inside backticks are not links).
fn strip_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The inline code spans of a prose line.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// A heading's anchor as GitHub and mdBook make it: lower case, letters, digits, `-` and `_`
/// kept, spaces to `-`, everything else dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// The anchors a page defines: its headings (a repeated one gets `-1`, `-2`, ...).
fn anchors(text: &str) -> Vec<String> {
    let (_, prose) = split_fences(text);
    let mut seen: Vec<String> = Vec::new();
    for (_, line) in prose {
        let Some(title) = line.strip_prefix('#').map(|l| l.trim_start_matches('#')) else { continue };
        if !title.starts_with(' ') {
            continue;
        }
        let base = slug(&title.replace('`', ""));
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.push(anchor);
    }
    seen
}

/// Where the documentation links to the repository's own files by their address (from the
/// book, whose pages cannot link out of docs/src relatively).
const REPO_BLOB: [&str; 2] =
    ["https://github.com/proc-reaper/reaper/blob/main/", "https://github.com/proc-reaper/reaper/tree/main/"];

/// The links of a page outside code: `(line, target)` of every `[text](target)`.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let (_, prose) = split_fences(text);
    for (n, line) in prose {
        let line = strip_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push((n, rest[..end].trim().to_string()));
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in doc_pages() {
        let text = read_doc(&page);
        let dir = Path::new(&page).parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            let local = match REPO_BLOB.iter().find_map(|p| target.strip_prefix(p)) {
                Some(path) => path.to_string(),
                None if target.contains("://") || target.starts_with("mailto:") => continue,
                None => {
                    let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
                    let joined =
                        if path.is_empty() { page.clone() } else { dir.join(path).to_string_lossy().into_owned() };
                    if anchor.is_empty() { joined } else { format!("{joined}#{anchor}") }
                }
            };
            let (path, anchor) = local.split_once('#').unwrap_or((&local, ""));
            // `a/../b` as the file system resolves it, but within the repository.
            let mut parts: Vec<&str> = Vec::new();
            for part in path.split('/') {
                match part {
                    "" | "." => {}
                    ".." => {
                        if parts.pop().is_none() {
                            broken.push(format!("{page}:{line}: ({target}) leaves the repository"));
                        }
                    }
                    p => parts.push(p),
                }
            }
            let file = repo(&parts.join("/"));
            checked += 1;
            if !file.exists() {
                broken.push(format!("{page}:{line}: ({target}): {} does not exist", parts.join("/")));
            } else if !anchor.is_empty() {
                let there = std::fs::read_to_string(&file).unwrap_or_default();
                if !anchors(&there).iter().any(|a| a == anchor) {
                    broken.push(format!("{page}:{line}: ({target}): no heading #{anchor} in {}", parts.join("/")));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 50, "only {checked} links checked: is the link parser broken?");
}

#[test]
fn every_chapter_is_in_the_book() {
    let summary = read_doc("docs/src/SUMMARY.md");
    let listed: Vec<String> = links(&summary).into_iter().map(|(_, t)| format!("docs/src/{t}")).collect();
    for chapter in chapters() {
        if chapter != "docs/src/SUMMARY.md" {
            assert!(
                listed.contains(&chapter),
                "{chapter} is not listed in docs/src/SUMMARY.md: mdBook would not build it"
            );
        }
    }
    for target in &listed {
        assert!(repo(target).is_file(), "docs/src/SUMMARY.md lists {target}, which does not exist");
    }
    let book = read_doc("docs/book.toml");
    assert!(book.contains("src = \"src\""), "docs/book.toml does not build docs/src:\n{book}");
}

#[test]
fn the_readme_is_a_two_minute_read_that_starts_with_the_two_commands() {
    let readme = read_doc("README.md");
    let lines = readme.lines().count();
    assert!(lines < 300, "README.md has {lines} lines: move detail into a chapter under docs/src/");
    // A newcomer's first screen: run the main job, run the tests (and that they need root).
    let (blocks, _) = split_fences(&readme);
    let first = blocks.first().expect("README.md has no code block");
    let commands: Vec<&str> = first.lines.iter().map(|l| l.split('#').next().unwrap_or("").trim()).collect();
    assert_eq!(commands, ["cargo run -- kill 3000", "cargo test"], "README.md's first commands changed");
    assert!(first.line < 5, "README.md's first code block starts at line {}", first.line);
    let screen: String = readme.lines().take(24).collect::<Vec<_>>().join("\n");
    assert!(screen.contains("reaper kill 3000"), "{screen}");
    assert!(screen.contains("The tests need root"), "the first screen must say the tests need root:\n{screen}");
}

// The example app's excerpts (a code block right after a line `<!-- excerpt: PATH -->`) are
// not compiled with the docs: each must be the file's code, verbatim, so that the recipe a page
// shows is the one the example builds and CI runs.
#[test]
fn docs_excerpts_are_the_examples_code() {
    let mut checked = 0;
    for page in doc_pages() {
        let text = read_doc(&page);
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let Some(path) = line.trim().strip_prefix("<!-- excerpt: ").and_then(|l| l.strip_suffix(" -->")) else {
                continue;
            };
            let fence = lines.next().unwrap_or_default();
            assert!(fence.starts_with("```"), "{page}: `{line}` is not followed by a code block");
            let block: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
            let source =
                std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{page}: excerpt of {path}: {e}"));
            let excerpt = block.join("\n") + "\n";
            assert!(
                source.contains(&excerpt),
                "{page}'s excerpt of {path} is not verbatim in that file (copy it again):\n{excerpt}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no page has an excerpt of the Tauri example (<!-- excerpt: PATH --> before a code block)");
}

#[test]
fn docs_picker_keys_are_the_generated_table() {
    // One source: the table `pick --help` and the man page print is the chapter's.
    let run = reaper(&["generate", "markdown-keys"]);
    run.expect(0);
    let table = run.stdout();
    let chapter = read_doc("docs/src/by-hand.md");
    let between = chapter
        .split_once("<!-- picker-keys:begin")
        .and_then(|(_, rest)| rest.split_once("-->"))
        .and_then(|(_, rest)| rest.split_once("<!-- picker-keys:end -->"))
        .map(|(keys, _)| keys.trim())
        .expect("docs/src/by-hand.md has no <!-- picker-keys:begin ... --> ... <!-- picker-keys:end --> markers");
    assert_eq!(
        between,
        table.trim(),
        "docs/src/by-hand.md's picker keys differ from `reaper generate markdown-keys`: run scripts/gen-docs.sh"
    );
    let man = reaper(&["generate", "man"]).expect(0).stdout();
    let help = reaper(&["pick", "--help"]).expect(0).stdout();
    for line in table.lines().skip(2) {
        let key = line.split(" | ").next().unwrap_or_default().trim_start_matches("| ");
        assert!(help.contains(key), "pick --help lacks {key:?}");
        assert!(man.contains(&key.replace('-', "\\-")), "the man page lacks {key:?}");
    }
}

/// The lines of the man page's section `.SH NAME` (quoted or not), up to the next section.
fn man_section<'a>(man: &'a str, name: &str) -> &'a str {
    let heads = [format!(".SH \"{name}\"\n"), format!(".SH {name}\n")];
    let start = heads
        .iter()
        .find_map(|h| man.find(h.as_str()).map(|at| at + h.len()))
        .unwrap_or_else(|| panic!("the man page has no {name} section"));
    let rest = &man[start..];
    &rest[..rest.find("\n.SH ").map_or(rest.len(), |at| at + 1)]
}

/// `text` with every run of whitespace one space.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn docs_exit_codes_are_the_generated_table_and_help_and_man_say_the_same() {
    // One source: the table each command's `--help` and the man page print is the chapter's.
    let table = reaper(&["generate", "markdown-exit"]).expect(0).stdout();
    let chapter = read_doc("docs/src/exit-codes-json.md");
    let between = chapter
        .split_once("<!-- exit-codes:begin")
        .and_then(|(_, rest)| rest.split_once("-->"))
        .and_then(|(_, rest)| rest.split_once("<!-- exit-codes:end -->"))
        .map(|(t, _)| t.trim())
        .expect("docs/src/exit-codes-json.md has no <!-- exit-codes:begin ... --> ... <!-- exit-codes:end --> markers");
    assert_eq!(
        between,
        table.trim(),
        "docs/src/exit-codes-json.md's exit codes differ from `reaper generate markdown-exit`: run scripts/gen-docs.sh"
    );
    // Every command's every code, as the table says it, in its --help and in EXIT STATUS.
    let man = reaper(&["generate", "man"]).expect(0).stdout();
    let exit_status = squeeze(man_section(&man, "EXIT STATUS"));
    let rows = exit_code_table();
    assert_eq!(rows.len(), 7, "{table}");
    for (cmd, cells) in &rows {
        let help = reaper(&[cmd, "--help"]).expect(0).stdout();
        let help = squeeze(
            help.split_once("Exit status:")
                .and_then(|(_, e)| e.split_once("Examples:"))
                .map(|(e, _)| e)
                .unwrap_or_else(|| panic!("reaper {cmd} --help has no exit status before its examples:\n{help}")),
        );
        let man_cmd = exit_status
            .split_once(&format!("\\fBreaper {cmd}\\fR"))
            .map(|(_, rest)| rest.split(" .TP ").next().unwrap_or_default())
            .unwrap_or_else(|| panic!("EXIT STATUS has no entry for reaper {cmd}:\n{exit_status}"));
        let mut codes: Vec<(String, String)> =
            ["0", "1", "2"].iter().zip(cells).map(|(c, m)| (c.to_string(), m.clone())).collect();
        for other in cells[3].split("<br>").filter(|o| !o.is_empty()) {
            let (code, meaning) = other.split_once(": ").unwrap_or_else(|| panic!("{cmd}: {other:?}"));
            codes.push((code.to_string(), meaning.to_string()));
        }
        for (code, meaning) in codes.iter().filter(|(_, m)| !m.is_empty()) {
            let meaning = meaning.replace('`', "");
            assert!(
                help.contains(&format!("{code} {meaning}")),
                "reaper {cmd} --help lacks {code} {meaning:?}:\n{help}"
            );
            let roff = format!("\\fB{code}\\fR {}", meaning.replace('-', "\\-"));
            assert!(man_cmd.contains(&roff), "EXIT STATUS for reaper {cmd} lacks {roff:?}:\n{man_cmd}");
        }
    }
    // What a script of kill's needs most: a supervisor that took the port again is exit 1.
    let kill_1 = &rows.iter().find(|(c, _)| c == "kill").expect("kill's row").1[1];
    assert!(kill_1.contains("a supervisor took it again"), "{kill_1}");
    for text in ["exits 3", "\\fB126\\fR", "\\fB127\\fR"] {
        assert!(exit_status.contains(text), "EXIT STATUS lacks {text:?}:\n{exit_status}");
    }
}

/// The flags (`-q`, `--quiet`) a `--help` text lists.
fn help_flags(help: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        if !line.starts_with('-') || line.starts_with("- ") {
            continue;
        }
        for word in line.split([',', ' ', '=', '[']) {
            let short =
                word.len() == 2 && word.starts_with('-') && word[1..].chars().all(|c| c.is_ascii_alphanumeric());
            if short || (word.starts_with("--") && word.len() > 2) {
                flags.push(word.to_string());
            }
        }
    }
    flags
}

/// The words of a shell command line up to its end, a pipe, a list operator, a comment or a
/// closing parenthesis or backtick; quotes are removed and keep their content together.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote) = (Vec::new(), String::new(), None);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '|' | ';' | '&' | ')' | '`' | '#' | '\\') => break,
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Every `reaper ...` command line the documentation shows: in shell, console and CI blocks (a
/// console block's commands are its `$ ` lines) and in inline code. `(page, line, words after
/// "reaper")`.
fn documented_commands() -> Vec<(String, usize, Vec<String>)> {
    let mut found = Vec::new();
    let mut scan = |page: &str, n: usize, line: &str| {
        let mut rest = line;
        while let Some(at) = rest.find("reaper") {
            let before = rest[..at].chars().last();
            let after = &rest[at + "reaper".len()..];
            rest = after;
            let starts = before.is_none_or(|c| c.is_whitespace() || "($\"'".contains(c));
            if starts && after.starts_with(' ') {
                found.push((page.to_string(), n, shell_words(after)));
            }
        }
    };
    for page in doc_pages() {
        let text = read_doc(&page);
        let (blocks, prose) = split_fences(&text);
        for b in &blocks {
            let lang = b.info.split(',').next().unwrap_or("");
            for (i, line) in b.lines.iter().enumerate() {
                match lang {
                    "sh" | "bash" | "yaml" | "groovy" => scan(&page, b.line + 1 + i, line),
                    "console" => {
                        if let Some(cmd) = line.strip_prefix("$ ") {
                            scan(&page, b.line + 1 + i, cmd)
                        }
                    }
                    _ => {}
                }
            }
        }
        for (n, line) in prose {
            for span in code_spans(line) {
                if span.starts_with("reaper ") || span.starts_with("sudo reaper ") {
                    scan(&page, n, span);
                }
            }
        }
    }
    found
}

#[test]
fn every_documented_command_and_flag_exists() {
    let top = reaper(&["--help"]).expect(0).stdout();
    let mut subcommands: Vec<String> = top
        .split_once("Commands:")
        .map(|(_, c)| c.split_once("\n\n").map_or(c, |(c, _)| c))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    // The hidden ones: what the completion scripts call and what scripts/gen-docs.sh runs.
    subcommands.extend(["complete".to_string(), "generate".to_string()]);
    assert!(subcommands.len() >= 9, "{subcommands:?} from:\n{top}");
    let mut helps = std::collections::HashMap::new();
    let mut bad = Vec::new();
    let commands = documented_commands();
    for (page, line, words) in &commands {
        let Some(first) = words.first() else { continue };
        let (sub, flags) = if first.starts_with('-') {
            ("", &words[..])
        } else if subcommands.contains(first) {
            (first.as_str(), &words[1..])
        } else if first.chars().all(|c| c.is_ascii_digit()) {
            // `reaper 3000` is no command (a bare port needs a subcommand): say so.
            bad.push(format!("{page}:{line}: `reaper {}`: a bare port without a subcommand", words.join(" ")));
            continue;
        } else {
            // Prose that only names the program (`reaper run` in a sentence is caught above).
            continue;
        };
        let help = helps.entry(sub.to_string()).or_insert_with(|| {
            let args: Vec<&str> = if sub.is_empty() { vec!["--help"] } else { vec![sub, "--help"] };
            help_flags(&reaper(&args).expect(0).stdout())
        });
        // `run`'s command starts at `--`, or at the first word that is neither a flag nor the
        // value after one (`reaper run sh -c ...`).
        let mut prev_is_flag = false;
        let words_of_reaper = flags.iter().take_while(|w| {
            let stop = w.as_str() == "--" || (sub == "run" && !w.starts_with('-') && !prev_is_flag);
            prev_is_flag = w.starts_with('-');
            !stop
        });
        for word in words_of_reaper {
            let flag = word.split('=').next().unwrap_or(word);
            let is_flag = flag.starts_with("--") && flag.len() > 2
                || flag.len() == 2 && flag.starts_with('-') && flag[1..].chars().all(|c| c.is_ascii_alphanumeric());
            if is_flag && !help.contains(&flag.to_string()) {
                bad.push(format!("{page}:{line}: `reaper {}`: no {flag} in `reaper {sub} --help`", words.join(" ")));
            }
        }
    }
    assert!(bad.is_empty(), "the documentation shows flags the binary does not have:\n{}", bad.join("\n"));
    let checked = commands.iter().filter(|(_, _, w)| w.first().is_some_and(|f| subcommands.contains(f))).count();
    assert!(checked > 100, "only {checked} documented commands found: is the scanner broken?");
}

/// The exit-code table of docs/src/exit-codes-json.md: command -> its cells for 0, 1, 2, other.
fn exit_code_table() -> Vec<(String, [String; 4])> {
    let chapter = read_doc("docs/src/exit-codes-json.md");
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in chapter.lines() {
        if line.starts_with("| command | 0 | 1 | 2 | other |") {
            in_table = true;
            continue;
        }
        if in_table && !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if in_table && cells.len() == 5 && cells[0].starts_with('`') {
            let cmd = cells[0].trim_matches('`').to_string();
            rows.push((cmd, [cells[1], cells[2], cells[3], cells[4]].map(String::from)));
        }
    }
    rows
}

#[test]
fn the_exit_code_table_is_the_binarys() {
    let table = exit_code_table();
    let commands: Vec<&str> = table.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(commands, ["list", "tree", "why", "kill", "run", "wait", "pick"], "the table's rows");
    let cell = |cmd: &str, code: usize| -> String {
        table.iter().find(|(c, _)| c == cmd).map(|(_, cells)| cells[code].clone()).unwrap_or_default()
    };
    // A port nothing holds: bound by this test, then closed (a listener leaves no TIME_WAIT).
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let p = port.to_string();
    let cases: [(&str, &[&str], i32, &str); 8] = [
        ("list", &["list", "--port", &p], 1, "nothing matched"),
        ("why", &["why", "--port", &p], 1, "nothing matched"),
        ("tree", &["tree", "4194305"], 2, "no such process"),
        ("kill", &["kill"], 2, "no selector"),
        ("wait", &["wait", "--port", &p, "--listening", "--timeout", "100ms"], 1, "timed out"),
        ("wait", &["wait", "--port", &p, "--free", "--timeout", "1s"], 0, "condition met"),
        ("run", &["run", "--", "false"], 1, "the command exited 1"),
        ("pick", &["pick"], 2, "no terminal"),
    ];
    for (cmd, args, code, says) in cases {
        let column = if (0..=2).contains(&code) { code as usize } else { 3 };
        let text = cell(cmd, column);
        assert!(text.contains(says), "the table's `{cmd}` row, column {code}, should say {says:?}: {text:?}");
        let run = reaper(args);
        assert_eq!(run.code(), code, "reaper {args:?} (the table: {says}): {}", run.stderr());
    }
    let run = reaper(&["run", "--", "/nonexistent/reaper-docs-test"]);
    assert_eq!(run.code(), 127, "{}", run.stderr());
    assert!(cell("run", 3).contains("127: the command was not found"), "{:?}", cell("run", 3));
    // Bad input is exit 2 with a message naming the bad value, for every command the table has.
    let bad: [(&str, &[&str], &str); 7] = [
        ("list", &["list", "--older-than", "-1s"], "-1s"),
        ("tree", &["tree", "abc"], "abc"),
        ("why", &["why", "--port", "70000"], "70000"),
        ("kill", &["kill", "--older-than", "-1s"], "-1s"),
        ("run", &["run", "--watch-pid", "abc", "--", "true"], "abc"),
        ("wait", &["wait", "--port", &p, "--free", "--timeout", "-1s"], "-1s"),
        ("pick", &["pick", "--timeout", "-1s"], "-1s"),
    ];
    for (cmd, args, value) in bad {
        let run = reaper(args);
        assert_eq!(run.code(), 2, "reaper {args:?}: {}", run.stderr());
        assert!(run.stderr().contains(value), "reaper {args:?} does not name {value:?}: {}", run.stderr());
        assert!(cell(cmd, 2).contains("bad input"), "the table's `{cmd}` row, column 2: {:?}", cell(cmd, 2));
    }
}

#[test]
fn every_rust_block_is_doc_tested() {
    let lib = read_doc("src/lib.rs");
    for page in doc_pages() {
        let text = read_doc(&page);
        let (blocks, _) = split_fences(&text);
        let compiled = blocks.iter().any(|b| b.info.starts_with("rust") && !b.info.contains("ignore"));
        let included = lib.contains(&format!("include_str!(\"../{page}\")"));
        assert!(
            !compiled || included,
            "{page} has Rust code blocks that no doc test compiles: add #[doc = include_str!(\"../{page}\")] in src/lib.rs"
        );
    }
}

#[test]
fn the_tauri_table_is_where_ci_writes_it() {
    // `.ci/tauri` passes e2e.py the page whose table it checks (and rewrites with
    // --write-readme); the markers must be there, once.
    let script = read_doc(".ci/tauri");
    let page = script
        .split_once("--readme ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .expect(".ci/tauri names no --readme page");
    let text = read_doc(page);
    for marker in ["<!-- tauri-sidecar-e2e:begin", "<!-- tauri-sidecar-e2e:end -->"] {
        assert_eq!(
            text.matches(marker).count(),
            1,
            "{page} must hold {marker:?} once (.ci/tauri checks its table there)"
        );
    }
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
        echo --
        complete_line "reaper kill --pid $2"
        echo --
        complete_line "reaper why $1"
        echo --
        complete_line "reaper wait $1"
    "#;
    let (port, pid) = (fx.port().to_string(), fx.pid().to_string());
    let out = shell_with_reaper("bash", &["--norc", "--noprofile", "-c", script, "bash", &port, &pid]);
    let answers: Vec<Vec<&str>> = out.split("--\n").map(|a| a.lines().collect()).collect();
    assert_eq!(answers.len(), 7, "{out:?}");
    assert_eq!(answers[0], [port.as_str()], "--port offers the listening port, not file names: {out}");
    assert!(answers[1].contains(&pid.as_str()), "tree offers pids: {out}");
    assert_eq!(answers[2], [port.as_str()], "a plain port: {out}");
    assert_eq!(answers[3], ["root"], "{out}");
    // The pids that start with the fixture's (its own first), not file names.
    assert!(answers[4].contains(&pid.as_str()), "--pid offers pids: {out}");
    assert!(answers[4].iter().all(|p| p.starts_with(pid.as_str())), "--pid offers only pids: {out}");
    assert_eq!(answers[5], [port.as_str()], "why's plain port: {out}");
    assert_eq!(answers[6], [port.as_str()], "wait's plain port: {out}");
}

#[test]
fn fish_completes_live_ports_with_their_process() {
    if !have("fish") {
        return;
    }
    let fx = Fixture::start("complete-fish", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    let cmd = format!(
        "source completions/reaper.fish; or exit 3; complete -C 'reaper kill --port {port}'; echo ==; complete -C 'reaper tree {}'; echo ==; complete -C 'reaper why {port}'",
        fx.pid()
    );
    let out = shell_with_reaper("fish", &["--no-config", "-c", &cmd]);
    let answers: Vec<&str> = out.split("==\n").collect();
    let [ports, pids, why] = answers[..] else { panic!("three answers expected: {out:?}") };
    assert!(ports.lines().any(|l| l.starts_with(&format!("{port}\ttcp python"))), "{out}");
    assert!(pids.lines().any(|l| l.starts_with(&format!("{}\t", fx.pid()))), "{out}");
    assert!(why.lines().any(|l| l.starts_with(&format!("{port}\ttcp python"))), "why's plain port: {out}");
}

#[test]
fn zsh_completes_a_live_port() {
    if !have("zsh") {
        return;
    }
    // The whole port typed, then Tab: a live value is complete (a space follows); a file name
    // completion (what clap's script does) finds no such file and leaves the line as it is.
    let fx = Fixture::start("complete-zsh", "listen", &["tcp", "127.0.0.1"]);
    let port = fx.port().to_string();
    // An option's value, and wait's plain port (its own argument, not the selectors').
    for line in [format!("reaper kill --port {port}"), format!("reaper wait {port}")] {
        let dir = std::env::temp_dir().join(token("zsh-live"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let result = dir.join("buffer");
        let script = r#"
            zmodload zsh/zpty || exit 3
            out=$1; fdir=$2; line=$3
            zpty z zsh -f -i
            zpty -w z "PS1=''; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
            zpty -w z "dump() { print -r -- \"<\$BUFFER>\" > ${(q)out}; BUFFER='' }; zle -N dump; bindkey '^X' dump"
            zpty -w -n z "$line"$'\t\C-x'
            for i in {1..400}; do [[ -s $out ]] && break; sleep 0.05; done
            zpty -d z
            cat $out 2>/dev/null || echo 'no answer within 20s'
        "#;
        let completions = repo("completions");
        let out = shell_with_reaper(
            "zsh",
            &[
                "-f",
                "-c",
                script,
                "zsh",
                result.to_str().expect("utf-8 path"),
                completions.to_str().expect("utf-8 path"),
                &line,
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(out.trim(), format!("<{line} >"), "zsh did not complete the live port: {out}");
    }
}

/// Every `.rs` file under `src/`, relative to `src/`.
fn source_files() -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![repo("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(repo("src")).expect("under src");
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_architecture_map_names_every_source_file_and_only_those() {
    let map = read_doc("ARCHITECTURE.md");
    // The words of its code spans: `sys/linux/proc.rs`, `procfs.rs`, `origin/`, ...
    let (_, prose) = split_fences(&map);
    let words: Vec<String> = prose
        .iter()
        .flat_map(|(_, l)| code_spans(l))
        .flat_map(|s| s.split([',', ' ']))
        .map(|w| w.trim_start_matches("src/").to_string())
        .filter(|w| !w.is_empty())
        .collect();
    let files = source_files();
    // A file name in capitals is a placeholder (`src/cli/NAME.rs`), not a file.
    for word in words.iter().filter(|w| w.ends_with(".rs") && !w.chars().any(|c| c.is_ascii_uppercase())) {
        let known = repo(word).is_file() || files.iter().any(|f| f == word || f.ends_with(&format!("/{word}")));
        assert!(known, "ARCHITECTURE.md names `{word}`, which is no file (under src/ or the repository)");
    }
    for file in &files {
        let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
        let named = words
            .iter()
            .any(|w| w == file || (name != "mod.rs" && w == name) || (name == "mod.rs" && *w == format!("{dir}/")));
        assert!(named, "ARCHITECTURE.md's map of src/ does not name src/{file}: add its role in one line");
    }
}

#[test]
fn no_page_names_an_internal_issue_or_a_path_outside_the_repository() {
    // An outside reader can open neither: say what was found, and link what is in the repository.
    let issue = regex::Regex::new(r"(?i)\bissues? \d+|(^|\s)#\d+\b").expect("regex");
    let outside = regex::Regex::new(r"/work/|\.\./shared|\.\./\.\./\.\.").expect("regex");
    let mut found = Vec::new();
    for page in doc_pages() {
        for (n, line) in read_doc(&page).lines().enumerate() {
            for re in [&issue, &outside] {
                if let Some(m) = re.find(line) {
                    found.push(format!("{page}:{}: {:?}", n + 1, m.as_str()));
                }
            }
        }
    }
    assert!(found.is_empty(), "internal issue numbers or outside paths:\n{}", found.join("\n"));
}

/// What a backticked path into this repository starts with.
const REPO_DIRS: [&str; 9] =
    ["src/", "tests/", "bench/", ".ci/", "examples/", "docs/", "scripts/", "man/", "completions/"];

/// The paths a code span names: its first word, as a path into the repository (`src/x.rs:12`,
/// `#anchor` and trailing punctuation dropped; `{a,b}` expanded), or nothing when it is no such
/// path. A component that is a placeholder (`NAME`, `<target>`) or a glob (`*`) ends the path:
/// what comes before it must exist.
fn repo_paths(span: &str) -> Vec<String> {
    let Some(word) = span.split_whitespace().next() else { return Vec::new() };
    if !REPO_DIRS.iter().any(|d| word.starts_with(d)) {
        return Vec::new();
    }
    let word = word.split('#').next().unwrap_or(word).trim_end_matches(['.', ',', ';', ')']);
    let word = regex::Regex::new(r":\d.*$").expect("regex").replace(word, "").into_owned();
    let expanded = match (word.find('{'), word.find('}')) {
        (Some(a), Some(b)) if a < b => {
            word[a + 1..b].split(',').map(|alt| format!("{}{alt}{}", &word[..a], &word[b + 1..])).collect()
        }
        _ => vec![word],
    };
    let placeholder = |c: &str| {
        c.contains(['*', '<', '?'])
            || (c.chars().any(|ch| ch.is_ascii_uppercase())
                && c.split('.').next().is_some_and(|s| s.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_')))
    };
    expanded.into_iter().map(|p| p.split('/').take_while(|c| !placeholder(c)).collect::<Vec<_>>().join("/")).collect()
}

// A file renamed or moved left its old path in the docs (`tests/it/teardown.rs`,
// `tests/it/liveness.rs`, `src/kill.rs`): every path into the repository a page names in
// backticks exists. CHANGELOG.md is left out: it records what was done under the names of then.
#[test]
fn every_repository_path_the_docs_name_exists() {
    // What counts as a path, and how much of it is checked.
    assert_eq!(repo_paths("src/sys/{linux,portable}.rs"), ["src/sys/linux.rs", "src/sys/portable.rs"]);
    assert_eq!(repo_paths("src/cli/NAME.rs"), ["src/cli"]);
    assert_eq!(repo_paths("tests/it/kill.rs:12,"), ["tests/it/kill.rs"]);
    assert_eq!(repo_paths("docs/src/*.md"), ["docs/src"]);
    assert!(repo_paths("cargo test --test it").is_empty());
    let mut stale = Vec::new();
    let mut checked = 0;
    for page in doc_pages().into_iter().filter(|p| p != "CHANGELOG.md") {
        let text = read_doc(&page);
        let (_, prose) = split_fences(&text);
        for (n, line) in prose {
            for span in code_spans(line) {
                for path in repo_paths(span) {
                    checked += 1;
                    if !repo(&path).exists() {
                        stale.push(format!("{page}:{n}: `{span}` ({path} does not exist)"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} paths found: is the pattern still right?");
    assert!(stale.is_empty(), "paths that name nothing in the repository:\n{}", stale.join("\n"));
}

// README.md and the Install chapter give a CI job the same two lines to download, verify and
// install a release binary, and those name this version (a release that bumps the version and
// leaves the lines behind would have CI installing the previous one).
#[test]
fn the_ci_download_step_is_one_and_names_this_version() {
    let step = |page: &str| {
        let text = read_doc(page);
        let (blocks, _) = split_fences(&text);
        let found: Vec<Vec<String>> = blocks
            .iter()
            .filter(|b| b.lines.iter().any(|l| l.contains("/releases/download/")))
            .map(|b| b.lines.iter().map(|l| l.to_string()).collect())
            .collect();
        assert_eq!(found.len(), 1, "{page}: one block downloads a release: {found:?}");
        found.into_iter().next().unwrap_or_default()
    };
    let readme = step("README.md");
    assert_eq!(readme, step("docs/src/install.md"), "README.md and docs/src/install.md differ");
    assert_eq!(readme.len(), 2, "two lines: {readme:?}");
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert!(
        readme[0].contains(&format!("/download/{tag} ")) && readme[0].contains(&format!("reaper-{tag}-")),
        "{readme:?}"
    );
    assert!(readme[1].contains("sha256sum") && readme[1].contains("SHA256SUMS"), "{readme:?}");
}
