//! Models of the ACID suite (Hermitage's `Item` lives with its tests).

use athanor::prelude::*;
use athanor::schema::{ColumnDef, SqlType, TableDef};
use athanor::ValueRef;

/// A row written by the durability child: `ROWS_PER_TXN` of them per transaction.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "durable_rows")]
pub struct DurableRow {
    /// `txn * 100 + index`.
    #[column(primary_key)]
    pub id: i64,
    /// The kill trial.
    pub trial: i64,
    /// The transaction (`trial * 1_000_000 + sequence`).
    pub txn: i64,
    /// Some bulk, so commits write a few pages.
    pub payload: String,
}

/// Per trial: how many rows and transactions the child committed, updated in the same
/// transaction as the rows (so atomicity spans two tables).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "durable_counters")]
pub struct DurableCounter {
    /// The kill trial.
    #[column(primary_key)]
    pub trial: i64,
    /// Rows committed.
    pub rows: i64,
    /// Transactions committed.
    pub txns: i64,
}

/// Rows per durability transaction.
pub const ROWS_PER_TXN: i64 = 20;

/// The catalog of the durability tables.
pub fn durable_base() -> Base {
    Base::new().register::<DurableRow>().register::<DurableCounter>()
}

/// A note whose body is `NOT NULL` (creates the table).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "notes")]
pub struct Note {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// Not null in the database.
    pub body: String,
}

/// The same table mapped with a nullable body, so the ORM can send NULL and the database refuses it.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "notes")]
pub struct LooseNote {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// Sent as NULL when `None`.
    pub body: Option<String>,
}

/// Every field type, for property tests of hostile values.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "hostile_values")]
pub struct HostileRow {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Arbitrary text.
    pub s: String,
    /// 64-bit integer.
    pub n: i64,
    /// 32-bit integer.
    pub i: i32,
    /// 16-bit integer.
    pub h: i16,
    /// 64-bit float.
    pub f: f64,
    /// 32-bit float.
    pub r: f32,
    /// Bytes.
    pub b: Vec<u8>,
}

/// Table and column names a careless ORM would get wrong: quotes of both kinds, spaces, reserved
/// words, comment and statement separators, unicode. Index `N` picks the table of
/// [`Weird<N>`].
pub static WEIRD_TABLES: [TableDef; 4] = [
    TableDef { name: "select \"weird` name", rust_name: "Weird0", columns: &WEIRD_COLUMNS },
    TableDef { name: "order", rust_name: "Weird1", columns: &WEIRD_COLUMNS },
    TableDef { name: "x'; DROP TABLE y; --", rust_name: "Weird2", columns: &WEIRD_COLUMNS },
    TableDef { name: "Ünïcødé 表 ✓", rust_name: "Weird3", columns: &WEIRD_COLUMNS },
];

/// The columns of every weird table: `"from"` (key), `a "quoted" col`, `` back`tick ``, `group`.
pub static WEIRD_COLUMNS: [ColumnDef; 4] = [
    ColumnDef { primary_key: true, ..ColumnDef::new("from", SqlType::BigInt) },
    ColumnDef::new("a \"quoted\" col", SqlType::Text),
    ColumnDef::new("back`tick -- ;", SqlType::Text),
    ColumnDef::new("group", SqlType::Integer),
];

/// A hand-written [`Model`] over one of [`WEIRD_TABLES`].
#[derive(Debug, Clone, PartialEq)]
pub struct Weird<const N: usize> {
    /// Column `from`.
    pub key: i64,
    /// Column `a "quoted" col`.
    pub quoted: String,
    /// Column ``back`tick -- ;``.
    pub tick: String,
    /// Column `group`.
    pub group: i32,
}

impl<const N: usize> Model for Weird<N> {
    const TABLE: &'static TableDef = &WEIRD_TABLES[N];

    fn column_value(&self, idx: usize) -> ValueRef<'_> {
        match idx {
            0 => ValueRef::I64(self.key),
            1 => ValueRef::Text(&self.quoted),
            2 => ValueRef::Text(&self.tick),
            _ => ValueRef::I32(self.group),
        }
    }

    fn from_row(row: &dyn athanor::backend::Row) -> Result<Self> {
        Ok(Weird {
            key: athanor::backend::decode_cell(row, 0, Self::TABLE)?,
            quoted: athanor::backend::decode_cell(row, 1, Self::TABLE)?,
            tick: athanor::backend::decode_cell(row, 2, Self::TABLE)?,
            group: athanor::backend::decode_cell(row, 3, Self::TABLE)?,
        })
    }

    fn set_generated_key(&mut self, _key: i64) -> Result<()> {
        Err(Error::invalid_request("Weird has no generated key"))
    }
}
