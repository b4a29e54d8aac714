//! The statement compiler: expressions, SELECT, INSERT, UPDATE and DELETE rendered through a
//! [`Dialect`]'s hooks. Output is deterministic; the dialects crate asserts it exactly.

use crate::dialect::Dialect;
use crate::error::Result;
use crate::expr::{CmpOp, Expr};
use crate::schema::TableDef;
use crate::value::Value;

/// A rendered statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// The bound parameters, in placeholder order.
    pub params: Vec<Value>,
}

/// Writes SQL text and numbers placeholders.
pub struct SqlWriter<'d> {
    dialect: &'d dyn Dialect,
    /// The SQL so far.
    pub sql: String,
    /// How many placeholders were written.
    pub placeholders: usize,
}

impl<'d> SqlWriter<'d> {
    /// A new writer.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        SqlWriter { dialect, sql: String::with_capacity(128), placeholders: 0 }
    }
    /// Append raw SQL.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }
    /// Append a quoted identifier.
    pub fn ident(&mut self, ident: &str) -> Result<&mut Self> {
        self.dialect.write_identifier(&mut self.sql, ident)?;
        Ok(self)
    }
    /// Append the next placeholder.
    pub fn placeholder(&mut self) -> &mut Self {
        self.placeholders += 1;
        self.dialect.write_placeholder(&mut self.sql, self.placeholders);
        self
    }
    /// The dialect.
    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }
}

/// Render a boolean expression, appending its values to `params`.
pub fn write_expr(w: &mut SqlWriter<'_>, params: &mut Vec<Value>, expr: &Expr) -> Result<()> {
    match expr {
        Expr::Compare { column, op, value } => {
            w.ident(column)?;
            match (op, value) {
                (CmpOp::Eq, Value::Null) => {
                    w.push(" IS NULL");
                }
                (CmpOp::Ne, Value::Null) => {
                    w.push(" IS NOT NULL");
                }
                _ => {
                    w.push(" ").push(op.as_sql()).push(" ").placeholder();
                    params.push(value.clone());
                }
            }
        }
        Expr::InList { column, values, negated } => {
            if values.is_empty() {
                // Always false for IN (), always true for NOT IN (), portably.
                w.push(if *negated { "1 = 1" } else { "1 = 0" });
            } else {
                w.ident(column)?;
                w.push(if *negated { " NOT IN (" } else { " IN (" });
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    w.placeholder();
                    params.push(v.clone());
                }
                w.push(")");
            }
        }
        Expr::Like { column, pattern, negated } => {
            w.ident(column)?;
            w.push(if *negated { " NOT LIKE " } else { " LIKE " }).placeholder();
            params.push(pattern.clone());
        }
        Expr::IsNull { column, negated } => {
            w.ident(column)?;
            w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Expr::Between { column, low, high } => {
            w.ident(column)?;
            w.push(" BETWEEN ").placeholder().push(" AND ").placeholder();
            params.push(low.clone());
            params.push(high.clone());
        }
        Expr::And(items) => write_junction(w, params, items, true)?,
        Expr::Or(items) => write_junction(w, params, items, false)?,
        Expr::Not(inner) => {
            w.push("NOT (");
            write_expr(w, params, inner)?;
            w.push(")");
        }
    }
    Ok(())
}

/// Write the conjunction (`AND`) or disjunction (`OR`) of `items`; an empty list is true for AND
/// and false for OR, and nested junctions are parenthesized.
pub fn write_junction(w: &mut SqlWriter<'_>, params: &mut Vec<Value>, items: &[Expr], and: bool) -> Result<()> {
    match items {
        [] => {
            w.push(if and { "1 = 1" } else { "1 = 0" });
        }
        [one] => write_expr(w, params, one)?,
        many => {
            for (i, e) in many.iter().enumerate() {
                if i > 0 {
                    w.push(if and { " AND " } else { " OR " });
                }
                let paren = matches!(e, Expr::And(v) | Expr::Or(v) if v.len() > 1);
                if paren {
                    w.push("(");
                }
                write_expr(w, params, e)?;
                if paren {
                    w.push(")");
                }
            }
        }
    }
    Ok(())
}

/// Write `"a", "b"` for all columns of a table.
pub fn write_column_list(w: &mut SqlWriter<'_>, table: &TableDef) -> Result<()> {
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(c.name)?;
    }
    Ok(())
}

/// Write ` WHERE "pk1" = ? AND "pk2" = ?`.
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
pub fn select_by_pk(dialect: &dyn Dialect, table: &TableDef) -> Result<String> {
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT ");
    write_column_list(&mut w, table)?;
    w.push(" FROM ").ident(table.name)?;
    write_pk_where(&mut w, table)?;
    Ok(w.sql)
}

/// `INSERT INTO t (cols) VALUES (…), (…)` for `rows` rows, leaving out the autoincrement column
/// when `skip_autoincrement`, with `RETURNING key` when `returning` names it.
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

/// `UPDATE t SET "a" = ?, … WHERE <pk>` for the given column positions.
pub fn update(dialect: &dyn Dialect, table: &TableDef, columns: &[usize]) -> Result<String> {
    let mut w = SqlWriter::new(dialect);
    w.push("UPDATE ").ident(table.name)?.push(" SET ");
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            w.push(", ");
        }
        w.ident(table.columns[i].name)?.push(" = ").placeholder();
    }
    write_pk_where(&mut w, table)?;
    Ok(w.sql)
}

/// `DELETE FROM t WHERE <pk> = ?` (one row), or `WHERE "pk" IN (?, …)` for `rows` rows of a
/// single-column key.
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
