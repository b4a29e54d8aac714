//! The [`Session`]: a unit of work with an identity map, dirty tracking, autoflush and
//! foreign-key-ordered flushes, over one pooled connection per transaction.
//!
//! # How objects are held
//!
//! `session.add(obj)` moves the object into the session and returns a [`Handle<M>`]: a cheap,
//! clonable `Rc` to the one in-memory instance of that row (`Handle::get` borrows it,
//! `Handle::edit` changes it and records the change). The session's identity map holds the same
//! `Rc`s, keyed by model type and primary key, so a row loaded twice is the same instance. Handles
//! point back to their session weakly: dropping the session detaches them, nothing leaks, and a
//! handle can outlive its session as a plain value holder. A session is one-thread (`!Send`), as
//! in SQLAlchemy; engines are shared across threads.

use crate::dialect::{KeyRecovery, TxOptions};
use crate::engine::{Connection, Engine, FastState, ResultRow};
use crate::error::{Error, Result};
use crate::metadata::sort_by_dependencies;
use crate::query::Query;
use crate::schema::{Model, TableDef};
use crate::sql;
use crate::value::{FromValue, Value, ValueRef};
use std::any::{Any, TypeId};
use std::cell::{Ref, RefCell};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Was persistent; its session closed, expunged it, or committed its deletion.
    Detached,
}

// ---------------------------------------------------------------------------------------------
// Identity keys

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyPart {
    Int(i64),
    Bool(bool),
    Text(Box<str>),
    Bytes(Box<[u8]>),
}

impl KeyPart {
    fn from_value(v: ValueRef<'_>, table: &TableDef, col: usize) -> Result<KeyPart> {
        Ok(match v {
            ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => KeyPart::Int(v.as_i64().unwrap_or_default()),
            ValueRef::Bool(b) => KeyPart::Bool(b),
            ValueRef::Text(s) => KeyPart::Text(s.into()),
            ValueRef::Blob(b) => KeyPart::Bytes(b.into()),
            ValueRef::Null => {
                return Err(Error::invalid(format!(
                    "primary key column {}.{} is NULL",
                    table.name,
                    table.columns.get(col).map_or("?", |c| c.name)
                )))
            }
            ValueRef::F32(_) | ValueRef::F64(_) => {
                return Err(Error::invalid(format!("floating-point primary keys are not supported ({})", table.name)))
            }
        })
    }

    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            KeyPart::Int(i) => ValueRef::I64(*i),
            KeyPart::Bool(b) => ValueRef::Bool(*b),
            KeyPart::Text(s) => ValueRef::Text(s),
            KeyPart::Bytes(b) => ValueRef::Blob(b),
        }
    }
}

/// A primary-key value identifying one row of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    One(KeyPart),
    Many(Box<[KeyPart]>),
}

// By hand: an integer key is hashed as one integer write (no discriminants), which the identity
// map's hasher turns into a single multiply. Equal keys still hash equally.
impl Hash for KeyPart {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyPart::Int(i) => state.write_i64(*i),
            KeyPart::Bool(b) => state.write_u8(u8::from(*b)),
            KeyPart::Text(s) => s.hash(state),
            KeyPart::Bytes(b) => b.hash(state),
        }
    }
}

impl Hash for Key {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::One(p) => p.hash(state),
            Key::Many(ps) => ps.iter().for_each(|p| p.hash(state)),
        }
    }
}

impl Key {
    fn parts(&self) -> &[KeyPart] {
        match self {
            Key::One(p) => std::slice::from_ref(p),
            Key::Many(ps) => ps,
        }
    }

    fn params(&self) -> impl Iterator<Item = ValueRef<'_>> {
        self.parts().iter().map(KeyPart::as_value_ref)
    }

    fn build<'a>(table: &TableDef, mut cell: impl FnMut(usize) -> Result<ValueRef<'a>>) -> Result<Key> {
        let mut pk = table.primary_key();
        let first = pk.next().ok_or_else(|| Error::invalid(format!("table {} has no primary key", table.name)))?;
        let p0 = KeyPart::from_value(cell(first)?, table, first)?;
        match pk.next() {
            None => Ok(Key::One(p0)),
            Some(second) => {
                let mut parts = vec![p0, KeyPart::from_value(cell(second)?, table, second)?];
                for i in pk {
                    parts.push(KeyPart::from_value(cell(i)?, table, i)?);
                }
                Ok(Key::Many(parts.into_boxed_slice()))
            }
        }
    }

    fn of_model<M: Model>(m: &M) -> Result<Key> {
        Key::build(M::TABLE, |i| Ok(m.column_value(i)))
    }

    fn from_values(values: &[Value], table: &TableDef) -> Result<Key> {
        let n = table.primary_key().count();
        if values.len() != n {
            return Err(Error::invalid(format!(
                "table {} has a primary key of {n} column(s); {} value(s) given",
                table.name,
                values.len()
            )));
        }
        // `build` asks for the key's columns in order: the n-th call is the n-th value.
        let mut next = values.iter();
        Key::build(table, |_| Ok(next.next().map_or(ValueRef::Null, Value::as_ref)))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.parts().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", p.as_value_ref())?;
        }
        f.write_str(")")
    }
}

/// A primary-key value given to [`Session::get`]: a scalar for a one-column key, a tuple for a
/// composite key, in the order of the key's columns.
pub trait IntoPrimaryKey {
    /// The key's values.
    fn into_key_values(self) -> Vec<Value>;
}

macro_rules! scalar_key {
    ($($t:ty),*) => {$(
        impl IntoPrimaryKey for $t {
            fn into_key_values(self) -> Vec<Value> { vec![Value::from(self)] }
        }
    )*};
}
scalar_key!(i16, i32, i64, bool, String, &str, Vec<u8>, Value);

impl<A: Into<Value>, B: Into<Value>> IntoPrimaryKey for (A, B) {
    fn into_key_values(self) -> Vec<Value> {
        vec![self.0.into(), self.1.into()]
    }
}
impl<A: Into<Value>, B: Into<Value>, C: Into<Value>> IntoPrimaryKey for (A, B, C) {
    fn into_key_values(self) -> Vec<Value> {
        vec![self.0.into(), self.1.into(), self.2.into()]
    }
}
impl IntoPrimaryKey for Vec<Value> {
    fn into_key_values(self) -> Vec<Value> {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Instances

struct Meta {
    state: ObjectState,
    key: Option<Key>,
    expired: bool,
    listed_modified: bool,
    /// A [`Handle::edit`] closure is running on a copy of the object.
    editing: bool,
    session: Weak<Shared>,
}

/// Clears [`Meta::editing`] when an edit's closure returns or unwinds.
struct EditGuard<'a>(&'a RefCell<Meta>);
impl Drop for EditGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.0.try_borrow_mut() {
            m.editing = false;
        }
    }
}

pub(crate) struct Instance<M> {
    value: RefCell<M>,
    /// The object as it was before its first edit since the last load or flush (the old value
    /// itself, moved aside by the edit: no copy). A flush writes the columns that differ from
    /// it; a rollback puts it back.
    snapshot: RefCell<Option<M>>,
    meta: RefCell<Meta>,
}

