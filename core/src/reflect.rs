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
//! CHECK constraints are read when they list a column's values (`col IN (…)`, what
//! `#[derive(DbEnum)]` declares); other CHECK constraints and views are not reflected yet.

use crate::dialect::{ddl_column, Dialect};
use crate::engine::Connection;
use crate::error::{Error, Result};
use crate::schema::{DefaultValue, TableDef};
use crate::value::{SqlType, Value};
use std::fmt;

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
    /// `(text)`: text holding the table's CHECK constraints as `CHECK (…)` clauses, in any
    /// number of rows (SQLite: the table's `CREATE TABLE` statement). Those of the form
    /// `col IN (…)` (or PostgreSQL's `col = ANY (ARRAY[…])`) are read as the column's allowed
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

/// A column of a reflected table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectedColumn {
    /// The name.
    pub name: String,
    /// The type as the database names it (`character varying(40)`, `bigint(20)`, `TEXT`).
    pub native_type: String,
    /// The portable type, length and precision it reads as; `None` for a type Athanor does not
    /// map (an array, a range, `INTERVAL`).
    pub portable: Option<NativeType>,
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

fn catalog(conn: &mut Connection, query: CatalogQuery, table: Option<&str>) -> Result<Vec<crate::ResultRow>> {
    let sql = conn.dialect().catalog_query(query)?;
    let params: Vec<Value> = table.map(|t| Value::Text(t.to_string())).into_iter().collect();
    conn.query(&sql, &params)
}

