//! Events: session events (`before_flush`, `after_flush`, `after_commit`, `after_rollback`),
//! per-model hooks on the object path and on bulk statements (`before_insert`, `before_update`,
//! `before_delete`, `after_load`), a hook's error failing the transaction, and the engine's
//! pool events (`connect`, `checkout`). Each scenario records the hooks and the statements in
//! one log, so the order between them is asserted exactly.

use crate::harness::{normalize, TestDb};
use crate::models::*;
use athanor::prelude::*;
use athanor::{Change, SessionMaker};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Hooks' and statements' lines, in the order they happened.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line.into())
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
    /// Log the engine's statements: DML as its normalized text, a SELECT as `SELECT`, COMMIT
    /// and ROLLBACK; the BEGIN of each database (its own spelling) is left out.
    fn statements(&self, engine: &Engine) {
        let log = self.clone();
        engine.on_statement(move |e| {
            let sql = normalize(e.sql);
            let first = sql.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            match first.as_str() {
                "SELECT" => log.push("SELECT"),
                "INSERT" | "UPDATE" | "DELETE" | "COMMIT" | "ROLLBACK" => log.push(sql),
                _ => {}
            }
        });
    }
}

fn describe<M>(what: &str, change: &Change<'_, M>, key: impl Fn(&M) -> String) -> String {
    match change {
        Change::Object(m) => format!("{what} {}", key(m)),
        Change::Keys(keys) => format!("{what} keys {keys:?}"),
    }
}

/// A factory whose every event writes to `log`; `Parent` names get a mark from the insert and
/// update hooks, so the test sees that changes made in a hook are written.
fn logging_maker(db: &TestDb, log: &Log) -> SessionMaker {
    let l = |log: &Log| log.clone();
    let (a, b, c, d, e, f, g, h, i) = (l(log), l(log), l(log), l(log), l(log), l(log), l(log), l(log), l(log));
    athanor::sessionmaker(&db.engine)
        .on_before_flush(move |_| {
            a.push("before_flush");
            Ok(())
        })
        .on_after_flush(move |_| {
            b.push("after_flush");
            Ok(())
        })
        .on_after_commit(move |_| c.push("after_commit"))
        .on_after_rollback(move |_| d.push("after_rollback"))
        .on_before_insert::<Parent>(move |mut p| {
            e.push(describe("before_insert parent", &p, |p| p.id.to_string()));
            if let Change::Object(p) = &mut p {
                p.name.push_str(" +i");
            }
            Ok(())
        })
        .on_before_update::<Parent>(move |mut p| {
            f.push(describe("before_update parent", &p, |p| p.id.to_string()));
            if let Change::Object(p) = &mut p {
                p.name.push_str(" +u");
            }
            Ok(())
        })
        .on_before_delete::<Child>(move |c| {
            g.push(describe("before_delete child", &c, |c| c.id.to_string()));
            Ok(())
        })
        .on_before_insert::<Child>(move |c| {
            h.push(describe("before_insert child", &c, |c| c.id.to_string()));
            Ok(())
        })
        .on_after_load::<Parent>(move |p| {
            i.push(format!("after_load parent {} {}", p.id, p.name));
            Ok(())
        })
}

/// The unit of work's events, in order: `before_flush`, each object's hook just before its
/// statement, `after_flush`, then `after_commit` after the COMMIT (or `after_rollback` after
/// the ROLLBACK); a change made by a hook is written; `after_load` for each object built from
/// a row or refreshed, not for one the identity map holds fresh.
pub fn session_events_and_model_hooks_in_order(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let log = Log::default();
    log.statements(&db.engine);
    let maker = logging_maker(db, &log);
    let s = maker.session();
    s.add(Parent { id: 1, name: "mum".into() });
    s.add(Child { id: 10, parent_id: 1, name: "ann".into() });
    s.add(Child { id: 11, parent_id: 1, name: "bob".into() });
    s.commit()?;
    assert_eq!(
        log.take(),
        [
            "before_flush",
            "before_insert parent 1",
            "INSERT INTO parents (id, name) VALUES (?, ?)",
            "before_insert child 10",
            "before_insert child 11",
            "INSERT INTO children (id, parent_id, name) VALUES (?, ?, ?), (?, ?, ?)",
            "after_flush",
            "COMMIT",
            "after_commit",
        ]
    );
    // Expired by the commit: the query refreshes the object (after_load), a second one does not.
    let mum = s.query::<Parent>().one()?;
    let again = s.query::<Parent>().one()?;
    assert_eq!(again.get().name, "mum +i");
    assert_eq!(log.take(), ["SELECT", "after_load parent 1 mum +i", "SELECT"]);
    // Nothing to flush: no flush events.
    s.flush()?;
    assert_eq!(log.take(), Vec::<String>::new());
    // refresh() reloads the object from its row: after_load again.
    s.refresh(&mum)?;
    assert_eq!(log.take(), ["SELECT", "after_load parent 1 mum +i"]);
    let ann = s.get::<Child>(10)?.ok_or_else(|| Error::invalid_request("ann is gone"))?;
    mum.edit(|p| p.name = "mother".into())?;
    s.delete(&ann)?;
    s.commit()?;
    assert_eq!(
        log.take(),
        [
            "SELECT",
            "before_flush",
            "before_update parent 1",
            "UPDATE parents SET name = ? WHERE id = ?",
            "before_delete child 10",
            "DELETE FROM children WHERE id = ?",
            "after_flush",
            "COMMIT",
            "after_commit",
        ]
    );
    // A fresh session made by the same factory has the same events; a rollback calls
    // after_rollback, and the undone delete is not written.
    let s2 = maker.session();
    let bob = s2.get::<Child>(11)?.ok_or_else(|| Error::invalid_request("bob is gone"))?;
    s2.delete(&bob)?;
    s2.flush()?;
    s2.rollback()?;
    assert_eq!(
        log.take(),
        [
            "SELECT",
            "before_flush",
            "before_delete child 11",
            "DELETE FROM children WHERE id = ?",
            "after_flush",
            "ROLLBACK",
            "after_rollback",
        ]
    );
    // A rollback with no transaction calls nothing; a session of a plain factory has no events.
    s2.rollback()?;
    let plain = db.session();
    let p = plain.get::<Parent>(1)?.ok_or_else(|| Error::invalid_request("mum is gone"))?;
    assert_eq!(p.get().name, "mother +u");
    assert_eq!(plain.query::<Child>().count()?, 1);
    assert_eq!(log.take(), ["SELECT", "SELECT"]);
    Ok(())
}