impl<M: Model> Instance<M> {
    fn new(value: M, meta: Meta) -> Self {
        Instance { value: RefCell::new(value), snapshot: RefCell::new(None), meta: RefCell::new(meta) }
    }
}

trait ModelValues {
    fn value_at(&self, idx: usize) -> ValueRef<'_>;
}
impl<M: Model> ModelValues for M {
    fn value_at(&self, idx: usize) -> ValueRef<'_> {
        self.column_value(idx)
    }
}

/// What the unit of work needs of an instance, whatever its model type.
trait Erased {
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
}

fn borrowed_error(table: &TableDef) -> Error {
    Error::invalid(format!(
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
        Ok(Ref::filter_map(r, |s| s.as_ref().map(|m| m as &dyn ModelValues)).ok())
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
                *v = old;
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
}

/// An object's own column values as a row: `Model::from_row` over it makes a copy of the
/// object without requiring `Clone` (every field of a model is a column).
struct ModelRow<'a, M>(&'a M);
impl<M: Model> crate::driver::Row for ModelRow<'_, M> {
    fn len(&self) -> usize {
        M::TABLE.columns.len()
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        if idx < M::TABLE.columns.len() {
            Ok(self.0.column_value(idx))
        } else {
            Err(Error::invalid(format!("no column {idx} in {}", M::TABLE.name)))
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
pub struct Handle<M: Model> {
    inner: Rc<Instance<M>>,
}

impl<M: Model> Clone for Handle<M> {
    fn clone(&self) -> Self {
        Handle { inner: self.inner.clone() }
    }
}

impl<M: Model + fmt::Debug> fmt::Debug for Handle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.value.try_borrow() {
            Ok(v) => fmt::Debug::fmt(&*v, f),
            Err(_) => write!(f, "Handle<{}>(<being edited>)", M::TABLE.rust_name),
        }
    }
}

impl<M: Model> Handle<M> {
    fn new(value: M, meta: Meta) -> Self {
        Handle { inner: Rc::new(Instance::new(value, meta)) }
    }

    /// Borrow the object. No I/O: an expired object shows its last known values.
    ///
    /// Never panics: the session holds an object mutably only for the moment it replaces its
    /// values, never while user code runs (an [`Handle::edit`] closure works on a copy).
    pub fn get(&self) -> Ref<'_, M> {
        self.inner.value.borrow()
    }

    /// Change the object; the change is written by the next flush, as an UPDATE of only the
    /// columns whose values the edits changed (nothing at all if none did), whatever the object's
    /// state: a column an edit did not change is never written, so editing an expired object
    /// does not undo another transaction's committed change to its other columns. Returns the
    /// closure's result.
    ///
    /// The closure works on a copy of the object that replaces it when the closure returns, so
    /// reading the handle inside the closure sees the values from before this edit:
    /// `h.edit(|c| c.age = h.get().age + 1)` works. An expired object keeps its last known
    /// values; call [`Handle::load`] first to edit fresh ones.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the object cannot take the change, which is then discarded
    /// and the object left as it was: a [`Ref`] from [`Handle::get`] is still alive when the
    /// closure returns, or this edit is nested in another edit of the same object.
    pub fn edit<R>(&self, f: impl FnOnce(&mut M) -> R) -> Result<R> {
        let mut copy = {
            let mut meta = self.inner.meta.borrow_mut();
            if meta.editing {
                return Err(Error::invalid(format!(
                    "this {} is already being edited (Handle::edit inside an edit of the same object)",
                    M::TABLE.rust_name
                )));
            }
            let current = self.inner.value.try_borrow().map_err(|_| borrowed_error(M::TABLE))?;
            let copy = M::from_row(&ModelRow(&*current))?;
            meta.editing = true;
            copy
        };
        let r = {
            let _editing = EditGuard(&self.inner.meta);
            f(&mut copy)
        };
        let Ok(mut slot) = self.inner.value.try_borrow_mut() else {
            return Err(Error::invalid(format!(
                "this {} is borrowed (a Ref from Handle::get is alive), so the edit was discarded",
                M::TABLE.rust_name
            )));
        };
        if (0..M::TABLE.columns.len()).all(|c| copy.column_value(c).same_as(slot.column_value(c))) {
            return Ok(r);
        }
        let old = std::mem::replace(&mut *slot, copy);
        drop(slot);
        let list = {
            let mut meta = self.inner.meta.borrow_mut();
            if meta.state != ObjectState::Persistent {
                None
            } else {
                if let Ok(mut snap) = self.inner.snapshot.try_borrow_mut() {
                    if snap.is_none() {
                        *snap = Some(old);
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
        Ok(r)
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
    /// Those of [`Session::refresh`]; [`Error::InvalidRequest`] if the object is expired but no
    /// longer in a session.
    pub fn load(&self) -> Result<Ref<'_, M>> {
        let (expired, session) = {
            let m = self.inner.meta.borrow();
            (m.expired, m.session.upgrade())
        };
        if expired {
            match session {
                Some(shared) => Session { shared }.refresh(self)?,
                None => {
                    return Err(Error::invalid(format!("this {} is expired and in no session", M::TABLE.rust_name)))
                }
            }
        }
        Ok(self.get())
    }

    /// The object's state.
    pub fn state(&self) -> ObjectState {
        self.inner.meta.borrow().state
    }

    /// `true` when the values may be stale (after rollback, expire, or a commit).
    pub fn is_expired(&self) -> bool {
        self.inner.meta.borrow().expired
    }

    /// `true` when both handles are the same instance.
    pub fn ptr_eq(a: &Handle<M>, b: &Handle<M>) -> bool {
        Rc::ptr_eq(&a.inner, &b.inner)
    }

    fn erased(&self) -> Rc<dyn Erased> {
        self.inner.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Identity map

trait AnyMap {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn remove(&mut self, key: &Key);
    fn for_each_meta(&self, f: &mut dyn FnMut(&RefCell<Meta>));
    fn len(&self) -> usize;
    fn table(&self) -> &'static TableDef;
}

/// The objects of one model type by primary key.
///
/// The instances sit in a slab in the order they arrived and the hash map holds only their
/// positions, so visiting every object (expiring them at commit) and dropping the session walk
/// memory in allocation order rather than in hash order.
struct TypedMap<M: Model> {
    index: HashMap<Key, usize, FastState>,
    slots: Vec<Option<Rc<Instance<M>>>>,
    free: Vec<usize>,
}

fn identity_invariant() -> Error {
    Error::invalid("identity map invariant broken: a key points to an empty slot")
}

impl<M: Model> TypedMap<M> {
    fn new() -> Self {
        TypedMap { index: HashMap::default(), slots: Vec::new(), free: Vec::new() }
    }

    fn get(&self, key: &Key) -> Option<&Rc<Instance<M>>> {
        self.index.get(key).and_then(|&i| self.slots.get(i)).and_then(Option::as_ref)
    }

    fn contains_key(&self, key: &Key) -> bool {
        self.index.contains_key(key)
    }

    fn place(slots: &mut Vec<Option<Rc<Instance<M>>>>, free: &mut Vec<usize>, inst: Rc<Instance<M>>) -> usize {
        match free.pop() {
            Some(i) => {
                slots[i] = Some(inst);
                i
            }
            None => {
                slots.push(Some(inst));
                slots.len() - 1
            }
        }
    }

    /// Put `inst` under `key`, replacing what was there.
    fn insert(&mut self, key: Key, inst: Rc<Instance<M>>) {
        let TypedMap { index, slots, free } = self;
        match index.entry(key) {
            Entry::Occupied(e) => slots[*e.get()] = Some(inst),
            Entry::Vacant(e) => {
                e.insert(Self::place(slots, free, inst));
            }
        }
    }

    /// The instance under `key`, or a new one made by `make` (which is given the key) and put
    /// there; the flag says it is new. One hash probe either way.
    fn get_or_try_insert(
        &mut self,
        key: Key,
        make: impl FnOnce(&Key) -> Result<Rc<Instance<M>>>,
    ) -> Result<(&Rc<Instance<M>>, bool)> {
        let TypedMap { index, slots, free } = self;
        let (at, new) = match index.entry(key) {
            Entry::Occupied(e) => (*e.get(), false),
            Entry::Vacant(e) => {
                let inst = make(e.key())?;
                (*e.insert(Self::place(slots, free, inst)), true)
            }
        };
        match slots.get(at) {
            Some(Some(inst)) => Ok((inst, new)),
            _ => Err(identity_invariant()),
        }
    }
}

impl<M: Model> AnyMap for TypedMap<M> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn remove(&mut self, key: &Key) {
        if let Some(i) = self.index.remove(key) {
            self.slots[i] = None;
            self.free.push(i);
        }
    }
    fn for_each_meta(&self, f: &mut dyn FnMut(&RefCell<Meta>)) {
        self.slots.iter().flatten().for_each(|i| f(&i.meta));
    }
    fn len(&self) -> usize {
        self.index.len()
    }
    fn table(&self) -> &'static TableDef {
        M::TABLE
    }
}

#[derive(Default)]
struct IdentityMap {
    by_type: HashMap<TypeId, Box<dyn AnyMap>, FastState>,
}

impl IdentityMap {
    fn typed<M: Model>(&self) -> Option<&TypedMap<M>> {
        self.by_type.get(&TypeId::of::<M>()).and_then(|m| m.as_any().downcast_ref::<TypedMap<M>>())
    }

    fn typed_mut<M: Model>(&mut self) -> &mut TypedMap<M> {
        let entry = self.by_type.entry(TypeId::of::<M>()).or_insert_with(|| Box::new(TypedMap::<M>::new()));
        if !entry.as_any().is::<TypedMap<M>>() {
            *entry = Box::new(TypedMap::<M>::new());
        }
        // Invariant: the map stored under TypeId::of::<M>() is a TypedMap<M> (checked just above).
        entry.as_any_mut().downcast_mut::<TypedMap<M>>().expect("identity map type invariant")
    }

    fn remove(&mut self, ty: TypeId, key: &Key) {
        if let Some(m) = self.by_type.get_mut(&ty) {
            m.remove(key);
        }
    }

    /// Visit every object's bookkeeping without collecting the objects.
    fn for_each_meta(&self, mut f: impl FnMut(&RefCell<Meta>)) {
        self.by_type.values().for_each(|m| m.for_each_meta(&mut f));
    }

    fn len(&self) -> usize {
        self.by_type.values().map(|m| m.len()).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Session

/// Session settings (`sessionmaker(bind=engine, autoflush=…, expire_on_commit=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Flush pending changes before every query and `get` that goes to the database (default on).
    pub autoflush: bool,
    /// Expire every object after a commit, so the next query reloads it (default on).
    pub expire_on_commit: bool,
    /// Options of every transaction the session begins (isolation level, read only, write intent).
    pub transaction: TxOptions,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { autoflush: true, expire_on_commit: true, transaction: TxOptions::default() }
    }
}

/// A session factory bound to an engine (`sessionmaker(bind=engine)`).
#[derive(Debug, Clone)]
pub struct SessionMaker {
    engine: Engine,
    config: SessionConfig,
}

/// Make a session factory for an engine.
pub fn sessionmaker(engine: &Engine) -> SessionMaker {
    SessionMaker { engine: engine.clone(), config: SessionConfig::default() }
}

impl SessionMaker {
    /// A new session (`Session()`). Takes no connection until first needed.
    pub fn session(&self) -> Session {
        Session::with_config(&self.engine, self.config)
    }

    /// Turn autoflush on or off.
    pub fn autoflush(mut self, on: bool) -> Self {
        self.config.autoflush = on;
        self
    }

    /// Turn expire-on-commit on or off.
    pub fn expire_on_commit(mut self, on: bool) -> Self {
        self.config.expire_on_commit = on;
        self
    }

    /// Begin every transaction at this isolation level.
    pub fn isolation_level(mut self, level: crate::dialect::IsolationLevel) -> Self {
        self.config.transaction.isolation = Some(level);
        self
    }

    /// Begin every transaction read-only.
    pub fn read_only(mut self, on: bool) -> Self {
        self.config.transaction.read_only = on;
        self
    }

    /// Begin every transaction with [`TxOptions::write_intent`]: for sessions that are going to
    /// write (on SQLite, `BEGIN IMMEDIATE`: a session that reads and then flushes waits for other
    /// writers at its first statement instead of failing at its flush).
    pub fn write_intent(mut self, on: bool) -> Self {
        self.config.transaction.write_intent = on;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Run `f` in a fresh session and commit; when the database reports a serialization failure
    /// or deadlock (from any statement or the commit), roll back and run `f` again, up to
    /// `attempts` times in all, with a short growing pause between tries. Other errors are
    /// returned at once (after rollback).
    pub fn retry_on_serialization_failure<T>(
        &self,
        attempts: usize,
        mut f: impl FnMut(&Session) -> Result<T>,
    ) -> Result<T> {
        let attempts = attempts.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let session = self.session();
            let outcome = f(&session).and_then(|v| session.commit().map(|_| v));
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let _ = session.rollback();
                    if !e.is_serialization_failure() {
                        return Err(e);
                    }
                    last = Some(e);
                    let pause = 1u64 << attempt.min(6);
                    std::thread::sleep(std::time::Duration::from_millis(pause));
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid("no attempt was made")))
    }
}

struct Frame {
    name: String,
    inserted_mark: usize,
    deleted_mark: usize,
}

struct Inner {
    engine: Engine,
    config: SessionConfig,
    conn: Option<Connection>,
    next_tx: Option<TxOptions>,
    identity: IdentityMap,
    new: Vec<Rc<dyn Erased>>,
    deleted: Vec<Rc<dyn Erased>>,
    inserted_in_tx: Vec<Rc<dyn Erased>>,
    deleted_in_tx: Vec<Rc<dyn Erased>>,
    savepoints: Vec<Frame>,
    savepoint_seq: u64,
    /// Set when a flush (or a database error) failed: (message, savepoint depth at failure).
    failed: Option<(String, usize)>,
}

struct Shared {
    id: u64,
    modified: RefCell<Vec<Rc<dyn Erased>>>,
    inner: RefCell<Inner>,
}

/// A unit of work: the objects it holds, the changes it will flush, and the transaction it runs
/// in. Made by [`SessionMaker::session`].
///
/// Dropping a session rolls back its uncommitted work and returns its connection to the pool.
/// One session per thread (`!Send`), as in SQLAlchemy.
///
/// Any error the database reports inside the session's transaction (a failed flush, a failed
/// query) rolls that transaction back and leaves the session needing [`Session::rollback`]:
/// until then every call fails with [`Error::PendingRollback`]. PostgreSQL aborts a transaction
/// on any error; Athanor makes that the rule on every database so programs behave the same.
pub struct Session {
    shared: Rc<Shared>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.inner.try_borrow();
        let mut d = f.debug_struct("Session");
        d.field("id", &self.shared.id);
        if let Ok(i) = inner {
            d.field("in_transaction", &i.conn.is_some()).field("objects", &i.identity.len()).field("new", &i.new.len());
        }
        d.finish()
    }
}

static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

const SQL_SELECT_BY_PK: u8 = 1;
const SQL_UPDATE: u8 = 2;

fn is_database_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Database { .. }
            | Error::Integrity { .. }
            | Error::SerializationFailure { .. }
            | Error::Connection { .. }
    )
}

