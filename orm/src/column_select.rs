//! Column selects without a session: `select_columns((User::name, func::count(Post::id)))`
//! (SQLAlchemy 2.0's `select(User.name, func.count(Post.id))`) is a [`ColumnSelect`], a value
//! holding its joins, filters, GROUP BY / HAVING, order and limits that renders with
//! [`ColumnSelect::to_sql`]; `.subquery()`, `.subquery_as(alias)` and `.correlate(…)` make the
//! subqueries of other statements; `.union(…)` / `.union_all(…)` a [`CompoundSelect`]. The
//! session's `ColumnQuery` and `CompoundQuery` are a session plus these values; `Session::execute`
//! runs them as they are.
//!
//! The spelling is `select_columns(items)`, not `select(items)`: Rust has no overloading, and
//! `select::<M>()` (SQLAlchemy's `select(User)`) already takes no argument.

use crate::expr::{AliasName, Scalar};
use crate::expr::{Column, Condition, Expr, ScalarExpr, Source, SubquerySource};
use crate::model::Model;
use crate::select::{Joinable, OrderKeys, Select};
use crate::session::InQuery;
use athanor_core::dialect::Dialect;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::sql::ast::{
    CompoundStatement, DerivedTable, FromQuery, SelectStatement, SetOperator, SubqueryStatement,
};
use athanor_core::sql::Statement;
use athanor_core::value::FromValue;
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

/// What [`select_columns`] and `Session::select` take: one item or a tuple of up to six; the first item's model is
/// the statement's FROM.
pub trait Selection {
    /// The FROM model.
    type Root: Model;
    /// A decoded row.
    type Out;
    /// The row's first item (what `scalars()` gives).
    type First;
    /// The expressions, in order.
    fn scalars(&self) -> Vec<Scalar>;
    /// Decode a row.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] for a cell that does not decode.
    fn decode(row: &dyn Row) -> Result<Self::Out>;
    /// The row's first item.
    fn first(row: Self::Out) -> Self::First;
}

/// Every item of the selection is on the query's model or a joined one (checked when the
/// statement runs: `all()`).
#[diagnostic::on_unimplemented(
    message = "a selected column is on a model that is not in this query",
    note = "join it first: `.join(<model>::<relationship>)`"
)]
pub trait SelectionIn<M, J, I> {}

/// The items of a select as a row shape, whatever their source (a model or a subquery in FROM):
/// what [`select_from`] takes. One item or a tuple of up to six.
pub trait RowItems {
    /// A decoded row.
    type Out;
    /// The row's first item.
    type First;
    /// The expressions, in order.
    fn item_scalars(&self) -> Vec<Scalar>;
    /// Decode a row.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] for a cell that does not decode.
    fn decode_row(row: &dyn Row) -> Result<Self::Out>;
    /// The row's first item.
    fn first_item(row: Self::Out) -> Self::First;
}

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
    type First = A::Out;
    fn scalars(&self) -> Vec<Scalar> {
        vec![self.scalar()]
    }
    fn decode(row: &dyn Row) -> Result<Self::Out> {
        cell(row, 0)
    }
    fn first(row: A::Out) -> A::Out {
        row
    }
}
impl<M, J, I, A: SelectItem> SelectionIn<M, J, I> for A where A::Model: InQuery<M, J, I> {}
impl<A: SelectItem> RowItems for A {
    type Out = A::Out;
    type First = A::Out;
    fn item_scalars(&self) -> Vec<Scalar> {
        vec![self.scalar()]
    }
    fn decode_row(row: &dyn Row) -> Result<Self::Out> {
        cell(row, 0)
    }
    fn first_item(row: A::Out) -> A::Out {
        row
    }
}

