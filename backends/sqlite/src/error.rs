//! rusqlite errors → [`DbError`] → [`SqliteDialect::map_error`].
//!
//! SQLite reports every failure as an extended result code and a message; the code goes to the
//! dialect as decimal text (`"2067"` for a UNIQUE violation), so classification lives in one place.
//! rusqlite's own errors (wrong parameter count, a NUL in the SQL text …) are API misuse and
//! become [`Error::InvalidRequest`].

use athanor_core::{DbError, Dialect, Error};
use athanor_dialects::SqliteDialect;

/// Classify a rusqlite error; the rusqlite error stays reachable as the result's
/// [`std::error::Error::source`] (for the variants that carry one).
pub(crate) fn map_error(err: rusqlite::Error) -> Error {
    classify(&err).with_source(err)
}

fn classify(err: &rusqlite::Error) -> Error {
    match err {
        rusqlite::Error::SqliteFailure(e, message) => {
            let message = message.clone().unwrap_or_else(|| e.to_string());
            SqliteDialect.map_error(DbError { code: e.extended_code.to_string(), message, ..DbError::default() })
        }
        rusqlite::Error::SqlInputError { error, msg, offset, .. } => SqliteDialect.map_error(DbError {
            code: error.extended_code.to_string(),
            message: format!("{msg} (at byte {offset} of the SQL text)"),
            ..DbError::default()
        }),
        rusqlite::Error::InvalidParameterCount(given, expected) => Error::invalid_request(format!(
            "the statement has {expected} parameter placeholders but {given} parameters were given"
        )),
        rusqlite::Error::InvalidColumnIndex(idx) => Error::invalid_request(format!("column index {idx} out of range")),
        rusqlite::Error::MultipleStatement => {
            Error::invalid_request("the SQL text holds more than one statement; use batch_execute for scripts")
        }
        rusqlite::Error::NulError(_) => Error::invalid_request("the SQL text contains a NUL character"),
        rusqlite::Error::Utf8Error(idx, e) => Error::type_mismatch(format!("#{idx}"), "UTF-8 text", e.to_string()),
        rusqlite::Error::SqliteSingleThreadedMode => {
            Error::connection("SQLite was built single-threaded and cannot be used by Athanor", false)
        }
        other => Error::database("rusqlite", other.to_string()),
    }
}

/// The error of opening or setting up a connection: [`Error::Connection`] naming the database.
pub(crate) fn connect_error(target: &str, err: rusqlite::Error) -> Error {
    let detail = match &err {
        rusqlite::Error::SqliteFailure(e, Some(m)) => format!("{m} (code {})", e.extended_code),
        other => other.to_string(),
    };
    Error::connection(format!("cannot open SQLite database {target}: {detail}"), false).with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use athanor_core::IntegrityKind;

    fn failure(code: i32, msg: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(msg.into()))
    }

    #[test]
    fn extended_codes_reach_the_dialect() {
        match map_error(failure(2067, "UNIQUE constraint failed: customers.email")) {
            Error::Integrity { kind: IntegrityKind::Unique, table, columns, .. } => {
                assert_eq!(table.as_deref(), Some("customers"));
                assert_eq!(columns, vec!["email".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        // The busy handler gave up: a lock wait that timed out (the connection turns one that did
        // not wait into a serialization failure); a stale WAL snapshot cannot be waited for.
        assert!(map_error(failure(5, "database is locked")).is_timeout());
        assert!(map_error(failure(517, "database is locked")).is_serialization_failure());
        assert!(matches!(
            map_error(failure(9, "interrupted")),
            Error::Timeout { kind: athanor_core::TimeoutKind::Statement, .. }
        ));
        assert!(map_error(failure(8, "attempt to write a readonly database")).is_read_only());
        assert!(map_error(failure(1288, "attempt to write a readonly database")).is_read_only());
    }

    #[test]
    fn the_rusqlite_error_is_the_source() {
        use std::error::Error as _;
        let e = map_error(failure(2067, "UNIQUE constraint failed: customers.email"));
        let source = e.source().expect("a source");
        assert!(source.downcast_ref::<rusqlite::Error>().is_some(), "{source:?}");
        let c = connect_error("/nope/x.db", failure(14, "unable to open database file"));
        assert!(c.source().and_then(|s| s.downcast_ref::<rusqlite::Error>()).is_some());
    }

    #[test]
    fn api_misuse_is_an_invalid_request() {
        assert!(matches!(map_error(rusqlite::Error::InvalidParameterCount(1, 2)), Error::InvalidRequest { .. }));
        assert!(matches!(map_error(rusqlite::Error::MultipleStatement), Error::InvalidRequest { .. }));
    }

    #[test]
    fn connect_errors_name_the_database() {
        let e = connect_error("/nope/x.db", failure(14, "unable to open database file"));
        match e {
            Error::Connection { message, disconnect: false, .. } => {
                assert_eq!(message, "cannot open SQLite database /nope/x.db: unable to open database file (code 14)")
            }
            other => panic!("{other:?}"),
        }
    }
}
