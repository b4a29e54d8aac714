//! Object state: what the session knows of each instance ([`ObjectState`], the bookkeeping
//! `Meta`, the snapshot) and the user's [`Handle`] to it (SQLAlchemy's `orm/state.py`).

use super::collections::{AnyRelation, ModelMarker, ModelType};
use super::identity::{IdentityMap, Key};
use super::{graph, Session, Shared};
use crate::model::Model;
use crate::relation::RelationshipDef;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::sql::ast::Scalar;
use athanor_core::value::{SqlType, Value, ValueRef};
use std::any::{Any, TypeId};
use std::cell::{Ref, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

/// Where an object stands with respect to its session (SQLAlchemy's object states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// In no session and not in the database (or its insert was rolled back).
    Transient,
    /// Added; inserted at the next flush.
    Pending,
    /// In the session's identity map, with a row in the database.
    Persistent,
    /// Marked for deletion (deleted at the next flush), or deleted by a flush not yet committed.
    Deleted,
    /// Was persistent; its session was closed or dropped, expunged it, or committed its
    /// deletion. Its edits are kept (compared with the last values the database gave) and
    /// written after [`Session::add_handle`] attaches it to a session.
    Detached,
}

pub(super) struct Meta {
    pub(super) state: ObjectState,
    pub(super) key: Option<Key>,
    pub(super) expired: bool,
    pub(super) listed_modified: bool,
    /// A [`Handle::edit`] closure is running on a copy of the object.
    pub(super) editing: bool,
    pub(super) session: Weak<Shared>,
    /// Columns [`Handle::set_expr`] set to an SQL expression, written by the next flush.
    pub(super) exprs: PendingExprs,
    /// The query result this object was last loaded by (0: none tracked), for N+1 detection
    /// (`SessionMaker::lazy_loads`; see `lazy.rs`).
    pub(super) origin: u64,
}

/// The columns of one object set to SQL expressions and not flushed yet ([`Handle::set_expr`]):
/// a boxed slice, so an object without any costs two words and no allocation.
#[derive(Default)]
pub(super) struct PendingExprs(Option<Box<[(usize, Scalar)]>>);

impl PendingExprs {
    /// Set column `idx` to `expr`, replacing an earlier expression for it.
    pub(super) fn set(&mut self, idx: usize, expr: Scalar) {
        let mut list = self.0.take().map(Vec::from).unwrap_or_default();
        list.retain(|(i, _)| *i != idx);
        list.push((idx, expr));
        self.0 = Some(list.into_boxed_slice());
    }
    /// The expressions, in the order they were set.
    pub(super) fn list(&self) -> &[(usize, Scalar)] {
        self.0.as_deref().unwrap_or(&[])
    }
    pub(super) fn is_empty(&self) -> bool {
        self.list().is_empty()
    }
    /// Forget them all (flushed, or undone by a rollback or refresh).
    pub(super) fn clear(&mut self) {
        self.0 = None;
    }
    /// Forget the expressions of the columns `changed` says a later edit set to a value.
    pub(super) fn drop_changed(&mut self, changed: impl Fn(usize) -> bool) {
        if self.list().iter().any(|(i, _)| changed(*i)) {
            let kept: Vec<(usize, Scalar)> =
                self.0.take().map(Vec::from).unwrap_or_default().into_iter().filter(|(i, _)| !changed(*i)).collect();
            self.0 = (!kept.is_empty()).then(|| kept.into_boxed_slice());
        }
    }
}

/// Clears [`Meta::editing`] when an edit's closure returns or unwinds.
pub(super) struct EditGuard<'a>(&'a RefCell<Meta>);
impl Drop for EditGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.0.try_borrow_mut() {
            m.editing = false;
        }
    }
}

pub(crate) struct Instance<M> {
    pub(super) value: RefCell<M>,
    /// The object as it was before its first edit since the last load or flush (the old value
    /// itself, moved aside by the edit: no copy). A flush writes the columns that differ from
    /// it; a rollback puts it back.
    /// Boxed: most loaded objects are never edited, and an unboxed `Option<M>` made every
    /// instance twice the model's size.
    pub(super) snapshot: RefCell<Option<Box<M>>>,
    pub(super) meta: RefCell<Meta>,
}

impl<M: Model> Instance<M> {
    pub(super) fn new(value: M, meta: Meta) -> Self {
        Instance { value: RefCell::new(value), snapshot: RefCell::new(None), meta: RefCell::new(meta) }
    }
}

