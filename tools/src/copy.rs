//! Copying a live database into another, of any kind (`athanor copy SRC DST`).
//!
//! The source is reflected ([`athanor_core::reflect`]); each table becomes a catalog entry whose
//! columns have the portable types their storage represents, so the destination gets its own
//! spelling of each (`--create`), or an existing destination table must compare equal. Every
//! check is made before the first row moves: unmapped types, a destination table of another
//! shape or already holding rows, a column the destination cannot declare. Rows are then read
//! in primary-key order in bounded memory (the streaming of `yield_per`), converted cell by
//! cell to the portable value of their column (an instant read as text becomes an instant, a
//! UUID's text its 16 bytes), and written in multi-row `INSERT` batches, one transaction per
//! batch, tables in foreign-key order. Generated keys are carried exactly, and the destination's
//! identity or `AUTO_INCREMENT` is moved past them. `verify` compares row counts and a checksum
//! of every portable value of every row on both sides (JSON documents by value with the `json`
//! feature, since PostgreSQL's `JSONB` rewrites their text; by text without it).
//!
//! Reflected tables are kept as `'static` catalog data (the plain `TableDef` every statement
//! renderer takes): their names are leaked once per copy, a few bytes per column.
//!
//! Limits (documented in the README): a cycle of foreign keys between tables is refused (no
//! database here can defer the checks portably), and rows of a self-referencing table are
//! written in key order, so a row whose parent has a larger key fails with the foreign-key
//! error, reported with the table. Of the CHECK constraints, those listing a column's values
//! (`#[derive(DbEnum)]`'s) are carried; others are not.

use athanor_core::dialect::{create_table_statements, Dialect};
use athanor_core::engine::{Connection, Engine};
use athanor_core::error::{Error, Result};
use athanor_core::reflect::{self, table_def};
use athanor_core::schema::TableDef;
use athanor_core::value::{SqlType, Value, ValueRef};

/// What to copy and how.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Only these tables (empty: every table of the source).
    pub tables: Vec<String>,
    /// Create the tables missing on the destination (else a missing table is an error).
    pub create: bool,
    /// Skip a table the destination already holds all rows of, and copy again (after emptying
    /// it) one it holds some of; without it a destination table with rows is an error.
    pub resume: bool,
    /// Compare row counts and checksums afterwards.
    pub verify: bool,
    /// Rows per batch (per transaction); 5,000 by default.
    pub batch_rows: usize,
    /// Source columns read as another portable type (`--type-map table.column=Type`): a column
    /// whose type has no portable type is refused (all of them listed) until it is named here.
    pub type_map: reflect::TypeMap,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            tables: Vec::new(),
            create: false,
            resume: false,
            verify: false,
            batch_rows: 5_000,
            type_map: reflect::TypeMap::default(),
        }
    }
}

/// Told how the copy goes, table by table (the CLI draws progress bars with it).
pub trait CopyProgress {
    /// A table starts: `total` rows to copy.
    fn start(&mut self, table: &str, total: u64);
    /// `rows` more rows of `table` are written and committed.
    fn advance(&mut self, table: &str, rows: u64);
    /// The table is done (`skipped` when `resume` found it complete).
    fn finish(&mut self, table: &str, copied: u64, skipped: bool);
}

/// No progress reports.
impl CopyProgress for () {
    fn start(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: &str, _: u64) {}
    fn finish(&mut self, _: &str, _: u64, _: bool) {}
}

/// What happened to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    /// The table.
    pub table: String,
    /// Rows written (0 when skipped).
    pub copied: u64,
    /// `resume` found it complete.
    pub skipped: bool,
    /// The tables was created on the destination.
    pub created: bool,
    /// With `verify`: (source rows, destination rows, checksums equal).
    pub verified: Option<(u64, u64, bool)>,
}

impl TableReport {
    /// `false` when verification found a difference.
    pub fn ok(&self) -> bool {
        self.verified.is_none_or(|(s, d, same)| s == d && same)
    }
}

