//! `Select<M, J>`: the typed, session-free SELECT of model `M` over a [`SelectStatement`]
//! (SQLAlchemy 2.0's `select(Customer)`), with `J` the sources it joined. It is bound on `Model`
//! and joins along a `RelationshipDef`, so it lives on the ORM floor; the statement data and its
//! rendering are in core's `sql/`. Public as `athanor::select` and `athanor::sql::{select, Select}`.
//!
//! The join API is written once here, as the provided methods of [`Joinable`]: `Select`,
//! [`ColumnSelect`](crate::ColumnSelect) and the session's `Query` and `ColumnQuery` each say only
//! how to change their statement ([`Joinable::with_joins`]), so a new kind of join is one method.
//! [`OrderKeys`] lets `order_by` take one sort key or a tuple of them.

use crate::expr::{
    AliasName, Aliased, Column, Comparable, Condition, IntoOrderKey, Source, SubquerySource, TableSource,
};
use crate::model::Model;
use crate::session::{Derived, Dynamic, InQuery, Joined, Relationship};
use athanor_core::dialect::Dialect;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::sql::ast::{CmpOp, ColumnRef, Expr, LockWait, Operand, SelectStatement, TableJoin};
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
///
/// `J` lists the sources it joined ([`Joinable::join`], `()` for none): conditions and sort
/// keys may name columns of `M` or of a joined source, and no other.
pub struct Select<M: Model, J = ()> {
    statement: SelectStatement,
    /// The first error of a builder step that could not be checked by types (`filter_by` of an
    /// unknown column), reported when the statement is rendered.
    error: Option<Error>,
    /// The sources conditions and sort keys of a [`Dynamic`] statement named (qualifier, what
    /// named it), checked against its FROM and joins when it is rendered; always empty for a
    /// typed join list, whose types proved it.
    needs: Vec<(&'static str, &'static str)>,
    _model: PhantomData<fn() -> (M, J)>,
}

/// `SELECT <every column of M> FROM <M's table>`.
pub fn select<M: Model>() -> Select<M> {
    Select { statement: SelectStatement::new(M::TABLE), error: None, needs: Vec::new(), _model: PhantomData }
}

impl<M: Model, J> Clone for Select<M, J> {
    fn clone(&self) -> Self {
        Select {
            statement: self.statement.clone(),
            error: self.error.clone(),
            needs: self.needs.clone(),
            _model: PhantomData,
        }
    }
}

impl<M: Model, J> std::fmt::Debug for Select<M, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select").field("statement", &self.statement).field("error", &self.error).finish()
    }
}

impl<M: Model, J> Select<M, J> {
    /// The same statement under another join list (what [`Joinable::with_joins`] builds on).
    pub(crate) fn retype<J2>(self) -> Select<M, J2> {
        Select { statement: self.statement, error: self.error, needs: self.needs, _model: PhantomData }
    }

    /// The same statement as a [`Dynamic`] one: joins keep its type, and the sources its later
    /// conditions and sort keys name are checked when it is rendered (see [`Dynamic`]).
    pub fn into_dynamic(self) -> Select<M, Dynamic> {
        self.retype()
    }

    /// Add a condition on `M` or on a joined source (several filters are ANDed).
    pub fn filter<N, I>(mut self, condition: Condition<N>) -> Self
    where
        N: InQuery<M, J, I>,
    {
        if let Some(q) = <N as InQuery<M, J, I>>::RUNTIME_CHECK {
            self.needs.push((q, "a filter"));
        }
        self.statement.filters.push(condition.into_expr());
        self
    }

    /// Whether `qualifier` names the statement's table or a source it joined (not an
    /// association table a many-to-many join went through: no typed column names one).
    pub(crate) fn has_source(&self, qualifier: &str) -> bool {
        qualifier == self.statement.table.name || self.statement.table_joins.iter().any(|j| j.qualifier() == qualifier)
    }

