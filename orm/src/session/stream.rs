//! Walking a large result in bounded memory: `query.yield_per(n).iter()` and
//! `select(…).yield_per(n).iter()` (SQLAlchemy's `yield_per`).
//!
//! The rows arrive `n` at a time from the driver (see `engine::stream`). Objects go through the
//! identity map as with `all()`: an object already in the session is the same instance, and
//! the first time a row is seen it becomes a persistent object. To keep memory bounded, when
//! the next batch is read, the objects the stream itself put in the identity map that nobody
//! holds any more (no handle, no relationship of another object, no unflushed change) leave it,
//! as SQLAlchemy's weak-referencing identity map forgets them. An object you keep stays, with
//! its identity.
//!
//! While a stream is open the session's connection is busy: another query, a flush, or a commit
//! on the same session is [`Error::InvalidRequest`] until the iterator is read to its end or
//! dropped. (MySQL cannot run a second statement on a connection before the first one's rows are
//! read; Athanor gives every database that rule.)

use super::identity::{Key, TypedMap};
use super::{identity_row, is_database_error, Handle, Inner, Session, Shared};
use crate::model::Model;
use athanor_core::engine::{ResultRow, RowStream};
use athanor_core::error::{Error, Result};
use athanor_core::value::Value;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

/// How many rows `iter()` reads per batch when `yield_per` was not called.
pub const DEFAULT_YIELD_PER: usize = 1000;

impl Session {
    /// Start streaming `sql` on the session's connection, in its transaction (after autoflush).
    pub(super) fn start_stream(&self, sql: String, params: Vec<Value>, fetch_size: usize) -> Result<RowStream> {
        if fetch_size == 0 {
            return Err(Error::invalid_request("yield_per(0): a batch needs at least one row"));
        }
        self.prepare_read()?;
        let mut inner = self.inner();
        inner.ensure_conn()?;
        let conn = inner.conn.as_mut().ok_or_else(|| Error::invalid_request("no connection"))?;
        conn.stream(sql, params, fetch_size)
    }

    /// Give a stream's connection back to the session; a database error fails the transaction
    /// as any other statement's does.
    pub(super) fn end_stream(&self, stream: RowStream) -> Result<()> {
        let mut inner = self.inner();
        let r = match inner.conn.as_mut() {
            Some(conn) => conn.finish_stream(stream),
            // The transaction ended while the stream was open (its connection is discarded).
            None => {
                drop(stream);
                Ok(())
            }
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner.fail(e);
            }
        }
        r
    }
}

/// The rows of a stream, batch by batch, and the session to give the connection back to.
struct Batches<'s> {
    session: &'s Session,
    stream: Option<RowStream>,
    batch: std::vec::IntoIter<ResultRow>,
}

enum Next {
    Row(ResultRow),
    End(Result<()>),
}

impl<'s> Batches<'s> {
    fn new(session: &'s Session, stream: RowStream) -> Self {
        Batches { session, stream: Some(stream), batch: Vec::new().into_iter() }
    }

    /// The next row; `refill` runs before each new batch is read (the moment to forget the
    /// objects nobody holds any more).
    fn next_row(&mut self, refill: &mut dyn FnMut()) -> Next {
        loop {
            if let Some(row) = self.batch.next() {
                return Next::Row(row);
            }
            let Some(stream) = self.stream.as_mut() else { return Next::End(Ok(())) };
            refill();
            match stream.next_batch() {
                Some(b) => self.batch = b.into_iter(),
                None => return Next::End(self.finish()),
            }
        }
    }

    fn finish(&mut self) -> Result<()> {
        match self.stream.take() {
            Some(s) => self.session.end_stream(s),
            None => Ok(()),
        }
    }
}

impl Drop for Batches<'_> {
    fn drop(&mut self) {
        // Dropped before the end: the worker stops and the connection comes back.
        let _ = self.finish();
    }
}

