//! The SQLite backend end to end: opened through its descriptor and a parsed URL, used directly
//! and through core's pooled `Engine`.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{
    ConnectOptions, Driver, Engine, EngineConfig, Error, IntegrityKind, IsolationLevel, RawConnection, Result,
    TxOptions, Value, ValueRef,
};
use athanor_sqlite::backend;
use std::sync::Arc;

fn driver(url: &str) -> Arc<dyn Driver> {
    (backend().open)(&ConnectOptions::parse(url).unwrap()).unwrap()
}

fn engine(url: &str) -> Engine {
    let o = ConnectOptions::parse(url).unwrap();
    Engine::new((backend().open)(&o).unwrap(), &o, EngineConfig::default()).unwrap()
}

/// Collect a query's rows as owned values.
fn rows(conn: &mut dyn RawConnection, sql: &str, params: &[ValueRef<'_>]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    conn.query(sql, params, &mut |row| {
        out.push((0..row.len()).map(|i| row.get(i).map(ValueRef::to_owned)).collect::<Result<Vec<_>>>()?);
        Ok(())
    })?;
    Ok(out)
}

#[test]
fn descriptor() {
    assert_eq!(backend().name, "sqlite");
    assert_eq!(backend().schemes, &["sqlite"]);
    assert_eq!(driver("sqlite://").dialect().name(), "sqlite");
}

#[test]
fn round_trips_every_type() -> Result<()> {
    let d = driver("sqlite::memory:");
    let mut c = d.connect()?;
    c.batch_execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s INTEGER, i INTEGER, b INTEGER, r REAL, f REAL, \
         txt TEXT, blob BLOB, flag BOOLEAN)",
    )?;
    let unicode = "héllo wörld — 日本語 🎉";
    let nul = "a\0b";
    let cases: Vec<[ValueRef<'_>; 8]> = vec![
        [
            ValueRef::I16(i16::MIN),
            ValueRef::I32(i32::MIN),
            ValueRef::I64(i64::MIN),
            ValueRef::F32(f32::MIN_POSITIVE),
            ValueRef::F64(f64::INFINITY),
            ValueRef::Text(""),
            ValueRef::Blob(&[]),
            ValueRef::Bool(false),
        ],
        [
            ValueRef::I16(i16::MAX),
            ValueRef::I32(i32::MAX),
            ValueRef::I64(i64::MAX),
            ValueRef::F32(0.1),
            ValueRef::F64(f64::NEG_INFINITY),
            ValueRef::Text(unicode),
            ValueRef::Blob(&[0, 255, 1, 0]),
            ValueRef::Bool(true),
        ],
        [
            ValueRef::I16(0),
            ValueRef::I32(-1),
            ValueRef::I64(1),
            ValueRef::F32(f32::MAX),
            ValueRef::F64(0.1),
            ValueRef::Text(nul),
            ValueRef::Blob(&[7]),
            ValueRef::Null,
        ],
        [ValueRef::Null; 8],
    ];
    let insert = "INSERT INTO t (s, i, b, r, f, txt, blob, flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    for case in &cases {
        assert_eq!(c.execute(insert, case)?, 1);
    }
    let got = rows(&mut *c, "SELECT s, i, b, r, f, txt, blob, flag FROM t ORDER BY id", &[])?;
    assert_eq!(got.len(), cases.len());
    for (row, case) in got.iter().zip(&cases) {
        for (cell, want) in row.iter().zip(case) {
            assert!(cell.as_ref().same_as(*want) || float_eq(cell, *want), "{cell:?} != {want:?}");
        }
    }
    // Decoding into the fields' Rust types (core narrows integers and floats with checks).
    assert_eq!(got[0][0].get::<i16>()?, i16::MIN);
    assert_eq!(got[1][1].get::<i32>()?, i32::MAX);
    assert_eq!(got[0][2].get::<i64>()?, i64::MIN);
    assert_eq!(got[1][3].get::<f32>()?, 0.1f32);
    assert_eq!(got[2][3].get::<f32>()?, f32::MAX);
    assert_eq!(got[0][4].get::<f64>()?, f64::INFINITY);
    assert_eq!(got[1][4].get::<f64>()?, f64::NEG_INFINITY);
    assert_eq!(got[2][4].get::<f64>()?, 0.1);
    assert_eq!(got[0][5].get::<String>()?, "");
    assert_eq!(got[1][5].get::<String>()?, unicode);
    assert_eq!(got[2][5].get::<String>()?, nul, "text with NUL reads back whole");
    assert_eq!(got[0][6].get::<Vec<u8>>()?, Vec::<u8>::new(), "an empty blob is not NULL");
    assert_eq!(got[1][6].get::<Vec<u8>>()?, vec![0, 255, 1, 0]);
    assert!(!got[0][7].get::<bool>()?);
    assert!(got[1][7].get::<bool>()?);
    for cell in &got[3] {
        assert_eq!(cell, &Value::Null);
    }
    // Integers and floats come back at SQLite's widths.
    assert_eq!(got[0][0], Value::I64(i64::from(i16::MIN)));
    assert_eq!(got[1][3], Value::F64(f64::from(0.1f32)));
    Ok(())
}

