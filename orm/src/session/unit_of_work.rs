//! The unit of work: which tables a flush touches and in what order (parents before children
//! for inserts and updates, the reverse for deletes), the foreign keys it writes from related
//! objects first, and what happens to the objects when a step fails (SQLAlchemy's
//! `orm/unitofwork.py`).
//!
//! Per table, in foreign-key order: the table's sync intents are applied (foreign keys from
//! related objects, see `dependency.rs`), its new rows inserted — in waves when rows of the
//! table reference each other (a tree: parents first) — and its changed rows updated. A foreign
//! key whose related row cannot be inserted first (a cycle) is inserted as NULL and written by
//! an UPDATE once the related row exists (SQLAlchemy's `post_update`, chosen automatically for
//! a nullable key). Then association rows, then deletes in reverse order (children first,
//! again in waves within a self-referencing table).

use super::dependency::{Intent, SyncPlan};
use super::integrity::enrich;
use super::state::{Erased, ObjectState};
use super::Inner;
use athanor_core::catalog::sort_for_flush;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::sql;
use athanor_core::value::{Value, ValueRef};
use std::rc::Rc;

fn is(a: &Rc<dyn Erased>, b: &Rc<dyn Erased>) -> bool {
    Rc::ptr_eq(a, b)
}

impl Inner {
    /// The unit of work: inserts and updates per table in foreign-key order, then deletes in
    /// reverse order.
    pub(super) fn flush(&mut self, modified: &[Rc<dyn Erased>], plan: SyncPlan) -> Result<()> {
        let mut tables: Vec<&'static TableDef> = Vec::new();
        let mut note = |t: &'static TableDef| {
            if !tables.iter().any(|x| x.name == t.name) {
                tables.push(t);
            }
        };
        self.new.iter().for_each(|i| note(i.table()));
        modified.iter().for_each(|i| note(i.table()));
        self.deleted.iter().for_each(|i| note(i.table()));
        plan.intents.iter().for_each(|i| note(i.child.table()));
        let order = sort_for_flush(&tables)?;

