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

use crate::dialect::{ddl_column, Dialect};
use crate::engine::Connection;
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, DefaultValue, ForeignKeyDef, TableDef};
use crate::value::{SqlType, Value};
use std::fmt;

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

/// A way a table in the database differs from its model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// The model's table is not in the database.
    MissingTable(String),
    /// A table of the database is not a model's (reported by `migrate::check`, which compares
    /// the whole database; [`compare`] compares one table).
    ExtraTable(String),
    /// A model column is not in the table.
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column of the table is not in the model.
    ExtraColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column's stored type, nullability, default, generation or allowed values differ.
    Column {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Which of them differ, in that order.
        aspects: Vec<ColumnAspect>,
        /// What differs, readable: `type: model VARCHAR(40), database TEXT`.
        what: String,
    },
    /// The primary key's columns differ.
    PrimaryKey {
        /// The table.
        table: String,
        /// The model's key columns.
        model: Vec<String>,
        /// The database's.
        database: Vec<String>,
    },
    /// A unique constraint, index or foreign key of the model is missing, or one of the
    /// database is not in the model. Constraints are matched by their columns (and unique
    /// flag, and referred table and columns), not by name.
    Constraint {
        /// The table.
        table: String,
        /// What kind of constraint.
        kind: ConstraintKind,
        /// Its columns, in order.
        columns: Vec<String>,
        /// A foreign key's referred table and columns.
        references: Option<(String, Vec<String>)>,
        /// `true`: the model has it and the database does not; `false`: the reverse.
        missing: bool,
    },
}

/// What differs in a [`Difference::Column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnAspect {
    /// The portable type, length or precision the stored type reads as.
    Type,
    /// NULL accepted or not.
    Nullable,
    /// The default.
    Default,
    /// Generated by the database or not.
    Generated,
    /// The values a `CHECK (col IN (…))` allows (a `#[derive(DbEnum)]` field's variants).
    AllowedValues,
}

/// The kind of a [`Difference::Constraint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// A `UNIQUE` constraint.
    Unique,
    /// An index that is not a constraint's.
    Index,
    /// A unique index that is not a constraint's (models declare none).
    UniqueIndex,
    /// A foreign key.
    ForeignKey,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::Index => "index",
            ConstraintKind::UniqueIndex => "unique index",
            ConstraintKind::ForeignKey => "foreign key",
        })
    }
}

impl Difference {
    /// The table it is about.
    pub fn table(&self) -> &str {
        match self {
            Difference::MissingTable(t) | Difference::ExtraTable(t) => t,
            Difference::MissingColumn { table, .. }
            | Difference::ExtraColumn { table, .. }
            | Difference::Column { table, .. }
            | Difference::PrimaryKey { table, .. }
            | Difference::Constraint { table, .. } => table,
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::MissingTable(t) => write!(f, "table {t}: missing in the database"),
            Difference::ExtraTable(t) => write!(f, "table {t}: in the database, not in the models"),
            Difference::MissingColumn { table, column } => write!(f, "{table}.{column}: missing in the database"),
            Difference::ExtraColumn { table, column } => {
                write!(f, "{table}.{column}: in the database, not in the model")
            }
            Difference::Column { table, column, what, .. } => write!(f, "{table}.{column}: {what}"),
            Difference::PrimaryKey { table, model, database } => {
                write!(
                    f,
                    "{table}: primary key ({}) in the model, ({}) in the database",
                    model.join(", "),
                    database.join(", ")
                )
            }
            Difference::Constraint { table, kind, columns, references, missing } => {
                write!(f, "{table}: {kind} ({})", columns.join(", "))?;
                if let Some((t, c)) = references {
                    write!(f, " -> {t} ({})", c.join(", "))?;
                }
                f.write_str(if *missing { " missing in the database" } else { " in the database, not in the model" })
            }
        }
    }
}

/// A model default as the database renders it.
fn model_default(dialect: &dyn Dialect, d: &DefaultValue) -> Result<Option<String>> {
    let mut out = String::new();
    dialect.write_literal(&mut out, d)?;
    Ok(dialect.reflected_default(&out))
}

/// How the model's declared type reads back, for comparison with a reflected column.
fn model_type(dialect: &dyn Dialect, col: &ColumnDef) -> Result<(String, Option<NativeType>)> {
    let declared = dialect.column_type(col)?.into_owned();
    let portable = dialect.portable_type(&declared);
    Ok((declared, portable))
}

