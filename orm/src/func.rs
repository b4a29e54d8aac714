//! SQL functions with one result type per function (SQLAlchemy's `func`):
//! `func::count(Post::id)` is an `i64`, `func::sum` of an integer column an `Option<i64>`,
//! `func::avg` an `Option<f64>`, `func::min` / `func::max` the column's type (or NULL);
//! over decimals (feature `decimal`) `sum`, `avg`, `min` and `max` are exact `Decimal`s, the
//! same on every database. `func::extract(DatePart::Year, col)` is a field of a date or
//! date-time as an integer.
//!
//! Each is a [`ScalarExpr`]: select it (`session.select((User::name, func::count(Post::id)))`)
//! or compare it in a `having(…)` (`func::count(Post::id).gt(2)`). `sum`, `avg`, `min`, `max`
//! and `extract` take a column or a typed expression (`func::sum(Line::price.mul(Line::qty))`).

use crate::expr::{Column, Scalar, ScalarExpr, Source, SqlFunc};
use crate::model::Model;
pub use athanor_core::sql::ast::DatePart;

/// What `sum`, `avg`, `min`, `max` and `extract` take: a column of `M` (or of an alias or a
/// subquery in FROM) whose field type is `T`, or a typed expression of `T`.
pub trait Argument<M, T> {
    /// The untyped expression.
    fn into_argument(self) -> Scalar;
}
impl<M: Source, T> Argument<M, T> for Column<M, T> {
    fn into_argument(self) -> Scalar {
        Scalar::Column(self.column_ref())
    }
}
impl<M, T> Argument<M, T> for ScalarExpr<M, T> {
    fn into_argument(self) -> Scalar {
        self.expr
    }
}

/// Column types SUM adds up, and what the sum decodes to.
pub trait Summable {
    /// `Option<i64>` for integers, `Option<f64>` for floats, `Option<Decimal>` for decimals.
    type Sum;
    /// `SUM`, or the exact sum of decimals.
    const FUNC: SqlFunc;
}
/// Column types AVG averages, and what the average decodes to.
pub trait Average {
    /// `Option<f64>` for integers and floats, `Option<Decimal>` for decimals.
    type Avg;
    /// `AVG` as a double, or the rounded exact average of decimals.
    const FUNC: SqlFunc;
}
/// The type of MIN / MAX of a column: the column's type, nullable (NULL over no rows).
pub trait Extremum {
    /// `Option<T>`.
    type Nullable;
}
macro_rules! summable {
    ($($t:ty => $sum:ty, $avg:ty, $sumf:expr, $avgf:expr);*) => {$(
        impl Summable for $t { type Sum = Option<$sum>; const FUNC: SqlFunc = $sumf; }
        impl Summable for Option<$t> { type Sum = Option<$sum>; const FUNC: SqlFunc = $sumf; }
        impl Average for $t { type Avg = Option<$avg>; const FUNC: SqlFunc = $avgf; }
        impl Average for Option<$t> { type Avg = Option<$avg>; const FUNC: SqlFunc = $avgf; }
    )*};
}
summable!(i16 => i64, f64, SqlFunc::Sum, SqlFunc::Avg; i32 => i64, f64, SqlFunc::Sum, SqlFunc::Avg;
    i64 => i64, f64, SqlFunc::Sum, SqlFunc::Avg; u8 => i64, f64, SqlFunc::Sum, SqlFunc::Avg;
    u16 => i64, f64, SqlFunc::Sum, SqlFunc::Avg; u32 => i64, f64, SqlFunc::Sum, SqlFunc::Avg;
    f32 => f64, f64, SqlFunc::Sum, SqlFunc::Avg; f64 => f64, f64, SqlFunc::Sum, SqlFunc::Avg);
#[cfg(feature = "decimal")]
summable!(athanor_core::rust_decimal::Decimal => athanor_core::rust_decimal::Decimal,
    athanor_core::rust_decimal::Decimal, SqlFunc::DecimalSum, SqlFunc::DecimalAvg);
macro_rules! extremum {
    ($($t:ty),*) => {$(
        impl Extremum for $t { type Nullable = Option<$t>; }
        impl Extremum for Option<$t> { type Nullable = Option<$t>; }
    )*};
}
extremum!(bool, i16, i32, i64, u8, u16, u32, f32, f64, String);
#[cfg(feature = "decimal")]
extremum!(athanor_core::rust_decimal::Decimal);

fn call<M, R>(func: SqlFunc, args: Vec<Scalar>) -> ScalarExpr<M, R> {
    ScalarExpr::from_scalar(Scalar::Func { func, args })
}

/// `COUNT(col)`: the rows where `col` is not NULL.
pub fn count<M: Source, T>(column: Column<M, T>) -> ScalarExpr<M, i64> {
    call(SqlFunc::Count, vec![Scalar::Column(column.column_ref())])
}

/// `COUNT(*)` of model `M`'s rows (`func::count_all::<Post>()`).
pub fn count_all<M: Model>() -> ScalarExpr<M, i64> {
    call(SqlFunc::Count, Vec::new())
}

/// `COUNT(DISTINCT col)`.
pub fn count_distinct<M: Source, T>(column: Column<M, T>) -> ScalarExpr<M, i64> {
    call(SqlFunc::CountDistinct, vec![Scalar::Column(column.column_ref())])
}

