//! [`Connection`]: one pooled connection, its statements, transactions and savepoints, the
//! replacement of a connection found dead at a transaction's `BEGIN`, and the rows of
//! [`Connection::query`] ([`ResultRow`], [`ResultColumns`]).

use super::*;
use crate::dialect::{Capabilities, Dialect, TxOptions};
use crate::driver::RawConnection;
use crate::error::{Error, Result};
use crate::row::{Row, RowIndex};
use crate::value::{FromValue, Value, ValueRef};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The columns of a query's result: each one's name and the database's name for its type,
/// copied once per query and shared by all its [`ResultRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultColumns {
    pub(super) names: Vec<String>,
    pub(super) types: Vec<Option<String>>,
}

impl ResultColumns {
    pub(super) fn of(row: &dyn Row) -> Self {
        let n = row.len();
        ResultColumns {
            names: (0..n).map(|i| row.column_name(i).map_or_else(|| format!("#{i}"), str::to_owned)).collect(),
            types: (0..n).map(|i| row.column_type(i).map(str::to_owned)).collect(),
        }
    }

    /// The column names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// A row returned by [`Connection::query`] (and `Session::query_sql`): its cells, owned, and its
/// columns' names and type names.
///
/// ```ignore
/// let rows = conn.query("SELECT id, SUM(amount) AS total FROM orders GROUP BY id", &[])?;
/// let id: i64 = rows[0].get(0)?;
/// let total: i64 = rows[0].get("total")?;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    pub(super) values: Vec<Value>,
    pub(super) columns: Arc<ResultColumns>,
}

impl ResultRow {
    /// Cell `idx` (a position or a column name) decoded as `T` (see [`FromValue`]).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a position out of range or a name no column has;
    /// [`Error::TypeMismatch`] naming the column when the cell does not convert to `T`.
    pub fn get<T: FromValue>(&self, idx: impl RowIndex) -> Result<T> {
        let idx = idx.position(self)?;
        let v = self.values.get(idx).map_or(ValueRef::Null, Value::as_ref);
        T::from_value(v).map_err(|e| match e {
            Error::TypeMismatch { expected, found, .. } => Error::TypeMismatch {
                column: self.columns.names.get(idx).cloned().unwrap_or_else(|| format!("#{idx}")),
                expected,
                found,
            },
            other => other,
        })
    }
    /// The cells.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
    /// Into the cells.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
    /// The columns' names and types (shared by every row of the query).
    pub fn columns(&self) -> &ResultColumns {
        &self.columns
    }
}

impl Row for ResultRow {
    fn len(&self) -> usize {
        self.values.len()
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.values
            .get(idx)
            .map(Value::as_ref)
            .ok_or_else(|| Error::invalid(format!("column index {idx} out of range (row has {})", self.values.len())))
    }
    fn column_name(&self, idx: usize) -> Option<&str> {
        self.columns.names.get(idx).map(String::as_str)
    }
    fn column_type(&self, idx: usize) -> Option<&str> {
        self.columns.types.get(idx).and_then(Option::as_deref)
    }
}

/// One pooled connection. Dropping it returns it to the pool, rolling back an open transaction
/// first.
pub struct Connection {
    pub(super) engine: Engine,
    pub(super) slot: Option<r2d2::PooledConnection<Manager>>,
    pub(super) in_transaction: bool,
    pub(super) savepoints: usize,
    /// Nothing was sent on this checkout yet and the connection had been idle in the pool: a
    /// disconnect now means it died there, and it may be replaced (see [`Engine::connect`]).
    pub(super) replaceable: bool,
    /// The physical connection is away streaming a result (see [`super::stream`]): which lending.
    pub(super) lent: Option<u64>,
    /// The number of the transaction begun last ([`Engine::next_transaction`]): statement spans'
    /// `athanor.transaction` while [`Connection::in_transaction`].
    pub(super) transaction: u64,
    /// The options the open transaction began with, as [`Engine::transaction_options`] completed
    /// them (meaningful while [`Connection::in_transaction`]).
    pub(super) tx_options: TxOptions,
    /// Statements sent through this checkout other than transaction control (see
    /// [`Connection::statements_sent`]).
    pub(super) work_statements: u64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("in_transaction", &self.in_transaction).finish()
    }
}

