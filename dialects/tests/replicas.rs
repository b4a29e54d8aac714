//! Exact SQL of the read-replica hooks (docs/scaling.md, "Read replicas"): the position read
//! after COMMIT and the replica's check of it; SQLite has no replicas.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{Dialect, Error};
use athanor_dialects::{MySqlDialect, PostgresDialect, SqliteDialect};

#[test]
fn postgres_reads_lsns() {
    assert_eq!(PostgresDialect.consistency_position_sql().unwrap(), "SELECT pg_current_wal_lsn()::text");
    assert_eq!(
        PostgresDialect.replica_caught_up_sql().unwrap(),
        "SELECT CASE WHEN pg_last_wal_replay_lsn() >= $1::text::pg_lsn AND $2::float8 >= 0 THEN 1 ELSE 0 END"
    );
}

#[test]
fn mariadb_reads_gtids() {
    assert_eq!(
        MySqlDialect.consistency_position_sql().unwrap(),
        "SELECT COALESCE(NULLIF(@@last_gtid, ''), @@gtid_binlog_pos)"
    );
    assert_eq!(
        MySqlDialect.replica_caught_up_sql().unwrap(),
        "SELECT CASE WHEN MASTER_GTID_WAIT(?, ?) = 0 THEN 1 ELSE 0 END"
    );
}

#[test]
fn sqlite_has_none() {
    assert!(matches!(SqliteDialect.consistency_position_sql(), Err(Error::Unsupported { .. })));
    assert!(matches!(SqliteDialect.replica_caught_up_sql(), Err(Error::Unsupported { .. })));
}
