//! Session events and per-model hooks (SQLAlchemy's `event.listen(Session, "before_flush", …)`
//! and mapper events), registered on the [`SessionMaker`] so every session it makes has them.
//!
//! The hooks are plain data: [`Events`] holds `Arc`ed closures (`Send + Sync + 'static`), so a
//! `SessionMaker` stays `Clone + Send + Sync`; per-model hooks are kept by the model's `TypeId`
//! and wrapped once, at registration, into an erased closure that downcasts to the model. The
//! derive writes nothing for them.
//!
//! | event | when | argument |
//! |---|---|---|
//! | `before_flush` | a flush with work to do starts (autoflush, `commit()` included) | `&Session` |
//! | `after_flush` | every statement of that flush succeeded | `&Session` |
//! | `after_commit` | `commit()` committed a transaction | `&Session` |
//! | `after_rollback` | `rollback()` (or `close()`) ended a transaction or a failed flush | `&Session` |
//! | `before_insert::<M>` | per new object of the flush, and per row of `session.insert::<M>()` (upserts too) | [`Change::Object`] |
//! | `before_update::<M>` | per modified object of the flush; once per `query.update(…)` | `Object` / [`Change::Keys`] |
//! | `before_delete::<M>` | per deleted object of the flush; once per `query.delete()` | `Object` / `Keys` |
//! | `after_load::<M>` | an object was built (or an expired one refreshed) from a row | `&M` |
//!
//! An error returned by a `before_flush`, `after_flush` or model hook aborts what was running as
//! a failed statement does: the transaction is rolled back and the session answers
//! [`Error::PendingRollback`] until `rollback()`, after which it is usable.

use super::identity::Key;
use super::state::{Erased, Instance};
use super::{Session, SessionMaker};
use crate::model::Model;
use athanor_core::error::{Error, Result};
use athanor_core::value::{Value, ValueRef};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// A session event's listener.
type SessionHook = Arc<dyn Fn(&Session) -> Result<()> + Send + Sync>;
/// A session event's listener that cannot fail (after the transaction ended).
type SessionNotice = Arc<dyn Fn(&Session) + Send + Sync>;

