//! Typed column handles and the filter expressions built from them.
//!
//! `#[derive(Model)]` writes one [`Column`] constant per field (`Customer::age`), typed by the
//! model and the field's Rust type, so `Customer::age.ge("x")` and a filter on another model's
//! column do not compile. Values always become bound parameters.

use athanor_core::sql::ast::escape_like;
pub use athanor_core::sql::ast::{
    ArithOp, CastType, CmpOp, ColumnRef, Expr, NullsOrder, Operand, OrderKey, Scalar, SqlFunc,
};

use crate::model::Model;
use athanor_core::field::ColumnValue;
use athanor_core::value::Value;
use std::marker::PhantomData;

/// A filter condition on model `M`: a typed wrapper around [`Expr`].
///
/// Combine with `&`, `|`, `!` or [`Condition::and`], [`Condition::or`], [`Condition::not`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition<M> {
    expr: Expr,
    _model: PhantomData<fn() -> M>,
}

impl<M> Condition<M> {
    fn new(expr: Expr) -> Self {
        Condition { expr, _model: PhantomData }
    }

    /// A condition around an untyped expression (for raw SQL, [`crate::TypedText::condition`]).
    pub(crate) fn from_expr(expr: Expr) -> Self {
        Condition::new(expr)
    }

    /// The untyped expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Into the untyped expression.
    pub fn into_expr(self) -> Expr {
        self.expr
    }

    /// `self AND other`.
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        match self.expr {
            Expr::And(mut v) => {
                v.push(other.expr);
                Condition::new(Expr::And(v))
            }
            e => Condition::new(Expr::And(vec![e, other.expr])),
        }
    }

    /// `self OR other`.
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        match self.expr {
            Expr::Or(mut v) => {
                v.push(other.expr);
                Condition::new(Expr::Or(v))
            }
            e => Condition::new(Expr::Or(vec![e, other.expr])),
        }
    }

    /// Use `c` as the escape character of this LIKE condition (SQLAlchemy's
    /// `like(pattern, escape="!")`): `Customer::email.like("100!%%").escape('!')` matches text
    /// starting with `100%`. The default is the backslash. A condition that is not a LIKE (or
    /// its negation) is returned unchanged: it has no escape character.
    ///
    /// `c` must be one ASCII character other than NUL, on every database (MySQL would compare a
    /// multi-byte one byte-wise and match nothing): a statement with another escape character
    /// fails with [`Error::Unsupported`](athanor_core::Error::Unsupported) before anything is sent.
    pub fn escape(self, c: char) -> Condition<M> {
        fn set(e: Expr, c: char) -> Expr {
            match e {
                Expr::Like { column, pattern, negated, case_insensitive, .. } => {
                    Expr::Like { column, pattern, negated, escape: c, case_insensitive }
                }
                Expr::Not(inner) => Expr::Not(Box::new(set(*inner, c))),
                other => other,
            }
        }
        Condition::new(set(self.expr, c))
    }

    /// `NOT self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Condition<M> {
        Condition::new(Expr::Not(Box::new(self.expr)))
    }
}

impl<M> std::ops::BitAnd for Condition<M> {
    type Output = Condition<M>;
    fn bitand(self, rhs: Self) -> Self {
        self.and(rhs)
    }
}
impl<M> std::ops::BitOr for Condition<M> {
    type Output = Condition<M>;
    fn bitor(self, rhs: Self) -> Self {
        self.or(rhs)
    }
}
impl<M> std::ops::Not for Condition<M> {
    type Output = Condition<M>;
    fn not(self) -> Self {
        Condition::not(self)
    }
}

/// All of the conditions (`and_(…)` in SQLAlchemy).
pub fn and_<M>(conditions: impl IntoIterator<Item = Condition<M>>) -> Condition<M> {
    Condition::new(Expr::And(conditions.into_iter().map(|c| c.expr).collect()))
}

/// Any of the conditions (`or_(…)` in SQLAlchemy).
pub fn or_<M>(conditions: impl IntoIterator<Item = Condition<M>>) -> Condition<M> {
    Condition::new(Expr::Or(conditions.into_iter().map(|c| c.expr).collect()))
}

/// `NOT condition` (`not_(…)` in SQLAlchemy).
pub fn not_<M>(condition: Condition<M>) -> Condition<M> {
    condition.not()
}

