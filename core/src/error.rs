//! The one error type of Athanor, [`Error`], and its [`Result`] alias.
//!
//! Every failure a user can cause or meet is a variant with named fields. Backends turn their
//! driver's errors into [`DbError`] (code, message, constraint) and the dialect maps that to a
//! variant, so `Integrity`, `SerializationFailure` and `Connection` mean the same on every database.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The driver's own error behind an [`Error`], shared so that `Error` stays `Clone`; reach it
/// through [`std::error::Error::source`] (and downcast it to `rusqlite::Error`,
/// `postgres::Error` or `mysql::Error`).
pub type ErrorSource = Arc<dyn std::error::Error + Send + Sync + 'static>;

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

/// What a [`Error::Timeout`] bounded: a statement's run time or a wait for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The statement ran longer than the engine's `statement_timeout` (PostgreSQL
    /// `statement_timeout` or a cancel request, MariaDB `max_statement_time`, MySQL
    /// `max_execution_time`, SQLite's progress-handler deadline) and was stopped.
    Statement,
    /// The statement waited for a lock held by another transaction longer than the engine's
    /// `lock_timeout` (PostgreSQL `lock_timeout`, MySQL/MariaDB `innodb_lock_wait_timeout` and
    /// `lock_wait_timeout`, SQLite `busy_timeout`) and gave up.
    LockWait,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Statement => "statement",
            TimeoutKind::LockWait => "lock wait",
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
///
/// The variants a database or its driver produce (`Connection`, `Integrity`,
/// `SerializationFailure`, `Database`) keep the driver's error as their `source` (returned by
/// [`std::error::Error::source`]); equality (`==`) ignores it, so two errors are equal when they
/// say the same thing.
#[derive(Debug, Clone)]
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
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
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
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
    },
    /// The transaction could not be serialized (SQLSTATE 40001), a deadlock was detected, or a lock
    /// could not be had at once (`NOWAIT`, or SQLite refusing to wait where waiting could
    /// deadlock); retrying the whole transaction may succeed. A lock wait that gave up after its
    /// bound is [`Error::Timeout`].
    SerializationFailure {
        /// The database's message.
        message: String,
        /// `true` for a detected deadlock.
        deadlock: bool,
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
    },
    /// A statement was stopped because it ran, or waited for a lock, longer than the engine's
    /// bound (`statement_timeout` / `lock_timeout` URL options, or the database's own lock-wait
    /// limit: SQLite's `busy_timeout`, InnoDB's `innodb_lock_wait_timeout`). Inside a session
    /// the transaction is then rolled back like after any database error (the session needs
    /// `crate::Session::rollback`); the connection stays usable. `retry_on_serialization_failure`
    /// retries a [`TimeoutKind::LockWait`] (the other transaction may be done by the next
    /// attempt), never a [`TimeoutKind::Statement`].
    Timeout {
        /// What timed out: the statement's run time or a lock wait.
        kind: TimeoutKind,
        /// The database's message.
        message: String,
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
    },
    /// The database is read-only for this connection or transaction and refused a write: a
    /// read-only transaction (`TxOptions::read_only`: PostgreSQL SQLSTATE 25006, MySQL error
    /// 1792), a server in read-only mode (MySQL 1290), or an SQLite database opened with
    /// `mode=ro` or `immutable=1` (`SQLITE_READONLY`). Inside a session the transaction is then
    /// rolled back like after any database error.
    ReadOnly {
        /// The database's message.
        message: String,
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
    },
    /// `one()` found no row, or a refresh (`crate::Session::refresh`, `Handle::load`) found the
    /// object's row gone.
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A flush's UPDATE by primary key matched no row: another transaction deleted the row (or
    /// changed its key) since this session loaded it; or, for a model with a version column
    /// (`#[column(version)]`, optimistic locking), the flush's UPDATE or DELETE `… WHERE <key>
    /// AND version = ?` matched no row: another transaction changed (or deleted) the row since
    /// this session read it. SQLAlchemy's `StaleDataError`. The flush failed and its
    /// transaction was rolled back, so the session needs `crate::Session::rollback` (then
    /// reload and decide again). A version conflict ([`Error::StaleData`] with `version` set)
    /// is [`RetryError::is_retryable`]: `SessionMaker::retry_on_serialization_failure` reruns
    /// the transaction, which reads the row again.
    StaleData {
        /// The model (its Rust name).
        model: &'static str,
        /// The table.
        table: String,
        /// The primary key, as the session knows it.
        key: String,
        /// For a model with a version column: the version this session read (and the statement
        /// required); `None` otherwise.
        version: Option<i64>,
        /// How many rows the statement was expected to match.
        expected: u64,
        /// How many it matched.
        matched: u64,
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
    /// A value that its column cannot store exactly was refused before anything was written: a
    /// decimal with more digits than `DECIMAL(P,S)` keeps, a `u64` beyond `i64::MAX`, an instant
    /// outside the portable range or not in UTC, a JSON string holding U+0000 … The caller's
    /// input is wrong, not the program: a service answers it with 422. The session is usable
    /// after a rollback (the refusal happens inside a flush, which needs one).
    InvalidValue {
        /// The column, as `table.column`.
        column: String,
        /// Why the value was refused, in words.
        reason: String,
    },
    /// An earlier flush failed; the session must be rolled back before it can do new work.
    PendingRollback {
        /// The error that failed the flush (also [`std::error::Error::source`]).
        cause: Box<Error>,
    },
    /// A relationship would have been loaded on demand where loading is forbidden
    /// (`raiseload(...)`, or `lazy = "raise"` on the relationship); nothing was sent. Load it
    /// eagerly (`selectinload`, `joinedload`) in the query instead.
    LazyLoadForbidden {
        /// The model that declares the relationship.
        model: &'static str,
        /// The relationship's field name.
        relationship: &'static str,
    },
    /// A relationship was about to be loaded on demand for one object of a query's result after
    /// it was already loaded that way for another object of the same result: one statement per
    /// object in a loop (the "N+1" pattern). Raised only by a session made with
    /// `SessionMaker::lazy_loads(LazyLoads::Raise)`; nothing was sent and the session stays
    /// usable. Load the relationship with the query instead:
    /// `.options(selectinload(Model::relationship))`.
    LazyLoadInLoop {
        /// The model that declares the relationship.
        model: &'static str,
        /// The relationship's field name.
        relationship: &'static str,
    },
    /// The object is detached (its session was closed or dropped, it was expunged, or its
    /// deletion was committed) and the call needs a session: loading one of its relationships
    /// or its expired values, or changing a relationship. Nothing was done; attach it with
    /// `crate::Session::add_handle` first. SQLAlchemy's `DetachedInstanceError`.
    DetachedInstance {
        /// The object's model.
        model: &'static str,
        /// What was asked of it.
        operation: String,
    },
    /// `crate::Session::add_handle` of a detached object whose primary key another object of
    /// the session already has (one instance per row per session). Nothing changed: the object
    /// stays detached with its edits. SQLAlchemy raises `InvalidRequestError` ("another
    /// instance with key … is already present in this session").
    IdentityConflict {
        /// The object's model.
        model: &'static str,
        /// The primary key.
        key: String,
    },
    /// The database does not offer this feature; nothing was sent.
    Unsupported {
        /// The feature asked for.
        feature: String,
        /// The dialect that lacks it.
        dialect: &'static str,
    },
    /// The database's schema differs from the application's models (`migrate check`, the drift
    /// gate): nothing is wrong with the request, the schema needs a migration.
    SchemaDrift {
        /// The differences, readable, one per entry (`tickets.status: allowed values: …`).
        differences: Vec<String>,
    },
    /// Any other error the database reported (syntax, missing table, permission …).
    Database {
        /// The database's own code.
        code: String,
        /// The database's message.
        message: String,
        /// The driver's error, where there was one.
        source: Option<ErrorSource>,
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

    /// Attach the driver's error as the [`std::error::Error::source`] of a `Connection`,
    /// `Integrity`, `SerializationFailure`, `Timeout`, `ReadOnly` or `Database` error (for backends, after the dialect
    /// classified the error); other variants are returned unchanged.
    #[must_use]
    pub fn with_source(mut self, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        if let Error::Connection { source, .. }
        | Error::Integrity { source, .. }
        | Error::SerializationFailure { source, .. }
        | Error::Timeout { source, .. }
        | Error::ReadOnly { source, .. }
        | Error::Database { source, .. } = &mut self
        {
            *source = Some(Arc::new(err));
        }
        self
    }

    /// Build an [`Error::Connection`] without a driver error (for backends).
    pub fn connection(message: impl Into<String>, disconnect: bool) -> Self {
        Error::Connection { message: message.into(), disconnect, source: None }
    }

    /// Build an [`Error::Database`] without a driver error (for backends and dialects).
    pub fn database(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Database { code: code.into(), message: message.into(), source: None }
    }

    /// Build an [`Error::SerializationFailure`] without a driver error (for dialects and tests).
    pub fn serialization_failure(message: impl Into<String>, deadlock: bool) -> Self {
        Error::SerializationFailure { message: message.into(), deadlock, source: None }
    }

    /// Build an [`Error::Timeout`] without a driver error (for dialects and backends).
    pub fn timeout(kind: TimeoutKind, message: impl Into<String>) -> Self {
        Error::Timeout { kind, message: message.into(), source: None }
    }

    /// Build an [`Error::ReadOnly`] without a driver error (for dialects and backends).
    pub fn read_only(message: impl Into<String>) -> Self {
        Error::ReadOnly { message: message.into(), source: None }
    }

    /// `true` for [`Error::Timeout`] (a statement or a lock wait ran past its bound).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// `true` for [`Error::ReadOnly`].
    pub fn is_read_only(&self) -> bool {
        matches!(self, Error::ReadOnly { .. })
    }

    /// The error that put a session in [`Error::PendingRollback`]; `self` for any other error.
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::PendingRollback { cause } => cause.root_cause(),
            other => other,
        }
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

/// An application's error type that the transaction helpers
/// (`crate::SessionMaker::retry_on_serialization_failure`) can look into: it is made from an
/// [`Error`] (so `?` works on Athanor's calls inside the closure) and says which `Error` it
/// carries, if any, so a serialization failure wrapped in it is still retried while a business
/// error (not found, conflict, …) is returned at once.
///
/// ```
/// use athanor_core::{Error, RetryError};
///
/// enum ApiError { NotFound, Db(Error) }
/// impl From<Error> for ApiError {
///     fn from(e: Error) -> Self { ApiError::Db(e) }
/// }
/// impl RetryError for ApiError {
///     fn athanor_error(&self) -> Option<&Error> {
///         match self { ApiError::Db(e) => Some(e), ApiError::NotFound => None }
///     }
/// }
/// assert!(ApiError::from(Error::serialization_failure("40001", false)).is_retryable());
/// assert!(!ApiError::NotFound.is_retryable());
/// ```
///
/// Implemented for [`Error`] itself and for `Box<dyn std::error::Error + Send + Sync>` (which
/// carries an `Error` when it downcasts to one).
pub trait RetryError: From<Error> {
    /// The Athanor error this value carries, if it carries one.
    fn athanor_error(&self) -> Option<&Error>;

    /// `true` when rerunning the whole transaction may succeed: the carried error is an
    /// [`Error::SerializationFailure`] (a serialization failure or a deadlock), an
    /// [`Error::Timeout`] of a lock wait (the other transaction may be done by the next attempt;
    /// MySQL's own message says to restart), or an optimistic-locking conflict
    /// ([`Error::StaleData`] of a versioned model: the next attempt reads the new version). A
    /// statement that ran out of time is not retried, nor a row found gone without a version.
    fn is_retryable(&self) -> bool {
        self.athanor_error().is_some_and(|e| {
            e.is_serialization_failure()
                || matches!(
                    e,
                    Error::Timeout { kind: TimeoutKind::LockWait, .. } | Error::StaleData { version: Some(_), .. }
                )
        })
    }
}

impl RetryError for Error {
    fn athanor_error(&self) -> Option<&Error> {
        Some(self)
    }
}

impl RetryError for Box<dyn std::error::Error + Send + Sync> {
    fn athanor_error(&self) -> Option<&Error> {
        self.downcast_ref::<Error>()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { message } => write!(f, "configuration error: {message}"),
            Error::Connection { message, disconnect: true, .. } => write!(f, "connection lost: {message}"),
            Error::Connection { message, .. } => write!(f, "connection error: {message}"),
            Error::PoolTimeout { waited, pool_size } => write!(
                f,
                "timed out after {waited:?} waiting for a pooled connection (pool size {pool_size}, all in use)"
            ),
            Error::Integrity { kind, constraint, message, .. } => match constraint {
                Some(c) => write!(f, "integrity error ({kind} constraint {c}): {message}"),
                None => write!(f, "integrity error ({kind}): {message}"),
            },
            Error::SerializationFailure { message, deadlock, .. } => {
                if *deadlock {
                    write!(f, "deadlock detected, retry the transaction: {message}")
                } else {
                    write!(f, "serialization failure, retry the transaction: {message}")
                }
            }
            Error::Timeout { kind: TimeoutKind::Statement, message, .. } => {
                write!(f, "statement timeout: the statement ran too long and was stopped: {message}")
            }
            Error::Timeout { kind: TimeoutKind::LockWait, message, .. } => {
                write!(f, "lock timeout: gave up waiting for a lock another transaction holds: {message}")
            }
            Error::ReadOnly { message, .. } => write!(f, "read-only: the database refused a write: {message}"),
            Error::NotFound { what } => write!(f, "no row found for {what}"),
            Error::StaleData { table, key, version: None, expected, matched, .. } => write!(
                f,
                "stale data: the UPDATE of {table} {key} matched {matched} rows, expected {expected}; the row was \
                 deleted or its key changed by another transaction"
            ),
            Error::StaleData { model, table, key, version: Some(v), expected, matched } => write!(
                f,
                "stale data: {model} {key} (table {table}) is no longer at version {v}: another transaction \
                 changed or deleted it since this session read it (the flush's statement matched {matched} rows, \
                 expected {expected}); roll back, read it again and retry"
            ),
            Error::MultipleResults { what } => write!(f, "more than one row found for {what}"),
            Error::TypeMismatch { column, expected, found } => {
                write!(f, "type mismatch in column {column}: expected {expected}, found {found}")
            }
            Error::InvalidRequest { message } => write!(f, "invalid request: {message}"),
            Error::InvalidValue { column, reason } => write!(f, "invalid value for column {column}: {reason}"),
            Error::PendingRollback { cause } => write!(
                f,
                "this session's transaction has been rolled back due to a previous exception during flush; \
                 call rollback() before doing new work (original error: {cause})"
            ),
            Error::LazyLoadForbidden { model, relationship } => write!(
                f,
                "{model}.{relationship} is not loaded and loading it on demand is forbidden (raiseload or \
                 lazy = \"raise\"); load it eagerly in the query"
            ),
            Error::LazyLoadInLoop { model, relationship } => write!(
                f,
                "{model}.{relationship} was about to be loaded on demand once per {model} of one query result \
                 (N+1 statements); load it with the query: .options(selectinload({model}::{relationship}))"
            ),
            Error::DetachedInstance { model, operation } => write!(
                f,
                "this {model} is detached (in no session: closed, dropped, expunged, or its deletion committed): \
                 cannot {operation}; attach it to a session with add_handle first"
            ),
            Error::IdentityConflict { model, key } => {
                write!(f, "cannot attach this {model}: another {model} with key {key} is already in this session")
            }
            Error::Unsupported { feature, dialect } => write!(f, "{feature} is not supported by {dialect}"),
            Error::SchemaDrift { differences } => {
                write!(f, "the database differs from the models ({} difference(s)):", differences.len())?;
                for d in differences {
                    write!(f, "\n  {d}")?;
                }
                Ok(())
            }
            Error::Database { code, message, .. } => write!(f, "database error {code}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connection { source, .. }
            | Error::Integrity { source, .. }
            | Error::SerializationFailure { source, .. }
            | Error::Timeout { source, .. }
            | Error::ReadOnly { source, .. }
            | Error::Database { source, .. } => source.as_deref().map(|e| e as &(dyn std::error::Error + 'static)),
            Error::PendingRollback { cause } => Some(&**cause),
            _ => None,
        }
    }
}

/// Equality of what an error says: the variant and its fields, except the driver's `source`.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        use Error as E;
        match (self, other) {
            (E::Config { message: a }, E::Config { message: b }) => a == b,
            (E::Connection { message: a, disconnect: x, .. }, E::Connection { message: b, disconnect: y, .. }) => {
                a == b && x == y
            }
            (E::PoolTimeout { waited: a, pool_size: x }, E::PoolTimeout { waited: b, pool_size: y }) => {
                a == b && x == y
            }
            (
                E::Integrity { kind: k1, constraint: c1, table: t1, columns: l1, message: m1, .. },
                E::Integrity { kind: k2, constraint: c2, table: t2, columns: l2, message: m2, .. },
            ) => k1 == k2 && c1 == c2 && t1 == t2 && l1 == l2 && m1 == m2,
            (
                E::SerializationFailure { message: a, deadlock: x, .. },
                E::SerializationFailure { message: b, deadlock: y, .. },
            ) => a == b && x == y,
            (E::Timeout { kind: k1, message: a, .. }, E::Timeout { kind: k2, message: b, .. }) => k1 == k2 && a == b,
            (E::ReadOnly { message: a, .. }, E::ReadOnly { message: b, .. }) => a == b,
            (E::NotFound { what: a }, E::NotFound { what: b }) => a == b,
            (
                E::StaleData { model: o1, table: t1, key: k1, version: v1, expected: e1, matched: m1 },
                E::StaleData { model: o2, table: t2, key: k2, version: v2, expected: e2, matched: m2 },
            ) => o1 == o2 && t1 == t2 && k1 == k2 && v1 == v2 && e1 == e2 && m1 == m2,
            (E::MultipleResults { what: a }, E::MultipleResults { what: b }) => a == b,
            (
                E::TypeMismatch { column: c1, expected: e1, found: f1 },
                E::TypeMismatch { column: c2, expected: e2, found: f2 },
            ) => c1 == c2 && e1 == e2 && f1 == f2,
            (E::InvalidRequest { message: a }, E::InvalidRequest { message: b }) => a == b,
            (E::InvalidValue { column: c1, reason: r1 }, E::InvalidValue { column: c2, reason: r2 }) => {
                c1 == c2 && r1 == r2
            }
            (E::PendingRollback { cause: a }, E::PendingRollback { cause: b }) => a == b,
            (E::Unsupported { feature: a, dialect: x }, E::Unsupported { feature: b, dialect: y }) => a == b && x == y,
            (
                E::LazyLoadForbidden { model: a, relationship: x },
                E::LazyLoadForbidden { model: b, relationship: y },
            ) => a == b && x == y,
            (E::LazyLoadInLoop { model: a, relationship: x }, E::LazyLoadInLoop { model: b, relationship: y }) => {
                a == b && x == y
            }
            (E::DetachedInstance { model: a, operation: x }, E::DetachedInstance { model: b, operation: y }) => {
                a == b && x == y
            }
            (E::IdentityConflict { model: a, key: x }, E::IdentityConflict { model: b, key: y }) => a == b && x == y,
            (E::Database { code: a, message: x, .. }, E::Database { code: b, message: y, .. }) => a == b && x == y,
            (E::SchemaDrift { differences: a }, E::SchemaDrift { differences: b }) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn source_is_kept_and_ignored_by_equality() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let e = Error::connection("gone", true).with_source(io);
        let src = e.source().expect("a source");
        assert!(src.downcast_ref::<std::io::Error>().is_some());
        assert_eq!(e, Error::connection("gone", true));
        assert_eq!(e.clone().source().map(ToString::to_string), Some("pipe".to_string()));
        // Variants that carry no driver error stay as they are.
        assert!(Error::invalid_request("x").with_source(std::fmt::Error).source().is_none());
    }

    #[test]
    fn retry_errors_see_the_athanor_error_they_carry() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Error::serialization_failure("40001", true).into();
        assert!(boxed.is_retryable());
        let other: Box<dyn std::error::Error + Send + Sync> = "business".into();
        assert!(other.athanor_error().is_none() && !other.is_retryable());
        assert!(!Error::invalid("x").is_retryable());
        assert!(Error::serialization_failure("40001", false).is_retryable());
        assert!(Error::timeout(TimeoutKind::LockWait, "lock wait").is_retryable());
        assert!(!Error::timeout(TimeoutKind::Statement, "too long").is_retryable());
        let stale = |version| Error::StaleData {
            model: "Book",
            table: "books".into(),
            key: "(1)".into(),
            version,
            expected: 1,
            matched: 0,
        };
        assert!(stale(Some(3)).is_retryable(), "a version conflict: the next attempt reads the new version");
        assert!(!stale(None).is_retryable(), "a row gone is not a conflict");
        assert!(stale(Some(3)).to_string().contains("no longer at version 3"), "{}", stale(Some(3)));
    }

    #[test]
    fn timeouts_and_read_only_keep_their_source_and_say_what() {
        let io = || std::io::Error::new(std::io::ErrorKind::TimedOut, "t");
        let e = Error::timeout(TimeoutKind::LockWait, "canceling statement due to lock timeout").with_source(io());
        assert!(e.is_timeout() && !e.is_serialization_failure());
        assert!(e.source().is_some());
        assert_eq!(e, Error::timeout(TimeoutKind::LockWait, "canceling statement due to lock timeout"));
        assert_ne!(e, Error::timeout(TimeoutKind::Statement, "canceling statement due to lock timeout"));
        assert!(e.to_string().starts_with("lock timeout: "), "{e}");
        let s = Error::timeout(TimeoutKind::Statement, "interrupted");
        assert!(s.to_string().starts_with("statement timeout: "), "{s}");
        let r = Error::read_only("attempt to write a readonly database").with_source(io());
        assert!(r.is_read_only() && r.source().is_some());
        assert_eq!(r.to_string(), "read-only: the database refused a write: attempt to write a readonly database");
    }

    #[test]
    fn pending_rollback_keeps_its_cause() {
        let cause = Error::database("42P01", "no table");
        let e = Error::PendingRollback { cause: Box::new(cause.clone()) };
        assert_eq!(e.root_cause(), &cause);
        assert_eq!(e.source().map(ToString::to_string), Some(cause.to_string()));
        assert!(e.to_string().contains("no table"), "{e}");
    }
}
