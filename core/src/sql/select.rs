//! The session-free SELECT: a statement as plain data, rendered by any [`Dialect`].
//!
//! [`SelectStatement`] is the untyped form (a table, filters, sort keys, limit/offset,
//! DISTINCT, FOR UPDATE); [`Select<M>`] is its typed builder, what [`select`] returns and what
//! `Query` wraps. Neither knows a connection: `athanor::select::<Customer>()
//! .filter(Customer::age.ge(18)).to_sql(&dialect)` renders the same text a session would run.

use super::{write_junction, write_qualified_column_list, SqlWriter, Statement};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::expr::{CmpOp, ColumnRef, Condition, Expr, Operand, Ordering};
use crate::model::Model;
use crate::schema::TableDef;
use crate::value::Value;
use std::marker::PhantomData;

/// A SELECT of every column of one table, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStatement {
    /// The table selected from.
    pub table: &'static TableDef,
    /// Conditions, ANDed.
    pub filters: Vec<Expr>,
    /// Sort keys: the column and `true` for descending.
    pub order: Vec<(ColumnRef, bool)>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// `FOR UPDATE` (refused by dialects without row locks).
    pub for_update: bool,
}

impl SelectStatement {
    /// `SELECT <every column> FROM table`, no conditions.
    pub fn new(table: &'static TableDef) -> Self {
        SelectStatement {
            table,
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            distinct: false,
            for_update: false,
        }
    }

    fn write_where(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        if !self.filters.is_empty() {
            w.push(" WHERE ");
            write_junction(w, params, &self.filters, true)?;
        }
        Ok(())
    }

    /// The SELECT with the limit replaced by `limit` (what `first()` and `one()` run: the
    /// smaller of the query's own limit and 1 or 2).
    fn render(&self, dialect: &dyn Dialect, limit: Option<u64>) -> Result<Statement> {
        let mut w = SqlWriter::new(dialect);
        let mut params = Vec::new();
        w.push(if self.distinct { "SELECT DISTINCT " } else { "SELECT " });
        write_qualified_column_list(&mut w, self.table)?;
        w.push(" FROM ").ident(self.table.name)?;
        self.write_where(&mut w, &mut params)?;
        for (i, (col, desc)) in self.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            w.column(col)?.push(if *desc { " DESC" } else { " ASC" });
        }
        dialect.write_limit_offset(&mut w.sql, limit, self.offset)?;
        if self.for_update {
            dialect.write_for_update(&mut w.sql)?;
        }
        Ok(Statement { sql: w.sql, params })
    }

    /// The SELECT.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an identifier the dialect refuses; [`Error::Unsupported`]
    /// for `FOR UPDATE` (or an OFFSET form) the database lacks.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.render(dialect, self.limit)
    }

    /// The SELECT limited to at most `cap` rows (the query's own limit if smaller).
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn to_sql_capped(&self, dialect: &dyn Dialect, cap: u64) -> Result<Statement> {
        self.render(dialect, Some(self.limit.map_or(cap, |l| l.min(cap))))
    }

    /// `SELECT COUNT(*) FROM t WHERE …`; wrapped around the SELECT as a subquery (`AS anon_1`,
    /// SQLAlchemy's name) when the statement has a limit, an offset or DISTINCT, whose rows a
    /// plain COUNT would not count.
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn count_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let mut w = SqlWriter::new(dialect);
        if self.distinct || self.limit.is_some() || self.offset.is_some() {
            let inner = self.to_sql(dialect)?;
            w.push("SELECT COUNT(*) FROM (").push(&inner.sql).push(") AS ").ident("anon_1")?;
            return Ok(Statement { sql: w.sql, params: inner.params });
        }
        let mut params = Vec::new();
        w.push("SELECT COUNT(*) FROM ").ident(self.table.name)?;
        self.write_where(&mut w, &mut params)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// `SELECT EXISTS (<the SELECT>)`.
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn exists_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let inner = self.to_sql(dialect)?;
        let mut sql = String::with_capacity(inner.sql.len() + 16);
        sql.push_str("SELECT EXISTS (");
        sql.push_str(&inner.sql);
        sql.push(')');
        Ok(Statement { sql, params: inner.params })
    }
}

