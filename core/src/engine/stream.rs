//! [`RowStream`]: a query's rows read in batches of bounded size while the caller pulls them
//! (`yield_per`).
//!
//! A driver hands rows to a callback ([`RawConnection::query_chunked`]), which cannot pause for
//! a caller's `Iterator::next`. So the connection is lent to a worker thread for the query's
//! duration: the worker runs the callback API, copies the rows into owned [`ResultRow`]s and
//! sends them `fetch_size` at a time through a channel with room for one batch. When the channel
//! is full the callback waits, and so does the driver (SQLite stops stepping, MySQL stops
//! reading the socket, PostgreSQL's cursor is not fetched from). At most about three batches are
//! in memory at once: the one being consumed, one waiting, one being filled.
//!
//! While the connection is lent, every other use of the [`Connection`] is
//! [`Error::InvalidRequest`]. Dropping the stream early closes the channel: the worker's next
//! send fails, the driver abandons the query (MySQL reads and discards the rest of the result),
//! and the connection comes back. A lent connection that cannot be given back to its
//! `Connection` (which was dropped, or lent again) is discarded, never returned to the pool in
//! the middle of a transaction.

use super::connection::{Connection, ResultColumns, ResultRow};
use super::pool::Manager;
use crate::error::{Error, Result};
use crate::value::{Value, ValueRef};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Which lending of a connection a stream belongs to.
static LEND_SEQ: AtomicU64 = AtomicU64::new(1);

/// A pooled connection away on a worker thread. Dropped without being given back (the worker
/// panicked, or its `Connection` is gone), it is marked invalidated so the pool discards it.
pub(super) struct Lent(Option<r2d2::PooledConnection<Manager>>);

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(slot) = self.0.as_mut() {
            slot.invalidated = true;
        }
    }
}

/// The error the worker's callback returns when the consumer has gone away.
fn consumer_gone() -> Error {
    Error::invalid("the streamed result's reader was dropped")
}

/// What the worker gives back: the connection, how the query ended, and whether it stopped
/// because the reader went away.
struct Outcome {
    lent: Lent,
    result: Result<()>,
    cancelled: bool,
}

/// A query's rows in batches, pulled by [`RowStream::next_batch`]. Obtained from
/// [`Connection::stream`]; give it back with [`Connection::finish_stream`].
pub struct RowStream {
    rx: Option<mpsc::Receiver<Vec<ResultRow>>>,
    worker: Option<JoinHandle<Outcome>>,
    token: u64,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream").field("open", &self.rx.is_some()).finish()
    }
}

impl RowStream {
    /// The next batch of at most `fetch_size` rows; `None` once the result is exhausted or
    /// failed ([`Connection::finish_stream`] then tells which).
    pub fn next_batch(&mut self) -> Option<Vec<ResultRow>> {
        let rx = self.rx.as_ref()?;
        match rx.recv() {
            Ok(batch) => Some(batch),
            Err(_) => {
                self.rx = None;
                None
            }
        }
    }
}

impl Connection {
    /// `true` while a [`RowStream`] has this connection.
    pub fn is_lent(&self) -> bool {
        self.lent.is_some()
    }