/// A one-column subquery whose values have type `T` (`ColumnQuery::subquery`).
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery<T> {
    pub(crate) statement: athanor_core::sql::ast::SubqueryStatement,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Subquery<T> {
    /// This one-column subquery as a value, `(SELECT …)`, in a filter or a select list of a
    /// query on `M` (SQLAlchemy's `scalar_subquery()`); NULL when it returns no row, so the
    /// result is nullable. The subquery is uncorrelated (it names only its own models), and a
    /// subquery that returns more than one row is the database's error.
    ///
    /// ```text
    /// let top = session.select(func::max(Post::score)).subquery().scalar::<Post>();
    /// session.query::<Post>().filter(Post::score.eq(top)).all()?;
    /// ```
    pub fn scalar<M>(self) -> ScalarExpr<M, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Subquery(Box::new(self.statement)), _m: PhantomData }
    }
}

/// What `in_` / `not_in` take: values of the column's type, or a [`Subquery`] of it. `K` is
/// inferred.
pub trait InValues<T, K> {
    /// The condition.
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr;
}
impl<T, V: ColumnValue<T>, I: IntoIterator<Item = V>> InValues<T, operand::Val> for I {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InList { column, values: self.into_iter().map(ColumnValue::into_value).collect(), negated }
    }
}
impl<T> InValues<T, operand::Ex> for Subquery<T> {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InSubquery { column, subquery: Box::new(self.statement), negated }
    }
}
/// A nullable column's values in a subquery compared with a non-null column.
impl<T> InValues<T, operand::Col> for Subquery<Option<T>> {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InSubquery { column, subquery: Box::new(self.statement), negated }
    }
}

/// A subquery correlated with model (or alias) `Q` of the enclosing query
/// (`ColumnQuery::correlate`): its WHERE compares one of its columns with one of `Q`'s, so it
/// is valid only where `Q` is in scope. `exists(…)` of it is a `Condition<Q>` and `scalar()` a
/// value of `Q`'s query, so the compiler checks that the enclosing query has `Q`.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlated<T, Q> {
    pub(crate) statement: athanor_core::sql::ast::SubqueryStatement,
    pub(crate) _t: PhantomData<fn() -> (T, Q)>,
}

impl<T, Q> Correlated<T, Q> {
    /// This one-column correlated subquery as a value per row of the enclosing query
    /// (`(SELECT COUNT(*) FROM posts WHERE posts.user_id = users.id)`); NULL for no row.
    pub fn scalar(self) -> ScalarExpr<Q, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Subquery(Box::new(self.statement)), _m: PhantomData }
    }
}

/// What `exists` / `not_exists` take: an uncorrelated [`Subquery`] (valid in any query: name
/// the model, `exists::<User, _>(sub)`), or a [`Correlated`] one (valid where its outer model is).
pub trait IntoSubquery<M> {
    /// The statement.
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement;
}
impl<M, T> IntoSubquery<M> for Subquery<T> {
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement {
        self.statement
    }
}
impl<T, Q> IntoSubquery<Q> for Correlated<T, Q> {
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement {
        self.statement
    }
}

/// `EXISTS (subquery)`: some row matches (SQLAlchemy's `exists()`). For an uncorrelated
/// subquery the condition's model cannot be inferred: name it,
/// `query::<User>().filter(exists::<User, _>(sub))`. A correlated one
/// (`session.select(Post::id).correlate(Post::user_id, User::id)`) is a condition on its outer
/// model: `query::<User>().filter(exists(posts_of_user))`.
pub fn exists<M, S: IntoSubquery<M>>(subquery: S) -> Condition<M> {
    Condition::new(Expr::Exists { subquery: Box::new(subquery.into_statement()), negated: false })
}

/// `NOT EXISTS (subquery)`.
pub fn not_exists<M, S: IntoSubquery<M>>(subquery: S) -> Condition<M> {
    Condition::new(Expr::Exists { subquery: Box::new(subquery.into_statement()), negated: true })
}

