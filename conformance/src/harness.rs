//! Running one scenario against one backend: the backend's URL from the environment, a fresh
//! schema (PostgreSQL), database (MySQL) or file (SQLite) per test so tests run in parallel,
//! dropped when the [`TestDb`] is, after a pass, an error or a panic ([`crate::scratch`]), and
//! the skip rule of `athanor::testing`: a server whose `ATHANOR_TEST_<NAME>_URL` is unset is
//! skipped with one line; a configured one that is unreachable too, except under `CI=true`,
//! where it is a failure.
//!
//! A scenario that needs something not every database has declares it in the generated list,
//! `name requires(savepoints)` (see [`req`]); the harness then skips it where the engine's
//! [`Capabilities`] lack it, printing `SKIPPED scenario <name> on <backend>: requires <what>`,
//! and each suite's `requirements_summary` test prints how many of its scenarios ran and how
//! many were skipped on the backend.

use crate::scratch::{self, Scratch, Server};
use athanor::backend::Capabilities;
use athanor::{create_engine, Engine, Session};
use std::collections::HashMap;
use std::io::Write as _;
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
    /// The schema, database or file, dropped after `engine` (fields drop in order): at the
    /// test's end, passing or panicking. See [`crate::scratch`].
    scratch: Scratch,
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

    /// Where the test's data lives: `schema <name>`, `database <name>`, or a path.
    pub fn location(&self) -> String {
        self.scratch.describe()
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

/// The configured URL of a backend: `ATHANOR_TEST_<NAME>_URL`, or empty when it is unset
/// (then [`open`] skips a server backend and gives SQLite a temporary file; the rule is
/// `athanor::testing`'s).
pub fn configured_url(backend: &str) -> String {
    athanor::testing::configured_url(backend).unwrap_or_default()
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

/// A schema/database name for a test, `ath_<token>_<backend>_<test>` (see [`crate::scratch`]):
/// lower case, at most 60 bytes. On a server the token is the one this process holds a lock for
/// there; an SQLite file is named by the process id.
fn isolated_name(backend: &str, configured: &str, test: &str) -> String {
    let label = format!("{backend}_{test}");
    match backend {
        "sqlite" => scratch::name_for(std::process::id(), &label),
        _ => scratch::name(configured, &label)
            .unwrap_or_else(|e| panic!("no test-owner lock on {backend} at {configured}: {e}")),
    }
}

fn reachability() -> &'static Mutex<HashMap<String, Result<Engine, String>>> {
    static R: OnceLock<Mutex<HashMap<String, Result<Engine, String>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The admin engine on the configured URL (one per process), or why the server cannot be used
/// (checked once).
fn admin(url: &str) -> Result<Engine, String> {
    let mut cache = reachability().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = cache.get(url) {
        return known.clone();
    }
    let r = create_engine(&with_option(url, "pool_timeout", "10"))
        .and_then(|e| e.connect().map(|_| e))
        .map_err(|e| e.to_string());
    cache.insert(url.to_string(), r.clone());
    r
}

/// The suite name of the PostgreSQL scenarios run through a transaction pooler
/// (`tests/pgbouncer.rs`, `ATHANOR_TEST_PGBOUNCER_URL`; docs/scaling.md).
pub const PGBOUNCER: &str = "pgbouncer";

/// The scenarios that cannot hold through a transaction pooler, with the reason: the
/// `pgbouncer` suite skips them with one `SKIPPED scenario … on pgbouncer: …` line each, and its
/// `requirements_summary` counts them (docs/scaling.md lists them).
pub const NOT_THROUGH_A_TRANSACTION_POOLER: &[(&str, &str)] = &[(
    "idle_pooled_connection_dies",
    "kills the server connection a pooled connection used; through a transaction pooler the client's connection \
     stays alive and the next transaction may get another server connection, so no disconnect is seen where the \
     scenario expects one",
)];

/// The suite name of the MySQL scenarios run on a 3-node Galera cluster through a `hosts=` URL
/// (`tests/galera.rs`, `ATHANOR_TEST_GALERA_URL`; docs/scaling.md).
pub const GALERA: &str = "galera";

/// The scenarios that cannot hold on a multi-primary Galera cluster whose sessions are spread
/// over the nodes, with the reason: the `galera` suite skips them like
/// [`NOT_THROUGH_A_TRANSACTION_POOLER`] (docs/scaling.md lists them).
pub const NOT_ON_A_GALERA_CLUSTER: &[(&str, &str)] = &[
    ("flush_batches_inserts", GALERA_KEYS),
    ("blog_graph_is_built_in_one_flush", GALERA_KEYS),
    ("cycle_between_tables_is_flushed_with_a_later_update", GALERA_KEYS),
    ("idle_pooled_connection_dies", GALERA_KILL),
    ("server_kills_connection_mid_session", GALERA_KILL),
    ("for_update_nowait_and_skip_locked", GALERA_LOCKS),
    ("oversell_expression_update_with_guard", GALERA_CERT),
    ("oversell_for_update", GALERA_CERT),
    ("decimal_sums_and_averages_are_exact_everywhere", GALERA_KEY_VALUES),
    ("option_keys_compare_with_plain_foreign_keys", GALERA_KEY_VALUES),
    ("date_parts_are_the_same_integers_everywhere", GALERA_KEY_VALUES),
    ("open_read_session_does_not_block_a_writer", GALERA_LATENCY),
    ("slow_statements_warn_while_running_and_after", GALERA_LATENCY),
    ("isolation_level_per_engine_maker_and_transaction", GALERA_APPLY),
];

const GALERA_KEYS: &str = "counts INSERT statements: with auto_increment_increment=3 (wsrep_auto_increment_control) the keys of a multi-row INSERT are not consecutive, so rows needing a generated key go one per statement (KeyRecovery::LastInsertIdPerRow)";
const GALERA_KILL: &str =
    "KILLs a connection by its id, which exists on its own node only; the killing connection may be on another node";
const GALERA_LOCKS: &str = "row locks are per node: a lock taken on one node neither blocks nor hides the row on another (Galera certifies at COMMIT instead)";
const GALERA_KEY_VALUES: &str = "writes foreign keys 1 and 2 for the first rows it inserted: with auto_increment_increment=3 and a per-node offset the generated keys are 1, 4, … or 2, 5, … or 3, 6, …";
const GALERA_APPLY: &str = "a READ COMMITTED transaction on one node expects to see another connection's commit at once; on another node it may not be applied yet, and wsrep_sync_wait did not always make that read wait (failed once in three runs)";
const GALERA_LATENCY: &str = "asserts a latency bound (a quick statement under 20 ms, a write waiting under 100 ms) that the cluster's replication at COMMIT and wsrep_sync_wait's causality check before each statement passed under load";
const GALERA_CERT: &str = "concurrent writers on different nodes conflict at certification (error 1213 at COMMIT), which this scenario does not retry (the retried forms pass)";

/// Prepare an isolated database for `test` on `backend`, or `None` when the backend is skipped.
pub fn open(backend: &'static str, test: &str) -> Option<TestDb> {
    if backend == PGBOUNCER {
        return open_through_pooler(test);
    }
    if backend == GALERA {
        return open_on_cluster(test);
    }
    let configured = athanor::testing::target_url(backend)?;
    let (url, scratch) = match backend {
        "sqlite" => {
            let name = format!("{backend}_{test}");
            let fresh = athanor::testing::fresh_database_labelled(&configured, &name)
                .unwrap_or_else(|e| panic!("a fresh SQLite file for {test}: {e}"));
            fresh.into_parts()
        }
        "postgres" => {
            let admin = match admin(&configured) {
                Ok(a) => a,
                Err(e) => return skip(backend, &configured, &e),
            };
            let name = isolated_name(backend, &configured, test);
            // The guard first: a failure below still drops what was made.
            let scratch = Scratch::schema(admin.clone(), name.clone());
            let setup = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE; CREATE SCHEMA \"{name}\"");
            for stmt in setup.split("; ") {
                admin.execute(stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
            (with_option(&configured, "search_path", &name), scratch)
        }
        "mysql" => {
            let admin = match admin(&configured) {
                Ok(a) => a,
                Err(e) => return skip(backend, &configured, &e),
            };
            let name = isolated_name(backend, &configured, test);
            let scratch = Scratch::database(admin.clone(), Server::MySql, name.clone());
            for stmt in [format!("DROP DATABASE IF EXISTS `{name}`"), format!("CREATE DATABASE `{name}`")] {
                admin.execute(&stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
            (replace_database(&configured, &name), scratch)
        }
        other => panic!("unknown backend {other}"),
    };
    Some(test_db(backend, url, scratch))
}

/// A [`TestDb`] on `url`, with its statement log.
fn test_db(backend: &'static str, url: String, scratch: Scratch) -> TestDb {
    let engine = create_engine(&url).unwrap_or_else(|e| panic!("create_engine({url}): {e}"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    engine.on_statement(move |ev| {
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(normalize(ev.sql));
    });
    TestDb { backend, url, engine, log, scratch }
}

/// The MySQL scenarios on the Galera cluster `ATHANOR_TEST_GALERA_URL` names (with `hosts=`, so
/// each new connection goes to the next node): a database per test, made and dropped through
/// the same URL (DDL is replicated to every node). The scenarios see the backend as `mysql`.
fn open_on_cluster(test: &str) -> Option<TestDb> {
    use athanor::testing::{configured_url, say_skipped, url_var};
    if !athanor::testing::compiled_in("mysql") {
        say_skipped(GALERA, "not compiled in (cargo feature `mysql` of athanor)");
        return None;
    }
    let Some(url) = configured_url(GALERA) else {
        say_skipped(GALERA, &format!("{} is not set", url_var(GALERA)));
        return None;
    };
    let admin = match admin(&url) {
        Ok(a) => a,
        Err(e) => return skip(GALERA, &url, &e),
    };
    let name = isolated_name(GALERA, &url, test);
    let scratch = Scratch::database(admin.clone(), Server::MySql, name.clone());
    for stmt in [format!("DROP DATABASE IF EXISTS `{name}`"), format!("CREATE DATABASE `{name}`")] {
        admin.execute(&stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    Some(test_db("mysql", replace_database(&url, &name), scratch))
}

/// The PostgreSQL scenarios through the pooler `ATHANOR_TEST_PGBOUNCER_URL` names: each test
/// gets a database of its own, made and dropped (`WITH (FORCE)`, which also ends the pooler's
/// server connections to it) on the server behind it, `ATHANOR_TEST_POSTGRES_URL`. A schema
/// and `search_path` would not do: PgBouncer refuses the startup `options` that carry it, and a
/// `SET search_path` sticks to one server connection, not to the client. The scenarios see the
/// backend as `postgres` (the database they talk to).
fn open_through_pooler(test: &str) -> Option<TestDb> {
    use athanor::testing::{configured_url, say_skipped, url_var};
    if !athanor::testing::compiled_in("postgres") {
        say_skipped(PGBOUNCER, "not compiled in (cargo feature `postgres` of athanor)");
        return None;
    }
    let Some(pooled) = configured_url(PGBOUNCER) else {
        say_skipped(PGBOUNCER, &format!("{} is not set", url_var(PGBOUNCER)));
        return None;
    };
    let Some(direct) = configured_url("postgres") else {
        say_skipped(
            PGBOUNCER,
            &format!(
                "{} (the server behind the pooler, where test databases are made) is not set",
                url_var("postgres")
            ),
        );
        return None;
    };
    let admin = match admin(&direct) {
        Ok(a) => a,
        Err(e) => return skip("postgres", &direct, &e),
    };
    if let Err(e) = self::admin(&pooled) {
        return skip(PGBOUNCER, &pooled, &e);
    }
    let name = isolated_name(PGBOUNCER, &direct, test);
    let scratch = Scratch::database(admin.clone(), Server::Postgres, name.clone());
    for stmt in [format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"), format!("CREATE DATABASE \"{name}\"")] {
        admin.execute(&stmt, &[]).unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    Some(test_db("postgres", replace_database(&pooled, &name), scratch))
}

fn skip(backend: &str, url: &str, why: &str) -> Option<TestDb> {
    athanor::testing::unreachable(backend, url, why);
    None
}

/// Run one scenario on one backend (the body of every generated test), unless the engine's
/// capabilities miss one of `reqs` (then [`requires`] prints the skip).
pub fn run(backend: &'static str, test: &str, reqs: &[Requirement], scenario: fn(&TestDb) -> athanor::Result<()>) {
    let Some(db) = open(backend, test) else { return };
    if !requires(&db, test, reqs) {
        return;
    }
    if let Some(why) = not_through_the_pooler(backend, test) {
        skipped(&db, test, why);
        return;
    }
    if let Err(e) = scenario(&db) {
        panic!("{backend}::{test} failed: {e}");
    }
}

/// Why `test` is skipped on `backend`: the reason [`NOT_THROUGH_A_TRANSACTION_POOLER`] gives
/// on the `pgbouncer` suite, or [`NOT_ON_A_GALERA_CLUSTER`] on the `galera` one (matched on the
/// scenario's name, with or without its group).
pub fn not_through_the_pooler(backend: &str, test: &str) -> Option<&'static str> {
    let list = match backend {
        PGBOUNCER => NOT_THROUGH_A_TRANSACTION_POOLER,
        GALERA => NOT_ON_A_GALERA_CLUSTER,
        _ => return None,
    };
    list.iter()
        .find(|(name, _)| test == *name || test.ends_with(&format!("_{name}")) || test.ends_with(&format!("::{name}")))
        .map(|(_, why)| *why)
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
            if let Some(why) = not_through_the_pooler(backend, name) {
                return Some(format!("{name} ({why})"));
            }
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

/// `true` while what [`TestDb::location`] named exists (a schema or database on the configured
/// server, or a path).
fn still_there(backend: &str, location: &str) -> bool {
    let (backend, sql) = match backend {
        // Its test databases are made on the server behind the pooler.
        PGBOUNCER => ("postgres", "SELECT count(*) FROM pg_database WHERE datname = $1"),
        GALERA => (backend, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?"),
        "postgres" => (backend, "SELECT count(*) FROM pg_namespace WHERE nspname = $1"),
        "mysql" => (backend, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?"),
        _ => return std::path::Path::new(location).exists(),
    };
    let name = location.rsplit(' ').next().unwrap_or(location);
    let admin = admin(&configured_url(backend)).unwrap_or_else(|e| panic!("{backend}: {e}"));
    admin
        .connect()
        .and_then(|mut c| c.query_scalar::<i64>(sql, &[athanor::Value::Text(name.to_string())]))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        > 0
}

/// Where the last [`panicking_scenario`]/[`failing_scenario`] ran.
static LAST_LOCATION: Mutex<Option<String>> = Mutex::new(None);

fn panicking_scenario(db: &TestDb) -> athanor::Result<()> {
    db.create_all()?;
    *LAST_LOCATION.lock().unwrap_or_else(|p| p.into_inner()) = Some(db.location());
    panic!("harness_cleanup: this scenario panics on purpose");
}

fn failing_scenario(db: &TestDb) -> athanor::Result<()> {
    db.create_all()?;
    *LAST_LOCATION.lock().unwrap_or_else(|p| p.into_inner()) = Some(db.location());
    Err(athanor::Error::invalid_request("harness_cleanup: this scenario fails on purpose"))
}

/// The body of the generated `harness_cleanup::test_database_is_dropped_after_the_test_and_after_a_panic`
/// tests: a test's schema, database or file exists while it runs and is gone once its
/// [`TestDb`] is dropped, after a scenario that passed, returned an error or panicked.
pub fn check_dropped(backend: &'static str) {
    if scratch::keep() {
        let _ = writeln!(std::io::stderr(), "SKIPPED harness_cleanup on {backend}: {} is set", scratch::KEEP_VAR);
        return;
    }
    let Some(db) = open(backend, "harness_dropped_after_the_test") else { return };
    db.create_all().unwrap_or_else(|e| panic!("create_all: {e}"));
    let at = db.location();
    assert!(still_there(backend, &at), "{at} exists during the test");
    drop(db);
    assert!(!still_there(backend, &at), "{at} is gone after the test");

    for (how, scenario) in [
        ("panicked", panicking_scenario as fn(&TestDb) -> athanor::Result<()>),
        ("returned an error", failing_scenario),
    ] {
        *LAST_LOCATION.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let outcome = std::panic::catch_unwind(|| run(backend, "harness_dropped_after_a_failure", &[], scenario));
        assert!(outcome.is_err(), "the scenario that {how} fails its test");
        let at = LAST_LOCATION.lock().unwrap_or_else(|p| p.into_inner()).take();
        let at = at.unwrap_or_else(|| panic!("the scenario that {how} ran"));
        assert!(!still_there(backend, &at), "{at} is gone after a scenario that {how}");
    }
}

/// The body of the generated `harness_cleanup::leftovers_of_finished_processes_are_swept_and_live_ones_kept`
/// tests: of two made-up test processes' leftovers on the server, the one whose owner lock
/// nobody holds (a finished process) is dropped by [`scratch::sweep`], the one whose lock is
/// held (a live process) is kept until its lock is released. Nothing to do on SQLite.
pub fn check_sweep(backend: &'static str) {
    if backend == PGBOUNCER {
        // The owner locks and the sweep are session state: they run on the server behind the
        // pooler, as in the postgres suite, which checks them.
        let _ = writeln!(std::io::stderr(), "harness_cleanup sweep on {backend}: the postgres suite's (same server)");
        return;
    }
    if backend == GALERA {
        // GET_LOCK is per node on Galera: a holder and a sweeper on two nodes do not see each
        // other's locks, which this check needs. The sweep itself is the mysql suite's code.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED harness_cleanup sweep on {backend}: GET_LOCK locks are per node on Galera"
        );
        return;
    }
    let configured = configured_url(backend);
    let Some(server) = Server::of(&configured) else { return };
    if scratch::keep() {
        let _ = writeln!(std::io::stderr(), "SKIPPED harness_cleanup on {backend}: {} is set", scratch::KEEP_VAR);
        return;
    }
    let admin = match admin(&configured) {
        Ok(a) => a,
        Err(e) => {
            skip(backend, &configured, &e);
            return;
        }
    };
    let mine = scratch::owner(&configured).unwrap_or_else(|e| panic!("{e}"));
    // Above any process id and the tokens scratch picks, below 2^31; one pair per process.
    let dead = 2_000_000_000 + (std::process::id() % 70_000_000) * 2;
    let live = dead + 1;
    let ok = |what: &str, r: athanor::Result<()>| r.unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut holder = admin.connect().unwrap_or_else(|e| panic!("{e}"));
    assert!(scratch::try_lock(&mut holder, server, live).unwrap_or_else(|e| panic!("{e}")), "lock {live} is free");

    let made = |token: u32, label: &str| -> Scratch {
        let name = scratch::name_for(token, &format!("{backend}_{label}"));
        let (sql, guard) = match server {
            Server::Postgres => (format!("CREATE SCHEMA \"{name}\""), Scratch::schema(admin.clone(), name.clone())),
            Server::MySql => {
                (format!("CREATE DATABASE `{name}`"), Scratch::database(admin.clone(), server, name.clone()))
            }
        };
        ok(&sql, admin.execute(&sql, &[]).map(drop));
        guard
    };
    // The guards drop both whatever happens below.
    let gone = made(dead, "sweep_dead_owner");
    let kept = made(live, "sweep_live_owner");
    let gone_db = (server == Server::Postgres).then(|| {
        let name = scratch::name_for(dead, "postgres_sweep_dead_owner_db");
        let sql = format!("CREATE DATABASE \"{name}\"");
        ok(&sql, admin.execute(&sql, &[]).map(drop));
        Scratch::database(admin.clone(), server, name)
    });
    let exists = |s: &Scratch| still_there(backend, &s.describe());
    let db_exists = |s: &Scratch| {
        let name = s.name().unwrap_or_default().to_string();
        admin
            .connect()
            .and_then(|mut c| {
                c.query_scalar::<i64>(
                    "SELECT count(*) FROM pg_database WHERE datname = $1",
                    &[athanor::Value::Text(name)],
                )
            })
            .unwrap_or_else(|e| panic!("{e}"))
            > 0
    };
    assert!(exists(&gone) && exists(&kept));
    assert!(gone_db.as_ref().is_none_or(db_exists));

    let mut sweeper = admin.connect().unwrap_or_else(|e| panic!("{e}"));
    scratch::sweep(&mut sweeper, server, Some(mine));
    assert!(!exists(&gone), "{} of a finished process is dropped", gone.describe());
    assert!(gone_db.as_ref().is_none_or(|d| !db_exists(d)), "a finished process's database is dropped");
    assert!(exists(&kept), "{} of a live process is kept", kept.describe());

    ok("unlock", scratch::unlock(&mut holder, server, live));
    scratch::sweep(&mut sweeper, server, Some(mine));
    assert!(!exists(&kept), "{} is dropped once its process is gone", kept.describe());
}
