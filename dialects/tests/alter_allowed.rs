//! Exact SQL of changing a column's allowed values (the `CHECK (col IN (…))` of a
//! `#[derive(DbEnum)]` column) in a migration's `alter_column`, per dialect.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{ColumnDef, DefaultValue, Dialect, SqlType};
use athanor_dialects::{MySqlDialect, PostgresDialect, SqliteDialect};

const OLD: ColumnDef = ColumnDef {
    length: Some(6),
    allowed: &[DefaultValue::Text("Open"), DefaultValue::Text("Closed")],
    ..ColumnDef::new("status", SqlType::Text)
};
const NEW: ColumnDef = ColumnDef {
    length: Some(6),
    allowed: &[DefaultValue::Text("Open"), DefaultValue::Text("Closed"), DefaultValue::Text("it's")],
    ..ColumnDef::new("status", SqlType::Text)
};
const ANY: ColumnDef = ColumnDef { length: Some(6), ..ColumnDef::new("status", SqlType::Text) };

fn alter_allowed(d: &dyn Dialect, to: &ColumnDef, existing: &[&str]) -> String {
    let existing: Vec<String> = existing.iter().map(|s| s.to_string()).collect();
    let mut out = String::new();
    d.write_alter_allowed(&mut out, "tickets", to, &existing).unwrap();
    out
}

#[test]
fn postgres_drops_the_checks_by_name_and_adds_the_new_one() {
    let d = PostgresDialect;
    assert_eq!(
        alter_allowed(&d, &NEW, &["tickets_status_check"]),
        r#"ALTER TABLE "tickets" DROP CONSTRAINT "tickets_status_check", ADD CHECK ("status" IN ('Open', 'Closed', 'it''s'))"#
    );
    assert_eq!(
        alter_allowed(&d, &NEW, &[]),
        r#"ALTER TABLE "tickets" ADD CHECK ("status" IN ('Open', 'Closed', 'it''s'))"#
    );
    assert_eq!(
        alter_allowed(&d, &ANY, &["a", "b"]),
        r#"ALTER TABLE "tickets" DROP CONSTRAINT "a", DROP CONSTRAINT "b""#
    );
    assert_eq!(alter_allowed(&d, &ANY, &[]), "", "nothing to do");
}

#[test]
fn mysql_modify_column_declares_the_check_again() {
    let d = MySqlDialect;
    assert_eq!(alter_allowed(&d, &NEW, &["status"]), "", "MODIFY COLUMN did it");
    let mut out = String::new();
    d.write_alter_column(&mut out, "tickets", &OLD, &NEW).unwrap();
    assert_eq!(
        out,
        "ALTER TABLE `tickets` MODIFY COLUMN `status` VARCHAR(6) NOT NULL CHECK (`status` IN ('Open', 'Closed', 'it''s'))"
    );
}

#[test]
fn sqlite_rebuilds_the_table_instead() {
    let mut out = String::new();
    assert!(SqliteDialect.write_alter_column(&mut out, "tickets", &OLD, &NEW).is_err());
}
