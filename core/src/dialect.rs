//! The [`Dialect`] trait: every way one database's SQL differs from another's, as a small hook
//! with an ANSI default, plus a [`Capabilities`] sheet read by both the SQL renderer and the
//! conformance suite.
//!
//! Implementations live in the `athanor-dialects` crate, one unit struct per database, overriding
//! only what differs. Core calls the hooks; it never asks which database it is talking to.
//!
//! (Over 600 lines on purpose: the trait, its ANSI defaults and the `Capabilities` sheet are one
//! contract a dialect author reads top to bottom; the DDL helpers at the end render through it.)

use crate::error::{DbError, Error, Result};
use crate::schema::{ColumnDef, DefaultValue, TableDef};
use crate::value::{SqlType, ValueRef};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

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
    /// `BEGIN IMMEDIATE`, see [`Dialect::begin_statements`]). A transaction that reads and then
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
}

/// What a database can do. One literal per dialect (a field set twice does not compile): the
/// dialect's static sheet, [`Dialect::capabilities`].
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
    /// Writers block writers on the same rows (row-level locks); `false` for database-level locks.
    pub row_level_locking: bool,
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
/// [`Dialect::backslash_escapes`]; everything else is here, one value per dialect
/// ([`Dialect::lexical_forms`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LexicalForms {
    /// `"…"` is a string literal, read like `'…'` (a backslash escapes in both where
    /// [`Dialect::backslash_escapes`]), not a quoted identifier (MySQL without `ANSI_QUOTES`).
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

