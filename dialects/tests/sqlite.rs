//! Exact SQL the SQLite dialect renders, and how it classifies SQLite's error codes.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

mod common;

use athanor_core::sql::{delete, insert, select_by_pk, update, write_expr, SqlWriter};
use athanor_core::{
    create_table_statements, drop_table_statement, quoted, CmpOp, ColumnDef, DbError, DefaultValue, Dialect, Error,
    Expr, ForeignKeyDef, IntegrityKind, IsolationLevel, KeyRecovery, Operand, SqlType, TableDef, TxOptions, Value,
};
use athanor_dialects::{SqliteDialect, SQLITE_CAPABILITIES};
use common::c;

const CUSTOMERS: TableDef = TableDef {
    name: "customers",
    rust_name: "Customer",
    columns: &[
        ColumnDef { nullable: true, primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef::new("name", SqlType::Text),
        ColumnDef { nullable: true, ..ColumnDef::new("address", SqlType::Text) },
        ColumnDef { unique: true, length: Some(255), ..ColumnDef::new("email", SqlType::Text) },
        ColumnDef { default: Some(DefaultValue::Int(18)), ..ColumnDef::new("age", SqlType::Integer) },
        ColumnDef { default: Some(DefaultValue::Bool(true)), ..ColumnDef::new("active", SqlType::Bool) },
    ],
};

const ORDERS: TableDef = TableDef {
    name: "orders",
    rust_name: "Order",
    columns: &[
        ColumnDef { nullable: true, primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef {
            index: true,
            foreign_key: Some(ForeignKeyDef { table: "customers", column: "id" }),
            ..ColumnDef::new("customer_id", SqlType::BigInt)
        },
        ColumnDef { default: Some(DefaultValue::Text("it's new")), ..ColumnDef::new("status", SqlType::Text) },
        ColumnDef::new("total", SqlType::Double),
        ColumnDef { nullable: true, ..ColumnDef::new("weight", SqlType::Real) },
        ColumnDef { nullable: true, ..ColumnDef::new("qty", SqlType::SmallInt) },
        ColumnDef { nullable: true, ..ColumnDef::new("receipt", SqlType::Blob) },
    ],
};

const LINES: TableDef = TableDef {
    name: "order_lines",
    rust_name: "OrderLine",
    columns: &[
        ColumnDef { primary_key: true, ..ColumnDef::new("order_id", SqlType::BigInt) },
        ColumnDef { primary_key: true, ..ColumnDef::new("line", SqlType::Integer) },
        ColumnDef::new("sku", SqlType::Text),
    ],
};

const ONLY_KEY: TableDef = TableDef {
    name: "tickets",
    rust_name: "Ticket",
    columns: &[ColumnDef {
        nullable: true,
        primary_key: true,
        autoincrement: true,
        ..ColumnDef::new("id", SqlType::BigInt)
    }],
};

fn d() -> &'static dyn Dialect {
    &SqliteDialect
}

fn db_err(code: &str, message: &str) -> DbError {
    DbError { code: code.into(), message: message.into(), ..DbError::default() }
}

#[test]
fn create_table_with_rowid_key_unique_default_and_bool() {
    assert_eq!(
        create_table_statements(d(), &CUSTOMERS).unwrap(),
        vec!["CREATE TABLE \"customers\" (\"id\" INTEGER, \"name\" TEXT NOT NULL, \"address\" TEXT, \
             \"email\" VARCHAR(255) NOT NULL, \"age\" INTEGER NOT NULL DEFAULT 18, \
             \"active\" BOOLEAN NOT NULL DEFAULT 1, \
             CONSTRAINT \"pk_customers\" PRIMARY KEY (\"id\"), \
             CONSTRAINT \"uq_customers_email\" UNIQUE (\"email\"))"
            .to_string()]
    );
}

#[test]
fn create_table_with_foreign_key_index_and_every_type() {
    assert_eq!(
        create_table_statements(d(), &ORDERS).unwrap(),
        vec![
            "CREATE TABLE \"orders\" (\"id\" INTEGER, \"customer_id\" INTEGER NOT NULL, \
             \"status\" TEXT NOT NULL DEFAULT 'it''s new', \"total\" REAL NOT NULL, \"weight\" REAL, \
             \"qty\" INTEGER, \"receipt\" BLOB, \
             CONSTRAINT \"pk_orders\" PRIMARY KEY (\"id\"), \
             CONSTRAINT \"fk_orders_customer_id_customers\" FOREIGN KEY (\"customer_id\") \
             REFERENCES \"customers\" (\"id\"))"
                .to_string(),
            "CREATE INDEX \"ix_orders_customer_id\" ON \"orders\" (\"customer_id\")".to_string(),
        ]
    );
}

#[test]
fn create_table_with_composite_key() {
    assert_eq!(
        create_table_statements(d(), &LINES).unwrap(),
        vec!["CREATE TABLE \"order_lines\" (\"order_id\" INTEGER NOT NULL, \"line\" INTEGER NOT NULL, \
             \"sku\" TEXT NOT NULL, CONSTRAINT \"pk_order_lines\" PRIMARY KEY (\"order_id\", \"line\"))"
            .to_string()]
    );
}

#[test]
fn drop_table() {
    assert_eq!(drop_table_statement(d(), &ORDERS).unwrap(), "DROP TABLE \"orders\"");
}

#[test]
fn insert_lists_columns_rows_and_returning_exactly() {
    assert_eq!(
        insert(d(), &CUSTOMERS, 1, true, Some("id")).unwrap(),
        "INSERT INTO \"customers\" (\"name\", \"address\", \"email\", \"age\", \"active\") \
         VALUES (?, ?, ?, ?, ?) RETURNING \"id\""
    );
    assert_eq!(
        insert(d(), &LINES, 2, true, None).unwrap(),
        "INSERT INTO \"order_lines\" (\"order_id\", \"line\", \"sku\") VALUES (?, ?, ?), (?, ?, ?)"
    );
    assert_eq!(
        insert(d(), &CUSTOMERS, 1, false, None).unwrap(),
        "INSERT INTO \"customers\" (\"id\", \"name\", \"address\", \"email\", \"age\", \"active\") \
         VALUES (?, ?, ?, ?, ?, ?)"
    );
    assert_eq!(
        insert(d(), &ONLY_KEY, 1, true, Some("id")).unwrap(),
        "INSERT INTO \"tickets\" DEFAULT VALUES RETURNING \"id\""
    );
}

#[test]
fn update_delete_select_statements() {
    assert_eq!(
        update(d(), &CUSTOMERS, &[2, 4]).unwrap(),
        "UPDATE \"customers\" SET \"address\" = ?, \"age\" = ? WHERE \"id\" = ?"
    );
    assert_eq!(
        update(d(), &LINES, &[2]).unwrap(),
        "UPDATE \"order_lines\" SET \"sku\" = ? WHERE \"order_id\" = ? AND \"line\" = ?"
    );
    assert_eq!(delete(d(), &CUSTOMERS, 1).unwrap(), "DELETE FROM \"customers\" WHERE \"id\" = ?");
    assert_eq!(delete(d(), &CUSTOMERS, 3).unwrap(), "DELETE FROM \"customers\" WHERE \"id\" IN (?, ?, ?)");
    assert_eq!(delete(d(), &LINES, 2).unwrap(), "DELETE FROM \"order_lines\" WHERE \"order_id\" = ? AND \"line\" = ?");
    assert_eq!(
        select_by_pk(d(), &CUSTOMERS).unwrap(),
        "SELECT \"id\", \"name\", \"address\", \"email\", \"age\", \"active\" FROM \"customers\" WHERE \"id\" = ?"
    );
}

#[test]
fn expressions_bind_every_value() {
    let expr = Expr::And(vec![
        Expr::Compare { left: c("age"), op: CmpOp::Ge, right: Operand::Value(Value::I32(18)) },
        Expr::Or(vec![
            Expr::Like {
                column: c("name"),
                pattern: Value::Text("b%".into()),
                negated: false,
                escape: '\\',
                case_insensitive: false,
            },
            Expr::IsNull { column: c("address"), negated: true },
        ]),
        Expr::InList { column: c("id"), values: vec![Value::I64(1), Value::I64(2)], negated: true },
        Expr::Between { column: c("age"), low: Value::I32(1), high: Value::I32(9) },
        Expr::Compare { left: c("address"), op: CmpOp::Eq, right: Operand::Value(Value::Null) },
        Expr::Not(Box::new(Expr::Compare {
            left: c("active"),
            op: CmpOp::Eq,
            right: Operand::Value(Value::Bool(true)),
        })),
    ]);
    let mut w = SqlWriter::new(d());
    let mut params = Vec::new();
    write_expr(&mut w, &mut params, &expr).unwrap();
    assert_eq!(
        w.sql,
        "\"t\".\"age\" >= ? AND (\"t\".\"name\" LIKE ? ESCAPE '\\' OR \"t\".\"address\" IS NOT NULL) AND \"t\".\"id\" NOT IN (?, ?) \
         AND \"t\".\"age\" BETWEEN ? AND ? AND \"t\".\"address\" IS NULL AND NOT (\"t\".\"active\" = ?)"
    );
    assert_eq!(
        params,
        vec![
            Value::I32(18),
            Value::Text("b%".into()),
            Value::I64(1),
            Value::I64(2),
            Value::I32(1),
            Value::I32(9),
            Value::Bool(true)
        ]
    );
    assert_eq!(w.placeholders, 7);
}

#[test]
fn limit_and_offset() {
    let render = |l, o| {
        let mut s = String::from("SELECT 1");
        d().write_limit_offset(&mut s, l, o).unwrap();
        s
    };
    assert_eq!(render(None, None), "SELECT 1");
    assert_eq!(render(Some(10), None), "SELECT 1 LIMIT 10");
    assert_eq!(render(Some(10), Some(20)), "SELECT 1 LIMIT 10 OFFSET 20");
    assert_eq!(render(None, Some(5)), "SELECT 1 LIMIT -1 OFFSET 5");
    assert_eq!(render(Some(0), Some(0)), "SELECT 1 LIMIT 0 OFFSET 0");
    assert_eq!(render(Some(u64::MAX), None), "SELECT 1 LIMIT 9223372036854775807");
}

#[test]
fn begin_statements_accept_only_serializable() {
    assert_eq!(d().begin_statements(&TxOptions::default()).unwrap(), vec!["BEGIN"]);
    let ser = TxOptions { isolation: Some(IsolationLevel::Serializable), read_only: false, ..TxOptions::default() };
    assert_eq!(d().begin_statements(&ser).unwrap(), vec!["BEGIN"]);
    for level in [IsolationLevel::ReadUncommitted, IsolationLevel::ReadCommitted, IsolationLevel::RepeatableRead] {
        let opts = TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() };
        match d().begin_statements(&opts) {
            Err(Error::Unsupported { feature, dialect: "sqlite" }) => assert!(feature.contains(level.as_sql())),
            other => panic!("{level:?}: {other:?}"),
        }
    }
    let ro = TxOptions { isolation: None, read_only: true, ..TxOptions::default() };
    assert!(matches!(d().begin_statements(&ro), Err(Error::Unsupported { dialect: "sqlite", .. })));
    assert_eq!(d().commit_statement(), "COMMIT");
    assert_eq!(d().rollback_statement(), "ROLLBACK");
}

