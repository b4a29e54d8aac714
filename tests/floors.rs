//! The floors of the workspace: which crates may depend on which, and inside each library crate,
//! which top-level modules may import which.
//!
//! Crates: [`CRATES`] lists each library crate with the Athanor crates it may depend on
//! (`[dependencies]` of its `Cargo.toml`): the dialects and the backends build on `athanor-core`
//! only, never on the ORM or the tools.
//!
//! Modules: for each crate, this test reads `src/**/*.rs` (leaving out `#[cfg(test)]` items and
//! comments), collects every reference from one top-level module to another (`use crate::x::…`,
//! inline `crate::x::…` paths, `super::…` resolved, names re-exported at the crate root resolved
//! to their module), and computes the strongly connected components of that graph. The only
//! circles allowed are the ones the crate lists, each with the reason it may stay. A new circle,
//! a circle that grows, or one that disappears (then shrink the list) fails the test, and the
//! failure names the edges inside the circle with their file and line.
//!
//! A node is a top-level module (`expr`, `session`, …), except the sub-modules a crate lists as
//! floors of their own inside a directory (the SQL AST sits below the dialect, the SQL renderers
//! above it). ARCHITECTURE.md's floor map says the same in prose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One library crate: where it is, the Athanor crates it may depend on, its sub-modules that
/// count as nodes of their own (the longest listed prefix wins), and the circles that may remain
/// among its modules, each as its sorted members and the reason it stays.
struct Floors {
    dir: &'static str,
    name: &'static str,
    may_depend_on: &'static [&'static str],
    own_nodes: &'static [&'static str],
    allowed_circles: &'static [(&'static [&'static str], &'static str)],
}

/// The library crates, bottom floor first.
const CRATES: &[Floors] = &[
    Floors { dir: "core", name: "athanor-core", may_depend_on: &[], own_nodes: &["sql::ast"], allowed_circles: &[] },
    Floors {
        dir: "dialects",
        name: "athanor-dialects",
        may_depend_on: &["athanor-core"],
        own_nodes: &[],
        allowed_circles: &[],
    },
    Floors {
        dir: "backends/sqlite",
        name: "athanor-sqlite",
        may_depend_on: &["athanor-core", "athanor-dialects"],
        own_nodes: &[],
        allowed_circles: &[],
    },
    Floors {
        dir: "backends/postgres",
        name: "athanor-postgres",
        may_depend_on: &["athanor-core", "athanor-dialects"],
        own_nodes: &[],
        allowed_circles: &[],
    },
    Floors {
        dir: "backends/mysql",
        name: "athanor-mysql",
        may_depend_on: &["athanor-core", "athanor-dialects"],
        own_nodes: &[],
        allowed_circles: &[],
    },
    Floors {
        dir: "orm",
        name: "athanor-orm",
        may_depend_on: &["athanor-core"],
        own_nodes: &[],
        allowed_circles: &[(
            &ORM_CIRCLE,
            "the ORM floor's contained circle: Model names the session's AnyRelation, RelationshipDef a \
             ModelType, the session builds typed selects (select, column_select) over typed expressions \
             (expr) and the selects join along its Relationship handles; as SQLAlchemy keeps \
             orm/state.py <-> orm/session.py",
        )],
    },
    Floors { dir: "orm/derive", name: "athanor-derive", may_depend_on: &[], own_nodes: &[], allowed_circles: &[] },
    Floors {
        dir: "tools",
        name: "athanor-tools",
        may_depend_on: &["athanor-core"],
        own_nodes: &[],
        allowed_circles: &[],
    },
];

/// The node of `lib.rs`'s own items; lib.rs is not read for edges, so it closes no circle.
const ROOT: &str = "(lib.rs)";

const ORM_CIRCLE: [&str; 6] = ["column_select", "expr", "model", "relation", "select", "session"];

