//! `Select<M>`: the typed, session-free SELECT of model `M` over a [`SelectStatement`]
//! (SQLAlchemy 2.0's `select(Customer)`). It is bound on `Model` and joins along a
//! `RelationshipDef`, so it lives on the ORM floor; the statement data and its rendering are in
//! `sql/`. Public as `athanor::select` and `athanor::sql::{select, Select}`.

use crate::expr::{Condition, Ordering};
use crate::model::Model;
use athanor_core::dialect::Dialect;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::sql::ast::{
    CmpOp, ColumnRef, Expr, LockWait, Operand, SelectStatement, SubqueryStatement, TableJoin,
};
use athanor_core::sql::Statement;
use athanor_core::value::Value;
use std::marker::PhantomData;

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
                    self.error = Some(Error::invalid_request(format!(
                        "filter_by: {} has no column {column:?}",
                        M::TABLE.rust_name
                    )));
                }
            }
        }
        self
    }

    /// Add a sort key (`Customer::name.asc()`, `Customer::age.desc()`).
    pub fn order_by(mut self, ordering: Ordering<M>) -> Self {
        self.statement.order.push(ordering.key());
        self
    }

    pub(crate) fn order_key(mut self, key: athanor_core::sql::ast::OrderKey) -> Self {
        self.statement.order.push(key);
        self
    }

    pub(crate) fn filter_expr(mut self, expr: Expr) -> Self {
        self.statement.filters.push(expr);
        self
    }

    pub(crate) fn with_error(mut self, e: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self
    }

    /// Join the target of relationship `rel` (whose owner is this table or one joined before).
    pub(crate) fn join_relationship(self, rel: &'static crate::relation::RelationshipDef, outer: bool) -> Self {
        self.join_relationship_as(rel, outer, None)
    }

    /// Whether `qualifier` already names a table of the statement (or it would be ambiguous).
    fn qualifier_taken(&self, qualifier: &str) -> bool {
        qualifier == self.statement.table.name
            || self
                .statement
                .table_joins
                .iter()
                .any(|j| j.qualifier() == qualifier || j.via.is_some_and(|(assoc, _, _)| assoc.name == qualifier))
    }

    /// `JOIN <target> [AS alias] ON …` along a relationship.
    pub(crate) fn join_relationship_as(
        mut self,
        rel: &'static crate::relation::RelationshipDef,
        outer: bool,
        alias: Option<&'static str>,
    ) -> Self {
        let target = rel.target.table();
        let name = |t: &'static TableDef, i: usize| t.columns.get(i).map_or("?", |c| c.name);
        let via = rel.secondary.map(|a| (a, name(a, rel.secondary_local), name(a, rel.secondary_remote)));
        if via.is_some() && alias.is_some() {
            return self.with_error(Error::invalid_request(format!(
                "an alias of {} joined through its association table is not built yet",
                target.name
            )));
        }
        let qualifier = alias.unwrap_or(target.name);
        if self.qualifier_taken(qualifier) || via.is_some_and(|(a, _, _)| self.qualifier_taken(a.name)) {
            return self.with_error(Error::invalid_request(format!(
                "{qualifier} is already in this query: join the table again under an alias (join_as)"
            )));
        }
        self.statement.table_joins.push(TableJoin {
            outer,
            table: target,
            column: name(target, rel.remote),
            parent: rel.owner.name,
            parent_column: name(rel.owner, rel.local),
            via,
            alias,
            derived: None,
        });
        self
    }

    /// `JOIN <table> [AS alias] ON <qualifier>.<column> = <parent>.<parent_column>`: an explicit
    /// equality ON clause.
    pub(crate) fn join_columns(
        mut self,
        table: &'static TableDef,
        alias: Option<&'static str>,
        column: &'static str,
        parent: &'static str,
        parent_column: &'static str,
        outer: bool,
    ) -> Self {
        let qualifier = alias.unwrap_or(table.name);
        if self.qualifier_taken(qualifier) {
            return self.with_error(Error::invalid_request(format!(
                "{qualifier} is already in this query: join the table again under an alias"
            )));
        }
        if parent == qualifier || !(parent == self.statement.table.name || self.qualifier_taken(parent)) {
            return self.with_error(Error::invalid_request(format!(
                "the ON clause of the join of {qualifier} compares with {parent}, which is not in the query before it"
            )));
        }
        self.statement.table_joins.push(TableJoin {
            outer,
            table,
            column,
            parent,
            parent_column,
            via: None,
            alias,
            derived: None,
        });
        self
    }

    /// `JOIN (SELECT …) AS alias ON alias.<column> = <parent>.<parent_column>`: a subquery in
    /// FROM.
    pub(crate) fn join_subquery(
        mut self,
        sub: SubqueryStatement,
        alias: &'static str,
        column: &'static str,
        parent: &'static str,
        parent_column: &'static str,
        outer: bool,
    ) -> Self {
        if self.qualifier_taken(alias) {
            return self
                .with_error(Error::invalid_request(format!("{alias} is already in this query: use another alias")));
        }
        if parent == alias || !self.qualifier_taken(parent) {
            return self.with_error(Error::invalid_request(format!(
                "the ON clause of the join of {alias} compares with {parent}, which is not in the query before it"
            )));
        }
        if let Some(e) = &sub.error {
            return self.with_error(e.clone());
        }
        self.statement.table_joins.push(TableJoin {
            outer,
            table: sub.base.table,
            column,
            parent,
            parent_column,
            via: None,
            alias: Some(alias),
            derived: Some(Box::new(sub)),
        });
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

    /// `FOR UPDATE NOWAIT`: fail at once on a row another transaction holds. [`Error::Unsupported`]
    /// on SQLite, and on MySQL before 8.0.1 / MariaDB before 10.3.
    pub fn with_for_update_nowait(mut self) -> Self {
        self.statement.for_update = true;
        self.statement.lock_wait = LockWait::NoWait;
        self
    }

    /// `FOR UPDATE SKIP LOCKED`: leave out the rows another transaction holds (a job queue's
    /// read). [`Error::Unsupported`] on SQLite, and on MySQL before 8.0.1 / MariaDB before 10.6.
    pub fn with_for_update_skip_locked(mut self) -> Self {
        self.statement.for_update = true;
        self.statement.lock_wait = LockWait::SkipLocked;
        self
    }

    /// `SELECT DISTINCT ON (col, …)` (PostgreSQL; [`Error::Unsupported`] elsewhere): one row per
    /// distinct value, the first in the query's order (which must start with these columns).
    pub fn distinct_on<T>(mut self, column: crate::expr::Column<M, T>) -> Self {
        self.statement.distinct_on.push(column.column_ref());
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
