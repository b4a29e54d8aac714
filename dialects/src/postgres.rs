//! The PostgreSQL dialect.
//!
//! What PostgreSQL does differently from the ANSI defaults of [`Dialect`]:
//!
//! - Placeholders are numbered: `$1, $2, …` (the same number may not be reused for two values; the
//!   renderer numbers them in order).
//! - Binary data is `BYTEA` (not `BLOB`).
//! - Generated keys come back through `INSERT … RETURNING`, one row per inserted row, in order.
//! - DDL is transactional: a `CREATE TABLE` inside a rolled-back transaction is gone.
//! - All four isolation levels are accepted, but `READ UNCOMMITTED` behaves exactly as
//!   `READ COMMITTED` (PostgreSQL never shows uncommitted rows). `READ ONLY` transactions exist.
//! - Text may not contain the NUL character (the backend refuses it before sending); `REAL` and
//!   `DOUBLE PRECISION` store NaN and ±Infinity.
//! - Identifiers are at most 63 bytes (`NAMEDATALEN - 1`); the server would silently truncate longer
//!   ones, so they are refused before sending.
//! - Errors carry a SQLSTATE and, separately, the name of the violated constraint, its table and
//!   (for NOT NULL) its column; [`PostgresDialect::map_error`] classifies them by SQLSTATE.
//! - String literals follow the standard (`standard_conforming_strings = on`, the default since
//!   9.1): a backslash is an ordinary character.

use athanor_core::reflect::{CatalogQuery, NativeType};
use athanor_core::{ansi_column_type, Result, SqlType, TimeoutKind};
use athanor_core::{
    BatchUpdate, Capabilities, ColumnDef, DbError, Dialect, Error, IntegrityKind, IsolationLevel, KeyRecovery,
};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The PostgreSQL dialect (PostgreSQL 10 and later).
#[derive(Debug, Default, Clone, Copy)]
pub struct PostgresDialect;

/// What PostgreSQL can do.
pub static POSTGRES_CAPABILITIES: Capabilities = Capabilities {
    key_recovery: KeyRecovery::Returning,
    multi_row_insert: true,
    batch_update: BatchUpdate::ReturningKeys,
    // The wire protocol counts parameters in an unsigned 16-bit field.
    max_bind_params: 65535,
    savepoints: true,
    transactional_ddl: true,
    // READ UNCOMMITTED is accepted and behaves as READ COMMITTED.
    isolation_levels: &[
        IsolationLevel::ReadUncommitted,
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ],
    default_isolation: IsolationLevel::ReadCommitted,
    read_only_transactions: true,
    check_constraints: true,
    foreign_keys: true,
    foreign_key_forward_reference: false,
    nulls_sort_low: false,
    lock_nowait: true,
    lock_skip_locked: true,
    distinct_on: true,
    insert_returning: true,
    stores_nan: true,
    stores_infinity: true,
    text_allows_nul: false,
    // TEXT can be unique or indexed without a length.
    indexed_text_length: None,
    select_for_update: true,
    // Row locks: FOR UPDATE itself.
    for_update_under_write_intent: false,
    update_returning: true,
    row_level_locking: true, // Reported by each connection at connect.
    intersect_except: true,
    intersect_except_all: true,
    server_version: None,
};

