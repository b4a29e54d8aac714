//! Sessions that read without a transaction (`sessionmaker(&engine).autocommit_reads(true)`):
//! the statements sent (no `BEGIN` / `ROLLBACK` for reads, a real transaction for writes), the
//! connection handed back to the pool with no transaction open on the server, and a failed read
//! that leaves the session usable.

use crate::harness::TestDb;
use crate::models::blog;
use crate::models::Customer;
use athanor::prelude::*;

/// Whether a statement is transaction control (what a read-only session should not send).
fn is_control(sql: &str) -> bool {
    ["BEGIN", "START TRANSACTION", "SET TRANSACTION", "COMMIT", "ROLLBACK"].iter().any(|p| sql.starts_with(p))
}

fn control(sql: &[String]) -> Vec<&str> {
    sql.iter().map(String::as_str).filter(|s| is_control(s)).collect()
}

fn reads(sql: &[String]) -> Vec<&str> {
    sql.iter().map(String::as_str).filter(|s| !is_control(s)).collect()
}

/// A query, on this backend, that is not 0 when the connection has a transaction open on the
/// server (begun and not ended), 0 in autocommit mode; `None` where the backend has no exact one.
fn open_transaction_probe(db: &TestDb) -> Option<&'static str> {
    match db.backend {
        // MariaDB's session variable, and the autocommit mode itself.
        "mysql" if db.caps().server_version.as_deref().is_some_and(|v| v.contains("MariaDB")) => {
            Some("SELECT @@in_transaction + (1 - @@autocommit)")
        }
        // MySQL has no @@in_transaction: only the autocommit mode is checked there (not run here:
        // the test server is MariaDB). SQLite and PostgreSQL: see `server_in_transaction`.
        _ => None,
    }
}

/// Whether `conn`'s physical connection has a transaction open on the server (`None`: the
/// backend cannot tell exactly).
fn server_in_transaction(db: &TestDb, conn: &mut Connection) -> Result<Option<bool>> {
    if db.backend == "sqlite" {
        // BEGIN inside a transaction is an error on SQLite.
        return match conn.batch_execute("BEGIN") {
            Ok(()) => {
                conn.batch_execute("ROLLBACK")?;
                Ok(Some(false))
            }
            Err(_) => Ok(Some(true)),
        };
    }
    if db.backend == "postgres" {
        // SAVEPOINT outside a transaction block is an error on PostgreSQL (and changes nothing).
        return match conn.batch_execute("SAVEPOINT athanor_probe") {
            Ok(()) => {
                conn.batch_execute("RELEASE SAVEPOINT athanor_probe")?;
                Ok(Some(true))
            }
            Err(_) => Ok(Some(false)),
        };
    }
    match open_transaction_probe(db) {
        Some(sql) => Ok(Some(conn.query_scalar::<i64>(sql, &[])? != 0)),
        None => {
            let autocommit: i64 = conn.query_scalar("SELECT @@autocommit", &[])?;
            assert_eq!(autocommit, 1);
            Ok(None)
        }
    }
}

/// Every idle connection of the pool, checked for a transaction left open on the server.
fn pool_is_clean(db: &TestDb) -> Result<()> {
    let (_, idle) = db.engine.pool_status();
    assert!(idle >= 1, "the session's connection is back in the pool");
    let mut held = Vec::new();
    for _ in 0..idle {
        held.push(db.engine.connect()?);
    }
    for conn in &mut held {
        assert!(!conn.in_transaction());
        assert_ne!(server_in_transaction(db, conn)?, Some(true), "a transaction was left open on a pooled connection");
    }
    Ok(())
}