/// Bulk statements call the model hooks too: `session.insert()` (and its upsert) per row before
/// the INSERT, a change made to the row inserted; `query.update(…)` and `query.delete()` once,
/// with the keys of the matched rows, read in the transaction before the statement, with or
/// without session synchronization.
pub fn model_hooks_fire_on_bulk_statements(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let log = Log::default();
    let maker = logging_maker(db, &log);
    let s = maker.session();
    s.insert::<Parent>()
        .values([
            Parent { id: 1, name: "a".into() },
            Parent { id: 2, name: "b".into() },
            Parent { id: 3, name: "c".into() },
        ])
        .execute()?;
    s.insert::<Child>().values([Child { id: 10, parent_id: 1, name: "x".into() }]).execute()?;
    assert_eq!(
        log.take(),
        ["before_insert parent 1", "before_insert parent 2", "before_insert parent 3", "before_insert child 10"]
    );
    s.insert::<Parent>()
        .values([Parent { id: 3, name: "c2".into() }])
        .on_conflict(Parent::id)
        .do_update(Parent::name)?;
    assert_eq!(log.take(), ["before_insert parent 3"]);
    log.statements(&db.engine);
    let n = s.query::<Parent>().filter(Parent::id.ge(2)).update(|set| set.value(Parent::name, "z"))?;
    assert_eq!(n, 2);
    assert_eq!(
        log.take(),
        [
            "SELECT",
            "before_update parent keys [[I64(2)], [I64(3)]]",
            "UPDATE parents SET name = ? WHERE parents.id >= ?"
        ]
    );
    // Without synchronization the keys are still read, for the hook.
    let n =
        s.query::<Child>().filter(Child::parent_id.eq(1)).synchronize_session(athanor::Synchronize::None).delete()?;
    assert_eq!(n, 1);
    assert_eq!(
        log.take(),
        ["SELECT", "before_delete child keys [[I64(10)]]", "DELETE FROM children WHERE children.parent_id = ?"]
    );
    // A model without hooks for a statement: no key read.
    s.query::<Child>().filter(Child::id.eq(99)).update(|set| set.value(Child::name, "q"))?;
    s.query::<Parent>().filter(Parent::id.eq(99)).synchronize_session(athanor::Synchronize::None).delete()?;
    assert_eq!(
        log.take(),
        ["SELECT", "UPDATE children SET name = ? WHERE children.id = ?", "DELETE FROM parents WHERE parents.id = ?"]
    );
    s.commit()?;
    let names: Vec<String> =
        db.session().query::<Parent>().order_by(Parent::id.asc()).all()?.iter().map(|p| p.get().name.clone()).collect();
    assert_eq!(names, ["a +i", "z", "z"]);
    Ok(())
}

