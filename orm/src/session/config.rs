//! Session settings and the session factory ([`sessionmaker`], [`SessionMaker`]), with the
//! retry helper for serialization failures.

use super::Session;
use athanor_core::dialect::TxOptions;
use athanor_core::engine::Engine;
use athanor_core::error::{Error, Result, RetryError};

/// Session settings (`sessionmaker(bind=engine, autoflush=…, expire_on_commit=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Flush pending changes before every query and `get` that goes to the database (default on).
    pub autoflush: bool,
    /// Expire every object after a commit, so the next query reloads it (default on).
    pub expire_on_commit: bool,
    /// Options of every transaction the session begins (isolation level, read only, write intent).
    pub transaction: TxOptions,
    /// Run the session's reads outside a transaction, each in the connection's autocommit mode,
    /// with no `BEGIN` / `ROLLBACK` around them; writes still begin a real transaction (default
    /// off; see [`SessionMaker::autocommit_reads`]).
    pub autocommit_reads: bool,
    /// What a lazy load inside a loop over a query's result does (default
    /// [`LazyLoads::Allow`]; see [`SessionMaker::lazy_loads`]).
    pub lazy_loads: LazyLoads,
    /// Send reads to the engine's read replicas while the session has not written (default
    /// on; without replicas it changes nothing). See [`SessionMaker::replica_reads`].
    pub replica_reads: bool,
}

/// What the session does when a relationship is loaded on demand (`Session::related` on a field
/// not loaded) for one object of a query's result after the same relationship was already
/// loaded that way for another object of the same result: the N+1 pattern, one statement per
/// object of a loop. See [`SessionMaker::lazy_loads`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LazyLoads {
    /// Load it, say nothing (the default; nothing is tracked).
    #[default]
    Allow,
    /// Load it, and log one `tracing` WARN event (target `athanor::session`) per model and
    /// relationship per session, naming them and the fix (`selectinload`).
    Warn,
    /// Fail with [`Error::LazyLoadInLoop`] before anything is sent (for tests).
    Raise,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            autoflush: true,
            expire_on_commit: true,
            transaction: TxOptions::default(),
            autocommit_reads: false,
            lazy_loads: LazyLoads::Allow,
            replica_reads: true,
        }
    }
}

/// A session factory bound to an engine (`sessionmaker(bind=engine)`).
#[derive(Debug, Clone)]
pub struct SessionMaker {
    engine: Engine,
    config: SessionConfig,
    /// The position every session of this factory reads at least ([`SessionMaker::after`]).
    after: Option<athanor_core::ConsistencyToken>,
    /// Session events and model hooks (`events.rs` registers them).
    pub(super) events: std::sync::Arc<super::Events>,
}

/// Make a session factory for an engine.
pub fn sessionmaker(engine: &Engine) -> SessionMaker {
    SessionMaker { engine: engine.clone(), config: SessionConfig::default(), after: None, events: Default::default() }
}