pub(super) trait ModelValues {
    fn value_at(&self, idx: usize) -> ValueRef<'_>;
    fn check_values(&self) -> Result<()>;
}
impl<M: Model> ModelValues for M {
    fn value_at(&self, idx: usize) -> ValueRef<'_> {
        self.column_value(idx)
    }
    fn check_values(&self) -> Result<()> {
        Model::check_values(self)
    }
}

/// What the unit of work needs of an instance, whatever its model type.
pub(super) trait Erased {
    fn table(&self) -> &'static TableDef;
    fn model_type(&self) -> TypeId;
    fn meta(&self) -> &RefCell<Meta>;
    fn values(&self) -> Result<Ref<'_, dyn ModelValues>>;
    /// The values before the first unflushed edit, if the object was edited.
    fn snapshot(&self) -> Result<Option<Ref<'_, dyn ModelValues>>>;
    /// Forget the snapshot (after a flush wrote the edit, or a reload replaced it).
    fn clear_snapshot(&self);
    /// Undo unflushed edits: put the snapshot back.
    fn restore_snapshot(&self) -> Result<()>;
    fn set_generated_key(&self, key: i64) -> Result<()>;
    fn compute_key(&self) -> Result<Key>;
    fn identity_insert(self: Rc<Self>, map: &mut IdentityMap, key: Key);
    fn into_any(self: Rc<Self>) -> Rc<dyn Any>;
    fn as_any(&self) -> &dyn Any;
    fn model(&self) -> &'static dyn ModelType;
    fn relationships(&self) -> &'static [RelationshipDef];
    /// Run `f` on relationship field `idx`.
    fn with_relation(&self, idx: usize, f: &mut dyn FnMut(&dyn AnyRelation)) -> Result<()>;
    /// Run `f` on relationship field `idx`, to change it (no snapshot: relationships are not
    /// columns).
    fn with_relation_mut(&self, idx: usize, f: &mut dyn FnMut(&mut dyn AnyRelation) -> Result<()>) -> Result<()>;
    /// Set a column as an edit would (a persistent object keeps its snapshot for the UPDATE);
    /// `true` if the value changed. The caller lists the object as modified.
    fn set_column(&self, idx: usize, value: ValueRef<'_>) -> Result<bool>;
    /// The value of a column, owned.
    fn column(&self, idx: usize) -> Result<Value>;
    /// Store what the database now holds in column `idx` (a version written by the flush, a
    /// column written from an expression and read back): not an edit, no snapshot.
    fn store_column(&self, idx: usize, value: ValueRef<'_>) -> Result<()>;
    /// The model's version column ([`Model::VERSION_COLUMN`]).
    fn version_column(&self) -> Option<usize>;
    /// After a flush wrote the object: bring each date or time field to the value the database
    /// stores (an instant's nanoseconds floored to microseconds), so the object equals what a
    /// later read returns. Not an edit: no snapshot, no UPDATE.
    fn settle_stored(&self);
    /// Where the object's value lies in memory (start address, size): serialization and
    /// `Detached` know the objects they are inside of by an address within them.
    #[cfg(feature = "serde")]
    fn value_span(&self) -> (usize, usize);
    /// How a captured object of this model is made again (`Detached`).
    #[cfg(feature = "serde")]
    fn rebuilder(&self) -> super::detached::Rebuild;
}

fn discarded_borrowed(table: &TableDef) -> Error {
    Error::invalid_request(format!(
        "this {} is borrowed (a Ref from Handle::get is alive), so the edit was discarded",
        table.rust_name
    ))
}

pub(super) fn borrowed_error(table: &TableDef) -> Error {
    Error::invalid_request(format!(
        "an instance of {} is being edited (Handle::edit is running); finish that first",
        table.rust_name
    ))
}

impl<M: Model> Erased for Instance<M> {
    fn table(&self) -> &'static TableDef {
        M::TABLE
    }
    fn model_type(&self) -> TypeId {
        TypeId::of::<M>()
    }
    fn meta(&self) -> &RefCell<Meta> {
        &self.meta
    }
    fn values(&self) -> Result<Ref<'_, dyn ModelValues>> {
        let r = self.value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?;
        Ok(Ref::map(r, |m| m as &dyn ModelValues))
    }
    fn snapshot(&self) -> Result<Option<Ref<'_, dyn ModelValues>>> {
        let r = self.snapshot.try_borrow().map_err(|_| borrowed_error(M::TABLE))?;
        Ok(Ref::filter_map(r, |s| s.as_deref().map(|m| m as &dyn ModelValues)).ok())
    }
    fn clear_snapshot(&self) {
        if let Ok(mut s) = self.snapshot.try_borrow_mut() {
            *s = None;
        }
    }
    fn restore_snapshot(&self) -> Result<()> {
        let mut snap = self.snapshot.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?;
        if snap.is_some() {
            let mut v = self.value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?;
            if let Some(old) = snap.take() {
                *v = *old;
            }
        }
        Ok(())
    }
    fn set_generated_key(&self, key: i64) -> Result<()> {
        self.value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?.set_generated_key(key)
    }
    fn compute_key(&self) -> Result<Key> {
        Key::of_model(&*self.value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?)
    }
    fn identity_insert(self: Rc<Self>, map: &mut IdentityMap, key: Key) {
        map.typed_mut::<M>().insert(key, self);
    }
    fn into_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn model(&self) -> &'static dyn ModelType {
        // A zero-sized value: leaking its box allocates nothing.
        Box::leak(Box::new(ModelMarker::<M>::NEW))
    }
    fn relationships(&self) -> &'static [RelationshipDef] {
        M::RELATIONSHIPS
    }
    fn with_relation(&self, idx: usize, f: &mut dyn FnMut(&dyn AnyRelation)) -> Result<()> {
        let v = self.value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?;
        let rel = v.relationship(idx).ok_or_else(|| no_relationship(M::TABLE, idx))?;
        f(rel);
        Ok(())
    }
    fn with_relation_mut(&self, idx: usize, f: &mut dyn FnMut(&mut dyn AnyRelation) -> Result<()>) -> Result<()> {
        let mut v = self.value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?;
        let rel = v.relationship_mut(idx).ok_or_else(|| no_relationship(M::TABLE, idx))?;
        f(rel)
    }
    fn set_column(&self, idx: usize, value: ValueRef<'_>) -> Result<bool> {
        let mut cur = self.value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?;
        if cur.column_value(idx).same_as(value) {
            return Ok(false);
        }
        if self.meta.borrow().state == ObjectState::Persistent {
            let mut snap = self.snapshot.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))?;
            if snap.is_none() {
                *snap = Some(Box::new(M::from_row(&ModelRow(&*cur))?));
            }
        }
        cur.set_column(idx, value)?;
        Ok(true)
    }
    fn column(&self, idx: usize) -> Result<Value> {
        Ok(self.value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?.column_value(idx).to_owned())
    }
    fn store_column(&self, idx: usize, value: ValueRef<'_>) -> Result<()> {
        let mut v = self.value.try_borrow_mut().map_err(|_| {
            Error::invalid_request(format!(
                "this {} is borrowed (a Ref from Handle::get is alive, or an edit is running) while the flush \
                 stores what the database now holds in {}.{} (its new version, or a column computed by an \
                 expression); drop the Ref before flushing",
                M::TABLE.rust_name,
                M::TABLE.name,
                M::TABLE.columns.get(idx).map_or("?", |c| c.name)
            ))
        })?;
        v.set_column(idx, value)
    }
    fn version_column(&self) -> Option<usize> {
        M::VERSION_COLUMN
    }
    #[cfg(feature = "serde")]
    fn value_span(&self) -> (usize, usize) {
        (self.value.as_ptr() as usize, std::mem::size_of::<M>())
    }
    #[cfg(feature = "serde")]
    fn rebuilder(&self) -> super::detached::Rebuild {
        super::detached::rebuild::<M>
    }
    fn settle_stored(&self) {
        let Ok(mut v) = self.value.try_borrow_mut() else { return };
        for (idx, col) in M::TABLE.columns.iter().enumerate() {
            if !matches!(col.sql_type, SqlType::Timestamp | SqlType::DateTime | SqlType::Time) {
                continue;
            }
            // The value as bound is the value stored: read the field back from it.
            let stored = match v.column_value(idx) {
                ValueRef::Timestamp(us) => ValueRef::Timestamp(us),
                ValueRef::DateTime(us) => ValueRef::DateTime(us),
                ValueRef::Time(us) => ValueRef::Time(us),
                _ => continue,
            };
            // A hand-written model without `set_column` keeps its own value.
            if let Err(e) = v.set_column(idx, stored) {
                tracing::debug!(target: "athanor::session", "{}.{} kept as it is: {e}", M::TABLE.name, col.name);
            }
        }
    }
}

