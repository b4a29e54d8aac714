//! The MySQL / MariaDB backend of Athanor, over the [`mysql`] crate (pure Rust, synchronous).
//!
//! Install it with the `mysql` cargo feature of `athanor`; it then serves URLs of the form
//!
//! ```text
//! mysql://[user[:password]@][host][:port][/database][?option=value&…]
//! mariadb://…                      (the same)
//! mysql+pymysql://…                (also mysql+mysqldb; another +driver is refused)
//! ```
//!
//! The host defaults to `127.0.0.1` and the port to `3306`; the connection always goes over TCP
//! to the host the URL names (the driver's "prefer the Unix socket on localhost" switch is off, so
//! the server sees the same user@host whatever machine the program runs on).
//!
//! | option | meaning |
//! |---|---|
//! | `connect_timeout` | seconds (fractions allowed) to wait for a new connection, TCP connect, handshake and session setup included; default 10 |
//! | `charset` | only `utf8mb4` is accepted (it is what every connection uses anyway) |
//! | `wsrep_sync_wait` | Galera only: `SET SESSION wsrep_sync_wait = n` on every connection (0–15; `1` makes reads wait until the node applied what the cluster committed before them, `7` also updates, deletes and inserts: read-your-writes across nodes, docs/scaling.md); a server without Galera refuses it at connect |
//! | `hosts` | `host:port,host:port,…`: the servers of a multi-primary cluster (Galera); each new pooled connection starts at the next one in turn and moves on to the following ones when one cannot be reached (docs/scaling.md). Replaces the URL's host and port |
//!
//! The engine's own options (`pool_size`, `pool_timeout`, `pool_pre_ping`, `echo`,
//! `isolation_level`, `write_intent`) are read by the engine; `statement_timeout` and
//! `lock_timeout` are set on each connection (below); any other option is an [`Error::Config`] naming it.
//!
//! # What every connection does at connect
//!
//! - `SET NAMES utf8mb4`: all of Unicode, including 4-byte characters such as emoji.
//! - `SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,
//!   ONLY_FULL_GROUP_BY,NO_ENGINE_SUBSTITUTION'`: an explicit list, the same on every server
//!   whatever its configuration, so that an out-of-range or over-long value is an error rather
//!   than a silent truncation (as on PostgreSQL), a GROUP BY that PostgreSQL would refuse is
//!   refused here too, and `NO_BACKSLASH_ESCAPES` is off (the dialect escapes backslashes in DDL
//!   literals; values are always bound parameters). The same statement sets `autocommit = 1`: a
//!   server configured with `autocommit = 0` (or an `init_connect` doing it) would otherwise
//!   open a transaction at a connection's first statement that nothing ends, so a statement
//!   outside a transaction (`Engine::execute`, a session's reads with `autocommit_reads`) would
//!   hold its snapshot and locks, and its writes would be lost. Athanor's transactions are
//!   always explicit (`START TRANSACTION` … `COMMIT`/`ROLLBACK`).
//! - The client asks for `CLIENT_FOUND_ROWS`, so an `UPDATE` reports the rows it *matched*, not
//!   only those whose values changed: an `UPDATE` that writes unchanged values reports 1, as on
//!   SQLite and PostgreSQL (the unit of work checks these counts).
//! - It reads `@@auto_increment_increment` and `@@innodb_autoinc_lock_mode`. The dialect recovers
//!   the keys of a multi-row `INSERT` as `LAST_INSERT_ID()` (the first key) and the keys that
//!   consecutively follow it ([`athanor_core::KeyRecovery::LastInsertIdConsecutive`]). That holds
//!   when the increment is 1 and the lock mode is 0 (traditional) or 1 (consecutive, MariaDB's
//!   default). With an increment other than 1 (multi-primary replication such as Galera) or lock
//!   mode 2 (interleaved, MySQL 8's default), MySQL does not promise consecutive keys under
//!   concurrent inserts: the first such connection of a driver logs a warning (target
//!   `athanor::mysql`), and every such connection reports
//!   [`athanor_core::KeyRecovery::LastInsertIdPerRow`] in its capabilities
//!   (`Connection::capabilities`), so the unit of work inserts rows that need a generated key one
//!   per statement. Keys of single-row inserts are always exact.
//! - It reads `@@version`, reported as [`athanor_core::Capabilities::server_version`].
//! - With the engine options `statement_timeout` / `lock_timeout` (milliseconds), on MariaDB
//!   (`@@version` names it) `SET SESSION max_statement_time` (seconds, to the microsecond; every
//!   statement; error 1969), on MySQL `SET SESSION max_execution_time` (read-only `SELECT`s only:
//!   MySQL has no bound for other statements; error 3024); on both `innodb_lock_wait_timeout`
//!   and `lock_wait_timeout` (row and metadata locks; error 1205) in whole seconds, rounded up,
//!   at least 1. All three errors are [`athanor_core::Error::Timeout`]. InnoDB rolls back only
//!   the statement that timed out; a session rolls back its whole transaction, as on every
//!   database.
//!
//! # Statements and values
//!
//! Statements with parameters, and every query, use the binary protocol: they are prepared once
//! per connection and cached by SQL text (256 statements per connection, least recently used
//! evicted). Statements without parameters that return no rows, and `batch_execute`, use the
//! text protocol. Parameters: integers and booleans are sent as 64-bit integers (the server checks
//! the column's range: an out-of-range value is an error in strict mode), floats as `FLOAT` /
//! `DOUBLE`, text and bytes as strings. NaN and ±infinity cannot be stored by MySQL and are
//! refused with [`Error::Unsupported`] before anything is sent. A text or blob value too large for
//! the server's `max_allowed_packet` (read at connect; 16 MiB on MariaDB, 64 MiB on MySQL 8 by
//! default) is refused with [`Error::Database`] code `1153` before it is sent, because the server
//! would answer it by closing the connection. A query that the server cannot prepare (`EXECUTE`,
//! error 1295) and has no parameters is run over the text protocol instead.
//!
//! Rows are decoded by the column's type: integer columns as `I64` (an unsigned value above
//! `i64::MAX` is a [`Error::TypeMismatch`]; `BOOL` columns are `TINYINT(1)` and come back as 0/1,
//! which `bool` fields accept), `FLOAT` as `F32`, `DOUBLE` as `F64`, binary strings and blobs
//! (charset `binary`) as `Blob`, other strings as `Text`, both borrowed from the driver's row
//! buffer. Types without a portable form follow the contract of `athanor_core::Row`: `DECIMAL`
//! of any scale (what `SUM` and `AVG` return) is its exact digits as `Decimal` (`"1.5000"`, which
//! `i64`/`f64` fields read when exact), dates and times are ISO-8601 text (`2024-01-31`,
//! `2024-01-31 12:00:00.5`, `-838:59:59`) whichever protocol carried the row; `JSON` is `Text`.
//!
//! # Errors
//!
//! Server errors go through [`athanor_dialects::MySqlDialect`]'s `map_error` (by error number).
//! A lost connection (an I/O error, a protocol error, `KILL`, server shutdown) is
//! [`Error::Connection`] with `disconnect: true`, and the connection reports itself broken so the
//! pool discards it. A failure to connect (refused, unknown host, bad login, unknown database) is
//! [`Error::Connection`] with `disconnect: false` and the driver's message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod connection;
mod error;
mod value;

