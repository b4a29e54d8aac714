//! Reflection: reading a live database's schema (SQLAlchemy's `inspect(engine)` /
//! `MetaData.reflect`) into plain data, and comparing it with the models.
//!
//! Each dialect writes five catalog queries ([`Dialect::catalog_query`]) that return the same
//! normalized columns on every database, and reads its own type names back into portable types
//! ([`Dialect::portable_type`]); this module runs them and builds [`ReflectedTable`]s. Nothing
//! here names a database.
//!
//! What each database keeps differs, and reflection says so rather than guessing: SQLite keeps
//! no names for unique and foreign-key constraints (`name` is `None`), and several portable
//! types share one storage (`INTEGER` holds every integer type on SQLite, `DATETIME(6)` both
//! instants and civil date-times on MySQL), so a reflected column carries the *representative*
//! portable type of its storage. [`compare`] compares a model with a reflected table through
//! the same mapping, so a schema made by `create_all` compares equal to its models.
//!
//! This module owns the one conversion between the catalog and reflected tables ([`table_def`];
//! the catalog → database direction is `create_table_statements`) and the one comparison
//! ([`compare`]): `copy`, `migrate generate` and `migrate check` all use these two.
//!
//! CHECK constraints are read when they list a column's values (`col IN (…)`, what
//! `#[derive(DbEnum)]` declares); other CHECK constraints and views are not reflected yet.
//!
//! Files: this module reads the catalog; `compare.rs` compares a model with a reflected table;
//! `convert.rs` turns reflected tables into catalog entries (and `--type-map`); `checks.rs` reads
//! `CHECK (col IN (…))` clauses.

use crate::engine::Connection;
use crate::error::{Error, Result};
use crate::value::Value;

pub use crate::catalog::{
    enum_values, native, parse_portable_name, parse_type_name, portable_name, CatalogParam, CatalogQuery, NativeType,
};

/// A column of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedColumn {
    /// The name.
    pub name: String,
    /// The type as the database names it (`character varying(40)`, `bigint(20)`, `TEXT`).
    pub native_type: String,
    /// The portable type, length and precision it reads as; `None` for a type Athanor does not
    /// map (an array, a range, `INTERVAL`), with the reason in `unmapped`.
    pub portable: Option<NativeType>,
    /// Why the type has no portable type (when `portable` is `None`), as the dialect says.
    pub unmapped: Option<String>,
    /// Accepts NULL.
    pub nullable: bool,
    /// The default as the database renders it, normalized by [`Dialect::reflected_default`]
    /// (`'abc'`, `0`), `None` for none.
    pub default: Option<String>,
    /// The database generates it (an identity, `AUTO_INCREMENT`, SQLite's rowid key).
    pub autoincrement: bool,
    /// The values a `CHECK (col IN (…))` constraint allows, as literals (`'open'`, `10`); empty
    /// for none.
    pub allowed: Vec<String>,
}

/// A foreign key of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedForeignKey {
    /// The constraint's name; `None` where the database keeps none (SQLite).
    pub name: Option<String>,
    /// The columns of this table.
    pub columns: Vec<String>,
    /// The referred table.
    pub referred_table: String,
    /// Its columns, in the same order.
    pub referred_columns: Vec<String>,
}

/// An index, or a unique constraint, of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedIndex {
    /// The name; `None` where the database keeps none (SQLite's unique constraints).
    pub name: Option<String>,
    /// The columns, in order.
    pub columns: Vec<String>,
    /// Unique.
    pub unique: bool,
}

/// One table of a live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedTable {
    /// The name.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<ReflectedColumn>,
    /// The primary key's columns, in key order (empty for none).
    pub primary_key: Vec<String>,
    /// The foreign keys.
    pub foreign_keys: Vec<ReflectedForeignKey>,
    /// The unique constraints.
    pub unique_constraints: Vec<ReflectedIndex>,
    /// The other indexes (unique or not).
    pub indexes: Vec<ReflectedIndex>,
}

