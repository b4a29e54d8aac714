//! One SQLite connection: opening and configuring it, and the [`RawConnection`] implementation.
//!
//! Statements are prepared once per connection and kept in rusqlite's LRU cache, keyed by SQL
//! text ([`STATEMENT_CACHE_CAPACITY`] entries). Parameters are bound straight from the borrowed
//! [`ValueRef`]s; rows are handed to the caller borrowed from SQLite's buffers.

use crate::error::{connect_error, map_error};
use crate::value::{to_sqlite_param, DeclTypes, SqliteRow};
use athanor_core::{Capabilities, Error, RawConnection, Result, Row, ValueRef};
use rusqlite::{CachedStatement, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The journal mode of a file database whose URL names none: readers never block the writer
/// and the writer never blocks readers.
pub(crate) const DEFAULT_FILE_JOURNAL_MODE: &str = "wal";

/// How many prepared statements each connection keeps.
pub(crate) const STATEMENT_CACHE_CAPACITY: usize = 256;

/// Which database a driver opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A database file.
    File(PathBuf),
    /// A private in-memory database shared by the driver's connections: a `memdb` VFS URI
    /// (`file:/athanor-mem-N?vfs=memdb`), alive as long as one connection to it is open.
    Memory(String),
}

impl Target {
    /// How the database is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Memory(_) => ":memory:".to_string(),
        }
    }
}

/// What every new connection is set up with (from the URL options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// `PRAGMA busy_timeout`: how long a statement waits for another connection's lock.
    pub(crate) busy_timeout: Duration,
    /// `PRAGMA journal_mode`, validated (`delete`, `truncate`, `persist`, `memory`, `wal`, `off`);
    /// `None` for the default ([`DEFAULT_FILE_JOURNAL_MODE`] for a file, SQLite's for memory).
    pub(crate) journal_mode: Option<&'static str>,
    /// `PRAGMA synchronous`, validated (`off`, `normal`, `full`, `extra`).
    pub(crate) synchronous: Option<&'static str>,
    /// `PRAGMA foreign_keys`.
    pub(crate) foreign_keys: bool,
    /// `statement_timeout`: the longest a statement may run before it is interrupted.
    pub(crate) statement_timeout: Option<Duration>,
    /// `mode=ro` (or `immutable=1`): open the file read-only (`SQLITE_OPEN_READONLY`).
    pub(crate) read_only: bool,
    /// `immutable=1`: the file cannot change while open, so SQLite takes no locks and makes no
    /// `-wal`/`-shm` files (the `immutable` URI parameter); implies read-only.
    pub(crate) immutable: bool,
    /// `mode=rw`: open an existing file read-write, never create one.
    pub(crate) no_create: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            busy_timeout: Duration::from_millis(5000),
            journal_mode: None,
            synchronous: None,
            foreign_keys: true,
            statement_timeout: None,
            read_only: false,
            immutable: false,
            no_create: false,
        }
    }
}

/// Open and configure a rusqlite connection. Failures are [`Error::Connection`] naming the database.
pub(crate) fn open(target: &Target, settings: &Settings) -> Result<rusqlite::Connection> {
    let fail = |e| connect_error(&target.describe(), e);
    let conn = match target {
        Target::File(path) if settings.immutable => rusqlite::Connection::open_with_flags(
            immutable_uri(path),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Target::File(path) if settings.read_only => rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Target::File(path) if settings.no_create => rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Target::File(path) => rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Target::Memory(uri) => rusqlite::Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
    }
    .map_err(fail)?;
    conn.busy_timeout(settings.busy_timeout).map_err(fail)?;
    let fk = if settings.foreign_keys { "ON" } else { "OFF" };
    conn.execute_batch(&format!("PRAGMA foreign_keys = {fk}")).map_err(fail)?;
    // LIKE compares case-sensitively, as on PostgreSQL and on MySQL's utf8mb4_bin tables.
    conn.execute_batch("PRAGMA case_sensitive_like = ON").map_err(fail)?;
    // Decimal columns hold their digits as text, declared with this collation so that they
    // compare and sort as numbers, as on PostgreSQL and MySQL.
    conn.create_collation(athanor_dialects::DECIMAL_COLLATION, athanor_core::decimal::compare_text).map_err(fail)?;
    // And exact arithmetic and aggregates over them (SQLite's own read the text as floats).
    crate::decimal::register(&conn).map_err(fail)?;
    // A file database is put in WAL mode unless the URL asks for another one; an in-memory
    // database keeps SQLite's (`memory`: the memdb VFS has no WAL).
    // A read-only connection never switches the journal mode (that writes the file's header):
    // it reads the file in the mode the file is in.
    let journal_mode = match (settings.journal_mode, target) {
        _ if settings.read_only => None,
        (Some(mode), _) => Some((mode, true)),
        (None, Target::File(_)) => Some((DEFAULT_FILE_JOURNAL_MODE, false)),
        (None, Target::Memory(_)) => None,
    };
    if let Some((mode, asked)) = journal_mode {
        // Answers with the mode in force, which differs when the database cannot use the one
        // asked for (an in-memory database is always `memory`).
        match conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get::<_, String>(0)) {
            Ok(got) if !got.eq_ignore_ascii_case(mode) => {
                let how = if asked { "was asked for" } else { "is the default for" };
                tracing::warn!(
                    target: "athanor::sqlite",
                    "journal_mode={mode} {how} {} but SQLite uses {got}",
                    target.describe()
                );
            }
            Ok(_) => {}
            // Switching a file to WAL needs a moment without other connections' locks: when the
            // default cannot be applied, carry on in the file's mode rather than refuse to connect.
            Err(e) if !asked => tracing::warn!(
                target: "athanor::sqlite",
                "cannot switch {} to the default journal_mode={mode} ({e}); using the file's journal mode",
                target.describe()
            ),
            Err(e) => return Err(fail(e)),
        }
    }
    if let Some(sync) = settings.synchronous {
        conn.execute_batch(&format!("PRAGMA synchronous = {sync}")).map_err(fail)?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}

/// `file:<path>?immutable=1`, the path percent-encoded where a URI needs it.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    // A path starting `//` would read as an authority (`file://host/…`): give it an empty one.
    if uri.starts_with("file://") {
        uri.insert_str(5, "//");
    }
    uri.push_str("?immutable=1");
    uri
}

