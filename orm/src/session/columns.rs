//! `session.select((User::name, func::count(Post::id)))`: a [`ColumnSelect`] (the session-free
//! column select of `column_select.rs`, SQLAlchemy 2.0's `select(User.name, func.count(Post.id))`)
//! bound to a session, so that `all()`, `first()`, `one()` and `iter()` run it and return typed
//! tuples; [`CompoundQuery`] is the same for a UNION. The statement, its joins (the [`Joinable`]
//! trait), GROUP BY / HAVING, subqueries and UNION live on the value; this file only runs it.

use super::query::InQuery;
use super::Session;
use crate::column_select::{ColumnSelect, CompoundSelect, Derived, GroupKeys, Selection, SelectionIn};
use crate::expr::{AliasName, Column, Condition, Source};
use crate::select::{Joinable, OrderKeys, Select};
use athanor_core::error::{Error, Result};
use athanor_core::value::{Value, ValueRef};

/// A SELECT of columns and expressions being built in a session (`Session::select`): a session
/// and a [`ColumnSelect`].
pub struct ColumnQuery<'s, S: Selection, J = ()> {
    session: &'s Session,
    select: ColumnSelect<S, J>,
    /// Rows per batch for [`ColumnQuery::iter`].
    fetch: Option<usize>,
}

impl Session {
    /// A SELECT of columns and expressions, returning typed tuples:
    ///
    /// ```text
    /// let rows: Vec<(String, i64)> = session
    ///     .select((User::name, func::count(Post::id)))
    ///     .join(User::posts)
    ///     .group_by(User::name)
    ///     .having(func::count(Post::id).gt(2))
    ///     .order_by(User::name.asc())
    ///     .all()?;
    /// ```
    ///
    /// The same statement without a session is `athanor::select_columns(items)`, which
    /// `session.execute(…)` runs.
    pub fn select<S: Selection>(&self, items: S) -> ColumnQuery<'_, S> {
        ColumnQuery { session: self, select: crate::column_select::select_columns(items), fetch: None }
    }
}

impl<'s, S: Selection, J> Joinable for ColumnQuery<'s, S, J> {
    type Root = S::Root;
    type Joins = J;
    type With<J2> = ColumnQuery<'s, S, J2>;
    fn with_joins<J2>(self, f: impl FnOnce(Select<S::Root, J>) -> Select<S::Root, J>) -> ColumnQuery<'s, S, J2> {
        ColumnQuery { session: self.session, select: self.select.with_joins(f), fetch: self.fetch }
    }
}

impl<'s, S: Selection, J> ColumnQuery<'s, S, J> {
    /// A session and a column select: what `Session::execute` runs.
    pub(crate) fn from_select(session: &'s Session, select: ColumnSelect<S, J>) -> Self {
        ColumnQuery { session, select, fetch: None }
    }

    fn map(mut self, f: impl FnOnce(ColumnSelect<S, J>) -> ColumnSelect<S, J>) -> Self {
        self.select = f(self.select);
        self
    }

    /// The session-free statement this query runs.
    pub fn column_select(&self) -> &ColumnSelect<S, J> {
        &self.select
    }

    /// Add a condition (WHERE).
    pub fn filter<N, I>(self, condition: Condition<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.map(|s| s.filter(condition))
    }

    /// `GROUP BY` one key or a tuple of them ([`ColumnSelect::group_by`]).
    pub fn group_by<I>(self, keys: impl GroupKeys<S::Root, J, I>) -> Self {
        self.map(|s| s.group_by(keys))
    }

    /// `HAVING condition` (on aggregates: `func::count(Post::id).gt(2)`).
    pub fn having<N, I>(self, condition: Condition<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.map(|s| s.having(condition))
    }

    /// Sort keys on columns or expressions (`func::count(Post::id).desc()`), one or a tuple;
    /// NULLs sort smallest unless `nulls_first()` / `nulls_last()` say otherwise.
    pub fn order_by<I>(self, keys: impl OrderKeys<S::Root, J, I>) -> Self {
        self.map(|s| s.order_by(keys))
    }

    /// At most `n` rows.
    pub fn limit(self, n: u64) -> Self {
        self.map(|s| s.limit(n))
    }

