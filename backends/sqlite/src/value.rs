//! Values between Athanor and SQLite: this backend's codec (the contract is `athanor_core::Row`'s).
//!
//! SQLite has five storage classes: INTEGER (64-bit), REAL (8-byte float), TEXT, BLOB and NULL.
//! Parameters: every integer width and `bool` (as 0/1) bind as INTEGER, `f32` widens exactly to
//! REAL, text and bytes are bound from the borrowed slices (SQLite copies them; no Rust-side
//! allocation). (NaN, which SQLite would silently store as NULL, is refused before this by core's
//! `Capabilities::check_params`.) A [`ValueRef::Decimal`] parameter is bound as its digits, TEXT,
//! which is how a decimal column stores it (compared by the `athanor_decimal` collation this
//! backend registers on each connection).
//! Cells: INTEGER → [`ValueRef::I64`], REAL → [`ValueRef::F64`], TEXT → [`ValueRef::Text`]
//! borrowed from SQLite's buffer (invalid UTF-8 is [`Error::TypeMismatch`]), BLOB →
//! [`ValueRef::Blob`], NULL → [`ValueRef::Null`]. Booleans come back as integers. SQLite has no
//! decimal or date types: a `DECIMAL` or `DATE` column holds whatever was stored (an integer, a
//! real or text), and that is what is read: SQLite never produces [`ValueRef::Decimal`].

use athanor_core::{Error, Result, Row, SqlType, ValueRef};
use rusqlite::types::ValueRef as SqliteValue;
use std::cell::OnceCell;

/// Convert a parameter for binding.
///
/// # Errors
/// [`Error::TypeMismatch`] for a `u64` beyond `i64` (core refuses it first), and
/// [`Error::InvalidRequest`] for a [`ValueRef::Computed`], which the engine resolves before a
/// driver sees it.
pub(crate) fn to_sqlite(v: ValueRef<'_>) -> Result<SqliteValue<'_>> {
    Ok(match v {
        ValueRef::Null => SqliteValue::Null,
        ValueRef::Bool(b) => SqliteValue::Integer(i64::from(b)),
        ValueRef::I16(i) => SqliteValue::Integer(i64::from(i)),
        ValueRef::I32(i) => SqliteValue::Integer(i64::from(i)),
        ValueRef::I64(i) => SqliteValue::Integer(i),
        ValueRef::F32(f) => SqliteValue::Real(f64::from(f)),
        ValueRef::F64(f) => SqliteValue::Real(f),
        ValueRef::Text(s) => SqliteValue::Text(s.as_bytes()),
        ValueRef::Blob(b) => SqliteValue::Blob(b),
        ValueRef::Decimal(d) => SqliteValue::Text(d.as_bytes()),
        ValueRef::U64(u) => SqliteValue::Integer(i64::try_from(u).map_err(|_| Error::TypeMismatch {
            column: String::new(),
            expected: "u64 within i64",
            found: format!("u64 {u}"),
        })?),
        ValueRef::Computed(_) => {
            return Err(Error::invalid_request("a computed parameter reached the driver unresolved"))
        }
        // Text that is made, not borrowed: see `to_sqlite_param`.
        ValueRef::Timestamp(_) | ValueRef::Date(_) | ValueRef::DateTime(_) | ValueRef::Time(_) => {
            return Err(Error::invalid_request("dates and times are bound as text through to_sqlite_param"))
        }
    })
}

/// Convert a parameter for binding, borrowed where it can be: an instant becomes its text form,
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (fixed width, so text order is time order).
///
/// # Errors
/// As [`to_sqlite`].
pub(crate) fn to_sqlite_param(v: ValueRef<'_>) -> Result<rusqlite::types::ToSqlOutput<'_>> {
    use athanor_core::temporal::{format_date, format_datetime, format_time, format_timestamp};
    let text = match v {
        ValueRef::Timestamp(us) => format_timestamp(us),
        ValueRef::DateTime(us) => format_datetime(us),
        ValueRef::Date(days) => format_date(days.into()),
        ValueRef::Time(us) => format_time(us),
        other => return to_sqlite(other).map(rusqlite::types::ToSqlOutput::Borrowed),
    };
    Ok(rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Text(text)))
}

/// The declared type a column of each portable type gets from the SQLite dialect (and reports
/// through [`athanor_core::Row::column_type`]; `Text` with a length is `VARCHAR(n)`), and so its
/// affinity. Exhaustive: a new [`SqlType`] does not compile until this backend says what it is
/// stored as. SQLite reads cells by storage class, whatever the declared type.
pub fn native_type(t: SqlType) -> &'static str {
    match t {
        SqlType::Bool => "BOOLEAN",
        SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => "INTEGER",
        SqlType::U8 => "TINYINT UNSIGNED",
        SqlType::U16 => "SMALLINT UNSIGNED",
        SqlType::U32 => "INT UNSIGNED",
        SqlType::U64 => "UNSIGNED BIG INT",
        SqlType::Decimal => "DECIMAL_TEXT",
        SqlType::Json => "JSON_TEXT",
        SqlType::Real | SqlType::Double => "REAL",
        SqlType::Text => "TEXT",
        SqlType::Blob => "BLOB",
        SqlType::Uuid => "UUID_BLOB",
        SqlType::Timestamp => "TIMESTAMP_TEXT",
        SqlType::Date => "DATE_TEXT",
        SqlType::DateTime => "DATETIME_TEXT",
        SqlType::Time => "TIME_TEXT",
    }
}