/// SQL generation for one database. Every method has the ANSI behaviour by default; a dialect
/// overrides only what differs, so the differences read as a list.
pub trait Dialect: Send + Sync + fmt::Debug + 'static {
    /// The dialect's name, as in error messages: `"sqlite"`, `"postgresql"`, `"mysql"`.
    fn name(&self) -> &'static str;

    /// The capability sheet.
    fn capabilities(&self) -> &Capabilities;

    /// The character that opens and closes a quoted identifier (`"` by default, `` ` `` on MySQL).
    fn quote_char(&self) -> char {
        '"'
    }

    /// The longest identifier the database accepts, in bytes.
    fn max_identifier_length(&self) -> usize {
        63
    }

    /// Write `ident` quoted, doubling the quote character inside it. Empty identifiers, identifiers
    /// containing NUL and over-long ones are refused with [`Error::InvalidRequest`].
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an empty identifier, one containing NUL, or one longer than
    /// the database allows.
    fn write_identifier(&self, out: &mut String, ident: &str) -> Result<()> {
        if ident.is_empty() || ident.contains('\0') {
            return Err(Error::invalid_request(format!("invalid identifier {ident:?}: empty or contains NUL")));
        }
        if ident.len() > self.max_identifier_length() {
            return Err(Error::invalid_request(format!(
                "identifier {ident:?} is longer than {} bytes, the limit of {}",
                self.max_identifier_length(),
                self.name()
            )));
        }
        let q = self.quote_char();
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        Ok(())
    }

    /// Write the placeholder for the `n`-th parameter (1-based): `?` by default, `$n` on PostgreSQL.
    fn write_placeholder(&self, out: &mut String, n: usize) {
        let _ = n;
        out.push('?');
    }

    /// The DDL type of a column (without NULL/NOT NULL); the ANSI spelling by default
    /// ([`ansi_column_type`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a column type or length the database cannot declare.
    fn column_type(&self, col: &ColumnDef) -> Result<Cow<'static, str>> {
        Ok(ansi_column_type(col))
    }

    /// What follows the type of an autoincrementing primary-key column (`GENERATED BY DEFAULT AS
    /// IDENTITY` by default, `AUTO_INCREMENT` on MySQL, nothing on SQLite where an `INTEGER`
    /// primary key is the rowid).
    fn autoincrement_clause(&self) -> &'static str {
        " GENERATED BY DEFAULT AS IDENTITY"
    }

    /// Write a literal for a DDL default ([`write_ansi_literal`] by default).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a default value the database cannot write as a literal.
    fn write_literal(&self, out: &mut String, value: &DefaultValue) -> Result<()> {
        write_ansi_literal(self, out, value)
    }

    /// Write the conflict clause of an upsert after `INSERT … VALUES …`: `target` the unique
    /// columns whose conflict is handled, `update` the columns to overwrite from the proposed row
    /// (empty: do nothing), `primary_key` the table's key columns (all quoted by the caller's
    /// dialect through `write_identifier`). ANSI-style default (PostgreSQL, SQLite 3.24+):
    /// ` ON CONFLICT (t) DO UPDATE SET c = excluded.c` / ` ON CONFLICT (t) DO NOTHING`.
    ///
    /// # Errors
    /// An identifier the dialect refuses; [`Error::Unsupported`] where there is no upsert.
    fn write_on_conflict(
        &self,
        out: &mut String,
        target: &[&str],
        update: &[&str],
        primary_key: &[&str],
    ) -> Result<()> {
        let _ = primary_key;
        out.push_str(" ON CONFLICT (");
        for (i, c) in target.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_identifier(out, c)?;
        }
        out.push(')');
        if update.is_empty() {
            out.push_str(" DO NOTHING");
            return Ok(());
        }
        out.push_str(" DO UPDATE SET ");
        for (i, c) in update.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_identifier(out, c)?;
            out.push_str(" = excluded.");
            self.write_identifier(out, c)?;
        }
        Ok(())
    }

    /// What wraps an AVG's argument so that it returns a double: `("AVG(", ")")` by default
    /// (SQLite's AVG is a float); PostgreSQL `CAST(AVG(…) AS DOUBLE PRECISION)`, MySQL
    /// `(AVG(…) + 0e0)` (both return an exact decimal for integers).
    fn avg_as_double(&self) -> (&'static str, &'static str) {
        ("AVG(", ")")
    }

    /// What surrounds an expression converted to a portable type: `CAST(x AS BIGINT)`,
    /// `CAST(x AS DOUBLE PRECISION)`, `CAST(x AS TEXT)` by default (SQLite takes these names by
    /// affinity); MySQL says `SIGNED` and `CHAR`, and adds `0e0` for a double.
    fn cast(&self, to: crate::sql::ast::CastType) -> (&'static str, &'static str) {
        use crate::sql::ast::CastType;
        match to {
            CastType::BigInt => ("CAST(", " AS BIGINT)"),
            CastType::Double => ("CAST(", " AS DOUBLE PRECISION)"),
            CastType::Text => ("CAST(", " AS TEXT)"),
        }
    }

    /// The current instant in UTC, in the form the dialect stores instants
    /// ([`crate::func::now`]): `CURRENT_TIMESTAMP` by default; PostgreSQL
    /// `statement_timestamp()`, MySQL `UTC_TIMESTAMP(6)`, SQLite the fixed-width text.
    fn now_function(&self) -> &'static str {
        "CURRENT_TIMESTAMP"
    }

    /// The text concatenation operator (` || ` by default); `None` where concatenation is the
    /// `CONCAT()` function (MySQL, whose `||` is OR).
    fn concat_operator(&self) -> Option<&'static str> {
        Some(" || ")
    }

    /// The function giving a text's length in characters: `LENGTH` by default, `CHAR_LENGTH`
    /// on MySQL (whose `LENGTH` counts bytes).
    fn char_length_function(&self) -> &'static str {
        "LENGTH"
    }

    /// The operator of an integer division that truncates toward zero: ` / ` (SQLite,
    /// PostgreSQL); MySQL's `/` returns a decimal, so it says ` DIV `.
    fn integer_division_operator(&self) -> &'static str {
        " / "
    }

    /// Write a sort key with an explicit NULL order: `col ASC NULLS LAST` (ANSI, SQLite 3.30+,
    /// PostgreSQL); MySQL, which lacks the syntax, sorts by `col IS NULL` first. `column` is the
    /// quoted, qualified column.
    fn write_nulls_order(&self, out: &mut String, column: &str, descending: bool, nulls: crate::sql::ast::NullsOrder) {
        out.push_str(column);
        out.push_str(if descending { " DESC" } else { " ASC" });
        out.push_str(match nulls {
            crate::sql::ast::NullsOrder::First => " NULLS FIRST",
            crate::sql::ast::NullsOrder::Last => " NULLS LAST",
        });
    }

    /// `true` where a backslash inside a string literal is an escape character (MySQL's default
    /// `sql_mode`), so literals must double it.
    fn backslash_escapes(&self) -> bool {
        false
    }

    /// The literal and comment forms raw SQL ([`crate::text`]) may use beyond ANSI's, so that a
    /// `:name` inside one is not read as a bind. [`LexicalForms::ANSI`] by default.
    fn lexical_forms(&self) -> LexicalForms {
        LexicalForms::ANSI
    }

    /// The tail of an INSERT of a row whose only column is generated: ` DEFAULT VALUES` by
    /// default, ` () VALUES ()` on MySQL.
    fn insert_default_values(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// The boolean literal: `TRUE`/`FALSE` by default, `1`/`0` on SQLite.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// Append the row-limiting clause. `LIMIT n OFFSET m` by default; dialects whose `OFFSET`
    /// needs a `LIMIT` write their "no limit" spelling.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a limit or offset the database cannot express.
    fn write_limit_offset(&self, out: &mut String, limit: Option<u64>, offset: Option<u64>) -> Result<()> {
        if let Some(l) = limit {
            let _ = write!(out, " LIMIT {l}");
        }
        if let Some(o) = offset {
            let _ = write!(out, " OFFSET {o}");
        }
        Ok(())
    }

    /// The statements that begin a transaction with these options. An isolation level or
    /// read-only mode the database lacks is [`Error::Unsupported`].
    ///
    /// [`TxOptions::write_intent`] changes nothing by default (databases with row locks need no
    /// different `BEGIN` to write); a dialect whose locks are database-wide overrides this to take
    /// the write lock at once (SQLite: `BEGIN IMMEDIATE`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] as above.
    fn begin_statements(&self, opts: &TxOptions) -> Result<Vec<String>> {
        let mut sql = String::from("BEGIN");
        if let Some(level) = opts.isolation {
            self.check_isolation(level)?;
            sql.push_str(" ISOLATION LEVEL ");
            sql.push_str(level.as_sql());
        }
        if opts.read_only {
            if !self.capabilities().read_only_transactions {
                return Err(Error::unsupported("read-only transactions", self.name()));
            }
            sql.push_str(" READ ONLY");
        }
        Ok(vec![sql])
    }

    /// Fail with [`Error::Unsupported`] when the database has no such isolation level.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an isolation level the database does not offer.
    fn check_isolation(&self, level: IsolationLevel) -> Result<()> {
        if self.capabilities().isolation_levels.contains(&level) {
            Ok(())
        } else {
            Err(Error::unsupported(format!("isolation level {level}"), self.name()))
        }
    }

    /// `COMMIT`.
    fn commit_statement(&self) -> &'static str {
        "COMMIT"
    }

    /// `ROLLBACK`.
    fn rollback_statement(&self) -> &'static str {
        "ROLLBACK"
    }

    /// `SAVEPOINT name`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a savepoint name the dialect refuses as an identifier.
    fn savepoint_statement(&self, name: &str) -> Result<String> {
        let mut s = String::from("SAVEPOINT ");
        self.write_identifier(&mut s, name)?;
        Ok(s)
    }

    /// `RELEASE SAVEPOINT name`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a savepoint name the dialect refuses as an identifier.
    fn release_savepoint_statement(&self, name: &str) -> Result<String> {
        let mut s = String::from("RELEASE SAVEPOINT ");
        self.write_identifier(&mut s, name)?;
        Ok(s)
    }

    /// `ROLLBACK TO SAVEPOINT name`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a savepoint name the dialect refuses as an identifier.
    fn rollback_to_savepoint_statement(&self, name: &str) -> Result<String> {
        let mut s = String::from("ROLLBACK TO SAVEPOINT ");
        self.write_identifier(&mut s, name)?;
        Ok(s)
    }

    /// A query with one parameter, the table name, that returns a row when the table exists in
    /// the connection's current schema/database.
    fn table_exists_query(&self) -> &'static str;

    /// Append ` FOR UPDATE`, or fail where the database has no row locks.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on a database without row locks (`Capabilities::select_for_update`
    /// false).
    fn write_for_update(&self, out: &mut String) -> Result<()> {
        if self.capabilities().select_for_update {
            out.push_str(" FOR UPDATE");
            Ok(())
        } else {
            Err(Error::unsupported("SELECT … FOR UPDATE", self.name()))
        }
    }

    /// Suffix of a `CREATE TABLE` statement (MySQL: ` ENGINE=InnoDB …`).
    fn create_table_suffix(&self) -> &'static str {
        ""
    }

    /// The name the database gives every primary-key constraint in its errors, whatever the
    /// constraint was called in `CREATE TABLE` (a dialect whose database does so returns that
    /// fixed word); `None` by default, where errors carry the declared name. The unit of work replaces this alias with
    /// the table's own name (`pk_<table>`, see
    /// [`TableDef::primary_key_name`](crate::TableDef::primary_key_name)) when it knows the
    /// table.
    fn primary_key_constraint_alias(&self) -> Option<&'static str> {
        None
    }

    /// Classify a database error into an [`Error`] kind: integrity (with the constraint's name where
    /// the message carries it), serialization failure or deadlock, lost connection, or other.
    fn map_error(&self, err: DbError) -> Error;

    /// The database to connect to for creating or dropping another one on the same server
    /// (`postgres` on PostgreSQL, none, `""`, on MySQL); `None` where a database is not made by a
    /// statement (an SQLite database is its file, made by opening it).
    fn maintenance_database(&self) -> Option<&'static str> {
        None
    }

    /// Write `CREATE DATABASE name` (MySQL adds the character set and binary collation Athanor's
    /// tables use).
    ///
    /// # Errors
    /// [`Error::Unsupported`] where [`Dialect::maintenance_database`] is `None`; a name the
    /// dialect cannot quote.
    fn write_create_database(&self, out: &mut String, name: &str) -> Result<()> {
        self.require_server_databases("CREATE DATABASE")?;
        out.push_str("CREATE DATABASE ");
        self.write_identifier(out, name)
    }

    /// Write `DROP DATABASE [IF EXISTS] name`.
    ///
    /// # Errors
    /// As [`Dialect::write_create_database`].
    fn write_drop_database(&self, out: &mut String, name: &str, if_exists: bool) -> Result<()> {
        self.require_server_databases("DROP DATABASE")?;
        out.push_str(if if_exists { "DROP DATABASE IF EXISTS " } else { "DROP DATABASE " });
        self.write_identifier(out, name)
    }

    /// Write a query with one parameter, the database's name, that returns a row when the
    /// database exists (`information_schema.schemata` by default).
    ///
    /// # Errors
    /// As [`Dialect::write_create_database`].
    fn write_database_exists(&self, out: &mut String) -> Result<()> {
        self.require_server_databases("a database catalog")?;
        out.push_str("SELECT 1 FROM information_schema.schemata WHERE schema_name = ");
        self.write_placeholder(out, 1);
        Ok(())
    }

    /// The catalog query `query` (see [`crate::reflect::CatalogQuery`] for the columns each
    /// returns), with the table's name as its one placeholder.
    ///
    /// # Errors
    /// [`Error::Unsupported`] by default: a dialect that cannot be reflected.
    fn catalog_query(&self, query: crate::catalog::CatalogQuery) -> Result<String> {
        Err(Error::unsupported(format!("reflection ({query:?})"), self.name()))
    }

    /// A type name of this database (as its catalog or [`Dialect::column_type`] spells it) read
    /// as the portable type its storage represents; `None` for a type Athanor does not map.
    fn portable_type(&self, native: &str) -> Option<crate::catalog::NativeType> {
        let _ = native;
        None
    }

    /// A column default as the catalog renders it, normalized so that it compares with the
    /// literal [`Dialect::write_literal`] writes (PostgreSQL adds `::type` casts, MariaDB says
    /// `NULL`); `None` for no default.
    fn reflected_default(&self, raw: &str) -> Option<String> {
        Some(raw.trim().to_string())
    }

    /// The name of a reflected index or unique constraint, `None` for one the database named
    /// itself (SQLite's `sqlite_autoindex_…`).
    fn reflected_index_name<'a>(&self, name: &'a str) -> Option<&'a str> {
        Some(name)
    }

    /// Write the statement that makes the next generated key of `table.column` be `next` (after
    /// rows with explicit keys were copied in): `ALTER TABLE t ALTER COLUMN c RESTART WITH n`
    /// by default (PostgreSQL's identity columns). `false` when nothing is needed (SQLite
    /// continues after the largest rowid).
    ///
    /// # Errors
    /// A name the dialect cannot quote.
    fn write_restart_identity(&self, out: &mut String, table: &str, column: &str, next: i64) -> Result<bool> {
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        out.push_str(" ALTER COLUMN ");
        self.write_identifier(out, column)?;
        let _ = write!(out, " RESTART WITH {next}");
        Ok(true)
    }

    /// How this database makes the schema changes `ALTER TABLE` cannot (SQLite: drop a keyed
    /// column, add a constraint, change a column): `Some` for the table-rebuild recipe, with the
    /// statements that turn foreign-key checks off and on around it and list the violations
    /// afterwards. `None` where `ALTER TABLE` does everything.
    fn rebuild_recipe(&self) -> Option<RebuildRecipe> {
        None
    }

    /// Write `DROP INDEX name` (MySQL: `DROP INDEX name ON table`).
    ///
    /// # Errors
    /// A name the dialect refuses.
    fn write_drop_index(&self, out: &mut String, table: &str, name: &str) -> Result<()> {
        let _ = table;
        out.push_str("DROP INDEX ");
        self.write_identifier(out, name)
    }

    /// Write `ALTER TABLE t DROP CONSTRAINT name` for a foreign key (`unique` false) or a unique
    /// constraint (MySQL: `DROP FOREIGN KEY` / `DROP INDEX`).
    ///
    /// # Errors
    /// A name the dialect refuses.
    fn write_drop_constraint(&self, out: &mut String, table: &str, name: &str, unique: bool) -> Result<()> {
        let _ = unique;
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        out.push_str(" DROP CONSTRAINT ");
        self.write_identifier(out, name)
    }

    /// Write the statement changing column `from` into `to` (same name): type, nullability and
    /// default. PostgreSQL's form by default (`ALTER COLUMN c TYPE …, ALTER COLUMN c SET NOT
    /// NULL, …`); MySQL's is `MODIFY COLUMN` with the whole definition.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where [`Dialect::rebuild_recipe`] is the way; a type or default the
    /// dialect cannot write.
    fn write_alter_column(&self, out: &mut String, table: &str, from: &ColumnDef, to: &ColumnDef) -> Result<()> {
        let _ = from;
        if self.rebuild_recipe().is_some() {
            return Err(Error::unsupported("ALTER COLUMN (the table is rebuilt instead)", self.name()));
        }
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        let column = |out: &mut String| -> Result<()> {
            out.push_str(" ALTER COLUMN ");
            self.write_identifier(out, to.name)
        };
        column(out)?;
        out.push_str(" TYPE ");
        out.push_str(&self.column_type(to)?);
        out.push(',');
        column(out)?;
        out.push_str(if to.nullable { " DROP NOT NULL," } else { " SET NOT NULL," });
        column(out)?;
        match &to.default {
            Some(d) => {
                out.push_str(" SET DEFAULT ");
                self.write_literal(out, d)?;
            }
            None => out.push_str(" DROP DEFAULT"),
        }
        Ok(())
    }

    /// Write the statement that gives column `to` of `table` its allowed values after an
    /// `ALTER COLUMN` ([`Dialect::write_alter_column`]) ran: drop the CHECK constraints named
    /// `existing` (the column's `CHECK (col IN (…))`s, as the catalog names them) and add
    /// `to`'s, if it has values. Leaves `out` empty when nothing is to be done. The default is
    /// PostgreSQL's (`ALTER TABLE t DROP CONSTRAINT a, ADD CHECK (col IN (…))`); MySQL's
    /// `MODIFY COLUMN` already re-declared the column with its CHECK; SQLite rebuilds the table.
    ///
    /// # Errors
    /// A name the dialect refuses; a value it has no literal for.
    fn write_alter_allowed(&self, out: &mut String, table: &str, to: &ColumnDef, existing: &[String]) -> Result<()> {
        if existing.is_empty() && to.allowed.is_empty() {
            return Ok(());
        }
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        for (k, name) in existing.iter().enumerate() {
            out.push_str(if k == 0 { " DROP CONSTRAINT " } else { ", DROP CONSTRAINT " });
            self.write_identifier(out, name)?;
        }
        if !to.allowed.is_empty() {
            out.push_str(if existing.is_empty() { " ADD " } else { ", ADD " });
            write_allowed_check(self, out, to)?;
        }
        Ok(())
    }

    /// [`Error::Unsupported`] unless databases are made by statements on this server.
    ///
    /// # Errors
    /// That error, naming `what`.
    fn require_server_databases(&self, what: &str) -> Result<()> {
        match self.maintenance_database() {
            Some(_) => Ok(()),
            None => Err(Error::unsupported(format!("{what} (a database here is made by opening it)"), self.name())),
        }
    }
}

