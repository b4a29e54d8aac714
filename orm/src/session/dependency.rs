//! Relationships in the flush (SQLAlchemy's `orm/dependency.py`): the changed relationship
//! fields become foreign-key values to write ("sync intents"), association rows to insert or
//! delete, and cascaded deletes; `unit_of_work.rs` applies the intents table by table, inserting
//! rows of one table in waves where they reference each other, and writing a foreign key with a
//! later UPDATE where a cycle leaves no other order (`post_update`).

use super::collections::AnyHandle;
use super::state::{Erased, ObjectState};
use super::Session;
use crate::relation::{RelationKind, RelationshipDef};
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::value::Value;
use std::collections::HashSet;
use std::rc::{Rc, Weak};

/// Where a foreign-key value comes from.
pub(super) enum Source {
    /// Column `.1` of the related object (its key, known once it is inserted).
    From(Rc<dyn Erased>, usize),
    /// NULL (the relationship was cleared).
    Null,
    /// NULL if the column still holds column `.1` of this former parent (a child removed from
    /// its collection and not moved elsewhere).
    NullIfOwner(Rc<dyn Erased>, usize),
}

/// Write `source` into column `col` of `child` before `child`'s table is written.
pub(super) struct Intent {
    pub(super) child: Rc<dyn Erased>,
    pub(super) col: usize,
    pub(super) source: Source,
}

/// An association row to insert (`delta > 0`) or delete (`delta < 0`); both sides of a
/// two-way many-to-many may record the same change, so they are summed per row.
pub(super) struct PairOp {
    pub(super) table: &'static TableDef,
    /// The objects the association's columns 0 and 1 reference, and the referenced column.
    pub(super) ends: [(Rc<dyn Erased>, usize); 2],
    pub(super) delta: i32,
}

/// What the relationships ask of one flush.
#[derive(Default)]
pub(super) struct SyncPlan {
    pub(super) intents: Vec<Intent>,
    pub(super) pairs: Vec<PairOp>,
    /// Association rows of deleted objects: `DELETE FROM table WHERE column IN (keys)`.
    pub(super) assoc_deletes: Vec<(&'static TableDef, usize, Value)>,
}

fn minus(a: &[AnyHandle], b: &[AnyHandle]) -> Vec<AnyHandle> {
    a.iter().filter(|x| !b.iter().any(|y| y.ptr_eq(x))).cloned().collect()
}

fn members(owner: &dyn Erased, idx: usize) -> Result<Option<Vec<AnyHandle>>> {
    let mut out = None;
    owner.with_relation(idx, &mut |f| {
        if f.is_loaded() {
            out = Some(f.members());
        }
    })?;
    Ok(out)
}

fn in_session(i: &dyn Erased) -> bool {
    matches!(i.meta().borrow().state, ObjectState::Pending | ObjectState::Persistent)
}

/// The association row's ends for `owner` and `other` through `rel`, in column order.
fn pair(rel: &RelationshipDef, owner: &Rc<dyn Erased>, other: &Rc<dyn Erased>) -> [(Rc<dyn Erased>, usize); 2] {
    let mine = (owner.clone(), rel.local);
    let theirs = (other.clone(), rel.remote);
    if rel.secondary_local == 0 {
        [mine, theirs]
    } else {
        [theirs, mine]
    }
}

impl Session {
    /// Turn the relationship changes since the last flush into a [`SyncPlan`], and cascade
    /// deletes (which may load the children of a deleted object: one SELECT per relationship
    /// that is not loaded).
    pub(super) fn plan_relationships(&self) -> Result<SyncPlan> {
        let (dirty, deferred) = {
            let mut inner = self.inner();
            inner.dirty_index.clear();
            (std::mem::take(&mut inner.dirty_rels), inner.deferred_error.take())
        };
        let r = match deferred {
            Some(e) => Err(e),
            None => self.plan_dirty(&dirty),
        };
        if r.is_err() {
            // Nothing was written: keep the changes for the next flush, once the cause is fixed.
            let mut inner = self.inner();
            for d in &dirty {
                inner.dirty_index.insert((Rc::as_ptr(&d.owner) as *const () as usize, d.idx));
            }
            let later = std::mem::replace(&mut inner.dirty_rels, dirty);
            inner.dirty_rels.extend(later);
        }
        r
    }

