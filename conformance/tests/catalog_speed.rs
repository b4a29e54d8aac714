//! Reflection of one schema on a server that holds many others (issue 21, item 4): the catalog
//! queries must find one schema's tables without scanning every other schema's. Opt-in, since
//! it makes 500 databases (MySQL) or schemas (PostgreSQL) on the test servers; every name is a
//! scratch name (`ath_<token>_…`), dropped at the end, passing or panicking, and swept by the
//! next test process if this one is killed:
//!
//! ```text
//! ATHANOR_TEST_MYSQL_URL=… ATHANOR_TEST_POSTGRES_URL=… \
//!   cargo test -p athanor-conformance --test catalog_speed -- --ignored --nocapture
//! ```
//!
//! `ATHANOR_CATALOG_OTHERS` sets how many other schemas (500 by default). The times are printed,
//! never asserted (a timed assertion fails on a busy machine); what is asserted is that all 100
//! tables reflect, with their keys.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::backend::ConnectOptions;
use athanor::{create_engine, Engine};
use athanor_conformance::scratch::{self, Scratch, Server};
use std::time::Instant;

const TABLES: usize = 100;

fn others() -> usize {
    std::env::var("ATHANOR_CATALOG_OTHERS").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}

/// The admin engine on the configured server, or `None` (after a line) when it is unreachable.
fn admin(backend: &str) -> Option<(String, Engine)> {
    let url = athanor::testing::target_url(backend)?;
    match create_engine(&url).and_then(|e| e.connect().map(|_| e)) {
        Ok(e) => Some((url, e)),
        Err(e) => {
            assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{backend} unreachable in CI: {e}");
            println!("SKIPPED catalog speed on {backend}: {e}");
            None
        }
    }
}

/// `TABLES` tables, each with a key, a foreign key to the one before, a unique column and an
/// index, in `qualifier` (an empty string: the connection's own schema).
fn target_ddl(q: &str, quote: char) -> Vec<String> {
    (0..TABLES)
        .map(|i| {
            let fk = if i == 0 {
                String::new()
            } else {
                format!(", prev_id INTEGER REFERENCES {q}{quote}t{:03}{quote} (id)", i - 1)
            };
            format!(
                "CREATE TABLE {q}{quote}t{i:03}{quote} (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(20) UNIQUE, \
                 price DECIMAL(10,2), at_time TIMESTAMP NULL{fk})"
            )
        })
        .collect()
}

/// Reflect every table of `url`'s database, `rounds` times: the fastest time and the tables.
fn time_reflection(url: &str) -> (f64, usize) {
    let engine = create_engine(url).unwrap();
    let mut conn = engine.connect().unwrap();
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let tables = athanor::reflect::reflect(&mut conn).unwrap();
        best = best.min(start.elapsed().as_secs_f64());
        count = tables.len();
        assert!(tables.iter().all(|t| t.primary_key == ["id"]), "every table reflects with its key");
        assert_eq!(tables.iter().filter(|t| t.foreign_keys.len() == 1).count(), TABLES - 1);
    }
    (best, count)
}

#[test]
#[ignore = "makes 500 databases on the MySQL test server; run with --ignored"]
fn mysql_reflection_of_one_database_among_many() {
    let Some((server, admin)) = admin("mysql") else { return };
    let mut guards: Vec<Scratch> = Vec::new();
    let n = others();
    let start = Instant::now();
    for i in 0..n {
        let name = scratch::name(&server, &format!("cat_other_{i}")).unwrap();
        guards.push(Scratch::database(admin.clone(), Server::MySql, name.clone()));
        admin.execute(&format!("CREATE DATABASE `{name}`"), &[]).unwrap();
        for t in ["a", "b"] {
            admin
                .execute(
                    &format!("CREATE TABLE `{name}`.`{t}` (id INT PRIMARY KEY, v VARCHAR(20) UNIQUE) ENGINE=InnoDB"),
                    &[],
                )
                .unwrap();
        }
    }
    println!("made {n} other databases in {:.1} s", start.elapsed().as_secs_f64());
    let target = scratch::name(&server, "cat_target").unwrap();
    guards.push(Scratch::database(admin.clone(), Server::MySql, target.clone()));
    admin.execute(&format!("CREATE DATABASE `{target}`"), &[]).unwrap();
    for sql in target_ddl(&format!("`{target}`."), '`') {
        admin.execute(&sql, &[]).unwrap();
    }
    let url = ConnectOptions::parse(&server).and_then(|o| o.with_database(&target)).unwrap();
    let (secs, count) = time_reflection(&url);
    assert_eq!(count, TABLES);
    println!("MySQL/MariaDB: reflected {count} tables among {n} other databases in {secs:.3} s");
}

#[test]
#[ignore = "makes 500 schemas in the PostgreSQL test database; run with --ignored"]
fn postgres_reflection_of_one_schema_among_many() {
    let Some((server, admin)) = admin("postgres") else { return };
    let mut guards: Vec<Scratch> = Vec::new();
    let n = others();
    let start = Instant::now();
    for i in 0..n {
        let name = scratch::name(&server, &format!("cat_other_{i}")).unwrap();
        guards.push(Scratch::schema(admin.clone(), name.clone()));
        let mut sql = format!("CREATE SCHEMA \"{name}\";");
        for t in ["a", "b"] {
            sql.push_str(&format!("CREATE TABLE \"{name}\".\"{t}\" (id INT PRIMARY KEY, v VARCHAR(20) UNIQUE);"));
        }
        admin.connect().unwrap().batch_execute(&sql).unwrap();
    }
    println!("made {n} other schemas in {:.1} s", start.elapsed().as_secs_f64());
    let target = scratch::name(&server, "cat_target").unwrap();
    guards.push(Scratch::schema(admin.clone(), target.clone()));
    let mut conn = admin.connect().unwrap();
    conn.batch_execute(&format!("CREATE SCHEMA \"{target}\"")).unwrap();
    for sql in target_ddl(&format!("\"{target}\"."), '"') {
        conn.batch_execute(&sql).unwrap();
    }
    drop(conn);
    let sep = if server.contains('?') { '&' } else { '?' };
    let (secs, count) = time_reflection(&format!("{server}{sep}search_path={target}"));
    assert_eq!(count, TABLES);
    println!("PostgreSQL: reflected {count} tables among {n} other schemas in {secs:.3} s");
}
