//! `migrate check` and `migrate generate`: the differences between the database and the
//! models ([`reflect::compare`]'s, the one comparison), and the operations that remove them.

use super::{ColumnSpec, Operation, TableSpec, VERSION_TABLE};
use athanor_core::engine::Connection;
use athanor_core::error::{Error, Result};
use athanor_core::metadata::MetaData;
use athanor_core::reflect::{self, ColumnAspect, ConstraintKind, Difference, ReflectedTable};
use athanor_core::schema::{ColumnDef, TableDef};
use std::collections::HashMap;

/// A column spec without its constraints (they are operations of their own).
fn bare(c: &ColumnDef) -> ColumnSpec {
    ColumnSpec { unique: false, index: false, foreign_key: None, ..ColumnSpec::of(c) }
}

/// The differences and the reflected tables they were found in.
fn survey(conn: &mut Connection, models: &MetaData) -> Result<(Vec<Difference>, HashMap<String, ReflectedTable>)> {
    let dialect = conn.engine().dialect_arc();
    let existing: Vec<String> = reflect::table_names(conn)?.into_iter().filter(|n| n != VERSION_TABLE).collect();
    let (mut out, mut reflected) = (Vec::new(), HashMap::new());
    for model in models.sorted_tables()? {
        if !existing.iter().any(|n| n == model.name) {
            out.push(Difference::MissingTable(model.name.into()));
            continue;
        }
        let found = reflect::reflect_table(conn, model.name)?;
        out.extend(reflect::compare(&*dialect, model, &found)?);
        reflected.insert(found.name.clone(), found);
    }
    for name in existing.iter().filter(|n| models.table(n).is_none()) {
        out.push(Difference::ExtraTable(name.clone()));
        reflected.insert(name.clone(), reflect::reflect_table(conn, name)?);
    }
    Ok((out, reflected))
}

/// How the connection's database differs from `models` (every table but the version table is
/// compared, each with [`reflect::compare`]): empty when it is as `create_all` makes it. This is
/// `migrate check`, the drift gate, and what [`generate`] turns into operations.
///
/// # Errors
/// What reflection reports; a cycle of foreign keys among the models.
pub fn check(conn: &mut Connection, models: &MetaData) -> Result<Vec<Difference>> {
    survey(conn, models).map(|(differences, _)| differences)
}

