//! MySQL and MariaDB.
//!
//! What differs from ANSI SQL, as overrides:
//!
//! - identifiers are quoted with backticks (`` `a``b` `` for ``a`b``), at most 64 bytes long;
//! - placeholders are `?`;
//! - types: `BOOL` (an alias of `TINYINT(1)`: booleans come back as 0/1), `FLOAT`, `DOUBLE`,
//!   `LONGTEXT` for text without a length (so long strings work as on SQLite and PostgreSQL; `TEXT`
//!   would stop at 64 KiB), `LONGBLOB` for bytes. MySQL cannot index a text column without a
//!   length, so unique, indexed, primary-key and foreign-key text columns without one become
//!   `VARCHAR(255)` ([`Capabilities::indexed_text_length`]); a unique or indexed blob is
//!   [`Error::Unsupported`];
//! - an autoincrementing key is `… AUTO_INCREMENT`, and there is no `RETURNING`: the key of the
//!   first row of an INSERT is the connection's last-insert id and the others follow it
//!   ([`KeyRecovery::LastInsertIdConsecutive`], which the backend checks at connect);
//! - every table is created with ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`:
//!   InnoDB for transactions and foreign keys, `utf8mb4` for all of Unicode (MySQL's `utf8` stops
//!   at three bytes), and a **binary collation** so that `=`, `ORDER BY`, `LIKE` and UNIQUE compare
//!   strings exactly, byte for byte, as SQLite and PostgreSQL do (the server's default `_ci`
//!   collations would make `'a' = 'A'` true and refuse `Bob` next to `bob` in a unique column).
//!   One difference remains: `utf8mb4_bin` is a `PAD SPACE` collation, so trailing spaces are
//!   ignored when comparing (`'a' = 'a '` is true, and a unique column refuses both). The exact
//!   `NO PAD` collations have different names on MariaDB (`utf8mb4_nopad_bin`) and MySQL 8
//!   (`utf8mb4_0900_bin`), and no name exists on both;
//! - a backslash inside a string literal is an escape character, so DDL defaults double it; a
//!   text default is written as an expression, `DEFAULT ('x')`, which MySQL 8 accepts on `LONGTEXT`;
//! - `OFFSET` needs a `LIMIT`: an offset alone is written `LIMIT 18446744073709551615 OFFSET m`
//!   (the largest row count, as MySQL's manual advises);
//! - an isolation level is set with `SET TRANSACTION ISOLATION LEVEL …` before
//!   `START TRANSACTION [READ ONLY]`; all four levels exist (the default is `REPEATABLE READ`);
//! - DDL is not transactional: `CREATE TABLE` commits the open transaction implicitly.
//!
//! Errors are classified by MySQL error number (see [`MySqlDialect::map_error`](Dialect::map_error)).

use athanor_core::reflect::{CatalogParam, CatalogQuery, NativeType};
use athanor_core::TimeoutKind;
use athanor_core::{
    write_ansi_literal, BatchUpdate, Capabilities, CastType, ColumnDef, DbError, DefaultValue, Dialect, Error,
    IntegrityKind, IsolationLevel, KeyRecovery, SqlType, TxOptions,
};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The MySQL / MariaDB dialect (MariaDB ≥ 10.2, MySQL ≥ 8.0.16 for enforced CHECK constraints).
#[derive(Debug, Default, Clone, Copy)]
pub struct MySqlDialect;

