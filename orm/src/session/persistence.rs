//! Persistence: the INSERT, UPDATE and DELETE statements a flush sends for one table, and the
//! recovery of generated keys (SQLAlchemy's `orm/persistence.py`).

use super::events::Hook;
use super::identity::{Key, KeyPart};
use super::state::{Erased, ObjectState};
use super::{Inner, SQL_UPDATE};
use athanor_core::dialect::KeyRecovery;
use athanor_core::engine::Connection;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::sql;
use athanor_core::value::{FromValue, ValueRef};
use std::collections::HashMap;
use std::rc::Rc;

impl Inner {
    pub(super) fn insert_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
        if self.events.has_model_hooks() {
            for i in items {
                self.events.on_instance(Hook::Insert, &***i)?;
            }
        }
        let engine = self.engine.clone();
        let dialect = engine.dialect();
        let caps = dialect.capabilities();
        // Key recovery is a connect-time fact (MySQL's key consecutiveness): read it from the
        // capabilities the connection reported, not from the dialect's static sheet.
        let recovery = self.conn.as_ref().map_or(engine.capabilities(), Connection::capabilities).key_recovery;
        let multi = caps.multi_row_insert;
        // The engine's limit (the sheet as the backend adjusted it), the one check_params applies.
        let max_params = engine.capabilities().max_bind_params;
        let auto = table.autoincrement_column();
        let ncols_all = table.columns.len();
        let key_is_generated = auto.is_some() && {
            let mut pk = table.primary_key();
            pk.next() == auto && pk.next().is_none()
        };
        let needs_key = |i: &Rc<dyn Erased>| -> Result<bool> {
            Ok(match auto {
                Some(a) => i.values()?.value_at(a).is_null(),
                None => false,
            })
        };
        let mut sql_cache: HashMap<(bool, usize), String> = HashMap::new();
        let mut start = 0;
        while start < items.len() {
            let needs = needs_key(items[start])?;
            let ncols = if needs { ncols_all - 1 } else { ncols_all };
            // Keys recovered from LAST_INSERT_ID need consecutive keys for a multi-row INSERT.
            let per_row = needs && recovery == KeyRecovery::LastInsertIdPerRow;
            let max_rows = if multi && ncols > 0 && !per_row { (max_params / ncols).clamp(1, 500) } else { 1 };
            let mut end = start + 1;
            while end < items.len() && end - start < max_rows && needs_key(items[end])? == needs {
                end += 1;
            }
            let batch = &items[start..end];
            let returning =
                (needs && recovery == KeyRecovery::Returning).then(|| table.columns[auto.unwrap_or(0)].name);
            let key = (needs, batch.len());
            let sql = match sql_cache.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(sql::insert(dialect, table, batch.len(), needs, returning)?)
                }
            };
            let sql = &*sql;
            let mut keys: Vec<i64> = Vec::new();
            {
                let borrows = batch.iter().map(|i| i.values()).collect::<Result<Vec<_>>>()?;
                let mut params: Vec<ValueRef<'_>> = Vec::with_capacity(batch.len() * ncols);
                for b in &borrows {
                    for c in 0..ncols_all {
                        if needs && Some(c) == auto {
                            continue;
                        }
                        params.push(b.value_at(c));
                    }
                }
                let conn = self.conn.as_mut().ok_or_else(|| Error::invalid_request("no transaction"))?;
                if returning.is_some() {
                    keys.reserve(batch.len());
                    conn.query_refs(sql, &params, &mut |row| {
                        keys.push(i64::from_value(row.get(0)?)?);
                        Ok(())
                    })?;
                } else {
                    conn.execute_refs(sql, &params)?;
                    if needs {
                        let first = conn.last_insert_id()?.ok_or_else(|| {
                            Error::invalid_request(format!("the database reported no generated key for {}", table.name))
                        })?;
                        keys.extend((0..batch.len() as i64).map(|k| first + k));
                    }
                }
            }
            if needs {
                if keys.len() != batch.len() {
                    return Err(Error::invalid_request(format!(
                        "INSERT into {} returned {} keys for {} rows",
                        table.name,
                        keys.len(),
                        batch.len()
                    )));
                }
                // Keys of one multi-row INSERT are assigned in VALUES order by an increasing
                // sequence/rowid; RETURNING's row order is not guaranteed, so sort.
                keys.sort_unstable();
                for (i, k) in batch.iter().zip(&keys) {
                    i.set_generated_key(*k)?;
                }
            }
            self.mark_inserted(batch, &keys, needs && key_is_generated)?;
            start = end;
        }
        Ok(())
    }

    /// The rows of one INSERT are persistent: keyed (by the generated key when it is the whole
    /// key, `keys_are_keys`), snapshots cleared, in the identity map and the transaction's list.
    fn mark_inserted(&mut self, batch: &[&Rc<dyn Erased>], keys: &[i64], keys_are_keys: bool) -> Result<()> {
        for (n, i) in batch.iter().enumerate() {
            // A generated single-column key is the key: no need to read it back.
            let key = match keys.get(n) {
                Some(&k) if keys_are_keys => Key::One(KeyPart::Int(k)),
                _ => i.compute_key()?,
            };
            {
                let mut m = i.meta().borrow_mut();
                m.state = ObjectState::Persistent;
                m.key = Some(key.clone());
                m.expired = false;
            }
            i.clear_snapshot();
            i.settle_stored();
            Rc::clone(i).identity_insert(&mut self.identity, key);
            self.inserted_in_tx.push(Rc::clone(i));
        }
        Ok(())
    }

    pub(super) fn update_one(&mut self, table: &'static TableDef, i: &dyn Erased) -> Result<()> {
        let mut meta = i.meta().borrow_mut();
        if meta.state != ObjectState::Persistent || !meta.listed_modified {
            meta.listed_modified = false;
            return Ok(());
        }
        if self.events.has_model_hooks() {
            self.events.on_instance(Hook::Update, i)?;
        }
        let v = i.values()?;
        let snap = i.snapshot()?;
        let key = meta.key.clone().ok_or_else(|| Error::invalid_request("persistent object without a key"))?;
        let ncols = table.columns.len();
        let version = i.version_column();
        // Columns set to SQL expressions (`Handle::set_expr`): written as such, never as values.
        let exprs: Vec<(usize, athanor_core::sql::ast::Scalar)> = meta.exprs.list().to_vec();
        let from_expr = |c: usize| exprs.iter().any(|(e, _)| *e == c);
        // The changed columns: as a bit mask (the statement cache's key) for tables of up to 64
        // columns, and their values as the first parameters.
        let mut mask = 0u64;
        let mut columns: Vec<usize> = Vec::new();
        let mut params: Vec<ValueRef<'_>> = Vec::with_capacity(ncols + 3);
        for c in 0..ncols {
            // Only what the edits changed, whatever the object's state: an untouched column is
            // never written (it may hold another transaction's committed change).
            let changed = snap.as_ref().is_some_and(|s| !v.value_at(c).same_as(s.value_at(c)));
            if changed && Some(c) == version {
                return Err(Error::invalid_request(format!(
                    "the version column {}.{} of a persistent {} was changed by an edit; the flush writes it \
                     (the version read plus one): leave it alone",
                    table.name, table.columns[c].name, table.rust_name
                )));
            }
            if changed && !from_expr(c) {
                if ncols <= 64 && exprs.is_empty() {
                    mask |= 1u64 << c;
                } else {
                    columns.push(c);
                }
                params.push(v.value_at(c));
            }
        }
        if i.compute_key()? != key {
            return Err(Error::invalid_request(format!(
                "the primary key of a persistent {} was changed from {key}; delete and add instead",
                table.rust_name
            )));
        }
        if params.is_empty() && exprs.is_empty() {
            drop(params);
            drop(snap);
            drop(v);
            i.clear_snapshot();
            meta.listed_modified = false;
            return Ok(());
        }
        // The version the row was read at (the snapshot's, when an edit moved it aside) and the
        // next one, bound: `SET version = ? … AND version = ?`.
        let read_at = version.map(|c| (c, snap.as_ref().map_or(v.value_at(c), |s| s.value_at(c))));
        let read_version = match read_at {
            Some((c, at)) => Some((version_number(table, c, at)?, next_version(table, c, at)?)),
            None => None,
        };
        let engine = self.engine.clone();
        let returning: Vec<usize> =
            if engine.capabilities().update_returning { exprs.iter().map(|(c, _)| *c).collect() } else { Vec::new() };
        // Rendered once per engine and column set for tables of up to 64 columns without
        // expressions; a statement with expressions (and their values) each time.
        let mut expr_params: Vec<athanor_core::value::Value> = Vec::new();
        let sql: std::sync::Arc<str> = if exprs.is_empty() && ncols <= 64 {
            engine.cached_sql_variant(table, SQL_UPDATE, mask, |d| {
                let columns: Vec<usize> = (0..ncols).filter(|&c| mask & (1u64 << c) != 0).collect();
                Ok(sql::update_row(d, table, &sql::RowUpdate { columns: &columns, version, ..Default::default() })?.sql)
            })?
        } else {
            let refs: Vec<(usize, &athanor_core::sql::ast::Scalar)> = exprs.iter().map(|(c, e)| (*c, e)).collect();
            let st = sql::update_row(
                engine.dialect(),
                table,
                &sql::RowUpdate { columns: &columns, exprs: &refs, version, returning: &returning },
            )?;
            expr_params = st.params;
            st.sql.into()
        };
        params.extend(expr_params.iter().map(athanor_core::value::Value::as_ref));
        if let Some((_, next)) = &read_version {
            params.push(next.as_ref());
        }
        params.extend(key.params());
        if let Some((_, at)) = read_at {
            // The version read, as its field binds it.
            params.push(at);
        }
        let mut returned: Vec<athanor_core::value::Value> = Vec::new();
        let conn = self.conn()?;
        let n = if returning.is_empty() {
            conn.execute_refs(&sql, &params)?
        } else {
            let mut rows = 0u64;
            conn.query_refs(&sql, &params, &mut |row| {
                rows += 1;
                returned = (0..returning.len()).map(|j| row.get(j).map(ValueRef::to_owned)).collect::<Result<_>>()?;
                Ok(())
            })?;
            rows
        };
        drop(params);
        drop(snap);
        drop(v);
        if n != 1 {
            return Err(Error::StaleData {
                model: table.rust_name,
                table: table.name.to_string(),
                key: key.to_string(),
                version: read_version.as_ref().map(|(read, _)| *read),
                expected: 1,
                matched: n,
            });
        }
        i.clear_snapshot();
        i.settle_stored();
        if let (Some(c), Some((_, next))) = (version, &read_version) {
            i.store_column(c, next.as_ref())?;
        }
        if !exprs.is_empty() {
            let cols: Vec<usize> = exprs.iter().map(|(c, _)| *c).collect();
            if returned.is_empty() {
                // No `UPDATE … RETURNING`: read the columns back in the same transaction (the
                // row is this transaction's write, locked until it ends).
                let select = sql::select_columns_by_pk(engine.dialect(), table, &cols)?;
                let key_params: Vec<ValueRef<'_>> = key.params().collect();
                self.conn()?.query_refs(&select, &key_params, &mut |row| {
                    returned = (0..cols.len()).map(|j| row.get(j).map(ValueRef::to_owned)).collect::<Result<_>>()?;
                    Ok(())
                })?;
            }
            if returned.len() != cols.len() {
                return Err(Error::NotFound { what: format!("{} {key} after its UPDATE", table.name) });
            }
            for (c, value) in cols.iter().zip(&returned) {
                i.store_column(*c, value.as_ref())?;
            }
            meta.exprs.clear();
        }
        meta.listed_modified = false;
        Ok(())
    }

    pub(super) fn delete_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
        if self.events.has_model_hooks() {
            for i in items {
                self.events.on_instance(Hook::Delete, &***i)?;
            }
        }
        if let Some(c) = items.first().and_then(|i| i.version_column()) {
            return self.delete_versioned(table, c, items);
        }
        let keys: Vec<Key> = items.iter().filter_map(|i| i.meta().borrow().key.clone()).collect();
        let pk_cols = table.primary_key().count();
        let caps = self.engine.capabilities();
        let per_stmt = if pk_cols == 1 { caps.max_bind_params.clamp(1, 500) } else { 1 };
        for chunk in keys.chunks(per_stmt) {
            let sql = sql::delete(self.engine.dialect(), table, chunk.len())?;
            let params: Vec<ValueRef<'_>> = chunk.iter().flat_map(|k| k.params()).collect();
            let n = self.conn()?.execute_refs(&sql, &params)?;
            if n as usize != chunk.len() {
                tracing::warn!(
                    target: "athanor::session",
                    "DELETE from {} matched {n} of {} rows: some were already deleted by another transaction",
                    table.name,
                    chunk.len()
                );
            }
        }
        Ok(())
    }

    /// The DELETEs of a model with a version column: one row per statement, at the version the
    /// session read (the snapshot's when an unflushed edit moved it aside); a row that moved
    /// on, or is gone, is [`Error::StaleData`].
    fn delete_versioned(&mut self, table: &'static TableDef, version: usize, items: &[&Rc<dyn Erased>]) -> Result<()> {
        let sql = sql::delete_versioned(self.engine.dialect(), table, version)?;
        for i in items {
            let Some(key) = i.meta().borrow().key.clone() else { continue };
            let v = i.values()?;
            let snap = i.snapshot()?;
            let read = snap.as_ref().map_or(v.value_at(version), |s| s.value_at(version));
            let number = version_number(table, version, read)?;
            let mut params: Vec<ValueRef<'_>> = key.params().collect();
            params.push(read);
            let n = self.conn()?.execute_refs(&sql, &params)?;
            if n != 1 {
                return Err(Error::StaleData {
                    model: table.rust_name,
                    table: table.name.to_string(),
                    key: key.to_string(),
                    version: Some(number),
                    expected: 1,
                    matched: n,
                });
            }
        }
        Ok(())
    }
}

/// A version column's value as a number.
fn version_number(table: &TableDef, c: usize, v: ValueRef<'_>) -> Result<i64> {
    match v {
        ValueRef::I16(n) => Ok(n.into()),
        ValueRef::I32(n) => Ok(n.into()),
        ValueRef::I64(n) => Ok(n),
        other => Err(Error::invalid_request(format!(
            "the version column {}.{} holds {other:?}, not an integer",
            table.name,
            table.columns.get(c).map_or("?", |c| c.name)
        ))),
    }
}

/// The next version: one more, in the field's own integer type.
fn next_version(table: &TableDef, c: usize, v: ValueRef<'_>) -> Result<athanor_core::value::Value> {
    use athanor_core::value::Value;
    let next = match v {
        ValueRef::I16(n) => n.checked_add(1).map(Value::I16),
        ValueRef::I32(n) => n.checked_add(1).map(Value::I32),
        ValueRef::I64(n) => n.checked_add(1).map(Value::I64),
        _ => return version_number(table, c, v).map(Value::I64),
    };
    next.ok_or_else(|| {
        Error::invalid_request(format!(
            "the version column {}.{} is at its type's largest value",
            table.name,
            table.columns.get(c).map_or("?", |c| c.name)
        ))
    })
}