/// How often (in SQLite virtual-machine instructions) the statement deadline is checked.
const DEADLINE_CHECK_OPS: i32 = 1000;

/// A connection's statement deadline, checked by SQLite's progress handler: the statement in
/// progress is interrupted (`SQLITE_INTERRUPT`, [`Error::Timeout`]) once it has run for
/// `statement_timeout`.
struct Deadline {
    timeout: Duration,
    /// When the connection was set up: the deadline is kept as nanoseconds since then.
    base: Instant,
    /// Nanoseconds since `base` at which the running statement is interrupted; 0 between statements.
    at: Arc<AtomicU64>,
}

impl Deadline {
    fn install(conn: &rusqlite::Connection, timeout: Duration) -> Result<Deadline> {
        let base = Instant::now();
        let at = Arc::new(AtomicU64::new(0));
        let seen = at.clone();
        conn.progress_handler(
            DEADLINE_CHECK_OPS,
            Some(move || {
                let at = seen.load(Ordering::Relaxed);
                at != 0 && nanos_since(base) >= at
            }),
        )
        .map_err(map_error)?;
        Ok(Deadline { timeout, base, at })
    }

    fn arm(&self) {
        let at = nanos_since(self.base).saturating_add(u64::try_from(self.timeout.as_nanos()).unwrap_or(u64::MAX));
        self.at.store(at.max(1), Ordering::Relaxed);
    }

    fn disarm(&self) {
        self.at.store(0, Ordering::Relaxed);
    }

    /// Move the deadline `by` later: the time the caller spent with a row is not the statement's.
    fn postpone(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let at = self.at.load(Ordering::Relaxed);
        if at != 0 {
            self.at.store(at.saturating_add(by), Ordering::Relaxed);
        }
    }
}

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A pooled SQLite connection.
pub(crate) struct SqliteConnection {
    conn: rusqlite::Connection,
    /// The busy timeout the connection was set up with, to tell a `SQLITE_BUSY` after waiting
    /// (a lock-wait timeout) from one returned at once.
    busy_timeout: Duration,
    /// The statement deadline, when the URL set `statement_timeout`.
    deadline: Option<Deadline>,
}

impl SqliteConnection {
    /// Wrap an opened connection, installing the statement deadline `settings` ask for.
    pub(crate) fn new(conn: rusqlite::Connection, settings: &Settings) -> Result<Self> {
        let deadline = match settings.statement_timeout {
            Some(t) => Some(Deadline::install(&conn, t)?),
            None => None,
        };
        Ok(SqliteConnection { conn, busy_timeout: settings.busy_timeout, deadline })
    }

    /// Run one call into SQLite under the statement deadline, and classify its error knowing
    /// how long it took: a `SQLITE_BUSY` that came back before the busy timeout had passed was
    /// not a wait that gave up but SQLite refusing to wait (a transaction that has read cannot
    /// wait for the write lock: waiting could deadlock), which is a
    /// [`Error::SerializationFailure`] as before, not an [`Error::Timeout`].
    fn timed<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let start = Instant::now();
        if let Some(d) = &self.deadline {
            d.arm();
        }
        let r = f(self);
        if let Some(d) = &self.deadline {
            d.disarm();
        }
        r.map_err(|e| match e {
            Error::Timeout { kind: athanor_core::TimeoutKind::LockWait, message, source }
                if !waited_for_lock(start.elapsed(), self.busy_timeout) =>
            {
                Error::SerializationFailure { message, deadlock: false, source }
            }
            other => other,
        })
    }

    /// The cached prepared statement for `sql`, with `params` bound.
    fn prepare(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<CachedStatement<'_>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_error)?;
        let expected = stmt.parameter_count();
        if expected != params.len() {
            return Err(Error::invalid_request(format!(
                "the statement has {expected} parameter placeholders but {} parameters were given",
                params.len()
            )));
        }
        for (i, p) in params.iter().enumerate() {
            let v = to_sqlite_param(*p)?;
            stmt.raw_bind_parameter(i + 1, v).map_err(map_error)?;
        }
        Ok(stmt)
    }
}

