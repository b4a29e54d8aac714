//! The catalog types that dialects and reflection share: the catalog queries a dialect writes
//! ([`CatalogQuery`]) and how a database's type names read back as portable types
//! ([`NativeType`], [`parse_type_name`], [`native`]), and the order tables are created and
//! flushed in by their foreign keys (`sort_by_dependencies`, [`sort_for_flush`]).
//!
//! This sits on the schema floor, below the dialect: a dialect describes its catalog without
//! reaching reflection (which runs the queries over an engine connection). The public paths are
//! `athanor_core::reflect::{CatalogQuery, NativeType, parse_type_name, native}`.

use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::value::SqlType;

/// The five catalog queries a dialect writes. Each takes the table's name as its one parameter
/// (but `Tables`, which takes none) and returns the columns its variant lists, in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogQuery {
    /// `(name text)`: the tables of the connection's database (or schema), sorted by name.
    Tables,
    /// `(name text, type text, nullable int 0/1, default text or NULL, autoincrement int 0/1,
    /// primary_key_position int, 0 for none)`, in column order.
    Columns,
    /// `(constraint text or NULL, column text, referred_table text, referred_column text)`,
    /// by constraint then position.
    ForeignKeys,
    /// `(index text, unique int 0/1, is_constraint int 0/1, column text)`, every index but the
    /// primary key's and those a database makes by itself for a foreign key, by index then
    /// position. `is_constraint` marks the index of a `UNIQUE` constraint.
    Indexes,
    /// `(text, name text or NULL)`: text holding the table's CHECK constraints as `CHECK (…)`
    /// clauses, in any number of rows (SQLite: the table's `CREATE TABLE` statement), and the
    /// constraint's name where a row holds one constraint and the database can drop it by that
    /// name (PostgreSQL; NULL on SQLite). Those of the form `col IN (…)` (or PostgreSQL's
    /// `col = ANY (ARRAY[…])`, and `col = v` for one value) are read as the column's allowed
    /// values; others are ignored.
    Checks,
}

/// A type name of the database read back as a portable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeType {
    /// The representative portable type of this storage (see the module docs).
    pub sql_type: SqlType,
    /// `VARCHAR(n)`'s `n`.
    pub length: Option<u32>,
    /// `DECIMAL(p,s)`'s `(p, s)`.
    pub precision: Option<(u8, u8)>,
}

/// A type name split into its lower-case words and its numeric arguments, for
/// `Dialect::portable_type`: `"tinyint(3) unsigned"` → `("tinyint unsigned", [3])`,
/// `"NUMERIC(12,2)"` → `("numeric", [12, 2])`. A `COLLATE …` clause is dropped.
pub fn parse_type_name(native: &str) -> (String, Vec<u32>) {
    let lower = native.trim().to_ascii_lowercase();
    let lower = lower.split(" collate ").next().unwrap_or("").to_string();
    let (mut base, mut args) = (String::new(), Vec::new());
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('(') {
        base.push_str(&rest[..open]);
        let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
        args.extend(rest[open + 1..close].split(',').filter_map(|a| a.trim().parse::<u32>().ok()));
        rest = rest.get(close + 1..).unwrap_or("");
    }
    base.push_str(rest);
    (base.split_whitespace().collect::<Vec<_>>().join(" "), args)
}

/// A [`NativeType`] of `sql_type` with the length or precision its arguments give.
pub fn native(sql_type: SqlType, args: &[u32]) -> NativeType {
    let narrow = |i: usize| args.get(i).and_then(|a| u8::try_from(*a).ok());
    NativeType {
        sql_type,
        length: if sql_type == SqlType::Text { args.first().copied() } else { None },
        precision: if sql_type == SqlType::Decimal { narrow(0).map(|p| (p, narrow(1).unwrap_or(0))) } else { None },
    }
}

/// Stable topological sort of tables by their foreign keys (self-references ignored).
/// The flush's table order: `sort_by_dependencies`, or where tables reference each other in a
/// cycle, the same order with the nullable foreign keys left out (the flush writes those in a
/// later UPDATE where a row needs it).
pub fn sort_for_flush(tables: &[&'static TableDef]) -> Result<Vec<&'static TableDef>> {
    sort_by_dependencies(tables).or_else(|e| sort_edges(tables, true).map_err(|_| e))
}

pub(crate) fn sort_by_dependencies(tables: &[&'static TableDef]) -> Result<Vec<&'static TableDef>> {
    sort_edges(tables, false)
}

fn sort_edges(tables: &[&'static TableDef], skip_nullable: bool) -> Result<Vec<&'static TableDef>> {
    let n = tables.len();
    let idx = |name: &str| tables.iter().position(|t| t.name == name);
    // deps[i] = tables that i references (and that are in the set).
    let deps: Vec<Vec<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut d: Vec<usize> = t
                .columns
                .iter()
                .filter(|c| !(skip_nullable && c.nullable))
                .filter_map(|c| c.foreign_key)
                .filter_map(|fk| idx(fk.table))
                .filter(|&j| j != i)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match next {
            Some(i) => {
                done[i] = true;
                out.push(tables[i]);
            }
            None => {
                let cycle: Vec<&str> = (0..n).filter(|&i| !done[i]).map(|i| tables[i].name).collect();
                return Err(Error::invalid(format!(
                    "the foreign keys of tables {} form a cycle; they cannot be created or flushed in order",
                    cycle.join(", ")
                )));
            }
        }
    }
    Ok(out)
}
