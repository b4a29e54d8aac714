//! The [`Session`]: a unit of work with an identity map, dirty tracking, autoflush and
//! foreign-key-ordered flushes, over one pooled connection per transaction.
//!
//! # How objects are held
//!
//! `session.add(obj)` moves the object into the session and returns a [`Handle<M>`]: a cheap,
//! clonable `Rc` to the one in-memory instance of that row (`Handle::get` borrows it,
//! `Handle::edit` changes it and records the change). The session's identity map holds the same
//! `Rc`s, keyed by model type and primary key, so a row loaded twice is the same instance. Handles
//! point back to their session weakly: dropping the session detaches them (as `close()` does),
//! nothing leaks, and a handle can outlive its session. A detached object keeps the edits made to
//! it, and the flush of the session [`Session::add_handle`] attaches it to writes them (as
//! SQLAlchemy does after `session.add(obj)`); loading or changing its relationships needs a
//! session ([`Error::DetachedInstance`]). A session is one-thread (`!Send`), as in SQLAlchemy;
//! engines are shared across threads.
//!
//! The session is split the way SQLAlchemy's `orm/` is; this module is the session API, and each
//! file below holds one part of it:
//!
//! | file | what it holds |
//! |---|---|
//! | `bridge` | the async bridge (feature `tokio`): `SessionMaker::run`, `run_transaction`, `run_retrying` |
//! | `bulk` | bulk UPDATE / DELETE of the rows a query matches, and `insert` / upsert builders |
//! | `collections` | the relationship fields ([`HasMany`], [`ManyToMany`], [`BelongsTo`]) |
//! | `columns` | [`ColumnQuery`] and [`CompoundQuery`]: a session plus a column select or a UNION of them |
//! | `config` | the factory ([`sessionmaker`]), session settings and the serialization retry |
//! | `dependency` | relationships in the flush: foreign-key values, association rows, cascades |
//! | `detached` | [`Detached`]: a loaded object graph as a `Send` value, and made again (feature `serde`) |
//! | `execute` | `Session::execute` / `scalars` of raw SQL and of typed selects, [`TypedRows`] |
//! | `events` | session events and per-model hooks ([`Events`], [`Change`]), registered on the [`SessionMaker`] |
//! | `entities` | queries of several models per row, `query::<(User, Option<Post>)>()` |
//! | `graph` | the object graph in memory: `back_populates`, `save-update`, changed relationships |
//! | `identity` | identity keys and the identity map |
//! | `integrity` | integrity errors completed with the constraint name from the metadata |
//! | `loading` | relationship loading: loader options, joined and selectin loads, `Session::related` |
//! | `persistence` | the INSERT, UPDATE and DELETE statements of a flush, generated keys |
//! | `query` | the generative [`Query`]: a session, a [`crate::Select`] and loader options |
//! | `serialize` | serde for relationship fields and handles: nesting, back-references (feature `serde`) |
//! | `state` | object states ([`ObjectState`]), the snapshot, and the user's [`Handle`] |
//! | `stream` | `yield_per`: walking a large result in bounded memory |
//! | `transaction` | the transaction, savepoints, [`NestedTransaction`], rollback bookkeeping |
//! | `unit_of_work` | flush order by foreign keys, and what happens to objects when a step fails |
//!
//! This file is long (about 800 lines) because it is the session's whole public surface, as
//! SQLAlchemy's `orm/session.py` is: each method is short and hands the work to the files above.

#[cfg(feature = "tokio")]
mod bridge;
mod bulk;
mod collections;
mod columns;
mod config;
mod dependency;
#[cfg(feature = "serde")]
mod detached;
mod entities;
mod events;
mod execute;
mod graph;
mod identity;
mod integrity;
mod lazy;
mod loaders;
mod loading;
mod merge;
mod persistence;
mod query;
#[cfg(feature = "serde")]
mod serialize;
mod state;
mod stream;
mod transaction;
mod unit_of_work;