/// A typed SELECT of model `M`, built generatively (each method returns the changed
/// statement) and rendered by a dialect: SQLAlchemy 2.0's `select(Customer)`.
///
/// ```text
/// let st = athanor::select::<Customer>()
///     .filter(Customer::age.ge(18))
///     .order_by(Customer::name.asc())
///     .limit(10)
///     .to_sql(engine.dialect())?;
/// ```
pub struct Select<M: Model> {
    statement: SelectStatement,
    /// The first error of a builder step that could not be checked by types (`filter_by` of an
    /// unknown column), reported when the statement is rendered.
    error: Option<Error>,
    _model: PhantomData<fn() -> M>,
}

/// `SELECT <every column of M> FROM <M's table>`.
pub fn select<M: Model>() -> Select<M> {
    Select { statement: SelectStatement::new(M::TABLE), error: None, _model: PhantomData }
}

impl<M: Model> Clone for Select<M> {
    fn clone(&self) -> Self {
        Select { statement: self.statement.clone(), error: self.error.clone(), _model: PhantomData }
    }
}

impl<M: Model> std::fmt::Debug for Select<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select").field("statement", &self.statement).field("error", &self.error).finish()
    }
}

impl<M: Model> Select<M> {
    /// Add a condition (several filters are ANDed).
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.statement.filters.push(condition.into_expr());
        self
    }

    /// Add `column = value` by column (or field) name, checked when the statement is rendered
    /// (SQLAlchemy's `filter_by(name="ed")`). Prefer the typed [`Select::filter`].
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        match M::TABLE.column_index(column) {
            Some(i) => self.statement.filters.push(Expr::Compare {
                left: ColumnRef::new(M::TABLE.name, M::TABLE.columns[i].name),
                op: CmpOp::Eq,
                right: Operand::Value(value.into()),
            }),
            None => {
                if self.error.is_none() {
                    self.error =
                        Some(Error::invalid(format!("filter_by: {} has no column {column:?}", M::TABLE.rust_name)));
                }
            }
        }
        self
    }

    /// Add a sort key (`Customer::name.asc()`, `Customer::age.desc()`).
    pub fn order_by(mut self, ordering: Ordering<M>) -> Self {
        self.statement.order.push((ordering.column, ordering.descending));
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.statement.limit = Some(n);
        self
    }

    /// Skip `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.statement.offset = Some(n);
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.statement.distinct = true;
        self
    }

    /// `SELECT … FOR UPDATE`: lock the rows until the transaction ends. Rendering fails with
    /// [`Error::Unsupported`] on databases without row locks (SQLite).
    pub fn with_for_update(mut self) -> Self {
        self.statement.for_update = true;
        self
    }

    /// The untyped statement.
    ///
    /// # Errors
    /// The error of a `filter_by` naming an unknown column.
    pub fn statement(&self) -> Result<&SelectStatement> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(&self.statement),
        }
    }

    /// The SELECT's text and parameters.
    ///
    /// # Errors
    /// A `filter_by` of an unknown column ([`Error::InvalidRequest`]), an identifier the dialect
    /// refuses, or `FOR UPDATE` where unsupported ([`Error::Unsupported`]).
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.statement()?.to_sql(dialect)
    }

    /// The COUNT form ([`SelectStatement::count_sql`]).
    ///
    /// # Errors
    /// As [`Select::to_sql`].
    pub fn count_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.statement()?.count_sql(dialect)
    }

    /// The EXISTS form ([`SelectStatement::exists_sql`]).
    ///
    /// # Errors
    /// As [`Select::to_sql`].
    pub fn exists_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.statement()?.exists_sql(dialect)
    }
}
