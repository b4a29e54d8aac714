//! The MySQL / MariaDB backend against a real server, directly and through core's pooled `Engine`.
//!
//! The server is read from `ATHANOR_TEST_MYSQL_URL`. Unset, each test prints one `SKIPPED backend
//! mysql` line and passes; when it cannot be reached, the same outside CI and a failure under
//! `CI=true` (`athanor::testing`'s rule). Every test works on its own tables
//! (prefixed `mysql_be_<test>`), so the tests run in parallel.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::sql;
use athanor_core::{
    create_table_statements, ColumnDef, ConnectOptions, DefaultValue, Dialect, Engine, EngineConfig, Error,
    ForeignKeyDef, IntegrityKind, IsolationLevel, KeyRecovery, RawConnection, Result, SqlType, TableDef, TxOptions,
    Value, ValueRef,
};
use athanor_mysql::{backend, MySqlConnection, MySqlDriver};
use std::sync::Arc;

/// The configured server, or an empty string when `ATHANOR_TEST_MYSQL_URL` is unset.
fn url() -> String {
    std::env::var("ATHANOR_TEST_MYSQL_URL").unwrap_or_default()
}

/// The driver for the test server, or `None` (after printing the SKIPPED line) when it is
/// unreachable outside CI.
fn server() -> Option<MySqlDriver> {
    let url = url();
    if url.trim().is_empty() {
        // Not configured: skipped with one line, also under CI=true (a job for another database).
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED backend mysql: ATHANOR_TEST_MYSQL_URL is not set");
        return None;
    }
    let driver = MySqlDriver::from_options(&ConnectOptions::parse(&url).unwrap()).unwrap();
    match driver.connect_typed() {
        Ok(_) => Some(driver),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the MySQL test server at {url} is unreachable: {e}");
            }
            // Past libtest's capture of eprintln!, so the skip is seen.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED backend mysql at {url}: {e}");
            None
        }
    }
}

fn engine_for(url: &str) -> Engine {
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

fn create(conn: &mut dyn RawConnection, table: &TableDef) -> Result<()> {
    conn.batch_execute(&format!("DROP TABLE IF EXISTS `{}`", table.name))?;
    for stmt in create_table_statements(&athanor_dialects::MySqlDialect, table)? {
        conn.batch_execute(&stmt)?;
    }
    Ok(())
}

const TYPES: TableDef = TableDef {
    name: "mysql_be_types",
    rust_name: "Types",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef::new("flag", SqlType::Bool),
        ColumnDef::new("small", SqlType::SmallInt),
        ColumnDef::new("int", SqlType::Integer),
        ColumnDef::new("big", SqlType::BigInt),
        ColumnDef::new("real", SqlType::Real),
        ColumnDef::new("dbl", SqlType::Double),
        ColumnDef::new("txt", SqlType::Text),
        ColumnDef { length: Some(40), ..ColumnDef::new("short_txt", SqlType::Text) },
        ColumnDef::new("bytes", SqlType::Blob),
        ColumnDef { nullable: true, ..ColumnDef::new("maybe", SqlType::Text) },
        ColumnDef { nullable: true, ..ColumnDef::new("maybe_int", SqlType::Integer) },
        ColumnDef { nullable: true, ..ColumnDef::new("maybe_bytes", SqlType::Blob) },
    ],
};

