//! The Row/Value contract: what a row read from any database looks like to Athanor.
//!
//! A backend hands each result row to core as a `&dyn` [`Row`]: a number of cells, each decoded
//! on demand into a [`ValueRef`] borrowed from the driver's buffers, plus the column's name and
//! the database's own name for its type (both borrowed from the statement's metadata: nothing is
//! copied per row).
//!
//! # What a cell becomes
//!
//! Every backend decodes in one place, its `value.rs` codec, to the same portable values:
//!
//! | database type | [`ValueRef`] |
//! |---|---|
//! | boolean | `Bool` (SQLite and MySQL have none: their booleans are integers 0/1) |
//! | integers | `I16`/`I32`/`I64` by width where the database reports it (SQLite, MySQL: `I64`) |
//! | `REAL`/`FLOAT`, `DOUBLE` | `F32`/`F64` |
//! | text types, enum labels | `Text` |
//! | binary types | `Blob` |
//! | `DECIMAL`/`NUMERIC` (of any scale) | `Decimal` with the exact decimal digits: `"-12.50"` (PostgreSQL also `NaN`, `Infinity`, `-Infinity`) |
//! | `DATE` | `Text` `YYYY-MM-DD` |
//! | `TIME` | `Text` `HH:MM:SS[.ffffff]` |
//! | `TIMESTAMP`/`DATETIME` | `Text` `YYYY-MM-DD HH:MM:SS[.ffffff]` |
//! | `TIMESTAMPTZ` (PostgreSQL) | `Text` `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` (UTC) |
//! | `UUID` (PostgreSQL) | `Text`, canonical lower-case `8-4-4-4-12` hex |
//! | `JSON`/`JSONB` | `Text`, the JSON document |
//! | NULL of any type | `Null` |
//!
//! Fractional seconds are written only when not zero, without trailing zeros (`.5`, not
//! `.500000`). SQLite has no decimal or date types: what was stored (text, integer or real) is
//! what is read (SQLite never produces `Decimal`). Dates, times, UUIDs and JSON are `Text` in a
//! raw row on purpose: the text is exact, and the typed field types (`uuid::Uuid`, jiff, chrono
//! and time values, `serde_json::Value`; see docs/types.md) decode from it, so a mapped field or
//! `ResultRow::get::<jiff::Timestamp>` reads the same value on every database.
//!
//! Decoding never loses precision silently: a cell that has no portable value, or that would
//! only convert with a loss, is [`crate::Error::TypeMismatch`] naming the column. Reading a cell
//! into a Rust type follows [`crate::FromValue`]: a `Decimal` reads into an integer when it is a
//! whole number that fits, into a float when the float gives the same decimal back, and into a
//! `String` as its digits; `Text` never reads into a number. So
//! `AVG(x)` reads as the same `f64` on every database when the average is representable (see
//! [`crate::FromValue`]).

use crate::error::{Error, Result};
use crate::value::ValueRef;

/// A row being read. Cells are borrowed from the driver's buffers: decoding copies only what the
/// target field owns (a `String`, a `Vec<u8>`). See the [`row`](crate::row) module for what
/// each database type decodes to.
pub trait Row {
    /// The number of cells.
    fn len(&self) -> usize;

    /// `true` when the row has no cells.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `idx`.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] naming the column if the driver's value has no portable form (or
    /// only a lossy one); [`Error::InvalidRequest`] if `idx` is out of range.
    fn get(&self, idx: usize) -> Result<ValueRef<'_>>;

    /// The name of column `idx` as the statement reports it (the alias of `SELECT x AS name`);
    /// `None` out of range or where the row has no names (a row built from a model object).
    fn column_name(&self, idx: usize) -> Option<&str> {
        let _ = idx;
        None
    }

    /// The database's name for column `idx`'s type, as the database spells it (`"int4"`,
    /// `"numeric"` on PostgreSQL; `"DECIMAL"`, `"DATETIME"` on MySQL; SQLite: the declared type
    /// of a table column, `None` for an expression). `None` where unknown.
    fn column_type(&self, idx: usize) -> Option<&str> {
        let _ = idx;
        None
    }

    /// The position of the first column named `name` (compared exactly).
    fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.column_name(i) == Some(name))
    }
}

/// What picks a cell of a row: a position (`usize`) or a column name (`&str`).
///
/// `row.get::<i64>(0)` and `row.get::<i64>("total")` on a [`crate::ResultRow`].
pub trait RowIndex {
    /// The position this index names in `row`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a position out of range or a name the row has no column for
    /// (the message names it).
    fn position(&self, row: &dyn Row) -> Result<usize>;
}

impl RowIndex for usize {
    fn position(&self, row: &dyn Row) -> Result<usize> {
        if *self < row.len() {
            Ok(*self)
        } else {
            Err(Error::invalid(format!("column index {self} out of range (row has {})", row.len())))
        }
    }
}

impl RowIndex for &str {
    fn position(&self, row: &dyn Row) -> Result<usize> {
        row.index_of(self).ok_or_else(|| {
            let names: Vec<&str> = (0..row.len()).filter_map(|i| row.column_name(i)).collect();
            Error::invalid(format!("no column named {self:?} in the row (columns: {})", names.join(", ")))
        })
    }
}

impl RowIndex for &String {
    fn position(&self, row: &dyn Row) -> Result<usize> {
        self.as_str().position(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named;
    impl Row for Named {
        fn len(&self) -> usize {
            2
        }
        fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
            Ok(ValueRef::I64(idx as i64))
        }
        fn column_name(&self, idx: usize) -> Option<&str> {
            ["id", "total"].get(idx).copied()
        }
    }

    #[test]
    fn indexes_by_position_and_name() {
        assert_eq!(1.position(&Named).ok(), Some(1));
        assert!(matches!(2.position(&Named), Err(Error::InvalidRequest { .. })));
        assert_eq!("total".position(&Named).ok(), Some(1));
        match "nope".position(&Named) {
            Err(Error::InvalidRequest { message }) => assert!(message.contains("\"nope\""), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