/// The parameters with each [`ValueRef::Computed`] made into its value (kept in `made`), so the
/// driver never sees one; borrowed as they are when there is none.
///
/// # Errors
/// A computed value that cannot be made (its field's `SqlField::check` reports it first).
pub(super) fn resolve_computed<'a>(
    params: &'a [ValueRef<'a>],
    made: &'a mut Vec<Value>,
) -> Result<std::borrow::Cow<'a, [ValueRef<'a>]>> {
    if !params.iter().any(|p| matches!(p, ValueRef::Computed(_))) {
        return Ok(std::borrow::Cow::Borrowed(params));
    }
    for p in params {
        if let ValueRef::Computed(c) = p {
            made.push(c.to_value()?);
        }
    }
    let mut made = made.iter();
    let resolved = params
        .iter()
        .map(|p| match p {
            ValueRef::Computed(_) => made.next().map_or(ValueRef::Null, Value::as_ref),
            other => *other,
        })
        .collect();
    Ok(std::borrow::Cow::Owned(resolved))
}

pub(super) fn refs(params: &[Value]) -> Vec<ValueRef<'_>> {
    params.iter().map(Value::as_ref).collect()
}

impl Connection {
    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The dialect.
    pub fn dialect(&self) -> &dyn Dialect {
        self.engine.dialect()
    }

    /// What the database can do on this connection: the engine's capabilities as this physical
    /// connection adjusted them when it was opened (see [`Engine::capabilities`]). After the
    /// connection was invalidated, the engine's.
    pub fn capabilities(&self) -> &Capabilities {
        match self.slot.as_ref() {
            Some(s) if !s.invalidated => &s.caps,
            _ => self.engine.capabilities(),
        }
    }

    pub(super) fn raw(&mut self) -> Result<&mut Box<dyn RawConnection>> {
        if self.lent.is_some() {
            return Err(Error::invalid(
                "the connection is busy streaming a result (yield_per): read that iterator to its end or drop it \
                 first",
            ));
        }
        match self.slot.as_mut() {
            Some(s) if !s.invalidated => Ok(&mut s.raw),
            _ => Err(Error::invalid("this connection was invalidated; take a new one from the engine")),
        }
    }

    /// Whether the failure `r` of the checkout's first statement is a connection that died idle,
    /// to be replaced; after it, nothing is replaceable any more.
    pub(super) fn died_idle<T>(&mut self, r: &Result<T>) -> bool {
        let first = std::mem::take(&mut self.replaceable);
        first && !self.in_transaction && matches!(r, Err(e) if e.is_disconnect())
    }

    /// Discard the dead connection and take a live one (see [`Engine::connect`]).
    pub(super) fn replace_dead(&mut self, dead: &Error) -> Result<()> {
        tracing::debug!(target: "athanor::pool", "replacing a connection that died idle: {dead}");
        if let Some(mut s) = self.slot.take() {
            s.invalidated = true;
        }
        self.slot = Some(self.engine.live_slot()?);
        let engine = self.engine.clone();
        engine.run_pool_events(self)
    }