#[test]
fn round_trips_every_type() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    create(&mut c, &TYPES)?;
    let insert = sql::insert(&athanor_dialects::MySqlDialect, &TYPES, 1, true, None)?;
    let unicode = "héllo wörld — 日本語 😀🎉";
    let tricky = r#"back\slash \\ 'single' "double" \' \n %_"#;
    let long = "x".repeat(70_000);
    let cases: Vec<Vec<ValueRef<'_>>> = vec![
        vec![
            ValueRef::Bool(false),
            ValueRef::I16(i16::MIN),
            ValueRef::I32(i32::MIN),
            ValueRef::I64(i64::MIN),
            ValueRef::F32(f32::MIN_POSITIVE),
            ValueRef::F64(f64::MIN_POSITIVE),
            ValueRef::Text(""),
            ValueRef::Text(""),
            ValueRef::Blob(&[]),
            ValueRef::Null,
            ValueRef::Null,
            ValueRef::Null,
        ],
        vec![
            ValueRef::Bool(true),
            ValueRef::I16(i16::MAX),
            ValueRef::I32(i32::MAX),
            ValueRef::I64(i64::MAX),
            ValueRef::F32(f32::MAX),
            ValueRef::F64(f64::MAX),
            ValueRef::Text(unicode),
            ValueRef::Text("😀"),
            ValueRef::Blob(&[0x00, 0xFF, 0x80, 0x00, 0x7F]),
            ValueRef::Text(tricky),
            ValueRef::I32(0),
            ValueRef::Blob(&[0]),
        ],
        vec![
            ValueRef::Bool(true),
            ValueRef::I16(-1),
            ValueRef::I32(7),
            ValueRef::I64(-9),
            ValueRef::F32(-0.1),
            ValueRef::F64(0.1),
            ValueRef::Text(&long),
            ValueRef::Text("a\0b"),
            ValueRef::Blob(&[0xFF; 300]),
            ValueRef::Text(""),
            ValueRef::I64(-5),
            ValueRef::Blob(&[]),
        ],
    ];
    let mut ids = Vec::new();
    for case in &cases {
        assert_eq!(c.execute(&insert, case)?, 1);
        ids.push(c.last_insert_id()?.unwrap());
    }
    let select = sql::select_by_pk(&athanor_dialects::MySqlDialect, &TYPES)?;
    for (case, id) in cases.iter().zip(&ids) {
        let got = rows(&mut c, &select, &[ValueRef::I64(*id)])?;
        assert_eq!(got.len(), 1);
        let row = &got[0];
        assert_eq!(row[0], Value::I64(*id));
        for (i, (want, got)) in case.iter().zip(&row[1..]).enumerate() {
            let col = TYPES.columns[i + 1].name;
            match want {
                // BOOL is TINYINT(1), integers of every width come back as I64.
                ValueRef::Bool(b) => assert_eq!(got, &Value::I64((*b).into()), "{col}"),
                ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => {
                    assert_eq!(got, &Value::I64(want.as_i64().unwrap()), "{col}")
                }
                other => assert_eq!(got.as_ref(), *other, "{col}"),
            }
        }
    }
    // The same through the typed decoders core uses.
    let got = rows(&mut c, &select, &[ValueRef::I64(ids[1])])?;
    assert!(got[0][1].get::<bool>()?);
    assert_eq!(got[0][2].get::<i16>()?, i16::MAX);
    assert_eq!(got[0][3].get::<i32>()?, i32::MAX);
    assert_eq!(got[0][5].get::<f32>()?, f32::MAX);
    assert_eq!(got[0][7].get::<String>()?, unicode);
    // A query without parameters (the rows of the whole table).
    let all = rows(&mut c, "SELECT `real`, `txt` FROM `mysql_be_types` ORDER BY `id`", &[])?;
    assert_eq!(all.len(), 3);
    assert_eq!(all[1], vec![Value::F32(f32::MAX), Value::Text(unicode.into())]);
    assert_eq!(all[2][0], Value::F32(-0.1));
    // Comparisons are exact (binary collation): case and accents matter.
    let n = rows(
        &mut c,
        "SELECT COUNT(*) FROM `mysql_be_types` WHERE `txt` = ?",
        &[ValueRef::Text("HÉLLO WÖRLD — 日本語 😀🎉")],
    )?;
    assert_eq!(n, vec![vec![Value::I64(0)]]);
    // Blob parameters compare byte for byte.
    let n = rows(
        &mut c,
        "SELECT `id` FROM `mysql_be_types` WHERE `bytes` = ?",
        &[ValueRef::Blob(&[0x00, 0xFF, 0x80, 0x00, 0x7F])],
    )?;
    assert_eq!(n, vec![vec![Value::I64(ids[1])]]);
    c.batch_execute("DROP TABLE `mysql_be_types`")
}

