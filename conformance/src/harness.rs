//! Running one scenario against one backend: the backend's URL from the environment, a fresh
//! schema (PostgreSQL), database (MySQL) or file (SQLite) per test so tests run in parallel,
//! and the skip rule: outside CI an unreachable server is skipped with one line, under
//! `CI=true` it is a failure.
//!
//! A scenario that needs something not every database has declares it in the generated list,
//! `name requires(savepoints)` (see [`req`]); the harness then skips it where the engine's
//! [`Capabilities`] lack it, printing `SKIPPED scenario <name> on <backend>: requires <what>`,
//! and each suite's `requirements_summary` test prints how many of its scenarios ran and how
//! many were skipped on the backend.

use athanor::{create_engine, Capabilities, Engine, Session};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The database a scenario runs against.
pub struct TestDb {
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: &'static str,
    /// The test's own URL (its own schema, database or file).
    pub url: String,
    /// An engine on that URL, with a statement log.
    pub engine: Engine,
    log: Arc<Mutex<Vec<String>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new session on the test's engine.
    pub fn session(&self) -> Session {
        athanor::sessionmaker(&self.engine).session()
    }

    /// The engine's capabilities (what the scenario may expect): the dialect's sheet as the
    /// backend adjusted it for the URL and, once the engine has connected, at connect.
    pub fn caps(&self) -> &Capabilities {
        self.engine.capabilities()
    }

    /// Another engine (its own pool) on the same database.
    pub fn another_engine(&self) -> Engine {
        create_engine(&self.url).unwrap_or_else(|e| panic!("second engine for {}: {e}", self.url))
    }

    /// Create every model's table.
    pub fn create_all(&self) -> athanor::Result<()> {
        crate::models::base().metadata().create_all(&self.engine)
    }

    /// The statements sent since the last call, normalized: identifier quotes removed and
    /// `$n` placeholders written as `?`, so one expectation reads the same on every backend.
    pub fn take_sql(&self) -> Vec<String> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *log)
    }

    /// Forget the statements logged so far.
    pub fn clear_sql(&self) {
        self.take_sql();
    }
}

/// Normalize SQL text for backend-neutral assertions.
pub fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' => {}
            '$' if chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    chars.next();
                }
                out.push('?');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The configured URL of a backend: `ATHANOR_TEST_<NAME>_URL`, else the local default.
