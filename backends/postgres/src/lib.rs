//! The PostgreSQL backend of Athanor, over the synchronous [`postgres`] crate (no TLS).
//!
//! URLs: `postgres://user:password@host:port/database?option=value` (`postgresql://` is the same).
//! Defaults: host `localhost`, port 5432, user `postgres`; without a database the server uses
//! the user's name.
//!
//! | URL option | meaning |
//! |---|---|
//! | `connect_timeout` | seconds (fractions allowed) to wait for a new connection, TCP connect and startup handshake included, and for a liveness check; default 10; `0` waits forever |
//! | `application_name` | shown in `pg_stat_activity` |
//! | `sslmode` | `disable` or `prefer` only: this crate is built without TLS, so `require`, `verify-ca` and `verify-full` are configuration errors |
//! | `host` | a host or a Unix-socket directory (`/var/run/postgresql`), overriding the URL's |
//! | `search_path` | the schemas to use, comma-separated (`app,public`): sent as `-c search_path=…` at connect |
//! | `statement_cache` | `named` (default): statements prepared once per connection under a name; `unnamed`: described once, then run through the unnamed statement, for PgBouncer in transaction mode; `none`: described on every run ([`StatementCache`], docs/scaling.md) |
//!
//! The engine's own options (`pool_size`, `pool_timeout`, `pool_pre_ping`, `echo`,
//! `isolation_level`, `write_intent`) are read by `athanor-core`; `statement_timeout` and
//! `lock_timeout` (milliseconds) become `SET statement_timeout` / `SET lock_timeout` on every new
//! connection (a statement stopped by either is [`Error::Timeout`]; PostgreSQL aborts the
//! transaction); any other option is an [`Error::Config`].
//!
//! What this backend does differently from the others:
//! - Statements are prepared once per connection and cached by SQL text; parameters are encoded
//!   for the type the server infers for each `$n` (an `i64` sent to an `INTEGER` column goes as
//!   `INT4`, with a range check).
//! - Generated keys come back by `RETURNING`; [`athanor_core::RawConnection::last_insert_id`] is
//!   always `None`.
//! - A statement's rows are fetched from the server in one call and then decoded row by row;
//!   text and bytes cells are borrowed from the row's buffer.
//! - Cells are decoded from the binary format by the codec in `value.rs`: `NUMERIC` becomes a
//!   `Decimal` with its exact digits, `DATE`/`TIME`/`TIMESTAMP`/`TIMESTAMPTZ` ISO-8601 text, `UUID` canonical
//!   text, `JSON`/`JSONB` the document (the contract is `athanor_core::Row`'s); arrays,
//!   `INTERVAL` and other types without a portable value are a `TypeMismatch` naming the type.
//! - The `postgres` client blocks on a tokio runtime of its own, which tokio refuses inside
//!   another. On a thread inside a tokio runtime each call (and the closing of a dropped
//!   connection) therefore runs on the connection's own worker thread, started on first need and
//!   kept for the connection's life; elsewhere calls run on the caller's thread as they are.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod connection;
mod error;
mod offload;
mod value;

pub use connection::{PostgresConnection, StatementCache};
pub use value::native_type;

use athanor_core::{
    Backend, ConnectDeadline, ConnectOptions, Dialect, Driver, Error, RawConnection, Result, DEFAULT_CONNECT_TIMEOUT,
};
use athanor_dialects::PostgresDialect;
use postgres::config::SslMode;
use std::sync::Arc;
use std::time::Duration;

/// The PostgreSQL backend descriptor: name `postgres`, schemes `postgres` and `postgresql`.
///
/// Every backend crate offers the same `backend()`; the `athanor` facade registers it by URL
/// scheme.
pub const fn backend() -> Backend {
    Backend { name: "postgres", schemes: &["postgres", "postgresql"], drivers: &["psycopg2", "psycopg"], open }
}

/// How long a liveness check ([`athanor_core::RawConnection::ping`]) waits for the server when
/// `connect_timeout=0` lifts the limit on connecting.
const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(10);

fn open(o: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Ok(Arc::new(PostgresDriver::from_options(o)?))
}