pub use crate::column_select::{Derived, Selection, SelectionIn};
pub use bulk::{ColumnList, Insert, OnConflict, Synchronize, UpdateSet};
pub use collections::{
    AnyHandle, AnyRelation, BelongsTo, HasMany, LoadCtx, Many, ManyToMany, ModelMarker, ModelType, One, RelKind,
    Relationship,
};
pub use columns::{ColumnQuery, CompoundQuery};
pub use config::{sessionmaker, LazyLoads, SessionConfig, SessionMaker};
#[cfg(feature = "serde")]
pub use detached::Detached;
pub use entities::{EntityPart, QueryEntities};
pub use events::{Change, Events};
pub use execute::{Executable, ScalarExecutable, TypedRows};
pub use identity::IntoPrimaryKey;
pub use loaders::Loaders;
pub use loading::{defaultload, joinedload, lazyload, raiseload, selectinload, Load};
pub use merge::MergeOptions;
pub use query::{position, Dynamic, InQuery, Joined, Query};
#[cfg(feature = "serde")]
pub use serialize::{is_unloaded, SerializedRelation};
pub use state::{Handle, ObjectState};
pub use stream::{ColumnIter, QueryIter, DEFAULT_YIELD_PER};
pub use transaction::NestedTransaction;

use self::identity::{IdentityMap, Key, TypedMap};
use self::integrity::is_database_error;
use self::state::{borrowed_error, Erased, Instance, Meta};
use self::transaction::Frame;
use crate::model::Model;
use athanor_core::dialect::TxOptions;
use athanor_core::engine::{Connection, Engine, ResultRow};
use athanor_core::error::{Error, Result};

use athanor_core::sql;
use athanor_core::value::{FromValue, Value, ValueRef};
use std::any::TypeId;
use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

struct Inner {
    engine: Engine,
    /// The factory's events, for the unit of work's model hooks (the same as `Shared::events`).
    events: std::sync::Arc<events::Events>,
    config: SessionConfig,
    conn: Option<Connection>,
    /// `conn` runs in autocommit mode: it was taken for a read with
    /// [`SessionConfig::autocommit_reads`] and no transaction was begun on it.
    autocommit: bool,
    next_tx: Option<TxOptions>,
    identity: IdentityMap,
    new: Vec<Rc<dyn Erased>>,
    deleted: Vec<Rc<dyn Erased>>,
    inserted_in_tx: Vec<Rc<dyn Erased>>,
    deleted_in_tx: Vec<Rc<dyn Erased>>,
    savepoints: Vec<Frame>,
    savepoint_seq: u64,
    /// Set when a flush (or a database error) failed: (the error, savepoint depth at failure).
    failed: Option<(Error, usize)>,
    /// Relationship fields changed since the last flush.
    dirty_rels: Vec<graph::DirtyRel>,
    /// `(instance address, relationship)` of `dirty_rels`, to record each field once.
    dirty_index: std::collections::HashSet<(usize, usize)>,
    /// An error `add` could not return (a related object that cannot be related), reported by
    /// the next flush.
    deferred_error: Option<Error>,
    /// Set by an async bridge when its caller stopped waiting ([`Session::is_cancelled`]).
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Statements of [`Session::statements_since`] sent on connections the session gave back.
    statements_before: u64,
    /// N+1 detection's state ([`SessionConfig::lazy_loads`]).
    lazy: lazy::LazyWatch,
    /// The session wrote (or asked for the primary): every statement goes to the primary from
    /// now on (read replicas, docs/scaling.md).
    pinned: bool,
    /// The position replica reads must have applied ([`SessionMaker::session_after`]), then
    /// the position of the session's last commit that wrote ([`Session::consistency_token`]).
    token: Option<athanor_core::ConsistencyToken>,
}

impl Inner {
    /// Empty the identity map: every object in it becomes detached (keeping its key, its values
    /// and any edit it records), with its relationship fields back to "not loaded" (related
    /// objects hold each other, `post.author` ↔ `user.posts`: this frees them).
    fn detach_all(&mut self) {
        self.identity.reset_relationships();
        for i in &self.new {
            identity::reset_relationships(&**i);
        }
        self.identity.for_each_meta(|m| {
            let mut m = m.borrow_mut();
            m.state = ObjectState::Detached;
            m.session = Weak::new();
        });
        self.identity = IdentityMap::default();
    }
}

struct Shared {
    id: u64,
    /// The factory's events (see `events`).
    events: std::sync::Arc<events::Events>,
    modified: RefCell<Vec<Rc<dyn Erased>>>,
    inner: RefCell<Inner>,
    /// A query with `populate_existing()` is loading: rows refresh the objects already held,
    /// each once (the addresses of those refreshed so far).
    populate_existing: RefCell<Option<std::collections::HashSet<usize>>>,
}

impl Drop for Shared {
    /// Dropping the session is [`Session::close`]: roll back (objects back to their state before
    /// the transaction, unflushed edits undone) and detach every object.
    fn drop(&mut self) {
        let modified = std::mem::take(self.modified.get_mut());
        let inner = self.inner.get_mut();
        inner.restore_after_rollback(modified);
        inner.detach_all();
    }
}

