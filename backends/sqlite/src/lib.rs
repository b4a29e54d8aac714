//! The SQLite backend of Athanor, over rusqlite with a bundled SQLite (3.35 or later, so
//! `INSERT … RETURNING` recovers generated keys).
//!
//! Users do not call this crate: the `athanor` facade installs [`backend()`] and `create_engine`
//! picks it for `sqlite:` URLs.
//!
//! # URLs (SQLAlchemy's spellings)
//!
//! | URL | database |
//! |---|---|
//! | `sqlite://relative/path.db` | the file `relative/path.db`, relative to the working directory |
//! | `sqlite:///abs/path.db` | the file `/abs/path.db` |
//! | `sqlite://`, `sqlite:///:memory:`, `sqlite::memory:` | a new in-memory database |
//!
//! The path is percent-decoded (`%3F` for a `?` in a file name). A missing file is created; a
//! file in a missing directory fails on first use with [`Error::Connection`] naming the path.
//!
//! **In-memory databases** are shared by all connections of one engine (its pool) and private to
//! that engine: two engines never see each other's tables. The database lives as long as the
//! engine (the driver keeps one connection open to it). Each connection opens it through SQLite's
//! `memdb` VFS, whose locks are database-wide like a file's but coarser: while one connection has
//! an uncommitted write, the others wait to *read* too (up to `busy_timeout`), where a file
//! database lets them read the last committed state.
//!
//! **File databases are put in WAL mode** (`PRAGMA journal_mode = wal`, which the file keeps):
//! readers never block the writer and the writer never blocks readers, so a session that has
//! only read (its transaction still open) does not hold up another connection's commit. WAL
//! needs the database's directory writable (for the `-wal` and `-shm` files) and every
//! connection on the same machine (not a network file system); `?journal_mode=delete` gives
//! SQLite's rollback journal instead, where an open read transaction makes a writer's commit
//! wait. When the file cannot be switched to WAL at connect (another process holds it locked
//! past `busy_timeout`), the connection goes on in the file's mode with a warning; an explicit
//! `journal_mode` that fails is an [`Error::Connection`].
//!
//! # Options
//!
//! | option | meaning | default |
//! |---|---|---|
//! | `busy_timeout` | milliseconds a statement waits for another connection's lock before `SQLITE_BUSY` ([`Error::Timeout`] of kind `LockWait`); the engine option `lock_timeout` sets the same (both with different values: [`Error::Config`]) | 5000 |
//! | `mode` | `ro`: open the file read-only (`SQLITE_OPEN_READONLY`): reads work, writes fail with [`Error::ReadOnly`], the journal mode is not switched at connect; `rw`: read-write, never create the file; `rwc`: read-write, create it (the default) | `rwc` |
//! | `immutable` | `1`: open read-only with SQLite's `immutable` URI parameter: no locks, no `-wal`/`-shm` files, so a WAL database can be read in a directory the process cannot write (where `mode=ro` fails at the first read); the file must not change while it is open | off |
//! | `journal_mode` | `delete`, `truncate`, `persist`, `memory`, `wal`, `off` | `wal` for a file; `memory` in memory |
//! | `synchronous` | `off`, `normal`, `full`, `extra` | SQLite's (`full`: a commit survives a power loss, in WAL mode too) |
//! | `foreign_keys` | enforce foreign keys (`PRAGMA foreign_keys`) | on |
//!
//! The engine's own options (`pool_size`, `pool_timeout`, `pool_pre_ping`, `echo`,
//! `isolation_level`, `write_intent`) are read by core. `lock_timeout` is the busy timeout;
//! `statement_timeout` (milliseconds) installs a progress handler that interrupts a statement
//! once it has run that long ([`Error::Timeout`] of kind `Statement`, from `SQLITE_INTERRUPT`;
//! SQLite rolls back the whole transaction when the interrupted statement was a write). Any other
//! option is an [`Error::Config`] naming it. `mode=ro` and `immutable=1` need a file; with either,
//! a `journal_mode` is an [`Error::Config`].
//!
//! # What SQLite does differently
//!
//! One writer at a time for the whole database: a transaction that cannot get the write lock
//! within `busy_timeout` fails with [`Error::Timeout`] (`LockWait`), and at once, when waiting
//! could deadlock, with [`Error::SerializationFailure`] (the connection tells the two
//! `SQLITE_BUSY`s apart by whether the busy timeout had passed); retry the whole transaction
//! (`retry_on_serialization_failure` retries both). Transactions are always serializable.
//!
//! A transaction begins deferred (`BEGIN`): its first read takes a snapshot, its first write the
//! write lock. One that has read and then writes cannot wait for the lock (waiting could
//! deadlock, and in WAL mode its snapshot may be stale): it fails at once while another
//! transaction writes, or has committed since its snapshot. A transaction that is going to
//! write declares it with `TxOptions::write_intent` (or `SessionMaker::write_intent`, or the
//! engine URL option `write_intent=true` for every transaction): it begins `BEGIN IMMEDIATE`,
//! waiting up to `busy_timeout` for the write lock there, and then never fails for want of it.
//! Such transactions run one at a time. Athanor does not restart a deferred transaction as an
//! immediate one at its first flush: what the session read would come from an older snapshot
//! than what it writes. NaN parameters are refused with [`Error::Unsupported`] (SQLite would store NULL).
//! Integers read back as `i64`, floats as `f64`, booleans as 0/1.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod connection;
mod decimal;
mod error;
mod value;

