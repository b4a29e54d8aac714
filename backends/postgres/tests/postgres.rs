//! Tests against a live PostgreSQL server (`ATHANOR_TEST_POSTGRES_URL`). Unset, each test prints
//! one `SKIPPED backend postgres` line and passes; set but unreachable, the same outside CI and a
//! failure under `CI=true` (`athanor::testing`'s rule).
//! Every test uses its own tables (`pgb_<test>_…`), so they run in parallel.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{
    create_table_statements, ColumnDef, ConnectOptions, Engine, EngineConfig, Error, ForeignKeyDef, IntegrityKind,
    IsolationLevel, RawConnection, Result, SqlType, TableDef, TxOptions, Value, ValueRef,
};
use athanor_postgres::{backend, PostgresConnection, PostgresDriver};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The configured server, or an empty string when `ATHANOR_TEST_POSTGRES_URL` is unset.
fn url() -> String {
    std::env::var("ATHANOR_TEST_POSTGRES_URL").unwrap_or_default()
}

/// The driver for the test server, or `None` (after printing the skip line) when it cannot be
/// reached outside CI.
fn server() -> Option<(PostgresDriver, ConnectOptions)> {
    let url = url();
    if url.trim().is_empty() {
        // Not configured: skipped with one line, also under CI=true (a job for another database).
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED backend postgres: ATHANOR_TEST_POSTGRES_URL is not set");
        return None;
    }
    let opts = ConnectOptions::parse(&url).expect("ATHANOR_TEST_POSTGRES_URL parses");
    let driver = PostgresDriver::from_options(&opts).expect("valid postgres URL");
    match driver.connect_typed() {
        Ok(_) => Some((driver, opts)),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("backend postgres at {} is unreachable in CI: {e}", opts.redacted());
            }
            // Straight to the process's stderr: the test harness captures `eprintln!`.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED backend postgres at {}: {e}", opts.redacted());
            None
        }
    }
}

macro_rules! server_or_skip {
    () => {
        match server() {
            Some(s) => s,
            None => return Ok(()),
        }
    };
}

fn engine(driver: PostgresDriver, opts: &ConnectOptions) -> Engine {
    Engine::new(Arc::new(driver), opts, EngineConfig::from_options(opts).unwrap()).unwrap()
}

fn recreate(conn: &mut athanor_core::Connection, table: &TableDef) -> Result<()> {
    conn.batch_execute(&format!("DROP TABLE IF EXISTS \"{}\" CASCADE", table.name))?;
    for s in create_table_statements(conn.dialect(), table)? {
        conn.batch_execute(&s)?;
    }
    Ok(())
}

fn drop_table(conn: &mut athanor_core::Connection, name: &str) -> Result<()> {
    conn.batch_execute(&format!("DROP TABLE IF EXISTS \"{name}\" CASCADE"))
}

const TYPES: TableDef = TableDef {
    name: "pgb_round_trip",
    rust_name: "Types",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef { nullable: true, ..ColumnDef::new("b", SqlType::Bool) },
        ColumnDef { nullable: true, ..ColumnDef::new("i16", SqlType::SmallInt) },
        ColumnDef { nullable: true, ..ColumnDef::new("i32", SqlType::Integer) },
        ColumnDef { nullable: true, ..ColumnDef::new("i64", SqlType::BigInt) },
        ColumnDef { nullable: true, ..ColumnDef::new("f32", SqlType::Real) },
        ColumnDef { nullable: true, ..ColumnDef::new("f64", SqlType::Double) },
        ColumnDef { nullable: true, ..ColumnDef::new("txt", SqlType::Text) },
        ColumnDef { nullable: true, length: Some(40), ..ColumnDef::new("vc", SqlType::Text) },
        ColumnDef { nullable: true, ..ColumnDef::new("blob", SqlType::Blob) },
    ],
};

fn same(a: &Value, b: &Value) -> bool {
    a.as_ref().same_as(b.as_ref())
        && std::mem::discriminant(a) == std::mem::discriminant(b)
        && match (a, b) {
            (Value::F32(x), Value::F32(y)) => x.is_sign_negative() == y.is_sign_negative() || x.is_nan(),
            (Value::F64(x), Value::F64(y)) => x.is_sign_negative() == y.is_sign_negative() || x.is_nan(),
            _ => true,
        }
}