macro_rules! tuple_selection {
    ($first:ident $fi:ident $($t:ident $i:ident $n:tt),*) => {
        impl<$first: SelectItem, $($t: SelectItem),*> Selection for ($first, $($t,)*)
        where
            $first::Model: Model,
        {
            type Root = $first::Model;
            type Out = ($first::Out, $($t::Out,)*);
            type First = $first::Out;
            #[allow(non_snake_case)]
            fn scalars(&self) -> Vec<Scalar> {
                let ($first, $($t,)*) = self;
                vec![$first.scalar(), $($t.scalar()),*]
            }
            fn decode(row: &dyn Row) -> Result<Self::Out> {
                Ok((cell(row, 0)?, $(cell(row, $n)?,)*))
            }
            fn first(row: Self::Out) -> $first::Out {
                row.0
            }
        }
        impl<$first: SelectItem, $($t: SelectItem),*> RowItems for ($first, $($t,)*) {
            type Out = ($first::Out, $($t::Out,)*);
            type First = $first::Out;
            #[allow(non_snake_case)]
            fn item_scalars(&self) -> Vec<Scalar> {
                let ($first, $($t,)*) = self;
                vec![$first.scalar(), $($t.scalar()),*]
            }
            fn decode_row(row: &dyn Row) -> Result<Self::Out> {
                Ok((cell(row, 0)?, $(cell(row, $n)?,)*))
            }
            fn first_item(row: Self::Out) -> $first::Out {
                row.0
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

/// The row type of a compound select used as a subquery in FROM
/// ([`CompoundSelect::subquery_as`]): `Out` the decoded row, `First` its first item. Its
/// columns `c0()` … are typed by position, as a column select's.
pub struct Values<Out, First>(PhantomData<fn() -> (Out, First)>);
impl<Out, First> Nth<0> for Values<Out, First> {
    type Out = First;
}
macro_rules! nth_values {
    ($n:tt $t:ident ($($all:ident),+)) => {
        impl<First, $($all),+> Nth<$n> for Values<($($all,)+), First> {
            type Out = $t;
        }
    };
}
nth_values!(1 B (A, B));
nth_values!(1 B (A, B, C));
nth_values!(2 C (A, B, C));
nth_values!(1 B (A, B, C, D));
nth_values!(2 C (A, B, C, D));
nth_values!(3 D (A, B, C, D));
nth_values!(1 B (A, B, C, D, E));
nth_values!(2 C (A, B, C, D, E));
nth_values!(3 D (A, B, C, D, E));
nth_values!(4 E (A, B, C, D, E));
nth_values!(1 B (A, B, C, D, E, F));
nth_values!(2 C (A, B, C, D, E, F));
nth_values!(3 D (A, B, C, D, E, F));
nth_values!(4 E (A, B, C, D, E, F));
nth_values!(5 F (A, B, C, D, E, F));

/// The names of a subquery's columns in FROM.
const DERIVED_COLUMNS: [&str; 6] = ["c0", "c1", "c2", "c3", "c4", "c5"];

/// A SELECT used as a table in another one's FROM (SQLAlchemy's `select(…).subquery()` joined
/// with `join(subq, …)`), under the alias `A`: [`ColumnSelect::subquery_as`]. Its columns are
/// named by position, `c0()` … `c5()`, typed as the selected items.
pub struct Derived<S, A> {
    pub(crate) query: FromQuery,
    _m: PhantomData<fn() -> (S, A)>,
}

impl<S, A> Clone for Derived<S, A> {
    fn clone(&self) -> Self {
        Derived { query: self.query.clone(), _m: PhantomData }
    }
}
impl<S, A> std::fmt::Debug for Derived<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Derived").field("query", &self.query).finish()
    }
}

/// The builder error a subquery carries, reported where it is used.
pub(crate) fn from_query_error(query: &FromQuery) -> Option<&Error> {
    match query {
        FromQuery::Select(sub) => sub.error.as_ref(),
        FromQuery::Compound(c) => c.parts.iter().find_map(|p| p.error.as_ref()),
    }
}

/// The table a subquery reads first (what a statement over it names as its `table`, unused in
/// the SQL).
pub(crate) fn from_query_table(query: &FromQuery) -> Option<&'static athanor_core::schema::TableDef> {
    match query {
        FromQuery::Select(sub) => Some(sub.base.table),
        FromQuery::Compound(c) => c.parts.first().map(|p| p.base.table),
    }
}

/// Label `items` `c0`, `c1`, … for a subquery in FROM, or record the error of more than six.
fn label_items(statement: &mut SubqueryStatement) {
    if statement.items.len() > DERIVED_COLUMNS.len() && statement.error.is_none() {
        statement.error = Some(Error::invalid_request("a subquery in FROM has at most six columns"));
    }
    statement.items = std::mem::take(&mut statement.items)
        .into_iter()
        .zip(DERIVED_COLUMNS)
        .map(|(inner, label)| Scalar::Labeled { inner: Box::new(inner), label })
        .collect();
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

/// One GROUP BY key (a column or an expression of the query's model or a joined source) or a
/// tuple of up to six; `I` is where each sits, inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a GROUP BY key of this query of `{M}`",
    note = "a key is a column or expression on the query's model or a joined one, or a tuple of them; join its model first"
)]
pub trait GroupKeys<M, J, I> {
    /// Append the untyped keys, in order.
    fn group_keys(&self, out: &mut Vec<Scalar>);
}
impl<M, J, I, A: SelectItem> GroupKeys<M, J, I> for A
where
    A::Model: InQuery<M, J, I>,
{
    fn group_keys(&self, out: &mut Vec<Scalar>) {
        out.push(self.scalar());
    }
}
macro_rules! tuple_group_keys {
    ($($t:ident $i:ident),+) => {
        impl<M, J, $($t: SelectItem, $i),+> GroupKeys<M, J, ($($i,)+)> for ($($t,)+)
        where
            $($t::Model: InQuery<M, J, $i>,)+
        {
            #[allow(non_snake_case)]
            fn group_keys(&self, out: &mut Vec<Scalar>) {
                let ($($t,)+) = self;
                $(out.push($t.scalar());)+
            }
        }
    };
}
tuple_group_keys!(A IA);
tuple_group_keys!(A IA, B IB);
tuple_group_keys!(A IA, B IB, C IC);
tuple_group_keys!(A IA, B IB, C IC, D ID);
tuple_group_keys!(A IA, B IB, C IC, D ID, E IE);
tuple_group_keys!(A IA, B IB, C IC, D ID, E IE, F IF);

