//! The ORM side of a mapped struct: the [`Model`] trait that `#[derive(Model)]` implements, and
//! the helpers its generated code calls. Apart from the catalog (`schema.rs`: `TableDef`,
//! `ColumnDef`), which is plain data the dialects render without knowing any Rust type.

use crate::error::{Error, Result};
use crate::row::Row;
use crate::schema::TableDef;
use crate::value::ValueRef;

/// A mapped struct. Write `#[derive(Model)]`; implementing it by hand is possible but not needed.
///
/// The derive checks at compile time that the struct names a table and has a primary key, and
/// generates a typed column handle per field (`Customer::age`).
pub trait Model: Sized + 'static {
    /// The table description.
    const TABLE: &'static TableDef;

    /// Lend the value of column `idx` (in `TABLE.columns` order) as a parameter.
    fn column_value(&self, idx: usize) -> ValueRef<'_>;

    /// Build from a row whose cells are the table's columns in `TABLE.columns` order.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] naming `table.column` for a cell that does not convert to its
    /// field's type (a NULL in a non-`Option` field, an integer out of range);
    /// [`Error::InvalidRequest`] for a row with too few cells.
    fn from_row(row: &dyn Row) -> Result<Self>;

    /// Write a database-generated key into the autoincrement field (after an INSERT).
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] when the key does not fit the field's integer type.
    fn set_generated_key(&mut self, key: i64) -> Result<()>;
}

/// Decode cell `idx` of a row into a field, naming the column in a type mismatch.
///
/// Used by the code `#[derive(Model)]` writes.
///
/// # Errors
/// [`Error::TypeMismatch`] naming `table.column` when the cell does not convert to `T`; the row's
/// error for a position out of range.
pub fn decode_cell<T: crate::value::FromValue>(row: &dyn Row, idx: usize, table: &TableDef) -> Result<T> {
    let cell = row.get(idx)?;
    T::from_value(cell).map_err(|e| match e {
        Error::TypeMismatch { expected, found, .. } => Error::TypeMismatch {
            column: format!("{}.{}", table.name, table.columns.get(idx).map_or("?", |c| c.name)),
            expected,
            found,
        },
        other => other,
    })
}

/// Convert a generated key for an autoincrement field of integer type `T`.
///
/// # Errors
/// [`Error::TypeMismatch`] naming `table.<generated key>` when `key` does not fit `T`.
pub fn generated_key<T: TryFrom<i64>>(key: i64, table: &TableDef) -> Result<T> {
    T::try_from(key).map_err(|_| Error::TypeMismatch {
        column: format!("{}.<generated key>", table.name),
        expected: std::any::type_name::<T>(),
        found: format!("i64 {key}"),
    })
}