/// Fill in the constraint name of an integrity error from the table's metadata when the
/// database named only columns (SQLite does).
fn enrich(e: Error, table: &TableDef, writing_rows: bool) -> Error {
    match e {
        Error::Integrity { kind, constraint: None, table: t, mut columns, message } => {
            let same_table = t.as_deref().is_none_or(|t| t == table.name);
            let mut constraint = if same_table { table.constraint_for_columns(&columns) } else { None };
            // SQLite names no column for a foreign-key failure. Inserting or updating rows of a
            // table with a single foreign key can only have broken that one.
            if constraint.is_none() && kind == crate::error::IntegrityKind::ForeignKey && writing_rows {
                if let [(name, col, _)] = table.foreign_keys().as_slice() {
                    constraint = Some(name.clone());
                    if columns.is_empty() {
                        columns.push(col.name.to_string());
                    }
                }
            }
            Error::Integrity { kind, constraint, table: t.or_else(|| Some(table.name.to_string())), columns, message }
        }
        Error::Integrity { kind, constraint: Some(c), table: t, columns, message } if c == "PRIMARY" => {
            Error::Integrity { kind, constraint: Some(table.primary_key_name()), table: t, columns, message }
        }
        other => other,
    }
}

impl Session {
    /// A session on an engine with the given settings (usually via [`sessionmaker`]).
    pub fn with_config(engine: &Engine, config: SessionConfig) -> Session {
        Session {
            shared: Rc::new(Shared {
                id: SESSION_IDS.fetch_add(1, Ordering::Relaxed),
                modified: RefCell::new(Vec::new()),
                inner: RefCell::new(Inner {
                    engine: engine.clone(),
                    config,
                    conn: None,
                    next_tx: None,
                    identity: IdentityMap::default(),
                    new: Vec::new(),
                    deleted: Vec::new(),
                    inserted_in_tx: Vec::new(),
                    deleted_in_tx: Vec::new(),
                    savepoints: Vec::new(),
                    savepoint_seq: 0,
                    failed: None,
                }),
            }),
        }
    }

