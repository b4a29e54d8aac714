//! Source of a data layer of many `#[derive(Model)]` structs: what a large schema costs the
//! compiler. Used by the `gen_models` binary (BENCHMARKS.md, "Compile time") and by the
//! large-schema test of the derive (`orm/derive/tests/large_schema.rs`, which includes this file
//! by path, so both compile the same models).
//!
//! Each model has a key, the columns asked for of the portable types (`i64`, `i32`, `f64`,
//! `bool`, `String`, `Option<String>`, `Option<i64>` in turn) and the relationships of its
//! [`Graph`]. With `queries`, the crate also queries every model with a relationship loaded
//! (`selectinload`, `Session::related`), so the loaders are compiled for every model, as in an
//! application.

use std::fmt::Write as _;

/// The portable column types, in turn.
const TYPES: &[&str] = &["i64", "i32", "f64", "bool", "String", "Option<String>", "Option<i64>"];

/// `Graph::Dense`: model `i` belongs to model `i + d` (modulo the count) for each `d`.
pub const DENSE: [usize; 5] = [1, 2, 3, 5, 8];

/// How the models are related.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graph {
    /// No relationships.
    None,
    /// Each model `BelongsTo` the previous one and `HasMany` the next: the longest path is the
    /// number of models.
    Chain,
    /// Each model `BelongsTo` five others (`i+1`, `i+2`, `i+3`, `i+5`, `i+8` modulo the count, so
    /// the graph has cycles) and `HasMany` of the five that belong to it.
    Dense,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// How many models.
    pub models: usize,
    /// Columns per model, the key and foreign keys included (at least 2).
    pub columns: usize,
    /// The relationships.
    pub graph: Graph,
    /// Also write `load_all`, which queries each model with a relationship loaded.
    pub queries: bool,
}

