//! The object graph in memory: what an edit changed in an object's relationship fields, the
//! other side kept in step (`back_populates`), the `save-update` cascade, and the record of
//! changed relationships the next flush turns into foreign-key values and association rows
//! (SQLAlchemy's backref events and `cascade_iterator`).

use super::collections::AnyHandle;
use super::identity::Key;
use super::state::{Erased, Instance, ObjectState};
use super::Session;
use crate::model::Model;
use crate::relation::{RelationKind, RelationshipDef};
use athanor_core::error::{Error, Result};
use athanor_core::value::Value;
use std::rc::Rc;

/// A relationship field an edit (or `add`) changed since the last flush: the flush compares
/// the field's contents then with `original`, its contents when first changed.
pub(super) struct DirtyRel {
    pub(super) owner: Rc<dyn Erased>,
    pub(super) idx: usize,
    pub(super) original: Vec<AnyHandle>,
}

/// One relationship field's change by an edit.
pub(super) struct RelDiff {
    pub(super) idx: usize,
    pub(super) before: Vec<AnyHandle>,
    pub(super) added: Vec<AnyHandle>,
    pub(super) removed: Vec<AnyHandle>,
    /// Loaded state or contents differ.
    pub(super) changed_unloaded: bool,
}

fn minus(a: &[AnyHandle], b: &[AnyHandle]) -> Vec<AnyHandle> {
    a.iter().filter(|x| !b.iter().any(|y| y.ptr_eq(x))).cloned().collect()
}

/// What changed between `old` and `new` in relationship fields.
pub(super) fn diff<M: Model>(old: &M, new: &M) -> Vec<RelDiff> {
    let mut out = Vec::new();
    for idx in 0..M::RELATIONSHIPS.len() {
        let (Some(o), Some(n)) = (old.relationship(idx), new.relationship(idx)) else { continue };
        let (before, after) = (o.members(), n.members());
        let same = o.is_loaded() == n.is_loaded()
            && before.len() == after.len()
            && before.iter().zip(&after).all(|(a, b)| a.ptr_eq(b));
        if same {
            continue;
        }
        // Only a loaded field carries a change (an unloaded one after `reset` by a rollback).
        if !n.is_loaded() {
            continue;
        }
        out.push(RelDiff {
            idx,
            added: minus(&after, &before),
            removed: minus(&before, &after),
            before,
            changed_unloaded: n.changed_unloaded(),
        });
    }
    out
}

fn object_error(what: &str, member: &dyn Erased, rel: &RelationshipDef) -> Error {
    Error::invalid_request(format!(
        "cannot relate a {} {what} through {}; the edit was discarded",
        member.table().rust_name,
        rel.describe()
    ))
}

/// Refuse an edit whose relationship changes cannot be honoured (nothing has changed yet):
/// an object of another session, a detached or deleted one, a change to a collection of a
/// persistent object that was never loaded, or an object whose other side is borrowed.
pub(super) fn check_edit<M: Model>(owner: &Instance<M>, new: &mut M, diffs: &[RelDiff]) -> Result<()> {
    let (state, session) = {
        let m = owner.meta.borrow();
        (m.state, m.session.upgrade())
    };
    for d in diffs {
        let rel = &M::RELATIONSHIPS[d.idx];
        if state == ObjectState::Detached {
            // No session records the change for a flush, and the other side may be in one:
            // attach the object first (SQLAlchemy's DetachedInstanceError).
            return Err(Error::DetachedInstance {
                model: M::TABLE.rust_name,
                operation: format!("change {}; the edit was discarded", rel.describe()),
            });
        }
        if d.changed_unloaded {
            if state == ObjectState::Persistent {
                return Err(Error::invalid_request(format!(
                    "{} was changed but never loaded; load it first with session.related(&h, {}::{}) \
                     (the change would otherwise replace what the database holds); the edit was discarded",
                    rel.describe(),
                    M::TABLE.rust_name,
                    rel.name
                )));
            }
            if let Some(r) = new.relationship_mut(d.idx) {
                r.settle();
            }
        }
        for m in &d.added {
            let meta = m.0.meta().try_borrow().map_err(|_| object_error("being changed", &*m.0, rel))?;
            let theirs = meta.session.upgrade();
            match meta.state {
                ObjectState::Detached => {
                    return Err(Error::DetachedInstance {
                        model: m.0.table().rust_name,
                        operation: format!("be related through {}; the edit was discarded", rel.describe()),
                    })
                }
                ObjectState::Deleted => return Err(object_error("that is deleted", &*m.0, rel)),
                ObjectState::Transient if session.is_some() && !rel.cascade.save_update => {
                    return Err(object_error(
                        "that is in no session (and the relationship has no save-update cascade)",
                        &*m.0,
                        rel,
                    ))
                }
                ObjectState::Pending | ObjectState::Persistent => {
                    let same = match (&session, &theirs) {
                        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
                        (None, _) => true,
                        _ => false,
                    };
                    if !same {
                        return Err(object_error("of another session", &*m.0, rel));
                    }
                }
                _ => {}
            }
        }
        // The other side must be free to change (no `Ref` from `Handle::get` alive).
        if let Some((rev_idx, _)) = rel.reverse() {
            for m in d.added.iter().chain(&d.removed) {
                if m.0.with_relation_mut(rev_idx, &mut |_| Ok(())).is_err() {
                    return Err(object_error("that is borrowed (a Ref from Handle::get is alive)", &*m.0, rel));
                }
            }
        }
    }
    Ok(())
}