/// A sort key: a column, ascending or descending, and where its NULLs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering<M> {
    /// The column.
    pub column: ColumnRef,
    /// `DESC`.
    pub descending: bool,
    /// Where NULLs go; `None`: NULL is the smallest value (first ascending, last descending) on
    /// every database.
    pub nulls: Option<NullsOrder>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Ordering<M> {
    /// NULLs first, whatever the direction (SQLAlchemy's `.nulls_first()`).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(NullsOrder::First);
        self
    }
    /// NULLs last, whatever the direction (SQLAlchemy's `.nulls_last()`).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(NullsOrder::Last);
        self
    }
    /// The untyped key.
    pub fn key(&self) -> OrderKey {
        OrderKey { column: self.column, expr: None, descending: self.descending, nulls: self.nulls }
    }
}

/// A typed scalar expression over model `M`'s columns whose value has Rust type `T`:
/// `Post::score.add(1)`, `Order::total_cents.div(100)`. Compare it (`.gt(…)`) to get a
/// [`Condition`], or combine it further.
///
/// Arithmetic means the same everywhere for what it is defined on: integer division truncates
/// toward zero (rendered `DIV` on MySQL, whose `/` would give a decimal), `%` takes the dividend's
/// sign. What differs, and is documented rather than hidden: division by zero is an error on
/// PostgreSQL and NULL on SQLite and MySQL; integer overflow is an error on PostgreSQL and MySQL
/// and becomes a float on SQLite.
pub struct ScalarExpr<M, T> {
    /// The untyped expression.
    pub expr: Scalar,
    _m: PhantomData<fn() -> (M, T)>,
}

impl<M, T> ScalarExpr<M, T> {
    /// A typed wrapper around an untyped expression (for the `func` constructors).
    pub(crate) fn from_scalar(expr: Scalar) -> Self {
        ScalarExpr { expr, _m: PhantomData }
    }
}

impl<M, T> Clone for ScalarExpr<M, T> {
    fn clone(&self) -> Self {
        ScalarExpr { expr: self.expr.clone(), _m: PhantomData }
    }
}
impl<M, T> std::fmt::Debug for ScalarExpr<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.expr, f)
    }
}

/// Kinds of [`IntoScalar`] (they keep its impls apart; inference picks the one that applies).
pub mod operand {
    /// A value.
    pub struct Val;
    /// A column.
    pub struct Col;
    /// An expression.
    pub struct Ex;
    /// A nullable expression where a non-null one of the same type is expected.
    pub struct OptEx;
}