/// The statements around SQLite's table-rebuild recipe ([`Dialect::rebuild_recipe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildRecipe {
    /// Before the transaction: foreign-key checks off (SQLite ignores this inside one).
    pub checks_off: &'static str,
    /// Before commit: a query returning a row per foreign-key violation.
    pub check: &'static str,
    /// After the transaction: checks on again.
    pub checks_on: &'static str,
}

/// The ANSI DDL type names: `BOOLEAN`, `SMALLINT`, `INTEGER`, `BIGINT`, `REAL`,
/// `DOUBLE PRECISION`, `VARCHAR(n)` or `TEXT`, `BLOB`, `NUMERIC(p,s)`, `JSON`, and the date and
/// time types.
pub fn ansi_column_type(col: &ColumnDef) -> Cow<'static, str> {
    match col.sql_type {
        SqlType::Bool => "BOOLEAN".into(),
        SqlType::SmallInt => "SMALLINT".into(),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInt => "BIGINT".into(),
        SqlType::Real => "REAL".into(),
        SqlType::Double => "DOUBLE PRECISION".into(),
        SqlType::Text => match col.length {
            Some(n) => format!("VARCHAR({n})").into(),
            None => "TEXT".into(),
        },
        SqlType::Blob => "BLOB".into(),
        SqlType::U8 => "SMALLINT".into(),
        SqlType::U16 => "INTEGER".into(),
        SqlType::U32 => "BIGINT".into(),
        SqlType::Uuid => "UUID".into(),
        SqlType::Timestamp => "TIMESTAMP WITH TIME ZONE".into(),
        SqlType::Date => "DATE".into(),
        SqlType::DateTime => "TIMESTAMP".into(),
        SqlType::Time => "TIME".into(),
        SqlType::U64 => "BIGINT".into(),
        SqlType::Decimal => match col.precision {
            Some((p, s)) => format!("NUMERIC({p},{s})").into(),
            None => "NUMERIC".into(),
        },
        SqlType::Json => "JSON".into(),
    }
}

