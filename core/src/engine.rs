//! [`Engine`]: a lazily connecting, r2d2-pooled source of [`Connection`]s for one database.

use crate::dialect::{Capabilities, Dialect, IsolationLevel, TxOptions};
use crate::driver::{Driver, RawConnection};
use crate::error::{Error, Result};
use crate::row::{Row, RowIndex};
use crate::url::ConnectOptions;
use crate::value::{FromValue, Value, ValueRef};
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Engine settings, read from the URL's query options or set in code.
///
/// | URL option | field | default |
/// |---|---|---|
/// | `pool_size` | `pool_size` | 10 |
/// | `pool_timeout` (seconds, fractions allowed) | `pool_timeout` | 30 s |
/// | `pool_pre_ping` | `pre_ping` | false |
/// | `echo` | `echo` | false |
/// | `isolation_level` | `isolation_level` | the database's default |
/// | `write_intent` | `write_intent` | false |
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The most connections the pool opens.
    pub pool_size: u32,
    /// How long `connect()` waits for a free connection before [`Error::PoolTimeout`].
    pub pool_timeout: Duration,
    /// Check a connection with a round trip before handing it out (off by default). Without it,
    /// a connection that died while idle in the pool (server restart, killed session) is still
    /// replaced transparently when its first statement of a checkout fails with a disconnect
    /// error; see [`Engine::connect`].
    pub pre_ping: bool,
    /// Log every statement and its parameters through `tracing` (target `athanor::sql`, level INFO).
    pub echo: bool,
    /// The isolation level of every transaction this engine begins, unless one asks for another.
    pub isolation_level: Option<IsolationLevel>,
    /// Begin every transaction that is not read-only with [`TxOptions::write_intent`] (SQLite:
    /// `BEGIN IMMEDIATE`, so transactions that read and then write wait for each other instead
    /// of failing; concurrent transactions of such an engine run one at a time, even those that
    /// end up only reading). A hint without effect on PostgreSQL and MySQL/MariaDB.
    pub write_intent: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            pool_size: 10,
            pool_timeout: Duration::from_secs(30),
            pre_ping: false,
            echo: false,
            isolation_level: None,
            write_intent: false,
        }
    }
}

impl EngineConfig {
    /// Read the engine's options ([`crate::ENGINE_OPTIONS`]) from a parsed URL; the others are
    /// left to the backend.
    ///
    /// # Errors
    /// [`Error::Config`] for a value that does not parse: a `pool_size` of 0 or not a number, a
    /// negative or non-numeric `pool_timeout`, a boolean option that is not
    /// `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off`, an unknown `isolation_level`.
    pub fn from_options(o: &ConnectOptions) -> Result<Self> {
        let mut c = EngineConfig::default();
        if let Some(n) = o.parsed_option::<u32>("pool_size")? {
            if n == 0 {
                return Err(Error::config("pool_size must be at least 1"));
            }
            c.pool_size = n;
        }
        if let Some(t) = o.parsed_option::<f64>("pool_timeout")? {
            if !(t.is_finite() && t >= 0.0) {
                return Err(Error::config("pool_timeout must be a non-negative number of seconds"));
            }
            c.pool_timeout = Duration::from_secs_f64(t);
        }
        if let Some(b) = o.option("pool_pre_ping") {
            c.pre_ping = parse_bool(b, "pool_pre_ping")?;
        }
        if let Some(b) = o.option("echo") {
            c.echo = parse_bool(b, "echo")?;
        }
        if let Some(l) = o.option("isolation_level") {
            c.isolation_level = Some(IsolationLevel::parse(l)?);
        }
        if let Some(b) = o.option("write_intent") {
            c.write_intent = parse_bool(b, "write_intent")?;
        }
        Ok(c)
    }
}

fn parse_bool(v: &str, key: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("invalid boolean {v:?} for URL option {key}"))),
    }
}

/// What an engine event hook is told about each statement sent to the database.
#[derive(Debug)]
pub struct StatementEvent<'a> {
    /// The SQL text.
    pub sql: &'a str,
    /// The parameters.
    pub params: &'a [ValueRef<'a>],
}