/// What a column of type `T` of model `M` may be compared or combined with: a value of that
/// type (as for [`ColumnValue`]), another column of `M` of the same type, or a
/// [`ScalarExpr`] of that type. `K` is inferred.
#[diagnostic::on_unimplemented(
    message = "cannot compare or combine a `{T}` column of `{M}` with `{Self}`",
    label = "expected a `{T}` value, a `{T}` column of the same model, or a `{T}` expression",
    note = "a column accepts values of its field's type (and &str for String, T or Option<T> for Option<T>)"
)]
pub trait IntoScalar<M, T, K> {
    /// The untyped expression.
    fn into_scalar(self) -> Scalar;
}
impl<M, T, V: ColumnValue<T>> IntoScalar<M, T, operand::Val> for V {
    fn into_scalar(self) -> Scalar {
        Scalar::Value(self.into_value())
    }
}
impl<M: Source, T> IntoScalar<M, T, operand::Col> for Column<M, T> {
    fn into_scalar(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
/// A non-null column where a nullable one of the same type is expected.
impl<M: Source, T> IntoScalar<M, Option<T>, operand::Col> for Column<M, T> {
    fn into_scalar(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
/// A nullable column where a non-null one of the same type is expected (NULL compares as
/// unknown, as in SQL).
impl<M: Source, T> IntoScalar<M, T, operand::Col> for Column<M, Option<T>> {
    fn into_scalar(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
impl<M, T> IntoScalar<M, T, operand::Ex> for ScalarExpr<M, T> {
    fn into_scalar(self) -> Scalar {
        self.expr
    }
}
/// A nullable expression (an aggregate, a scalar subquery) where a non-null one of the same type
/// is expected (NULL compares as unknown, as in SQL).
impl<M, T> IntoScalar<M, T, operand::OptEx> for ScalarExpr<M, Option<T>> {
    fn into_scalar(self) -> Scalar {
        self.expr
    }
}

/// Numeric field types (arithmetic is offered on their columns).
pub trait Numeric {
    /// An integer type (division truncates).
    const INTEGER: bool;
}
macro_rules! numeric {
    ($($t:ty => $int:expr),*) => {$(
        impl Numeric for $t { const INTEGER: bool = $int; }
        impl Numeric for Option<$t> { const INTEGER: bool = $int; }
    )*};
}
numeric!(i16 => true, i32 => true, i64 => true, u8 => true, u16 => true, u32 => true, f32 => false, f64 => false);

fn compare_scalars<M>(left: Scalar, op: CmpOp, right: Scalar) -> Condition<M> {
    match (left, right) {
        (Scalar::Column(left), Scalar::Value(v)) => {
            Condition::new(Expr::Compare { left, op, right: Operand::Value(v) })
        }
        (Scalar::Column(left), Scalar::Column(c)) => {
            Condition::new(Expr::Compare { left, op, right: Operand::Column(c) })
        }
        (left, right) => Condition::new(Expr::CompareScalar { left, op, right }),
    }
}

fn arith<M, T: Numeric>(left: Scalar, op: ArithOp, right: Scalar) -> ScalarExpr<M, T> {
    ScalarExpr {
        expr: Scalar::Arith { op, left: Box::new(left), right: Box::new(right), integer: T::INTEGER },
        _m: PhantomData,
    }
}

macro_rules! arithmetic_methods {
    () => {
        /// `self + other`.
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.add(1)`
        pub fn add<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            arith(self.scalar(), ArithOp::Add, other.into_scalar())
        }
        /// `self - other`.
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.sub(1)`
        pub fn sub<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            arith(self.scalar(), ArithOp::Sub, other.into_scalar())
        }
        /// `self * other`.
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.mul(1)`
        pub fn mul<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            arith(self.scalar(), ArithOp::Mul, other.into_scalar())
        }
        /// `self / other` (truncating for integers on every database).
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.div(1)`
        pub fn div<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            arith(self.scalar(), ArithOp::Div, other.into_scalar())
        }
        /// `self % other`.
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.rem(1)`
        pub fn rem<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            arith(self.scalar(), ArithOp::Rem, other.into_scalar())
        }
        /// `-self`.
        #[allow(clippy::should_implement_trait)]
        pub fn neg(self) -> ScalarExpr<M, T> {
            ScalarExpr { expr: Scalar::Neg(Box::new(self.scalar())), _m: PhantomData }
        }
    };
}

impl<M: Source, T: Numeric> Column<M, T> {
    fn scalar(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
    arithmetic_methods!();
}

impl<M, T: Numeric> ScalarExpr<M, T> {
    fn scalar(self) -> Scalar {
        self.expr
    }
    arithmetic_methods!();
}

/// A sort key on an expression of model `M`: `func::count(Post::id).desc()`.
#[derive(Debug, Clone)]
pub struct ExprOrdering<M> {
    key: OrderKey,
    _m: PhantomData<fn() -> M>,
}

impl<M> ExprOrdering<M> {
    /// NULLs first.
    pub fn nulls_first(mut self) -> Self {
        self.key.nulls = Some(NullsOrder::First);
        self
    }
    /// NULLs last.
    pub fn nulls_last(mut self) -> Self {
        self.key.nulls = Some(NullsOrder::Last);
        self
    }
}

/// A sort key of model `M`: a column's ([`Ordering`]) or an expression's ([`ExprOrdering`]).
pub trait IntoOrderKey<M> {
    /// The untyped key.
    fn into_order_key(self) -> OrderKey;
}
impl<M> IntoOrderKey<M> for Ordering<M> {
    fn into_order_key(self) -> OrderKey {
        self.key()
    }
}
impl<M> IntoOrderKey<M> for ExprOrdering<M> {
    fn into_order_key(self) -> OrderKey {
        self.key
    }
}

impl<M, T> ScalarExpr<M, T> {
    fn ordering(self, descending: bool) -> ExprOrdering<M> {
        let key =
            OrderKey { column: ColumnRef { table: "", column: "" }, expr: Some(self.expr), descending, nulls: None };
        ExprOrdering { key, _m: PhantomData }
    }
    /// Ascending sort key on this expression.
    pub fn asc(self) -> ExprOrdering<M> {
        self.ordering(false)
    }
    /// Descending sort key on this expression.
    pub fn desc(self) -> ExprOrdering<M> {
        self.ordering(true)
    }

    /// `self = other`.
    pub fn eq<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Eq, other.into_scalar())
    }
    /// `self <> other`.
    pub fn ne<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Ne, other.into_scalar())
    }
    /// `self < other`.
    pub fn lt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Lt, other.into_scalar())
    }
    /// `self <= other`.
    pub fn le<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Le, other.into_scalar())
    }
    /// `self > other`.
    pub fn gt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Gt, other.into_scalar())
    }
    /// `self >= other`.
    pub fn ge<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(self.expr, CmpOp::Ge, other.into_scalar())
    }
}

/// The conversions `cast::<U>()` offers: those with one result on every database. Integers
/// become `i64`, `f64` (exact up to 2^53) or their decimal text; a nullable source gives a
/// nullable result. Not offered, because the databases disagree: a float to an integer
/// (SQLite truncates, PostgreSQL rounds half to even, MySQL rounds half away from zero), text to
/// a number (PostgreSQL refuses malformed text, SQLite and MySQL take a prefix), a float to text
/// (each spells exponents its own way), a boolean to an integer (PostgreSQL has no such cast).
#[diagnostic::on_unimplemented(
    message = "Athanor cannot cast `{Self}` to `{U}` with one result on every database",
    note = "casts offered: integer columns and expressions to i64, f64 or String"
)]
pub trait CastTo<U> {
    /// The result's Rust type (`Option<U>` for a nullable source).
    type Out;
    /// The SQL type converted to.
    const TO: CastType;
}
macro_rules! casts {
    ($($from:ty),* => $to:ty, $sql:expr) => {$(
        impl CastTo<$to> for $from {
            type Out = $to;
            const TO: CastType = $sql;
        }
        impl CastTo<$to> for Option<$from> {
            type Out = Option<$to>;
            const TO: CastType = $sql;
        }
    )*};
}
casts!(i16, i32, i64 => i64, CastType::BigInt);
casts!(i16, i32, i64 => f64, CastType::Double);
casts!(i16, i32, i64 => String, CastType::Text);

fn cast<M, T: CastTo<U>, U>(inner: Scalar) -> ScalarExpr<M, T::Out> {
    ScalarExpr { expr: Scalar::Cast { inner: Box::new(inner), to: T::TO }, _m: PhantomData }
}

impl<M: Source, T> Column<M, T> {
    /// `CAST(col AS …)` to `U` ([`CastTo`] lists the conversions offered):
    /// `Order::total_cents.cast::<f64>().div(100.0)`.
    pub fn cast<U>(self) -> ScalarExpr<M, T::Out>
    where
        T: CastTo<U>,
    {
        cast::<M, T, U>(Scalar::Column(self.column_ref()))
    }
}

impl<M: Source, T> Column<M, T> {
    /// This column read as nullable (`Option<T>`): for a column on the outer side of a
    /// `LEFT OUTER JOIN`, which is NULL where the join found nothing, in a select list:
    /// `select((User::name, Post::title.nullable())).outerjoin(User::posts)`.
    pub fn nullable(self) -> ScalarExpr<M, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Column(self.column_ref()), _m: PhantomData }
    }
}

impl<M, T> ScalarExpr<M, T> {
    /// `CAST(expr AS …)` to `U` ([`CastTo`]).
    pub fn cast<U>(self) -> ScalarExpr<M, T::Out>
    where
        T: CastTo<U>,
    {
        cast::<M, T, U>(self.expr)
    }
}

/// The nullable form of a field type: what a `CASE` without `ELSE` gives.
pub trait Nullable {
    /// `Option<T>` (and `Option<T>` itself for a type that already is one).
    type Opt;
}
macro_rules! nullable {
    ($($t:ty),*) => {$(
        impl Nullable for $t { type Opt = Option<$t>; }
        impl Nullable for Option<$t> { type Opt = Option<$t>; }
    )*};
}
nullable!(bool, i16, i32, i64, f32, f64, String, Vec<u8>);

/// `CASE WHEN … THEN … END` being built: `case().when(Post::score.ge(10), "high")
/// .when(Post::score.ge(0), "low").else_("negative")`. Start with [`case`]; the result type `T`
/// comes from the results (write `case::<String>()` where only values say it).
pub struct CaseStart<T>(PhantomData<fn() -> T>);

/// `CASE` with at least one `WHEN` (see [`CaseStart`]).
pub struct Case<M, T> {
    whens: Vec<(Expr, Scalar)>,
    _m: PhantomData<fn() -> (M, T)>,
}

/// Start a `CASE` expression (SQLAlchemy's `case((cond, value), …, else_=…)`):
///
/// ```
/// use athanor_orm::{case, Condition};
/// # use athanor_orm::{Model, ScalarExpr};
/// # fn demo<M: Model>(high: Condition<M>, low: Condition<M>) -> ScalarExpr<M, String> {
/// case::<String>().when(high, "high").when(low, "low").else_("other")
/// # }
/// ```
pub fn case<T>() -> CaseStart<T> {
    CaseStart(PhantomData)
}

impl<T> CaseStart<T> {
    /// `WHEN condition THEN result`.
    pub fn when<M, K>(self, condition: Condition<M>, then: impl IntoScalar<M, T, K>) -> Case<M, T> {
        Case { whens: vec![(condition.into_expr(), then.into_scalar())], _m: PhantomData }
    }
}

impl<M, T> Case<M, T> {
    /// Another `WHEN condition THEN result` (the first that holds wins).
    pub fn when<K>(mut self, condition: Condition<M>, then: impl IntoScalar<M, T, K>) -> Self {
        self.whens.push((condition.into_expr(), then.into_scalar()));
        self
    }

    /// `ELSE result END`: a `T` expression.
    pub fn else_<K>(self, otherwise: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
        ScalarExpr {
            expr: Scalar::Case { whens: self.whens, otherwise: Some(Box::new(otherwise.into_scalar())) },
            _m: PhantomData,
        }
    }

    /// `END` without `ELSE`: NULL where no condition holds, so a nullable expression.
    pub fn end(self) -> ScalarExpr<M, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Case { whens: self.whens, otherwise: None }, _m: PhantomData }
    }
}

impl<T> std::fmt::Debug for CaseStart<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaseStart")
    }
}
impl<M, T> std::fmt::Debug for Case<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("whens", &self.whens).finish()
    }
}