    fn inner(&self) -> std::cell::RefMut<'_, Inner> {
        self.shared.inner.borrow_mut()
    }

    fn owns(&self, meta: &Meta) -> bool {
        meta.session.upgrade().is_some_and(|s| Rc::ptr_eq(&s, &self.shared))
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.inner().engine.clone()
    }

    /// `true` while a transaction is open (after autobegin or `begin()`).
    pub fn in_transaction(&self) -> bool {
        self.inner().conn.is_some()
    }

    /// `true` unless a failed flush is waiting for `rollback()`.
    pub fn is_active(&self) -> bool {
        self.inner().failed.is_none()
    }

    /// How many objects the identity map holds.
    pub fn identity_count(&self) -> usize {
        self.inner().identity.len()
    }

    /// `true` when there are changes a flush would write.
    pub fn is_dirty(&self) -> bool {
        let inner = self.inner();
        !inner.new.is_empty() || !inner.deleted.is_empty() || !self.shared.modified.borrow().is_empty()
    }

    fn check_failed(&self) -> Result<()> {
        match &self.inner().failed {
            Some((cause, _)) => Err(Error::PendingRollback { cause: cause.clone() }),
            None => Ok(()),
        }
    }

    /// Begin a transaction now with the session's default options. Fails if one is open.
    pub fn begin(&self) -> Result<()> {
        let opts = self.inner().config.transaction;
        self.begin_with(opts)
    }

    /// Begin a transaction now with these options (isolation level, read only, write intent).
    pub fn begin_with(&self, opts: TxOptions) -> Result<()> {
        self.check_failed()?;
        let mut inner = self.inner();
        if inner.conn.is_some() {
            return Err(Error::invalid("a transaction is already begun on this session; commit or roll back first"));
        }
        inner.next_tx = Some(opts);
        inner.ensure_conn()?;
        Ok(())
    }

    /// Add a new object; it is inserted at the next flush. Returns its handle.
    pub fn add<M: Model>(&self, obj: M) -> Handle<M> {
        let h = Handle::new(
            obj,
            Meta {
                state: ObjectState::Pending,
                key: None,
                expired: false,
                listed_modified: false,
                editing: false,
                session: Rc::downgrade(&self.shared),
            },
        );
        self.inner().new.push(h.erased());
        h
    }

    /// Add several new objects.
    pub fn add_all<M: Model>(&self, objs: impl IntoIterator<Item = M>) -> Vec<Handle<M>> {
        objs.into_iter().map(|o| self.add(o)).collect()
    }

    /// Put a handle back into this session: a transient one (e.g. whose insert was rolled back)
    /// becomes pending again; a detached one becomes persistent again.
    pub fn add_handle<M: Model>(&self, h: &Handle<M>) -> Result<()> {
        let mut meta = h.inner.meta.borrow_mut();
        if meta.state != ObjectState::Transient && meta.state != ObjectState::Detached && !self.owns(&meta) {
            return Err(Error::invalid(format!("this {} belongs to another session", M::TABLE.rust_name)));
        }
        match meta.state {
            ObjectState::Transient => {
                meta.state = ObjectState::Pending;
                meta.key = None;
                meta.session = Rc::downgrade(&self.shared);
                drop(meta);
                self.inner().new.push(h.erased());
            }
            ObjectState::Detached => {
                let key = h.inner.compute_key()?;
                let mut inner = self.inner();
                if inner.identity.typed::<M>().is_some_and(|m| m.contains_key(&key)) {
                    return Err(Error::invalid(format!(
                        "another {} with key {key} is already in this session",
                        M::TABLE.rust_name
                    )));
                }
                meta.state = ObjectState::Persistent;
                meta.key = Some(key.clone());
                meta.expired = true;
                meta.session = Rc::downgrade(&self.shared);
                inner.identity.typed_mut::<M>().insert(key, h.inner.clone());
            }
            _ => {} // already here
        }
        Ok(())
    }

    /// Mark an object for deletion at the next flush (a pending one is simply removed).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the object is not in this session.
    pub fn delete<M: Model>(&self, h: &Handle<M>) -> Result<()> {
        let mut meta = h.inner.meta.borrow_mut();
        if !self.owns(&meta) {
            return Err(Error::invalid(format!("this {} is not in this session", M::TABLE.rust_name)));
        }
        match meta.state {
            ObjectState::Pending => {
                meta.state = ObjectState::Transient;
                meta.session = Weak::new();
                drop(meta);
                let target = h.erased();
                self.inner().new.retain(|i| !Rc::ptr_eq(i, &target));
                Ok(())
            }
            ObjectState::Persistent => {
                meta.state = ObjectState::Deleted;
                drop(meta);
                self.inner().deleted.push(h.erased());
                Ok(())
            }
            ObjectState::Deleted => Ok(()),
            other => Err(Error::invalid(format!("cannot delete a {other:?} {}", M::TABLE.rust_name))),
        }
    }

    /// Remove an object from the session without touching the database (its pending changes
    /// are forgotten).
    pub fn expunge<M: Model>(&self, h: &Handle<M>) {
        let mut meta = h.inner.meta.borrow_mut();
        if !self.owns(&meta) {
            return;
        }
        let target = h.erased();
        let mut inner = self.inner();
        inner.new.retain(|i| !Rc::ptr_eq(i, &target));
        inner.deleted.retain(|i| !Rc::ptr_eq(i, &target));
        if let Some(k) = &meta.key {
            inner.identity.remove(TypeId::of::<M>(), k);
        }
        meta.state = if meta.key.is_some() { ObjectState::Detached } else { ObjectState::Transient };
        meta.session = Weak::new();
        meta.listed_modified = false;
        h.inner.clear_snapshot();
    }

    /// Mark an object as out of date: the next query returning its row (or `get`, `load`,
    /// `refresh`) reloads it.
    pub fn expire<M: Model>(&self, h: &Handle<M>) {
        let mut meta = h.inner.meta.borrow_mut();
        if self.owns(&meta) && meta.state == ObjectState::Persistent {
            meta.expired = true;
        }
    }

    /// Expire every object in the session.
    pub fn expire_all(&self) {
        self.inner().identity.for_each_meta(|m| m.borrow_mut().expired = true);
    }

    /// Reload an object's values from the database now (discarding unflushed changes).
    ///
    /// # Errors
    /// [`Error::NotFound`] if its row is gone; [`Error::InvalidRequest`] if it is not persistent
    /// in this session.
    pub fn refresh<M: Model>(&self, h: &Handle<M>) -> Result<()> {
        let key = {
            let meta = h.inner.meta.borrow();
            if !self.owns(&meta) || meta.state != ObjectState::Persistent {
                return Err(Error::invalid(format!("this {} is not persistent in this session", M::TABLE.rust_name)));
            }
            meta.key.clone().ok_or_else(|| Error::invalid("object has no identity key"))?
        };
        self.check_failed()?;
        let engine = self.engine();
        let sql = engine.cached_sql(M::TABLE, SQL_SELECT_BY_PK, |d| sql::select_by_pk(d, M::TABLE))?;
        let params: Vec<ValueRef<'_>> = key.params().collect();
        let mut fresh: Option<M> = None;
        self.with_conn(|conn| {
            conn.query_refs(&sql, &params, &mut |row| {
                fresh = Some(M::from_row(row)?);
                Ok(())
            })
        })?;
        let m = fresh.ok_or_else(|| Error::NotFound { what: format!("{} {key}", M::TABLE.name) })?;
        *h.inner.value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))? = m;
        h.inner.clear_snapshot();
        h.inner.meta.borrow_mut().expired = false;
        Ok(())
    }

    /// Run `f` on the session's connection (autobegin), recording a database error as a failed
    /// transaction.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut inner = self.inner();
        inner.ensure_conn()?;
        let r = match inner.conn.as_mut() {
            Some(c) => f(c),
            None => Err(Error::invalid("no connection")),
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner.fail(e);
            }
        }
        r
    }

    fn prepare_read(&self) -> Result<()> {
        self.check_failed()?;
        let autoflush = self.inner().config.autoflush;
        if autoflush && self.is_dirty() {
            self.flush()?;
        }
        Ok(())
    }

    /// Load the objects of model `M` a SELECT of all its columns returns, through the identity
    /// map (used by `Query`).
    pub(crate) fn load<M: Model>(&self, sql: &str, params: &[Value]) -> Result<Vec<Handle<M>>> {
        let refs: Vec<ValueRef<'_>> = params.iter().map(Value::as_ref).collect();
        let mut out = Vec::new();
        self.load_each::<M>(sql, &refs, |h| out.push(h))?;
        Ok(out)
    }

    /// [`Session::load`], handing each object to `sink` in row order. One identity-map probe
    /// per row; a new row costs one allocation (the instance) beyond its fields' own.
    fn load_each<M: Model>(&self, sql: &str, params: &[ValueRef<'_>], mut sink: impl FnMut(Handle<M>)) -> Result<()> {
        self.prepare_read()?;
        let weak = Rc::downgrade(&self.shared);
        let mut inner_ref = self.inner();
        inner_ref.ensure_conn()?;
        let r = {
            let Inner { conn, identity, .. } = &mut *inner_ref;
            let conn = conn.as_mut().ok_or_else(|| Error::invalid("no connection"))?;
            let map = identity.typed_mut::<M>();
            conn.query_refs(sql, params, &mut |row| {
                let key = Key::build(M::TABLE, |i| row.get(i))?;
                let (inst, new) = map.get_or_try_insert(key, |key| {
                    let m = M::from_row(row)?;
                    let meta = Meta {
                        state: ObjectState::Persistent,
                        key: Some(key.clone()),
                        expired: false,
                        listed_modified: false,
                        editing: false,
                        session: weak.clone(),
                    };
                    Ok(Rc::new(Instance::new(m, meta)))
                })?;
                if !new && inst.meta.borrow().expired {
                    let fresh = M::from_row(row)?;
                    if let Ok(mut v) = inst.value.try_borrow_mut() {
                        *v = fresh;
                        inst.clear_snapshot();
                        inst.meta.borrow_mut().expired = false;
                    }
                }
                sink(Handle { inner: inst.clone() });
                Ok(())
            })
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner_ref.fail(e);
            }
        }
        r
    }

    /// Run a query returning one value (used by `Query::count`/`exists`).
    pub(crate) fn scalar<T: FromValue>(&self, sql: &str, params: &[Value]) -> Result<T> {
        self.prepare_read()?;
        self.with_conn(|c| c.query_scalar(sql, params))
    }

    /// Run a SQL statement in the session's transaction (after autoflush); rows affected.
    /// Placeholders follow the dialect (`?` or `$n`).
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.prepare_read()?;
        self.with_conn(|c| c.execute(sql, params))
    }

    /// Run a SQL query in the session's transaction (after autoflush) and return its rows.
    pub fn query_sql(&self, sql: &str, params: &[Value]) -> Result<Vec<ResultRow>> {
        self.prepare_read()?;
        self.with_conn(|c| c.query(sql, params))
    }

    /// A query for model `M` (`session.query(Customer)`).
    pub fn query<M: Model>(&self) -> Query<'_, M> {
        Query::new(self)
    }

    /// The object with this primary key: from the identity map without SQL when it is loaded
    /// and not expired, else by a SELECT (after autoflush). `None` if there is no such row, or
    /// the object is marked deleted.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the key has the wrong number of columns.
    pub fn get<M: Model>(&self, pk: impl IntoPrimaryKey) -> Result<Option<Handle<M>>> {
        self.check_failed()?;
        let values = pk.into_key_values();
        let key = Key::from_values(&values, M::TABLE)?;
        let sql = {
            let inner = self.inner();
            if let Some(inst) = inner.identity.typed::<M>().and_then(|m| m.get(&key)) {
                let meta = inst.meta.borrow();
                if meta.state == ObjectState::Deleted {
                    return Ok(None);
                }
                if !meta.expired {
                    return Ok(Some(Handle { inner: inst.clone() }));
                }
            }
            inner.engine.cached_sql(M::TABLE, SQL_SELECT_BY_PK, |d| sql::select_by_pk(d, M::TABLE))?
        };
        let mut found = None;
        let mut first = |h: Handle<M>| {
            if found.is_none() {
                found = Some(h);
            }
        };
        match &key {
            Key::One(part) => self.load_each::<M>(&sql, &[part.as_value_ref()], &mut first)?,
            Key::Many(_) => self.load_each::<M>(&sql, &key.params().collect::<Vec<_>>(), &mut first)?,
        }
        Ok(found)
    }

    /// Write all pending changes (inserts, updates, deletes) to the database in foreign-key
    /// order, inside the session's transaction. Nothing is committed.
    ///
    /// # Errors
    /// The database's error (e.g. [`Error::Integrity`] naming the constraint). The transaction
    /// is then rolled back and the session needs [`Session::rollback`] before new work.
    pub fn flush(&self) -> Result<()> {
        self.check_failed()?;
        let modified = std::mem::take(&mut *self.shared.modified.borrow_mut());
        let mut inner = self.inner();
        if inner.new.is_empty() && inner.deleted.is_empty() && modified.is_empty() {
            return Ok(());
        }
        let r = inner.ensure_conn().and_then(|_| inner.flush(&modified));
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                // Keep the edited objects listed: rollback() restores them from their snapshots.
                self.shared.modified.borrow_mut().extend(modified);
                inner.fail(&e);
                Err(e)
            }
        }
    }

    /// Flush, then commit the transaction and return the connection to the pool. With
    /// `expire_on_commit` (the default) every object is expired.
    ///
    /// # Errors
    /// A failed flush (the session then needs `rollback()`), or a failed COMMIT (e.g. a
    /// serialization failure): the transaction is then rolled back and the session is ready for
    /// new work.
    pub fn commit(&self) -> Result<()> {
        self.flush()?;
        let mut inner = self.inner();
        let Some(mut conn) = inner.conn.take() else {
            return Ok(());
        };
        inner.savepoints.clear();
        if let Err(e) = conn.commit() {
            drop(conn);
            inner.restore_after_rollback();
            return Err(e);
        }
        drop(conn);
        for i in std::mem::take(&mut inner.deleted_in_tx) {
            let mut m = i.meta().borrow_mut();
            m.state = ObjectState::Detached;
            m.session = Weak::new();
        }
        inner.inserted_in_tx.clear();
        if inner.config.expire_on_commit {
            inner.identity.for_each_meta(|m| m.borrow_mut().expired = true);
        }
        Ok(())
    }

    /// Roll back the transaction and return the connection to the pool. Objects inserted in it
    /// become transient again, objects deleted in it are back, unflushed edits are undone, and
    /// every object is expired. Clears a failed flush's pending-rollback state.
    pub fn rollback(&self) -> Result<()> {
        let mut inner = self.inner();
        let r = match inner.conn.take() {
            Some(mut conn) => {
                let r = conn.rollback();
                if r.is_err() {
                    conn.invalidate();
                }
                r
            }
            None => Ok(()),
        };
        drop(inner);
        self.restore_all();
        // A failed ROLLBACK means the connection is gone; the transaction is over either way.
        match r {
            Err(e) if !e.is_disconnect() && !matches!(e, Error::InvalidRequest { .. }) => Err(e),
            _ => Ok(()),
        }
    }

    fn restore_all(&self) {
        let modified = std::mem::take(&mut *self.shared.modified.borrow_mut());
        let mut inner = self.inner();
        for i in modified {
            restore_edit(&*i);
        }
        inner.restore_after_rollback();
    }

    /// Discard the session's connection instead of returning it to the pool (after a fault, or
    /// to be sure no server-side state survives), then behave as [`Session::rollback`].
    pub fn invalidate(&self) {
        if let Some(mut conn) = self.inner().conn.take() {
            conn.invalidate();
        }
        self.restore_all();
    }

    /// Roll back and empty the session: every object is detached (or transient).
    pub fn close(&self) {
        let _ = self.rollback();
        let mut inner = self.inner();
        inner.identity.for_each_meta(|m| {
            let mut m = m.borrow_mut();
            m.state = ObjectState::Detached;
            m.session = Weak::new();
        });
        inner.identity = IdentityMap::default();
    }

    /// Begin a nested transaction (a SAVEPOINT), flushing first. Commit or roll it back through
    /// the returned guard; dropping the guard without either rolls it back.
    ///
    /// Rolling back to the savepoint undoes the database work since it, makes objects inserted
    /// since it transient, restores objects deleted since it, and expires every object.
    pub fn begin_nested(&self) -> Result<NestedTransaction<'_>> {
        self.flush()?;
        let mut inner = self.inner();
        inner.ensure_conn()?;
        inner.savepoint_seq += 1;
        let name = format!("sa_savepoint_{}", inner.savepoint_seq);
        let r = match inner.conn.as_mut() {
            Some(c) => c.savepoint(&name),
            None => Err(Error::invalid("no connection")),
        };
        r?;
        let frame = Frame {
            name: name.clone(),
            inserted_mark: inner.inserted_in_tx.len(),
            deleted_mark: inner.deleted_in_tx.len(),
        };
        inner.savepoints.push(frame);
        let depth = inner.savepoints.len();
        Ok(NestedTransaction { session: self, name, depth, done: false })
    }

    fn end_nested(&self, name: &str, depth: usize, commit: bool) -> Result<()> {
        if commit {
            self.flush()?;
        }
        let mut inner = self.inner();
        if inner.savepoints.len() < depth || inner.savepoints.get(depth - 1).is_none_or(|f| f.name != name) {
            // The outer transaction ended (commit/rollback) and took the savepoint with it.
            return Ok(());
        }
        let frame = inner.savepoints.split_off(depth - 1).into_iter().next();
        let Some(frame) = frame else { return Ok(()) };
        let conn = inner.conn.as_mut().ok_or_else(|| Error::invalid("no transaction"))?;
        if commit {
            let r = conn.release_savepoint(name);
            if let Err(e) = &r {
                inner.fail(e);
            }
            return r;
        }
        let r = conn.rollback_to_savepoint(name).and_then(|_| conn.release_savepoint(name));
        if let Err(e) = r {
            inner.fail(&e);
            return Err(e);
        }
        if inner.failed.as_ref().is_some_and(|(_, d)| *d >= depth) {
            inner.failed = None;
        }
        drop(inner);
        let modified = std::mem::take(&mut *self.shared.modified.borrow_mut());
        let mut inner = self.inner();
        for i in modified {
            restore_edit(&*i);
        }
        for i in std::mem::take(&mut inner.new) {
            let mut m = i.meta().borrow_mut();
            m.state = ObjectState::Transient;
            m.session = Weak::new();
        }
        for i in inner.inserted_in_tx.split_off(frame.inserted_mark) {
            inner.make_transient(&*i);
        }
        for i in inner.deleted.drain(..).collect::<Vec<_>>() {
            i.meta().borrow_mut().state = ObjectState::Persistent;
        }
        for i in inner.deleted_in_tx.split_off(frame.deleted_mark) {
            inner.make_persistent_again(i);
        }
        inner.identity.for_each_meta(|m| m.borrow_mut().expired = true);
        Ok(())
    }
}