impl ReflectedTable {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ReflectedColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The schema the catalog queries read, as the dialect's [`Dialect::current_schema_query`]
/// names it (`None` where the queries take none, or no database is selected).
fn current_schema(conn: &mut Connection) -> Result<Option<String>> {
    match conn.dialect().current_schema_query() {
        Some(sql) => conn.query_scalar::<Option<String>>(sql, &[]),
        None => Ok(None),
    }
}

fn catalog(
    conn: &mut Connection,
    query: CatalogQuery,
    schema: Option<&str>,
    table: Option<&str>,
) -> Result<Vec<crate::ResultRow>> {
    let dialect = conn.engine().dialect_arc();
    let sql = dialect.catalog_query(query)?;
    let text = |v: Option<&str>| v.map_or(Value::Null, |v| Value::Text(v.to_string()));
    let params: Vec<Value> = dialect
        .catalog_params(query)
        .iter()
        .map(|p| match p {
            CatalogParam::Schema => text(schema),
            CatalogParam::Table => text(table),
        })
        .collect();
    conn.query(&sql, &params)
}

/// The names of the tables of the connection's database, sorted.
///
/// # Errors
/// [`Error::Unsupported`] for a dialect without catalog queries; what the database reports.
pub fn table_names(conn: &mut Connection) -> Result<Vec<String>> {
    let schema = current_schema(conn)?;
    catalog(conn, CatalogQuery::Tables, schema.as_deref(), None)?.iter().map(|r| r.get::<String>(0)).collect()
}

/// Group consecutive rows by their first cell (a constraint's or an index's rows).
fn grouped<T>(
    rows: &[crate::ResultRow],
    mut key: impl FnMut(&crate::ResultRow) -> Result<T>,
) -> Result<Vec<(T, Vec<usize>)>>
where
    T: PartialEq,
{
    let mut out: Vec<(T, Vec<usize>)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let k = key(r)?;
        match out.last_mut() {
            Some((last, members)) if *last == k => members.push(i),
            _ => out.push((k, vec![i])),
        }
    }
    Ok(out)
}

/// Read one table.
///
/// # Errors
/// [`Error::InvalidRequest`] when there is no such table;
/// [`Error::Unsupported`] for a dialect without catalog queries; what the database reports.
pub fn reflect_table(conn: &mut Connection, name: &str) -> Result<ReflectedTable> {
    let schema = current_schema(conn)?;
    reflect_table_in(conn, schema.as_deref(), name)
}

/// [`reflect_table`] in `schema` (as [`current_schema`] read it).
fn reflect_table_in(conn: &mut Connection, schema: Option<&str>, name: &str) -> Result<ReflectedTable> {
    let dialect = conn.engine().dialect_arc();
    let rows = catalog(conn, CatalogQuery::Columns, schema, Some(name))?;
    if rows.is_empty() {
        return Err(Error::invalid_request(format!("no table {name} in the database")));
    }
    let mut columns = Vec::with_capacity(rows.len());
    let mut key: Vec<(i64, String)> = Vec::new();
    for r in &rows {
        let native_type: String = r.get(1)?;
        let portable = dialect.portable_type(&native_type);
        let column = ReflectedColumn {
            name: r.get(0)?,
            portable,
            unmapped: portable.is_none().then(|| dialect.unmapped_reason(&native_type).into_owned()),
            // An enum type's values (MySQL's `enum(…)`, PostgreSQL's labels) are its allowed values.
            allowed: enum_values(&native_type).unwrap_or_default(),
            native_type,
            nullable: r.get::<i64>(2)? != 0,
            default: r.get::<Option<String>>(3)?.and_then(|d| dialect.reflected_default(&d)),
            autoincrement: r.get::<i64>(4)? != 0,
        };
        let position: i64 = r.get(5)?;
        if position > 0 {
            key.push((position, column.name.clone()));
        }
        columns.push(column);
    }
    key.sort();
    for check in checks_in(conn, schema, name)? {
        if let Some(c) = columns.iter_mut().find(|c| c.name == check.column) {
            c.allowed = check.values;
        }
    }
    let fk_rows = catalog(conn, CatalogQuery::ForeignKeys, schema, Some(name))?;
    let mut foreign_keys = Vec::new();
    for (constraint, members) in grouped(&fk_rows, |r| r.get::<Option<String>>(0))? {
        let mut fk = ReflectedForeignKey {
            name: constraint.filter(|n| !n.is_empty() && !n.bytes().all(|b| b.is_ascii_digit())),
            columns: Vec::new(),
            referred_table: String::new(),
            referred_columns: Vec::new(),
        };
        for i in members {
            let r = &fk_rows[i];
            fk.columns.push(r.get(1)?);
            fk.referred_table = r.get(2)?;
            fk.referred_columns.push(r.get(3)?);
        }
        foreign_keys.push(fk);
    }
    let ix_rows = catalog(conn, CatalogQuery::Indexes, schema, Some(name))?;
    let (mut unique_constraints, mut indexes) = (Vec::new(), Vec::new());
    for (index, members) in grouped(&ix_rows, |r| r.get::<String>(0))? {
        let first = &ix_rows[members[0]];
        let is_constraint = first.get::<i64>(2)? != 0;
        let mut ix = ReflectedIndex {
            name: dialect.reflected_index_name(&index).map(str::to_string),
            columns: Vec::new(),
            unique: first.get::<i64>(1)? != 0,
        };
        for i in members {
            ix.columns.push(ix_rows[i].get(3)?);
        }
        if is_constraint {
            unique_constraints.push(ix);
        } else {
            indexes.push(ix);
        }
    }
    Ok(ReflectedTable {
        name: name.to_string(),
        columns,
        primary_key: key.into_iter().map(|(_, c)| c).collect(),
        foreign_keys,
        unique_constraints,
        indexes,
    })
}

