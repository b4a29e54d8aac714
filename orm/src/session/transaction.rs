//! The transaction and its savepoints: beginning on first use, the pending-rollback state after
//! a failure, commit and rollback bookkeeping, [`NestedTransaction`], and the one routine that puts
//! objects back after the database rolled back (the whole transaction or to a savepoint).

use super::identity::reset_relationships;
use super::state::{Erased, ObjectState};
use super::{Inner, Session};
use athanor_core::engine::Connection;
use athanor_core::error::{Error, Result};
use std::rc::{Rc, Weak};

/// Where a transaction or savepoint began: how many objects the transaction had inserted and
/// deleted by then. The whole transaction begins at the default mark (0, 0).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Mark {
    pub(super) inserted: usize,
    pub(super) deleted: usize,
}

/// An open savepoint.
pub(super) struct Frame {
    pub(super) name: String,
    pub(super) mark: Mark,
}

/// Undo an unflushed edit from the object's snapshot.
pub(super) fn restore_edit(i: &dyn Erased) {
    {
        let mut m = i.meta().borrow_mut();
        m.listed_modified = false;
        // Columns set to SQL expressions (`Handle::set_expr`) and not flushed are undone too.
        m.exprs.clear();
    }
    if let Err(e) = i.restore_snapshot() {
        tracing::warn!(target: "athanor::session", "could not restore an edited {}: {e}", i.table().rust_name);
    }
}

/// A SAVEPOINT begun by [`Session::begin_nested`].
#[must_use = "a nested transaction is rolled back when dropped; call commit() to keep its work"]
pub struct NestedTransaction<'s> {
    pub(super) session: &'s Session,
    pub(super) name: String,
    pub(super) depth: usize,
    pub(super) done: bool,
}

impl NestedTransaction<'_> {
    /// Flush and release the savepoint: its work joins the enclosing transaction.
    ///
    /// # Errors
    /// The flush's errors ([`Error::Integrity`], [`Error::StaleData`] …) and RELEASE's; the
    /// session then needs `rollback()` to the enclosing level.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.session.end_nested(&self.name, self.depth, true)
    }

    /// Roll back to the savepoint; the enclosing transaction's earlier work stays.
    ///
    /// # Errors
    /// A database error of ROLLBACK TO / RELEASE (the session then needs `rollback()`).
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

impl Session {
    /// Roll back the transaction and return the connection to the pool. Objects inserted in it
    /// become transient again, objects deleted in it are back, unflushed edits are undone, and
    /// every object is expired. Clears a failed flush's pending-rollback state.
    ///
    /// # Errors
    /// A database error of ROLLBACK other than a lost connection (a lost connection is not an
    /// error here: it ends the transaction too). The objects are restored and the connection is
    /// discarded either way, so the session is ready for new work. [`Error::InvalidRequest`],
    /// changing nothing, while an iterator of `yield_per` has the connection.
    pub fn rollback(&self) -> Result<()> {
        let mut inner = self.inner();
        inner.check_not_streaming()?;
        let ended = (inner.conn.is_some() && !inner.autocommit) || inner.failed.is_some();
        let r = match inner.take_conn() {
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
        if ended {
            for h in &self.events().after_rollback {
                h(self);
            }
        }
        // A failed ROLLBACK means the connection is gone; the transaction is over either way.
        match r {
            Err(e) if !e.is_disconnect() && !matches!(e, Error::InvalidRequest { .. }) => Err(e),
            _ => Ok(()),
        }
    }

    pub(super) fn restore_all(&self) {
        let modified = std::mem::take(&mut *self.shared.modified.borrow_mut());
        self.inner().restore_after_rollback(modified);
    }

    /// Discard the session's connection instead of returning it to the pool (after a fault, or
    /// to be sure no server-side state survives), then behave as [`Session::rollback`].
    pub fn invalidate(&self) {
        if let Some(mut conn) = self.inner().take_conn() {
            conn.invalidate();
        }
        self.restore_all();
    }

    /// Begin a nested transaction (a SAVEPOINT), flushing first. Commit or roll it back through
    /// the returned guard; dropping the guard without either rolls it back.
    ///
    /// Rolling back to the savepoint undoes the database work since it, makes objects inserted
    /// since it transient, restores objects deleted since it, and expires every object.
    ///
    /// # Errors
    /// Those of [`Session::flush`]; [`Error::Unsupported`] where the database has no savepoints;
    /// connecting's and SAVEPOINT's errors.
    pub fn begin_nested(&self) -> Result<NestedTransaction<'_>> {
        self.flush()?;
        let mut inner = self.inner();
        inner.ensure_conn()?;
        inner.savepoint_seq += 1;
        let name = format!("sa_savepoint_{}", inner.savepoint_seq);
        let r = match inner.conn.as_mut() {
            Some(c) => c.savepoint(&name),
            None => Err(Error::invalid_request("no connection")),
        };
        r?;
        let frame = Frame {
            name: name.clone(),
            mark: Mark { inserted: inner.inserted_in_tx.len(), deleted: inner.deleted_in_tx.len() },
        };
        inner.savepoints.push(frame);
        let depth = inner.savepoints.len();
        Ok(NestedTransaction { session: self, name, depth, done: false })
    }

