//! The catalog: static table descriptions written by `#[derive(Model)]` (the ORM side, the
//! `Model` trait, is in `model.rs`).
//!
//! A [`TableDef`] is plain data (`&'static`), so reading the catalog costs nothing at run time and
//! dialects can render DDL from it without knowing any Rust type.

use crate::value::SqlType;

/// A column's DDL default (a literal rendered by the dialect; see `Dialect::write_literal`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal (quoted and escaped by the dialect).
    Text(&'static str),
    /// A boolean literal.
    Bool(bool),
}

/// A foreign key: this column references `table.column`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeyDef {
    /// The referenced table.
    pub table: &'static str,
    /// The referenced column.
    pub column: &'static str,
}

/// One mapped column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnDef {
    /// The column's name in the database.
    pub name: &'static str,
    /// The Rust field's name.
    pub field: &'static str,
    /// The portable type.
    pub sql_type: SqlType,
    /// `true` for `Option<T>` fields.
    pub nullable: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// The database generates the value (a single integer primary key of type `Option<_>`).
    pub autoincrement: bool,
    /// `#[column(unique)]`: a unique constraint named `uq_<table>_<column>`.
    pub unique: bool,
    /// `#[column(index)]`: an index named `ix_<table>_<column>`.
    pub index: bool,
    /// `#[column(length = N)]`: `VARCHAR(N)` for text.
    pub length: Option<u32>,
    /// `#[column(default = …)]`: a DDL default.
    pub default: Option<DefaultValue>,
    /// `#[column(foreign_key = "table.column")]`.
    pub foreign_key: Option<ForeignKeyDef>,
    /// The only values the column may hold (a `#[derive(DbEnum)]` field's variants): a
    /// `CHECK (col IN (…))` constraint. Empty for any value.
    pub allowed: &'static [DefaultValue],
    /// `#[column(precision = P, scale = S)]`: a decimal column's total digits and digits after
    /// the point (`NUMERIC(P,S)`), as `(P, S)`.
    pub precision: Option<(u8, u8)>,
}

impl ColumnDef {
    /// A plain column (used by tests and hand-written tables); set the other fields with struct update.
    pub const fn new(name: &'static str, sql_type: SqlType) -> Self {
        ColumnDef {
            name,
            field: name,
            sql_type,
            nullable: false,
            primary_key: false,
            autoincrement: false,
            unique: false,
            index: false,
            length: None,
            default: None,
            foreign_key: None,
            allowed: &[],
            precision: None,
        }
    }
}

/// One mapped table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableDef {
    /// The table's name in the database.
    pub name: &'static str,
    /// The Rust type's name.
    pub rust_name: &'static str,
    /// The columns in field order (the order of `SELECT` lists and `INSERT` column lists).
    pub columns: &'static [ColumnDef],
}

/// A named constraint or index of a table, as `MetaData` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintDef {
    /// The name (deterministic: `pk_t`, `uq_t_c`, `fk_t_c_r`, `ix_t_c`).
    pub name: String,
    /// The columns.
    pub columns: Vec<&'static str>,
}

impl TableDef {
    /// The primary-key columns' positions.
    pub fn primary_key(&self) -> impl Iterator<Item = usize> + '_ {
        self.columns.iter().enumerate().filter(|(_, c)| c.primary_key).map(|(i, _)| i)
    }

    /// The autoincrementing column, if any.
    pub fn autoincrement_column(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.autoincrement)
    }

    /// The position of a column by its database name or its field name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name).or_else(|| self.columns.iter().position(|c| c.field == name))
    }

    /// The primary-key constraint's name.
    pub fn primary_key_name(&self) -> String {
        format!("pk_{}", self.name)
    }

    /// The unique constraints (one per `#[column(unique)]`).
    pub fn unique_constraints(&self) -> Vec<ConstraintDef> {
        self.columns
            .iter()
            .filter(|c| c.unique)
            .map(|c| ConstraintDef { name: format!("uq_{}_{}", self.name, c.name), columns: vec![c.name] })
            .collect()
    }

    /// The indexes (one per `#[column(index)]`).
    pub fn indexes(&self) -> Vec<ConstraintDef> {
        self.columns
            .iter()
            .filter(|c| c.index)
            .map(|c| ConstraintDef { name: format!("ix_{}_{}", self.name, c.name), columns: vec![c.name] })
            .collect()
    }

    /// The foreign keys with their constraint names.
    pub fn foreign_keys(&self) -> Vec<(String, &'static ColumnDef, ForeignKeyDef)> {
        self.columns
            .iter()
            .filter_map(|c| c.foreign_key.map(|fk| (format!("fk_{}_{}_{}", self.name, c.name, fk.table), c, fk)))
            .collect()
    }

    /// The name of the constraint that covers exactly `columns` (for databases whose errors name
    /// columns instead of constraints, as SQLite's do).
    pub fn constraint_for_columns(&self, columns: &[String]) -> Option<String> {
        let pk: Vec<&str> = self.primary_key().map(|i| self.columns[i].name).collect();
        if !pk.is_empty() && pk.len() == columns.len() && pk.iter().all(|c| columns.iter().any(|x| x == c)) {
            return Some(self.primary_key_name());
        }
        if let [one] = columns {
            if let Some(c) = self.columns.iter().find(|c| c.name == one) {
                if c.unique {
                    return Some(format!("uq_{}_{}", self.name, c.name));
                }
                if let Some(fk) = c.foreign_key {
                    return Some(format!("fk_{}_{}_{}", self.name, c.name, fk.table));
                }
            }
        }
        None
    }
}
