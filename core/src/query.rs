//! The generative [`Query`]: each method returns a new query; nothing runs until `all()`,
//! `first()`, `one()`, `one_or_none()`, `count()` or `exists()`.

use crate::error::{Error, Result};
use crate::expr::{Condition, Expr, Ordering};
use crate::schema::Model;
use crate::session::{Handle, Session};
use crate::sql::{self, SqlWriter, Statement};
use crate::value::Value;
use std::marker::PhantomData;

/// A SELECT of model `M` being built (`session.query(Customer)`).
///
/// ```text
/// let adults = session.query::<Customer>()
///     .filter(Customer::age.ge(18))
///     .order_by(Customer::name.asc())
///     .all()?;
/// ```
///
/// (A runnable version is the `athanor` crate's front-page example, where `#[derive(Model)]` is
/// available.)
pub struct Query<'s, M: Model> {
    session: &'s Session,
    filters: Vec<Expr>,
    order: Vec<(&'static str, bool)>,
    limit: Option<u64>,
    offset: Option<u64>,
    distinct: bool,
    for_update: bool,
    error: Option<Error>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for Query<'_, M> {
    fn clone(&self) -> Self {
        Query {
            session: self.session,
            filters: self.filters.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            distinct: self.distinct,
            for_update: self.for_update,
            error: self.error.clone(),
            _model: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for Query<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.statement() {
            Ok(s) => write!(f, "Query({} {:?})", s.sql, s.params),
            Err(e) => write!(f, "Query(<{e}>)"),
        }
    }
}

impl<'s, M: Model> Query<'s, M> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Query {
            session,
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            distinct: false,
            for_update: false,
            error: None,
            _model: PhantomData,
        }
    }

    /// Add a condition (several filters are ANDed).
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.filters.push(condition.into_expr());
        self
    }

    /// Add `column = value` by column (or field) name, checked when the query runs
    /// (SQLAlchemy's `filter_by(name="ed")`). Prefer the typed [`Query::filter`].
    pub fn filter_by(mut self, column: &str, value: impl Into<Value>) -> Self {
        match M::TABLE.column_index(column) {
            Some(i) => self.filters.push(Expr::Compare {
                column: M::TABLE.columns[i].name,
                op: crate::expr::CmpOp::Eq,
                value: value.into(),
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
        self.order.push((ordering.column, ordering.descending));
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skip `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// `SELECT … FOR UPDATE`: lock the rows until the transaction ends. Fails with
    /// [`Error::Unsupported`] on databases without row locks (SQLite).
    pub fn with_for_update(mut self) -> Self {
        self.for_update = true;
        self
    }

    fn write_where(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        if !self.filters.is_empty() {
            w.push(" WHERE ");
            sql::write_junction(w, params, &self.filters, true)?;
        }
        Ok(())
    }

    fn select(&self, limit: Option<u64>) -> Result<Statement> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let dialect = self.session.engine().dialect_arc();
        let mut w = SqlWriter::new(&*dialect);
        let mut params = Vec::new();
        w.push(if self.distinct { "SELECT DISTINCT " } else { "SELECT " });
        sql::write_column_list(&mut w, M::TABLE)?;
        w.push(" FROM ").ident(M::TABLE.name)?;
        self.write_where(&mut w, &mut params)?;
        for (i, (col, desc)) in self.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            w.ident(col)?.push(if *desc { " DESC" } else { " ASC" });
        }
        dialect.write_limit_offset(&mut w.sql, limit, self.offset)?;
        if self.for_update {
            dialect.write_for_update(&mut w.sql)?;
        }
        Ok(Statement { sql: w.sql, params })
    }

    /// The SELECT this query runs, with its parameters (to see the SQL).
    pub fn statement(&self) -> Result<Statement> {
        self.select(self.limit)
    }

    /// The SQL text this query runs.
    pub fn sql(&self) -> Result<String> {
        self.statement().map(|s| s.sql)
    }

    /// All matching objects, in order (after autoflush).
    pub fn all(&self) -> Result<Vec<Handle<M>>> {
        let s = self.statement()?;
        self.session.load::<M>(&s.sql, &s.params)
    }

    /// The first matching object (`LIMIT 1`), or `None`.
    pub fn first(&self) -> Result<Option<Handle<M>>> {
        let s = self.select(Some(self.limit.map_or(1, |l| l.min(1))))?;
        Ok(self.session.load::<M>(&s.sql, &s.params)?.into_iter().next())
    }

    /// Exactly one object: [`Error::NotFound`] for none, [`Error::MultipleResults`] for more.
    pub fn one(&self) -> Result<Handle<M>> {
        self.one_or_none()?.ok_or_else(|| Error::NotFound { what: self.describe() })
    }

    /// One object or `None`: [`Error::MultipleResults`] for more than one.
    pub fn one_or_none(&self) -> Result<Option<Handle<M>>> {
        let s = self.select(Some(self.limit.map_or(2, |l| l.min(2))))?;
        let mut rows = self.session.load::<M>(&s.sql, &s.params)?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(rows.pop()),
            _ => Err(Error::MultipleResults { what: self.describe() }),
        }
    }

    fn describe(&self) -> String {
        match self.statement() {
            Ok(s) => format!("{} where {}", M::TABLE.name, s.sql),
            Err(_) => M::TABLE.name.to_string(),
        }
    }

    /// The number of matching rows (`SELECT COUNT(*)`; wrapped in a subquery when the query has
    /// a limit, an offset or DISTINCT).
    pub fn count(&self) -> Result<u64> {
        let s = self.count_statement()?;
        let n: i64 = self.session.scalar(&s.sql, &s.params)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The COUNT statement.
    pub fn count_statement(&self) -> Result<Statement> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.distinct || self.limit.is_some() || self.offset.is_some() {
            let inner = self.select(self.limit)?;
            let dialect = self.session.engine().dialect_arc();
            let mut w = SqlWriter::new(&*dialect);
            w.push("SELECT COUNT(*) FROM (").push(&inner.sql).push(") AS ").ident("anon_1")?;
            return Ok(Statement { sql: w.sql, params: inner.params });
        }
        let dialect = self.session.engine().dialect_arc();
        let mut w = SqlWriter::new(&*dialect);
        let mut params = Vec::new();
        w.push("SELECT COUNT(*) FROM ").ident(M::TABLE.name)?;
        self.write_where(&mut w, &mut params)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// `true` when at least one row matches (`SELECT EXISTS (…)`).
    pub fn exists(&self) -> Result<bool> {
        let inner = self.select(self.limit)?;
        let sql = format!("SELECT EXISTS ({})", inner.sql);
        self.session.scalar(&sql, &inner.params)
    }
}