/// Write a DDL default literal the ANSI way: numbers as written, booleans by
/// [`Dialect::bool_literal`], strings in `'…'` with `'` doubled (and `\` doubled where
/// [`Dialect::backslash_escapes`]); non-finite floats and NUL are refused.
///
/// # Errors
/// [`Error::Unsupported`] for a value the dialect has no literal for (a non-finite float).
pub fn write_ansi_literal<D: Dialect + ?Sized>(dialect: &D, out: &mut String, value: &DefaultValue) -> Result<()> {
    match value {
        DefaultValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DefaultValue::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f:?}");
        }
        DefaultValue::Float(f) => {
            return Err(Error::unsupported(format!("non-finite default {f}"), dialect.name()));
        }
        DefaultValue::Bool(b) => out.push_str(dialect.bool_literal(*b)),
        DefaultValue::Text(s) => {
            if s.contains('\0') {
                return Err(Error::invalid_request("a text default may not contain NUL"));
            }
            out.push('\'');
            for c in s.chars() {
                if c == '\'' {
                    out.push('\'');
                }
                if c == '\\' && dialect.backslash_escapes() {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('\'');
        }
    }
    Ok(())
}

/// Quote an identifier into a new string (a convenience over [`Dialect::write_identifier`]).
///
/// # Errors
/// Those of [`Dialect::write_identifier`].
pub fn quoted(dialect: &dyn Dialect, ident: &str) -> Result<String> {
    let mut s = String::with_capacity(ident.len() + 2);
    dialect.write_identifier(&mut s, ident)?;
    Ok(s)
}