pub use value::native_type;

use athanor_core::{Backend, Capabilities, ConnectOptions, Dialect, Driver, Error, RawConnection, Result};
use athanor_dialects::SqliteDialect;
use connection::{Settings, SqliteConnection, Target};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The SQLite backend descriptor: name `"sqlite"`, scheme `sqlite`.
///
/// Every backend crate offers the same `backend()`; the `athanor` facade registers it by URL
/// scheme.
pub const fn backend() -> Backend {
    Backend { name: "sqlite", schemes: &["sqlite"], drivers: &["pysqlite"], open }
}

fn open(options: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Ok(Arc::new(SqliteDriver::from_options(options)?))
}

const JOURNAL_MODES: &[&str] = &["delete", "truncate", "persist", "memory", "wal", "off"];
const SYNCHRONOUS: &[&str] = &["off", "normal", "full", "extra"];

/// Opens connections to one SQLite database (a file, or an in-memory database private to it).
///
/// Building one never touches the disk; the first [`Driver::connect`] does.
pub struct SqliteDriver {
    target: Target,
    settings: Settings,
    dialect: Arc<dyn Dialect>,
    /// For an in-memory database: one connection held for the driver's lifetime, so the
    /// database survives the pool closing its idle connections.
    keep_alive: Mutex<Option<rusqlite::Connection>>,
}

impl std::fmt::Debug for SqliteDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDriver").field("target", &self.target).field("settings", &self.settings).finish()
    }
}

impl SqliteDriver {
    /// A driver for a parsed `sqlite:` URL (see the crate docs for the URL forms and options).
    ///
    /// # Errors
    /// [`Error::Config`] for a URL that names no database in a form SQLite understands, an
    /// unknown option, or an option value out of range.
    pub fn from_options(options: &ConnectOptions) -> Result<Self> {
        let target = target(options)?;
        let settings = settings(options)?;
        if settings.read_only && matches!(target, Target::Memory(_)) {
            return Err(Error::Config {
                message: "mode=ro and immutable=1 need a database file; an in-memory database is new and empty".into(),
            });
        }
        Ok(SqliteDriver { target, settings, dialect: Arc::new(SqliteDialect), keep_alive: Mutex::new(None) })
    }

    /// `true` for an in-memory database.
    pub fn is_memory(&self) -> bool {
        matches!(self.target, Target::Memory(_))
    }
}

impl Driver for SqliteDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.dialect.clone()
    }

    /// The dialect's sheet with `foreign_keys` as the URL set it (`?foreign_keys=off`: `false`).
    fn capabilities(&self) -> Capabilities {
        Capabilities { foreign_keys: self.settings.foreign_keys, ..self.dialect.capabilities().clone() }
    }

    fn database_file(&self) -> Option<std::path::PathBuf> {
        match &self.target {
            Target::File(path) => Some(path.clone()),
            Target::Memory(_) => None,
        }
    }

    fn connect(&self) -> Result<Box<dyn RawConnection>> {
        if self.is_memory() {
            let mut keep = self.keep_alive.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if keep.is_none() {
                *keep = Some(connection::open(&self.target, &self.settings)?);
            }
        }
        let conn = connection::open(&self.target, &self.settings)?;
        Ok(Box::new(SqliteConnection::new(conn, &self.settings).map_err(|e| Error::connection(e.to_string(), false))?))
    }
}