/// After an edit of `owner` was applied: keep the other sides in step, cascade `save-update`
/// to new related objects, and record the changed fields for the flush.
pub(super) fn after_edit(owner: &Rc<dyn Erased>, diffs: Vec<RelDiff>) -> Result<()> {
    let session = owner.meta().borrow().session.upgrade();
    let rels = owner.relationships();
    let me = AnyHandle(owner.clone());
    for d in &diffs {
        let rel = &rels[d.idx];
        back_populate(&me, rel, d)?;
    }
    if let Some(shared) = session {
        let session = Session { shared };
        for d in diffs {
            let rel = &rels[d.idx];
            if rel.cascade.save_update {
                for m in &d.added {
                    if m.0.meta().borrow().state == ObjectState::Transient {
                        session.cascade_add(m.0.clone())?;
                    }
                }
            }
            session.note_dirty(owner, d.idx, d.before);
        }
    }
    Ok(())
}

/// `back_populates`: mirror one field's change on the related objects' reverse field.
fn back_populate(me: &AnyHandle, rel: &'static RelationshipDef, d: &RelDiff) -> Result<()> {
    let Some((rev_idx, rev)) = rel.reverse() else { return Ok(()) };
    if rel.kind == RelationKind::ManyToOne && d.before.is_empty() {
        // The field was not loaded: the previous parent, if the identity map holds it, is found
        // by the foreign key (not yet rewritten: that is the flush's job).
        if let Some(old) = previous_parent(me, rel)? {
            if !d.added.iter().any(|a| a.ptr_eq(&old)) {
                old.0.with_relation_mut(rev_idx, &mut |f| {
                    f.unlink(me);
                    Ok(())
                })?;
            }
        }
    }
    for m in &d.removed {
        m.0.with_relation_mut(rev_idx, &mut |f| {
            f.unlink(me);
            Ok(())
        })?;
    }
    for m in &d.added {
        if rev.kind == RelationKind::ManyToOne {
            // `m` moves to `me`: out of its previous parent's collection.
            let mut previous = Vec::new();
            m.0.with_relation(rev_idx, &mut |f| previous = f.members())?;
            for p in previous.iter().filter(|p| !p.ptr_eq(me)) {
                p.0.with_relation_mut(rel_index(p, rel), &mut |f| {
                    f.unlink(m);
                    Ok(())
                })?;
            }
        }
        m.0.with_relation_mut(rev_idx, &mut |f| f.link(me))?;
    }
    Ok(())
}

