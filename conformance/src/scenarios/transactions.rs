//! Engine-level connections and transactions.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;

fn count(db: &TestDb) -> Result<i64> {
    let table = athanor::backend::quoted(db.engine.dialect(), "customers")?;
    db.engine.connect()?.query_scalar(&format!("SELECT COUNT(*) FROM {table}"), &[])
}

fn insert_sql(db: &TestDb) -> Result<String> {
    athanor::backend::sql::insert(db.engine.dialect(), Customer::TABLE, 1, true, None)
}

/// engine.transaction commits on Ok and rolls back on Err.
pub fn engine_transaction_commits_or_rolls_back(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let sql = insert_sql(db)?;
    let row = |n: &str| params![n, None::<String>, format!("{n}@x"), 30];
    db.engine.transaction(|c| c.execute(&sql, &row("kept")))?;
    let r: Result<()> = db.engine.transaction(|c| {
        c.execute(&sql, &row("lost"))?;
        Err(Error::InvalidRequest { message: "changed my mind".into() })
    });
    assert!(r.is_err());
    assert_eq!(count(db)?, 1);
    Ok(())
}

/// A panic inside engine.transaction rolls back, and the pool stays usable.
pub fn engine_transaction_rolls_back_on_panic(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let sql = insert_sql(db)?;
    let engine = db.engine.clone();
    let r = std::panic::catch_unwind(move || {
        let _ = engine.transaction(|c| -> Result<()> {
            c.execute(&sql, &params!["p", None::<String>, "p@x", 1])?;
            panic!("boom");
        });
    });
    assert!(r.is_err(), "the panic propagates");
    assert_eq!(count(db)?, 0);
    Ok(())
}

/// Explicit begin/commit/rollback on a connection; savepoints where supported.
pub fn connection_explicit_transactions(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let sql = insert_sql(db)?;
    let mut c = db.engine.connect()?;
    c.begin()?;
    c.execute(&sql, &params!["a", None::<String>, "a@x", 1])?;
    c.rollback()?;
    c.begin()?;
    c.execute(&sql, &params!["b", None::<String>, "b@x", 1])?;
    if db.caps().savepoints {
        c.savepoint("sp1")?;
        c.execute(&sql, &params!["c", None::<String>, "c@x", 1])?;
        c.rollback_to_savepoint("sp1")?;
        c.release_savepoint("sp1")?;
    }
    c.commit()?;
    drop(c);
    assert_eq!(count(db)?, 1);
    let rows = db.engine.connect()?.query(
        &format!(
            "SELECT {} FROM {}",
            athanor::backend::quoted(db.engine.dialect(), "name")?,
            athanor::backend::quoted(db.engine.dialect(), "customers")?
        ),
        &[],
    )?;
    assert_eq!(rows[0].get::<String>(0)?, "b");
    Ok(())
}

/// Dropping a connection inside a transaction rolls it back.
pub fn dropped_connection_rolls_back(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let sql = insert_sql(db)?;
    {
        let mut c = db.engine.connect()?;
        c.begin()?;
        c.execute(&sql, &params!["x", None::<String>, "x@x", 1])?;
    }
    assert_eq!(count(db)?, 0);
    Ok(())
}

/// Every isolation level the dialect lists can begin a transaction; the others are a typed
/// error before anything is sent.
pub fn isolation_levels_follow_capabilities(db: &TestDb) -> Result<()> {
    db.create_all()?;
    for level in IsolationLevel::ALL {
        let s = athanor::sessionmaker(&db.engine).isolation_level(level).session();
        let r = s.query::<Customer>().count();
        if db.caps().isolation_levels.contains(&level) {
            assert_eq!(r?, 0, "{level}");
        } else {
            assert!(matches!(r, Err(Error::Unsupported { .. })), "{level}: {r:?}");
        }
    }
    Ok(())
}

/// Pool exhaustion is a PoolTimeout after the configured wait, not a hang; the pool recovers.
pub fn pool_exhaustion_times_out(db: &TestDb) -> Result<()> {
    let engine = athanor::create_engine_with(&db.url, |c| {
        c.pool_size = 1;
        c.pool_timeout = std::time::Duration::from_millis(300);
    })?;
    let held = engine.connect()?;
    let start = std::time::Instant::now();
    let err = engine.connect().expect_err("pool of one is taken");
    assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
    assert!(start.elapsed() >= std::time::Duration::from_millis(250));
    drop(held);
    engine.connect()?.query("SELECT 1", &[])?;
    Ok(())
}

/// A second engine sees only committed work.
pub fn uncommitted_work_is_invisible(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Customer::new("hidden", "hidden@x", 1));
    s.flush()?;
    if db.caps().row_level_locking {
        // A reader on another connection does not see (nor wait for) the uncommitted row.
        assert_eq!(count(db)?, 0);
    }
    s.commit()?;
    assert_eq!(count(db)?, 1);
    Ok(())
}