/// A name for a new in-memory database, unique in this process.
fn memory_uri() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("file:/athanor-mem-{}-{n}?vfs=memdb", std::process::id())
}

/// Where the database is, from what follows `sqlite:`.
fn target(o: &ConnectOptions) -> Result<Target> {
    let raw = o.raw_path.as_str();
    let path = match raw.strip_prefix("//") {
        // `sqlite://rel.db` → `rel.db`; `sqlite:///abs.db` → `/abs.db`; `sqlite://` → memory.
        Some(rest) => rest,
        None if raw == ":memory:" => "",
        None => {
            return Err(Error::Config {
                message: format!(
                    "cannot tell which SQLite database {:?} names: write sqlite://relative.db, \
                     sqlite:///absolute/path.db or sqlite::memory:",
                    o.redacted()
                ),
            })
        }
    };
    if path.is_empty() || path == ":memory:" || path == "/:memory:" {
        return Ok(Target::Memory(memory_uri()));
    }
    let decoded = athanor_core::percent_decode(path, "SQLite path")?;
    // SQLite reads a name starting with `file:` as a URI; keep a relative file name a file name.
    let decoded = if decoded.starts_with("file:") { format!("./{decoded}") } else { decoded };
    Ok(Target::File(PathBuf::from(decoded)))
}

