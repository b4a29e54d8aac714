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
/// document's text. [`SqlField::as_value_ref`] lends it as [`ValueRef::Computed`], and the
/// engine turns it into its [`Value`] before the statement reaches the driver, so drivers never
/// see one.
pub trait ToValue: fmt::Debug {
    /// The parameter.
    ///
    /// # Errors
    /// Whatever makes the value unrepresentable (a JSON value that does not serialize);
    /// [`SqlField::check`] reports the same error, naming the column, before a flush writes.
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

/// A Rust type that can be a mapped field: it knows its SQL type, whether it is nullable, and how
/// to lend itself as a parameter. Implemented for `bool i16 i32 i64 u8 u16 u32 u64 f32 f64 String
/// Vec<u8>`, and with cargo features for `uuid::Uuid` (`uuid`), dates and times (`jiff`,
/// `chrono`, `time`), `rust_decimal::Decimal` (`decimal`), `serde_json::Value` and
/// `athanor::Json<T>` (`json`); `#[derive(DbEnum)]` enums and [`DbNewtype`] types; and `Option` of
/// each. See `docs/types.md`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a mapped field",
    note = "supported field types: bool, i16, i32, i64, u8, u16, u32, u64, f32, f64, String, Vec<u8>, and Option of each",
    note = "uuid::Uuid needs athanor's cargo feature `uuid`, jiff::Timestamp and jiff::civil's Date, DateTime and Time the feature `jiff`, chrono's DateTime<Utc> and Naive types the feature `chrono`, the time crate's types the feature `time`, rust_decimal::Decimal the feature `decimal`, serde_json::Value and athanor::Json<T> the feature `json`; see docs/types.md for the types and their features"
)]
pub trait SqlField: FromValue {
    /// The column type.
    const SQL_TYPE: SqlType;
    /// `true` for `Option<T>`.
    const NULLABLE: bool;
    /// The only values the column may hold (a `CHECK (col IN (…))`), for a type with a closed
    /// set of values (`#[derive(DbEnum)]`); empty for any value of the SQL type.
    const ALLOWED: &'static [crate::schema::DefaultValue] = &[];
    /// The text length to declare when the field sets none (`VARCHAR(n)`), for a type whose
    /// values are short text (`#[derive(DbEnum)]`).
    const MAX_LENGTH: Option<u32> = None;
    /// Borrow as a parameter.
    fn as_value_ref(&self) -> ValueRef<'_>;

    /// Refuse a value this type's column cannot store exactly, before anything is written (the
    /// caller names the column: [`crate::Model::check_values`]). Everything is accepted by
    /// default.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] or [`Error::InvalidRequest`] saying why.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// [`SqlField::check`] for the column the value is written to, for a type whose limits are
    /// the column's (a decimal's precision and scale). The unit of work calls this one; it is
    /// `check` by default.
    ///
    /// # Errors
    /// As [`SqlField::check`].
    fn check_column(&self, column: &crate::schema::ColumnDef) -> Result<()> {
        let _ = column;
        self.check()
    }

    /// [`FromValue::from_value`] for a cell of `column`, for a type whose value depends on the
    /// column (a decimal is read at the column's scale, so `1.5` stored as SQLite text reads
    /// as `1.50`, as PostgreSQL and MySQL return it). Rows of mapped objects are read with this.
    ///
    /// # Errors
    /// As [`FromValue::from_value`].
    fn from_column(v: ValueRef<'_>, column: &crate::schema::ColumnDef) -> Result<Self> {
        let _ = column;
        Self::from_value(v)
    }
}

macro_rules! sql_field {
    ($($t:ty => $st:ident, $var:ident, |$s:ident| $conv:expr;)*) => {$(
        impl SqlField for $t {
            const SQL_TYPE: SqlType = SqlType::$st;
            const NULLABLE: bool = false;
            fn as_value_ref(&self) -> ValueRef<'_> { let $s = self; ValueRef::$var($conv) }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$var(v.into()) }
        }
    )*};
}
sql_field! {
    bool => Bool, Bool, |s| *s;
    i16 => SmallInt, I16, |s| *s;
    i32 => Integer, I32, |s| *s;
    i64 => BigInt, I64, |s| *s;
    f32 => Real, F32, |s| *s;
    f64 => Double, F64, |s| *s;
    String => Text, Text, |s| s.as_str();
    Vec<u8> => Blob, Blob, |s| s.as_slice();
    u8 => U8, I16, |s| i16::from(*s);
    u16 => U16, I32, |s| i32::from(*s);
    u32 => U32, I64, |s| i64::from(*s);
}

