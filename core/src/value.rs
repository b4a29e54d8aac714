//! Values crossing the boundary between Rust and the database.
//!
//! [`Value`] owns its data (parameters given by users, snapshots for dirty tracking);
//! [`ValueRef`] borrows it (parameters taken from mapped objects without copying, cells of a row
//! being decoded). [`FromValue`] turns a cell into a field; [`SqlType`] names the portable column
//! types the dialects spell out in DDL.

use crate::error::{Error, Result};
use std::fmt;

/// The portable column types. Each dialect spells them in DDL (see `Dialect::column_type`).
///
/// Deliberately exhaustive: the dialects' DDL spellings and the backends' codecs `match` on it
/// without a catch-all arm, so a type added here does not compile until every dialect and every
/// backend says how it stores and reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `bool`
    Bool,
    /// `i16`
    SmallInt,
    /// `i32`
    Integer,
    /// `i64`
    BigInt,
    /// `f32`
    Real,
    /// `f64`
    Double,
    /// `String`; with a `length`, `VARCHAR(n)`.
    Text,
    /// `Vec<u8>`
    Blob,
    /// `u8`: `TINYINT UNSIGNED` on MySQL, `SMALLINT` on PostgreSQL, `INTEGER` on SQLite.
    U8,
    /// `u16`: `SMALLINT UNSIGNED` on MySQL, `INTEGER` on PostgreSQL, `INTEGER` on SQLite.
    U16,
    /// `u32`: `INT UNSIGNED` on MySQL, `BIGINT` on PostgreSQL, `INTEGER` on SQLite.
    U32,
    /// `uuid::Uuid` (feature `uuid`): `UUID` on PostgreSQL, `BINARY(16)` on MySQL, a 16-byte
    /// `BLOB` on SQLite. Bound as its 16 bytes; read from bytes or from its hyphenated text.
    Uuid,
    /// An instant, `jiff::Timestamp` (feature `jiff`): `TIMESTAMPTZ` on PostgreSQL, `DATETIME(6)`
    /// in UTC on MySQL, `TEXT` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) on SQLite; microseconds.
    Timestamp,
    /// A civil date, `jiff::civil::Date`: `DATE`, or `TEXT` (`YYYY-MM-DD`) on SQLite.
    Date,
    /// A civil date and time (no zone), `jiff::civil::DateTime`: `TIMESTAMP` on PostgreSQL,
    /// `DATETIME(6)` on MySQL, `TEXT` (`YYYY-MM-DDTHH:MM:SS.ffffff`) on SQLite; microseconds.
    DateTime,
    /// A time of day, `jiff::civil::Time`: `TIME` on PostgreSQL, `TIME(6)` on MySQL, `TEXT`
    /// (`HH:MM:SS.ffffff`) on SQLite; microseconds.
    Time,
    /// `u64`, stored within `i64`: `BIGINT` everywhere (`INTEGER` on SQLite). A value above
    /// `i64::MAX` is refused before it is sent.
    U64,
    /// An exact decimal, `rust_decimal::Decimal` (feature `decimal`), with the column's
    /// precision and scale (`ColumnDef::precision`): `NUMERIC(p,s)` on PostgreSQL,
    /// `DECIMAL(p,s)` on MySQL, the digits as text on SQLite (`DECIMAL_TEXT(p,s)`, compared
    /// numerically through Athanor's `athanor_decimal` collation).
    Decimal,
    /// A JSON document, `serde_json::Value` or `athanor::Json<T>` (feature `json`): `JSONB` on
    /// PostgreSQL, `JSON` on MySQL (LONGTEXT with a `json_valid` check on MariaDB), text on
    /// SQLite (`JSON_TEXT`).
    Json,
}

impl SqlType {
    /// `true` for the integer types (which may be autoincrementing keys).
    pub fn is_integer(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }
}

