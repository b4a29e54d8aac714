//! [`Engine`]: a lazily connecting, r2d2-pooled source of [`Connection`]s for one database.
//!
//! `mod.rs` is the [`Engine`] itself (its shared state, the statement and BEGIN caches, events);
//! `config` its settings, `pool` the r2d2 manager and threads, `connection` the [`Connection`]
//! and its rows, `hash` the internal maps' hasher, `stream` a query's rows read in batches on a
//! worker thread that holds the connection meanwhile ([`RowStream`], `yield_per`).

mod config;
mod connection;
mod hash;
mod pool;
mod replicas;
#[cfg(feature = "tokio")]
mod slots;
mod stream;
mod telemetry;

pub use config::{replica_hosts, EngineConfig};
pub use connection::{Connection, ResultColumns, ResultRow};
pub use hash::FastState;
pub use replicas::{ConsistencyToken, ReplicaMetrics};
#[cfg(feature = "tokio")]
pub use slots::AsyncSlot;
pub use stream::RowStream;
pub use telemetry::{error_type, summarize, system_name, PoolMetrics, StatementMark, SQL_TARGET};

use pool::*;

use crate::dialect::{Capabilities, Dialect, IsolationLevel, TxOptions};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::url::ConnectOptions;
use crate::value::{Value, ValueRef};
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// What an engine event hook is told about each statement sent to the database: before it runs
/// ([`Engine::on_statement`]: the text and parameters) and after ([`Engine::after_statement`]:
/// also its duration, row count and error).
#[derive(Debug)]
#[non_exhaustive]
pub struct StatementEvent<'a> {
    /// The SQL text.
    pub sql: &'a str,
    /// The parameters.
    pub params: &'a [ValueRef<'a>],
    /// How long the statement ran; `None` before it ran.
    pub duration: Option<Duration>,
    /// Rows returned by a query or affected by a write; `None` before it ran and for a statement
    /// run unprepared (DDL, transaction control), whose count the drivers do not report.
    pub rows: Option<u64>,
    /// The statement's error, when it failed.
    pub error: Option<&'a Error>,
    /// The server that ran it, as `host:port` from its engine's URL (`None` without a host:
    /// SQLite). With read replicas ([`Engine::attach_replicas`]) it tells which node ran it.
    pub node: Option<&'a str>,
    /// Whether a replica ran it (the primary's listeners hear its replicas' statements too).
    pub replica: bool,
}

