//! [`MetaData`], the tables of a declarative `Base` (which lives on the ORM floor, `orm/base.rs`):
//! `create_all` / `drop_all` in foreign-key order.

use crate::catalog::{sort_by_dependencies, sort_for_flush};
use crate::dialect::{add_foreign_key_statement, create_table_statements_deferring, drop_table_statement, Dialect};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::value::Value;

/// The tables in creation order, and the foreign keys (table, constraint) added after them.
type CreationPlan = (Vec<&'static TableDef>, Vec<(&'static TableDef, String)>);

/// The tables of a `Base`: columns, types, nullability, keys, constraints and indexes, all
/// readable from each [`TableDef`].

#[derive(Debug, Clone, Default)]
pub struct MetaData {
    tables: Vec<&'static TableDef>,
    conflicts: Vec<String>,
}

impl MetaData {
    /// An empty collection.
    pub fn new() -> Self {
        MetaData::default()
    }

    /// Add a table. Two different tables of the same name are reported by every later operation.
    pub fn add(&mut self, table: &'static TableDef) {
        match self.tables.iter().find(|t| t.name == table.name) {
            Some(t) if **t == *table => {}
            Some(t) => self
                .conflicts
                .push(format!("two models map table {:?}: {} and {}", table.name, t.rust_name, table.rust_name)),
            None => self.tables.push(table),
        }
    }

    /// Record a declaration error, reported by every later operation (as a name conflict is).
    pub fn conflict(&mut self, message: String) {
        self.conflicts.push(message);
    }

    /// The tables, in registration order.
    pub fn tables(&self) -> &[&'static TableDef] {
        &self.tables
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&'static TableDef> {
        self.tables.iter().copied().find(|t| t.name == name)
    }

    fn check(&self) -> Result<()> {
        match self.conflicts.first() {
            Some(c) => Err(Error::invalid(c.clone())),
            None => Ok(()),
        }
    }