impl SqlField for u64 {
    const SQL_TYPE: SqlType = SqlType::U64;
    const NULLABLE: bool = false;
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::U64(*self)
    }
    fn check(&self) -> Result<()> {
        check_u64(*self)
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

impl<T: SqlField> SqlField for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    const ALLOWED: &'static [crate::schema::DefaultValue] = T::ALLOWED;
    const MAX_LENGTH: Option<u32> = T::MAX_LENGTH;
    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.as_value_ref(),
            None => ValueRef::Null,
        }
    }
    fn check(&self) -> Result<()> {
        self.as_ref().map_or(Ok(()), T::check)
    }
    fn check_column(&self, column: &crate::schema::ColumnDef) -> Result<()> {
        self.as_ref().map_or(Ok(()), |v| v.check_column(column))
    }
    fn from_column(v: ValueRef<'_>, column: &crate::schema::ColumnDef) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::from_column(other, column).map(Some),
        }
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

/// A value that may be compared with a column whose field type is `T`.
///
/// This is what makes `Customer::age.ge("x")` fail to compile: `&str` is a `ColumnValue<String>`,
/// not a `ColumnValue<i32>`. Implemented for `T` itself, for `&str`/`&String` on text columns,
/// `&[u8]` on blob columns, and for `T` and `Option<T>` on `Option<T>` columns.
#[diagnostic::on_unimplemented(
    message = "cannot compare a column of type `{T}` with a value of type `{Self}`",
    label = "expected a value for a `{T}` column",
    note = "a column accepts values of its field's type (and &str for String, T or Option<T> for Option<T>)"
)]
pub trait ColumnValue<T> {
    /// The parameter value.
    fn into_value(self) -> Value;
}

macro_rules! column_value {
    ($($t:ty),*) => {$(
        impl $crate::value::ColumnValue<$t> for $t { fn into_value(self) -> $crate::value::Value { self.into() } }
        impl $crate::value::ColumnValue<Option<$t>> for $t { fn into_value(self) -> $crate::value::Value { self.into() } }
        impl $crate::value::ColumnValue<Option<$t>> for Option<$t> { fn into_value(self) -> $crate::value::Value { self.into() } }
    )*};
}
column_value!(bool, i16, i32, i64, f32, f64, String, Vec<u8>, u8, u16, u32, u64);
#[cfg(feature = "decimal")]
pub(crate) use column_value;

impl ColumnValue<String> for &str {
    fn into_value(self) -> Value {
        self.into()
    }
}
impl ColumnValue<String> for &String {
    fn into_value(self) -> Value {
        self.as_str().into()
    }
}
impl ColumnValue<Option<String>> for &str {
    fn into_value(self) -> Value {
        self.into()
    }
}
impl ColumnValue<Option<String>> for Option<&str> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, Into::into)
    }
}
impl ColumnValue<Vec<u8>> for &[u8] {
    fn into_value(self) -> Value {
        self.into()
    }
}
impl ColumnValue<Option<Vec<u8>>> for &[u8] {
    fn into_value(self) -> Value {
        self.into()
    }
}

/// Your own field type, stored as a type Athanor already maps (SQLAlchemy's `TypeDecorator`):
/// one impl makes it a field type, readable from rows, comparable in filters and usable as a
/// parameter. `from_inner` may refuse a stored value (a validating newtype); the error is a
/// [`Error::TypeMismatch`] naming the column when a row is read.
///
/// ```
/// use athanor_core::{DbNewtype, Error, Result};
///
/// /// An email address, stored as text, checked when it is made and when it is read.
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Email(String);
///
/// impl Email {
///     pub fn parse(s: &str) -> Result<Email> {
///         if s.contains('@') { Ok(Email(s.to_string())) } else { Err(Error::invalid_request(format!("not an email: {s}"))) }
///     }
/// }
///
/// impl DbNewtype for Email {
///     type Inner = String;
///     fn inner(&self) -> &String { &self.0 }
///     fn into_inner(self) -> String { self.0 }
///     fn from_inner(s: String) -> Result<Email> { Email::parse(&s) }
/// }
/// // Now `pub email: Email` is a field of a `#[derive(Model)]`, and `User::email.eq(Email::parse("a@b")?)` a filter.
/// ```
pub trait DbNewtype: Sized {
    /// The mapped type it is stored as (`String`, `i64`, `uuid::Uuid`, …).
    type Inner: SqlField + Into<Value>;
    /// The stored value, borrowed.
    fn inner(&self) -> &Self::Inner;
    /// The stored value.
    fn into_inner(self) -> Self::Inner;
    /// The newtype of a stored value.
    ///
    /// # Errors
    /// Any error, to refuse a stored value that is not a valid `Self` (it becomes a
    /// [`Error::TypeMismatch`] naming the column).
    fn from_inner(inner: Self::Inner) -> Result<Self>;
}