fn no_relationship(table: &TableDef, idx: usize) -> Error {
    Error::invalid_request(format!("{} has no relationship #{idx}", table.rust_name))
}

/// A copy of an object: its columns through `from_row`, its relationship fields copied.
pub(super) fn copy_of<M: Model>(current: &M) -> Result<M> {
    let mut copy = M::from_row(&ModelRow(current))?;
    for i in 0..M::RELATIONSHIPS.len() {
        if let (Some(from), Some(to)) = (current.relationship(i), copy.relationship_mut(i)) {
            to.copy_from(from)?;
        }
    }
    Ok(copy)
}

/// An object's own column values as a row: `Model::from_row` over it makes a copy of the
/// object without requiring `Clone` (every field of a model is a column).
pub(super) struct ModelRow<'a, M>(pub(super) &'a M);
impl<M: Model> athanor_core::row::Row for ModelRow<'_, M> {
    fn len(&self) -> usize {
        M::TABLE.columns.len()
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        if idx < M::TABLE.columns.len() {
            Ok(self.0.column_value(idx))
        } else {
            Err(Error::invalid_request(format!("no column {idx} in {}", M::TABLE.name)))
        }
    }
}

/// A handle to one mapped object held by a session: the session's identity map and every query
/// that returns the same row hand out the same instance.
///
/// Reading ([`Handle::get`]) and changing ([`Handle::edit`]) do no I/O. After `rollback()`,
/// `expire()` or a commit (with `expire_on_commit`), the object is *expired*: its values may be
/// stale, and the next query returning its row, `Session::get`, [`Handle::load`] or
/// `Session::refresh` reloads it. Unlike SQLAlchemy, plain attribute access does not reload
/// implicitly: I/O stays visible and fallible in Rust.
///
/// The handle holds its instance without naming `M` in its representation (`M` appears only
/// in a `PhantomData<fn() -> M>`): a model's relationship fields hold handles of other models,
/// and if dropping or checking one model's type made the compiler walk into the next model's
/// fields, the longest path of relationships in a schema would decide whether it compiles
/// (`E0320` overflow, or the recursion limit of monomorphization, at about 30 models).
pub struct Handle<M: Model> {
    pub(super) inner: Rc<dyn Erased>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for Handle<M> {
    fn clone(&self) -> Self {
        Handle { inner: self.inner.clone(), _model: PhantomData }
    }
}

impl<M: Model + fmt::Debug> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.instance().value.try_borrow() {
            Ok(v) => fmt::Debug::fmt(&*v, f),
            Err(_) => write!(f, "Handle<{}>(<being edited>)", M::TABLE.rust_name),
        }
    }
}