/// Render `CREATE TABLE` and its `CREATE INDEX` statements for a table.
///
/// Constraints are named (`pk_t`, `uq_t_c`, `fk_t_c_r`, `ix_t_c`) so that integrity errors can
/// name them on every database.
///
/// # Errors
/// [`Error::InvalidRequest`] for a table, column or constraint name the dialect refuses;
/// [`Error::Unsupported`] for a type or default the database cannot declare.
pub fn create_table_statements(dialect: &dyn Dialect, table: &TableDef) -> Result<Vec<String>> {
    create_table_statements_deferring(dialect, table, &[])
}

/// The column as `CREATE TABLE` declares it: a keyed (unique, indexed, key) text column without
/// a length gets the database's [`Capabilities::indexed_text_length`] (MySQL cannot index
/// `LONGTEXT`).
pub fn ddl_column(caps: &Capabilities, col: &ColumnDef) -> ColumnDef {
    let mut c = *col;
    let keyed = c.unique || c.index || c.primary_key || c.foreign_key.is_some();
    if c.sql_type == SqlType::Text && c.length.is_none() && keyed {
        c.length = caps.indexed_text_length;
    }
    c
}

/// `ALTER TABLE t ADD CONSTRAINT name FOREIGN KEY (col) REFERENCES r (c)`: a foreign key left
/// out of `CREATE TABLE` because its table did not exist yet (a cycle).
///
/// # Errors
/// [`Error::InvalidRequest`] for a name the dialect refuses or a constraint the table does not
/// have.
pub fn add_foreign_key_statement(dialect: &dyn Dialect, table: &TableDef, constraint: &str) -> Result<String> {
    let Some((name, col, fk)) = table.foreign_keys().into_iter().find(|(n, _, _)| n == constraint) else {
        return Err(Error::invalid_request(format!("table {} has no foreign key {constraint}", table.name)));
    };
    let mut sql = String::from("ALTER TABLE ");
    dialect.write_identifier(&mut sql, table.name)?;
    sql.push_str(" ADD ");
    write_foreign_key(dialect, &mut sql, &name, col.name, fk)?;
    Ok(sql)
}

