//! The ORM side of a mapped struct: the [`Model`] trait that `#[derive(Model)]` implements, and
//! the helpers its generated code calls. Apart from the catalog (`schema.rs`: `TableDef`,
//! `ColumnDef`), which is plain data the dialects render without knowing any Rust type.

use crate::relation::RelationshipDef;
use crate::session::{AnyRelation, Loaders};
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::schema::TableDef;
use athanor_core::value::ValueRef;

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

    /// Refuse, before anything is written, a field value its column cannot store exactly (an
    /// instant outside 0001–9999, a `time::OffsetDateTime` with an offset other than UTC): each
    /// field's [`athanor_core::SqlField::check`], the error naming the column. The unit of work and
    /// `Session::insert` call it. Nothing is refused by default; `#[derive(Model)]` checks every
    /// field.
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] or [`Error::InvalidRequest`] naming `table.column`.
    fn check_values(&self) -> Result<()> {
        Ok(())
    }

    /// The relationships (`HasMany`, `BelongsTo`, `ManyToMany` fields), in field order.
    const RELATIONSHIPS: &'static [RelationshipDef] = &[];

    /// The version column (`#[column(version)]`, optimistic locking), by position in
    /// `TABLE.columns`: every UPDATE and DELETE of an object by the unit of work requires the
    /// version the session read (`WHERE <key> AND version = ?`, [`Error::StaleData`] when the
    /// row moved on) and writes the next one (`SET version = ?`, the read version plus one);
    /// bulk UPDATEs write `version = version + 1`. `None` (the default): no versioning.
    const VERSION_COLUMN: Option<usize> = None;

    /// Register this model's loader, then (unless it already was) call the same function of
    /// each model a relationship names: the session does this the first time it meets a model,
    /// so that it can load the targets of relationships by type (see `ModelRef`).
    ///
    /// `#[derive(Model)]` writes it; the default registers this model only, which is right for
    /// a model without relationships.
    #[doc(hidden)]
    fn register_loaders(loaders: &mut Loaders) {
        loaders.add::<Self>();
    }

    /// The relationship field `idx` (in `RELATIONSHIPS` order).
    fn relationship(&self, idx: usize) -> Option<&dyn AnyRelation> {
        let _ = idx;
        None
    }

    /// The relationship field `idx`, to change it.
    fn relationship_mut(&mut self, idx: usize) -> Option<&mut dyn AnyRelation> {
        let _ = idx;
        None
    }

    /// Set column `idx` from a value (the flush writes foreign keys from related objects).
    ///
    /// # Errors
    /// [`Error::TypeMismatch`] naming the column when the value does not convert;
    /// [`Error::InvalidRequest`] for a model that does not support it (a hand-written impl).
    fn set_column(&mut self, idx: usize, value: ValueRef<'_>) -> Result<()> {
        let _ = value;
        Err(Error::invalid_request(format!(
            "{} cannot set column #{idx} (implement Model::set_column)",
            Self::TABLE.rust_name
        )))
    }
}

/// Decode a value into a field for `Model::set_column`, naming the column in a type mismatch.
///
/// # Errors
/// [`Error::TypeMismatch`] naming `table.column` when the value does not convert to `T`.
pub fn decode_value<T: athanor_core::field::SqlField>(value: ValueRef<'_>, idx: usize, table: &TableDef) -> Result<T> {
    // Another object's field (a decimal, a document) is read as the value it binds as.
    let made = match value {
        ValueRef::Computed(c) => Some(c.to_value()?),
        _ => None,
    };
    let value = made.as_ref().map_or(value, athanor_core::value::Value::as_ref);
    let def = table.columns.get(idx);
    def.map_or_else(|| T::from_value(value), |c| T::from_column(value, c)).map_err(|e| match e {
        Error::TypeMismatch { expected, found, .. } => Error::TypeMismatch {
            column: format!("{}.{}", table.name, table.columns.get(idx).map_or("?", |c| c.name)),
            expected,
            found,
        },
        other => other,
    })
}

/// Decode cell `idx` of a row into a field, naming the column in a type mismatch.
///
/// Used by the code `#[derive(Model)]` writes.
///
/// # Errors
/// [`Error::TypeMismatch`] naming `table.column` when the cell does not convert to `T`, and
/// saying which row in `found` (`… in the row with id = 7`); the row's error for a position
/// out of range.
#[inline]
pub fn decode_cell<T: athanor_core::field::SqlField>(row: &dyn Row, idx: usize, table: &TableDef) -> Result<T> {
    // The fast path stays small enough to inline into every derived `from_row`; naming the row
    // is the cold path's work.
    decode_value(row.get(idx)?, idx, table).map_err(|e| in_row(e, row, table))
}

