//! Persistence: the INSERT, UPDATE and DELETE statements a flush sends for one table, and the
//! recovery of generated keys (SQLAlchemy's `orm/persistence.py`).

use super::events::Hook;
use super::identity::{Key, KeyPart};
use super::state::{Erased, ObjectState};
use super::{Inner, SQL_UPDATE};
use athanor_core::dialect::{BatchUpdate, KeyRecovery};
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
        let mut sql_cache: HashMap<(bool, usize, bool), String> = HashMap::new();
        // KeyRecovery::LastInsertIdLast: what the dialect's probe found (once, at the first row
        // needing a key), with the largest key before the next INSERT.
        let mut last_id: Option<LastId> = None;
        let mut keyed_batches = 0usize;
        let mut start = 0;
        while start < items.len() {
            let needs = needs_key(items[start])?;
            let ncols = if needs { ncols_all - 1 } else { ncols_all };
            // The probe runs after the first INSERT that needs keys (sent with RETURNING): the
            // transaction then holds SQLite's write lock, so the probe's read neither makes the
            // INSERT fail to take the lock (a transaction that has read cannot wait for it) nor
            // sees a largest key another writer could move. A table's rows that fit one INSERT
            // are not probed at all.
            if needs && recovery == KeyRecovery::LastInsertIdLast && last_id.is_none() && keyed_batches > 0 {
                let mut needing = 0usize;
                for i in &items[start..] {
                    needing += usize::from(needs_key(i)?);
                }
                last_id = Some(self.probe_last_id(table, auto.unwrap_or(0), needing)?);
            }
            // Keys recovered from LAST_INSERT_ID need consecutive keys for a multi-row INSERT.
            let per_row = needs
                && (recovery == KeyRecovery::LastInsertIdPerRow
                    || (recovery == KeyRecovery::LastInsertIdLast && last_id == Some(LastId::OneByOne)));
            let max_rows = if multi && ncols > 0 && !per_row { (max_params / ncols).clamp(1, 500) } else { 1 };
            let mut end = start + 1;
            while end < items.len() && end - start < max_rows && needs_key(items[end])? == needs {
                end += 1;
            }
            let batch = &items[start..end];
            let by_last_id = matches!(last_id, Some(LastId::Safe(_)));
            let returning = (needs
                && (recovery == KeyRecovery::Returning || (recovery == KeyRecovery::LastInsertIdLast && !by_last_id)))
                .then(|| table.columns[auto.unwrap_or(0)].name);
            let key = (needs, batch.len(), returning.is_some());
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
                        let id = conn.last_insert_id()?.ok_or_else(|| {
                            Error::invalid_request(format!("the database reported no generated key for {}", table.name))
                        })?;
                        let n = batch.len() as i64;
                        let first = match last_id {
                            // The last row's key; the rows before it precede it consecutively,
                            // above the largest key before the INSERT.
                            Some(LastId::Safe(before)) => {
                                let first = id - (n - 1);
                                if first <= before {
                                    return Err(Error::invalid_request(format!(
                                        "the keys of an INSERT of {n} rows into {} ending at {id} do not follow the \
                                         largest key before it ({before})",
                                        table.name
                                    )));
                                }
                                last_id = Some(LastId::Safe(id));
                                first
                            }
                            _ => id,
                        };
                        keys.extend((0..n).map(|k| first + k));
                    }
                }
            }
            if needs {
                keyed_batches += 1;
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

    /// For [`KeyRecovery::LastInsertIdLast`]: how the keys of `rows` new rows of `table` come
    /// back, from the dialect's probe ([`LastId`]).
    fn probe_last_id(&mut self, table: &'static TableDef, key: usize, rows: usize) -> Result<LastId> {
        let engine = self.engine.clone();
        let Some(probe) = engine.dialect().key_recovery_probe(table, key)? else { return Ok(LastId::Returning) };
        let mut found: Option<(bool, Option<i64>)> = None;
        let params = [ValueRef::Text(table.name), ValueRef::Text(table.columns[key].name)];
        self.conn()?.query_refs(&probe, &params, &mut |row| {
            let safe = i64::from_value(row.get(0)?)? == 1;
            let max = Option::<i64>::from_value(row.get(1)?)?;
            found = Some((safe, max));
            Ok(())
        })?;
        let Some((safe, max)) = found else { return Ok(LastId::Returning) };
        let max = max.unwrap_or(0);
        let room = i64::try_from(rows).ok().and_then(|n| max.checked_add(n)).is_some();
        Ok(match (room, safe) {
            (true, true) => LastId::Safe(max),
            (true, false) => LastId::Returning,
            // Past i64::MAX SQLite picks random free keys: one row per INSERT, each exact.
            (false, _) => LastId::OneByOne,
        })
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

    /// The UPDATE of one changed object (`hooked`: its `on_before_update` hooks already ran).
    pub(super) fn update_one(&mut self, table: &'static TableDef, i: &dyn Erased, hooked: bool) -> Result<()> {
        let mut meta = i.meta().borrow_mut();
        if meta.state != ObjectState::Persistent || !meta.listed_modified {
            meta.listed_modified = false;
            return Ok(());
        }
        if !hooked && self.events.has_model_hooks() {
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

    /// The UPDATEs of a table's changed objects (in the order they were listed): their
    /// `on_before_update` hooks first, one object at a time; then the objects grouped by the
    /// set of columns they changed (groups in the order of their first object, objects in
    /// order within a group), each group sent in batches as [`Capabilities::batch_update`]
    /// says. An object with a column set to an SQL expression (`Handle::set_expr`), and every
    /// object of a table of more than 64 columns, gets an UPDATE of its own, before the batches.
    ///
    /// [`Capabilities::batch_update`]: athanor_core::Capabilities::batch_update
    pub(super) fn update_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
        let ncols = table.columns.len();
        if items.len() < 2 || ncols > 64 {
            for i in items {
                self.update_one(table, &***i, false)?;
            }
            return Ok(());
        }
        let hooks = self.events.has_model_hooks();
        let mut live: Vec<&Rc<dyn Erased>> = Vec::with_capacity(items.len());
        for i in items {
            {
                let mut meta = i.meta().borrow_mut();
                if meta.state != ObjectState::Persistent || !meta.listed_modified {
                    meta.listed_modified = false;
                    continue;
                }
            }
            if hooks {
                self.events.on_instance(Hook::Update, &***i)?;
            }
            if !i.meta().borrow().exprs.is_empty() {
                self.update_one(table, &***i, true)?;
                continue;
            }
            live.push(i);
        }
        let mut rows: Vec<Pending<'_>> = Vec::with_capacity(live.len());
        for i in live {
            if let Some(p) = pending_update(table, i)? {
                rows.push(p);
            }
        }
        // Groups by changed-column set, in the order of their first object.
        let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
        for (n, r) in rows.iter().enumerate() {
            match groups.iter_mut().find(|g| g.0 == r.mask) {
                Some(g) => g.1.push(n),
                None => groups.push((r.mask, vec![n])),
            }
        }
        let engine = self.engine.clone();
        let caps = self.conn.as_ref().map_or(engine.capabilities(), Connection::capabilities);
        let form = caps.batch_update;
        let max_params = caps.max_bind_params;
        let version = rows.first().and_then(|r| r.i.version_column());
        let npk = table.primary_key().count();
        for (mask, members) in &groups {
            let columns: Vec<usize> = (0..ncols).filter(|&c| mask & (1u64 << c) != 0).collect();
            let shape = sql::BatchShape { columns: &columns, version };
            let slots = shape.slots(table);
            let per_stmt = match form {
                BatchUpdate::PerRow => members.len(),
                BatchUpdate::ReturningKeys => (max_params / slots.max(1)).clamp(1, 500),
                // A CASE is evaluated WHEN by WHEN: keep its lists short.
                BatchUpdate::MatchedCount => (max_params / (slots + (columns.len() + 1) * npk).max(1)).clamp(1, 100),
            };
            let group: Vec<&Pending<'_>> = members.iter().map(|&n| &rows[n]).collect();
            for chunk in group.chunks(per_stmt.max(1)) {
                self.update_batch(table, form, &shape, *mask, chunk)?;
            }
        }
        Ok(())
    }

    /// One batch of [`Inner::update_group`]: objects that changed the columns of `shape`.
    fn update_batch(
        &mut self,
        table: &'static TableDef,
        form: BatchUpdate,
        shape: &sql::BatchShape<'_>,
        mask: u64,
        chunk: &[&Pending<'_>],
    ) -> Result<()> {
        let engine = self.engine.clone();
        let ncols = table.columns.len();
        let single = || {
            engine.cached_sql_variant(table, SQL_UPDATE, mask, |d| {
                let columns: Vec<usize> = (0..ncols).filter(|&c| mask & (1u64 << c) != 0).collect();
                Ok(sql::update_row(
                    d,
                    table,
                    &sql::RowUpdate { columns: &columns, version: shape.version, ..Default::default() },
                )?
                .sql)
            })
        };
        let slots = shape.slots(table);
        let counts: Vec<u64>;
        {
            let values = chunk.iter().map(|p| p.i.values()).collect::<Result<Vec<_>>>()?;
            // Each row's slots (the single-row UPDATE's parameters).
            let mut row_params: Vec<ValueRef<'_>> = Vec::with_capacity(chunk.len() * slots);
            for (p, v) in chunk.iter().zip(&values) {
                row_params.extend(shape.columns.iter().map(|&c| v.value_at(c)));
                if let Some((_, next, _)) = &p.read {
                    row_params.push(next.as_ref());
                }
                row_params.extend(p.key.params());
                if let Some((_, _, at)) = &p.read {
                    row_params.push(at.as_ref());
                }
            }
            counts = if chunk.len() == 1 || form == BatchUpdate::PerRow {
                let sql = single()?;
                let conn = self.conn()?;
                if chunk.len() == 1 {
                    vec![conn.execute_refs(&sql, &row_params)?]
                } else {
                    conn.execute_each_refs(&sql, &row_params, slots)?
                }
            } else {
                let st = engine.dialect().write_update_batch(table, shape, chunk.len())?;
                let params: Vec<ValueRef<'_>> =
                    st.slots.iter().map(|&(r, s)| row_params[r as usize * slots + s as usize]).collect();
                match form {
                    BatchUpdate::ReturningKeys => {
                        let pk: Vec<usize> = table.primary_key().collect();
                        let mut matched: std::collections::HashSet<Key> = std::collections::HashSet::new();
                        self.conn()?.query_refs(&st.sql, &params, &mut |row| {
                            let key = Key::build(table, |c| {
                                let at = pk.iter().position(|&k| k == c).unwrap_or(0);
                                row.get(at)
                            })?;
                            matched.insert(key);
                            Ok(())
                        })?;
                        chunk.iter().map(|p| u64::from(matched.contains(&p.key))).collect()
                    }
                    _ => {
                        const SAVEPOINT: &str = "athanor_update_batch";
                        let conn = self.conn()?;
                        conn.savepoint(SAVEPOINT)?;
                        let n = conn.execute_refs(&st.sql, &params)?;
                        if n as usize == chunk.len() {
                            conn.release_savepoint(SAVEPOINT)?;
                            vec![1; chunk.len()]
                        } else {
                            // Which rows did not match: undo the batch, run its rows one by one.
                            conn.rollback_to_savepoint(SAVEPOINT)?;
                            conn.release_savepoint(SAVEPOINT)?;
                            let sql = single()?;
                            let mut counts = Vec::with_capacity(chunk.len());
                            for row in row_params.chunks(slots) {
                                let n = conn.execute_refs(&sql, row)?;
                                counts.push(n);
                                if n != 1 {
                                    break;
                                }
                            }
                            counts
                        }
                    }
                }
            };
        }
        let stale: Vec<(&Pending<'_>, u64)> =
            chunk.iter().zip(&counts).filter(|(_, &n)| n != 1).map(|(p, &n)| (*p, n)).collect();
        if let Some((first, n)) = stale.first() {
            let (expected, matched) = if chunk.len() == 1 || form != BatchUpdate::ReturningKeys {
                (1, *n)
            } else {
                (chunk.len() as u64, counts.iter().filter(|&&n| n == 1).count() as u64)
            };
            let key = if form == BatchUpdate::ReturningKeys {
                stale.iter().map(|(p, _)| p.key.to_string()).collect::<Vec<_>>().join(", ")
            } else {
                first.key.to_string()
            };
            return Err(Error::StaleData {
                model: table.rust_name,
                table: table.name.to_string(),
                key,
                version: first.read.as_ref().map(|(read, _, _)| *read),
                expected,
                matched,
            });
        }
        for p in chunk {
            p.i.clear_snapshot();
            p.i.settle_stored();
            if let (Some(c), Some((_, next, _))) = (shape.version, &p.read) {
                p.i.store_column(c, next.as_ref())?;
            }
            p.i.meta().borrow_mut().listed_modified = false;
        }
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

/// How [`KeyRecovery::LastInsertIdLast`] recovers the keys of one flush's rows of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastId {
    /// The table is safe (see `Dialect::key_recovery_probe`) and the new keys stay below
    /// `i64::MAX`: the last-insert id is the last row's, the others precede it; the largest key
    /// before the next INSERT.
    Safe(i64),
    /// A trigger on the table, or a key that is not the rowid alias: `INSERT … RETURNING`.
    Returning,
    /// The new keys could pass `i64::MAX`, where SQLite picks random free keys that need not
    /// follow the order of the rows: one row per INSERT, its key by `RETURNING`.
    OneByOne,
}

/// One changed object of a batched UPDATE: its changed columns (as a bit mask), its key, and
/// with a version column the version read (as a number), the next one and the one read (as
/// its field binds it).
pub(super) struct Pending<'a> {
    i: &'a Rc<dyn Erased>,
    key: Key,
    mask: u64,
    read: Option<(i64, athanor_core::value::Value, athanor_core::value::Value)>,
}

/// What one object of a table of at most 64 columns without SQL expressions changed; `None`
/// (and its snapshot cleared) when nothing did. The checks of [`Inner::update_one`].
fn pending_update<'a>(table: &'static TableDef, i: &'a Rc<dyn Erased>) -> Result<Option<Pending<'a>>> {
    let v = i.values()?;
    let snap = i.snapshot()?;
    let version = i.version_column();
    let mut mask = 0u64;
    for c in 0..table.columns.len() {
        let changed = snap.as_ref().is_some_and(|s| !v.value_at(c).same_as(s.value_at(c)));
        if changed && Some(c) == version {
            return Err(Error::invalid_request(format!(
                "the version column {}.{} of a persistent {} was changed by an edit; the flush writes it \
                 (the version read plus one): leave it alone",
                table.name, table.columns[c].name, table.rust_name
            )));
        }
        if changed {
            mask |= 1u64 << c;
        }
    }
    let key = i.meta().borrow().key.clone().ok_or_else(|| Error::invalid_request("persistent object without a key"))?;
    if i.compute_key()? != key {
        return Err(Error::invalid_request(format!(
            "the primary key of a persistent {} was changed from {key}; delete and add instead",
            table.rust_name
        )));
    }
    if mask == 0 {
        drop(snap);
        drop(v);
        i.clear_snapshot();
        i.meta().borrow_mut().listed_modified = false;
        return Ok(None);
    }
    let read = match version {
        Some(c) => {
            let at = snap.as_ref().map_or(v.value_at(c), |s| s.value_at(c));
            Some((version_number(table, c, at)?, next_version(table, c, at)?, at.to_owned()))
        }
        None => None,
    };
    Ok(Some(Pending { i, key, mask, read }))
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
