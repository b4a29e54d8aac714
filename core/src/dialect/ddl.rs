//! The DDL a dialect renders through its hooks: `CREATE TABLE` with its indexes and named
//! constraints, foreign keys added later, `DROP TABLE`, column definitions, literals and
//! identifier lists. Free functions over `&dyn Dialect`; the public paths are
//! `athanor_core::{create_table_statements, …}`.

use super::{Capabilities, Dialect};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, DefaultValue, TableDef};
use crate::value::SqlType;
use std::borrow::Cow;
use std::fmt::Write as _;

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
