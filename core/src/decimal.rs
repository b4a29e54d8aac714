//! Exact decimals.
//!
//! [`compare_text`] orders decimal text by its value: SQLite keeps a decimal column's digits as
//! text, and its backend registers this as the `athanor_decimal` collation, which the column is
//! declared with, so comparisons, `ORDER BY`, `MIN`/`MAX`, `DISTINCT` and indexes order it as
//! numbers there as they do on PostgreSQL and MySQL. With the cargo feature `decimal`,
//! `rust_decimal::Decimal` is a field type (see `docs/types.md`).

use std::cmp::Ordering;

/// The digits after the point of an average of decimals (`func::avg` of a decimal column), on
/// every database: the exact mean rounded half away from zero to this scale. (PostgreSQL keeps
/// at least 16 digits and MySQL 4 more than the column's; Athanor makes them agree.)
pub const DECIMAL_AVG_SCALE: u32 = 10;

/// A decimal number read from text: `value = ±0.D × 10^point`, where `D` are the significant
/// digits (leading zeros dropped; trailing zeros compare as absent).
struct Parsed<'a> {
    negative: bool,
    /// The digits before and after the point, as written (leading zeros included).
    int: &'a str,
    frac: &'a str,
    /// `None` for zero.
    point: Option<i64>,
}

impl<'a> Parsed<'a> {
    /// `[+-]digits[.digits][e[+-]digits]`, surrounded by ASCII spaces, at least one digit in
    /// the mantissa; `None` for anything else.
    fn new(text: &'a str) -> Option<Parsed<'a>> {
        let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let (negative, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], parse_exponent(&t[i + 1..])?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let leading = int.bytes().chain(frac.bytes()).take_while(|b| *b == b'0').count();
        let total = int.len() + frac.len();
        let point = (leading < total).then(|| int.len() as i64 - leading as i64 + exp);
        Some(Parsed { negative, int, frac, point })
    }

    /// The significant digits, from the first non-zero one.
    fn digits(&self) -> impl Iterator<Item = u8> + 'a {
        self.int.bytes().chain(self.frac.bytes()).skip_while(|b| *b == b'0')
    }

    /// -1, 0 or 1.
    fn sign(&self) -> i8 {
        match (self.point, self.negative) {
            (None, _) => 0,
            (Some(_), true) => -1,
            (Some(_), false) => 1,
        }
    }
}

