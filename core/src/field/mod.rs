//! Field types: the Rust types a mapped model's field may have ([`SqlField`]), the values a
//! column of such a field may be compared with ([`ColumnValue`]), and user newtypes over them
//! ([`DbNewtype`]).
//!
//! This floor sits above `value` (plain values, [`FromValue`]) and `schema` (the catalog a
//! field's column is declared in): a field knows its column, a value does not. The type
//! features live one file each: `uuid_type.rs` (`uuid`), `jiff_types.rs` (`jiff`),
//! `chrono_types.rs` (`chrono`) and `time_types.rs` (`time`); `decimal.rs` and `json.rs` hold
//! theirs at the top level. The public paths are `athanor_core::{SqlField, ColumnValue,
//! DbNewtype}`.

use crate::error::{Error, Result};
use crate::value::{check_u64, describe, FromValue, SqlType, Value, ValueRef};

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
    /// caller names the column: `crate::Model::check_values`). Everything is accepted by
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
        impl $crate::field::ColumnValue<$t> for $t { fn into_value(self) -> $crate::value::Value { self.into() } }
        impl $crate::field::ColumnValue<Option<$t>> for $t { fn into_value(self) -> $crate::value::Value { self.into() } }
        impl $crate::field::ColumnValue<Option<$t>> for Option<$t> { fn into_value(self) -> $crate::value::Value { self.into() } }
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
                raw.and_then($of).map_or_else(|| crate::value::mismatch($name, v), Ok)
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

#[cfg(feature = "chrono")]
mod chrono_types;
#[cfg(feature = "jiff")]
mod jiff_types;
#[cfg(feature = "time")]
mod time_types;
#[cfg(feature = "uuid")]
mod uuid_type;