    /// The tables ordered so that every table comes after the tables its foreign keys reference
    /// (registration order otherwise). A foreign key to a table not in this collection, or to a
    /// column that does not exist, and a cycle of foreign keys, are [`Error::InvalidRequest`].
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] as said above.
    pub fn sorted_tables(&self) -> Result<Vec<&'static TableDef>> {
        self.validate()?;
        sort_by_dependencies(&self.tables)
    }

    /// Every foreign key references a registered table and an existing column.
    fn validate(&self) -> Result<()> {
        self.check()?;
        for t in &self.tables {
            for (_, col, fk) in t.foreign_keys() {
                let target = self.table(fk.table).ok_or_else(|| {
                    Error::invalid(format!(
                        "foreign key {}.{} references table {:?}, which is not in this MetaData (register its model)",
                        t.name, col.name, fk.table
                    ))
                })?;
                if target.column_index(fk.column).is_none() {
                    return Err(Error::invalid(format!(
                        "foreign key {}.{} references column {}.{}, which does not exist",
                        t.name, col.name, fk.table, fk.column
                    )));
                }
            }
        }
        Ok(())
    }

    /// The creation order, and the foreign keys `CREATE TABLE` must leave out because they point
    /// to a table created later (tables in a cycle, on databases without
    /// [`Capabilities::foreign_key_forward_reference`](crate::Capabilities)); they are added by
    /// `ALTER TABLE` once every table exists. A cycle through NOT NULL keys only is refused.
    fn creation_plan(&self, dialect: &dyn Dialect) -> Result<CreationPlan> {
        self.validate()?;
        let order = match sort_by_dependencies(&self.tables) {
            Ok(o) => return Ok((o, Vec::new())),
            Err(e) => sort_for_flush(&self.tables).map_err(|_| e)?,
        };
        let mut deferred = Vec::new();
        if !dialect.capabilities().foreign_key_forward_reference {
            for (i, t) in order.iter().enumerate() {
                for (name, _, fk) in t.foreign_keys() {
                    if order.iter().position(|x| x.name == fk.table).is_some_and(|j| j > i) {
                        deferred.push((*t, name));
                    }
                }
            }
        }
        Ok((order, deferred))
    }

    /// The DDL `create_all` would run for every table, in order (for review or migrations).
    ///
    /// # Errors
    /// Those of [`MetaData::sorted_tables`]; [`Error::InvalidRequest`] for a name the dialect
    /// refuses (empty, NUL, too long); [`Error::Unsupported`] for a column the dialect cannot store.
    pub fn create_statements(&self, dialect: &dyn Dialect) -> Result<Vec<String>> {
        let (order, deferred) = self.creation_plan(dialect)?;
        let mut out = Vec::new();
        for t in &order {
            out.extend(create_table_statements_deferring(dialect, t, &deferred_of(&deferred, t))?);
        }
        for (t, name) in &deferred {
            out.push(add_foreign_key_statement(dialect, t, name)?);
        }
        Ok(out)
    }

    /// Create the tables that do not exist yet, parents before children (`checkfirst`).
    /// Running it twice is a no-op.
    ///
    /// # Errors
    /// Those of [`MetaData::create_statements`] (checked for every table before any DDL is sent),
    /// of connecting, and the database's error for a failing CREATE.
    pub fn create_all(&self, engine: &Engine) -> Result<()> {
        let dialect = engine.dialect();
        let (tables, deferred) = self.creation_plan(dialect)?;
        // Render every table first: a name the dialect refuses is refused before anything is
        // sent, so no earlier table is created either.
        let rendered = tables
            .into_iter()
            .map(|t| Ok((t, create_table_statements_deferring(dialect, t, &deferred_of(&deferred, t))?)))
            .collect::<Result<Vec<_>>>()?;
        let later = deferred
            .iter()
            .map(|(t, n)| Ok((t.name, add_foreign_key_statement(dialect, t, n)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut conn = engine.connect()?;
        let mut created = Vec::new();
        for (t, statements) in rendered {
            if table_exists(&mut conn, t.name)? {
                continue;
            }
            for stmt in statements {
                conn.batch_execute(&stmt)?;
            }
            created.push(t.name);
        }
        for (t, stmt) in later {
            if created.contains(&t) {
                conn.batch_execute(&stmt)?;
            }
        }
        Ok(())
    }

    /// Drop the tables that exist, children before parents.
    ///
    /// # Errors
    /// Those of [`MetaData::sorted_tables`], of connecting, and the database's error for a failing
    /// DROP (a table of another collection still referencing one of these).
    pub fn drop_all(&self, engine: &Engine) -> Result<()> {
        let tables = self.sorted_tables()?;
        let mut conn = engine.connect()?;
        let dialect = engine.dialect();
        for t in tables.into_iter().rev() {
            if table_exists(&mut conn, t.name)? {
                conn.batch_execute(&drop_table_statement(dialect, t)?)?;
            }
        }
        Ok(())
    }
}

/// The foreign keys of `table` that its `CREATE TABLE` leaves out (the plan's deferred ones).
fn deferred_of(deferred: &[(&'static TableDef, String)], table: &TableDef) -> Vec<String> {
    deferred.iter().filter(|(d, _)| d.name == table.name).map(|(_, n)| n.clone()).collect()
}

/// `true` when `name` exists in the connection's current schema/database.
pub(crate) fn table_exists(conn: &mut crate::engine::Connection, name: &str) -> Result<bool> {
    let sql = conn.dialect().table_exists_query();
    Ok(!conn.query(sql, &[Value::Text(name.to_string())])?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnDef, ForeignKeyDef};
    use crate::value::SqlType;

    const ID: ColumnDef = ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) };
    const fn fk(name: &'static str, table: &'static str) -> ColumnDef {
        ColumnDef { foreign_key: Some(ForeignKeyDef { table, column: "id" }), ..ColumnDef::new(name, SqlType::BigInt) }
    }
    static A: TableDef = TableDef { name: "a", rust_name: "A", columns: &[ID, fk("b_id", "b")] };
    static B: TableDef = TableDef { name: "b", rust_name: "B", columns: &[ID, fk("c_id", "c")] };
    static C: TableDef = TableDef { name: "c", rust_name: "C", columns: &[ID, fk("parent", "c")] };
    static X: TableDef = TableDef { name: "x", rust_name: "X", columns: &[ID, fk("y_id", "y")] };
    static Y: TableDef = TableDef { name: "y", rust_name: "Y", columns: &[ID, fk("x_id", "x")] };
    static Z: TableDef = TableDef { name: "z", rust_name: "Z", columns: &[ID, fk("q_id", "nowhere")] };

    fn names(v: &[&TableDef]) -> Vec<&'static str> {
        v.iter().map(|t| t.name).collect()
    }

    #[test]
    fn parents_first_self_reference_ignored() {
        let mut m = MetaData::new();
        for t in [&A, &B, &C] {
            m.add(t);
        }
        assert_eq!(names(&m.sorted_tables().unwrap()), ["c", "b", "a"]);
    }

    #[test]
    fn cycle_is_an_error() {
        let mut m = MetaData::new();
        m.add(&X);
        m.add(&Y);
        let e = m.sorted_tables().unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
    }

    #[test]
    fn unknown_table_is_an_error() {
        let mut m = MetaData::new();
        m.add(&Z);
        let e = m.sorted_tables().unwrap_err();
        assert!(e.to_string().contains("\"nowhere\""), "{e}");
    }

    #[test]
    fn same_name_twice_is_reported() {
        static A2: TableDef = TableDef { name: "a", rust_name: "A2", columns: &[ID] };
        let mut m = MetaData::new();
        m.add(&A);
        m.add(&A);
        assert_eq!(m.tables().len(), 1);
        m.add(&A2);
        assert!(m.sorted_tables().is_err());
    }
}