#[test]
fn non_finite_floats_and_out_of_range_integers_are_refused() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    c.batch_execute("DROP TABLE IF EXISTS `mysql_be_ranges`")?;
    c.batch_execute("CREATE TABLE `mysql_be_ranges` (`s` SMALLINT, `d` DOUBLE) ENGINE=InnoDB")?;
    // NaN and infinities are refused by core's capability check, before the driver sees them.
    let engine = engine_for(&url());
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = engine.execute("INSERT INTO `mysql_be_ranges` (`d`) VALUES (?)", &[Value::F64(v)]).unwrap_err();
        assert!(matches!(e, Error::Unsupported { dialect: "mysql", .. }), "{e:?}");
    }
    assert_eq!(rows(&mut c, "SELECT COUNT(*) FROM `mysql_be_ranges`", &[])?, vec![vec![Value::I64(0)]]);
    // Strict mode: an out-of-range value is an error, not a clamp.
    let e = c.execute("INSERT INTO `mysql_be_ranges` (`s`) VALUES (?)", &[ValueRef::I64(70_000)]).unwrap_err();
    assert!(matches!(&e, Error::Database { code, .. } if code == "1264"), "{e:?}");
    // The connection is still usable.
    assert!(!c.is_broken());
    assert_eq!(c.execute("INSERT INTO `mysql_be_ranges` (`s`) VALUES (?)", &[ValueRef::I16(3)])?, 1);
    // A parameter count that does not match is refused by the driver before sending.
    let e = c.execute("INSERT INTO `mysql_be_ranges` (`s`, `d`) VALUES (?, ?)", &[ValueRef::I16(3)]).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
    assert!(!c.is_broken());
    c.batch_execute("DROP TABLE `mysql_be_ranges`")
}

const KEYS: TableDef = TableDef {
    name: "mysql_be_keys",
    rust_name: "Keys",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef::new("name", SqlType::Text),
    ],
};

#[test]
fn multi_row_insert_gives_the_first_key_and_consecutive_keys() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c: MySqlConnection = driver.connect_typed()?;
    assert_eq!(c.last_insert_id()?, None);
    create(&mut c, &KEYS)?;
    // The local server runs MariaDB's defaults (increment 1, lock mode 1).
    let mut caps = athanor_dialects::MySqlDialect.capabilities().clone();
    c.adjust_capabilities(&mut caps);
    assert_eq!(caps.key_recovery, KeyRecovery::LastInsertIdConsecutive);
    let one = sql::insert(&athanor_dialects::MySqlDialect, &KEYS, 1, true, None)?;
    assert_eq!(c.execute(&one, &[ValueRef::Text("first")])?, 1);
    let first_single = c.last_insert_id()?.unwrap();
    let three = sql::insert(&athanor_dialects::MySqlDialect, &KEYS, 3, true, None)?;
    assert_eq!(three, "INSERT INTO `mysql_be_keys` (`name`) VALUES (?), (?), (?)");
    assert_eq!(c.execute(&three, &[ValueRef::Text("a"), ValueRef::Text("b"), ValueRef::Text("c")])?, 3);
    let first = c.last_insert_id()?.unwrap();
    assert!(first > first_single);
    let got = rows(
        &mut c,
        "SELECT `id`, `name` FROM `mysql_be_keys` WHERE `id` >= ? ORDER BY `id`",
        &[ValueRef::I64(first)],
    )?;
    assert_eq!(
        got,
        vec![
            vec![Value::I64(first), Value::Text("a".into())],
            vec![Value::I64(first + 1), Value::Text("b".into())],
            vec![Value::I64(first + 2), Value::Text("c".into())],
        ]
    );
    // Statements that generate no key leave it alone, like LAST_INSERT_ID().
    c.execute("UPDATE `mysql_be_keys` SET `name` = ? WHERE `id` = ?", &[ValueRef::Text("z"), ValueRef::I64(first)])?;
    rows(&mut c, "SELECT 1", &[])?;
    assert_eq!(c.last_insert_id()?, Some(first));
    assert_eq!(rows(&mut c, "SELECT LAST_INSERT_ID()", &[])?, vec![vec![Value::I64(first)]]);
    c.batch_execute("DROP TABLE `mysql_be_keys`")
}

const PARENTS: TableDef = TableDef {
    name: "mysql_be_parents",
    rust_name: "Parent",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef { unique: true, ..ColumnDef::new("email", SqlType::Text) },
        ColumnDef { default: Some(DefaultValue::Text("it's a \\ path")), ..ColumnDef::new("motto", SqlType::Text) },
        ColumnDef { default: Some(DefaultValue::Bool(true)), ..ColumnDef::new("active", SqlType::Bool) },
    ],
};

const CHILDREN: TableDef = TableDef {
    name: "mysql_be_children",
    rust_name: "Child",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef {
            index: true,
            foreign_key: Some(ForeignKeyDef { table: "mysql_be_parents", column: "id" }),
            ..ColumnDef::new("parent_id", SqlType::BigInt)
        },
    ],
};