    /// Skip `n` rows.
    pub fn offset(self, n: u64) -> Self {
        self.map(|s| s.offset(n))
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(self) -> Self {
        self.map(ColumnSelect::distinct)
    }

    /// This SELECT as a subquery ([`ColumnSelect::subquery`]).
    pub fn subquery<I>(&self) -> crate::expr::Subquery<S::Out>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.select.subquery()
    }

    /// This SELECT as a table for another SELECT's FROM ([`ColumnSelect::subquery_as`]).
    pub fn subquery_as<I, A: AliasName>(&self, alias: A) -> Derived<S, A>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.select.subquery_as(alias)
    }

    /// This SELECT as a subquery correlated with the enclosing query
    /// ([`ColumnSelect::correlate`]).
    pub fn correlate<P, Q, V, W, K, I, IP>(
        &self,
        inner: Column<P, V>,
        outer: Column<Q, W>,
    ) -> crate::expr::Correlated<S::Out, Q>
    where
        S: SelectionIn<S::Root, J, I>,
        P: Source + InQuery<S::Root, J, IP>,
        Q: Source,
        W: crate::expr::Comparable<V, K>,
    {
        self.select.correlate(inner, outer)
    }

    /// The statement and its parameters.
    ///
    /// # Errors
    /// As `Query::statement`; [`Error::InvalidRequest`] for no selected item.
    pub fn statement(&self) -> Result<athanor_core::sql::Statement> {
        self.select.to_sql_capped(self.session.engine().dialect(), None)
    }

    /// Run it (after autoflush): every row, decoded.
    ///
    /// # Errors
    /// A rendering error; a cell that does not decode into its item's type
    /// ([`Error::TypeMismatch`]); the database's (the session then needs `rollback()`).
    pub fn all<I>(&self) -> Result<Vec<S::Out>>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.rows(None)
    }

    /// The rows, at most `cap` of them (within the query's own limit).
    pub(crate) fn rows(&self, cap: Option<u64>) -> Result<Vec<S::Out>> {
        let st = self.select.to_sql_capped(self.session.engine().dialect(), cap)?;
        self.session.run_decoded(&st, S::decode)
    }

    /// The first row (`LIMIT 1`), or `None`.
    ///
    /// # Errors
    /// As [`ColumnQuery::all`].
    pub fn first<I>(&self) -> Result<Option<S::Out>>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        Ok(self.rows(Some(1))?.into_iter().next())
    }

    /// Exactly one row: [`Error::NotFound`] for none, [`Error::MultipleResults`] for more
    /// (SQLAlchemy's `one()`).
    ///
    /// # Errors
    /// Those two, and those of [`ColumnQuery::all`].
    pub fn one<I>(&self) -> Result<S::Out>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        let mut rows = self.rows(Some(2))?;
        let what = || self.statement().map_or_else(|_| "a selection".to_string(), |s| s.sql);
        match rows.len() {
            1 => rows.pop().ok_or_else(|| Error::NotFound { what: what() }),
            0 => Err(Error::NotFound { what: what() }),
            _ => Err(Error::MultipleResults { what: what() }),
        }
    }

    /// Read the rows `n` at a time when iterated ([`ColumnQuery::iter`]).
    pub fn yield_per(mut self, n: usize) -> Self {
        self.fetch = Some(n);
        self
    }

    /// Walk the rows in bounded memory, `yield_per` rows per batch (1000 by default); the
    /// session's connection is busy until the iterator ends or is dropped (see
    /// [`Query::iter`](crate::Query::iter)).
    ///
    /// # Errors
    /// A rendering error; [`Error::InvalidRequest`] for `yield_per(0)`. Each item may be a cell
    /// that does not decode or the database's error, which ends the iteration.
    pub fn iter<I>(&self) -> Result<super::ColumnIter<'s, S::Out>>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        let st = self.statement()?;
        let fetch = self.fetch.unwrap_or(super::stream::DEFAULT_YIELD_PER);
        let stream = self.session.start_stream(st.sql, st.params, fetch)?;
        Ok(super::stream::ColumnIter::new(self.session, stream, S::decode))
    }

    /// `… UNION …`: the rows of both, duplicates removed. ([`ColumnSelect::union`]).
    pub fn union<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.union(other.select) }
    }

    /// `… UNION ALL …`: the rows of both, duplicates kept. ([`ColumnSelect::union_all`]).
    pub fn union_all<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.union_all(other.select) }
    }

    /// `… INTERSECT …`: the rows in both, duplicates removed. ([`ColumnSelect::intersect`]).
    pub fn intersect<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.intersect(other.select) }
    }

    /// `… INTERSECT ALL …`: the rows in both, each as many times as in the part with fewer. ([`ColumnSelect::intersect_all`]).
    pub fn intersect_all<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.intersect_all(other.select) }
    }

    /// `… EXCEPT …`: the rows of this select that the other does not have, duplicates removed ([`ColumnSelect::except_`]).
    pub fn except_<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.except_(other.select) }
    }

    /// `… EXCEPT ALL …`: each row of this select as many times more than the other has it. ([`ColumnSelect::except_all`]).
    pub fn except_all<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery { session: self.session, select: self.select.except_all(other.select) }
    }
}

