//! What a database can do and how a transaction is begun: [`IsolationLevel`], [`TxOptions`],
//! [`KeyRecovery`], the [`Capabilities`] sheet and the [`LexicalForms`] of its SQL. Plain data a
//! dialect fills in; the public paths are `athanor_core::{IsolationLevel, …}`.

use crate::error::{Error, Result};
use crate::value::ValueRef;
use std::fmt;

/// A transaction isolation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED`
    ReadUncommitted,
    /// `READ COMMITTED`
    ReadCommitted,
    /// `REPEATABLE READ`
    RepeatableRead,
    /// `SERIALIZABLE`
    Serializable,
}

impl IsolationLevel {
    /// Every level, weakest first.
    pub const ALL: [IsolationLevel; 4] = [
        IsolationLevel::ReadUncommitted,
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ];

    /// The SQL spelling: `REPEATABLE READ`.
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }

    /// Lower-case with underscores, for test names and URL options: `repeatable_read`.
    pub fn as_snake(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "read_uncommitted",
            IsolationLevel::ReadCommitted => "read_committed",
            IsolationLevel::RepeatableRead => "repeatable_read",
            IsolationLevel::Serializable => "serializable",
        }
    }

    /// Parse `read committed`, `READ_COMMITTED`, `read-committed` …
    ///
    /// # Errors
    /// [`Error::Config`] for a name that is not one of the four levels.
    pub fn parse(s: &str) -> Result<Self> {
        let norm: String =
            s.trim().chars().map(|c| if c == '_' || c == '-' { ' ' } else { c.to_ascii_uppercase() }).collect();
        IsolationLevel::ALL
            .into_iter()
            .find(|l| l.as_sql() == norm)
            .ok_or_else(|| Error::config(format!("unknown isolation level {s:?}")))
    }
}

impl fmt::Display for IsolationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// How a transaction is begun.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// The isolation level; `None` for the database's (or engine's) default.
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY`.
    pub read_only: bool,
    /// The transaction is going to write: take the database's write lock when it begins rather
    /// than at its first write, where the database locks whole databases (SQLite renders
    /// `BEGIN IMMEDIATE`, see `Dialect::begin_statements`). A transaction that reads and then
    /// writes then waits for other writers (up to SQLite's `busy_timeout`) at `BEGIN` instead
    /// of failing with [`Error::SerializationFailure`] when its read lock cannot be upgraded.
    /// Concurrent transactions that declare it run one after another.
    ///
    /// A hint only on databases with row locks (PostgreSQL, MySQL/MariaDB): they lock rows as
    /// they are written, so their `BEGIN` is the same with or without it. Core never upgrades a
    /// transaction that began without it (see `docs/guarantees.md`).
    pub write_intent: bool,
}

/// How the keys a database generates for an INSERT come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRecovery {
    /// `INSERT … RETURNING key`, one row per inserted row, in order (SQLite ≥ 3.35, PostgreSQL).
    Returning,
    /// The connection's last-insert id is the key of the *first* row of a multi-row INSERT and the
    /// others follow consecutively (MySQL/MariaDB with `innodb_autoinc_lock_mode` 0 or 1 and
    /// `auto_increment_increment = 1`, which the backend checks at connect).
    LastInsertIdConsecutive,
    /// The connection's last-insert id is exact only for a single-row INSERT: the keys of one
    /// multi-row INSERT may have gaps. The unit of work then inserts rows that need a generated
    /// key one per statement. A backend reports this at connect in place of
    /// [`KeyRecovery::LastInsertIdConsecutive`] when the server does not promise consecutive
    /// keys (see [`RawConnection::adjust_capabilities`](crate::RawConnection::adjust_capabilities)).
    LastInsertIdPerRow,
    /// The connection's last-insert id is the key of the *last* row of a multi-row INSERT and
    /// the others precede it consecutively (SQLite's `last_insert_rowid()`), but only where the
    /// dialect's probe (`Dialect::key_recovery_probe`) finds the table safe before the INSERT:
    /// the key column is the rowid alias, no trigger is declared on the table, and the table's
    /// largest key leaves room for the new rows below `i64::MAX` (where SQLite would pick random
    /// rowids). Elsewhere the unit of work uses `INSERT … RETURNING`, so a dialect reports this
    /// only with [`Capabilities::insert_returning`].
    LastInsertIdLast,
}

/// How the unit of work sends the UPDATEs of several changed objects of one table that changed
/// the same columns (see `docs/guarantees.md`, "Batched updates").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchUpdate {
    /// One prepared statement, run once per row (`RawConnection::execute_each`): the database
    /// runs in the process, so there are no round trips to save (SQLite). Each row's count is
    /// checked.
    PerRow,
    /// One statement per batch that reports the keys of the rows it matched
    /// (`UPDATE t SET … FROM (VALUES …) AS v(…) WHERE t.key = v.key … RETURNING t.key`,
    /// PostgreSQL), so a row that did not match names its object exactly.
    ReturningKeys,
    /// One statement per batch that reports only how many rows it matched (`SET a = CASE WHEN
    /// key = ? THEN ? … END … WHERE key = ? OR …`, MySQL/MariaDB, whose backend asks for
    /// `CLIENT_FOUND_ROWS`). The unit of work wraps it in a savepoint: on a mismatch it rolls
    /// back to it and sends the batch's rows one statement each, so the error names the object.
    MatchedCount,
}