/// Undo an unflushed edit from the object's snapshot.
fn restore_edit(i: &dyn Erased) {
    i.meta().borrow_mut().listed_modified = false;
    if let Err(e) = i.restore_snapshot() {
        tracing::warn!(target: "athanor::session", "could not restore an edited {}: {e}", i.table().rust_name);
    }
}

/// A SAVEPOINT begun by [`Session::begin_nested`].
#[must_use = "a nested transaction is rolled back when dropped; call commit() to keep its work"]
pub struct NestedTransaction<'s> {
    session: &'s Session,
    name: String,
    depth: usize,
    done: bool,
}

impl NestedTransaction<'_> {
    /// Flush and release the savepoint: its work joins the enclosing transaction.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.session.end_nested(&self.name, self.depth, true)
    }

    /// Roll back to the savepoint; the enclosing transaction's earlier work stays.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.session.end_nested(&self.name, self.depth, false)
    }
}

impl Drop for NestedTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.session.end_nested(&self.name, self.depth, false) {
                tracing::warn!(target: "athanor::session", "rolling back savepoint {} on drop failed: {e}", self.name);
            }
        }
    }
}

impl Inner {
    fn ensure_conn(&mut self) -> Result<()> {
        if self.conn.is_none() {
            let mut conn = self.engine.connect()?;
            let opts = self.next_tx.take().unwrap_or(self.config.transaction);
            conn.begin_with(opts)?;
            self.conn = Some(conn);
        }
        Ok(())
    }