impl<M: Model> Handle<M> {
    pub(super) fn new(value: M, meta: Meta) -> Self {
        Self::from_instance(Rc::new(Instance::new(value, meta)))
    }

    /// The handle of an instance (the only way a handle is made: `inner` is an `Instance<M>`).
    pub(super) fn from_instance(inner: Rc<Instance<M>>) -> Self {
        Handle { inner, _model: PhantomData }
    }

    /// The handle of an erased instance of model `M` (`None` for another model's).
    pub(super) fn from_erased(inner: Rc<dyn Erased>) -> Option<Self> {
        (inner.model_type() == TypeId::of::<M>()).then_some(Handle { inner, _model: PhantomData })
    }

    /// The instance. Handles are made only by `from_instance` and `from_erased`, which check
    /// the model, so the downcast cannot fail.
    pub(super) fn instance(&self) -> &Instance<M> {
        match self.inner.as_any().downcast_ref::<Instance<M>>() {
            Some(i) => i,
            None => unreachable!("a Handle<{}> holds an instance of another model", M::TABLE.rust_name),
        }
    }

    /// The instance, shared (for the identity map).
    pub(super) fn instance_rc(&self) -> Result<Rc<Instance<M>>> {
        self.inner.clone().into_any().downcast::<Instance<M>>().map_err(|_| {
            Error::invalid_request(format!("a handle of {} holds another model's instance", M::TABLE.rust_name))
        })
    }