/// An exponent, clamped far beyond any digit count (so it cannot overflow when added).
fn parse_exponent(e: &str) -> Option<i64> {
    let (neg, digits) = match e.as_bytes().first() {
        Some(b'-') => (true, &e[1..]),
        Some(b'+') => (false, &e[1..]),
        _ => (false, e),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.parse::<i64>().unwrap_or(i64::MAX).min(1 << 40);
    Some(if neg { -n } else { n })
}

/// Magnitudes of two non-zero numbers of the same sign.
fn compare_magnitude(a: &Parsed<'_>, b: &Parsed<'_>) -> Ordering {
    a.point.cmp(&b.point).then_with(|| {
        let (mut x, mut y) = (a.digits(), b.digits());
        loop {
            match (x.next(), y.next()) {
                (None, None) => return Ordering::Equal,
                (p, q) => match p.unwrap_or(b'0').cmp(&q.unwrap_or(b'0')) {
                    Ordering::Equal => {}
                    other => return other,
                },
            }
        }
    })
}

/// Order two texts by the decimal numbers they spell: `"1.5" == "1.50"`, `"-2" < "10"`,
/// `"1e3" == "1000"`. Text that is not a number (`[+-]digits[.digits][e±digits]`) sorts after
/// every number, and among itself byte by byte, so the order is total, as a collation's must be.
///
/// ```
/// use athanor_core::decimal::compare_text;
/// use std::cmp::Ordering;
/// assert_eq!(compare_text("1.50", "1.5"), Ordering::Equal);
/// assert_eq!(compare_text("-10", "9.99"), Ordering::Less);
/// assert_eq!(compare_text("0.001", "1e-3"), Ordering::Equal);
/// assert_eq!(compare_text("abc", "99"), Ordering::Greater);
/// ```
pub fn compare_text(a: &str, b: &str) -> Ordering {
    match (Parsed::new(a), Parsed::new(b)) {
        (Some(x), Some(y)) => match x.sign().cmp(&y.sign()) {
            Ordering::Equal => match x.sign() {
                0 => Ordering::Equal,
                1 => compare_magnitude(&x, &y),
                _ => compare_magnitude(&y, &x),
            },
            other => other,
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The `DECIMAL(precision, scale)` that holds the plain decimal text `digits` exactly
/// (`-12.50` → `(4, 2)`, `0.000` → `(3, 3)`, `7` → `(1, 0)`): for a bound decimal cast to its
/// own type (MySQL, `Dialect::cast_decimal_parameters`). Text that is not a plain decimal gives
/// `(65, 30)`, MySQL's widest.
pub fn precision_scale(digits: &str) -> (u32, u32) {
    let t = digits.trim_matches(|c: char| c.is_ascii_whitespace());
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if (int.is_empty() && frac.is_empty()) || !(int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
        return (65, 30);
    }
    let int_digits = int.trim_start_matches('0').len() as u32;
    let scale = frac.len() as u32;
    ((int_digits + scale).max(1), scale)
}

/// `true` when `text` is a number in plain or scientific notation (`-12.50`, ` 7 `, `1e-3`), as
/// [`compare_text`] reads one.
pub fn is_number(text: &str) -> bool {
    Parsed::new(text).is_some()
}

/// A float cell read as a decimal, as SQLAlchemy's `Numeric` reads what SQLite stored as REAL
/// (a `NUMERIC(10,2)` column holding `0.99` holds the float nearest to it): the shortest decimal
/// text that reads back as the same float (`0.99`, `12.5`, `1e-7` as `0.0000001`), never a
/// longer expansion of its binary value. `None` for NaN and the infinities, which no decimal is.
pub fn float_text(f: f64) -> Option<String> {
    // Rust's `Display` of a float is the shortest text that reads back as it, without exponent.
    f.is_finite().then(|| f.to_string())
}

/// [`float_text`] of a 32-bit float: the shortest text that reads back as the same `f32`.
pub fn float32_text(f: f32) -> Option<String> {
    f.is_finite().then(|| f.to_string())
}

#[cfg(feature = "decimal")]
mod rust_decimal_type {
    use crate::error::{Error, Result};
    use crate::field::{column_value, SqlField};
    use crate::schema::ColumnDef;
    use crate::value::{mismatch, FromValue, SqlType, ToValue, Value, ValueRef};
    use rust_decimal::Decimal;

    impl FromValue for Decimal {
        /// From a decimal cell (PostgreSQL `NUMERIC`, MySQL `DECIMAL`) or text (SQLite, or any
        /// text another client stored, in plain or scientific notation), from integers, and from
        /// a float as SQLAlchemy reads one (what SQLite stores as REAL in a `NUMERIC` column, or a
        /// float column read into a decimal): the float's shortest decimal text
        /// ([`crate::decimal::float_text`]: `0.99`, not `0.98999999999999999112`). More than 28
        /// significant digits, NaN and the infinities (PostgreSQL's or a float's) are
        /// [`Error::TypeMismatch`].
        fn from_value(v: ValueRef<'_>) -> Result<Self> {
            let exact = |s: &str| Decimal::from_str_exact(s).ok().or_else(|| Decimal::from_scientific(s).ok());
            let parsed = match v {
                ValueRef::Decimal(s) | ValueRef::Text(s) => exact(s.trim_matches(|c: char| c.is_ascii_whitespace())),
                ValueRef::F64(f) => crate::decimal::float_text(f).as_deref().and_then(exact),
                ValueRef::F32(f) => crate::decimal::float32_text(f).as_deref().and_then(exact),
                ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => v.as_i64().map(Decimal::from),
                ValueRef::U64(u) => Some(Decimal::from(u)),
                _ => None,
            };
            parsed.map_or_else(|| mismatch("rust_decimal::Decimal", v), Ok)
        }
    }

    impl ToValue for Decimal {
        fn to_value(&self) -> Result<Value> {
            Ok(Value::Decimal(self.to_string()))
        }
    }

    impl SqlField for Decimal {
        const SQL_TYPE: SqlType = SqlType::Decimal;
        const NULLABLE: bool = false;
        fn as_value_ref(&self) -> ValueRef<'_> {
            ValueRef::Computed(self)
        }
        /// Refuse a value with more digits after the point than the column's scale (the
        /// databases would round it, each its own way) or more before it than the precision
        /// leaves.
        fn check_column(&self, column: &ColumnDef) -> Result<()> {
            let Some((precision, scale)) = column.precision else { return Ok(()) };
            let exact = self.normalize();
            if exact.scale() > u32::from(scale) {
                return Err(Error::invalid(format!(
                    "{self} has {} digit(s) after the point, but the column keeps {scale} \
                     (DECIMAL({precision},{scale})); round it first, e.g. with .round_dp({scale})",
                    exact.scale()
                )));
            }
            let digits = exact.mantissa().unsigned_abs().checked_ilog10().map_or(0, |d| d + 1);
            let int_digits = digits.saturating_sub(exact.scale());
            let room = u32::from(precision.saturating_sub(scale));
            if int_digits > room {
                return Err(Error::invalid(format!(
                    "{self} has {int_digits} digit(s) before the point, but the column holds {room} \
                     (DECIMAL({precision},{scale}))"
                )));
            }
            Ok(())
        }
        /// At the column's scale, as PostgreSQL and MySQL return it (`1.5` → `1.50`, `2.5000`
        /// → `2.50`), so a value prints the same whatever the database (SQLite keeps the digits
        /// as written).
        fn from_column(v: ValueRef<'_>, column: &ColumnDef) -> Result<Self> {
            let d = Decimal::from_value(v)?;
            let Some((_, scale)) = column.precision else { return Ok(d) };
            let mut exact = d.normalize();
            if exact.scale() > u32::from(scale) {
                // Digits the column cannot have (another client's text on SQLite): kept as read.
                return Ok(d);
            }
            exact.rescale(u32::from(scale));
            Ok(exact)
        }
    }

    impl From<Decimal> for Value {
        fn from(v: Decimal) -> Value {
            Value::Decimal(v.to_string())
        }
    }

    column_value!(Decimal);
}

#[cfg(test)]
mod tests {
    use super::{compare_text, precision_scale};
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn precision_and_scale_of_plain_decimal_text() {
        assert_eq!(precision_scale("-12.50"), (4, 2));
        assert_eq!(precision_scale("0.000"), (3, 3));
        assert_eq!(precision_scale("007"), (1, 0));
        assert_eq!(precision_scale("0"), (1, 0));
        assert_eq!(precision_scale("+99999.99"), (7, 2));
        assert_eq!(precision_scale("1e3"), (65, 30));
        assert_eq!(precision_scale(""), (65, 30));
    }

    #[test]
    fn orders_by_value() {
        let sorted = [
            "-1e3", "-12.5", "-12.49", "-0.001", "0", "0.001", "0.01", "0.1", "1", "1.05", "1.5", "9.999", "10",
            "12.50001", "100", "1e20", "abc", "abd",
        ];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(compare_text(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [("1.5", "1.50"), ("-0", "0.000"), ("+7", "007"), ("1e3", "1000.0"), (" 2 ", "2"), (".5", "0.5")]
        {
            assert_eq!(compare_text(a, b), Equal, "{a} vs {b}");
        }
        assert_eq!(compare_text("1.", "1"), Equal);
        assert_eq!(compare_text(".", "0"), Greater, "a lone point is not a number");
        assert_eq!(compare_text("", "-5"), Greater);
        assert_eq!(compare_text("1e", "1"), Greater);
        assert_eq!(compare_text("-", "-"), Equal);
        assert_eq!(compare_text("1e99999999999999999999", "1e5"), Greater);
        assert_eq!(compare_text("-1e99999999999999999999", "-1e5"), Less);
    }
}

#[cfg(all(test, feature = "decimal"))]
mod float_tests {
    use crate::field::SqlField;
    use crate::schema::ColumnDef;
    use crate::value::{FromValue, SqlType, ValueRef};
    use rust_decimal::Decimal;

    fn column(precision: Option<(u8, u8)>) -> ColumnDef {
        ColumnDef { precision, ..ColumnDef::new("price", SqlType::Decimal) }
    }

    #[test]
    fn floats_read_as_their_shortest_decimal_text_at_the_column_scale() {
        let read = |v: ValueRef<'_>, p| Decimal::from_column(v, &column(p)).map(|d| d.to_string()).ok();
        assert_eq!(read(ValueRef::F64(0.99), Some((10, 2))).as_deref(), Some("0.99"));
        assert_eq!(read(ValueRef::F64(12.5), Some((10, 2))).as_deref(), Some("12.50"));
        assert_eq!(read(ValueRef::I64(3), Some((10, 2))).as_deref(), Some("3.00"));
        assert_eq!(read(ValueRef::Text("7.25"), Some((10, 2))).as_deref(), Some("7.25"));
        assert_eq!(read(ValueRef::F64(0.1), None).as_deref(), Some("0.1"));
        assert_eq!(read(ValueRef::F64(1e-7), None).as_deref(), Some("0.0000001"));
        assert_eq!(read(ValueRef::F32(0.1), None).as_deref(), Some("0.1"));
        // More digits than the scale: kept, never rounded away.
        assert_eq!(read(ValueRef::F64(0.125), Some((10, 2))).as_deref(), Some("0.125"));
        for v in [ValueRef::F64(f64::NAN), ValueRef::F64(f64::INFINITY), ValueRef::F64(1e300), ValueRef::F64(1e-40)] {
            assert!(Decimal::from_value(v).is_err(), "{v:?}");
        }
    }
}
