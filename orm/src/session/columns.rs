//! `session.select((User::name, func::count(Post::id)))`: a SELECT of columns and expressions
//! (SQLAlchemy 2.0's `select(User.name, func.count(Post.id))`), with joins along
//! relationships, `group_by`, `having`, order and limits, returning typed tuples.

use super::query::{InQuery, Joined};
use super::{Relationship, Session};
use crate::expr::{
    AliasName, Aliased, Column, Condition, Expr, IntoOrderKey, Scalar, ScalarExpr, Source, SubquerySource, TableSource,
};
use crate::model::Model;
use crate::select::Select;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::value::{FromValue, Value, ValueRef};
use std::marker::PhantomData;

/// One selected item: a column or a typed expression of some model.
pub trait SelectItem {
    /// The model (or alias) whose columns it reads.
    type Model;
    /// What it decodes to.
    type Out: FromValue;
    /// The expression.
    fn scalar(&self) -> Scalar;
}
impl<M: Source, T: FromValue> SelectItem for Column<M, T> {
    type Model = M;
    type Out = T;
    fn scalar(&self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
impl<M, T: FromValue> SelectItem for ScalarExpr<M, T> {
    type Model = M;
    type Out = T;
    fn scalar(&self) -> Scalar {
        self.expr.clone()
    }
}

/// What `Session::select` takes: one item or a tuple of up to six; the first item's model is
/// the statement's FROM.
pub trait Selection {
    /// The FROM model.
    type Root: Model;
    /// A decoded row.
    type Out;
    /// The expressions, in order.
    fn scalars(&self) -> Vec<Scalar>;
    /// Decode a row.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] for a cell that does not decode.
    fn decode(row: &dyn Row) -> Result<Self::Out>;
}

/// Every item of the selection is on the query's model or a joined one (checked when the
/// statement runs: `all()`).
#[diagnostic::on_unimplemented(
    message = "a selected column is on a model that is not in this query",
    note = "join it first: `.join(<model>::<relationship>)`"
)]
pub trait SelectionIn<M, J, I> {}

fn cell<T: FromValue>(row: &dyn Row, i: usize) -> Result<T> {
    T::from_value(row.get(i)?).map_err(|e| match e {
        Error::TypeMismatch { expected, found, .. } => {
            Error::TypeMismatch { column: format!("selected item {}", i + 1), expected, found }
        }
        other => other,
    })
}

impl<A: SelectItem> Selection for A
where
    A::Model: Model,
{
    type Root = A::Model;
    type Out = A::Out;
    fn scalars(&self) -> Vec<Scalar> {
        vec![self.scalar()]
    }
    fn decode(row: &dyn Row) -> Result<Self::Out> {
        cell(row, 0)
    }
}
impl<M, J, I, A: SelectItem> SelectionIn<M, J, I> for A where A::Model: InQuery<M, J, I> {}

macro_rules! tuple_selection {
    ($first:ident $fi:ident $($t:ident $i:ident $n:tt),*) => {
        impl<$first: SelectItem, $($t: SelectItem),*> Selection for ($first, $($t,)*)
        where
            $first::Model: Model,
        {
            type Root = $first::Model;
            type Out = ($first::Out, $($t::Out,)*);
            #[allow(non_snake_case)]
            fn scalars(&self) -> Vec<Scalar> {
                let ($first, $($t,)*) = self;
                vec![$first.scalar(), $($t.scalar()),*]
            }
            fn decode(row: &dyn Row) -> Result<Self::Out> {
                Ok((cell(row, 0)?, $(cell(row, $n)?,)*))
            }
        }
        impl<M, J, $fi, $($i,)* $first: SelectItem, $($t: SelectItem),*> SelectionIn<M, J, ($fi, $($i,)*)>
            for ($first, $($t,)*)
        where
            $first::Model: InQuery<M, J, $fi>,
            $($t::Model: InQuery<M, J, $i>,)*
        {
        }
    };
}
tuple_selection!(A IA);
tuple_selection!(A IA B IB 1);
tuple_selection!(A IA B IB 1, C IC 2);
tuple_selection!(A IA B IB 1, C IC 2, D ID 3);
tuple_selection!(A IA B IB 1, C IC 2, D ID 3, E IE 4);
tuple_selection!(A IA B IB 1, C IC 2, D ID 3, E IE 4, F IF 5);

