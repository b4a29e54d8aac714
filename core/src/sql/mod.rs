//! The SQL layer: statements as plain data, rendered through a [`Dialect`]'s hooks, with no
//! connection or session in sight. Output is deterministic; the dialects crate asserts it
//! exactly.
//!
//! - `ast`: the untyped syntax tree and the statement data ([`ast::Expr`], [`SelectStatement`],
//!   [`Text`], …), plain data below the dialect;
//! - this module: the [`SqlWriter`] and the rendering of expressions ([`write_expr`]);
//! - `select`: the rendering of [`SelectStatement`] (the statement behind the ORM's typed
//!   `Select<M>` and `Query`), with its COUNT and EXISTS forms;
//! - `text`: raw SQL with portable `:name` binds ([`text`]);
//! - `dml`: the unit of work's per-table INSERT, UPDATE, DELETE and SELECT by key.

pub mod ast;
mod dml;
pub mod select;
mod text;

pub use ast::{BatchShape, BatchStatement};
pub use dml::{
    bulk_delete, bulk_update, delete, delete_versioned, delete_where_in, insert, select_by_pk, select_columns_by_pk,
    update, update_batch_case, update_batch_values, update_row, write_pk_where, RowUpdate,
};
pub use select::SelectStatement;
pub use text::{text, Text};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::sql::ast::{CmpOp, ColumnRef, Expr, Operand};
use crate::value::Value;