/// Text field types (`String`, `Option<String>`): string functions are offered on their columns.
pub trait Textual {
    /// The type of the length: `i64`, or `Option<i64>` for a nullable column.
    type Length;
}
impl Textual for String {
    type Length = i64;
}
impl Textual for Option<String> {
    type Length = Option<i64>;
}

fn func<M, T>(func: SqlFunc, args: Vec<Scalar>) -> ScalarExpr<M, T> {
    ScalarExpr { expr: Scalar::Func { func, args }, _m: PhantomData }
}

macro_rules! text_methods {
    ($scalar:ident) => {
        /// `self || other` (`CONCAT` on MySQL): a text expression.
        pub fn concat<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
            func(SqlFunc::Concat, vec![self.$scalar(), other.into_scalar()])
        }
        /// `LOWER(self)` (ASCII only on SQLite).
        pub fn lower(self) -> ScalarExpr<M, T> {
            func(SqlFunc::Lower, vec![self.$scalar()])
        }
        /// `UPPER(self)` (ASCII only on SQLite).
        pub fn upper(self) -> ScalarExpr<M, T> {
            func(SqlFunc::Upper, vec![self.$scalar()])
        }
        /// The length in characters, on every database.
        pub fn length(self) -> ScalarExpr<M, T::Length> {
            func(SqlFunc::Length, vec![self.$scalar()])
        }
    };
}