/// An owned SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer.
    I16(i16),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// An unsigned 64-bit integer. Every database stores it within `i64`: one above `i64::MAX` is
    /// refused by `Capabilities::check_params` before anything is sent.
    U64(u64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Text (never contains NUL on PostgreSQL).
    Text(String),
    /// Exact decimal text, as `DECIMAL`/`NUMERIC` cells are read (PostgreSQL `NUMERIC`, MySQL
    /// `DECIMAL`; SQLite has no decimal type, so it never produces one). The canonical form is an
    /// optional `-`, digits, and an optional `.` followed by digits, exactly as the database
    /// rendered it (scale kept: `"12.50"`); PostgreSQL's `NaN`, `Infinity` and `-Infinity` as it
    /// spells them. [`FromValue`] reads it into integers and floats only when exact, and into
    /// `String` as the digits.
    ///
    /// As a parameter: MySQL receives the digits as a string (the server converts); PostgreSQL
    /// receives the digits in the text format for a `NUMERIC` parameter (the server parses them
    /// exactly), the number for an integer or float parameter when the decimal converts exactly,
    /// and [`Error::TypeMismatch`] otherwise (text parameters included); SQLite receives it as
    /// TEXT, which is how a decimal column (`SqlType::Decimal`) stores it there.
    Decimal(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// An instant: microseconds since 1970-01-01T00:00:00Z (see [`crate::temporal`]). Bound
    /// as each database's date-time type; cells are read back as text, which
    /// [`FromValue`] parses.
    Timestamp(i64),
    /// A civil date: days since 1970-01-01.
    Date(i32),
    /// A civil date and time: microseconds since 1970-01-01T00:00:00 of the same calendar.
    DateTime(i64),
    /// A time of day: microseconds since midnight.
    Time(i64),
}

/// A field value that is made into a parameter only when it is bound: a decimal's digits, a JSON
/// document's text. `SqlField::as_value_ref` lends it as [`ValueRef::Computed`], and the
/// engine turns it into its [`Value`] before the statement reaches the driver, so drivers never
/// see one.
pub trait ToValue: fmt::Debug {
    /// The parameter.
    ///
    /// # Errors
    /// Whatever makes the value unrepresentable (a JSON value that does not serialize);
    /// `SqlField::check` reports the same error, naming the column, before a flush writes.
    fn to_value(&self) -> Result<Value>;
}

impl PartialEq for dyn ToValue + '_ {
    fn eq(&self, other: &Self) -> bool {
        matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

/// A borrowed SQL value: a parameter or a cell of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer.
    I16(i16),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// An unsigned 64-bit integer: see [`Value::U64`].
    U64(u64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Text.
    Text(&'a str),
    /// Exact decimal text: see [`Value::Decimal`].
    Decimal(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// An instant: see [`Value::Timestamp`].
    Timestamp(i64),
    /// A civil date: see [`Value::Date`].
    Date(i32),
    /// A civil date and time: see [`Value::DateTime`].
    DateTime(i64),
    /// A time of day: see [`Value::Time`].
    Time(i64),
    /// A parameter made when it is bound (see [`ToValue`]); never a cell, and never given to a
    /// driver (the engine resolves it first).
    Computed(&'a dyn ToValue),
}

impl Value {
    /// Borrow as a [`ValueRef`].
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(v) => ValueRef::Bool(*v),
            Value::I16(v) => ValueRef::I16(*v),
            Value::I32(v) => ValueRef::I32(*v),
            Value::I64(v) => ValueRef::I64(*v),
            Value::U64(v) => ValueRef::U64(*v),
            Value::F32(v) => ValueRef::F32(*v),
            Value::F64(v) => ValueRef::F64(*v),
            Value::Text(v) => ValueRef::Text(v),
            Value::Decimal(v) => ValueRef::Decimal(v),
            Value::Blob(v) => ValueRef::Blob(v),
            Value::Timestamp(v) => ValueRef::Timestamp(*v),
            Value::Date(v) => ValueRef::Date(*v),
            Value::DateTime(v) => ValueRef::DateTime(*v),
            Value::Time(v) => ValueRef::Time(*v),
        }
    }

    /// Decode into a Rust type.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] when the value does not convert to `T` exactly.
    pub fn get<T: FromValue>(&self) -> Result<T> {
        T::from_value(self.as_ref())
    }
}

impl<'a> ValueRef<'a> {
    /// Copy into an owned [`Value`].
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::I16(v) => Value::I16(v),
            ValueRef::I32(v) => Value::I32(v),
            ValueRef::I64(v) => Value::I64(v),
            ValueRef::U64(v) => Value::U64(v),
            ValueRef::F32(v) => Value::F32(v),
            ValueRef::F64(v) => Value::F64(v),
            ValueRef::Text(v) => Value::Text(v.to_owned()),
            ValueRef::Decimal(v) => Value::Decimal(v.to_owned()),
            ValueRef::Blob(v) => Value::Blob(v.to_owned()),
            ValueRef::Timestamp(v) => Value::Timestamp(v),
            ValueRef::Date(v) => Value::Date(v),
            ValueRef::DateTime(v) => Value::DateTime(v),
            ValueRef::Time(v) => Value::Time(v),
            // A value that cannot be made is refused by `SqlField::check` before any write; as a
            // snapshot it is NULL.
            ValueRef::Computed(c) => c.to_value().unwrap_or(Value::Null),
        }
    }

    /// `true` for NULL.
    pub fn is_null(self) -> bool {
        matches!(self, ValueRef::Null)
    }

    /// The integer in this value, whatever its width (booleans count as 0/1); `None` for a `u64`
    /// above `i64::MAX`.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            ValueRef::I16(v) => Some(v.into()),
            ValueRef::I32(v) => Some(v.into()),
            ValueRef::I64(v) => Some(v),
            ValueRef::U64(v) => i64::try_from(v).ok(),
            ValueRef::Bool(v) => Some(v.into()),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Bool(_) => "bool",
            ValueRef::I16(_) => "i16",
            ValueRef::I32(_) => "i32",
            ValueRef::I64(_) => "i64",
            ValueRef::U64(_) => "u64",
            ValueRef::F32(_) => "f32",
            ValueRef::F64(_) => "f64",
            ValueRef::Text(_) => "text",
            ValueRef::Decimal(_) => "decimal",
            ValueRef::Blob(_) => "blob",
            ValueRef::Timestamp(_) => "timestamp",
            ValueRef::Date(_) => "date",
            ValueRef::DateTime(_) => "datetime",
            ValueRef::Time(_) => "time",
            ValueRef::Computed(_) => "computed value",
        }
    }

    /// `true` when both are the same SQL value (integers compare by value whatever their width;
    /// NaN equals NaN, so an unchanged NaN field is not reported dirty).
    pub fn same_as(self, other: ValueRef<'_>) -> bool {
        match (self, other) {
            (ValueRef::Computed(a), b) => a.to_value().is_ok_and(|a| a.as_ref().same_as(b)),
            (a, ValueRef::Computed(b)) => b.to_value().is_ok_and(|b| a.same_as(b.as_ref())),
            (ValueRef::U64(a), ValueRef::U64(b)) => a == b,
            (ValueRef::F32(a), ValueRef::F32(b)) => a == b || (a.is_nan() && b.is_nan()),
            (ValueRef::F64(a), ValueRef::F64(b)) => a == b || (a.is_nan() && b.is_nan()),
            (ValueRef::Text(a), ValueRef::Text(b)) => a == b,
            (ValueRef::Decimal(a), ValueRef::Decimal(b)) => a == b,
            (ValueRef::Decimal(_), _) | (_, ValueRef::Decimal(_)) => false,
            (ValueRef::Blob(a), ValueRef::Blob(b)) => a == b,
            (ValueRef::Timestamp(a), ValueRef::Timestamp(b))
            | (ValueRef::DateTime(a), ValueRef::DateTime(b))
            | (ValueRef::Time(a), ValueRef::Time(b)) => a == b,
            (ValueRef::Date(a), ValueRef::Date(b)) => a == b,
            (ValueRef::Timestamp(_) | ValueRef::Date(_) | ValueRef::DateTime(_) | ValueRef::Time(_), _)
            | (_, ValueRef::Timestamp(_) | ValueRef::Date(_) | ValueRef::DateTime(_) | ValueRef::Time(_)) => false,
            (ValueRef::Null, ValueRef::Null) => true,
            (ValueRef::Bool(a), ValueRef::Bool(b)) => a == b,
            (ValueRef::Bool(_), _) | (_, ValueRef::Bool(_)) => false,
            (a, b) => matches!((a.as_i64(), b.as_i64()), (Some(x), Some(y)) if x == y),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("NULL"),
            ValueRef::Bool(v) => write!(f, "{v}"),
            ValueRef::I16(v) => write!(f, "{v}"),
            ValueRef::I32(v) => write!(f, "{v}"),
            ValueRef::I64(v) => write!(f, "{v}"),
            ValueRef::U64(v) => write!(f, "{v}"),
            ValueRef::F32(v) => write!(f, "{v}"),
            ValueRef::F64(v) => write!(f, "{v}"),
            ValueRef::Text(v) => write!(f, "{v:?}"),
            ValueRef::Decimal(v) => f.write_str(v),
            ValueRef::Blob(v) => write!(f, "<{} bytes>", v.len()),
            ValueRef::Timestamp(v) => f.write_str(&crate::temporal::format_timestamp(*v)),
            ValueRef::Date(v) => f.write_str(&crate::temporal::format_date((*v).into())),
            ValueRef::DateTime(v) => f.write_str(&crate::temporal::format_datetime(*v)),
            ValueRef::Time(v) => f.write_str(&crate::temporal::format_time(*v)),
            ValueRef::Computed(c) => match c.to_value() {
                Ok(v) => write!(f, "{}", v.as_ref()),
                Err(e) => write!(f, "<{e}>"),
            },
        }
    }
}