/// The operations that make the connection's database match `models`: one or more for each
/// difference [`check`] finds (tables created and dropped, columns added, dropped and altered
/// in type, nullability, default or allowed values, single-column unique constraints, indexes
/// and foreign keys added and dropped). Renames are not guessed. Empty when the database
/// matches.
///
/// Drops come first (foreign keys, then constraints, columns and tables), then creations and
/// additions, with foreign keys last, so each runs when what it needs is there.
///
/// # Errors
/// [`Error::Unsupported`] naming the differences no operation makes (a primary key, a column's
/// generation, a unique index or a constraint over several columns), rather than a migration
/// after which `check` would still differ; what reflection reports; a cycle of foreign keys
/// among the models.
pub fn generate(conn: &mut Connection, models: &MetaData) -> Result<Vec<Operation>> {
    let (differences, reflected) = survey(conn, models)?;
    let mut defs: HashMap<&str, &'static TableDef> = HashMap::new();
    let mut db_def = |table: &str| -> Result<&'static TableDef> {
        if let Some(d) = defs.get(table) {
            return Ok(d);
        }
        let found =
            reflected.get(table).ok_or_else(|| Error::invalid_request(format!("table {table} was not reflected")))?;
        let def = reflect::table_def(found)?;
        defs.insert(def.name, def);
        Ok(def)
    };
    let column = |def: &'static TableDef, name: &str| -> Result<&'static ColumnDef> {
        def.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::invalid_request(format!("no column {}.{name}", def.name)))
    };
    let model =
        |table: &str| models.table(table).ok_or_else(|| Error::invalid_request(format!("no model for table {table}")));
    let (mut drops, mut fk_drops, mut column_drops, mut gone) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut creates, mut adds, mut alters, mut constraint_adds) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut unmade = Vec::new();
    for d in &differences {
        let t = d.table().to_string();
        match d {
            Difference::MissingTable(_) => creates.push(Operation::CreateTable { table: TableSpec::of(model(&t)?) }),
            Difference::ExtraTable(_) => gone.push(db_def(&t)?),
            Difference::MissingColumn { column: c, .. } => {
                let column = bare(column(model(&t)?, c)?);
                adds.push(Operation::AddColumn { table: t, column });
            }
            Difference::ExtraColumn { column: c, .. } => {
                let column = bare(column(db_def(&t)?, c)?);
                column_drops.push(Operation::DropColumn { table: t, column });
            }
            Difference::Column { column: c, aspects, .. } => {
                if aspects.contains(&ColumnAspect::Generated) {
                    unmade.push(d.to_string());
                }
                if aspects.iter().any(|a| *a != ColumnAspect::Generated) {
                    let (from, to) = (bare(column(db_def(&t)?, c)?), bare(column(model(&t)?, c)?));
                    alters.push(Operation::AlterColumn { table: t, from, to });
                }
            }
            Difference::PrimaryKey { .. } => unmade.push(d.to_string()),
            Difference::Constraint { kind, columns, references, missing, .. } => {
                match constraint_op(t, *kind, columns, references.as_ref(), *missing) {
                    Some(op @ Operation::DropForeignKey { .. }) => fk_drops.push(op),
                    Some(op) if *missing => constraint_adds.push(op),
                    Some(op) => drops.push(op),
                    None => unmade.push(d.to_string()),
                }
            }
            // A kind of difference added to reflection later: no operation makes it yet.
            _ => unmade.push(d.to_string()),
        }
    }
    if !unmade.is_empty() {
        return Err(Error::unsupported(
            format!("a migration operation for: {} (change these by hand)", unmade.join("; ")),
            "athanor migrate",
        ));
    }
    // Tables that are no longer models, children first.
    let mut gone_meta = MetaData::new();
    for t in &gone {
        gone_meta.add(t);
    }
    let gone_order = gone_meta.sorted_tables().unwrap_or(gone);
    let table_drops = gone_order.iter().rev().map(|t| Operation::DropTable { table: TableSpec::of(t) });
    let (fk_adds, other_adds): (Vec<_>, Vec<_>) =
        constraint_adds.into_iter().partition(|op| matches!(op, Operation::AddForeignKey { .. }));
    // Foreign-key drops first (a dropped column or table may be what they need), then the
    // other constraint drops, columns, tables.
    Ok(fk_drops
        .into_iter()
        .chain(drops)
        .chain(column_drops)
        .chain(table_drops)
        .chain(creates)
        .chain(adds)
        .chain(alters)
        .chain(other_adds)
        .chain(fk_adds)
        .collect())
}

/// The operation that adds (`missing`) or drops a constraint of `table` (single-column unique,
/// index, foreign key); `None` for one no operation makes (several columns).
fn constraint_op(
    table: String,
    kind: ConstraintKind,
    columns: &[String],
    references: Option<&(String, Vec<String>)>,
    missing: bool,
) -> Option<Operation> {
    Some(match (kind, columns, references) {
        (ConstraintKind::Unique, [c], None) if missing => Operation::AddUnique { table, column: c.clone() },
        (ConstraintKind::Unique, [c], None) => Operation::DropUnique { table, column: c.clone() },
        (ConstraintKind::Index, [c], None) if missing => Operation::CreateIndex { table, column: c.clone() },
        (ConstraintKind::Index, [c], None) => Operation::DropIndex { table, column: c.clone() },
        (ConstraintKind::ForeignKey, [c], Some((rt, rc))) if rc.len() == 1 => {
            let references = (rt.clone(), rc[0].clone());
            if missing {
                Operation::AddForeignKey { table, column: c.clone(), references }
            } else {
                Operation::DropForeignKey { table, column: c.clone(), references }
            }
        }
        _ => return None,
    })
}