/// The engine reports what its connections found at connect: key consecutiveness as the
/// server's own settings say, and the server's version.
#[test]
fn engine_reports_key_consecutiveness_and_server_version_from_connect() -> Result<()> {
    if server().is_none() {
        return Ok(());
    }
    let e = engine_for(&url());
    assert_eq!(e.capabilities().server_version, None, "nothing reported before the first connection");
    let mut conn = e.connect()?;
    let row = conn.query("SELECT @@auto_increment_increment, @@innodb_autoinc_lock_mode, @@version", &[])?;
    let (increment, lock_mode, version) = (row[0].get::<i64>(0)?, row[0].get::<i64>(1)?, row[0].get::<String>(2)?);
    let want = if increment == 1 && matches!(lock_mode, 0 | 1) {
        KeyRecovery::LastInsertIdConsecutive
    } else {
        KeyRecovery::LastInsertIdPerRow
    };
    assert_eq!(conn.capabilities().key_recovery, want, "increment {increment}, lock mode {lock_mode}");
    assert_eq!(e.capabilities().key_recovery, want);
    assert_eq!(e.server_version(), Some(version.as_str()));
    assert!(!version.is_empty());
    assert!(e.capabilities().server_version_number().is_some_and(|(major, _)| major >= 5), "{version}");
    // Everything else is the dialect's sheet.
    let sheet = athanor_dialects::MySqlDialect.capabilities();
    assert_eq!(
        &athanor_core::Capabilities {
            key_recovery: sheet.key_recovery,
            server_version: None,
            ..e.capabilities().clone()
        },
        sheet
    );
    Ok(())
}