// ---------------------------------------------------------------------------------------------
// A small tokenizer: identifiers, `::` and single punctuation, with line numbers. Comments,
// string and character literals are dropped.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && (chars.get(i + 1) == Some(&'#') || chars.get(i + 1) == Some(&'"')) && {
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            chars.get(j) == Some(&'"')
        } {
            // raw string r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if chars[j] == '\n' {
                    line += 1;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            if chars.get(i + 1) == Some(&'\\') {
                i += 2;
                while chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1; // a lifetime: its name follows as an identifier
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `b"…"` byte strings: the `b` is followed by a string, which the next round drops.
            out.push((Tok::Ident(word), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&(Tok, usize)>, word: &str) -> bool {
    matches!(t, Some((Tok::Ident(w), _)) if w == word)
}
fn is_punct(t: Option<&(Tok, usize)>, p: char) -> bool {
    matches!(t, Some((Tok::Punct(c), _)) if *c == p)
}
fn is_sep(t: Option<&(Tok, usize)>) -> bool {
    matches!(t, Some((Tok::PathSep, _)))
}

/// Index just past the item that starts at `i` (after its attributes): the first `;` at depth 0
/// or the end of the first balanced `{…}` block.
fn skip_item(toks: &[(Tok, usize)], mut i: usize) -> usize {
    // further attributes
    while is_punct(toks.get(i), '#') && is_punct(toks.get(i + 1), '[') {
        i = skip_balanced(toks, i + 1, '[', ']');
    }
    let mut paren = 0i32;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('(') | Tok::Punct('[') => paren += 1,
            Tok::Punct(')') | Tok::Punct(']') => paren -= 1,
            Tok::Punct(';') if paren == 0 => return i + 1,
            Tok::Punct('{') if paren == 0 => return skip_balanced(toks, i, '{', '}'),
            _ => {}
        }
        i += 1;
    }
    i
}

/// `toks[i]` is `open`; the index just past its matching `close`.
fn skip_balanced(toks: &[(Tok, usize)], mut i: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    while i < toks.len() {
        if is_punct(toks.get(i), open) {
            depth += 1;
        } else if is_punct(toks.get(i), close) {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// Parses a path or use tree starting at `toks[i]` (just after a `::`), every path prefixed by
/// `prefix`. Returns the paths and the index after the tree.
fn parse_tree(toks: &[(Tok, usize)], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix;
    loop {
        match toks.get(i) {
            Some((Tok::Ident(w), _)) if w != "as" => {
                if w != "self" {
                    path.push(w.clone());
                }
                i += 1;
                if is_sep(toks.get(i)) {
                    i += 1;
                    continue;
                }
                return (vec![path], i);
            }
            Some((Tok::Punct('{'), _)) => {
                let mut paths = Vec::new();
                i += 1;
                while i < toks.len() && !is_punct(toks.get(i), '}') {
                    let (sub, next) = parse_tree(toks, i, path.clone());
                    paths.extend(sub);
                    i = next;
                    // skip `as name`, up to the next `,` or `}`
                    while i < toks.len() && !is_punct(toks.get(i), ',') && !is_punct(toks.get(i), '}') {
                        i += 1;
                    }
                    if is_punct(toks.get(i), ',') {
                        i += 1;
                    }
                }
                return (paths, i + 1);
            }
            _ => return (vec![path], i), // `*`, `<`, …: the path ends here
        }
    }
}

// ---------------------------------------------------------------------------------------------

struct Edge {
    from: String,
    to: String,
    at: String,
}

struct Crate {
    files: Vec<(PathBuf, Vec<String>)>,
    modules: BTreeSet<String>,
    /// Names re-exported at the crate root (`pub use x::Y`) → their full path.
    root_names: BTreeMap<String, Vec<String>>,
    /// `#[macro_export]` macros → the module path of the file that defines them.
    macros: BTreeMap<String, Vec<String>>,
    /// Items defined in `lib.rs` itself (not modules): a reference to one is not an edge.
    root_items: BTreeSet<String>,
    /// Its sub-modules that are nodes of their own.
    own_nodes: &'static [&'static str],
}

impl Crate {
    fn node_of(&self, path: &[String]) -> String {
        node_of(self.own_nodes, path)
    }
}

fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    if last != "mod.rs" && !(parts.is_empty() && last == "lib.rs") {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
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

fn node_of(own_nodes: &[&str], path: &[String]) -> String {
    let joined = path.join("::");
    let mut best: Option<&str> = None;
    for own in own_nodes {
        if (joined == *own || joined.starts_with(&format!("{own}::"))) && best.is_none_or(|b| own.len() > b.len()) {
            best = Some(own);
        }
    }
    best.map_or_else(|| path.first().cloned().unwrap_or_default(), str::to_owned)
}

fn load(floors: &Floors) -> Crate {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(floors.dir);
    let src = root.join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    let mut modules = BTreeSet::new();
    let mut macros = BTreeMap::new();
    let mut root_names = BTreeMap::new();
    let mut root_items = BTreeSet::new();
    for file in paths {
        let module = module_path(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        let toks = tokenize(&text);
        for w in toks.windows(3) {
            if is_ident(Some(&w[0]), "macro_rules") && is_punct(Some(&w[1]), '!') {
                if let (Tok::Ident(name), _) = &w[2] {
                    macros.insert(name.clone(), module.clone());
                }
            }
        }
        if module.is_empty() {
            for w in toks.windows(2) {
                if let (Tok::Ident(kw), Tok::Ident(name)) = (&w[0].0, &w[1].0) {
                    if ["struct", "enum", "fn", "trait", "type", "const", "static"].contains(&kw.as_str()) {
                        root_items.insert(name.clone());
                    }
                }
            }
            // lib.rs: its `pub use` lines name the root re-exports
            let mut i = 0;
            while i < toks.len() {
                if is_ident(toks.get(i), "pub") && is_ident(toks.get(i + 1), "use") {
                    let (paths, next) = parse_tree(&toks, i + 2, Vec::new());
                    for p in paths {
                        if let Some(last) = p.last() {
                            root_names.insert(last.clone(), p.clone());
                        }
                    }
                    i = next;
                } else {
                    i += 1;
                }
            }
            continue;
        }
        modules.insert(module[0].clone());
        files.push((file, module));
    }
    Crate { files, modules, root_names, macros, root_items, own_nodes: floors.own_nodes }
}

/// A reference's node, [`ROOT`] for an item of `lib.rs`, `None` when the path names nothing known.
fn resolve(krate: &Crate, path: &[String], depth: usize) -> Option<String> {
    let first = path.first()?;
    if krate.root_items.contains(first) && !krate.root_names.contains_key(first) {
        return Some(ROOT.to_owned());
    }
    if krate.modules.contains(first) {
        return Some(krate.node_of(path));
    }
    if depth < 4 {
        if let Some(full) = krate.root_names.get(first) {
            let mut p = full.clone();
            p.extend(path[1..].iter().cloned());
            return resolve(krate, &p, depth + 1);
        }
    }
    krate.macros.get(first).map(|m| krate.node_of(m))
}

fn edges(krate: &Crate) -> (Vec<Edge>, Vec<String>) {
    let mut edges = Vec::new();
    let mut unresolved = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, module) in &krate.files {
        let from = krate.node_of(module);
        let text = std::fs::read_to_string(file).unwrap();
        let toks = tokenize(&text);
        let shown = file.strip_prefix(src).unwrap().display().to_string();
        // inline modules: (name, brace depth inside them)
        let mut inline: Vec<(String, i32)> = Vec::new();
        let mut depth = 0i32;
        let mut i = 0;
        while i < toks.len() {
            let line = toks[i].1;
            // `#[cfg(test)]` items are left out
            if is_punct(toks.get(i), '#')
                && is_punct(toks.get(i + 1), '[')
                && is_ident(toks.get(i + 2), "cfg")
                && is_punct(toks.get(i + 3), '(')
                && is_ident(toks.get(i + 4), "test")
                && is_punct(toks.get(i + 5), ')')
                && is_punct(toks.get(i + 6), ']')
            {
                i = skip_item(&toks, i + 7);
                continue;
            }
            match &toks[i].0 {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') => {
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                    depth -= 1;
                }
                Tok::Ident(w) if w == "mod" => {
                    if let (Some((Tok::Ident(name), _)), true) = (toks.get(i + 1), is_punct(toks.get(i + 2), '{')) {
                        inline.push((name.clone(), depth + 1));
                    }
                }
                _ => {}
            }
            let here: Vec<String> = module.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect();
            let after_sep = i > 0 && is_sep(toks.get(i - 1));
            let base: Option<(Vec<String>, usize)> = if is_ident(toks.get(i), "crate") && is_sep(toks.get(i + 1)) {
                Some((Vec::new(), i + 2))
            } else if !after_sep && is_ident(toks.get(i), "super") && is_sep(toks.get(i + 1)) {
                let mut up = here.clone();
                let mut j = i;
                while is_ident(toks.get(j), "super") && is_sep(toks.get(j + 1)) {
                    up.pop();
                    j += 2;
                }
                Some((up, j))
            } else if !after_sep && is_ident(toks.get(i), "self") && is_sep(toks.get(i + 1)) {
                Some((here.clone(), i + 2))
            } else {
                None
            };
            if let Some((prefix, start)) = base {
                let (paths, next) = parse_tree(&toks, start, prefix);
                for p in paths {
                    match resolve(krate, &p, 0) {
                        Some(to) if to != from && to != ROOT => {
                            edges.push(Edge { from: from.clone(), to, at: format!("{shown}:{line}") })
                        }
                        Some(_) => {}
                        None if p.is_empty() => {}
                        None => unresolved.push(format!("{shown}:{line}: crate::{}", p.join("::"))),
                    }
                }
                // keep brace counting right: only skip what the tree consumed if it held no `{`
                let consumed_brace = toks[start..next.min(toks.len())].iter().any(|t| t.0 == Tok::Punct('{'));
                i = if consumed_brace { next } else { next.max(i + 1) };
                continue;
            }
            i += 1;
        }
    }
    (edges, unresolved)
}

/// Tarjan's strongly connected components; returns those with more than one member, sorted.
fn circles(nodes: &BTreeSet<String>, edges: &[Edge]) -> Vec<Vec<String>> {
    let names: Vec<&String> = nodes.iter().collect();
    let index_of = |n: &str| names.iter().position(|m| *m == n).unwrap();
    let mut adj = vec![BTreeSet::new(); names.len()];
    for e in edges {
        adj[index_of(&e.from)].insert(index_of(&e.to));
    }
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(v: usize, adj: &[BTreeSet<usize>], s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for &w in &adj[v] {
            match s.index[w] {
                None => {
                    visit(w, adj, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = names.len();
    let mut s = State {
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(v, &adj, &mut s);
        }
    }
    let mut out: Vec<Vec<String>> = s
        .out
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut c: Vec<String> = c.into_iter().map(|i| names[i].clone()).collect();
            c.sort();
            c
        })
        .collect();
    out.sort();
    out
}

#[test]
fn no_crate_has_a_module_circle_outside_its_allow_list() {
    let mut report = String::new();
    for floors in CRATES {
        report.push_str(&module_circles(floors));
    }
    assert!(report.is_empty(), "the floors changed:{report}");
}

fn module_circles(floors: &Floors) -> String {
    let krate = load(floors);
    let (edges, unresolved) = edges(&krate);
    assert!(unresolved.is_empty(), "paths the floor check could not resolve:\n{}", unresolved.join("\n"));
    let mut nodes: BTreeSet<String> = krate.files.iter().map(|(_, m)| krate.node_of(m)).collect();
    nodes.extend(edges.iter().map(|e| e.to.clone()));
    let found = circles(&nodes, &edges);
    let allowed: Vec<Vec<String>> = floors
        .allowed_circles
        .iter()
        .map(|(members, _)| {
            let mut m: Vec<String> = members.iter().map(|s| (*s).to_owned()).collect();
            m.sort();
            m
        })
        .collect();
    let mut imports: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &edges {
        imports.entry(&e.from).or_default().insert(&e.to);
    }
    for (from, to) in &imports {
        println!("{}: {from} imports {}", floors.name, to.iter().copied().collect::<Vec<_>>().join(", "));
    }
    for c in &found {
        println!("{}: circle {c:?}", floors.name);
    }
    let mut report = String::new();
    for c in found.iter().filter(|c| !allowed.contains(c)) {
        report.push_str(&format!("\n{}: new or changed circle {c:?}; its edges:\n", floors.name));
        // edges inside the circle that no allowed circle holds name the culprit
        let mut pairs: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for e in edges.iter().filter(|e| c.contains(&e.from) && c.contains(&e.to)) {
            pairs.entry((&e.from, &e.to)).or_default().insert(&e.at);
        }
        for ((from, to), at) in pairs {
            let known = allowed.iter().any(|a| a.iter().any(|m| m == from) && a.iter().any(|m| m == to));
            let mark = if known { "   " } else { "NEW" };
            let at: Vec<&str> = at.into_iter().collect();
            report.push_str(&format!("  {mark} {from} -> {to}   ({})\n", at.join(", ")));
        }
    }
    for a in allowed.iter().filter(|a| !found.contains(a)) {
        report.push_str(&format!(
            "\n{}: the allowed circle {a:?} is gone or changed: shrink its allowed_circles\n",
            floors.name
        ));
    }
    report
}

/// The Athanor crates named in the `[dependencies]` table of `dir/Cargo.toml` (dev-dependencies
/// are tests' business).
fn athanor_dependencies(dir: &str) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join("Cargo.toml")).unwrap();
    let mut out = BTreeSet::new();
    let mut table = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line.trim_matches(|c| c == '[' || c == ']').to_owned();
            if let Some(dep) = table.strip_prefix("dependencies.") {
                if dep.starts_with("athanor") {
                    out.insert(dep.to_owned());
                }
            }
        } else if table == "dependencies" {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim();
                if name.starts_with("athanor") {
                    out.insert(name.to_owned());
                }
            }
        }
    }
    out
}

#[test]
fn each_crate_depends_only_on_the_floors_below_it() {
    let mut report = String::new();
    for floors in CRATES {
        let allowed: BTreeSet<String> = floors.may_depend_on.iter().map(|s| (*s).to_owned()).collect();
        let found = athanor_dependencies(floors.dir);
        for extra in found.difference(&allowed) {
            report.push_str(&format!("\n{} depends on {extra}, which is not a floor below it", floors.name));
        }
    }
    assert!(report.is_empty(), "crate dependencies:{report}");
}

#[test]
fn every_library_crate_of_the_workspace_is_checked() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let members = manifest.split("members = [").nth(1).unwrap().split(']').next().unwrap();
    let checked: BTreeSet<&str> = CRATES.iter().map(|c| c.dir).collect();
    // The facade, the harnesses and the binaries sit on top and may use every floor.
    let top = [".", "conformance", "benches", "examples/portable-lib", "examples/axum-service", "cli"];
    for member in members.split(',').map(|m| m.trim().trim_matches('"')).filter(|m| !m.is_empty()) {
        assert!(
            checked.contains(member) || top.contains(&member),
            "workspace member {member} is neither in CRATES nor a top-level crate: say which floor it is on"
        );
    }
}
