//! The transactions API: savepoints several deep, isolation levels per engine, per session
//! maker and per transaction, read-only transactions, the retry helper, readers that do not
//! hold up writers, and writers that declare write intent.

use crate::acid::url_with;
use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::ObjectState;
use std::cell::Cell;
use std::time::{Duration, Instant};

fn names(db: &TestDb) -> Result<Vec<String>> {
    let s = db.session();
    Ok(s.query::<Parent>().order_by(Parent::id.asc()).all()?.iter().map(|h| h.get().name.clone()).collect())
}

fn parent(id: i64, name: &str) -> Parent {
    Parent { id, name: name.into() }
}

/// Four savepoints deep: the innermost released into the third, the third rolled back (taking the
/// fourth's work with it), the second released, work added back at depth one, the first
/// released; only the rolled-back work is gone, and the objects' states say so.
pub fn savepoints_nest_several_deep(db: &TestDb) -> Result<()> {
    db.create_all()?;
    if !db.caps().savepoints {
        let s = db.session();
        let r = s.begin_nested().map(|_| ());
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
        return Ok(());
    }
    let s = db.session();
    let a = s.add(parent(1, "a"));
    let n1 = s.begin_nested()?;
    let b = s.add(parent(2, "b"));
    let n2 = s.begin_nested()?;
    let c = s.add(parent(3, "c"));
    let n3 = s.begin_nested()?;
    let d = s.add(parent(4, "d"));
    a.edit(|p| p.name = "a edited in n3".into())?;
    let n4 = s.begin_nested()?;
    let e = s.add(parent(5, "e"));
    n4.commit()?;
    assert_eq!(e.state(), ObjectState::Persistent);
    n3.rollback()?;
    assert_eq!(d.state(), ObjectState::Transient, "inserted in a rolled-back savepoint");
    assert_eq!(e.state(), ObjectState::Transient, "released into a rolled-back savepoint");
    assert_eq!(a.load()?.name, "a", "the edit made inside the rolled-back savepoint is undone");
    n2.commit()?;
    let f = s.add(parent(6, "f"));
    n1.commit()?;
    s.commit()?;
    for h in [&a, &b, &c, &f] {
        assert_eq!(h.state(), ObjectState::Persistent);
    }
    assert_eq!(names(db)?, ["a", "b", "c", "f"]);
    Ok(())
}

/// A flush failing three savepoints deep rolls back only to that savepoint: the session needs
/// the savepoint's rollback, then the outer levels carry on and commit. Listed as
/// `requires(savepoints)`.
pub fn failure_inside_deep_savepoint_keeps_outer_work(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(parent(1, "outer"));
    let n1 = s.begin_nested()?;
    s.add(parent(2, "one deep"));
    let n2 = s.begin_nested()?;
    s.add(parent(3, "two deep"));
    let n3 = s.begin_nested()?;
    s.add(parent(1, "duplicate key"));
    let err = s.flush().expect_err("duplicate primary key");
    assert_eq!(err.constraint(), Some("pk_parents"), "{err:?}");
    let pending = s.query::<Parent>().count().expect_err("the failed savepoint must be rolled back first");
    assert!(matches!(pending, Error::PendingRollback { .. }), "{pending:?}");
    n3.rollback()?;
    assert_eq!(s.query::<Parent>().count()?, 3, "the outer levels' rows are still there");
    s.add(parent(4, "after"));
    n2.commit()?;
    n1.commit()?;
    s.commit()?;
    assert_eq!(names(db)?, ["outer", "one deep", "two deep", "after"]);
    Ok(())
}

fn seed_accounts(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add_all([Account { id: 1, balance: 100 }, Account { id: 2, balance: 200 }]);
    s.commit()
}

/// Whether a transaction begun by `session` sees a commit made by another engine between two of
/// its reads (read committed: yes; repeatable read and up: no).
fn sees_concurrent_commit(db: &TestDb, session: &Session) -> Result<bool> {
    session.expire_all();
    let before = session.get::<Account>(1)?.map(|h| h.get().balance);
    let other = db.another_engine();
    let w = athanor::sessionmaker(&other).session();
    let acc = w.get::<Account>(1)?.ok_or_else(|| Error::NotFound { what: "account 1".into() })?;
    acc.edit(|a| a.balance += 1)?;
    w.commit()?;
    session.expire_all();
    let after = session.get::<Account>(1)?.map(|h| h.get().balance);
    session.rollback()?;
    Ok(before != after)
}