#[test]
fn integrity_errors_name_their_constraint() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let engine = Engine::new(Arc::new(driver), &ConnectOptions::parse(&url())?, EngineConfig::default())?;
    let mut conn = engine.connect()?;
    conn.batch_execute("DROP TABLE IF EXISTS `mysql_be_children`")?;
    conn.batch_execute("DROP TABLE IF EXISTS `mysql_be_parents`")?;
    for t in [&PARENTS, &CHILDREN] {
        for stmt in create_table_statements(engine.dialect(), t)? {
            conn.batch_execute(&stmt)?;
        }
    }
    let exists = conn.query(engine.dialect().table_exists_query(), &[Value::from("mysql_be_parents")])?;
    assert_eq!(exists.len(), 1);
    assert!(conn.query(engine.dialect().table_exists_query(), &[Value::from("mysql_be_nope")])?.is_empty());

    conn.execute("INSERT INTO `mysql_be_parents` (`email`) VALUES (?)", &[Value::from("a@x")])?;
    // DDL defaults with a quote and a backslash.
    let row = conn.query("SELECT `id`, `motto`, `active` FROM `mysql_be_parents`", &[])?;
    let id: i64 = row[0].get(0)?;
    assert_eq!(row[0].get::<String>(1)?, "it's a \\ path");
    assert!(row[0].get::<bool>(2)?);

    let e = conn.execute("INSERT INTO `mysql_be_parents` (`email`) VALUES (?)", &[Value::from("a@x")]).unwrap_err();
    match &e {
        Error::Integrity { kind: IntegrityKind::Unique, constraint, message, .. } => {
            assert_eq!(constraint.as_deref(), Some("uq_mysql_be_parents_email"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Exact comparison: another case is another value.
    conn.execute("INSERT INTO `mysql_be_parents` (`email`) VALUES (?)", &[Value::from("A@x")])?;
    // The documented difference: utf8mb4_bin pads with spaces, so a trailing space is ignored.
    let e = conn.execute("INSERT INTO `mysql_be_parents` (`email`) VALUES (?)", &[Value::from("a@x ")]).unwrap_err();
    assert_eq!(e.constraint(), Some("uq_mysql_be_parents_email"));

    let e = conn
        .execute("INSERT INTO `mysql_be_parents` (`id`, `email`) VALUES (?, ?)", &[Value::I64(id), Value::from("b")]);
    assert_eq!(e.unwrap_err().constraint(), Some("PRIMARY"));

    let e = conn.execute("INSERT INTO `mysql_be_children` (`parent_id`) VALUES (?)", &[Value::I64(-1)]).unwrap_err();
    match &e {
        Error::Integrity { kind: IntegrityKind::ForeignKey, constraint, table, columns, .. } => {
            assert_eq!(constraint.as_deref(), Some("fk_mysql_be_children_parent_id_mysql_be_parents"));
            assert_eq!(table.as_deref(), Some("mysql_be_children"));
            assert_eq!(columns, &["parent_id"]);
        }
        other => panic!("{other:?}"),
    }
    conn.execute("INSERT INTO `mysql_be_children` (`parent_id`) VALUES (?)", &[Value::I64(id)])?;
    let e = conn.execute("DELETE FROM `mysql_be_parents` WHERE `id` = ?", &[Value::I64(id)]).unwrap_err();
    assert!(
        matches!(&e, Error::Integrity { kind: IntegrityKind::ForeignKey, constraint: Some(c), .. }
            if c == "fk_mysql_be_children_parent_id_mysql_be_parents"),
        "{e:?}"
    );

    let e = conn.execute("INSERT INTO `mysql_be_parents` (`email`) VALUES (?)", &[Value::Null]).unwrap_err();
    assert!(
        matches!(&e, Error::Integrity { kind: IntegrityKind::NotNull, columns, .. } if columns == &["email"]),
        "{e:?}"
    );
    let e = conn.execute("INSERT INTO `mysql_be_children` () VALUES ()", &[]).unwrap_err();
    assert!(
        matches!(&e, Error::Integrity { kind: IntegrityKind::NotNull, columns, .. } if columns == &["parent_id"]),
        "{e:?}"
    );

    conn.batch_execute("DROP TABLE IF EXISTS `mysql_be_checks`")?;
    conn.batch_execute(
        "CREATE TABLE `mysql_be_checks` (`age` INT NOT NULL, CONSTRAINT `ck_mysql_be_checks_age` CHECK (`age` >= 0)) \
         ENGINE=InnoDB",
    )?;
    let e = conn.execute("INSERT INTO `mysql_be_checks` (`age`) VALUES (?)", &[Value::I32(-1)]).unwrap_err();
    assert!(
        matches!(&e, Error::Integrity { kind: IntegrityKind::Check, constraint: Some(c), .. } if c == "ck_mysql_be_checks_age"),
        "{e:?}"
    );
    conn.batch_execute("DROP TABLE `mysql_be_checks`")?;
    conn.batch_execute("DROP TABLE `mysql_be_children`")?;
    conn.batch_execute("DROP TABLE `mysql_be_parents`")
}

#[test]
fn update_counts_matched_rows() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    c.batch_execute("DROP TABLE IF EXISTS `mysql_be_found`")?;
    c.batch_execute("CREATE TABLE `mysql_be_found` (`id` INT PRIMARY KEY, `v` INT NOT NULL) ENGINE=InnoDB")?;
    c.execute(
        "INSERT INTO `mysql_be_found` (`id`, `v`) VALUES (?, ?), (?, ?)",
        &[ValueRef::I32(1), ValueRef::I32(5), ValueRef::I32(2), ValueRef::I32(5)],
    )?;
    // Unchanged values: CLIENT_FOUND_ROWS makes MySQL report the matched row.
    assert_eq!(
        c.execute("UPDATE `mysql_be_found` SET `v` = ? WHERE `id` = ?", &[ValueRef::I32(5), ValueRef::I32(1)])?,
        1
    );
    assert_eq!(c.execute("UPDATE `mysql_be_found` SET `v` = ?", &[ValueRef::I32(5)])?, 2);
    assert_eq!(c.execute("UPDATE `mysql_be_found` SET `v` = 6 WHERE `id` = 2", &[])?, 1);
    assert_eq!(
        c.execute("UPDATE `mysql_be_found` SET `v` = ? WHERE `id` = ?", &[ValueRef::I32(5), ValueRef::I32(9)])?,
        0
    );
    assert_eq!(
        c.execute("DELETE FROM `mysql_be_found` WHERE `id` IN (?, ?)", &[ValueRef::I32(1), ValueRef::I32(2)])?,
        2
    );
    c.batch_execute("DROP TABLE `mysql_be_found`")
}

#[test]
fn killed_connection_is_a_disconnect_and_broken() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut victim = driver.connect_typed()?;
    let mut killer = driver.connect_typed()?;
    let id = victim.connection_id();
    let got = rows(&mut victim, "SELECT CONNECTION_ID()", &[])?;
    assert_eq!(got, vec![vec![Value::I64(id.into())]]);
    killer.batch_execute(&format!("KILL {id}"))?;
    std::thread::sleep(std::time::Duration::from_millis(100));
    let e = rows(&mut victim, "SELECT 1", &[]).unwrap_err();
    assert!(matches!(e, Error::Connection { disconnect: true, .. }), "{e:?}");
    assert!(victim.is_broken());
    // Later calls fail the same way without touching the network.
    assert!(victim.execute("SELECT 1", &[]).unwrap_err().is_disconnect());
    assert!(victim.ping().unwrap_err().is_disconnect());
    killer.ping()?;
    assert!(!killer.is_broken());
    Ok(())
}

#[test]
fn engine_discards_a_killed_connection() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut killer = driver.connect_typed()?;
    let engine = Engine::new(Arc::new(driver), &ConnectOptions::parse(&url())?, EngineConfig::default())?;
    let mut conn = engine.connect()?;
    let id: i64 = conn.query_scalar("SELECT CONNECTION_ID()", &[])?;
    killer.batch_execute(&format!("KILL {id}"))?;
    std::thread::sleep(std::time::Duration::from_millis(100));
    let e = conn.execute("UPDATE `no_such_table_for_kill` SET `a` = 1", &[]).unwrap_err();
    assert!(e.is_disconnect(), "{e:?}");
    assert!(conn.is_invalidated());
    drop(conn);
    // A new connection works.
    let mut conn = engine.connect()?;
    let other: i64 = conn.query_scalar("SELECT CONNECTION_ID()", &[])?;
    assert_ne!(other, id);
    Ok(())
}