    /// Borrow the object. No I/O: an expired object shows its last known values.
    ///
    /// Never panics: the session holds an object mutably only for the moment it replaces its
    /// values, never while user code runs (an [`Handle::edit`] closure works on a copy).
    pub fn get(&self) -> Ref<'_, M> {
        self.instance().value.borrow()
    }

    /// Change the object; the change is written by the next flush, as an UPDATE of only the
    /// columns whose values the edits changed (nothing at all if none did), whatever the object's
    /// state: a column an edit did not change is never written, so editing an expired object
    /// does not undo another transaction's committed change to its other columns. Returns the
    /// closure's result.
    ///
    /// A detached object (its session closed or dropped, or it was expunged) keeps its column
    /// edits: the flush of the session [`Session::add_handle`] attaches it to writes them, as
    /// SQLAlchemy does after `session.add(obj)`. Its relationship fields cannot change while it
    /// is detached ([`Error::DetachedInstance`]).
    ///
    /// The closure works on a copy of the object that replaces it when the closure returns, so
    /// reading the handle inside the closure sees the values from before this edit:
    /// `h.edit(|c| c.age = h.get().age + 1)` works. An expired object keeps its last known
    /// values; call [`Handle::load`] first to edit fresh ones.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the object cannot take the change, which is then discarded
    /// and the object left as it was: a [`Ref`] from [`Handle::get`] is still alive when the
    /// closure returns, or this edit is nested in another edit of the same object; the
    /// relationship errors of `docs/relationships.md` ([`Error::DetachedInstance`] for a change
    /// to a relationship of a detached object, or relating a detached one).
    pub fn edit<R>(&self, f: impl FnOnce(&mut M) -> R) -> Result<R> {
        let mut copy = {
            let mut meta = self.inner.meta().borrow_mut();
            if meta.editing {
                return Err(Error::invalid_request(format!(
                    "this {} is already being edited (Handle::edit inside an edit of the same object)",
                    M::TABLE.rust_name
                )));
            }
            let current = self.instance().value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?;
            let copy = copy_of(&*current)?;
            meta.editing = true;
            copy
        };
        let r = {
            let _editing = EditGuard(self.inner.meta());
            f(&mut copy)
        };
        let Ok(mut slot) = self.instance().value.try_borrow_mut() else {
            return Err(discarded_borrowed(M::TABLE));
        };
        let columns_same = (0..M::TABLE.columns.len()).all(|c| copy.column_value(c).same_as(slot.column_value(c)));
        let diffs = if M::RELATIONSHIPS.is_empty() { Vec::new() } else { graph::diff(&*slot, &copy) };
        // Unchanged columns: nothing to record, unless the current value is one its columns
        // refuse (a non-UTC offset the parameters do not show) and the edit fixed it.
        if columns_same && diffs.is_empty() && (slot.check_values().is_ok() || copy.check_values().is_err()) {
            return Ok(r);
        }
        if !diffs.is_empty() {
            drop(slot);
            graph::check_edit(self.instance(), &mut copy, &diffs)?;
            slot = self.instance().value.try_borrow_mut().map_err(|_| discarded_borrowed(M::TABLE))?;
        }
        // A column an edit sets to a value is no longer written from an expression set before
        // (`set_expr`): the later assignment wins.
        {
            let mut meta = self.inner.meta().borrow_mut();
            if !meta.exprs.is_empty() {
                meta.exprs.drop_changed(|c| !copy.column_value(c).same_as(slot.column_value(c)));
            }
        }
        let old = std::mem::replace(&mut *slot, copy);
        drop(slot);
        let list = if columns_same {
            None
        } else {
            let mut meta = self.inner.meta().borrow_mut();
            // A detached object records its edits as a persistent one does (the snapshot and
            // the mark), with no session to list it: `add_handle` lists it.
            if !matches!(meta.state, ObjectState::Persistent | ObjectState::Detached) {
                None
            } else {
                if let Ok(mut snap) = self.instance().snapshot.try_borrow_mut() {
                    if snap.is_none() {
                        *snap = Some(Box::new(old));
                    }
                }
                let first = !meta.listed_modified;
                meta.listed_modified = true;
                if first {
                    meta.session.upgrade()
                } else {
                    None
                }
            }
        };
        if let Some(shared) = list {
            shared.modified.borrow_mut().push(self.inner.clone());
        }
        if !diffs.is_empty() {
            graph::after_edit(&self.erased(), diffs)?;
        }
        Ok(r)
    }

    /// Set a column to an SQL expression, evaluated by the database when the next flush writes
    /// the object (SQLAlchemy's `book.stock = Book.stock - 1`): the UPDATE says `SET "stock" =
    /// ("books"."stock" - ?)`, so the new value is computed from what the row holds *then*, not
    /// from the value this session read — a read-modify-write no concurrent transaction can
    /// undo. The expression has the column's type ([`Assignable`]: a `ScalarExpr<M, T>`, a
    /// column of `M`, or a value), its values bound.
    ///
    /// The field keeps its value until the flush; the flush then reads the column back
    /// (`UPDATE … RETURNING` on SQLite and PostgreSQL, a `SELECT` of those columns by key right
    /// after the UPDATE on MySQL/MariaDB), so after it `get()` shows what the database stored,
    /// the same on every database. The change is an unflushed edit: autoflush writes it,
    /// [`Session::rollback`] (or [`Session::refresh`]) discards it, and a later
    /// [`Handle::edit`] that sets the column to a value replaces it. A model with a version
    /// column checks and bumps it in the same UPDATE.
    ///
    /// ```text
    /// let book = s.get::<Book>(id)?.ok_or(NotFound)?;
    /// book.set_expr(Book::stock, Book::stock.sub(1))?;   // UPDATE books SET stock = (books.stock - ?) …
    /// s.commit()?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`], changing nothing, when the object is not persistent (add and
    /// flush it first: there is no row to evaluate against yet), the column is part of the
    /// primary key or is the version column, or an edit of the object is running;
    /// [`Error::DetachedInstance`] for a detached object.
    ///
    /// [`Assignable`]: crate::Assignable
    pub fn set_expr<T, K>(
        &self,
        column: crate::expr::Column<M, T>,
        expr: impl crate::Assignable<M, T, K>,
    ) -> Result<()> {
        let table = M::TABLE;
        let col = table
            .columns
            .get(column.index)
            .ok_or_else(|| Error::invalid_request(format!("{} has no column #{}", table.rust_name, column.index)))?;
        if col.primary_key {
            return Err(Error::invalid_request(format!(
                "set_expr cannot change the primary key {}.{}",
                table.name, col.name
            )));
        }
        if M::VERSION_COLUMN == Some(column.index) {
            return Err(Error::invalid_request(format!(
                "{}.{} is the version column: every flush of the object writes it",
                table.name, col.name
            )));
        }
        let mut meta = self.inner.meta().borrow_mut();
        if meta.editing {
            return Err(borrowed_error(table));
        }
        match meta.state {
            ObjectState::Persistent => {}
            ObjectState::Detached => {
                return Err(Error::DetachedInstance {
                    model: table.rust_name,
                    operation: "set a column to an SQL expression".into(),
                })
            }
            other => {
                return Err(Error::invalid_request(format!(
                    "set_expr needs a persistent {} (this one is {other:?}): flush it first, so that there is a row \
                     to evaluate the expression against",
                    table.rust_name
                )))
            }
        }
        meta.exprs.set(column.index, expr.into_assignment());
        let first = !meta.listed_modified;
        meta.listed_modified = true;
        let shared = if first { meta.session.upgrade() } else { None };
        drop(meta);
        if let Some(shared) = shared {
            shared.modified.borrow_mut().push(self.inner.clone());
        }
        Ok(())
    }

    /// A copy of the object.
    pub fn cloned(&self) -> M
    where
        M: Clone,
    {
        self.get().clone()
    }

    /// Reload the object first if it is expired, then borrow it.
    ///
    /// # Errors
    /// Those of [`Session::refresh`]; [`Error::DetachedInstance`] if the object is expired and
    /// detached (SQLAlchemy's `DetachedInstanceError`: attach it with `add_handle` first);
    /// [`Error::InvalidRequest`] if it is expired and in no session otherwise.
    pub fn load(&self) -> Result<Ref<'_, M>> {
        let (expired, session, state) = {
            let m = self.inner.meta().borrow();
            (m.expired, m.session.upgrade(), m.state)
        };
        if expired {
            match session {
                Some(shared) => Session { shared }.refresh(self)?,
                None if state == ObjectState::Detached => {
                    return Err(Error::DetachedInstance {
                        model: M::TABLE.rust_name,
                        operation: "load its expired values".into(),
                    })
                }
                None => {
                    return Err(Error::invalid_request(format!(
                        "this {} is expired and in no session",
                        M::TABLE.rust_name
                    )))
                }
            }
        }
        Ok(self.get())
    }

    /// The object's state.
    pub fn state(&self) -> ObjectState {
        self.inner.meta().borrow().state
    }

    /// `true` when the values may be stale (after rollback, expire, or a commit).
    pub fn is_expired(&self) -> bool {
        self.inner.meta().borrow().expired
    }

    /// `true` when both handles are the same instance.
    pub fn ptr_eq(a: &Handle<M>, b: &Handle<M>) -> bool {
        Rc::ptr_eq(&a.inner, &b.inner)
    }

    pub(super) fn erased(&self) -> Rc<dyn Erased> {
        self.inner.clone()
    }
}