/// The type of the selected item at position `N` (what [`Derived`]'s column `cN` holds).
pub trait Nth<const N: usize> {
    /// The item's Rust type.
    type Out;
}
impl<A: SelectItem> Nth<0> for A {
    type Out = A::Out;
}
macro_rules! nth_one {
    ($n:tt $t:ident ($($all:ident),+)) => {
        impl<$($all: SelectItem),+> Nth<$n> for ($($all,)+) {
            type Out = $t::Out;
        }
    };
}
macro_rules! nth {
    ($all:tt $($n:tt $t:ident),+) => {$(
        nth_one!($n $t $all);
    )+};
}
nth!((A, B) 0 A, 1 B);
nth!((A, B, C) 0 A, 1 B, 2 C);
nth!((A, B, C, D) 0 A, 1 B, 2 C, 3 D);
nth!((A, B, C, D, E) 0 A, 1 B, 2 C, 3 D, 4 E);
nth!((A, B, C, D, E, F) 0 A, 1 B, 2 C, 3 D, 4 E, 5 F);

/// The names of a subquery's columns in FROM.
const DERIVED_COLUMNS: [&str; 6] = ["c0", "c1", "c2", "c3", "c4", "c5"];

/// A SELECT used as a table in another one's FROM (SQLAlchemy's `select(…).subquery()` joined
/// with `join(subq, …)`), under the alias `A`: `ColumnQuery::subquery_as`. Its columns are
/// named by position, `c0()` … `c5()`, typed as the selected items.
pub struct Derived<S, A> {
    pub(crate) statement: athanor_core::sql::select::SubqueryStatement,
    _m: PhantomData<fn() -> (S, A)>,
}

impl<S, A> Clone for Derived<S, A> {
    fn clone(&self) -> Self {
        Derived { statement: self.statement.clone(), _m: PhantomData }
    }
}
impl<S, A> std::fmt::Debug for Derived<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Derived").field("statement", &self.statement).finish()
    }
}

macro_rules! derived_columns {
    ($($name:ident $n:tt),+) => {
        impl<S, A: AliasName> Derived<S, A> {$(
            #[doc = concat!("The subquery's column `c", stringify!($n), "` (the item at position ", stringify!($n), ").")]
            pub fn $name(&self) -> Column<SubquerySource<A>, <S as Nth<$n>>::Out>
            where
                S: Nth<$n>,
            {
                Column::new($n, DERIVED_COLUMNS[$n])
            }
        )+}
    };
}
derived_columns!(c0 0, c1 1, c2 2, c3 3, c4 4, c5 5);

/// A SELECT of columns and expressions being built (`Session::select`).
pub struct ColumnQuery<'s, S: Selection, J = ()> {
    session: &'s Session,
    select: Select<S::Root>,
    items: Vec<Scalar>,
    group_by: Vec<Scalar>,
    having: Vec<Expr>,
    /// Rows per batch for [`ColumnQuery::iter`].
    fetch: Option<usize>,
    _m: PhantomData<fn() -> (S, J)>,
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
    pub fn select<S: Selection>(&self, items: S) -> ColumnQuery<'_, S> {
        ColumnQuery {
            session: self,
            select: crate::select::select::<S::Root>(),
            items: items.scalars(),
            group_by: Vec::new(),
            having: Vec::new(),
            fetch: None,
            _m: PhantomData,
        }
    }
}