/// Text functions on text columns.
impl<M: Source, T: Textual> Column<M, T> {
    fn text_scalar(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
    text_methods!(text_scalar);
}

/// Text functions on text expressions (`User::name.lower().concat("!")`).
impl<M, T: Textual> ScalarExpr<M, T> {
    fn text_scalar(self) -> Scalar {
        self.expr
    }
    text_methods!(text_scalar);
}

impl<M: Source, T> Column<M, Option<T>> {
    /// `COALESCE(col, other)`: the column's value, or `other` where it is NULL.
    pub fn coalesce<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T> {
        func(SqlFunc::Coalesce, vec![Scalar::Column(self.column_ref()), other.into_scalar()])
    }
}

/// Where a column's values come from in a statement: a model's table, an alias of it
/// ([`Aliased`]) for a second appearance of the same table (a self-join), or a subquery in FROM
/// (`Derived`).
pub trait Source {
    /// The name its columns are qualified with (the table's, or the alias's).
    const QUALIFIER: &'static str;
}

/// A [`Source`] that is a mapped table, under its own name or an alias.
pub trait TableSource: Source {
    /// The mapped model.
    type Model: Model;
    /// The alias, if this is one.
    const ALIAS: Option<&'static str>;
}

impl<M: Model> Source for M {
    const QUALIFIER: &'static str = M::TABLE.name;
}
impl<M: Model> TableSource for M {
    type Model = M;
    const ALIAS: Option<&'static str> = None;
}

/// The name of an alias (SQLAlchemy's `aliased(Category, name="parent")`), declared with
/// [`alias!`](crate::alias): `alias!(pub Parent = "parent");` declares `struct Parent`.
pub trait AliasName: Copy {
    /// The alias in SQL (`categories AS parent`). It must differ from every table name of the
    /// query, and is quoted like any identifier.
    const NAME: &'static str;

