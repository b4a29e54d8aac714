//! Connection faults: the server kills a session's connection mid-transaction, or an idle pooled
//! connection (what a server restart does to an idle pool); the pool runs out; SQLite's database
//! lock is held by another process. Each yields a typed error, nothing committed is lost, and the
//! pool serves healthy connections afterwards.

use crate::acid::expectations::{kill_hooks, KillHooks};
use crate::acid::url_with;
use crate::harness::{self, TestDb};
use crate::models::*;
use athanor::prelude::*;
use std::time::{Duration, Instant};

/// Why the kill scenarios do nothing on a database without server connections.
const NO_KILL_HOOK: &str =
    "a server connection to kill (no kill hook in expectations::kill_hooks; not a capability gate)";

fn names(db: &TestDb) -> Result<Vec<String>> {
    let s = athanor::sessionmaker(&db.another_engine()).session();
    Ok(s.query::<Customer>().order_by(Customer::name.asc()).all()?.iter().map(|h| h.get().name.clone()).collect())
}

/// Kill server connection `id` from another connection and wait until it is gone.
fn kill(db: &TestDb, hooks: &KillHooks, id: i64) -> Result<()> {
    let admin = db.another_engine();
    let mut c = admin.connect()?;
    let sql = hooks.kill.replace("{id}", &id.to_string());
    if sql.starts_with("SELECT") {
        c.query(&sql, &[])?;
    } else {
        c.batch_execute(&sql)?;
    }
    let start = Instant::now();
    while c.query_scalar::<i64>(hooks.alive, &params![id])? > 0 {
        if start.elapsed() > Duration::from_secs(10) {
            return Err(Error::invalid_request(format!("connection {id} still alive 10 s after {sql}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The server kills the connection of a session in the middle of its transaction: the next
/// operation fails with `Error::Connection { disconnect: true }`; `rollback()` (or
/// `invalidate()`) discards it; the session and the pool carry on with a healthy connection;
/// committed data is intact and the killed transaction's work is gone. SQLite has no server
/// connection to kill: nothing to do there.
pub fn server_kills_connection_mid_session(db: &TestDb) -> Result<()> {
    let Some(hooks) = kill_hooks(db.backend) else {
        harness::skipped(db, "acid_faults::server_kills_connection_mid_session", NO_KILL_HOOK);
        return Ok(());
    };
    db.create_all()?;
    let s = db.session();
    s.add(Customer::new("committed before", "kept@x", 1));
    s.commit()?;
    for (round, discard) in ["rollback", "invalidate", "commit"].into_iter().enumerate() {
        s.add(Customer::new(&format!("lost {round}"), &format!("lost{round}@x"), 2));
        s.flush()?;
        let id: i64 = s.query_sql(hooks.own_id, &[])?[0].get(0)?;
        kill(db, &hooks, id)?;
        let err = match discard {
            "commit" => s.commit().expect_err("commit on a killed connection"),
            _ => s.query::<Customer>().count().expect_err("query on a killed connection"),
        };
        assert!(err.is_disconnect(), "{discard}: a disconnect error, got {err:?}");
        match discard {
            "rollback" => s.rollback()?,
            "invalidate" => s.invalidate(),
            _ => {} // a failed commit already rolled the session back
        }
        // The same session does new work on a new connection.
        let new_id: i64 = s.query_sql(hooks.own_id, &[])?[0].get(0)?;
        assert_ne!(new_id, id, "a new server connection");
        s.add(Customer::new(&format!("after {round}"), &format!("after{round}@x"), 3));
        s.commit()?;
    }
    assert_eq!(names(db)?, ["after 0", "after 1", "after 2", "committed before"]);
    // Every pooled connection still works.
    let conns: Vec<_> = (0..3).map(|_| db.engine.connect()).collect::<Result<_>>()?;
    for mut c in conns {
        c.query("SELECT 1", &[])?;
    }
    Ok(())
}

/// Open `n` connections at once and return their server ids; they are idle in the pool after.
fn idle_connections(engine: &Engine, hooks: &KillHooks, n: usize) -> Result<Vec<i64>> {
    let mut held = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = engine.connect()?;
        ids.push(c.query_scalar::<i64>(hooks.own_id, &[])?);
        held.push(c);
    }
    Ok(ids)
}

/// Every idle pooled connection dies (what a server restart, or killing the pool's sessions,
/// does to an idle pool). With or without `pool_pre_ping`, the next session and engine
/// transaction each work: the dead connection is found dead at the transaction's `BEGIN`, before
/// any of the caller's work reached the server, and replaced transparently; so does a session
/// reading without a transaction (`autocommit_reads`), whose first read (a SELECT the ORM built,
/// which changes nothing) is sent again on a live connection. An autocommit
/// statement is never replayed (it might have been applied): without pre-ping the first one
/// fails with a disconnect and the next one runs on a live connection. The dead connections are
/// discarded and the pool holds only healthy ones afterwards. (A
/// connection that dies inside a transaction is not replaced: see
/// [`server_kills_connection_mid_session`].)
pub fn idle_pooled_connection_dies(db: &TestDb) -> Result<()> {
    let Some(hooks) = kill_hooks(db.backend) else {
        harness::skipped(db, "acid_faults::idle_pooled_connection_dies", NO_KILL_HOOK);
        return Ok(());
    };
    db.create_all()?;
    const POOL: usize = 3;
    for pre_ping in [false, true] {
        let url = url_with(
            &db.url,
            &[("pool_size", &POOL.to_string()), ("pool_pre_ping", if pre_ping { "true" } else { "false" })],
        );
        let engine = create_engine(&url)?;
        for round in ["statement", "session", "read", "transaction"] {
            let ids = idle_connections(&engine, &hooks, POOL)?;
            for &id in &ids {
                kill(db, &hooks, id)?; // idle in the pool now
            }
            let name = format!("{round} pre_ping={pre_ping}");
            let new_id: i64 = match round {
                // An autocommit statement is never replayed (it might have been applied): without
                // pre-ping, the first one fails with a disconnect and the next checkout is live.
                "statement" if !pre_ping => {
                    let first = engine.connect()?.query_scalar::<i64>(hooks.own_id, &[]);
                    assert!(matches!(&first, Err(e) if e.is_disconnect()), "{name}: {first:?}");
                    engine.connect()?.query_scalar(hooks.own_id, &[])?
                }
                "statement" => engine.connect()?.query_scalar(hooks.own_id, &[])?,
                "session" => {
                    let s = athanor::sessionmaker(&engine).session();
                    s.add(Customer::new(&name, &format!("{round}{pre_ping}@x"), 1));
                    s.flush()?;
                    let id: i64 = s.query_sql(hooks.own_id, &[])?[0].get(0)?;
                    s.commit()?;
                    id
                }
                "read" => {
                    let s = athanor::sessionmaker(&engine).autocommit_reads(true).session();
                    // The checkout's first statement: it finds the connection dead and is replayed.
                    s.query::<Customer>().count()?;
                    // Raw SQL begins a transaction, on the connection the read used.
                    let id: i64 = s.query_sql(hooks.own_id, &[])?[0].get(0)?;
                    s.commit()?;
                    id
                }
                _ => engine.transaction(|c| c.query_scalar::<i64>(hooks.own_id, &[]))?,
            };
            assert!(!ids.contains(&new_id), "{name}: ran on a new connection ({new_id} not in {ids:?})");
        }
        // Every pooled connection works.
        let conns: Vec<_> = (0..POOL).map(|_| engine.connect()).collect::<Result<_>>()?;
        for mut c in conns {
            c.query("SELECT 1", &[])?;
        }
        let (open, _) = engine.pool_status();
        assert!(open as usize <= POOL, "{open} connections open");
    }
    assert_eq!(names(db)?, ["session pre_ping=false", "session pre_ping=true"]);
    Ok(())
}

/// With every pooled connection held by an open session transaction, another session's first
/// statement waits `pool_timeout` and fails with `Error::PoolTimeout` (no hang); once the holder
/// commits, the waiting session works.
pub fn pool_exhaustion_is_a_timeout(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let engine = athanor::create_engine_with(&db.url, |c| {
        c.pool_size = 2;
        c.pool_timeout = Duration::from_millis(400);
    })?;
    let maker = athanor::sessionmaker(&engine);
    let holders = [maker.session(), maker.session()];
    for h in &holders {
        h.begin()?;
    }
    let waiting = maker.session();
    let start = Instant::now();
    let err = waiting.query::<Customer>().count().expect_err("no free connection");
    let waited = start.elapsed();
    match err {
        Error::PoolTimeout { pool_size, .. } => assert_eq!(pool_size, 2),
        other => panic!("expected PoolTimeout, got {other:?}"),
    }
    assert!(waited >= Duration::from_millis(350), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    holders[0].add(Customer::new("holder", "holder@x", 1));
    holders[0].commit()?;
    assert_eq!(waiting.query::<Customer>().count()?, 1);
    Ok(())
}

/// Where locks are database-wide (SQLite), a writer that cannot get the lock within `busy_timeout`
/// fails with `Error::Timeout { kind: LockWait }` (no hang; `retry_on_serialization_failure`
/// retries it) and succeeds once the other writer commits; the other writer's work is intact. Row-locking databases wait for the row
/// instead (shown by the Hermitage tests): listed as `requires(database_lock)`.
pub fn database_lock_held_elsewhere(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let blocker = athanor::sessionmaker(&db.engine).session();
    blocker.add(Customer::new("blocker", "blocker@x", 1));
    blocker.flush()?; // holds the write lock
    let engine = create_engine(&url_with(&db.url, &[("busy_timeout", "300")]))?;
    let s = athanor::sessionmaker(&engine).session();
    s.add(Customer::new("waiter", "waiter@x", 2));
    let start = Instant::now();
    let err = s.commit().expect_err("the write lock is taken");
    assert!(matches!(err, Error::Timeout { kind: athanor::TimeoutKind::LockWait, .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(5), "gave up after {:?}", start.elapsed());
    s.rollback()?;
    blocker.commit()?;
    s.add(Customer::new("waiter", "waiter@x", 2));
    s.commit()?;
    assert_eq!(names(db)?, ["blocker", "waiter"]);
    Ok(())
}