/// `CONSTRAINT name FOREIGN KEY (col) REFERENCES table (column)`.
/// Write `CONSTRAINT name FOREIGN KEY (column) REFERENCES table (column)`.
///
/// # Errors
/// A name the dialect refuses.
pub fn write_foreign_key(
    dialect: &dyn Dialect,
    sql: &mut String,
    name: &str,
    column: &str,
    fk: crate::schema::ForeignKeyDef,
) -> Result<()> {
    sql.push_str("CONSTRAINT ");
    dialect.write_identifier(sql, name)?;
    sql.push_str(" FOREIGN KEY (");
    dialect.write_identifier(sql, column)?;
    sql.push_str(") REFERENCES ");
    dialect.write_identifier(sql, fk.table)?;
    sql.push_str(" (");
    dialect.write_identifier(sql, fk.column)?;
    sql.push(')');
    Ok(())
}

/// Write one column as `CREATE TABLE` and `ALTER TABLE … ADD COLUMN` declare it: name, type,
/// `NOT NULL`, the autoincrement clause, `DEFAULT`, and the `CHECK` of a closed set of values.
/// `col` is as [`ddl_column`] makes it.
///
/// # Errors
/// A name the dialect refuses; a type or default it cannot write.
pub fn write_column_definition(dialect: &dyn Dialect, sql: &mut String, col: &ColumnDef) -> Result<()> {
    dialect.write_identifier(sql, col.name)?;
    sql.push(' ');
    sql.push_str(&dialect.column_type(col)?);
    if !col.nullable {
        sql.push_str(" NOT NULL");
    }
    if col.autoincrement {
        sql.push_str(dialect.autoincrement_clause());
    }
    if let Some(d) = &col.default {
        sql.push_str(" DEFAULT ");
        dialect.write_literal(sql, d)?;
    }
    if !col.allowed.is_empty() {
        sql.push(' ');
        write_allowed_check(dialect, sql, col)?;
    }
    Ok(())
}

