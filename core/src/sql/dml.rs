//! The unit of work's statements: SELECT by primary key, INSERT, UPDATE and DELETE of one table,
//! with unqualified column names (one table per statement).

use super::{write_column_list, SqlWriter};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::TableDef;
use crate::sql::ast::{BatchShape, BatchStatement, Scalar};

/// Write ` WHERE "pk1" = ? AND "pk2" = ?`.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a column name the dialect refuses (empty, NUL, too long).
pub fn write_pk_where(w: &mut SqlWriter<'_>, table: &TableDef) -> Result<()> {
    w.push(" WHERE ");
    for (n, i) in table.primary_key().enumerate() {
        if n > 0 {
            w.push(" AND ");
        }
        w.ident(table.columns[i].name)?.push(" = ").placeholder();
    }
    Ok(())
}

/// `SELECT <all columns> FROM t WHERE <pk> = ?` (the statement behind `Session::get`).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a table or column name the dialect refuses.
pub fn select_by_pk(dialect: &dyn Dialect, table: &TableDef) -> Result<String> {
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT ");
    write_column_list(&mut w, table)?;
    w.push(" FROM ").ident(table.name)?;
    write_pk_where(&mut w, table)?;
    Ok(w.sql)
}

/// `SELECT "a", "b" FROM t WHERE <pk> = ?`: some columns of one row (the unit of work reads back
/// columns an UPDATE wrote from expressions where the database has no `UPDATE … RETURNING`).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses, no
/// column, or a column position out of range.
pub fn select_columns_by_pk(dialect: &dyn Dialect, table: &TableDef, columns: &[usize]) -> Result<String> {
    if columns.is_empty() {
        return Err(crate::Error::invalid_request(format!("a SELECT of {} names no column", table.name)));
    }
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT ");
    for (n, &i) in columns.iter().enumerate() {
        let col = table
            .columns
            .get(i)
            .ok_or_else(|| crate::Error::invalid_request(format!("no column #{i} in {}", table.name)))?;
        if n > 0 {
            w.push(", ");
        }
        w.ident(col.name)?;
    }
    w.push(" FROM ").ident(table.name)?;
    write_pk_where(&mut w, table)?;
    Ok(w.sql)
}

/// `INSERT INTO t (cols) VALUES (…), (…)` for `rows` rows, leaving out the autoincrement column
/// when `skip_autoincrement`, with `RETURNING key` when `returning` names it.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a table or column name the dialect refuses.
pub fn insert(
    dialect: &dyn Dialect,
    table: &TableDef,
    rows: usize,
    skip_autoincrement: bool,
    returning: Option<&str>,
) -> Result<String> {
    let mut w = SqlWriter::new(dialect);
    w.push("INSERT INTO ").ident(table.name)?.push(" (");
    let cols: Vec<&str> =
        table.columns.iter().filter(|c| !(skip_autoincrement && c.autoincrement)).map(|c| c.name).collect();
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(c)?;
    }
    w.push(") VALUES ");
    if cols.is_empty() {
        // A table with only a generated key: every database accepts DEFAULT VALUES but MySQL,
        // which accepts `() VALUES ()`. Keep one row per statement here.
        w.sql.truncate(w.sql.len() - " () VALUES ".len());
        w.push(dialect.insert_default_values());
    } else {
        w.sql.reserve(rows * (cols.len() * 4 + 4));
        for r in 0..rows {
            if r > 0 {
                w.push(", ");
            }
            w.push("(");
            for i in 0..cols.len() {
                if i > 0 {
                    w.push(", ");
                }
                w.placeholder();
            }
            w.push(")");
        }
    }
    if let Some(key) = returning {
        w.push(" RETURNING ").ident(key)?;
    }
    Ok(w.sql)
}