#[test]
fn connect_failures_are_connection_errors() -> Result<()> {
    // Nothing listens on port 1: refused, whatever the server.
    let e = engine_for("mysql://root@127.0.0.1:1/test?connect_timeout=2&pool_timeout=5").connect().unwrap_err();
    assert!(
        matches!(&e, Error::Connection { disconnect: false, message, .. } if message.contains("127.0.0.1:1")),
        "{e:?}"
    );

    let Some(_) = server() else { return Ok(()) };
    let mut o = ConnectOptions::parse(&url())?;
    o.database = Some("athanor_no_such_database".into());
    let engine = Engine::new((backend().open)(&o)?, &o, EngineConfig::default())?;
    let e = engine.connect().unwrap_err();
    match &e {
        Error::Connection { disconnect: false, message, .. } => {
            assert!(message.contains("1049") && message.contains("athanor_no_such_database"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    Ok(())
}

#[test]
fn session_settings() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    let got = rows(&mut c, "SELECT @@character_set_client, @@character_set_results, @@sql_mode, @@autocommit", &[])?;
    assert_eq!(got[0][0], Value::Text("utf8mb4".into()));
    assert_eq!(got[0][1], Value::Text("utf8mb4".into()));
    // Set at connect whatever the server's default: statements outside a transaction end.
    assert_eq!(got[0][3].get::<i64>()?, 1);
    let mode = got[0][2].get::<String>()?;
    for m in ["STRICT_ALL_TABLES", "NO_ZERO_DATE", "ERROR_FOR_DIVISION_BY_ZERO", "NO_ENGINE_SUBSTITUTION"] {
        assert!(mode.contains(m), "{mode}");
    }
    assert!(!mode.contains("NO_BACKSLASH_ESCAPES"), "{mode}");
    // Types without a portable form.
    let got = rows(
        &mut c,
        "SELECT SUM(x), AVG(x), CAST('2024-01-31 12:05:06' AS DATETIME), CAST('2024-02-01' AS DATE), \
         CAST(18446744073709551615 AS UNSIGNED) > 0, x'00ff', CAST('2024-02-01' AS DATETIME), \
         CAST('2024-02-01 10:20:30.500' AS DATETIME(6)), CAST('-10:20:30.25' AS TIME(3)), \
         CAST(123.450 AS DECIMAL(10,3)) FROM (SELECT 1 AS x UNION ALL SELECT 2) AS t",
        &[],
    )?;
    assert_eq!(
        got[0],
        vec![
            Value::Decimal("3".into()),
            Value::Decimal("1.5000".into()),
            Value::Text("2024-01-31 12:05:06".into()),
            Value::Text("2024-02-01".into()),
            Value::I64(1),
            Value::Blob(vec![0, 0xff]),
            Value::Text("2024-02-01 00:00:00".into()),
            Value::Text("2024-02-01 10:20:30.5".into()),
            Value::Text("-10:20:30.25".into()),
            Value::Decimal("123.450".into()),
        ]
    );
    assert_eq!(got[0][0].get::<i64>()?, 3, "SUM reads as i64");
    assert_eq!(got[0][1].get::<f64>()?, 1.5, "AVG reads as f64 when exact");
    // The same through the text protocol (a statement without parameters that cannot be
    // prepared goes there): the same values.
    c.batch_execute(
        "PREPARE mysql_be_tstmt FROM 'SELECT CAST(''2024-02-01 10:20:30.500'' AS DATETIME(6)), \
         CAST(''2024-02-01'' AS DATETIME), CAST(1.50 AS DECIMAL(10,2)), CAST(''2024-02-01'' AS DATE)'",
    )?;
    let got = rows(&mut c, "EXECUTE mysql_be_tstmt", &[])?;
    assert_eq!(
        got[0],
        vec![
            Value::Text("2024-02-01 10:20:30.5".into()),
            Value::Text("2024-02-01 00:00:00".into()),
            Value::Decimal("1.50".into()),
            Value::Text("2024-02-01".into()),
        ]
    );
    let e = rows(&mut c, "SELECT CAST(18446744073709551615 AS UNSIGNED)", &[]).unwrap_err();
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e:?}");
    let got = rows(&mut c, "SHOW VARIABLES LIKE 'auto_increment_increment'", &[])?;
    assert_eq!(got, vec![vec![Value::Text("auto_increment_increment".into()), Value::Text("1".into())]]);
    // A statement that cannot be prepared (EXECUTE) falls back to the text protocol, whose cells
    // are decoded by column type.
    c.batch_execute("PREPARE mysql_be_stmt FROM 'SELECT 42, 0.5e0, CAST(1.25 AS FLOAT), ''t'', x''01'', NULL, 7.50'")?;
    let got = rows(&mut c, "EXECUTE mysql_be_stmt", &[])?;
    assert_eq!(
        got,
        vec![vec![
            Value::I64(42),
            Value::F64(0.5),
            Value::F32(1.25),
            Value::Text("t".into()),
            Value::Blob(vec![1]),
            Value::Null,
            Value::Decimal("7.50".into())
        ]]
    );
    // With parameters there is no fallback: the server's error is returned.
    let e = rows(&mut c, "EXECUTE mysql_be_stmt", &[ValueRef::I32(1)]).unwrap_err();
    assert!(matches!(&e, Error::Database { code, .. } if code == "1295"), "{e:?}");
    // batch_execute reports an error in any statement of a batch.
    let e = c.batch_execute("SELECT 1; SELECT * FROM `mysql_be_no_such_table`").unwrap_err();
    assert!(matches!(&e, Error::Database { code, .. } if code == "1146"), "{e:?}");
    c.ping()?;
    assert!(!c.is_broken());
    Ok(())
}

#[test]
fn transactions_savepoints_and_isolation() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let engine = Engine::new(Arc::new(driver), &ConnectOptions::parse(&url())?, EngineConfig::default())?;
    let mut conn = engine.connect()?;
    conn.batch_execute("DROP TABLE IF EXISTS `mysql_be_tx`")?;
    conn.batch_execute("CREATE TABLE `mysql_be_tx` (`id` INT PRIMARY KEY) ENGINE=InnoDB")?;
    for level in IsolationLevel::ALL {
        conn.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() })?;
        conn.execute("INSERT INTO `mysql_be_tx` (`id`) VALUES (?)", &[Value::I32(1)])?;
        conn.rollback()?;
    }
    let n: i64 = conn.query_scalar("SELECT COUNT(*) FROM `mysql_be_tx`", &[])?;
    assert_eq!(n, 0);

    conn.begin()?;
    conn.execute("INSERT INTO `mysql_be_tx` (`id`) VALUES (?)", &[Value::I32(1)])?;
    conn.savepoint("sp_1")?;
    conn.execute("INSERT INTO `mysql_be_tx` (`id`) VALUES (?)", &[Value::I32(2)])?;
    conn.rollback_to_savepoint("sp_1")?;
    conn.release_savepoint("sp_1")?;
    conn.commit()?;
    let ids = conn.query("SELECT `id` FROM `mysql_be_tx` ORDER BY `id`", &[])?;
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].get::<i32>(0)?, 1);

    conn.begin_with(TxOptions {
        isolation: Some(IsolationLevel::Serializable),
        read_only: true,
        ..TxOptions::default()
    })?;
    let e = conn.execute("INSERT INTO `mysql_be_tx` (`id`) VALUES (?)", &[Value::I32(3)]).unwrap_err();
    assert!(matches!(&e, Error::ReadOnly { message, .. } if message.contains("READ ONLY")), "{e:?}");
    conn.rollback()?;

    engine.transaction(|c| c.execute("DELETE FROM `mysql_be_tx`", &[]))?;
    let n: i64 = conn.query_scalar("SELECT COUNT(*) FROM `mysql_be_tx`", &[])?;
    assert_eq!(n, 0);
    conn.batch_execute("DROP TABLE `mysql_be_tx`")
}

