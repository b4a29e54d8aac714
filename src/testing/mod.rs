//! Testing an application on every database it supports: [`fresh_database`] for custom harnesses
//! and the runtime of [`#[athanor::test]`](crate::test) (docs/testing.md).
//!
//! **Which databases run.** A backend is *configured* when `ATHANOR_TEST_<BACKEND>_URL` is set
//! and not empty (`ATHANOR_TEST_POSTGRES_URL`, `ATHANOR_TEST_MYSQL_URL`); SQLite always is (a
//! temporary file when its variable is unset). For each test and backend:
//!
//! | the backend is | outside CI | `CI=true` |
//! |---|---|---|
//! | not compiled in (cargo feature off) | skipped, one `SKIPPED` line | skipped, one line |
//! | not configured (variable unset) | skipped, one line | skipped, one line |
//! | configured but unreachable | skipped, one line | **the test fails** |
//! | configured and reachable | runs on a fresh database | runs on a fresh database |
//!
//! So a CI job sets only the variables of the databases it provides, and each job's run says
//! which backends it skipped. The `SKIPPED` line goes to the process's stderr, past libtest's
//! capture, once per backend and test binary.
//!
//! **Fresh databases.** Each test gets its own database: a new file in the temporary directory
//! for SQLite, a new database `ath_<token>_<label>` on a server (made from the configured URL,
//! which must name an existing database), dropped when the test ends, passing or panicking.
//! `ATHANOR_TEST_KEEP=1` keeps them all; what a killed process left is dropped by the next test
//! process ([`scratch`]).

pub mod scratch;

use crate::{create_engine, Base, Engine, Error, Result};
use scratch::Scratch;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable that holds a backend's test URL: `ATHANOR_TEST_POSTGRES_URL`.
pub fn url_var(backend: &str) -> String {
    format!("ATHANOR_TEST_{}_URL", backend.to_ascii_uppercase())
}

/// The configured test URL of `backend`, or `None` when its variable is unset or empty.
pub fn configured_url(backend: &str) -> Option<String> {
    std::env::var(url_var(backend)).ok().filter(|v| !v.trim().is_empty())
}

/// `true` under `CI=true` (or `CI=1`), where a configured backend that cannot be reached fails
/// its tests instead of skipping them.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `true` when `backend` (`sqlite`, `postgres`, `mysql`) is compiled into this build.
pub fn compiled_in(backend: &str) -> bool {
    crate::backend::BACKENDS.iter().any(|b| b.name == backend)
}

/// Print `SKIPPED backend <backend>: <why>` once per backend and process, past libtest's capture.
pub fn say_skipped(backend: &str, why: &str) {
    static SAID: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let mut said = SAID.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|p| p.into_inner());
    if !said.iter().any(|b| b == backend) {
        said.push(backend.to_string());
        let _ = writeln!(std::io::stderr(), "SKIPPED backend {backend}: {why}");
    }
}

/// The URL a test on `backend` runs from, or `None` after the skip line (see the module's
/// table): SQLite's configured URL or `sqlite::memory:` (made a temporary file by
/// [`fresh_database`]); a server's configured URL.
pub fn target_url(backend: &str) -> Option<String> {
    if !compiled_in(backend) {
        say_skipped(backend, &format!("not compiled in (cargo feature `{backend}` of athanor)"));
        return None;
    }
    match configured_url(backend) {
        Some(url) => Some(url),
        None if backend == "sqlite" => Some("sqlite::memory:".to_string()),
        None => {
            say_skipped(backend, &format!("{} is not set", url_var(backend)));
            None
        }
    }
}

/// Report a configured backend that cannot be used: one skip line, or a panic under `CI=true`.
///
/// # Panics
/// Under `CI=true`, always: a configured database must be there.
pub fn unreachable(backend: &str, url: &str, why: &str) {
    let shown = crate::backend::ConnectOptions::parse(url).map(|o| o.redacted()).unwrap_or_default();
    assert!(!in_ci(), "backend {backend} at {shown} is configured but unreachable under CI=true: {why}");
    say_skipped(backend, &format!("{shown} is unreachable: {why}"));
}

/// A database of a test's own: its URL, and the guard that drops it (see [`scratch::Scratch`]).
pub struct FreshDatabase {
    url: String,
    guard: Scratch,
}

impl std::fmt::Debug for FreshDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshDatabase").field("location", &self.guard.describe()).finish()
    }
}