/// The newtype of a stored value, or a type mismatch saying why it was refused.
fn newtype_of<T: DbNewtype>(inner: T::Inner, v: ValueRef<'_>) -> Result<T> {
    T::from_inner(inner).map_err(|e| Error::TypeMismatch {
        column: String::new(),
        expected: std::any::type_name::<T>(),
        found: format!("{} ({e})", describe(v)),
    })
}

impl<T: DbNewtype> FromValue for T {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        newtype_of(T::Inner::from_value(v)?, v)
    }
}

impl<T: DbNewtype> SqlField for T {
    const SQL_TYPE: SqlType = T::Inner::SQL_TYPE;
    const NULLABLE: bool = T::Inner::NULLABLE;
    const ALLOWED: &'static [crate::schema::DefaultValue] = T::Inner::ALLOWED;
    const MAX_LENGTH: Option<u32> = T::Inner::MAX_LENGTH;
    fn as_value_ref(&self) -> ValueRef<'_> {
        self.inner().as_value_ref()
    }
    fn check(&self) -> Result<()> {
        self.inner().check()
    }
    fn check_column(&self, column: &crate::schema::ColumnDef) -> Result<()> {
        self.inner().check_column(column)
    }
    fn from_column(v: ValueRef<'_>, column: &crate::schema::ColumnDef) -> Result<Self> {
        newtype_of(T::Inner::from_column(v, column)?, v)
    }
}

impl<T: DbNewtype> From<T> for Value {
    fn from(v: T) -> Value {
        v.into_inner().into()
    }
}

impl<T: DbNewtype> ColumnValue<T> for T {
    fn into_value(self) -> Value {
        self.into()
    }
}
impl<T: DbNewtype> ColumnValue<Option<T>> for T {
    fn into_value(self) -> Value {
        self.into()
    }
}
impl<T: DbNewtype> ColumnValue<Option<T>> for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, Into::into)
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

/// `uuid::Uuid` (cargo feature `uuid`): stored as its 16 bytes (`UUID` on PostgreSQL,
/// `BINARY(16)` on MySQL, `BLOB` on SQLite), so it sorts by its bytes on every database.
#[cfg(feature = "uuid")]
mod uuid_type {
    use super::*;

    impl FromValue for uuid::Uuid {
        /// From 16 bytes, or from text in any form `uuid` parses (hyphenated, simple, braced,
        /// URN: what PostgreSQL renders and what another client may have stored as text).
        fn from_value(v: ValueRef<'_>) -> Result<Self> {
            match v {
                ValueRef::Blob(b) => uuid::Uuid::from_slice(b).or_else(|_| mismatch("Uuid", v)),
                ValueRef::Text(s) => uuid::Uuid::try_parse(s).or_else(|_| mismatch("Uuid", v)),
                other => mismatch("Uuid", other),
            }
        }
    }

    impl SqlField for uuid::Uuid {
        const SQL_TYPE: SqlType = SqlType::Uuid;
        const NULLABLE: bool = false;
        fn as_value_ref(&self) -> ValueRef<'_> {
            ValueRef::Blob(self.as_bytes())
        }
    }

    impl From<uuid::Uuid> for Value {
        fn from(v: uuid::Uuid) -> Value {
            Value::Blob(v.as_bytes().to_vec())
        }
    }

    column_value!(uuid::Uuid);
}

/// The text of a text cell (dates and times are read from the text each database renders).
#[cfg(any(feature = "jiff", feature = "chrono", feature = "time"))]
fn text_of(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(s) => Some(s),
        _ => None,
    }
}

/// The portable range of a date or time value as it is bound (a time of day always fits).
#[cfg(any(feature = "jiff", feature = "chrono", feature = "time"))]
fn temporal_range(v: ValueRef<'_>) -> Result<()> {
    match v {
        ValueRef::Timestamp(us) | ValueRef::DateTime(us) => crate::temporal::check_timestamp(us),
        ValueRef::Date(days) => crate::temporal::check_date(days.into()),
        _ => Ok(()),
    }
}