/// A hook's error aborts what it ran in as a failed statement does: the flush (or bulk
/// statement) fails with the hook's error, the transaction is rolled back (the rows written
/// before it are gone), the session answers `PendingRollback` until `rollback()`, then works.
pub fn hook_error_rolls_back_and_session_recovers(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let refuse = Arc::new(AtomicBool::new(false));
    let flag = refuse.clone();
    let maker = athanor::sessionmaker(&db.engine)
        .on_before_insert::<Child>(|c| match c {
            Change::Object(c) if c.name == "bad" => Err(Error::invalid_request("no bad children")),
            _ => Ok(()),
        })
        .on_before_flush(move |_| {
            if flag.load(Ordering::SeqCst) {
                Err(Error::invalid_request("flushing is off"))
            } else {
                Ok(())
            }
        });
    let s = maker.session();
    s.add(Parent { id: 1, name: "mum".into() });
    s.add(Child { id: 10, parent_id: 1, name: "bad".into() });
    let e = s.commit().expect_err("the hook refuses");
    assert_eq!(e.to_string(), Error::invalid_request("no bad children").to_string());
    assert!(!s.is_active());
    let pending = s.query::<Parent>().count().expect_err("the session needs rollback()");
    assert!(matches!(pending, Error::PendingRollback { .. }), "{pending:?}");
    s.rollback()?;
    // The parent inserted before the refused child was rolled back with it.
    assert_eq!(db.session().query::<Parent>().count()?, 0);
    assert!(s.is_active());
    // The session works again; the refused objects are transient, add them again if wanted.
    s.add(Parent { id: 2, name: "dad".into() });
    s.commit()?;
    // before_flush refusing: nothing is written.
    refuse.store(true, Ordering::SeqCst);
    s.add(Parent { id: 3, name: "gran".into() });
    let e = s.flush().expect_err("before_flush refuses");
    assert_eq!(e.to_string(), Error::invalid_request("flushing is off").to_string());
    assert!(matches!(s.get::<Parent>(2), Err(Error::PendingRollback { .. })));
    s.rollback()?;
    refuse.store(false, Ordering::SeqCst);
    // A bulk insert's hook refusing a row: nothing of the statement is sent, same rule.
    let e = s
        .insert::<Child>()
        .values([Child { id: 20, parent_id: 2, name: "ok".into() }, Child { id: 21, parent_id: 2, name: "bad".into() }])
        .execute()
        .expect_err("the hook refuses a row");
    assert_eq!(e.to_string(), Error::invalid_request("no bad children").to_string());
    assert!(!s.is_active());
    s.rollback()?;
    let check = db.session();
    assert_eq!(check.query::<Parent>().count()?, 1);
    assert_eq!(check.query::<Child>().count()?, 0);
    Ok(())
}

/// Per-connection setup as each database spells it, and the statement reading it back.
fn setup_statements(db: &TestDb) -> (&'static str, &'static str, i64) {
    match db.backend {
        "sqlite" => ("PRAGMA cache_size = -1234", "PRAGMA cache_size", -1234),
        "postgres" => ("SET athanor.events = '4321'", "SELECT CAST(current_setting('athanor.events') AS BIGINT)", 4321),
        _ => ("SET @athanor_events = 77", "SELECT CAST(@athanor_events AS SIGNED)", 77),
    }
}

/// Pool events: `connect` once per new physical connection, before its first use, then
/// `checkout` at each checkout (a session's transaction included); the setup a hook makes is
/// seen by the connection's statements. A hook's error fails the checkout with that error and
/// the connection is discarded: the next checkout opens a new one and calls `connect` again.
pub fn pool_connect_and_checkout_hooks(db: &TestDb) -> Result<()> {
    let engine = db.another_engine();
    let log = Log::default();
    let (setup, read, expected) = setup_statements(db);
    let refuse = Arc::new(AtomicBool::new(false));
    let (l1, l2, flag) = (log.clone(), log.clone(), refuse.clone());
    engine.on_connect(move |conn| {
        l1.push("connect");
        conn.batch_execute(setup)
    });
    engine.on_checkout(move |_conn| {
        l2.push("checkout");
        if flag.load(Ordering::SeqCst) {
            return Err(Error::invalid_request("checkout refused"));
        }
        Ok(())
    });
    {
        let mut conn = engine.connect()?;
        let v: i64 = conn.query(read, &[])?[0].get(0)?;
        assert_eq!(v, expected);
    }
    {
        let mut conn = engine.connect()?;
        let v: i64 = conn.query(read, &[])?[0].get(0)?;
        assert_eq!(v, expected);
    }
    assert_eq!(log.take(), ["connect", "checkout", "checkout"]);
    assert_eq!(engine.pool_metrics().connections, 1);
    // A session's transaction checks a connection out too.
    let s = athanor::sessionmaker(&engine).session();
    s.begin()?;
    s.rollback()?;
    assert_eq!(log.take(), ["checkout"]);
    // A refusing hook: the checkout fails with its error and the connection is discarded.
    refuse.store(true, Ordering::SeqCst);
    let e = engine.connect().expect_err("the hook refuses");
    assert_eq!(e.to_string(), Error::invalid_request("checkout refused").to_string());
    let e = s.begin().expect_err("the session's checkout is refused too");
    assert_eq!(e.to_string(), Error::invalid_request("checkout refused").to_string());
    assert_eq!(engine.pool_metrics().connections, 0);
    refuse.store(false, Ordering::SeqCst);
    {
        let mut conn = engine.connect()?;
        let v: i64 = conn.query(read, &[])?[0].get(0)?;
        assert_eq!(v, expected);
    }
    assert_eq!(log.take(), ["checkout", "connect", "checkout", "connect", "checkout"]);
    // The session refused at its checkout is usable.
    s.begin()?;
    s.commit()?;
    assert_eq!(log.take(), ["checkout"]);
    Ok(())
}
