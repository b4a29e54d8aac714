//! The SQLite dialect.
//!
//! What SQLite does differently from ANSI SQL, as Athanor sees it:
//!
//! - **Types**: columns have type *affinity*, not types. Every integer type is spelled `INTEGER`,
//!   so that a single-column integer primary key is an alias of the `rowid` and the database
//!   numbers new rows itself (no `AUTOINCREMENT` keyword: that one only forbids reusing the keys
//!   of deleted rows, at a cost). `f32` and `f64` are both `REAL` (8-byte floats); `VARCHAR(n)`
//!   is accepted but its length is not enforced.
//! - **Booleans** are integers: literals are `1` and `0`, and rows read back as integers (core
//!   accepts 0/1 for `bool` fields).
//! - **`OFFSET` needs a `LIMIT`**: an offset alone is written `LIMIT -1 OFFSET m`.
//! - **Transactions** are always serializable (one writer at a time, database-wide lock), so only
//!   [`IsolationLevel::Serializable`] is accepted and `BEGIN` carries no isolation clause; there are
//!   no read-only transactions. A writer that cannot get the lock within the busy timeout fails
//!   with `SQLITE_BUSY`, which maps to [`Error::Timeout`] (`LockWait`); the backend reports a
//!   `SQLITE_BUSY` that came back without waiting (SQLite refuses to wait where it could
//!   deadlock) as [`Error::SerializationFailure`]. A transaction with [`TxOptions::write_intent`]
//!   begins `BEGIN IMMEDIATE`, taking the write lock at once (waiting for it up to the busy
//!   timeout), so it never has to upgrade a read lock later.
//! - **Errors name columns, not constraints**: `UNIQUE constraint failed: customers.email`. The
//!   table and columns are read from the message and the constraint name is left for core to
//!   find from the table metadata (`TableDef::constraint_for_columns`).
//! - **NaN** is stored as NULL by SQLite, so [`Capabilities::stores_nan`] is `false` (the backend
//!   refuses NaN parameters); ±Infinity round-trips.

use athanor_core::reflect::{CatalogQuery, NativeType};
use athanor_core::{
    BatchUpdate, Capabilities, DbError, Dialect, Error, IntegrityKind, IsolationLevel, KeyRecovery, TxOptions,
};
use athanor_core::{ColumnDef, RebuildRecipe, SqlType};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The SQLite dialect (SQLite 3.35 or later, for `RETURNING`; the backend bundles a newer one).
#[derive(Debug, Default, Clone, Copy)]
pub struct SqliteDialect;

/// What SQLite can do.
pub static SQLITE_CAPABILITIES: Capabilities = Capabilities {
    key_recovery: KeyRecovery::LastInsertIdLast,
    multi_row_insert: true,
    batch_update: BatchUpdate::PerRow,
    // SQLITE_MAX_VARIABLE_NUMBER since 3.32.
    max_bind_params: 32766,
    savepoints: true,
    transactional_ddl: true,
    isolation_levels: &[IsolationLevel::Serializable],
    default_isolation: IsolationLevel::Serializable,
    read_only_transactions: false,
    check_constraints: true,
    // Enforced because the backend runs `PRAGMA foreign_keys = ON` on every connection; under
    // `?foreign_keys=off` it runs `OFF` and its driver reports `false`.
    foreign_keys: true,
    foreign_key_forward_reference: true,
    nulls_sort_low: true,
    lock_nowait: false,
    lock_skip_locked: false,
    distinct_on: false,
    insert_returning: true,
    // SQLite turns a bound NaN into NULL.
    stores_nan: false,
    stores_infinity: true,
    text_allows_nul: true,
    indexed_text_length: None,
    select_for_update: false,
    // The write lock `BEGIN IMMEDIATE` takes (write_intent) keeps every other writer out.
    for_update_under_write_intent: true,
    // SQLite 3.35+ (the bundled library is newer).
    update_returning: true,
    row_level_locking: false, // Reported by each connection at connect.
    // SQLite has INTERSECT and EXCEPT, not their ALL forms.
    intersect_except: true,
    intersect_except_all: false,
    server_version: None,
};