impl FreshDatabase {
    /// The new database's URL (with the configured URL's options).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// An engine on the new database.
    ///
    /// # Errors
    /// Those of [`create_engine`].
    pub fn engine(&self) -> Result<Engine> {
        create_engine(&self.url)
    }

    /// Where it lives: `database <name>` or the SQLite file's path.
    pub fn location(&self) -> String {
        self.guard.describe()
    }

    /// The URL and the guard, for a harness that keeps them apart.
    pub fn into_parts(self) -> (String, Scratch) {
        (self.url, self.guard)
    }

    /// Keep the database when this is dropped (a `KEPT` line names it).
    pub fn retain(&mut self) {
        self.guard.retain();
    }
}

/// A new, empty database next to the one `url` names, dropped when the returned value is: on
/// PostgreSQL and MySQL/MariaDB a new database `ath_<token>_<n>` on the same server (the URL must
/// name an existing database; the user must be allowed to create databases), for SQLite a new
/// file in the temporary directory (or beside the file `url` names).
///
/// ```no_run
/// let db = athanor::testing::fresh_database("postgres://postgres@127.0.0.1/test")?;
/// let engine = db.engine()?;
/// engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", &[])?;
/// # Ok::<(), athanor::Error>(())
/// ```
///
/// # Errors
/// [`Error::Config`] for a bad URL or a backend not compiled in; [`Error::Connection`] when the
/// server cannot be reached; what the server reports when it refuses to create the database.
pub fn fresh_database(url: &str) -> Result<FreshDatabase> {
    static N: AtomicU64 = AtomicU64::new(0);
    fresh_database_labelled(url, &format!("db{}", N.fetch_add(1, Ordering::Relaxed)))
}

/// A fresh database on each configured backend, in turn (SQLite, PostgreSQL, MySQL), for a
/// harness that runs one body on all of them: a backend not configured is skipped with its one
/// line, and one configured but unreachable too, or, under `CI=true`, panics (the rule of the
/// module's table). Each database is dropped when the loop moves on from it.
///
/// ```no_run
/// for (backend, db) in athanor::testing::configured_databases() {
///     let engine = db.engine()?;
///     // … the same test on `backend` …
/// }
/// # Ok::<(), athanor::Error>(())
/// ```
///
/// # Panics
/// Under `CI=true`, when a configured backend cannot be reached.
pub fn configured_databases() -> impl Iterator<Item = (&'static str, FreshDatabase)> {
    ["sqlite", "postgres", "mysql"].into_iter().filter_map(|backend| {
        let url = target_url(backend)?;
        match fresh_database(&url) {
            Ok(db) => Some((backend, db)),
            Err(e) => {
                unreachable(backend, &url, &e.to_string());
                None
            }
        }
    })
}

/// [`fresh_database`] with a label in the name (`ath_<token>_<label>`), such as the test's.
///
/// # Errors
/// As [`fresh_database`].
pub fn fresh_database_labelled(url: &str, label: &str) -> Result<FreshDatabase> {
    let options = crate::backend::ConnectOptions::parse(url)?;
    if scratch::Server::of(url).is_some() {
        let (guard, url) = Scratch::fresh_database(url, label).map_err(|e| Error::Connection {
            message: format!("no fresh database on {}: {e}", options.redacted()),
            disconnect: false,
            source: None,
        })?;
        return Ok(FreshDatabase { url, guard });
    }
    // A file database: a new file, in the directory of the one named, else the temporary one.
    let driver = crate::open_driver(&options)?;
    let name = scratch::name_for(std::process::id(), &format!("{label}_{}", unique()));
    let path = match driver.database_file() {
        Some(file) => file.with_file_name(format!("{name}.db")),
        None => std::env::temp_dir().join(format!("{name}.db")),
    };
    let guard = Scratch::file(path.clone());
    let query = url.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    let query = query.replace("mode=memory", "mode=rwc");
    Ok(FreshDatabase { url: format!("sqlite://{}{query}", file_url_path(&path)), guard })
}

fn file_url_path(path: &std::path::Path) -> String {
    let p = path.display().to_string();
    p.replace('%', "%25").replace('?', "%3F").replace('#', "%23").replace(' ', "%20")
}

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{}_{nanos:x}", N.fetch_add(1, Ordering::Relaxed))
}