#[test]
fn deadlocks_are_serialization_failures() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut a = driver.connect_typed()?;
    let mut b = driver.connect_typed()?;
    a.batch_execute("DROP TABLE IF EXISTS `mysql_be_locks`")?;
    a.batch_execute("CREATE TABLE `mysql_be_locks` (`id` INT PRIMARY KEY, `v` INT NOT NULL) ENGINE=InnoDB")?;
    a.execute("INSERT INTO `mysql_be_locks` VALUES (1, 0), (2, 0)", &[])?;
    b.batch_execute("SET SESSION innodb_lock_wait_timeout = 1")?;
    a.batch_execute("START TRANSACTION")?;
    a.execute("UPDATE `mysql_be_locks` SET `v` = 1 WHERE `id` = ?", &[ValueRef::I32(1)])?;
    b.batch_execute("START TRANSACTION")?;
    // b waits for a's row lock and gives up.
    let e = b.execute("UPDATE `mysql_be_locks` SET `v` = 2 WHERE `id` = ?", &[ValueRef::I32(1)]).unwrap_err();
    assert_eq!(
        e,
        Error::timeout(athanor_core::TimeoutKind::LockWait, "Lock wait timeout exceeded; try restarting transaction")
    );
    b.batch_execute("ROLLBACK")?;
    a.batch_execute("ROLLBACK")?;
    assert!(!a.is_broken() && !b.is_broken());
    a.batch_execute("DROP TABLE `mysql_be_locks`")
}