/// `UPDATE t SET "a" = ?, … WHERE <pk>` for the given column positions ([`update_row`] with
/// values only).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a table or column name the dialect
/// refuses, a column position past the table's columns, or no column.
pub fn update(dialect: &dyn Dialect, table: &TableDef, columns: &[usize]) -> Result<String> {
    Ok(update_row(dialect, table, &RowUpdate { columns, ..RowUpdate::default() })?.sql)
}

/// What one row's UPDATE of the unit of work writes ([`update_row`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct RowUpdate<'a> {
    /// Columns set to a bound value: `"a" = ?`, in this order.
    pub columns: &'a [usize],
    /// Columns set to an SQL expression (`"stock" = ("t"."stock" - ?)`), after `columns`; the
    /// expressions' own values are the statement's [`Statement::params`].
    pub exprs: &'a [(usize, &'a Scalar)],
    /// The version column (`#[column(version)]`): `"version" = ?` last in SET (the new version,
    /// bound), and `AND "version" = ?` after the key (the version the row was read at).
    pub version: Option<usize>,
    /// Columns to return (`RETURNING "stock"`), where the database has `UPDATE … RETURNING`.
    pub returning: &'a [usize],
}

/// `UPDATE t SET "a" = ?, "b" = <expr>, "version" = ? WHERE <pk> [AND "version" = ?]
/// [RETURNING …]`: one row of the unit of work. The placeholders are, in order: the values of
/// `columns`, the expressions' values (the returned [`Statement::params`]), the new version, the
/// primary key's values, the version read.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses, a
/// column position out of range, or nothing to set.
pub fn update_row(dialect: &dyn Dialect, table: &TableDef, row: &RowUpdate<'_>) -> Result<super::Statement> {
    let column = |i: usize| {
        table.columns.get(i).ok_or_else(|| crate::Error::invalid_request(format!("no column #{i} in {}", table.name)))
    };
    if row.columns.is_empty() && row.exprs.is_empty() && row.version.is_none() {
        return Err(crate::Error::invalid_request(format!("an UPDATE of {} sets no column", table.name)));
    }
    let mut w = SqlWriter::new(dialect);
    let mut params = Vec::new();
    w.push("UPDATE ").ident(table.name)?.push(" SET ");
    let mut first = true;
    let mut sep = |w: &mut SqlWriter<'_>| {
        if !std::mem::take(&mut first) {
            w.push(", ");
        }
    };
    for &i in row.columns {
        sep(&mut w);
        w.ident(column(i)?.name)?.push(" = ").placeholder();
    }
    for (i, e) in row.exprs {
        sep(&mut w);
        w.ident(column(*i)?.name)?.push(" = ");
        super::write_scalar(&mut w, &mut params, e)?;
    }
    if let Some(v) = row.version {
        sep(&mut w);
        w.ident(column(v)?.name)?.push(" = ").placeholder();
    }
    write_pk_where(&mut w, table)?;
    if let Some(v) = row.version {
        w.push(" AND ").ident(column(v)?.name)?.push(" = ").placeholder();
    }
    for (n, &i) in row.returning.iter().enumerate() {
        w.push(if n == 0 { " RETURNING " } else { ", " });
        w.ident(column(i)?.name)?;
    }
    Ok(super::Statement { sql: w.sql, params })
}

fn batch_column(table: &TableDef, i: usize) -> Result<&crate::schema::ColumnDef> {
    table.columns.get(i).ok_or_else(|| crate::Error::invalid_request(format!("no column #{i} in {}", table.name)))
}

/// The slots of one row: `(column, slot)` for the values, the next version, the key parts and
/// the version read.
struct Slots {
    values: Vec<(usize, u16)>,
    next: Option<(usize, u16)>,
    key: Vec<(usize, u16)>,
    read: Option<(usize, u16)>,
}