/// The cells of one row being decoded into a model's fields, keeping the first error: what the
/// `from_row` of `#[derive(Model)]` uses, one call per field and one check at the end.
///
/// A field decoded with `?` is an early return that must drop every field decoded before it:
/// for 60 fields that is a large function per model, and it was most of the compile time of a
/// large schema. A field of a type with a `Default` (the types the derive knows by name) is read
/// with [`Cells::get`] instead, which cannot return early.
#[doc(hidden)]
pub struct Cells<'r> {
    row: &'r dyn Row,
    table: &'static TableDef,
    error: Option<Error>,
}

impl<'r> Cells<'r> {
    /// Start decoding `row`, whose cells are `table`'s columns.
    #[inline]
    pub fn new(row: &'r dyn Row, table: &'static TableDef) -> Self {
        Cells { row, table, error: None }
    }

    /// Cell `idx` as a `T`; on failure, `T::default()` and the error kept for [`Cells::finish`]
    /// (the first one wins).
    #[inline]
    pub fn get<T: athanor_core::field::SqlField + Default>(&mut self, idx: usize) -> T {
        match decode_cell(self.row, idx, self.table) {
            Ok(v) => v,
            Err(e) => self.failed(e),
        }
    }

    /// Keep the first error (the cold path: the hot one stays small enough to inline).
    #[cold]
    fn failed<T: Default>(&mut self, e: Error) -> T {
        self.error.get_or_insert(e);
        T::default()
    }

    /// Cell `idx` as a `T` of a type without a `Default`.
    ///
    /// # Errors
    /// The error of an earlier cell, if one failed, else this one's (as [`decode_cell`]).
    #[inline]
    pub fn decode<T: athanor_core::field::SqlField>(&mut self, idx: usize) -> Result<T> {
        match self.error.take() {
            Some(e) => Err(e),
            None => decode_cell(self.row, idx, self.table),
        }
    }

    /// The decoded object, or the first cell's error.
    ///
    /// # Errors
    /// The first error of [`Cells::get`].
    #[inline]
    pub fn finish<M>(self, value: M) -> Result<M> {
        match self.error {
            None => Ok(value),
            Some(e) => Err(e),
        }
    }
}

/// Set a field from a value, as [`decode_value`] converts it: each arm of the derived
/// `Model::set_column` is one call to this.
///
/// # Errors
/// As [`decode_value`].
#[doc(hidden)]
#[inline]
pub fn set_field<T: athanor_core::field::SqlField>(
    field: &mut T,
    value: ValueRef<'_>,
    idx: usize,
    table: &TableDef,
) -> Result<()> {
    *field = decode_value(value, idx, table)?;
    Ok(())
}

/// A [`decode_cell`] error, with the row's primary key added to a `TypeMismatch`.
#[cold]
fn in_row(e: Error, row: &dyn Row, table: &TableDef) -> Error {
    match e {
        Error::TypeMismatch { column, expected, found } => {
            let key: Vec<String> = table
                .primary_key()
                .filter_map(|k| Some(format!("{} = {}", table.columns[k].name, row.get(k).ok()?)))
                .collect();
            let found = if key.is_empty() { found } else { format!("{found} in the row with {}", key.join(", ")) };
            Error::TypeMismatch { column, expected, found }
        }
        other => other,
    }
}

/// Check field `idx`'s value before it is written ([`athanor_core::SqlField::check`]), naming the
/// column `table.column` in the error. Used by the code `#[derive(Model)]` writes.
///
/// # Errors
/// [`Error::InvalidValue`] naming the column and saying why the field type refused the value.
pub fn check_field<T: athanor_core::field::SqlField>(value: &T, idx: usize, table: &TableDef) -> Result<()> {
    let def = table.columns.get(idx);
    def.map_or_else(|| value.check(), |c| value.check_column(c)).map_err(|e| {
        let column = format!("{}.{}", table.name, def.map_or("?", |c| c.name));
        match e {
            Error::TypeMismatch { expected, found, .. } => {
                Error::InvalidValue { column, reason: format!("{found} does not fit {expected}") }
            }
            Error::InvalidRequest { message } => Error::InvalidValue { column, reason: message },
            other => other,
        }
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
