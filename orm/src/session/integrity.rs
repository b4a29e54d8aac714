//! Integrity errors made complete: the constraint name a database did not give (SQLite names
//! columns only; some databases call every primary key by one alias, see
//! [`Dialect::primary_key_constraint_alias`]), found from the table metadata.

use super::Inner;
use athanor_core::dialect::Dialect;
use athanor_core::error::Error;
use athanor_core::schema::TableDef;

pub(super) fn is_database_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Database { .. }
            | Error::Integrity { .. }
            | Error::SerializationFailure { .. }
            | Error::Timeout { .. }
            | Error::ReadOnly { .. }
            | Error::Connection { .. }
    )
}

/// Fill in the constraint name of an integrity error from the table's metadata when the
/// database named only columns (SQLite does) or gave its primary-key alias
/// ([`Dialect::primary_key_constraint_alias`]).
pub(super) fn enrich(e: Error, dialect: &dyn Dialect, table: &TableDef, writing_rows: bool) -> Error {
    match e {
        Error::Integrity { kind, constraint: None, table: t, mut columns, message, source } => {
            let same_table = t.as_deref().is_none_or(|t| t == table.name);
            let mut constraint = if same_table { table.constraint_for_columns(&columns) } else { None };
            // SQLite names no column for a foreign-key failure. Inserting or updating rows of a
            // table with a single foreign key can only have broken that one.
            if constraint.is_none() && kind == athanor_core::error::IntegrityKind::ForeignKey && writing_rows {
                if let [(name, col, _)] = table.foreign_keys().as_slice() {
                    constraint = Some(name.clone());
                    if columns.is_empty() {
                        columns.push(col.name.to_string());
                    }
                }
            }
            Error::Integrity {
                kind,
                constraint,
                table: t.or_else(|| Some(table.name.to_string())),
                columns,
                message,
                source,
            }
        }
        Error::Integrity { kind, constraint: Some(c), table: t, columns, message, source }
            if dialect.primary_key_constraint_alias() == Some(c.as_str())
                && t.as_deref().is_none_or(|t| t == table.name) =>
        {
            Error::Integrity { kind, constraint: Some(table.primary_key_name()), table: t, columns, message, source }
        }
        other => other,
    }
}

impl Inner {
    /// A foreign-key failure on DELETE comes from a table referencing this one. Databases that
    /// name no constraint (SQLite) get the name when exactly one table this session knows
    /// references the deleted table.
    pub(super) fn enrich_delete(&self, e: Error, deleted_from: &TableDef) -> Error {
        match e {
            Error::Integrity {
                kind: kind @ athanor_core::error::IntegrityKind::ForeignKey,
                constraint: None,
                table,
                columns,
                message,
                source,
            } => {
                // The deleted model's relationships know its children: a NOT NULL key without a
                // delete cascade is the one the flush could not clear.
                let rels = self.deleted.iter().find(|i| i.table().name == deleted_from.name).map(|i| i.relationships());
                let blocking: Vec<(String, &'static TableDef, &'static str)> = rels
                    .unwrap_or(&[])
                    .iter()
                    .filter(|r| r.kind == crate::relation::RelationKind::OneToMany && !r.cascade.delete)
                    .filter_map(|r| {
                        let t = r.target.table();
                        let c = t.columns.get(r.remote)?;
                        (!c.nullable).then(|| (format!("fk_{}_{}_{}", t.name, c.name, deleted_from.name), t, c.name))
                    })
                    .collect();
                if let [(name, t, col)] = blocking.as_slice() {
                    return Error::Integrity {
                        kind,
                        constraint: Some(name.clone()),
                        table: Some(t.name.to_string()),
                        columns: vec![col.to_string()],
                        message,
                        source,
                    };
                }
                let referencing: Vec<(String, &'static TableDef, &'static str)> = self
                    .identity
                    .by_type
                    .values()
                    .map(|m| m.table())
                    .flat_map(|t| t.foreign_keys().into_iter().map(move |(n, c, fk)| (n, t, c.name, fk)))
                    .filter(|(_, _, _, fk)| fk.table == deleted_from.name)
                    .map(|(n, t, c, _)| (n, t, c))
                    .collect();
                // Exactly one referencing table: that is the key; otherwise keep what the
                // database said.
                let (constraint, table, columns) = match referencing.as_slice() {
                    [(name, t, col)] => (Some(name.clone()), Some(t.name.to_string()), vec![col.to_string()]),
                    _ => (None, table, columns),
                };
                Error::Integrity { kind, constraint, table, columns, message, source }
            }
            other => other,
        }
    }
}
