//! Typed scalar expressions ([`ScalarExpr`]): values, columns and expressions as operands
//! ([`IntoScalar`]), arithmetic, casts ([`CastTo`]), `case`, string functions and `coalesce`.

use super::column::Column;
use super::condition::Condition;
use super::order::ExprOrdering;
use super::source::Source;
use athanor_core::field::ColumnValue;
use athanor_core::sql::ast::{
    ArithOp, CastType, CmpOp, ColumnRef, Expr, NumberKind, Operand, OrderKey, Scalar, SqlFunc,
};
use athanor_core::value::Value;
use std::marker::PhantomData;

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
    pub(super) _m: PhantomData<fn() -> (M, T)>,
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
    /// Two columns of the same type ([`Comparable`](super::Comparable)).
    pub struct Same;
    /// A non-null column compared with a nullable one of the same type.
    pub struct ToNullable;
    /// A nullable column compared with a non-null one of the same type.
    pub struct FromNullable;
}

/// Column types that compare with each other across models (joins `ON`, `correlate`): the same
/// type, or one of them nullable (`i64` with `Option<i64>`, either way round): a reflected
/// model's primary key is `Option<i64>` where the foreign keys pointing at it are `i64`. NULL
/// compares as unknown, as in SQL. Different value types (an `i64` with a `String`) do not
/// compare. `K` is inferred.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` column cannot be compared with a `{T}` column",
    label = "expected a `{T}` or `Option<{T}>` column (or `T` for an `Option<T>` one)",
    note = "columns compare when their types are the same, or one is the other's Option"
)]
pub trait Comparable<T, K> {}
impl<T> Comparable<T, operand::Same> for T {}
impl<T> Comparable<Option<T>, operand::ToNullable> for T {}
impl<T> Comparable<T, operand::FromNullable> for Option<T> {}

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

