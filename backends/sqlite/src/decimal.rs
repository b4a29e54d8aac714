//! Exact decimal arithmetic on SQLite, whose decimals are their digits as text: SQLite's own
//! `+`, `*`, `SUM` and `AVG` would read them as floats (`0.1 + 0.2` is `0.30000000000000004`).
//! Every connection registers these functions ([`register`]); the dialect names them
//! (`Dialect::exact_decimal_function`), so `price * quantity` renders as
//! `athanor_decimal_mul(price, quantity)`. They compute with `rust_decimal` (28 significant
//! digits, as the `Decimal` field type holds) and give text, the scale as PostgreSQL and MySQL
//! give it: the larger of the operands' for a sum or difference, their sum for a product, the
//! widest value's for `SUM`. `athanor_decimal_avg(x, scale)` is the mean rounded half away from
//! zero to `scale` digits after the point. NULL arguments are skipped by the aggregates and give
//! NULL from the scalar functions; a result beyond 28 digits is an error, as an overflow is on
//! the other databases.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rust_decimal::{Decimal, RoundingStrategy};

/// A function's error, reported by SQLite as the statement's.
fn failure(message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(message.into())
}

/// Argument `idx` as a decimal: `None` for NULL; text in plain or scientific notation, an
/// integer, or a float read as its shortest decimal text (as the `Decimal` field type reads one).
fn argument(ctx: &Context<'_>, idx: usize) -> rusqlite::Result<Option<Decimal>> {
    let exact = |s: &str| {
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        Decimal::from_str_exact(s).ok().or_else(|| Decimal::from_scientific(s).ok())
    };
    let parsed = match ctx.get_raw(idx) {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => Some(Decimal::from(i)),
        ValueRef::Real(f) => athanor_core::decimal::float_text(f).as_deref().and_then(exact),
        ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(exact),
        ValueRef::Blob(_) => None,
    };
    parsed.map(Some).ok_or_else(|| failure(format!("argument {} is not a decimal number", idx + 1)))
}

/// `f(a, b)` of two decimals as text, NULL if either is NULL, at the scale PostgreSQL and
/// MySQL give it (`scale(a, b)`; `rust_decimal` returns an operand unchanged when the other is
/// zero, `0.10 + 0.000` as `0.10`).
fn binary(
    ctx: &Context<'_>,
    name: &str,
    op: fn(Decimal, Decimal) -> Option<Decimal>,
    scale: fn(u32, u32) -> u32,
) -> rusqlite::Result<Option<String>> {
    match (argument(ctx, 0)?, argument(ctx, 1)?) {
        (Some(a), Some(b)) => {
            let mut d = op(a, b).ok_or_else(|| failure(format!("{name}: decimal overflow")))?;
            let s = scale(a.scale(), b.scale());
            if s > d.scale() && s <= MAX_SCALE {
                d.rescale(s);
            }
            Ok(Some(d.to_string()))
        }
        _ => Ok(None),
    }
}

/// The most digits after the point a `Decimal` holds.
const MAX_SCALE: u32 = 28;

/// The exact `SUM` of decimals (NULL over no non-NULL value), at the widest value's scale.
struct Sum;

impl Aggregate<Option<Decimal>, Option<String>> for Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<Decimal>> {
        Ok(None)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<Decimal>) -> rusqlite::Result<()> {
        if let Some(v) = argument(ctx, 0)? {
            let mut total = match *acc {
                Some(t) => t.checked_add(v).ok_or_else(|| failure(format!("{DECIMAL_SUM}: decimal overflow")))?,
                None => v,
            };
            let scale = acc.map_or(0, |t| t.scale()).max(v.scale());
            if scale > total.scale() {
                total.rescale(scale);
            }
            *acc = Some(total);
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Option<Decimal>>) -> rusqlite::Result<Option<String>> {
        Ok(acc.flatten().map(|d| d.to_string()))
    }
}

/// The running state of an average: the exact sum, the count, the scale asked for.
#[derive(Default)]
struct Mean {
    sum: Decimal,
    count: u64,
    scale: u32,
}

/// `AVG(x, scale)` of decimals, rounded half away from zero to `scale` digits.
struct Avg;

impl Aggregate<Mean, Option<String>> for Avg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Mean> {
        Ok(Mean::default())
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut Mean) -> rusqlite::Result<()> {
        acc.scale = u32::try_from(ctx.get::<i64>(1)?)
            .ok()
            .filter(|s| *s <= 28)
            .ok_or_else(|| failure(format!("{DECIMAL_AVG}: the scale must be 0 to 28")))?;
        if let Some(v) = argument(ctx, 0)? {
            acc.sum = acc.sum.checked_add(v).ok_or_else(|| failure(format!("{DECIMAL_AVG}: decimal overflow")))?;
            acc.count += 1;
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Mean>) -> rusqlite::Result<Option<String>> {
        let Some(m) = acc.filter(|m| m.count > 0) else { return Ok(None) };
        let mean = m
            .sum
            .checked_div(Decimal::from(m.count))
            .ok_or_else(|| failure(format!("{DECIMAL_AVG}: decimal overflow")))?;
        let mut rounded = mean.round_dp_with_strategy(m.scale, RoundingStrategy::MidpointAwayFromZero);
        rounded.rescale(m.scale);
        Ok(Some(rounded.to_string()))
    }
}