/// Opens connections to one PostgreSQL database. Built from a URL; never connects by itself.
#[derive(Debug, Clone)]
pub struct PostgresDriver {
    config: postgres::Config,
    /// `host:port/database`, for error messages (never the password).
    target: String,
    ping_timeout: Duration,
    /// The limit on opening a connection, handshake included; `None` waits forever.
    connect_timeout: Option<Duration>,
    deadline: ConnectDeadline,
    /// The `SET` statements every new connection runs (`statement_timeout`, `lock_timeout`).
    session_setup: Option<String>,
    /// The `statement_cache` option.
    statement_cache: StatementCache,
}

impl PostgresDriver {
    /// Read the connection settings from a parsed URL.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL not of the form `postgres://[user[:password]@]host[:port]/database`,
    /// an unknown option, a malformed `connect_timeout`, or an `sslmode` that needs TLS.
    pub fn from_options(o: &ConnectOptions) -> Result<Self> {
        o.require_server_form()?;
        let mut config = postgres::Config::new();
        let mut host = o.host.clone().unwrap_or_else(|| "localhost".to_string());
        let port = o.port.unwrap_or(5432);
        config.user(o.user.as_deref().unwrap_or("postgres"));
        if let Some(p) = &o.password {
            config.password(p);
        }
        if let Some(db) = &o.database {
            config.dbname(db);
        }
        config.port(port);
        config.ssl_mode(SslMode::Disable);
        let mut ping_timeout = DEFAULT_CONNECT_TIMEOUT;
        let mut connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        let mut statement_cache = StatementCache::Named;
        for (key, value) in o.backend_options() {
            match key {
                "connect_timeout" => {
                    let secs: f64 = value.trim().parse().map_err(|_| {
                        config_error(format!("invalid value {value:?} for URL option connect_timeout (seconds)"))
                    })?;
                    if !(secs.is_finite() && secs >= 0.0) {
                        return Err(config_error(format!(
                            "invalid value {value:?} for URL option connect_timeout (seconds, 0 or more)"
                        )));
                    }
                    if secs > 0.0 {
                        let t = Duration::try_from_secs_f64(secs).map_err(|_| {
                            config_error(format!("invalid value {value:?} for URL option connect_timeout (seconds)"))
                        })?;
                        connect_timeout = Some(t);
                        ping_timeout = t;
                    } else {
                        connect_timeout = None;
                        ping_timeout = DEFAULT_PING_TIMEOUT;
                    }
                }
                "application_name" => {
                    config.application_name(value);
                }
                "sslmode" => match value {
                    // Without TLS compiled in, `prefer` connects in plain text, as libpq does when
                    // the server offers no TLS.
                    "disable" | "prefer" => {}
                    "allow" | "require" | "verify-ca" | "verify-full" => {
                        return Err(config_error(format!(
                            "sslmode={value} needs TLS, and athanor-postgres is built without TLS support \
                             (use sslmode=disable or prefer)"
                        )))
                    }
                    other => {
                        return Err(config_error(format!(
                            "invalid value {other:?} for URL option sslmode (disable or prefer)"
                        )))
                    }
                },
                "host" => host = value.to_string(),
                "statement_cache" => statement_cache = StatementCache::parse(value)?,
                "search_path" => {
                    let ok = !value.is_empty()
                        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ',' || c == '$');
                    if !ok {
                        return Err(config_error(format!(
                            "invalid value {value:?} for URL option search_path (comma-separated schema names of \
                             letters, digits, _ and $)"
                        )));
                    }
                    config.options(&format!("-c search_path={value}"));
                }
                other => {
                    return Err(config_error(format!(
                        "unknown URL option {other:?} for postgres (known: connect_timeout, application_name, \
                         sslmode, host, search_path, statement_cache, and the engine's {})",
                        athanor_core::ENGINE_OPTIONS.join(", ")
                    )))
                }
            }
        }
        if host.is_empty() {
            return Err(config_error("empty host in postgres URL".to_string()));
        }
        config.host(&host);
        if let Some(t) = connect_timeout {
            // Bounds each TCP connect; the whole opening is bounded by `ConnectDeadline`, since the
            // driver's own timeout does not cover the startup handshake.
            config.connect_timeout(t);
        }
        let target = format!("{host}:{port}/{}", o.database.as_deref().unwrap_or(""));
        let session_setup = session_setup(athanor_core::Timeouts::from_options(o)?);
        Ok(PostgresDriver {
            config,
            target,
            ping_timeout,
            connect_timeout,
            deadline: ConnectDeadline::new(),
            session_setup,
            statement_cache,
        })
    }

    /// The driver-level configuration built from the URL.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// Open a connection, typed (the [`Driver`] impl boxes it).
    ///
    /// # Errors
    /// [`Error::Connection`] (`disconnect: false`) when the server cannot be reached, refuses the
    /// login, has no such database, or does not finish the handshake within `connect_timeout`
    /// (the message then says it timed out); the message is the server's or the network's.
    pub fn connect_typed(&self) -> Result<PostgresConnection> {
        if offload::inside_runtime() {
            // Opening a connection blocks on the client's runtime: do it on a thread of its own.
            let worker = offload::Worker::start()?;
            let driver = self.clone();
            return worker.run(move || driver.connect_typed()).unwrap_or_else(|| {
                Err(Error::Connection {
                    message: format!("cannot connect to PostgreSQL at {}: the connecting thread failed", self.target),
                    disconnect: false,
                    source: None,
                })
            });
        }
        let (config, target, ping_timeout) = (self.config.clone(), self.target.clone(), self.ping_timeout);
        let setup = self.session_setup.clone();
        let cache = self.statement_cache;
        self.deadline.run(self.connect_timeout, &format!("PostgreSQL at {}", self.target), move || {
            let mut conn = PostgresConnection::connect(&config, &target, ping_timeout, cache)?;
            if let Some(sql) = &setup {
                RawConnection::batch_execute(&mut conn, sql).map_err(|e| {
                    Error::connection(format!("cannot set up the session on PostgreSQL at {target}: {e}"), false)
                })?;
            }
            Ok(conn)
        })
    }

    /// The `statement_cache` setting ([`StatementCache`]).
    pub fn statement_cache(&self) -> StatementCache {
        self.statement_cache
    }

    /// The limit on opening a connection (`connect_timeout`; `None` when `0` lifted it).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }
}

