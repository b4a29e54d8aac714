//! The async bridge (cargo feature `tokio`): [`SessionMaker::run`], [`SessionMaker::run_transaction`]
//! and [`SessionMaker::run_retrying`] run a closure with a fresh [`Session`] on tokio's blocking
//! threads and await its result, so async code (an axum handler) uses the synchronous ORM
//! without blocking its runtime's workers.
//!
//! - **Bounded by the pool.** Each call first waits, as a future, for one of the engine's
//!   slots ([`Engine::acquire_slot`]: one per pooled connection), and holds it until its closure
//!   ends, so at most `pool_size` closures of one engine run at once; the rest queue without
//!   holding a thread, and give up after `pool_timeout` with [`Error::PoolTimeout`].
//! - **Dropped futures.** A caller that stops waiting (the client went away, a timeout dropped
//!   the future) gives up its place in the queue if the closure has not started. A closure that
//!   has started runs to its end on its blocking thread (a thread cannot be interrupted), then
//!   its session is dropped, which rolls back whatever it did not commit and returns the
//!   connection to the pool; `run_transaction` and `run_retrying` do not commit the work of a
//!   caller that is gone (they roll back instead), except when the `COMMIT` was already sent.
//!   [`Session::is_cancelled`] lets a long closure stop early.
//! - **Spans.** The caller's `tracing` subscriber and current span go with the closure to the
//!   blocking thread, so the statements' spans are children of the request's span.
//! - **Panics** in the closure roll its session back (the session is dropped while unwinding)
//!   and continue in the awaiting task, as `std::thread::scope` does.
//!
//! [`Engine::acquire_slot`]: athanor_core::engine::Engine::acquire_slot

use super::{Session, SessionMaker};
use athanor_core::error::{Error, RetryError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sets the cancellation flag when the awaiting future is dropped before the closure's result
/// came back.
struct CancelOnDrop {
    flag: Arc<AtomicBool>,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

impl SessionMaker {
    /// Run `f` with a fresh session on a blocking thread and await its result: reads, or writes
    /// that `f` commits itself. Whatever `f` did not commit is rolled back when it returns.
    ///
    /// `f` returns `Result<T, E>` for any `E: From<Error>` (an application's own error type, so
    /// `?` works on Athanor's calls); the bridge's own errors are converted into it.
    ///
    /// `let n = sessions.run(|s| s.query::<Book>().count()).await?;` (docs/async.md, whose
    /// snippets are compiled, has more).
    ///
    /// See the module docs of the bridge (docs/async.md) for the bound on concurrency, dropped
    /// futures and panics.
    ///
    /// # Errors
    /// `f`'s error; [`Error::PoolTimeout`] when no connection slot came free within the engine's
    /// `pool_timeout`; [`Error::InvalidRequest`] when called outside a tokio runtime, or when
    /// the runtime shut down before `f` ran.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Session) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.bridge(move |session, _| f(session)).await
    }

    /// Run `f` in a transaction on a blocking thread: commit when it returns `Ok`, roll back
    /// when it returns `Err` (or panics), and await the result. The closure's error type is the
    /// application's (`E: From<Error>`), as in [`SessionMaker::run`].
    ///
    /// When the awaiting future is dropped while `f` runs, `f` still runs to its end, but its
    /// work is rolled back, not committed (unless the caller went away during the `COMMIT`
    /// itself).
    ///
    /// # Errors
    /// `f`'s error (after the rollback); the commit's (an [`Error::SerializationFailure`] may be
    /// retried: [`SessionMaker::run_retrying`]); those of [`SessionMaker::run`].
    pub async fn run_transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Session) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.bridge(move |session, cancelled| {
            let value = f(session)?;
            if cancelled.load(Ordering::SeqCst) {
                return Err(E::from(cancelled_error()));
            }
            session.commit()?;
            Ok(value)
        })
        .await
    }

    /// [`SessionMaker::retry_on_serialization_failure`] on a blocking thread: run `f` in a
    /// transaction and commit, running it again (up to `attempts` times) after a serialization
    /// failure, a deadlock or a lock wait that gave up. Holds one connection slot for all the
    /// attempts. A caller that went away stops the retries and the last attempt is rolled back.
    ///
    /// # Errors
    /// Those of [`SessionMaker::retry_on_serialization_failure`] and of [`SessionMaker::run`].
    pub async fn run_retrying<T, E, F>(&self, attempts: usize, mut f: F) -> Result<T, E>
    where
        F: FnMut(&Session) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: RetryError + Send + 'static,
    {
        let maker = self.clone();
        // The session `bridge` makes is not used: each attempt makes its own (it never connects).
        self.bridge(move |_, cancelled| {
            let cancelled = cancelled.clone();
            maker.retry_on_serialization_failure(attempts, move |s| {
                if cancelled.load(Ordering::SeqCst) {
                    return Err(E::from(cancelled_error()));
                }
                s.set_cancel_flag(cancelled.clone());
                f(s)
            })
        })
        .await
    }

    /// Take a slot, run `work` with a fresh session on a blocking thread, await it.
    async fn bridge<T, E, W>(&self, work: W) -> Result<T, E>
    where
        W: FnOnce(&Session, &Arc<AtomicBool>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            E::from(Error::invalid_request(
                "SessionMaker::run needs a tokio runtime (call it from async code running on one)",
            ))
        })?;
        let slot = self.engine().acquire_slot().await.map_err(E::from)?;
        let flag = Arc::new(AtomicBool::new(false));
        let mut guard = CancelOnDrop { flag: flag.clone(), armed: true };
        let maker = self.clone();
        let span = tracing::Span::current();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let task = runtime.spawn_blocking(move || {
            let _slot = slot;
            // A blocking thread: drivers may block here even though tokio's context is visible.
            let _section = athanor_core::BlockingSection::enter();
            tracing::dispatcher::with_default(&dispatch, || {
                let _entered = span.enter();
                let session = maker.session();
                session.set_cancel_flag(flag.clone());
                let out = work(&session, &flag);
                drop(session);
                out
            })
        });
        let joined = task.await;
        guard.armed = false;
        match joined {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(E::from(Error::invalid_request("the runtime shut down before the session's closure ran"))),
        }
    }
}

fn cancelled_error() -> Error {
    Error::invalid_request("the caller stopped waiting (its future was dropped): the work was rolled back")
}