/// 16 bytes from a UUID's text (hyphens and braces ignored).
fn uuid_bytes(s: &str) -> Option<Vec<u8>> {
    let hex: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    if hex.len() != 32 || s.bytes().any(|b| !(b.is_ascii_hexdigit() || matches!(b, b'-' | b'{' | b'}'))) {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    hex.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// A cell as the portable value of its column's type, so each database receives it in its own
/// form (an instant PostgreSQL rendered as text is bound as an instant on MySQL).
///
/// # Errors
/// [`Error::TypeMismatch`] for a cell that is not a value of the type.
pub fn portable_value(sql_type: SqlType, v: ValueRef<'_>) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let bad = || Error::TypeMismatch { column: String::new(), expected: "the column's type", found: v.to_string() };
    let parsed = |parse: fn(&str) -> Option<i64>| match v {
        ValueRef::Text(s) | ValueRef::Decimal(s) => parse(s),
        _ => None,
    };
    Ok(match sql_type {
        SqlType::Bool => match v {
            ValueRef::Bool(b) => Value::Bool(b),
            // MySQL's BIT(1).
            ValueRef::Blob([b @ (0 | 1)]) => Value::Bool(*b == 1),
            _ => Value::Bool(match v.as_i64().ok_or_else(bad)? {
                0 => false,
                1 => true,
                _ => return Err(bad()),
            }),
        },
        SqlType::SmallInt | SqlType::Integer | SqlType::BigInt | SqlType::U8 | SqlType::U16 | SqlType::U32 => {
            Value::I64(whole(v).ok_or_else(bad)?)
        }
        SqlType::U64 => Value::I64(whole(v).ok_or_else(bad)?),
        SqlType::Real => match v {
            ValueRef::F32(f) => Value::F32(f),
            ValueRef::F64(f) => Value::F64(f),
            _ => return Err(bad()),
        },
        SqlType::Double => match v {
            ValueRef::F64(f) => Value::F64(f),
            ValueRef::F32(f) => Value::F64(f.into()),
            _ => return Err(bad()),
        },
        SqlType::Text | SqlType::Json => match v {
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            _ => return Err(bad()),
        },
        SqlType::Blob => match v {
            ValueRef::Blob(b) => Value::Blob(b.to_owned()),
            _ => return Err(bad()),
        },
        SqlType::Uuid => match v {
            ValueRef::Blob(b) if b.len() == 16 => Value::Blob(b.to_owned()),
            ValueRef::Text(s) => Value::Blob(uuid_bytes(s).ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        SqlType::Decimal => match v {
            ValueRef::Decimal(s) => Value::Decimal(s.trim().to_owned()),
            // Text another tool stored must be a number (SQLite keeps non-numeric text as text).
            ValueRef::Text(s) if athanor_core::decimal::is_number(s) => Value::Decimal(s.trim().to_owned()),
            // What SQLite stored as REAL in a NUMERIC column: the float's shortest decimal text.
            ValueRef::F64(f) => Value::Decimal(athanor_core::decimal::float_text(f).ok_or_else(bad)?),
            ValueRef::F32(f) => Value::Decimal(athanor_core::decimal::float32_text(f).ok_or_else(bad)?),
            _ => Value::Decimal(v.as_i64().ok_or_else(bad)?.to_string()),
        },
        SqlType::Timestamp => match v {
            ValueRef::Timestamp(us) => Value::Timestamp(us),
            _ => Value::Timestamp(parsed(athanor_core::temporal::parse_timestamp).ok_or_else(bad)?),
        },
        SqlType::DateTime => match v {
            ValueRef::DateTime(us) => Value::DateTime(us),
            _ => Value::DateTime(parsed(athanor_core::temporal::parse_datetime).ok_or_else(bad)?),
        },
        SqlType::Date => match v {
            ValueRef::Date(d) => Value::Date(d),
            _ => Value::Date(
                parsed(athanor_core::temporal::parse_date).and_then(|d| i32::try_from(d).ok()).ok_or_else(bad)?,
            ),
        },
        SqlType::Time => match v {
            ValueRef::Time(us) => Value::Time(us),
            _ => Value::Time(parsed(athanor_core::temporal::parse_time).ok_or_else(bad)?),
        },
    })
}

/// An integer of any width, or a decimal that is a whole number.
fn whole(v: ValueRef<'_>) -> Option<i64> {
    v.as_i64().or_else(|| <i64 as athanor_core::value::FromValue>::from_value(v).ok())
}

/// FNV-1a, 64 bits: a checksum that is the same in every process.
struct Checksum(u64);

impl Checksum {
    fn new() -> Self {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for byte in (b.len() as u64).to_le_bytes().iter().chain(b) {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    /// A portable value in one canonical spelling (decimals without insignificant zeros), as a
    /// tag byte and its bytes: no allocation but for decimals.
    fn value(&mut self, v: &Value) {
        let mut tagged = |tag: u8, bytes: &[u8]| {
            self.bytes(&[tag]);
            self.bytes(bytes);
        };
        match v {
            Value::Null => tagged(b'n', &[]),
            Value::Bool(b) => tagged(b'b', &[u8::from(*b)]),
            Value::I16(_) | Value::I32(_) | Value::I64(_) | Value::U64(_) => match v.as_ref().as_i64() {
                Some(i) => tagged(b'i', &i.to_le_bytes()),
                // A u64 beyond i64 (no column holds one).
                None => tagged(b'I', v.as_ref().to_string().as_bytes()),
            },
            Value::F32(f) => tagged(b'f', &f64::from(*f).to_bits().to_le_bytes()),
            Value::F64(f) => tagged(b'f', &f.to_bits().to_le_bytes()),
            Value::Text(s) => tagged(b't', s.as_bytes()),
            Value::Decimal(d) => tagged(b'd', canonical_decimal(d).as_bytes()),
            Value::Blob(b) => tagged(b'x', b),
            Value::Timestamp(us) | Value::DateTime(us) | Value::Time(us) => tagged(b'u', &us.to_le_bytes()),
            Value::Date(d) => tagged(b'D', &d.to_le_bytes()),
        }
    }
}

/// `"012.500"` → `"12.5"`, `"-0.0"` → `"0"`.
fn canonical_decimal(d: &str) -> String {
    let d = d.trim();
    let (neg, digits) = match d.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, d.strip_prefix('+').unwrap_or(d)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return "0".into(),
        (true, false) => format!("0.{frac}"),
        (false, true) => int.to_string(),
        (false, false) => format!("{int}.{frac}"),
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// A JSON document in one spelling (keys sorted, no spaces), as PostgreSQL's `JSONB` rewrites
/// documents; without the `json` feature the text as it is.
fn canonical_json(doc: &str) -> String {
    #[cfg(feature = "json")]
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(doc) {
        return v.to_string();
    }
    doc.to_string()
}

fn select_all(dialect: &dyn Dialect, t: &TableDef) -> Result<String> {
    let mut sql = String::from("SELECT ");
    athanor_core::dialect::write_ident_list(dialect, &mut sql, t.columns.iter().map(|c| c.name))?;
    sql.push_str(" FROM ");
    dialect.write_identifier(&mut sql, t.name)?;
    sql.push_str(" ORDER BY ");
    athanor_core::dialect::write_ident_list(dialect, &mut sql, t.primary_key().map(|i| t.columns[i].name))?;
    Ok(sql)
}

fn count(conn: &mut Connection, t: &TableDef) -> Result<u64> {
    let mut sql = String::from("SELECT COUNT(*) FROM ");
    conn.dialect().write_identifier(&mut sql, t.name)?;
    let n: i64 = conn.query_scalar(&sql, &[])?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Read every row of `t` in key order, `batch` at a time, as portable values.
fn each_batch(
    conn: &mut Connection,
    t: &TableDef,
    batch: usize,
    mut f: impl FnMut(Vec<Vec<Value>>) -> Result<()>,
) -> Result<()> {
    let sql = select_all(conn.dialect(), t)?;
    let mut stream = conn.stream(sql, Vec::new(), batch.max(1))?;
    let mut result = Ok(());
    while let Some(rows) = stream.next_batch() {
        let converted: Result<Vec<Vec<Value>>> = rows
            .iter()
            .map(|r| {
                t.columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let cell = r.values().get(i).map_or(ValueRef::Null, Value::as_ref);
                        portable_value(c.sql_type, cell).map_err(|e| match e {
                            Error::TypeMismatch { expected, found, .. } => {
                                Error::TypeMismatch { column: format!("{}.{}", t.name, c.name), expected, found }
                            }
                            other => other,
                        })
                    })
                    .collect()
            })
            .collect();
        if let Err(e) = converted.and_then(&mut f) {
            result = Err(e);
            break;
        }
    }
    let finished = conn.finish_stream(stream);
    result.and(finished)
}

fn checksum(conn: &mut Connection, t: &TableDef, batch: usize) -> Result<(u64, u64)> {
    let (mut rows, mut sum) = (0u64, Checksum::new());
    each_batch(conn, t, batch, |b| {
        for row in &b {
            rows += 1;
            for (v, c) in row.iter().zip(t.columns) {
                match (c.sql_type, v) {
                    (SqlType::Json, Value::Text(doc)) => sum.value(&Value::Text(canonical_json(doc))),
                    _ => sum.value(v),
                }
            }
        }
        Ok(())
    })?;
    Ok((rows, sum.0))
}

/// Write rows into `t` in multi-row INSERTs of at most the destination's bound parameters.
fn insert_rows(conn: &mut Connection, t: &TableDef, rows: &[Vec<Value>]) -> Result<()> {
    let caps = conn.capabilities().clone();
    let per_statement = (caps.max_bind_params / t.columns.len().max(1)).clamp(1, 1000);
    let per_statement = if caps.multi_row_insert { per_statement } else { 1 };
    let mut sql_cache: Option<(usize, String)> = None;
    for chunk in rows.chunks(per_statement) {
        let sql = match &sql_cache {
            Some((n, sql)) if *n == chunk.len() => sql.clone(),
            _ => {
                let sql = athanor_core::sql::insert(conn.dialect(), t, chunk.len(), false, None)?;
                sql_cache = Some((chunk.len(), sql.clone()));
                sql
            }
        };
        let params: Vec<ValueRef<'_>> = chunk.iter().flat_map(|r| r.iter().map(Value::as_ref)).collect();
        conn.execute_refs(&sql, &params)?;
    }
    Ok(())
}

/// The tables so that each comes after those its foreign keys refer to. A key to a table left
/// out of the copy is fine when the destination has that table; a cycle between tables is
/// refused (a table referring to itself is not a cycle).
fn fk_order(mut left: Vec<&'static TableDef>, on_destination: &[String]) -> Result<Vec<&'static TableDef>> {
    let copied: Vec<&str> = left.iter().map(|t| t.name).collect();
    for t in &left {
        for (_, col, fk) in t.foreign_keys() {
            if !copied.contains(&fk.table) && !on_destination.iter().any(|n| n == fk.table) {
                return Err(Error::invalid_request(format!(
                    "{}.{} refers to {}, which is neither copied nor on the destination: add it to --tables",
                    t.name, col.name, fk.table
                )));
            }
        }
    }
    let mut order: Vec<&'static TableDef> = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.foreign_keys().iter().all(|(_, _, fk)| {
                fk.table == t.name || !copied.contains(&fk.table) || order.iter().any(|o| o.name == fk.table)
            })
        });
        match ready {
            Some(i) => order.push(left.remove(i)),
            None => {
                let names: Vec<&str> = left.iter().map(|t| t.name).collect();
                return Err(Error::invalid_request(format!(
                    "the foreign keys of {} form a cycle: copy them with the checks off is not supported",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(order)
}

/// Copy `src`'s tables into `dst` (see the module docs).
///
/// # Errors
/// Before any row moves: [`Error::InvalidRequest`] for a table that is not in the source, a
/// destination table of another shape (its differences listed), missing without `create`, or
/// holding rows without `resume`, and a cycle of foreign keys; [`Error::Unsupported`] for a
/// type without a portable type or one the destination cannot declare; [`Error::Connection`]
/// for a database that cannot be reached. While copying: the database's error, naming the
/// table; what was committed before it stays (the CLI reports the table, and `resume` picks it
/// up again).
pub fn copy(
    src: &Engine,
    dst: &Engine,
    options: &CopyOptions,
    progress: &mut dyn CopyProgress,
) -> Result<Vec<TableReport>> {
    let mut from = src.connect()?;
    let mut to = dst.connect()?;
    // One snapshot of the source for the whole copy (and PostgreSQL's cursors need a transaction).
    from.begin()?;
    let names = if options.tables.is_empty() { reflect::table_names(&mut from)? } else { options.tables.clone() };
    let source_names = reflect::table_names(&mut from)?;
    if let Some(name) = names.iter().find(|n| !source_names.contains(n)) {
        return Err(Error::invalid_request(format!("no table {name} in the source database")));
    }
    let mut reflected = reflect::reflect_tables(&mut from, &names)?;
    options.type_map.apply(&mut reflected)?;
    reflect::check_mapped(&reflected)?;
    let defs = reflected.iter().map(table_def).collect::<Result<Vec<_>>>()?;
    let dst_names = reflect::table_names(&mut to)?;
    let order = fk_order(defs, &dst_names)?;
    let dialect = dst.dialect_arc();
    // Every check before the first row moves.
    let plan = order
        .iter()
        .map(|t| plan_table(&mut from, &mut to, &*dialect, t, &dst_names, options))
        .collect::<Result<Vec<_>>>()?;
    // Empty partly copied tables, children first.
    for step in plan.iter().rev().filter(|s| s.empty_first) {
        let mut sql = String::from("DELETE FROM ");
        dialect.write_identifier(&mut sql, step.table.name)?;
        to.execute(&sql, &[])?;
    }
    let mut reports = Vec::new();
    for step in plan {
        let t = step.table;
        if step.create {
            for s in &step.statements {
                to.batch_execute(s)?;
            }
        }
        progress.start(t.name, step.total);
        let copied = if step.skip { 0 } else { copy_rows(&mut from, &mut to, &*dialect, t, options, progress)? };
        progress.finish(t.name, copied, step.skip);
        let verified = if options.verify {
            let (s_rows, s_sum) = checksum(&mut from, t, options.batch_rows)?;
            to.begin()?;
            let theirs = checksum(&mut to, t, options.batch_rows);
            to.rollback()?;
            let (d_rows, d_sum) = theirs?;
            Some((s_rows, d_rows, s_sum == d_sum))
        } else {
            None
        };
        reports.push(TableReport {
            table: t.name.to_string(),
            copied,
            skipped: step.skip,
            created: step.create,
            verified,
        });
    }
    from.rollback()?;
    Ok(reports)
}

/// What [`copy`] will do with one table, decided before any row moves.
struct Step {
    table: &'static TableDef,
    /// Its `CREATE TABLE` (and index) statements in the destination's dialect.
    statements: Vec<String>,
    /// Rows in the source.
    total: u64,
    /// The destination has no such table: create it.
    create: bool,
    /// `resume`: the destination already holds every row.
    skip: bool,
    /// `resume`: the destination holds part of the rows; empty it first.
    empty_first: bool,
}

/// The destination cannot create `t` when it needs a precision for a decimal column the source
/// declares without one (plain `DECIMAL`, as Django writes on SQLite): the error says how to
/// give it one.
fn with_precision_hint(e: Error, t: &TableDef) -> Error {
    let open: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.sql_type == SqlType::Decimal && c.precision.is_none())
        .map(|c| format!("--type-map {}.{}=Decimal(P,S)", t.name, c.name))
        .collect();
    if open.is_empty() {
        return e;
    }
    Error::invalid_request(format!("{e}; the source declares none: give one with {}", open.join(" ")))
}

/// The checks of one table: an existing destination table must have the same shape and, unless
/// resuming, no rows; a missing one needs `create`.
fn plan_table(
    from: &mut Connection,
    to: &mut Connection,
    dialect: &dyn Dialect,
    t: &'static TableDef,
    dst_names: &[String],
    options: &CopyOptions,
) -> Result<Step> {
    let exists = dst_names.iter().any(|n| n == t.name);
    let statements = create_table_statements(dialect, t).map_err(|e| with_precision_hint(e, t))?;
    let total = count(from, t)?;
    let mut step = Step { table: t, statements, total, create: !exists, skip: false, empty_first: false };
    if !exists {
        if !options.create {
            return Err(Error::invalid_request(format!(
                "destination has no table {}; pass --create to make it",
                t.name
            )));
        }
        return Ok(step);
    }
    let diff = reflect::compare(dialect, t, &reflect::reflect_table(to, t.name)?)?;
    if !diff.is_empty() {
        let shown: Vec<String> = diff.iter().map(ToString::to_string).collect();
        return Err(Error::invalid_request(format!(
            "destination table {} exists with another shape:\n  {}",
            t.name,
            shown.join("\n  ")
        )));
    }
    match (count(to, t)?, options.resume) {
        (0, _) => {}
        (n, true) if n == total => step.skip = true,
        (_, true) => step.empty_first = true,
        (n, false) => {
            return Err(Error::invalid_request(format!(
                "destination table {} already holds {n} row(s); copy into empty tables, or pass --resume",
                t.name
            )))
        }
    }
    Ok(step)
}

/// Copy one table's rows in batches, one destination transaction per batch, and move the
/// destination's identity past the largest generated key copied. Returns the rows copied.
fn copy_rows(
    from: &mut Connection,
    to: &mut Connection,
    dialect: &dyn Dialect,
    t: &'static TableDef,
    options: &CopyOptions,
    progress: &mut dyn CopyProgress,
) -> Result<u64> {
    let mut copied = 0u64;
    let mut max_key: Option<i64> = None;
    let auto = t.columns.iter().position(|c| c.autoincrement);
    each_batch(from, t, options.batch_rows, |rows| {
        if let Some(a) = auto {
            let top = rows.iter().filter_map(|r| r[a].as_ref().as_i64()).max();
            max_key = max_key.max(top);
        }
        to.begin()?;
        let written = insert_rows(to, t, &rows).and_then(|()| to.commit());
        if let Err(e) = written {
            let _ = to.rollback();
            return Err(Error::invalid_request(format!("copying {} failed after {copied} row(s): {e}", t.name)));
        }
        copied += rows.len() as u64;
        progress.advance(t.name, rows.len() as u64);
        Ok(())
    })?;
    if let (Some(a), Some(top)) = (auto, max_key) {
        let mut sql = String::new();
        if dialect.write_restart_identity(&mut sql, t.name, t.columns[a].name, top.saturating_add(1))? {
            to.batch_execute(&sql)?;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_the_portable_value_of_their_column() {
        let ts = portable_value(SqlType::Timestamp, ValueRef::Text("2024-02-29 12:34:56.5+02:00")).ok();
        assert_eq!(ts, athanor_core::temporal::parse_timestamp("2024-02-29T10:34:56.5Z").map(Value::Timestamp));
        let id = portable_value(SqlType::Uuid, ValueRef::Text("6f1c2a4e-9b3d-4c8e-a1f0-123456789abc")).ok();
        assert!(matches!(id, Some(Value::Blob(ref b)) if b.len() == 16 && b[0] == 0x6f && b[15] == 0xbc));
        assert!(portable_value(SqlType::Uuid, ValueRef::Text("not-a-uuid")).is_err());
        assert_eq!(portable_value(SqlType::Bool, ValueRef::I64(1)).ok(), Some(Value::Bool(true)));
        assert_eq!(portable_value(SqlType::Integer, ValueRef::Decimal("12.00")).ok(), Some(Value::I64(12)));
        assert!(portable_value(SqlType::Integer, ValueRef::Text("12")).is_err());
        assert_eq!(portable_value(SqlType::Text, ValueRef::Null).ok(), Some(Value::Null));
    }

    #[test]
    fn checksums_ignore_the_spelling_of_equal_decimals_and_integer_widths() {
        let sum = |vs: &[Value]| {
            let mut c = Checksum::new();
            vs.iter().for_each(|v| c.value(v));
            c.0
        };
        assert_eq!(
            sum(&[Value::Decimal("012.500".into()), Value::I32(7)]),
            sum(&[Value::Decimal("12.5".into()), Value::I64(7)])
        );
        assert_ne!(
            sum(&[Value::Text("ab".into()), Value::Text("c".into())]),
            sum(&[Value::Text("a".into()), Value::Text("bc".into())])
        );
        assert_eq!(canonical_decimal("-0.00"), "0");
        assert_eq!(canonical_decimal("-000.250"), "-0.25");
    }
}