/// The objects of a query, read in batches ([`crate::Query::yield_per`]); each item is a
/// [`Handle`] or the error that ended the stream.
pub struct QueryIter<'s, M: Model> {
    rows: Batches<'s>,
    weak: Weak<Shared>,
    /// Keys the stream put in the identity map since the last batch was read.
    loaded: Vec<Key>,
    /// With joins, a row per match: the keys already yielded (each object once).
    seen: Option<HashSet<Key, athanor_core::engine::FastState>>,
    /// The stream's result number for N+1 detection (0: off; see `lazy.rs`).
    origin: u64,
    _m: PhantomData<fn() -> M>,
}

impl<'s, M: Model> QueryIter<'s, M> {
    pub(super) fn new(session: &'s Session, stream: RowStream, dedupe: bool) -> Self {
        let origin = session.inner().next_origin();
        QueryIter {
            origin,
            rows: Batches::new(session, stream),
            weak: Rc::downgrade(&session.shared),
            loaded: Vec::new(),
            seen: dedupe.then(HashSet::default),
            _m: PhantomData,
        }
    }

    /// Drop from the identity map the objects this stream loaded that only the map holds.
    fn forget_unreferenced(inner: &mut Inner, loaded: &mut Vec<Key>) {
        let map: &mut TypedMap<M> = inner.identity.typed_mut::<M>();
        for key in loaded.drain(..) {
            let unreferenced = map.get(&key).is_some_and(|inst| {
                let meta = inst.meta.borrow();
                Rc::strong_count(inst) == 1
                    && meta.state == super::ObjectState::Persistent
                    && !meta.listed_modified
                    && !meta.editing
            });
            if unreferenced {
                super::identity::AnyMap::remove(map, &key);
            }
        }
    }

    fn object(&mut self, row: &ResultRow) -> Result<Option<Handle<M>>> {
        let mut inner = self.rows.session.inner();
        let map = inner.identity.typed_mut::<M>();
        let (inst, new) = identity_row::<M>(map, &self.weak, row, self.origin)?;
        let key = inst.meta.borrow().key.clone();
        if let Some(key) = key {
            if let Some(seen) = self.seen.as_mut() {
                if !seen.insert(key.clone()) {
                    return Ok(None);
                }
            }
            if new {
                self.loaded.push(key);
            }
        }
        Ok(Some(Handle::from_instance(inst)))
    }
}

impl<M: Model> Iterator for QueryIter<'_, M> {
    type Item = Result<Handle<M>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let session = self.rows.session;
            let loaded = &mut self.loaded;
            let next = self.rows.next_row(&mut || Self::forget_unreferenced(&mut session.inner(), loaded));
            match next {
                Next::Row(row) => match self.object(&row) {
                    Ok(Some(h)) => return Some(Ok(h)),
                    Ok(None) => continue,
                    Err(e) => {
                        // A row that does not decode ends the stream.
                        let _ = self.rows.finish();
                        return Some(Err(e));
                    }
                },
                Next::End(Ok(())) => return None,
                Next::End(Err(e)) => return Some(Err(e)),
            }
        }
    }
}

impl<M: Model> std::fmt::Debug for QueryIter<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryIter").field("model", &M::TABLE.rust_name).finish()
    }
}

/// The rows of a column selection, read in batches ([`crate::ColumnQuery::yield_per`]).
pub struct ColumnIter<'s, Out> {
    rows: Batches<'s>,
    decode: fn(&dyn athanor_core::row::Row) -> Result<Out>,
}

impl<'s, Out> ColumnIter<'s, Out> {
    pub(super) fn new(
        session: &'s Session,
        stream: RowStream,
        decode: fn(&dyn athanor_core::row::Row) -> Result<Out>,
    ) -> Self {
        ColumnIter { rows: Batches::new(session, stream), decode }
    }
}

impl<Out> Iterator for ColumnIter<'_, Out> {
    type Item = Result<Out>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rows.next_row(&mut || {}) {
            Next::Row(row) => {
                let r = (self.decode)(&row);
                if r.is_err() {
                    let _ = self.rows.finish();
                }
                Some(r)
            }
            Next::End(Ok(())) => None,
            Next::End(Err(e)) => Some(Err(e)),
        }
    }
}

impl<Out> std::fmt::Debug for ColumnIter<'_, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnIter").finish()
    }
}