fn settings(o: &ConnectOptions) -> Result<Settings> {
    let mut s = Settings::default();
    let invalid = |key: &str, value: &str, expected: &str| Error::Config {
        message: format!("invalid value {value:?} for the sqlite URL option {key} (expected {expected})"),
    };
    let one_of = |key: &str, value: &str, allowed: &'static [&'static str]| -> Result<&'static str> {
        let lower = value.to_ascii_lowercase();
        allowed.iter().copied().find(|a| *a == lower).ok_or_else(|| invalid(key, value, &allowed.join(", ")))
    };
    let mut busy_timeout_given = false;
    for (key, value) in o.backend_options() {
        match key {
            "busy_timeout" => {
                let ms: u64 = value.parse().map_err(|_| invalid(key, value, "milliseconds"))?;
                s.busy_timeout = Duration::from_millis(ms);
                busy_timeout_given = true;
            }
            "mode" => match value.to_ascii_lowercase().as_str() {
                "ro" => s.read_only = true,
                "rw" => s.no_create = true,
                "rwc" => {}
                _ => return Err(invalid(key, value, "ro, rw or rwc")),
            },
            "immutable" => {
                s.immutable = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" | "" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => return Err(invalid(key, value, "true or false")),
                }
            }
            "journal_mode" => s.journal_mode = Some(one_of(key, value, JOURNAL_MODES)?),
            "synchronous" => s.synchronous = Some(one_of(key, value, SYNCHRONOUS)?),
            "foreign_keys" => {
                s.foreign_keys = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" | "" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => return Err(invalid(key, value, "true or false")),
                }
            }
            other => {
                return Err(Error::Config {
                    message: format!(
                        "unknown sqlite URL option {other:?} (the sqlite backend knows busy_timeout, journal_mode, \
                         synchronous, foreign_keys, mode, immutable; the engine knows {})",
                        athanor_core::ENGINE_OPTIONS.join(", ")
                    ),
                })
            }
        }
    }
    s.read_only |= s.immutable;
    if s.read_only && s.no_create {
        return Err(invalid("mode", "rw", "ro with immutable=1"));
    }
    if let (true, Some(mode)) = (s.read_only, s.journal_mode) {
        return Err(Error::Config {
            message: format!(
                "journal_mode={mode} cannot be set on a read-only database (mode=ro or immutable=1): it is read in \
                 the journal mode its file has"
            ),
        });
    }
    let timeouts = athanor_core::Timeouts::from_options(o)?;
    // `lock_timeout` is SQLite's busy timeout under the engine's portable name.
    if let Some(lock) = timeouts.lock {
        if busy_timeout_given && lock != s.busy_timeout {
            return Err(Error::Config {
                message: format!(
                    "the sqlite URL options lock_timeout ({} ms) and busy_timeout ({} ms) disagree: they are the \
                     same setting, give one",
                    lock.as_millis(),
                    s.busy_timeout.as_millis()
                ),
            });
        }
        s.busy_timeout = lock;
    }
    s.statement_timeout = timeouts.statement;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_of(url: &str) -> Target {
        target(&ConnectOptions::parse(url).unwrap()).unwrap()
    }

    #[test]
    fn url_forms() {
        assert_eq!(target_of("sqlite://relative.db"), Target::File("relative.db".into()));
        assert_eq!(target_of("sqlite://relative/path.db"), Target::File("relative/path.db".into()));
        assert_eq!(target_of("sqlite:///abs/path.db"), Target::File("/abs/path.db".into()));
        assert_eq!(target_of("sqlite:///tmp/my%20db.db?busy_timeout=1"), Target::File("/tmp/my db.db".into()));
        assert_eq!(target_of("sqlite://file:/x.db"), Target::File("./file:/x.db".into()));
        for mem in ["sqlite://", "sqlite:///:memory:", "sqlite::memory:"] {
            assert!(matches!(target_of(mem), Target::Memory(_)), "{mem}");
        }
        let (a, b) = (target_of("sqlite://"), target_of("sqlite://"));
        assert_ne!(a, b, "each in-memory URL names a new database");
        for bad in ["sqlite:relative.db", "sqlite:", "sqlite:/abs.db", "sqlite:///tmp/100%.db"] {
            let r = ConnectOptions::parse(bad).and_then(|o| target(&o));
            assert!(matches!(r, Err(Error::Config { .. })), "{bad}: {r:?}");
        }
    }

    #[test]
    fn options() {
        let s = settings(
            &ConnectOptions::parse("sqlite://x.db?journal_mode=WAL&busy_timeout=250&synchronous=normal&pool_size=3")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(s.journal_mode, Some("wal"));
        assert_eq!(s.synchronous, Some("normal"));
        assert_eq!(s.busy_timeout, Duration::from_millis(250));
        assert!(s.foreign_keys);
        let off = settings(&ConnectOptions::parse("sqlite://?foreign_keys=off").unwrap()).unwrap();
        assert!(!off.foreign_keys);
        for bad in [
            "journal_mode=wal;drop",
            "busy_timeout=-1",
            "synchronous=2x",
            "foreign_keys=maybe",
            "mode=memory",
            "immutable=2",
            "mode=rw&immutable=1",
            "mode=ro&journal_mode=wal",
            "lock_timeout=300&busy_timeout=200",
            "statement_timeout=soon",
            "lock_timeout=-1",
        ] {
            let o = ConnectOptions::parse(&format!("sqlite://x.db?{bad}")).unwrap();
            assert!(matches!(settings(&o), Err(Error::Config { .. })), "{bad}");
        }
    }

    #[test]
    fn timeout_and_read_only_options() {
        let s = |q: &str| settings(&ConnectOptions::parse(&format!("sqlite://x.db?{q}")).unwrap()).unwrap();
        let t = s("lock_timeout=300&statement_timeout=1500");
        assert_eq!(t.busy_timeout, Duration::from_millis(300));
        assert_eq!(t.statement_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(s("lock_timeout=300&busy_timeout=300").busy_timeout, Duration::from_millis(300));
        assert_eq!(s("statement_timeout=0").statement_timeout, None);
        assert_eq!(s("").busy_timeout, Duration::from_millis(5000));
        let ro = s("mode=ro");
        assert!(ro.read_only && !ro.immutable);
        let imm = s("immutable=1");
        assert!(imm.read_only && imm.immutable);
        assert!(s("mode=rw").no_create);
        let mem = SqliteDriver::from_options(&ConnectOptions::parse("sqlite::memory:?mode=ro").unwrap());
        assert!(matches!(mem, Err(Error::Config { .. })), "{mem:?}");
    }
}