/// A `CHECK (col IN (…))` constraint of a table: a column's allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedCheck {
    /// The constraint's name, where the database reports one it can drop by (see
    /// [`CatalogQuery::Checks`]).
    pub name: Option<String>,
    /// The column.
    pub column: String,
    /// The values, as [`literal`]s.
    pub values: Vec<String>,
}

/// The `CHECK (col IN (…))` constraints of table `table` (what [`ReflectedColumn::allowed`]
/// is read from), with their names where the database keeps droppable ones.
///
/// # Errors
/// [`Error::Unsupported`] for a dialect without catalog queries; what the database reports.
pub fn allowed_checks(conn: &mut Connection, table: &str) -> Result<Vec<AllowedCheck>> {
    let schema = current_schema(conn)?;
    checks_in(conn, schema.as_deref(), table)
}

fn checks_in(conn: &mut Connection, schema: Option<&str>, table: &str) -> Result<Vec<AllowedCheck>> {
    let mut out = Vec::new();
    for r in catalog(conn, CatalogQuery::Checks, schema, Some(table))? {
        let text: Option<String> = r.get(0)?;
        let name: Option<String> = if r.values().len() > 1 { r.get(1)? } else { None };
        for (column, values) in text.as_deref().map(in_checks).unwrap_or_default() {
            out.push(AllowedCheck { name: name.clone(), column, values });
        }
    }
    Ok(out)
}

/// Read every table of the connection's database, sorted by name.
///
/// # Errors
/// As [`reflect_table`].
pub fn reflect(conn: &mut Connection) -> Result<Vec<ReflectedTable>> {
    let names = table_names(conn)?;
    reflect_tables(conn, &names)
}

/// Read the tables called `names`, in that order (the schema is looked up once).
///
/// # Errors
/// As [`reflect_table`].
pub fn reflect_tables<S: AsRef<str>>(conn: &mut Connection, names: &[S]) -> Result<Vec<ReflectedTable>> {
    let schema = current_schema(conn)?;
    names.iter().map(|n| reflect_table_in(conn, schema.as_deref(), n.as_ref())).collect()
}

mod checks;
mod compare;
mod convert;

pub use checks::in_checks;
pub use compare::{column_differences, compare, ColumnAspect, ConstraintKind, Difference};
pub use convert::{check_mapped, default_value, leak, literal, parse_literal, table_def, unmapped_columns, TypeMap};

#[cfg(test)]
mod tests {
    use super::parse_type_name;

    #[test]
    fn in_checks_of_every_database_read_the_same() {
        let want = vec![("stage".to_string(), vec!["'open'".to_string(), "'it''s'".into(), "'closed'".into()])];
        assert_eq!(
            super::in_checks(
                "CREATE TABLE t (\"stage\" VARCHAR(6) NOT NULL CHECK (\"stage\" IN ('open', 'it''s', 'closed')))"
            ),
            want
        );
        assert_eq!(super::in_checks("CHECK (`stage` in ('open','it''s','closed'))"), want);
        assert_eq!(
            super::in_checks(
                "CHECK (((stage)::text = ANY ((ARRAY['open'::character varying, 'it''s'::character varying, 'closed'::character varying])::text[])))"
            ),
            want
        );
        let ints = vec![("level".to_string(), vec!["1".to_string(), "10".into(), "-3".into()])];
        assert_eq!(super::in_checks("CHECK ((level = ANY (ARRAY[(1)::bigint, (10)::bigint, ('-3')::bigint])))"), ints);
        assert_eq!(super::in_checks("CHECK (\"level\" IN (1, 10, -3))"), ints);
        let one = vec![("stage".to_string(), vec!["'open'".to_string()])];
        assert_eq!(super::in_checks("CHECK (((stage)::text = 'open'::text))"), one);
        assert_eq!(super::in_checks("CHECK (`stage` = 'open')"), one);
        assert!(super::in_checks("CHECK (level >= 1)").is_empty());
        assert!(super::in_checks("CHECK (a = b)").is_empty());
        assert!(super::in_checks("CHECK (json_valid(`doc`))").is_empty());
        assert!(super::in_checks("CHECK (price > 0)").is_empty());
    }

    #[test]
    fn type_names_split_into_words_and_arguments() {
        assert_eq!(parse_type_name("tinyint(3) unsigned"), ("tinyint unsigned".into(), vec![3]));
        assert_eq!(parse_type_name("NUMERIC(12, 2)"), ("numeric".into(), vec![12, 2]));
        assert_eq!(parse_type_name("character varying(40)"), ("character varying".into(), vec![40]));
        assert_eq!(parse_type_name("DECIMAL_TEXT(12,2) COLLATE athanor_decimal"), ("decimal_text".into(), vec![12, 2]));
        assert_eq!(parse_type_name(" timestamp  with time zone "), ("timestamp with time zone".into(), vec![]));
        assert_eq!(parse_type_name("varchar(4"), ("varchar".into(), vec![4]));
    }
}
