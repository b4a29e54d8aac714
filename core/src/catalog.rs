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
/// (but `Tables`, which takes none), unless the dialect lists other parameters with
/// `Dialect::catalog_params`, and returns the columns its variant lists, in that order.
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

/// What one placeholder of a catalog query stands for ([`Dialect::catalog_params`] lists them in
/// order): the schema (the database, on MySQL) being reflected, which reflection reads once with
/// [`Dialect::current_schema_query`], or the table's name. Binding the schema as a constant, not
/// writing `DATABASE()` into correlated subqueries, is what keeps MariaDB's `information_schema`
/// from reading every schema on the server.
///
/// [`Dialect::catalog_params`]: crate::dialect::Dialect::catalog_params
/// [`Dialect::current_schema_query`]: crate::dialect::Dialect::current_schema_query
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogParam {
    /// The name of the schema reflected.
    Schema,
    /// The name of the table.
    Table,
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

/// The portable types by the names `--type-map` and [`portable_name`] use (the [`SqlType`]
/// variants' names).
const PORTABLE_NAMES: &[(&str, SqlType)] = &[
    ("Bool", SqlType::Bool),
    ("SmallInt", SqlType::SmallInt),
    ("Integer", SqlType::Integer),
    ("BigInt", SqlType::BigInt),
    ("Real", SqlType::Real),
    ("Double", SqlType::Double),
    ("Text", SqlType::Text),
    ("Blob", SqlType::Blob),
    ("U8", SqlType::U8),
    ("U16", SqlType::U16),
    ("U32", SqlType::U32),
    ("U64", SqlType::U64),
    ("Uuid", SqlType::Uuid),
    ("Timestamp", SqlType::Timestamp),
    ("Date", SqlType::Date),
    ("DateTime", SqlType::DateTime),
    ("Time", SqlType::Time),
    ("Decimal", SqlType::Decimal),
    ("Json", SqlType::Json),
];

/// The portable type of a [`SqlType`] variant's name, exactly as [`portable_name`] writes it
/// (migration files name column types so).
pub fn sql_type_named(name: &str) -> Option<SqlType> {
    PORTABLE_NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A portable type as `--type-map` spells it: the [`SqlType`] variant's name, with `Text`'s
/// length or `Decimal`'s precision and scale: `Text`, `Text(40)`, `Decimal(10,2)`, `DateTime`.
pub fn portable_name(t: NativeType) -> String {
    let name = PORTABLE_NAMES.iter().find(|(_, s)| *s == t.sql_type).map_or("?", |(n, _)| n);
    match (t.length, t.precision) {
        (Some(n), _) => format!("{name}({n})"),
        (_, Some((p, s))) => format!("{name}({p},{s})"),
        _ => name.to_string(),
    }
}

/// Read a portable type as [`portable_name`] writes it (names in any case).
///
/// # Errors
/// [`Error::InvalidRequest`] naming the portable types, for anything else.
pub fn parse_portable_name(spec: &str) -> Result<NativeType> {
    let (base, args) = parse_type_name(spec);
    let bad = || {
        let names: Vec<&str> = PORTABLE_NAMES.iter().map(|(n, _)| *n).collect();
        Error::invalid_request(format!(
            "{spec:?} is not a portable type: one of {}, with Text(n) and Decimal(p,s)",
            names.join(", ")
        ))
    };
    let (_, sql_type) = *PORTABLE_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(&base)).ok_or_else(bad)?;
    let arity_ok = match sql_type {
        SqlType::Text => args.len() <= 1,
        SqlType::Decimal => args.len() <= 2 && args.iter().all(|a| *a <= u32::from(u8::MAX)),
        _ => args.is_empty(),
    };
    if !arity_ok || spec.contains('(') == args.is_empty() {
        return Err(bad());
    }
    Ok(native(sql_type, &args))
}

/// The values of an `enum('a','b')` type name (MySQL's `COLUMN_TYPE`, and how the PostgreSQL
/// dialect's catalog query spells an enum type's labels), as [`ReflectedColumn::allowed`]
/// literals (`'a'`, a `'` doubled); `None` for another type name.
///
/// [`ReflectedColumn::allowed`]: crate::reflect::ReflectedColumn::allowed
pub fn enum_values(native: &str) -> Option<Vec<String>> {
    let t = native.trim();
    let open = t.find('(')?;
    if !t[..open].trim().eq_ignore_ascii_case("enum") || !t.ends_with(')') {
        return None;
    }
    let list = &t[open + 1..t.len() - 1];
    let (mut values, mut current, mut quoted, mut chars) = (Vec::new(), String::new(), false, list.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('\'', false) => quoted = true,
            ('\'', true) if chars.peek() == Some(&'\'') => {
                chars.next();
                current.push_str("''");
            }
            ('\'', true) => {
                quoted = false;
                values.push(format!("'{current}'"));
                current.clear();
            }
            (c, true) => current.push(c),
            (',' | ' ', false) => {}
            _ => return None,
        }
    }
    (!quoted && !values.is_empty()).then_some(values)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_names_round_trip_and_others_are_refused() {
        for spec in ["Text", "Text(40)", "Decimal(10,2)", "DateTime", "Uuid", "U64", "Json"] {
            assert_eq!(parse_portable_name(spec).map(portable_name).ok().as_deref(), Some(spec));
        }
        assert_eq!(parse_portable_name("decimal(10)").map(portable_name).ok().as_deref(), Some("Decimal(10,0)"));
        for bad in ["Textual", "BigInt(8)", "Text()", "Decimal(1,2,3)", "Decimal(300,2)", ""] {
            assert!(parse_portable_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enum_type_names_list_their_values() {
        assert_eq!(enum_values("enum('a','it''s', 'c')"), Some(vec!["'a'".into(), "'it''s'".into(), "'c'".into()]));
        assert_eq!(enum_values("ENUM('x')"), Some(vec!["'x'".into()]));
        assert_eq!(enum_values("set('a')"), None);
        assert_eq!(enum_values("enum(a)"), None);
        assert_eq!(enum_values("enum('a'"), None);
        assert_eq!(enum_values("varchar(3)"), None);
    }
}
