//! The one conversion between the catalog and the database: a reflected table as a leaked
//! `'static` [`TableDef`] ([`table_def`], with [`default_value`] and [`parse_literal`]), the
//! `--type-map` overrides ([`TypeMap`]) and the refusal of unmapped columns ([`check_mapped`]).

use super::{ReflectedColumn, ReflectedTable};
use crate::catalog::{parse_portable_name, NativeType};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, DefaultValue, ForeignKeyDef, TableDef};
use crate::value::SqlType;

/// A name read at run time as the `&'static str` the catalog types hold (reflected tables and
/// migration files become `&'static TableDef`s, leaked once each). The one copy: migrate uses it.
pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// A reflected default (as [`Dialect::reflected_default`] normalizes it) as a catalog default
/// of a column of `sql_type`, when it is a plain literal: a number, a quoted string, a boolean
/// (`1`/`0` too); `None` for an expression.
pub fn default_value(sql_type: SqlType, raw: &str) -> Option<DefaultValue> {
    match sql_type {
        SqlType::Bool => match raw.to_ascii_lowercase().as_str() {
            "1" | "true" => Some(DefaultValue::Bool(true)),
            "0" | "false" => Some(DefaultValue::Bool(false)),
            _ => None,
        },
        SqlType::Real | SqlType::Double => raw.parse().ok().map(DefaultValue::Float),
        t if t.is_integer() => raw.parse().ok().map(DefaultValue::Int),
        SqlType::Text => Some(DefaultValue::Text(leak(&unquote(raw)?))),
        _ => None,
    }
}

/// The text of a quoted literal (`'it''s'` → `it's`).
fn unquote(literal: &str) -> Option<String> {
    literal.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).map(|t| t.replace("''", "'"))
}

/// A [`literal`] read back as a catalog value: `'text'` or an integer.
///
/// # Errors
/// [`Error::InvalidRequest`] for anything else.
pub fn parse_literal(literal: &str) -> Result<DefaultValue> {
    match unquote(literal) {
        Some(t) => Ok(DefaultValue::Text(leak(&t))),
        None => literal
            .parse()
            .map(DefaultValue::Int)
            .map_err(|_| Error::invalid_request(format!("allowed value {literal} is neither text nor an integer"))),
    }
}

/// The catalog entry of a reflected table (the other direction of the one conversion; the
/// catalog → database direction is `create_table_statements`, and [`compare`] checks that the
/// two agree). Names are leaked once: catalog data is `'static`. What the catalog cannot hold
/// is left out: constraints over several columns (models declare single-column ones) and
/// defaults that are expressions; [`compare`] reports them.
///
/// # Errors
/// [`Error::Unsupported`] for a column whose type has no portable type.
pub fn table_def(t: &ReflectedTable) -> Result<&'static TableDef> {
    let mut columns = Vec::with_capacity(t.columns.len());
    for c in &t.columns {
        let Some(p) = c.portable else {
            return Err(Error::unsupported(unmapped_line(t, c), "athanor"));
        };
        let single = |cols: &[String]| cols.len() == 1 && cols[0] == c.name;
        let fk = t.foreign_keys.iter().find(|f| single(&f.columns)).and_then(|f| match f.referred_columns.as_slice() {
            [rc] => Some(ForeignKeyDef { table: leak(&f.referred_table), column: leak(rc) }),
            _ => None,
        });
        let allowed = c.allowed.iter().map(|l| parse_literal(l)).collect::<Result<Vec<_>>>()?;
        let name = leak(&c.name);
        columns.push(ColumnDef {
            name,
            field: name,
            sql_type: p.sql_type,
            nullable: c.nullable,
            primary_key: t.primary_key.contains(&c.name),
            autoincrement: c.autoincrement && t.primary_key.len() == 1 && p.sql_type.is_integer(),
            unique: t.unique_constraints.iter().any(|u| single(&u.columns)),
            index: t.indexes.iter().any(|i| !i.unique && single(&i.columns)),
            length: p.length,
            default: c.default.as_deref().and_then(|d| default_value(p.sql_type, d)),
            foreign_key: fk,
            allowed: Box::leak(allowed.into_boxed_slice()),
            precision: p.precision,
        });
    }
    let rust_name = leak(&t.name);
    Ok(Box::leak(Box::new(TableDef { name: rust_name, rust_name, columns: Box::leak(columns.into_boxed_slice()) })))
}