    pub(super) fn end_nested(&self, name: &str, depth: usize, commit: bool) -> Result<()> {
        if commit {
            self.flush()?;
        }
        let mut inner = self.inner();
        inner.check_not_streaming()?;
        if inner.savepoints.len() < depth || inner.savepoints.get(depth - 1).is_none_or(|f| f.name != name) {
            // The outer transaction ended (commit/rollback) and took the savepoint with it.
            return Ok(());
        }
        let frame = inner.savepoints.split_off(depth - 1).into_iter().next();
        let Some(frame) = frame else { return Ok(()) };
        let conn = inner.conn.as_mut().ok_or_else(|| Error::invalid_request("no transaction"))?;
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
        self.inner().restore_to(frame.mark, modified);
        Ok(())
    }
}

impl Inner {
    /// [`Error::InvalidRequest`] while the connection is away streaming a result.
    pub(super) fn check_not_streaming(&self) -> Result<()> {
        match &self.conn {
            Some(c) if c.is_lent() => Err(Error::invalid_request(
                "the session's connection is busy streaming a result (yield_per): read that iterator to its end or \
                 drop it first",
            )),
            _ => Ok(()),
        }
    }

    /// [`Error::InvalidRequest`] once the async bridge's caller stopped waiting
    /// ([`super::Session::is_cancelled`]): the session sends nothing more.
    fn check_cancelled(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(Error::invalid_request(
                "the caller stopped waiting for this session's work (its future was dropped): nothing more is sent, \
                 and what was not committed is rolled back",
            ));
        }
        Ok(())
    }

    /// Make sure a transaction is open (autobegin): what writes, raw SQL, streams, savepoints
    /// and every statement of a session without `autocommit_reads` run in. A connection held
    /// for autocommit reads begins it.
    ///
    /// With read replicas it pins the session to the primary first (a read transaction open on
    /// a replica is ended): everything that needs a real transaction may write.
    pub(super) fn ensure_conn(&mut self) -> Result<()> {
        self.check_cancelled()?;
        self.pin_primary();
        self.begin_on_primary()
    }

    /// Whether the session's next read without a connection may go to a replica.
    pub(super) fn routes_reads(&self) -> bool {
        !self.pinned
            && self.config.replica_reads
            && self.engine.has_replicas()
            && !self.engine.transaction_options(self.next_tx.unwrap_or(self.config.transaction)).write_intent
    }

    /// Send everything to the primary from now on, ending a read on a replica.
    pub(super) fn pin_primary(&mut self) {
        self.pinned = true;
        if self.conn.as_ref().is_some_and(|c| c.is_replica() && !c.is_lent()) {
            if let Some(mut c) = self.take_conn() {
                if c.in_transaction() && c.rollback().is_err() {
                    c.invalidate();
                }
            }
        }
    }

    /// A read's connection on a replica, when the session routes reads there and one is healthy
    /// (and has applied the session's token): in a read-only transaction, or in autocommit
    /// mode with `autocommit_reads`. `false` when the read goes to the primary.
    fn replica_read_conn(&mut self) -> bool {
        if self.next_tx.is_some() || !self.routes_reads() {
            return false;
        }
        let Some(mut conn) = self.engine.connect_replica(self.token.as_ref()) else { return false };
        if self.config.autocommit_reads {
            self.conn = Some(conn);
            self.autocommit = true;
            return true;
        }
        let mut opts = self.config.transaction;
        opts.read_only = true;
        opts.write_intent = false;
        match conn.begin_with(opts) {
            Ok(()) => {
                self.conn = Some(conn);
                self.autocommit = false;
                true
            }
            Err(e) => {
                tracing::debug!(target: "athanor::session", "replica read falls back to the primary: {e}");
                false
            }
        }
    }

    /// [`Inner::ensure_conn`] without pinning: a transaction on the primary.
    fn begin_on_primary(&mut self) -> Result<()> {
        match self.conn.as_mut() {
            None => {
                let mut conn = self.engine.connect()?;
                let opts = self.next_tx.take().unwrap_or(self.config.transaction);
                conn.begin_with(opts)?;
                self.conn = Some(conn);
            }
            Some(conn) if self.autocommit => {
                let opts = self.next_tx.take().unwrap_or(self.config.transaction);
                if let Err(e) = conn.begin_with(opts) {
                    // No transaction was there to fail: give the connection back (or discard a
                    // dead one) and stay usable.
                    self.take_conn();
                    return Err(e);
                }
                self.autocommit = false;
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Make sure the session can read: inside its transaction when one is open; else, with
    /// `autocommit_reads`, on a connection with no transaction (nothing sent before the read);
    /// else autobegin as [`Inner::ensure_conn`].
    pub(super) fn ensure_read_conn(&mut self) -> Result<()> {
        self.check_cancelled()?;
        if self.conn.is_some() {
            return Ok(());
        }
        if self.replica_read_conn() {
            return Ok(());
        }
        if self.config.autocommit_reads && self.next_tx.is_none() {
            self.conn = Some(self.engine.connect()?);
            self.autocommit = true;
            return Ok(());
        }
        self.begin_on_primary()
    }

    /// The session's connection, leaving it without one (the transaction, if any, is the
    /// caller's to end).
    pub(super) fn take_conn(&mut self) -> Option<Connection> {
        self.autocommit = false;
        self.statements_before += self.conn.as_ref().map_or(0, Connection::statements_sent);
        self.conn.take()
    }

    /// Record a read's failure: inside a transaction as [`Inner::fail`] (roll back, require
    /// `rollback()`); outside one (autocommit reads) there is nothing to roll back: the
    /// connection goes back to the pool (or is discarded when it died) and the session stays
    /// usable.
    pub(super) fn read_failed(&mut self, e: &Error) {
        if self.autocommit {
            self.take_conn();
        } else {
            self.fail(e);
        }
    }

    pub(super) fn conn(&mut self) -> Result<&mut Connection> {
        self.conn.as_mut().ok_or_else(|| Error::invalid_request("no transaction"))
    }

    /// Record a failure: roll the database transaction back now (releasing its locks) and
    /// require `rollback()`. Inside a savepoint, only roll back to the savepoint.
    pub(super) fn fail(&mut self, e: &Error) {
        let depth = self.savepoints.len();
        self.failed = Some((e.root_cause().clone(), depth));
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

    pub(super) fn abort_transaction(&mut self) {
        if let Some(mut c) = self.take_conn() {
            if c.rollback().is_err() {
                c.invalidate();
            }
        }
        self.savepoints.clear();
        // Keep `failed`: the objects' states are restored by the user's rollback().
        if self.failed.is_none() {
            self.failed = Some((Error::invalid_request("the transaction was rolled back"), 0));
        }
        // The whole transaction is gone: failures are now at depth 0.
        if let Some((_, d)) = self.failed.as_mut() {
            *d = 0;
        }
    }

    pub(super) fn make_transient(&mut self, i: &dyn Erased) {
        let mut m = i.meta().borrow_mut();
        if let Some(k) = m.key.take() {
            self.identity.remove(i.model_type(), &k);
        }
        m.state = ObjectState::Transient;
        m.session = Weak::new();
        drop(m);
        i.clear_snapshot();
    }

    pub(super) fn make_persistent_again(&mut self, i: Rc<dyn Erased>) {
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

    /// Put every object back as it was before the transaction, after the database rolled it
    /// back (or is told to now): `modified` are the objects with unflushed edits.
    pub(super) fn restore_after_rollback(&mut self, modified: Vec<Rc<dyn Erased>>) {
        if let Some(mut c) = self.take_conn() {
            if c.rollback().is_err() {
                c.invalidate();
            }
        }
        self.restore_to(Mark::default(), modified);
        self.savepoints.clear();
        self.failed = None;
    }

    /// The one routine that puts objects back after the database rolled back to `mark` (the
    /// transaction's start or a savepoint): unflushed edits undone from their snapshots, pending
    /// objects and those inserted since `mark` transient, those deleted since `mark` persistent
    /// again, every object expired.
    pub(super) fn restore_to(&mut self, mark: Mark, modified: Vec<Rc<dyn Erased>>) {
        for i in modified {
            restore_edit(&*i);
        }
        // Relationship fields are expired too: reloaded on demand from what the database holds.
        self.dirty_rels.clear();
        self.dirty_index.clear();
        self.deferred_error = None;
        self.identity.reset_relationships();
        for i in &self.new {
            reset_relationships(&**i);
        }
        for i in std::mem::take(&mut self.new) {
            let mut m = i.meta().borrow_mut();
            m.state = ObjectState::Transient;
            m.key = None;
            m.session = Weak::new();
        }
        for i in self.inserted_in_tx.split_off(mark.inserted.min(self.inserted_in_tx.len())) {
            self.make_transient(&*i);
        }
        for i in std::mem::take(&mut self.deleted) {
            i.meta().borrow_mut().state = ObjectState::Persistent;
        }
        for i in self.deleted_in_tx.split_off(mark.deleted.min(self.deleted_in_tx.len())) {
            self.make_persistent_again(i);
        }
        self.identity.for_each_meta(|m| {
            let mut m = m.borrow_mut();
            m.expired = true;
            m.listed_modified = false;
        });
    }
}