/// What a database can do. One literal per dialect (a field set twice does not compile): the
/// dialect's static sheet, `Dialect::capabilities`.
///
/// What an [`Engine`](crate::Engine) reports ([`Engine::capabilities`](crate::Engine::capabilities),
/// [`Connection::capabilities`](crate::Connection::capabilities)) is that sheet *adjusted* by the
/// backend: first for the URL ([`Driver::capabilities`](crate::Driver::capabilities): SQLite with
/// `?foreign_keys=off` says `foreign_keys: false`), then by each connection for what it found
/// at connect ([`RawConnection::adjust_capabilities`](crate::RawConnection::adjust_capabilities):
/// MySQL's key consecutiveness, the server version). Core reads the adjusted value wherever it
/// decides by a connect-time fact (the unit of work's key recovery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// How generated keys are recovered after an INSERT. The dialect's sheet gives what the
    /// database does by default; a connection may downgrade
    /// [`KeyRecovery::LastInsertIdConsecutive`] to [`KeyRecovery::LastInsertIdPerRow`] at connect.
    pub key_recovery: KeyRecovery,
    /// `INSERT … VALUES (…), (…)` in one statement.
    pub multi_row_insert: bool,
    /// How changed objects of one table with the same changed columns are updated together
    /// (the dialect's `Dialect::write_update_batch` renders the statement of the batch forms).
    pub batch_update: BatchUpdate,
    /// The most bound parameters one statement may carry (the database's own limit: a statement
    /// with more is refused by [`Capabilities::check_params`] before anything is sent, where the
    /// database would fail it, or, on PostgreSQL, break the connection).
    pub max_bind_params: usize,
    /// `SAVEPOINT` / `ROLLBACK TO SAVEPOINT` / `RELEASE SAVEPOINT`.
    pub savepoints: bool,
    /// DDL inside a transaction is rolled back with it.
    pub transactional_ddl: bool,
    /// The isolation levels the database accepts (weaker ones it silently upgrades are listed too).
    pub isolation_levels: &'static [IsolationLevel],
    /// The level a transaction gets when none is asked for.
    pub default_isolation: IsolationLevel,
    /// `READ ONLY` transactions.
    pub read_only_transactions: bool,
    /// CHECK constraints are enforced.
    pub check_constraints: bool,
    /// The database enforces foreign keys on this engine's connections: a row referencing a
    /// missing parent is refused with an integrity error. `false` when the database would accept
    /// it, as SQLite does under `?foreign_keys=off` (the backend then runs
    /// `PRAGMA foreign_keys = OFF`; by default it turns them on). Foreign keys are declared in
    /// `CREATE TABLE` either way.
    pub foreign_keys: bool,
    /// `CREATE TABLE` may declare a foreign key to a table not created yet (SQLite checks
    /// foreign keys only when rows change). Elsewhere tables whose foreign keys form a cycle are
    /// created without the keys that point forward, added by `ALTER TABLE … ADD CONSTRAINT`.
    pub foreign_key_forward_reference: bool,
    /// NULL sorts as the smallest value when nothing is said (SQLite, MySQL); PostgreSQL sorts it
    /// as the largest. Athanor's documented default is the former, so only where this is
    /// `false` does a sort on a nullable column need a `NULLS …` clause.
    pub nulls_sort_low: bool,
    /// `FOR UPDATE NOWAIT` (PostgreSQL; MySQL 8.0.1+, MariaDB 10.3+, read from the server's
    /// version at connect).
    pub lock_nowait: bool,
    /// `FOR UPDATE SKIP LOCKED` (PostgreSQL; MySQL 8.0.1+, MariaDB 10.6+).
    pub lock_skip_locked: bool,
    /// `SELECT DISTINCT ON (…)` (PostgreSQL only).
    pub distinct_on: bool,
    /// `INSERT … RETURNING` (SQLite, PostgreSQL, MariaDB 10.5+ read from the server's version at
    /// connect; not MySQL).
    pub insert_returning: bool,
    /// Floating-point NaN can be stored and read back.
    pub stores_nan: bool,
    /// ±Infinity can be stored and read back.
    pub stores_infinity: bool,
    /// Text may contain the NUL character.
    pub text_allows_nul: bool,
    /// A unique or indexed text column needs a length (`VARCHAR(n)`); the default length used when
    /// the model gives none.
    pub indexed_text_length: Option<u32>,
    /// `SELECT … FOR UPDATE` row locks.
    pub select_for_update: bool,
    /// Where [`Capabilities::select_for_update`] is `false`: `SELECT … FOR UPDATE` is accepted
    /// inside a transaction begun with [`TxOptions::write_intent`], and sent without a clause,
    /// because that transaction already holds the database's one write lock (SQLite's `BEGIN
    /// IMMEDIATE`): no other transaction can change the rows it reads until it ends, which is
    /// what `FOR UPDATE` asks for. Outside such a transaction it is [`Error::Unsupported`];
    /// `NOWAIT` and `SKIP LOCKED` always are (the wait already happened at `BEGIN`, and no
    /// other writer runs meanwhile whose rows could be skipped).
    pub for_update_under_write_intent: bool,
    /// `UPDATE … RETURNING` (SQLite ≥ 3.35, PostgreSQL; not MySQL or MariaDB): the unit of
    /// work reads a column written from an SQL expression back in the same statement; elsewhere
    /// it reads it with a `SELECT` by primary key right after the `UPDATE`.
    pub update_returning: bool,
    /// Writers block writers on the same rows (row-level locks); `false` for database-level locks.
    pub row_level_locking: bool,
    /// `INTERSECT` and `EXCEPT` between selects (SQLite, PostgreSQL, MariaDB 10.3+, MySQL
    /// 8.0.31+, read from the server's version at connect).
    pub intersect_except: bool,
    /// `INTERSECT ALL` and `EXCEPT ALL`, which keep duplicates (PostgreSQL, MariaDB 10.5+, MySQL
    /// 8.0.31+; not SQLite). Where `false` they are `Error::Unsupported`.
    pub intersect_except_all: bool,
    /// The version of the database the connection talks to, as the database spells it
    /// (`"16.4"` for PostgreSQL's `server_version`, `"10.11.6-MariaDB-0+deb12u1"` for MySQL's
    /// `@@version`, `"3.46.0"` for the SQLite library). `None` in a dialect's static sheet and in
    /// an engine's capabilities until its first connection reported it;
    /// [`Capabilities::server_version_number`] reads the leading `major.minor`.
    pub server_version: Option<String>,
}