    pub(super) fn after<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_disconnect() {
                if let Some(s) = self.slot.as_mut() {
                    s.invalidated = true;
                }
                self.engine.inner.suspect_idle.store(true, Ordering::Relaxed);
                // A replica that dropped a connection is skipped for a while (reads go elsewhere).
                self.engine.back_off();
                self.in_transaction = false;
                self.savepoints = 0;
            }
        }
        r
    }

    /// Run a statement with borrowed parameters; rows affected.
    ///
    /// # Errors
    /// [`Error::Unsupported`] before anything is sent for a parameter the database cannot store
    /// (see [`crate::Capabilities::check_params`]); what the database reports, classified by the
    /// dialect ([`Error::Integrity`], [`Error::SerializationFailure`], [`Error::Database`] …, with
    /// the driver's error as [`std::error::Error::source`]); [`Error::Connection`] when the
    /// connection is lost or was closed.
    pub fn execute_refs(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        let mut made = Vec::new();
        let params = &*resolve_computed(params, &mut made)?;
        self.check_params(params)?;
        let started = self.start(sql, params);
        let _entered = started.span.clone().entered();
        // Never replayed: an autocommit write whose connection was lost while it ran may have
        // been applied, and running it again could apply it twice.
        self.replaceable = false;
        let r = self.raw().and_then(|raw| raw.execute(sql, params));
        self.engine.end_statement(started, sql, params, r.as_ref().ok().copied(), false, r.as_ref().err());
        self.after(r)
    }

    /// Run one statement once per row of `params` (`row_len` parameters each), prepared once
    /// ([`RawConnection::execute_each`]); the rows each one affected, in order. Each row is one
    /// statement to the telemetry (listeners, spans, [`Connection::statements_sent`]), as it
    /// is to the database.
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`], for the first row that fails (the rows before it
    /// were run); [`Error::InvalidRequest`] when `params` is not a whole number of rows.
    pub fn execute_each_refs(&mut self, sql: &str, params: &[ValueRef<'_>], row_len: usize) -> Result<Vec<u64>> {
        if row_len == 0 || params.len() % row_len != 0 {
            return Err(Error::invalid_request(format!("{} parameters are not rows of {row_len}", params.len())));
        }
        let mut made = Vec::new();
        let params = &*resolve_computed(params, &mut made)?;
        for row in params.chunks(row_len) {
            self.check_params(row)?;
        }
        let rows = params.len() / row_len;
        if rows == 0 {
            return Ok(Vec::new());
        }
        self.replaceable = false;
        self.work_statements += rows as u64;
        let engine = self.engine.clone();
        let caps = self.capabilities().clone();
        let tx = self.current_transaction();
        let row = |i: usize| &params[i * row_len..(i + 1) * row_len];
        let mut counts = Vec::with_capacity(rows);
        engine.count_work_statement();
        let mut started = Some(engine.start_statement(sql, row(0), tx, &caps));
        let r = self.raw().and_then(|raw| {
            raw.execute_each(sql, params, row_len, &mut |i, n| {
                if let Some(s) = started.take() {
                    engine.end_statement(s, sql, row(i), Some(n), false, None);
                }
                counts.push(n);
                if i + 1 < rows {
                    engine.count_work_statement();
                    started = Some(engine.start_statement(sql, row(i + 1), tx, &caps));
                }
                Ok(())
            })
        });
        if let Some(s) = started.take() {
            engine.end_statement(s, sql, row(counts.len().min(rows - 1)), None, false, r.as_ref().err());
        }
        self.after(r)?;
        Ok(counts)
    }

    /// The transaction a statement sent now belongs to.
    fn current_transaction(&self) -> Option<u64> {
        self.in_transaction.then_some(self.transaction)
    }

    /// How many statements this checkout sent other than transaction control: the prepared
    /// ones (queries, INSERT / UPDATE / DELETE, raw SQL with [`Connection::execute`] or
    /// [`Connection::query`], streams), not BEGIN, COMMIT, ROLLBACK, savepoints or
    /// [`Connection::batch_execute`]. What `Engine::statements_since` counts engine-wide.
    pub fn statements_sent(&self) -> u64 {
        self.work_statements
    }

    /// Start a statement's telemetry ([`Engine::start_statement`]), counting it as a statement
    /// of [`Connection::statements_sent`] (transaction control goes through `unprepared`).
    pub(super) fn start(&mut self, sql: &str, params: &[ValueRef<'_>]) -> super::telemetry::Started {
        self.work_statements += 1;
        self.engine.count_work_statement();
        self.engine.start_statement(sql, params, self.current_transaction(), self.capabilities())
    }

    /// The capabilities' refusals, checked once here for every backend.
    pub(super) fn check_params(&self, params: &[ValueRef<'_>]) -> Result<()> {
        // The connection's own report (the dialect's sheet as adjusted at connect).
        self.capabilities().check_params(self.dialect().name(), params)
    }

    /// Run a query with borrowed parameters, calling `on_row` for each row.
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`], and `on_row`'s own error (the query is abandoned).
    pub fn query_refs(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.query_with(sql, params, on_row, false)
    }

    /// [`Connection::query_refs`] for a statement that changes nothing: a SELECT its caller
    /// built (the ORM's own reads), never raw SQL. It is the one query that may be sent twice:
    /// when it is the first statement of the checkout, outside a transaction, and fails with a
    /// disconnect error before any row arrived, the connection died idle in the pool, so it is
    /// replaced and the query runs once more on a live one (as a transaction's `BEGIN` is; see
    /// [`Engine::connect`]). A session reading without a transaction
    /// (`SessionMaker::autocommit_reads`) sends its reads this way, so an idle connection's
    /// death fails none of them.
    ///
    /// # Errors
    /// Those of [`Connection::query_refs`].
    pub fn query_read_refs(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.query_with(sql, params, on_row, true)
    }

    fn query_with(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
        read: bool,
    ) -> Result<()> {
        let mut made = Vec::new();
        let params = &*resolve_computed(params, &mut made)?;
        self.check_params(params)?;
        if !read {
            // Never replayed: a query may write (`INSERT … RETURNING`), see `execute_refs`.
            self.replaceable = false;
        }
        let mut rows = 0u64;
        let mut r = self.send_query(sql, params, &mut rows, on_row);
        // `died_idle` also ends the checkout's replaceable state, whatever the outcome.
        if self.died_idle(&r) && rows == 0 {
            if let Err(dead) = &r {
                self.replace_dead(dead)?;
            }
            r = self.send_query(sql, params, &mut rows, on_row);
        }
        self.after(r)
    }

    /// Send one query, with its telemetry, counting its rows into `rows`.
    fn send_query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        rows: &mut u64,
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        let started = self.start(sql, params);
        let _entered = started.span.clone().entered();
        let r = self.raw().and_then(|raw| {
            raw.query(sql, params, &mut |row| {
                *rows += 1;
                on_row(row)
            })
        });
        self.engine.end_statement(started, sql, params, Some(*rows), true, r.as_ref().err());
        r
    }

    /// Run a parameterless statement unprepared (DDL, transaction control).
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`].
    pub fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let tx = self.current_transaction();
        self.batch_in(sql, tx)
    }

    /// [`Connection::batch_execute`] reported as part of transaction `tx`.
    fn batch_in(&mut self, sql: &str, tx: Option<u64>) -> Result<()> {
        // Never replayed (it may write), see `execute_refs`.
        self.replaceable = false;
        let r = self.unprepared(sql, tx);
        self.after(r)
    }

    /// Send one unprepared statement, with its telemetry.
    fn unprepared(&mut self, sql: &str, tx: Option<u64>) -> Result<()> {
        let started = self.engine.start_statement(sql, &[], tx, self.capabilities());
        let _entered = started.span.clone().entered();
        let r = self.raw().and_then(|raw| raw.batch_execute(sql));
        self.engine.end_statement(started, sql, &[], None, false, r.as_ref().err());
        r
    }

    /// A statement that begins a transaction: the one statement that is replayed on a live
    /// connection when it finds the checkout's connection dead (it changes no data).
    pub(super) fn begin_statement(&mut self, sql: &str) -> Result<()> {
        let tx = Some(self.transaction);
        let mut r = self.unprepared(sql, tx);
        if self.died_idle(&r) {
            if let Err(dead) = &r {
                self.replace_dead(dead)?;
            }
            r = self.unprepared(sql, tx);
        }
        self.after(r)
    }

    /// The key generated by the last INSERT, where the database reports it that way.
    ///
    /// # Errors
    /// [`Error::Connection`] when the connection is gone; a database error where the driver asks
    /// the server.
    pub fn last_insert_id(&mut self) -> Result<Option<i64>> {
        let r = self.raw()?.last_insert_id();
        self.after(r)
    }

    /// Run a statement; rows affected. `?`/`$n` placeholders follow the dialect.
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`].
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.execute_refs(sql, &refs(params))
    }

    /// Run a query and collect its rows.
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`]; [`Error::TypeMismatch`] for a value the backend
    /// cannot read.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<ResultRow>> {
        let mut rows = Vec::new();
        let mut columns: Option<Arc<ResultColumns>> = None;
        self.query_refs(sql, &refs(params), &mut |row| {
            let mut values = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                values.push(row.get(i)?.to_owned());
            }
            let columns = columns.get_or_insert_with(|| Arc::new(ResultColumns::of(row))).clone();
            rows.push(ResultRow { values, columns });
            Ok(())
        })?;
        Ok(rows)
    }

    /// Run a query expected to return one value in one row (`SELECT count(*) …`).
    ///
    /// # Errors
    /// Those of [`Connection::query`]; [`Error::NotFound`] for no row, [`Error::MultipleResults`]
    /// for more than one, [`Error::TypeMismatch`] when the value does not fit `T`.
    pub fn query_scalar<T: FromValue>(&mut self, sql: &str, params: &[Value]) -> Result<T> {
        let rows = self.query(sql, params)?;
        match rows.as_slice() {
            [one] => one.get(0),
            [] => Err(Error::NotFound { what: sql.to_string() }),
            _ => Err(Error::MultipleResults { what: sql.to_string() }),
        }
    }

    /// `true` inside `begin()` … `commit()`/`rollback()`.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    /// The options the open transaction began with, completed by the engine's settings
    /// ([`Engine::transaction_options`]: its isolation level, its `write_intent`); `None`
    /// outside a transaction. `write_intent` here means the transaction asked for the write
    /// lock at `BEGIN` (SQLite's `BEGIN IMMEDIATE`).
    pub fn transaction_options(&self) -> Option<TxOptions> {
        self.in_transaction.then_some(self.tx_options)
    }

    /// Begin a transaction with the engine's default isolation level.
    ///
    /// # Errors
    /// Those of [`Connection::begin_with`].
    pub fn begin(&mut self) -> Result<()> {
        self.begin_with(TxOptions::default())
    }

    /// Begin a transaction with options. The engine's `isolation_level` fills in a missing
    /// level, and its `write_intent` sets [`TxOptions::write_intent`] unless `read_only`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when a transaction is already begun; [`Error::Unsupported`] for
    /// an isolation level or mode the database lacks; a database error from BEGIN.
    pub fn begin_with(&mut self, opts: TxOptions) -> Result<()> {
        if self.in_transaction {
            return Err(Error::invalid("a transaction is already begun on this connection"));
        }
        let opts = self.engine.transaction_options(opts);
        let stmts = self.engine.begin_statements(&opts)?;
        self.transaction = self.engine.next_transaction();
        for s in stmts.iter() {
            self.begin_statement(s)?;
        }
        self.in_transaction = true;
        self.tx_options = opts;
        self.savepoints = 0;
        Ok(())
    }

    /// Commit the transaction.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] without a transaction; a database error from COMMIT (an
    /// [`Error::SerializationFailure`] means the transaction was rolled back and may be retried).
    pub fn commit(&mut self) -> Result<()> {
        if !self.in_transaction {
            return Err(Error::invalid("no transaction is begun on this connection"));
        }
        let sql = self.dialect().commit_statement();
        let r = self.batch_execute(sql);
        // Whatever happened, the transaction is over (a failed COMMIT is rolled back by the
        // database); make sure of it.
        self.in_transaction = false;
        self.savepoints = 0;
        if r.is_err() {
            let rb = self.dialect().rollback_statement();
            let _ = self.batch_execute(rb);
        }
        r
    }

    /// Roll the transaction back.
    ///
    /// # Errors
    /// A database error from ROLLBACK, usually [`Error::Connection`] (the connection is then
    /// discarded; the transaction is over either way).
    pub fn rollback(&mut self) -> Result<()> {
        if !self.in_transaction {
            return Ok(());
        }
        self.in_transaction = false;
        self.savepoints = 0;
        let sql = self.dialect().rollback_statement();
        self.batch_in(sql, Some(self.transaction))
    }

    /// `SAVEPOINT name` (inside a transaction).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] outside a transaction or for a name that is not a valid
    /// identifier; [`Error::Unsupported`] where the database has no savepoints; a database error.
    pub fn savepoint(&mut self, name: &str) -> Result<()> {
        self.require_savepoints()?;
        let sql = self.dialect().savepoint_statement(name)?;
        self.batch_execute(&sql)?;
        self.savepoints += 1;
        Ok(())
    }

    /// `RELEASE SAVEPOINT name`.
    ///
    /// # Errors
    /// Those of [`Connection::savepoint`] (a database error for a savepoint that does not exist).
    pub fn release_savepoint(&mut self, name: &str) -> Result<()> {
        self.require_savepoints()?;
        let sql = self.dialect().release_savepoint_statement(name)?;
        self.batch_execute(&sql)?;
        self.savepoints = self.savepoints.saturating_sub(1);
        Ok(())
    }

    /// `ROLLBACK TO SAVEPOINT name`.
    ///
    /// # Errors
    /// Those of [`Connection::savepoint`] (a database error for a savepoint that does not exist).
    pub fn rollback_to_savepoint(&mut self, name: &str) -> Result<()> {
        self.require_savepoints()?;
        let sql = self.dialect().rollback_to_savepoint_statement(name)?;
        self.batch_execute(&sql)
    }

    pub(super) fn require_savepoints(&self) -> Result<()> {
        if !self.in_transaction {
            return Err(Error::invalid("savepoints need a transaction: call begin() first"));
        }
        if !self.dialect().capabilities().savepoints {
            return Err(Error::unsupported("savepoints", self.dialect().name()));
        }
        Ok(())
    }

    /// Discard the physical connection instead of returning it to the pool (after a fault, or
    /// to be sure no session state survives). The pool opens a fresh one when needed.
    pub fn invalidate(&mut self) {
        if let Some(s) = self.slot.as_mut() {
            s.invalidated = true;
        }
        self.replaceable = false;
        self.in_transaction = false;
        self.savepoints = 0;
    }

    /// `true` once invalidated.
    pub fn is_invalidated(&self) -> bool {
        self.slot.as_ref().is_none_or(|s| s.invalidated)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.in_transaction {
            if let Err(e) = self.rollback() {
                tracing::warn!(target: "athanor::engine", "rollback on drop failed, discarding the connection: {e}");
                self.invalidate();
            }
        }
    }
}