fn float_eq(cell: &Value, want: ValueRef<'_>) -> bool {
    match (cell, want) {
        (Value::F64(a), ValueRef::F32(b)) => *a == f64::from(b),
        (Value::I64(a), ValueRef::Bool(b)) => *a == i64::from(b),
        _ => false,
    }
}

#[test]
fn nan_is_refused_and_nothing_is_stored() -> Result<()> {
    // Refused by core's capability check, before the driver sees it.
    let e = engine("sqlite::memory:");
    let mut c = e.connect()?;
    c.batch_execute("CREATE TABLE t (x REAL)")?;
    for nan in [Value::F64(f64::NAN), Value::F32(f32::NAN)] {
        match c.execute("INSERT INTO t (x) VALUES (?)", &[nan]) {
            Err(Error::Unsupported { dialect: "sqlite", feature }) => assert!(feature.contains("NaN"), "{feature}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(c.query_scalar::<i64>("SELECT count(*) FROM t", &[])?, 0);
    Ok(())
}

#[test]
fn rows_report_column_names_and_declared_types() -> Result<()> {
    let e = engine("sqlite::memory:");
    let mut c = e.connect()?;
    c.batch_execute("CREATE TABLE t (id INTEGER, price DECIMAL(10,2), day DATE, name VARCHAR(20))")?;
    c.execute("INSERT INTO t VALUES (1, 12.5, '2024-02-29', 'x')", &[])?;
    let rows = c.query("SELECT id, price, day, name, id + 1 AS next FROM t", &[])?;
    use athanor_core::Row as _;
    let r = &rows[0];
    let types: Vec<_> = (0..r.len()).map(|i| r.column_type(i)).collect();
    assert_eq!(types, [Some("INTEGER"), Some("DECIMAL(10,2)"), Some("DATE"), Some("VARCHAR(20)"), None]);
    assert_eq!(r.get::<i64>("next")?, 2);
    assert_eq!(r.get::<String>("day")?, "2024-02-29");
    assert_eq!(r.get::<f64>("price")?, 12.5);
    assert!(matches!(r.get::<i64>("nope"), Err(Error::InvalidRequest { .. })));
    assert_eq!(athanor_sqlite::native_type(athanor_core::SqlType::BigInt), "INTEGER");
    Ok(())
}

#[test]
fn memory_database_is_shared_by_one_driver_only() -> Result<()> {
    let d = driver("sqlite:///:memory:?busy_timeout=50");
    let mut a = d.connect()?;
    let mut b = d.connect()?;
    a.batch_execute("CREATE TABLE shared (x INTEGER)")?;
    a.execute("INSERT INTO shared (x) VALUES (?)", &[ValueRef::I64(1)])?;
    assert_eq!(rows(&mut *b, "SELECT x FROM shared", &[])?, vec![vec![Value::I64(1)]]);

    // Uncommitted rows are never seen: in memory, an open write transaction makes readers on
    // other connections wait (here past their busy timeout: a lock-wait timeout); once
    // committed, its rows are seen.
    a.batch_execute("BEGIN")?;
    a.execute("INSERT INTO shared (x) VALUES (?)", &[ValueRef::I64(2)])?;
    assert!(matches!(
        rows(&mut *b, "SELECT count(*) FROM shared", &[]),
        Err(Error::Timeout { kind: athanor_core::TimeoutKind::LockWait, .. })
    ));
    a.batch_execute("COMMIT")?;
    assert_eq!(rows(&mut *b, "SELECT count(*) FROM shared", &[])?, vec![vec![Value::I64(2)]]);

    // The database outlives every pooled connection: the driver keeps it alive.
    drop(a);
    drop(b);
    let mut c = d.connect()?;
    assert_eq!(rows(&mut *c, "SELECT count(*) FROM shared", &[])?, vec![vec![Value::I64(2)]]);

    // Another driver (engine) has its own database.
    let other = driver("sqlite:///:memory:");
    let mut o = other.connect()?;
    match rows(&mut *o, "SELECT count(*) FROM shared", &[]) {
        Err(Error::Database { code, message, .. }) => {
            assert_eq!(code, "1");
            assert!(message.contains("no such table"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[test]
fn memory_database_has_one_writer_at_a_time() -> Result<()> {
    let d = driver("sqlite::memory:?busy_timeout=50");
    let mut a = d.connect()?;
    let mut b = d.connect()?;
    a.batch_execute("CREATE TABLE l (x INTEGER)")?;
    a.batch_execute("BEGIN")?;
    a.execute("INSERT INTO l (x) VALUES (1)", &[])?;
    // b waits its busy timeout for the write lock, then gives up.
    match b.execute("INSERT INTO l (x) VALUES (2)", &[]) {
        Err(Error::Timeout { kind: athanor_core::TimeoutKind::LockWait, message, .. }) => {
            assert!(message.contains("locked"), "{message}")
        }
        other => panic!("expected SQLITE_BUSY after the busy timeout, got {other:?}"),
    }
    a.batch_execute("COMMIT")?;
    assert_eq!(b.execute("INSERT INTO l (x) VALUES (2)", &[])?, 1);
    Ok(())
}

#[test]
fn concurrent_writers_wait_for_the_lock() -> Result<()> {
    let e = engine("sqlite://");
    e.connect()?.batch_execute("CREATE TABLE w (t INTEGER, n INTEGER)")?;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let e = e.clone();
            std::thread::spawn(move || -> Result<()> {
                for n in 0..25 {
                    e.execute("INSERT INTO w (t, n) VALUES (?, ?)", &[Value::I64(t), Value::I64(n)])?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap()?;
    }
    assert_eq!(e.connect()?.query_scalar::<i64>("SELECT count(*) FROM w", &[])?, 100);
    Ok(())
}

fn integrity_db() -> Result<Engine> {
    let e = engine("sqlite://");
    let mut c = e.connect()?;
    c.batch_execute(
        "CREATE TABLE customers (id INTEGER NOT NULL, email VARCHAR(255) NOT NULL, age INTEGER, \
         CONSTRAINT pk_customers PRIMARY KEY (id), CONSTRAINT uq_customers_email UNIQUE (email), \
         CONSTRAINT ck_age CHECK (age >= 0))",
    )?;
    c.batch_execute(
        "CREATE TABLE orders (id INTEGER, customer_id INTEGER NOT NULL, CONSTRAINT pk_orders PRIMARY KEY (id), \
         CONSTRAINT fk_orders_customer_id_customers FOREIGN KEY (customer_id) REFERENCES customers (id))",
    )?;
    c.execute("INSERT INTO customers (id, email, age) VALUES (?, ?, ?)", &[1i64.into(), "a@x".into(), 30i32.into()])?;
    Ok(e)
}

#[test]
fn integrity_errors_are_classified() -> Result<()> {
    let e = integrity_db()?;
    let mut c = e.connect()?;
    let ins = "INSERT INTO customers (id, email, age) VALUES (?, ?, ?)";
    match c.execute(ins, &[2i64.into(), "a@x".into(), 1i32.into()]) {
        Err(Error::Integrity { kind: IntegrityKind::Unique, constraint: None, table, columns, message, .. }) => {
            assert_eq!(table.as_deref(), Some("customers"));
            assert_eq!(columns, vec!["email".to_string()]);
            assert_eq!(message, "UNIQUE constraint failed: customers.email");
        }
        other => panic!("{other:?}"),
    }
    match c.execute(ins, &[1i64.into(), "b@x".into(), 1i32.into()]) {
        Err(Error::Integrity { kind: IntegrityKind::Unique, table, columns, .. }) => {
            assert_eq!(table.as_deref(), Some("customers"));
            assert_eq!(columns, vec!["id".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    match c.execute(ins, &[3i64.into(), Value::Null, 1i32.into()]) {
        Err(Error::Integrity { kind: IntegrityKind::NotNull, table, columns, .. }) => {
            assert_eq!(table.as_deref(), Some("customers"));
            assert_eq!(columns, vec!["email".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    match c.execute(ins, &[3i64.into(), "c@x".into(), (-1i32).into()]) {
        Err(Error::Integrity { kind: IntegrityKind::Check, constraint, .. }) => {
            assert_eq!(constraint.as_deref(), Some("ck_age"))
        }
        other => panic!("{other:?}"),
    }
    match c.execute("INSERT INTO orders (customer_id) VALUES (?)", &[99i64.into()]) {
        Err(Error::Integrity { kind: IntegrityKind::ForeignKey, .. }) => {}
        other => panic!("foreign keys are enforced by default: {other:?}"),
    }
    Ok(())
}

#[test]
fn foreign_keys_can_be_turned_off() -> Result<()> {
    let e = engine("sqlite://?foreign_keys=off");
    // Known from the URL, before any connection; the dialect's sheet still says `true`.
    assert!(!e.capabilities().foreign_keys);
    assert!(e.dialect().capabilities().foreign_keys);
    let mut c = e.connect()?;
    assert!(!c.capabilities().foreign_keys && !e.capabilities().foreign_keys);
    c.batch_execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")?;
    c.batch_execute("CREATE TABLE ch (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))")?;
    assert_eq!(c.execute("INSERT INTO ch (p) VALUES (?)", &[Value::I64(5)])?, 1);
    Ok(())
}

#[test]
fn engine_capabilities_are_the_sheet_adjusted_at_connect() -> Result<()> {
    let e = engine("sqlite://");
    assert!(e.capabilities().foreign_keys);
    assert_eq!(e.server_version(), None, "nothing reported before the first connection");
    let c = e.connect()?;
    let version = e.server_version().expect("the first connection reports the SQLite version");
    assert_eq!(version, rusqlite_version(&e)?);
    assert!(e.capabilities().server_version_number().is_some_and(|v| v >= (3, 35)), "{version}");
    assert_eq!(c.capabilities(), e.capabilities());
    // Nothing else differs from the dialect's sheet.
    let sheet = e.dialect().capabilities();
    assert_eq!(&athanor_core::Capabilities { server_version: None, ..e.capabilities().clone() }, sheet);
    Ok(())
}

fn rusqlite_version(e: &Engine) -> Result<String> {
    e.connect()?.query_scalar::<String>("SELECT sqlite_version()", &[])
}

#[test]
fn engine_execute_query_and_transactions() -> Result<()> {
    let e = engine("sqlite:///:memory:");
    let mut c = e.connect()?;
    assert_eq!(
        c.execute("CREATE TABLE items (id INTEGER, name TEXT NOT NULL, CONSTRAINT pk PRIMARY KEY (id))", &[])?,
        0
    );
    assert_eq!(c.execute("INSERT INTO items (name) VALUES (?), (?)", &["a".into(), "b".into()])?, 2);
    assert_eq!(c.last_insert_id()?, Some(2));
    let keys = c.query("INSERT INTO items (name) VALUES (?), (?) RETURNING id", &["c".into(), "d".into()])?;
    assert_eq!(keys.iter().map(|r| r.get::<i64>(0)).collect::<Result<Vec<_>>>()?, vec![3, 4]);
    assert_eq!(c.execute("UPDATE items SET name = ? WHERE id > ?", &["z".into(), 2i64.into()])?, 2);
    assert_eq!(c.execute("UPDATE items SET name = ? WHERE id > ?", &["z".into(), 99i64.into()])?, 0);
    assert_eq!(c.execute("SELECT * FROM items", &[])?, 0);
    // RETURNING through execute runs to completion.
    assert_eq!(c.execute("INSERT INTO items (name) VALUES (?) RETURNING id", &["e".into()])?, 1);

    c.begin()?;
    c.execute("DELETE FROM items", &[])?;
    c.rollback()?;
    assert_eq!(c.query_scalar::<i64>("SELECT count(*) FROM items", &[])?, 5);

    c.begin_with(TxOptions {
        isolation: Some(IsolationLevel::Serializable),
        read_only: false,
        ..TxOptions::default()
    })?;
    c.execute("DELETE FROM items WHERE id = ?", &[1i64.into()])?;
    c.savepoint("sp1")?;
    c.execute("DELETE FROM items", &[])?;
    c.rollback_to_savepoint("sp1")?;
    c.release_savepoint("sp1")?;
    c.commit()?;
    assert_eq!(c.query_scalar::<i64>("SELECT count(*) FROM items", &[])?, 4);

    // DDL is transactional.
    c.begin()?;
    c.batch_execute("CREATE TABLE gone (x INTEGER)")?;
    c.rollback()?;
    assert!(c.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &["gone".into()])?.is_empty());
    drop(c);

    let r: Result<()> = e.transaction(|c| {
        c.execute("DELETE FROM items", &[])?;
        Err(Error::invalid_request("abort"))
    });
    assert!(r.is_err());
    e.transaction(|c| c.execute("INSERT INTO items (name) VALUES (?)", &["f".into()]))?;
    assert_eq!(e.connect()?.query_scalar::<i64>("SELECT count(*) FROM items", &[])?, 5);

    let ro = TxOptions { isolation: None, read_only: true, ..TxOptions::default() };
    assert!(matches!(e.connect()?.begin_with(ro), Err(Error::Unsupported { .. })));
    let rc = TxOptions { isolation: Some(IsolationLevel::ReadCommitted), read_only: false, ..TxOptions::default() };
    assert!(matches!(e.connect()?.begin_with(rc), Err(Error::Unsupported { .. })));
    Ok(())
}

#[test]
fn engine_with_other_isolation_level_is_refused() {
    let o = ConnectOptions::parse("sqlite://?isolation_level=read_committed").unwrap();
    let config = EngineConfig::from_options(&o).unwrap();
    assert!(matches!(Engine::new((backend().open)(&o).unwrap(), &o, config), Err(Error::Unsupported { .. })));
}

#[test]
fn misuse_and_sql_errors() -> Result<()> {
    let d = driver("sqlite://");
    let mut c = d.connect()?;
    assert!(matches!(c.execute("SELECT ?", &[]), Err(Error::InvalidRequest { .. })));
    assert!(matches!(c.execute("SELECT 1", &[ValueRef::I64(1)]), Err(Error::InvalidRequest { .. })));
    match c.execute("SELEC 1", &[]) {
        Err(Error::Database { code, message, .. }) => {
            assert_eq!(code, "1");
            assert!(message.contains("syntax error"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.execute("SELECT 1; SELECT 2", &[]), Err(Error::InvalidRequest { .. })));
    let mut seen = 0;
    c.query("SELECT 1, CAST(x'ff' AS TEXT) AS bad", &[], &mut |row| {
        seen += 1;
        assert_eq!(row.len(), 2);
        assert!(matches!(row.get(2), Err(Error::InvalidRequest { .. })));
        match row.get(1) {
            Err(Error::TypeMismatch { column, .. }) => assert_eq!(column, "bad"),
            other => panic!("{other:?}"),
        }
        Ok(())
    })?;
    assert_eq!(seen, 1);
    // An error from the callback stops the iteration and comes back as is.
    let r = c.query("SELECT 1 UNION ALL SELECT 2", &[], &mut |_| Err(Error::invalid_request("stop")));
    assert_eq!(r, Err(Error::invalid_request("stop")));
    c.ping()?;
    assert!(!c.is_broken());
    Ok(())
}

#[test]
fn file_database_with_options() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let url = format!("sqlite://{}?journal_mode=wal&synchronous=normal&busy_timeout=1000", path.display());
    // `sqlite://` + an absolute path is `sqlite:///abs/...`.
    assert!(url.starts_with("sqlite:///"));
    let d = driver(&url);
    assert!(!path.exists(), "opening a driver does not touch the disk");
    let mut c = d.connect()?;
    assert!(path.exists());
    assert_eq!(rows(&mut *c, "PRAGMA journal_mode", &[])?, vec![vec![Value::Text("wal".into())]]);
    assert_eq!(rows(&mut *c, "PRAGMA synchronous", &[])?, vec![vec![Value::I64(1)]]);
    assert_eq!(rows(&mut *c, "PRAGMA busy_timeout", &[])?, vec![vec![Value::I64(1000)]]);
    assert_eq!(rows(&mut *c, "PRAGMA foreign_keys", &[])?, vec![vec![Value::I64(1)]]);
    c.batch_execute("CREATE TABLE f (x INTEGER)")?;
    drop(c);
    // Another engine on the same file sees the table.
    let mut c2 = driver(&url).connect()?;
    assert_eq!(rows(&mut *c2, "SELECT count(*) FROM f", &[])?, vec![vec![Value::I64(0)]]);
    Ok(())
}

fn engine_with_options(url: &str) -> Engine {
    let o = ConnectOptions::parse(url).unwrap();
    Engine::new((backend().open)(&o).unwrap(), &o, EngineConfig::from_options(&o).unwrap()).unwrap()
}

fn journal_mode(c: &mut dyn RawConnection) -> Result<Vec<Vec<Value>>> {
    rows(c, "PRAGMA journal_mode", &[])
}

#[test]
fn file_databases_default_to_wal_and_journal_mode_still_selects() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("modes.db");
    let mut c = driver(&format!("sqlite://{}", path.display())).connect()?;
    assert_eq!(journal_mode(&mut *c)?, vec![vec![Value::Text("wal".into())]]);
    c.batch_execute("CREATE TABLE m (x INTEGER)")?;
    drop(c);
    // The old behaviour on request: the file goes back to a rollback journal.
    let mut c = driver(&format!("sqlite://{}?journal_mode=delete", path.display())).connect()?;
    assert_eq!(journal_mode(&mut *c)?, vec![vec![Value::Text("delete".into())]]);
    assert_eq!(rows(&mut *c, "SELECT count(*) FROM m", &[])?, vec![vec![Value::I64(0)]]);
    drop(c);
    // In-memory databases are unchanged.
    let mut m = driver("sqlite://").connect()?;
    assert_eq!(journal_mode(&mut *m)?, vec![vec![Value::Text("memory".into())]]);
    Ok(())
}

/// On a file database with the default settings, a transaction that has only read (and is
/// still open) does not make another connection's write wait.
#[test]
fn open_read_transaction_does_not_block_a_writer() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rw.db").display());
    let reader = engine(&url);
    reader.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, n INTEGER)", &[])?;
    reader.execute("INSERT INTO r (id, n) VALUES (1, 0)", &[])?;
    let mut tx = reader.connect()?;
    tx.begin()?;
    assert_eq!(tx.query_scalar::<i64>("SELECT n FROM r WHERE id = 1", &[])?, 0);
    let writer = engine(&url);
    writer.connect()?.query_scalar::<i64>("SELECT 1", &[])?;
    let started = std::time::Instant::now();
    assert_eq!(writer.execute("UPDATE r SET n = 1 WHERE id = 1", &[])?, 1);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_millis(100), "the write waited {took:?}");
    // The reader still sees its snapshot, then the new value after it ends.
    assert_eq!(tx.query_scalar::<i64>("SELECT n FROM r WHERE id = 1", &[])?, 0);
    tx.commit()?;
    assert_eq!(tx.query_scalar::<i64>("SELECT n FROM r WHERE id = 1", &[])?, 1);
    Ok(())
}

/// A deferred transaction that has read cannot wait for the write lock: it fails at once while
/// another transaction holds it. One begun with write intent (`BEGIN IMMEDIATE`) waits at
/// BEGIN for the holder to commit, then writes.
#[test]
fn write_intent_waits_for_the_lock_where_a_deferred_upgrade_fails() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&format!("sqlite://{}?busy_timeout=5000", dir.path().join("wi.db").display()));
    e.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)", &[])?;
    e.execute("INSERT INTO c (id, n) VALUES (1, 0)", &[])?;
    let write = TxOptions { write_intent: true, ..TxOptions::default() };
    let mut holder = e.connect()?;
    holder.begin_with(write)?;
    holder.execute("UPDATE c SET n = n + 1 WHERE id = 1", &[])?;

    let mut deferred = e.connect()?;
    deferred.begin()?;
    deferred.query_scalar::<i64>("SELECT n FROM c WHERE id = 1", &[])?;
    let started = std::time::Instant::now();
    let r = deferred.execute("UPDATE c SET n = n + 1 WHERE id = 1", &[]);
    assert!(matches!(&r, Err(e) if e.is_serialization_failure()), "{r:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the failed upgrade did not wait");
    deferred.rollback()?;

    let waiter = {
        let e = e.clone();
        std::thread::spawn(move || -> Result<i64> {
            let mut c = e.connect()?;
            c.begin_with(write)?;
            let n: i64 = c.query_scalar("SELECT n FROM c WHERE id = 1", &[])?;
            c.execute("UPDATE c SET n = ? WHERE id = 1", &[Value::I64(n + 1)])?;
            c.commit()?;
            Ok(n)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!waiter.is_finished(), "BEGIN IMMEDIATE waits while another transaction holds the write lock");
    holder.commit()?;
    assert_eq!(waiter.join().unwrap()?, 1, "the waiter read the holder's committed write");
    assert_eq!(e.connect()?.query_scalar::<i64>("SELECT n FROM c WHERE id = 1", &[])?, 2);
    Ok(())
}

/// `write_intent=true` on the URL: every transaction of the engine begins IMMEDIATE, so
/// read-modify-write transactions from several threads all succeed without a retry, and none
/// loses another's update.
#[test]
fn write_intent_engine_option_serializes_read_modify_write() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_with_options(&format!("sqlite://{}?write_intent=true", dir.path().join("rmw.db").display()));
    assert!(e.config().write_intent);
    e.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)", &[])?;
    e.execute("INSERT INTO c (id, n) VALUES (1, 0)", &[])?;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || -> Result<()> {
                for _ in 0..20 {
                    e.transaction(|c| {
                        let n: i64 = c.query_scalar("SELECT n FROM c WHERE id = 1", &[])?;
                        c.execute("UPDATE c SET n = ? WHERE id = 1", &[Value::I64(n + 1)])?;
                        Ok(())
                    })?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap()?;
    }
    assert_eq!(e.connect()?.query_scalar::<i64>("SELECT n FROM c WHERE id = 1", &[])?, 80);
    let bad = ConnectOptions::parse("sqlite://?write_intent=maybe").unwrap();
    assert!(matches!(EngineConfig::from_options(&bad), Err(Error::Config { .. })));
    Ok(())
}

#[test]
fn default_busy_timeout_is_five_seconds() -> Result<()> {
    let mut c = driver("sqlite://").connect()?;
    assert_eq!(rows(&mut *c, "PRAGMA busy_timeout", &[])?, vec![vec![Value::I64(5000)]]);
    Ok(())
}

#[test]
fn missing_directory_is_a_connection_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/app.db");
    let url = format!("sqlite://{}", path.display());
    let d = driver(&url);
    match d.connect() {
        Err(Error::Connection { message, disconnect: false, .. }) => {
            assert!(message.contains(&path.display().to_string()), "{message}")
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("opened a file in a missing directory"),
    }
    // Through the engine: the error surfaces at first use, not at creation.
    let e = engine(&url);
    assert!(matches!(e.connect(), Err(Error::Connection { .. })));
}

#[test]
fn unknown_options_are_config_errors() {
    for (url, name) in [("sqlite://?bogus=1", "bogus"), ("sqlite:///tmp/x.db?cache=shared", "cache")] {
        match (backend().open)(&ConnectOptions::parse(url).unwrap()) {
            Err(Error::Config { message }) => assert!(message.contains(name), "{message}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("{url} accepted"),
        }
    }
    let ok = "sqlite://?pool_size=2&pool_timeout=1&pool_pre_ping=true&echo=false&isolation_level=serializable";
    assert!((backend().open)(&ConnectOptions::parse(ok).unwrap()).is_ok());
    assert!(matches!((backend().open)(&ConnectOptions::parse("sqlite:x.db").unwrap()), Err(Error::Config { .. })));
}

#[test]
fn pooled_memory_engine_shares_one_database() -> Result<()> {
    let e = engine("sqlite::memory:?pool_size=3");
    let mut a = e.connect()?;
    let mut b = e.connect()?;
    a.execute("CREATE TABLE p (x INTEGER)", &[])?;
    a.execute("INSERT INTO p (x) VALUES (?)", &[Value::I64(7)])?;
    assert_eq!(b.query_scalar::<i64>("SELECT x FROM p", &[])?, 7);
    assert_eq!(e.pool_status().0, 2);
    let other = engine("sqlite::memory:");
    assert!(matches!(other.execute("SELECT x FROM p", &[]), Err(Error::Database { .. })));
    Ok(())
}

#[test]
fn wal_on_a_memory_database_is_accepted_and_stays_memory() -> Result<()> {
    let mut c = driver("sqlite::memory:?journal_mode=wal").connect()?;
    assert_eq!(rows(&mut *c, "PRAGMA journal_mode", &[])?, vec![vec![Value::Text("memory".into())]]);
    Ok(())
}

#[test]
fn database_errors_keep_the_driver_error_as_source() -> Result<()> {
    use std::error::Error as _;
    let mut c = driver("sqlite::memory:").connect()?;
    let e = c.execute("SELEC 1", &[]).expect_err("a syntax error");
    assert!(matches!(&e, Error::Database { .. }), "{e:?}");
    let source = e.source().and_then(|s| s.downcast_ref::<rusqlite::Error>()).expect("rusqlite::Error as source");
    assert!(source.to_string().contains("SELEC"), "{source}");
    Ok(())
}