/// The names of the tables of the connection's database, sorted.
///
/// # Errors
/// [`Error::Unsupported`] for a dialect without catalog queries; what the database reports.
pub fn table_names(conn: &mut Connection) -> Result<Vec<String>> {
    catalog(conn, CatalogQuery::Tables, None)?.iter().map(|r| r.get::<String>(0)).collect()
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
    let dialect = conn.engine().dialect_arc();
    let rows = catalog(conn, CatalogQuery::Columns, Some(name))?;
    if rows.is_empty() {
        return Err(Error::invalid_request(format!("no table {name} in the database")));
    }
    let mut columns = Vec::with_capacity(rows.len());
    let mut key: Vec<(i64, String)> = Vec::new();
    for r in &rows {
        let native_type: String = r.get(1)?;
        let column = ReflectedColumn {
            name: r.get(0)?,
            portable: dialect.portable_type(&native_type),
            native_type,
            nullable: r.get::<i64>(2)? != 0,
            default: r.get::<Option<String>>(3)?.and_then(|d| dialect.reflected_default(&d)),
            autoincrement: r.get::<i64>(4)? != 0,
            allowed: Vec::new(),
        };
        let position: i64 = r.get(5)?;
        if position > 0 {
            key.push((position, column.name.clone()));
        }
        columns.push(column);
    }
    key.sort();
    for r in catalog(conn, CatalogQuery::Checks, Some(name))? {
        let text: Option<String> = r.get(0)?;
        for (column, values) in text.as_deref().map(in_checks).unwrap_or_default() {
            if let Some(c) = columns.iter_mut().find(|c| c.name == column) {
                c.allowed = values;
            }
        }
    }
    let fk_rows = catalog(conn, CatalogQuery::ForeignKeys, Some(name))?;
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
    let ix_rows = catalog(conn, CatalogQuery::Indexes, Some(name))?;
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

/// Read every table of the connection's database, sorted by name.
///
/// # Errors
/// As [`reflect_table`].
pub fn reflect(conn: &mut Connection) -> Result<Vec<ReflectedTable>> {
    let names = table_names(conn)?;
    names.iter().map(|n| reflect_table(conn, n)).collect()
}

/// A way a table in the database differs from its model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The model's table is not in the database.
    MissingTable(String),
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
    /// A column's stored type, nullability, default or generation differs.
    Column {
        /// The table.
        table: String,
        /// The column.
        column: String,
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
    /// database is not in the model.
    Constraint {
        /// The table.
        table: String,
        /// `missing` (in the database) or `extra` (not in the model), and the constraint.
        what: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::MissingTable(t) => write!(f, "table {t}: missing in the database"),
            Difference::MissingColumn { table, column } => write!(f, "{table}.{column}: missing in the database"),
            Difference::ExtraColumn { table, column } => {
                write!(f, "{table}.{column}: in the database, not in the model")
            }
            Difference::Column { table, column, what } => write!(f, "{table}.{column}: {what}"),
            Difference::PrimaryKey { table, model, database } => {
                write!(
                    f,
                    "{table}: primary key ({}) in the model, ({}) in the database",
                    model.join(", "),
                    database.join(", ")
                )
            }
            Difference::Constraint { table, what } => write!(f, "{table}: {what}"),
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
fn model_type(dialect: &dyn Dialect, col: &crate::schema::ColumnDef) -> Result<(String, Option<NativeType>)> {
    let declared = dialect.column_type(col)?.into_owned();
    let portable = dialect.portable_type(&declared);
    Ok((declared, portable))
}

/// How a column of the database differs from the model's `col` (as [`ddl_column`] makes it)
/// in type, nullability and default: readable lines, empty when they agree.
///
/// # Errors
/// A model column the dialect cannot declare.
pub fn column_differences(
    dialect: &dyn Dialect,
    col: &crate::schema::ColumnDef,
    found: &ReflectedColumn,
) -> Result<Vec<String>> {
    let mut what = Vec::new();
    let (declared, portable) = model_type(dialect, col)?;
    if portable != found.portable {
        what.push(format!("type: model {declared}, database {}", found.native_type));
    }
    if col.nullable != found.nullable {
        what.push(format!("nullable: model {}, database {}", col.nullable, found.nullable));
    }
    let default = col.default.as_ref().map(|d| model_default(dialect, d)).transpose()?.flatten();
    if !col.autoincrement && default != found.default {
        what.push(format!("default: model {default:?}, database {:?}", found.default));
    }
    Ok(what)
}

/// Compare a model's table with the database's: the differences, empty when the table is as
/// `create_all` makes it (through the dialect's type mapping, so storages that hold several
/// portable types compare equal). Constraints are matched by their columns (and unique flag),
/// not by name, since SQLite keeps no names for some.
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
        let mut what = column_differences(dialect, &col, found)?;
        // Where generation needs no clause (SQLite: an INTEGER primary key is the rowid), a key
        // the application gives is generated storage all the same.
        let implicit = dialect.autoincrement_clause().is_empty() && found.autoincrement;
        if col.autoincrement != found.autoincrement && !implicit {
            what.push(format!("generated: model {}, database {}", col.autoincrement, found.autoincrement));
        }
        if !what.is_empty() {
            out.push(Difference::Column { table: table.clone(), column: col.name.into(), what: what.join("; ") });
        }
    }
    for col in model.columns {
        let found = db.column(col.name).map(|c| c.allowed.clone()).unwrap_or_default();
        let mut want: Vec<String> = col.allowed.iter().map(literal).collect();
        let mut got = found;
        want.sort();
        got.sort();
        if db.column(col.name).is_some() && want != got {
            out.push(Difference::Column {
                table: table.clone(),
                column: col.name.into(),
                what: format!("allowed values: model ({}), database ({})", want.join(", "), got.join(", ")),
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
    let mut constraint = |what: String| out.push(Difference::Constraint { table: table.clone(), what });
    let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let same_set =
        |model: Vec<(Vec<String>, bool)>, db: Vec<(Vec<String>, bool)>, kind: &str, report: &mut dyn FnMut(String)| {
            for m in &model {
                if !db.contains(m) {
                    report(format!("{kind} ({}) missing in the database", m.0.join(", ")));
                }
            }
            for d in &db {
                if !model.contains(d) {
                    report(format!("{kind} ({}) in the database, not in the model", d.0.join(", ")));
                }
            }
        };
    same_set(
        model.unique_constraints().iter().map(|u| (cols(&u.columns), true)).collect(),
        db.unique_constraints.iter().map(|u| (u.columns.clone(), true)).collect(),
        "unique constraint",
        &mut constraint,
    );
    same_set(
        model.indexes().iter().map(|i| (cols(&i.columns), false)).collect(),
        db.indexes.iter().map(|i| (i.columns.clone(), i.unique)).collect(),
        "index",
        &mut constraint,
    );
    let fk_key = |columns: Vec<String>, table: &str, referred: Vec<String>| {
        let mut key = columns;
        key.push(format!("-> {table}"));
        key.extend(referred);
        (key, false)
    };
    same_set(
        model
            .foreign_keys()
            .into_iter()
            .map(|(_, c, fk)| fk_key(vec![c.name.into()], fk.table, vec![fk.column.into()]))
            .collect(),
        db.foreign_keys
            .iter()
            .map(|fk| fk_key(fk.columns.clone(), &fk.referred_table, fk.referred_columns.clone()))
            .collect(),
        "foreign key",
        &mut constraint,
    );
    Ok(out)
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
    } else {
        let at = lower.find(" in ").or_else(|| lower.find(" in("))?;
        let open = at + after[at..].find('(')?;
        &after[open + 1..balanced(after, open)?]
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

/// A type name split into its lower-case words and its numeric arguments, for
/// [`Dialect::portable_type`]: `"tinyint(3) unsigned"` → `("tinyint unsigned", [3])`,
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
