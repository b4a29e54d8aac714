//! Running migrations: the version table, the chain walk, and each operation per database.

use super::{ColumnSpec, Migration, Operation, TableSpec};
use athanor_core::dialect::{
    create_table_statements, ddl_column, drop_table_statement, write_column_definition, write_foreign_key, Dialect,
};
use athanor_core::engine::Connection;
use athanor_core::error::{Error, Result};
use athanor_core::schema::{ColumnDef, ForeignKeyDef, TableDef};
use athanor_core::value::{SqlType, Value};

/// The table holding the database's migration version (one row, `version`), as Alembic's
/// `alembic_version`.
pub const VERSION_TABLE: &str = "athanor_version";

static VERSION_DEF: TableDef = TableDef {
    name: VERSION_TABLE,
    rust_name: "AthanorVersion",
    columns: &[ColumnDef { primary_key: true, length: Some(64), ..ColumnDef::new("version", SqlType::Text) }],
};

fn has_version_table(conn: &mut Connection) -> Result<bool> {
    Ok(athanor_core::reflect::table_names(conn)?.iter().any(|n| n == VERSION_TABLE))
}

/// The version recorded in the database; `None` before any migration (or without the table).
///
/// # Errors
/// What the database reports.
pub fn current_version(conn: &mut Connection) -> Result<Option<String>> {
    if !has_version_table(conn)? {
        return Ok(None);
    }
    let mut sql = String::from("SELECT version FROM ");
    conn.dialect().write_identifier(&mut sql, VERSION_TABLE)?;
    let rows = conn.query(&sql, &[])?;
    rows.first().map(|r| r.get::<String>(0)).transpose()
}

fn set_version(conn: &mut Connection, version: Option<&str>) -> Result<()> {
    if !has_version_table(conn)? {
        for s in create_table_statements(conn.dialect(), &VERSION_DEF)? {
            conn.batch_execute(&s)?;
        }
    }
    let mut delete = String::from("DELETE FROM ");
    conn.dialect().write_identifier(&mut delete, VERSION_TABLE)?;
    conn.execute(&delete, &[])?;
    if let Some(v) = version {
        let sql = athanor_core::sql::insert(conn.dialect(), &VERSION_DEF, 1, false, None)?;
        conn.execute(&sql, &[Value::Text(v.into())])?;
    }
    Ok(())
}

fn position(chain: &[Migration], version: Option<&str>) -> Result<usize> {
    match version {
        None => Ok(0),
        Some(v) => chain
            .iter()
            .position(|m| m.id == v)
            .map(|i| i + 1)
            .ok_or_else(|| Error::invalid_request(format!("version {v} is not in the migration chain"))),
    }
}

/// Apply the migrations after the database's version up to `target` (`None`: the last).
/// Returns the ids applied.
///
/// # Errors
/// A version not in the chain; the first failing operation, naming the migration and the
/// operation (on MySQL also the operations of that migration already applied, which stay).
pub fn upgrade(conn: &mut Connection, chain: &[Migration], target: Option<&str>) -> Result<Vec<String>> {
    let from = position(chain, current_version(conn)?.as_deref())?;
    let to = match target {
        None => chain.len(),
        Some(t) => position(chain, Some(t))?,
    };
    if to < from {
        return Err(Error::invalid_request("the target is before the current version: use downgrade"));
    }
    let mut done = Vec::new();
    for m in &chain[from..to] {
        run(conn, m, &m.upgrade, Some(&m.id))?;
        done.push(m.id.clone());
    }
    Ok(done)
}

/// How long [`upgrade_locked`] waits for another process's migration lock by default.
pub const DEFAULT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The name of the migration lock ([`upgrade_locked`]).
pub const LOCK_NAME: &str = "athanor_migrate";