fn slots(table: &TableDef, shape: &BatchShape<'_>) -> Result<Slots> {
    let mut n: u16 = 0;
    let mut take = || {
        let s = n;
        n += 1;
        s
    };
    let mut values = Vec::with_capacity(shape.columns.len());
    for &c in shape.columns {
        batch_column(table, c)?;
        values.push((c, take()));
    }
    let next = match shape.version {
        Some(v) => {
            batch_column(table, v)?;
            Some((v, take()))
        }
        None => None,
    };
    let key: Vec<(usize, u16)> = table.primary_key().map(|c| (c, take())).collect();
    if key.is_empty() {
        return Err(crate::Error::invalid_request(format!("table {} has no primary key", table.name)));
    }
    let read = shape.version.map(|v| (v, take()));
    if values.is_empty() && next.is_none() {
        return Err(crate::Error::invalid_request(format!("an UPDATE of {} sets no column", table.name)));
    }
    Ok(Slots { values, next, key, read })
}

/// A batched UPDATE joined to a `VALUES` list, reporting the keys of the rows it matched:
/// `UPDATE t SET a = v.p0, version = v.p1 FROM (VALUES (CAST(? AS <type>), …), …) AS
/// athanor_v(p0, p1, p2, p3) WHERE t.id = v.p2 AND t.version = v.p3 RETURNING t.id`. Every
/// parameter is cast to its column's type (`Dialect::column_type`), so that the `VALUES` columns
/// have the types a single-row UPDATE's parameters would have. For a dialect's
/// `Dialect::write_update_batch` (PostgreSQL's [`crate::BatchUpdate::ReturningKeys`]).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for no rows, no column to set, a
/// table without a primary key, a column position out of range, or a name the dialect refuses.
pub fn update_batch_values(
    dialect: &dyn Dialect,
    table: &TableDef,
    shape: &BatchShape<'_>,
    rows: usize,
) -> Result<BatchStatement> {
    if rows == 0 {
        return Err(crate::Error::invalid_request(format!("a batched UPDATE of {} with no rows", table.name)));
    }
    let s = slots(table, shape)?;
    let nslots = shape.slots(table);
    const ALIAS: &str = "athanor_v";
    let slot_name = |n: u16| format!("p{n}");
    let mut w = SqlWriter::new(dialect);
    let mut order = Vec::with_capacity(rows * nslots);
    w.push("UPDATE ").ident(table.name)?.push(" SET ");
    for (n, (c, slot)) in s.values.iter().chain(&s.next).enumerate() {
        if n > 0 {
            w.push(", ");
        }
        w.ident(batch_column(table, *c)?.name)?.push(" = ").ident(ALIAS)?.push(".").ident(&slot_name(*slot))?;
    }
    // Each slot's column, in slot order, for the casts.
    let mut typed: Vec<(u16, String)> = s
        .values
        .iter()
        .chain(&s.next)
        .chain(&s.key)
        .chain(&s.read)
        .map(|(c, slot)| -> Result<(u16, String)> {
            Ok((*slot, dialect.column_type(batch_column(table, *c)?)?.into_owned()))
        })
        .collect::<Result<_>>()?;
    typed.sort_by_key(|t| t.0);
    w.push(" FROM (VALUES ");
    for r in 0..rows {
        w.push(if r == 0 { "(" } else { ", (" });
        for (slot, ty) in &typed {
            if *slot > 0 {
                w.push(", ");
            }
            w.push("CAST(").placeholder().push(" AS ").push(ty).push(")");
            order.push((r as u32, *slot));
        }
        w.push(")");
    }
    w.push(") AS ").ident(ALIAS)?.push(" (");
    for slot in 0..nslots as u16 {
        if slot > 0 {
            w.push(", ");
        }
        w.ident(&slot_name(slot))?;
    }
    w.push(") WHERE ");
    for (n, (c, slot)) in s.key.iter().chain(&s.read).enumerate() {
        if n > 0 {
            w.push(" AND ");
        }
        let name = batch_column(table, *c)?.name;
        w.ident(table.name)?.push(".").ident(name)?.push(" = ").ident(ALIAS)?.push(".").ident(&slot_name(*slot))?;
    }
    for (n, (c, _)) in s.key.iter().enumerate() {
        w.push(if n == 0 { " RETURNING " } else { ", " });
        w.ident(table.name)?.push(".").ident(batch_column(table, *c)?.name)?;
    }
    Ok(BatchStatement { sql: w.sql, slots: order })
}