impl Shape {
    /// Why this shape cannot be generated, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.columns < 2 {
            return Err("--columns must be at least 2 (a key and a value)".into());
        }
        let most = DENSE[DENSE.len() - 1];
        if self.graph == Graph::Dense && self.models <= most {
            return Err(format!("a dense graph needs more than {most} models"));
        }
        Ok(())
    }

    /// The relationships of model `i`.
    fn relationships(&self, i: usize) -> Vec<Rel> {
        let n = self.models;
        let mut out = Vec::new();
        match self.graph {
            Graph::None => {}
            Graph::Chain => {
                if i > 0 {
                    out.push(Rel::belongs_to("parent", i - 1, "children", format!("m{:03}_id", i - 1)));
                }
                if i + 1 < n {
                    out.push(Rel::has_many("children", i + 1, "parent"));
                }
            }
            Graph::Dense => {
                for d in DENSE {
                    out.push(Rel::belongs_to(&format!("up{d}"), (i + d) % n, &format!("down{d}"), format!("up{d}_id")));
                }
                for d in DENSE {
                    out.push(Rel::has_many(&format!("down{d}"), (i + n - d) % n, &format!("up{d}")));
                }
            }
        }
        out
    }

    /// How many value columns (`c00`, …) model `i` has besides its key and foreign keys.
    fn value_columns(&self, i: usize) -> usize {
        let fks = self.relationships(i).iter().filter(|r| r.foreign_key.is_some()).count();
        (self.columns - 1).saturating_sub(fks)
    }

    /// Model `i`'s module body; `path` leads from its module to the other models' modules
    /// (`super::` when each is a file of the crate, `crate::` for inline modules).
    pub fn model(&self, i: usize, path: &str) -> String {
        let mut s = String::from("use athanor::prelude::*;\n\n");
        writeln!(s, "#[derive(Model, Debug, Clone)]\n#[model(table = \"m{i:03}\")]\npub struct M{i:03} {{").unwrap();
        s.push_str("    #[column(primary_key)]\n    pub id: Option<i64>,\n");
        for r in self.relationships(i) {
            if let Some(fk) = &r.foreign_key {
                writeln!(s, "    #[column(foreign_key = \"m{:03}.id\")]\n    pub {fk}: Option<i64>,", r.other).unwrap();
            }
            // With queries, a chain loads itself whole: each level's children by default.
            let lazy = if self.queries && self.graph == Graph::Chain && r.kind == "HasMany" {
                ", lazy = \"selectin\""
            } else {
                ""
            };
            writeln!(
                s,
                "    #[relationship(back_populates = \"{}\"{lazy})]\n    pub {}: {}<{path}m{:03}::M{:03}>,",
                r.back, r.field, r.kind, r.other, r.other
            )
            .unwrap();
        }
        for c in 0..self.value_columns(i) {
            writeln!(s, "    pub c{c:02}: {},", TYPES[c % TYPES.len()]).unwrap();
        }
        s.push_str("}\n");
        s
    }

    /// `base()`, which registers every model, and with `queries`, `load_all()`.
    pub fn uses(&self) -> String {
        let mut s = String::from(
            "\n/// Every model registered, so the crate uses each one.\npub fn base() -> athanor::Base {\n    athanor::Base::new()\n",
        );
        for i in 0..self.models {
            writeln!(s, "        .register::<m{i:03}::M{i:03}>()").unwrap();
        }
        s.push_str("}\n");
        if !self.queries {
            return s;
        }
        s.push_str("\n/// Each model queried with a relationship loaded, as an application would.\n");
        s.push_str("pub fn load_all(session: &athanor::Session) -> athanor::Result<usize> {\n");
        s.push_str("    use athanor::prelude::*;\n    let mut n = 0;\n");
        for i in 0..self.models {
            let m = format!("m{i:03}::M{i:03}");
            match self.relationships(i).first() {
                Some(r) => {
                    let count = if r.kind == "HasMany" { ".len()" } else { ".map_or(0, |_| 1)" };
                    writeln!(
                        s,
                        "    for h in session.query::<{m}>().options(selectinload({m}::{f})).all()? {{\n        \
                         n += session.related(&h, {m}::{f})?{count};\n    }}",
                        f = r.field
                    )
                    .unwrap()
                }
                None => writeln!(s, "    n += session.query::<{m}>().all()?.len();").unwrap(),
            }
        }
        s.push_str("    Ok(n)\n}\n");
        s
    }

    /// The crate as separate files: `(path in the crate, text)`, `Cargo.toml` first, depending on
    /// Athanor at `athanor`.
    pub fn crate_files(&self, athanor: &str) -> Vec<(String, String)> {
        let manifest = format!(
            "[package]\nname = \"gen-models\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nathanor = {{ path = {athanor:?} }}\n\n[workspace]\n"
        );
        let mut lib =
            String::from("//! Generated by athanor-bench's gen_models.\n#![allow(missing_docs, dead_code)]\n\n");
        let mut files = vec![("Cargo.toml".to_string(), manifest)];
        for i in 0..self.models {
            writeln!(lib, "pub mod m{i:03};").unwrap();
            files.push((format!("src/m{i:03}.rs"), self.model(i, "super::")));
        }
        lib.push_str(&self.uses());
        files.push(("src/lib.rs".to_string(), lib));
        files
    }

    /// The crate as one program (inline modules) whose `main` creates every table in an SQLite
    /// database in memory and, with `queries`, runs `load_all` there.
    pub fn single_file(&self) -> String {
        let mut s =
            String::from("//! Generated by athanor-bench's model_graph.\n#![allow(missing_docs, dead_code)]\n\n");
        for i in 0..self.models {
            writeln!(s, "pub mod m{i:03} {{\n{}}}\n", self.model(i, "crate::")).unwrap();
        }
        s.push_str(&self.uses());
        s.push_str(
            "\nfn main() -> athanor::Result<()> {\n    let engine = athanor::create_engine(\"sqlite::memory:\")?;\n",
        );
        s.push_str("    base().metadata().create_all(&engine)?;\n");
        if self.queries {
            s.push_str("    let session = athanor::sessionmaker(&engine).session();\n    assert_eq!(load_all(&session)?, 0);\n");
        }
        s.push_str("    Ok(())\n}\n");
        s
    }
}