/// A unit of work: the objects it holds, the changes it will flush, and the transaction it runs
/// in. Made by [`SessionMaker::session`].
///
/// Dropping a session is [`Session::close`]: it rolls back its uncommitted work, returns its
/// connection to the pool and detaches its objects (see [`ObjectState::Detached`]). One session
/// per thread (`!Send`), as in SQLAlchemy.
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
            d.field("in_transaction", &(i.conn.is_some() && !i.autocommit))
                .field("objects", &i.identity.len())
                .field("new", &i.new.len());
        }
        d.finish()
    }
}

static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

/// What [`Session::execute`] returns: the rows of a statement that returns rows (readable by
/// position or column name; the value derefs to `[ResultRow]`), or the number of rows another
/// statement affected.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// The rows (empty for a statement that returns none).
    pub rows: Vec<ResultRow>,
    /// Rows affected by an INSERT, UPDATE or DELETE without RETURNING (0 for a query).
    pub affected: u64,
}

impl std::ops::Deref for Rows {
    type Target = [ResultRow];
    fn deref(&self) -> &[ResultRow] {
        &self.rows
    }
}

impl IntoIterator for Rows {
    type Item = ResultRow;
    type IntoIter = std::vec::IntoIter<ResultRow>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

/// `for row in &rows`: the rows by reference.
///
/// ```
/// # use athanor_orm::Rows;
/// let rows = Rows::default();
/// for row in &rows {
///     let _ = row.values().len();
/// }
/// assert_eq!((&rows).into_iter().count(), 0);
/// ```
impl<'a> IntoIterator for &'a Rows {
    type Item = &'a ResultRow;
    type IntoIter = std::slice::Iter<'a, ResultRow>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

const SQL_SELECT_BY_PK: u8 = 1;
const SQL_UPDATE: u8 = 2;

impl Session {
    /// A session on an engine with the given settings (usually via [`sessionmaker`]).
    pub fn with_config(engine: &Engine, config: SessionConfig) -> Session {
        Session::with_events(engine, config, Default::default())
    }