/// A batched UPDATE with one `CASE` per column, reporting how many rows it matched:
/// `UPDATE t SET a = CASE id WHEN ? THEN ? … ELSE a END, version = CASE id WHEN ? THEN ? … ELSE
/// version END WHERE (id = ? AND version = ?) OR …` (`WHERE id IN (?, …)` without a version
/// column; `CASE WHEN k1 = ? AND k2 = ? THEN ?` for a composite key). For a dialect's
/// `Dialect::write_update_batch` (MySQL/MariaDB's [`crate::BatchUpdate::MatchedCount`]).
///
/// # Errors
/// As [`update_batch_values`].
pub fn update_batch_case(
    dialect: &dyn Dialect,
    table: &TableDef,
    shape: &BatchShape<'_>,
    rows: usize,
) -> Result<BatchStatement> {
    if rows == 0 {
        return Err(crate::Error::invalid_request(format!("a batched UPDATE of {} with no rows", table.name)));
    }
    let s = slots(table, shape)?;
    let mut w = SqlWriter::new(dialect);
    let mut order = Vec::with_capacity(rows * (shape.slots(table) + s.values.len() * s.key.len()));
    let single = s.key.len() == 1;
    w.push("UPDATE ").ident(table.name)?.push(" SET ");
    for (n, (c, slot)) in s.values.iter().chain(&s.next).enumerate() {
        if n > 0 {
            w.push(", ");
        }
        let name = batch_column(table, *c)?.name;
        w.ident(name)?.push(" = CASE");
        if single {
            w.push(" ").ident(batch_column(table, s.key[0].0)?.name)?;
        }
        for r in 0..rows as u32 {
            w.push(" WHEN ");
            for (k, (kc, kslot)) in s.key.iter().enumerate() {
                if !single {
                    if k > 0 {
                        w.push(" AND ");
                    }
                    w.ident(batch_column(table, *kc)?.name)?.push(" = ");
                }
                w.placeholder();
                order.push((r, *kslot));
            }
            w.push(" THEN ").placeholder();
            order.push((r, *slot));
        }
        w.push(" ELSE ").ident(name)?.push(" END");
    }
    w.push(" WHERE ");
    if single && s.read.is_none() {
        w.ident(batch_column(table, s.key[0].0)?.name)?.push(" IN (");
        for r in 0..rows as u32 {
            if r > 0 {
                w.push(", ");
            }
            w.placeholder();
            order.push((r, s.key[0].1));
        }
        w.push(")");
    } else {
        for r in 0..rows as u32 {
            if r > 0 {
                w.push(" OR ");
            }
            w.push("(");
            for (k, (c, slot)) in s.key.iter().chain(&s.read).enumerate() {
                if k > 0 {
                    w.push(" AND ");
                }
                w.ident(batch_column(table, *c)?.name)?.push(" = ").placeholder();
                order.push((r, *slot));
            }
            w.push(")");
        }
    }
    Ok(BatchStatement { sql: w.sql, slots: order })
}

/// `DELETE FROM t WHERE <pk> = ? AND "version" = ?`: one row of a model with a version column,
/// deleted only at the version it was read at.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses or a
/// column position out of range.
pub fn delete_versioned(dialect: &dyn Dialect, table: &TableDef, version: usize) -> Result<String> {
    let col = table
        .columns
        .get(version)
        .ok_or_else(|| crate::Error::invalid_request(format!("no column #{version} in {}", table.name)))?;
    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ").ident(table.name)?;
    write_pk_where(&mut w, table)?;
    w.push(" AND ").ident(col.name)?.push(" = ").placeholder();
    Ok(w.sql)
}