/// A typed SELECT of columns and expressions, without a session (SQLAlchemy 2.0's
/// `select(User.name, func.count(Post.id))`): [`select_columns`]. The first item's model is the
/// FROM; `J` lists the sources joined ([`Joinable`]). Render it with [`ColumnSelect::to_sql`],
/// run it with `session.execute(…)`, or use it inside another statement (`subquery`,
/// `subquery_as`, `correlate`, `union`).
///
/// ```text
/// let st = athanor::select_columns((User::name, func::count(Post::id)))
///     .join(User::posts)
///     .group_by(User::name)
///     .having(func::count(Post::id).gt(2))
///     .order_by((func::count(Post::id).desc(), User::name.asc()))
///     .to_sql(&athanor::dialects::PostgresDialect)?;
/// ```
pub struct ColumnSelect<S: Selection, J = ()> {
    select: Select<S::Root, J>,
    items: Vec<Scalar>,
    group_by: Vec<Scalar>,
    having: Vec<Expr>,
    _s: PhantomData<fn() -> S>,
}

/// `SELECT <items> FROM <the first item's table>`: a session-free [`ColumnSelect`] of one item
/// or a tuple of up to six (`select_columns((User::name, func::count(Post::id)))`).
pub fn select_columns<S: Selection>(items: S) -> ColumnSelect<S> {
    ColumnSelect {
        select: crate::select::select::<S::Root>(),
        items: items.scalars(),
        group_by: Vec::new(),
        having: Vec::new(),
        _s: PhantomData,
    }
}

impl<S: Selection, J> Clone for ColumnSelect<S, J> {
    fn clone(&self) -> Self {
        ColumnSelect {
            select: self.select.clone(),
            items: self.items.clone(),
            group_by: self.group_by.clone(),
            having: self.having.clone(),
            _s: PhantomData,
        }
    }
}

impl<S: Selection, J> std::fmt::Debug for ColumnSelect<S, J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnSelect")
            .field("select", &self.select)
            .field("items", &self.items)
            .field("group_by", &self.group_by)
            .field("having", &self.having)
            .finish()
    }
}

impl<S: Selection, J> Joinable for ColumnSelect<S, J> {
    type Root = S::Root;
    type Joins = J;
    type With<J2> = ColumnSelect<S, J2>;
    fn with_joins<J2>(self, f: impl FnOnce(Select<S::Root, J>) -> Select<S::Root, J>) -> ColumnSelect<S, J2> {
        ColumnSelect {
            select: f(self.select).retype(),
            items: self.items,
            group_by: self.group_by,
            having: self.having,
            _s: PhantomData,
        }
    }
}

impl<S: Selection, J> ColumnSelect<S, J> {
    fn map(mut self, f: impl FnOnce(Select<S::Root, J>) -> Select<S::Root, J>) -> Self {
        self.select = f(self.select);
        self
    }