/// `SUM(x)` of a column or an expression: NULL (`None`) over no rows. Over decimals the sum is
/// exact on every database, with the scale of the widest value (SQLite: `athanor_decimal_sum`,
/// registered by its backend): `func::sum(Line::price.mul(Line::quantity.cast::<Decimal>()))`.
pub fn sum<M, T: Summable>(x: impl Argument<M, T>) -> ScalarExpr<M, T::Sum> {
    call(T::FUNC, vec![x.into_argument()])
}

/// `AVG(x)` of a column or an expression: a double on every database for integers and floats.
/// Over decimals an exact `Decimal`, rounded half away from zero to
/// [`DECIMAL_AVG_SCALE`](athanor_core::decimal::DECIMAL_AVG_SCALE) (10) digits after the
/// point, the same on every database (`ROUND(AVG(x), 10)`; MySQL's argument widened first, since
/// its AVG keeps only 4 digits more than the column; SQLite's `athanor_decimal_avg`). NULL over no
/// rows.
pub fn avg<M, T: Average>(x: impl Argument<M, T>) -> ScalarExpr<M, T::Avg> {
    call(T::FUNC, vec![x.into_argument()])
}

/// `MIN(x)` (decimals in numeric order on every database, SQLite's text through its
/// `athanor_decimal` collation).
pub fn min<M, T: Extremum>(x: impl Argument<M, T>) -> ScalarExpr<M, T::Nullable> {
    call(SqlFunc::Min, vec![x.into_argument()])
}

/// `MAX(x)`.
pub fn max<M, T: Extremum>(x: impl Argument<M, T>) -> ScalarExpr<M, T::Nullable> {
    call(SqlFunc::Max, vec![x.into_argument()])
}

/// Date and date-time field types (civil: no time zone): `jiff::civil::Date` and
/// `jiff::civil::DateTime`, `chrono::NaiveDate` and `chrono::NaiveDateTime`, `time::Date` and
/// `time::PrimitiveDateTime`, behind their features. Instants (with a zone) are not: the
/// databases would read their fields in each session's time zone.
pub trait Dated {
    /// `i32`, or `Option<i32>` for a nullable column.
    type Part;
}
#[allow(unused_macros)] // used only with a date feature
macro_rules! dated {
    ($($t:ty),*) => {$(
        impl Dated for $t { type Part = i32; }
        impl Dated for Option<$t> { type Part = Option<i32>; }
    )*};
}
#[cfg(feature = "jiff")]
dated!(jiff::civil::Date, jiff::civil::DateTime);
#[cfg(feature = "chrono")]
dated!(chrono::NaiveDate, chrono::NaiveDateTime);
#[cfg(feature = "time")]
dated!(time::Date, time::PrimitiveDateTime);

/// A field of a date or date-time as an integer (SQLAlchemy's `extract('year', col)`):
/// `func::extract(DatePart::Year, Order::placed_on)`, the same on every database:
/// `CAST(EXTRACT(YEAR FROM x) AS INTEGER)` on PostgreSQL, `EXTRACT(YEAR FROM x)` on MySQL,
/// `CAST(strftime('%Y', x) AS INTEGER)` on SQLite. The seconds are whole (the fraction
/// dropped); the hour, minute and second of a date are 0.
pub fn extract<M, T: Dated>(part: DatePart, x: impl Argument<M, T>) -> ScalarExpr<M, T::Part> {
    call(SqlFunc::Extract(part), vec![x.into_argument()])
}

/// The instant types `func::now()` can be compared with or read as (`jiff::Timestamp`,
/// `chrono::DateTime<Utc>`, `time::OffsetDateTime`, behind their features).
pub trait Instant {}
#[cfg(feature = "jiff")]
impl Instant for jiff::Timestamp {}
#[cfg(feature = "chrono")]
impl Instant for chrono::DateTime<chrono::Utc> {}
#[cfg(feature = "time")]
impl Instant for time::OffsetDateTime {}

/// The current instant, in UTC, as the statement runs ([`now`]). It compares with any instant
/// column, `Event::at.lt(func::now())`, and `.of::<Event, jiff::Timestamp>()` makes it a typed
/// item for a select list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Now;

impl Now {
    /// As a typed expression of a query on `M`, read as the instant type `T`:
    /// `select((Event::name, func::now().of::<Event, jiff::Timestamp>()))`.
    pub fn of<M, T: Instant>(self) -> ScalarExpr<M, T> {
        call(SqlFunc::Now, Vec::new())
    }
}

impl<M, T: Instant> crate::expr::IntoScalar<M, T, crate::expr::operand::Ex> for Now {
    fn into_scalar(self) -> Scalar {
        Scalar::Func { func: SqlFunc::Now, args: Vec::new() }
    }
}

/// The current instant, in UTC, as the statement runs: `Event::at.lt(func::now())`. It is
/// `statement_timestamp()` on PostgreSQL and `UTC_TIMESTAMP(6)` on MySQL, both with
/// microseconds. On SQLite it is `strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')`, the stored text
/// form, with milliseconds: SQLite's clock has no finer precision. It is the database server's
/// clock, not the application's.
pub fn now() -> Now {
    Now
}
