//! Migrations: a chain of five generated from model changes (create tables, add a column with a
//! default, add an index, add a foreign key, drop a column) is generated once, on SQLite, and the
//! same files run upgrade and downgrade on SQLite, PostgreSQL and MySQL/MariaDB; after every
//! step the database matches that step's models (`migrate check` is empty). The servers are the
//! local test servers; without them the server part prints one `SKIPPED` line, unless `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)] // a test; each version's models are only registered

mod common;

use athanor::admin::drop_database;
use athanor::migrate::{self, Migration};
use athanor::prelude::*;
use std::process::Command;

macro_rules! author {
    () => {
        #[derive(Model, Debug, Clone)]
        #[model(table = "m_authors")]
        pub struct Author {
            #[column(primary_key)]
            pub id: Option<i64>,
            #[column(length = 80)]
            pub name: String,
        }
    };
}

mod v1 {
    use athanor::prelude::*;
    author!();
    #[derive(Model, Debug, Clone)]
    #[model(table = "m_books")]
    pub struct Book {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[column(length = 200)]
        pub title: String,
        pub author_id: i64,
    }
    pub fn base() -> Base {
        Base::new().register::<Author>().register::<Book>()
    }
}

mod v2 {
    use athanor::prelude::*;
    author!();
    #[derive(Model, Debug, Clone)]
    #[model(table = "m_books")]
    pub struct Book {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[column(length = 200)]
        pub title: String,
        pub author_id: i64,
        /// Added with a default, for the rows already there.
        #[column(default = 0)]
        pub pages: i64,
    }
    pub fn base() -> Base {
        Base::new().register::<Author>().register::<Book>()
    }
}

mod v3 {
    use athanor::prelude::*;
    author!();
    #[derive(Model, Debug, Clone)]
    #[model(table = "m_books")]
    pub struct Book {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[column(length = 200, index)]
        pub title: String,
        pub author_id: i64,
        #[column(default = 0)]
        pub pages: i64,
    }
    pub fn base() -> Base {
        Base::new().register::<Author>().register::<Book>()
    }
}

mod v4 {
    use athanor::prelude::*;
    author!();
    #[derive(Model, Debug, Clone)]
    #[model(table = "m_books")]
    pub struct Book {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[column(length = 200, index)]
        pub title: String,
        #[column(foreign_key = "m_authors.id")]
        pub author_id: i64,
        #[column(default = 0)]
        pub pages: i64,
    }
    pub fn base() -> Base {
        Base::new().register::<Author>().register::<Book>()
    }
}

mod v5 {
    use athanor::prelude::*;
    author!();
    #[derive(Model, Debug, Clone)]
    #[model(table = "m_books")]
    pub struct Book {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[column(length = 200, index)]
        pub title: String,
        #[column(foreign_key = "m_authors.id")]
        pub author_id: i64,
    }
    pub fn base() -> Base {
        Base::new().register::<Author>().register::<Book>()
    }
}

fn steps() -> Vec<(&'static str, Base)> {
    vec![
        ("create tables", v1::base()),
        ("add pages with a default", v2::base()),
        ("index titles", v3::base()),
        ("books refer to authors", v4::base()),
        ("drop pages", v5::base()),
    ]
}

/// The database matches `base` (what `migrate check` tells).
fn matches(url: &str, base: &Base, step: &str) {
    let engine = create_engine(url).unwrap();
    let mut conn = engine.connect().unwrap();
    let ops = migrate::generate(&mut conn, &base.metadata()).unwrap();
    let shown: Vec<String> = ops.iter().map(ToString::to_string).collect();
    assert!(shown.is_empty(), "{url} after {step:?} differs from its models: {shown:?}");
}

/// Generate the chain on SQLite, one migration per model change, upgrading as it goes.
fn generate_chain(url: &str, dir: &std::path::Path) -> Vec<Migration> {
    let engine = create_engine(url).unwrap();
    let mut chain: Vec<Migration> = Vec::new();
    for (message, base) in steps() {
        let mut conn = engine.connect().unwrap();
        let ops = migrate::generate(&mut conn, &base.metadata()).unwrap();
        assert!(!ops.is_empty(), "{message}: a change to migrate");
        let m = migrate::next(&chain, message, ops);
        std::fs::write(dir.join(m.file_name()), m.to_json().unwrap()).unwrap();
        chain.push(m);
        migrate::upgrade(&mut conn, &chain, None).unwrap();
        drop(conn);
        matches(url, &base, message);
    }
    assert_eq!(migrate::load_dir(dir).unwrap(), chain, "the files read back as the chain");
    chain
}