impl Capabilities {
    /// The leading `(major, minor)` of [`Capabilities::server_version`] (`"10.11.6-MariaDB"` →
    /// `(10, 11)`, `"16.4 (Debian 16.4-1)"` → `(16, 4)`, `"17devel"` → `(17, 0)`); `None` when no
    /// version was reported or it does not start with a number.
    pub fn server_version_number(&self) -> Option<(u32, u32)> {
        let v = self.server_version.as_deref()?.trim_start();
        let digits = |s: &str| -> (Option<u32>, usize) {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            (s[..n].parse().ok(), n)
        };
        let (major, n) = digits(v);
        let major = major?;
        let minor = match v[n..].strip_prefix('.') {
            Some(rest) => digits(rest).0.unwrap_or(0),
            None => 0,
        };
        Some((major, minor))
    }
}

impl Capabilities {
    /// Refuse the parameters this database cannot store: NaN unless [`Capabilities::stores_nan`],
    /// ±infinity unless [`Capabilities::stores_infinity`], text containing NUL unless
    /// [`Capabilities::text_allows_nul`]. This is the one place these refusals are made: the
    /// engine's [`crate::Connection`] calls it before any statement is handed to the driver, so
    /// nothing is sent (or stored as something else, as SQLite stores NaN as NULL). `dialect` is
    /// the dialect's name, for the error. An instant outside 0001–9999 UTC is refused on every
    /// database ([`crate::temporal::check_timestamp`]), and so is a `u64` above `i64::MAX`. A
    /// statement with more parameters than [`Capabilities::max_bind_params`] is refused whole (a
    /// long `in_()` list: the database would refuse it, or drop the connection).
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the parameter (1-based) and the value, or the number of
    /// parameters and the limit;
    /// [`Error::InvalidRequest`] for an instant out of the portable range;
    /// [`Error::TypeMismatch`] for a `u64` above `i64::MAX`.
    pub fn check_params(&self, dialect: &'static str, params: &[ValueRef<'_>]) -> Result<()> {
        if params.len() > self.max_bind_params {
            return Err(Error::unsupported(
                format!(
                    "a statement with {} bound parameters (at most {} in one statement; split a long in_() list \
                     or use a subquery)",
                    params.len(),
                    self.max_bind_params
                ),
                dialect,
            ));
        }
        let any_instant = || {
            params.iter().any(|p| {
                matches!(p, ValueRef::Timestamp(_) | ValueRef::DateTime(_) | ValueRef::Date(_) | ValueRef::U64(_))
            })
        };
        if self.stores_nan && self.stores_infinity && self.text_allows_nul && !any_instant() {
            return Ok(());
        }
        for (i, p) in params.iter().enumerate() {
            let float = match *p {
                // One range on every database (MySQL's DATETIME ends at 9999).
                ValueRef::Timestamp(us) | ValueRef::DateTime(us) => {
                    crate::temporal::check_timestamp(us)?;
                    continue;
                }
                ValueRef::Date(days) => {
                    crate::temporal::check_date(days.into())?;
                    continue;
                }
                // Every database stores a u64 within i64.
                ValueRef::U64(u) => {
                    crate::value::check_u64(u)?;
                    continue;
                }
                ValueRef::F32(f) => f64::from(f),
                ValueRef::F64(f) => f,
                // PostgreSQL's NUMERIC spells its non-finite values out; elsewhere they are refused
                // like the floats' (a decimal NaN is a NaN).
                ValueRef::Decimal(d) => match d {
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    "-Infinity" => f64::NEG_INFINITY,
                    _ => continue,
                },
                ValueRef::Text(s) if !self.text_allows_nul && s.contains('\0') => {
                    return Err(Error::unsupported(
                        format!("text containing the NUL character (parameter {})", i + 1),
                        dialect,
                    ));
                }
                _ => continue,
            };
            if (float.is_nan() && !self.stores_nan) || (float.is_infinite() && !self.stores_infinity) {
                return Err(Error::unsupported(
                    format!("storing the float {float} as parameter {} (NaN and infinities)", i + 1),
                    dialect,
                ));
            }
        }
        Ok(())
    }
}