/// The declared types of a statement's columns, read once per query on first use.
pub(crate) type DeclTypes = OnceCell<Vec<Option<String>>>;

/// A row being read: a borrowed rusqlite row, its column count and its statement's declared
/// column types (filled only when asked for).
pub(crate) struct SqliteRow<'r, 's> {
    pub(crate) row: &'r rusqlite::Row<'s>,
    pub(crate) len: usize,
    pub(crate) decl_types: &'r DeclTypes,
}

impl Row for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        if idx >= self.len {
            return Err(Error::invalid_request(format!("column index {idx} out of range (row has {})", self.len)));
        }
        let cell = self.row.get_ref(idx).map_err(crate::error::map_error)?;
        Ok(match cell {
            SqliteValue::Null => ValueRef::Null,
            SqliteValue::Integer(i) => ValueRef::I64(i),
            SqliteValue::Real(f) => ValueRef::F64(f),
            SqliteValue::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => ValueRef::Text(s),
                Err(e) => {
                    return Err(Error::type_mismatch(
                        self.column_name(idx).map_or_else(|| format!("#{idx}"), str::to_string),
                        "UTF-8 text",
                        format!("text that is not valid UTF-8 ({e})"),
                    ))
                }
            },
            SqliteValue::Blob(b) => ValueRef::Blob(b),
        })
    }

    fn column_name(&self, idx: usize) -> Option<&str> {
        self.row.as_ref().column_name(idx).ok()
    }

    fn column_type(&self, idx: usize) -> Option<&str> {
        let types = self
            .decl_types
            .get_or_init(|| self.row.as_ref().columns().iter().map(|c| c.decl_type().map(str::to_owned)).collect());
        types.get(idx)?.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_convert_without_copies() {
        assert_eq!(to_sqlite(ValueRef::Bool(true)).unwrap(), SqliteValue::Integer(1));
        assert_eq!(to_sqlite(ValueRef::I16(i16::MIN)).unwrap(), SqliteValue::Integer(-32768));
        assert_eq!(to_sqlite(ValueRef::F32(0.1)).unwrap(), SqliteValue::Real(f64::from(0.1f32)));
        let s = String::from("héllo");
        assert_eq!(to_sqlite(ValueRef::Decimal("-1.50")).unwrap(), SqliteValue::Text(b"-1.50"), "a decimal's digits");
        assert_eq!(to_sqlite(ValueRef::U64(7)).unwrap(), SqliteValue::Integer(7));
        assert!(matches!(to_sqlite(ValueRef::U64(u64::MAX)), Err(Error::TypeMismatch { .. })));
        match to_sqlite(ValueRef::Text(&s)).unwrap() {
            SqliteValue::Text(b) => assert!(std::ptr::eq(b.as_ptr(), s.as_ptr())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_portable_type_has_a_declared_type() {
        use SqlType::*;
        for t in [Bool, SmallInt, Integer, BigInt, Real, Double, Text, Blob] {
            assert!(!native_type(t).is_empty());
        }
    }
}