impl<'s, S: Selection, J> ColumnQuery<'s, S, J> {
    /// The same query with its statement changed (moved, not copied).
    fn with<J2>(self, f: impl FnOnce(Select<S::Root>) -> Select<S::Root>) -> ColumnQuery<'s, S, J2> {
        ColumnQuery {
            session: self.session,
            select: f(self.select),
            items: self.items,
            group_by: self.group_by,
            having: self.having,
            fetch: self.fetch,
            _m: PhantomData,
        }
    }

    /// Join along a relationship, under an alias or not.
    fn joined<P: Model, T: Model, K, X>(
        self,
        rel: Relationship<P, T, K>,
        outer: bool,
        alias: Option<&'static str>,
    ) -> ColumnQuery<'s, S, Joined<X, J>> {
        let def = rel.def();
        self.with(|s| match def {
            Ok(def) => s.join_relationship_as(def, outer, alias),
            Err(e) => s.with_error(e),
        })
    }

    /// `JOIN` along a relationship (as `Query::join`).
    pub fn join<P, T: Model, K, I>(self, rel: Relationship<P, T, K>) -> ColumnQuery<'s, S, Joined<T, J>>
    where
        P: Model + InQuery<S::Root, J, I>,
    {
        self.joined(rel, false, None)
    }

    /// `LEFT OUTER JOIN` along a relationship.
    pub fn outerjoin<P, T: Model, K, I>(self, rel: Relationship<P, T, K>) -> ColumnQuery<'s, S, Joined<T, J>>
    where
        P: Model + InQuery<S::Root, J, I>,
    {
        self.joined(rel, true, None)
    }

    /// `JOIN … AS <alias>` along a relationship (as `Query::join_as`).
    pub fn join_as<P, T: Model, K, I, A: AliasName>(
        self,
        rel: Relationship<P, T, K>,
        alias: A,
    ) -> ColumnQuery<'s, S, Joined<Aliased<T, A>, J>>
    where
        P: Model + InQuery<S::Root, J, I>,
    {
        let _ = alias;
        self.joined(rel, false, Some(A::NAME))
    }

    /// `LEFT OUTER JOIN … AS <alias>` along a relationship.
    pub fn outerjoin_as<P, T: Model, K, I, A: AliasName>(
        self,
        rel: Relationship<P, T, K>,
        alias: A,
    ) -> ColumnQuery<'s, S, Joined<Aliased<T, A>, J>>
    where
        P: Model + InQuery<S::Root, J, I>,
    {
        let _ = alias;
        self.joined(rel, true, Some(A::NAME))
    }

    /// `JOIN … ON target = other` (as `Query::join_on`).
    pub fn join_on<T: TableSource, P, V, I>(
        self,
        target: Column<T, V>,
        other: Column<P, V>,
    ) -> ColumnQuery<'s, S, Joined<T, J>>
    where
        P: Source + InQuery<S::Root, J, I>,
    {
        self.with(|s| s.join_columns(T::Model::TABLE, T::ALIAS, target.name, P::QUALIFIER, other.name, false))
    }

    /// `LEFT OUTER JOIN … ON target = other`.
    pub fn outerjoin_on<T: TableSource, P, V, I>(
        self,
        target: Column<T, V>,
        other: Column<P, V>,
    ) -> ColumnQuery<'s, S, Joined<T, J>>
    where
        P: Source + InQuery<S::Root, J, I>,
    {
        self.with(|s| s.join_columns(T::Model::TABLE, T::ALIAS, target.name, P::QUALIFIER, other.name, true))
    }

    fn joined_subquery<D, A: AliasName, V, P: Source>(
        self,
        derived: &Derived<D, A>,
        column: Column<SubquerySource<A>, V>,
        other: Column<P, V>,
        outer: bool,
    ) -> ColumnQuery<'s, S, Joined<SubquerySource<A>, J>> {
        let sub = derived.statement.clone();
        self.with(|s| s.join_subquery(sub, A::NAME, column.name, P::QUALIFIER, other.name, outer))
    }

    /// `JOIN (SELECT …) AS alias ON alias.column = other`: a subquery in FROM
    /// ([`ColumnQuery::subquery_as`]), joined on one of its columns and a column of the query's
    /// model or of one joined before.
    pub fn join_subquery<D, A: AliasName, V, P, I>(
        self,
        derived: &Derived<D, A>,
        column: Column<SubquerySource<A>, V>,
        other: Column<P, V>,
    ) -> ColumnQuery<'s, S, Joined<SubquerySource<A>, J>>
    where
        P: Source + InQuery<S::Root, J, I>,
    {
        self.joined_subquery(derived, column, other, false)
    }

    /// `LEFT OUTER JOIN (SELECT …) AS alias ON …` ([`ColumnQuery::join_subquery`]).
    pub fn outerjoin_subquery<D, A: AliasName, V, P, I>(
        self,
        derived: &Derived<D, A>,
        column: Column<SubquerySource<A>, V>,
        other: Column<P, V>,
    ) -> ColumnQuery<'s, S, Joined<SubquerySource<A>, J>>
    where
        P: Source + InQuery<S::Root, J, I>,
    {
        self.joined_subquery(derived, column, other, true)
    }

    /// Add a condition (WHERE).
    pub fn filter<N, I>(self, condition: Condition<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.with(|s| s.filter_expr(condition.into_expr()))
    }

    /// `GROUP BY col`.
    pub fn group_by<N, T, I>(mut self, column: Column<N, T>) -> Self
    where
        N: Source + InQuery<S::Root, J, I>,
    {
        self.group_by.push(Scalar::Column(column.column_ref()));
        self
    }

    /// `HAVING condition` (on aggregates: `func::count(Post::id).gt(2)`).
    pub fn having<N, I>(mut self, condition: Condition<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.having.push(condition.into_expr());
        self
    }

    /// A sort key on a column or an expression (`func::count(Post::id).desc()`); NULLs sort
    /// smallest unless `nulls_first()` / `nulls_last()` say otherwise.
    pub fn order_by<N, I>(self, ordering: impl IntoOrderKey<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.with(|s| s.order_key(ordering.into_order_key()))
    }

    /// At most `n` rows.
    pub fn limit(self, n: u64) -> Self {
        self.with(|s| s.limit(n))
    }

    /// Skip `n` rows.
    pub fn offset(self, n: u64) -> Self {
        self.with(|s| s.offset(n))
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(self) -> Self {
        self.with(|s| s.distinct())
    }

    /// This SELECT as a subquery, for `in_` (one column) or [`crate::expr::exists`]:
    /// `User::id.in_(session.select(Post::user_id).filter(Post::score.gt(5)).subquery())`.
    pub fn subquery<I>(&self) -> crate::expr::Subquery<S::Out>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        let (base, error) = match self.select.statement() {
            Ok(st) => (st.clone(), None),
            Err(e) => (athanor_core::sql::SelectStatement::new(<S::Root as Model>::TABLE), Some(e)),
        };
        crate::expr::Subquery {
            statement: athanor_core::sql::select::SubqueryStatement {
                base,
                items: self.items.clone(),
                group_by: self.group_by.clone(),
                having: self.having.clone(),
                error,
            },
            _t: PhantomData,
        }
    }

    /// This SELECT as a table for another SELECT's FROM, under the alias `alias`: join it with
    /// `join_subquery` / `outerjoin_subquery` and read its columns `c0()`, `c1()`, …
    ///
    /// ```text
    /// alias!(Stats = "stats");
    /// let stats = session.select((Post::user_id, func::count(Post::id))).group_by(Post::user_id).subquery_as(Stats);
    /// session.select((User::name, stats.c1())).outerjoin_subquery(&stats, stats.c0(), User::id).all()?;
    /// ```
    pub fn subquery_as<I, A: AliasName>(&self, alias: A) -> Derived<S, A>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        let _ = alias;
        let mut statement = self.subquery::<I>().statement;
        if statement.items.len() > DERIVED_COLUMNS.len() && statement.error.is_none() {
            statement.error = Some(Error::invalid_request("a subquery in FROM has at most six columns"));
        }
        statement.items = std::mem::take(&mut statement.items)
            .into_iter()
            .zip(DERIVED_COLUMNS)
            .map(|(inner, label)| Scalar::Labeled { inner: Box::new(inner), label })
            .collect();
        Derived { statement, _m: PhantomData }
    }

    /// This SELECT as a subquery correlated with the enclosing query: `WHERE inner = outer`
    /// is added, where `inner` is a column of this query and `outer` one of the enclosing
    /// query's model `Q` (SQLAlchemy's correlation by `Post.user_id == User.id`):
    ///
    /// ```text
    /// let has_posts = exists(session.select(Post::id).correlate(Post::user_id, User::id));
    /// let n_posts = session.select(func::count(Post::id)).correlate(Post::user_id, User::id).scalar();
    /// session.select((User::name, n_posts)).filter(has_posts).all()?;
    /// ```
    ///
    /// The outer table is found by name, so this query may not have `Q`'s table itself (alias
    /// one side); that is [`Error::InvalidRequest`] when the statement is rendered. Partial: one
    /// correlation per subquery; further conditions on the outer model are not expressible.
    pub fn correlate<P, Q, V, I, IP>(
        &self,
        inner: Column<P, V>,
        outer: Column<Q, V>,
    ) -> crate::expr::Correlated<S::Out, Q>
    where
        S: SelectionIn<S::Root, J, I>,
        P: Source + InQuery<S::Root, J, IP>,
        Q: Source,
    {
        let mut statement = self.subquery::<I>().statement;
        let taken = statement.base.table.name == Q::QUALIFIER
            || statement.base.table_joins.iter().any(|j| j.qualifier() == Q::QUALIFIER);
        if taken && statement.error.is_none() {
            statement.error = Some(Error::invalid_request(format!(
                "the correlated subquery has {} itself, so its reference to the enclosing query's {} would be \
                 its own: join one of them under an alias",
                Q::QUALIFIER,
                Q::QUALIFIER
            )));
        }
        statement.base.filters.push(Expr::Compare {
            left: inner.column_ref(),
            op: crate::expr::CmpOp::Eq,
            right: crate::expr::Operand::Column(outer.column_ref()),
        });
        crate::expr::Correlated { statement, _t: PhantomData }
    }

    /// The statement and its parameters.
    ///
    /// # Errors
    /// As `Query::statement`; [`Error::InvalidRequest`] for no selected item.
    pub fn statement(&self) -> Result<athanor_core::sql::Statement> {
        let st = self.select.statement()?;
        st.to_sql_columns(self.session.engine().dialect(), &self.items, &self.group_by, &self.having, st.limit)
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
    fn rows(&self, cap: Option<u64>) -> Result<Vec<S::Out>> {
        let st = self.select.statement()?;
        let limit = match (cap, st.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let st =
            st.to_sql_columns(self.session.engine().dialect(), &self.items, &self.group_by, &self.having, limit)?;
        self.session.prepare_read()?;
        let refs: Vec<ValueRef<'_>> = st.params.iter().map(Value::as_ref).collect();
        let mut out = Vec::new();
        self.session.with_conn(|c| {
            c.query_refs(&st.sql, &refs, &mut |row| {
                out.push(S::decode(row)?);
                Ok(())
            })
        })?;
        Ok(out)
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
}

/// `SELECT … UNION [ALL] SELECT …` of selections with the same row type
/// (`ColumnQuery::union`, `ColumnQuery::union_all`). The parts may not have their own ORDER BY,
/// LIMIT or OFFSET (SQLite refuses them in a compound statement); the whole may:
/// [`CompoundQuery::order_by_item`] sorts by a selected item's position, and `limit` / `offset`
/// apply to the combined rows.
pub struct CompoundQuery<'s, Out> {
    session: &'s Session,
    parts: Vec<athanor_core::sql::select::SubqueryStatement>,
    /// Per part after the first: `UNION ALL` rather than `UNION`.
    all: Vec<bool>,
    /// Sort keys of the whole: (1-based item position, descending).
    order: Vec<(usize, bool)>,
    limit: Option<u64>,
    offset: Option<u64>,
    decode: fn(&dyn Row) -> Result<Out>,
}

impl<'s, S: Selection, J> ColumnQuery<'s, S, J> {
    fn part<I>(&self) -> athanor_core::sql::select::SubqueryStatement
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.subquery::<I>().statement
    }

    fn compound<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>, all: bool) -> CompoundQuery<'s, S::Out>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        CompoundQuery {
            session: self.session,
            parts: vec![self.part::<I1>(), other.part::<I2>()],
            all: vec![all],
            order: Vec::new(),
            limit: None,
            offset: None,
            decode: S::decode,
        }
    }

    /// `… UNION …`: the rows of both, duplicates removed.
    pub fn union<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        self.compound(other, false)
    }

    /// `… UNION ALL …`: the rows of both, duplicates kept.
    pub fn union_all<S2, J2, I1, I2>(self, other: ColumnQuery<'s, S2, J2>) -> CompoundQuery<'s, S::Out>
    where
        S: SelectionIn<S::Root, J, I1>,
        S2: Selection<Out = S::Out> + SelectionIn<S2::Root, J2, I2>,
    {
        self.compound(other, true)
    }
}