    /// A session with a factory's events.
    fn with_events(engine: &Engine, config: SessionConfig, events: std::sync::Arc<events::Events>) -> Session {
        Session {
            shared: Rc::new(Shared {
                id: SESSION_IDS.fetch_add(1, Ordering::Relaxed),
                events: events.clone(),
                modified: RefCell::new(Vec::new()),
                populate_existing: RefCell::new(None),
                inner: RefCell::new(Inner {
                    engine: engine.clone(),
                    events,
                    config,
                    conn: None,
                    autocommit: false,
                    next_tx: None,
                    identity: IdentityMap::default(),
                    new: Vec::new(),
                    deleted: Vec::new(),
                    inserted_in_tx: Vec::new(),
                    deleted_in_tx: Vec::new(),
                    savepoints: Vec::new(),
                    savepoint_seq: 0,
                    failed: None,
                    dirty_rels: Vec::new(),
                    dirty_index: std::collections::HashSet::new(),
                    deferred_error: None,
                    cancel: None,
                    statements_before: 0,
                    lazy: lazy::LazyWatch::default(),
                    pinned: false,
                    token: None,
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

    /// `true` while a transaction is open (after autobegin or `begin()`). With
    /// [`SessionMaker::autocommit_reads`], reads alone open none.
    pub fn in_transaction(&self) -> bool {
        let inner = self.inner();
        inner.conn.is_some() && !inner.autocommit
    }

    /// `true` unless a failed flush is waiting for `rollback()`.
    pub fn is_active(&self) -> bool {
        self.inner().failed.is_none()
    }

    /// How many objects the identity map holds.
    pub fn identity_count(&self) -> usize {
        self.inner().identity.len()
    }

    /// `true` when the async bridge that made this session ([`SessionMaker::run`], feature
    /// `tokio`) lost its caller: the awaiting future was dropped (the client went away, a
    /// timeout fired). The session then refuses to send anything more (each statement fails
    /// with [`Error::InvalidRequest`]) and its uncommitted work is rolled back when the closure
    /// returns; a long closure may check this to stop early. Always `false` elsewhere.
    pub fn is_cancelled(&self) -> bool {
        self.inner().cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Mark this session as the async bridge's, with the flag its dropped caller sets.
    #[cfg(feature = "tokio")]
    pub(crate) fn set_cancel_flag(&self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.inner().cancel = Some(flag);
    }

    /// `true` when there are changes a flush would write.
    pub fn is_dirty(&self) -> bool {
        let inner = self.inner();
        !inner.new.is_empty()
            || !inner.deleted.is_empty()
            || !inner.dirty_rels.is_empty()
            || inner.deferred_error.is_some()
            || !self.shared.modified.borrow().is_empty()
    }

    /// Refuse new work while the transaction awaits `rollback()` or the connection is streaming
    /// a result (`yield_per`).
    fn check_failed(&self) -> Result<()> {
        let inner = self.inner();
        if let Some((cause, _)) = &inner.failed {
            return Err(Error::PendingRollback { cause: Box::new(cause.clone()) });
        }
        inner.check_not_streaming()
    }

    /// Begin a transaction now with the session's default options. Fails if one is open.
    ///
    /// # Errors
    /// Those of [`Session::begin_with`].
    pub fn begin(&self) -> Result<()> {
        let opts = self.inner().config.transaction;
        self.begin_with(opts)
    }

    /// Begin a transaction now with these options (isolation level, read only, write intent).
    ///
    /// # Errors
    /// [`Error::PendingRollback`] after a failed flush; [`Error::InvalidRequest`] when a
    /// transaction is already open; connecting's and BEGIN's errors.
    pub fn begin_with(&self, opts: TxOptions) -> Result<()> {
        self.check_failed()?;
        let mut inner = self.inner();
        if inner.conn.is_some() && !inner.autocommit {
            return Err(Error::invalid_request(
                "a transaction is already begun on this session; commit or roll back first",
            ));
        }
        inner.next_tx = Some(opts);
        inner.ensure_conn()?;
        Ok(())
    }

    /// Add a new object; it is inserted at the next flush. Returns its handle.
    ///
    /// Its collections that are not loaded start empty (it has no rows yet); related objects
    /// it holds are mirrored on their `back_populates` side and, if transient, added too
    /// (`save-update` cascade). A related object that cannot be related (of another session,
    /// detached) fails the next flush with [`Error::InvalidRequest`].
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
                exprs: Default::default(),
                origin: 0,
            },
        );
        self.inner().new.push(h.erased());
        if !M::RELATIONSHIPS.is_empty() {
            if let Err(e) = self.adopt_relationships(&h.erased()) {
                self.inner().deferred_error.get_or_insert(e);
            }
        }
        h
    }

    /// Add several new objects.
    pub fn add_all<M: Model>(&self, objs: impl IntoIterator<Item = M>) -> Vec<Handle<M>> {
        objs.into_iter().map(|o| self.add(o)).collect()
    }

    /// Put a handle back into this session (SQLAlchemy's `session.add(obj)` of an object that
    /// is not new): a transient one (e.g. whose insert was rolled back) becomes pending again; a
    /// detached one becomes persistent again, in the identity map under the key it had, and the
    /// edits it recorded while detached (or before it was expunged) are written by the next
    /// flush: one UPDATE of exactly the changed columns. It is expired (its values come from an
    /// earlier transaction): the next query returning its row reloads the columns it did not
    /// change. Its relationship fields are not loaded; `related` loads them.
    ///
    /// # Errors
    /// [`Error::IdentityConflict`] for a detached object whose key another object of this
    /// session already has (expunge that one first, or edit that one instead); nothing changes.
    /// [`Error::InvalidRequest`] for an object of another (open) session.
    pub fn add_handle<M: Model>(&self, h: &Handle<M>) -> Result<()> {
        let mut meta = h.inner.meta().borrow_mut();
        if meta.state != ObjectState::Transient && meta.state != ObjectState::Detached && !self.owns(&meta) {
            return Err(Error::invalid_request(format!("this {} belongs to another session", M::TABLE.rust_name)));
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
                // The key the row had: an edit of the key itself is refused by the flush, as for
                // any persistent object.
                let key = match &meta.key {
                    Some(k) => k.clone(),
                    None => h.inner.compute_key()?,
                };
                let mut inner = self.inner();
                if inner.identity.typed::<M>().is_some_and(|m| m.contains_key(&key)) {
                    return Err(Error::IdentityConflict { model: M::TABLE.rust_name, key: key.to_string() });
                }
                meta.state = ObjectState::Persistent;
                meta.key = Some(key.clone());
                meta.expired = true;
                meta.session = Rc::downgrade(&self.shared);
                inner.identity.typed_mut::<M>().insert(key, h.instance_rc()?);
                let edited = meta.listed_modified;
                drop(meta);
                drop(inner);
                // Its relationships read as not loaded, as the docs say: a detached object made
                // by `Detached::into_handle` comes with loaded ones, whose objects are not here.
                identity::reset_relationships(&*h.inner);
                if edited {
                    self.shared.modified.borrow_mut().push(h.erased());
                }
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
        let mut meta = h.inner.meta().borrow_mut();
        if !self.owns(&meta) {
            return Err(Error::invalid_request(format!("this {} is not in this session", M::TABLE.rust_name)));
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
            other => Err(Error::invalid_request(format!("cannot delete a {other:?} {}", M::TABLE.rust_name))),
        }
    }

    /// Remove an object from the session without touching the database: a pending one becomes
    /// transient (it is not inserted), any other detached (a deletion not yet flushed is
    /// forgotten). A detached object keeps its unflushed column edits: they are written after
    /// [`Session::add_handle`] attaches it again (to this session or another), as in SQLAlchemy.
    /// Its relationship fields are reset to "not loaded" (unflushed relationship changes are
    /// forgotten), as for every detached object.
    pub fn expunge<M: Model>(&self, h: &Handle<M>) {
        let mut meta = h.inner.meta().borrow_mut();
        if !self.owns(&meta) {
            return;
        }
        let target = h.erased();
        let mut inner = self.inner();
        inner.new.retain(|i| !Rc::ptr_eq(i, &target));
        inner.deleted.retain(|i| !Rc::ptr_eq(i, &target));
        inner.inserted_in_tx.retain(|i| !Rc::ptr_eq(i, &target));
        inner.deleted_in_tx.retain(|i| !Rc::ptr_eq(i, &target));
        let addr = Rc::as_ptr(&target) as *const () as usize;
        inner.dirty_rels.retain(|d| !Rc::ptr_eq(&d.owner, &target));
        inner.dirty_index.retain(|(a, _)| *a != addr);
        if let Some(k) = &meta.key {
            inner.identity.remove(TypeId::of::<M>(), k);
        }
        drop(inner);
        self.shared.modified.borrow_mut().retain(|i| !Rc::ptr_eq(i, &target));
        meta.session = Weak::new();
        if meta.key.is_some() {
            meta.state = ObjectState::Detached;
        } else {
            meta.state = ObjectState::Transient;
            meta.listed_modified = false;
            h.inner.clear_snapshot();
        }
        drop(meta);
        identity::reset_relationships(&*target);
    }

    /// Mark an object as out of date: the next query returning its row (or `get`, `load`,
    /// `refresh`) reloads it.
    pub fn expire<M: Model>(&self, h: &Handle<M>) {
        let mut meta = h.inner.meta().borrow_mut();
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
            let meta = h.inner.meta().borrow();
            if !self.owns(&meta) || meta.state != ObjectState::Persistent {
                return Err(Error::invalid_request(format!(
                    "this {} is not persistent in this session",
                    M::TABLE.rust_name
                )));
            }
            meta.key.clone().ok_or_else(|| Error::invalid_request("object has no identity key"))?
        };
        self.check_failed()?;
        let engine = self.engine();
        let sql = engine.cached_sql(M::TABLE, SQL_SELECT_BY_PK, |d| sql::select_by_pk(d, M::TABLE))?;
        let params: Vec<ValueRef<'_>> = key.params().collect();
        let mut fresh: Option<M> = None;
        self.with_read_conn(|conn| {
            conn.query_read_refs(&sql, &params, &mut |row| {
                fresh = Some(M::from_row(row)?);
                Ok(())
            })
        })?;
        let m = fresh.ok_or_else(|| Error::NotFound { what: format!("{} {key}", M::TABLE.name) })?;
        self.shared.events.after_load(&m)?;
        *h.instance().value.try_borrow_mut().map_err(|_| borrowed_error(M::TABLE))? = m;
        h.inner.clear_snapshot();
        let mut meta = h.inner.meta().borrow_mut();
        meta.expired = false;
        // Columns set to expressions are unflushed changes too.
        meta.exprs.clear();
        Ok(())
    }

    /// Run `f` on the session's connection (autobegin), recording a database error as a failed
    /// transaction.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut inner = self.inner();
        inner.check_not_streaming()?;
        inner.ensure_conn()?;
        let r = match inner.conn.as_mut() {
            Some(c) => f(c),
            None => Err(Error::invalid_request("no connection")),
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner.fail(e);
            }
        }
        r
    }

    /// [`Session::with_conn`] for a read (a SELECT the ORM built): outside a transaction with
    /// `autocommit_reads`, where a failure leaves the session usable.
    fn with_read_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut inner = self.inner();
        inner.check_not_streaming()?;
        inner.ensure_read_conn()?;
        let r = match inner.conn.as_mut() {
            Some(c) => f(c),
            None => Err(Error::invalid_request("no connection")),
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner.read_failed(e);
            }
        }
        r
    }

