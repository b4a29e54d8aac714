//! Bounds on waiting: the engine URL options `lock_timeout` and `statement_timeout` stop a
//! statement that waits for another transaction's lock, or runs, longer than asked, with
//! `Error::Timeout` (saying which), on every database; the session is then rolled back and
//! carries on.

use crate::acid::url_with;
use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::{Synchronize, TimeoutKind};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The bound the scenarios ask for, in milliseconds.
const BOUND_MS: u64 = 300;

/// The longest a bounded statement may take to fail on a loaded machine. Below SQLite's default
/// `busy_timeout` (5 s), so a `lock_timeout` that SQLite ignored would show; above MariaDB's
/// rounding of `lock_timeout` up to whole seconds (1 s here).
const UPPER: Duration = Duration::from_millis(4500);

/// How long the test waits for the blocked writer before it calls the wait unbounded.
const GIVE_UP: Duration = Duration::from_secs(15);

fn balance(db: &TestDb, id: i64) -> Result<i64> {
    let s = athanor::sessionmaker(&db.another_engine()).session();
    let a = s.get::<Account>(id)?.ok_or_else(|| Error::NotFound { what: format!("account {id}") })?;
    let b = a.get().balance;
    Ok(b)
}

/// Set account 1's balance with one `UPDATE` (no read first: on SQLite a transaction that has
/// read cannot wait for the write lock at all).
fn set_balance(s: &Session, value: i64) -> Result<u64> {
    s.query::<Account>()
        .filter(Account::id.eq(1))
        .synchronize_session(Synchronize::None)
        .update(|set| set.value(Account::balance, value))
}

/// A row lock (SQLite: the database's write lock) held by another engine's open transaction
/// makes a second writer, on an engine with `lock_timeout=300`, fail with
/// `Error::Timeout { kind: LockWait }` after about that long: not at once (no other error), not
/// after the database's default wait (PostgreSQL: forever; MariaDB: 50 s; SQLite's
/// `busy_timeout`: 5 s). The failed session is refused work until `rollback()`, then works; the
/// holder's transaction was not disturbed.
pub fn lock_wait_is_bounded_by_lock_timeout(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Account { id: 1, balance: 100 });
    s.commit()?;

    let holder = db.session();
    assert_eq!(set_balance(&holder, 200)?, 1);

    let url = url_with(&db.url, &[("lock_timeout", &BOUND_MS.to_string())]);
    let (first_tx, first_rx) = mpsc::channel::<(Result<u64>, Duration)>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    // The waiter runs on its own thread, so that a wait without bound fails this test instead of
    // hanging it (the holder then rolls back, which releases the waiter).
    let waiter = std::thread::spawn(move || -> Result<()> {
        let engine = create_engine(&url)?;
        let s = athanor::sessionmaker(&engine).session();
        // Connect first, so that the measured time is the statement's.
        s.query::<Account>().count()?;
        s.rollback()?;
        let start = Instant::now();
        let r = set_balance(&s, 300);
        let _ = first_tx.send((r, start.elapsed()));
        if go_rx.recv().is_err() {
            return Ok(());
        }
        // The failed transaction is rolled back: nothing more until rollback().
        let refused = s.query::<Account>().count();
        assert!(matches!(refused, Err(Error::PendingRollback { .. })), "{refused:?}");
        s.rollback()?;
        assert_eq!(set_balance(&s, 300)?, 1, "the session works after rollback()");
        s.commit()?;
        Ok(())
    });
    let (r, waited) = match first_rx.recv_timeout(GIVE_UP) {
        Ok(got) => got,
        Err(_) => {
            holder.rollback()?;
            drop(go_tx);
            let _ = waiter.join();
            panic!("the second writer still waited for the lock after {GIVE_UP:?}: lock_timeout was not applied");
        }
    };
    let err = match r {
        Err(e) => e,
        Ok(n) => panic!("the second writer updated {n} rows while the row was locked"),
    };
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::LockWait, .. }),
        "expected Error::Timeout {{ kind: LockWait }} after {waited:?}, got {err:?}"
    );
    assert!(err.is_timeout() && !err.is_serialization_failure(), "{err:?}");
    assert!(waited >= Duration::from_millis(BOUND_MS * 8 / 10), "gave up after only {waited:?}: it did not wait");
    assert!(waited < UPPER, "gave up after {waited:?}, expected about {BOUND_MS} ms");

    // The holder's transaction is intact and commits; then the waiter's session works again.
    holder.commit()?;
    assert_eq!(balance(db, 1)?, 200);
    go_tx.send(()).map_err(|_| Error::invalid_request("the waiter thread is gone"))?;
    waiter.join().map_err(|_| Error::invalid_request("the waiter thread panicked"))??;
    assert_eq!(balance(db, 1)?, 300);
    Ok(())
}

/// A statement that would run for many seconds (a cross join of a recursive CTE, counted), on an
/// engine with `statement_timeout=300`, fails with `Error::Timeout { kind: Statement }` after
/// about that long. Statements within the bound run as usual; the session is refused work until
/// `rollback()`, then works.
pub fn long_statement_is_stopped_by_statement_timeout(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let engine = create_engine(&url_with(&db.url, &[("statement_timeout", &BOUND_MS.to_string())]))?;
    let s = athanor::sessionmaker(&engine).session();
    s.add(Account { id: 1, balance: 100 });
    s.commit()?;
    assert_eq!(s.query::<Account>().count()?, 1);
    // 10^9 rows to count: tens of seconds on every database.
    let slow = text(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) \
         SELECT count(*) AS c FROM r a, r b, r c",
    );
    let start = Instant::now();
    let r = s.execute(slow);
    let took = start.elapsed();
    let err = match r {
        Err(e) => e,
        Ok(rows) => {
            panic!("the statement ran to the end in {took:?}: {:?}", rows.rows.first().map(|r| r.get::<i64>(0)))
        }
    };
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Statement, .. }),
        "expected Error::Timeout {{ kind: Statement }} after {took:?}, got {err:?}"
    );
    assert!(took >= Duration::from_millis(BOUND_MS * 8 / 10), "stopped after only {took:?}");
    assert!(took < UPPER, "stopped after {took:?}, expected about {BOUND_MS} ms");

    let refused = s.query::<Account>().count();
    assert!(matches!(refused, Err(Error::PendingRollback { .. })), "{refused:?}");
    s.rollback()?;
    assert_eq!(s.query::<Account>().count()?, 1, "the session works after rollback()");
    s.add(Account { id: 2, balance: 5 });
    s.commit()?;
    assert_eq!(balance(db, 2)?, 5);
    Ok(())
}