/// Decode a cell into a Rust value. Implemented for every supported field type and `Option` of it.
///
/// Integers of any width are accepted when they fit (PostgreSQL returns `INT4` for `i32`, SQLite
/// always `i64`); `bool` accepts 0 and 1 (SQLite and MySQL store booleans as integers); a value that
/// does not fit is [`Error::TypeMismatch`], never a truncation.
///
/// [`ValueRef::Decimal`] — what `DECIMAL`/`NUMERIC` cells are (see [`crate::Row`]), spelled
/// `-?digits[.digits]` — reads into numbers only when nothing is lost (text never does: a TEXT
/// cell holding `"7"` into an `i64` is [`Error::TypeMismatch`]):
/// - into an integer when it is a whole number that fits (`"12.00"` → `12`; `"12.5"` is a
///   mismatch), so `SUM(int_column)` reads as `i64` on every database;
/// - into `f64`/`f32` when the float's shortest decimal form is the same number (`"2.5000"` →
///   `2.5`, `"0.1"` → `0.1`; `"0.12345678901234567890"` is a mismatch), and `"NaN"`,
///   `"Infinity"`, `"-Infinity"` into the float's NaN and infinities. So `AVG(x)` — `NUMERIC` on
///   PostgreSQL, `DECIMAL` on MySQL, `REAL` on SQLite — reads as the same `f64` everywhere when
///   the average has a short decimal form; one that does not (`1.6666…`) is a mismatch where it
///   is a decimal (cast it in SQL to read it as a float).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column",
    note = "uuid::Uuid needs athanor's cargo feature `uuid`, jiff::Timestamp and jiff::civil's Date, DateTime and Time the feature `jiff`, chrono's DateTime<Utc> and Naive types the feature `chrono`, the time crate's types the feature `time`, rust_decimal::Decimal the feature `decimal`, serde_json::Value and athanor::Json<T> the feature `json`; see docs/types.md for the types and their features"
)]
pub trait FromValue: Sized {
    /// Decode, or fail with [`Error::TypeMismatch`] (the column is filled in by the caller).
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] when the value has another type or does not fit (no conversion loses
    /// precision).
    fn from_value(v: ValueRef<'_>) -> Result<Self>;
}

pub(crate) fn mismatch<T>(expected: &'static str, v: ValueRef<'_>) -> Result<T> {
    Err(Error::TypeMismatch { column: String::new(), expected, found: describe(v) })
}

pub(crate) fn describe(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(s) if s.len() > 40 => format!("text of {} bytes", s.len()),
        ValueRef::Decimal(s) if s.len() > 40 => format!("decimal of {} digits", s.len()),
        ValueRef::Blob(_) | ValueRef::Null => v.kind().to_string(),
        other => format!("{} {}", other.kind(), other),
    }
}

