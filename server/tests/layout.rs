//! The server's shape, checked: data flows one way between its rooms (no module imports one that
//! imports it back, however far round), and between the files of a room; no source file outgrows about 400 lines, and no function
//! about 80. A newcomer can then read any one room, and any one function, whole.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most lines of a source file (tests in a file of their own count apart).
const FILE_LINES: usize = 420;
/// Most lines of one function outside tests.
const FN_LINES: usize = 85;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without its unit tests (which start at `#[cfg(test)]`).
fn code(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

/// The top-level module a file belongs to (`reconcile` for src/reconcile/plan.rs).
fn room(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// room → the rooms its code names (`crate::x` or `bindery_server::x`).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let rooms: BTreeSet<String> = files.iter().map(|f| room(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = room(file);
        let text = std::fs::read_to_string(file).unwrap();
        for prefix in ["crate::", "bindery_server::"] {
            for (at, _) in code(&text).match_indices(prefix) {
                let rest = &code(&text)[at + prefix.len()..];
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if to != from && rooms.contains(&to) {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    graph
}

/// A path that leads from `start` back to it, if any.
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    at: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    for next in graph.get(at).into_iter().flatten() {
        if next == start {
            let mut found = path.clone();
            found.push(next.clone());
            return Some(found);
        }
        if !path.contains(next) {
            path.push(next.clone());
            if let Some(c) = cycle_from(graph, start, next, path) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn no_room_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(
        graph.get("store").is_some_and(|s| !s.contains("reconcile")),
        "the graph is read: {graph:?}"
    );
    for room in graph.keys() {
        let mut path = vec![room.clone()];
        if let Some(cycle) = cycle_from(&graph, room, room, &mut path) {
            panic!(
                "a cycle between the server's modules: {}",
                cycle.join(" → ")
            );
        }
    }
}

/// A file's module path (`reconcile::jobs::ticket`; a folder's `mod.rs` is the folder's).
fn module_path(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "mod")
        .collect();
    parts.join("::")
}

/// The paths a `super::`/`crate::` path names from `rest` on: `a::b` gives `a::b`,
/// `{a, b::c}` gives `a` and `b::c`, `a::{b, c}` gives `a::b` and `a::c`.
fn named_paths(rest: &str) -> Vec<String> {
    let head: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let after = &rest[head.len()..];
    let base = head.trim_end_matches(':');
    match after.strip_prefix('{') {
        Some(group) if head.is_empty() || head.ends_with("::") => group
            .split('}')
            .next()
            .unwrap_or("")
            .split(',')
            .flat_map(|item| named_paths(item.trim()))
            .map(|p| {
                if base.is_empty() {
                    p
                } else {
                    format!("{base}::{p}")
                }
            })
            .collect(),
        _ if base.is_empty() => Vec::new(),
        _ => vec![base.to_owned()],
    }
}

/// file module → the file modules of the same crate its code names. Folder modules (`mod.rs`,
/// which declare and re-export their files) and files of unit tests are left out: the arrows
/// that matter run between the files that do the work.
fn file_imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let leaf = |f: &PathBuf| {
        let name = f.file_name().unwrap().to_string_lossy();
        !["mod.rs", "lib.rs", "main.rs"].contains(&name.as_ref()) && !name.ends_with("_tests.rs")
    };
    let modules: BTreeSet<String> = files
        .iter()
        .filter(|f| leaf(f))
        .map(|f| module_path(f))
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files.iter().filter(|f| leaf(f)) {
        let from = module_path(file);
        let parent = from.rsplit_once("::").map_or("", |(p, _)| p).to_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let code = code(&text);
        for (prefix, base) in [("super::", parent.as_str()), ("crate::", "")] {
            for (at, _) in code.match_indices(prefix) {
                if at > 0
                    && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
                {
                    continue;
                }
                for named in named_paths(&code[at + prefix.len()..]) {
                    let full = if base.is_empty() {
                        named
                    } else {
                        format!("{base}::{named}")
                    };
                    // The longest prefix of the path that is a file.
                    let mut parts: Vec<&str> = full.split("::").collect();
                    while !parts.is_empty() {
                        let candidate = parts.join("::");
                        if modules.contains(&candidate) {
                            if candidate != from {
                                graph.entry(from.clone()).or_default().insert(candidate);
                            }
                            break;
                        }
                        parts.pop();
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let graph = file_imports();
    assert!(
        graph
            .get("reconcile::jobs::ticket")
            .is_some_and(|s| s.contains("reconcile::tickets")),
        "the graph is read: {graph:?}"
    );
    let mut cycles = Vec::new();
    for file in graph.keys() {
        let mut path = vec![file.clone()];
        if let Some(cycle) = cycle_from(&graph, file, file, &mut path) {
            cycles.push(cycle.join(" → "));
        }
    }
    assert!(
        cycles.is_empty(),
        "files importing each other back:\n{}",
        cycles.join("\n")
    );
}

/// The store's methods that write: a `pub async fn` whose body inserts, updates, deletes,
/// writes a setting or opens a write transaction.
fn store_writes() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&src().join("store"), &mut files);
    let mut writes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = code(&text);
        for (at, _) in code.match_indices("    pub async fn ") {
            // The method ends where its indentation closes.
            let end = code[at..].find("\n    }\n").map_or(code.len(), |e| at + e);
            let body = &code[at + 4..end];
            let name: String = body["pub async fn ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let writing = [
                "INSERT ",
                "UPDATE ",
                "DELETE ",
                "put_setting(",
                "begin_write(",
            ]
            .iter()
            .any(|w| body.contains(w));
            if writing {
                writes.insert(name);
            }
        }
    }
    writes
}

/// Admin writes go through `ops/`: the admin API, the console and the CLI parse input and
/// render output, and never call a store method that writes.
#[test]
fn front_ends_leave_writing_to_ops() {
    let writes = store_writes();
    assert!(
        writes.contains("create_policy") && writes.contains("revoke_token"),
        "the store's writes are found: {writes:?}"
    );
    let mut files = Vec::new();
    for front in ["api/admin", "console", "cli"] {
        rust_files(&src().join(front), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let flat: String = code(&text).split_whitespace().collect();
        for write in &writes {
            for call in [format!("store.{write}("), format!("store().{write}(")] {
                if flat.contains(&call) {
                    let name = file.strip_prefix(src()).unwrap().display().to_string();
                    found.push(format!("{name}: {call}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "front ends writing to the store themselves (use an op in ops/):\n{}",
        found.join("\n")
    );
}

/// Every Rust file of the workspace (sources, tests, benchmarks, examples), recorded samples and
/// build output left out.
fn workspace_rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if !["target", ".git", "samples", "node_modules"].contains(&name.as_ref()) {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."), &mut out);
    out
}

/// The same rule for the whole workspace: no Rust file over 450 lines, and a program's `main.rs`
/// (`src/main.rs`, an example's) under 150: what it does lives in files named for it.
#[test]
fn every_rust_file_of_the_workspace_stays_readable_whole() {
    let files = workspace_rust_files();
    assert!(files.len() > 100, "the workspace is read: {}", files.len());
    let mut too_long = Vec::new();
    for file in &files {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        let shown = file.display().to_string();
        let program_main = file.ends_with("src/main.rs")
            || (file.ends_with("main.rs") && shown.contains("/examples/"));
        if lines > 450 || (program_main && lines >= 150) {
            too_long.push(format!("{shown}: {lines} lines"));
        }
    }
    assert!(
        too_long.is_empty(),
        "too long to read whole:\n{}",
        too_long.join("\n")
    );
}

#[test]
fn files_and_functions_stay_readable_whole() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut too_long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(src()).unwrap().display().to_string();
        let lines = text.lines().count();
        if lines > FILE_LINES {
            too_long.push(format!("{name}: {lines} lines"));
        }
        let code: Vec<&str> = code(&text).lines().collect();
        for (i, line) in code.iter().enumerate() {
            let trimmed = line.trim_start();
            let signature = ["fn ", "pub fn ", "async fn ", "pub async fn "]
                .iter()
                .chain(&["pub(crate) fn ", "pub(crate) async fn ", "pub(super) fn "])
                .any(|p| trimmed.starts_with(p));
            if !signature || line.trim_end().ends_with(';') {
                continue;
            }
            let indent = &line[..line.len() - trimmed.len()];
            let close = format!("{indent}}}");
            let end = code[i..]
                .iter()
                .position(|l| l.trim_end() == close || (l.trim_end().ends_with('}') && l == line))
                .unwrap_or(0);
            if end + 1 > FN_LINES {
                too_long.push(format!("{name}:{}: a function of {} lines", i + 1, end + 1));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "too long to read whole:\n{}",
        too_long.join("\n")
    );
}
