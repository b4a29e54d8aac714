//! The one error type of Athanor, [`Error`], and its [`Result`] alias.
//!
//! Every failure a user can cause or meet is a variant with named fields. Backends turn their
//! driver's errors into [`DbError`] (code, message, constraint) and the dialect maps that to a
//! variant, so `Integrity`, `SerializationFailure` and `Connection` mean the same on every database.

use std::fmt;
use std::time::Duration;

/// `Result<T, athanor::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which integrity rule a statement broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntegrityKind {
    /// A UNIQUE or PRIMARY KEY constraint.
    Unique,
    /// A FOREIGN KEY constraint.
    ForeignKey,
    /// A NOT NULL column received NULL.
    NotNull,
    /// A CHECK constraint.
    Check,
    /// Another integrity rule (exclusion constraint, …).
    Other,
}

impl fmt::Display for IntegrityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntegrityKind::Unique => "unique",
            IntegrityKind::ForeignKey => "foreign key",
            IntegrityKind::NotNull => "not null",
            IntegrityKind::Check => "check",
            IntegrityKind::Other => "integrity",
        })
    }
}

/// A database error as a backend reads it off its driver, before the dialect classifies it.
///
/// `code` is the database's own code as text: the extended result code for SQLite (`"2067"`),
/// the SQLSTATE for PostgreSQL (`"23505"`), the error number for MySQL (`"1062"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbError {
    /// The database's own error code, as text.
    pub code: String,
    /// The database's message.
    pub message: String,
    /// The constraint name, where the driver reports it separately (PostgreSQL).
    pub constraint: Option<String>,
    /// The table, where the driver reports it separately.
    pub table: Option<String>,
    /// The column, where the driver reports it separately.
    pub column: Option<String>,
}

/// Everything that can go wrong in Athanor.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a `_` arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A malformed URL, an unknown scheme, a backend that is not compiled in, a bad option.
    Config {
        /// What is wrong, in words.
        message: String,
    },
    /// The database could not be reached, refused the login, or the connection broke.
    Connection {
        /// What the driver said.
        message: String,
        /// `true` when an established connection was lost (it is discarded from the pool).
        disconnect: bool,
    },
    /// No pooled connection became free within the configured wait.
    PoolTimeout {
        /// How long the caller waited.
        waited: Duration,
        /// The pool size.
        pool_size: u32,
    },
    /// A constraint was violated.
    Integrity {
        /// Which kind of rule.
        kind: IntegrityKind,
        /// The constraint's name (`uq_customers_email`), where it is known.
        constraint: Option<String>,
        /// The table, where known.
        table: Option<String>,
        /// The columns, where known.
        columns: Vec<String>,
        /// The database's message.
        message: String,
    },
    /// The transaction could not be serialized (SQLSTATE 40001), a deadlock was detected, or a lock
    /// could not be had; retrying the whole transaction may succeed.
    SerializationFailure {
        /// The database's message.
        message: String,
        /// `true` for a detected deadlock.
        deadlock: bool,
    },
    /// `one()` found no row, or a refresh ([`crate::Session::refresh`], `Handle::load`) found the
    /// object's row gone.
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// `one()` or `one_or_none()` found more than one row.
    MultipleResults {
        /// What was looked for.
        what: String,
    },
    /// A value read from the database does not fit the field's Rust type.
    TypeMismatch {
        /// The column (or position) read.
        column: String,
        /// The Rust type asked for.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// The call does not make sense in the current state (unknown column in `filter_by`, an object
    /// that belongs to another session, a statement on a closed connection …).
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// An earlier flush failed; the session must be rolled back before it can do new work.
    PendingRollback {
        /// The error that failed the flush.
        cause: String,
    },
    /// The database does not offer this feature; nothing was sent.
    Unsupported {
        /// The feature asked for.
        feature: String,
        /// The dialect that lacks it.
        dialect: &'static str,
    },
    /// Any other error the database reported (syntax, missing table, permission …).
    Database {
        /// The database's own code.
        code: String,
        /// The database's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into() }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest { message: message.into() }
    }

    /// Build an [`Error::InvalidRequest`] (for backends and dialects).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Error::InvalidRequest { message: message.into() }
    }

    /// Build an [`Error::Unsupported`] (for dialects).
    pub fn unsupported(feature: impl Into<String>, dialect: &'static str) -> Self {
        Error::Unsupported { feature: feature.into(), dialect }
    }

    /// Build an [`Error::TypeMismatch`] (for value decoding).
    pub fn type_mismatch(column: impl Into<String>, expected: &'static str, found: impl Into<String>) -> Self {
        Error::TypeMismatch { column: column.into(), expected, found: found.into() }
    }

    /// `true` for [`Error::Integrity`].
    pub fn is_integrity(&self) -> bool {
        matches!(self, Error::Integrity { .. })
    }

    /// `true` for [`Error::SerializationFailure`]: the transaction may be retried.
    pub fn is_serialization_failure(&self) -> bool {
        matches!(self, Error::SerializationFailure { .. })
    }

    /// `true` when a connection was lost; such a connection is discarded, never reused.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, Error::Connection { disconnect: true, .. })
    }

    /// The constraint name of an integrity error.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Error::Integrity { constraint, .. } => constraint.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { message } => write!(f, "configuration error: {message}"),
            Error::Connection { message, disconnect: true } => write!(f, "connection lost: {message}"),
            Error::Connection { message, .. } => write!(f, "connection error: {message}"),
            Error::PoolTimeout { waited, pool_size } => write!(
                f,
                "timed out after {waited:?} waiting for a pooled connection (pool size {pool_size}, all in use)"
            ),
            Error::Integrity { kind, constraint, message, .. } => match constraint {
                Some(c) => write!(f, "integrity error ({kind} constraint {c}): {message}"),
                None => write!(f, "integrity error ({kind}): {message}"),
            },
            Error::SerializationFailure { message, deadlock } => {
                if *deadlock {
                    write!(f, "deadlock detected, retry the transaction: {message}")
                } else {
                    write!(f, "serialization failure, retry the transaction: {message}")
                }
            }
            Error::NotFound { what } => write!(f, "no row found for {what}"),
            Error::MultipleResults { what } => write!(f, "more than one row found for {what}"),
            Error::TypeMismatch { column, expected, found } => {
                write!(f, "type mismatch in column {column}: expected {expected}, found {found}")
            }
            Error::InvalidRequest { message } => write!(f, "invalid request: {message}"),
            Error::PendingRollback { cause } => write!(
                f,
                "this session's transaction has been rolled back due to a previous exception during flush; \
                 call rollback() before doing new work (original error: {cause})"
            ),
            Error::Unsupported { feature, dialect } => write!(f, "{feature} is not supported by {dialect}"),
            Error::Database { code, message } => write!(f, "database error {code}: {message}"),
        }
    }
}

impl std::error::Error for Error {}