impl<'s, Out> CompoundQuery<'s, Out> {
    /// Add another part with `UNION`.
    pub fn union<S2, J2, I>(mut self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.parts.push(other.part::<I>());
        self.all.push(false);
        self
    }

    /// Add another part with `UNION ALL`.
    pub fn union_all<S2, J2, I>(mut self, other: ColumnQuery<'s, S2, J2>) -> Self
    where
        S2: Selection<Out = Out> + SelectionIn<S2::Root, J2, I>,
    {
        self.parts.push(other.part::<I>());
        self.all.push(true);
        self
    }

    /// The statement.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a part with ORDER BY, LIMIT or OFFSET; rendering errors.
    pub fn statement(&self) -> Result<athanor_core::sql::Statement> {
        let engine = self.session.engine();
        let mut w = athanor_core::sql::SqlWriter::new(engine.dialect());
        let mut params = Vec::new();
        for (i, p) in self.parts.iter().enumerate() {
            if let Some(e) = &p.error {
                return Err(e.clone());
            }
            if !p.base.order.is_empty() || p.base.limit.is_some() || p.base.offset.is_some() {
                return Err(Error::invalid_request(
                    "a part of a UNION may not have its own order_by, limit or offset (SQLite refuses them)",
                ));
            }
            if i > 0 {
                w.push(if self.all.get(i - 1).copied().unwrap_or(false) { " UNION ALL " } else { " UNION " });
            }
            p.base.write_columns(&mut w, &mut params, &p.items, &p.group_by, &p.having, None)?;
        }
        let width = self.parts.first().map_or(0, |p| p.items.len());
        let dialect = engine.dialect();
        for (i, &(pos, descending)) in self.order.iter().enumerate() {
            if pos == 0 || pos > width {
                return Err(Error::invalid_request(format!(
                    "order_by_item({pos}): the UNION selects items 1 to {width}"
                )));
            }
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            // NULL is the smallest value, as for every sort: told only where the database's own
            // order differs (PostgreSQL), in the ANSI syntax, which a position also takes.
            let position = pos.to_string();
            if dialect.capabilities().nulls_sort_low {
                w.push(&position).push(if descending { " DESC" } else { " ASC" });
            } else {
                let nulls = if descending { crate::expr::NullsOrder::Last } else { crate::expr::NullsOrder::First };
                let mut key = String::new();
                dialect.write_nulls_order(&mut key, &position, descending, nulls);
                w.push(&key);
            }
        }
        let mut tail = String::new();
        dialect.write_limit_offset(&mut tail, self.limit, self.offset)?;
        w.push(&tail);
        Ok(athanor_core::sql::Statement { sql: w.sql, params })
    }

    /// Sort the combined rows by the selected item at `position` (1 for the first), ascending,
    /// NULL first as everywhere (SQL's `ORDER BY 1`). Several calls add keys.
    pub fn order_by_item(mut self, position: usize) -> Self {
        self.order.push((position, false));
        self
    }

    /// As [`CompoundQuery::order_by_item`], descending (NULL last).
    pub fn order_by_item_desc(mut self, position: usize) -> Self {
        self.order.push((position, true));
        self
    }

    /// At most `n` of the combined rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skip `n` of the combined rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Run it (after autoflush): every row, decoded.
    ///
    /// # Errors
    /// As [`ColumnQuery::all`].
    pub fn all(&self) -> Result<Vec<Out>> {
        let st = self.statement()?;
        self.session.prepare_read()?;
        let refs: Vec<ValueRef<'_>> = st.params.iter().map(Value::as_ref).collect();
        let mut out = Vec::new();
        let decode = self.decode;
        self.session.with_conn(|c| {
            c.query_refs(&st.sql, &refs, &mut |row| {
                out.push(decode(row)?);
                Ok(())
            })
        })?;
        Ok(out)
    }
}