    fn conn(&mut self) -> Result<&mut Connection> {
        self.conn.as_mut().ok_or_else(|| Error::invalid("no transaction"))
    }

    /// Record a failure: roll the database transaction back now (releasing its locks) and
    /// require `rollback()`. Inside a savepoint, only roll back to the savepoint.
    fn fail(&mut self, e: &Error) {
        let depth = self.savepoints.len();
        self.failed = Some((e.to_string(), depth));
        if let Some(frame) = self.savepoints.last() {
            let name = frame.name.clone();
            if let Some(c) = self.conn.as_mut() {
                if c.rollback_to_savepoint(&name).is_ok() {
                    return;
                }
            }
        }
        self.abort_transaction();
    }

    fn abort_transaction(&mut self) {
        if let Some(mut c) = self.conn.take() {
            if c.rollback().is_err() {
                c.invalidate();
            }
        }
        self.savepoints.clear();
        // Keep `failed`: the objects' states are restored by the user's rollback().
        if self.failed.is_none() {
            self.failed = Some(("the transaction was rolled back".into(), 0));
        }
        // The whole transaction is gone: failures are now at depth 0.
        if let Some((_, d)) = self.failed.as_mut() {
            *d = 0;
        }
    }

    fn make_transient(&mut self, i: &dyn Erased) {
        let mut m = i.meta().borrow_mut();
        if let Some(k) = m.key.take() {
            self.identity.remove(i.model_type(), &k);
        }
        m.state = ObjectState::Transient;
        m.session = Weak::new();
        drop(m);
        i.clear_snapshot();
    }