#[test]
fn write_intent_begins_immediate() {
    let write = TxOptions { write_intent: true, ..TxOptions::default() };
    assert_eq!(d().begin_statements(&write).unwrap(), vec!["BEGIN IMMEDIATE"]);
    let ser = TxOptions { isolation: Some(IsolationLevel::Serializable), write_intent: true, ..TxOptions::default() };
    assert_eq!(d().begin_statements(&ser).unwrap(), vec!["BEGIN IMMEDIATE"]);
    let rc = TxOptions { isolation: Some(IsolationLevel::ReadCommitted), write_intent: true, ..TxOptions::default() };
    assert!(matches!(d().begin_statements(&rc), Err(Error::Unsupported { dialect: "sqlite", .. })));
    let ro = TxOptions { read_only: true, write_intent: true, ..TxOptions::default() };
    assert!(matches!(d().begin_statements(&ro), Err(Error::Unsupported { dialect: "sqlite", .. })));
}

#[test]
fn savepoint_statements() {
    assert_eq!(d().savepoint_statement("sp_1").unwrap(), "SAVEPOINT \"sp_1\"");
    assert_eq!(d().release_savepoint_statement("sp_1").unwrap(), "RELEASE SAVEPOINT \"sp_1\"");
    assert_eq!(d().rollback_to_savepoint_statement("sp_1").unwrap(), "ROLLBACK TO SAVEPOINT \"sp_1\"");
}