pub fn configured_url(backend: &str) -> String {
    let var = format!("ATHANOR_TEST_{}_URL", backend.to_ascii_uppercase());
    std::env::var(&var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| match backend {
        "postgres" => "postgres://postgres@127.0.0.1:5432/test".to_string(),
        "mysql" => "mysql://root@127.0.0.1:3306/test".to_string(),
        _ => String::new(),
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn with_option(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

fn replace_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// A schema/database name for a test: lower case, at most 60 bytes.
fn isolated_name(backend: &str, test: &str) -> String {
    // The process id keeps two concurrent runs against one server out of each other's way.
    let mut name = format!("ath{}_{backend}_{test}", std::process::id() % 100_000).to_ascii_lowercase();
    name.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.len() > 60 {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
        name.truncate(48);
        name.push_str(&format!("_{:x}", h & 0xffff_ffff));
    }
    name
}

fn reachability() -> &'static Mutex<HashMap<String, Result<(), String>>> {
    static R: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// An admin engine on the configured URL, or why the server cannot be used (checked once).
fn admin(url: &str) -> Result<Engine, String> {
    let mut cache = reachability().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(Err(e)) = cache.get(url) {
        return Err(e.clone());
    }
    let r = create_engine(&with_option(url, "pool_timeout", "10"))
        .and_then(|e| e.connect().map(|_| e))
        .map_err(|e| e.to_string());
    cache.insert(url.to_string(), r.as_ref().map(|_| ()).map_err(Clone::clone));
    r
}

/// Prepare an isolated database for `test` on `backend`, or `None` when the backend is skipped.
pub fn open(backend: &'static str, test: &str) -> Option<TestDb> {
    let configured = configured_url(backend);
    let name = isolated_name(backend, test);
    let (url, dir) = match backend {
        "sqlite" => {
            if configured.is_empty() {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let path = dir.path().join(format!("{name}.db"));
                (format!("sqlite://{}", path.display()), Some(dir))
            } else {
                (configured.replace(".db", &format!("-{name}.db")), None)
            }
        }
        "postgres" => {
            let admin = match admin(&configured) {
                Ok(a) => a,
                Err(e) => return skip(backend, &configured, &e),
            };
            let setup = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE; CREATE SCHEMA \"{name}\"");
            for stmt in setup.split("; ") {
                admin.execute(stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
            (with_option(&configured, "search_path", &name), None)
        }
        "mysql" => {
            let admin = match admin(&configured) {
                Ok(a) => a,
                Err(e) => return skip(backend, &configured, &e),
            };
            for stmt in [format!("DROP DATABASE IF EXISTS `{name}`"), format!("CREATE DATABASE `{name}`")] {
                admin.execute(&stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
            (replace_database(&configured, &name), None)
        }
        other => panic!("unknown backend {other}"),
    };
    let engine = create_engine(&url).unwrap_or_else(|e| panic!("create_engine({url}): {e}"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    engine.on_statement(move |ev| {
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(normalize(ev.sql));
    });
    Some(TestDb { backend, url, engine, log, _dir: dir })
}

fn skip(backend: &str, url: &str, why: &str) -> Option<TestDb> {
    if in_ci() {
        panic!("backend {backend} at {url} is configured but unreachable under CI=true: {why}");
    }
    // Straight to the process's stderr: the test harness captures eprintln! of passing tests,
    // and a skip must be seen.
    // One line per backend per test binary.
    static SAID: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let mut said = SAID.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|p| p.into_inner());
    if !said.iter().any(|b| b == backend) {
        said.push(backend.to_string());
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED backend {backend} at {url}: {why}");
    }
    None
}

/// Run one scenario on one backend (the body of every generated test), unless the engine's
/// capabilities miss one of `reqs` (then [`requires`] prints the skip).
pub fn run(backend: &'static str, test: &str, reqs: &[Requirement], scenario: fn(&TestDb) -> athanor::Result<()>) {
    let Some(db) = open(backend, test) else { return };
    if !requires(&db, test, reqs) {
        return;
    }
    if let Err(e) = scenario(&db) {
        panic!("{backend}::{test} failed: {e}");
    }
}

/// Something a scenario needs from the database, read from its [`Capabilities`] only: a
/// scenario gated by it runs where it holds and is skipped (one printed line) where it does
/// not. Named in `conformance_tests!`/`acid_tests!` lists as `requires(<name>)`, from [`req`].
#[derive(Clone, Copy)]
pub struct Requirement {
    /// The name written in `requires(…)` and printed in the skip line.
    pub name: &'static str,
    holds: fn(&Capabilities) -> bool,
}

impl Requirement {
    /// `true` when `caps` meet the requirement.
    pub fn holds(&self, caps: &Capabilities) -> bool {
        (self.holds)(caps)
    }
}

impl std::fmt::Debug for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The requirements a scenario may declare, named as written in `requires(…)`.
#[allow(non_upper_case_globals)]
pub mod req {
    use super::Requirement;

    /// `SAVEPOINT` and nested transactions ([`athanor::Capabilities::savepoints`]).
    pub const savepoints: Requirement = Requirement { name: "savepoints", holds: |c| c.savepoints };
    /// Enforced foreign keys ([`athanor::Capabilities::foreign_keys`]).
    pub const foreign_keys: Requirement = Requirement { name: "foreign_keys", holds: |c| c.foreign_keys };
    /// Row-level write locks ([`athanor::Capabilities::row_level_locking`]).
    pub const row_locks: Requirement = Requirement { name: "row_locks", holds: |c| c.row_level_locking };
    /// A database-wide write lock: the opposite of [`row_locks`].
    pub const database_lock: Requirement = Requirement { name: "database_lock", holds: |c| !c.row_level_locking };
    /// `SELECT … FOR UPDATE` ([`athanor::Capabilities::select_for_update`]).
    pub const for_update: Requirement = Requirement { name: "for_update", holds: |c| c.select_for_update };
    /// `READ ONLY` transactions ([`athanor::Capabilities::read_only_transactions`]).
    pub const read_only: Requirement = Requirement { name: "read_only", holds: |c| c.read_only_transactions };
    /// DDL that rolls back ([`athanor::Capabilities::transactional_ddl`]).
    pub const transactional_ddl: Requirement =
        Requirement { name: "transactional_ddl", holds: |c| c.transactional_ddl };
    /// Enforced CHECK constraints ([`athanor::Capabilities::check_constraints`]).
    pub const check_constraints: Requirement =
        Requirement { name: "check_constraints", holds: |c| c.check_constraints };
}

/// The requirements in `reqs` that `caps` do not meet.
pub fn unmet(caps: &Capabilities, reqs: &[Requirement]) -> Vec<&'static str> {
    reqs.iter().filter(|r| !r.holds(caps)).map(|r| r.name).collect()
}

/// `true` when the database meets every requirement; otherwise prints
/// `SKIPPED scenario <test> on <backend>: requires <names>` (past libtest's capture) and
/// returns `false`.
pub fn requires(db: &TestDb, test: &str, reqs: &[Requirement]) -> bool {
    let missing = unmet(db.caps(), reqs);
    if missing.is_empty() {
        return true;
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED scenario {test} on {}: requires {}", db.backend, missing.join(", "));
    false
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn requirements_read_the_engines_adjusted_capabilities() {
        let on = create_engine("sqlite://").unwrap_or_else(|e| panic!("{e}"));
        let off = create_engine("sqlite://?foreign_keys=off").unwrap_or_else(|e| panic!("{e}"));
        let gate = [req::foreign_keys, req::savepoints];
        assert!(unmet(on.capabilities(), &gate).is_empty());
        assert_eq!(unmet(off.capabilities(), &gate), ["foreign_keys"]);
        assert_eq!(unmet(on.capabilities(), &[req::row_locks, req::database_lock]), ["row_locks"]);
    }
}

/// Print `SKIPPED scenario <test> on <backend>: <why>` for a scenario that found nothing to do
/// for a reason other than a capability (a fault-injection hook the backend lacks). Not counted
/// by [`summary`], which counts `requires(…)` gates only.
pub fn skipped(db: &TestDb, test: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED scenario {test} on {}: {why}", db.backend);
}

/// Print one suite's count on one backend: how many of its `scenarios` (name, requirements)
/// run on the engine's capabilities and how many its gates skip. The body of the generated
/// `requirements_summary` tests; the skipped ones are the same the `SKIPPED scenario` lines
/// name, since both read the same capabilities.
pub fn summary(backend: &'static str, suite: &str, scenarios: &[&[(&str, &[Requirement])]]) {
    let Some(db) = open(backend, &format!("{suite}_requirements_summary")) else { return };
    let all: Vec<&(&str, &[Requirement])> = scenarios.iter().flat_map(|g| g.iter()).collect();
    let skipped: Vec<String> = all
        .iter()
        .filter_map(|(name, reqs)| {
            let missing = unmet(db.caps(), reqs);
            (!missing.is_empty()).then(|| format!("{name} (requires {})", missing.join(", ")))
        })
        .collect();
    // A reporter first; it fails only when gating went wrong and nothing would run at all.
    assert!(skipped.len() < all.len(), "every {suite} scenario is skipped on {backend}: {skipped:?}");
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SUMMARY {suite} on {backend}: {} scenarios, {} ran, {} skipped by requires{}{}",
        all.len(),
        all.len() - skipped.len(),
        skipped.len(),
        if skipped.is_empty() { "" } else { ": " },
        skipped.join(", ")
    );
}