/// The object of `me`'s many-to-one `rel` by its foreign key, if the session holds it.
fn previous_parent(me: &AnyHandle, rel: &RelationshipDef) -> Result<Option<AnyHandle>> {
    let fk = me.0.column(rel.local)?;
    if matches!(fk, Value::Null) {
        return Ok(None);
    }
    let Some(shared) = me.0.meta().borrow().session.upgrade() else { return Ok(None) };
    let target = rel.target.table();
    if crate::relation::single_primary_key(target) != rel.remote {
        return Ok(None);
    }
    let Ok(key) = Key::from_values(std::slice::from_ref(&fk), target) else { return Ok(None) };
    let inner = shared.inner.try_borrow().map_err(|_| Error::invalid_request("the session is busy"))?;
    Ok(inner.identity.get_erased(rel.target.type_id(), &key).map(AnyHandle))
}

/// The position of `rel` among the relationships of `h`'s model (the same model as its owner).
fn rel_index(h: &AnyHandle, rel: &RelationshipDef) -> usize {
    h.0.relationships().iter().position(|r| r.name == rel.name).unwrap_or(usize::MAX)
}

impl Session {
    /// Record that `owner`'s relationship `idx` changed; `before` is its contents before this
    /// change (kept from the first change since the last flush).
    pub(super) fn note_dirty(&self, owner: &Rc<dyn Erased>, idx: usize, before: Vec<AnyHandle>) {
        let mut inner = self.inner();
        let key = (Rc::as_ptr(owner) as *const () as usize, idx);
        if inner.dirty_index.insert(key) {
            inner.dirty_rels.push(DirtyRel { owner: owner.clone(), idx, original: before });
        }
    }

    /// A new object's relationship fields: collections that are not loaded start empty and
    /// loaded (there is nothing in the database yet); loaded ones are recorded for the flush,
    /// mirrored on the other side, and cascade `save-update`.
    pub(super) fn adopt_relationships(&self, owner: &Rc<dyn Erased>) -> Result<()> {
        let rels = owner.relationships();
        let me = AnyHandle(owner.clone());
        for (idx, rel) in rels.iter().enumerate() {
            let mut members = Vec::new();
            let mut loaded = false;
            owner.with_relation_mut(idx, &mut |f| {
                if !f.is_loaded() && rel.is_collection() {
                    f.set_members(Vec::new())?;
                }
                f.settle();
                loaded = f.is_loaded();
                members = f.members();
                Ok(())
            })?;
            if !loaded || members.is_empty() {
                continue;
            }
            // Objects that cannot be related here are reported by the next flush; the other
            // side of those is left alone.
            let (ok, bad): (Vec<AnyHandle>, Vec<AnyHandle>) = members.into_iter().partition(|m| {
                let meta = m.0.meta().borrow();
                match meta.state {
                    ObjectState::Transient => true,
                    ObjectState::Pending | ObjectState::Persistent => self.owns(&meta),
                    _ => false,
                }
            });
            if let Some(b) = bad.first() {
                let e = Error::invalid_request(format!(
                    "a new {} holds a {} that is not in this session (of another session, detached or deleted) \
                     through {}",
                    owner.table().rust_name,
                    b.0.table().rust_name,
                    rel.describe()
                ));
                self.inner().deferred_error.get_or_insert(e);
            }
            let d = RelDiff { idx, before: Vec::new(), added: ok, removed: Vec::new(), changed_unloaded: false };
            back_populate(&me, rel, &d)?;
            for m in &d.added {
                let state = m.0.meta().borrow().state;
                if state == ObjectState::Transient && rel.cascade.save_update {
                    self.cascade_add(m.0.clone())?;
                }
            }
            self.note_dirty(owner, idx, Vec::new());
        }
        Ok(())
    }

    /// `save-update` cascade: a transient object reached through a relationship becomes pending
    /// in this session, and so do the transient objects its own relationships hold.
    pub(super) fn cascade_add(&self, obj: Rc<dyn Erased>) -> Result<()> {
        {
            let mut m = obj.meta().borrow_mut();
            if m.state != ObjectState::Transient {
                return Ok(());
            }
            m.state = ObjectState::Pending;
            m.key = None;
            m.session = Rc::downgrade(&self.shared);
        }
        self.inner().new.push(obj.clone());
        self.adopt_relationships(&obj)
    }
}
