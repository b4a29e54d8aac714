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