fn seed_blog(db: &TestDb) -> Result<()> {
    blog::base().metadata().create_all(&db.engine)?;
    let s = db.session();
    for (name, titles) in [("ann", &["a1", "a2"][..]), ("bob", &["b1"][..])] {
        let u = s.add(blog::User { name: name.into(), ..Default::default() });
        for t in titles {
            s.add(blog::Post {
                title: (*t).into(),
                score: t.len() as i32,
                author: BelongsTo::to(&u),
                ..Default::default()
            });
        }
    }
    s.commit()?;
    db.clear_sql();
    Ok(())
}

/// The same read-only request in both modes: with `autocommit_reads` the session sends exactly
/// the reads (queries, count, exists, a column select, rows of two models, a selectin load, a
/// refresh), without a transaction's `BEGIN` and `ROLLBACK`; without it, the same reads between
/// the two. The connection goes back to the pool with no transaction open on the server (each
/// backend's own view of it, after a check that the probe does see an open one).
pub fn read_only_session_sends_no_begin_or_rollback(db: &TestDb) -> Result<()> {
    seed_blog(db)?;
    // The probe itself: it sees a transaction that is open.
    {
        let mut c = db.engine.connect()?;
        c.begin()?;
        let _ = c.query("SELECT COUNT(*) FROM posts", &[])?;
        assert_ne!(server_in_transaction(db, &mut c)?, Some(false), "the probe sees an open transaction");
        c.rollback()?;
        assert_ne!(server_in_transaction(db, &mut c)?, Some(true));
    }
    let mut sent = Vec::new();
    for autocommit in [false, true] {
        db.clear_sql();
        let before = db.engine.statement_count();
        {
            let s = athanor::sessionmaker(&db.engine).autocommit_reads(autocommit).session();
            let users = s
                .query::<blog::User>()
                .order_by(blog::User::id.asc())
                .options(selectinload(blog::User::posts))
                .all()?;
            assert_eq!(users.len(), 2);
            assert_eq!(users[0].get().posts.len(), 2);
            assert_eq!(s.query::<blog::Post>().filter(blog::Post::score.ge(2)).count()?, 3);
            assert!(s.query::<blog::Post>().filter(blog::Post::title.eq("b1")).exists()?);
            let titles: Vec<String> = s.select(blog::Post::title).order_by(blog::Post::title.asc()).all()?;
            assert_eq!(titles, ["a1", "a2", "b1"]);
            let pairs = s.query::<(blog::User, blog::Post)>().join(blog::User::posts).all()?;
            assert_eq!(pairs.len(), 3);
            s.refresh(&users[1])?;
            assert_eq!(s.in_transaction(), !autocommit);
            // A read-only request ends by dropping its session.
        }
        let sql = db.take_sql();
        assert_eq!(db.engine.statement_count() - before, sql.len() as u64);
        if autocommit {
            assert_eq!(control(&sql), Vec::<&str>::new(), "{sql:#?}");
        } else {
            let ctl = control(&sql);
            assert_eq!(ctl.last(), Some(&"ROLLBACK"), "{sql:#?}");
            assert!(ctl[..ctl.len() - 1].iter().all(|s| !s.starts_with("ROLLBACK") && !s.starts_with("COMMIT")));
        }
        pool_is_clean(db)?;
        sent.push(sql);
    }
    // The same reads either way, in the same order; only the transaction's statements differ.
    assert_eq!(reads(&sent[0]), reads(&sent[1]));
    assert_eq!(reads(&sent[1]).len(), 7, "{:#?}", sent[1]);
    assert!(sent[0].len() >= sent[1].len() + 2, "BEGIN and ROLLBACK saved");
    Ok(())
}