/// Decimal text split into (negative, integer digits, fraction digits): `-?[0-9]+(\.[0-9]+)?`.
fn decimal_parts(s: &str) -> Option<(bool, &str, &str)> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (rest, ""),
    };
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac)).then_some((neg, int, frac))
}

/// The whole number decimal text spells, if it is one (any fraction digits are zeros).
fn decimal_integer(s: &str) -> Option<i128> {
    let (neg, int, frac) = decimal_parts(s)?;
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 38 {
        return None;
    }
    let n: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    Some(if neg { -n } else { n })
}

/// Decimal text in a canonical form: no leading zeros, no trailing fraction zeros, no `-0`.
fn canonical_decimal(s: &str) -> Option<String> {
    let (neg, int, frac) = decimal_parts(s)?;
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(s.len() + 1);
    if neg && !(int.is_empty() && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// Decimal text as a float when the float's shortest decimal form is the same number.
fn decimal_float<F: std::str::FromStr + fmt::Display>(s: &str, nan: F, inf: F, neg_inf: F) -> Option<F> {
    match s {
        "NaN" => return Some(nan),
        "Infinity" => return Some(inf),
        "-Infinity" => return Some(neg_inf),
        _ => {}
    }
    let want = canonical_decimal(s)?;
    let f: F = s.parse().ok()?;
    (canonical_decimal(&f.to_string())? == want).then_some(f)
}

macro_rules! int_from_value {
    ($($t:ty => $name:literal),*) => {$(
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> Result<Self> {
                match v {
                    ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => {
                        let wide = v.as_i64().unwrap_or_default();
                        <$t>::try_from(wide).or_else(|_| mismatch($name, v))
                    }
                    ValueRef::U64(u) => <$t>::try_from(u).or_else(|_| mismatch($name, v)),
                    ValueRef::Decimal(s) => match decimal_integer(s).and_then(|n| <$t>::try_from(n).ok()) {
                        Some(n) => Ok(n),
                        None => mismatch($name, v),
                    },
                    other => mismatch($name, other),
                }
            }
        }
    )*};
}
int_from_value!(i16 => "i16", i32 => "i32", i64 => "i64", u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64");

impl FromValue for bool {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Bool(b) => Ok(b),
            ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => match v.as_i64() {
                Some(0) => Ok(false),
                Some(1) => Ok(true),
                _ => mismatch("bool", v),
            },
            // MySQL's BIT(1), which its protocol sends as one byte.
            ValueRef::Blob([b @ (0 | 1)]) => Ok(*b == 1),
            other => mismatch("bool", other),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::F64(x) => Ok(x),
            ValueRef::F32(x) => Ok(x.into()),
            ValueRef::Decimal(s) => match decimal_float(s, f64::NAN, f64::INFINITY, f64::NEG_INFINITY) {
                Some(f) => Ok(f),
                None => mismatch("f64", v),
            },
            other => mismatch("f64", other),
        }
    }
}

