//! Exact SQL and error classification of the MySQL / MariaDB dialect.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

mod common;

use athanor_core::sql::{self, SqlWriter};
use athanor_core::{
    create_table_statements, quoted, CmpOp, ColumnDef, DbError, DefaultValue, Dialect, Error, Expr, ForeignKeyDef,
    IntegrityKind, IsolationLevel, KeyRecovery, Operand, SqlType, TableDef, TxOptions, Value,
};
use athanor_dialects::{MySqlDialect, MYSQL_CAPABILITIES};
use common::c;

const D: MySqlDialect = MySqlDialect;

const CUSTOMERS: TableDef = TableDef {
    name: "customers",
    rust_name: "Customer",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef::new("name", SqlType::Text),
        ColumnDef { nullable: true, ..ColumnDef::new("address", SqlType::Text) },
        ColumnDef { unique: true, length: Some(100), ..ColumnDef::new("email", SqlType::Text) },
        ColumnDef { index: true, ..ColumnDef::new("nick", SqlType::Text) },
        ColumnDef { default: Some(DefaultValue::Int(18)), ..ColumnDef::new("age", SqlType::Integer) },
        ColumnDef::new("rating", SqlType::Real),
        ColumnDef::new("balance", SqlType::Double),
        ColumnDef::new("level", SqlType::SmallInt),
        ColumnDef { default: Some(DefaultValue::Bool(true)), ..ColumnDef::new("active", SqlType::Bool) },
        ColumnDef { nullable: true, ..ColumnDef::new("photo", SqlType::Blob) },
        ColumnDef { default: Some(DefaultValue::Text("it's a \\ path")), ..ColumnDef::new("motto", SqlType::Text) },
    ],
};

const ORDERS: TableDef = TableDef {
    name: "orders",
    rust_name: "Order",
    columns: &[
        ColumnDef { primary_key: true, autoincrement: true, nullable: true, ..ColumnDef::new("id", SqlType::BigInt) },
        ColumnDef {
            index: true,
            foreign_key: Some(ForeignKeyDef { table: "customers", column: "id" }),
            ..ColumnDef::new("customer_id", SqlType::BigInt)
        },
        ColumnDef::new("total_cents", SqlType::BigInt),
    ],
};

const TAGS: TableDef = TableDef {
    name: "tags",
    rust_name: "Tag",
    columns: &[
        ColumnDef { primary_key: true, ..ColumnDef::new("label", SqlType::Text) },
        ColumnDef {
            foreign_key: Some(ForeignKeyDef { table: "labels", column: "name" }),
            ..ColumnDef::new("parent", SqlType::Text)
        },
    ],
};

const BLOB_KEYS: TableDef = TableDef {
    name: "blobs",
    rust_name: "Blobs",
    columns: &[
        ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::Integer) },
        ColumnDef { unique: true, ..ColumnDef::new("digest", SqlType::Blob) },
    ],
};

const SUFFIX: &str = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

#[test]
fn capabilities() {
    assert_eq!(D.name(), "mysql");
    let c = D.capabilities();
    assert_eq!(c, &MYSQL_CAPABILITIES);
    assert_eq!(c.key_recovery, KeyRecovery::LastInsertIdConsecutive);
    assert!(c.multi_row_insert);
    assert_eq!(c.max_bind_params, 65535);
    assert!(c.savepoints && !c.transactional_ddl);
    assert_eq!(c.isolation_levels, &IsolationLevel::ALL);
    assert_eq!(c.default_isolation, IsolationLevel::RepeatableRead);
    assert!(c.read_only_transactions && c.check_constraints && c.foreign_keys);
    assert!(!c.stores_nan && !c.stores_infinity && c.text_allows_nul);
    assert_eq!(c.indexed_text_length, Some(255));
    assert!(c.select_for_update && c.row_level_locking);
    assert_eq!(c.server_version, None, "reported by a connection, not by the sheet");
    assert_eq!(
        D.table_exists_query(),
        "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
    );
}