/// Writes in an `autocommit_reads` session run in a real transaction: the first flush begins it
/// (after the reads, which sent none), other connections see nothing until `commit()`, a failed
/// flush rolls all of it back, `rollback()` undoes it, and after either the session reads without
/// a transaction again. `begin()`, raw SQL, `FOR UPDATE` and `yield_per` streams begin one too.
pub fn autocommit_reads_session_writes_in_a_real_transaction(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let maker = athanor::sessionmaker(&db.engine).autocommit_reads(true);
    // Another engine, so that its statements are not in this one's log.
    let elsewhere = db.another_engine();
    let other = || -> Result<u64> { athanor::sessionmaker(&elsewhere).session().query::<Customer>().count() };
    let s = maker.session();
    s.add(Customer::new("ann", "ann@x", 30));
    s.commit()?;
    db.clear_sql();
    let ann = s.query::<Customer>().one()?;
    assert!(!s.in_transaction());
    ann.edit(|c| c.age = 31)?;
    s.add(Customer::new("bob", "bob@x", 40));
    assert_eq!(s.query::<Customer>().count()?, 2, "autoflush, then the count in the transaction");
    assert!(s.in_transaction());
    let sql = db.take_sql();
    assert!(!is_control(&sql[0]) && sql[0].starts_with("SELECT"), "{sql:#?}");
    assert!(is_control(&sql[1]), "the flush began the transaction: {sql:#?}");
    assert!(sql.iter().any(|s| s.starts_with("INSERT INTO customers")) && sql.iter().any(|s| s.starts_with("UPDATE")));
    assert_eq!(other()?, 1, "not visible before commit");
    s.rollback()?;
    assert_eq!(control(&db.take_sql()), ["ROLLBACK"]);
    assert_eq!(other()?, 1);
    assert_eq!(s.query::<Customer>().one()?.get().age, 30, "the edit was rolled back");
    assert!(!s.in_transaction(), "reads without a transaction again");
    // A flush that fails leaves nothing behind, also what an earlier flush of the same
    // transaction wrote.
    s.add(Customer::new("cyd", "cyd@x", 1));
    s.flush()?;
    s.add(Customer::new("dup", "ann@x", 2));
    assert!(matches!(s.flush(), Err(Error::Integrity { .. })));
    assert!(matches!(s.query::<Customer>().count(), Err(Error::PendingRollback { .. })));
    s.rollback()?;
    assert_eq!(other()?, 1);
    // Commit: COMMIT, then reads without a transaction again.
    s.add(Customer::new("bob", "bob@x", 40));
    s.commit()?;
    assert_eq!(other()?, 2);
    db.clear_sql();
    assert_eq!(s.query::<Customer>().count()?, 2);
    assert!(control(&db.take_sql()).is_empty());
    // Explicit begin() on a session that holds its connection for reads.
    s.begin()?;
    assert!(s.in_transaction());
    assert!(matches!(s.begin(), Err(Error::InvalidRequest { .. })));
    s.commit()?;
    let sql = db.take_sql();
    assert_eq!(sql.iter().filter(|s| s.starts_with("COMMIT")).count(), 1, "{sql:#?}");
    // What begins a transaction although it only reads: raw SQL, streams, FOR UPDATE.
    let _ = s.query_sql("SELECT 1", &[])?;
    assert!(s.in_transaction(), "raw SQL runs in a transaction");
    s.commit()?;
    let streamed: Vec<_> = s.query::<Customer>().yield_per(1).iter()?.collect::<Result<_>>()?;
    assert_eq!(streamed.len(), 2);
    assert!(s.in_transaction(), "a stream runs in a transaction");
    s.commit()?;
    if db.caps().select_for_update {
        db.clear_sql();
        let locked = s.query::<Customer>().filter(Customer::name.eq("bob")).with_for_update().one()?;
        assert_eq!(locked.get().age, 40);
        assert!(s.in_transaction(), "FOR UPDATE runs in a transaction");
        let sql = db.take_sql();
        assert!(is_control(&sql[0]) && sql.last().is_some_and(|q| q.contains("FOR UPDATE")), "{sql:#?}");
        s.commit()?;
    }
    assert!(!s.in_transaction());
    drop(s);
    pool_is_clean(db)
}

