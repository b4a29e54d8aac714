//! Where the `postgres` crate's blocking calls run, so that no call panics because of the
//! caller's thread.
//!
//! The synchronous `postgres` client drives each call (and the closing of a connection, when it
//! is dropped) on a tokio runtime of its own with `block_on`, which tokio refuses on a thread
//! that is already inside a runtime: "Cannot start a runtime from within a runtime". A service
//! built on tokio calls Athanor from such threads (`#[tokio::main]`, `#[tokio::test]`, a request
//! handler), in both runtime flavours.
//!
//! So every call into the client goes through a [`Link`]:
//! - on a thread outside any tokio runtime (the common case, and every thread Athanor starts
//!   itself: the pool's, the streaming workers, the connect helpers), and on a runtime's
//!   blocking thread inside a [`athanor_core::BlockingSection`] (the async bridge's closures),
//!   it is made right there, as before: no copy, no thread hop;
//! - on a thread inside a runtime it is made on the connection's own worker thread, started the
//!   first time it is needed and kept for the connection's life (one thread per such connection,
//!   not one per statement). The client moves to the worker with the call, and back with the
//!   answer; the parameters travel as owned copies, the rows come back whole and are decoded on
//!   the caller's thread, where its callback runs. The caller waits meanwhile, as for any
//!   blocking call;
//! - a connection dropped on a runtime thread is closed on its worker (or on a thread started for
//!   that), and the drop waits until it is closed.

use athanor_core::{Error, Result, Value, ValueRef};
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// `true` when the calling thread is inside a tokio runtime, where the client must not block:
/// a runtime's context is visible, and the caller did not say that this is a blocking thread
/// (the async bridge's closures run in an [`athanor_core::BlockingSection`] on `spawn_blocking`
/// threads, where the client's own `block_on` is allowed, so they call it in place).
pub(crate) fn inside_runtime() -> bool {
    !athanor_core::in_blocking_section() && tokio::runtime::Handle::try_current().is_ok()
}

/// A job for a [`Worker`].
type Job = Box<dyn FnOnce() + Send>;