#[test]
fn create_table_with_every_type() {
    let stmts = create_table_statements(&D, &CUSTOMERS).unwrap();
    assert_eq!(
        stmts,
        vec![
            format!(
                "CREATE TABLE `customers` (`id` BIGINT AUTO_INCREMENT, `name` LONGTEXT NOT NULL, `address` LONGTEXT, \
                 `email` VARCHAR(100) NOT NULL, `nick` VARCHAR(255) NOT NULL, `age` INT NOT NULL DEFAULT 18, \
                 `rating` FLOAT NOT NULL, `balance` DOUBLE NOT NULL, `level` SMALLINT NOT NULL, \
                 `active` BOOL NOT NULL DEFAULT TRUE, `photo` LONGBLOB, \
                 `motto` LONGTEXT NOT NULL DEFAULT ('it''s a \\\\ path'), \
                 CONSTRAINT `pk_customers` PRIMARY KEY (`id`), CONSTRAINT `uq_customers_email` UNIQUE (`email`))\
                 {SUFFIX}"
            ),
            "CREATE INDEX `ix_customers_nick` ON `customers` (`nick`)".to_string(),
        ]
    );
}

#[test]
fn create_table_with_foreign_key_and_text_keys() {
    assert_eq!(
        create_table_statements(&D, &ORDERS).unwrap(),
        vec![
            format!(
                "CREATE TABLE `orders` (`id` BIGINT AUTO_INCREMENT, `customer_id` BIGINT NOT NULL, \
                 `total_cents` BIGINT NOT NULL, CONSTRAINT `pk_orders` PRIMARY KEY (`id`), \
                 CONSTRAINT `fk_orders_customer_id_customers` FOREIGN KEY (`customer_id`) \
                 REFERENCES `customers` (`id`)){SUFFIX}"
            ),
            "CREATE INDEX `ix_orders_customer_id` ON `orders` (`customer_id`)".to_string(),
        ]
    );
    // Text primary and foreign keys without a length get VARCHAR(255).
    assert_eq!(
        create_table_statements(&D, &TAGS).unwrap(),
        vec![format!(
            "CREATE TABLE `tags` (`label` VARCHAR(255) NOT NULL, `parent` VARCHAR(255) NOT NULL, \
             CONSTRAINT `pk_tags` PRIMARY KEY (`label`), CONSTRAINT `fk_tags_parent_labels` FOREIGN KEY (`parent`) \
             REFERENCES `labels` (`name`)){SUFFIX}"
        )]
    );
}

#[test]
fn unique_blob_is_unsupported() {
    match create_table_statements(&D, &BLOB_KEYS) {
        Err(Error::Unsupported { feature, dialect }) => {
            assert_eq!(dialect, "mysql");
            assert!(feature.contains("digest"), "{feature}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn dml() {
    assert_eq!(
        sql::insert(&D, &ORDERS, 2, true, None).unwrap(),
        "INSERT INTO `orders` (`customer_id`, `total_cents`) VALUES (?, ?), (?, ?)"
    );
    assert_eq!(
        sql::insert(&D, &ORDERS, 1, false, None).unwrap(),
        "INSERT INTO `orders` (`id`, `customer_id`, `total_cents`) VALUES (?, ?, ?)"
    );
    assert_eq!(sql::update(&D, &ORDERS, &[2]).unwrap(), "UPDATE `orders` SET `total_cents` = ? WHERE `id` = ?");
    assert_eq!(
        sql::update(&D, &ORDERS, &[1, 2]).unwrap(),
        "UPDATE `orders` SET `customer_id` = ?, `total_cents` = ? WHERE `id` = ?"
    );
    assert_eq!(sql::delete(&D, &ORDERS, 1).unwrap(), "DELETE FROM `orders` WHERE `id` = ?");
    assert_eq!(sql::delete(&D, &ORDERS, 3).unwrap(), "DELETE FROM `orders` WHERE `id` IN (?, ?, ?)");
    assert_eq!(
        sql::select_by_pk(&D, &ORDERS).unwrap(),
        "SELECT `id`, `customer_id`, `total_cents` FROM `orders` WHERE `id` = ?"
    );
}

#[test]
fn expressions() {
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
            Expr::IsNull { column: c("address"), negated: false },
        ]),
        Expr::InList { column: c("id"), values: vec![Value::I64(1), Value::I64(2)], negated: false },
        Expr::Not(Box::new(Expr::Between { column: c("level"), low: Value::I16(1), high: Value::I16(3) })),
        Expr::Compare { left: c("we`ird"), op: CmpOp::Ne, right: Operand::Value(Value::Null) },
    ]);
    let mut w = SqlWriter::new(&D);
    let mut params = Vec::new();
    sql::write_expr(&mut w, &mut params, &expr).unwrap();
    assert_eq!(
        w.sql,
        "`t`.`age` >= ? AND (`t`.`name` LIKE ? ESCAPE '\\\\' OR `t`.`address` IS NULL) AND `t`.`id` IN (?, ?) AND NOT (`t`.`level` BETWEEN ? AND ?) \
         AND `t`.`we``ird` IS NOT NULL"
    );
    assert_eq!(w.placeholders, 6);
    assert_eq!(
        params,
        vec![Value::I32(18), Value::Text("b%".into()), Value::I64(1), Value::I64(2), Value::I16(1), Value::I16(3)]
    );
}

