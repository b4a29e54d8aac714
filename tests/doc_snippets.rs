//! Every Rust snippet in README.md and docs/*.md compiles, so the docs cannot go stale.
//!
//! Each fenced block whose info string is `rust` is written to its own file and compiled
//! (trybuild `pass`) against the facade with every backend and type feature. The docs stay
//! readable: the models and variables a fragment uses (`session`, `s`, `engine`, `User`, …)
//! come from the context file of its document, `tests/doc_snippets/<doc>.rs`, not from hidden
//! lines in the Markdown. A block of items only (structs, impls, `fn main`) is compiled at the
//! top level of its file; any other block is the body of a function that is compiled, never
//! run, so no snippet needs a database. A block whose info string is `rust,ignore` is skipped;
//! the text around it must say why.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

/// The Rust blocks of a Markdown file: (line of the opening fence, code).
fn rust_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some((start, true, code)) => blocks.push((start, code)),
                Some(_) => {}
                None => open = Some((n + 1, info.trim() == "rust", String::new())),
            }
        } else if let Some((_, _, code)) = open.as_mut() {
            code.push_str(line);
            code.push('\n');
        }
    }
    assert!(open.is_none(), "an unclosed code fence");
    blocks
}

/// `true` when every top-level line of the block starts an item (or continues one), so the
/// block belongs at the top level of a file rather than in a function body.
fn items_only(code: &str) -> bool {
    let mut depth = 0i32;
    for line in code.lines() {
        let t = line.trim();
        if depth == 0 && !t.is_empty() && !t.starts_with("//") && !t.starts_with('}') {
            let item = [
                "#[", "#!", "use ", "pub ", "fn ", "struct ", "enum ", "impl ", "mod ", "const ", "static ", "type ",
                "trait ",
            ]
            .iter()
            .any(|p| t.starts_with(p))
                || t.starts_with("athanor::alias!")
                || t.starts_with("alias!");
            if !item {
                return false;
            }
        }
        depth += line.matches(['{', '(', '[']).count() as i32 - line.matches(['}', ')', ']']).count() as i32;
    }
    true
}

/// The parameters of the function a fragment becomes: the context file's `// params: …` line,
/// else a session (as `session` and `s`) and an engine.
fn params(context: &str) -> &str {
    context
        .lines()
        .find_map(|l| l.trim().strip_prefix("// params:"))
        .map_or("session: &Session, s: &Session, engine: &Engine", str::trim)
}

fn generate(out: &Path, doc: &str, context: &str, line: usize, code: &str) -> PathBuf {
    let name = format!("{}_{line}.rs", doc.replace(['/', '.', '-'], "_"));
    // A snippet's own `fn main` is compiled, not run (it may open a database or parse arguments).
    let code = code.replace("fn main(", "fn __doc_main(");
    let body = if items_only(&code) {
        code
    } else {
        format!(
            "#[allow(unused_variables, unused_mut, unreachable_code, clippy::all)]\n\
             fn __snippet({}) -> athanor::Result<()> {{\n\
             {code}\n    #[allow(unreachable_code)]\n    Ok(())\n}}\n",
            params(context)
        )
    };
    // The context's models are glob-imported, so a snippet's own item of the same name wins.
    let text = format!(
        "// Generated from {doc}:{line} by tests/doc_snippets.rs; do not edit.\n\
         #![allow(dead_code, unused_imports, non_upper_case_globals, clippy::all)]\n\
         use athanor::prelude::*;\n\
         use __context::*;\n\
         mod __context {{\n{context}\n}}\n\
         // ---- the snippet ----\n\
         {body}\n\
         fn main() {{}}\n"
    );
    let path = out.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_rust_snippet_in_the_docs_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("doc-snippets");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut docs = vec![root.join("README.md")];
    let mut md: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    md.sort();
    docs.extend(md);

    // Snippets write `athanor::migrate::embedded!("migrations")`, read relative to the crate
    // trybuild compiles them in: give it the test fixtures' migrations there.
    let project = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("tests/trybuild/athanor/migrations");
    std::fs::create_dir_all(&project).unwrap();
    for f in std::fs::read_dir(root.join("tests/fixtures/migrations")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, project.join(f.file_name().unwrap())).unwrap();
    }

    let t = trybuild::TestCases::new();
    let mut count = 0;
    for doc in &docs {
        let rel = doc.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let stem = doc.file_stem().unwrap().to_string_lossy().to_lowercase();
        let context_file = root.join("tests/doc_snippets").join(format!("{stem}.rs"));
        let blocks = rust_blocks(&std::fs::read_to_string(doc).unwrap());
        if blocks.is_empty() {
            continue;
        }
        let context = std::fs::read_to_string(&context_file)
            .unwrap_or_else(|e| panic!("{rel} has Rust snippets but no context file {}: {e}", context_file.display()));
        for (line, code) in blocks {
            t.pass(generate(&out, &rel, &context, line, &code));
            count += 1;
        }
    }
    assert!(count >= 20, "found only {count} Rust snippets: did the fence parsing break?");
}