/// A rendered statement and its parameters.
///
/// `Display` prints the SQL text with its placeholders, as SQLAlchemy's `str(stmt)` does: the
/// values stay in [`Statement::params`] and are never written into the text (they are bound).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// The bound parameters, in placeholder order.
    pub params: Vec<Value>,
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sql)
    }
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
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an identifier the dialect refuses (empty, NUL, too long).
    pub fn ident(&mut self, ident: &str) -> Result<&mut Self> {
        self.dialect.write_identifier(&mut self.sql, ident)?;
        Ok(self)
    }
    /// Append a table-qualified column: `"customers"."age"`.
    ///
    /// # Errors
    /// Those of [`SqlWriter::ident`].
    pub fn column(&mut self, column: &ColumnRef) -> Result<&mut Self> {
        self.dialect.write_identifier(&mut self.sql, column.table)?;
        self.sql.push('.');
        self.dialect.write_identifier(&mut self.sql, column.column)?;
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
///
/// # Errors
/// Those of [`SqlWriter::ident`] (for the column names).
pub fn write_expr(w: &mut SqlWriter<'_>, params: &mut Vec<Value>, expr: &Expr) -> Result<()> {
    match expr {
        Expr::Compare { left, op, right } => {
            w.column(left)?;
            match (op, right) {
                (CmpOp::Eq, Operand::Value(Value::Null)) => {
                    w.push(" IS NULL");
                }
                (CmpOp::Ne, Operand::Value(Value::Null)) => {
                    w.push(" IS NOT NULL");
                }
                (_, Operand::Value(value)) => {
                    w.push(" ").push(op.as_sql()).push(" ").placeholder();
                    params.push(value.clone());
                }
                (_, Operand::Column(other)) => {
                    w.push(" ").push(op.as_sql()).push(" ").column(other)?;
                }
            }
        }
        Expr::InList { column, values, negated } => {
            if values.is_empty() {
                // Always false for IN (), always true for NOT IN (), portably.
                w.push(if *negated { "1 = 1" } else { "1 = 0" });
            } else {
                w.column(column)?;
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
        Expr::Like { column, pattern, negated, escape, case_insensitive } => {
            check_like(w.dialect.name(), pattern, *escape)?;
            if *case_insensitive {
                w.push("LOWER(").column(column)?.push(")");
            } else {
                w.column(column)?;
            }
            w.push(if *negated { " NOT LIKE " } else { " LIKE " });
            if *case_insensitive {
                w.push("LOWER(").placeholder().push(")");
            } else {
                w.placeholder();
            }
            params.push(pattern.clone());
            w.push(" ESCAPE ");
            write_char_literal(w, *escape);
        }
        Expr::IsNull { column, negated } => {
            w.column(column)?;
            w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Expr::Between { column, low, high } => {
            w.column(column)?;
            w.push(" BETWEEN ").placeholder().push(" AND ").placeholder();
            params.push(low.clone());
            params.push(high.clone());
        }
        Expr::InSubquery { column, subquery, negated } => {
            w.column(column)?;
            w.push(if *negated { " NOT IN " } else { " IN " });
            subquery.write(w, params)?;
        }
        Expr::Text(t) => {
            w.push("(");
            t.write(w, params)?;
            w.push(")");
        }
        Expr::Exists { subquery, negated } => {
            w.push(if *negated { "NOT EXISTS " } else { "EXISTS " });
            subquery.write(w, params)?;
        }
        Expr::CompareScalar { left, op, right } => {
            write_scalar(w, params, left)?;
            w.push(" ").push(op.as_sql()).push(" ");
            write_scalar(w, params, right)?;
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

/// Write a sort key on `qualifier.column`: the explicit NULL order, or for a nullable column the
/// default one (NULL smallest), through [`Dialect::write_nulls_order`] only where the database's
/// own order differs.
///
/// # Errors
/// Those of [`SqlWriter::ident`].
pub fn write_order_key(
    w: &mut SqlWriter<'_>,
    qualifier: &str,
    column: &str,
    descending: bool,
    nulls: Option<crate::sql::ast::NullsOrder>,
    nullable: bool,
) -> Result<()> {
    let mut col = String::new();
    w.dialect.write_identifier(&mut col, qualifier)?;
    col.push('.');
    w.dialect.write_identifier(&mut col, column)?;
    write_order_sql(w, &col, descending, nulls, nullable);
    Ok(())
}

/// Write a sort key over already rendered SQL (a column or an expression), with the NULL rule
/// of [`write_order_key`].
pub fn write_order_sql(
    w: &mut SqlWriter<'_>,
    col: &str,
    descending: bool,
    nulls: Option<crate::sql::ast::NullsOrder>,
    nullable: bool,
) {
    use crate::sql::ast::NullsOrder;
    let smallest = if descending { NullsOrder::Last } else { NullsOrder::First };
    let wanted = nulls.or(nullable.then_some(smallest));
    let native =
        if w.dialect.capabilities().nulls_sort_low != descending { NullsOrder::First } else { NullsOrder::Last };
    match wanted {
        Some(n) if n != native => w.dialect.write_nulls_order(&mut w.sql, col, descending, n),
        _ => {
            w.sql.push_str(col);
            w.sql.push_str(if descending { " DESC" } else { " ASC" });
        }
    }
}

/// Render a scalar expression: arithmetic parenthesized, integer division through
/// [`Dialect::integer_division_operator`], values bound.
///
/// # Errors
/// Those of [`SqlWriter::ident`].
pub fn write_scalar(w: &mut SqlWriter<'_>, params: &mut Vec<Value>, s: &crate::sql::ast::Scalar) -> Result<()> {
    use crate::sql::ast::{ArithOp, NumberKind, Scalar};
    match s {
        Scalar::Column(c) => {
            w.column(c)?;
        }
        Scalar::Value(Value::Decimal(digits)) if w.dialect.cast_decimal_parameters() => {
            let (precision, scale) = crate::decimal::precision_scale(digits);
            w.push("CAST(").placeholder().push(&format!(" AS DECIMAL({precision},{scale}))"));
            params.push(Value::Decimal(digits.clone()));
        }
        Scalar::Value(v) => {
            w.placeholder();
            params.push(v.clone());
        }
        Scalar::Arith { op, left, right, kind: NumberKind::Decimal } => {
            write_decimal_arith(w, params, *op, left, right)?;
        }
        Scalar::Arith { op, left, right, kind } => {
            w.push("(");
            write_scalar(w, params, left)?;
            let sym = match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                ArithOp::Mul => " * ",
                ArithOp::Div if *kind == NumberKind::Integer => w.dialect.integer_division_operator(),
                ArithOp::Div => " / ",
                ArithOp::Rem => " % ",
            };
            w.push(sym);
            write_scalar(w, params, right)?;
            w.push(")");
        }
        Scalar::Neg(inner) => {
            w.push("(-");
            write_scalar(w, params, inner)?;
            w.push(")");
        }
        Scalar::Func { func, args } => write_func(w, params, *func, args)?,
        Scalar::Case { whens, otherwise } => {
            w.push("CASE");
            for (cond, then) in whens {
                w.push(" WHEN ");
                write_expr(w, params, cond)?;
                w.push(" THEN ");
                write_case_result(w, params, then)?;
            }
            if let Some(e) = otherwise {
                w.push(" ELSE ");
                write_case_result(w, params, e)?;
            }
            w.push(" END");
        }
        Scalar::Subquery(sub) => sub.write(w, params)?,
        Scalar::Text(t) => {
            w.push("(");
            t.write(w, params)?;
            w.push(")");
        }
        Scalar::Labeled { inner, label } => {
            write_scalar(w, params, inner)?;
            w.push(" AS ").ident(label)?;
        }
        Scalar::Cast { inner, to } => {
            let (open, close) = w.dialect.cast(*to);
            w.push(open);
            write_scalar(w, params, inner)?;
            w.push(close);
        }
    }
    Ok(())
}

/// `(a op b)` over exact decimals, or the dialect's exact function `f(a, b)` (SQLite), compared
/// through its decimal collation.
///
/// # Errors
/// [`Error::Unsupported`] for `/` and `%`: the databases give quotients of decimals different
/// scales (the typed layer offers neither on decimals).
fn write_decimal_arith(
    w: &mut SqlWriter<'_>,
    params: &mut Vec<Value>,
    op: crate::sql::ast::ArithOp,
    left: &crate::sql::ast::Scalar,
    right: &crate::sql::ast::Scalar,
) -> Result<()> {
    use crate::sql::ast::{ArithOp, DecimalFunc};
    let (func, sym) = match op {
        ArithOp::Add => (DecimalFunc::Add, " + "),
        ArithOp::Sub => (DecimalFunc::Sub, " - "),
        ArithOp::Mul => (DecimalFunc::Mul, " * "),
        ArithOp::Div | ArithOp::Rem => {
            return Err(Error::unsupported(
                "division of exact decimals (each database keeps its own scale)",
                w.dialect.name(),
            ))
        }
    };
    w.push("(");
    match w.dialect.exact_decimal_function(func) {
        Some(name) => {
            w.push(name).push("(");
            write_scalar(w, params, left)?;
            w.push(", ");
            write_scalar(w, params, right)?;
            w.push(")");
            if let Some(collation) = w.dialect.decimal_collation() {
                w.push(" COLLATE ").push(collation);
            }
        }
        None => {
            write_scalar(w, params, left)?;
            w.push(sym);
            write_scalar(w, params, right)?;
        }
    }
    w.push(")");
    Ok(())
}

/// An aggregate of exact decimals: `SUM(x)`, or `ROUND(AVG(x), scale)` with the dialect's
/// widening of the argument; SQLite's exact functions (`athanor_decimal_avg(x, scale)`), compared
/// through its decimal collation.
fn write_decimal_aggregate(
    w: &mut SqlWriter<'_>,
    params: &mut Vec<Value>,
    func: crate::sql::ast::DecimalFunc,
    args: &[crate::sql::ast::Scalar],
) -> Result<()> {
    use crate::sql::ast::DecimalFunc;
    let scale = crate::decimal::DECIMAL_AVG_SCALE;
    let avg = func == DecimalFunc::Avg;
    match w.dialect.exact_decimal_function(func) {
        Some(name) => {
            w.push("(").push(name).push("(");
            for a in args {
                write_scalar(w, params, a)?;
            }
            if avg {
                w.push(&format!(", {scale}"));
            }
            w.push(")");
            if let Some(collation) = w.dialect.decimal_collation() {
                w.push(" COLLATE ").push(collation);
            }
            w.push(")");
        }
        None if avg => {
            let (open, close) = w.dialect.decimal_avg_argument();
            w.push("ROUND(AVG(").push(open);
            for a in args {
                write_scalar(w, params, a)?;
            }
            w.push(close).push(&format!("), {scale})"));
        }
        None => {
            w.push("SUM(");
            for a in args {
                write_scalar(w, params, a)?;
            }
            w.push(")");
        }
    }
    Ok(())
}

/// A function call, in the dialect's spelling (`||` or `CONCAT`, `LENGTH` or `CHAR_LENGTH`, the
/// average as a double, the current instant).
fn write_func(
    w: &mut SqlWriter<'_>,
    params: &mut Vec<Value>,
    func: crate::sql::ast::SqlFunc,
    args: &[crate::sql::ast::Scalar],
) -> Result<()> {
    use crate::sql::ast::{DecimalFunc, SqlFunc};
    let name = match func {
        SqlFunc::Concat => match w.dialect.concat_operator() {
            Some(op) => {
                w.push("(");
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        w.push(op);
                    }
                    write_scalar(w, params, a)?;
                }
                w.push(")");
                return Ok(());
            }
            None => "CONCAT",
        },
        SqlFunc::Lower => "LOWER",
        SqlFunc::Upper => "UPPER",
        SqlFunc::Length => w.dialect.char_length_function(),
        SqlFunc::Coalesce => "COALESCE",
        SqlFunc::Count if args.is_empty() => {
            w.push("COUNT(*)");
            return Ok(());
        }
        SqlFunc::Count => "COUNT",
        SqlFunc::CountDistinct => {
            w.push("COUNT(DISTINCT ");
            for a in args {
                write_scalar(w, params, a)?;
            }
            w.push(")");
            return Ok(());
        }
        SqlFunc::Sum => "SUM",
        SqlFunc::Avg => {
            let (open, close) = w.dialect.avg_as_double();
            w.push(open);
            for a in args {
                write_scalar(w, params, a)?;
            }
            w.push(close);
            return Ok(());
        }
        SqlFunc::Min => "MIN",
        SqlFunc::Max => "MAX",
        SqlFunc::Now => {
            w.push(w.dialect.now_function());
            return Ok(());
        }
        SqlFunc::DecimalSum => return write_decimal_aggregate(w, params, DecimalFunc::Sum, args),
        SqlFunc::DecimalAvg => return write_decimal_aggregate(w, params, DecimalFunc::Avg, args),
        SqlFunc::Extract(part) => {
            let (open, close) = w.dialect.date_part(part);
            w.push(open);
            for a in args {
                write_scalar(w, params, a)?;
            }
            w.push(close);
            return Ok(());
        }
    };
    w.push(name).push("(");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        write_scalar(w, params, a)?;
    }
    w.push(")");

    Ok(())
}

/// A result of a `CASE`: a bound number is cast to its type (PostgreSQL types a parameter that
/// nothing else types as text).
fn write_case_result(w: &mut SqlWriter<'_>, params: &mut Vec<Value>, s: &crate::sql::ast::Scalar) -> Result<()> {
    use crate::sql::ast::{CastType, Scalar};
    let to = match s {
        Scalar::Value(Value::I16(_) | Value::I32(_) | Value::I64(_)) => Some(CastType::BigInt),
        Scalar::Value(Value::F32(_) | Value::F64(_)) => Some(CastType::Double),
        _ => None,
    };
    match to {
        Some(to) => write_scalar(w, params, &Scalar::Cast { inner: Box::new(s.clone()), to }),
        None => write_scalar(w, params, s),
    }
}

/// The refusals of a LIKE condition, the same on every database and made before anything is
/// sent: a pattern containing NUL (SQLite reads a LIKE pattern only up to a NUL, so it would match
/// rows it should not; PostgreSQL cannot hold NUL in text), and an escape character that is not
/// one ASCII character other than NUL (MySQL compares a multi-byte escape byte-wise and matches
/// nothing).
fn check_like(dialect: &'static str, pattern: &Value, escape: char) -> Result<()> {
    if matches!(pattern, Value::Text(p) if p.contains('\0')) {
        return Err(Error::unsupported("a LIKE pattern containing the NUL character", dialect));
    }
    if !escape.is_ascii() || escape == '\0' {
        return Err(Error::unsupported(
            format!("the LIKE escape character {escape:?} (it must be one ASCII character other than NUL)"),
            dialect,
        ));
    }
    Ok(())
}

/// A one-character string literal (a LIKE escape character): quotes doubled, and backslashes
/// doubled where the dialect treats them as escapes in literals (MySQL).
fn write_char_literal(w: &mut SqlWriter<'_>, c: char) {
    w.sql.push('\'');
    match c {
        '\'' => w.sql.push_str("''"),
        '\\' if w.dialect.backslash_escapes() => w.sql.push_str("\\\\"),
        c => w.sql.push(c),
    }
    w.sql.push('\'');
}

/// Write the conjunction (`AND`) or disjunction (`OR`) of `items`; an empty list is true for AND
/// and false for OR, and nested junctions are parenthesized.
///
/// # Errors
/// Those of [`write_expr`].
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

/// Write `"t"."a", "t"."b"` for all columns of a table.
///
/// # Errors
/// Those of [`SqlWriter::ident`].
pub fn write_qualified_column_list(w: &mut SqlWriter<'_>, table: &'static TableDef) -> Result<()> {
    // Every SELECT of a model names all its columns: the list is rendered once per table and
    // dialect on each thread and copied from then on (it was half of a one-row query's
    // rendering). Table definitions are `'static` (derived, or leaked by reflection and never
    // freed), so the address identifies one; the dialect is told apart by its name and quote
    // character (see `Dialect::name`).
    COLUMN_LISTS.with(|cache| {
        let key = (table as *const TableDef as usize, w.dialect.name().as_ptr() as usize, w.dialect.quote_char());
        if let Some(text) = cache.borrow().get(&key) {
            w.push(text);
            return Ok(());
        }
        let mut list = SqlWriter::new(w.dialect);
        for (i, c) in table.columns.iter().enumerate() {
            if i > 0 {
                list.push(", ");
            }
            list.column(&ColumnRef { table: table.name, column: c.name })?;
        }
        w.push(&list.sql);
        cache.borrow_mut().insert(key, list.sql.into_boxed_str());
        Ok(())
    })
}

/// The hasher of the per-thread column-list cache: its keys are addresses, not data.
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

type ColumnListKey = (usize, usize, char);

thread_local! {
    static COLUMN_LISTS: std::cell::RefCell<
        std::collections::HashMap<ColumnListKey, Box<str>, std::hash::BuildHasherDefault<AddressHasher>>,
    > = std::cell::RefCell::new(std::collections::HashMap::default());
}

/// Write `"a", "b"` for all columns of a table.
///
/// # Errors
/// Those of [`SqlWriter::ident`].
pub fn write_column_list(w: &mut SqlWriter<'_>, table: &TableDef) -> Result<()> {
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(c.name)?;
    }
    Ok(())
}