fn limit(l: Option<u64>, o: Option<u64>) -> String {
    let mut s = String::from("SELECT 1");
    D.write_limit_offset(&mut s, l, o).unwrap();
    s
}

#[test]
fn limit_and_offset() {
    assert_eq!(limit(None, None), "SELECT 1");
    assert_eq!(limit(Some(10), None), "SELECT 1 LIMIT 10");
    assert_eq!(limit(Some(10), Some(5)), "SELECT 1 LIMIT 10 OFFSET 5");
    assert_eq!(limit(None, Some(5)), "SELECT 1 LIMIT 18446744073709551615 OFFSET 5");
    assert_eq!(limit(Some(0), Some(0)), "SELECT 1 LIMIT 0 OFFSET 0");
}

#[test]
fn begin_statements() {
    let begin =
        |isolation, read_only| D.begin_statements(&TxOptions { isolation, read_only, ..TxOptions::default() }).unwrap();
    assert_eq!(begin(None, false), vec!["START TRANSACTION"]);
    assert_eq!(begin(None, true), vec!["START TRANSACTION READ ONLY"]);
    assert_eq!(
        begin(Some(IsolationLevel::Serializable), false),
        vec!["SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION"]
    );
    assert_eq!(
        begin(Some(IsolationLevel::ReadCommitted), true),
        vec!["SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION READ ONLY"]
    );
    for level in IsolationLevel::ALL {
        assert!(D.check_isolation(level).is_ok());
        assert_eq!(begin(Some(level), false)[0], format!("SET TRANSACTION ISOLATION LEVEL {}", level.as_sql()));
    }
    // Write intent is a hint: InnoDB locks rows as it writes them, so the statements are unchanged.
    for isolation in [None, Some(IsolationLevel::ReadCommitted), Some(IsolationLevel::Serializable)] {
        for read_only in [false, true] {
            let write = TxOptions { isolation, read_only, write_intent: true };
            assert_eq!(D.begin_statements(&write).unwrap(), begin(isolation, read_only));
        }
    }
    assert_eq!(D.commit_statement(), "COMMIT");
    assert_eq!(D.rollback_statement(), "ROLLBACK");
}

#[test]
fn savepoints() {
    assert_eq!(D.savepoint_statement("sp_1").unwrap(), "SAVEPOINT `sp_1`");
    assert_eq!(D.release_savepoint_statement("sp_1").unwrap(), "RELEASE SAVEPOINT `sp_1`");
    assert_eq!(D.rollback_to_savepoint_statement("sp`1").unwrap(), "ROLLBACK TO SAVEPOINT `sp``1`");
}

#[test]
fn quoting() {
    assert_eq!(quoted(&D, "customers").unwrap(), "`customers`");
    assert_eq!(quoted(&D, "we`ird").unwrap(), "`we``ird`");
    assert_eq!(quoted(&D, "``").unwrap(), "``````");
    assert_eq!(quoted(&D, "say \"hi\"").unwrap(), "`say \"hi\"`");
    assert_eq!(quoted(&D, &"a".repeat(64)).unwrap(), format!("`{}`", "a".repeat(64)));
    assert!(matches!(quoted(&D, &"a".repeat(65)), Err(Error::InvalidRequest { .. })));
    assert!(matches!(quoted(&D, ""), Err(Error::InvalidRequest { .. })));
    assert!(matches!(quoted(&D, "a\0b"), Err(Error::InvalidRequest { .. })));
    let mut s = String::new();
    D.write_placeholder(&mut s, 7);
    assert_eq!(s, "?");
    let mut s = String::from("SELECT 1");
    D.write_for_update(&mut s).unwrap();
    assert_eq!(s, "SELECT 1 FOR UPDATE");
}