/// `SELECT … UNION [ALL] | INTERSECT [ALL] | EXCEPT [ALL] SELECT …` in a session (`ColumnQuery::union`, …):
/// a session and a [`CompoundSelect`], whose rules it follows.
pub struct CompoundQuery<'s, Out, First = Out> {
    session: &'s Session,
    select: CompoundSelect<Out, First>,
}

impl<'s, Out, First> CompoundQuery<'s, Out, First> {
    fn map(mut self, f: impl FnOnce(CompoundSelect<Out, First>) -> CompoundSelect<Out, First>) -> Self {
        self.select = f(self.select);
        self
    }

    /// Add another part with `UNION` ([`CompoundSelect::union`]).
    pub fn union<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.union(other.select))
    }

    /// Add another part with `UNION ALL` ([`CompoundSelect::union_all`]).
    pub fn union_all<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.union_all(other.select))
    }

    /// Add another part with `INTERSECT` ([`CompoundSelect::intersect`]).
    pub fn intersect<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.intersect(other.select))
    }

    /// Add another part with `INTERSECT ALL` ([`CompoundSelect::intersect_all`]).
    pub fn intersect_all<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.intersect_all(other.select))
    }

    /// Add another part with `EXCEPT` ([`CompoundSelect::except_`]).
    pub fn except_<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.except_(other.select))
    }

    /// Add another part with `EXCEPT ALL` ([`CompoundSelect::except_all`]).
    pub fn except_all<S2, J2, I>(self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.map(|s| s.except_all(other.select))
    }

    /// The session-free statement this query runs.
    pub fn compound_select(&self) -> &CompoundSelect<Out, First> {
        &self.select
    }

    /// The statement.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a part with ORDER BY, LIMIT or OFFSET; rendering errors.
    pub fn statement(&self) -> Result<athanor_core::sql::Statement> {
        let engine = self.session.engine();
        self.select.statement.to_sql_for(engine.dialect(), engine.capabilities())
    }

    /// Sort the combined rows by the selected item at `position` (1 for the first)
    /// ([`CompoundSelect::order_by_item`]).
    pub fn order_by_item(self, position: usize) -> Self {
        self.map(|s| s.order_by_item(position))
    }

    /// As [`CompoundQuery::order_by_item`], descending (NULL last).
    pub fn order_by_item_desc(self, position: usize) -> Self {
        self.map(|s| s.order_by_item_desc(position))
    }

    /// At most `n` of the combined rows.
    pub fn limit(self, n: u64) -> Self {
        self.map(|s| s.limit(n))
    }

    /// Skip `n` of the combined rows.
    pub fn offset(self, n: u64) -> Self {
        self.map(|s| s.offset(n))
    }

    /// Run it (after autoflush): every row, decoded.
    ///
    /// # Errors
    /// As [`ColumnQuery::all`].
    pub fn all(&self) -> Result<Vec<Out>> {
        let st = self.statement()?;
        self.session.run_decoded(&st, self.select.decode)
    }
}

impl Session {
    /// Run a rendered SELECT (after autoflush) and decode each row with `decode`.
    pub(crate) fn run_decoded<T>(
        &self,
        st: &athanor_core::sql::Statement,
        decode: impl Fn(&dyn athanor_core::row::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.prepare_read()?;
        let refs: Vec<ValueRef<'_>> = st.params.iter().map(Value::as_ref).collect();
        let mut out = Vec::new();
        self.with_read_conn(|c| {
            c.query_read_refs(&st.sql, &refs, &mut |row| {
                out.push(decode(row)?);
                Ok(())
            })
        })?;
        Ok(out)
    }
}
