//! [`PostgresConnection`]: one session with the server, with its prepared-statement cache.

use crate::error;
use crate::offload::{Failure, Fetched, Link};
use crate::value::{encode_params, Codec, PgRow};
use athanor_core::{Capabilities, Error, RawConnection, Result, Row, ValueRef};
use postgres::types::Type;
use postgres::Column;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::time::Duration;

/// How many prepared statements a connection keeps; the cache is emptied when it would grow past
/// this (the server frees the dropped statements).
const STATEMENT_CACHE_CAPACITY: usize = 512;

/// What a connection keeps of the statements it runs (the `statement_cache` URL option).
///
/// PgBouncer in transaction or statement mode hands each transaction a server connection of its
/// own choosing, so a statement prepared under a name in one transaction is unknown in the next
/// (SQLSTATE 26000, "prepared statement … does not exist"): use [`StatementCache::Unnamed`]
/// behind such a pooler (see docs/scaling.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementCache {
    /// `named` (the default): every statement is prepared once per connection under a name and
    /// reused by its SQL text (one round trip per later run).
    #[default]
    Named,
    /// `unnamed`: a statement with parameters is described once per connection (prepared under a
    /// name and closed again inside one transaction, opened for the purpose when none is), its
    /// parameter types are kept by SQL text on the client, and every run goes through the unnamed
    /// statement (`Parse`, `Bind`, `Execute` in one round trip, planned anew each time); one
    /// without parameters is not described at all. No named statement outlives its transaction.
    Unnamed,
    /// `none`: like `unnamed` without keeping the parameter types: every run describes its
    /// statement afresh (two round trips more, four outside a transaction).
    None,
}

impl StatementCache {
    /// Read the option's value: `named`, `unnamed` or `none`.
    ///
    /// # Errors
    /// [`Error::Config`] for any other value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "named" => Ok(StatementCache::Named),
            "unnamed" => Ok(StatementCache::Unnamed),
            "none" => Ok(StatementCache::None),
            _ => Err(Error::Config {
                message: format!("invalid value {value:?} for URL option statement_cache (named, unnamed or none)"),
            }),
        }
    }
}

/// What describing a statement told: its parameters' types and whether it returns rows.
#[derive(Debug, Clone)]
struct Described {
    types: Vec<Type>,
    returns_rows: bool,
}

/// A connection to PostgreSQL.
///
/// Every statement with parameters is prepared once per connection (the server then knows each
/// parameter's type, which is what the values are encoded as) and cached by its SQL text.
/// Transaction control and DDL go through [`RawConnection::batch_execute`], unprepared.
pub struct PostgresConnection {
    /// The driver's client, called on this thread or, inside a tokio runtime, on the
    /// connection's worker (`offload.rs`).
    client: Link,
    statements: HashMap<String, Statement>,
    /// What is kept of statements ([`StatementCache`]).
    cache: StatementCache,
    /// `unnamed`: the described statements by SQL text (no server state).
    described: HashMap<String, Described>,
    /// Whether a transaction is open (from the transaction-control statements run), so that
    /// describing a statement for `unnamed`/`none` knows whether to open one.
    in_transaction: bool,
    broken: bool,
    ping_timeout: Duration,
    /// `SHOW server_version`, read at connect.
    server_version: Option<String>,
}

impl std::fmt::Debug for PostgresConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConnection")
            .field("cached_statements", &self.statements.len())
            .field("broken", &self.broken)
            .finish()
    }
}

impl PostgresConnection {
    pub(crate) fn connect(
        config: &postgres::Config,
        target: &str,
        ping_timeout: Duration,
        cache: StatementCache,
    ) -> Result<Self> {
        let mut client = config.connect(NoTls).map_err(|e| error::map_connect(e, target))?;
        let server_version = read_server_version(&mut client, target);
        Ok(PostgresConnection {
            client: client.into(),
            statements: HashMap::new(),
            cache,
            described: HashMap::new(),
            in_transaction: false,
            broken: false,
            ping_timeout,
            server_version,
        })
    }

    /// The server's version (`SHOW server_version`, e.g. `16.4 (Debian 16.4-1.pgdg120+1)`), as
    /// read at connect; `None` when the server did not say.
    pub fn server_version(&self) -> Option<&str> {
        self.server_version.as_deref()
    }