    /// Run a query whose rows are read `fetch_size` at a time ([`RowStream`]). The connection is
    /// busy until [`Connection::finish_stream`] takes the stream back.
    ///
    /// # Errors
    /// As [`Connection::query_refs`] for what is known before the query starts;
    /// [`Error::Connection`] when no worker thread can be started.
    pub fn stream(&mut self, sql: String, params: Vec<Value>, fetch_size: usize) -> Result<RowStream> {
        let refs: Vec<ValueRef<'_>> = params.iter().map(Value::as_ref).collect();
        self.check_params(&refs)?;
        drop(refs);
        self.raw()?;
        let fetch_size = fetch_size.max(1);
        let started = self.start(&sql, &params.iter().map(Value::as_ref).collect::<Vec<_>>());
        // The worker reports to the caller's subscriber, inside the statement's span.
        let dispatch = tracing::dispatcher::get_default(tracing::Dispatch::clone);
        let engine = self.engine.clone();
        self.replaceable = false;
        let mut lent = Lent(self.slot.take());
        let token = LEND_SEQ.fetch_add(1, Ordering::Relaxed);
        self.lent = Some(token);
        let (tx, rx) = mpsc::sync_channel::<Vec<ResultRow>>(1);
        let spawned = std::thread::Builder::new().name("athanor-stream".into()).spawn(move || {
            let _subscriber = tracing::dispatcher::set_default(&dispatch);
            let _entered = started.span.clone().entered();
            let mut cancelled = false;
            let mut read = 0u64;
            let result = match lent.0.as_mut() {
                None => Err(Error::invalid("the connection was invalidated")),
                Some(slot) => {
                    let refs: Vec<ValueRef<'_>> = params.iter().map(Value::as_ref).collect();
                    let mut batch: Vec<ResultRow> = Vec::with_capacity(fetch_size);
                    let mut columns: Option<Arc<ResultColumns>> = None;
                    let r = slot.raw.query_chunked(&sql, &refs, fetch_size, &mut |row| {
                        read += 1;
                        let mut values = Vec::with_capacity(row.len());
                        for i in 0..row.len() {
                            values.push(row.get(i)?.to_owned());
                        }
                        let columns = columns.get_or_insert_with(|| Arc::new(ResultColumns::of(row))).clone();
                        batch.push(ResultRow { values, columns });
                        if batch.len() >= fetch_size {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(fetch_size));
                            if tx.send(full).is_err() {
                                cancelled = true;
                                return Err(consumer_gone());
                            }
                        }
                        Ok(())
                    });
                    let r = match r {
                        Ok(()) if !batch.is_empty() => tx.send(batch).or_else(|_| {
                            cancelled = true;
                            Ok(())
                        }),
                        other => other,
                    };
                    let error = r.as_ref().err().filter(|_| !cancelled);
                    engine.end_statement(started, &sql, &refs, Some(read), true, error);
                    r
                }
            };
            Outcome { lent, result, cancelled }
        });
        match spawned {
            Ok(worker) => Ok(RowStream { rx: Some(rx), worker: Some(worker), token }),
            Err(e) => {
                // The closure (and the slot in it) is gone with the failed spawn: the slot was
                // marked invalidated by `Lent`'s drop.
                self.lent = None;
                Err(Error::Connection {
                    message: format!("no thread to stream the result on: {e}"),
                    disconnect: true,
                    source: None,
                })
            }
        }
    }

    /// Take a stream's connection back (waiting for its worker, which stops at once when the
    /// stream was not read to the end) and report how the query ended.
    ///
    /// # Errors
    /// The query's error (as [`Connection::query_refs`]); nothing for a stream dropped before
    /// its end. [`Error::Connection`] when the worker failed without giving the connection back.
    pub fn finish_stream(&mut self, mut stream: RowStream) -> Result<()> {
        stream.rx = None; // the worker's next send fails: it stops
        let Some(worker) = stream.worker.take() else { return Ok(()) };
        let Outcome { mut lent, result, cancelled } = match worker.join() {
            Ok(done) => done,
            Err(_) => {
                self.lent = None;
                self.invalidate();
                return Err(Error::connection("the streaming worker failed; the connection is discarded", true));
            }
        };
        // Stopped because the reader let go: not a failure.
        let result = if cancelled { Ok(()) } else { result };
        if self.lent != Some(stream.token) {
            // This connection was dropped or re-lent meanwhile: `lent` is discarded on drop.
            return result;
        }
        self.lent = None;
        self.slot = lent.0.take();
        self.after(result)
    }
}

impl RowStream {
    /// Dropped without [`Connection::finish_stream`]: the worker is told to stop and waited for;
    /// its connection is discarded (see [`Lent`]).
    fn abandon(&mut self) {
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for RowStream {
    fn drop(&mut self) {
        self.abandon();
    }
}
