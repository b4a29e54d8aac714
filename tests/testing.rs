//! `athanor::testing` and `#[athanor::test]` on every configured backend: a fresh database per
//! call that exists while it is held and is gone after, a failed test body that fails its test
//! and still drops its database (unless `keep_on_failure`), and the macro's tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use athanor::testing::{self, Setup, TestOptions};

/// Whether the database of `url` can be opened (a server database exists, an SQLite file exists).
fn exists(url: &str) -> bool {
    match url.strip_prefix("sqlite://") {
        Some(path) => std::path::Path::new(path.split('?').next().unwrap()).exists(),
        None => create_engine(url).and_then(|e| e.connect().map(drop)).is_ok(),
    }
}

/// A note.
#[derive(Model, Debug)]
#[model(table = "testing_notes")]
pub struct Note {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Its text.
    pub text: String,
}

fn base() -> Base {
    Base::new().register::<Note>()
}

fn count(engine: &Engine) -> Result<i64> {
    engine.connect()?.query_scalar("SELECT count(*) FROM testing_notes", &[])
}

#[athanor::test(base = base)]
fn each_backend_gets_the_base_tables(engine: Engine) -> Result<()> {
    let s = sessionmaker(&engine).session();
    s.add(Note { id: None, text: "one".into() });
    s.commit()?;
    assert_eq!(count(&engine)?, 1, "a fresh database: only this test's row");
    Ok(())
}

#[test]
fn fresh_databases_exist_while_held_and_are_dropped_after() {
    for backend in ["sqlite", "postgres", "mysql"] {
        let Some(url) = testing::target_url(backend) else { continue };
        let db = match testing::fresh_database(&url) {
            Ok(db) => db,
            Err(e) => {
                testing::unreachable(backend, &url, &e.to_string());
                continue;
            }
        };
        let other = testing::fresh_database(&url).unwrap();
        assert_ne!(db.url(), other.url(), "two calls, two databases");
        db.engine().unwrap().execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", &[]).unwrap();
        assert!(exists(db.url()), "{} exists while held", db.location());
        let made = db.url().to_string();
        drop(db);
        assert!(!exists(&made), "{made} is dropped");
    }
}

#[test]
fn a_failing_body_fails_its_test_and_its_database_is_dropped_unless_kept() {
    for backend in ["sqlite", "postgres", "mysql"] {
        if testing::target_url(backend).is_none() {
            continue;
        }
        for keep_on_failure in [false, true] {
            let seen = std::sync::Mutex::new(None::<String>);
            let options = TestOptions { setup: Setup::Base(base), keep_on_failure, manifest_dir: "" };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                testing::run(backend, "testing::failing", options, |engine: Engine| {
                    *seen.lock().unwrap() = Some(engine.url().to_string());
                    assert_eq!(count(&engine)?, 0);
                    Err(Error::invalid_request("this test fails on purpose"))
                })
            }));
            let message = outcome.expect_err("the test fails");
            let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(message.contains("this test fails on purpose"), "{message}");
            let url = seen.lock().unwrap().clone().expect("the body ran");
            let url = url.replace("***", "");
            assert_eq!(exists(&url), keep_on_failure, "{url}: kept only when asked");
            if keep_on_failure {
                athanor::admin::drop_database(&url, false).unwrap();
            }
        }
    }
}