    /// Column `column` of model `M` under this alias: `Parent::col(Category::name)`.
    fn col<M: Model, T>(column: Column<M, T>) -> Column<Aliased<M, Self>, T> {
        Column::new(column.index, column.name)
    }
}

/// Model `M`'s table under the alias `A` ([`AliasName`]): a distinct source for the compiler, so
/// conditions on the alias and on the table itself are told apart.
pub struct Aliased<M, A>(PhantomData<fn() -> (M, A)>);

impl<M: Model, A: AliasName> Source for Aliased<M, A> {
    const QUALIFIER: &'static str = A::NAME;
}
impl<M: Model, A: AliasName> TableSource for Aliased<M, A> {
    type Model = M;
    const ALIAS: Option<&'static str> = Some(A::NAME);
}

/// The columns of a subquery in FROM ([`crate::Derived`]) under the alias `A`.
pub struct SubquerySource<A>(PhantomData<fn() -> A>);

impl<A: AliasName> Source for SubquerySource<A> {
    const QUALIFIER: &'static str = A::NAME;
}

/// Declare an alias name for self-joins: `alias!(pub Parent = "parent");` is a unit struct
/// `Parent` whose SQL name is `parent`. Use it with `Query::join_as` / `join_on` and
/// `Parent::col(Category::name)`.
#[macro_export]
macro_rules! alias {
    ($(#[$meta:meta])* $vis:vis $name:ident = $sql:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        $vis struct $name;
        impl $crate::AliasName for $name {
            const NAME: &'static str = $sql;
        }
    };
}

/// A typed handle to column `name` of model `M`, whose field has Rust type `T`.
pub struct Column<M, T> {
    /// The column's position in the table.
    pub index: usize,
    /// The column's name in the database.
    pub name: &'static str,
    _marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}
impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<M: Source, T> Column<M, T> {
    /// Used by `#[derive(Model)]`.
    pub const fn new(index: usize, name: &'static str) -> Self {
        Column { index, name, _marker: PhantomData }
    }

    /// The table-qualified reference to this column.
    pub fn column_ref(self) -> ColumnRef {
        ColumnRef { table: M::QUALIFIER, column: self.name }
    }

    /// `col op other` for another column of the same model and type (the same as
    /// `Item::sold.lt(Item::stock)`, with the operator as a value).
    pub fn cmp_column(self, op: CmpOp, other: Column<M, T>) -> Condition<M> {
        Condition::new(Expr::Compare { left: self.column_ref(), op, right: Operand::Column(other.column_ref()) })
    }

    /// `col = other`: a value (`IS NULL` for a `None`), another column of the model, or an
    /// expression of the same type (`Order::total_cents.eq(Order::customer_id.mul(100))`).
    pub fn eq<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Eq, other.into_scalar())
    }
    /// `col <> other` (`IS NOT NULL` for a `None`).
    pub fn ne<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Ne, other.into_scalar())
    }
    /// `col < other`.
    pub fn lt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Lt, other.into_scalar())
    }
    /// `col <= other`.
    pub fn le<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Le, other.into_scalar())
    }
    /// `col > other`.
    pub fn gt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Gt, other.into_scalar())
    }
    /// `col >= other`.
    pub fn ge<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Ge, other.into_scalar())
    }
    /// `col IN (…)`: values (an empty list matches nothing) or a one-column subquery of the
    /// same type (`User::id.in_(session.select(Post::user_id).filter(…).subquery())`).
    pub fn in_<K>(self, values: impl InValues<T, K>) -> Condition<M> {
        Condition::new(values.in_expr(self.column_ref(), false))
    }
    /// `col NOT IN (…)`; an empty list matches everything. Beware NULLs in a subquery: `NOT IN`
    /// a set holding NULL matches nothing, on every database.
    pub fn not_in<K>(self, values: impl InValues<T, K>) -> Condition<M> {
        Condition::new(values.in_expr(self.column_ref(), true))
    }
    /// `col BETWEEN low AND high` (inclusive).
    pub fn between(self, low: impl ColumnValue<T>, high: impl ColumnValue<T>) -> Condition<M> {
        Condition::new(Expr::Between { column: self.column_ref(), low: low.into_value(), high: high.into_value() })
    }
    /// `col IS NULL`.
    pub fn is_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull { column: self.column_ref(), negated: false })
    }
    /// `col IS NOT NULL`.
    pub fn is_not_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull { column: self.column_ref(), negated: true })
    }
    /// Ascending sort key.
    pub fn asc(self) -> Ordering<M> {
        Ordering { column: self.column_ref(), descending: false, nulls: None, _model: PhantomData }
    }
    /// Descending sort key.
    pub fn desc(self) -> Ordering<M> {
        Ordering { column: self.column_ref(), descending: true, nulls: None, _model: PhantomData }
    }
}