impl Dialect for PostgresDialect {
    /// `pg_current_wal_lsn()`: the WAL written so far, which includes the COMMIT just made.
    fn consistency_position_sql(&self) -> Result<&'static str> {
        Ok("SELECT pg_current_wal_lsn()::text")
    }

    /// `pg_last_wal_replay_lsn() >= position`: answers at once (no wait; the bound is only
    /// checked to be a number). NULL (not a standby) counts as not caught up.
    fn replica_caught_up_sql(&self) -> Result<&'static str> {
        Ok("SELECT CASE WHEN pg_last_wal_replay_lsn() >= $1::text::pg_lsn AND $2::float8 >= 0 THEN 1 ELSE 0 END")
    }

    /// `UPDATE t SET … FROM (VALUES (CAST($1 AS type), …), …) AS athanor_v(…) WHERE t.key =
    /// athanor_v.… RETURNING t.key` ([`athanor_core::sql::update_batch_values`]).
    fn write_update_batch(
        &self,
        table: &athanor_core::TableDef,
        shape: &athanor_core::sql::BatchShape<'_>,
        rows: usize,
    ) -> Result<athanor_core::sql::BatchStatement> {
        athanor_core::sql::update_batch_values(self, table, shape, rows)
    }

    /// `pg_try_advisory_lock` on the name's `hashtext` (a session-level lock: released by
    /// `pg_advisory_unlock` or when the connection closes).
    fn advisory_lock(&self) -> Option<athanor_core::AdvisoryLock> {
        Some(athanor_core::AdvisoryLock {
            try_acquire: "SELECT CASE WHEN pg_try_advisory_lock(hashtext($1)) THEN 1 ELSE 0 END",
            release: "SELECT pg_advisory_unlock(hashtext($1))",
        })
    }

    /// AVG of integers is NUMERIC here: cast, so that it decodes as `f64` like elsewhere.
    /// `postgres`, the database every PostgreSQL server has for this.
    /// `pg_catalog`, in the connection's `current_schema()` (a stable function, so the planner
    /// looks the namespace up by its index once), the table by `relname = $1::name` (the index on
    /// `(relname, relnamespace)`: comparing `relname::text` would read every table of every
    /// schema); types by `format_type`, but an enum
    /// type as `enum('label', …)` (its labels in order: the column's allowed values).
    fn catalog_query(&self, query: CatalogQuery) -> Result<String> {
        const TABLE: &str = "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() \
                             AND c.relname = $1::text::name";
        Ok(match query {
            CatalogQuery::Tables => "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
                .into(),
            CatalogQuery::Columns => format!(
                "SELECT a.attname::text, CASE WHEN t.typtype = 'e' THEN 'enum(' || (SELECT string_agg(quote_literal(e.enumlabel), \
                 ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) || ')' \
                 ELSE format_type(a.atttypid, a.atttypmod) END, CASE WHEN a.attnotnull THEN 0 ELSE 1 END, \
                 pg_get_expr(d.adbin, d.adrelid), \
                 CASE WHEN a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%' \
                 THEN 1 ELSE 0 END, \
                 COALESCE((SELECT k.pos FROM unnest(p.indkey::int2[]) WITH ORDINALITY AS k(col, pos) \
                 WHERE k.col = a.attnum), 0) \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 LEFT JOIN pg_index p ON p.indrelid = c.oid AND p.indisprimary {TABLE} \
                 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            ),
            CatalogQuery::ForeignKeys => format!(
                "SELECT con.conname::text, a.attname::text, r.relname::text, ra.attname::text \
                 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid \
                 CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, rcol, pos) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col \
                 JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.rcol \
                 {TABLE} AND con.contype = 'f' ORDER BY con.conname, k.pos"
            ),
            CatalogQuery::Indexes => format!(
                "SELECT ic.relname::text, CASE WHEN i.indisunique THEN 1 ELSE 0 END, \
                 CASE WHEN con.oid IS NULL THEN 0 ELSE 1 END, a.attname::text \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid \
                 LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype = 'u' \
                 CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(col, pos) \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.col \
                 {TABLE} AND NOT i.indisprimary ORDER BY ic.relname, k.pos"
            ),
            CatalogQuery::Checks => format!(
                "SELECT pg_get_constraintdef(con.oid), con.conname::text FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                 {TABLE} AND con.contype = 'c' ORDER BY con.conname"
            ),
        })
    }

    /// [`crate::type_names::postgres`]: `format_type`'s names, their DDL spellings, and enum
    /// types as the catalog query reports them (`enum('a', …)`).
    fn portable_type(&self, native: &str) -> Option<NativeType> {
        crate::type_names::postgres(native).ok()
    }

    fn unmapped_reason(&self, native: &str) -> Cow<'static, str> {
        crate::type_names::postgres(native).err().unwrap_or("it maps").into()
    }

    /// Without the `::type` cast PostgreSQL adds (`'abc'::character varying`, `'-3'::integer`,
    /// which is the number `-3`).
    fn reflected_default(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let Some((value, cast)) = raw.rsplit_once("::") else { return Some(raw.to_string()) };
        let numeric = self.portable_type(cast).is_some_and(|t| {
            matches!(
                t.sql_type,
                SqlType::SmallInt
                    | SqlType::Integer
                    | SqlType::BigInt
                    | SqlType::Real
                    | SqlType::Double
                    | SqlType::Decimal
            )
        });
        let value = value.trim_start_matches('(').trim_end_matches(')');
        match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            Some(number) if numeric => Some(number.to_string()),
            _ => Some(value.to_string()),
        }
    }

    fn maintenance_database(&self) -> Option<&'static str> {
        Some("postgres")
    }

    /// `pg_database`: a PostgreSQL database is not a schema.
    fn write_database_exists(&self, out: &mut String) -> Result<()> {
        out.push_str("SELECT 1 FROM pg_database WHERE datname = ");
        self.write_placeholder(out, 1);
        Ok(())
    }

    fn avg_as_double(&self) -> (&'static str, &'static str) {
        ("CAST(AVG(", ") AS DOUBLE PRECISION)")
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    /// `E'…\'…'` escape strings, `$$…$$` / `$tag$…$tag$` dollar quotes, nested `/* … */`.
    fn lexical_forms(&self) -> athanor_core::LexicalForms {
        athanor_core::LexicalForms {
            escape_strings: true,
            dollar_quoted_strings: true,
            nested_block_comments: true,
            ..athanor_core::LexicalForms::ANSI
        }
    }

    fn capabilities(&self) -> &Capabilities {
        &POSTGRES_CAPABILITIES
    }

    /// 63 bytes: PostgreSQL's `NAMEDATALEN - 1`. Longer identifiers would be truncated by the
    /// server without error, so they are refused instead.
    fn max_identifier_length(&self) -> usize {
        63
    }

    /// `$n`.
    fn write_placeholder(&self, out: &mut String, n: usize) {
        let _ = write!(out, "${n}");
    }

    /// The statement's start (as SQLite's and MySQL's are), not the transaction's (`now()`).
    fn now_function(&self) -> &'static str {
        "statement_timestamp()"
    }

    /// `BOOLEAN`, `SMALLINT`, `INTEGER`, `BIGINT`, `REAL`, `DOUBLE PRECISION`, `TEXT` or
    /// `VARCHAR(n)`, `BYTEA`, `UUID`; the unsigned types in the next wider signed one (`u8` in
    /// `SMALLINT`, `u16` in `INTEGER`, `u32` in `BIGINT`) and `u64` in `BIGINT` (within i64);
    /// `NUMERIC(p,s)`, `JSONB`.
    fn column_type(&self, col: &ColumnDef) -> Result<Cow<'static, str>> {
        Ok(match col.sql_type {
            SqlType::Blob => "BYTEA".into(),
            SqlType::Bool
            | SqlType::SmallInt
            | SqlType::Integer
            | SqlType::BigInt
            | SqlType::Real
            | SqlType::Double
            | SqlType::Text
            | SqlType::U8
            | SqlType::U16
            | SqlType::U32
            | SqlType::Uuid
            | SqlType::Date
            | SqlType::DateTime
            | SqlType::Time
            | SqlType::U64
            | SqlType::Decimal => ansi_column_type(col),
            SqlType::Timestamp => "TIMESTAMPTZ".into(),
            // Binary JSON: it validates documents and does not keep key order or duplicates.
            SqlType::Json => "JSONB".into(),
        })
    }

    /// ` GENERATED BY DEFAULT AS IDENTITY` (PostgreSQL 10+; an explicit key may still be inserted).
    fn autoincrement_clause(&self) -> &'static str {
        " GENERATED BY DEFAULT AS IDENTITY"
    }

    fn table_exists_query(&self) -> &'static str {
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
    }

    /// Classify by SQLSTATE:
    ///
    /// | SQLSTATE | error |
    /// |---|---|
    /// | `23505` | `Integrity { kind: Unique }` |
    /// | `23503`, `23001` | `Integrity { kind: ForeignKey }` |
    /// | `23502` | `Integrity { kind: NotNull }` |
    /// | `23514` | `Integrity { kind: Check }` |
    /// | `23P01` and other class `23` codes | `Integrity { kind: Other }` |
    /// | `55P03` from `lock_timeout` ("… due to lock timeout") | `Timeout { kind: LockWait }` |
    /// | `57014` (`statement_timeout` or a cancel request) | `Timeout { kind: Statement }` |
    /// | `25006` (a write in a read-only transaction) | `ReadOnly` |
    /// | `40001`, `55P03` (`NOWAIT`) | `SerializationFailure { deadlock: false }` |
    /// | `40P01` | `SerializationFailure { deadlock: true }` |
    /// | class `08`, `57P01`, `57P02`, `57P03` | `Connection { disconnect: true }` |
    /// | `28000`, `28P01`, `3D000` | `Connection { disconnect: false }` |
    /// | anything else | `Database { code, message }` |
    ///
    /// The constraint, table and column come from the error's own fields; where the column is not
    /// given (unique and foreign-key violations), the columns are read from the `Key (a, b)=(…)`
    /// detail when the message carries it.
    fn map_error(&self, err: DbError) -> Error {
        let code = err.code.as_str();
        let integrity = |kind: IntegrityKind, err: DbError| {
            let columns = match err.column {
                Some(c) => vec![c],
                None => key_columns(&err.message),
            };
            Error::Integrity {
                kind,
                constraint: err.constraint,
                table: err.table,
                columns,
                message: err.message,
                source: None,
            }
        };
        match code {
            "23505" => integrity(IntegrityKind::Unique, err),
            "23503" | "23001" => integrity(IntegrityKind::ForeignKey, err),
            "23502" => integrity(IntegrityKind::NotNull, err),
            "23514" => integrity(IntegrityKind::Check, err),
            c if c.starts_with("23") => integrity(IntegrityKind::Other, err),
            // lock_not_available: from `lock_timeout` ("canceling statement due to lock timeout",
            // the backend also tells it by the error's routine, whatever the server's language)
            // or from NOWAIT ("could not obtain lock on row …").
            "55P03" if err.message.contains("lock timeout") => {
                Error::Timeout { kind: TimeoutKind::LockWait, message: err.message, source: None }
            }
            // query_canceled: `statement_timeout`, or a cancel request: the statement was stopped.
            "57014" => Error::Timeout { kind: TimeoutKind::Statement, message: err.message, source: None },
            "25006" => Error::ReadOnly { message: err.message, source: None },
            "40001" | "55P03" => Error::SerializationFailure { message: err.message, deadlock: false, source: None },
            "40P01" => Error::SerializationFailure { message: err.message, deadlock: true, source: None },
            c if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03") => {
                Error::Connection { message: err.message, disconnect: true, source: None }
            }
            "28000" | "28P01" | "3D000" => Error::Connection { message: err.message, disconnect: false, source: None },
            _ => Error::Database { code: err.code, message: err.message, source: None },
        }
    }
}

/// The column names of a `Key (a, b)=(…)` detail (unique and foreign-key violations), unquoting
/// `"quoted"` names. Empty when the message has no such detail or it cannot be read plainly.
fn key_columns(message: &str) -> Vec<String> {
    let Some(start) = message.find("Key (") else {
        return Vec::new();
    };
    let rest = &message[start + "Key (".len()..];
    let Some(end) = rest.find(")=(") else {
        return Vec::new();
    };
    let list = &rest[..end];
    if list.contains('(') {
        // An expression index: no plain column list.
        return Vec::new();
    }
    list.split(", ")
        .map(|c| match c.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => c.to_string(),
        })
        .collect()
}