/// What MySQL and MariaDB (with InnoDB tables) can do.
pub static MYSQL_CAPABILITIES: Capabilities = Capabilities {
    key_recovery: KeyRecovery::LastInsertIdConsecutive,
    multi_row_insert: true,
    batch_update: BatchUpdate::MatchedCount,
    // The protocol counts parameters in 16 bits.
    max_bind_params: 65535,
    savepoints: true,
    // DDL commits the current transaction implicitly.
    transactional_ddl: false,
    isolation_levels: &IsolationLevel::ALL,
    default_isolation: IsolationLevel::RepeatableRead,
    read_only_transactions: true,
    // Enforced by MariaDB >= 10.2 and MySQL >= 8.0.16 (older MySQL parsed and ignored them).
    check_constraints: true,
    foreign_keys: true,
    foreign_key_forward_reference: false,
    nulls_sort_low: true,
    lock_nowait: true,
    lock_skip_locked: true,
    distinct_on: false,
    insert_returning: true, // MariaDB 10.5+; the connection reports MySQL's lack at connect.
    stores_nan: false,
    stores_infinity: false,
    text_allows_nul: true,
    indexed_text_length: Some(255),
    select_for_update: true,
    // Row locks: FOR UPDATE itself.
    for_update_under_write_intent: false,
    // Neither MySQL nor MariaDB has UPDATE … RETURNING.
    update_returning: false,
    row_level_locking: true, // Reported by each connection at connect.
    // MariaDB 10.3+ (ALL forms 10.5+), MySQL 8.0.31+: the connection reports older servers' lack.
    intersect_except: true,
    intersect_except_all: true,
    server_version: None,
};

/// The row count MySQL's manual gives for "no limit" (2^64 - 1).
const NO_LIMIT: u64 = u64::MAX;

impl MySqlDialect {
    /// A type MySQL cannot index as a whole (`LONGBLOB`, `JSON`): refused for a unique, indexed
    /// or key column.
    fn unindexed(&self, col: &ColumnDef, ty: &'static str) -> athanor_core::Result<Cow<'static, str>> {
        if col.unique || col.index || col.primary_key || col.foreign_key.is_some() {
            return Err(Error::unsupported(
                format!("a unique, indexed or key {ty} column ({})", col.name),
                self.name(),
            ));
        }
        Ok(ty.into())
    }
}

impl Dialect for MySqlDialect {
    /// MariaDB's `@@last_gtid` (the GTID of this connection's last commit), else the server's
    /// `@@gtid_binlog_pos`. MySQL's GTIDs are another format: there this query fails (read
    /// replicas are MariaDB-only, docs/scaling.md).
    fn consistency_position_sql(&self) -> athanor_core::Result<&'static str> {
        Ok("SELECT COALESCE(NULLIF(@@last_gtid, ''), @@gtid_binlog_pos)")
    }

