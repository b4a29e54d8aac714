//! Values between Athanor and SQLite.
//!
//! SQLite has five storage classes: INTEGER (64-bit), REAL (8-byte float), TEXT, BLOB and NULL.
//! Parameters: every integer width and `bool` (as 0/1) bind as INTEGER, `f32` widens exactly to
//! REAL, text and bytes are bound from the borrowed slices (SQLite copies them; no Rust-side
//! allocation). NaN is refused: SQLite would silently store NULL.
//! Cells: INTEGER → [`ValueRef::I64`], REAL → [`ValueRef::F64`], TEXT → [`ValueRef::Text`]
//! borrowed from SQLite's buffer (invalid UTF-8 is [`Error::TypeMismatch`]), BLOB →
//! [`ValueRef::Blob`], NULL → [`ValueRef::Null`]. Booleans come back as integers.

use athanor_core::{Error, Result, Row, ValueRef};
use rusqlite::types::ValueRef as SqliteValue;

/// Convert parameter `idx` (0-based) for binding.
pub(crate) fn to_sqlite(v: ValueRef<'_>, idx: usize) -> Result<SqliteValue<'_>> {
    Ok(match v {
        ValueRef::Null => SqliteValue::Null,
        ValueRef::Bool(b) => SqliteValue::Integer(i64::from(b)),
        ValueRef::I16(i) => SqliteValue::Integer(i64::from(i)),
        ValueRef::I32(i) => SqliteValue::Integer(i64::from(i)),
        ValueRef::I64(i) => SqliteValue::Integer(i),
        ValueRef::F32(f) if f.is_nan() => return Err(nan(idx)),
        ValueRef::F64(f) if f.is_nan() => return Err(nan(idx)),
        ValueRef::F32(f) => SqliteValue::Real(f64::from(f)),
        ValueRef::F64(f) => SqliteValue::Real(f),
        ValueRef::Text(s) => SqliteValue::Text(s.as_bytes()),
        ValueRef::Blob(b) => SqliteValue::Blob(b),
    })
}

fn nan(idx: usize) -> Error {
    Error::unsupported(format!("NaN as parameter {} (SQLite stores NaN as NULL)", idx + 1), "sqlite")
}

/// A row being read: a borrowed rusqlite row and its column count.
pub(crate) struct SqliteRow<'r, 's> {
    pub(crate) row: &'r rusqlite::Row<'s>,
    pub(crate) len: usize,
}

impl SqliteRow<'_, '_> {
    fn column_name(&self, idx: usize) -> String {
        self.row.as_ref().column_name(idx).map_or_else(|_| format!("#{idx}"), str::to_string)
    }
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
                        self.column_name(idx),
                        "UTF-8 text",
                        format!("text that is not valid UTF-8 ({e})"),
                    ))
                }
            },
            SqliteValue::Blob(b) => ValueRef::Blob(b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_convert_without_copies() {
        assert_eq!(to_sqlite(ValueRef::Bool(true), 0).unwrap(), SqliteValue::Integer(1));
        assert_eq!(to_sqlite(ValueRef::I16(i16::MIN), 0).unwrap(), SqliteValue::Integer(-32768));
        assert_eq!(to_sqlite(ValueRef::F32(0.1), 0).unwrap(), SqliteValue::Real(f64::from(0.1f32)));
        let s = String::from("héllo");
        match to_sqlite(ValueRef::Text(&s), 0).unwrap() {
            SqliteValue::Text(b) => assert!(std::ptr::eq(b.as_ptr(), s.as_ptr())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nan_is_refused() {
        for v in [ValueRef::F64(f64::NAN), ValueRef::F32(f32::NAN)] {
            match to_sqlite(v, 2) {
                Err(Error::Unsupported { feature, dialect: "sqlite" }) => assert!(feature.contains("parameter 3")),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(to_sqlite(ValueRef::F64(f64::INFINITY), 0).unwrap(), SqliteValue::Real(f64::INFINITY));
    }
}