#[test]
fn identifiers_are_quoted_with_embedded_quotes_doubled() {
    assert_eq!(quoted(d(), "plain").unwrap(), "\"plain\"");
    assert_eq!(quoted(d(), "we\"ird").unwrap(), "\"we\"\"ird\"");
    assert_eq!(quoted(d(), "a`b'c").unwrap(), "\"a`b'c\"");
    assert!(matches!(quoted(d(), ""), Err(Error::InvalidRequest { .. })));
    assert!(matches!(quoted(d(), "a\0b"), Err(Error::InvalidRequest { .. })));
    assert!(quoted(d(), &"x".repeat(1024)).is_ok());
    assert!(matches!(quoted(d(), &"x".repeat(1025)), Err(Error::InvalidRequest { .. })));
    let mut s = String::new();
    d().write_placeholder(&mut s, 3);
    assert_eq!(s, "?");
}

#[test]
fn column_defaults_render_as_sqlite_literals() {
    let lit = |v: DefaultValue| {
        let mut s = String::new();
        d().write_literal(&mut s, &v).map(|()| s)
    };
    assert_eq!(lit(DefaultValue::Bool(false)).unwrap(), "0");
    assert_eq!(lit(DefaultValue::Float(1.5)).unwrap(), "1.5");
    assert_eq!(lit(DefaultValue::Text("a\\b")).unwrap(), "'a\\b'");
    assert!(matches!(lit(DefaultValue::Float(f64::NAN)), Err(Error::Unsupported { .. })));
}

