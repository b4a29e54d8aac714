//! SQL functions with one result type on every database (SQLAlchemy's `func`):
//! `func::count(Post::id)` is an `i64`, `func::sum` of an integer column an `Option<i64>`,
//! `func::avg` an `Option<f64>`, `func::min` / `func::max` the column's type (or NULL).
//!
//! Each is a [`ScalarExpr`]: select it (`session.select((User::name, func::count(Post::id)))`)
//! or compare it in a `having(…)` (`func::count(Post::id).gt(2)`).

use crate::expr::{Column, Numeric, Scalar, ScalarExpr, Source, SqlFunc};
use crate::model::Model;

/// Column types SUM adds up, and what the sum decodes to.
pub trait Summable {
    /// `Option<i64>` for integers, `Option<f64>` for floats.
    type Sum;
}
/// The type of MIN / MAX of a column: the column's type, nullable (NULL over no rows).
pub trait Extremum {
    /// `Option<T>`.
    type Nullable;
}
macro_rules! summable {
    ($($t:ty => $sum:ty),*) => {$(
        impl Summable for $t { type Sum = Option<$sum>; }
        impl Summable for Option<$t> { type Sum = Option<$sum>; }
    )*};
}
summable!(i16 => i64, i32 => i64, i64 => i64, u8 => i64, u16 => i64, u32 => i64, f32 => f64, f64 => f64);
macro_rules! extremum {
    ($($t:ty),*) => {$(
        impl Extremum for $t { type Nullable = Option<$t>; }
        impl Extremum for Option<$t> { type Nullable = Option<$t>; }
    )*};
}
extremum!(bool, i16, i32, i64, u8, u16, u32, f32, f64, String);

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

/// `SUM(col)`: NULL (`None`) over no rows.
pub fn sum<M: Source, T: Summable>(column: Column<M, T>) -> ScalarExpr<M, T::Sum> {
    call(SqlFunc::Sum, vec![Scalar::Column(column.column_ref())])
}

/// `AVG(col)` as a double on every database.
pub fn avg<M: Source, T: Numeric>(column: Column<M, T>) -> ScalarExpr<M, Option<f64>> {
    call(SqlFunc::Avg, vec![Scalar::Column(column.column_ref())])
}

/// `MIN(col)`.
pub fn min<M: Source, T: Extremum>(column: Column<M, T>) -> ScalarExpr<M, T::Nullable> {
    call(SqlFunc::Min, vec![Scalar::Column(column.column_ref())])
}

/// `MAX(col)`.
pub fn max<M: Source, T: Extremum>(column: Column<M, T>) -> ScalarExpr<M, T::Nullable> {
    call(SqlFunc::Max, vec![Scalar::Column(column.column_ref())])
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
