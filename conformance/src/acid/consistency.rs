//! Consistency: the constraints declared on models are enforced by the database and reported as
//! integrity errors naming them; concurrent bank transfers at the strongest level keep the total.

use crate::acid::models::{LooseNote, Note};
use crate::acid::{scaled, strongest_level, Rng};
use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::IntegrityKind;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn expect_integrity(err: &Error, kind: IntegrityKind) -> (Option<&str>, &[String]) {
    match err {
        Error::Integrity { kind: got, constraint, columns, .. } => {
            assert_eq!(*got, kind, "{err:?}");
            (constraint.as_deref(), columns)
        }
        other => panic!("expected an integrity error ({kind}), got {other:?}"),
    }
}

/// Unique, primary-key and not-null rules declared on models are enforced through the ORM and
/// reported as `Error::Integrity` naming the constraint (`uq_…`, `pk_…`) or, for NOT NULL, the
/// column; nothing of the failed flush is written, and the session goes on after rollback.
pub fn constraints_are_enforced_and_named(db: &TestDb) -> Result<()> {
    db.create_all()?;
    Base::new().register::<Note>().metadata().create_all(&db.engine)?;
    let s = db.session();
    s.add(Customer::new("ann", "ann@x", 30));
    s.add(Parent { id: 1, name: "p".into() });
    s.add(Note { id: 1, body: "n".into() });
    s.commit()?;

    s.add(Customer::new("other ann", "ann@x", 31));
    let err = s.commit().expect_err("duplicate email");
    assert_eq!(expect_integrity(&err, IntegrityKind::Unique).0, Some("uq_customers_email"));
    s.rollback()?;

    s.add(Parent { id: 1, name: "twin".into() });
    let err = s.commit().expect_err("duplicate primary key");
    assert_eq!(expect_integrity(&err, IntegrityKind::Unique).0, Some("pk_parents"));
    s.rollback()?;

    s.add(LooseNote { id: 2, body: None });
    let err = s.commit().expect_err("NULL into NOT NULL");
    let (_, columns) = expect_integrity(&err, IntegrityKind::NotNull);
    assert!(columns.iter().any(|c| c == "body"), "the column is named: {err:?}");
    s.rollback()?;

    // An update into an existing unique value.
    s.add(Customer::new("bob", "bob@x", 40));
    s.commit()?;
    let bob = s.query::<Customer>().filter(Customer::name.eq("bob")).one()?;
    bob.edit(|c| c.email = "ann@x".into())?;
    let err = s.commit().expect_err("update into a taken email");
    assert_eq!(expect_integrity(&err, IntegrityKind::Unique).0, Some("uq_customers_email"));
    s.rollback()?;

    let check = db.session();
    assert_eq!(check.query::<Customer>().count()?, 2);
    assert_eq!(check.query::<Parent>().count()?, 1);
    assert_eq!(check.query::<Note>().count()?, 1);
    Ok(())
}

/// Foreign keys are enforced (a child of a missing parent, deleting a parent that has children)
/// and reported as `Error::Integrity { kind: ForeignKey }` naming `fk_children_parent_id_parents`.
/// Listed as `requires(foreign_keys)`.
pub fn foreign_key_violation_names_constraint(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let p = s.add(Parent { id: 1, name: "p".into() });
    s.add(Child { id: 1, parent_id: 1, name: "c".into() });
    s.commit()?;

    s.add(Child { id: 2, parent_id: 999, name: "orphan".into() });
    let err = s.commit().expect_err("a child of a missing parent");
    let (orphan_constraint, _) = expect_integrity(&err, IntegrityKind::ForeignKey);
    let orphan_constraint = orphan_constraint.map(str::to_string);
    s.rollback()?;

    s.delete(&p)?;
    let err = s.commit().expect_err("deleting a referenced parent");
    let (parent_constraint, _) = expect_integrity(&err, IntegrityKind::ForeignKey);
    let parent_constraint = parent_constraint.map(str::to_string);
    s.rollback()?;
    assert_eq!(db.session().query::<Child>().count()?, 1, "nothing changed");

    if orphan_constraint.as_deref() != Some("fk_children_parent_id_parents") {
        return Err(Error::invalid_request(format!("insert: the constraint is not named: {orphan_constraint:?}")));
    }
    if parent_constraint.as_deref() != Some("fk_children_parent_id_parents") {
        return Err(Error::invalid_request(format!("delete: the constraint is not named: {parent_constraint:?}")));
    }
    Ok(())
}

/// What the bank workload did.
#[derive(Debug, Default)]
struct Tally {
    transfers: AtomicU64,
    insufficient: AtomicU64,
    retries: AtomicU64,
    gave_up: AtomicU64,
    audits: AtomicU64,
}

