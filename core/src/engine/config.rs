//! [`EngineConfig`]: the engine's settings and the URL options that set them.

use crate::dialect::IsolationLevel;
use crate::error::{Error, Result};
use crate::url::ConnectOptions;
use std::time::Duration;

/// Engine settings, read from the URL's query options or set in code.
///
/// | URL option | field | default |
/// |---|---|---|
/// | `pool_size` | `pool_size` | 10 |
/// | `pool_timeout` (seconds, fractions allowed) | `pool_timeout` | 30 s |
/// | `pool_pre_ping` | `pre_ping` | false |
/// | `echo` | `echo` | false |
/// | `hide_parameters` | `hide_parameters` | false |
/// | `slow_statement` (milliseconds: `200`, `200ms`, `2s`) | `slow_statement` | none |
/// | `isolation_level` | `isolation_level` | the database's default |
/// | `write_intent` | `write_intent` | false |
/// | `replica_backoff` (milliseconds) | `replica_backoff` | 30 s |
/// | `replica_wait` (milliseconds) | `replica_wait` | 50 ms |
///
/// `replicas=host:port,…` (read by `athanor::create_engine`) attaches read replicas
/// (docs/scaling.md).
///
/// `statement_timeout` and `lock_timeout` (milliseconds) are engine URL options too, applied by
/// the backend to every connection it opens ([`crate::Timeouts`]); this type only checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The most connections the pool opens.
    pub pool_size: u32,
    /// How long `connect()` waits for a free connection before [`Error::PoolTimeout`].
    pub pool_timeout: Duration,
    /// Check a connection with a round trip before handing it out (off by default). Without it,
    /// a connection that died while idle in the pool (server restart, killed session) is still
    /// replaced transparently when its first statement of a checkout fails with a disconnect
    /// error; see [`Engine::connect`](crate::Engine::connect).
    pub pre_ping: bool,
    /// Log every statement when it ends, with its parameters (unless `hide_parameters`), its
    /// duration and its row count, through `tracing` (target `athanor::sql`, level INFO). Installs
    /// no subscriber: the application's prints it (docs/observability.md).
    pub echo: bool,
    /// Never put parameter values in a log event (`echo`'s, and the DEBUG event each statement
    /// emits otherwise). The spans never carry them either way.
    pub hide_parameters: bool,
    /// Warn (target `athanor::sql`, level WARN) about a statement that runs longer than this:
    /// once while it still runs (from a watchdog thread of the engine, started only when this is
    /// set) and once when it ends.
    pub slow_statement: Option<Duration>,
    /// The isolation level of every transaction this engine begins, unless one asks for another.
    pub isolation_level: Option<IsolationLevel>,
    /// Begin every transaction that is not read-only with [`TxOptions::write_intent`](crate::TxOptions::write_intent) (SQLite:
    /// `BEGIN IMMEDIATE`, so transactions that read and then write wait for each other instead
    /// of failing; concurrent transactions of such an engine run one at a time, even those that
    /// end up only reading). A hint without effect on PostgreSQL and MySQL/MariaDB.
    pub write_intent: bool,
    /// How long a read replica that failed to connect or lost a connection is skipped (reads go
    /// to the other replicas or the primary meanwhile).
    pub replica_backoff: Duration,
    /// The longest a replica's check of a session's [`crate::ConsistencyToken`] waits for the
    /// replica to catch up, where the database's check can wait (MariaDB's
    /// `MASTER_GTID_WAIT`; PostgreSQL's check answers at once). Then the read goes elsewhere.
    pub replica_wait: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            pool_size: 10,
            pool_timeout: Duration::from_secs(30),
            pre_ping: false,
            echo: false,
            hide_parameters: false,
            slow_statement: None,
            isolation_level: None,
            write_intent: false,
            replica_backoff: Duration::from_secs(30),
            replica_wait: Duration::from_millis(50),
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
    /// `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off`, an unknown `isolation_level`, a
    /// `slow_statement`, `statement_timeout` or `lock_timeout` that is not a number of milliseconds.
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
        if let Some(b) = o.option("hide_parameters") {
            c.hide_parameters = parse_bool(b, "hide_parameters")?;
        }
        if let Some(ms) = o.millis_option("slow_statement")? {
            c.slow_statement = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if let Some(l) = o.option("isolation_level") {
            c.isolation_level = Some(IsolationLevel::parse(l)?);
        }
        if let Some(b) = o.option("write_intent") {
            c.write_intent = parse_bool(b, "write_intent")?;
        }
        replica_hosts(o)?;
        if let Some(ms) = o.millis_option("replica_backoff")? {
            c.replica_backoff = Duration::from_millis(ms);
        }
        if let Some(ms) = o.millis_option("replica_wait")? {
            c.replica_wait = Duration::from_millis(ms);
        }
        // Applied by the backend to each connection; checked here so a bad value fails first.
        crate::driver::Timeouts::from_options(o)?;
        Ok(c)
    }
}

pub(super) fn parse_bool(v: &str, key: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("invalid boolean {v:?} for URL option {key}"))),
    }
}

/// The replicas named by the URL option `replicas=host[:port],…` (none without it): the primary's
/// URL with each host and port in turn is a replica's (docs/scaling.md, "Read replicas").
///
/// ```
/// let o = athanor_core::ConnectOptions::parse("postgres://u@db1/app?replicas=db2:5433,db3").unwrap();
/// let hosts = athanor_core::engine::replica_hosts(&o).unwrap();
/// assert_eq!(hosts, [("db2".to_string(), Some(5433)), ("db3".to_string(), None)]);
/// ```
///
/// # Errors
/// [`Error::Config`] for an empty entry or a port that is not a number.
pub fn replica_hosts(o: &ConnectOptions) -> Result<Vec<(String, Option<u16>)>> {
    let Some(list) = o.option("replicas") else { return Ok(Vec::new()) };
    list.split(',')
        .map(|entry| {
            let entry = entry.trim();
            let (host, port) = match entry.rsplit_once(':') {
                Some((h, p)) => {
                    let port = p
                        .parse::<u16>()
                        .map_err(|_| Error::config(format!("invalid port in URL option replicas: {entry:?}")))?;
                    (h, Some(port))
                }
                None => (entry, None),
            };
            if host.is_empty() {
                return Err(Error::config("an empty host in URL option replicas"));
            }
            Ok((host.to_string(), port))
        })
        .collect()
}