pub use connection::MySqlConnection;
pub use value::native_type;

use athanor_core::{
    Backend, ConnectDeadline, ConnectOptions, Dialect, Driver, Error, RawConnection, Result, DEFAULT_CONNECT_TIMEOUT,
};
use athanor_dialects::MySqlDialect;
use mysql::consts::CapabilityFlags;
use mysql::{Opts, OptsBuilder};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The MySQL / MariaDB backend descriptor: name `mysql`, schemes `mysql` and `mariadb`.
///
/// Every backend crate offers the same `backend()`; the `athanor` facade registers it by URL
/// scheme.
pub const fn backend() -> Backend {
    Backend { name: "mysql", schemes: &["mysql", "mariadb"], drivers: &["pymysql", "mysqldb"], open }
}

/// The session setup every connection runs after the handshake.
pub(crate) const INIT_STATEMENTS: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,\
     ONLY_FULL_GROUP_BY,NO_ENGINE_SUBSTITUTION', SESSION autocommit = 1",
];

/// Prepared statements kept per connection.
const STMT_CACHE_SIZE: usize = 256;

fn open(o: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Ok(Arc::new(MySqlDriver::from_options(o)?))
}

/// Opens connections to one MySQL or MariaDB database. Building it checks the URL's options and
/// does not connect. Its `Debug` output shows the target, never the password (the driver's own
/// `Opts` would print it).
#[derive(Clone)]
pub struct MySqlDriver {
    opts: Opts,
    target: String,
    dialect: Arc<MySqlDialect>,
    warned_autoinc: Arc<AtomicBool>,
    /// The limit on opening a connection, handshake and session setup included.
    connect_timeout: Duration,
    deadline: ConnectDeadline,
    /// `statement_timeout` and `lock_timeout`, set on each connection for its server (MariaDB
    /// and MySQL name the statement bound differently).
    timeouts: athanor_core::Timeouts,
    /// The `hosts` option: the servers new connections go to, in turn (empty: the URL's).
    hosts: Vec<(String, u16)>,
    /// Where the next connection starts in `hosts`.
    next_host: Arc<AtomicUsize>,
    /// How many times a connection moved on from a host it could not reach.
    failovers: Arc<AtomicU64>,
}