    /// MariaDB's `MASTER_GTID_WAIT(gtid, timeout)`: 0 once the replica applied it, -1 after the
    /// timeout.
    fn replica_caught_up_sql(&self) -> athanor_core::Result<&'static str> {
        Ok("SELECT CASE WHEN MASTER_GTID_WAIT(?, ?) = 0 THEN 1 ELSE 0 END")
    }

    /// `UPDATE t SET a = CASE id WHEN ? THEN ? … ELSE a END … WHERE …`
    /// ([`athanor_core::sql::update_batch_case`]); the backend's `CLIENT_FOUND_ROWS` makes its
    /// count the rows matched.
    fn write_update_batch(
        &self,
        table: &athanor_core::TableDef,
        shape: &athanor_core::sql::BatchShape<'_>,
        rows: usize,
    ) -> athanor_core::Result<athanor_core::sql::BatchStatement> {
        athanor_core::sql::update_batch_case(self, table, shape, rows)
    }

    /// `GET_LOCK(name, 0)` (held by the connection until `RELEASE_LOCK` or it closes; MariaDB
    /// and MySQL alike). Lock names are server-wide here, so the connection's database is part
    /// of the name (cut to the 64 characters a name may have), as PostgreSQL's advisory locks
    /// are per database.
    fn advisory_lock(&self) -> Option<athanor_core::AdvisoryLock> {
        Some(athanor_core::AdvisoryLock {
            try_acquire: "SELECT COALESCE(GET_LOCK(LEFT(CONCAT(?, '.', COALESCE(DATABASE(), '')), 64), 0), 0)",
            release: "SELECT RELEASE_LOCK(LEFT(CONCAT(?, '.', COALESCE(DATABASE(), '')), 64))",
        })
    }

    /// None: a MySQL connection needs no database.
    /// `information_schema`, in the connection's database, which reflection reads first
    /// ([`Dialect::current_schema_query`]) and binds as a constant wherever a query names the
    /// schema (subqueries included, with the table's name): MariaDB reads only the tables a
    /// constant schema and table name point to, but every schema on the server for a subquery
    /// correlated on `TABLE_SCHEMA`. A `LONGTEXT` column with a `json_valid` check is MariaDB's
    /// `JSON`; the index MySQL makes by itself for a foreign key (named after it) is left out.
    fn catalog_query(&self, query: CatalogQuery) -> athanor_core::Result<String> {
        Ok(match query {
            CatalogQuery::Tables => "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
                                     AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
                .into(),
            CatalogQuery::Columns => "SELECT c.COLUMN_NAME, CASE WHEN c.DATA_TYPE = 'longtext' AND EXISTS (SELECT 1 FROM \
                                      information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = ? \
                                      AND k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, '`)') \
                                      AND k.CONSTRAINT_NAME IN (SELECT t.CONSTRAINT_NAME FROM \
                                      information_schema.TABLE_CONSTRAINTS t WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? \
                                      AND t.CONSTRAINT_TYPE = 'CHECK')) \
                                      THEN 'json' ELSE c.COLUMN_TYPE END, \
                                      CASE WHEN c.IS_NULLABLE = 'YES' THEN 1 ELSE 0 END, c.COLUMN_DEFAULT, \
                                      CASE WHEN c.EXTRA LIKE '%auto_increment%' THEN 1 ELSE 0 END, \
                                      COALESCE((SELECT k.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE k \
                                      WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? \
                                      AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'), 0) \
                                      FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = ? \
                                      AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION"
                .into(),
            CatalogQuery::ForeignKeys => "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
                                          k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k \
                                          WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? \
                                          AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                                          ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
                .into(),
            CatalogQuery::Indexes => "SELECT s.INDEX_NAME, CASE WHEN s.NON_UNIQUE = 0 THEN 1 ELSE 0 END, \
                                      CASE WHEN EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS t \
                                      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? \
                                      AND t.CONSTRAINT_NAME = s.INDEX_NAME AND t.CONSTRAINT_TYPE = 'UNIQUE') \
                                      THEN 1 ELSE 0 END, s.COLUMN_NAME FROM information_schema.STATISTICS s \
                                      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.INDEX_NAME <> 'PRIMARY' \
                                      AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS t \
                                      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? \
                                      AND t.CONSTRAINT_NAME = s.INDEX_NAME AND t.CONSTRAINT_TYPE = 'FOREIGN KEY') \
                                      ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX"
                .into(),
            // Not a join on the schema column: MariaDB would read every schema's CHECK_CONSTRAINTS.
            CatalogQuery::Checks => "SELECT CONCAT('CHECK (', k.CHECK_CLAUSE, ')'), k.CONSTRAINT_NAME \
                                     FROM information_schema.CHECK_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = ? \
                                     AND k.CONSTRAINT_NAME IN (SELECT t.CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS t \
                                     WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? AND t.CONSTRAINT_TYPE = 'CHECK') \
                                     ORDER BY k.CONSTRAINT_NAME"
                .into(),
        })
    }

    /// The schema and the table, in the order [`Dialect::catalog_query`]'s placeholders name them.
    fn catalog_params(&self, query: CatalogQuery) -> &'static [CatalogParam] {
        use CatalogParam::{Schema as S, Table as T};
        match query {
            CatalogQuery::Tables => &[S],
            CatalogQuery::Columns => &[S, S, T, S, T, S, T],
            CatalogQuery::ForeignKeys => &[S, T],
            CatalogQuery::Indexes => &[S, T, S, T, S, T],
            CatalogQuery::Checks => &[S, S, T],
        }
    }

    /// `SELECT DATABASE()`: the connection's database.
    fn current_schema_query(&self) -> Option<&'static str> {
        Some("SELECT DATABASE()")
    }

    /// [`crate::type_names::mysql`]: `COLUMN_TYPE`'s names (display widths ignored, `tinyint(1)`
    /// a boolean), `enum(…)` as text with its values, and the dialect's own DDL names.
    fn portable_type(&self, native: &str) -> Option<NativeType> {
        crate::type_names::mysql(native).ok()
    }

    fn unmapped_reason(&self, native: &str) -> Cow<'static, str> {
        crate::type_names::mysql(native).err().unwrap_or("it maps").into()
    }

    /// Without the parentheses of an expression default (`('abc')`, as this dialect writes
    /// text defaults); MariaDB's `NULL` is no default.
    fn reflected_default(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("null") {
            return None;
        }
        let inner = raw.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(raw);
        Some(inner.to_string())
    }

    fn maintenance_database(&self) -> Option<&'static str> {
        Some("")
    }

    /// `DROP INDEX name ON table`.
    fn write_drop_index(&self, out: &mut String, table: &str, name: &str) -> athanor_core::Result<()> {
        out.push_str("DROP INDEX ");
        self.write_identifier(out, name)?;
        out.push_str(" ON ");
        self.write_identifier(out, table)
    }

    /// `DROP FOREIGN KEY`, or `DROP INDEX` for a unique constraint (MySQL keeps it as an index).
    fn write_drop_constraint(
        &self,
        out: &mut String,
        table: &str,
        name: &str,
        unique: bool,
    ) -> athanor_core::Result<()> {
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        out.push_str(if unique { " DROP INDEX " } else { " DROP FOREIGN KEY " });
        self.write_identifier(out, name)
    }

    /// `MODIFY COLUMN` with the whole new definition.
    fn write_alter_column(
        &self,
        out: &mut String,
        table: &str,
        _from: &ColumnDef,
        to: &ColumnDef,
    ) -> athanor_core::Result<()> {
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        out.push_str(" MODIFY COLUMN ");
        athanor_core::write_column_definition(self, out, to)
    }

    /// Nothing: `MODIFY COLUMN` ([`Dialect::write_alter_column`]) re-declared the column with
    /// its `CHECK (col IN (…))`, which replaces the column's old one on MariaDB. (MySQL 8 keeps
    /// column CHECKs as table constraints: there the old one stays; not tested here.)
    fn write_alter_allowed(&self, _: &mut String, _: &str, _: &ColumnDef, _: &[String]) -> athanor_core::Result<()> {
        Ok(())
    }

    /// `ALTER TABLE t AUTO_INCREMENT = n` (one counter per table).
    fn write_restart_identity(&self, out: &mut String, table: &str, _: &str, next: i64) -> athanor_core::Result<bool> {
        out.push_str("ALTER TABLE ");
        self.write_identifier(out, table)?;
        let _ = write!(out, " AUTO_INCREMENT = {next}");
        Ok(true)
    }

    /// With the character set and binary collation Athanor's tables use.
    fn write_create_database(&self, out: &mut String, name: &str) -> athanor_core::Result<()> {
        out.push_str("CREATE DATABASE ");
        self.write_identifier(out, name)?;
        out.push_str(" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        Ok(())
    }

    fn insert_default_values(&self) -> &'static str {
        " () VALUES ()"
    }

    fn name(&self) -> &'static str {
        "mysql"
    }

    fn capabilities(&self) -> &Capabilities {
        &MYSQL_CAPABILITIES
    }

    fn quote_char(&self) -> char {
        '`'
    }

    fn max_identifier_length(&self) -> usize {
        64
    }

    /// In UTC (`NOW()` follows the session's time zone), with microseconds.
    fn now_function(&self) -> &'static str {
        "UTC_TIMESTAMP(6)"
    }

    fn column_type(&self, col: &ColumnDef) -> athanor_core::Result<Cow<'static, str>> {
        Ok(match col.sql_type {
            SqlType::Bool => "BOOL".into(),
            SqlType::SmallInt => "SMALLINT".into(),
            SqlType::Integer => "INT".into(),
            SqlType::BigInt => "BIGINT".into(),
            SqlType::Real => "FLOAT".into(),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Text => match col.length {
                Some(n) => format!("VARCHAR({n})").into(),
                None => "LONGTEXT".into(),
            },
            SqlType::U8 => "TINYINT UNSIGNED".into(),
            SqlType::U16 => "SMALLINT UNSIGNED".into(),
            SqlType::U32 => "INT UNSIGNED".into(),
            SqlType::Uuid => "BINARY(16)".into(),
            // In UTC (Athanor converts; DATETIME does not follow the session's time zone).
            SqlType::Timestamp | SqlType::DateTime => "DATETIME(6)".into(),
            SqlType::Date => "DATE".into(),
            SqlType::Time => "TIME(6)".into(),
            // Within i64 on every database (a larger value is refused before it is sent).
            SqlType::U64 => "BIGINT".into(),
            SqlType::Decimal => match col.precision {
                Some((p, s)) => format!("DECIMAL({p},{s})").into(),
                // MySQL's own default, DECIMAL(10,0), would round what PostgreSQL keeps.
                None => {
                    return Err(Error::invalid_request(format!(
                        "decimal column {} has no precision and scale: set ColumnDef::precision",
                        col.name
                    )))
                }
            },
            // MariaDB makes it LONGTEXT with a json_valid CHECK; MySQL has a JSON type. Neither
            // can be indexed as a whole.
            SqlType::Json => self.unindexed(col, "JSON")?,
            SqlType::Blob => self.unindexed(col, "LONGBLOB")?,
        })
    }

    fn autoincrement_clause(&self) -> &'static str {
        " AUTO_INCREMENT"
    }

    fn backslash_escapes(&self) -> bool {
        true
    }

    /// `"…"` is a string (the session's `sql_mode` has no `ANSI_QUOTES`), with backslash escapes
    /// like `'…'`; `# …` comments; `--` is a comment only before whitespace (`1--1` is 2).
    fn lexical_forms(&self) -> athanor_core::LexicalForms {
        athanor_core::LexicalForms {
            double_quoted_strings: true,
            hash_comments: true,
            dash_comment_needs_space: true,
            ..athanor_core::LexicalForms::ANSI
        }
    }

    /// As the default, except that a text default is written in parentheses, `DEFAULT ('x')`:
    /// MySQL 8 refuses a literal default on a `TEXT`/`BLOB` column but accepts an expression
    /// (since 8.0.13), and MariaDB (since 10.2) accepts both.
    /// `ON DUPLICATE KEY UPDATE c = VALUES(c)`; "do nothing" is a no-op update of the key
    /// (`INSERT IGNORE` would also silence other errors). MySQL applies it to a conflict on
    /// *any* unique key of the table, not only `target`.
    fn write_on_conflict(
        &self,
        out: &mut String,
        target: &[&str],
        update: &[&str],
        primary_key: &[&str],
    ) -> athanor_core::Result<()> {
        let _ = target;
        out.push_str(" ON DUPLICATE KEY UPDATE ");
        if update.is_empty() {
            let Some(pk) = primary_key.first() else {
                return Err(Error::invalid_request("an upsert needs a table with a primary key"));
            };
            self.write_identifier(out, pk)?;
            out.push_str(" = ");
            self.write_identifier(out, pk)?;
            return Ok(());
        }
        for (i, c) in update.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_identifier(out, c)?;
            out.push_str(" = VALUES(");
            self.write_identifier(out, c)?;
            out.push(')');
        }
        Ok(())
    }

    /// AVG of integers is DECIMAL here; adding a double literal makes it a double (MySQL and
    /// MariaDB alike, unlike `CAST(… AS DOUBLE)`).
    fn avg_as_double(&self) -> (&'static str, &'static str) {
        ("(AVG(", ") + 0e0)")
    }

    /// MySQL's CAST types: `SIGNED` (a BIGINT), `CHAR`, `DECIMAL(20,0)` (a bare `DECIMAL` is
    /// `DECIMAL(10,0)`, too narrow for an `i64`); a double by adding `0e0` (as for AVG).
    fn cast(&self, to: CastType) -> (&'static str, &'static str) {
        match to {
            CastType::BigInt => ("CAST(", " AS SIGNED)"),
            CastType::Double => ("(", " + 0e0)"),
            CastType::Text => ("CAST(", " AS CHAR)"),
            CastType::Decimal => ("CAST(", " AS DECIMAL(20,0))"),
        }
    }

    /// A decimal is sent as a string, which arithmetic would read as a double.
    fn cast_decimal_parameters(&self) -> bool {
        true
    }

    /// MySQL's AVG of a `DECIMAL(p,s)` keeps `s + 4` digits after the point
    /// (`div_precision_increment`): 30 of them before rounding to the portable scale.
    fn decimal_avg_argument(&self) -> (&'static str, &'static str) {
        ("CAST(", " AS DECIMAL(65,30))")
    }

    /// `EXTRACT` is an integer on MySQL (its seconds have no fraction).
    fn date_part(&self, part: athanor_core::DatePart) -> (&'static str, &'static str) {
        use athanor_core::DatePart;
        match part {
            DatePart::Year => ("EXTRACT(YEAR FROM ", ")"),
            DatePart::Month => ("EXTRACT(MONTH FROM ", ")"),
            DatePart::Day => ("EXTRACT(DAY FROM ", ")"),
            DatePart::Hour => ("EXTRACT(HOUR FROM ", ")"),
            DatePart::Minute => ("EXTRACT(MINUTE FROM ", ")"),
            DatePart::Second => ("EXTRACT(SECOND FROM ", ")"),
        }
    }

    /// `||` is OR on MySQL: concatenation is `CONCAT()`.
    fn concat_operator(&self) -> Option<&'static str> {
        None
    }

    /// `LENGTH` counts bytes on MySQL.
    fn char_length_function(&self) -> &'static str {
        "CHAR_LENGTH"
    }

    /// `/` gives a decimal on MySQL; `DIV` truncates like the others' integer division.
    fn integer_division_operator(&self) -> &'static str {
        " DIV "
    }

    /// MySQL has no `NULLS FIRST|LAST`: sort by `col IS NULL` (0 for values, 1 for NULL) first.
    fn write_nulls_order(&self, out: &mut String, column: &str, descending: bool, nulls: athanor_core::NullsOrder) {
        out.push_str(column);
        out.push_str(match nulls {
            athanor_core::NullsOrder::First => " IS NULL DESC, ",
            athanor_core::NullsOrder::Last => " IS NULL ASC, ",
        });
        out.push_str(column);
        out.push_str(if descending { " DESC" } else { " ASC" });
    }

    fn write_literal(&self, out: &mut String, value: &DefaultValue) -> athanor_core::Result<()> {
        match value {
            DefaultValue::Text(s) => {
                if s.contains('\0') {
                    return Err(Error::invalid_request("a text default may not contain NUL"));
                }
                out.reserve(s.len() + 4);
                out.push_str("('");
                for c in s.chars() {
                    match c {
                        '\'' => out.push_str("''"),
                        '\\' => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push_str("')");
            }
            other => return write_ansi_literal(self, out, other),
        }
        Ok(())
    }

    fn write_limit_offset(
        &self,
        out: &mut String,
        limit: Option<u64>,
        offset: Option<u64>,
    ) -> athanor_core::Result<()> {
        match (limit, offset) {
            (Some(l), Some(o)) => {
                let _ = write!(out, " LIMIT {l} OFFSET {o}");
            }
            (Some(l), None) => {
                let _ = write!(out, " LIMIT {l}");
            }
            (None, Some(o)) => {
                let _ = write!(out, " LIMIT {NO_LIMIT} OFFSET {o}");
            }
            (None, None) => {}
        }
        Ok(())
    }

    fn begin_statements(&self, opts: &TxOptions) -> athanor_core::Result<Vec<String>> {
        let mut out = Vec::with_capacity(2);
        if let Some(level) = opts.isolation {
            self.check_isolation(level)?;
            // Applies to the next transaction only.
            out.push(format!("SET TRANSACTION ISOLATION LEVEL {}", level.as_sql()));
        }
        out.push(if opts.read_only { "START TRANSACTION READ ONLY" } else { "START TRANSACTION" }.to_string());
        Ok(out)
    }

    fn table_exists_query(&self) -> &'static str {
        "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
    }

    fn create_table_suffix(&self) -> &'static str {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    }

    /// Every primary key is called `PRIMARY` in MySQL's and MariaDB's errors, whatever the
    /// `CONSTRAINT` clause named it.
    fn primary_key_constraint_alias(&self) -> Option<&'static str> {
        Some("PRIMARY")
    }

    /// Classify by MySQL error number:
    ///
    /// | number | meaning | becomes |
    /// |---|---|---|
    /// | 1062, 1586, 1022, 1169 | duplicate key | `Integrity(Unique)`, constraint from `for key '…'` (`PRIMARY` for the primary key) |
    /// | 1451, 1452, 1216, 1217 | foreign key | `Integrity(ForeignKey)`, constraint from ``CONSTRAINT `…` `` |
    /// | 1048, 1364 | NULL into NOT NULL / no value for a column without default | `Integrity(NotNull)` with the column |
    /// | 3819 (MySQL), 4025 (MariaDB) | CHECK failed | `Integrity(Check)` with the constraint |
    /// | 1213 | deadlock | `SerializationFailure { deadlock: true }` |
    /// | 1205 | lock wait timeout (`innodb_lock_wait_timeout`, `lock_wait_timeout`) | `Timeout { kind: LockWait }` |
    /// | 1969 (MariaDB), 3024 (MySQL) | `max_statement_time` / `max_execution_time` exceeded | `Timeout { kind: Statement }` |
    /// | 1792, 1290 (naming `--read-only`) | a write in a read-only transaction / on a read-only server | `ReadOnly` |
    /// | 3572, 1020 | `NOWAIT`, snapshot conflict | `SerializationFailure { deadlock: false }` |
    /// | 2006, 2013, 1927, 1053, 1153, 4031, 3169 | connection lost, killed, server shutdown, packet over `max_allowed_packet` (the server then closes the connection), idle timeout | `Connection { disconnect: true }` |
    /// | 1040, 1044, 1045, 1049, 1129, 1130, 1251, 1862 | login refused, unknown database | `Connection { disconnect: false }` |
    /// | anything else | | `Database` |
    ///
    /// MySQL 8 prefixes the key name with the table (`'customers.uq_customers_email'`); the prefix
    /// is stripped and becomes `table`. A primary-key violation names the key `PRIMARY` (the
    /// dialect cannot know the table there on MariaDB, so it does not invent `pk_<table>`; the
    /// unit of work, which knows the table, replaces it through
    /// [`Dialect::primary_key_constraint_alias`]).
    fn map_error(&self, err: DbError) -> Error {
        let DbError { code, message, constraint, table, column } = err;
        let number: u32 = code.trim().parse().unwrap_or(0);
        let integrity = |kind: IntegrityKind, c: Option<String>, t: Option<String>, cols: Vec<String>, m: String| {
            Error::Integrity {
                kind,
                constraint: constraint.clone().or(c),
                table: table.clone().or(t),
                columns: cols,
                message: m,
                source: None,
            }
        };
        match number {
            1062 | 1586 | 1022 | 1169 => {
                let (t, c) = match quoted_after_last(&message, " for key '") {
                    Some(key) => match key.split_once('.') {
                        // MySQL 8: 'table.key'.
                        Some((t, k)) => (Some(t.to_string()), Some(k.to_string())),
                        None => (None, Some(key)),
                    },
                    None => (None, None),
                };
                integrity(IntegrityKind::Unique, c, t, column.into_iter().collect(), message)
            }
            1451 | 1452 | 1216 | 1217 => {
                let name = backticked_after(&message, "CONSTRAINT `");
                let child = fk_child_table(&message);
                let cols = backticked_list_after(&message, "FOREIGN KEY (");
                let cols = if cols.is_empty() { column.into_iter().collect() } else { cols };
                integrity(IntegrityKind::ForeignKey, name, child, cols, message)
            }
            1048 => {
                let col = quoted_after_first(&message, "Column '").or(column);
                integrity(IntegrityKind::NotNull, None, None, col.into_iter().collect(), message)
            }
            1364 => {
                let col = quoted_after_first(&message, "Field '").or(column);
                integrity(IntegrityKind::NotNull, None, None, col.into_iter().collect(), message)
            }
            // MySQL: "Check constraint 'ck_t_age' is violated."
            3819 => {
                let name = quoted_after_first(&message, "Check constraint '");
                integrity(IntegrityKind::Check, name, None, column.into_iter().collect(), message)
            }
            // MariaDB: "CONSTRAINT `ck_t_age` failed for `db`.`t`"
            4025 => {
                let name = backticked_after(&message, "CONSTRAINT `");
                let t = message.find(" failed for `").and_then(|i| last_backticked_in(&message[i..]));
                integrity(IntegrityKind::Check, name, t, column.into_iter().collect(), message)
            }
            1213 => Error::SerializationFailure { message, deadlock: true, source: None },
            1205 => Error::Timeout { kind: TimeoutKind::LockWait, message, source: None },
            1969 | 3024 => Error::Timeout { kind: TimeoutKind::Statement, message, source: None },
            1792 => Error::ReadOnly { message, source: None },
            // ER_OPTION_PREVENTS_STATEMENT is also other options' refusal: only `--read-only`.
            1290 if message.contains("read-only") || message.contains("read_only") => {
                Error::ReadOnly { message, source: None }
            }
            3572 | 1020 => Error::SerializationFailure { message, deadlock: false, source: None },
            2006 | 2013 | 1927 | 1053 | 1153 | 4031 | 3169 => {
                Error::Connection { message, disconnect: true, source: None }
            }
            1040 | 1044 | 1045 | 1049 | 1129 | 1130 | 1251 | 1862 => {
                Error::Connection { message, disconnect: false, source: None }
            }
            _ => Error::Database { code, message, source: None },
        }
    }
}

