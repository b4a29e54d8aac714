//! `athanor::migrate::embedded!` and migrations at startup on every configured backend: the
//! files compiled in apply once, a second start applies nothing, instances starting together
//! migrate once between them (an advisory lock on the servers, a version check under the write
//! lock on SQLite), and a lock held too long is a typed timeout.
#![cfg(feature = "migrate")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::migrate::{self, EmbeddedMigrations};
use athanor::prelude::*;
use athanor::testing;
use std::sync::{Arc, Barrier};
use std::time::Duration;

static MIGRATIONS: EmbeddedMigrations = athanor::migrate::embedded!("tests/fixtures/migrations");

/// What the migrations make.
#[derive(Model, Debug)]
#[model(table = "embedded_authors")]
pub struct Author {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 100)]
    pub name: String,
    /// Year of birth (added by the second migration, default 1900).
    pub born: i64,
}

fn each_backend(test: impl Fn(&str, &str)) {
    for (backend, db) in testing::configured_databases() {
        test(backend, db.url());
    }
}

#[test]
fn the_files_are_compiled_in_and_chain() {
    let names: Vec<_> = MIGRATIONS.files().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["0001_create_authors.json", "0002_add_born.json"]);
    let chain = MIGRATIONS.chain().unwrap();
    assert_eq!(chain.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0001", "0002"]);
}

#[test]
fn a_broken_file_is_named_when_the_set_is_read() {
    static BROKEN: EmbeddedMigrations = EmbeddedMigrations::new(&[("0001_x.json", "{ not json")]);
    let e = BROKEN.chain().unwrap_err().to_string();
    assert!(e.contains("0001_x.json"), "{e}");
    static GAP: EmbeddedMigrations =
        EmbeddedMigrations::new(&[("0002_y.json", r#"{"id":"0002","parent":"0001","message":"y","upgrade":[]}"#)]);
    let e = GAP.chain().unwrap_err().to_string();
    assert!(e.contains("gap or a branch"), "{e}");
}

#[test]
fn one_call_brings_the_database_up_to_date_and_a_second_applies_nothing() {
    each_backend(|backend, url| {
        let engine = create_engine(url).unwrap();
        assert_eq!(MIGRATIONS.pending(&engine).unwrap(), ["0001", "0002"], "{backend}");
        assert_eq!(MIGRATIONS.upgrade(&engine).unwrap(), ["0001", "0002"], "{backend}");
        assert!(MIGRATIONS.pending(&engine).unwrap().is_empty());
        assert!(MIGRATIONS.upgrade(&engine).unwrap().is_empty(), "{backend}: already up to date");
        let s = sessionmaker(&engine).session();
        s.add(Author { id: None, name: "Le Guin".into(), born: 1929 });
        s.commit().unwrap();
        assert_eq!(s.query::<Author>().count().unwrap(), 1);
        let mut conn = engine.connect().unwrap();
        assert_eq!(migrate::current_version(&mut conn).unwrap().as_deref(), Some("0002"));
    });
}

#[test]
fn instances_starting_together_migrate_once_between_them() {
    each_backend(|backend, url| {
        let n = 4;
        let barrier = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let (url, barrier) = (url.to_string(), barrier.clone());
                std::thread::spawn(move || {
                    // Each "instance" has its own engine, as separate processes would.
                    let engine = create_engine(&url).unwrap();
                    engine.connect().unwrap();
                    barrier.wait();
                    MIGRATIONS.upgrade(&engine)
                })
            })
            .collect();
        let mut applied = Vec::new();
        for t in threads {
            applied.extend(t.join().unwrap().unwrap_or_else(|e| panic!("{backend}: {e}")));
        }
        applied.sort();
        assert_eq!(applied, ["0001", "0002"], "{backend}: each migration applied exactly once");
        let engine = create_engine(url).unwrap();
        assert!(MIGRATIONS.pending(&engine).unwrap().is_empty());
    });
}

#[test]
fn a_lock_held_by_another_process_past_the_wait_is_a_lock_timeout() {
    each_backend(|backend, url| {
        let engine = create_engine(url).unwrap();
        let Some(lock) = engine.dialect().advisory_lock() else {
            assert_eq!(backend, "sqlite", "only SQLite has no advisory lock");
            return;
        };
        let mut holder = engine.connect().unwrap();
        let name = [Value::Text(migrate::LOCK_NAME.into())];
        assert_eq!(holder.query_scalar::<i64>(lock.try_acquire, &name).unwrap(), 1, "{backend}");
        let mut conn = engine.connect().unwrap();
        let chain = MIGRATIONS.chain().unwrap();
        let err = migrate::upgrade_locked(&mut conn, &chain, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{backend}: {err}");
        assert_eq!(migrate::current_version(&mut conn).unwrap(), None, "{backend}: nothing applied");
        holder.query(lock.release, &name).unwrap();
        assert_eq!(migrate::upgrade_locked(&mut conn, &chain, Duration::from_secs(5)).unwrap(), ["0001", "0002"]);
        // Released at the end: another connection takes it at once.
        assert_eq!(holder.query_scalar::<i64>(lock.try_acquire, &name).unwrap(), 1, "{backend}");
        holder.query(lock.release, &name).unwrap();
    });
}
