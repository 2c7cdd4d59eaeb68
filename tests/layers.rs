//! The layering of `src/`: no import circle among its modules (a stage
//! imports only the stages before it). A module's imports are the
//! `crate::...`, `super::...` and `self::...` paths in its code, outside
//! comments and `#[cfg(test)]` code (a bare relative path, `child::item`,
//! is not read). Checked among the top-level modules, among the modules one
//! level down, and among those two levels down (the files of
//! `runtime::exec`), with no exception at the first two depths.
//!
//! The executor is one component: `runtime/exec/mod.rs` holds the
//! `Executor` and declares the child modules its `impl` goes on in (graphs,
//! drains, snapshots, profiling, a live session's access, synapses...);
//! they import `super::Executor`, and it uses a few of their items
//! (`self::drain::Drain`, `self::report::Reporter`...). At depth 2 the
//! children are cut to `runtime::exec`, so no other runtime module may
//! import the executor while the executor imports it. At depth 3 a
//! module's edges into its own child modules are left out (the parent and
//! the parts of its `impl` are one component); a circle through two of the
//! children, or out of the folder and back, still fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`codegen::views`) -> its source.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut inner = prefix.to_vec();
                inner.push(stem);
                walk(&path, &inner, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut name = prefix.to_vec();
                if !["mod", "lib", "main"].contains(&stem.as_str()) {
                    name.push(stem);
                }
                out.insert(name.join("::"), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The module paths `source` names after `prefix` (`crate::`, `super::`).
fn paths_after(source: &str, prefix: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out
}

/// Import edges between modules cut to `depth` path segments.
fn graph(depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let cut = |m: &str| m.split("::").take(depth).collect::<Vec<_>>().join("::");
    // the longest prefix of `path` that is a module
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len())
            .rev()
            .map(|k| parts[..k].join("::"))
            .find(|c| modules.contains_key(c))
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, source) in &modules {
        let parent: Vec<&str> = name.split("::").collect();
        let parent = parent[..parent.len().saturating_sub(1)].join("::");
        let within = |base: &str, p: String| {
            if base.is_empty() {
                p
            } else {
                format!("{base}::{p}")
            }
        };
        let targets = paths_after(source, "crate::")
            .into_iter()
            .chain(
                paths_after(source, "super::")
                    .into_iter()
                    .map(|p| within(&parent, p)),
            )
            .chain(
                paths_after(source, "self::")
                    .into_iter()
                    .map(|p| within(name, p)),
            );
        for target in targets.filter_map(|t| resolve(&t)) {
            let (a, b) = (cut(name), cut(&target));
            if !a.is_empty() && !b.is_empty() && a != b {
                edges.entry(a).or_default().insert(b);
            }
        }
    }
    edges
}

/// A circle in `edges`, if any, as the modules along it.
fn circle(
    edges: &BTreeMap<String, BTreeSet<String>>,
    skip: &dyn Fn(&str) -> bool,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        skip: &dyn Fn(&str) -> bool,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten().filter(|n| !skip(n)) {
            if let Some(found) = visit(next, edges, skip, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .filter(|n| !skip(n))
        .find_map(|n| visit(n, edges, skip, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circle_among_the_stages() {
    let edges = graph(1);
    assert!(edges.len() > 10, "the module graph was not read: {edges:?}");
    assert!(
        edges["pipeline"].contains("codegen"),
        "the pipeline imports codegen: {:?}",
        edges["pipeline"]
    );
    assert_eq!(circle(&edges, &|_| false), None);
}

/// `edges` less those from a module into its own child modules (see the module docs).
fn without_own_children(
    mut edges: BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    for (from, to) in edges.iter_mut() {
        let inside = format!("{from}::");
        to.retain(|t| !t.starts_with(&inside));
    }
    edges
}

#[test]
fn no_import_circle_one_level_down() {
    let edges = graph(2);
    assert!(
        edges["runtime::exec"].contains("runtime"),
        "the executor imports the runtime's Device: {:?}",
        edges["runtime::exec"]
    );
    assert_eq!(circle(&edges, &|_| false), None);
}

#[test]
fn no_import_circle_two_levels_down() {
    let edges = graph(3);
    assert!(
        edges["runtime::exec::graphs"].contains("runtime::exec"),
        "the executor's parts import it: {:?}",
        edges["runtime::exec::graphs"]
    );
    assert!(
        edges["runtime::exec"].contains("runtime::exec::drain"),
        "the executor uses its parts' items: {:?}",
        edges["runtime::exec"]
    );
    assert_eq!(circle(&without_own_children(edges), &|_| false), None);
}

#[test]
fn a_circle_is_found() {
    let edges: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), BTreeSet::from([y.to_string()])))
        .collect();
    assert_eq!(
        circle(&edges, &|_| false),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn a_circle_between_two_children_is_found() {
    let edges = |pairs: &[(&str, &str)]| {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (x, y) in pairs {
            out.entry(x.to_string()).or_default().insert(y.to_string());
        }
        without_own_children(out)
    };
    // a parent and the parts of its impl: one component
    let parts = [
        ("p", "p::a"),
        ("p::a", "p"),
        ("p::b", "p"),
        ("p::b", "p::a"),
    ];
    assert_eq!(circle(&edges(&parts), &|_| false), None);
    // two parts importing each other
    let mut both = parts.to_vec();
    both.push(("p::a", "p::b"));
    assert_eq!(
        circle(&edges(&both), &|_| false),
        Some(vec!["p::a".into(), "p::b".into(), "p::a".into()])
    );
}