    fn plan_dirty(&self, dirty: &[super::graph::DirtyRel]) -> Result<SyncPlan> {
        let mut plan = SyncPlan::default();
        let mut orphans: Vec<(AnyHandle, Rc<dyn Erased>, usize)> = Vec::new();
        for d in dirty {
            if !in_session(&*d.owner) || d.owner.meta().borrow().state == ObjectState::Deleted {
                continue;
            }
            let rel = &d.owner.relationships()[d.idx];
            let Some(current) = members(&*d.owner, d.idx)? else { continue };
            for m in &current {
                if !in_session(&*m.0) || !self.owns(&m.0.meta().borrow()) {
                    return Err(Error::invalid_request(format!(
                        "{} holds a {} that is not in this session (of another session, detached or deleted)",
                        rel.describe(),
                        m.0.table().rust_name
                    )));
                }
            }
            match rel.kind {
                RelationKind::OneToMany => {
                    for m in minus(&d.original, &current) {
                        if rel.cascade.delete_orphan {
                            orphans.push((m.clone(), d.owner.clone(), rel.remote));
                        }
                        plan.intents.push(Intent {
                            child: m.0.clone(),
                            col: rel.remote,
                            source: Source::NullIfOwner(d.owner.clone(), rel.local),
                        });
                    }
                    for m in &current {
                        plan.intents.push(Intent {
                            child: m.0.clone(),
                            col: rel.remote,
                            source: Source::From(d.owner.clone(), rel.local),
                        });
                    }
                }
                RelationKind::ManyToOne => {
                    let source = match current.first() {
                        Some(p) => Source::From(p.0.clone(), rel.remote),
                        None => Source::Null,
                    };
                    plan.intents.push(Intent { child: d.owner.clone(), col: rel.local, source });
                }
                RelationKind::ManyToMany => {
                    let Some(table) = rel.secondary else { continue };
                    for (list, delta) in [(minus(&current, &d.original), 1), (minus(&d.original, &current), -1)] {
                        for m in list {
                            plan.pairs.push(PairOp { table, ends: pair(rel, &d.owner, &m.0), delta });
                        }
                    }
                }
            }
        }
        // delete-orphan: a removed child that no later change gave another parent.
        for (m, owner, col) in orphans {
            let last = plan.intents.iter().rev().find(|i| Rc::ptr_eq(&i.child, &m.0) && i.col == col);
            let orphaned =
                matches!(last, Some(Intent { source: Source::NullIfOwner(o, _), .. }) if Rc::ptr_eq(o, &owner));
            if orphaned {
                plan.intents.retain(|i| !Rc::ptr_eq(&i.child, &m.0));
                self.delete_erased(&m.0);
            }
        }
        self.cascade_deletes(&mut plan)?;
        Ok(plan)
    }

    /// Mark an object of this session deleted (a pending one becomes transient).
    fn delete_erased(&self, i: &Rc<dyn Erased>) {
        let state = i.meta().borrow().state;
        match state {
            ObjectState::Persistent => {
                i.meta().borrow_mut().state = ObjectState::Deleted;
                self.inner().deleted.push(i.clone());
            }
            ObjectState::Pending => {
                {
                    let mut m = i.meta().borrow_mut();
                    m.state = ObjectState::Transient;
                    m.session = Weak::new();
                }
                self.inner().new.retain(|x| !Rc::ptr_eq(x, i));
            }
            _ => {}
        }
    }

