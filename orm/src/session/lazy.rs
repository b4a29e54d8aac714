//! N+1 detection ([`LazyLoads`]) and the session's statement count
//! ([`Session::statement_mark`], [`Session::statements_since`]).
//!
//! How an object knows which result it came from: with detection on, every statement that
//! loads objects (a query, a selectin or lazy load, a `yield_per` stream) takes a fresh number
//! from [`LazyWatch::next_origin`] and each object it loads (new or found in the identity map)
//! keeps it in its `Meta::origin`, the last result wins. A lazy load that would send a statement
//! looks up `(origin, model, relationship)`: the first object of a result records itself; a
//! second, different object of the same result is the N+1 pattern. With detection off
//! ([`LazyLoads::Allow`]) the number is 0, nothing is written into the objects and nothing is
//! looked up: the cost is one comparison per load.

use super::config::LazyLoads;
use super::state::ObjectState;
use super::{Inner, Session};
use athanor_core::engine::{FastState, StatementMark};
use athanor_core::error::{Error, Result};
use std::any::TypeId;
use std::collections::{HashMap, HashSet};

/// What N+1 detection remembers in one session.
#[derive(Default)]
pub(super) struct LazyWatch {
    /// The last result number given out.
    results: u64,
    /// `(result, model, relationship)` → the address of the first object of that result whose
    /// relationship was loaded on demand.
    seen: HashMap<(u64, TypeId, usize), usize, FastState>,
    /// `(model, relationship)` already warned about.
    warned: HashSet<(TypeId, usize), FastState>,
}

impl Inner {
    /// The number to stamp on the objects a statement about to run loads; 0 (nothing stamped)
    /// when detection is off.
    pub(super) fn next_origin(&mut self) -> u64 {
        if self.config.lazy_loads == LazyLoads::Allow {
            return 0;
        }
        self.lazy.results += 1;
        self.lazy.results
    }

    /// The statements of [`Session::statements_since`] so far.
    fn statements_total(&self) -> u64 {
        self.statements_before + self.conn.as_ref().map_or(0, athanor_core::engine::Connection::statements_sent)
    }
}

impl Session {
    /// A mark in this session's count of statements, for [`Session::statements_since`].
    pub fn statement_mark(&self) -> StatementMark {
        StatementMark(self.inner().statements_total())
    }

    /// How many statements this session sent since `mark` (a mark of this session's
    /// [`Session::statement_mark`]): its SELECT, INSERT, UPDATE and DELETE statements, the raw
    /// SQL it ran and its `yield_per` streams (one each), failed ones included; not transaction
    /// control (BEGIN / START TRANSACTION / SET TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT,
    /// RELEASE, ROLLBACK TO). Other sessions' statements on the same engine are not counted
    /// (`Engine::statements_since` counts every session's). For tests that pin how many
    /// statements a piece of code costs:
    ///
    /// ```text
    /// let mark = session.statement_mark();
    /// let users = session.query::<User>().options(selectinload(User::posts)).all()?;
    /// assert_eq!(session.statements_since(mark), 2);
    /// ```
    pub fn statements_since(&self, mark: StatementMark) -> u64 {
        self.inner().statements_total().saturating_sub(mark.0)
    }

    /// Before a lazy load of relationship `idx` (`rel`, on model `model` of table `table`) of
    /// the object at `addr` whose result is `origin` sends a statement: record it, and report
    /// a second object of the same result (warn once, or fail with [`Error::LazyLoadInLoop`]).
    pub(super) fn check_lazy_load(
        &self,
        origin: u64,
        addr: usize,
        model: (TypeId, &'static str),
        idx: usize,
        relationship: &'static str,
    ) -> Result<()> {
        let mut inner = self.inner();
        let mode = inner.config.lazy_loads;
        if mode == LazyLoads::Allow || origin == 0 {
            return Ok(());
        }
        let first = *inner.lazy.seen.entry((origin, model.0, idx)).or_insert(addr);
        if first == addr {
            return Ok(());
        }
        match mode {
            LazyLoads::Raise => Err(Error::LazyLoadInLoop { model: model.1, relationship }),
            _ => {
                if inner.lazy.warned.insert((model.0, idx)) {
                    drop(inner);
                    let name = model.1;
                    tracing::warn!(
                        target: "athanor::session",
                        model = name,
                        relationship,
                        "{name}.{relationship} is loaded on demand once per {name} of one query result \
                         (N+1 statements); load it with the query: .options(selectinload({name}::{relationship}))"
                    );
                }
                Ok(())
            }
        }
    }
}

/// An object's result number, when it is persistent (a pending object has none).
pub(super) fn origin_of(meta: &super::state::Meta) -> u64 {
    if meta.state == ObjectState::Persistent {
        meta.origin
    } else {
        0
    }
}

/// A lazy load of `rel` for `o` that sends no statement: a many-to-one by the target's primary
/// key whose foreign key is NULL or whose target is in the identity map (as
/// `Session::select_in` finds it).
pub(super) fn served_from_memory(
    inner: &Inner,
    rel: &'static crate::relation::RelationshipDef,
    o: &super::collections::AnyHandle,
) -> bool {
    let ttable = rel.target.table();
    if rel.kind != crate::relation::RelationKind::ManyToOne || crate::relation::single_primary_key(ttable) != rel.remote
    {
        return false;
    }
    let Ok(v) = o.0.column(rel.local) else { return false };
    if matches!(v, athanor_core::value::Value::Null) {
        return true;
    }
    let Ok(key) = super::identity::Key::from_values(std::slice::from_ref(&v), ttable) else { return false };
    inner.identity.get_erased(rel.target.type_id(), &key).is_some_and(|i| {
        let m = i.meta().borrow();
        !m.expired && m.state == ObjectState::Persistent
    })
}