type Listener = Arc<dyn Fn(&StatementEvent<'_>) + Send + Sync>;

/// A pool event's hook ([`Engine::on_connect`], [`Engine::on_checkout`]).
type PoolHook = Arc<dyn Fn(&mut Connection) -> Result<()> + Send + Sync>;

/// The pool events' hooks, in registration order.
#[derive(Default)]
struct PoolEvents {
    connect: Vec<PoolHook>,
    checkout: Vec<PoolHook>,
}

struct EngineInner {
    dialect: Arc<dyn Dialect>,
    /// See [`Engine::capabilities`].
    configured: Arc<Capabilities>,
    connected: Arc<OnceLock<Arc<Capabilities>>>,
    pool: r2d2::Pool<Manager>,
    errors: Arc<Mutex<ConnectErrors>>,
    config: EngineConfig,
    url: String,
    statements: AtomicU64,
    /// The statements counted by [`Engine::statements_since`] (all but transaction control).
    work_statements: AtomicU64,
    /// A connection of this pool was found dead: the idle ones may have died with it (a server
    /// restart), so the next checkout pings them first (see [`Engine::connect`]).
    suspect_idle: AtomicBool,
    has_listeners: AtomicBool,
    listeners: RwLock<Vec<Listener>>,
    has_after: AtomicBool,
    after_listeners: RwLock<Vec<Listener>>,
    has_pool_events: AtomicBool,
    pool_events: RwLock<PoolEvents>,
    /// The server and database statement spans name (see [`telemetry`]).
    node: telemetry::Node,
    /// `db.system.name`, known once a connection reported the server's version.
    system: OnceLock<&'static str>,
    /// The `slow_statement` watchdog, when a threshold is set.
    slow: Option<Arc<telemetry::SlowWatch>>,
    /// Numbers the transactions begun on this engine's connections (`athanor.transaction`).
    transactions: AtomicU64,
    /// Callers waiting in [`Engine::connect`] for a connection to come free.
    waiters: AtomicU64,
    /// Checkouts that ended in [`Error::PoolTimeout`].
    timeouts: AtomicU64,
    sql_cache: Mutex<SqlCache>,
    /// The dialect's BEGIN statements per transaction options (see [`begin_slot`]).
    begin_cache: [OnceLock<Arc<[String]>>; BEGIN_SLOTS],
    /// The threads that open and reap connections; they also keep async waits' deadlines.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    scheduler: Arc<scheduled_thread_pool::ScheduledThreadPool>,
    /// One slot per pooled connection, for async bridges (see `slots`).
    #[cfg(feature = "tokio")]
    slots: Arc<tokio::sync::Semaphore>,
    /// A primary's read replicas ([`Engine::attach_replicas`]).
    replicas: OnceLock<replicas::ReplicaSet>,
    /// A replica's link to its primary.
    link: OnceLock<replicas::ReplicaLink>,
    /// `primary` or `replica` once replicas are attached (the spans' `db.node`).
    role: OnceLock<&'static str>,
}

/// Rendered statements by (table address, statement kind, variant).
type SqlCache = HashMap<(usize, u8, u64), Arc<str>, FastState>;

/// One cache slot per (isolation level or none) × read-only × write intent.
const BEGIN_SLOTS: usize = (IsolationLevel::ALL.len() + 1) * 4;

fn begin_slot(opts: &TxOptions) -> usize {
    let level = opts.isolation.map_or(0, |l| 1 + l as usize);
    level * 4 + usize::from(opts.read_only) * 2 + usize::from(opts.write_intent)
}

// ---------------------------------------------------------------------------------------------
// Hashing for internal maps

/// A source of pooled connections to one database: `Clone + Send + Sync`, cheap to clone (all
/// clones share one pool). Creating it never touches the network; the first `connect()` does.
///
/// ```
/// # #[cfg(feature = "doc-only")] {}
/// // Built by `athanor::create_engine(url)`, which picks the backend from the URL's scheme.
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

// A panic inside `Engine::transaction` rolls back; the pool's state stays consistent.
impl std::panic::UnwindSafe for Engine {}
impl std::panic::RefUnwindSafe for Engine {}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("url", &self.inner.url).field("dialect", &self.inner.dialect.name()).finish()
    }
}

/// The threads that open and reap one engine's connections. Each engine has its own: a server
/// that stalls a handshake can hold up only the engine that connects to it (and the drivers
/// bound every opening by their `connect_timeout`).
fn engine_thread_pool() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    Arc::new(
        scheduled_thread_pool::ScheduledThreadPool::builder()
            .num_threads(2)
            .thread_name_pattern("athanor-pool-{}")
            .build(),
    )
}