/// `SQLITE_CONSTRAINT` (the primary code of every constraint violation).
/// The collation a decimal column is declared with: numeric order of the digits
/// ([`athanor_core::decimal::compare_text`]). The SQLite backend registers it on every
/// connection; another client reading such a column in order must register it too (or it gets
/// "no such collation sequence").
pub const DECIMAL_COLLATION: &str = "athanor_decimal";
/// The exact sum of two decimals (text or integers), registered by the SQLite backend.
pub const DECIMAL_ADD: &str = "athanor_decimal_add";
/// The exact difference of two decimals.
pub const DECIMAL_SUB: &str = "athanor_decimal_sub";
/// The exact product of two decimals.
pub const DECIMAL_MUL: &str = "athanor_decimal_mul";
/// The exact `SUM` aggregate of decimals.
pub const DECIMAL_SUM: &str = "athanor_decimal_sum";
/// The `AVG(x, scale)` aggregate of decimals, rounded half away from zero to `scale` digits.
pub const DECIMAL_AVG: &str = "athanor_decimal_avg";

const CONSTRAINT: i32 = 19;
const CONSTRAINT_CHECK: i32 = 275;
const CONSTRAINT_FOREIGNKEY: i32 = 787;
const CONSTRAINT_NOTNULL: i32 = 1299;
const CONSTRAINT_PRIMARYKEY: i32 = 1555;
const CONSTRAINT_UNIQUE: i32 = 2067;
/// `SQLITE_BUSY`: another connection holds a conflicting lock.
const BUSY: i32 = 5;
/// `SQLITE_LOCKED`: a conflicting lock inside this connection or its shared cache.
const LOCKED: i32 = 6;
/// `SQLITE_BUSY_TIMEOUT`: a blocking lock wait timed out.
const BUSY_TIMEOUT: i32 = 773;
/// `SQLITE_READONLY` (and its extended codes): a write to a read-only database.
const READONLY: i32 = 8;
/// `SQLITE_INTERRUPT`: the statement was interrupted (the backend's statement deadline).
const INTERRUPT: i32 = 9;

impl Dialect for SqliteDialect {
    /// `safe` is 1 when no trigger (in `sqlite_master` or `sqlite_temp_master`) is declared on
    /// the table, the table's primary key is the one column named `?2` and it is declared
    /// `INTEGER` (the rowid alias); the largest key is `max(key)`. With a trigger on the table an
    /// INSERT could insert into it too and the rowids of one statement would not be
    /// consecutive; without the rowid alias `last_insert_rowid()` is not the key.
    fn key_recovery_probe(&self, table: &athanor_core::TableDef, key: usize) -> athanor_core::Result<Option<String>> {
        let column = table
            .columns
            .get(key)
            .ok_or_else(|| athanor_core::Error::invalid_request(format!("no column #{key} in {}", table.name)))?;
        let mut sql = String::from(
            "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE) \
             + (SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE) = 0 \
             AND (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1 \
             AND (SELECT count(*) FROM pragma_table_info(?1) WHERE pk = 1 AND name = ?2 COLLATE NOCASE \
             AND upper(type) = 'INTEGER') = 1, (SELECT max(",
        );
        self.write_identifier(&mut sql, column.name)?;
        sql.push_str(") FROM ");
        self.write_identifier(&mut sql, table.name)?;
        sql.push(')');
        Ok(Some(sql))
    }

    /// The `sqlite_schema` table and the `pragma_table_info`, `pragma_foreign_key_list`,
    /// `pragma_index_list` and `pragma_index_info` table-valued functions. SQLite keeps no
    /// foreign-key names; a single `INTEGER` primary key is the rowid, so it is generated.
    fn catalog_query(&self, query: CatalogQuery) -> athanor_core::Result<String> {
        Ok(match query {
            CatalogQuery::Tables => "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' \
                                     ESCAPE '\\' ORDER BY name"
                .into(),
            CatalogQuery::Columns => "SELECT c.name, c.type, CASE WHEN c.\"notnull\" = 0 THEN 1 ELSE 0 END, c.dflt_value, \
                                      CASE WHEN c.pk = 1 AND upper(c.type) = 'INTEGER' \
                                      AND (SELECT COUNT(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1 THEN 1 ELSE 0 END, \
                                      c.pk FROM pragma_table_info(?1) AS c ORDER BY c.cid"
                .into(),
            CatalogQuery::ForeignKeys => "SELECT CAST(f.id AS TEXT), f.\"from\", f.\"table\", f.\"to\" \
                                          FROM pragma_foreign_key_list(?1) AS f ORDER BY f.id, f.seq"
                .into(),
            CatalogQuery::Indexes => "SELECT l.name, l.\"unique\", CASE WHEN l.origin = 'u' THEN 1 ELSE 0 END, i.name \
                                      FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i \
                                      WHERE l.origin <> 'pk' ORDER BY l.name, i.seqno"
                .into(),
            // SQLite keeps CHECK constraints only in the table's statement.
            CatalogQuery::Checks => "SELECT sql, NULL FROM sqlite_schema WHERE type = 'table' AND name = ?1".into(),
        })
    }

