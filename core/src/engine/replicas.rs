//! Read replicas: the replicas attached to a primary engine ([`Engine::attach_replicas`]), the
//! round robin over the healthy ones with a back-off for those that failed, and the
//! [`ConsistencyToken`] a session reads its own writes with (docs/scaling.md, "Read replicas").
//!
//! What a database says about its replication position is the dialect's
//! ([`Dialect::consistency_position_sql`](crate::Dialect::consistency_position_sql),
//! [`Dialect::replica_caught_up_sql`](crate::Dialect::replica_caught_up_sql)); nothing here names
//! a database.

use super::{Connection, Engine, EngineInner};
use crate::error::{Error, Result};
use crate::value::Value;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Instant;

/// A position in the primary's replication stream, taken right after a commit
/// ([`Connection::consistency_token`], `Session::consistency_token`): a replica that has applied
/// it shows that commit. Opaque and serialisable: [`ConsistencyToken::to_string`] gives text
/// (`<dialect>:<position>`, safe in a cookie or a header: letters, digits and `:/,-.` only) and
/// [`ConsistencyToken::parse`] reads it back.
///
/// ```
/// # use athanor_core::ConsistencyToken;
/// let token = ConsistencyToken::parse("postgres:0/3000148").unwrap();
/// assert_eq!(token.to_string(), "postgres:0/3000148");
/// assert!(ConsistencyToken::parse("not a token").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsistencyToken {
    dialect: String,
    position: String,
}

/// The longest token text [`ConsistencyToken::parse`] accepts.
const MAX_TOKEN_LEN: usize = 512;

impl ConsistencyToken {
    /// A token for `position` (as the dialect's position query returned it) of `dialect`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when either part holds characters a token never has.
    pub fn new(dialect: &str, position: &str) -> Result<Self> {
        let ok_tag = !dialect.is_empty() && dialect.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let ok_pos = !position.is_empty()
            && position.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b',' | b'-' | b'.'));
        if !ok_tag || !ok_pos || dialect.len() + position.len() + 1 > MAX_TOKEN_LEN {
            return Err(Error::invalid_request(
                "malformed consistency token: expected `<dialect>:<position>` (letters, digits and `/,-.`)",
            ));
        }
        Ok(ConsistencyToken { dialect: dialect.to_string(), position: position.to_string() })
    }

    /// Read a token from its text ([`ConsistencyToken::to_string`]), as a web application gets it
    /// back from a cookie.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for text that is not a token (the value is not echoed: it is the
    /// client's).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().split_once(':') {
            Some((dialect, position)) => Self::new(dialect, position),
            None => Err(Error::invalid_request("malformed consistency token: expected `<dialect>:<position>`")),
        }
    }

    /// The dialect whose position this is (`Dialect::name`).
    pub fn dialect(&self) -> &str {
        &self.dialect
    }

    /// The position, as the database wrote it.
    pub fn position(&self) -> &str {
        &self.position
    }
}

impl std::fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.dialect, self.position)
    }
}

impl std::str::FromStr for ConsistencyToken {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// How reads were routed over an engine's replicas since it was made ([`Engine::replica_metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReplicaMetrics {
    /// Replicas attached.
    pub replicas: usize,
    /// Replica connections handed out for reads.
    pub replica_reads: u64,
    /// Reads that asked for a replica and went to the primary (no replica healthy or caught up).
    pub primary_fallbacks: u64,
    /// Replica checks that found the replica behind a session's token (that replica was skipped).
    pub lagging: u64,
    /// Replicas put in back-off after a failed connect or a lost connection.
    pub backoffs: u64,
}

/// A primary's replicas.
pub(super) struct ReplicaSet {
    pub(super) nodes: Vec<Engine>,
    next: AtomicUsize,
    replica_reads: AtomicU64,
    fallbacks: AtomicU64,
    lagging: AtomicU64,
    pub(super) backoffs: AtomicU64,
}

/// A replica's link back to its primary: the primary's listeners and counters hear its
/// statements; `down_until` is its back-off.
pub(super) struct ReplicaLink {
    pub(super) parent: Weak<EngineInner>,
    pub(super) down_until: Mutex<Option<Instant>>,
}

impl Engine {
    /// Attach read replicas to this (primary) engine: sessions route their reads to them
    /// (docs/scaling.md, "Read replicas"). Each replica is an engine of its own (its own pool,
    /// made with `create_engine`), of the same dialect; the URL option `?replicas=host:port,…`
    /// of `athanor::create_engine` does this for replicas that differ from the primary only by
    /// host and port. Replicas are attached once, before the engine is used.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the dialect has no replication ([`crate::Dialect::consistency_position_sql`]:
    /// SQLite); [`Error::InvalidRequest`] for a replica of another dialect, an engine that is
    /// itself a replica, or a second call.
    pub fn attach_replicas(&self, replicas: Vec<Engine>) -> Result<()> {
        self.dialect().consistency_position_sql()?;
        if self.inner.link.get().is_some() {
            return Err(Error::invalid_request("a replica engine cannot have replicas"));
        }
        for r in &replicas {
            if r.dialect().name() != self.dialect().name() {
                return Err(Error::invalid_request("a replica must be of the primary's dialect"));
            }
            if r.inner.replicas.get().is_some() || r.inner.link.get().is_some() || std::ptr::eq(&*r.inner, &*self.inner)
            {
                return Err(Error::invalid_request("this replica engine is already attached elsewhere"));
            }
        }
        let set = ReplicaSet {
            nodes: replicas,
            next: AtomicUsize::new(0),
            replica_reads: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            lagging: AtomicU64::new(0),
            backoffs: AtomicU64::new(0),
        };
        if self.inner.replicas.set(set).is_err() {
            return Err(Error::invalid_request("replicas are attached once"));
        }
        let _ = self.inner.role.set("primary");
        if let Some(set) = self.inner.replicas.get() {
            for r in &set.nodes {
                let _ = r.inner.role.set("replica");
                let _ = r
                    .inner
                    .link
                    .set(ReplicaLink { parent: std::sync::Arc::downgrade(&self.inner), down_until: Mutex::new(None) });
            }
        }
        Ok(())
    }