    /// Add a condition (WHERE) on the root or a joined source; several are ANDed.
    pub fn filter<N, I>(self, condition: Condition<N>) -> Self
    where
        N: InQuery<S::Root, J, I>,
    {
        self.map(|s| s.filter(condition))
    }

    /// `GROUP BY` one key (`User::name`) or a tuple of them (`(User::id, User::name)`); several
    /// calls add keys.
    pub fn group_by<I>(mut self, keys: impl GroupKeys<S::Root, J, I>) -> Self {
        keys.group_keys(&mut self.group_by);
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
        self.map(Select::distinct)
    }

    /// The SELECT's text and parameters, with at most `cap` rows (within its own limit).
    pub(crate) fn to_sql_capped(&self, dialect: &dyn Dialect, cap: Option<u64>) -> Result<Statement> {
        let st = self.select.statement()?;
        let limit = match (cap, st.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        st.to_sql_columns(dialect, &self.items, &self.group_by, &self.having, limit)
    }

    /// The untyped statement, whatever its items' sources (`subquery` checks them).
    fn statement_data(&self) -> SubqueryStatement {
        let (base, error) = match self.select.statement() {
            Ok(st) => (st.clone(), None),
            Err(e) => (SelectStatement::new(<S::Root as Model>::TABLE), Some(e)),
        };
        SubqueryStatement {
            base,
            items: self.items.clone(),
            group_by: self.group_by.clone(),
            having: self.having.clone(),
            error,
        }
    }
}

impl<S: Selection, J> ColumnSelect<S, J> {
    /// The SELECT's text and parameters, rendered by `dialect` (no session, no connection).
    ///
    /// # Errors
    /// A refused join or `filter_by` ([`Error::InvalidRequest`]); an identifier the dialect
    /// refuses.
    pub fn to_sql<I>(&self, dialect: &dyn Dialect) -> Result<Statement>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.to_sql_capped(dialect, None)
    }

    /// The untyped statement (the FROM, joins and filters with the items, GROUP BY and HAVING).
    pub fn statement<I>(&self) -> SubqueryStatement
    where
        S: SelectionIn<S::Root, J, I>,
    {
        self.statement_data()
    }

    /// This SELECT as a subquery, for `in_` (one column) or [`crate::expr::exists`]:
    /// `User::id.in_(select_columns(Post::user_id).filter(Post::score.gt(5)).subquery())`.
    pub fn subquery<I>(&self) -> crate::expr::Subquery<S::Out>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        crate::expr::Subquery { statement: self.statement_data(), _t: PhantomData }
    }

    /// This SELECT as a table for another SELECT's FROM, under the alias `alias`: join it with
    /// `join_subquery` / `outerjoin_subquery` and read its columns `c0()`, `c1()`, …
    ///
    /// ```text
    /// alias!(Stats = "stats");
    /// let stats = select_columns((Post::user_id, func::count(Post::id))).group_by(Post::user_id).subquery_as(Stats);
    /// select_columns((User::name, stats.c1())).outerjoin_subquery(&stats, stats.c0(), User::id);
    /// ```
    pub fn subquery_as<I, A: AliasName>(&self, alias: A) -> Derived<S, A>
    where
        S: SelectionIn<S::Root, J, I>,
    {
        let _ = alias;
        let mut statement = self.statement_data();
        label_items(&mut statement);
        Derived { query: FromQuery::Select(Box::new(statement)), _m: PhantomData }
    }

    /// This SELECT as a subquery correlated with the enclosing query: `WHERE inner = outer`
    /// is added, where `inner` is a column of this query and `outer` one of the enclosing
    /// query's model `Q` (SQLAlchemy's correlation by `Post.user_id == User.id`):
    ///
    /// ```text
    /// let has_posts = exists(select_columns(Post::id).correlate(Post::user_id, User::id));
    /// let n_posts = select_columns(func::count(Post::id)).correlate(Post::user_id, User::id).scalar();
    /// select_columns((User::name, n_posts)).filter(has_posts);
    /// ```
    ///
    /// The two columns have the same type, or one is the other's `Option` ([`Comparable`](crate::expr::Comparable):
    /// a reflected model's `Option<i64>` key and the `i64` foreign key pointing at it).
    ///
    /// The outer table is found by name, so this query may not have `Q`'s table itself (alias
    /// one side); that is [`Error::InvalidRequest`] when the statement is rendered. Partial: one
    /// correlation per subquery; further conditions on the outer model are not expressible.
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
        let mut statement = self.statement_data();
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

    fn compound<P, I1, I2>(self, other: P, op: SetOperator) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        CompoundSelect {
            statement: CompoundStatement {
                parts: vec![self.statement_data(), other.into_part()],
                ops: vec![op],
                order: Vec::new(),
                limit: None,
                offset: None,
            },
            decode: S::decode,
            first: S::first,
        }
    }

    /// `… UNION …`: the rows of both, duplicates removed.
    pub fn union<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::Union)
    }

    /// `… UNION ALL …`: the rows of both, duplicates kept.
    pub fn union_all<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::UnionAll)
    }

    /// `… INTERSECT …`: the rows in both, duplicates removed.
    pub fn intersect<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::Intersect)
    }

    /// `… INTERSECT ALL …`: the rows in both, each as many times as in the part with fewer.
    /// [`Error::Unsupported`] when run where `Capabilities::intersect_except_all` is false (SQLite).
    pub fn intersect_all<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::IntersectAll)
    }

    /// `… EXCEPT …`: the rows of this select that the other does not have, duplicates removed
    /// (SQLAlchemy's `except_`; `except` is not a Rust keyword but reads like one).
    pub fn except_<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::Except)
    }

    /// `… EXCEPT ALL …`: each row of this select as many times more than the other has it.
    /// [`Error::Unsupported`] when run where `Capabilities::intersect_except_all` is false (SQLite).
    pub fn except_all<P, I1, I2>(self, other: P) -> CompoundSelect<S::Out, S::First>
    where
        S: SelectionIn<S::Root, J, I1>,
        P: CompoundPart<S::Out, I2>,
    {
        self.compound(other, SetOperator::ExceptAll)
    }
}

