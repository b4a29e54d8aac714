//! Athanor called from inside a tokio runtime, on every backend (issue 20, item 1).
//!
//! Athanor's API is blocking; a service built on tokio calls it from its runtime's threads
//! (`#[tokio::main]`, `#[tokio::test]`, an axum handler). No call may panic because of that:
//! PostgreSQL's client library blocks on a runtime of its own, which tokio refuses inside another
//! ("Cannot start a runtime from within a runtime"), and closing one of its connections does the
//! same, so dropping the last `Engine` on a runtime thread used to abort a test binary.
//!
//! Each test runs the same round trip under one runtime flavour on one backend: `create_all`, a
//! session (add, commit, query, edit, commit), a streamed read (`yield_per`, whose worker thread
//! gives the connection back to the runtime thread), a statement from a spawned task, a
//! liveness-checked checkout (`pool_pre_ping`), and finally the engine dropped on the runtime
//! thread (its pooled connections closed there). The URL and skip rules are the conformance
//! harness' (`ATHANOR_TEST_POSTGRES_URL`, `ATHANOR_TEST_MYSQL_URL`, `CI=true`); the schema or
//! database a test made is dropped at its end, passed or failed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use athanor::prelude::*;
use athanor_conformance::harness::{self, TestDb};
use athanor_conformance::models::{base, Customer};

/// Drops the test's schema (PostgreSQL) or database (MySQL) when the test ends, passed or
/// failed, from a thread of its own so that it never depends on the runtime being usable.
struct Cleanup {
    backend: &'static str,
    /// The schema or database to drop.
    name: Option<String>,
}

impl Cleanup {
    fn of(db: &TestDb) -> Cleanup {
        let name = match db.backend {
            // `…?search_path=<schema>`
            "postgres" => db.url.split("search_path=").nth(1).map(|s| s.split('&').next().unwrap_or(s).to_string()),
            // `mysql://…/<database>[?…]`
            "mysql" => db.url.split('?').next().and_then(|u| u.rsplit('/').next()).map(str::to_string),
            _ => None,
        };
        Cleanup { backend: db.backend, name }
    }
}

/// How many connections the server has open for the test's engine (`None` for SQLite); with
/// `until_none`, waiting up to 10 s for closed ones to leave the server's list. PostgreSQL's are
/// found by the engine's `application_name` (the schema's name), MySQL's by their database.
fn open_connections(backend: &'static str, name: &str, until_none: bool) -> Option<i64> {
    let sql = match backend {
        "postgres" => "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        "mysql" => "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?",
        _ => return None,
    };
    let admin = create_engine(&harness::configured_url(backend)).unwrap();
    let mut conn = admin.connect().unwrap();
    let start = std::time::Instant::now();
    loop {
        let n: i64 = conn.query_scalar(sql, &[Value::Text(name.to_string())]).unwrap();
        if n == 0 || !until_none || start.elapsed() > std::time::Duration::from_secs(10) {
            return Some(n);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let backend = self.backend;
        let dropped = std::thread::spawn(move || {
            let admin = create_engine(&harness::configured_url(backend)).map_err(|e| e.to_string())?;
            let stmt = match backend {
                "postgres" => format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
                _ => format!("DROP DATABASE IF EXISTS `{name}`"),
            };
            admin.execute(&stmt, &[]).map(|_| ()).map_err(|e| format!("{stmt}: {e}"))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("cleanup on {backend} failed: {e}"),
            Err(_) => eprintln!("cleanup on {backend} panicked"),
        }
    }
}

/// The round trip, run on the calling runtime's thread; `test` names the isolated database.
async fn round_trip(backend: &'static str, test: &str) {
    let Some(db) = harness::open(backend, test) else { return };
    let _cleanup = Cleanup::of(&db);
    // The engine under test: its own pool, checked before each checkout, dropped below on this
    // thread.
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let mut url = format!("{}{sep}pool_pre_ping=true&pool_size=2", db.url);
    let cleanup_name = _cleanup.name.clone().unwrap_or_default();
    if backend == "postgres" {
        url.push_str(&format!("&application_name={cleanup_name}"));
    }
    let engine = create_engine(&url).unwrap();
    base().metadata().create_all(&engine).unwrap();

    let s = sessionmaker(&engine).session();
    let ann = s.add(Customer::new("ann", "ann@x", 30));
    s.add(Customer::new("bob", "bob@x", 40));
    s.commit().unwrap();
    let id = ann.get().id.expect("a generated key");
    let found = s.query::<Customer>().filter(Customer::name.eq("ann")).one().unwrap();
    assert_eq!(found.get().id, Some(id));
    found.edit(|c| c.age = 31).unwrap();
    s.commit().unwrap();
    let names: Vec<String> = s
        .query::<Customer>()
        .order_by(Customer::name.asc())
        .yield_per(1)
        .iter()
        .unwrap()
        .map(|c| c.map(|c| c.get().name.clone()))
        .collect::<athanor::Result<_>>()
        .unwrap();
    assert_eq!(names, ["ann", "bob"]);
    s.commit().unwrap();
    drop(s);

    // A session dropped in the middle of its transaction rolls it back, on this thread.
    {
        let s = sessionmaker(&engine).session();
        s.add(Customer::new("ghost", "ghost@x", 1));
        s.flush().unwrap();
    }

    // Another task of the same runtime (another worker thread under multi_thread) uses the
    // engine; a second session there sees the committed edit.
    let shared = engine.clone();
    let age = tokio::spawn(async move {
        let s = sessionmaker(&shared).session();
        let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one().unwrap();
        let age = ann.get().age;
        drop(s);
        drop(shared);
        age
    })
    .await
    .unwrap();
    assert_eq!(age, 31, "the edit was committed");
    let count = sessionmaker(&engine).session().query::<Customer>().count().unwrap();
    assert_eq!(count, 2, "the dropped session's insert was rolled back");

    // The last handle to the engine, dropped on the runtime thread: its pool closes the
    // connections here.
    let (open, _) = engine.pool_status();
    assert!(open >= 1, "the pool holds connections to close");
    if let Some(open) = open_connections(backend, &cleanup_name, false) {
        assert!(open >= 1, "the server lists the engine's connections");
    }
    drop(engine);
    if let Some(open) = open_connections(backend, &cleanup_name, true) {
        assert_eq!(open, 0, "the dropped engine closed its connections");
    }
    // The runtime is still alive and well.
    tokio::task::yield_now().await;
    drop(db);
}

macro_rules! runtime_tests {
    ($feature:literal, $backend:ident) => {
        mod $backend {
            #[cfg(feature = $feature)]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn calls_and_engine_drop_inside_a_multi_thread_runtime() {
                super::round_trip(stringify!($backend), "tokio_multi_thread").await;
            }

            #[cfg(feature = $feature)]
            #[tokio::test(flavor = "current_thread")]
            async fn calls_and_engine_drop_inside_a_current_thread_runtime() {
                super::round_trip(stringify!($backend), "tokio_current_thread").await;
            }
        }
    };
}

runtime_tests!("sqlite", sqlite);
runtime_tests!("postgres", postgres);
runtime_tests!("mysql", mysql);