/// What a test's database is made with before the test runs.
#[derive(Clone, Copy, Default)]
pub enum Setup {
    /// Nothing: the test gets an empty database.
    #[default]
    Empty,
    /// The tables of a [`Base`] (`base = app::base` names a `fn() -> Base`), by `create_all`.
    Base(fn() -> Base),
    /// The migrations in this directory (relative to the test crate's manifest when relative),
    /// applied up to the last (cargo feature `migrate`).
    Migrations(&'static str),
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setup::Empty => f.write_str("Empty"),
            Setup::Base(_) => f.write_str("Base"),
            Setup::Migrations(dir) => write!(f, "Migrations({dir})"),
        }
    }
}

/// How `#[athanor::test]` runs one test on one backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestOptions {
    /// What the database is made with.
    pub setup: Setup,
    /// Keep the database of a failed test (a `KEPT` line names it).
    pub keep_on_failure: bool,
    /// The directory relative migration paths are read from (the test crate's
    /// `CARGO_MANIFEST_DIR`).
    pub manifest_dir: &'static str,
}

/// Prepare the database `options.setup` asks for.
fn set_up(engine: &Engine, options: &TestOptions) -> Result<()> {
    match options.setup {
        Setup::Empty => Ok(()),
        Setup::Base(base) => base().metadata().create_all(engine),
        Setup::Migrations(dir) => apply_migrations(engine, options.manifest_dir, dir),
    }
}

#[cfg(feature = "migrate")]
fn apply_migrations(engine: &Engine, manifest_dir: &str, dir: &str) -> Result<()> {
    let path = std::path::Path::new(dir);
    let path: std::path::PathBuf =
        if path.is_absolute() { path.into() } else { std::path::Path::new(manifest_dir).join(path) };
    let chain = crate::migrate::load_dir(&path)?;
    crate::migrate::upgrade(&mut engine.connect()?, &chain, None).map(drop)
}

#[cfg(not(feature = "migrate"))]
fn apply_migrations(_engine: &Engine, _manifest_dir: &str, dir: &str) -> Result<()> {
    Err(Error::Config { message: format!("migrations = {dir:?} needs athanor's cargo feature `migrate`") })
}

/// The body of each test `#[athanor::test]` generates: run `body` on `backend` with a fresh
/// database made as `options` say, or skip it (see the module's table).
///
/// # Panics
/// When `body` returns an error or panics (the test fails), and as [`unreachable`] says.
pub fn run(backend: &str, test: &str, options: TestOptions, body: impl FnOnce(Engine) -> Result<()>) {
    let Some(url) = target_url(backend) else { return };
    // The whole path: two tests of one name in different modules get different databases
    // (a long name ends in a hash of the whole, see `scratch::name_for`).
    let label = test.replace("::", "_");
    let mut db = match fresh_database_labelled(&url, &label) {
        Ok(db) => db,
        Err(e @ (Error::Connection { .. } | Error::PoolTimeout { .. } | Error::Timeout { .. })) => {
            return unreachable(backend, &url, &e.to_string());
        }
        Err(e) => panic!("{test} on {backend}: no fresh database: {e}"),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<()> {
        let engine = db.engine()?;
        set_up(&engine, &options)?;
        body(engine)
    }));
    let failed = !matches!(outcome, Ok(Ok(())));
    if failed && options.keep_on_failure {
        db.retain();
    }
    let location = db.location();
    drop(db);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{test} on {backend} ({location}) failed: {e}"),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Assert how many statements a block sends, and give back the block's value:
/// `assert_statements!(counter, n, { … })`, where `counter` is a [`Session`](crate::Session)
/// (its own statements) or an [`Engine`] (every session's on it). It counts what
/// `statements_since` counts: SELECT, INSERT, UPDATE, DELETE and other statements with
/// parameters, not BEGIN, COMMIT, ROLLBACK or savepoints. A `?` inside the block returns from
/// the enclosing function as usual.
///
/// ```
/// # fn main() -> athanor::Result<()> {
/// use athanor::prelude::*;
/// let engine = create_engine("sqlite::memory:")?;
/// let session = sessionmaker(&engine).session();
/// let one: i64 = athanor::assert_statements!(session, 1, {
///     session.query_sql("SELECT 1", &[])?[0].get(0)?
/// });
/// assert_eq!(one, 1);
/// # Ok(())
/// # }
/// ```
///
/// # Panics
/// When the block sent another number of statements, with both numbers.
#[macro_export]
macro_rules! assert_statements {
    ($counter:expr, $expected:expr, $body:block) => {{
        let counter = &$counter;
        let mark = counter.statement_mark();
        let out = $body;
        let ran = counter.statements_since(mark);
        assert_eq!(
            ran, $expected,
            "statements sent by the block (SELECT/INSERT/UPDATE/DELETE; transaction control not counted)"
        );
        out
    }};
}