    /// Begin the transaction now if the session reads without one (`autocommit_reads`): for a
    /// read that needs one (`FOR UPDATE`'s locks).
    pub(crate) fn ensure_transaction(&self) -> Result<()> {
        self.check_failed()?;
        self.inner().ensure_conn()
    }

    /// `true` when the transaction this session's next statement runs in holds the database's
    /// write lock: the open one began with `write_intent`, or, with none open, the one autobegin
    /// will begin will (the session's, `begin_with`'s or the engine's `write_intent`).
    fn holds_write_lock(&self) -> bool {
        let inner = self.inner();
        match &inner.conn {
            // A connection held for autocommit reads has no transaction: the next one autobegins.
            Some(c) if !inner.autocommit => c.transaction_options().is_some_and(|o| o.write_intent),
            _ => inner.engine.transaction_options(inner.next_tx.unwrap_or(inner.config.transaction)).write_intent,
        }
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
        inner_ref.ensure_read_conn()?;
        let origin = inner_ref.next_origin();
        let r = {
            let Inner { conn, identity, .. } = &mut *inner_ref;
            let conn = conn.as_mut().ok_or_else(|| Error::invalid_request("no connection"))?;
            let map = identity.typed_mut::<M>();
            conn.query_read_refs(sql, params, &mut |row| {
                let (inst, _) = identity_row::<M>(map, &weak, row, origin)?;
                sink(Handle::from_instance(inst));
                Ok(())
            })
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner_ref.read_failed(e);
            }
        }
        r
    }

