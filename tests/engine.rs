//! Engine behaviour through the facade: URLs, laziness, typed errors, the shared in-memory
//! database, transactions and the statement hook.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use athanor::EngineConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn engine_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Engine>();
}

#[test]
fn malformed_urls_and_unknown_schemes_are_config_errors() {
    for url in [
        "",
        "not a url",
        "oracle://scott@db/orcl",
        "postgres://h:notaport/db",
        "sqlite:relative.db",
        "sqlite:",
        "sqlite:/abs.db",
        "mysql:/root@127.0.0.1/test",
        "postgres:/postgres@127.0.0.1/test",
        "postgres://u@/test",
        "mysql://root@127.0.0.1:3306/test/extra",
    ] {
        match create_engine(url) {
            Err(Error::Config { message }) => assert!(!message.is_empty()),
            other => panic!("{url:?}: expected a Config error, got {other:?}"),
        }
    }
}

#[test]
fn bad_engine_options_are_config_errors() {
    for url in [
        "sqlite::memory:?pool_size=0",
        "sqlite::memory:?pool_size=many",
        "sqlite::memory:?echo=perhaps",
        "sqlite::memory:?isolation_level=chaos",
        "sqlite::memory:?no_such_option=1",
    ] {
        assert!(matches!(create_engine(url), Err(Error::Config { .. })), "{url}");
    }
}

#[test]
fn engine_options_are_read_from_the_url() {
    let e = create_engine("sqlite::memory:?pool_size=3&pool_timeout=2.5&echo=true").unwrap();
    let c = e.config();
    assert_eq!((c.pool_size, c.pool_timeout, c.echo), (3, Duration::from_millis(2500), true));
    let e = athanor::create_engine_with("sqlite::memory:", |c: &mut EngineConfig| c.pool_size = 2).unwrap();
    assert_eq!(e.config().pool_size, 2);
}

#[test]
fn create_engine_does_not_connect() {
    // Nothing listens on port 1: creating the engine succeeds, the first use fails.
    for url in
        ["postgres://postgres@127.0.0.1:1/test?connect_timeout=2", "mysql://root@127.0.0.1:1/test?connect_timeout=2"]
    {
        let engine = create_engine(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(engine.pool_status(), (0, 0), "no connection opened");
        let start = std::time::Instant::now();
        match engine.connect() {
            Err(Error::Connection { disconnect: false, .. }) => {}
            other => panic!("{url}: expected a connection error, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(10), "reported at once, not after the pool timeout");
        // The engine stays usable (here: it keeps failing cleanly).
        assert!(engine.connect().is_err());
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/x.db");
    let engine = create_engine(&format!("sqlite://{}", missing.display())).unwrap();
    assert!(matches!(engine.connect(), Err(Error::Connection { .. })));
}

#[test]
fn memory_database_is_one_database_per_engine() {
    for url in ["sqlite::memory:", "sqlite://", "sqlite:///:memory:"] {
        let engine = create_engine(url).unwrap();
        let mut a = engine.connect().unwrap();
        let mut b = engine.connect().unwrap();
        a.execute("CREATE TABLE t (x INTEGER)", &[]).unwrap();
        a.execute("INSERT INTO t VALUES (?)", &params![7]).unwrap();
        assert_eq!(b.query_scalar::<i64>("SELECT x FROM t", &[]).unwrap(), 7, "{url}: second connection sees it");
        let other = create_engine(url).unwrap();
        assert!(other.connect().unwrap().query("SELECT x FROM t", &[]).is_err(), "{url}: engines do not share");
    }
}

#[test]
fn file_database_relative_and_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let abs = dir.path().join("abs.db");
    let engine = create_engine(&format!("sqlite://{}", abs.display())).unwrap();
    engine.execute("CREATE TABLE t (x INTEGER)", &[]).unwrap();
    assert!(abs.exists());
}

#[test]
fn transaction_commits_rolls_back_and_survives_panics() {
    let engine = create_engine("sqlite::memory:").unwrap();
    engine.execute("CREATE TABLE t (x INTEGER)", &[]).unwrap();
    engine.transaction(|c| c.execute("INSERT INTO t VALUES (1)", &[])).unwrap();
    let r: Result<()> = engine.transaction(|c| {
        c.execute("INSERT INTO t VALUES (2)", &[])?;
        Err(Error::InvalidRequest { message: "no".into() })
    });
    assert!(r.is_err());
    let e2 = engine.clone();
    let p = std::panic::catch_unwind(move || {
        let _ = e2.transaction(|c| -> Result<()> {
            c.execute("INSERT INTO t VALUES (3)", &[])?;
            panic!("boom")
        });
    });
    assert!(p.is_err());
    assert_eq!(engine.connect().unwrap().query_scalar::<i64>("SELECT SUM(x) FROM t", &[]).unwrap(), 1);
}

#[test]
fn statement_hook_and_counter_see_every_statement() {
    let engine = create_engine("sqlite::memory:").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    engine.on_statement(move |ev| sink.lock().unwrap().push((ev.sql.to_string(), ev.params.len())));
    let before = engine.statement_count();
    engine.execute("CREATE TABLE t (x INTEGER)", &[]).unwrap();
    engine.execute("INSERT INTO t VALUES (?)", &params![5]).unwrap();
    assert_eq!(engine.statement_count() - before, 2);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("CREATE TABLE t (x INTEGER)".to_string(), 0), ("INSERT INTO t VALUES (?)".to_string(), 1)]
    );
}

#[test]
fn wrong_parameter_count_and_bad_sql_are_typed_errors() {
    let engine = create_engine("sqlite::memory:").unwrap();
    let mut c = engine.connect().unwrap();
    assert!(matches!(c.execute("SELECT ?", &[]), Err(Error::InvalidRequest { .. })));
    assert!(matches!(c.execute("SELEKT 1", &[]), Err(Error::Database { .. })));
    assert!(matches!(c.query("SELECT * FROM missing", &[]), Err(Error::Database { .. })));
    assert_eq!(c.query_scalar::<i64>("SELECT 1", &[]).unwrap(), 1, "the connection is still usable");
}

/// The SELECT is plain data: rendered for every dialect without a session or a connection, here
/// for PostgreSQL and MySQL whatever backends are compiled in.
#[test]
fn select_renders_for_any_dialect_without_a_connection() {
    use athanor::dialects::{MySqlDialect, PostgresDialect, SqliteDialect};
    let q = athanor::select::<Item>().filter(Item::name.eq("ann")).limit(3);
    let pg = q.to_sql(&PostgresDialect).unwrap();
    assert_eq!(pg.sql, r#"SELECT "items"."id", "items"."name" FROM "items" WHERE "items"."name" = $1 LIMIT 3"#);
    assert_eq!(pg.params, vec![athanor::Value::Text("ann".into())]);
    assert_eq!(
        q.to_sql(&MySqlDialect).unwrap().sql,
        "SELECT `items`.`id`, `items`.`name` FROM `items` WHERE `items`.`name` = ? LIMIT 3"
    );
    assert_eq!(
        q.to_sql(&SqliteDialect).unwrap().sql,
        r#"SELECT "items"."id", "items"."name" FROM "items" WHERE "items"."name" = ? LIMIT 3"#
    );
}

/// A model for the session-free SELECT test.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "items")]
pub struct Item {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// Name.
    pub name: String,
}