#[test]
fn round_trip_every_type() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    recreate(&mut conn, &TYPES)?;
    let rows: Vec<Vec<Value>> = vec![
        vec![
            Value::Bool(true),
            Value::I16(i16::MIN),
            Value::I32(i32::MIN),
            Value::I64(i64::MIN),
            Value::F32(f32::NAN),
            Value::F64(f64::NAN),
            Value::Text(String::new()),
            Value::Text("héllo wörld ✓ 日本 🎉".into()),
            Value::Blob(Vec::new()),
        ],
        vec![
            Value::Bool(false),
            Value::I16(i16::MAX),
            Value::I32(i32::MAX),
            Value::I64(i64::MAX),
            Value::F32(f32::INFINITY),
            Value::F64(f64::NEG_INFINITY),
            Value::Text("quote ' double \" backslash \\ tab \t newline \n".into()),
            Value::Text("x".repeat(40)),
            Value::Blob((0..=255).collect()),
        ],
        vec![
            Value::Bool(true),
            Value::I16(0),
            Value::I32(-1),
            Value::I64(1),
            Value::F32(f32::NEG_INFINITY),
            Value::F64(f64::INFINITY),
            Value::Text("a".repeat(100_000)),
            Value::Text("v".into()),
            Value::Blob(vec![0, 0, 0]),
        ],
        vec![
            Value::Bool(false),
            Value::I16(-1),
            Value::I32(0),
            Value::I64(0),
            Value::F32(f32::MIN_POSITIVE),
            Value::F64(-0.1),
            Value::Text("0".into()),
            Value::Text(" padded ".into()),
            Value::Blob(vec![255]),
        ],
        vec![
            Value::Null,
            Value::I16(7),
            Value::Null,
            Value::Null,
            Value::F32(-0.0),
            Value::F64(f64::MAX),
            Value::Null,
            Value::Null,
            Value::Null,
        ],
        vec![Value::Null; 9],
    ];

    let insert = athanor_core::sql::insert(conn.dialect(), &TYPES, rows.len(), true, Some("id"))?;
    let flat: Vec<Value> = rows.iter().flatten().cloned().collect();
    let keys = conn.query(&insert, &flat)?;
    assert_eq!(keys.len(), rows.len());
    let ids: Vec<i64> = keys.iter().map(|r| r.get::<i64>(0)).collect::<Result<_>>()?;
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "RETURNING keys in insert order: {ids:?}");

    let back = conn.query(
        "SELECT \"b\", \"i16\", \"i32\", \"i64\", \"f32\", \"f64\", \"txt\", \"vc\", \"blob\" FROM \"pgb_round_trip\" ORDER BY \"id\"",
        &[],
    )?;
    assert_eq!(back.len(), rows.len());
    for (got, want) in back.iter().zip(&rows) {
        for (g, w) in got.values().iter().zip(want) {
            assert!(same(g, w), "got {g:?}, want {w:?}");
        }
    }
    // Typed decoding through FromValue.
    let one = &back[1];
    assert_eq!(one.get::<i16>(1)?, i16::MAX);
    assert_eq!(one.get::<i32>(2)?, i32::MAX);
    assert_eq!(one.get::<i64>(3)?, i64::MAX);
    assert_eq!(one.get::<f32>(4)?, f32::INFINITY);
    assert_eq!(one.get::<Vec<u8>>(8)?, (0..=255).collect::<Vec<u8>>());
    assert_eq!(back[5].get::<Option<String>>(6)?, None);
    assert!(matches!(back[5].get::<String>(6), Err(Error::TypeMismatch { .. })));
    // Wider integer fields read narrower columns.
    assert_eq!(back[0].get::<i64>(1)?, i64::from(i16::MIN));

    // Parameters of every kind in a WHERE clause.
    let n: i64 = conn.query_scalar(
        "SELECT count(*) FROM \"pgb_round_trip\" WHERE \"b\" = $1 AND \"i16\" = $2 AND \"txt\" = $3 AND \"blob\" = $4",
        &[Value::Bool(true), Value::I64(i64::from(i16::MIN)), Value::Text(String::new()), Value::Blob(Vec::new())],
    )?;
    assert_eq!(n, 1);
    drop_table(&mut conn, TYPES.name)
}

#[test]
fn integer_width_conversion() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    conn.batch_execute(
        "DROP TABLE IF EXISTS pgb_widths; CREATE TABLE pgb_widths (s SMALLINT, i INTEGER, b BIGINT, r REAL, d DOUBLE PRECISION)",
    )?;
    let sql = "INSERT INTO pgb_widths (s, i, b, r, d) VALUES ($1, $2, $3, $4, $5)";
    // Any integer width goes into any integer column when it fits.
    assert_eq!(
        conn.execute(
            sql,
            &[Value::I64(-5), Value::I64(i64::from(i32::MAX)), Value::I16(3), Value::I32(2), Value::F32(0.5)]
        )?,
        1
    );
    let row = &conn.query("SELECT s, i, b, r, d FROM pgb_widths", &[])?[0];
    assert_eq!(row.values(), &[Value::I16(-5), Value::I32(i32::MAX), Value::I64(3), Value::F32(2.0), Value::F64(0.5)]);

    for (bad, column) in [
        (vec![Value::I64(40_000), Value::Null, Value::Null, Value::Null, Value::Null], "$1"),
        (vec![Value::Null, Value::I64(i64::from(i32::MAX) + 1), Value::Null, Value::Null, Value::Null], "$2"),
        (vec![Value::Null, Value::I64(i64::from(i32::MIN) - 1), Value::Null, Value::Null, Value::Null], "$2"),
        (vec![Value::Null, Value::Text("7".into()), Value::Null, Value::F64(1e300), Value::Null], "$4"),
        (vec![Value::Null, Value::Bool(true), Value::Null, Value::Null, Value::Null], "$2"),
    ] {
        match conn.execute(sql, &bad) {
            Err(Error::TypeMismatch { column: c, .. }) => assert_eq!(c, column),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // Nothing was sent for the refused rows, and the connection is fine.
    let n: i64 = conn.query_scalar("SELECT count(*) FROM pgb_widths WHERE i = $1", &[Value::I16(42)])?;
    assert_eq!(n, 0);
    // Text goes to other types for the server to parse.
    conn.execute(sql, &[Value::Text("12".into()), Value::Null, Value::Null, Value::Null, Value::Null])?;
    let n: i64 = conn.query_scalar("SELECT count(*) FROM pgb_widths WHERE s = 12", &[])?;
    assert_eq!(n, 1);
    match conn.execute(sql, &[Value::Text("twelve".into()), Value::Null, Value::Null, Value::Null, Value::Null]) {
        Err(Error::Database { code, .. }) => assert_eq!(code, "22P02"),
        other => panic!("{other:?}"),
    }
    drop_table(&mut conn, "pgb_widths")
}

const PARENTS: TableDef = TableDef {
    name: "pgb_integrity_parent",
    rust_name: "Parent",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef { unique: true, ..ColumnDef::new("email", SqlType::Text) },
    ],
};