/// Diesel's SQL type for each of [`TYPES`].
const DIESEL_TYPES: &[&str] = &["BigInt", "Integer", "Double", "Bool", "Text", "Nullable<Text>", "Nullable<BigInt>"];

impl Shape {
    /// The same models for Diesel (2.x, `64-column-tables`, SQLite): a `table!` and a struct
    /// deriving `Queryable`, `Selectable` and `Insertable` per model, and with `queries`, a
    /// `load_all` that loads every table. Only for [`Graph::None`] (Diesel's associations are
    /// not fields, so a graph is not the same program).
    pub fn diesel_crate_files(&self) -> Result<Vec<(String, String)>, String> {
        if self.graph != Graph::None {
            return Err("the Diesel crate has no relationships: use it without --chain/--dense".into());
        }
        let manifest = "[package]\nname = \"gen-diesel\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ndiesel = { version = \"2.3\", default-features = false, features = [\"sqlite\", \"64-column-tables\"] }\n\n\
             [workspace]\n"
            .to_string();
        let mut files = vec![("Cargo.toml".to_string(), manifest)];
        let mut lib = String::from(
            "//! Generated by athanor-bench's gen_models (--diesel).\n#![allow(missing_docs, dead_code)]\n\n",
        );
        for i in 0..self.models {
            writeln!(lib, "pub mod m{i:03};").unwrap();
            let mut m = String::from("use diesel::prelude::*;\n\ndiesel::table! {\n");
            writeln!(m, "    m{i:03} (id) {{\n        id -> BigInt,").unwrap();
            for c in 0..self.columns - 1 {
                writeln!(m, "        c{c:02} -> {},", DIESEL_TYPES[c % DIESEL_TYPES.len()]).unwrap();
            }
            m.push_str("    }\n}\n\n#[derive(Queryable, Selectable, Insertable, Debug, Clone)]\n");
            writeln!(m, "#[diesel(table_name = m{i:03})]\n#[diesel(check_for_backend(diesel::sqlite::Sqlite))]")
                .unwrap();
            writeln!(m, "pub struct M{i:03} {{\n    pub id: i64,").unwrap();
            for c in 0..self.columns - 1 {
                writeln!(m, "    pub c{c:02}: {},", TYPES[c % TYPES.len()]).unwrap();
            }
            m.push_str("}\n");
            files.push((format!("src/m{i:03}.rs"), m));
        }
        if self.queries {
            lib.push_str("\n/// Every table loaded, as an application would.\n");
            lib.push_str("pub fn load_all(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<usize> {\n");
            lib.push_str("    use diesel::prelude::*;\n    let mut n = 0;\n");
            for i in 0..self.models {
                writeln!(
                    lib,
                    "    n += m{i:03}::m{i:03}::table.select(m{i:03}::M{i:03}::as_select()).load(conn)?.len();"
                )
                .unwrap();
            }
            lib.push_str("    Ok(n)\n}\n");
        }
        files.push(("src/lib.rs".to_string(), lib));
        Ok(files)
    }
}

/// One relationship field of a generated model.
struct Rel {
    field: String,
    kind: &'static str,
    other: usize,
    back: String,
    /// The foreign-key column a `BelongsTo` holds.
    foreign_key: Option<String>,
}

impl Rel {
    fn belongs_to(field: &str, other: usize, back: &str, fk: String) -> Rel {
        Rel { field: field.into(), kind: "BelongsTo", other, back: back.into(), foreign_key: Some(fk) }
    }
    fn has_many(field: &str, other: usize, back: &str) -> Rel {
        Rel { field: field.into(), kind: "HasMany", other, back: back.into(), foreign_key: None }
    }
}
