//! The house plan, checked: the crates depend on each other in one direction, no crate has
//! an import cycle between its modules, and no file of hand-written code runs past about
//! 800 lines without saying at its top why it stays whole. Each check names what breaks it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The crates and the `src` folder of each.
const CRATES: &[(&str, &str)] = &[
    ("vigil-session-api", "crates/session-api"),
    ("vigil-connectors", "crates/connectors"),
    ("vigil-core", "crates/core"),
    ("vigil-demo", "crates/demo"),
    ("vigil-cli", "crates/cli"),
    ("vigil-bench", "crates/bench"),
    ("vigil-app", "src-tauri"),
];

/// Which of Vigil's own crates each crate may build on (normal dependencies).
const MAY_USE: &[(&str, &[&str])] = &[
    ("vigil-session-api", &[]),
    ("vigil-connectors", &["vigil-session-api"]),
    ("vigil-core", &["vigil-session-api", "vigil-connectors"]),
    ("vigil-demo", &["vigil-session-api"]),
    ("vigil-cli", &["vigil-core", "vigil-demo"]),
    (
        "vigil-bench",
        &["vigil-core", "vigil-demo", "vigil-session-api"],
    ),
    ("vigil-app", &["vigil-core", "vigil-demo"]),
];

/// Vigil's crates named in the `[dependencies]` table of a manifest.
fn own_dependencies(manifest: &str) -> BTreeSet<String> {
    let doc: toml::Table = manifest.parse().unwrap();
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| {
            d.keys()
                .filter(|k| k.starts_with("vigil-"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_crates_depend_on_each_other_in_one_direction() {
    for (name, dir) in CRATES {
        let manifest = fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        let allowed: BTreeSet<String> = MAY_USE
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let used = own_dependencies(&manifest);
        let extra: Vec<_> = used.difference(&allowed).collect();
        assert!(
            extra.is_empty(),
            "{name} depends on {extra:?}, against the plan (README, Design)"
        );
    }
}

/// Hand-written source of a file: comments and the `#[cfg(test)]` tail left out.
fn code(text: &str) -> String {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules of a crate each module uses through `crate::` (or `super::` from
/// a file at the top).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    all_files(src, &mut files);
    files.retain(|f| f.extension().is_some_and(|e| e == "rs"));
    let top = |p: &Path| -> String {
        let rel = p.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        first.to_string_lossy().trim_end_matches(".rs").to_owned()
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = top(file);
        if module == "lib" || module == "main" {
            continue;
        }
        let at_top = file.parent() == Some(src);
        let text = code(&fs::read_to_string(file).unwrap());
        let uses = graph.entry(module.clone()).or_default();
        let mut prefixes = vec!["crate::"];
        if at_top {
            prefixes.push("super::");
        }
        for prefix in prefixes {
            for (at, _) in text.match_indices(prefix) {
                let rest = &text[at + prefix.len()..];
                let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    group
                        .split(',')
                        .filter_map(|part| part.trim().split("::").next())
                        .collect()
                } else {
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .take(1)
                        .collect()
                };
                for name in names {
                    if !name.is_empty() && name != module {
                        uses.insert(name.to_owned());
                    }
                }
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|m| modules.contains(m));
    }
    graph
}

/// A cycle in the graph, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let mut modules = 0;
    for (name, dir) in CRATES {
        let graph = module_graph(&root().join(dir).join("src"));
        modules += graph.len();
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{name}: import cycle {}", cycle.join(" → "));
        }
    }
    assert!(modules > 60, "only {modules} modules read");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::new()),
    ]);
    assert_eq!(find_cycle(&graph).unwrap().len(), 4);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.rs"), "use crate::{y::Y, z};\n").unwrap();
    fs::write(dir.path().join("y.rs"), "fn f() { super::x::g() }\n").unwrap();
    fs::write(dir.path().join("z.rs"), "// crate::x in a comment\n").unwrap();
    let graph = module_graph(dir.path());
    assert_eq!(find_cycle(&graph).unwrap(), ["x", "y", "x"]);
    assert!(graph["z"].is_empty());
}

/// Source folders of hand-written code outside the Rust crates.
const OTHER_SOURCES: &[&str] = &["ui/src", "tests/e2e", "tests/vendor", "tests/servers"];

fn is_hand_written_code(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    let code_ext = matches!(
        ext.as_deref(),
        Some("rs" | "ts" | "tsx" | "py" | "mjs" | "sh")
    );
    let generated = path.components().any(|c| c.as_os_str() == "bindings");
    let test = name.contains(".test.") || name.starts_with("test_");
    code_ext && !generated && !test
}

/// Every file below `dir` (none for a folder that is not there), leaving out installed
/// packages and Python's caches.
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let skip = path
            .file_name()
            .is_some_and(|n| n == "node_modules" || n == "__pycache__");
        if path.is_dir() && !skip {
            all_files(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

#[test]
fn a_long_file_says_at_its_top_why_it_stays_whole() {
    let mut files = Vec::new();
    for (_, dir) in CRATES {
        all_files(&root().join(dir).join("src"), &mut files);
    }
    for dir in OTHER_SOURCES {
        all_files(&root().join(dir), &mut files);
    }
    let mut long = Vec::new();
    for file in files.iter().filter(|f| is_hand_written_code(f)) {
        let text = fs::read_to_string(file).unwrap();
        let end = text.find("#[cfg(test)]").unwrap_or(text.len());
        let lines = text[..end].lines().count();
        let top: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
        if lines > 820 && !top.contains("stays whole") {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split along its seams, or say at the top why it stays whole: {long:?}"
    );
    assert!(files.len() > 100, "only {} files read", files.len());
}
