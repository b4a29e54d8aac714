//! Persistence: the INSERT, UPDATE and DELETE statements a flush sends for one table, and the
//! recovery of generated keys (SQLAlchemy's `orm/persistence.py`).

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
        let v = i.values()?;
        let snap = i.snapshot()?;
        let key = meta.key.clone().ok_or_else(|| Error::invalid_request("persistent object without a key"))?;
        let ncols = table.columns.len();
        // The changed columns: as a bit mask (the statement cache's key) for tables of up to 64
        // columns, and their values as the first parameters.
        let mut mask = 0u64;
        let mut columns: Vec<usize> = Vec::new();
        let mut params: Vec<ValueRef<'_>> = Vec::with_capacity(ncols + 1);
        for c in 0..ncols {
            // Only what the edits changed, whatever the object's state: an untouched column is
            // never written (it may hold another transaction's committed change).
            let changed = snap.as_ref().is_some_and(|s| !v.value_at(c).same_as(s.value_at(c)));
            if changed {
                if ncols <= 64 {
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
        if params.is_empty() {
            drop(params);
            drop(snap);
            drop(v);
            i.clear_snapshot();
            meta.listed_modified = false;
            return Ok(());
        }
        // Rendered once per engine and column set for tables of up to 64 columns.
        let sql: std::sync::Arc<str> = if ncols <= 64 {
            self.engine.cached_sql_variant(table, SQL_UPDATE, mask, |d| {
                let columns: Vec<usize> = (0..ncols).filter(|&c| mask & (1u64 << c) != 0).collect();
                sql::update(d, table, &columns)
            })?
        } else {
            sql::update(self.engine.dialect(), table, &columns)?.into()
        };
        params.extend(key.params());
        let n = self.conn()?.execute_refs(&sql, &params)?;
        drop(params);
        drop(snap);
        drop(v);
        if n != 1 {
            return Err(Error::StaleData {
                table: table.name.to_string(),
                key: key.to_string(),
                expected: 1,
                matched: n,
            });
        }
        i.clear_snapshot();
        i.settle_stored();
        meta.listed_modified = false;
        Ok(())
    }

    pub(super) fn delete_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
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
}
