//! Large schemas compile with the default recursion limit, however their models are related
//! (issue: a chain of 30 models failed with E0320, and 200 hit the monomorphization limit).
//!
//! Two generated programs (the generator is the benchmark crate's `model_graph.rs`, which
//! `gen_models` also uses): 200 models in a chain (`BelongsTo` the previous, `HasMany` the next)
//! and 100 models in a dense graph (each `BelongsTo` five others, cycles included, and `HasMany`
//! back). Each queries every model with a relationship loaded (`selectinload`,
//! `Session::related`), so the loaders are compiled for every model, and runs: `create_all` and
//! the queries on an SQLite database in memory.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

#[path = "../../../benches/src/model_graph.rs"]
#[allow(dead_code)] // the crate-of-files output is the benchmark's
mod model_graph;

use model_graph::{Graph, Shape};

#[test]
fn relationship_graphs_of_any_length_compile() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("large_schema");
    std::fs::create_dir_all(&dir).unwrap();
    let shapes = [
        ("chain200.rs", Shape { models: 200, columns: 4, graph: Graph::Chain, queries: true }),
        ("dense100.rs", Shape { models: 100, columns: 4, graph: Graph::Dense, queries: true }),
    ];
    let t = trybuild::TestCases::new();
    for (file, shape) in shapes {
        shape.check().unwrap();
        let path = dir.join(file);
        std::fs::write(&path, shape.single_file()).unwrap();
        t.pass(path);
    }
}