/// What a column of type `T` of model `M` may be *set to* (`UPDATE … SET col = …`): a value of
/// that type (as for [`ColumnValue`]), another column of `M` of the same type, or a
/// [`ScalarExpr`] of that type over `M` (`Book::stock.sub(qty)`), its values bound. A non-null
/// column or expression may set a nullable column; the reverse does not compile (NULL into a
/// NOT NULL column). `K` is inferred.
///
/// What `UpdateSet::value` (a bulk UPDATE) and `Handle::set_expr` (one object, written by the
/// next flush) take.
#[diagnostic::on_unimplemented(
    message = "a `{T}` column of `{M}` cannot be set to `{Self}`",
    label = "expected a `{T}` value, a `{T}` column of `{M}`, or a `{T}` expression over `{M}`",
    note = "an expression must have the column's type: `Book::stock.sub(1)` sets an i32 column; a nullable expression cannot set a NOT NULL column"
)]
pub trait Assignable<M, T, K> {
    /// The untyped expression.
    fn into_assignment(self) -> Scalar;
}
impl<M, T, V: ColumnValue<T>> Assignable<M, T, operand::Val> for V {
    fn into_assignment(self) -> Scalar {
        Scalar::Value(self.into_value())
    }
}
impl<M: Source, T> Assignable<M, T, operand::Col> for Column<M, T> {
    fn into_assignment(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
/// A non-null column sets a nullable one of the same type.
impl<M: Source, T> Assignable<M, Option<T>, operand::ToNullable> for Column<M, T> {
    fn into_assignment(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
impl<M, T> Assignable<M, T, operand::Ex> for ScalarExpr<M, T> {
    fn into_assignment(self) -> Scalar {
        self.expr
    }
}
/// A non-null expression sets a nullable column of the same type.
impl<M, T> Assignable<M, Option<T>, operand::ToNullable> for ScalarExpr<M, T> {
    fn into_assignment(self) -> Scalar {
        self.expr
    }
}

/// Numeric field types (arithmetic is offered on their columns): integers, floats and, with
/// the `decimal` feature, `rust_decimal::Decimal`, whose `+`, `-` and `*` are exact on every
/// database (SQLite, which keeps decimals as text, computes them with functions its backend
/// registers).
pub trait Numeric {
    /// Integers (division truncates), floats or exact decimals.
    const KIND: NumberKind;
}
macro_rules! numeric {
    ($($t:ty => $kind:expr),*) => {$(
        impl Numeric for $t { const KIND: NumberKind = $kind; }
        impl Numeric for Option<$t> { const KIND: NumberKind = $kind; }
    )*};
}
numeric!(i16 => NumberKind::Integer, i32 => NumberKind::Integer, i64 => NumberKind::Integer,
    u8 => NumberKind::Integer, u16 => NumberKind::Integer, u32 => NumberKind::Integer,
    f32 => NumberKind::Float, f64 => NumberKind::Float);
#[cfg(feature = "decimal")]
numeric!(athanor_core::rust_decimal::Decimal => NumberKind::Decimal);

/// Numeric types with `/` and `%`: integers and floats. Not decimals: PostgreSQL and MySQL give
/// a quotient of decimals different scales (and SQLite none exact).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no portable division",
    note = "decimals add, subtract and multiply exactly on every database; their quotients differ"
)]
pub trait Divisible: Numeric {}
macro_rules! divisible {
    ($($t:ty),*) => {$(
        impl Divisible for $t {}
        impl Divisible for Option<$t> {}
    )*};
}
divisible!(i16, i32, i64, u8, u16, u32, f32, f64);

pub(super) fn compare_scalars<M>(left: Scalar, op: CmpOp, right: Scalar) -> Condition<M> {
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
        expr: Scalar::Arith { op, left: Box::new(left), right: Box::new(right), kind: T::KIND },
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
        /// `self / other` (truncating for integers on every database; not offered on decimals,
        /// [`Divisible`]).
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.div(1)`
        pub fn div<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T>
        where
            T: Divisible,
        {
            arith(self.scalar(), ArithOp::Div, other.into_scalar())
        }
        /// `self % other` (not offered on decimals).
        #[allow(clippy::should_implement_trait)] // the issue's spelling: `Post::score.rem(1)`
        pub fn rem<K>(self, other: impl IntoScalar<M, T, K>) -> ScalarExpr<M, T>
        where
            T: Divisible,
        {
            arith(self.scalar(), ArithOp::Rem, other.into_scalar())
        }
        /// `-self` (`0 - self` for a decimal, exact on SQLite too).
        #[allow(clippy::should_implement_trait)]
        pub fn neg(self) -> ScalarExpr<M, T> {
            match T::KIND {
                NumberKind::Decimal => arith(Scalar::Value(Value::Decimal("0".into())), ArithOp::Sub, self.scalar()),
                _ => ScalarExpr { expr: Scalar::Neg(Box::new(self.scalar())), _m: PhantomData },
            }
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
/// become `i64`, `f64` (exact up to 2^53), their decimal text or (feature `decimal`) a
/// `Decimal` for exact arithmetic with decimals (`Line::price.mul(Line::quantity.cast::<Decimal>())`);
/// a nullable source gives a nullable result. Not offered, because the databases disagree: a float to an integer
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
#[cfg(feature = "decimal")]
casts!(i16, i32, i64 => athanor_core::rust_decimal::Decimal, CastType::Decimal);

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
#[cfg(feature = "decimal")]
nullable!(athanor_core::rust_decimal::Decimal);

/// `CASE WHEN … THEN … END` being built: `case().when(Post::score.ge(10), "high")
/// .when(Post::score.ge(0), "low").else_("negative")`. Start with [`case`]; the result type `T`
/// comes from the results (write `case::<String>()` where only values say it).
pub struct CaseStart<T>(PhantomData<fn() -> T>);

/// `CASE` with at least one `WHEN` (see [`CaseStart`]).
pub struct Case<M, T> {
    whens: Vec<(Expr, Scalar)>,
    pub(super) _m: PhantomData<fn() -> (M, T)>,
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