impl RawConnection for SqliteConnection {
    /// Reports the SQLite library's version (`sqlite_version()`, the bundled library) as the
    /// server version. Foreign-key enforcement was already set from the URL by
    /// [`Driver::capabilities`](athanor_core::Driver::capabilities).
    fn adjust_capabilities(&self, caps: &mut Capabilities) {
        caps.server_version = Some(rusqlite::version().to_string());
    }

    /// Runs the statement to completion (rows it returns, as with `RETURNING`, are discarded).
    /// The count is SQLite's `changes()` for INSERT, UPDATE and DELETE, and 0 for statements that
    /// change no rows (DDL, SELECT).
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64> {
        self.timed(|c| {
            let before = c.conn.total_changes();
            {
                let mut stmt = c.prepare(sql, params)?;
                let mut rows = stmt.raw_query();
                while rows.next().map_err(map_error)?.is_some() {}
            }
            Ok(if c.conn.total_changes() == before { 0 } else { c.conn.changes() })
        })
    }

    /// One prepared statement (one look-up in the statement cache), bound and stepped once per
    /// row; each row's count as [`RawConnection::execute`] reports it.
    fn execute_each(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        row_len: usize,
        done: &mut dyn FnMut(usize, u64) -> Result<()>,
    ) -> Result<()> {
        if row_len == 0 || params.len() % row_len != 0 {
            return Err(Error::invalid_request(format!("{} parameters are not rows of {row_len}", params.len())));
        }
        self.timed(|c| {
            let mut stmt = c.conn.prepare_cached(sql).map_err(map_error)?;
            if stmt.parameter_count() != row_len {
                return Err(Error::invalid_request(format!(
                    "the statement has {} parameter placeholders but rows of {row_len} parameters were given",
                    stmt.parameter_count()
                )));
            }
            for (i, row) in params.chunks(row_len).enumerate() {
                for (j, p) in row.iter().enumerate() {
                    stmt.raw_bind_parameter(j + 1, to_sqlite_param(*p)?).map_err(map_error)?;
                }
                let before = c.conn.total_changes();
                {
                    let mut rows = stmt.raw_query();
                    while rows.next().map_err(map_error)?.is_some() {}
                }
                let n = if c.conn.total_changes() == before { 0 } else { c.conn.changes() };
                done(i, n)?;
            }
            Ok(())
        })
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.timed(|c| {
            let mut stmt = c.prepare(sql, params)?;
            let len = stmt.column_count();
            let decl_types = DeclTypes::new();
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().map_err(map_error)? {
                match &c.deadline {
                    // A streamed query (`yield_per`) may wait for its reader here.
                    Some(d) => {
                        let handed = Instant::now();
                        let r = on_row(&SqliteRow { row, len, decl_types: &decl_types });
                        d.postpone(handed.elapsed());
                        r?;
                    }
                    None => on_row(&SqliteRow { row, len, decl_types: &decl_types })?,
                }
            }
            Ok(())
        })
    }

    fn batch_execute(&mut self, sql: &str) -> Result<()> {
        self.timed(|c| c.conn.execute_batch(sql).map_err(map_error))
    }

    /// `last_insert_rowid()`: the rowid of the last row inserted on this connection (0 before any).
    fn last_insert_id(&mut self) -> Result<Option<i64>> {
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn ping(&mut self) -> Result<()> {
        self.query("SELECT 1", &[], &mut |_| Ok(()))
    }

    /// A SQLite connection has no server to lose.
    fn is_broken(&self) -> bool {
        false
    }
}

/// Whether a statement that failed with `SQLITE_BUSY` after `elapsed` had waited for the lock
/// (SQLite's busy handler sleeps until the whole busy timeout has passed before it gives up); a
/// tenth of the timeout is left for timer granularity. With no busy timeout nothing waits.
fn waited_for_lock(elapsed: Duration, busy_timeout: Duration) -> bool {
    !busy_timeout.is_zero() && elapsed + busy_timeout / 10 >= busy_timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_after_the_busy_timeout_is_a_wait_that_gave_up() {
        let t = Duration::from_millis(300);
        assert!(waited_for_lock(Duration::from_millis(301), t));
        assert!(waited_for_lock(Duration::from_millis(290), t));
        assert!(!waited_for_lock(Duration::from_millis(2), t));
        assert!(!waited_for_lock(Duration::from_millis(5), Duration::ZERO));
    }

    #[test]
    fn immutable_uris_escape_what_a_uri_reads() {
        assert_eq!(immutable_uri(Path::new("/tmp/a b.db")), "file:/tmp/a b.db?immutable=1");
        assert_eq!(immutable_uri(Path::new("/tmp/x?y#z%.db")), "file:/tmp/x%3Fy%23z%25.db?immutable=1");
        assert_eq!(immutable_uri(Path::new("rel.db")), "file:rel.db?immutable=1");
        assert_eq!(immutable_uri(Path::new("//srv/x.db")), "file:////srv/x.db?immutable=1");
    }
}