    /// How many prepared statements are cached (`statement_cache=named`), or described
    /// statements kept (`unnamed`).
    pub fn cached_statements(&self) -> usize {
        self.statements.len() + self.described.len()
    }

    /// The `statement_cache` setting of this connection.
    pub fn statement_cache(&self) -> StatementCache {
        self.cache
    }

    /// Follow the transaction-control statements that ran (or, for the ending ones, were
    /// attempted: a failed `COMMIT` ends the transaction too).
    fn track_transaction(&mut self, sql: &str, ok: bool) {
        let mut words = sql.split(|c: char| c.is_whitespace() || c == ';').filter(|w| !w.is_empty());
        let first = words.next().unwrap_or("");
        let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
        if is(first, "BEGIN") || is(first, "START") {
            self.in_transaction |= ok;
        } else if is(first, "COMMIT") || is(first, "END") || is(first, "ABORT") {
            self.in_transaction = false;
        } else if is(first, "ROLLBACK") {
            // `ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] name` stays in the transaction.
            if !words.take(2).any(|w| is(w, "TO")) {
                self.in_transaction = false;
            }
        } else if is(first, "PREPARE") && words.next().is_some_and(|w| is(w, "TRANSACTION")) && ok {
            self.in_transaction = false;
        }
    }

    /// Map a driver error, marking the connection broken when it was lost.
    fn fail(&mut self, e: postgres::Error) -> Error {
        let err = error::map(e, self.client.is_closed());
        if err.is_disconnect() {
            self.broken = true;
            self.in_transaction = false;
            self.statements.clear();
            self.described.clear();
        }
        err
    }