/// A select that can be a part of a [`CompoundSelect`] whose rows are `Out`: a [`ColumnSelect`]
/// or a [`FromSubquery`]; `I` is where its items sit (inferred).
pub trait CompoundPart<Out, I> {
    /// The untyped part.
    fn into_part(self) -> SubqueryStatement;
}

impl<S, J, I> CompoundPart<S::Out, I> for ColumnSelect<S, J>
where
    S: Selection + SelectionIn<S::Root, J, I>,
{
    fn into_part(self) -> SubqueryStatement {
        self.statement_data()
    }
}

/// `SELECT … UNION [ALL] SELECT …` (or `INTERSECT [ALL]`, `EXCEPT [ALL]`) of column selects with
/// the same row type, without a session ([`ColumnSelect::union`], [`ColumnSelect::union_all`],
/// [`ColumnSelect::intersect`], [`ColumnSelect::except_`], …). The operators apply from left to
/// right; an `INTERSECT` after a `UNION` or `EXCEPT` is refused when rendered
/// ([`Error::InvalidRequest`]: PostgreSQL, MariaDB and MySQL evaluate it first, SQLite does
/// not), so put the earlier parts in a subquery ([`CompoundSelect::subquery_as`],
/// [`select_from`]). The `ALL` forms of `INTERSECT` and `EXCEPT` are [`Error::Unsupported`]
/// where the database has none (SQLite; `Capabilities::intersect_except_all`). The parts may not have their own
/// ORDER BY, LIMIT or OFFSET (SQLite refuses them in a compound statement); the whole may:
/// [`CompoundSelect::order_by_item`] sorts by a selected item's position, and `limit` / `offset`
/// apply to the combined rows. `Out` is a decoded row, `First` its first item.
pub struct CompoundSelect<Out, First = Out> {
    pub(crate) statement: CompoundStatement,
    pub(crate) decode: fn(&dyn Row) -> Result<Out>,
    pub(crate) first: fn(Out) -> First,
}

impl<Out, First> Clone for CompoundSelect<Out, First> {
    fn clone(&self) -> Self {
        CompoundSelect { statement: self.statement.clone(), decode: self.decode, first: self.first }
    }
}

impl<Out, First> std::fmt::Debug for CompoundSelect<Out, First> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompoundSelect").field("statement", &self.statement).finish()
    }
}