/// The text between `prefix` (the last occurrence) and the message's last `'`:
/// `Duplicate entry 'x' for key 'uq_t_c'` gives `uq_t_c`. Using the last occurrence and the last
/// quote keeps a duplicate value containing `' for key '` from confusing the parse.
fn quoted_after_last(message: &str, prefix: &str) -> Option<String> {
    let start = message.rfind(prefix)? + prefix.len();
    let rest = &message[start..];
    let end = rest.rfind('\'')?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// The text between the first `prefix` and the next `'`: `Column 'email' cannot be null`.
fn quoted_after_first(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let rest = &message[start..];
    let end = rest.find('\'')?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// Read one backtick-quoted identifier whose opening backtick has been consumed (doubled
/// backticks inside stand for one); the identifier and the rest after its closing backtick.
fn read_backticked(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if matches!(chars.peek(), Some((_, '`'))) {
                chars.next();
                out.push('`');
            } else {
                return Some((out, &s[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// The identifier after the first `prefix` (which ends with an opening backtick).
fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    read_backticked(&message[start..]).map(|(id, _)| id).filter(|s| !s.is_empty())
}

/// The backticked identifiers of the parenthesized list after `prefix`: ``FOREIGN KEY (`a`, `b`)``.
fn backticked_list_after(message: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(start) = message.find(prefix) else { return out };
    let mut rest = &message[start + prefix.len()..];
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        match rest.strip_prefix('`').and_then(read_backticked) {
            Some((id, after)) => {
                out.push(id);
                rest = after;
            }
            None => break,
        }
    }
    out
}

/// The child table of a foreign-key message: ``(`db`.`orders`, CONSTRAINT …`` gives `orders`.
fn fk_child_table(message: &str) -> Option<String> {
    let open = message.find("fails (`")? + "fails (".len();
    let end = message[open..].find(", CONSTRAINT").map(|e| open + e)?;
    last_backticked_in(&message[open..end])
}

/// The last backtick-quoted identifier in `s`.
fn last_backticked_in(s: &str) -> Option<String> {
    let mut rest = s;
    let mut last = None;
    while let Some(i) = rest.find('`') {
        match read_backticked(&rest[i + 1..]) {
            Some((id, after)) => {
                last = Some(id);
                rest = after;
            }
            None => break,
        }
    }
    last.filter(|s| !s.is_empty())
}