/// How a column of the database differs from the model's `col` (as [`ddl_column`] makes it)
/// in type, nullability, default and allowed values: readable lines, empty when they agree.
///
/// # Errors
/// A model column the dialect cannot declare.
pub fn column_differences(dialect: &dyn Dialect, col: &ColumnDef, found: &ReflectedColumn) -> Result<Vec<String>> {
    Ok(column_aspects(dialect, col, found)?.into_iter().map(|(_, what)| what).collect())
}

/// [`column_differences`] with the aspect of each line.
fn column_aspects(
    dialect: &dyn Dialect,
    col: &ColumnDef,
    found: &ReflectedColumn,
) -> Result<Vec<(ColumnAspect, String)>> {
    let mut what = Vec::new();
    let (declared, portable) = model_type(dialect, col)?;
    if portable != found.portable {
        what.push((ColumnAspect::Type, format!("type: model {declared}, database {}", found.native_type)));
    }
    if col.nullable != found.nullable {
        what.push((ColumnAspect::Nullable, format!("nullable: model {}, database {}", col.nullable, found.nullable)));
    }
    let default = col.default.as_ref().map(|d| model_default(dialect, d)).transpose()?.flatten();
    if !col.autoincrement && default != found.default {
        what.push((ColumnAspect::Default, format!("default: model {default:?}, database {:?}", found.default)));
    }
    // Where generation needs no clause (SQLite: an INTEGER primary key is the rowid), a key
    // the application gives is generated storage all the same.
    let implicit = dialect.autoincrement_clause().is_empty() && found.autoincrement;
    if col.autoincrement != found.autoincrement && !implicit {
        what.push((
            ColumnAspect::Generated,
            format!("generated: model {}, database {}", col.autoincrement, found.autoincrement),
        ));
    }
    let mut want: Vec<String> = col.allowed.iter().map(literal).collect();
    let mut got = found.allowed.clone();
    want.sort();
    got.sort();
    if want != got {
        what.push((
            ColumnAspect::AllowedValues,
            format!("allowed values: model ({}), database ({})", want.join(", "), got.join(", ")),
        ));
    }
    Ok(what)
}

/// Compare a model's table with the database's: the differences, empty when the table is as
/// `create_all` makes it (through the dialect's type mapping, so storages that hold several
/// portable types compare equal). This is the one comparison: `copy` checks an existing
/// destination table with it, and `migrate generate` and `migrate check` are made of it.
/// Constraints are matched by their columns (and unique flag), not by name, since SQLite keeps
/// no names for some.
///
/// # Errors
/// A model column the dialect cannot declare (its `column_type` error).
pub fn compare(dialect: &dyn Dialect, model: &TableDef, db: &ReflectedTable) -> Result<Vec<Difference>> {
    let caps = dialect.capabilities();
    let table = model.name.to_string();
    let mut out = Vec::new();
    for col in model.columns {
        let col = ddl_column(caps, col);
        let Some(found) = db.column(col.name) else {
            out.push(Difference::MissingColumn { table: table.clone(), column: col.name.into() });
            continue;
        };
        let found = column_aspects(dialect, &col, found)?;
        if !found.is_empty() {
            let (aspects, what): (Vec<_>, Vec<_>) = found.into_iter().unzip();
            out.push(Difference::Column {
                table: table.clone(),
                column: col.name.into(),
                aspects,
                what: what.join("; "),
            });
        }
    }
    for c in &db.columns {
        if model.column_index(&c.name).is_none() {
            out.push(Difference::ExtraColumn { table: table.clone(), column: c.name.clone() });
        }
    }
    let pk: Vec<String> = model.primary_key().map(|i| model.columns[i].name.to_string()).collect();
    if pk != db.primary_key {
        out.push(Difference::PrimaryKey { table: table.clone(), model: pk, database: db.primary_key.clone() });
    }
    type Shape = (ConstraintKind, Vec<String>, Option<(String, Vec<String>)>);
    let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut wanted: Vec<Shape> = Vec::new();
    wanted.extend(model.unique_constraints().iter().map(|u| (ConstraintKind::Unique, cols(&u.columns), None)));
    wanted.extend(model.indexes().iter().map(|i| (ConstraintKind::Index, cols(&i.columns), None)));
    wanted.extend(model.foreign_keys().into_iter().map(|(_, c, fk)| {
        (
            ConstraintKind::ForeignKey,
            vec![c.name.to_string()],
            Some((fk.table.to_string(), vec![fk.column.to_string()])),
        )
    }));
    let mut present: Vec<Shape> = Vec::new();
    present.extend(db.unique_constraints.iter().map(|u| (ConstraintKind::Unique, u.columns.clone(), None)));
    present.extend(db.indexes.iter().map(|i| {
        (if i.unique { ConstraintKind::UniqueIndex } else { ConstraintKind::Index }, i.columns.clone(), None)
    }));
    present.extend(db.foreign_keys.iter().map(|fk| {
        (ConstraintKind::ForeignKey, fk.columns.clone(), Some((fk.referred_table.clone(), fk.referred_columns.clone())))
    }));
    for (set, other, missing) in [(&wanted, &present, true), (&present, &wanted, false)] {
        for (kind, columns, references) in set.iter().filter(|s| !other.contains(s)) {
            out.push(Difference::Constraint {
                table: table.clone(),
                kind: *kind,
                columns: columns.clone(),
                references: references.clone(),
                missing,
            });
        }
    }
    Ok(out)
}

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

