//! `migrate generate` and `migrate check`: the operations that make the database match the
//! models.

use super::{ColumnSpec, Operation, TableSpec, VERSION_TABLE};
use crate::dialect::ddl_column;
use crate::engine::Connection;
use crate::error::Result;
use crate::metadata::MetaData;
use crate::reflect;
use crate::schema::TableDef;

/// A column spec without its constraints (they are operations of their own).
fn bare(c: &crate::schema::ColumnDef) -> ColumnSpec {
    ColumnSpec { unique: false, index: false, foreign_key: None, ..ColumnSpec::of(c) }
}

/// The operations for one column's unique constraint, index and foreign key, as `model` has them
/// and `db` (the reflected column) does not, or the reverse.
fn constraint_ops(
    table: &str,
    model: Option<&crate::schema::ColumnDef>,
    db: Option<&crate::schema::ColumnDef>,
    adds: &mut Vec<Operation>,
    drops: &mut Vec<Operation>,
) {
    let (t, c) = (table.to_string(), model.or(db).map_or(String::new(), |c| c.name.to_string()));
    let has = |x: Option<&crate::schema::ColumnDef>, f: fn(&crate::schema::ColumnDef) -> bool| x.is_some_and(f);
    match (has(model, |c| c.unique), has(db, |c| c.unique)) {
        (true, false) => adds.push(Operation::AddUnique { table: t.clone(), column: c.clone() }),
        (false, true) => drops.push(Operation::DropUnique { table: t.clone(), column: c.clone() }),
        _ => {}
    }
    match (has(model, |c| c.index), has(db, |c| c.index)) {
        (true, false) => adds.push(Operation::CreateIndex { table: t.clone(), column: c.clone() }),
        (false, true) => drops.push(Operation::DropIndex { table: t.clone(), column: c.clone() }),
        _ => {}
    }
    let fk = |x: Option<&crate::schema::ColumnDef>| {
        x.and_then(|c| c.foreign_key).map(|f| (f.table.to_string(), f.column.to_string()))
    };
    let (want, got) = (fk(model), fk(db));
    if want != got {
        if let Some(r) = got {
            drops.push(Operation::DropForeignKey { table: t.clone(), column: c.clone(), references: r });
        }
        if let Some(r) = want {
            adds.push(Operation::AddForeignKey { table: t, column: c, references: r });
        }
    }
}

/// The operations that make the connection's database match `models` (every table but the
/// version table is compared): tables created and dropped, columns added, dropped and altered
/// (type, nullability, default), unique constraints, indexes and foreign keys added and
/// dropped. Renames are not guessed. Empty when the database matches: `migrate check` is this.
///
/// Drops come first (foreign keys, then constraints, columns and tables), then creations and
/// additions, with foreign keys last, so each runs when what it needs is there.
///
/// # Errors
/// What reflection reports; a cycle of foreign keys among the models.
pub fn generate(conn: &mut Connection, models: &MetaData) -> Result<Vec<Operation>> {
    let dialect = conn.engine().dialect_arc();
    let caps = dialect.capabilities().clone();
    let existing: Vec<String> = reflect::table_names(conn)?.into_iter().filter(|n| n != VERSION_TABLE).collect();
    let (mut drops, mut creates, mut adds, mut alters, mut constraint_adds) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut fk_drops = Vec::new();
    let mut column_drops = Vec::new();
    for model in models.sorted_tables()? {
        if !existing.iter().any(|n| n == model.name) {
            creates.push(Operation::CreateTable { table: TableSpec::of(model) });
            continue;
        }
        let found = reflect::reflect_table(conn, model.name)?;
        let db: &TableDef = crate::copy::table_def(&found)?;
        for col in model.columns {
            match db.column_index(col.name) {
                None => {
                    adds.push(Operation::AddColumn { table: model.name.into(), column: bare(col) });
                    constraint_ops(model.name, Some(col), None, &mut constraint_adds, &mut drops);
                }
                Some(i) => {
                    let was = &db.columns[i];
                    let reflected = found.column(col.name);
                    let differs = match reflected {
                        Some(r) => !reflect::column_differences(&*dialect, &ddl_column(&caps, col), r)?.is_empty(),
                        None => false,
                    };
                    if differs {
                        alters.push(Operation::AlterColumn {
                            table: model.name.into(),
                            from: bare(was),
                            to: bare(col),
                        });
                    }
                    constraint_ops(model.name, Some(col), Some(was), &mut constraint_adds, &mut fk_drops);
                }
            }
        }
        for was in db.columns {
            if model.column_index(was.name).is_none() {
                constraint_ops(model.name, None, Some(was), &mut constraint_adds, &mut fk_drops);
                column_drops.push(Operation::DropColumn { table: model.name.into(), column: bare(was) });
            }
        }
    }
    // Tables that are no longer models, children first.
    let mut gone = Vec::new();
    for name in existing.iter().filter(|n| models.table(n).is_none()) {
        gone.push(crate::copy::table_def(&reflect::reflect_table(conn, name)?)?);
    }
    let mut gone_meta = MetaData::new();
    for t in &gone {
        gone_meta.add(t);
    }
    let gone_order = gone_meta.sorted_tables().unwrap_or(gone);
    let table_drops = gone_order.iter().rev().map(|t| Operation::DropTable { table: TableSpec::of(t) });
    // Foreign-key drops first (a dropped column or table may be what they need), then the
    // other constraint drops, columns, tables.
    let (fks, others): (Vec<_>, Vec<_>) =
        fk_drops.into_iter().chain(drops).partition(|op| matches!(op, Operation::DropForeignKey { .. }));
    let (fk_adds, other_adds): (Vec<_>, Vec<_>) =
        constraint_adds.into_iter().partition(|op| matches!(op, Operation::AddForeignKey { .. }));
    Ok(fks
        .into_iter()
        .chain(others)
        .chain(column_drops)
        .chain(table_drops)
        .chain(creates)
        .chain(adds)
        .chain(alters)
        .chain(other_adds)
        .chain(fk_adds)
        .collect())
}