/// An isolation level set on the engine (URL option or `create_engine_with`), on a session maker,
/// or on one transaction (`begin_with`, which wins over the engine's) is the level the transaction
/// runs at: read committed sees another transaction's commit between two reads, repeatable read
/// does not. A level the database lacks is `Unsupported` by every route, before anything is sent.
pub fn isolation_level_per_engine_maker_and_transaction(db: &TestDb) -> Result<()> {
    seed_accounts(db)?;
    let caps = db.caps().clone();
    type Route = fn(&TestDb, IsolationLevel) -> Result<Session>;
    let routes: [(&str, Route); 4] = [
        ("URL option isolation_level", |db, level| {
            let e = create_engine(&url_with(&db.url, &[("isolation_level", level.as_snake())]))?;
            let s = athanor::sessionmaker(&e).session();
            s.begin()?;
            Ok(s)
        }),
        ("create_engine_with", |db, level| {
            let e = athanor::create_engine_with(&db.url, |c| c.isolation_level = Some(level))?;
            let s = athanor::sessionmaker(&e).session();
            s.begin()?;
            Ok(s)
        }),
        ("sessionmaker(..).isolation_level", |db, level| {
            let s = athanor::sessionmaker(&db.engine).isolation_level(level).session();
            s.begin()?;
            Ok(s)
        }),
        ("Session::begin_with", |db, level| {
            // Over an engine whose default is another level: the transaction's own level wins.
            let other = caps_other_level(db, level);
            let e = athanor::create_engine_with(&db.url, |c| c.isolation_level = other)?;
            let s = athanor::sessionmaker(&e).session();
            s.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() })?;
            Ok(s)
        }),
    ];
    for level in IsolationLevel::ALL {
        for (route, open) in &routes {
            let r = open(db, level);
            if !caps.isolation_levels.contains(&level) {
                assert!(matches!(r, Err(Error::Unsupported { .. })), "{route} {level}: {r:?}");
                continue;
            }
            let s = r.map_err(|e| Error::invalid_request(format!("{route} {level}: {e}")))?;
            let probe = matches!(level, IsolationLevel::ReadCommitted | IsolationLevel::RepeatableRead)
                && caps.isolation_levels.contains(&IsolationLevel::ReadCommitted)
                && caps.isolation_levels.contains(&IsolationLevel::RepeatableRead);
            if probe {
                let sees = sees_concurrent_commit(db, &s)?;
                assert_eq!(sees, level == IsolationLevel::ReadCommitted, "{route} {level}: sees a concurrent commit");
            } else {
                assert_eq!(s.query::<Account>().count()?, 2, "{route} {level}");
                s.rollback()?;
            }
        }
    }
    Ok(())
}

/// Another level the database offers than `level`, as an engine default to be overridden.
fn caps_other_level(db: &TestDb, level: IsolationLevel) -> Option<IsolationLevel> {
    db.caps().isolation_levels.iter().copied().find(|l| *l != level)
}

/// Read-only transactions (where the capability says so) read, and refuse writes with
/// `Error::ReadOnly` (PostgreSQL 25006, MySQL 1792), writing nothing; elsewhere asking for one is
/// `Unsupported`.
pub fn read_only_transactions_refuse_writes(db: &TestDb) -> Result<()> {
    seed_accounts(db)?;
    if !db.caps().read_only_transactions {
        let r = db.session().begin_with(TxOptions { isolation: None, read_only: true, ..TxOptions::default() });
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
        let r = athanor::sessionmaker(&db.engine).read_only(true).session().query::<Account>().count();
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
        return Ok(());
    }
    let ro = athanor::sessionmaker(&db.engine).read_only(true);
    let s = ro.session();
    assert_eq!(s.query::<Account>().count()?, 2, "reads work");
    s.add(Account { id: 3, balance: 1 });
    let err = s.commit().expect_err("insert in a read-only transaction");
    assert!(matches!(err, Error::ReadOnly { .. }), "the same typed error everywhere: {err:?}");
    s.rollback()?;
    let s = db.session();
    s.begin_with(TxOptions { isolation: None, read_only: true, ..TxOptions::default() })?;
    let acc = s.get::<Account>(1)?.ok_or_else(|| Error::NotFound { what: "account 1".into() })?;
    acc.edit(|a| a.balance = 0)?;
    let err = s.flush().expect_err("update in a read-only transaction");
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    s.rollback()?;
    let check = db.session();
    let balances: Vec<i64> =
        check.query::<Account>().order_by(Account::id.asc()).all()?.iter().map(|h| h.get().balance).collect();
    assert_eq!(balances, [100, 200], "nothing was written");
    // The session is usable for read-write work after the refused write.
    s.add(Account { id: 3, balance: 5 });
    s.commit()?;
    assert_eq!(db.session().query::<Account>().count()?, 3);
    Ok(())
}

