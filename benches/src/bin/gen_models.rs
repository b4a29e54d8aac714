//! Writes a crate of many `#[derive(Model)]` structs, to measure what a large data layer costs
//! the compiler (BENCHMARKS.md, "Compile time"; `benches/compile-time.sh` runs it).
//!
//! ```text
//! cargo run -p athanor-bench --bin gen_models -- DIR [--models 100] [--columns 60]
//!     [--chain | --dense] [--queries] [--athanor PATH] [--single-file | --diesel]
//! ```
//!
//! One module file per model (see `model_graph.rs` for what each holds). `--chain`: each model
//! `BelongsTo` the previous one and `HasMany` the next. `--dense`: each `BelongsTo` five others,
//! cycles included, and `HasMany` back. `--queries`: `lib.rs` also queries every model with a
//! relationship loaded. `--athanor` is the path of the Athanor workspace the crate depends on
//! (default: this one). `--single-file`: write `DIR/main.rs` only, the whole crate as one program
//! (what the derive's large-schema test compiles), to read or to compile by hand. `--diesel`:
//! the same models as a Diesel crate (`table!` and derives, no relationships), to compare.
#![allow(clippy::unwrap_used)]

#[path = "../model_graph.rs"]
mod model_graph;

use model_graph::{Graph, Shape};
use std::path::PathBuf;

#[derive(PartialEq)]
enum Output {
    Crate,
    SingleFile,
    Diesel,
}

fn parse() -> Result<(PathBuf, PathBuf, Shape, Output), String> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut athanor = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut shape = Shape { models: 100, columns: 60, graph: Graph::None, queries: false };
    let mut output = Output::Crate;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--models" => shape.models = value("--models")?.parse().map_err(|e| format!("--models: {e}"))?,
            "--columns" => shape.columns = value("--columns")?.parse().map_err(|e| format!("--columns: {e}"))?,
            "--chain" => shape.graph = Graph::Chain,
            "--dense" => shape.graph = Graph::Dense,
            "--queries" => shape.queries = true,
            "--single-file" => output = Output::SingleFile,
            "--diesel" => output = Output::Diesel,
            "--athanor" => athanor = PathBuf::from(value("--athanor")?),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir =
        dir.ok_or("usage: gen_models DIR [--models N] [--columns N] [--chain | --dense] [--queries] [--athanor PATH] [--single-file | --diesel]")?;
    shape.check()?;
    Ok((dir, athanor, shape, output))
}

fn main() {
    let (dir, athanor, shape, output) = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if output == Output::SingleFile {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.rs"), shape.single_file()).unwrap();
        println!("wrote {}", dir.join("main.rs").display());
        return;
    }
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let athanor = std::fs::canonicalize(&athanor).unwrap();
    let files = match output {
        Output::Diesel => shape.diesel_crate_files().unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
        _ => shape.crate_files(&athanor.display().to_string()),
    };
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap();
    }
    println!(
        "wrote {} ({} models x {} columns, relationships: {:?}{})",
        dir.display(),
        shape.models,
        shape.columns,
        shape.graph,
        if shape.queries { ", with queries" } else { "" }
    );
}