/// The impls of a date or time type of another crate: read from the instant value or the text
/// `$parse` reads, converted by `$of`; bound as `ValueRef::$var($to(self))`; checked by `$check`.
#[cfg(any(feature = "jiff", feature = "chrono", feature = "time"))]
macro_rules! temporal_field {
    ($t:ty, $name:literal, $var:ident, $to:expr, $of:expr, $parse:path, $check:expr) => {
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> Result<Self> {
                let raw = match v {
                    ValueRef::$var(x) => Some(i64::from(x)),
                    _ => text_of(v).and_then($parse),
                };
                raw.and_then($of).map_or_else(|| mismatch($name, v), Ok)
            }
        }
        impl SqlField for $t {
            const SQL_TYPE: SqlType = SqlType::$var;
            const NULLABLE: bool = false;
            fn as_value_ref(&self) -> ValueRef<'_> {
                ValueRef::$var($to(self))
            }
            fn check(&self) -> Result<()> {
                $check(self)
            }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::$var($to(&v))
            }
        }
        column_value!($t);
    };
}

/// `jiff::Timestamp` (cargo feature `jiff`, the documented choice for instants): stored in UTC
/// with microsecond precision. A finer value is truncated toward the past when bound.
#[cfg(feature = "jiff")]
mod jiff_types {
    use super::*;

    fn micros(t: &jiff::Timestamp) -> i64 {
        // Floor to whole microseconds (jiff's own range fits an i64 of them).
        let us = t.as_nanosecond().div_euclid(1000);
        i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
    }

    fn date_days(d: &jiff::civil::Date) -> i32 {
        let days = crate::temporal::days_from_civil(d.year().into(), d.month() as u32, d.day() as u32);
        i32::try_from(days).unwrap_or(i32::MIN)
    }

    fn date_of_days(days: i64) -> Option<jiff::civil::Date> {
        let (y, m, d) = crate::temporal::civil_from_days(days);
        jiff::civil::Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
    }