fn literal(v: DefaultValue) -> String {
    let mut s = String::new();
    D.write_literal(&mut s, &v).unwrap();
    s
}

#[test]
fn column_defaults_render_as_escaped_mysql_literals() {
    assert!(D.backslash_escapes());
    assert_eq!(literal(DefaultValue::Text(r#"a'b\c"d"#)), r#"('a''b\\c"d')"#);
    assert_eq!(literal(DefaultValue::Text(r"\'")), r"('\\''')");
    assert_eq!(literal(DefaultValue::Text("")), "('')");
    assert_eq!(literal(DefaultValue::Int(-7)), "-7");
    assert_eq!(literal(DefaultValue::Float(1.5)), "1.5");
    assert_eq!(literal(DefaultValue::Bool(false)), "FALSE");
    let mut s = String::new();
    assert!(matches!(D.write_literal(&mut s, &DefaultValue::Float(f64::NAN)), Err(Error::Unsupported { .. })));
    assert!(matches!(D.write_literal(&mut s, &DefaultValue::Text("a\0")), Err(Error::InvalidRequest { .. })));
}

fn db(code: &str, message: &str) -> Error {
    D.map_error(DbError { code: code.into(), message: message.into(), ..DbError::default() })
}

fn integrity(e: Error) -> (IntegrityKind, Option<String>, Option<String>, Vec<String>) {
    match e {
        Error::Integrity { kind, constraint, table, columns, .. } => (kind, constraint, table, columns),
        other => panic!("expected Integrity, got {other:?}"),
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn duplicate_key() {
    // MariaDB
    let e = db("1062", "Duplicate entry 'a@x' for key 'uq_customers_email'");
    assert_eq!(e.constraint(), Some("uq_customers_email"));
    assert_eq!(integrity(e), (IntegrityKind::Unique, s("uq_customers_email"), None, vec![]));
    // MySQL 8 prefixes the table.
    let e = db("1062", "Duplicate entry 'a@x' for key 'customers.uq_customers_email'");
    assert_eq!(integrity(e), (IntegrityKind::Unique, s("uq_customers_email"), s("customers"), vec![]));
    // The primary key is called PRIMARY on both.
    assert_eq!(
        integrity(db("1062", "Duplicate entry '1' for key 'PRIMARY'")),
        (IntegrityKind::Unique, s("PRIMARY"), None, vec![])
    );
    assert_eq!(
        integrity(db("1062", "Duplicate entry '1' for key 'customers.PRIMARY'")),
        (IntegrityKind::Unique, s("PRIMARY"), s("customers"), vec![])
    );
    // That spelling is the dialect's primary-key alias, which the unit of work replaces with
    // the table's `pk_<table>`.
    assert_eq!(D.primary_key_constraint_alias(), Some("PRIMARY"));
    // A duplicate value that looks like the message itself.
    assert_eq!(integrity(db("1062", "Duplicate entry 'x' for key 'y' for key 'uq_t_c'")).1, s("uq_t_c"));
    // Older spellings without a key name.
    assert_eq!(
        integrity(db("1022", "Can't write; duplicate key in table 't'")),
        (IntegrityKind::Unique, None, None, vec![])
    );
    let e = db("1062", "Duplicate entry 'a@x' for key 'uq_customers_email'");
    let Error::Integrity { message, .. } = e else { panic!() };
    assert_eq!(message, "Duplicate entry 'a@x' for key 'uq_customers_email'");
}

#[test]
fn foreign_key() {
    // Same text on MariaDB 10.11 and MySQL 8.
    let child = "Cannot add or update a child row: a foreign key constraint fails (`test`.`orders`, CONSTRAINT \
                 `fk_orders_customer_id_customers` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`))";
    assert_eq!(
        integrity(db("1452", child)),
        (IntegrityKind::ForeignKey, s("fk_orders_customer_id_customers"), s("orders"), vec!["customer_id".to_string()])
    );
    let parent = "Cannot delete or update a parent row: a foreign key constraint fails (`test`.`orders`, CONSTRAINT \
                  `fk_orders_customer_id_customers` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`))";
    assert_eq!(
        integrity(db("1451", parent)),
        (IntegrityKind::ForeignKey, s("fk_orders_customer_id_customers"), s("orders"), vec!["customer_id".to_string()])
    );
    let odd = "Cannot add or update a child row: a foreign key constraint fails (`te``st`.`or``ders`, CONSTRAINT \
               `fk``x` FOREIGN KEY (`a`, `b``c`) REFERENCES `p` (`x`, `y`))";
    assert_eq!(
        integrity(db("1452", odd)),
        (IntegrityKind::ForeignKey, s("fk`x"), s("or`ders"), vec!["a".to_string(), "b`c".to_string()])
    );
    assert_eq!(
        integrity(db("1216", "Cannot add or update a child row: a foreign key constraint fails")),
        (IntegrityKind::ForeignKey, None, None, vec![])
    );
}

#[test]
fn not_null() {
    assert_eq!(
        integrity(db("1048", "Column 'email' cannot be null")),
        (IntegrityKind::NotNull, None, None, vec!["email".to_string()])
    );
    assert_eq!(
        integrity(db("1364", "Field 'age' doesn't have a default value")),
        (IntegrityKind::NotNull, None, None, vec!["age".to_string()])
    );
}

#[test]
fn check() {
    // MySQL 8
    assert_eq!(
        integrity(db("3819", "Check constraint 'ck_customers_age' is violated.")),
        (IntegrityKind::Check, s("ck_customers_age"), None, vec![])
    );
    // MariaDB
    assert_eq!(
        integrity(db("4025", "CONSTRAINT `ck_customers_age` failed for `test`.`customers`")),
        (IntegrityKind::Check, s("ck_customers_age"), s("customers"), vec![])
    );
}

#[test]
fn serialization_failures() {
    assert_eq!(
        db("1213", "Deadlock found when trying to get lock; try restarting transaction"),
        Error::SerializationFailure {
            message: "Deadlock found when trying to get lock; try restarting transaction".into(),
            deadlock: true,
            source: None,
        }
    );
    for (code, msg) in [
        ("3572", "Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set."),
        ("1020", "Record has changed since last read in table 'customers'"),
    ] {
        assert_eq!(
            db(code, msg),
            Error::SerializationFailure { message: msg.into(), deadlock: false, source: None },
            "{code}"
        );
    }
}

#[test]
fn timeouts_and_read_only() {
    use athanor_core::TimeoutKind;
    let lock = "Lock wait timeout exceeded; try restarting transaction";
    assert_eq!(db("1205", lock), Error::timeout(TimeoutKind::LockWait, lock));
    let maria = "Query execution was interrupted (max_statement_time exceeded)";
    assert_eq!(db("1969", maria), Error::timeout(TimeoutKind::Statement, maria));
    let mysql = "Query execution was interrupted, maximum statement execution time exceeded";
    assert_eq!(db("3024", mysql), Error::timeout(TimeoutKind::Statement, mysql));
    let ro = "Cannot execute statement in a READ ONLY transaction";
    assert_eq!(db("1792", ro), Error::read_only(ro));
    let server = "The MariaDB server is running with the --read-only option so it cannot execute this statement";
    assert_eq!(db("1290", server), Error::read_only(server));
    let other = "The MySQL server is running with the --secure-file-priv option so it cannot execute this statement";
    assert!(matches!(db("1290", other), Error::Database { .. }));
}

#[test]
fn connection_errors() {
    for (code, msg) in [
        ("2006", "MySQL server has gone away"),
        ("2013", "Lost connection to MySQL server during query"),
        ("1927", "Connection was killed"),
        ("1053", "Server shutdown in progress"),
        ("1153", "Got a packet bigger than 'max_allowed_packet' bytes"),
        (
            "4031",
            "The client was disconnected by the server because of inactivity. See wait_timeout and \
             interactive_timeout for configuring this behavior.",
        ),
    ] {
        assert_eq!(db(code, msg), Error::Connection { message: msg.into(), disconnect: true, source: None }, "{code}");
    }
    for (code, msg) in [
        ("1045", "Access denied for user 'root'@'127.0.0.1' (using password: YES)"),
        ("1049", "Unknown database 'nodb'"),
    ] {
        assert_eq!(db(code, msg), Error::Connection { message: msg.into(), disconnect: false, source: None }, "{code}");
    }
}

#[test]
fn other_errors() {
    assert_eq!(
        db("1146", "Table 'test.nope' doesn't exist"),
        Error::Database { code: "1146".into(), message: "Table 'test.nope' doesn't exist".into(), source: None }
    );
    assert_eq!(
        db("1264", "Out of range value for column 'age' at row 1"),
        Error::Database {
            code: "1264".into(),
            message: "Out of range value for column 'age' at row 1".into(),
            source: None
        }
    );
    // A constraint name given by the driver wins.
    let e = D.map_error(DbError {
        code: "1062".into(),
        message: "Duplicate entry".into(),
        constraint: s("uq_x"),
        table: s("x"),
        ..DbError::default()
    });
    assert_eq!(integrity(e), (IntegrityKind::Unique, s("uq_x"), s("x"), vec![]));
}

/// The session-free SELECT and its COUNT / EXISTS / DISTINCT / LIMIT-OFFSET / FOR UPDATE forms,
/// exactly, with table-qualified columns and a column-to-column comparison.
#[test]
fn select_count_exists_and_limit_forms_render_exactly() {
    let mut s = common::items_select();
    let st = s.to_sql(&D).unwrap();
    assert_eq!(st.sql, "SELECT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC");
    assert_eq!(st.params, vec![Value::I32(18)]);
    assert_eq!(
        s.count_sql(&D).unwrap().sql,
        "SELECT COUNT(*) FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id`"
    );
    assert_eq!(s.exists_sql(&D).unwrap().sql, "SELECT EXISTS (SELECT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC)");
    assert_eq!(s.to_sql_capped(&D, 1).unwrap().sql, "SELECT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 1");
    s.distinct = true;
    s.limit = Some(10);
    s.offset = Some(20);
    assert_eq!(s.to_sql(&D).unwrap().sql, "SELECT DISTINCT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 10 OFFSET 20");
    assert_eq!(s.to_sql_capped(&D, 2).unwrap().sql, "SELECT DISTINCT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 2 OFFSET 20");
    let count = s.count_sql(&D).unwrap();
    assert_eq!(count.sql, "SELECT COUNT(*) FROM (SELECT DISTINCT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 10 OFFSET 20) AS `anon_1`");
    assert_eq!(count.params, vec![Value::I32(18)]);
    s.distinct = false;
    s.limit = None;
    assert_eq!(s.to_sql(&D).unwrap().sql, "SELECT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 18446744073709551615 OFFSET 20");
    s.for_update = true;
    assert_eq!(s.to_sql(&D).unwrap().sql, "SELECT `items`.`id`, `items`.`name`, `items`.`qty` FROM `items` WHERE `items`.`qty` >= ? AND `items`.`qty` < `items`.`id` ORDER BY `items`.`name` ASC, `items`.`qty` DESC LIMIT 18446744073709551615 OFFSET 20 FOR UPDATE");
}

/// The catalog queries name the schema as a bound constant, never `DATABASE()` or a column of an
/// outer query (MariaDB then reads every schema on the server), and bind one parameter per
/// placeholder.
#[test]
fn catalog_queries_bind_the_schema_as_a_constant() {
    use athanor_core::reflect::{CatalogParam, CatalogQuery};
    let d = MySqlDialect;
    for q in [
        CatalogQuery::Tables,
        CatalogQuery::Columns,
        CatalogQuery::ForeignKeys,
        CatalogQuery::Indexes,
        CatalogQuery::Checks,
    ] {
        let sql = d.catalog_query(q).unwrap();
        let params = d.catalog_params(q);
        assert_eq!(sql.matches('?').count(), params.len(), "{q:?}: {sql}");
        assert!(params.contains(&CatalogParam::Schema), "{q:?}");
        for correlated in ["DATABASE()", "= c.TABLE_SCHEMA", "= s.TABLE_SCHEMA", "= c.TABLE_NAME", "= s.TABLE_NAME"] {
            assert!(!sql.contains(correlated), "{q:?} has {correlated}: {sql}");
        }
    }
    assert_eq!(d.current_schema_query(), Some("SELECT DATABASE()"));
}
