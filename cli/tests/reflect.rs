//! `athanor reflect`: a schema made by `create_all` is listed, and `--rust` prints models that
//! compile (the printed structs for the conformance schemas are checked in under `reflected/`
//! and compiled into this test).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::process::Command;

/// The models `reflect --rust` printed for the blog schema on SQLite, compiled here.
#[allow(dead_code, missing_docs, clippy::all)]
mod blog_sqlite {
    include!("reflected/blog_sqlite.rs");
}

/// And for the schema of every column type.
#[allow(dead_code, missing_docs, clippy::all)]
mod types_sqlite {
    include!("reflected/types_sqlite.rs");
}

fn reflect(url: &str, rust: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_athanor"));
    cmd.args(["reflect", url]);
    if rust {
        cmd.arg("--rust");
    }
    let out = cmd.output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh SQLite file with `base`'s tables.
fn schema(base: &athanor::Base) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    base.metadata().create_all(&athanor::create_engine(&url).unwrap()).unwrap();
    (dir, url)
}

fn golden(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reflected").join(name);
    if std::env::var("ATHANOR_BLESS").is_ok() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(got, want, "{name} differs (ATHANOR_BLESS=1 rewrites it; read the diff first)");
}

#[test]
fn rust_output_for_the_blog_schema_compiles_and_is_stable() {
    let (_dir, url) = schema(&athanor_conformance::models::blog::base());
    golden("blog_sqlite.rs", &reflect(&url, true));
    // The printed models make the same schema again.
    use blog_sqlite::*;
    let (_again, url2) = schema(
        &athanor::Base::new()
            .register::<Users>()
            .register::<Categories>()
            .register::<Posts>()
            .register::<Comments>()
            .register::<Tags>()
            .register::<PostTags>()
            .register::<Reviews>(),
    );
    assert_eq!(reflect(&url2, false), reflect(&url, false));
}

#[test]
fn rust_output_for_every_column_type_compiles() {
    let (_dir, url) = schema(&athanor_conformance::models::base());
    golden("types_sqlite.rs", &reflect(&url, true));
}

#[test]
fn listing_shows_keys_constraints_and_indexes() {
    let (_dir, url) = schema(&athanor_conformance::models::blog::base());
    let text = reflect(&url, false);
    for line in [
        "table posts",
        "  id INTEGER (BigInt) NOT NULL generated",
        "  primary key (id)",
        "  foreign key (user_id) references users (id)",
        "  index ix_posts_user_id (user_id)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing in:\n{text}");
    }
    assert!(text.contains("  unique (name)"), "{text}");
}