/// A thread that runs jobs one at a time, outside any tokio runtime. Dropping it lets the thread
/// finish the jobs already sent and waits for it.
pub(crate) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start the thread.
    ///
    /// # Errors
    /// [`Error::Connection`] (`disconnect: false`) when no thread can be started.
    pub(crate) fn start() -> Result<Worker> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("athanor-postgres".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    // A job that panics loses what it owned (its reply is never sent, so its
                    // caller sees an error); the thread goes on serving.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(|e| Error::Connection {
                message: format!("no thread to run the PostgreSQL client on: {e}"),
                disconnect: false,
                source: None,
            })?;
        Ok(Worker { jobs: Some(tx), thread: Some(thread) })
    }

    /// Run `f` on the worker and wait for its result; `None` when it panicked. `f` runs in the
    /// caller's current `tracing` span and reports to the caller's subscriber, so what the
    /// client logs there stays inside the statement's span.
    pub(crate) fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let (tx, rx) = mpsc::sync_channel(1);
        let span = tracing::Span::current();
        let dispatch = tracing::dispatcher::get_default(tracing::Dispatch::clone);
        let job: Job = Box::new(move || {
            let r = tracing::dispatcher::with_default(&dispatch, || span.in_scope(f));
            let _ = tx.send(r);
        });
        let jobs = self.jobs.as_ref()?;
        if let Err(mpsc::SendError(job)) = jobs.send(job) {
            // Unreachable (the thread outlives its sender, and survives a panicking job); were it
            // to happen, what the job owns must not be dropped here, inside a runtime.
            std::mem::forget(job);
            return None;
        }
        rx.recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The error of a call whose client was lost (its worker's job panicked).
fn lost() -> Error {
    Error::Connection { message: "the connection to PostgreSQL was lost".into(), disconnect: true, source: None }
}

/// The driver's client, and where its calls run (see the module's documentation).
pub(crate) struct Link {
    /// `None` only once a call on the worker lost it.
    client: Option<Client>,
    /// Started on the first call made inside a runtime.
    worker: Option<Worker>,
}

impl From<Client> for Link {
    fn from(client: Client) -> Self {
        Link { client: Some(client), worker: None }
    }
}

impl Link {
    /// The client, for a call on this thread: `None` when the thread is inside a tokio runtime
    /// (then [`Link::elsewhere`]) or the client was lost.
    pub(crate) fn here(&mut self) -> Option<&mut Client> {
        if inside_runtime() {
            return None;
        }
        self.client.as_mut()
    }

    /// Run `job` with the client on the worker thread (started now if need be).
    ///
    /// # Errors
    /// [`Error::Connection`]: `disconnect: true` when the client was lost, `false` when no worker
    /// thread can be started (the connection stays usable).
    pub(crate) fn elsewhere<R: Send + 'static>(
        &mut self,
        job: impl FnOnce(&mut Client) -> R + Send + 'static,
    ) -> Result<R> {
        if self.client.is_none() {
            return Err(lost());
        }
        let worker = match self.worker.take() {
            Some(w) => w,
            None => Worker::start()?,
        };
        let worker = self.worker.insert(worker);
        let mut client = self.client.take().ok_or_else(lost)?;
        match worker.run(move || {
            let r = job(&mut client);
            (client, r)
        }) {
            Some((client, r)) => {
                self.client = Some(client);
                Ok(r)
            }
            None => Err(lost()),
        }
    }

    /// `true` once the client's connection is closed (or the client was lost). Never blocks.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(Client::is_closed)
    }

    /// [`Client::prepare`].
    pub(crate) fn prepare(&mut self, sql: &str) -> std::result::Result<Statement, Failure> {
        match self.here() {
            Some(client) => client.prepare(sql).map_err(Failure::Driver),
            None => {
                let sql = sql.to_owned();
                self.elsewhere(move |c| c.prepare(&sql)).map_err(Failure::Athanor)?.map_err(Failure::Driver)
            }
        }
    }

    /// [`Client::batch_execute`].
    pub(crate) fn batch_execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        match self.here() {
            Some(client) => client.batch_execute(sql).map_err(Failure::Driver),
            None => {
                let sql = sql.to_owned();
                self.elsewhere(move |c| c.batch_execute(&sql)).map_err(Failure::Athanor)?.map_err(Failure::Driver)
            }
        }
    }

    /// [`Client::is_valid`].
    pub(crate) fn is_valid(&mut self, timeout: Duration) -> std::result::Result<(), Failure> {
        match self.here() {
            Some(client) => client.is_valid(timeout).map_err(Failure::Driver),
            None => self.elsewhere(move |c| c.is_valid(timeout)).map_err(Failure::Athanor)?.map_err(Failure::Driver),
        }
    }

    /// Bind `params` (copied) to `stmt` and run it on the worker: the affected-row count of a
    /// statement without result columns, else its rows. The encoding is the same as on the
    /// caller's thread (`encode_params`), so are its errors.
    pub(crate) fn fetch_elsewhere(
        &mut self,
        stmt: &Statement,
        params: &[ValueRef<'_>],
    ) -> std::result::Result<Fetched, Failure> {
        let values = params
            .iter()
            .map(|v| match v {
                ValueRef::Computed(c) => c.to_value(),
                v => Ok(ValueRef::to_owned(*v)),
            })
            .collect::<Result<Vec<Value>>>()
            .map_err(Failure::Athanor)?;
        let stmt = stmt.clone();
        self.elsewhere(move |client| {
            let refs: Vec<ValueRef<'_>> = values.iter().map(Value::as_ref).collect();
            let encoded = crate::value::encode_params(stmt.params(), &refs).map_err(Failure::Athanor)?;
            let refs: Vec<&(dyn ToSql + Sync)> = encoded.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            if stmt.columns().is_empty() {
                client.execute(&stmt, &refs).map(Fetched::Count).map_err(Failure::Driver)
            } else {
                client.query(&stmt, &refs).map(Fetched::Rows).map_err(Failure::Driver)
            }
        })
        .map_err(Failure::Athanor)?
    }
}