impl FromValue for f32 {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::F32(x) => Ok(x),
            // A REAL column read back as double (SQLite stores every float as 8 bytes): accept it
            // when it converts to f32 and back without loss.
            ValueRef::F64(x) => {
                let narrow = x as f32;
                if f64::from(narrow) == x || x.is_nan() {
                    Ok(narrow)
                } else {
                    mismatch("f32", v)
                }
            }
            ValueRef::Decimal(s) => match decimal_float(s, f32::NAN, f32::INFINITY, f32::NEG_INFINITY) {
                Some(f) => Ok(f),
                None => mismatch("f32", v),
            },
            other => mismatch("f32", other),
        }
    }
}

impl FromValue for String {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(s) | ValueRef::Decimal(s) => Ok(s.to_owned()),
            other => mismatch("String", other),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_owned()),
            other => mismatch("Vec<u8>", other),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        Ok(v.to_owned())
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::U64(v)
    }
}

/// The largest `u64` a column stores: every database keeps it within `i64`.
pub(crate) fn check_u64(v: u64) -> Result<()> {
    if i64::try_from(v).is_ok() {
        Ok(())
    } else {
        Err(Error::TypeMismatch {
            column: String::new(),
            expected: "u64 within i64 (at most 9223372036854775807: Athanor stores u64 as BIGINT)",
            found: format!("u64 {v}"),
        })
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_owned())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Build a `Vec<Value>` of parameters: `params![1, "brian", None::<i32>]`.
#[macro_export]
macro_rules! params {
    () => { ::std::vec::Vec::<$crate::Value>::new() };
    ($($v:expr),+ $(,)?) => { ::std::vec![$($crate::Value::from($v)),+] };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_narrow_only_when_they_fit() {
        assert_eq!(i32::from_value(ValueRef::I64(7)).ok(), Some(7));
        assert!(matches!(i32::from_value(ValueRef::I64(i64::MAX)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(i16::from_value(ValueRef::Text("seven")), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn decimals_read_into_numbers_only_when_exact() {
        assert_eq!(i64::from_value(ValueRef::Decimal("-12.000")).ok(), Some(-12));
        assert_eq!(i16::from_value(ValueRef::Decimal("007")).ok(), Some(7));
        for bad in ["12.5", "40000", "1e3", " 1", "+1", "1.", ".5", "", "-", "1.-2", "0x10"] {
            assert!(i16::from_value(ValueRef::Decimal(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(i64::from_value(ValueRef::Decimal("99999999999999999999")).ok(), None);
        assert_eq!(f64::from_value(ValueRef::Decimal("2.5000000000000000")).ok(), Some(2.5));
        assert_eq!(f64::from_value(ValueRef::Decimal("0.10")).ok(), Some(0.1));
        assert_eq!(f64::from_value(ValueRef::Decimal("-0")).ok(), Some(0.0));
        assert_eq!(f64::from_value(ValueRef::Decimal("100000000000000000000000")).ok(), Some(1e23));
        assert!(f64::from_value(ValueRef::Decimal("0.12345678901234567890")).is_err());
        assert!(f64::from_value(ValueRef::Decimal("9007199254740993")).is_err(), "2^53 + 1 is not a double");
        assert!(f64::from_value(ValueRef::Decimal("1e5")).is_err());
        assert!(f64::from_value(ValueRef::Decimal("NaN")).is_ok_and(f64::is_nan));
        assert_eq!(f64::from_value(ValueRef::Decimal("-Infinity")).ok(), Some(f64::NEG_INFINITY));
        assert_eq!(f32::from_value(ValueRef::Decimal("0.1")).ok(), Some(0.1));
        assert!(f32::from_value(ValueRef::Decimal("16777217")).is_err());
        assert!(bool::from_value(ValueRef::Decimal("1")).is_err());
        assert_eq!(String::from_value(ValueRef::Decimal("12.50")).ok().as_deref(), Some("12.50"));
    }

    #[test]
    fn text_never_reads_into_numbers() {
        for t in ["7", "-12.000", "2.5", "NaN"] {
            assert!(matches!(i64::from_value(ValueRef::Text(t)), Err(Error::TypeMismatch { .. })), "{t:?}");
            assert!(matches!(i16::from_value(ValueRef::Text(t)), Err(Error::TypeMismatch { .. })), "{t:?}");
            assert!(matches!(f64::from_value(ValueRef::Text(t)), Err(Error::TypeMismatch { .. })), "{t:?}");
            assert!(matches!(f32::from_value(ValueRef::Text(t)), Err(Error::TypeMismatch { .. })), "{t:?}");
        }
        assert!(!ValueRef::Text("7").same_as(ValueRef::Decimal("7")));
        assert_eq!(Value::Decimal("1.5".into()).as_ref().to_owned(), Value::Decimal("1.5".into()));
        assert_eq!(ValueRef::Decimal("-1.50").to_string(), "-1.50");
    }

    #[test]
    fn bool_from_integer() {
        assert_eq!(bool::from_value(ValueRef::I64(1)).ok(), Some(true));
        assert!(bool::from_value(ValueRef::I64(2)).is_err());
    }

    #[test]
    fn option_maps_null() {
        assert_eq!(Option::<String>::from_value(ValueRef::Null).ok(), Some(None));
        assert!(String::from_value(ValueRef::Null).is_err());
    }

    #[test]
    fn f32_accepts_exact_doubles_only() {
        assert_eq!(f32::from_value(ValueRef::F64(0.5)).ok(), Some(0.5));
        assert!(f32::from_value(ValueRef::F64(0.1)).is_err());
    }

    #[test]
    fn same_as_ignores_integer_width() {
        assert!(ValueRef::I32(5).same_as(ValueRef::I64(5)));
        assert!(ValueRef::F64(f64::NAN).same_as(ValueRef::F64(f64::NAN)));
        assert!(!ValueRef::Text("a").same_as(ValueRef::Text("b")));
        assert!(!ValueRef::Null.same_as(ValueRef::I64(0)));
    }
}