    /// Whether replicas are attached ([`Engine::attach_replicas`]).
    pub fn has_replicas(&self) -> bool {
        self.inner.replicas.get().is_some_and(|s| !s.nodes.is_empty())
    }

    /// The attached replicas' engines.
    pub fn replicas(&self) -> &[Engine] {
        self.inner.replicas.get().map_or(&[], |s| &s.nodes)
    }

    /// Whether this engine is a replica attached to a primary.
    pub fn is_replica(&self) -> bool {
        self.inner.link.get().is_some()
    }

    /// How reads were routed over the replicas so far.
    pub fn replica_metrics(&self) -> ReplicaMetrics {
        match self.inner.replicas.get() {
            None => ReplicaMetrics::default(),
            Some(s) => ReplicaMetrics {
                replicas: s.nodes.len(),
                replica_reads: s.replica_reads.load(Ordering::Relaxed),
                primary_fallbacks: s.fallbacks.load(Ordering::Relaxed),
                lagging: s.lagging.load(Ordering::Relaxed),
                backoffs: s.backoffs.load(Ordering::Relaxed),
            },
        }
    }

    /// A connection to a healthy replica for reads, taken round robin; with `token`, only from a
    /// replica that has applied it. `None` (the caller reads from the primary) when no replica
    /// is attached, none answers (each that fails to connect is skipped for the engine's
    /// `replica_backoff`), or none has caught up with `token`. Never an error: a replica's
    /// failure is logged (target `athanor::pool`) and routed around.
    pub fn connect_replica(&self, token: Option<&ConsistencyToken>) -> Option<Connection> {
        let set = self.inner.replicas.get()?;
        let n = set.nodes.len();
        if n == 0 {
            return None;
        }
        let start = set.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let node = &set.nodes[(start + i) % n];
            if node.backing_off() {
                continue;
            }
            let mut conn = match node.connect() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(target: "athanor::pool", node = node.inner.node.label.as_deref(), "replica skipped: {e}");
                    node.back_off();
                    continue;
                }
            };
            if let Some(t) = token {
                match node.replica_has_applied(&mut conn, t) {
                    Ok(true) => {}
                    Ok(false) => {
                        set.lagging.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => {
                        tracing::debug!(target: "athanor::pool", "replica position check failed: {e}");
                        if e.is_disconnect() {
                            node.back_off();
                        }
                        set.lagging.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
            }
            set.replica_reads.fetch_add(1, Ordering::Relaxed);
            return Some(conn);
        }
        set.fallbacks.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Whether this replica has applied `token` (waiting up to the engine's `replica_wait` where
    /// the dialect's check can wait).
    fn replica_has_applied(&self, conn: &mut Connection, token: &ConsistencyToken) -> Result<bool> {
        if token.dialect() != self.dialect().name() {
            return Err(Error::invalid_request("the consistency token is of another database"));
        }
        let sql = self.dialect().replica_caught_up_sql()?;
        let wait = self.inner.config.replica_wait.as_secs_f64();
        let v: i64 = conn.query_scalar(sql, &[Value::Text(token.position().to_string()), Value::F64(wait)])?;
        Ok(v == 1)
    }

    /// Whether this replica is in its back-off period.
    fn backing_off(&self) -> bool {
        let Some(link) = self.inner.link.get() else { return false };
        let Ok(mut g) = link.down_until.lock() else { return false };
        match *g {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *g = None;
                false
            }
            None => false,
        }
    }

    /// Skip this replica for its back-off period (after a failed connect or a lost connection).
    pub(super) fn back_off(&self) {
        let Some(link) = self.inner.link.get() else { return };
        if let Ok(mut g) = link.down_until.lock() {
            if g.is_none() {
                if let Some(p) = link.parent.upgrade() {
                    if let Some(s) = p.replicas.get() {
                        s.backoffs.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            *g = Some(Instant::now() + self.inner.config.replica_backoff);
        }
    }
}

impl Connection {
    /// The position of what this connection committed, read right after its COMMIT on the
    /// primary: a replica that has applied it shows the commit ([`ConsistencyToken`]).
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the dialect has no replication (SQLite); the query's errors.
    pub fn consistency_token(&mut self) -> Result<ConsistencyToken> {
        let sql = self.engine.dialect().consistency_position_sql()?;
        let position: String = self.query_scalar(sql, &[])?;
        ConsistencyToken::new(self.engine.dialect().name(), position.trim())
    }

    /// Whether this connection is to a replica ([`Engine::connect_replica`]).
    pub fn is_replica(&self) -> bool {
        self.engine.is_replica()
    }
}