/// A read that fails outside a transaction (a missing table) is the database's error, and the
/// session stays usable: there was no transaction to roll back, so no `PendingRollback`, no
/// `ROLLBACK` sent, and the connection back in the pool. Without `autocommit_reads` the same read
/// fails the session's transaction, as every database error in a transaction does. Inside a
/// transaction (after a flush) an `autocommit_reads` session follows that rule too.
pub fn failed_read_without_a_transaction_leaves_the_session_usable(db: &TestDb) -> Result<()> {
    let s = athanor::sessionmaker(&db.engine).autocommit_reads(true).session();
    let err = s.query::<Customer>().all().expect_err("no table yet");
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert!(s.is_active(), "no pending rollback");
    assert!(!s.in_transaction());
    assert_eq!(db.engine.pool_metrics().in_use, 0, "the connection went back to the pool");
    assert!(control(&db.take_sql()).is_empty());
    pool_is_clean(db)?;
    db.create_all()?;
    assert_eq!(s.query::<Customer>().count()?, 0, "the session goes on");
    // The default session: the same failure needs rollback().
    db.engine.execute(&format!("DROP TABLE {}", athanor::backend::quoted(db.engine.dialect(), "orders")?), &[])?;
    let plain = db.session();
    let failed = plain.query::<crate::models::Order>().all();
    assert!(matches!(failed, Err(Error::Database { .. })), "{failed:?}");
    assert!(matches!(plain.query::<Customer>().count(), Err(Error::PendingRollback { .. })));
    plain.rollback()?;
    // Inside a transaction, an autocommit_reads session follows the transaction's rule.
    s.add(Customer::new("ann", "ann@x", 30));
    s.flush()?;
    let failed = s.query::<crate::models::Order>().all();
    assert!(matches!(failed, Err(Error::Database { .. })), "{failed:?}");
    assert!(matches!(s.query::<Customer>().count(), Err(Error::PendingRollback { .. })));
    s.rollback()?;
    assert_eq!(s.query::<Customer>().count()?, 0, "the flushed row was rolled back");
    drop((s, plain));
    pool_is_clean(db)
}

/// What each read of an `autocommit_reads` session sees: the data committed when it runs, the
/// same on every database (inside a transaction it depends on the isolation level: MySQL's
/// default repeatable read keeps the first snapshot, the others' read committed does not). The
/// identity map is unchanged by the mode: an object already loaded comes back as it was, not
/// refreshed by a later read of its row, until it is expired.
pub fn each_read_sees_its_own_snapshot_and_loaded_objects_stay(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let elsewhere = db.another_engine();
    let writer = athanor::sessionmaker(&elsewhere);
    let w = writer.session();
    w.add(Customer::new("ann", "ann@x", 30));
    w.commit()?;
    let s = athanor::sessionmaker(&db.engine).autocommit_reads(true).session();
    let ann = s.query::<Customer>().one()?;
    assert_eq!(ann.get().age, 30);
    // Another connection changes the row and adds one, and commits.
    let theirs = w.query::<Customer>().one()?;
    theirs.edit(|c| c.age = 31)?;
    w.add(Customer::new("bob", "bob@x", 40));
    w.commit()?;
    // The next reads see it: the count, and a column select of the age.
    assert_eq!(s.query::<Customer>().count()?, 2);
    let ages: Vec<i32> = s.select(Customer::age).order_by(Customer::age.asc()).all()?;
    assert_eq!(ages, [31, 40]);
    // The loaded object is the same instance, with the values it was loaded with.
    let again = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    assert!(Handle::ptr_eq(&ann, &again));
    assert_eq!(again.get().age, 30, "not refreshed by a later read");
    s.expire(&ann);
    assert_eq!(s.query::<Customer>().filter(Customer::name.eq("ann")).one()?.get().age, 31, "reloaded once expired");
    s.refresh(&ann)?;
    assert_eq!(ann.get().age, 31);
    assert!(!s.in_transaction());
    Ok(())
}