impl SessionMaker {
    /// A new session (`Session()`). Takes no connection until first needed.
    pub fn session(&self) -> Session {
        let session = Session::with_events(&self.engine, self.config, self.events.clone());
        if let Some(token) = &self.after {
            if token.dialect() == self.engine.dialect().name() {
                session.inner().token = Some(token.clone());
            } else {
                // No replica of this engine can say it has another database's position: the
                // primary has every write, so reading there keeps the promise.
                session.bind_primary();
            }
        }
        session
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
    pub fn isolation_level(mut self, level: athanor_core::dialect::IsolationLevel) -> Self {
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

    /// Run each session's reads without a transaction (default off): a query, `get`, `count`,
    /// `refresh` or relationship load outside a transaction is sent alone, in the connection's
    /// autocommit mode, so a read-only request costs no `BEGIN` and no `ROLLBACK` (two round
    /// trips on a server). What begins a real transaction, as without this setting, and holds
    /// it until `commit()` / `rollback()`: a flush with work to write (autoflush included),
    /// `begin()`, `begin_nested()`, bulk `update` / `delete` / `insert`, raw SQL
    /// (`execute`, `execute_sql`, `query_sql`: Athanor cannot tell a raw read from a write),
    /// `yield_per` streams (a PostgreSQL cursor lives in a transaction) and `FOR UPDATE`
    /// queries (their locks need one). After `commit()` or `rollback()` the session reads
    /// without a transaction again.
    ///
    /// What changes for the program: each read sees the data committed when it runs (its own
    /// snapshot), not one snapshot for the session's reads, so two reads may disagree; objects
    /// already in the identity map are not refreshed by a later read unless expired (as in a
    /// transaction); a database error in a read outside a transaction leaves the session usable
    /// (there is no transaction to roll back, no `Error::PendingRollback`). `docs/guarantees.md`
    /// ("Reads without a transaction") has the details.
    pub fn autocommit_reads(mut self, on: bool) -> Self {
        self.config.autocommit_reads = on;
        self
    }

    /// Detect N+1 loads (default [`LazyLoads::Allow`]: nothing tracked). With
    /// [`LazyLoads::Warn`] or [`LazyLoads::Raise`] each object remembers which statement's result
    /// it was last loaded by; a `Session::related` that would send a statement for an object
    /// whose result already had the same relationship loaded that way for *another* of its
    /// objects is a lazy load inside a loop. `Warn` logs it once per model and relationship per
    /// session (target `athanor::session`, fields `model` and `relationship`, the message naming
    /// `.options(selectinload(Model::relationship))`) and loads; `Raise` fails with
    /// [`Error::LazyLoadInLoop`] and sends nothing (the session stays usable).
    ///
    /// Never reported: the first object's load, a load of one object's result (`get`, `one`,
    /// a many-to-one's parent), a load served from memory (a loaded field, a many-to-one whose
    /// target is in the identity map), relationships loaded by `selectinload` / `joinedload`.
    /// Objects of multi-model rows (`query::<(A, B)>()`) are not tracked.
    ///
    /// ```
    /// # use athanor_orm::{sessionmaker, LazyLoads};
    /// # fn demo(engine: &athanor_core::engine::Engine) {
    /// let sessions = sessionmaker(engine).lazy_loads(LazyLoads::Raise);
    /// # let _ = sessions;
    /// # }
    /// ```
    pub fn lazy_loads(mut self, mode: LazyLoads) -> Self {
        self.config.lazy_loads = mode;
        self
    }

    /// Route the sessions' reads to the engine's read replicas (default on; docs/scaling.md,
    /// "Read replicas"): a session that has not written reads from a replica, round robin over
    /// the healthy ones, in a read-only transaction (or without one, with `autocommit_reads`);
    /// its first write, flush with work, `FOR UPDATE`, `begin()`, raw SQL or
    /// [`Session::bind_primary`] sends it to the primary until it ends. Off: every session
    /// uses the primary only. Without replicas this changes nothing.
    pub fn replica_reads(mut self, on: bool) -> Self {
        self.config.replica_reads = on;
        self
    }

    /// A new session that reads only what `token` saw (read-your-writes across sessions, as a
    /// web application's next request after a write): its reads go to a replica that has
    /// applied `token`'s position, else to the primary. The token is what
    /// [`Session::consistency_token`] gave after a commit, possibly through a cookie
    /// ([`ConsistencyToken::parse`](athanor_core::ConsistencyToken::parse)). Without replicas
    /// every token is trivially satisfied (the primary is read).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a token of another database (another dialect).
    pub fn session_after(&self, token: &athanor_core::ConsistencyToken) -> Result<Session> {
        if token.dialect() != self.engine.dialect().name() {
            return Err(Error::invalid_request("the consistency token is of another database"));
        }
        let session = self.session();
        session.inner().token = Some(token.clone());
        Ok(session)
    }

    /// A factory like this one whose sessions read only what `token` saw:
    /// `sessions.after(&token).session()` is [`SessionMaker::session_after`] without the
    /// `Result`. A token of another database (another dialect) cannot be checked against this
    /// engine's replicas, so those sessions read from the primary, which has every write.
    pub fn after(&self, token: &athanor_core::ConsistencyToken) -> SessionMaker {
        SessionMaker { after: Some(token.clone()), ..self.clone() }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Run `f` in a fresh session and commit; when the database reports a serialization failure,
    /// a deadlock or a lock wait that gave up (`Error::Timeout` of kind `LockWait`; from any
    /// statement or the commit), roll back and run `f` again, up to
    /// `attempts` times in all, with a short growing pause between tries. Other errors are
    /// returned at once (after rollback).
    ///
    /// `f` may return the application's own error type `E` instead of [`Error`] (a 404 or 409
    /// beside the database's errors): `E` is made from an `Error` (so `?` works inside `f`) and
    /// says through [`RetryError`] which `Error` it carries; an `E` that carries a
    /// serialization failure is retried, any other `E` (a business error) is returned at once.
    ///
    /// # Errors
    /// The last retryable error (a serialization failure, a deadlock or a lock wait that timed
    /// out, as `E`) when every attempt failed with one; any other
    /// error of `f` or of the commit at once.
    pub fn retry_on_serialization_failure<T, E: RetryError>(
        &self,
        attempts: usize,
        mut f: impl FnMut(&Session) -> Result<T, E>,
    ) -> Result<T, E> {
        let attempts = attempts.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let session = self.session();
            let outcome = f(&session).and_then(|v| session.commit().map(|_| v).map_err(E::from));
            match outcome {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let _ = session.rollback();
                    if !e.is_retryable() {
                        return Err(e);
                    }
                    last = Some(e);
                    let pause = 1u64 << attempt.min(6);
                    std::thread::sleep(std::time::Duration::from_millis(pause));
                }
            }
        }
        Err(last.unwrap_or_else(|| E::from(Error::invalid_request("no attempt was made"))))
    }
}