/// The bodies of the `CHECK (…)` clauses in `text` (balanced parentheses; quotes respected).
fn check_bodies(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("check") {
        let start = from + at + "check".len();
        let Some(open) = text[start..].find('(').map(|o| start + o) else { break };
        if !text[start..open].trim().is_empty() {
            from = start;
            continue;
        }
        match balanced(text, open) {
            Some(close) => {
                out.push(&text[open + 1..close]);
                from = close;
            }
            None => break,
        }
    }
    out
}

/// The position of the parenthesis (or bracket) closing the one at `open`.
fn balanced(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut quoted) = (0usize, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'\'' => quoted = !quoted,
            b'(' | b'[' if !quoted => depth += 1,
            b')' | b']' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `col IN (…)` checks in `text`: the column and its values as [`literal`]s. Reads SQLite's and
/// MySQL's `"col" IN ('a', 'b')` and PostgreSQL's `((col)::text = ANY ((ARRAY['a'::character
/// varying, …])::text[]))`.
pub fn in_checks(text: &str) -> Vec<(String, Vec<String>)> {
    check_bodies(text).into_iter().filter_map(in_check).collect()
}

fn in_check(body: &str) -> Option<(String, Vec<String>)> {
    let rest = body.trim_start_matches(|c: char| c == '(' || c.is_whitespace());
    let (column, after) = match rest.chars().next()? {
        q @ ('"' | '`' | '[') => {
            let close = if q == '[' { ']' } else { q };
            let end = rest[1..].find(close)? + 1;
            (rest[1..end].to_string(), &rest[end + 1..])
        }
        _ => {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        }
    };
    let lower = after.to_ascii_lowercase();
    let list = if let Some(a) = lower.find("array[") {
        let open = a + "array".len();
        &after[open + 1..balanced(after, open)?]
    } else if let Some(at) = lower.find(" in ").or_else(|| lower.find(" in(")) {
        let open = at + after[at..].find('(')?;
        &after[open + 1..balanced(after, open)?]
    } else {
        // One value: PostgreSQL and MariaDB keep `col IN ('x')` as `col = 'x'`.
        let eq = outside_quotes(after, "=")?;
        let cast_only =
            after[..eq].chars().all(|c| matches!(c, ')' | ':' | '_') || c.is_whitespace() || c.is_alphanumeric());
        if !cast_only {
            return None;
        }
        &after[eq + 1..]
    };
    let mut values = Vec::new();
    for item in split_top_level(list) {
        let mut v = item.trim();
        let mut integer_cast = false;
        loop {
            let before = v;
            v = v.trim().trim_start_matches('(').trim_end_matches(')').trim();
            if let Some(cast) = outside_quotes(v, "::") {
                integer_cast |= v[cast..].contains("int");
                v = &v[..cast];
            }
            if v == before {
                break;
            }
        }
        let quoted = v.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
        // PostgreSQL spells a negative number in an array as a string cast to the integer type.
        if let Some(t) = quoted.filter(|t| !(integer_cast && t.parse::<i64>().is_ok())) {
            values.push(format!("'{t}'"));
        } else if let Some(t) = quoted {
            values.push(t.parse::<i64>().ok()?.to_string());
        } else {
            values.push(v.parse::<i64>().ok()?.to_string());
        }
    }
    (!column.is_empty() && !values.is_empty()).then_some((column, values))
}

/// Split at the commas outside quotes and parentheses.
fn split_top_level(list: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    for (i, b) in list.bytes().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

/// Where `pat` first occurs outside single quotes.
fn outside_quotes(s: &str, pat: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in s.bytes().enumerate() {
        if b == b'\'' {
            quoted = !quoted;
        } else if !quoted && s[i..].starts_with(pat) {
            return Some(i);
        }
    }
    None
}

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