/// What a per-model `before_insert` / `before_update` / `before_delete` hook is called with.
#[derive(Debug)]
pub enum Change<'a, M> {
    /// One object of the unit of work (or one row of `session.insert::<M>().values(…)`), before
    /// its statement is written: a change made here to a `before_insert` or `before_update`
    /// object is written by that statement (a `before_delete` object's changes are discarded).
    Object(&'a mut M),
    /// A bulk `query.update(…)` / `query.delete()`: the primary keys (each the key's columns in
    /// order) of the rows its filters match, read in the same transaction just before the
    /// statement runs. A row that comes to match only through another transaction's change
    /// committed between that read and the statement (READ COMMITTED) is not listed.
    Keys(&'a [Vec<Value>]),
}

/// What the unit of work hands an erased model hook.
pub(super) enum AnyTarget<'a> {
    /// An object in the session (`Instance<M>` as `Any`).
    Instance(&'a dyn Any),
    /// A value outside the session (a bulk insert's row, `M` as `Any`).
    Value(&'a mut dyn Any),
    Keys(&'a [Vec<Value>]),
}

type ModelHook = Arc<dyn Fn(AnyTarget<'_>) -> Result<()> + Send + Sync>;
type LoadHook = Arc<dyn Fn(&dyn Any) -> Result<()> + Send + Sync>;

/// One model's hooks.
#[derive(Clone, Default)]
pub(super) struct ModelHooks {
    pub(super) before_insert: Vec<ModelHook>,
    pub(super) before_update: Vec<ModelHook>,
    pub(super) before_delete: Vec<ModelHook>,
    pub(super) after_load: Vec<LoadHook>,
}

/// Which per-model hook: `before_insert`, `before_update` or `before_delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hook {
    Insert,
    Update,
    Delete,
}

/// The events of a [`SessionMaker`]: session listeners and per-model hooks. Empty by default
/// (and then nearly free: each hook point checks that a list or map is empty).
#[derive(Clone, Default)]
pub struct Events {
    pub(super) before_flush: Vec<SessionHook>,
    pub(super) after_flush: Vec<SessionHook>,
    pub(super) after_commit: Vec<SessionNotice>,
    pub(super) after_rollback: Vec<SessionNotice>,
    pub(super) models: HashMap<TypeId, ModelHooks>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("before_flush", &self.before_flush.len())
            .field("after_flush", &self.after_flush.len())
            .field("after_commit", &self.after_commit.len())
            .field("after_rollback", &self.after_rollback.len())
            .field("models", &self.models.len())
            .finish()
    }
}

fn wrong_model(what: &str) -> Error {
    Error::invalid_request(format!("an event hook was called with an object of another model than its {what}"))
}

impl Events {
    /// `true` when some model has a hook of this kind.
    pub(super) fn has_model_hooks(&self) -> bool {
        !self.models.is_empty()
    }

    fn hooks(&self, model: TypeId, hook: Hook) -> &[ModelHook] {
        match self.models.get(&model) {
            None => &[],
            Some(h) => match hook {
                Hook::Insert => &h.before_insert,
                Hook::Update => &h.before_update,
                Hook::Delete => &h.before_delete,
            },
        }
    }

    /// `true` when model `model` has a hook of kind `hook`.
    pub(super) fn has(&self, model: TypeId, hook: Hook) -> bool {
        !self.hooks(model, hook).is_empty()
    }

    /// Run `hook` of the object's model on an object of the session.
    pub(super) fn on_instance(&self, hook: Hook, i: &dyn Erased) -> Result<()> {
        for h in self.hooks(i.model_type(), hook) {
            h(AnyTarget::Instance(i.as_any()))?;
        }
        Ok(())
    }

    /// Run `hook` of model `M` on a value (a bulk insert's row).
    pub(super) fn on_value<M: Model>(&self, hook: Hook, m: &mut M) -> Result<()> {
        for h in self.hooks(TypeId::of::<M>(), hook) {
            h(AnyTarget::Value(m))?;
        }
        Ok(())
    }

    /// Run `hook` of model `M` for a bulk statement over the rows with these keys.
    pub(super) fn on_keys<M: Model>(&self, hook: Hook, keys: &[Key]) -> Result<()> {
        let hooks = self.hooks(TypeId::of::<M>(), hook);
        if hooks.is_empty() {
            return Ok(());
        }
        let keys: Vec<Vec<Value>> = keys.iter().map(|k| k.params().map(ValueRef::to_owned).collect()).collect();
        for h in hooks {
            h(AnyTarget::Keys(&keys))?;
        }
        Ok(())
    }

    /// Run the `after_load` hooks of model `M` on a loaded object.
    pub(super) fn after_load<M: Model>(&self, m: &M) -> Result<()> {
        if let Some(h) = self.models.get(&TypeId::of::<M>()) {
            for f in &h.after_load {
                f(m)?;
            }
        }
        Ok(())
    }

    fn model_hook<M: Model>(&mut self, hook: Hook, f: impl Fn(Change<'_, M>) -> Result<()> + Send + Sync + 'static) {
        let erased: ModelHook = Arc::new(move |t: AnyTarget<'_>| match t {
            AnyTarget::Instance(any) => {
                let inst = any.downcast_ref::<Instance<M>>().ok_or_else(|| wrong_model(M::TABLE.rust_name))?;
                let mut v = inst.value.try_borrow_mut().map_err(|_| super::state::borrowed_error(M::TABLE))?;
                f(Change::Object(&mut v))
            }
            AnyTarget::Value(any) => {
                let m = any.downcast_mut::<M>().ok_or_else(|| wrong_model(M::TABLE.rust_name))?;
                f(Change::Object(m))
            }
            AnyTarget::Keys(keys) => f(Change::Keys(keys)),
        });
        let hooks = self.models.entry(TypeId::of::<M>()).or_default();
        match hook {
            Hook::Insert => hooks.before_insert.push(erased),
            Hook::Update => hooks.before_update.push(erased),
            Hook::Delete => hooks.before_delete.push(erased),
        }
    }
}

/// Registering events: each method adds a listener and returns the factory, so sessions made
/// from it afterwards call it (sessions already made keep the events they were made with).
///
/// ```
/// # use athanor_orm::{Change, SessionMaker, Session};
/// # fn setup(maker: SessionMaker) -> SessionMaker {
/// maker
///     .on_before_flush(|s: &Session| {
///         tracing::debug!("flushing {} objects", s.identity_count());
///         Ok(())
///     })
///     .on_after_commit(|_s: &Session| tracing::debug!("committed"))
/// # }
/// ```
impl SessionMaker {
    fn events_mut(&mut self) -> &mut Events {
        Arc::make_mut(&mut self.events)
    }

    /// Call `f` when a flush with work to do begins (SQLAlchemy's `before_flush`), before
    /// anything is written: it may add, edit or delete objects, which that flush then writes.
    /// Not called when there is nothing to flush.
    pub fn on_before_flush(mut self, f: impl Fn(&Session) -> Result<()> + Send + Sync + 'static) -> Self {
        self.events_mut().before_flush.push(Arc::new(f));
        self
    }

    /// Call `f` after every statement of a flush succeeded, in its transaction (SQLAlchemy's
    /// `after_flush`). Changes it makes to objects are written by the next flush.
    pub fn on_after_flush(mut self, f: impl Fn(&Session) -> Result<()> + Send + Sync + 'static) -> Self {
        self.events_mut().after_flush.push(Arc::new(f));
        self
    }

    /// Call `f` after `commit()` committed a transaction (SQLAlchemy's `after_commit`); a
    /// `commit()` with no transaction open calls nothing.
    pub fn on_after_commit(mut self, f: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.events_mut().after_commit.push(Arc::new(f));
        self
    }

    /// Call `f` after `rollback()` (or `close()`) ended a transaction or cleared a failed
    /// flush (SQLAlchemy's `after_rollback`). Dropping a session rolls back without calling it
    /// (there is no session left to hand it).
    pub fn on_after_rollback(mut self, f: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.events_mut().after_rollback.push(Arc::new(f));
        self
    }

    /// Call `f` before a row of model `M` is inserted: per new object of a flush (in the order
    /// the flush inserts them), and per row of `session.insert::<M>().values(…)` and its upserts
    /// (which the database may turn into an update). Always [`Change::Object`]; a change made to
    /// the object is inserted.
    pub fn on_before_insert<M: Model>(
        mut self,
        f: impl Fn(Change<'_, M>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.events_mut().model_hook::<M>(Hook::Insert, f);
        self
    }

    /// Call `f` before rows of model `M` are updated: per modified object of a flush
    /// ([`Change::Object`]; a change made to it is written by its UPDATE), and once per bulk
    /// `query.update(…)` with the keys of the rows it matches ([`Change::Keys`]).
    pub fn on_before_update<M: Model>(
        mut self,
        f: impl Fn(Change<'_, M>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.events_mut().model_hook::<M>(Hook::Update, f);
        self
    }

    /// Call `f` before rows of model `M` are deleted: per deleted object of a flush (cascaded
    /// deletes included), and once per bulk `query.delete()` with the keys of the rows it
    /// matches.
    pub fn on_before_delete<M: Model>(
        mut self,
        f: impl Fn(Change<'_, M>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.events_mut().model_hook::<M>(Hook::Delete, f);
        self
    }

    /// Call `f` when an object of model `M` is built from a row (a query, `get`, a relationship
    /// load, a stream), or an expired one is refreshed from its row (`refresh()` included); not
    /// for an object the identity map already held fresh. An error fails the load.
    pub fn on_after_load<M: Model>(mut self, f: impl Fn(&M) -> Result<()> + Send + Sync + 'static) -> Self {
        let erased: LoadHook = Arc::new(move |any: &dyn Any| match any.downcast_ref::<M>() {
            Some(m) => f(m),
            None => Err(wrong_model(M::TABLE.rust_name)),
        });
        self.events_mut().models.entry(TypeId::of::<M>()).or_default().after_load.push(erased);
        self
    }
}

impl Session {
    /// The events this session was made with.
    pub(super) fn events(&self) -> Arc<Events> {
        self.shared.events.clone()
    }

    /// Run session listeners of one kind; an error is recorded as a failed transaction.
    pub(super) fn run_session_hooks(&self, hooks: &[SessionHook]) -> Result<()> {
        for h in hooks {
            if let Err(e) = h(self) {
                self.inner().fail(&e);
                return Err(e);
            }
        }
        Ok(())
    }
}

// A factory with events stays shareable across threads (the async bridge needs it).
const _: fn() = || {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<SessionMaker>();
    shareable::<Events>();
};