/// The literal and comment forms of a dialect's SQL beyond the ANSI ones (`'…'` with `''`,
/// `"…"` identifiers with `""`, `-- …`, `/* … */`), as [`crate::text`] reads raw SQL: a `:name`
/// inside any of them is not a bind. Whether a backslash escapes inside a string literal is
/// `Dialect::backslash_escapes`; everything else is here, one value per dialect
/// (`Dialect::lexical_forms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LexicalForms {
    /// `"…"` is a string literal, read like `'…'` (a backslash escapes in both where
    /// `Dialect::backslash_escapes`), not a quoted identifier (MySQL without `ANSI_QUOTES`).
    pub double_quoted_strings: bool,
    /// `E'…'` escape strings, in which a backslash escapes (PostgreSQL).
    pub escape_strings: bool,
    /// `$$…$$` and `$tag$…$tag$` dollar-quoted strings (PostgreSQL).
    pub dollar_quoted_strings: bool,
    /// `# …` comments to the end of the line (MySQL).
    pub hash_comments: bool,
    /// `--` opens a comment only when whitespace or a control character follows it (MySQL, where
    /// `1--1` is arithmetic); elsewhere `--` always opens one.
    pub dash_comment_needs_space: bool,
    /// `/* … */` comments nest (PostgreSQL).
    pub nested_block_comments: bool,
    /// `[…]` quoted identifiers (SQLite).
    pub bracket_identifiers: bool,
}

impl LexicalForms {
    /// The ANSI forms only.
    pub const ANSI: LexicalForms = LexicalForms {
        double_quoted_strings: false,
        escape_strings: false,
        dollar_quoted_strings: false,
        hash_comments: false,
        dash_comment_needs_space: false,
        nested_block_comments: false,
        bracket_identifiers: false,
    };
}
