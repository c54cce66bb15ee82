//! The crate's layout: no two modules import each other. Data flows one way (arguments ->
//! config -> snapshot -> matches -> plan -> signals and waits -> report -> output); a two-way
//! import is a room that knows too much about the next one. Reads `src/**` as text, the
//! `#[cfg(test)]` modules left out (a unit test may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

/// Every module of the tree under `root` (`a::b` for `a/b.rs` or `a/b/mod.rs`; `lib.rs` and
/// `main.rs` are the root, ``) with its text, the `#[cfg(test)]` modules cut out.
fn modules(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).expect("under root").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| ["mod", "lib", "main"].contains(&p.as_str())) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            out.entry(parts.join("::")).or_insert_with(String::new).push_str(&without_test_modules(&text));
        }
    }
    out
}

/// `text` without the items under `#[cfg(test)]` (a `mod NAME { ... }` block, braces counted,
/// or a `mod NAME;`).
fn without_test_modules(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item_end = match (after.find('{'), after.find(';')) {
            (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (_, Some(semi)) => semi + 1,
            _ => after.len(),
        };
        rest = &after[item_end..];
    }
    out.push_str(rest);
    out
}

/// The first `depth` segments of a module path.
fn top(module: &str, depth: usize) -> String {
    module.split("::").take(depth).collect::<Vec<_>>().join("::")
}

/// Whether `inner` is `outer` or inside it, segment by segment.
fn within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.starts_with(&format!("{outer}::"))
}

/// The module pairs that import each other, as the lead's `cycles.py` finds them: an edge for
/// each `crate::x::y` path between the top-level modules and between the second-level ones
/// (never between a module and its own parent or child), and for each `super::x` to a sibling
/// module. Each pair `(a, b)` has `a < b`.
fn cycles(root: &Path) -> Vec<(String, String)> {
    let mods = modules(root);
    let crate_path = Regex::new(r"crate::([a-z_]+(?:::[a-z_]+)*)").expect("a regex");
    let super_path = Regex::new(r"super::([a-z_]+)").expect("a regex");
    let mut edges = BTreeSet::new();
    for (m, text) in &mods {
        for cap in crate_path.captures_iter(text) {
            let target = &cap[1];
            for depth in [1, 2] {
                let (a, b) = (top(m, depth), top(target, depth));
                if !a.is_empty() && !within(&b, &a) && !within(&a, &b) {
                    edges.insert((a, b));
                }
            }
        }
        if let Some((parent, _)) = m.rsplit_once("::") {
            for cap in super_path.captures_iter(text) {
                let sibling = format!("{parent}::{}", &cap[1]);
                if mods.contains_key(&sibling) && &sibling != m {
                    edges.insert((m.clone(), sibling));
                }
            }
        }
    }
    edges.iter().filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone()))).cloned().collect()
}

#[test]
fn no_two_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = cycles(&src);
    let lines: Vec<String> = found.iter().map(|(a, b)| format!("{a} <-> {b}")).collect();
    assert!(found.is_empty(), "modules that import each other:\n{}", lines.join("\n"));
}

// The checker itself: a cycle it cannot see would make the test above one that cannot fail.
#[test]
fn the_cycle_checker_finds_two_way_imports_and_ignores_unit_tests() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(crate::util::token("layout"));
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("a file");
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub mod sys;\n");
    write("a.rs", "use crate::b::Thing;\n");
    write("b.rs", "pub struct Thing;\nfn f() -> crate::a::X { todo!() }\n");
    // `c` reaches `a` only from its unit tests: no edge.
    write(
        "c.rs",
        "use crate::b::Thing;\n#[cfg(test)]\nmod tests {\n    use crate::c::x;\n    fn g() { crate::a::f() }\n}\n",
    );
    write("sys/mod.rs", "pub mod linux;\npub mod portable;\n");
    write("sys/linux.rs", "use super::portable::X;\n");
    write("sys/portable.rs", "use super::linux::Y;\nuse crate::c::Z;\n");
    let found = cycles(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let pairs: Vec<(&str, &str)> = found.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(pairs, [("a", "b"), ("sys::linux", "sys::portable")]);
}