    /// [`Model::check_values`] of every new and modified object.
    fn check_pending_values(&self) -> Result<()> {
        let inner = self.inner();
        let modified = self.shared.modified.borrow();
        for i in inner.new.iter().chain(modified.iter()) {
            i.values()?.check_values()?;
        }
        Ok(())
    }

    /// Run a query returning one value (used by `Query::count`/`exists`).
    pub(crate) fn scalar<T: FromValue>(&self, sql: &str, params: &[Value]) -> Result<T> {
        self.prepare_read()?;
        let refs: Vec<ValueRef<'_>> = params.iter().map(Value::as_ref).collect();
        let mut rows = 0usize;
        let mut value = None;
        self.with_read_conn(|c| {
            c.query_read_refs(sql, &refs, &mut |row| {
                rows += 1;
                if rows == 1 {
                    let cell = T::from_value(row.get(0)?).map_err(|e| match e {
                        Error::TypeMismatch { expected, found, .. } => Error::TypeMismatch {
                            column: row.column_name(0).unwrap_or("#0").to_string(),
                            expected,
                            found,
                        },
                        other => other,
                    })?;
                    value = Some(cell);
                }
                Ok(())
            })
        })?;
        match (rows, value) {
            (1, Some(v)) => Ok(v),
            (0, _) => Err(Error::NotFound { what: sql.to_string() }),
            _ => Err(Error::MultipleResults { what: sql.to_string() }),
        }
    }

    /// Run a SQL statement in the session's transaction (after autoflush); rows affected.
    /// Placeholders follow the dialect (`?` or `$n`); [`Session::execute`] with
    /// [`athanor_core::sql::text`] takes portable `:name` binds instead.
    ///
    /// # Errors
    /// [`Error::PendingRollback`] after a failed flush; the autoflush's errors; the statement's
    /// (a database error also fails the session's transaction: it then needs `rollback()`).
    pub fn execute_sql(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.prepare_read()?;
        self.with_conn(|c| c.execute(sql, params))
    }

    /// Run portable raw SQL (what [`Session::execute`] does with a [`Text`]).
    pub(crate) fn execute_text(&self, statement: athanor_core::sql::Text) -> Result<Rows> {
        let engine = self.engine();
        let st = statement.to_sql(engine.dialect())?;
        self.prepare_read()?;
        if statement.returns_rows() {
            let rows = self.with_conn(|c| c.query(&st.sql, &st.params))?;
            Ok(Rows { affected: 0, rows })
        } else {
            let affected = self.with_conn(|c| c.execute(&st.sql, &st.params))?;
            Ok(Rows { rows: Vec::new(), affected })
        }
    }

    /// Run a SQL query in the session's transaction (after autoflush) and return its rows.
    ///
    /// # Errors
    /// Those of [`Session::execute`].
    pub fn query_sql(&self, sql: &str, params: &[Value]) -> Result<Vec<ResultRow>> {
        self.prepare_read()?;
        self.with_conn(|c| c.query(sql, params))
    }

