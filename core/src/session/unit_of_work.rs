//! The unit of work: which tables a flush touches and in what order (parents before children
//! for inserts and updates, the reverse for deletes), and what happens to the objects when a
//! step fails (SQLAlchemy's `orm/unitofwork.py`).

use super::*;
use crate::error::Result;
use crate::metadata::sort_by_dependencies;
use crate::schema::TableDef;
use std::rc::Rc;

impl Inner {
    /// The unit of work: inserts and updates per table in foreign-key order, then deletes in
    /// reverse order.
    pub(super) fn flush(&mut self, modified: &[Rc<dyn Erased>]) -> Result<()> {
        let mut tables: Vec<&'static TableDef> = Vec::new();
        let mut note = |t: &'static TableDef| {
            if !tables.iter().any(|x| x.name == t.name) {
                tables.push(t);
            }
        };
        self.new.iter().for_each(|i| note(i.table()));
        modified.iter().for_each(|i| note(i.table()));
        self.deleted.iter().for_each(|i| note(i.table()));
        let order = sort_by_dependencies(&tables)?;

        let new = std::mem::take(&mut self.new);
        let r = self.flush_writes(&order, &new, modified);
        match r {
            Ok(()) => {}
            Err(e) => {
                // Objects not yet inserted stay pending; rollback() makes them all transient.
                let flushed: Vec<Rc<dyn Erased>> =
                    new.into_iter().filter(|i| i.meta().borrow().state == ObjectState::Pending).collect();
                self.new = flushed;
                return Err(e);
            }
        }
        let deleted = std::mem::take(&mut self.deleted);
        for table in order.iter().rev() {
            let group: Vec<&Rc<dyn Erased>> = deleted.iter().filter(|i| i.table().name == table.name).collect();
            if !group.is_empty() {
                if let Err(e) = self.delete_group(table, &group) {
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

    pub(super) fn flush_writes(
        &mut self,
        order: &[&'static TableDef],
        new: &[Rc<dyn Erased>],
        modified: &[Rc<dyn Erased>],
    ) -> Result<()> {
        for table in order {
            let inserts: Vec<&Rc<dyn Erased>> = new.iter().filter(|i| i.table().name == table.name).collect();
            if !inserts.is_empty() {
                self.insert_group(table, &inserts).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
            }
            for i in modified.iter().filter(|i| i.table().name == table.name) {
                self.update_one(table, &**i).map_err(|e| enrich(e, self.engine.dialect(), table, true))?;
            }
        }
        Ok(())
    }
}
