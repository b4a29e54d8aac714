//! Driver errors -> [`DbError`] -> [`MySqlDialect::map_error`](athanor_core::Dialect::map_error).

use athanor_core::{DbError, Dialect, Error};
use athanor_dialects::MySqlDialect;
use mysql::DriverError;

/// ER_UNSUPPORTED_PS: "This command is not supported in the prepared statement protocol yet".
pub(crate) const UNSUPPORTED_IN_PREPARED: u16 = 1295;

/// Classify an error of an established connection.
///
/// Server errors go through the dialect by error number. I/O errors, malformed packets and the
/// driver's protocol errors mean the connection's state is lost: [`Error::Connection`] with
/// `disconnect: true`. Parameter mistakes the driver catches before sending are
/// [`Error::InvalidRequest`].
///
/// The driver's error stays reachable as the result's [`std::error::Error::source`].
pub(crate) fn map_error(err: mysql::Error) -> Error {
    classify(&err).with_source(err)
}

fn classify(err: &mysql::Error) -> Error {
    match err {
        mysql::Error::MySqlError(e) => MySqlDialect.map_error(DbError {
            code: e.code.to_string(),
            message: e.message.clone(),
            ..DbError::default()
        }),
        mysql::Error::IoError(e) => Error::connection(format!("lost the connection to the server: {e}"), true),
        mysql::Error::CodecError(e) => Error::connection(format!("malformed packet from the server: {e}"), true),
        mysql::Error::DriverError(d) => map_driver_error(d),
        mysql::Error::UrlError(e) => Error::Config { message: e.to_string() },
        mysql::Error::FromValueError(v) => {
            Error::TypeMismatch { column: String::new(), expected: "a portable value", found: format!("{v:?}") }
        }
        mysql::Error::FromRowError(_) => {
            Error::TypeMismatch { column: String::new(), expected: "a portable row", found: "a row".into() }
        }
        // TLS errors exist only when another crate enables a TLS feature of `mysql`.
        #[allow(unreachable_patterns)]
        other => Error::connection(other.to_string(), true),
    }
}

fn map_driver_error(d: &DriverError) -> Error {
    match d {
        DriverError::MismatchedStmtParams(expected, given) => Error::InvalidRequest {
            message: format!("the statement has {expected} placeholders but {given} parameters were given"),
        },
        DriverError::Params(_) | DriverError::MixedParams | DriverError::PacketTooLarge => {
            Error::InvalidRequest { message: d.to_string() }
        }
        DriverError::ReadOnlyTransNotSupported => Error::Unsupported {
            feature: "read-only transactions (this server is older than MySQL 5.6.5)".into(),
            dialect: "mysql",
        },
        // Out-of-sync or unexpected packets, a closed socket, a timeout: the connection is gone.
        other => Error::connection(format!("lost the connection to the server: {other}"), true),
    }
}

/// Classify an error raised while connecting: always [`Error::Connection`] with
/// `disconnect: false`, carrying the driver's or the server's message (and the server's error
/// number, such as 1045 for a refused login or 1049 for an unknown database).
pub(crate) fn connect_error(err: mysql::Error, target: &str) -> Error {
    let detail = match &err {
        mysql::Error::MySqlError(e) => format!("ERROR {} ({}): {}", e.code, e.state, e.message),
        mysql::Error::DriverError(d) => d.to_string(),
        mysql::Error::IoError(e) => e.to_string(),
        other => other.to_string(),
    };
    Error::connection(format!("cannot connect to {target}: {detail}"), false).with_source(err)
}

/// The server's error number, for errors the backend handles itself.
pub(crate) fn server_code(err: &mysql::Error) -> Option<u16> {
    match err {
        mysql::Error::MySqlError(e) => Some(e.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athanor_core::IntegrityKind;

    fn server(code: u16, message: &str) -> mysql::Error {
        mysql::Error::MySqlError(mysql::MySqlError { state: "23000".into(), message: message.into(), code })
    }

    #[test]
    fn server_errors_go_through_the_dialect() {
        match map_error(server(1062, "Duplicate entry 'a' for key 'uq_t_email'")) {
            Error::Integrity { kind: IntegrityKind::Unique, constraint, .. } => {
                assert_eq!(constraint.as_deref(), Some("uq_t_email"))
            }
            other => panic!("{other:?}"),
        }
        assert!(map_error(server(1927, "Connection was killed")).is_disconnect());
    }

    #[test]
    fn io_and_protocol_errors_are_disconnects() {
        let io = mysql::Error::IoError(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof"));
        assert!(map_error(io).is_disconnect());
        assert!(map_error(mysql::Error::DriverError(DriverError::PacketOutOfSync)).is_disconnect());
        assert!(matches!(
            map_error(mysql::Error::DriverError(DriverError::MismatchedStmtParams(2, 1))),
            Error::InvalidRequest { .. }
        ));
    }

    #[test]
    fn connect_errors_are_not_disconnects() {
        let e = connect_error(server(1049, "Unknown database 'x'"), "mysql://h/x");
        assert_eq!(
            e,
            Error::Connection {
                message: "cannot connect to mysql://h/x: ERROR 1049 (23000): Unknown database 'x'".into(),
                disconnect: false,
                source: None,
            }
        );
    }
}