#[test]
fn capabilities_sheet() {
    let c = d().capabilities();
    assert_eq!(c, &SQLITE_CAPABILITIES);
    assert_eq!(c.key_recovery, KeyRecovery::LastInsertIdLast);
    assert_eq!(c.max_bind_params, 32766);
    assert_eq!(c.isolation_levels, &[IsolationLevel::Serializable]);
    assert!(!c.stores_nan && c.stores_infinity);
    assert!(!c.select_for_update && !c.row_level_locking && !c.read_only_transactions);
    assert_eq!(c.server_version, None, "reported by a connection, not by the sheet");
    // SQLite names columns, not constraints; there is no primary-key alias to replace.
    assert_eq!(d().primary_key_constraint_alias(), None);
    assert_eq!(d().name(), "sqlite");
    assert_eq!(d().table_exists_query(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    let mut s = String::from("SELECT 1");
    assert!(matches!(d().write_for_update(&mut s), Err(Error::Unsupported { .. })));
}

fn integrity(e: Error) -> (IntegrityKind, Option<String>, Option<String>, Vec<String>, String) {
    match e {
        Error::Integrity { kind, constraint, table, columns, message, .. } => {
            (kind, constraint, table, columns, message)
        }
        other => panic!("not an integrity error: {other:?}"),
    }
}

#[test]
fn map_unique_and_primary_key() {
    let msg = "UNIQUE constraint failed: customers.email";
    assert_eq!(
        integrity(d().map_error(db_err("2067", msg))),
        (IntegrityKind::Unique, None, Some("customers".into()), vec!["email".into()], msg.into())
    );
    let (kind, constraint, table, columns, _) =
        integrity(d().map_error(db_err("2067", "UNIQUE constraint failed: t.a, t.b")));
    assert_eq!(
        (kind, constraint, table, columns),
        (IntegrityKind::Unique, None, Some("t".into()), vec!["a".into(), "b".into()])
    );
    let (kind, _, table, columns, _) =
        integrity(d().map_error(db_err("1555", "UNIQUE constraint failed: customers.id")));
    assert_eq!((kind, table, columns), (IntegrityKind::Unique, Some("customers".into()), vec!["id".into()]));
    let (kind, constraint, table, columns, _) =
        integrity(d().map_error(db_err("2067", "UNIQUE constraint failed: index 'ix_lower_name'")));
    assert_eq!((kind, constraint, table, columns), (IntegrityKind::Unique, Some("ix_lower_name".into()), None, vec![]));
}

#[test]
fn map_foreign_key_not_null_check() {
    let (kind, constraint, table, columns, message) =
        integrity(d().map_error(db_err("787", "FOREIGN KEY constraint failed")));
    assert_eq!(
        (kind, constraint, table, columns, message.as_str()),
        (IntegrityKind::ForeignKey, None, None, vec![], "FOREIGN KEY constraint failed")
    );
    let (kind, constraint, table, columns, _) =
        integrity(d().map_error(db_err("1299", "NOT NULL constraint failed: t.c")));
    assert_eq!((kind, constraint, table, columns), (IntegrityKind::NotNull, None, Some("t".into()), vec!["c".into()]));
    let (kind, constraint, table, columns, _) =
        integrity(d().map_error(db_err("275", "CHECK constraint failed: ck_age_positive")));
    assert_eq!(
        (kind, constraint, table, columns),
        (IntegrityKind::Check, Some("ck_age_positive".into()), None, vec![])
    );
    // Other constraint codes (a trigger's RAISE(ABORT), the bare primary code).
    let (kind, ..) = integrity(d().map_error(db_err("1811", "no negative totals")));
    assert_eq!(kind, IntegrityKind::Other);
    let (kind, ..) = integrity(d().map_error(db_err("19", "constraint failed")));
    assert_eq!(kind, IntegrityKind::Other);
}

#[test]
fn map_busy_and_locked() {
    // The busy handler gave up (or a blocking wait timed out): a lock-wait timeout.
    for code in ["5", "773"] {
        assert_eq!(
            d().map_error(db_err(code, "database is locked")),
            Error::timeout(athanor_core::TimeoutKind::LockWait, "database is locked"),
            "{code}"
        );
    }
    // Recovery, a stale WAL snapshot, locks inside the connection: nothing to wait for.
    for code in ["261", "517", "6", "262", "518"] {
        match d().map_error(db_err(code, "database is locked")) {
            Error::SerializationFailure { message, deadlock: false, .. } => assert_eq!(message, "database is locked"),
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[test]
fn map_interrupt_and_read_only() {
    assert_eq!(
        d().map_error(db_err("9", "interrupted")),
        Error::timeout(athanor_core::TimeoutKind::Statement, "interrupted")
    );
    for code in ["8", "264", "520", "776", "1032", "1288", "1544"] {
        assert_eq!(
            d().map_error(db_err(code, "attempt to write a readonly database")),
            Error::read_only("attempt to write a readonly database"),
            "{code}"
        );
    }
}

#[test]
fn map_everything_else_to_database() {
    for (code, msg) in [("1", "no such table: nope"), ("14", "unable to open database file")] {
        assert_eq!(
            d().map_error(db_err(code, msg)),
            Error::Database { code: code.into(), message: msg.into(), source: None }
        );
    }
    assert_eq!(
        d().map_error(db_err("not-a-code", "odd")),
        Error::Database { code: "not-a-code".into(), message: "odd".into(), source: None }
    );
}

/// The session-free SELECT and its COUNT / EXISTS / DISTINCT / LIMIT-OFFSET / FOR UPDATE forms,
/// exactly, with table-qualified columns and a column-to-column comparison.
#[test]
fn select_count_exists_and_limit_forms_render_exactly() {
    let mut s = common::items_select();
    let st = s.to_sql(d()).unwrap();
    assert_eq!(st.sql, "SELECT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC");
    assert_eq!(st.params, vec![Value::I32(18)]);
    assert_eq!(
        s.count_sql(d()).unwrap().sql,
        "SELECT COUNT(*) FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\""
    );
    assert_eq!(s.exists_sql(d()).unwrap().sql, "SELECT EXISTS (SELECT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC)");
    assert_eq!(s.to_sql_capped(d(), 1).unwrap().sql, "SELECT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC LIMIT 1");
    s.distinct = true;
    s.limit = Some(10);
    s.offset = Some(20);
    assert_eq!(s.to_sql(d()).unwrap().sql, "SELECT DISTINCT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC LIMIT 10 OFFSET 20");
    assert_eq!(s.to_sql_capped(d(), 2).unwrap().sql, "SELECT DISTINCT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC LIMIT 2 OFFSET 20");
    let count = s.count_sql(d()).unwrap();
    assert_eq!(count.sql, "SELECT COUNT(*) FROM (SELECT DISTINCT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC LIMIT 10 OFFSET 20) AS \"anon_1\"");
    assert_eq!(count.params, vec![Value::I32(18)]);
    s.distinct = false;
    s.limit = None;
    assert_eq!(s.to_sql(d()).unwrap().sql, "SELECT \"items\".\"id\", \"items\".\"name\", \"items\".\"qty\" FROM \"items\" WHERE \"items\".\"qty\" >= ? AND \"items\".\"qty\" < \"items\".\"id\" ORDER BY \"items\".\"name\" ASC, \"items\".\"qty\" DESC LIMIT -1 OFFSET 20");
    s.for_update = true;
    assert!(matches!(s.to_sql(d()), Err(Error::Unsupported { .. })), "SQLite has no row locks");
}
