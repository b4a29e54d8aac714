//! Atomicity: a flush that fails on its k-th statement, an error or a panic inside a transaction,
//! leave nothing behind; the same session and pool then do new work.

use crate::acid::models::{LooseNote, Note};
use crate::harness::TestDb;
use crate::models::*;
use athanor::backend::BatchUpdate;
use athanor::prelude::*;
use athanor::{IntegrityKind, ObjectState};
use std::panic::{self, AssertUnwindSafe};

/// Every row of the tables the scenarios touch, as text, to compare whole database states.
fn snapshot(db: &TestDb) -> Result<Vec<String>> {
    let s = db.session();
    let mut out = Vec::new();
    out.extend(s.query::<Customer>().order_by(Customer::id.asc()).all()?.iter().map(|h| format!("{:?}", *h.get())));
    out.extend(s.query::<Parent>().order_by(Parent::id.asc()).all()?.iter().map(|h| format!("{:?}", *h.get())));
    out.extend(s.query::<Child>().order_by(Child::id.asc()).all()?.iter().map(|h| format!("{:?}", *h.get())));
    out.extend(s.query::<Note>().order_by(Note::id.asc()).all()?.iter().map(|h| format!("{:?}", *h.get())));
    Ok(out)
}

/// Statements per flush in [`flush_fails_at_kth_statement`]: one INSERT, then four UPDATEs.
const FLUSH_STATEMENTS: usize = 5;

fn seed(db: &TestDb) -> Result<()> {
    db.create_all()?;
    Base::new().register::<Note>().metadata().create_all(&db.engine)?;
    let s = db.session();
    s.add_all((1..=5).map(|i| Customer::new(&format!("c{i}"), &format!("c{i}@x"), 20 + i)));
    s.add(Customer::new("taken", "taken@x", 50));
    s.add_all([Parent { id: 1, name: "p1".into() }, Parent { id: 2, name: "p2".into() }]);
    s.add_all((1..=5).map(|i| Child { id: i, parent_id: 1, name: format!("k{i}") }));
    s.add_all((1..=5).map(|i| Note { id: i, body: format!("n{i}") }));
    s.commit()
}

/// One flush of [`FLUSH_STATEMENTS`] statements (an INSERT of a new row, then UPDATEs of four
/// existing rows of the same table, in edit order) whose `k`-th statement (1-based) breaks a
/// `kind` rule. Returns the session and the error.
fn failing_flush(db: &TestDb, kind: IntegrityKind, k: usize) -> Result<(Session, Error)> {
    let s = db.session();
    let bad = |stmt: usize| stmt == k;
    match kind {
        IntegrityKind::Unique => {
            let email = |stmt| if bad(stmt) { "taken@x".to_string() } else { format!("new{stmt}@x") };
            let all = s.query::<Customer>().filter(Customer::name.ne("taken")).order_by(Customer::id.asc()).all()?;
            s.add(Customer::new("new", &email(1), 1));
            for (j, h) in all.iter().take(FLUSH_STATEMENTS - 1).enumerate() {
                let e = email(j + 2);
                h.edit(|c| c.email = e)?;
            }
        }
        IntegrityKind::ForeignKey => {
            let parent = |stmt| if bad(stmt) { 999 } else { 2 };
            let all = s.query::<Child>().order_by(Child::id.asc()).all()?;
            s.add(Child { id: 100, parent_id: parent(1), name: "new".into() });
            for (j, h) in all.iter().take(FLUSH_STATEMENTS - 1).enumerate() {
                let p = parent(j + 2);
                h.edit(|c| c.parent_id = p)?;
            }
        }
        _ => {
            let body = |stmt| if bad(stmt) { None } else { Some(format!("edited {stmt}")) };
            let all = s.query::<LooseNote>().order_by(LooseNote::id.asc()).all()?;
            s.add(LooseNote { id: 100, body: body(1) });
            for (j, h) in all.iter().take(FLUSH_STATEMENTS - 1).enumerate() {
                let b = body(j + 2);
                h.edit(|n| n.body = b)?;
            }
        }
    }
    db.clear_sql();
    let err = s.flush().expect_err("the flush breaks a rule");
    Ok((s, err))
}