/// What went wrong while a statement ran.
/// Run `sql` through the unnamed statement (`Parse`/`Bind`/`Describe`/`Execute`/`Sync` in one
/// round trip, `query_typed`/`execute_typed`): `types` are the parameter types the server
/// inferred when the statement was described, `returns_rows` whether it has result columns.
/// Nothing named is left on the server.
pub(crate) fn run_unnamed(
    client: &mut Client,
    sql: &str,
    types: &[Type],
    returns_rows: bool,
    params: &[ValueRef<'_>],
) -> std::result::Result<Fetched, Failure> {
    let encoded = crate::value::encode_params(types, params).map_err(Failure::Athanor)?;
    let typed: Vec<(&(dyn ToSql + Sync), Type)> =
        encoded.iter().zip(types).map(|(p, t)| (p as &(dyn ToSql + Sync), t.clone())).collect();
    if returns_rows {
        client.query_typed(sql, &typed).map(Fetched::Rows).map_err(Failure::Driver)
    } else {
        client.execute_typed(sql, &typed).map(Fetched::Count).map_err(Failure::Driver)
    }
}

/// Run `sql`, which has no parameters, through the unnamed statement without describing it
/// first: one round trip. A statement that reads (`SELECT`, `VALUES`, `SHOW`, `TABLE`) has its
/// rows collected in one go; any other is read row by row so that its count of affected rows
/// (`CommandComplete`) is known as well.
pub(crate) fn run_unnamed_bare(client: &mut Client, sql: &str) -> std::result::Result<Fetched, Failure> {
    use postgres::fallible_iterator::FallibleIterator as _;
    let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    let reads = ["SELECT", "VALUES", "SHOW", "TABLE"].iter().any(|k| first.eq_ignore_ascii_case(k));
    let none = std::iter::empty::<(&(dyn ToSql + Sync), Type)>();
    if reads {
        return client.query_typed(sql, &[]).map(Fetched::Rows).map_err(Failure::Driver);
    }
    let mut it = client.query_typed_raw(sql, none).map_err(Failure::Driver)?;
    let mut rows = Vec::new();
    while let Some(row) = it.next().map_err(Failure::Driver)? {
        rows.push(row);
    }
    if rows.is_empty() {
        Ok(Fetched::Count(it.rows_affected().unwrap_or(0)))
    } else {
        Ok(Fetched::Rows(rows))
    }
}

impl Link {
    /// [`run_unnamed_bare`] on this thread or, inside a tokio runtime, on the connection's worker.
    pub(crate) fn unnamed_bare(&mut self, sql: &str) -> std::result::Result<Fetched, Failure> {
        if let Some(client) = self.here() {
            return run_unnamed_bare(client, sql);
        }
        let sql = sql.to_owned();
        self.elsewhere(move |client| run_unnamed_bare(client, &sql)).map_err(Failure::Athanor)?
    }

    /// [`run_unnamed`] on this thread or, inside a tokio runtime, on the connection's worker.
    pub(crate) fn unnamed(
        &mut self,
        sql: &str,
        types: &[Type],
        returns_rows: bool,
        params: &[ValueRef<'_>],
    ) -> std::result::Result<Fetched, Failure> {
        if let Some(client) = self.here() {
            return run_unnamed(client, sql, types, returns_rows, params);
        }
        let values = params
            .iter()
            .map(|v| match v {
                ValueRef::Computed(c) => c.to_value(),
                v => Ok(ValueRef::to_owned(*v)),
            })
            .collect::<Result<Vec<Value>>>()
            .map_err(Failure::Athanor)?;
        let (sql, types) = (sql.to_owned(), types.to_vec());
        self.elsewhere(move |client| {
            let refs: Vec<ValueRef<'_>> = values.iter().map(Value::as_ref).collect();
            run_unnamed(client, &sql, &types, returns_rows, &refs)
        })
        .map_err(Failure::Athanor)?
    }
}

pub(crate) enum Failure {
    /// The driver or server failed.
    Driver(postgres::Error),
    /// A conversion or the row callback failed; the connection is fine.
    Athanor(Error),
}

/// What a statement run on the worker gave.
pub(crate) enum Fetched {
    /// A statement without result columns: rows affected.
    Count(u64),
    /// The rows, to decode on the caller's thread.
    Rows(Vec<Row>),
}

impl Drop for Link {
    /// Closing a connection blocks on the client's runtime too: inside a runtime it is closed on
    /// the worker (started now if need be), and this waits until it is. Should no thread be
    /// available, the client is leaked (its socket stays open until the process ends) rather than
    /// panicking here.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        if !inside_runtime() {
            drop(client);
            return;
        }
        let worker = match self.worker.take() {
            Some(w) => w,
            None => match Worker::start() {
                Ok(w) => w,
                Err(_) => return std::mem::forget(client),
            },
        };
        let _ = worker.run(move || drop(client));
        // `worker` is dropped here: its thread ends and is waited for.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_runs_jobs_in_order_and_survives_a_panicking_job() {
        let w = Worker::start().unwrap();
        assert_eq!(w.run(|| 1 + 1), Some(2));
        let name = w.run(|| std::thread::current().name().map(str::to_string)).unwrap();
        assert_eq!(name.as_deref(), Some("athanor-postgres"));
        assert!(!w.run(inside_runtime).unwrap());
        #[allow(clippy::panic)]
        let panicked = w.run(|| -> u8 { panic!("a job failed") });
        assert_eq!(panicked, None);
        assert_eq!(w.run(|| 3), Some(3), "the worker serves on after a panicking job");
    }
}