/// `retry_on_serialization_failure` reruns the whole unit of work after a serialization failure
/// or deadlock (each attempt's writes rolled back), returns any other error at once, and gives up
/// after the given number of attempts with the last failure.
pub fn retry_on_serialization_failure_retries_only_those(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let maker = athanor::sessionmaker(&db.engine);
    let attempts = Cell::new(0);
    let v = maker.retry_on_serialization_failure(5, |s| {
        attempts.set(attempts.get() + 1);
        let n = attempts.get();
        s.add(parent(n, &format!("attempt {n}")));
        s.flush()?;
        if n < 3 {
            return Err(Error::SerializationFailure { message: "synthetic".into(), deadlock: n == 2, source: None });
        }
        Ok(n)
    })?;
    assert_eq!((v, attempts.get()), (3, 3));
    assert_eq!(names(db)?, ["attempt 3"], "the failed attempts' writes were rolled back");

    attempts.set(0);
    let r: Result<()> = maker.retry_on_serialization_failure(5, |s| {
        attempts.set(attempts.get() + 1);
        s.add(parent(10, "duplicate of nothing"));
        s.add(parent(3, "duplicate key"));
        s.flush()
    });
    let err = r.expect_err("an integrity error is not retried");
    assert!(err.is_integrity(), "{err:?}");
    assert_eq!(attempts.get(), 1);

    attempts.set(0);
    let r: Result<()> = maker.retry_on_serialization_failure(4, |_| {
        attempts.set(attempts.get() + 1);
        Err(Error::SerializationFailure { message: "always".into(), deadlock: false, source: None })
    });
    assert!(matches!(r, Err(Error::SerializationFailure { .. })), "{r:?}");
    assert_eq!(attempts.get(), 4);
    assert_eq!(names(db)?, ["attempt 3"]);
    Ok(())
}

/// A session that has only read (`query().all()`, its transaction left open) does not hold up
/// another engine's write, which commits within 100 ms (SQLite: file databases are in WAL mode
/// by default, where readers never block the writer). The reader's transaction then goes on.
pub fn open_read_session_does_not_block_a_writer(db: &TestDb) -> Result<()> {
    seed_accounts(db)?;
    let reader = db.session();
    assert_eq!(reader.query::<Account>().all()?.len(), 2);
    assert!(reader.in_transaction(), "the read left its transaction open");
    let other = db.another_engine();
    drop(other.connect()?); // a pooled connection, so the clock times only the write
    let writer = athanor::sessionmaker(&other).session();
    let started = Instant::now();
    let acc = writer.get::<Account>(1)?.ok_or_else(|| Error::NotFound { what: "account 1".into() })?;
    acc.edit(|a| a.balance = 150)?;
    writer.commit()?;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(100), "the write waited {took:?} for the open read session");
    assert_eq!(reader.query::<Account>().count()?, 2, "the reader's transaction is still usable");
    reader.commit()?;
    let check = db.session().get::<Account>(1)?.map(|h| h.get().balance);
    assert_eq!(check, Some(150));
    Ok(())
}

/// 8 threads, each running sessions that declare write intent (`SessionMaker::write_intent`),
/// read and then write, and commit with no retry helper: every one succeeds (SQLite: `BEGIN
/// IMMEDIATE` makes them wait for the write lock at BEGIN instead of failing to upgrade a read
/// lock at the flush).
pub fn writers_with_write_intent_need_no_retry(db: &TestDb) -> Result<()> {
    db.create_all()?;
    const THREADS: i64 = 8;
    let per_thread = crate::acid::scaled(10, 50) as i64;
    let maker = athanor::sessionmaker(&db.engine).write_intent(true);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let maker = maker.clone();
            std::thread::spawn(move || -> Result<()> {
                for i in 0..per_thread {
                    let s = maker.session();
                    let seen = s.query::<Parent>().count()?;
                    s.add(parent(t * 1_000 + i, &format!("thread {t} saw {seen}")));
                    s.commit()?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
    }
    assert_eq!(db.session().query::<Parent>().count()?, (THREADS * per_thread) as u64);
    Ok(())
}