/// Write `CHECK (col IN (…))`, the constraint of a column's [`ColumnDef::allowed`] values.
///
/// # Errors
/// A name the dialect refuses; a value it has no literal for.
pub fn write_allowed_check<D: Dialect + ?Sized>(dialect: &D, sql: &mut String, col: &ColumnDef) -> Result<()> {
    sql.push_str("CHECK (");
    dialect.write_identifier(sql, col.name)?;
    sql.push_str(" IN (");
    for (k, v) in col.allowed.iter().enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        // The plain literal: a dialect's DEFAULT spelling may differ (MySQL wraps text).
        write_ansi_literal(dialect, sql, v)?;
    }
    sql.push_str("))");
    Ok(())
}

/// [`create_table_statements`] without the foreign keys named in `deferred` (added later by
/// [`add_foreign_key_statement`]).
///
/// # Errors
/// As [`create_table_statements`].
pub fn create_table_statements_deferring(
    dialect: &dyn Dialect,
    table: &TableDef,
    deferred: &[String],
) -> Result<Vec<String>> {
    let caps = dialect.capabilities();
    let mut sql = String::from("CREATE TABLE ");
    dialect.write_identifier(&mut sql, table.name)?;
    sql.push_str(" (");
    for (i, col) in table.columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        write_column_definition(dialect, &mut sql, &ddl_column(caps, col))?;
    }
    let pk: Vec<&str> = table.primary_key().map(|i| table.columns[i].name).collect();
    if pk.is_empty() {
        return Err(Error::invalid_request(format!("table {} has no primary key", table.name)));
    }
    sql.push_str(", CONSTRAINT ");
    dialect.write_identifier(&mut sql, &table.primary_key_name())?;
    sql.push_str(" PRIMARY KEY (");
    write_ident_list(dialect, &mut sql, pk.iter().copied())?;
    sql.push(')');
    for uq in table.unique_constraints() {
        sql.push_str(", CONSTRAINT ");
        dialect.write_identifier(&mut sql, &uq.name)?;
        sql.push_str(" UNIQUE (");
        write_ident_list(dialect, &mut sql, uq.columns.iter().copied())?;
        sql.push(')');
    }
    for (name, col, fk) in table.foreign_keys().into_iter().filter(|(n, _, _)| !deferred.contains(n)) {
        sql.push_str(", ");
        write_foreign_key(dialect, &mut sql, &name, col.name, fk)?;
    }
    sql.push(')');
    sql.push_str(dialect.create_table_suffix());
    let mut out = vec![sql];
    for ix in table.indexes() {
        let mut s = String::from("CREATE INDEX ");
        dialect.write_identifier(&mut s, &ix.name)?;
        s.push_str(" ON ");
        dialect.write_identifier(&mut s, table.name)?;
        s.push_str(" (");
        write_ident_list(dialect, &mut s, ix.columns.iter().copied())?;
        s.push(')');
        out.push(s);
    }
    Ok(out)
}