    /// [`crate::type_names::sqlite`]: Athanor's own names (`UUID_BLOB`, `TIMESTAMP_TEXT` …), the
    /// names other tools write (`DATETIME`, `NUMERIC(10,2)`, `CHAR(32)` …), then SQLite's affinity
    /// rules, so every declared name maps.
    fn portable_type(&self, native: &str) -> Option<NativeType> {
        crate::type_names::sqlite(native).ok()
    }

    /// SQLite's `ALTER TABLE` adds and renames columns only: the rest is the documented
    /// rebuild (create the new table, copy, drop, rename, recreate indexes), with foreign-key
    /// checks off around it and `foreign_key_check` before commit.
    fn rebuild_recipe(&self) -> Option<RebuildRecipe> {
        Some(RebuildRecipe {
            checks_off: "PRAGMA foreign_keys = OFF",
            check: "PRAGMA foreign_key_check",
            checks_on: "PRAGMA foreign_keys = ON",
        })
    }

    /// Nothing: a rowid key continues after the largest one.
    fn write_restart_identity(&self, _: &mut String, _: &str, _: &str, _: i64) -> athanor_core::Result<bool> {
        Ok(false)
    }

    /// SQLite names the index of a `UNIQUE` constraint itself.
    fn reflected_index_name<'a>(&self, name: &'a str) -> Option<&'a str> {
        (!name.starts_with("sqlite_autoindex_")).then_some(name)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    /// `[…]` quoted identifiers besides `"…"` and `` `…` ``.
    fn lexical_forms(&self) -> athanor_core::LexicalForms {
        athanor_core::LexicalForms { bracket_identifiers: true, ..athanor_core::LexicalForms::ANSI }
    }

    fn capabilities(&self) -> &Capabilities {
        &SQLITE_CAPABILITIES
    }

    /// SQLite has no practical identifier limit; 1024 bytes keeps errors readable.
    fn max_identifier_length(&self) -> usize {
        1024
    }

    /// The stored text form (`YYYY-MM-DDTHH:MM:SS.fff000Z`): SQLite's clock has milliseconds.
    fn now_function(&self) -> &'static str {
        "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')"
    }

    /// Decimals are text here: an integer becomes its digits.
    fn cast(&self, to: athanor_core::CastType) -> (&'static str, &'static str) {
        use athanor_core::CastType;
        match to {
            CastType::BigInt => ("CAST(", " AS BIGINT)"),
            CastType::Double => ("CAST(", " AS DOUBLE PRECISION)"),
            CastType::Text | CastType::Decimal => ("CAST(", " AS TEXT)"),
        }
    }

    /// SQLite's `+`, `*` and `SUM` read decimal text as floats: the backend registers exact
    /// ones ([`DECIMAL_ADD`], …, [`DECIMAL_AVG`]).
    fn exact_decimal_function(&self, op: athanor_core::DecimalFunc) -> Option<&'static str> {
        use athanor_core::DecimalFunc;
        Some(match op {
            DecimalFunc::Add => DECIMAL_ADD,
            DecimalFunc::Sub => DECIMAL_SUB,
            DecimalFunc::Mul => DECIMAL_MUL,
            DecimalFunc::Sum => DECIMAL_SUM,
            DecimalFunc::Avg => DECIMAL_AVG,
        })
    }

    fn decimal_collation(&self) -> Option<&'static str> {
        Some(DECIMAL_COLLATION)
    }

    /// The stored text read by `strftime` (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS.ffffff`), as an
    /// integer.
    fn date_part(&self, part: athanor_core::DatePart) -> (&'static str, &'static str) {
        use athanor_core::DatePart;
        match part {
            DatePart::Year => ("CAST(strftime('%Y', ", ") AS INTEGER)"),
            DatePart::Month => ("CAST(strftime('%m', ", ") AS INTEGER)"),
            DatePart::Day => ("CAST(strftime('%d', ", ") AS INTEGER)"),
            DatePart::Hour => ("CAST(strftime('%H', ", ") AS INTEGER)"),
            DatePart::Minute => ("CAST(strftime('%M', ", ") AS INTEGER)"),
            DatePart::Second => ("CAST(strftime('%S', ", ") AS INTEGER)"),
        }
    }

    /// `INTEGER` for every integer type (so a single integer primary key is the rowid), `REAL`
    /// for both float types, `TEXT` or `VARCHAR(n)` (not enforced), `BLOB`, `BOOLEAN` (integer
    /// affinity).
    /// SQLite has no decimal, date or JSON types: decimals are their digits as text, compared
    /// through the [`DECIMAL_COLLATION`] collation, dates and times fixed-width text, JSON text.
    fn column_type(&self, col: &ColumnDef) -> athanor_core::Result<Cow<'static, str>> {
        Ok(match col.sql_type {
            SqlType::Bool => "BOOLEAN".into(),
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => "INTEGER".into(),
            // Names with INT: INTEGER affinity, and reflection tells them apart.
            SqlType::U8 => "TINYINT UNSIGNED".into(),
            SqlType::U16 => "SMALLINT UNSIGNED".into(),
            SqlType::U32 => "INT UNSIGNED".into(),
            SqlType::U64 => "UNSIGNED BIG INT".into(),
            SqlType::Real | SqlType::Double => "REAL".into(),
            SqlType::Text => match col.length {
                Some(n) => format!("VARCHAR({n})").into(),
                None => "TEXT".into(),
            },
            SqlType::Blob => "BLOB".into(),
            // BLOB affinity; the name says what the 16 bytes are.
            SqlType::Uuid => "UUID_BLOB".into(),
            // TEXT affinity (the names hold TEXT, not INT). `YYYY-MM-DDTHH:MM:SS.ffffffZ`: fixed
            // width, so text order is time order.
            SqlType::Timestamp => "TIMESTAMP_TEXT".into(),
            SqlType::Date => "DATE_TEXT".into(),
            SqlType::DateTime => "DATETIME_TEXT".into(),
            SqlType::Time => "TIME_TEXT".into(),
            // The digits as text (the name holds TEXT, so the affinity is TEXT and SQLite never
            // turns them into a float), ordered as numbers by the collation the backend registers.
            SqlType::Decimal => match col.precision {
                Some((p, s)) => format!("DECIMAL_TEXT({p},{s}) COLLATE {DECIMAL_COLLATION}").into(),
                None => format!("DECIMAL_TEXT COLLATE {DECIMAL_COLLATION}").into(),
            },
            SqlType::Json => "JSON_TEXT".into(),
        })
    }

    /// Nothing: an `INTEGER` primary key is the rowid, which SQLite numbers itself.
    fn autoincrement_clause(&self) -> &'static str {
        ""
    }

    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }

    /// `LIMIT n OFFSET m`; an offset alone is `LIMIT -1 OFFSET m` (SQLite's `OFFSET` needs a
    /// `LIMIT`, and a negative limit means none). Values above `i64::MAX` are clamped to it.
    fn write_limit_offset(
        &self,
        out: &mut String,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> athanor_core::Result<()> {
        let clamp = |v: u64| v.min(i64::MAX as u64);
        match (limit, offset) {
            (Some(l), Some(o)) => {
                let _ = write!(out, " LIMIT {} OFFSET {}", clamp(l), clamp(o));
            }
            (Some(l), None) => {
                let _ = write!(out, " LIMIT {}", clamp(l));
            }
            (None, Some(o)) => {
                let _ = write!(out, " LIMIT -1 OFFSET {}", clamp(o));
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Plain `BEGIN` (deferred: the first read takes a read snapshot, the first write the write
    /// lock), or `BEGIN IMMEDIATE` with [`TxOptions::write_intent`] (the write lock at once,
    /// waiting up to `busy_timeout` for another writer). Every SQLite transaction is
    /// serializable, so only [`IsolationLevel::Serializable`] is accepted; read-only
    /// transactions are [`Error::Unsupported`].
    fn begin_statements(&self, opts: &TxOptions) -> athanor_core::Result<Vec<String>> {
        if let Some(level) = opts.isolation {
            self.check_isolation(level)?;
        }
        if opts.read_only {
            return Err(Error::unsupported("read-only transactions", self.name()));
        }
        let begin = if opts.write_intent { "BEGIN IMMEDIATE" } else { "BEGIN" };
        Ok(vec![begin.to_string()])
    }

    fn table_exists_query(&self) -> &'static str {
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    }

    /// `code` is SQLite's *extended* result code in decimal (`"2067"`). Unique and primary-key,
    /// foreign-key, not-null and check violations are [`Error::Integrity`] (other constraint
    /// codes, such as a trigger's `RAISE(ABORT, …)`, are `IntegrityKind::Other`); a plain
    /// `SQLITE_BUSY` (the busy handler gave up) and `SQLITE_BUSY_TIMEOUT` are [`Error::Timeout`]
    /// (`LockWait`); the other `SQLITE_BUSY` and `SQLITE_LOCKED` codes (a stale WAL snapshot,
    /// recovery, a lock inside the connection) are [`Error::SerializationFailure`];
    /// `SQLITE_INTERRUPT` is [`Error::Timeout`] (`Statement`: the backend interrupts a statement
    /// only at its `statement_timeout`); `SQLITE_READONLY` and its extended codes are
    /// [`Error::ReadOnly`]; everything else is [`Error::Database`].
    fn map_error(&self, err: DbError) -> Error {
        let Ok(code) = err.code.parse::<i32>() else {
            return Error::Database { code: err.code, message: err.message, source: None };
        };
        let integrity =
            |kind: IntegrityKind, constraint: Option<String>, table: Option<String>, columns| Error::Integrity {
                kind,
                constraint: constraint.or_else(|| err.constraint.clone()),
                table: table.or_else(|| err.table.clone()),
                columns,
                message: err.message.clone(),
                source: None,
            };
        match code {
            CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY => {
                let detail = detail(&err.message, "UNIQUE constraint failed: ");
                // An index on expressions is named instead of its columns: `index 'ix_name'`.
                if let Some(index) = detail.and_then(|d| d.strip_prefix("index '")).and_then(|d| d.strip_suffix('\'')) {
                    return integrity(IntegrityKind::Unique, Some(index.to_string()), None, Vec::new());
                }
                let (table, columns) = detail.map(table_columns).unwrap_or_default();
                integrity(IntegrityKind::Unique, None, table, columns)
            }
            CONSTRAINT_FOREIGNKEY => integrity(IntegrityKind::ForeignKey, None, None, Vec::new()),
            CONSTRAINT_NOTNULL => {
                let (table, columns) =
                    detail(&err.message, "NOT NULL constraint failed: ").map(table_columns).unwrap_or_default();
                integrity(IntegrityKind::NotNull, None, table, columns)
            }
            CONSTRAINT_CHECK => {
                let name = detail(&err.message, "CHECK constraint failed: ").map(str::to_string);
                integrity(IntegrityKind::Check, name, None, Vec::new())
            }
            c if c & 0xff == CONSTRAINT => integrity(IntegrityKind::Other, None, None, Vec::new()),
            BUSY | BUSY_TIMEOUT => {
                Error::Timeout { kind: athanor_core::TimeoutKind::LockWait, message: err.message, source: None }
            }
            c if c & 0xff == INTERRUPT => {
                Error::Timeout { kind: athanor_core::TimeoutKind::Statement, message: err.message, source: None }
            }
            c if c & 0xff == READONLY => Error::ReadOnly { message: err.message, source: None },
            c if c & 0xff == BUSY || c & 0xff == LOCKED => {
                Error::SerializationFailure { message: err.message, deadlock: false, source: None }
            }
            _ => Error::Database { code: err.code, message: err.message, source: None },
        }
    }
}

/// The part of `message` after `prefix` (SQLite's constraint messages may be prefixed by the
/// driver's context, so the prefix is searched for, not only matched at the start).
fn detail<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.find(prefix).map(|i| message[i + prefix.len()..].trim())
}

/// `"t.a, t.b"` → (`Some("t")`, `["a", "b"]`).
fn table_columns(detail: &str) -> (Option<String>, Vec<String>) {
    let mut table = None;
    let mut columns = Vec::new();
    for item in detail.split(", ") {
        match item.split_once('.') {
            Some((t, c)) => {
                table.get_or_insert_with(|| t.to_string());
                columns.push(c.to_string());
            }
            None => columns.push(item.to_string()),
        }
    }
    (table, columns)
}