    /// The run-time check of a [`Dynamic`] statement's conditions and sort keys.
    fn check_needs(&self) -> Result<()> {
        match self.needs.iter().find(|(q, _)| !self.has_source(q)) {
            None => Ok(()),
            Some((q, what)) => Err(Error::invalid_request(format!(
                "{what} of this dynamic query of {} names {q}, which the query neither selects from nor joined: \
                 join it first",
                M::TABLE.rust_name
            ))),
        }
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

    /// Add sort keys on `M` or a joined source: one (`Customer::name.asc()`) or a tuple of them
    /// (`(Customer::age.desc(), Customer::name.asc())`), in order. Several calls add keys.
    pub fn order_by<I>(mut self, keys: impl OrderKeys<M, J, I>) -> Self {
        let mut needs = Vec::new();
        keys.runtime_checks(&mut needs);
        self.needs.extend(needs.into_iter().map(|q| (q, "a sort key")));
        keys.order_keys(&mut self.statement.order);
        self
    }

    pub(crate) fn with_error(mut self, e: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self
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
    pub(crate) fn join_derived(
        mut self,
        sub: athanor_core::sql::ast::FromQuery,
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
        if let Some(e) = crate::column_select::from_query_error(&sub) {
            return self.with_error(e.clone());
        }
        let Some(table) = crate::column_select::from_query_table(&sub) else {
            return self.with_error(Error::invalid_request("a subquery in FROM needs at least one part"));
        };
        self.statement.table_joins.push(TableJoin {
            outer,
            table,
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

    /// `SELECT … FOR UPDATE`: lock the rows until the transaction ends. Rendered on its own
    /// (`to_sql`) it fails with [`Error::Unsupported`] on SQLite, which has no row locks; run
    /// by a session whose transaction began with `write_intent` it runs there without the
    /// clause (see `Query::with_for_update`).
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
    pub fn distinct_on<T>(mut self, column: Column<M, T>) -> Self {
        self.statement.distinct_on.push(column.column_ref());
        self
    }

    /// The untyped statement.
    ///
    /// # Errors
    /// The error of a `filter_by` naming an unknown column or of a join that could not be made;
    /// for a [`Dynamic`] statement, [`Error::InvalidRequest`] when a condition or sort key names
    /// a model (or alias, or subquery) it did not join.
    pub fn statement(&self) -> Result<&SelectStatement> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => {
                self.check_needs()?;
                Ok(&self.statement)
            }
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

/// One sort key or a tuple of up to six (nested tuples too), each on the statement's model `M`
/// or a source it joined (`J`); `I` is where each sits, inferred. What `order_by` takes on
/// [`Select`], [`ColumnSelect`](crate::ColumnSelect), `Query` and `ColumnQuery`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sort key of this query of `{M}`",
    note = "a sort key is `<column>.asc()` / `.desc()` (or an expression's) on the query's model or a joined one, or a tuple of them; join its model first"
)]
pub trait OrderKeys<M, J, I> {
    /// Append the untyped keys, in order.
    fn order_keys(self, out: &mut Vec<athanor_core::sql::ast::OrderKey>);

    /// Append the sources a [`Dynamic`] statement checks when it runs
    /// ([`InQuery::RUNTIME_CHECK`]); nothing for a typed join list.
    #[doc(hidden)]
    fn runtime_checks(&self, out: &mut Vec<&'static str>) {
        let _ = out;
    }
}

/// Where a single sort key's source sits (keeps [`OrderKeys`]' impls for a key and for tuples
/// apart).
pub struct KeyIn<N, I>(PhantomData<fn() -> (N, I)>);

impl<M, J, N, I, K: IntoOrderKey<N>> OrderKeys<M, J, KeyIn<N, I>> for K
where
    N: InQuery<M, J, I>,
{
    fn order_keys(self, out: &mut Vec<athanor_core::sql::ast::OrderKey>) {
        out.push(self.into_order_key());
    }
    fn runtime_checks(&self, out: &mut Vec<&'static str>) {
        out.extend(<N as InQuery<M, J, I>>::RUNTIME_CHECK);
    }
}

macro_rules! tuple_order_keys {
    ($($t:ident $i:ident),+) => {
        impl<M, J, $($t: OrderKeys<M, J, $i>, $i),+> OrderKeys<M, J, ($($i,)+)> for ($($t,)+) {
            #[allow(non_snake_case)]
            fn order_keys(self, out: &mut Vec<athanor_core::sql::ast::OrderKey>) {
                let ($($t,)+) = self;
                $($t.order_keys(out);)+
            }
            #[allow(non_snake_case)]
            fn runtime_checks(&self, out: &mut Vec<&'static str>) {
                let ($($t,)+) = self;
                $($t.runtime_checks(out);)+
            }
        }
    };
}
tuple_order_keys!(A IA);
tuple_order_keys!(A IA, B IB);
tuple_order_keys!(A IA, B IB, C IC);
tuple_order_keys!(A IA, B IB, C IC, D ID);
tuple_order_keys!(A IA, B IB, C IC, D ID, E IE);
tuple_order_keys!(A IA, B IB, C IC, D ID, E IE, F IF);

/// The join API, written once: a statement builder over model [`Joinable::Root`] that has joined
/// the sources [`Joinable::Joins`]. [`Select`], [`ColumnSelect`](crate::ColumnSelect), `Query`
/// and `ColumnQuery` implement the one required method; each join returns the builder with the
/// new source added to its join list, so the compiler knows which columns later conditions,
/// sort keys and selected items may name (the `InQuery` bound). In the prelude.
///
/// ```text
/// session.query::<User>().join(User::posts).filter(Post::score.ge(10)).all()?;
/// athanor::select_columns((User::name, Post::title)).outerjoin(User::posts).to_sql(&dialect)?;
/// ```
pub trait Joinable: Sized {
    /// The model whose table is the FROM.
    type Root: Model;
    /// The sources joined so far (`()`, then `Joined<T, …>`).
    type Joins;
    /// The same builder with join list `J2`.
    type With<J2>;

    /// Change the statement and name the new join list: the one thing an implementer provides.
    #[doc(hidden)]
    fn with_joins<J2>(
        self,
        f: impl FnOnce(Select<Self::Root, Self::Joins>) -> Select<Self::Root, Self::Joins>,
    ) -> Self::With<J2>;

    /// `JOIN <T> ON <the relationship's foreign key>` (through the association table for a
    /// many-to-many): filter, sort and select on `T`'s columns afterwards. The relationship may
    /// start at the root or at a model joined before. (A `Query` of objects returns each object
    /// once even when several joined rows match, in the order of its first row.)
    fn join<P, T: Model, K, I>(self, rel: Relationship<P, T, K>) -> Self::With<Joined<T, Self::Joins>>
    where
        P: Model + InQuery<Self::Root, Self::Joins, I>,
    {
        join_along(self, rel, false, None)
    }

    /// `LEFT OUTER JOIN <T> ON …`: as [`Joinable::join`], keeping the rows with no related row
    /// (their `T` columns are NULL).
    fn outerjoin<P, T: Model, K, I>(self, rel: Relationship<P, T, K>) -> Self::With<Joined<T, Self::Joins>>
    where
        P: Model + InQuery<Self::Root, Self::Joins, I>,
    {
        join_along(self, rel, true, None)
    }

    /// `JOIN <T> AS <alias> ON <the relationship's foreign key>`: the relationship's target
    /// under an alias, so that a table can be joined twice, or to itself (a self-join):
    /// `query::<Category>().join_as(Category::parent, Parent)` with `alias!(Parent = "parent")`.
    /// Conditions and sort keys on the alias use its columns, `Parent::col(Category::name)`.
    /// Partial: a many-to-many relationship cannot be joined under an alias yet.
    fn join_as<P, T: Model, K, I, A: AliasName>(
        self,
        rel: Relationship<P, T, K>,
        alias: A,
    ) -> Self::With<Joined<Aliased<T, A>, Self::Joins>>
    where
        P: Model + InQuery<Self::Root, Self::Joins, I>,
    {
        let _ = alias;
        join_along(self, rel, false, Some(A::NAME))
    }

    /// `LEFT OUTER JOIN <T> AS <alias> ON …` ([`Joinable::join_as`]).
    fn outerjoin_as<P, T: Model, K, I, A: AliasName>(
        self,
        rel: Relationship<P, T, K>,
        alias: A,
    ) -> Self::With<Joined<Aliased<T, A>, Self::Joins>>
    where
        P: Model + InQuery<Self::Root, Self::Joins, I>,
    {
        let _ = alias;
        join_along(self, rel, true, Some(A::NAME))
    }

    /// `JOIN <target's table> ON target = other`: a join with an explicit ON clause, the
    /// equality of two columns of the same type (or one the other's `Option`, [`Comparable`]),
    /// for tables no relationship links (SQLAlchemy's `join(Address, User.id == Address.user_id)`). `other` is a column of the root or of a
    /// source joined before; `target` may be a column of an alias (`Parent::col(Category::id)`).
    fn join_on<S: TableSource, P, V, W, K, I>(
        self,
        target: Column<S, V>,
        other: Column<P, W>,
    ) -> Self::With<Joined<S, Self::Joins>>
    where
        P: Source + InQuery<Self::Root, Self::Joins, I>,
        W: Comparable<V, K>,
    {
        self.with_joins(|s| s.join_columns(S::Model::TABLE, S::ALIAS, target.name, P::QUALIFIER, other.name, false))
    }

    /// `LEFT OUTER JOIN … ON target = other` ([`Joinable::join_on`]).
    fn outerjoin_on<S: TableSource, P, V, W, K, I>(
        self,
        target: Column<S, V>,
        other: Column<P, W>,
    ) -> Self::With<Joined<S, Self::Joins>>
    where
        P: Source + InQuery<Self::Root, Self::Joins, I>,
        W: Comparable<V, K>,
    {
        self.with_joins(|s| s.join_columns(S::Model::TABLE, S::ALIAS, target.name, P::QUALIFIER, other.name, true))
    }

    /// `JOIN (SELECT …) AS alias ON alias.column = other`: a subquery in FROM
    /// ([`ColumnSelect::subquery_as`](crate::ColumnSelect::subquery_as)), joined on one of its
    /// columns and a column of the root or of a source joined before.
    fn join_subquery<D, A: AliasName, V, W, K, P, I>(
        self,
        derived: &Derived<D, A>,
        column: Column<SubquerySource<A>, V>,
        other: Column<P, W>,
    ) -> Self::With<Joined<SubquerySource<A>, Self::Joins>>
    where
        P: Source + InQuery<Self::Root, Self::Joins, I>,
        W: Comparable<V, K>,
    {
        let sub = derived.query.clone();
        self.with_joins(|s| s.join_derived(sub, A::NAME, column.name, P::QUALIFIER, other.name, false))
    }

    /// `LEFT OUTER JOIN (SELECT …) AS alias ON …` ([`Joinable::join_subquery`]).
    fn outerjoin_subquery<D, A: AliasName, V, W, K, P, I>(
        self,
        derived: &Derived<D, A>,
        column: Column<SubquerySource<A>, V>,
        other: Column<P, W>,
    ) -> Self::With<Joined<SubquerySource<A>, Self::Joins>>
    where
        P: Source + InQuery<Self::Root, Self::Joins, I>,
        W: Comparable<V, K>,
    {
        let sub = derived.query.clone();
        self.with_joins(|s| s.join_derived(sub, A::NAME, column.name, P::QUALIFIER, other.name, true))
    }
}

/// A join along a relationship, under an alias or not. Its parent is checked at run time only
/// where the types did not prove it (a [`Dynamic`] join list).
fn join_along<Q: Joinable, P: Model + InQuery<Q::Root, Q::Joins, I>, I, T: Model, K, J2>(
    q: Q,
    rel: Relationship<P, T, K>,
    outer: bool,
    alias: Option<&'static str>,
) -> Q::With<J2> {
    let def = rel.def();
    let check = <P as InQuery<Q::Root, Q::Joins, I>>::RUNTIME_CHECK.is_some();
    q.with_joins(|s| s.join_along_def::<P>(def, outer, alias, check))
}

impl<M: Model, J> Joinable for Select<M, J> {
    type Root = M;
    type Joins = J;
    type With<J2> = Select<M, J2>;
    fn with_joins<J2>(self, f: impl FnOnce(Select<M, J>) -> Select<M, J>) -> Select<M, J2> {
        f(self).retype()
    }
}

impl<M: Model, J> Select<M, J> {
    /// A join along a relationship; with `check_parent` (a [`Dynamic`] statement, whose types do
    /// not prove it) its parent must already be in the statement, else the statement carries an
    /// [`Error::InvalidRequest`] reported when it is rendered.
    pub(crate) fn join_along_def<P: Model>(
        self,
        def: Result<&'static crate::relation::RelationshipDef>,
        outer: bool,
        alias: Option<&'static str>,
        check_parent: bool,
    ) -> Self {
        let def = match def {
            Ok(d) => d,
            Err(e) => return self.with_error(e),
        };
        if check_parent && !self.has_source(P::TABLE.name) {
            let target = def.target.table().name;
            return self.with_error(Error::invalid_request(format!(
                "the join of {target} along {}.{} starts at {}, which this dynamic query of {} neither selects from \
                 nor joined before it",
                P::TABLE.rust_name,
                def.name,
                P::TABLE.name,
                M::TABLE.rust_name
            )));
        }
        self.join_relationship_as(def, outer, alias)
    }
}

/// The join methods of a [`Dynamic`] statement ([`Select`] and the session's `Query`): those of
/// [`Joinable`] with the same arguments, returning the statement under the same type. A model
/// named by a join's ON clause must already be in the statement; a condition or sort key is
/// checked when the statement runs. Inherent methods, so they take precedence over
/// [`Joinable`]'s for a dynamic statement.
macro_rules! dynamic_joins {
    () => {
        /// `JOIN <T> ON <the relationship's foreign key>` ([`Joinable::join`]), keeping the
        /// query's type. The relationship's model must be the query's or joined before
        /// ([`Error::InvalidRequest`] when the query runs otherwise).
        pub fn join<P: Model, T: Model, K>(self, rel: $crate::session::Relationship<P, T, K>) -> Self {
            let def = rel.def();
            self.with_joins::<$crate::session::Dynamic>(|s| s.join_along_def::<P>(def, false, None, true))
        }

        /// `LEFT OUTER JOIN <T> ON …` ([`Joinable::outerjoin`]), keeping the query's type.
        pub fn outerjoin<P: Model, T: Model, K>(self, rel: $crate::session::Relationship<P, T, K>) -> Self {
            let def = rel.def();
            self.with_joins::<$crate::session::Dynamic>(|s| s.join_along_def::<P>(def, true, None, true))
        }

        /// `JOIN <T> AS <alias> ON …` ([`Joinable::join_as`]), keeping the query's type.
        pub fn join_as<P: Model, T: Model, K, A: $crate::expr::AliasName>(
            self,
            rel: $crate::session::Relationship<P, T, K>,
            alias: A,
        ) -> Self {
            let _ = alias;
            let def = rel.def();
            self.with_joins::<$crate::session::Dynamic>(|s| s.join_along_def::<P>(def, false, Some(A::NAME), true))
        }

        /// `LEFT OUTER JOIN <T> AS <alias> ON …` ([`Joinable::outerjoin_as`]), keeping the
        /// query's type.
        pub fn outerjoin_as<P: Model, T: Model, K, A: $crate::expr::AliasName>(
            self,
            rel: $crate::session::Relationship<P, T, K>,
            alias: A,
        ) -> Self {
            let _ = alias;
            let def = rel.def();
            self.with_joins::<$crate::session::Dynamic>(|s| s.join_along_def::<P>(def, true, Some(A::NAME), true))
        }

        /// `JOIN <target's table> ON target = other` ([`Joinable::join_on`]), keeping the
        /// query's type; `other`'s source must be in the query already.
        pub fn join_on<S: $crate::expr::TableSource, P: $crate::expr::Source, V, W, K>(
            self,
            target: $crate::expr::Column<S, V>,
            other: $crate::expr::Column<P, W>,
        ) -> Self
        where
            W: $crate::expr::Comparable<V, K>,
        {
            self.with_joins::<$crate::session::Dynamic>(|s| {
                s.join_columns(S::Model::TABLE, S::ALIAS, target.name, P::QUALIFIER, other.name, false)
            })
        }

        /// `LEFT OUTER JOIN … ON target = other` ([`Joinable::outerjoin_on`]), keeping the
        /// query's type.
        pub fn outerjoin_on<S: $crate::expr::TableSource, P: $crate::expr::Source, V, W, K>(
            self,
            target: $crate::expr::Column<S, V>,
            other: $crate::expr::Column<P, W>,
        ) -> Self
        where
            W: $crate::expr::Comparable<V, K>,
        {
            self.with_joins::<$crate::session::Dynamic>(|s| {
                s.join_columns(S::Model::TABLE, S::ALIAS, target.name, P::QUALIFIER, other.name, true)
            })
        }

        /// `JOIN (SELECT …) AS alias ON alias.column = other` ([`Joinable::join_subquery`]),
        /// keeping the query's type.
        pub fn join_subquery<D, A: $crate::expr::AliasName, V, W, K, P: $crate::expr::Source>(
            self,
            derived: &$crate::session::Derived<D, A>,
            column: $crate::expr::Column<$crate::expr::SubquerySource<A>, V>,
            other: $crate::expr::Column<P, W>,
        ) -> Self
        where
            W: $crate::expr::Comparable<V, K>,
        {
            let sub = derived.query.clone();
            self.with_joins::<$crate::session::Dynamic>(|s| {
                s.join_derived(sub, A::NAME, column.name, P::QUALIFIER, other.name, false)
            })
        }

        /// `LEFT OUTER JOIN (SELECT …) AS alias ON …` ([`Joinable::outerjoin_subquery`]),
        /// keeping the query's type.
        pub fn outerjoin_subquery<D, A: $crate::expr::AliasName, V, W, K, P: $crate::expr::Source>(
            self,
            derived: &$crate::session::Derived<D, A>,
            column: $crate::expr::Column<$crate::expr::SubquerySource<A>, V>,
            other: $crate::expr::Column<P, W>,
        ) -> Self
        where
            W: $crate::expr::Comparable<V, K>,
        {
            let sub = derived.query.clone();
            self.with_joins::<$crate::session::Dynamic>(|s| {
                s.join_derived(sub, A::NAME, column.name, P::QUALIFIER, other.name, true)
            })
        }
    };
}
pub(crate) use dynamic_joins;

/// A [`Dynamic`] statement's joins keep its type: `let mut st = select::<Book>().into_dynamic();
/// if let Some(t) = tag { st = st.join(Book::tags).filter(Tag::name.eq(t)); }`.
impl<M: Model> Select<M, Dynamic> {
    dynamic_joins!();
}
