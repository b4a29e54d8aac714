//! `athanor::admin`: creating and dropping whole databases on every backend. The server tests
//! use `ATHANOR_TEST_POSTGRES_URL` / `ATHANOR_TEST_MYSQL_URL` only to find the server; they
//! create and drop a database of their own. An unset variable skips its test with one line;
//! a server that is set but unreachable too, unless `CI=true` (`athanor::testing`'s rule).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::admin::{create_database, drop_database, Outcome};
use athanor::backend::ConnectOptions;
use athanor::testing::scratch;
use athanor::{create_engine, Error};

#[test]
fn sqlite_database_is_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("made.db");
    let url = format!("sqlite://{}", path.display());
    assert_eq!(create_database(&url, false).unwrap(), Outcome::Done);
    assert!(path.exists());
    assert!(matches!(create_database(&url, false), Err(Error::InvalidRequest { .. })));
    assert_eq!(create_database(&url, true).unwrap(), Outcome::Unchanged);
    // A WAL companion goes with it.
    let engine = create_engine(&url).unwrap();
    engine.connect().unwrap().batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
    drop(engine);
    assert_eq!(drop_database(&url, false).unwrap(), Outcome::Done);
    assert!(!path.exists());
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "no -wal or -shm file is left");
    assert!(matches!(drop_database(&url, false), Err(Error::InvalidRequest { .. })));
    assert_eq!(drop_database(&url, true).unwrap(), Outcome::Unchanged);
    assert!(matches!(create_database("sqlite::memory:", true), Err(Error::InvalidRequest { .. })));
}

/// The URL of a test server (`backend`'s `ATHANOR_TEST_<BACKEND>_URL`), or `None` after the
/// skip line.
fn server(backend: &str) -> Option<String> {
    let url = athanor::testing::target_url(backend)?;
    match create_engine(&url).and_then(|e| e.connect().map(drop)) {
        Ok(()) => Some(url),
        Err(e) => {
            athanor::testing::unreachable(backend, &url, &e.to_string());
            None
        }
    }
}

fn create_use_and_drop(server_url: &str) {
    let name = scratch::name(server_url, "admin").unwrap();
    let url = ConnectOptions::parse(server_url).unwrap().with_database(&name).unwrap();
    // Dropped when the test ends, even when an assertion below fails.
    let admin = create_engine(server_url).unwrap();
    let _guard = scratch::Scratch::database(admin, scratch::Server::of(server_url).unwrap(), name);
    assert_eq!(create_database(&url, false).unwrap(), Outcome::Done);
    assert!(matches!(create_database(&url, false), Err(Error::InvalidRequest { .. })));
    assert_eq!(create_database(&url, true).unwrap(), Outcome::Unchanged);
    {
        let engine = create_engine(&url).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        assert_eq!(conn.query_scalar::<i64>("SELECT COUNT(*) FROM t", &[]).unwrap(), 0);
    } // its pool is closed here, so the database is not in use
    assert_eq!(drop_database(&url, false).unwrap(), Outcome::Done);
    assert!(matches!(drop_database(&url, false), Err(Error::InvalidRequest { .. })));
    assert_eq!(drop_database(&url, true).unwrap(), Outcome::Unchanged);
    let gone = create_engine(&url).and_then(|e| e.connect().map(drop));
    assert!(gone.is_err(), "the database is gone");
}

#[test]
fn postgres_database_is_made_by_statement() {
    if let Some(url) = server("postgres") {
        create_use_and_drop(&url);
    }
}

#[test]
fn mysql_database_is_made_by_statement() {
    if let Some(url) = server("mysql") {
        create_use_and_drop(&url);
    }
}