/// For unique, foreign-key and not-null violations on each statement k of a five-statement flush:
/// exactly k statements were sent (the UPDATEs one batch statement where the database has one), the error is an integrity error of that kind naming the
/// constraint (not null: the column), rollback leaves the database exactly as before, and the
/// same session then commits new work.
pub fn flush_fails_at_kth_statement(db: &TestDb) -> Result<()> {
    seed(db)?;
    let before = snapshot(db)?;
    for kind in [IntegrityKind::Unique, IntegrityKind::ForeignKey, IntegrityKind::NotNull] {
        for k in 1..=FLUSH_STATEMENTS {
            let (s, err) = failing_flush(db, kind, k)?;
            let sent: Vec<String> =
                db.take_sql().into_iter().filter(|q| q.starts_with("INSERT") || q.starts_with("UPDATE")).collect();
            // The four UPDATEs change the same column: where the database takes a batch in one
            // statement (`BatchUpdate::ReturningKeys`, `MatchedCount`) they are statement 2.
            let expected = if db.caps().batch_update == BatchUpdate::PerRow { k } else { k.min(2) };
            assert_eq!(sent.len(), expected, "{kind} at row {k}: statements sent {sent:?}");
            match &err {
                Error::Integrity { kind: got, constraint, columns, .. } => {
                    assert_eq!(*got, kind, "{kind} at {k}: {err:?}");
                    match kind {
                        IntegrityKind::Unique => {
                            assert_eq!(constraint.as_deref(), Some("uq_customers_email"), "{err:?}")
                        }
                        IntegrityKind::NotNull => assert!(columns.iter().any(|c| c == "body"), "{err:?}"),
                        // Named where the database says which (see foreign_key_violation_names_constraint).
                        _ => {}
                    }
                }
                other => panic!("{kind} at statement {k}: expected an integrity error, got {other:?}"),
            }
            assert!(!s.is_active(), "the session needs rollback()");
            s.rollback()?;
            assert_eq!(snapshot(db)?, before, "{kind} at statement {k}: nothing of the failed flush remains");
            // The same session does new work, then undoes it for the next round.
            let extra = s.add(Parent { id: 50, name: "new work".into() });
            s.commit()?;
            assert_eq!(extra.state(), ObjectState::Persistent);
            s.delete(&extra)?;
            s.commit()?;
        }
    }
    assert_eq!(snapshot(db)?, before);
    Ok(())
}

fn count_customers(db: &TestDb) -> Result<u64> {
    db.session().query::<Customer>().count()
}

/// An error or a panic inside `engine.transaction`, after several statements, leaves nothing;
/// the pool is intact (every connection back, none leaked) and serves new transactions.
pub fn engine_transaction_error_or_panic_leaves_nothing(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let sql = athanor::backend::sql::insert(db.engine.dialect(), Customer::TABLE, 1, true, None)?;
    let r: Result<()> = db.engine.transaction(|c| {
        for i in 0..5 {
            c.execute(&sql, &params![format!("e{i}"), None::<String>, format!("e{i}@x"), i])?;
        }
        Err(Error::invalid_request("the caller gives up"))
    });
    assert!(matches!(r, Err(Error::InvalidRequest { .. })), "{r:?}");
    assert_eq!(count_customers(db)?, 0);
    let r: Result<()> = db.engine.transaction(|c| {
        c.execute(&sql, &params!["dup", None::<String>, "dup@x", 1])?;
        c.execute(&sql, &params!["dup", None::<String>, "dup@x", 1])?;
        Ok(())
    });
    assert!(matches!(r, Err(Error::Integrity { .. })), "{r:?}");
    assert_eq!(count_customers(db)?, 0);
    let engine = db.engine.clone();
    let sql2 = sql.clone();
    let r = panic::catch_unwind(move || {
        let _ = engine.transaction(|c| -> Result<()> {
            for i in 0..5 {
                c.execute(&sql2, &params![format!("p{i}"), None::<String>, format!("p{i}@x"), i])?;
            }
            panic!("boom inside engine.transaction");
        });
    });
    assert!(r.is_err(), "the panic propagates");
    assert_eq!(count_customers(db)?, 0);
    let (open, idle) = db.engine.pool_status();
    assert_eq!(open, idle, "every connection is back in the pool");
    db.engine.transaction(|c| c.execute(&sql, &params!["kept", None::<String>, "kept@x", 1]))?;
    assert_eq!(count_customers(db)?, 1);
    Ok(())
}

/// A session that flushed work and then meets an error from the program (dropped without
/// commit) or a panic (dropped while unwinding) leaves nothing; the same engine then commits.
pub fn session_error_or_panic_leaves_nothing(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let work = |s: &Session, tag: &str| -> Result<()> {
        s.add_all((0..10).map(|i| Customer::new(tag, &format!("{tag}{i}@x"), i)));
        s.add(Parent { id: 7, name: tag.into() });
        s.flush()
    };
    let attempt = |fail: bool| -> Result<()> {
        let s = db.session();
        work(&s, "err")?;
        if fail {
            return Err(Error::invalid_request("the program changed its mind"));
        }
        s.commit()
    };
    assert!(attempt(true).is_err());
    assert_eq!(count_customers(db)?, 0);
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let s = db.session();
        work(&s, "panic").expect("flush");
        panic!("boom with a flushed session");
    }));
    assert!(r.is_err());
    assert_eq!(count_customers(db)?, 0);
    assert_eq!(db.session().query::<Parent>().count()?, 0);
    // The same session after an explicit rollback, and the pool, do new work.
    let s = db.session();
    work(&s, "rolled")?;
    s.rollback()?;
    work(&s, "kept")?;
    s.commit()?;
    assert_eq!(count_customers(db)?, 10);
    drop(s);
    let (open, idle) = db.engine.pool_status();
    assert_eq!(open, idle, "every connection is back in the pool");
    Ok(())
}