use athanor_dialects::{DECIMAL_ADD, DECIMAL_AVG, DECIMAL_MUL, DECIMAL_SUB, DECIMAL_SUM};

/// Register the exact decimal functions on a connection.
///
/// # Errors
/// SQLite's, if it refuses a registration.
pub(crate) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS;
    let wider = |a: u32, b: u32| a.max(b);
    let both = |a: u32, b: u32| a + b;
    conn.create_scalar_function(DECIMAL_ADD, 2, flags, move |ctx| {
        binary(ctx, DECIMAL_ADD, Decimal::checked_add, wider)
    })?;
    conn.create_scalar_function(DECIMAL_SUB, 2, flags, move |ctx| {
        binary(ctx, DECIMAL_SUB, Decimal::checked_sub, wider)
    })?;
    conn.create_scalar_function(DECIMAL_MUL, 2, flags, move |ctx| {
        binary(ctx, DECIMAL_MUL, Decimal::checked_mul, both)
    })?;
    conn.create_aggregate_function(DECIMAL_SUM, 1, flags, Sum)?;
    conn.create_aggregate_function(DECIMAL_AVG, 2, flags, Avg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> rusqlite::Result<Option<String>> {
        let conn = rusqlite::Connection::open_in_memory()?;
        register(&conn)?;
        conn.execute_batch(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('0.10'), ('0.20'), (NULL), ('1e-2'), ('-0.005');",
        )?;
        conn.query_row(sql, [], |r| r.get(0))
    }

    #[test]
    fn arithmetic_is_exact_with_the_scale_of_the_other_databases() {
        assert_eq!(one("SELECT athanor_decimal_add('0.1', '0.2')").unwrap().as_deref(), Some("0.3"));
        assert_eq!(one("SELECT athanor_decimal_add('0.10', 2)").unwrap().as_deref(), Some("2.10"));
        assert_eq!(one("SELECT athanor_decimal_sub('0.1', '0.30')").unwrap().as_deref(), Some("-0.20"));
        assert_eq!(one("SELECT athanor_decimal_mul('0.10', '3')").unwrap().as_deref(), Some("0.30"));
        assert_eq!(one("SELECT athanor_decimal_mul('1.5', '0.25')").unwrap().as_deref(), Some("0.375"));
        assert_eq!(one("SELECT athanor_decimal_mul(NULL, '3')").unwrap(), None);
        // With a zero operand too (rust_decimal would return the other one unchanged).
        assert_eq!(one("SELECT athanor_decimal_sub('0.10', '0.000')").unwrap().as_deref(), Some("0.100"));
        assert_eq!(one("SELECT athanor_decimal_add('0', '-0.10')").unwrap().as_deref(), Some("-0.10"));
        assert_eq!(one("SELECT athanor_decimal_mul('0.10', '0.0')").unwrap().as_deref(), Some("0.000"));
        assert_eq!(
            one("SELECT athanor_decimal_sum(y) FROM (SELECT '0' AS y UNION ALL SELECT '0.000')").unwrap().as_deref(),
            Some("0.000")
        );
        assert!(one("SELECT athanor_decimal_mul('99999999999999999999', '99999999999999999999')").is_err());
        assert!(one("SELECT athanor_decimal_add('abc', 1)").is_err());
    }

    #[test]
    fn aggregates_are_exact_and_skip_nulls() {
        // 0.10 + 0.20 + 0.01 - 0.005: the widest scale (3).
        assert_eq!(one("SELECT athanor_decimal_sum(x) FROM t").unwrap().as_deref(), Some("0.305"));
        assert_eq!(one("SELECT athanor_decimal_sum(x) FROM t WHERE x IS NULL").unwrap(), None);
        // 0.305 / 4 = 0.07625, at 10 digits.
        assert_eq!(one("SELECT athanor_decimal_avg(x, 10) FROM t").unwrap().as_deref(), Some("0.0762500000"));
        // Half away from zero: 0.07625 to 4 digits is 0.0763, -0.0025 to 3 is -0.003.
        assert_eq!(one("SELECT athanor_decimal_avg(x, 4) FROM t").unwrap().as_deref(), Some("0.0763"));
        assert_eq!(one("SELECT athanor_decimal_avg(x, 3) FROM t WHERE x < '0'").unwrap().as_deref(), Some("-0.005"));
        assert_eq!(
            one("SELECT athanor_decimal_avg(y, 2) FROM (SELECT '-0.005' AS y UNION ALL SELECT '0')")
                .unwrap()
                .as_deref(),
            Some("0.00"),
            "-0.0025 rounds to zero, without a sign, as PostgreSQL's and MySQL's do"
        );
        assert_eq!(one("SELECT athanor_decimal_avg(x, 10) FROM t WHERE x IS NULL").unwrap(), None);
        assert_eq!(one("SELECT athanor_decimal_avg(x, 10) FROM t WHERE 0").unwrap(), None);
    }
}