/// Upgrade step by step, then downgrade step by step, checking the schema at each step.
fn walk(url: &str, chain: &[Migration]) {
    let engine = create_engine(url).unwrap();
    let steps = steps();
    for (i, m) in chain.iter().enumerate() {
        let mut conn = engine.connect().unwrap();
        assert_eq!(migrate::upgrade(&mut conn, chain, Some(&m.id)).unwrap(), std::slice::from_ref(&m.id));
        if i == 0 {
            conn.batch_execute("INSERT INTO m_authors (id, name) VALUES (1, 'ann')").unwrap();
            conn.batch_execute("INSERT INTO m_books (id, title, author_id) VALUES (1, 'kept', 1)").unwrap();
        }
        drop(conn);
        matches(url, &steps[i].1, steps[i].0);
    }
    let mut conn = engine.connect().unwrap();
    assert_eq!(migrate::current_version(&mut conn).unwrap().as_deref(), Some("0005"));
    let title: String = conn.query_scalar("SELECT title FROM m_books WHERE id = 1", &[]).unwrap();
    assert_eq!(title, "kept", "the rows live through every step");
    drop(conn);
    for i in (0..chain.len()).rev() {
        let target = i.checked_sub(1).map(|p| chain[p].id.clone());
        let mut conn = engine.connect().unwrap();
        assert_eq!(migrate::downgrade(&mut conn, chain, target.as_deref()).unwrap(), [chain[i].id.clone()]);
        drop(conn);
        if i > 0 {
            matches(url, &steps[i - 1].1, steps[i - 1].0);
        }
    }
    let mut conn = engine.connect().unwrap();
    assert_eq!(migrate::current_version(&mut conn).unwrap(), None);
    let left: Vec<String> = athanor::reflect::table_names(&mut conn).unwrap();
    assert_eq!(left, [migrate::VERSION_TABLE], "downgraded to base");
}

fn server(var: &str, default: &str, name: &str) -> Option<(athanor_conformance::scratch::Scratch, String)> {
    common::fresh_database(var, default, name, "migration chain")
}

#[test]
fn a_chain_of_five_runs_up_and_down_on_every_database() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let gen = format!("sqlite://{}", dir.path().join("gen.db").display());
    let chain = generate_chain(&gen, &migrations);
    let ops: Vec<Vec<String>> = chain.iter().map(|m| m.upgrade.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(
        ops,
        [
            vec!["create table m_authors".to_string(), "create table m_books".into()],
            vec!["add column m_books.pages (BigInt)".into()],
            vec!["create index ix_m_books_title".into()],
            vec!["add foreign key m_books.author_id → m_authors.id".into()],
            vec!["drop column m_books.pages".into()],
        ]
    );
    walk(&format!("sqlite://{}", dir.path().join("walk.db").display()), &chain);
    let name = "migrate";
    for (var, default) in [
        ("ATHANOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
        ("ATHANOR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    ] {
        if let Some((_db, url)) = server(var, default, name) {
            walk(&url, &chain);
            drop_database(&url, false).unwrap();
        }
    }

    // The plain binary runs the files: history, status, upgrade, stamp.
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_athanor"))
            .args(args)
            .args(["--dir", migrations.to_str().unwrap()])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (code, history) = run(&["migrate", "history"]);
    assert_eq!(code, Some(0), "{history}");
    assert!(history.starts_with("0001 create tables (2 operation(s))\n0002 add pages with a default"), "{history}");
    assert!(run(&["migrate", "status"]).1.contains("version: base\npending:\n  0001 create tables"));
    assert_eq!(run(&["migrate", "upgrade", "0003"]).1.trim(), "upgraded: 0001, 0002, 0003");
    assert!(run(&["migrate", "status"]).1.contains("version: 0003\npending:\n  0004"));
    assert_eq!(run(&["migrate", "downgrade"]).1.trim(), "downgraded: 0003");
    assert_eq!(run(&["migrate", "stamp", "0005"]).1.trim(), "stamped 0005");
    assert!(run(&["migrate", "status"]).1.contains("up to date"));
    let (code, gen) = run(&["migrate", "check"]);
    assert_eq!(code, Some(1));
    assert!(gen.contains("athanor::cli::run(athanor::cli::app!(), &base)"), "{gen}");

    // An application's binary, with its models: generate and check.
    let app = dir.path().join("app");
    let app_url = format!("sqlite://{}", dir.path().join("app.db").display());
    let cli = |base: &Base, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", &app_url, "--dir", app.to_str().unwrap()]);
        athanor::cli::run_args(Some(base), all)
    };
    let wrote = cli(&v1::base(), &["migrate", "generate", "-m", "Create the tables!"]).unwrap();
    assert!(wrote.contains("0001_create_the_tables.json") && wrote.contains("  create table m_books"), "{wrote}");
    let drift = cli(&v1::base(), &["migrate", "check"]).unwrap_err();
    assert!(matches!(drift, athanor::Error::SchemaDrift { .. }), "{drift:?}");
    assert!(
        drift.to_string().starts_with(
            "the database differs from the models (2 difference(s)):\n  table m_authors: missing in the database\n  \
             table m_books: missing in the database"
        ),
        "{drift}"
    );
    assert_eq!(athanor::cli::exit_code(&drift), 1);
    assert!(cli(&v1::base(), &["migrate", "generate", "-m", "again"])
        .unwrap_err()
        .to_string()
        .contains("upgrade it first"));
    cli(&v1::base(), &["migrate", "upgrade"]).unwrap();
    assert_eq!(cli(&v1::base(), &["migrate", "check"]).unwrap(), "the database matches the models");
    assert_eq!(cli(&v1::base(), &["check"]).unwrap(), "the database matches the models", "`check` is `migrate check`");
    assert!(cli(&v2::base(), &["migrate", "check"])
        .unwrap_err()
        .to_string()
        .contains("m_books.pages: missing in the database"));
}
