//! `postgres::Error` → [`DbError`] → [`PostgresDialect::map_error`].
//!
//! A server error carries its SQLSTATE and, as separate fields, the violated constraint, table and
//! column; the `DETAIL` line (`Key (email)=(…) already exists.`) is appended to the message. Errors
//! without a server error (the socket closed, an I/O failure) are lost connections. A `FATAL`
//! server error, or any error after which the client is closed, also means the connection is gone.

use athanor_core::{DbError, Dialect, Error};
use athanor_dialects::PostgresDialect;
use postgres::error::Severity;
use std::error::Error as StdError;

/// The driver error's message with its causes (`error connecting to server: Connection refused`).
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return with_detail(db);
    }
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

fn with_detail(db: &postgres::error::DbError) -> String {
    match db.detail() {
        Some(d) => format!("{}\nDETAIL: {d}", db.message()),
        None => db.message().to_string(),
    }
}

/// Read a server error off the driver's error.
pub(crate) fn db_error(db: &postgres::error::DbError) -> DbError {
    DbError {
        code: db.code().code().to_string(),
        message: with_detail(db),
        constraint: db.constraint().map(str::to_string),
        table: db.table().map(str::to_string),
        column: db.column().map(str::to_string),
    }
}

/// Classify an error on an established connection. `closed` is whether the client is closed
/// after the error. The driver's error stays reachable as [`std::error::Error::source`].
pub(crate) fn map(e: postgres::Error, closed: bool) -> Error {
    classify(&e, closed).with_source(e)
}

fn classify(e: &postgres::Error, closed: bool) -> Error {
    if let Some(db) = e.as_db_error() {
        if let Some(kind) = timeout_kind(db) {
            return Error::timeout(kind, with_detail(db));
        }
        let fatal = matches!(db.parsed_severity(), Some(Severity::Fatal | Severity::Panic));
        let mapped = PostgresDialect.map_error(db_error(db));
        if (fatal || closed) && !mapped.is_disconnect() {
            return Error::connection(with_detail(db), true);
        }
        return mapped;
    }
    // Without a server error the socket closed, I/O failed, or the driver met something it did not
    // expect (a protocol surprise, a timeout): the connection is in an unknown state, discard it.
    // (Parameter and value conversions are checked before anything is sent.)
    Error::connection(describe(e), true)
}

/// A statement stopped by `lock_timeout` or `statement_timeout`. `lock_timeout` and `NOWAIT` share
/// SQLSTATE 55P03 (lock_not_available); a lock timeout is raised where the server handles
/// interrupts (the error's routine, `ProcessInterrupts`), NOWAIT where the lock is asked for,
/// which tells them apart whatever language the server's messages are in. 57014
/// (query_canceled) is `statement_timeout` or a cancel request.
fn timeout_kind(db: &postgres::error::DbError) -> Option<athanor_core::TimeoutKind> {
    use postgres::error::SqlState;
    if db.code() == &SqlState::LOCK_NOT_AVAILABLE && db.routine() == Some("ProcessInterrupts") {
        Some(athanor_core::TimeoutKind::LockWait)
    } else if db.code() == &SqlState::QUERY_CANCELED && !matches!(db.parsed_severity(), Some(Severity::Fatal)) {
        Some(athanor_core::TimeoutKind::Statement)
    } else {
        None
    }
}

/// Classify an error while connecting: always `Connection { disconnect: false }`, with the server's
/// message (wrong password, unknown database) or the network's (refused, timed out).
pub(crate) fn map_connect(e: postgres::Error, target: &str) -> Error {
    let detail = match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => describe(&e),
    };
    Error::connection(format!("cannot connect to PostgreSQL at {target}: {detail}"), false).with_source(e)
}