/// `DELETE FROM t WHERE <pk> = ?` (one row), or `WHERE "pk" IN (?, …)` for `rows` rows of a
/// single-column key.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a table or column name the dialect refuses.
pub fn delete(dialect: &dyn Dialect, table: &TableDef, rows: usize) -> Result<String> {
    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ").ident(table.name)?;
    let pk: Vec<usize> = table.primary_key().collect();
    if rows > 1 && pk.len() == 1 {
        w.push(" WHERE ").ident(table.columns[pk[0]].name)?.push(" IN (");
        for r in 0..rows {
            if r > 0 {
                w.push(", ");
            }
            w.placeholder();
        }
        w.push(")");
    } else {
        write_pk_where(&mut w, table)?;
    }
    Ok(w.sql)
}

/// `DELETE FROM t WHERE "col" IN (?, …)` for `n` values (an association table's rows of
/// deleted objects).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses or a
/// column out of range.
pub fn delete_where_in(dialect: &dyn Dialect, table: &TableDef, column: usize, n: usize) -> Result<String> {
    let col = table
        .columns
        .get(column)
        .ok_or_else(|| crate::Error::invalid_request(format!("no column #{column} in {}", table.name)))?;
    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ").ident(table.name)?.push(" WHERE ").ident(col.name)?.push(" IN (");
    for r in 0..n {
        if r > 0 {
            w.push(", ");
        }
        w.placeholder();
    }
    w.push(")");
    Ok(w.sql)
}

/// `UPDATE t SET "a" = ?, "b" = <expr>, … [WHERE <filters>]` (a bulk UPDATE: `Query::update`),
/// with the new values (and the expressions' values) first and the filters' values after. A
/// value is one placeholder; an expression is rendered as in a query (table-qualified columns,
/// values bound): `"stock" = ("books"."stock" - ?)`.
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses, no
/// column to set, or a column position out of range.
pub fn bulk_update(
    dialect: &dyn Dialect,
    table: &TableDef,
    set: &[(usize, Scalar)],
    filters: &[crate::sql::ast::Expr],
) -> Result<super::Statement> {
    if set.is_empty() {
        return Err(crate::Error::invalid_request(format!("a bulk UPDATE of {} sets no column", table.name)));
    }
    let mut w = SqlWriter::new(dialect);
    let mut params = Vec::with_capacity(set.len());
    w.push("UPDATE ").ident(table.name)?.push(" SET ");
    for (n, (i, v)) in set.iter().enumerate() {
        let col = table
            .columns
            .get(*i)
            .ok_or_else(|| crate::Error::invalid_request(format!("no column #{i} in {}", table.name)))?;
        if n > 0 {
            w.push(", ");
        }
        w.ident(col.name)?.push(" = ");
        match v {
            // A value as a plain placeholder (no cast: the column types it).
            Scalar::Value(v) => {
                w.placeholder();
                params.push(v.clone());
            }
            e => super::write_scalar(&mut w, &mut params, e)?,
        }
    }
    if !filters.is_empty() {
        w.push(" WHERE ");
        super::write_junction(&mut w, &mut params, filters, true)?;
    }
    Ok(super::Statement { sql: w.sql, params })
}

/// `DELETE FROM t [WHERE <filters>]` (a bulk DELETE: `Query::delete`).
///
/// # Errors
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a name the dialect refuses.
pub fn bulk_delete(
    dialect: &dyn Dialect,
    table: &TableDef,
    filters: &[crate::sql::ast::Expr],
) -> Result<super::Statement> {
    let mut w = SqlWriter::new(dialect);
    let mut params = Vec::new();
    w.push("DELETE FROM ").ident(table.name)?;
    if !filters.is_empty() {
        w.push(" WHERE ");
        super::write_junction(&mut w, &mut params, filters, true)?;
    }
    Ok(super::Statement { sql: w.sql, params })
}