type Listener = Arc<dyn Fn(&StatementEvent<'_>) + Send + Sync>;

/// A pooled physical connection, what it reported at connect, whether it was invalidated, and
/// how often it was checked out.
pub struct PoolSlot {
    raw: Box<dyn RawConnection>,
    caps: Arc<Capabilities>,
    invalidated: bool,
    checkouts: u64,
}

#[derive(Debug, Default)]
struct ConnectErrors {
    epoch: u64,
    last: Option<(u64, Error)>,
}

struct Manager {
    driver: Arc<dyn Driver>,
    errors: Arc<Mutex<ConnectErrors>>,
    /// The driver's capabilities (before any connection adjusted them).
    configured: Arc<Capabilities>,
    /// The first connection's adjusted capabilities: the engine's from then on.
    connected: Arc<OnceLock<Arc<Capabilities>>>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PoolSlot;
    type Error = Error;

    fn connect(&self) -> Result<PoolSlot> {
        match self.driver.connect() {
            Ok(raw) => {
                let mut caps = Capabilities::clone(&self.configured);
                raw.adjust_capabilities(&mut caps);
                let caps = Arc::new(caps);
                let _ = self.connected.set(caps.clone());
                Ok(PoolSlot { raw, caps, invalidated: false, checkouts: 0 })
            }
            Err(e) => {
                if let Ok(mut g) = self.errors.lock() {
                    g.epoch += 1;
                    let n = g.epoch;
                    g.last = Some((n, e.clone()));
                }
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut PoolSlot) -> Result<()> {
        conn.raw.ping()
    }

    fn has_broken(&self, conn: &mut PoolSlot) -> bool {
        conn.invalidated || conn.raw.is_broken()
    }
}

#[derive(Debug)]
struct QuietErrors;
impl r2d2::HandleError<Error> for QuietErrors {
    fn handle_error(&self, error: Error) {
        tracing::debug!(target: "athanor::pool", "connection attempt failed: {error}");
    }
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
    /// A connection of this pool was found dead: the idle ones may have died with it (a server
    /// restart), so the next checkout pings them first (see [`Engine::connect`]).
    suspect_idle: AtomicBool,
    has_listeners: AtomicBool,
    listeners: RwLock<Vec<Listener>>,
    sql_cache: Mutex<SqlCache>,
    /// The dialect's BEGIN statements per transaction options (see [`begin_slot`]).
    begin_cache: [OnceLock<Arc<[String]>>; BEGIN_SLOTS],
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

/// The hasher of Athanor's internal maps (the session's identity map, the engine's statement
/// cache): one folded 64×64→128-bit multiply per integer written, so an integer primary key
/// costs a few nanoseconds instead of a SipHash round; byte strings (text and binary primary
/// keys, which come from data) still go through SipHash keyed with a per-process secret, so
/// crafted keys cannot force collisions. Integers are mixed with the same per-process seed.
#[derive(Clone, Copy)]
pub(crate) struct FastState {
    seed: u64,
    secret: u64,
}

fn process_keys() -> (u64, u64) {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    *KEYS.get_or_init(|| {
        let rs = RandomState::new();
        (rs.hash_one(0x5eed_u64) | 1, rs.hash_one(0x05ec_2e70_u64))
    })
}

impl Default for FastState {
    fn default() -> Self {
        let (seed, secret) = process_keys();
        FastState { seed, secret }
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: self.seed, secret: self.secret, bytes: None }
    }
}

const FOLD_MUL: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let r = u128::from(a).wrapping_mul(u128::from(b));
    (r as u64) ^ ((r >> 64) as u64)
}

/// See [`FastState`].
pub(crate) struct FastHasher {
    h: u64,
    secret: u64,
    bytes: Option<DefaultHasher>,
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let secret = self.secret;
        self.bytes
            .get_or_insert_with(|| {
                let mut sip = DefaultHasher::new();
                sip.write_u64(secret);
                sip
            })
            .write(bytes);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.h = folded_multiply(self.h ^ i, FOLD_MUL);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        match &self.bytes {
            None => self.h,
            Some(sip) => folded_multiply(self.h ^ sip.finish(), FOLD_MUL),
        }
    }
}

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
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size)
            .min_idle(Some(0))
            .connection_timeout(config.pool_timeout.max(Duration::from_millis(1)))
            .test_on_check_out(config.pre_ping)
            .idle_timeout(Some(Duration::from_secs(600)))
            .error_handler(Box::new(QuietErrors))
            .thread_pool(engine_thread_pool())
            .build_unchecked(manager);
        Ok(Engine {
            inner: Arc::new(EngineInner {
                dialect,
                configured,
                connected,
                pool,
                errors,
                config,
                url: options.redacted(),
                statements: AtomicU64::new(0),
                suspect_idle: AtomicBool::new(false),
                has_listeners: AtomicBool::new(false),
                listeners: RwLock::new(Vec::new()),
                sql_cache: Mutex::new(HashMap::default()),
                begin_cache: Default::default(),
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
    /// for what its first connection found at connect ([`RawConnection::adjust_capabilities`]:
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

    /// Call `listener` before every statement this engine sends (SQLAlchemy's
    /// `before_cursor_execute` event).
    pub fn on_statement(&self, listener: impl Fn(&StatementEvent<'_>) + Send + Sync + 'static) {
        if let Ok(mut l) = self.inner.listeners.write() {
            l.push(Arc::new(listener));
            self.inner.has_listeners.store(true, Ordering::Release);
        }
    }

    /// The pool's state: (open connections, idle connections).
    pub fn pool_status(&self) -> (u32, u32) {
        let s = self.inner.pool.state();
        (s.connections, s.idle_connections)
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
        Ok(Connection {
            engine: self.clone(),
            slot: Some(slot),
            in_transaction: false,
            savepoints: 0,
            replaceable: reused,
        })
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
    /// panics (the panic then continues).
    ///
    /// # Errors
    /// `f`'s error (after the rollback); those of connecting, BEGIN and COMMIT (an
    /// [`Error::SerializationFailure`] at COMMIT means the transaction may be retried).
    pub fn transaction<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        self.transaction_with(TxOptions::default(), f)
    }

    /// [`Engine::transaction`] with an isolation level or read-only mode.
    ///
    /// # Errors
    /// Those of [`Engine::transaction`], and [`Error::Unsupported`] for options the database lacks.
    pub fn transaction_with<T>(&self, opts: TxOptions, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
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
    pub(crate) fn cached_sql(
        &self,
        table: &'static crate::schema::TableDef,
        kind: u8,
        build: impl FnOnce(&dyn Dialect) -> Result<String>,
    ) -> Result<Arc<str>> {
        self.cached_sql_variant(table, kind, 0, build)
    }

    /// [`Engine::cached_sql`] for statements that also depend on `variant` (an UPDATE's column
    /// set as a bit mask).
    pub(crate) fn cached_sql_variant(
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

    fn before_statement(&self, sql: &str, params: &[ValueRef<'_>]) {
        self.inner.statements.fetch_add(1, Ordering::Relaxed);
        if self.inner.config.echo {
            tracing::info!(target: "athanor::sql", "{sql} {params:?}");
        }
        if self.inner.has_listeners.load(Ordering::Acquire) {
            if let Ok(ls) = self.inner.listeners.read() {
                let ev = StatementEvent { sql, params };
                for l in ls.iter() {
                    l(&ev);
                }
            }
        }
    }
}

/// The columns of a query's result: each one's name and the database's name for its type,
/// copied once per query and shared by all its [`ResultRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultColumns {
    names: Vec<String>,
    types: Vec<Option<String>>,
}

impl ResultColumns {
    fn of(row: &dyn Row) -> Self {
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
    values: Vec<Value>,
    columns: Arc<ResultColumns>,
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
    engine: Engine,
    slot: Option<r2d2::PooledConnection<Manager>>,
    in_transaction: bool,
    savepoints: usize,
    /// Nothing was sent on this checkout yet and the connection had been idle in the pool: a
    /// disconnect now means it died there, and it may be replaced (see [`Engine::connect`]).
    replaceable: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("in_transaction", &self.in_transaction).finish()
    }
}

fn refs(params: &[Value]) -> Vec<ValueRef<'_>> {
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

    fn raw(&mut self) -> Result<&mut Box<dyn RawConnection>> {
        match self.slot.as_mut() {
            Some(s) if !s.invalidated => Ok(&mut s.raw),
            _ => Err(Error::invalid("this connection was invalidated; take a new one from the engine")),
        }
    }

    /// Whether the failure `r` of the checkout's first statement is a connection that died idle,
    /// to be replaced; after it, nothing is replaceable any more.
    fn died_idle<T>(&mut self, r: &Result<T>) -> bool {
        let first = std::mem::take(&mut self.replaceable);
        first && !self.in_transaction && matches!(r, Err(e) if e.is_disconnect())
    }

    /// Discard the dead connection and take a live one (see [`Engine::connect`]).
    fn replace_dead(&mut self, dead: &Error) -> Result<()> {
        tracing::debug!(target: "athanor::pool", "replacing a connection that died idle: {dead}");
        if let Some(mut s) = self.slot.take() {
            s.invalidated = true;
        }
        self.slot = Some(self.engine.live_slot()?);
        Ok(())
    }

    fn after<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_disconnect() {
                if let Some(s) = self.slot.as_mut() {
                    s.invalidated = true;
                }
                self.engine.inner.suspect_idle.store(true, Ordering::Relaxed);
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
        self.check_params(params)?;
        self.engine.before_statement(sql, params);
        // Never replayed: an autocommit write whose connection was lost while it ran may have
        // been applied, and running it again could apply it twice.
        self.replaceable = false;
        let r = self.raw()?.execute(sql, params);
        self.after(r)
    }

    /// The capabilities' refusals, checked once here for every backend.
    fn check_params(&self, params: &[ValueRef<'_>]) -> Result<()> {
        let d = self.dialect();
        d.capabilities().check_params(d.name(), params)
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
        self.check_params(params)?;
        self.engine.before_statement(sql, params);
        // Never replayed: a query may write (`INSERT … RETURNING`), see `execute_refs`.
        self.replaceable = false;
        let r = self.raw()?.query(sql, params, on_row);
        self.after(r)
    }

    /// Run a parameterless statement unprepared (DDL, transaction control).
    ///
    /// # Errors
    /// Those of [`Connection::execute_refs`].
    pub fn batch_execute(&mut self, sql: &str) -> Result<()> {
        self.engine.before_statement(sql, &[]);
        // Never replayed (it may write), see `execute_refs`.
        self.replaceable = false;
        let r = self.raw()?.batch_execute(sql);
        self.after(r)
    }

    /// A statement that begins a transaction: the one statement that is replayed on a live
    /// connection when it finds the checkout's connection dead (it changes no data).
    fn begin_statement(&mut self, sql: &str) -> Result<()> {
        self.engine.before_statement(sql, &[]);
        let mut r = self.raw()?.batch_execute(sql);
        if self.died_idle(&r) {
            if let Err(dead) = &r {
                self.replace_dead(dead)?;
            }
            self.engine.before_statement(sql, &[]);
            r = self.raw()?.batch_execute(sql);
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
    pub fn begin_with(&mut self, mut opts: TxOptions) -> Result<()> {
        if self.in_transaction {
            return Err(Error::invalid("a transaction is already begun on this connection"));
        }
        if opts.isolation.is_none() {
            opts.isolation = self.engine.inner.config.isolation_level;
        }
        if self.engine.inner.config.write_intent && !opts.read_only {
            opts.write_intent = true;
        }
        let stmts = self.engine.begin_statements(&opts)?;
        for s in stmts.iter() {
            self.begin_statement(s)?;
        }
        self.in_transaction = true;
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
        self.batch_execute(sql)
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

    fn require_savepoints(&self) -> Result<()> {
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