const CHILDREN: TableDef = TableDef {
    name: "pgb_integrity_child",
    rust_name: "Child",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef {
            foreign_key: Some(ForeignKeyDef { table: "pgb_integrity_parent", column: "id" }),
            index: true,
            ..ColumnDef::new("parent_id", SqlType::BigInt)
        },
        ColumnDef::new("name", SqlType::Text),
    ],
};

/// The engine reports the server's version once it has connected; nothing else changes from
/// the dialect's sheet.
#[test]
fn engine_reports_the_server_version() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let e = engine(driver, &opts);
    assert_eq!(e.server_version(), None, "nothing reported before the first connection");
    let mut c = e.connect()?;
    let want = c.query_scalar::<String>("SHOW server_version", &[])?;
    assert!(!want.is_empty());
    assert_eq!(e.server_version(), Some(want.as_str()));
    assert_eq!(c.capabilities().server_version.as_deref(), Some(want.as_str()));
    assert!(e.capabilities().server_version_number().is_some_and(|(major, _)| major >= 10), "{want}");
    let sheet = e.dialect().capabilities();
    assert_eq!(&athanor_core::Capabilities { server_version: None, ..e.capabilities().clone() }, sheet);
    Ok(())
}

#[test]
fn integrity_errors_name_their_constraint() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    drop_table(&mut conn, CHILDREN.name)?;
    recreate(&mut conn, &PARENTS)?;
    recreate(&mut conn, &CHILDREN)?;
    let ins = "INSERT INTO pgb_integrity_parent (email) VALUES ($1) RETURNING id";
    let id: i64 = conn.query_scalar(ins, &[Value::from("a@example.com")])?;
    match conn.query(ins, &[Value::from("a@example.com")]) {
        Err(Error::Integrity { kind: IntegrityKind::Unique, constraint, table, columns, message, .. }) => {
            assert_eq!(constraint.as_deref(), Some("uq_pgb_integrity_parent_email"));
            assert_eq!(table.as_deref(), Some("pgb_integrity_parent"));
            assert_eq!(columns, vec!["email".to_string()]);
            assert!(message.contains("already exists"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match conn.query(
        "INSERT INTO pgb_integrity_parent (id, email) VALUES ($1, $2) RETURNING id",
        &[Value::I64(id), Value::from("b@example.com")],
    ) {
        Err(e @ Error::Integrity { kind: IntegrityKind::Unique, .. }) => {
            assert_eq!(e.constraint(), Some("pk_pgb_integrity_parent"))
        }
        other => panic!("{other:?}"),
    }
    let child = "INSERT INTO pgb_integrity_child (parent_id, name) VALUES ($1, $2)";
    match conn.execute(child, &[Value::I64(id + 1000), Value::from("x")]) {
        Err(e @ Error::Integrity { kind: IntegrityKind::ForeignKey, .. }) => {
            assert_eq!(e.constraint(), Some("fk_pgb_integrity_child_parent_id_pgb_integrity_parent"))
        }
        other => panic!("{other:?}"),
    }
    match conn.execute(child, &[Value::I64(id), Value::Null]) {
        Err(Error::Integrity { kind: IntegrityKind::NotNull, columns, table, .. }) => {
            assert_eq!(columns, vec!["name".to_string()]);
            assert_eq!(table.as_deref(), Some("pgb_integrity_child"));
        }
        other => panic!("{other:?}"),
    }
    conn.batch_execute("ALTER TABLE pgb_integrity_child ADD CONSTRAINT ck_name CHECK (name <> '')")?;
    match conn.execute(child, &[Value::I64(id), Value::from("")]) {
        Err(e @ Error::Integrity { kind: IntegrityKind::Check, .. }) => assert_eq!(e.constraint(), Some("ck_name")),
        other => panic!("{other:?}"),
    }
    assert_eq!(conn.execute(child, &[Value::I64(id), Value::from("ok")])?, 1);
    drop_table(&mut conn, CHILDREN.name)?;
    drop_table(&mut conn, PARENTS.name)
}

#[test]
fn statement_cache_is_reused() -> Result<()> {
    let (driver, _) = server_or_skip!();
    let mut conn: PostgresConnection = driver.connect_typed()?;
    assert_eq!(conn.cached_statements(), 0);
    let sql = "SELECT $1::int8 + 1";
    for i in 0..5_i64 {
        let mut got = None;
        conn.query(sql, &[ValueRef::I64(i)], &mut |row| {
            got = Some(row.get(0)?.to_owned());
            Ok(())
        })?;
        assert_eq!(got, Some(Value::I64(i + 1)));
    }
    assert_eq!(conn.cached_statements(), 1);
    // The server holds exactly the cached statements (plus the one counting them).
    let mut on_server = 0;
    conn.query("SELECT count(*) FROM pg_prepared_statements", &[], &mut |row| {
        on_server = row.get(0)?.as_i64().unwrap_or(-1);
        Ok(())
    })?;
    assert_eq!(on_server, 2);
    assert_eq!(conn.cached_statements(), 2);
    // A failed statement is not cached; an error from the row callback stops the rows.
    assert!(conn.execute("SELEC nonsense", &[]).is_err());
    assert_eq!(conn.cached_statements(), 2);
    let mut seen = 0;
    let r = conn.query("SELECT generate_series(1, 1000)", &[], &mut |_| {
        seen += 1;
        if seen == 3 {
            Err(Error::invalid_request("stop"))
        } else {
            Ok(())
        }
    });
    assert!(matches!(r, Err(Error::InvalidRequest { .. })));
    assert_eq!(seen, 3);
    // The connection is still in sync after abandoning the rows.
    conn.query("SELECT 'still fine'", &[], &mut |row| {
        assert_eq!(row.get(0)?, ValueRef::Text("still fine"));
        Ok(())
    })?;
    // The server forgets its prepared statements: so does the cache.
    conn.batch_execute("DISCARD ALL")?;
    assert_eq!(conn.cached_statements(), 0);
    conn.query(sql, &[ValueRef::I64(1)], &mut |_| Ok(()))?;
    assert_eq!(conn.cached_statements(), 1);
    assert_eq!(conn.last_insert_id()?, None);
    conn.ping()?;
    assert!(!conn.is_broken());
    Ok(())
}

/// `statement_cache=unnamed` and `none` leave no named statement on the server, inside or
/// outside a transaction, give the same values as `named`, follow schema changes, and stream
/// through a cursor inside a transaction (what PgBouncer in transaction mode needs).
#[test]
fn unnamed_and_no_statement_cache_leave_nothing_prepared() -> Result<()> {
    let (_, opts) = server_or_skip!();
    for mode in ["unnamed", "none"] {
        let url = format!("{}{}statement_cache={mode}", opts.url, if opts.url.contains('?') { '&' } else { '?' });
        let driver = PostgresDriver::from_options(&ConnectOptions::parse(&url)?)?;
        let mut conn: PostgresConnection = driver.connect_typed()?;
        let prepared = |conn: &mut PostgresConnection| -> Result<i64> {
            let mut n = -1;
            conn.query("SELECT count(*) FROM pg_prepared_statements", &[], &mut |row| {
                n = row.get(0)?.as_i64().unwrap_or(-1);
                Ok(())
            })?;
            Ok(n)
        };
        let sql = "SELECT $1::int8 + 1, $2::text";
        for in_tx in [false, true] {
            if in_tx {
                conn.batch_execute("BEGIN")?;
            }
            for i in 0..3_i64 {
                let mut got = Vec::new();
                conn.query(sql, &[ValueRef::I64(i), ValueRef::Text("x")], &mut |row| {
                    got.push((row.get(0)?.to_owned(), row.get(1)?.to_owned()));
                    Ok(())
                })?;
                assert_eq!(got, [(Value::I64(i + 1), Value::from("x"))], "{mode}");
            }
            assert_eq!(prepared(&mut conn)?, 0, "{mode}: nothing named stays on the server");
            if in_tx {
                // A cursor streams inside the transaction.
                let mut rows = 0;
                conn.query_chunked("SELECT generate_series(1, $1::int4)", &[ValueRef::I64(25)], 10, &mut |_| {
                    rows += 1;
                    Ok(())
                })?;
                assert_eq!(rows, 25, "{mode}");
                assert_eq!(prepared(&mut conn)?, 0, "{mode}: after the cursor");
                conn.batch_execute("COMMIT")?;
            }
        }
        let kept = if mode == "unnamed" { 1 } else { 0 };
        assert!(conn.cached_statements() >= kept, "{mode}: {}", conn.cached_statements());
        // A failed statement leaves the connection usable, in and out of a transaction.
        assert!(conn.execute("SELEC nonsense", &[]).is_err());
        conn.batch_execute("BEGIN")?;
        assert!(conn.execute("SELECT $1::int4", &[ValueRef::Text("nope")]).is_err());
        conn.batch_execute("ROLLBACK")?;
        assert_eq!(conn.execute("SELECT 1", &[])?, 1);
        // Rows affected, and a column type changed under a described statement.
        conn.batch_execute("DROP TABLE IF EXISTS athanor_unnamed_t; CREATE TABLE athanor_unnamed_t (v int4)")?;
        let insert = "INSERT INTO athanor_unnamed_t (v) VALUES ($1)";
        assert_eq!(conn.execute(insert, &[ValueRef::I64(7)])?, 1);
        conn.batch_execute("ALTER TABLE athanor_unnamed_t ALTER COLUMN v TYPE text")?;
        // `unnamed` kept the INT4 of the first description: that run fails (as a cached named
        // statement's does) and the statement is described afresh for the next.
        if mode == "unnamed" {
            assert!(conn.execute(insert, &[ValueRef::Text("eight")]).is_err());
        }
        assert_eq!(conn.execute(insert, &[ValueRef::Text("eight")])?, 1);
        assert_eq!(conn.execute("UPDATE athanor_unnamed_t SET v = v", &[])?, 2);
        conn.batch_execute("DROP TABLE athanor_unnamed_t")?;
        assert!(!conn.is_broken());
    }
    Ok(())
}

#[test]
fn numeric_dates_uuid_and_json_decode_exactly() -> Result<()> {
    let (driver, _) = server_or_skip!();
    let mut conn = driver.connect_typed()?;
    let sql = "SELECT 1.50::numeric(10,2), -0.000120::numeric, 123456789012345678901234567890.5::numeric, \
               'NaN'::numeric, NULL::numeric, DATE '2024-02-29', DATE '0044-03-15 BC', \
               TIMESTAMP '2024-02-29 10:20:30.5', TIMESTAMPTZ '2024-02-29 10:20:30+02', TIME '23:59:59.999999', \
               TIMETZ '10:20:30-05', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, '{\"a\": [1, 2]}'::json, \
               '{\"a\": [1, 2]}'::jsonb, 'infinity'::timestamp, AVG(x), SUM(x::int8) \
               FROM (VALUES (1), (2), (3), (4)) AS t(x)";
    let mut out = Vec::new();
    let mut types = Vec::new();
    conn.query(sql, &[], &mut |row| {
        for i in 0..row.len() {
            out.push(row.get(i)?.to_owned());
            types.push(row.column_type(i).unwrap_or("?").to_string());
        }
        Ok(())
    })?;
    let want = [
        "1.50",
        "-0.000120",
        "123456789012345678901234567890.5",
        "NaN",
        "",
        "2024-02-29",
        "-0043-03-15",
        "2024-02-29 10:20:30.5",
        "2024-02-29 08:20:30+00:00",
        "23:59:59.999999",
        "10:20:30-05:00",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "{\"a\": [1, 2]}",
        "{\"a\": [1, 2]}",
        "infinity",
        "2.5000000000000000",
        "10",
    ];
    // NUMERIC columns (the first four, AVG and SUM) are decimals; the rest text.
    let decimal = [0, 1, 2, 3, 15, 16];
    for (i, (got, want)) in out.iter().zip(want).enumerate() {
        let want = match want {
            "" => Value::Null,
            w if decimal.contains(&i) => Value::Decimal(w.into()),
            w => Value::from(w),
        };
        assert_eq!(got, &want, "column {i} ({})", types[i]);
    }
    assert_eq!(out.len(), want.len());
    assert_eq!(&types[..2], ["numeric", "numeric"]);
    assert_eq!(types[5], "date");
    assert_eq!(out[15].get::<f64>()?, 2.5, "AVG reads as f64 when exact");
    assert_eq!(out[16].get::<i64>()?, 10, "SUM(bigint) is NUMERIC and reads as i64");
    Ok(())
}

#[test]
fn portable_types_are_stored_as_their_native_types() -> Result<()> {
    use SqlType::*;
    let (driver, opts) = server_or_skip!();
    let e = engine(driver, &opts);
    let mut conn = e.connect()?;
    static COLS: [ColumnDef; 8] = [
        ColumnDef { primary_key: true, ..ColumnDef::new("b", Bool) },
        ColumnDef::new("s", SmallInt),
        ColumnDef::new("i", Integer),
        ColumnDef::new("g", BigInt),
        ColumnDef::new("r", Real),
        ColumnDef::new("d", Double),
        ColumnDef::new("t", Text),
        ColumnDef::new("y", Blob),
    ];
    static T: TableDef = TableDef { name: "pgb_native_types", rust_name: "T", columns: &COLS };
    recreate(&mut conn, &T)?;
    conn.execute("INSERT INTO pgb_native_types VALUES (true, 1, 2, 3, 4, 5, 't', '\\x00')", &[])?;
    let rows = conn.query("SELECT * FROM pgb_native_types", &[])?;
    for (i, c) in COLS.iter().enumerate() {
        use athanor_core::Row as _;
        assert_eq!(rows[0].column_type(i), Some(athanor_postgres::native_type(c.sql_type)), "{c:?}");
        assert_eq!(rows[0].column_name(i), Some(c.name));
    }
    assert_eq!(rows[0].get::<i64>("g")?, 3);
    drop_table(&mut conn, "pgb_native_types")
}

#[test]
fn unusable_values_are_refused_before_sending() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let mut conn = driver.connect_typed()?;
    // Text with NUL is refused by core's capability check, before the driver sees it.
    let e = engine(driver.clone(), &opts);
    match e.connect()?.execute("SELECT $1::text", &[Value::from("nul\0inside")]) {
        Err(Error::Unsupported { feature, dialect }) => {
            assert_eq!(dialect, "postgres");
            assert!(feature.contains("NUL"), "{feature}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(conn.execute("SELECT $1::int4", &[]), Err(Error::InvalidRequest { .. })));
    assert!(matches!(conn.execute("SELECT $1::text", &[ValueRef::I64(1)]), Err(Error::TypeMismatch { .. })));
    // Types without a portable value are a mismatch naming the type (NULL or not).
    for sql in ["SELECT ARRAY[1]", "SELECT NULL::int4[]", "SELECT interval '1 day'"] {
        let r = conn.query(sql, &[], &mut |row| row.get(0).map(|_| ()));
        match r {
            Err(Error::TypeMismatch { found, .. }) => assert!(found.contains("PostgreSQL type"), "{found}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // Parameters of such types take numbers and decimals (NUMERIC) or text (anything).
    let mut out = Vec::new();
    conn.query(
        "SELECT ($1::numeric + $2::numeric)::text, $3::date::text, $4::numeric::text, $5::numeric",
        &[
            ValueRef::I64(2),
            ValueRef::F64(0.25),
            ValueRef::Text("2024-02-29"),
            ValueRef::F64(f64::NAN),
            ValueRef::Decimal("-12.50"),
        ],
        &mut |row| {
            for i in 0..row.len() {
                out.push(row.get(i)?.to_owned());
            }
            Ok(())
        },
    )?;
    assert_eq!(
        out,
        vec![Value::from("2.25"), Value::from("2024-02-29"), Value::from("NaN"), Value::Decimal("-12.50".into())]
    );
    // Domains are sent and read as their base type.
    conn.batch_execute(
        "DROP TABLE IF EXISTS pgb_domain_t; DROP DOMAIN IF EXISTS pgb_domain_pos; \
         CREATE DOMAIN pgb_domain_pos AS integer CHECK (VALUE > 0); CREATE TABLE pgb_domain_t (v pgb_domain_pos)",
    )?;
    conn.execute("INSERT INTO pgb_domain_t (v) VALUES ($1)", &[ValueRef::I64(5)])?;
    let mut v = Value::Null;
    conn.query("SELECT v FROM pgb_domain_t", &[], &mut |row| {
        v = row.get(0)?.to_owned();
        Ok(())
    })?;
    assert_eq!(v, Value::I32(5));
    assert!(matches!(
        conn.execute("INSERT INTO pgb_domain_t (v) VALUES ($1)", &[ValueRef::I64(-5)]),
        Err(Error::Integrity { kind: IntegrityKind::Check, .. })
    ));
    conn.batch_execute("DROP TABLE pgb_domain_t; DROP DOMAIN pgb_domain_pos")?;
    // Enum labels read as text; text parameters are parsed by the server.
    conn.batch_execute("DROP TYPE IF EXISTS pgb_enum_mood; CREATE TYPE pgb_enum_mood AS ENUM ('sad', 'happy')")?;
    let mut mood = Value::Null;
    conn.query("SELECT $1::pgb_enum_mood", &[ValueRef::Text("happy")], &mut |row| {
        mood = row.get(0)?.to_owned();
        Ok(())
    })?;
    assert_eq!(mood, Value::from("happy"));
    conn.batch_execute("DROP TYPE pgb_enum_mood")?;
    // The out-of-range index is an InvalidRequest.
    conn.query("SELECT 1", &[], &mut |row| {
        assert!(matches!(row.get(1), Err(Error::InvalidRequest { .. })));
        Ok(())
    })?;
    assert!(!conn.is_broken());
    Ok(())
}

#[test]
fn table_exists_query_runs() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    conn.batch_execute("DROP TABLE IF EXISTS pgb_exists; CREATE TABLE pgb_exists (id int)")?;
    let q = conn.dialect().table_exists_query();
    assert_eq!(conn.query(q, &[Value::from("pgb_exists")])?.len(), 1);
    assert_eq!(conn.query(q, &[Value::from("pgb_exists_not")])?.len(), 0);
    drop_table(&mut conn, "pgb_exists")
}

#[test]
fn transactions_isolation_savepoints_and_ddl() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    for level in IsolationLevel::ALL {
        conn.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() })?;
        let shown: String = conn.query_scalar("SHOW transaction_isolation", &[])?;
        assert_eq!(shown, level.as_sql().to_ascii_lowercase());
        conn.commit()?;
    }
    conn.batch_execute("DROP TABLE IF EXISTS pgb_tx; CREATE TABLE pgb_tx (v INTEGER)")?;
    // Read-only transactions refuse writes (SQLSTATE 25006).
    conn.begin_with(TxOptions { isolation: None, read_only: true, ..TxOptions::default() })?;
    match conn.execute("INSERT INTO pgb_tx (v) VALUES ($1)", &[Value::I32(1)]) {
        Err(Error::ReadOnly { message, .. }) => assert!(message.contains("read-only transaction"), "{message}"),
        other => panic!("{other:?}"),
    }
    conn.rollback()?;
    // Savepoints.
    conn.begin()?;
    conn.execute("INSERT INTO pgb_tx (v) VALUES ($1)", &[Value::I32(1)])?;
    conn.savepoint("sp one")?;
    conn.execute("INSERT INTO pgb_tx (v) VALUES ($1)", &[Value::I32(2)])?;
    conn.rollback_to_savepoint("sp one")?;
    conn.release_savepoint("sp one")?;
    conn.commit()?;
    let vs: Vec<i32> =
        conn.query("SELECT v FROM pgb_tx ORDER BY v", &[])?.iter().map(|r| r.get(0)).collect::<Result<_>>()?;
    assert_eq!(vs, vec![1]);
    // DDL is transactional.
    conn.begin()?;
    conn.batch_execute("DROP TABLE pgb_tx")?;
    conn.rollback()?;
    assert_eq!(conn.query_scalar::<i64>("SELECT count(*) FROM pgb_tx", &[])?, 1);
    // A failed statement aborts the transaction until rollback.
    let r = engine.transaction(|c| {
        c.execute("INSERT INTO pgb_tx (v) VALUES ($1)", &[Value::I32(3)])?;
        c.execute("INSERT INTO pgb_tx (v) VALUES ($1)", &[Value::from("not a number")])
    });
    assert!(matches!(r, Err(Error::Database { .. })), "{r:?}");
    assert_eq!(conn.query_scalar::<i64>("SELECT count(*) FROM pgb_tx", &[])?, 1);
    drop_table(&mut conn, "pgb_tx")
}

#[test]
fn serialization_failure_is_classified() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut a = engine.connect()?;
    let mut b = engine.connect()?;
    a.batch_execute("DROP TABLE IF EXISTS pgb_serial; CREATE TABLE pgb_serial (id INT PRIMARY KEY, v INT)")?;
    a.execute("INSERT INTO pgb_serial VALUES (1, 0)", &[])?;
    let serializable =
        TxOptions { isolation: Some(IsolationLevel::Serializable), read_only: false, ..TxOptions::default() };
    a.begin_with(serializable)?;
    b.begin_with(serializable)?;
    a.query_scalar::<i32>("SELECT v FROM pgb_serial WHERE id = 1", &[])?;
    b.query_scalar::<i32>("SELECT v FROM pgb_serial WHERE id = 1", &[])?;
    a.execute("UPDATE pgb_serial SET v = v + 1 WHERE id = 1", &[])?;
    a.commit()?;
    let r = b.execute("UPDATE pgb_serial SET v = v + 1 WHERE id = 1", &[]);
    assert!(matches!(r, Err(Error::SerializationFailure { deadlock: false, .. })), "{r:?}");
    b.rollback()?;
    drop_table(&mut a, "pgb_serial")
}

#[test]
fn lock_errors_and_deadlocks_are_classified() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let engine = engine(driver, &opts);
    let mut a = engine.connect()?;
    a.batch_execute(
        "DROP TABLE IF EXISTS pgb_locks; CREATE TABLE pgb_locks (id INT PRIMARY KEY, v INT); \
         INSERT INTO pgb_locks VALUES (1, 0), (2, 0)",
    )?;
    let mut b = engine.connect()?;
    a.begin()?;
    a.execute("UPDATE pgb_locks SET v = 1 WHERE id = 1", &[])?;
    b.begin()?;
    let r = b.query("SELECT v FROM pgb_locks WHERE id = 1 FOR UPDATE NOWAIT", &[]);
    assert!(matches!(r, Err(Error::SerializationFailure { deadlock: false, .. })), "{r:?}");
    b.rollback()?;

    // A deadlock: a holds 1 and waits for 2 (in a thread), b holds 2 and asks for 1.
    b.begin()?;
    b.execute("UPDATE pgb_locks SET v = 2 WHERE id = 2", &[])?;
    let waiter = std::thread::spawn(move || {
        let r = a.execute("UPDATE pgb_locks SET v = 1 WHERE id = 2", &[]);
        let _ = a.rollback();
        r
    });
    std::thread::sleep(Duration::from_millis(200));
    let rb = b.execute("UPDATE pgb_locks SET v = 2 WHERE id = 1", &[]);
    let _ = b.rollback();
    let ra = waiter.join().expect("waiter thread");
    let deadlocks =
        [&ra, &rb].iter().filter(|r| matches!(r, Err(Error::SerializationFailure { deadlock: true, .. }))).count();
    assert_eq!(deadlocks, 1, "{ra:?} / {rb:?}");
    drop_table(&mut b, "pgb_locks")
}

#[test]
fn connect_failures_are_connection_errors() -> Result<()> {
    let (_, opts) = server_or_skip!();
    let mut wrong_db = opts.clone();
    wrong_db.database = Some("athanor_no_such_database".into());
    let driver = PostgresDriver::from_options(&wrong_db)?;
    match driver.connect_typed() {
        Err(Error::Connection { message, disconnect: false, .. }) => {
            assert!(message.contains("athanor_no_such_database") && message.contains("does not exist"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Through an engine: reported by connect(), quickly.
    let engine = Engine::new(Arc::new(driver), &wrong_db, EngineConfig::default())?;
    let start = Instant::now();
    assert!(matches!(engine.connect(), Err(Error::Connection { disconnect: false, .. })));
    assert!(start.elapsed() < Duration::from_secs(10));

    // Nothing listens on port 1.
    let refused = ConnectOptions::parse("postgres://postgres@127.0.0.1:1/test?connect_timeout=5")?;
    let driver = (backend().open)(&refused)?;
    match driver.connect() {
        Err(Error::Connection { message, disconnect: false, .. }) => {
            assert!(message.contains("127.0.0.1:1"), "{message}")
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("connected to port 1"),
    }
    Ok(())
}

fn backend_pid(conn: &mut dyn RawConnection) -> Result<i32> {
    let mut pid = None;
    conn.query("SELECT pg_backend_pid()", &[], &mut |row| {
        pid = Some(row.get(0)?.to_owned());
        Ok(())
    })?;
    match pid {
        Some(Value::I32(p)) => Ok(p),
        other => panic!("pg_backend_pid() gave {other:?}"),
    }
}

/// Terminate `pid` from another connection and wait until it is gone.
fn terminate(killer: &mut dyn RawConnection, pid: i32) -> Result<()> {
    let mut done = ValueRef::Null.to_owned();
    killer.query("SELECT pg_terminate_backend($1)", &[ValueRef::I32(pid)], &mut |row| {
        done = row.get(0)?.to_owned();
        Ok(())
    })?;
    assert_eq!(done, Value::Bool(true));
    let start = Instant::now();
    loop {
        let mut alive = 0;
        killer.query(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
            &[ValueRef::I64(pid.into())],
            &mut |row| {
                alive = row.get(0)?.as_i64().unwrap_or(0);
                Ok(())
            },
        )?;
        if alive == 0 || start.elapsed() > Duration::from_secs(10) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn terminated_backend_is_a_disconnect() -> Result<()> {
    let (driver, opts) = server_or_skip!();
    let mut victim = driver.connect_typed()?;
    let mut killer = driver.connect_typed()?;
    let pid = backend_pid(&mut victim)?;
    terminate(&mut killer, pid)?;
    match victim.execute("SELECT 1", &[]) {
        Err(Error::Connection { disconnect: true, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(victim.is_broken());
    assert!(matches!(victim.execute("SELECT 1", &[]), Err(Error::Connection { disconnect: true, .. })));
    assert!(matches!(victim.ping(), Err(Error::Connection { disconnect: true, .. })));

    // Through an engine: the connection is discarded and the pool opens a fresh one.
    let engine = engine(driver, &opts);
    let mut conn = engine.connect()?;
    let pid: i32 = conn.query_scalar("SELECT pg_backend_pid()", &[])?;
    terminate(&mut killer, pid)?;
    let r = conn.execute("SELECT 1", &[]);
    assert!(r.as_ref().is_err_and(Error::is_disconnect), "{r:?}");
    assert!(conn.is_invalidated());
    drop(conn);
    let mut fresh = engine.connect()?;
    let new_pid: i32 = fresh.query_scalar("SELECT pg_backend_pid()", &[])?;
    assert_ne!(new_pid, pid);
    Ok(())
}

#[test]
fn idle_terminated_connection_fails_ping() -> Result<()> {
    let (driver, _) = server_or_skip!();
    let mut victim = driver.connect_typed()?;
    let mut killer = driver.connect_typed()?;
    let pid = backend_pid(&mut victim)?;
    terminate(&mut killer, pid)?;
    assert!(matches!(victim.ping(), Err(Error::Connection { disconnect: true, .. })));
    assert!(victim.is_broken());
    Ok(())
}

#[test]
fn database_errors_keep_the_driver_error_as_source() -> Result<()> {
    use std::error::Error as _;
    let (driver, _) = server_or_skip!();
    let mut conn = driver.connect_typed()?;
    let e = conn.execute("SELEC 1", &[]).expect_err("a syntax error");
    assert!(matches!(&e, Error::Database { code, .. } if code == "42601"), "{e:?}");
    let source = e.source().and_then(|s| s.downcast_ref::<postgres::Error>()).expect("postgres::Error as source");
    assert_eq!(source.code().map(|c| c.code()), Some("42601"));
    Ok(())
}

/// `query_chunked` reads from a cursor `fetch_size` rows at a time. The proof: a statement whose
/// third row fails hands over its first two rows before the error. A buffered read would fail
/// before any row. The connection is usable afterwards, and a complete read gives every row.
#[test]
fn query_chunked_fetches_from_a_cursor_in_batches() -> Result<()> {
    let (driver, _opts) = server_or_skip!();
    let mut c = driver.connect_typed()?;
    let sql = "SELECT 10 / (3 - g) FROM generate_series(1, $1) AS g";
    c.batch_execute("BEGIN")?;
    let mut seen: Vec<i64> = Vec::new();
    let r = c.query_chunked(sql, &[ValueRef::I64(5)], 2, &mut |row| {
        seen.push(athanor_core::FromValue::from_value(row.get(0)?)?);
        Ok(())
    });
    assert!(matches!(r, Err(Error::Database { .. })), "division by zero at the third row: {r:?}");
    assert_eq!(seen, [5, 10], "the first batch arrived before the failing row was computed");
    c.batch_execute("ROLLBACK")?;
    c.batch_execute("BEGIN")?;
    let mut all: Vec<i64> = Vec::new();
    c.query_chunked("SELECT g FROM generate_series(1, $1) AS g", &[ValueRef::I64(5)], 2, &mut |row| {
        all.push(athanor_core::FromValue::from_value(row.get(0)?)?);
        Ok(())
    })?;
    assert_eq!(all, [1, 2, 3, 4, 5]);
    // The cursor was closed: the same stream can start again in the same transaction.
    let mut again = 0;
    c.query_chunked("SELECT g FROM generate_series(1, $1) AS g", &[ValueRef::I64(3)], 10, &mut |_| {
        again += 1;
        Ok(())
    })?;
    assert_eq!(again, 3);
    c.batch_execute("ROLLBACK")?;
    Ok(())
}

/// Every call into the driver, made on a thread inside a tokio runtime (which the `postgres`
/// client's own runtime refuses to block: "Cannot start a runtime from within a runtime"),
/// works and gives the same answers as elsewhere: connecting (`connect_timeout=0` connects on the
/// calling thread), statements with parameters and rows, a cursor, a server error, a ping, a lost
/// connection, and the drop, which closes the connection before it returns.
#[test]
fn every_driver_call_works_inside_a_tokio_runtime() -> Result<()> {
    let (_, opts) = server_or_skip!();
    let url = url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let no_deadline = ConnectOptions::parse(&format!("{url}{sep}connect_timeout=0"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        for o in [&opts, &no_deadline] {
            let driver = PostgresDriver::from_options(o)?;
            let mut c = driver.connect_typed()?;
            let mut killer = driver.connect_typed()?;
            assert_eq!(c.execute("SELECT $1::int4", &[ValueRef::I32(7)])?, 1);
            let mut got = Vec::new();
            c.query("SELECT g, 'x' || g FROM generate_series(1, $1) AS g", &[ValueRef::I64(3)], &mut |row| {
                got.push((row.get(0)?.to_owned(), row.get(1)?.to_owned()));
                Ok(())
            })?;
            assert_eq!(got[2], (Value::I32(3), Value::Text("x3".into())));
            c.batch_execute("BEGIN")?;
            let mut streamed = 0;
            c.query_chunked("SELECT g FROM generate_series(1, $1) AS g", &[ValueRef::I64(5)], 2, &mut |_| {
                streamed += 1;
                Ok(())
            })?;
            assert_eq!(streamed, 5);
            c.batch_execute("ROLLBACK")?;
            let e = c.execute("SELEC 1", &[]).expect_err("a syntax error");
            assert!(matches!(&e, Error::Database { code, .. } if code == "42601"), "{e:?}");
            c.ping()?;
            assert!(!c.is_broken());

            // Dropped here: closed before the drop returns.
            let pid = backend_pid(&mut c)?;
            drop(c);
            let mut open = 1;
            let start = Instant::now();
            while open > 0 && start.elapsed() < Duration::from_secs(10) {
                killer.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                    &[ValueRef::I64(pid.into())],
                    &mut |row| {
                        open = row.get(0)?.as_i64().unwrap_or(0);
                        Ok(())
                    },
                )?;
            }
            assert_eq!(open, 0, "the dropped connection was closed");

            // A connection the server ends is a disconnect here too.
            let mut victim = driver.connect_typed()?;
            let pid = backend_pid(&mut victim)?;
            terminate(&mut killer, pid)?;
            assert!(matches!(victim.execute("SELECT 1", &[]), Err(Error::Connection { disconnect: true, .. })));
            assert!(victim.is_broken());
            assert!(matches!(victim.ping(), Err(Error::Connection { disconnect: true, .. })));
        }
        Ok(())
    })
}