    fn check_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::Connection {
                message: "the connection to PostgreSQL was lost".into(),
                disconnect: true,
                source: None,
            });
        }
        Ok(())
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client.prepare(sql);
        let stmt = self.outcome(prepared)?;
        if self.statements.len() >= STATEMENT_CACHE_CAPACITY {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Prepare (or reuse), bind and run `sql`, streaming its rows to `on_row`; rows affected.
    fn run(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<u64> {
        self.check_usable()?;
        if self.cache != StatementCache::Named {
            let r = self.run_unnamed(sql, params, on_row);
            self.track_transaction(sql, r.is_ok());
            return r;
        }
        let stmt = self.statement(sql)?;
        let r = self.run_prepared(&stmt, params, on_row);
        if let Err(Failure::Driver(e)) = &r {
            // The cached plan went stale (a column type changed under it) or the server forgot
            // the statement (`DISCARD ALL`): prepare it afresh next time.
            if matches!(e.code().map(|c| c.code()), Some("0A000" | "26000")) {
                self.statements.remove(sql);
            }
        }
        let r = self.outcome(r);
        self.track_transaction(sql, r.is_ok());
        r.map_err(hint_transaction_pooler)
    }

    /// `statement_cache=unnamed|none`: describe `sql` (or reuse what describing it told) and run
    /// it through the unnamed statement.
    fn run_unnamed(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<u64> {
        if params.is_empty() {
            // Nothing to learn by describing: one round trip.
            let r = match self.client.unnamed_bare(sql) {
                Ok(Fetched::Count(n)) => Ok(n),
                Ok(Fetched::Rows(rows)) => {
                    let columns = rows.first().map_or(&[][..], postgres::Row::columns);
                    Self::decode_rows(columns, &rows, on_row)
                }
                Err(e) => Err(e),
            };
            return self.outcome(r);
        }
        let described = match self.described.get(sql) {
            Some(d) => d.clone(),
            None => {
                let d = self.describe(sql)?;
                if self.cache == StatementCache::Unnamed {
                    if self.described.len() >= STATEMENT_CACHE_CAPACITY {
                        self.described.clear();
                    }
                    self.described.insert(sql.to_owned(), d.clone());
                }
                d
            }
        };
        let r = match self.client.unnamed(sql, &described.types, described.returns_rows, params) {
            Ok(Fetched::Count(n)) => Ok(n),
            Ok(Fetched::Rows(rows)) => {
                let columns = rows.first().map_or(&[][..], postgres::Row::columns);
                Self::decode_rows(columns, &rows, on_row)
            }
            Err(e) => Err(e),
        };
        if let Err(Failure::Driver(_)) = &r {
            // A table changed under the statement may change its types: describe it afresh.
            self.described.remove(sql);
        }
        self.outcome(r)
    }

    /// Prepare `sql` under a name to learn its parameter types, and close it again inside one
    /// transaction (so a transaction pooler keeps the same server connection throughout): the
    /// caller's, or one opened and ended for the purpose.
    fn describe(&mut self, sql: &str) -> Result<Described> {
        let wrap = !self.in_transaction;
        if wrap {
            let begun = self.client.batch_execute("BEGIN");
            self.outcome(begun)?;
        }
        // The statement is dropped at the end of the closure: the client closes it on the server
        // before anything sent after.
        let described = self
            .client
            .prepare(sql)
            .map(|s| Described { types: s.params().to_vec(), returns_rows: !s.columns().is_empty() });
        if wrap {
            let end = self.client.batch_execute(if described.is_ok() { "COMMIT" } else { "ROLLBACK" });
            if described.is_ok() {
                self.outcome(end)?;
            }
        }
        self.outcome(described)
    }

    fn outcome<T>(&mut self, r: std::result::Result<T, Failure>) -> Result<T> {
        match r {
            Ok(n) => Ok(n),
            Err(Failure::Athanor(e)) => Err(e),
            Err(Failure::Driver(e)) => Err(self.fail(e)),
        }
    }

    /// Bind and run a prepared statement, handing its rows to `on_row`; rows affected (or
    /// returned).
    fn run_prepared(
        &mut self,
        stmt: &Statement,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> std::result::Result<u64, Failure> {
        let Some(client) = self.client.here() else {
            // Inside a tokio runtime: the statement runs on the connection's worker.
            return match self.client.fetch_elsewhere(stmt, params)? {
                Fetched::Count(n) => Ok(n),
                Fetched::Rows(rows) => Self::decode_rows(stmt.columns(), &rows, on_row),
            };
        };
        let encoded = encode_params(stmt.params(), params).map_err(Failure::Athanor)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            encoded.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect();
        if stmt.columns().is_empty() {
            // No result columns: just the affected-row count.
            return client.execute(stmt, &refs).map_err(Failure::Driver);
        }
        // One trip into the client's runtime per statement (streaming with `query_raw`
        // enters it once per row, which cost ~40% on large results).
        let rows = client.query(stmt, &refs).map_err(Failure::Driver)?;
        Self::decode_rows(stmt.columns(), &rows, on_row)
    }

    /// Hand a statement's rows to `on_row`, decoded; how many there were.
    fn decode_rows(
        columns: &[Column],
        rows: &[postgres::Row],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> std::result::Result<u64, Failure> {
        // The columns' codecs, once per statement, when some cells are rendered as text.
        let codecs: Vec<Option<Codec>> = if columns.iter().any(|c| Codec::of(c.type_()).is_some_and(Codec::renders)) {
            columns.iter().map(|c| Codec::of(c.type_())).collect()
        } else {
            Vec::new()
        };
        for row in rows {
            on_row(&PgRow::new(row, &codecs)).map_err(Failure::Athanor)?;
        }
        Ok(rows.len() as u64)
    }

    /// `DECLARE` a cursor for `sql`, `FETCH` it `fetch_size` rows at a time, `CLOSE` it.
    fn query_cursor(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        fetch_size: usize,
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        // One stream at a time per connection, so one cursor name; the DECLARE is prepared and
        // cached like any statement (its parameters are the query's).
        self.run(&format!("DECLARE {STREAM_CURSOR} NO SCROLL CURSOR FOR {sql}"), params, &mut |_| Ok(()))?;
        // A FETCH's columns are its cursor's: prepared per stream, never cached.
        let fetch = self.client.prepare(&format!("FETCH FORWARD {fetch_size} FROM {STREAM_CURSOR}"));
        let fetch = self.outcome(fetch)?;
        let read = loop {
            match self.run_prepared(&fetch, &[], on_row) {
                Ok(n) if (n as usize) < fetch_size => break Ok(()),
                Ok(_) => {}
                Err(e) => break self.outcome::<u64>(Err(e)).map(|_| ()),
            }
        };
        // After a server error the transaction is aborted and the cursor gone with it.
        let failed_on_server = matches!(
            &read,
            Err(Error::Database { .. }
                | Error::Integrity { .. }
                | Error::SerializationFailure { .. }
                | Error::Timeout { .. }
                | Error::ReadOnly { .. }
                | Error::Connection { .. })
        );
        if !failed_on_server && !self.broken {
            let closed = self.client.batch_execute(&format!("CLOSE {STREAM_CURSOR}"));
            if let Err(e) = self.outcome(closed) {
                return read.and(Err(e));
            }
        }
        read
    }
}

/// A named statement the server does not know (26000) where the connection prepared it: the
/// usual cause is a transaction pooler handing the next transaction another server connection.
/// Athanor cannot detect PgBouncer (it passes `SHOW VERSION` and `server_version` through), so
/// the error says what to do.
fn hint_transaction_pooler(e: Error) -> Error {
    match e {
        Error::Database { code, mut message, source } if code == "26000" => {
            message.push_str(
                " (behind PgBouncer or another pooler in transaction mode? add statement_cache=unnamed to the URL: \
                 docs/scaling.md)",
            );
            Error::Database { code, message, source }
        }
        other => other,
    }
}

/// The name of the cursor a streamed query reads from.
const STREAM_CURSOR: &str = "athanor_stream";

/// `SHOW server_version` (one round trip per new connection; the startup message's
/// `server_version` parameter is not exposed by the client library). A server that does not
/// answer it leaves the version unknown rather than failing the connection.
fn read_server_version(client: &mut Client, target: &str) -> Option<String> {
    match client.simple_query("SHOW server_version") {
        Ok(messages) => messages.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        }),
        Err(e) => {
            tracing::debug!(target: "athanor::postgres", "{target}: SHOW server_version failed: {e}");
            None
        }
    }
}

impl RawConnection for PostgresConnection {
    /// Reports the server's version ([`PostgresConnection::server_version`]).
    fn adjust_capabilities(&self, caps: &mut Capabilities) {
        caps.server_version.clone_from(&self.server_version);
    }

    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        self.run(sql, params, &mut |_| Ok(()))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.run(sql, params, on_row).map(|_| ())
    }

    /// Through a cursor (`DECLARE … NO SCROLL CURSOR FOR`, `FETCH FORWARD n`, `CLOSE`): the
    /// client library would otherwise hold the whole result in memory. Needs the caller's
    /// transaction, as every cursor without `WITH HOLD` does.
    fn query_chunked(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        fetch_size: usize,
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.check_usable()?;
        self.query_cursor(sql, params, fetch_size.max(1), on_row)
    }

    fn batch_execute(&mut self, sql: &str) -> Result<()> {
        self.check_usable()?;
        let r = self.client.batch_execute(sql);
        self.track_transaction(sql, r.is_ok());
        match r {
            Ok(()) => {
                // `DISCARD ALL` / `DEALLOCATE ALL` make the server forget prepared statements.
                let first = sql.split_whitespace().next().unwrap_or("");
                if first.eq_ignore_ascii_case("DISCARD") || first.eq_ignore_ascii_case("DEALLOCATE") {
                    self.statements.clear();
                }
                Ok(())
            }
            Err(e) => self.outcome(Err(e)),
        }
    }

    /// Always `None`: PostgreSQL reports generated keys through `INSERT … RETURNING`.
    fn last_insert_id(&mut self) -> Result<Option<i64>> {
        Ok(None)
    }

    /// An empty query, waiting at most the `connect_timeout` (10 s by default); any failure means
    /// the connection is lost.
    fn ping(&mut self) -> Result<()> {
        self.check_usable()?;
        match self.client.is_valid(self.ping_timeout) {
            Ok(()) => Ok(()),
            Err(Failure::Driver(e)) => {
                self.broken = true;
                self.in_transaction = false;
                self.statements.clear();
                self.described.clear();
                Err(Error::connection(error::describe(&e), true).with_source(e))
            }
            Err(Failure::Athanor(e)) => {
                self.broken |= e.is_disconnect();
                Err(e)
            }
        }
    }

    fn is_broken(&self) -> bool {
        self.broken || self.client.is_closed()
    }
}