    fn make_persistent_again(&mut self, i: Rc<dyn Erased>) {
        let key = {
            let mut m = i.meta().borrow_mut();
            m.state = ObjectState::Persistent;
            m.expired = true;
            m.key.clone()
        };
        if let Some(k) = key {
            i.identity_insert(&mut self.identity, k);
        }
    }

    /// Put every object back as it was before the transaction (after the database rolled it back).
    fn restore_after_rollback(&mut self) {
        if let Some(mut c) = self.conn.take() {
            if c.rollback().is_err() {
                c.invalidate();
            }
        }
        for i in std::mem::take(&mut self.new) {
            let mut m = i.meta().borrow_mut();
            m.state = ObjectState::Transient;
            m.key = None;
            m.session = Weak::new();
        }
        for i in std::mem::take(&mut self.inserted_in_tx) {
            self.make_transient(&*i);
        }
        for i in std::mem::take(&mut self.deleted) {
            i.meta().borrow_mut().state = ObjectState::Persistent;
        }
        for i in std::mem::take(&mut self.deleted_in_tx) {
            self.make_persistent_again(i);
        }
        self.identity.for_each_meta(|m| {
            let mut m = m.borrow_mut();
            m.expired = true;
            m.listed_modified = false;
        });
        self.savepoints.clear();
        self.failed = None;
    }