/// Overrides of reflected columns' portable types, `table.column=Type` each (the CLI's
/// `--type-map`): a column whose type has no portable type, or one read as another (a `CHAR(36)`
/// that holds no UUIDs: `Text(36)`). Types are spelled as [`portable_name`] writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeMap {
    entries: Vec<(String, String, NativeType)>,
}

impl TypeMap {
    /// Read `table.column=Type` entries.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an entry of another form or an unknown portable type.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TypeMap> {
        let mut map = TypeMap::default();
        for e in entries {
            let e = e.as_ref();
            let form = || Error::invalid_request(format!("--type-map {e:?}: expected table.column=Type"));
            let (target, ty) = e.split_once('=').ok_or_else(form)?;
            let (table, column) = target.trim().rsplit_once('.').ok_or_else(form)?;
            if table.is_empty() || column.is_empty() {
                return Err(form());
            }
            map.entries.push((table.to_string(), column.to_string(), parse_portable_name(ty.trim())?));
        }
        Ok(map)
    }

    /// `true` for no overrides.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Give each named column its type. A column so overridden reads through the backend's
    /// cells as that type: a cell that is not one is [`Error::TypeMismatch`] when read.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an entry that names no column of `tables`.
    pub fn apply(&self, tables: &mut [ReflectedTable]) -> Result<()> {
        for (table, column, ty) in &self.entries {
            let found = tables
                .iter_mut()
                .find(|t| &t.name == table)
                .and_then(|t| t.columns.iter_mut().find(|c| &c.name == column));
            let Some(c) = found else {
                return Err(Error::invalid_request(format!(
                    "--type-map {table}.{column}: no such column among the reflected tables"
                )));
            };
            c.portable = Some(*ty);
            c.unmapped = None;
        }
        Ok(())
    }
}

/// The line that reports a column without a portable type: the column, its type, why, and the
/// `--type-map` override that would read it.
fn unmapped_line(t: &ReflectedTable, c: &ReflectedColumn) -> String {
    format!(
        "{}.{} of type {} ({}; `reflect --rust` and `copy` read it as a portable type with --type-map {}.{}=Text \
         or another type)",
        t.name,
        c.name,
        c.native_type,
        c.unmapped.as_deref().unwrap_or("no portable type"),
        t.name,
        c.name
    )
}

/// The columns of `tables` without a portable type, one line each naming `table.column`, the
/// type, the reason and the `--type-map` override to use; empty when every column maps.
pub fn unmapped_columns(tables: &[ReflectedTable]) -> Vec<String> {
    tables
        .iter()
        .flat_map(|t| t.columns.iter().filter(|c| c.portable.is_none()).map(move |c| unmapped_line(t, c)))
        .collect()
}

/// [`Error::Unsupported`] listing every column of `tables` without a portable type (see
/// [`unmapped_columns`]), or `Ok` when there is none.
///
/// # Errors
/// As above.
pub fn check_mapped(tables: &[ReflectedTable]) -> Result<()> {
    let lines = unmapped_columns(tables);
    if lines.is_empty() {
        return Ok(());
    }
    Err(Error::unsupported(format!("columns without a portable type:\n  {}\n", lines.join("\n  ")), "athanor"))
}

/// A value as [`ReflectedColumn::allowed`] spells it: `'text'` (a `'` doubled) or the number.
pub fn literal(v: &DefaultValue) -> String {
    match v {
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) => f.to_string(),
        DefaultValue::Text(t) => format!("'{}'", t.replace('\'', "''")),
        DefaultValue::Bool(b) => u8::from(*b).to_string(),
    }
}