/// The sum and the smallest of the balances, read in one transaction.
fn audit(maker: &athanor::SessionMaker) -> Result<(i64, i64)> {
    maker.retry_on_serialization_failure(1000, |s| {
        let all = s.query::<Account>().all()?;
        let sum = all.iter().map(|h| h.get().balance).sum::<i64>();
        let min = all.iter().map(|h| h.get().balance).min().unwrap_or(0);
        Ok((sum, min))
    })
}

const ACCOUNTS: i64 = 10;
const OPENING: i64 = 1000;
const THREADS: u64 = 8;

/// 8 threads × N random transfers between 10 accounts (N = 60 in CI, 500 under `ATHANOR_FULL=1`),
/// each in its own session at the strongest isolation level the database lists, retried on
/// serialization failures with `retry_on_serialization_failure`, refusing to overdraw. An auditor
/// sums the balances in its own transactions meanwhile. The total never changes and no balance
/// goes negative, in every audit and at the end.
pub fn bank_transfers_keep_the_total(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add_all((1..=ACCOUNTS).map(|id| Account { id, balance: OPENING }));
    s.commit()?;
    let per_thread = scaled(60, 500) as u64;
    let engine = db.another_engine();
    let level = strongest_level(db.caps());
    let maker = athanor::sessionmaker(&engine).isolation_level(level);
    let tally = Arc::new(Tally::default());
    let done = Arc::new(AtomicBool::new(false));
    let seed = Rng::seed_from_clock();
    let total = ACCOUNTS * OPENING;
    let auditor = {
        let (maker, tally, done) = (maker.clone(), tally.clone(), done.clone());
        std::thread::spawn(move || -> Result<()> {
            while !done.load(Ordering::Acquire) {
                let (sum, min) = audit(&maker)?;
                assert_eq!(sum, total, "an audit saw a total that is not the opening total");
                assert!(min >= 0, "an audit saw a negative balance {min}");
                tally.audits.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Ok(())
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (maker, tally) = (maker.clone(), tally.clone());
            std::thread::spawn(move || -> Result<()> {
                let mut rng = Rng::new(seed ^ (t + 1).wrapping_mul(0x9e37_79b9));
                for _ in 0..per_thread {
                    let from = 1 + rng.below(ACCOUNTS as u64) as i64;
                    let to = 1 + (from + rng.below(ACCOUNTS as u64 - 1) as i64) % ACCOUNTS;
                    let amount = 1 + rng.below(300) as i64;
                    let attempts = Cell::new(0u64);
                    let r = maker.retry_on_serialization_failure(100, |s| -> Result<bool> {
                        attempts.set(attempts.get() + 1);
                        let missing = |id| Error::NotFound { what: format!("account {id}") };
                        let a = s.get::<Account>(from)?.ok_or_else(|| missing(from))?;
                        let b = s.get::<Account>(to)?.ok_or_else(|| missing(to))?;
                        if a.get().balance < amount {
                            return Ok(false);
                        }
                        a.edit(|x| x.balance -= amount)?;
                        b.edit(|x| x.balance += amount)?;
                        Ok(true)
                    });
                    tally.retries.fetch_add(attempts.get().saturating_sub(1), Ordering::Relaxed);
                    match r {
                        Ok(true) => tally.transfers.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => tally.insufficient.fetch_add(1, Ordering::Relaxed),
                        Err(e) if e.is_serialization_failure() => tally.gave_up.fetch_add(1, Ordering::Relaxed),
                        Err(e) => return Err(e),
                    };
                }
                Ok(())
            })
        })
        .collect();
    let mut failure = None;
    for w in workers {
        match w.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(e),
            Err(p) => std::panic::resume_unwind(p),
        }
    }
    done.store(true, Ordering::Release);
    match auditor.join() {
        Ok(r) => r?,
        Err(p) => std::panic::resume_unwind(p),
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let (sum, min) = audit(&maker)?;
    let t = &tally;
    let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
    eprintln!(
        "bank at {level} (seed {seed}): {} transfers, {} refused for lack of funds, {} retries, {} gave up, {} audits",
        ld(&t.transfers),
        ld(&t.insufficient),
        ld(&t.retries),
        ld(&t.gave_up),
        ld(&t.audits)
    );
    assert_eq!(sum, total, "the total changed");
    assert!(min >= 0, "a balance went negative: {min}");
    assert_eq!(ld(&t.transfers) + ld(&t.insufficient) + ld(&t.gave_up), THREADS * per_thread);
    assert!(ld(&t.gave_up) * 20 <= THREADS * per_thread, "more than 5% of transfers gave up after 100 attempts");
    Ok(())
}