    /// A query for model `M` (`session.query(Customer)`), or for rows of several models
    /// (`session.query::<(User, Option<Post>)>().outerjoin(User::posts)`, see [`QueryEntities`]).
    pub fn query<E: QueryEntities>(&self) -> Query<'_, E::Root, (), E> {
        Query::new(self)
    }

    /// The object with this primary key: from the identity map without SQL when it is loaded
    /// and not expired, else by a SELECT (after autoflush). `None` if there is no such row, or
    /// the object is marked deleted.
    ///
    /// The key may be the `Option` a model's generated key is (`session.get::<User>(u.get().id)`):
    /// `None` (or any NULL part of a composite key) matches no row, since no primary key is
    /// NULL, and gives `Ok(None)` without SQL, as SQLAlchemy's `get(None)` returns `None`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the key has the wrong number of columns.
    pub fn get<M: Model>(&self, pk: impl IntoPrimaryKey) -> Result<Option<Handle<M>>> {
        self.check_failed()?;
        let values = pk.into_key_values();
        if values.iter().any(|v| matches!(v, Value::Null)) {
            return Ok(None);
        }
        let key = Key::from_values(&values, M::TABLE)?;
        let sql = {
            let inner = self.inner();
            if let Some(inst) = inner.identity.typed::<M>().and_then(|m| m.get(&key)) {
                let meta = inst.meta.borrow();
                if meta.state == ObjectState::Deleted {
                    return Ok(None);
                }
                if !meta.expired {
                    return Ok(Some(Handle::from_instance(inst.clone())));
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
        if !self.is_dirty() {
            return Ok(());
        }
        let events = self.events();
        self.run_session_hooks(&events.before_flush)?;
        // Values a column cannot store exactly are refused before anything is sent; the session
        // stays usable (fix the value, or expunge the object).
        self.check_pending_values()?;
        // Relationship changes become foreign-key values and cascaded deletes first (this may
        // load the children of deleted objects).
        let conn = self.inner().ensure_conn();
        let plan = match conn.and_then(|_| self.plan_relationships()) {
            Ok(p) => p,
            Err(e) => {
                if is_database_error(&e) {
                    self.inner().fail(&e);
                }
                return Err(e);
            }
        };
        let modified = std::mem::take(&mut *self.shared.modified.borrow_mut());
        let mut inner = self.inner();
        let r = inner.flush(&modified, plan);
        match r {
            Ok(()) => {
                drop(inner);
                self.run_session_hooks(&events.after_flush)
            }
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
        let autocommit = inner.autocommit;
        let Some(mut conn) = inner.take_conn() else {
            return Ok(());
        };
        inner.savepoints.clear();
        // Reads without a transaction (`autocommit_reads`) have nothing to commit: the
        // connection goes back to the pool, and the objects expire as after any commit.
        let committed = if autocommit { Ok(()) } else { conn.commit() };
        if let Err(e) = committed {
            drop(conn);
            inner.restore_after_rollback(Vec::new());
            return Err(e);
        }
        // Read-your-writes for later sessions: where this commit's position is (read replicas).
        if !autocommit && inner.pinned && !conn.is_replica() && inner.engine.has_replicas() {
            match conn.consistency_token() {
                Ok(t) => inner.token = Some(t),
                Err(e) => tracing::warn!(target: "athanor::session", "no consistency token after commit: {e}"),
            }
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
        drop(inner);
        if !autocommit {
            for h in &self.events().after_commit {
                h(self);
            }
        }
        Ok(())
    }

    /// Send every later statement of this session to the primary, as its first write does
    /// (read replicas, docs/scaling.md). A read transaction open on a replica is ended (it
    /// wrote nothing); the objects it loaded stay. Without replicas this changes nothing.
    pub fn bind_primary(&self) {
        self.inner().pin_primary();
    }

    /// Whether this session sends everything to the primary: it wrote, flushed, locked
    /// (`FOR UPDATE`), began a transaction, ran raw SQL, or [`Session::bind_primary`] was
    /// called; also when its factory turned replica reads off or begins with `write_intent`.
    pub fn is_bound_to_primary(&self) -> bool {
        let inner = self.inner();
        !inner.routes_reads()
    }

    /// Whether the session's connection now is to a read replica.
    pub fn on_replica(&self) -> bool {
        self.inner().conn.as_ref().is_some_and(Connection::is_replica)
    }

    /// The position a later session must see to read this session's writes: the position of
    /// its last commit that wrote (taken right after COMMIT on the primary), else the token it
    /// was made with ([`SessionMaker::session_after`]); `None` when neither exists or the
    /// engine has no replicas. Give it to [`SessionMaker::session_after`] (through a cookie:
    /// `to_string()` / [`ConsistencyToken::parse`](athanor_core::ConsistencyToken::parse)).
    pub fn consistency_token(&self) -> Option<athanor_core::ConsistencyToken> {
        self.inner().token.clone()
    }

    /// [`Session::consistency_token`] for a session that committed a write: the token to hand
    /// to [`SessionMaker::after`] (`sessions.after(&token).session()`).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when there is none: the session has not committed a write and
    /// was not made with a token, or the engine has no read replicas (every session then reads
    /// the primary, and no token is needed).
    pub fn commit_token(&self) -> Result<athanor_core::ConsistencyToken> {
        self.consistency_token().ok_or_else(|| {
            Error::invalid_request(
                "no consistency token: the session has not committed a write on an engine with read replicas",
            )
        })
    }

    /// Roll back and empty the session, as dropping it does: the transaction's work is undone
    /// (as by [`Session::rollback`]: unflushed edits undone, objects inserted in it transient
    /// again), then every object is detached, keeping its values, and its relationship fields
    /// read as not loaded. A detached object's later edits are kept and written after
    /// [`Session::add_handle`] attaches it to a session. The session itself stays usable.
    pub fn close(&self) {
        let _ = self.rollback();
        self.inner().detach_all();
    }
}

/// The instance for a row of model `M`'s columns, through the identity map: a new row makes a
/// persistent instance; an expired one is refreshed from the row (its relationship fields back
/// to "not loaded"), unless it has unflushed edits (with autoflush off): those are kept, as
/// SQLAlchemy keeps modified attributes, and the next flush writes them.
fn identity_row<M: Model>(
    map: &mut TypedMap<M>,
    session: &Weak<Shared>,
    row: &dyn athanor_core::row::Row,
    origin: u64,
) -> Result<(Rc<Instance<M>>, bool)> {
    let key = Key::build(M::TABLE, |i| row.get(i))?;
    let (inst, new) = map.get_or_try_insert(key, |key| {
        let m = M::from_row(row)?;
        after_load(session, &m)?;
        let meta = Meta {
            state: ObjectState::Persistent,
            key: Some(key.clone()),
            expired: false,
            listed_modified: false,
            editing: false,
            session: session.clone(),
            exprs: Default::default(),
            origin,
        };
        Ok(Rc::new(Instance::new(m, meta)))
    })?;
    if origin != 0 && !new {
        inst.meta.borrow_mut().origin = origin;
    }
    let reload = !new && {
        let m = inst.meta.borrow();
        !m.listed_modified && (m.expired || refresh_once(session, Rc::as_ptr(inst) as *const () as usize))
    };
    if reload {
        let fresh = M::from_row(row)?;
        after_load(session, &fresh)?;
        if let Ok(mut v) = inst.value.try_borrow_mut() {
            *v = fresh;
            inst.clear_snapshot();
            inst.meta.borrow_mut().expired = false;
        }
    }
    Ok((inst.clone(), new))
}

/// Whether a query with `populate_existing()` is loading and has not refreshed the object at
/// `addr` yet (then it is now counted as refreshed).
fn refresh_once(session: &Weak<Shared>, addr: usize) -> bool {
    session.upgrade().is_some_and(|s| s.populate_existing.borrow_mut().as_mut().is_some_and(|seen| seen.insert(addr)))
}

/// While alive, rows loaded by the session refresh the objects it already holds, each once
/// (`Query::populate_existing`); dropped, the session is back to its rule.
pub(super) struct Populating<'a> {
    shared: Option<&'a Shared>,
}

impl Drop for Populating<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.shared {
            *s.populate_existing.borrow_mut() = None;
        }
    }
}

impl Session {
    /// Refresh held objects from the rows loaded until the guard drops, when `on`.
    pub(super) fn populating(&self, on: bool) -> Populating<'_> {
        let mut slot = self.shared.populate_existing.borrow_mut();
        if !on || slot.is_some() {
            return Populating { shared: None };
        }
        *slot = Some(Default::default());
        Populating { shared: Some(&self.shared) }
    }
}

/// The factory's `after_load` hooks of model `M`, on an object just built from a row.
fn after_load<M: Model>(session: &Weak<Shared>, m: &M) -> Result<()> {
    match session.upgrade() {
        Some(s) if s.events.has_model_hooks() => s.events.after_load(m),
        _ => Ok(()),
    }
}