/// Render `DROP TABLE`.
///
/// # Errors
/// [`Error::InvalidRequest`] for a table name the dialect refuses.
pub fn drop_table_statement(dialect: &dyn Dialect, table: &TableDef) -> Result<String> {
    let mut s = String::from("DROP TABLE ");
    dialect.write_identifier(&mut s, table.name)?;
    Ok(s)
}

/// Write `"a", "b", "c"`.
///
/// # Errors
/// Those of [`Dialect::write_identifier`], for the first name it refuses.
pub fn write_ident_list<'a>(
    dialect: &dyn Dialect,
    out: &mut String,
    idents: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    for (i, ident) in idents.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        dialect.write_identifier(out, ident)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_version(v: Option<&str>) -> Capabilities {
        Capabilities {
            key_recovery: KeyRecovery::Returning,
            multi_row_insert: true,
            max_bind_params: 1,
            savepoints: true,
            transactional_ddl: true,
            isolation_levels: &[],
            default_isolation: IsolationLevel::Serializable,
            read_only_transactions: false,
            check_constraints: true,
            foreign_keys: true,
            foreign_key_forward_reference: false,
            nulls_sort_low: true,
            lock_nowait: false,
            lock_skip_locked: false,
            distinct_on: false,
            insert_returning: false,
            stores_nan: true,
            stores_infinity: true,
            text_allows_nul: true,
            indexed_text_length: None,
            select_for_update: false,
            row_level_locking: false,
            server_version: v.map(str::to_string),
        }
    }

    #[test]
    fn check_params_refuses_what_the_sheet_says_including_decimal_nan() {
        let caps =
            Capabilities { stores_nan: false, stores_infinity: false, text_allows_nul: false, ..with_version(None) };
        let refused = |p: ValueRef<'_>| matches!(caps.check_params("x", &[p]), Err(Error::Unsupported { .. }));
        assert!(refused(ValueRef::F64(f64::NAN)));
        assert!(refused(ValueRef::F32(f32::INFINITY)));
        assert!(refused(ValueRef::Decimal("NaN")));
        assert!(refused(ValueRef::Decimal("-Infinity")));
        assert!(refused(ValueRef::Text("a\0b")));
        assert!(!refused(ValueRef::Decimal("12.50")));
        assert!(!refused(ValueRef::F64(1.5)));
        assert!(!refused(ValueRef::Text("ab")));
        assert!(with_version(None).check_params("x", &[ValueRef::F64(f64::NAN)]).is_ok());
        let all = with_version(None);
        assert!(all.check_params("x", &[ValueRef::U64(i64::MAX as u64)]).is_ok());
        assert!(matches!(all.check_params("x", &[ValueRef::U64(u64::MAX)]), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn check_params_refuses_more_parameters_than_the_limit() {
        let caps = Capabilities { max_bind_params: 3, ..with_version(None) };
        let p = [ValueRef::I64(1), ValueRef::I64(2), ValueRef::I64(3), ValueRef::I64(4)];
        assert!(caps.check_params("x", &p[..3]).is_ok());
        match caps.check_params("x", &p) {
            Err(Error::Unsupported { feature, dialect: "x" }) => {
                assert!(feature.contains("4 bound parameters") && feature.contains("at most 3"), "{feature}")
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn server_version_number_reads_the_leading_major_minor() {
        let n = |v| with_version(v).server_version_number();
        assert_eq!(n(Some("10.11.6-MariaDB-0+deb12u1")), Some((10, 11)));
        assert_eq!(n(Some("16.4 (Debian 16.4-1.pgdg120+1)")), Some((16, 4)));
        assert_eq!(n(Some("3.46.0")), Some((3, 46)));
        assert_eq!(n(Some("17devel")), Some((17, 0)));
        assert_eq!(n(Some("8")), Some((8, 0)));
        assert_eq!(n(Some("unknown")), None);
        assert_eq!(n(Some("")), None);
        assert_eq!(n(None), None);
    }
}