/// The session settings for the engine's timeouts, in milliseconds: `statement_timeout` cancels
/// a statement that runs longer (SQLSTATE 57014), `lock_timeout` one that waits longer for a lock
/// (55P03); both abort the transaction, as every error does on PostgreSQL.
fn session_setup(t: athanor_core::Timeouts) -> Option<String> {
    let mut sql = Vec::new();
    if let Some(d) = t.statement {
        sql.push(format!("SET statement_timeout = {}", d.as_millis()));
    }
    if let Some(d) = t.lock {
        sql.push(format!("SET lock_timeout = {}", d.as_millis()));
    }
    (!sql.is_empty()).then(|| sql.join("; "))
}

fn config_error(message: String) -> Error {
    Error::Config { message }
}

impl Driver for PostgresDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        Arc::new(PostgresDialect)
    }

    fn connect(&self) -> Result<Box<dyn RawConnection>> {
        Ok(Box::new(self.connect_typed()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres::config::Host;

    fn driver(url: &str) -> Result<PostgresDriver> {
        PostgresDriver::from_options(&ConnectOptions::parse(url)?)
    }

    #[test]
    fn defaults() {
        let d = driver("postgres://").unwrap();
        let c = d.config();
        assert_eq!(c.get_hosts(), &[Host::Tcp("localhost".into())]);
        assert_eq!(c.get_ports(), &[5432]);
        assert_eq!(c.get_user(), Some("postgres"));
        assert_eq!(c.get_dbname(), None);
        assert_eq!(c.get_password(), None);
        assert_eq!(c.get_connect_timeout(), Some(&DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(d.connect_timeout(), Some(Duration::from_secs(10)));
        let forever = driver("postgres://h/db?connect_timeout=0").unwrap();
        assert_eq!(forever.connect_timeout(), None);
        assert_eq!(forever.config().get_connect_timeout(), None);
    }

    #[test]
    fn url_parts() {
        let d = driver("postgresql://ann:s%40cret@db.example:6543/shop?connect_timeout=2.5&application_name=app&pool_size=3&sslmode=prefer")
            .unwrap();
        let c = d.config();
        assert_eq!(c.get_hosts(), &[Host::Tcp("db.example".into())]);
        assert_eq!(c.get_ports(), &[6543]);
        assert_eq!(c.get_user(), Some("ann"));
        assert_eq!(c.get_password(), Some(&b"s@cret"[..]));
        assert_eq!(c.get_dbname(), Some("shop"));
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_millis(2500)));
        assert_eq!(c.get_application_name(), Some("app"));
        assert_eq!(d.target, "db.example:6543/shop");
    }

    #[test]
    fn timeouts_are_session_settings() {
        let d = driver("postgres://h/db?statement_timeout=1500&lock_timeout=300").unwrap();
        assert_eq!(d.session_setup.as_deref(), Some("SET statement_timeout = 1500; SET lock_timeout = 300"));
        assert_eq!(driver("postgres://h/db?lock_timeout=0").unwrap().session_setup, None);
        assert_eq!(driver("postgres://h/db").unwrap().session_setup, None);
        // A unit Athanor reads (ms, s) becomes milliseconds; PostgreSQL's own others are refused.
        let d = driver("postgres://h/db?statement_timeout=1s&lock_timeout=250ms").unwrap();
        assert_eq!(d.session_setup.as_deref(), Some("SET statement_timeout = 1000; SET lock_timeout = 250"));
        assert!(matches!(driver("postgres://h/db?statement_timeout=1min"), Err(Error::Config { .. })));
    }

    #[test]
    fn statement_cache_option() {
        assert_eq!(driver("postgres://h/db").unwrap().statement_cache(), StatementCache::Named);
        for (v, want) in
            [("named", StatementCache::Named), ("unnamed", StatementCache::Unnamed), ("NONE", StatementCache::None)]
        {
            assert_eq!(driver(&format!("postgres://h/db?statement_cache={v}")).unwrap().statement_cache(), want);
        }
        let Err(Error::Config { message }) = driver("postgres://h/db?statement_cache=off") else { panic!() };
        assert!(message.contains("statement_cache") && message.contains("unnamed"), "{message}");
    }

    #[test]
    fn host_option() {
        let d = driver("postgres:///test?host=/var/run/postgresql").unwrap();
        assert!(matches!(d.config().get_hosts(), [Host::Unix(_)]));
    }

    #[test]
    fn engine_options_are_ignored() {
        driver("postgres://h/db?pool_size=2&pool_timeout=1&pool_pre_ping=true&echo=1&isolation_level=serializable")
            .unwrap();
    }

    #[test]
    fn bad_options() {
        for url in [
            "postgres://h/db?sslmode=require",
            "postgres://h/db?sslmode=verify-full",
            "postgres://h/db?sslmode=bogus",
            "postgres://h/db?connect_timeout=soon",
            "postgres://h/db?connect_timeout=-1",
            "postgres://h/db?frobnicate=1",
            "postgres://h/db?host=",
            "postgres:/postgres@127.0.0.1/test",
            "postgresql:test",
            "postgres://h/a/b",
        ] {
            match driver(url) {
                Err(Error::Config { message }) => assert!(!message.is_empty()),
                other => panic!("{url}: {other:?}"),
            }
        }
        let Err(Error::Config { message }) = driver("postgres://h/db?frobnicate=1") else { panic!() };
        assert!(message.contains("frobnicate"), "{message}");
        let Err(Error::Config { message }) = driver("postgres://h/db?sslmode=require") else { panic!() };
        assert!(message.contains("TLS"), "{message}");
    }

    #[test]
    fn descriptor() {
        assert_eq!(backend().name, "postgres");
        assert_eq!(backend().schemes, &["postgres", "postgresql"]);
        // Opening does not connect: an unreachable host is fine until the first connection.
        let d = (backend().open)(&ConnectOptions::parse("postgres://unreachable.invalid:1/x").unwrap()).unwrap();
        assert_eq!(d.dialect().name(), "postgres");
    }
}