        let new = std::mem::take(&mut self.new);
        let r = self.flush_writes(&order, &new, modified, plan);
        let plan = match r {
            Ok(plan) => plan,
            Err(e) => {
                // Objects not yet inserted stay pending; rollback() makes them all transient.
                let flushed: Vec<Rc<dyn Erased>> =
                    new.into_iter().filter(|i| i.meta().borrow().state == ObjectState::Pending).collect();
                self.new = flushed;
                return Err(e);
            }
        };
        self.write_associations(&plan)?;
        let deleted = std::mem::take(&mut self.deleted);
        for table in order.iter().rev() {
            let group: Vec<&Rc<dyn Erased>> = deleted.iter().filter(|i| i.table().name == table.name).collect();
            if group.is_empty() {
                continue;
            }
            for wave in delete_waves(table, group)? {
                if let Err(e) = self.delete_group(table, &wave) {
                    self.deleted = deleted;
                    let e = enrich(e, self.engine.dialect(), table, false);
                    return Err(self.enrich_delete(e, table));
                }
            }
        }
        for i in deleted {
            let key = i.meta().borrow().key.clone();
            if let Some(k) = &key {
                self.identity.remove(i.model_type(), k);
            }
            self.deleted_in_tx.push(i);
        }
        Ok(())
    }

    /// Apply intents, insert and update, table by table; returns the plan's association work.
    fn flush_writes(
        &mut self,
        order: &[&'static TableDef],
        new: &[Rc<dyn Erased>],
        modified: &[Rc<dyn Erased>],
        mut plan: SyncPlan,
    ) -> Result<SyncPlan> {
        let intents = std::mem::take(&mut plan.intents);
        let mut later: Vec<&Intent> = Vec::new();
        let mut extra: Vec<Rc<dyn Erased>> = Vec::new();
        for table in order {
            let mine: Vec<&Intent> = intents.iter().filter(|i| i.child.table().name == table.name).collect();
            // Intents whose related object is already in the database: apply now.
            for i in &mine {
                if i.waits_for().is_none() {
                    apply(i, &mut extra)?;
                }
            }
            let mut waiting: Vec<&Intent> = mine.iter().copied().filter(|i| i.waits_for().is_some()).collect();
            let mut remaining: Vec<&Rc<dyn Erased>> = new.iter().filter(|i| i.table().name == table.name).collect();
            if waiting.is_empty() && !remaining.is_empty() {
                // Nothing waits for a row of this flush: one batch, as without relationships.
                self.insert_group(table, &remaining).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
                remaining.clear();
            }
            while !remaining.is_empty() {
                let blocked = |r: &Rc<dyn Erased>, waiting: &[&Intent]| {
                    waiting.iter().any(|i| is(&i.child, r) && i.waits_for().is_some())
                };
                let mut ready: Vec<&Rc<dyn Erased>> =
                    remaining.iter().copied().filter(|r| !blocked(r, &waiting)).collect();
                if ready.is_empty() {
                    // A cycle: insert with the key NULL, write it once the related row exists.
                    for i in waiting.iter().filter(|i| remaining.iter().any(|r| is(&i.child, r))) {
                        let col = &table.columns[i.col];
                        if !col.nullable {
                            return Err(Error::invalid_request(format!(
                                "the rows of this flush reference each other in a cycle through the NOT NULL \
                                 column {}.{}: make that foreign key nullable (it is then written by a later \
                                 UPDATE) or flush the related object first",
                                table.name, col.name
                            )));
                        }
                        i.child.set_column(i.col, ValueRef::Null)?;
                        later.push(i);
                    }
                    waiting.retain(|i| !later.iter().any(|l| std::ptr::eq(*l, *i)));
                    ready = remaining.clone();
                }
                for i in waiting.iter().filter(|i| ready.iter().any(|r| is(&i.child, r))) {
                    if i.waits_for().is_none() {
                        apply(i, &mut extra)?;
                    }
                }
                waiting.retain(|i| !ready.iter().any(|r| is(&i.child, r)));
                self.insert_group(table, &ready).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
                remaining.retain(|r| !ready.iter().any(|x| is(x, r)));
            }
            // Intents for rows already in the database whose related object was inserted
            // later in this flush (a cycle between tables).
            later.extend(waiting);
            let changed: Vec<&Rc<dyn Erased>> =
                modified.iter().chain(&extra).filter(|i| i.table().name == table.name).collect();
            self.update_group(table, &changed).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
        }
        // post_update: the foreign keys that had to wait for their related rows.
        let mut post: Vec<Rc<dyn Erased>> = Vec::new();
        for i in later {
            apply(i, &mut post)?;
            if !post.iter().any(|p| is(p, &i.child)) && i.child.meta().borrow().listed_modified {
                post.push(i.child.clone());
            }
        }
        for i in &post {
            let table = i.table();
            self.update_one(table, &**i, false).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
        }
        Ok(plan)
    }

    /// Association rows: those of deleted objects and removed pairs deleted, added pairs inserted.
    fn write_associations(&mut self, plan: &SyncPlan) -> Result<()> {
        let engine = self.engine.clone();
        let dialect = engine.dialect();
        // One DELETE … IN per association column, chunked under the bind limit.
        let mut done = vec![false; plan.assoc_deletes.len()];
        for i in 0..plan.assoc_deletes.len() {
            if done[i] {
                continue;
            }
            let (table, col, _) = &plan.assoc_deletes[i];
            let mut keys: Vec<ValueRef<'_>> = Vec::new();
            for (j, (t, c, k)) in plan.assoc_deletes.iter().enumerate().skip(i) {
                if t.name == table.name && c == col {
                    done[j] = true;
                    keys.push(k.as_ref());
                }
            }
            for chunk in keys.chunks(engine.capabilities().max_bind_params.clamp(1, 30_000)) {
                let sql = sql::delete_where_in(dialect, table, *col, chunk.len())?;
                self.conn()?.execute_refs(&sql, chunk)?;
            }
        }
        // Net change per row: both sides of a two-way relationship may have recorded it.
        type Net = (&'static TableDef, [Value; 2], i32);
        let mut net: Vec<Net> = Vec::new();
        let mut at: std::collections::HashMap<(&'static str, usize, usize), usize> = std::collections::HashMap::new();
        for p in &plan.pairs {
            let addr = |e: &Rc<dyn Erased>| Rc::as_ptr(e) as *const () as usize;
            let k = (p.table.name, addr(&p.ends[0].0), addr(&p.ends[1].0));
            match at.get(&k) {
                Some(&i) => net[i].2 += p.delta,
                None => {
                    let keys = [p.ends[0].0.column(p.ends[0].1)?, p.ends[1].0.column(p.ends[1].1)?];
                    at.insert(k, net.len());
                    net.push((p.table, keys, p.delta));
                }
            }
        }
        for (table, keys, _) in net.iter().filter(|n| n.2 < 0) {
            let sql = sql::delete(dialect, table, 1)?;
            self.conn()?.execute_refs(&sql, &[keys[0].as_ref(), keys[1].as_ref()])?;
        }
        let ins: Vec<(&'static TableDef, &[Value; 2])> = net.iter().filter(|n| n.2 > 0).map(|n| (n.0, &n.1)).collect();
        let caps = engine.capabilities();
        let per = if caps.multi_row_insert { (caps.max_bind_params / 2).clamp(1, 500) } else { 1 };
        let mut i = 0;
        while i < ins.len() {
            let table = ins[i].0;
            let mut j = i;
            while j < ins.len() && j - i < per && ins[j].0.name == table.name {
                j += 1;
            }
            let chunk = &ins[i..j];
            let sql = sql::insert(dialect, table, chunk.len(), false, None)?;
            let params: Vec<ValueRef<'_>> = chunk.iter().flat_map(|(_, k)| [k[0].as_ref(), k[1].as_ref()]).collect();
            self.conn()?.execute_refs(&sql, &params).map_err(|e| enrich(e, dialect, table, true))?;
            i = j;
        }
        Ok(())
    }
}

/// Apply an intent whose value is known; a persistent row it changes is listed for its UPDATE.
fn apply(i: &Intent, extra: &mut Vec<Rc<dyn Erased>>) -> Result<()> {
    let Ok(Some(v)) = i.value()? else { return Ok(()) };
    if i.child.set_column(i.col, v.as_ref())? {
        let mut m = i.child.meta().borrow_mut();
        if m.state == ObjectState::Persistent && !m.listed_modified {
            m.listed_modified = true;
            extra.push(i.child.clone());
        }
    }
    Ok(())
}

/// The deleted rows of one table in the order they can go: in a table that references itself,
/// rows no other remaining row references first (children before parents).
fn delete_waves<'a>(table: &TableDef, group: Vec<&'a Rc<dyn Erased>>) -> Result<Vec<Vec<&'a Rc<dyn Erased>>>> {
    let self_refs: Vec<(usize, usize)> = table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.foreign_key.filter(|fk| fk.table == table.name).map(|fk| (i, fk.column)))
        .filter_map(|(i, col)| table.column_index(col).map(|r| (i, r)))
        .collect();
    if self_refs.is_empty() || group.len() < 2 {
        return Ok(vec![group]);
    }
    let mut remaining = group;
    let mut waves = Vec::new();
    while !remaining.is_empty() {
        let mut wave = Vec::new();
        for r in &remaining {
            let mut referenced = false;
            for &(fk, col) in &self_refs {
                let mine = r.column(col)?;
                for o in remaining.iter().filter(|o| !Rc::ptr_eq(o, r)) {
                    let theirs = o.column(fk)?;
                    if !matches!(theirs, Value::Null) && theirs.as_ref().same_as(mine.as_ref()) {
                        referenced = true;
                    }
                }
            }
            if !referenced {
                wave.push(*r);
            }
        }
        if wave.is_empty() {
            // Rows that reference each other in a cycle: one statement, the database decides.
            waves.push(remaining);
            break;
        }
        remaining.retain(|r| !wave.iter().any(|w| Rc::ptr_eq(w, r)));
        waves.push(wave);
    }
    Ok(waves)
}