impl<Out, First> CompoundSelect<Out, First> {
    /// Add another part with `UNION`, evaluated after the parts before it.
    pub fn union<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::Union);
        self
    }

    /// Add another part with `UNION ALL`, evaluated after the parts before it.
    pub fn union_all<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::UnionAll);
        self
    }

    /// Add another part with `INTERSECT`, evaluated after the parts before it.
    pub fn intersect<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::Intersect);
        self
    }

    /// Add another part with `INTERSECT ALL`, evaluated after the parts before it.
    pub fn intersect_all<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::IntersectAll);
        self
    }

    /// Add another part with `EXCEPT`, evaluated after the parts before it.
    pub fn except_<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::Except);
        self
    }

    /// Add another part with `EXCEPT ALL`, evaluated after the parts before it.
    pub fn except_all<P, I>(mut self, other: P) -> Self
    where
        P: CompoundPart<Out, I>,
    {
        self.statement.parts.push(other.into_part());
        self.statement.ops.push(SetOperator::ExceptAll);
        self
    }

    /// Sort the combined rows by the selected item at `position` (1 for the first), ascending,
    /// NULL first as everywhere (SQL's `ORDER BY 1`). Several calls add keys.
    pub fn order_by_item(mut self, position: usize) -> Self {
        self.statement.order.push((position, false));
        self
    }

    /// As [`CompoundSelect::order_by_item`], descending (NULL last).
    pub fn order_by_item_desc(mut self, position: usize) -> Self {
        self.statement.order.push((position, true));
        self
    }

    /// At most `n` of the combined rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.statement.limit = Some(n);
        self
    }

    /// Skip `n` of the combined rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.statement.offset = Some(n);
        self
    }

    /// The untyped statement.
    pub fn statement(&self) -> &CompoundStatement {
        &self.statement
    }

    /// This compound select as a table for another SELECT's FROM, under the alias `alias`
    /// ([`select_from`], or joined with `join_subquery`); its columns are `c0()`, `c1()`, …
    /// typed as the row's items (the first part's items are labeled `c0`, `c1`, …).
    pub fn subquery_as<A: AliasName>(&self, alias: A) -> Derived<Values<Out, First>, A> {
        let _ = alias;
        let mut statement = self.statement.clone();
        if let Some(first) = statement.parts.first_mut() {
            label_items(first);
        }
        Derived { query: FromQuery::Compound(statement), _m: PhantomData }
    }

    /// The statement's text and parameters, rendered by `dialect` (no session, no connection).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a part with ORDER BY, LIMIT or OFFSET or a sort position
    /// outside the items; a part's builder error; rendering errors.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.statement.to_sql(dialect)
    }
}

/// `SELECT <items> FROM (<subquery>) AS <alias>`: a subquery as the only FROM (SQLAlchemy's
/// `select(subq.c.x).select_from(subq)`): made by [`select_from`]. Its items, conditions and
/// sort keys are on the subquery's columns (`derived.c0()` …). It renders with
/// [`FromSubquery::to_sql`], runs with `session.execute(…)`, and is a part of a
/// [`CompoundSelect`] like a [`ColumnSelect`].
///
/// ```text
/// alias!(Both = "both");
/// let both = select_columns(A::name).union(select_columns(B::name)).subquery_as(Both);
/// let st = select_from(&both, both.c0()).intersect(select_columns(C::name));
/// ```
pub struct FromSubquery<T, A> {
    base: SelectStatement,
    items: Vec<Scalar>,
    group_by: Vec<Scalar>,
    having: Vec<Expr>,
    error: Option<Error>,
    _m: PhantomData<fn() -> (T, A)>,
}

impl<T, A> Clone for FromSubquery<T, A> {
    fn clone(&self) -> Self {
        FromSubquery {
            base: self.base.clone(),
            items: self.items.clone(),
            group_by: self.group_by.clone(),
            having: self.having.clone(),
            error: self.error.clone(),
            _m: PhantomData,
        }
    }
}

impl<T, A> std::fmt::Debug for FromSubquery<T, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromSubquery")
            .field("base", &self.base)
            .field("items", &self.items)
            .field("group_by", &self.group_by)
            .field("having", &self.having)
            .finish()
    }
}

/// What a [`FromSubquery`] names as its table when its subquery has none (never rendered: the
/// builder's error is reported first).
static NO_TABLE: athanor_core::schema::TableDef =
    athanor_core::schema::TableDef { name: "", rust_name: "", columns: &[] };