    /// Follow `delete` cascades from every object marked deleted, null out the foreign keys of
    /// children left behind (nullable keys only: a NOT NULL key makes the database refuse the
    /// parent's DELETE, naming the constraint), and drop their association rows. Level by level:
    /// the children a level needs that are not loaded come in one `IN` query per relationship.
    fn cascade_deletes(&self, plan: &mut SyncPlan) -> Result<()> {
        let mut level: Vec<Rc<dyn Erased>> = self.inner().deleted.clone();
        let mut seen: HashSet<usize> = level.iter().map(|i| Rc::as_ptr(i) as *const () as usize).collect();
        while !level.is_empty() {
            let mut next = Vec::new();
            // Group the level by model: one load per (model, relationship).
            let mut models: Vec<&'static TableDef> = Vec::new();
            for d in &level {
                if !models.iter().any(|t| t.name == d.table().name) {
                    models.push(d.table());
                }
            }
            for table in models {
                let group: Vec<&Rc<dyn Erased>> = level.iter().filter(|d| d.table().name == table.name).collect();
                let rels = group[0].relationships();
                for (idx, rel) in rels.iter().enumerate() {
                    match rel.kind {
                        RelationKind::ManyToOne => {}
                        RelationKind::ManyToMany => {
                            let Some(assoc) = rel.secondary else { continue };
                            for d in &group {
                                let key = d.column(rel.local)?;
                                if !matches!(key, Value::Null) {
                                    plan.assoc_deletes.push((assoc, rel.secondary_local, key));
                                }
                                plan.pairs.retain(|p| !p.ends.iter().any(|(e, _)| Rc::ptr_eq(e, d)));
                            }
                        }
                        RelationKind::OneToMany => {
                            let target = rel.target.table();
                            let nullable = target.columns.get(rel.remote).is_some_and(|c| c.nullable);
                            if !rel.cascade.delete && !nullable {
                                continue;
                            }
                            let need: Vec<AnyHandle> = group
                                .iter()
                                .filter(|d| d.meta().borrow().expired || members(&****d, idx).ok().flatten().is_none())
                                .map(|d| AnyHandle((*d).clone()))
                                .collect();
                            self.load_related_many(rel, idx, &need)?;
                            for d in &group {
                                for c in members(&***d, idx)?.unwrap_or_default() {
                                    if rel.cascade.delete {
                                        let state = c.0.meta().borrow().state;
                                        if state == ObjectState::Persistent || state == ObjectState::Pending {
                                            self.delete_erased(&c.0);
                                            plan.intents.retain(|i| !Rc::ptr_eq(&i.child, &c.0));
                                            if seen.insert(c.addr()) && state == ObjectState::Persistent {
                                                next.push(c.0.clone());
                                            }
                                        }
                                    } else if c.0.meta().borrow().state != ObjectState::Deleted {
                                        plan.intents.push(Intent {
                                            child: c.0.clone(),
                                            col: rel.remote,
                                            source: Source::NullIfOwner((*d).clone(), rel.local),
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
            level = next;
        }
        plan.intents.retain(|i| i.child.meta().borrow().state != ObjectState::Deleted);
        Ok(())
    }
}

impl Intent {
    /// The value to write now, `Ok(None)` when nothing is to be written, or `Err(())` when the
    /// related object is not inserted yet.
    pub(super) fn value(&self) -> Result<std::result::Result<Option<Value>, ()>> {
        Ok(Ok(match &self.source {
            Source::Null => Some(Value::Null),
            Source::From(p, col) => {
                if p.meta().borrow().state == ObjectState::Pending {
                    return Ok(Err(()));
                }
                Some(p.column(*col)?)
            }
            Source::NullIfOwner(o, col) => {
                if o.meta().borrow().state == ObjectState::Pending {
                    None
                } else {
                    let held = self.child.column(self.col)?;
                    let owner = o.column(*col)?;
                    (!matches!(held, Value::Null) && held.as_ref().same_as(owner.as_ref())).then_some(Value::Null)
                }
            }
        }))
    }

    /// The object this intent waits for, while it is pending.
    pub(super) fn waits_for(&self) -> Option<&Rc<dyn Erased>> {
        match &self.source {
            Source::From(p, _) if p.meta().borrow().state == ObjectState::Pending => Some(p),
            _ => None,
        }
    }
}