impl Engine {
    /// Build an engine over a driver (the facade's `create_engine` does this after choosing the
    /// backend from the URL). Does not connect.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `config.isolation_level` is a level the dialect does not offer.
    pub fn new(driver: Arc<dyn Driver>, options: &ConnectOptions, mut config: EngineConfig) -> Result<Engine> {
        let dialect = driver.dialect();
        if let Some(level) = config.isolation_level {
            dialect.check_isolation(level)?;
        }
        if let Some(max) = driver.max_pool_size() {
            config.pool_size = config.pool_size.min(max);
        }
        let errors = Arc::new(Mutex::new(ConnectErrors::default()));
        let configured = Arc::new(driver.capabilities());
        let connected = Arc::new(OnceLock::new());
        let manager =
            Manager { driver, errors: errors.clone(), configured: configured.clone(), connected: connected.clone() };
        let scheduler = engine_thread_pool();
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size)
            .min_idle(Some(0))
            .connection_timeout(config.pool_timeout.max(Duration::from_millis(1)))
            .test_on_check_out(config.pre_ping)
            .idle_timeout(Some(Duration::from_secs(600)))
            .error_handler(Box::new(QuietErrors))
            .thread_pool(scheduler.clone())
            .build_unchecked(manager);
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                dialect,
                configured,
                connected,
                pool,
                errors,
                url: options.redacted(),
                statements: AtomicU64::new(0),
                work_statements: AtomicU64::new(0),
                suspect_idle: AtomicBool::new(false),
                has_listeners: AtomicBool::new(false),
                listeners: RwLock::new(Vec::new()),
                has_after: AtomicBool::new(false),
                after_listeners: RwLock::new(Vec::new()),
                has_pool_events: AtomicBool::new(false),
                pool_events: RwLock::new(PoolEvents::default()),
                node: telemetry::Node::of(options),
                system: OnceLock::new(),
                slow: config.slow_statement.map(telemetry::SlowWatch::new),
                transactions: AtomicU64::new(0),
                waiters: AtomicU64::new(0),
                timeouts: AtomicU64::new(0),
                sql_cache: Mutex::new(HashMap::default()),
                begin_cache: Default::default(),
                scheduler,
                #[cfg(feature = "tokio")]
                slots: slots::slots(config.pool_size),
                replicas: OnceLock::new(),
                link: OnceLock::new(),
                role: OnceLock::new(),
            }),
        })
    }

    /// The dialect of this engine's database.
    pub fn dialect(&self) -> &dyn Dialect {
        &*self.inner.dialect
    }

    /// The dialect, shared.
    pub fn dialect_arc(&self) -> Arc<dyn Dialect> {
        self.inner.dialect.clone()
    }

    /// What this engine's database can do: the dialect's sheet ([`Dialect::capabilities`])
    /// adjusted by the backend, for the URL ([`Driver::capabilities`]: SQLite's
    /// `?foreign_keys=off` reports `foreign_keys: false`) and, once the engine has connected,
    /// for what its first connection found at connect ([`RawConnection::adjust_capabilities`](crate::RawConnection::adjust_capabilities):
    /// MySQL's key consecutiveness, [`Capabilities::server_version`]).
    ///
    /// Before the first connection only the URL's adjustments are in (`server_version` is
    /// `None`); creating an engine never connects. Each connection keeps its own report
    /// ([`Connection::capabilities`]), which is what the unit of work reads.
    pub fn capabilities(&self) -> &Capabilities {
        self.inner.connected.get().map_or(&*self.inner.configured, |c| c)
    }

    /// The database's version as the engine's first connection reported it
    /// ([`Capabilities::server_version`]); `None` before the engine has connected or where the
    /// backend reports none.
    pub fn server_version(&self) -> Option<&str> {
        self.capabilities().server_version.as_deref()
    }

    /// The options a transaction asked to begin with `opts` gets on this engine: the engine's
    /// `isolation_level` fills in a missing level, and its `write_intent` sets
    /// [`TxOptions::write_intent`] unless `read_only` (what [`Connection::begin_with`] sends,
    /// and what [`Connection::transaction_options`] reports afterwards).
    ///
    /// ```
    /// # use athanor_core::TxOptions;
    /// # fn demo(engine: &athanor_core::Engine) {
    /// let opts = engine.transaction_options(TxOptions { write_intent: true, ..TxOptions::default() });
    /// assert!(opts.write_intent);
    /// # }
    /// ```
    pub fn transaction_options(&self, mut opts: TxOptions) -> TxOptions {
        if opts.isolation.is_none() {
            opts.isolation = self.inner.config.isolation_level;
        }
        if self.inner.config.write_intent && !opts.read_only {
            opts.write_intent = true;
        }
        opts
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The URL, with any password masked.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// How many statements this engine has sent to the database (every round trip: queries,
    /// DML, DDL and transaction control). For tests that count round trips.
    pub fn statement_count(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// A mark in this engine's count of statements, for [`Engine::statements_since`].
    pub fn statement_mark(&self) -> StatementMark {
        StatementMark(self.inner.work_statements.load(Ordering::Relaxed))
    }

    /// How many statements this engine's connections (every session's, every thread's) sent
    /// since `mark`, counting the SELECT, INSERT, UPDATE and DELETE statements (and any other
    /// statement run with parameters: raw SQL, DDL through `execute`) but not transaction
    /// control: BEGIN / START TRANSACTION / SET TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT,
    /// RELEASE and ROLLBACK TO. A failed statement counts; a `yield_per` stream counts once.
    /// `Session::statements_since` counts one session's only.
    pub fn statements_since(&self, mark: StatementMark) -> u64 {
        self.inner.work_statements.load(Ordering::Relaxed).saturating_sub(mark.0)
    }

    /// Count one statement of [`Engine::statements_since`].
    pub(in crate::engine) fn count_work_statement(&self) {
        self.inner.work_statements.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = self.primary_inner() {
            p.work_statements.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A replica's primary, whose listeners and counters hear the replica's statements too.
    fn primary_inner(&self) -> Option<Arc<EngineInner>> {
        self.inner.link.get().and_then(|l| l.parent.upgrade())
    }

    /// Call `listener` before every statement this engine sends (SQLAlchemy's
    /// `before_cursor_execute` event); the event's `duration`, `rows` and `error` are `None`.
    pub fn on_statement(&self, listener: impl Fn(&StatementEvent<'_>) + Send + Sync + 'static) {
        if let Ok(mut l) = self.inner.listeners.write() {
            l.push(Arc::new(listener));
            self.inner.has_listeners.store(true, Ordering::Release);
        }
    }

    /// Call `listener` after every statement this engine sends, failed ones included
    /// (SQLAlchemy's `after_cursor_execute` and `handle_error`), with its duration, its row
    /// count and its error. A streamed query (`yield_per`) reports when its last row was read,
    /// from the thread that read it.
    pub fn after_statement(&self, listener: impl Fn(&StatementEvent<'_>) + Send + Sync + 'static) {
        if let Ok(mut l) = self.inner.after_listeners.write() {
            l.push(Arc::new(listener));
            self.inner.has_after.store(true, Ordering::Release);
        }
    }

    /// Call `hook` on each new physical connection, before its first use (SQLAlchemy's pool
    /// `connect` event): the place for session setup that lasts as long as the connection, such
    /// as `SET search_path` on PostgreSQL, `SET SESSION sql_mode` on MySQL or a `PRAGMA` on
    /// SQLite. It runs on the thread that checked the connection out, before the
    /// [`Engine::on_checkout`] hooks, with the connection in autocommit mode (no transaction).
    ///
    /// A hook that returns an error makes that checkout fail with the error, and the connection
    /// is discarded (closed, not returned to the pool), so the next checkout opens a new one and
    /// calls the hook again. Hooks registered after a connection was opened are not called for it.
    ///
    /// ```
    /// # fn setup(engine: &athanor_core::engine::Engine) {
    /// engine.on_connect(|conn| {
    ///     conn.execute("SELECT 1", &[])?;
    ///     Ok(())
    /// });
    /// # }
    /// ```
    pub fn on_connect(&self, hook: impl Fn(&mut Connection) -> Result<()> + Send + Sync + 'static) {
        if let Ok(mut e) = self.inner.pool_events.write() {
            e.connect.push(Arc::new(hook));
            self.inner.has_pool_events.store(true, Ordering::Release);
        }
    }

    /// Call `hook` each time a connection is checked out of the pool ([`Engine::connect`], and
    /// so each session's transaction), after the [`Engine::on_connect`] hooks of a new one
    /// (SQLAlchemy's pool `checkout` event): for per-use setup or checks. An error fails the
    /// checkout and discards the connection, as for `on_connect`. A connection that died idle
    /// in the pool and fails in a hook with a disconnect error is replaced once, as a failed
    /// `BEGIN` would be, and the hooks run on the new one.
    pub fn on_checkout(&self, hook: impl Fn(&mut Connection) -> Result<()> + Send + Sync + 'static) {
        if let Ok(mut e) = self.inner.pool_events.write() {
            e.checkout.push(Arc::new(hook));
            self.inner.has_pool_events.store(true, Ordering::Release);
        }
    }

    /// Run the pool events on a connection just checked out: the `connect` hooks when its
    /// physical connection is new (checked out for the first time), then the `checkout` hooks.
    /// A failure marks the connection invalidated, so the pool discards it.
    pub(super) fn run_pool_events(&self, conn: &mut Connection) -> Result<()> {
        if !self.inner.has_pool_events.load(Ordering::Acquire) {
            return Ok(());
        }
        let (connect, checkout) = match self.inner.pool_events.read() {
            Ok(e) => (e.connect.clone(), e.checkout.clone()),
            Err(_) => return Ok(()),
        };
        let fresh = conn.slot.as_ref().is_some_and(|s| s.checkouts == 1);
        let mut run = || -> Result<()> {
            if fresh {
                for h in &connect {
                    h(conn)?;
                }
            }
            for h in &checkout {
                h(conn)?;
            }
            Ok(())
        };
        let r = run();
        if r.is_err() {
            if let Some(s) = conn.slot.as_mut() {
                s.invalidated = true;
            }
            conn.in_transaction = false;
            conn.savepoints = 0;
        }
        r
    }

    /// The pool's state: (open connections, idle connections).
    pub fn pool_status(&self) -> (u32, u32) {
        let s = self.inner.pool.state();
        (s.connections, s.idle_connections)
    }

    /// The pool's gauges (connections in use and idle, callers waiting) and its timeout count.
    pub fn pool_metrics(&self) -> PoolMetrics {
        let s = self.inner.pool.state();
        PoolMetrics {
            max_size: self.inner.pool.max_size(),
            connections: s.connections,
            in_use: s.connections.saturating_sub(s.idle_connections),
            idle: s.idle_connections,
            waiters: self.inner.waiters.load(Ordering::Relaxed),
            timeouts: self.inner.timeouts.load(Ordering::Relaxed),
        }
    }

    /// Take a connection from the pool, opening one if none is idle.
    ///
    /// A connection that was idle in the pool may have died meanwhile (the server restarted or
    /// killed the session). When the checkout's first statement is the `BEGIN` of a transaction
    /// (every session and [`Engine::transaction`] begins one) and fails with a disconnect error,
    /// the connection is discarded and the `BEGIN` runs once more on a live one (other idle
    /// connections are pinged first then), so the caller does not see the failure. Nothing else
    /// is replayed: an autocommit statement (`execute`, `query`, `batch_execute` outside a
    /// transaction) whose connection is lost may have been applied, so its disconnect error is
    /// the caller's. After any disconnect the next checkout pings the idle connections and
    /// discards the dead ones, so it gets a live connection; `pool_pre_ping` avoids even that one
    /// failure, at the cost of a round trip per checkout.
    ///
    /// # Errors
    /// [`Error::Connection`] when the database cannot be reached (reported as soon as the attempt
    /// fails, within the backend's `connect_timeout`) and [`Error::PoolTimeout`] when every
    /// connection stays in use for the configured `pool_timeout`.
    pub fn connect(&self) -> Result<Connection> {
        let (slot, reused) = if self.inner.suspect_idle.swap(false, Ordering::Relaxed) {
            (self.live_slot()?, false)
        } else {
            self.take_slot()?
        };
        let mut conn = Connection {
            engine: self.clone(),
            slot: Some(slot),
            in_transaction: false,
            savepoints: 0,
            replaceable: reused,
            lent: None,
            transaction: 0,
            tx_options: TxOptions::default(),
            work_statements: 0,
        };
        if let Err(e) = self.run_pool_events(&mut conn) {
            if !(reused && e.is_disconnect()) {
                return Err(e);
            }
            // It died idle in the pool: one live replacement, as a failed BEGIN gets.
            self.inner.suspect_idle.store(false, Ordering::Relaxed);
            conn.slot = Some(self.live_slot()?);
            conn.replaceable = false;
            self.run_pool_events(&mut conn)?;
        }
        Ok(conn)
    }

    /// A pooled connection, and whether it had been checked out before (so may have died idle).
    fn take_slot(&self) -> Result<(r2d2::PooledConnection<Manager>, bool)> {
        // An idle connection is handed out at once (after the pre-ping check when configured).
        let mut slot = match self.inner.pool.try_get() {
            Some(slot) => slot,
            None => self.checkout()?,
        };
        let reused = slot.checkouts > 0;
        slot.checkouts += 1;
        Ok((slot, reused))
    }

    /// A live connection to replace one found dead: idle connections are pinged first (they
    /// may have died with it), at most once per pooled connection.
    fn live_slot(&self) -> Result<r2d2::PooledConnection<Manager>> {
        let mut last = None;
        for _ in 0..=self.inner.pool.max_size() {
            let (mut slot, reused) = self.take_slot()?;
            if reused && !self.inner.config.pre_ping {
                if let Err(e) = slot.raw.ping() {
                    slot.invalidated = true;
                    last = Some(e);
                    continue;
                }
            }
            return Ok(slot);
        }
        Err(last.unwrap_or_else(|| Error::Connection {
            message: "no live connection to replace a dead one".into(),
            disconnect: true,
            source: None,
        }))
    }

    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.inner.waiters.fetch_add(1, Ordering::Relaxed);
        let r = self.wait_for_slot();
        self.inner.waiters.fetch_sub(1, Ordering::Relaxed);
        if matches!(r, Err(Error::PoolTimeout { .. })) {
            self.inner.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    fn wait_for_slot(&self) -> Result<r2d2::PooledConnection<Manager>> {
        let pool = &self.inner.pool;
        let timeout = self.inner.config.pool_timeout;
        let start = Instant::now();
        let epoch = self.inner.errors.lock().map(|g| g.epoch).unwrap_or(0);
        loop {
            let elapsed = start.elapsed();
            let slice = timeout.saturating_sub(elapsed).min(Duration::from_millis(50)).max(Duration::from_millis(1));
            match pool.get_timeout(slice) {
                Ok(c) => return Ok(c),
                Err(_) => {
                    if let Ok(g) = self.inner.errors.lock() {
                        if let Some((n, e)) = &g.last {
                            if *n > epoch {
                                return Err(e.clone());
                            }
                        }
                    }
                    if start.elapsed() >= timeout {
                        return Err(Error::PoolTimeout { waited: start.elapsed(), pool_size: pool.max_size() });
                    }
                }
            }
        }
    }

    /// Run one statement on a pooled connection in autocommit mode.
    ///
    /// # Errors
    /// Those of [`Engine::connect`] ([`Error::PoolTimeout`], [`Error::Connection`]) and of
    /// [`Connection::execute`].
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.connect()?.execute(sql, params)
    }

    /// Run `f` in a transaction: commit when it returns `Ok`, roll back when it returns `Err` or
    /// panics (the panic then continues). `f` may return the application's own error type `E`
    /// (any `E: From<Error>`, so `?` works on Athanor's calls inside it); the helper's own errors
    /// are converted into it.
    ///
    /// # Errors
    /// `f`'s error (after the rollback); those of connecting, BEGIN and COMMIT (an
    /// [`Error::SerializationFailure`] at COMMIT means the transaction may be retried).
    pub fn transaction<T, E: From<Error>>(&self, f: impl FnOnce(&mut Connection) -> Result<T, E>) -> Result<T, E> {
        self.transaction_with(TxOptions::default(), f)
    }

    /// [`Engine::transaction`] with an isolation level or read-only mode.
    ///
    /// # Errors
    /// Those of [`Engine::transaction`], and [`Error::Unsupported`] for options the database lacks.
    pub fn transaction_with<T, E: From<Error>>(
        &self,
        opts: TxOptions,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.connect()?;
        conn.begin_with(opts)?;
        match panic::catch_unwind(AssertUnwindSafe(|| f(&mut conn))) {
            Ok(Ok(v)) => {
                conn.commit()?;
                Ok(v)
            }
            Ok(Err(e)) => {
                if let Err(re) = conn.rollback() {
                    tracing::warn!(target: "athanor::engine", "rollback after error failed: {re}");
                }
                Err(e)
            }
            Err(payload) => {
                if conn.rollback().is_err() {
                    conn.invalidate();
                }
                panic::resume_unwind(payload)
            }
        }
    }

    /// The SQL text of a per-table statement (`kind` picks which), rendered once per engine.
    #[doc(hidden)] // the ORM floor's per-table statement cache (athanor-orm's session)
    pub fn cached_sql(
        &self,
        table: &'static crate::schema::TableDef,
        kind: u8,
        build: impl FnOnce(&dyn Dialect) -> Result<String>,
    ) -> Result<Arc<str>> {
        self.cached_sql_variant(table, kind, 0, build)
    }

    /// [`Engine::cached_sql`] for statements that also depend on `variant` (an UPDATE's column
    /// set as a bit mask).
    #[doc(hidden)]
    pub fn cached_sql_variant(
        &self,
        table: &'static crate::schema::TableDef,
        kind: u8,
        variant: u64,
        build: impl FnOnce(&dyn Dialect) -> Result<String>,
    ) -> Result<Arc<str>> {
        let key = (table as *const _ as usize, kind, variant);
        if let Ok(cache) = self.inner.sql_cache.lock() {
            if let Some(s) = cache.get(&key) {
                return Ok(s.clone());
            }
        }
        let sql: Arc<str> = build(self.dialect())?.into();
        if let Ok(mut cache) = self.inner.sql_cache.lock() {
            cache.insert(key, sql.clone());
        }
        Ok(sql)
    }

    /// The statements that begin a transaction with `opts`, rendered once per engine.
    fn begin_statements(&self, opts: &TxOptions) -> Result<Arc<[String]>> {
        let slot = &self.inner.begin_cache[begin_slot(opts)];
        if let Some(s) = slot.get() {
            return Ok(s.clone());
        }
        let stmts: Arc<[String]> = self.dialect().begin_statements(opts)?.into();
        Ok(slot.get_or_init(|| stmts).clone())
    }

    /// A number for a transaction begun on one of this engine's connections.
    pub(in crate::engine) fn next_transaction(&self) -> u64 {
        self.inner.transactions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Count a statement about to be sent, call the `on_statement` listeners, open its span (see
    /// [`telemetry`]) and register it with the `slow_statement` watchdog.
    pub(in crate::engine) fn start_statement(
        &self,
        sql: &str,
        params: &[ValueRef<'_>],
        tx: Option<u64>,
        caps: &Capabilities,
    ) -> telemetry::Started {
        let inner = &*self.inner;
        inner.statements.fetch_add(1, Ordering::Relaxed);
        let primary = self.primary_inner();
        if let Some(p) = &primary {
            p.statements.fetch_add(1, Ordering::Relaxed);
        }
        for src in std::iter::once(inner).chain(primary.as_deref()) {
            if src.has_listeners.load(Ordering::Acquire) {
                if let Ok(ls) = src.listeners.read() {
                    let ev = StatementEvent {
                        sql,
                        params,
                        duration: None,
                        rows: None,
                        error: None,
                        node: inner.node.label.as_deref(),
                        replica: primary.is_some(),
                    };
                    for l in ls.iter() {
                        l(&ev);
                    }
                }
            }
        }
        let system = || {
            *inner.system.get_or_init(|| telemetry::system_name(inner.dialect.name(), caps.server_version.as_deref()))
        };
        let span = telemetry::statement_span(system, &inner.node, inner.role.get().copied(), sql, tx);
        let hide = inner.config.hide_parameters;
        if !hide && !params.is_empty() {
            span.in_scope(|| tracing::debug!(target: "athanor::sql", query = sql, params = ?params, "statement"));
        }
        let echo = inner.config.echo.then(|| {
            if hide || params.is_empty() {
                sql.to_string()
            } else {
                format!("{sql} {}", telemetry::describe_params(params))
            }
        });
        let start = Instant::now();
        let watch = inner.slow.as_ref().map(|w| w.enter(sql, &span, start));
        telemetry::Started { span, start, watch, echo }
    }

    /// The end of a statement [`Engine::start_statement`] began: its span's duration, rows and
    /// error, `echo`'s line, the `slow_statement` warning and the `after_statement` listeners.
    /// Called inside the statement's span.
    pub(in crate::engine) fn end_statement(
        &self,
        started: telemetry::Started,
        sql: &str,
        params: &[ValueRef<'_>],
        rows: Option<u64>,
        query: bool,
        error: Option<&Error>,
    ) {
        let inner = &*self.inner;
        let duration = started.start.elapsed();
        let end = telemetry::Ended { duration, rows, query, error };
        telemetry::record_end(&started.span, &end);
        let ms = duration.as_secs_f64() * 1000.0;
        // Only the echo and the slow-statement warning print it: formatted when one of them does.
        let rows_text = || rows.map_or_else(String::new, |n| format!(", {n} rows"));
        if let Some(line) = &started.echo {
            let rows_text = rows_text();
            let failed = error.map_or_else(String::new, |e| format!(", failed: {e}"));
            tracing::info!(target: "athanor::sql", "{line} ({ms:.3} ms{rows_text}{failed})");
        }
        if let (Some(watch), Some(id)) = (&inner.slow, started.watch) {
            watch.leave(id);
            if duration >= watch.threshold() {
                let rows_text = rows_text();
                tracing::warn!(
                    target: "athanor::sql",
                    query = sql,
                    elapsed_ms = duration.as_millis() as u64,
                    threshold_ms = watch.threshold().as_millis() as u64,
                    "slow statement took {ms:.1} ms{rows_text}"
                );
            }
        }
        let primary = self.primary_inner();
        for src in std::iter::once(inner).chain(primary.as_deref()) {
            if src.has_after.load(Ordering::Acquire) {
                if let Ok(ls) = src.after_listeners.read() {
                    let ev = StatementEvent {
                        sql,
                        params,
                        duration: Some(duration),
                        rows,
                        error,
                        node: inner.node.label.as_deref(),
                        replica: primary.is_some(),
                    };
                    for l in ls.iter() {
                        l(&ev);
                    }
                }
            }
        }
    }
}