/// Text columns: `LIKE` and the matchers built on it.
///
/// The backslash is the escape character on every database (PostgreSQL's and MySQL's default;
/// SQLite has none, so Athanor always renders `ESCAPE '\\'`): `like("%\\%%")` matches a literal `%`
/// everywhere. [`TextColumn::contains`], [`TextColumn::startswith`] and
/// [`TextColumn::endswith`] escape their argument, so `%`, `_` and `\\` in it match themselves.
///
/// A pattern (or `contains`/`startswith`/`endswith` argument) containing the NUL character is
/// refused on every database with [`Error::Unsupported`](athanor_core::Error::Unsupported) before
/// anything is sent: SQLite reads a LIKE pattern only up to the NUL (so `contains("\0")` would
/// match every row) and PostgreSQL cannot hold NUL in text.
pub trait TextColumn<M> {
    /// `col LIKE pattern` (`%` and `_` are wildcards, `\\` escapes them; see
    /// [`Condition::escape`] for another escape character). Case-sensitive on every database:
    /// SQLite connections run with `PRAGMA case_sensitive_like = ON`, MySQL tables use the
    /// `utf8mb4_bin` collation, and PostgreSQL's `LIKE` is case-sensitive.
    fn like(self, pattern: &str) -> Condition<M>;
    /// `col NOT LIKE pattern`.
    fn not_like(self, pattern: &str) -> Condition<M>;
    /// `LOWER(col) LIKE LOWER(pattern)`: case-insensitive LIKE (SQLAlchemy's `ilike`). Letters
    /// are folded by the database's `LOWER`: all of Unicode on PostgreSQL and MySQL, ASCII only
    /// on SQLite (its `LOWER` without ICU), so `É` and `é` differ there.
    fn ilike(self, pattern: &str) -> Condition<M>;
    /// The text contains `part` (matched literally: `%`, `_`, `\\` are escaped).
    fn contains(self, part: &str) -> Condition<M>;
    /// The text starts with `prefix` (matched literally).
    fn startswith(self, prefix: &str) -> Condition<M>;
    /// The text ends with `suffix` (matched literally).
    fn endswith(self, suffix: &str) -> Condition<M>;
}

fn like_expr(column: ColumnRef, pattern: String, negated: bool, case_insensitive: bool) -> Expr {
    Expr::Like { column, pattern: Value::Text(pattern), negated, escape: '\\', case_insensitive }
}

macro_rules! text_column {
    ($t:ty) => {
        impl<M: Model> TextColumn<M> for Column<M, $t> {
            fn like(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), false, false))
            }
            fn not_like(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), true, false))
            }
            fn ilike(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), false, true))
            }
            fn contains(self, part: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("%{}%", escape_like(part)), false, false))
            }
            fn startswith(self, prefix: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("{}%", escape_like(prefix)), false, false))
            }
            fn endswith(self, suffix: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("%{}", escape_like(suffix)), false, false))
            }
        }
    };
}
text_column!(String);
text_column!(Option<String>);