/// `SELECT <items> FROM (<subquery>) AS <alias>` ([`FromSubquery`]): `derived` is a
/// [`ColumnSelect::subquery_as`] or a [`CompoundSelect::subquery_as`], `items` one of its
/// columns or a tuple of up to six (`(d.c0(), d.c1())`), or expressions over them. An item of
/// another source does not compile.
pub fn select_from<D, A: AliasName, T, I>(derived: &Derived<D, A>, items: T) -> FromSubquery<T, A>
where
    T: RowItems + SelectionIn<SubquerySource<A>, (), I>,
{
    let mut error = from_query_error(&derived.query).cloned();
    let table = match from_query_table(&derived.query) {
        Some(t) => t,
        None => {
            error = Some(Error::invalid_request("a subquery in FROM needs at least one part"));
            &NO_TABLE
        }
    };
    let mut base = SelectStatement::new(table);
    base.from_subquery = Some(Box::new(DerivedTable { query: derived.query.clone(), alias: A::NAME }));
    FromSubquery { base, items: items.item_scalars(), group_by: Vec::new(), having: Vec::new(), error, _m: PhantomData }
}

impl<T: RowItems, A: AliasName> FromSubquery<T, A> {
    /// Add a condition (WHERE) on the subquery's columns; several are ANDed.
    pub fn filter(mut self, condition: Condition<SubquerySource<A>>) -> Self {
        self.base.filters.push(condition.into_expr());
        self
    }

    /// `GROUP BY` one of the subquery's columns or a tuple of them.
    pub fn group_by<I>(mut self, keys: impl GroupKeys<SubquerySource<A>, (), I>) -> Self {
        keys.group_keys(&mut self.group_by);
        self
    }

    /// `HAVING condition` (on aggregates of the subquery's columns).
    pub fn having(mut self, condition: Condition<SubquerySource<A>>) -> Self {
        self.having.push(condition.into_expr());
        self
    }

    /// Sort keys on the subquery's columns or expressions over them, one or a tuple.
    pub fn order_by<I>(mut self, keys: impl OrderKeys<SubquerySource<A>, (), I>) -> Self {
        keys.order_keys(&mut self.base.order);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.base.limit = Some(n);
        self
    }

    /// Skip `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.base.offset = Some(n);
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.base.distinct = true;
        self
    }

    fn statement_data(&self) -> SubqueryStatement {
        SubqueryStatement {
            base: self.base.clone(),
            items: self.items.clone(),
            group_by: self.group_by.clone(),
            having: self.having.clone(),
            error: self.error.clone(),
        }
    }

    /// The SELECT's text and parameters, rendered by `dialect` (no session, no connection).
    ///
    /// # Errors
    /// The subquery's builder error; those of rendering it ([`CompoundStatement::to_sql`] for a
    /// compound one); an identifier the dialect refuses.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.base.to_sql_columns(dialect, &self.items, &self.group_by, &self.having, self.base.limit)
    }

    fn compound<P, I2>(self, other: P, op: SetOperator) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        CompoundSelect {
            statement: CompoundStatement {
                parts: vec![self.statement_data(), other.into_part()],
                ops: vec![op],
                order: Vec::new(),
                limit: None,
                offset: None,
            },
            decode: T::decode_row,
            first: T::first_item,
        }
    }

    /// `… UNION …`: the rows of both, duplicates removed.
    pub fn union<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::Union)
    }

    /// `… UNION ALL …`: the rows of both, duplicates kept.
    pub fn union_all<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::UnionAll)
    }

    /// `… INTERSECT …`: the rows in both, duplicates removed.
    pub fn intersect<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::Intersect)
    }

    /// `… INTERSECT ALL …`: the rows in both, each as many times as in the part with fewer.
    /// [`Error::Unsupported`] when run where `Capabilities::intersect_except_all` is false (SQLite).
    pub fn intersect_all<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::IntersectAll)
    }

    /// `… EXCEPT …`: the rows of this select that the other does not have, duplicates removed
    /// (SQLAlchemy's `except_`; `except` is not a Rust keyword but reads like one).
    pub fn except_<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::Except)
    }

    /// `… EXCEPT ALL …`: each row of this select as many times more than the other has it.
    /// [`Error::Unsupported`] when run where `Capabilities::intersect_except_all` is false (SQLite).
    pub fn except_all<P, I2>(self, other: P) -> CompoundSelect<T::Out, T::First>
    where
        P: CompoundPart<T::Out, I2>,
    {
        self.compound(other, SetOperator::ExceptAll)
    }
}

impl<T: RowItems, A: AliasName> CompoundPart<T::Out, ()> for FromSubquery<T, A> {
    fn into_part(self) -> SubqueryStatement {
        self.statement_data()
    }
}