impl std::fmt::Debug for MySqlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlDriver")
            .field("target", &self.target)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl MySqlDriver {
    /// Read the connection settings from a parsed URL (see the crate docs for the options).
    ///
    /// # Errors
    /// [`Error::Config`] for a URL not of the form `mysql://[user[:password]@]host[:port]/database`,
    /// an unknown option, a `connect_timeout` that is not a positive number of seconds, or a
    /// `charset` other than `utf8mb4`.
    pub fn from_options(o: &ConnectOptions) -> Result<Self> {
        o.require_server_form()?;
        let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
        let mut hosts = Vec::new();
        let mut init: Vec<String> = INIT_STATEMENTS.iter().map(|s| (*s).to_string()).collect();
        for (key, value) in o.backend_options() {
            match key {
                "connect_timeout" => {
                    let secs: f64 = value.trim().parse().map_err(|_| bad_timeout(value))?;
                    if !(secs.is_finite() && secs > 0.0) {
                        return Err(bad_timeout(value));
                    }
                    connect_timeout = Duration::try_from_secs_f64(secs).map_err(|_| bad_timeout(value))?;
                }
                "charset" => {
                    if !value.eq_ignore_ascii_case("utf8mb4") {
                        return Err(Error::Config {
                            message: format!(
                                "unsupported value {value:?} for URL option charset: the mysql backend always \
                                 uses utf8mb4"
                            ),
                        });
                    }
                }
                "hosts" => hosts = parse_hosts(value)?,
                "wsrep_sync_wait" => {
                    let n: u8 = value.trim().parse().ok().filter(|n| *n <= 15).ok_or_else(|| Error::Config {
                        message: format!(
                            "invalid value {value:?} for URL option wsrep_sync_wait (a Galera causality bitmask, 0 to 15)"
                        ),
                    })?;
                    init.push(format!("SET SESSION wsrep_sync_wait = {n}"));
                }
                other => {
                    return Err(Error::Config {
                        message: format!(
                            "unknown URL option {other:?} for the mysql backend (it understands connect_timeout, \
                             charset, hosts and wsrep_sync_wait)"
                        ),
                    })
                }
            }
        }
        let host = o.host.clone().unwrap_or_else(|| "127.0.0.1".to_string());
        let opts = OptsBuilder::new()
            .ip_or_hostname(Some(host))
            .tcp_port(o.port.unwrap_or(3306))
            .user(o.user.clone())
            .pass(o.password.clone())
            .db_name(o.database.clone())
            .prefer_socket(false)
            // Bounds the TCP connect; the handshake after it is bounded by `ConnectDeadline`
            // (the driver's read timeout would stay on the connection and cut long queries).
            .tcp_connect_timeout(Some(connect_timeout))
            .stmt_cache_size(STMT_CACHE_SIZE)
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            .init(init);
        Ok(MySqlDriver {
            opts: opts.into(),
            target: o.redacted(),
            dialect: Arc::new(MySqlDialect),
            warned_autoinc: Arc::new(AtomicBool::new(false)),
            connect_timeout,
            deadline: ConnectDeadline::new(),
            timeouts: athanor_core::Timeouts::from_options(o)?,
            hosts,
            next_host: Arc::new(AtomicUsize::new(0)),
            failovers: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The servers of the `hosts` option, in order (empty without it).
    pub fn hosts(&self) -> &[(String, u16)] {
        &self.hosts
    }

    /// How many times a new connection moved on from a host of `hosts` it could not reach.
    pub fn failovers(&self) -> u64 {
        self.failovers.load(Ordering::Relaxed)
    }

    /// One connection attempt to `opts`' server.
    fn connect_to(&self, opts: Opts, target: String) -> Result<MySqlConnection> {
        let (warned, timeouts) = (self.warned_autoinc.clone(), self.timeouts);
        self.deadline.run(Some(self.connect_timeout), &target.clone(), move || {
            MySqlConnection::connect(opts, &target, &warned, timeouts)
        })
    }

    /// Open a connection, typed (the [`Driver`] impl boxes it).
    ///
    /// # Errors
    /// [`Error::Connection`] (`disconnect: false`) when the server cannot be reached, refuses the
    /// login, does not have the database, or does not finish the handshake within
    /// `connect_timeout` (the message then says it timed out).
    ///
    /// With `hosts`, the attempt starts at the next host in turn and moves on to the following
    /// ones while a host cannot be reached (or refuses the connection); the error is the last
    /// host's when none could be.
    pub fn connect_typed(&self) -> Result<MySqlConnection> {
        if self.hosts.is_empty() {
            return self.connect_to(self.opts.clone(), self.target.clone());
        }
        let start = self.next_host.fetch_add(1, Ordering::Relaxed);
        let mut last = None;
        for k in 0..self.hosts.len() {
            let (host, port) = &self.hosts[(start + k) % self.hosts.len()];
            let opts: Opts =
                OptsBuilder::from_opts(self.opts.clone()).ip_or_hostname(Some(host.clone())).tcp_port(*port).into();
            let target = format!("{} (host {host}:{port})", self.target);
            match self.connect_to(opts, target) {
                Ok(conn) => return Ok(conn),
                Err(e @ Error::Connection { .. }) => {
                    if k + 1 < self.hosts.len() {
                        self.failovers.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(target: "athanor::mysql", "{e}; trying the next of the URL's hosts");
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::connection(format!("no host to connect to for {}", self.target), false)))
    }

    /// The limit on opening a connection (`connect_timeout`, 10 s by default).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// Read `hosts=host:port,host:port` (a host without a port uses 3306).
fn parse_hosts(value: &str) -> Result<Vec<(String, u16)>> {
    let bad = |why: &str| Error::Config {
        message: format!("invalid value {value:?} for URL option hosts ({why}; expected host:port,host:port,…)"),
    };
    let mut hosts = Vec::new();
    for item in value.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let (host, port) = match item.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad(&format!("bad port in {item:?}")))?),
            None => (item, 3306),
        };
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
            return Err(bad(&format!("bad host in {item:?}")));
        }
        hosts.push((host.to_string(), port));
    }
    if hosts.is_empty() {
        return Err(bad("no host"));
    }
    Ok(hosts)
}

fn bad_timeout(value: &str) -> Error {
    Error::Config {
        message: format!(
            "invalid value {value:?} for URL option connect_timeout (expected a positive number of seconds)"
        ),
    }
}

impl Driver for MySqlDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.dialect.clone()
    }

    fn connect(&self) -> Result<Box<dyn RawConnection>> {
        Ok(Box::new(self.connect_typed()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(url: &str) -> Result<MySqlDriver> {
        MySqlDriver::from_options(&ConnectOptions::parse(url)?)
    }

    #[test]
    fn hosts_option() {
        let d = MySqlDriver::from_options(
            &ConnectOptions::parse("mysql://root@127.0.0.1:3311/test?hosts=127.0.0.1:3311,db-2:3312,db3").unwrap(),
        )
        .unwrap();
        assert_eq!(d.hosts(), &[("127.0.0.1".into(), 3311), ("db-2".into(), 3312), ("db3".into(), 3306)]);
        for bad in ["", "a:b", "a:70000", "bad host:1", ":3306"] {
            let url = format!("mysql://root@h/test?hosts={bad}");
            match MySqlDriver::from_options(&ConnectOptions::parse(&url).unwrap()) {
                Err(Error::Config { message }) => assert!(message.contains("hosts"), "{message}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn hosts_fail_over_to_the_next_and_report_the_last_error() {
        // Two ports nothing listens on: both are tried, and the error names the last one.
        let d = MySqlDriver::from_options(
            &ConnectOptions::parse("mysql://root@127.0.0.1/test?hosts=127.0.0.1:1,127.0.0.1:2&connect_timeout=2")
                .unwrap(),
        )
        .unwrap();
        let Err(Error::Connection { message, .. }) = d.connect_typed() else { panic!("connected to nothing") };
        assert_eq!(d.failovers(), 1);
        assert!(message.contains("127.0.0.1:2") || message.contains("127.0.0.1:1"), "{message}");
    }

    #[test]
    fn descriptor() {
        assert_eq!(backend().name, "mysql");
        assert_eq!(backend().schemes, &["mysql", "mariadb"]);
    }

    #[test]
    fn defaults_and_url_parts() {
        let d = driver("mysql://").unwrap();
        assert_eq!(d.opts.get_ip_or_hostname(), "127.0.0.1");
        assert_eq!(d.opts.get_tcp_port(), 3306);
        assert_eq!(d.opts.get_user(), None);
        assert_eq!(d.opts.get_db_name(), None);
        assert!(!d.opts.get_prefer_socket());
        assert_eq!(d.connect_timeout(), DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(d.opts.get_tcp_connect_timeout(), Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(d.opts.get_stmt_cache_size(), STMT_CACHE_SIZE);
        assert!(d.opts.get_additional_capabilities().contains(CapabilityFlags::CLIENT_FOUND_ROWS));
        assert_eq!(d.opts.get_init(), INIT_STATEMENTS.iter().map(|s| s.to_string()).collect::<Vec<_>>());

        let d = driver("mariadb://app:p%40ss@db.example:3307/shop?connect_timeout=2.5&charset=UTF8MB4&pool_size=3")
            .unwrap();
        assert_eq!(d.opts.get_ip_or_hostname(), "db.example");
        assert_eq!(d.opts.get_tcp_port(), 3307);
        assert_eq!(d.opts.get_user(), Some("app"));
        assert_eq!(d.opts.get_pass(), Some("p@ss"));
        assert_eq!(d.opts.get_db_name(), Some("shop"));
        assert_eq!(d.opts.get_tcp_connect_timeout(), Some(Duration::from_millis(2500)));
        assert_eq!(d.target, "mariadb://app:***@db.example:3307/shop?connect_timeout=2.5&charset=UTF8MB4&pool_size=3");
        assert_eq!(d.dialect().name(), "mysql");
    }

    #[test]
    fn engine_options_are_ignored() {
        assert!(driver(
            "mysql://h/db?pool_size=2&pool_timeout=1&pool_pre_ping=true&echo=1&isolation_level=SERIALIZABLE"
        )
        .is_ok());
    }

    #[test]
    fn timeouts_are_read() {
        let d = driver("mysql://h/db?statement_timeout=1500&lock_timeout=300").unwrap();
        assert_eq!(d.timeouts.statement, Some(Duration::from_millis(1500)));
        assert_eq!(d.timeouts.lock, Some(Duration::from_millis(300)));
        assert!(matches!(driver("mysql://h/db?lock_timeout=x"), Err(Error::Config { .. })));
    }

    #[test]
    fn bad_options_are_config_errors() {
        for (url, needle) in [
            ("mysql://h/db?sslmode=require", "sslmode"),
            ("mysql://h/db?charset=latin1", "charset"),
            ("mysql://h/db?connect_timeout=abc", "connect_timeout"),
            ("mysql://h/db?connect_timeout=0", "connect_timeout"),
            ("mysql://h/db?connect_timeout=-1", "connect_timeout"),
            ("mysql://h/db?connect_timeout=inf", "connect_timeout"),
            ("mysql:/root@127.0.0.1/test", "expected mysql://"),
            ("mariadb:test", "expected mariadb://"),
            ("mysql://h/a/b", "contains '/'"),
        ] {
            match driver(url) {
                Err(Error::Config { message }) => assert!(message.contains(needle), "{url}: {message}"),
                other => panic!("{url}: expected a Config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let o = ConnectOptions::parse("mysql://ann:Pw%23s3cr%2Ft@127.0.0.1:1/none").unwrap();
        let d = MySqlDriver::from_options(&o).unwrap();
        let shown = format!("{d:?}");
        assert!(!shown.contains("Pw#s3cr/t") && !shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("127.0.0.1"), "{shown}");
    }

    #[test]
    fn open_does_not_connect() {
        // Nothing listens on port 1; open() must still succeed.
        let o = ConnectOptions::parse("mysql://nobody@127.0.0.1:1/none").unwrap();
        assert!((backend().open)(&o).is_ok());
    }
}