    /// The unit of work: inserts and updates per table in foreign-key order, then deletes in
    /// reverse order.
    fn flush(&mut self, modified: &[Rc<dyn Erased>]) -> Result<()> {
        let mut tables: Vec<&'static TableDef> = Vec::new();
        let mut note = |t: &'static TableDef| {
            if !tables.iter().any(|x| std::ptr::eq(*x, t)) {
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
            let group: Vec<&Rc<dyn Erased>> = deleted.iter().filter(|i| std::ptr::eq(i.table(), *table)).collect();
            if !group.is_empty() {
                if let Err(e) = self.delete_group(table, &group) {
                    self.deleted = deleted;
                    return Err(self.enrich_delete(enrich(e, table, false), table));
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

    /// A foreign-key failure on DELETE comes from a table referencing this one. Databases that
    /// name no constraint (SQLite) get the name when exactly one table this session knows
    /// references the deleted table.
    fn enrich_delete(&self, e: Error, deleted_from: &TableDef) -> Error {
        match e {
            Error::Integrity {
                kind: crate::error::IntegrityKind::ForeignKey,
                constraint: None,
                table,
                columns,
                message,
            } => {
                let referencing: Vec<(String, &'static TableDef, &'static str)> = self
                    .identity
                    .by_type
                    .values()
                    .map(|m| m.table())
                    .flat_map(|t| t.foreign_keys().into_iter().map(move |(n, c, fk)| (n, t, c.name, fk)))
                    .filter(|(_, _, _, fk)| fk.table == deleted_from.name)
                    .map(|(n, t, c, _)| (n, t, c))
                    .collect();
                match referencing.as_slice() {
                    [(name, t, col)] => Error::Integrity {
                        kind: crate::error::IntegrityKind::ForeignKey,
                        constraint: Some(name.clone()),
                        table: Some(t.name.to_string()),
                        columns: vec![col.to_string()],
                        message,
                    },
                    _ => Error::Integrity {
                        kind: crate::error::IntegrityKind::ForeignKey,
                        constraint: None,
                        table,
                        columns,
                        message,
                    },
                }
            }
            other => other,
        }
    }

    fn flush_writes(
        &mut self,
        order: &[&'static TableDef],
        new: &[Rc<dyn Erased>],
        modified: &[Rc<dyn Erased>],
    ) -> Result<()> {
        for table in order {
            let inserts: Vec<&Rc<dyn Erased>> = new.iter().filter(|i| std::ptr::eq(i.table(), *table)).collect();
            if !inserts.is_empty() {
                self.insert_group(table, &inserts).map_err(|e| enrich(e, table, true))?;
            }
            for i in modified.iter().filter(|i| std::ptr::eq(i.table(), *table)) {
                self.update_one(table, &**i).map_err(|e| enrich(e, table, true))?;
            }
        }
        Ok(())
    }

    fn insert_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
        let engine = self.engine.clone();
        let dialect = engine.dialect();
        let caps = dialect.capabilities();
        let recovery = caps.key_recovery;
        let multi = caps.multi_row_insert;
        let max_params = caps.max_bind_params;
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
            let per_row = needs
                && recovery == KeyRecovery::LastInsertIdConsecutive
                && !self.conn.as_ref().is_none_or(Connection::consecutive_insert_keys);
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
                let conn = self.conn.as_mut().ok_or_else(|| Error::invalid("no transaction"))?;
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
                            Error::invalid(format!("the database reported no generated key for {}", table.name))
                        })?;
                        keys.extend((0..batch.len() as i64).map(|k| first + k));
                    }
                }
            }
            if needs {
                if keys.len() != batch.len() {
                    return Err(Error::invalid(format!(
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
            for (n, i) in batch.iter().enumerate() {
                // A generated single-column key is the key: no need to read it back.
                let key = match keys.get(n) {
                    Some(&k) if needs && key_is_generated => Key::One(KeyPart::Int(k)),
                    _ => i.compute_key()?,
                };
                {
                    let mut m = i.meta().borrow_mut();
                    m.state = ObjectState::Persistent;
                    m.key = Some(key.clone());
                    m.expired = false;
                }
                i.clear_snapshot();
                Rc::clone(i).identity_insert(&mut self.identity, key);
                self.inserted_in_tx.push(Rc::clone(i));
            }
            start = end;
        }
        Ok(())
    }

    fn update_one(&mut self, table: &'static TableDef, i: &dyn Erased) -> Result<()> {
        let mut meta = i.meta().borrow_mut();
        if meta.state != ObjectState::Persistent || !meta.listed_modified {
            meta.listed_modified = false;
            return Ok(());
        }
        let v = i.values()?;
        let snap = i.snapshot()?;
        let key = meta.key.clone().ok_or_else(|| Error::invalid("persistent object without a key"))?;
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
            return Err(Error::invalid(format!(
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
            return Err(Error::NotFound {
                what: format!(
                    "{} {key} to update (expected 1 row, matched {n}): it was deleted or changed by another transaction",
                    table.name
                ),
            });
        }
        i.clear_snapshot();
        meta.listed_modified = false;
        Ok(())
    }

    fn delete_group(&mut self, table: &'static TableDef, items: &[&Rc<dyn Erased>]) -> Result<()> {
        let keys: Vec<Key> = items.iter().filter_map(|i| i.meta().borrow().key.clone()).collect();
        let pk_cols = table.primary_key().count();
        let caps = self.engine.dialect().capabilities();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnDef;
    use crate::value::SqlType;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    struct Thing {
        id: i64,
    }

    static COLUMNS: [ColumnDef; 1] = [ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) }];
    static THINGS: TableDef = TableDef { name: "things", rust_name: "Thing", columns: &COLUMNS };

    impl Model for Thing {
        const TABLE: &'static TableDef = &THINGS;
        fn column_value(&self, _idx: usize) -> ValueRef<'_> {
            ValueRef::I64(self.id)
        }
        fn from_row(row: &dyn crate::driver::Row) -> Result<Self> {
            Ok(Thing { id: i64::from_value(row.get(0)?)? })
        }
        fn set_generated_key(&mut self, key: i64) -> Result<()> {
            self.id = key;
            Ok(())
        }
    }

    fn thing(id: i64) -> Rc<Instance<Thing>> {
        let meta = Meta {
            state: ObjectState::Persistent,
            key: Some(int(id)),
            expired: false,
            listed_modified: false,
            editing: false,
            session: Weak::new(),
        };
        Rc::new(Instance::new(Thing { id }, meta))
    }

    fn int(i: i64) -> Key {
        Key::One(KeyPart::Int(i))
    }

    #[test]
    fn identity_map_finds_replaces_removes_and_reuses_slots() {
        let mut m = TypedMap::<Thing>::new();
        for i in 0..100 {
            m.insert(int(i), thing(i));
        }
        assert_eq!(AnyMap::len(&m), 100);
        assert_eq!(m.get(&int(42)).map(|t| t.value.borrow().id), Some(42));
        AnyMap::remove(&mut m, &int(7));
        assert!(m.get(&int(7)).is_none() && !m.contains_key(&int(7)));
        m.insert(int(1000), thing(1000));
        assert_eq!(m.slots.len(), 100, "the freed slot is reused");
        m.insert(int(1000), thing(1000));
        assert_eq!(AnyMap::len(&m), 100, "inserting an existing key replaces it");
        let (found, new) = m.get_or_try_insert(int(5), |_| Err(Error::invalid("not called"))).unwrap();
        assert!(!new && found.value.borrow().id == 5);
        let (made, new) =
            m.get_or_try_insert(int(5000), |k| Ok(thing(if *k == int(5000) { 5000 } else { 0 }))).unwrap();
        assert!(new && made.value.borrow().id == 5000);
        assert!(m.get_or_try_insert(int(6000), |_| Err(Error::invalid("no row"))).is_err());
        assert!(!m.contains_key(&int(6000)), "a failed insert leaves nothing behind");
        let mut seen = 0;
        AnyMap::for_each_meta(&m, &mut |_| seen += 1);
        assert_eq!(seen, 101);
    }

    #[test]
    fn equal_keys_hash_equally_and_integers_spread() {
        let s = FastState::default();
        let text = |t: &str| Key::One(KeyPart::Text(t.into()));
        assert_eq!(s.hash_one(int(42)), s.hash_one(int(42)));
        assert_eq!(s.hash_one(text("ann")), s.hash_one(text(&String::from("ann"))));
        assert_ne!(s.hash_one(text("ann")), s.hash_one(text("bob")));
        let pair = |a, b: &str| Key::Many(vec![KeyPart::Int(a), KeyPart::Text(b.into())].into_boxed_slice());
        assert_eq!(s.hash_one(pair(1, "x")), s.hash_one(pair(1, "x")));
        // hashbrown picks buckets with the low bits and tags entries with the top 7.
        let low: HashSet<u64> = (0..1024i64).map(|i| s.hash_one(int(i)) & 1023).collect();
        let top: HashSet<u64> = (0..1024i64).map(|i| s.hash_one(int(i)) >> 57).collect();
        assert!(low.len() > 500 && top.len() > 100, "{} {}", low.len(), top.len());
    }
}