    fn time_micros(t: &jiff::civil::Time) -> i64 {
        (i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())) * 1_000_000
            + i64::from(t.subsec_nanosecond()) / 1000
    }

    fn time_of_micros(us: i64) -> Option<jiff::civil::Time> {
        if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
            return None;
        }
        let secs = us / 1_000_000;
        jiff::civil::Time::new(
            (secs / 3600) as i8,
            (secs / 60 % 60) as i8,
            (secs % 60) as i8,
            (us % 1_000_000 * 1000) as i32,
        )
        .ok()
    }

    fn datetime_micros(dt: &jiff::civil::DateTime) -> i64 {
        i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
    }

    fn datetime_of(us: i64) -> Option<jiff::civil::DateTime> {
        let date = date_of_days(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
        let time = time_of_micros(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?;
        Some(jiff::civil::DateTime::from_parts(date, time))
    }

    fn range<T: SqlField>(v: &T) -> Result<()> {
        temporal_range(v.as_value_ref())
    }

    temporal_field!(
        jiff::Timestamp,
        "jiff::Timestamp",
        Timestamp,
        micros,
        |us| jiff::Timestamp::from_microsecond(us).ok(),
        crate::temporal::parse_timestamp,
        range
    );
    temporal_field!(
        jiff::civil::Date,
        "jiff::civil::Date",
        Date,
        date_days,
        date_of_days,
        crate::temporal::parse_date,
        range
    );
    temporal_field!(
        jiff::civil::DateTime,
        "jiff::civil::DateTime",
        DateTime,
        datetime_micros,
        datetime_of,
        crate::temporal::parse_datetime,
        range
    );
    temporal_field!(
        jiff::civil::Time,
        "jiff::civil::Time",
        Time,
        time_micros,
        time_of_micros,
        crate::temporal::parse_time,
        range
    );
}

/// chrono's types (cargo feature `chrono`), stored as jiff's are (see `docs/types.md`):
/// `DateTime<Utc>` as an instant, `NaiveDate`, `NaiveDateTime` and `NaiveTime` as civil values.
/// A leap second (chrono's 60th second) is stored as 59.999999.
#[cfg(feature = "chrono")]
mod chrono_types {
    use super::*;
    use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

    /// Days from 0001-01-01 (chrono's count) to 1970-01-01.
    const UNIX_EPOCH_FROM_CE: i32 = 719_163;

    fn time_micros(t: &NaiveTime) -> i64 {
        let nanos = t.nanosecond().min(999_999_999);
        i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(nanos / 1000)
    }

    fn time_of(us: i64) -> Option<NaiveTime> {
        if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
            return None;
        }
        NaiveTime::from_num_seconds_from_midnight_opt((us / 1_000_000) as u32, (us % 1_000_000 * 1000) as u32)
    }

    fn date_days(d: &NaiveDate) -> i32 {
        d.num_days_from_ce() - UNIX_EPOCH_FROM_CE
    }

    fn date_of(days: i64) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?.checked_add(UNIX_EPOCH_FROM_CE)?)
    }

    fn datetime_micros(dt: &NaiveDateTime) -> i64 {
        i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
    }

    fn datetime_of(us: i64) -> Option<NaiveDateTime> {
        let date = date_of(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
        Some(date.and_time(time_of(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?))
    }

    fn range<T: SqlField>(v: &T) -> Result<()> {
        temporal_range(v.as_value_ref())
    }

    temporal_field!(
        DateTime<Utc>,
        "chrono::DateTime<Utc>",
        Timestamp,
        |t: &DateTime<Utc>| datetime_micros(&t.naive_utc()),
        |us| datetime_of(us).map(|dt| dt.and_utc()),
        crate::temporal::parse_timestamp,
        range
    );
    temporal_field!(NaiveDate, "chrono::NaiveDate", Date, date_days, date_of, crate::temporal::parse_date, range);
    temporal_field!(
        NaiveDateTime,
        "chrono::NaiveDateTime",
        DateTime,
        datetime_micros,
        datetime_of,
        crate::temporal::parse_datetime,
        range
    );
    temporal_field!(NaiveTime, "chrono::NaiveTime", Time, time_micros, time_of, crate::temporal::parse_time, range);
}

/// The time crate's types (cargo feature `time`), stored as jiff's are (see `docs/types.md`):
/// `OffsetDateTime` as an instant (UTC only: another offset is refused before writing, since the
/// column keeps no offset), `Date`, `PrimitiveDateTime` and `Time` as civil values.
#[cfg(feature = "time")]
mod time_types {
    use super::*;
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    /// The Julian day number of 1970-01-01.
    const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

    fn date_days(d: &Date) -> i32 {
        d.to_julian_day() - UNIX_EPOCH_JULIAN_DAY
    }

    fn date_of(days: i64) -> Option<Date> {
        Date::from_julian_day(i32::try_from(days).ok()?.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()
    }

    fn time_micros(t: &Time) -> i64 {
        let (h, m, s, us) = t.as_hms_micro();
        (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * 1_000_000 + i64::from(us)
    }

    fn time_of(us: i64) -> Option<Time> {
        if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
            return None;
        }
        let secs = us / 1_000_000;
        Time::from_hms_micro((secs / 3600) as u8, (secs / 60 % 60) as u8, (secs % 60) as u8, (us % 1_000_000) as u32)
            .ok()
    }

    fn datetime_micros(dt: &PrimitiveDateTime) -> i64 {
        i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
    }

    fn datetime_of(us: i64) -> Option<PrimitiveDateTime> {
        let date = date_of(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
        Some(PrimitiveDateTime::new(date, time_of(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?))
    }

    /// The instant in microseconds, floored, whatever the offset.
    fn instant_micros(t: &OffsetDateTime) -> i64 {
        let us = t.unix_timestamp_nanos().div_euclid(1000);
        i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
    }

    temporal_field!(
        OffsetDateTime,
        "time::OffsetDateTime",
        Timestamp,
        instant_micros,
        |us| datetime_of(us).map(PrimitiveDateTime::assume_utc),
        crate::temporal::parse_timestamp,
        |t: &OffsetDateTime| {
            if !t.offset().is_utc() {
                return Err(Error::invalid(format!(
                    "the instant {t} has the offset {}, but the column stores UTC and keeps no offset: convert it \
                     with .to_offset(time::UtcOffset::UTC)",
                    t.offset()
                )));
            }
            crate::temporal::check_timestamp(instant_micros(t))
        }
    );
    temporal_field!(Date, "time::Date", Date, date_days, date_of, crate::temporal::parse_date, |d: &Date| {
        crate::temporal::check_date(date_days(d).into())
    });
    temporal_field!(
        PrimitiveDateTime,
        "time::PrimitiveDateTime",
        DateTime,
        datetime_micros,
        datetime_of,
        crate::temporal::parse_datetime,
        |dt: &PrimitiveDateTime| crate::temporal::check_timestamp(datetime_micros(dt))
    );
    temporal_field!(Time, "time::Time", Time, time_micros, time_of, crate::temporal::parse_time, |_: &Time| Ok(()));
}