/// [`upgrade`] to the last migration, safe when several processes start at once (instances of
/// one service behind a load balancer): one of them migrates, the others wait and then find
/// the database up to date. Returns the ids this call applied (empty when another process
/// applied them).
///
/// How, per database: PostgreSQL and MySQL/MariaDB hold a named advisory lock
/// (`pg_try_advisory_lock`, `GET_LOCK`) on this connection while migrating, polled every 50 ms
/// for up to `lock_wait`; it is released at the end (or when the connection closes, if the
/// process dies). SQLite has no such lock: each migration instead runs in a transaction begun
/// with the write lock (`BEGIN IMMEDIATE`) that first checks the recorded version is still the
/// one it follows, and skips it when another process got there first. On PostgreSQL the same
/// check runs too.
///
/// # Errors
/// [`Error::Timeout`] (of kind `LockWait`) when another process held the lock for
/// `lock_wait`; those of [`upgrade`].
pub fn upgrade_locked(
    conn: &mut Connection,
    chain: &[Migration],
    lock_wait: std::time::Duration,
) -> Result<Vec<String>> {
    let lock = conn.dialect().advisory_lock();
    if let Some(l) = lock {
        let start = std::time::Instant::now();
        let name = [Value::Text(LOCK_NAME.into())];
        loop {
            let got = conn.query_scalar::<i64>(l.try_acquire, &name)?;
            if got == 1 {
                break;
            }
            if start.elapsed() >= lock_wait {
                return Err(Error::timeout(
                    athanor_core::error::TimeoutKind::LockWait,
                    format!("another process held the migration lock `{LOCK_NAME}` for {lock_wait:?}"),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let result = (|| -> Result<Vec<String>> {
        let mut done = Vec::new();
        loop {
            let now = current_version(conn)?;
            let from = position(chain, now.as_deref())?;
            let Some(m) = chain.get(from) else { return Ok(done) };
            if run_guarded(conn, m, &m.upgrade, Some(&m.id), Some(now.as_deref()))? {
                done.push(m.id.clone());
            }
        }
    })();
    if let Some(l) = lock {
        let released = conn.query(l.release, &[Value::Text(LOCK_NAME.into())]);
        if result.is_ok() {
            released?;
        }
    }
    result
}

/// Undo the migrations from the database's version down to `target` (`None`: all of them).
/// Returns the ids undone.
///
/// # Errors
/// As [`upgrade`].
pub fn downgrade(conn: &mut Connection, chain: &[Migration], target: Option<&str>) -> Result<Vec<String>> {
    let from = position(chain, current_version(conn)?.as_deref())?;
    let to = position(chain, target)?;
    if to > from {
        return Err(Error::invalid_request("the target is after the current version: use upgrade"));
    }
    let mut done = Vec::new();
    for i in (to..from).rev() {
        let m = &chain[i];
        let parent = if i == 0 { None } else { Some(chain[i - 1].id.as_str()) };
        run(conn, m, &m.downgrade(), parent)?;
        done.push(m.id.clone());
    }
    Ok(done)
}

/// Record `version` without running anything (after a recovery by hand, or for a database made
/// by `create_all`).
///
/// # Errors
/// A version not in the chain; what the database reports.
pub fn stamp(conn: &mut Connection, chain: &[Migration], version: Option<&str>) -> Result<()> {
    position(chain, version)?;
    set_version(conn, version)
}

/// One migration's operations and the version update: in one transaction where DDL is
/// transactional, with foreign-key checks off around a rebuild recipe.
fn run(conn: &mut Connection, m: &Migration, ops: &[Operation], version: Option<&str>) -> Result<()> {
    run_guarded(conn, m, ops, version, None).map(drop)
}

/// [`run`], and when `expect` is given, first check inside the transaction (begun with write
/// intent: on SQLite the write lock, so no other writer can move the version meanwhile) that the
/// recorded version is still `expect`; `Ok(false)`, having applied nothing, when it is not.
fn run_guarded(
    conn: &mut Connection,
    m: &Migration,
    ops: &[Operation],
    version: Option<&str>,
    expect: Option<Option<&str>>,
) -> Result<bool> {
    let dialect = conn.engine().dialect_arc();
    let recipe = dialect.rebuild_recipe();
    let transactional = conn.capabilities().transactional_ddl;
    if let Some(r) = recipe {
        conn.batch_execute(r.checks_off)?;
    }
    let result = (|| -> Result<bool> {
        if transactional {
            conn.begin_with(athanor_core::dialect::TxOptions { write_intent: expect.is_some(), ..Default::default() })?;
        }
        if let Some(expected) = expect {
            if current_version(conn)?.as_deref() != expected {
                if transactional {
                    conn.rollback()?;
                }
                return Ok(false);
            }
        }
        for (k, op) in ops.iter().enumerate() {
            if let Err(e) = apply(conn, &*dialect, op) {
                let applied: Vec<String> = ops[..k].iter().map(ToString::to_string).collect();
                let detail = if transactional || applied.is_empty() {
                    "nothing of it was applied".to_string()
                } else {
                    format!(
                        "{} commits each DDL statement, so these stay applied: {}; the recorded version is still the \
                         one before",
                        dialect.name(),
                        applied.join("; ")
                    )
                };
                return Err(Error::invalid_request(format!("migration {} failed at `{op}`: {e} ({detail})", m.id)));
            }
        }
        if let Some(r) = recipe {
            if !conn.query(r.check, &[])?.is_empty() {
                return Err(Error::invalid_request(format!(
                    "migration {}: rows violate a foreign key after the table rebuild; nothing was applied",
                    m.id
                )));
            }
        }
        set_version(conn, version)?;
        if transactional {
            conn.commit()?;
        }
        Ok(true)
    })();
    if result.is_err() && transactional && conn.in_transaction() {
        let _ = conn.rollback();
    }
    if let Some(r) = recipe {
        let on = conn.batch_execute(r.checks_on);
        let applied = result?;
        return on.map(|()| applied);
    }
    result
}

fn exec(conn: &mut Connection, sql: &str) -> Result<()> {
    conn.batch_execute(sql)
}

fn alter(dialect: &dyn Dialect, table: &str) -> Result<String> {
    let mut sql = String::from("ALTER TABLE ");
    dialect.write_identifier(&mut sql, table)?;
    Ok(sql)
}

/// Run one operation.
fn apply(conn: &mut Connection, dialect: &dyn Dialect, op: &Operation) -> Result<()> {
    let rebuild = dialect.rebuild_recipe().is_some();
    match op {
        Operation::CreateTable { table } => {
            for s in create_table_statements(dialect, table.def()?)? {
                exec(conn, &s)?;
            }
            Ok(())
        }
        Operation::DropTable { table } => {
            // Only the name is rendered, so the columns are not converted (one that names a type
            // this version does not know cannot stop the drop).
            let name = athanor_core::reflect::leak(&table.name);
            exec(conn, &drop_table_statement(dialect, &TableDef { name, rust_name: name, columns: &[] })?)
        }
        Operation::AddColumn { table, column } => add_column(conn, dialect, table, column),
        Operation::DropColumn { table, column } => {
            if rebuild {
                return rebuild_table(conn, dialect, table, |spec| {
                    spec.columns.retain(|c| c.name != column.name);
                    Ok(())
                });
            }
            let mut sql = alter(dialect, table)?;
            sql.push_str(" DROP COLUMN ");
            dialect.write_identifier(&mut sql, &column.name)?;
            exec(conn, &sql)
        }
        Operation::AlterColumn { table, from, to } => alter_column(conn, dialect, table, from, to),
        Operation::CreateIndex { table, column } => {
            let mut sql = String::from("CREATE INDEX ");
            dialect.write_identifier(&mut sql, &format!("ix_{table}_{column}"))?;
            sql.push_str(" ON ");
            dialect.write_identifier(&mut sql, table)?;
            sql.push_str(" (");
            dialect.write_identifier(&mut sql, column)?;
            sql.push(')');
            exec(conn, &sql)
        }
        Operation::DropIndex { table, column } => {
            let mut sql = String::new();
            dialect.write_drop_index(&mut sql, table, &format!("ix_{table}_{column}"))?;
            exec(conn, &sql)
        }
        Operation::AddUnique { table, column } | Operation::DropUnique { table, column } => {
            set_unique(conn, dialect, table, column, matches!(op, Operation::AddUnique { .. }))
        }
        Operation::AddForeignKey { table, column, references }
        | Operation::DropForeignKey { table, column, references } => {
            set_foreign_key(conn, dialect, table, column, references, matches!(op, Operation::AddForeignKey { .. }))
        }
    }
}

/// [`Operation::AddColumn`]: `ALTER TABLE … ADD COLUMN`, then its unique constraint, index and
/// foreign key as operations of their own (a table rebuild on SQLite for a key column).
fn add_column(conn: &mut Connection, dialect: &dyn Dialect, table: &str, column: &ColumnSpec) -> Result<()> {
    let rebuild = dialect.rebuild_recipe().is_some();
    let caps = dialect.capabilities().clone();
    if !column.nullable && column.default.is_none() {
        return Err(Error::invalid_request(format!(
            "adding NOT NULL column {table}.{} needs a default (for the rows already there)",
            column.name
        )));
    }
    let plain = ColumnSpec { unique: false, index: false, foreign_key: None, ..column.clone() };
    if rebuild && column.primary_key {
        rebuild_table(conn, dialect, table, |spec| {
            spec.columns.push(column.clone());
            Ok(())
        })?;
        return Ok(());
    }
    let mut sql = alter(dialect, table)?;
    sql.push_str(" ADD COLUMN ");
    write_column_definition(dialect, &mut sql, &ddl_column(&caps, &plain.def()?))?;
    exec(conn, &sql)?;
    let t = table.to_owned();
    let c = column.name.clone();
    if column.unique {
        apply(conn, dialect, &Operation::AddUnique { table: t.clone(), column: c.clone() })?;
    }
    if column.index {
        apply(conn, dialect, &Operation::CreateIndex { table: t.clone(), column: c.clone() })?;
    }
    if let Some(r) = &column.foreign_key {
        apply(conn, dialect, &Operation::AddForeignKey { table: t, column: c, references: r.clone() })?;
    }
    Ok(())
}

/// [`Operation::AlterColumn`]: the dialect's `write_alter_column`, and its allowed values when
/// they changed (a table rebuild on SQLite).
fn alter_column(
    conn: &mut Connection,
    dialect: &dyn Dialect,
    table: &str,
    from: &ColumnSpec,
    to: &ColumnSpec,
) -> Result<()> {
    let rebuild = dialect.rebuild_recipe().is_some();
    let caps = dialect.capabilities().clone();
    if rebuild {
        return rebuild_table(conn, dialect, table, |spec| {
            let c = column_mut(spec, &to.name)?;
            *c = ColumnSpec {
                primary_key: c.primary_key,
                autoincrement: c.autoincrement,
                unique: c.unique,
                index: c.index,
                foreign_key: c.foreign_key.clone(),
                ..to.clone()
            };
            Ok(())
        });
    }
    let to_def = ddl_column(&caps, &to.def()?);
    let mut sql = String::new();
    dialect.write_alter_column(&mut sql, table, &ddl_column(&caps, &from.def()?), &to_def)?;
    exec(conn, &sql)?;
    if from.allowed != to.allowed {
        let existing: Vec<String> = athanor_core::reflect::allowed_checks(conn, table)?
            .into_iter()
            .filter(|c| c.column == to.name)
            .filter_map(|c| c.name)
            .collect();
        let mut sql = String::new();
        dialect.write_alter_allowed(&mut sql, table, &to_def, &existing)?;
        if !sql.is_empty() {
            exec(conn, &sql)?;
        }
    }
    Ok(())
}

/// [`Operation::AddUnique`] / [`Operation::DropUnique`] (`adding` tells which).
fn set_unique(conn: &mut Connection, dialect: &dyn Dialect, table: &str, column: &str, adding: bool) -> Result<()> {
    let rebuild = dialect.rebuild_recipe().is_some();
    if rebuild {
        return rebuild_table(conn, dialect, table, |spec| {
            column_mut(spec, column)?.unique = adding;
            Ok(())
        });
    }
    let name = format!("uq_{table}_{column}");
    let mut sql = String::new();
    if adding {
        sql = alter(dialect, table)?;
        sql.push_str(" ADD CONSTRAINT ");
        dialect.write_identifier(&mut sql, &name)?;
        sql.push_str(" UNIQUE (");
        dialect.write_identifier(&mut sql, column)?;
        sql.push(')');
    } else {
        dialect.write_drop_constraint(&mut sql, table, &name, true)?;
    }
    exec(conn, &sql)
}

/// [`Operation::AddForeignKey`] / [`Operation::DropForeignKey`] (`adding` tells which), and the
/// index MySQL made for a dropped key.
fn set_foreign_key(
    conn: &mut Connection,
    dialect: &dyn Dialect,
    table: &str,
    column: &str,
    references: &(String, String),
    adding: bool,
) -> Result<()> {
    let rebuild = dialect.rebuild_recipe().is_some();
    if rebuild {
        return rebuild_table(conn, dialect, table, |spec| {
            column_mut(spec, column)?.foreign_key = adding.then(|| references.clone());
            Ok(())
        });
    }
    let name = format!("fk_{table}_{column}_{}", references.0);
    let mut sql = String::new();
    if adding {
        sql = alter(dialect, table)?;
        sql.push_str(" ADD ");
        let fk = ForeignKeyDef {
            table: athanor_core::reflect::leak(&references.0),
            column: athanor_core::reflect::leak(&references.1),
        };
        write_foreign_key(dialect, &mut sql, &name, column, fk)?;
        return exec(conn, &sql);
    }
    dialect.write_drop_constraint(&mut sql, table, &name, false)?;
    exec(conn, &sql)?;
    // An index the database made by itself for the key (MySQL names it after the key)
    // outlives it: drop it too, so the table is as before the key was added.
    let leftover = athanor_core::reflect::reflect_table(conn, table)?
        .indexes
        .iter()
        .any(|i| i.name.as_deref() == Some(name.as_str()));
    if leftover {
        let mut drop = String::new();
        dialect.write_drop_index(&mut drop, table, &name)?;
        exec(conn, &drop)?;
    }
    Ok(())
}

fn column_mut<'a>(spec: &'a mut TableSpec, name: &str) -> Result<&'a mut ColumnSpec> {
    let table = spec.name.clone();
    spec.columns
        .iter_mut()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::invalid_request(format!("no column {table}.{name} to change")))
}

/// SQLite's table rebuild: the table as reflected, changed by `change`, made as a new table,
/// filled from the old one, which is then dropped; the new one takes its name and gets its
/// indexes back.
fn rebuild_table(
    conn: &mut Connection,
    dialect: &dyn Dialect,
    table: &str,
    change: impl FnOnce(&mut TableSpec) -> Result<()>,
) -> Result<()> {
    let current = athanor_core::reflect::table_def(&athanor_core::reflect::reflect_table(conn, table)?)?;
    let mut spec = TableSpec::of(current);
    change(&mut spec)?;
    let tmp = format!("_athanor_new_{table}");
    let create = create_table_statements(dialect, spec.def_named(&tmp)?)?;
    exec(conn, &create[0])?;
    let common: Vec<&str> =
        spec.columns.iter().filter(|c| current.column_index(&c.name).is_some()).map(|c| c.name.as_str()).collect();
    let mut copy = String::from("INSERT INTO ");
    dialect.write_identifier(&mut copy, &tmp)?;
    copy.push_str(" (");
    athanor_core::dialect::write_ident_list(dialect, &mut copy, common.iter().copied())?;
    copy.push_str(") SELECT ");
    athanor_core::dialect::write_ident_list(dialect, &mut copy, common.iter().copied())?;
    copy.push_str(" FROM ");
    dialect.write_identifier(&mut copy, table)?;
    exec(conn, &copy)?;
    exec(conn, &drop_table_statement(dialect, current)?)?;
    let mut rename = alter(dialect, &tmp)?;
    rename.push_str(" RENAME TO ");
    dialect.write_identifier(&mut rename, table)?;
    exec(conn, &rename)?;
    for index in create_table_statements(dialect, spec.def()?)?.iter().skip(1) {
        exec(conn, index)?;
    }
    Ok(())
}