#[test]
fn dialect_is_mysql() {
    let o = ConnectOptions::parse("mariadb://u@h/db").unwrap();
    let d = (backend().open)(&o).unwrap();
    assert_eq!(d.dialect().name(), "mysql");
    assert_eq!(d.max_pool_size(), None);
}

#[test]
fn oversized_parameter_is_an_error_not_a_hang() -> Result<()> {
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    let max: i64 = rows(&mut c, "SELECT @@max_allowed_packet", &[])?[0][0].get()?;
    c.batch_execute("DROP TABLE IF EXISTS `mysql_be_big`")?;
    c.batch_execute("CREATE TABLE `mysql_be_big` (`b` LONGBLOB) ENGINE=InnoDB")?;
    let mut big = vec![7u8; usize::try_from(max - 8).unwrap()];
    // The largest value the server accepts goes through.
    assert_eq!(c.execute("INSERT INTO `mysql_be_big` (`b`) VALUES (?)", &[ValueRef::Blob(&big)])?, 1);
    let len: i64 = rows(&mut c, "SELECT LENGTH(`b`) FROM `mysql_be_big`", &[])?[0][0].get()?;
    assert_eq!(len, max - 8);
    // One byte more is refused before sending (the server would drop the connection).
    big.push(7);
    let e = c.execute("INSERT INTO `mysql_be_big` (`b`) VALUES (?)", &[ValueRef::Blob(&big)]).unwrap_err();
    assert!(matches!(&e, Error::Database { code, .. } if code == "1153"), "{e:?}");
    assert!(!c.is_broken());
    c.batch_execute("DROP TABLE `mysql_be_big`")
}

#[test]
fn database_errors_keep_the_driver_error_as_source() -> Result<()> {
    use std::error::Error as _;
    let Some(driver) = server() else { return Ok(()) };
    let mut c = driver.connect_typed()?;
    let e = c.execute("SELEC 1", &[]).expect_err("a syntax error");
    assert!(matches!(&e, Error::Database { code, .. } if code == "1064"), "{e:?}");
    match e.source().and_then(|s| s.downcast_ref::<mysql::Error>()) {
        Some(mysql::Error::MySqlError(m)) => assert_eq!(m.code, 1064),
        other => panic!("expected mysql::Error as source, got {other:?}"),
    }
    Ok(())
}
