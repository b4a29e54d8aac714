//! The Session unit of work: identity map, dirty tracking, flush order, autoflush, rollback.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::ObjectState;

/// Three customers committed, and the statement log cleared (also the start of the `detached`
/// scenarios).
pub(crate) fn seed(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add_all(vec![
        Customer::new("brian", "brian@example.com", 34),
        Customer::new("ann", "ann@example.com", 41),
        Customer::new("zed", "zed@example.com", 12),
    ]);
    s.commit()?;
    db.clear_sql();
    Ok(())
}

/// add + commit writes the generated keys back, in insertion order.
pub fn commit_writes_generated_keys_back(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let hs = s.add_all((0..5).map(|i| Customer::new(&format!("c{i}"), &format!("c{i}@x"), i)));
    assert!(hs.iter().all(|h| h.get().id.is_none()));
    s.commit()?;
    let ids: Vec<i64> = hs.iter().map(|h| h.get().id.expect("key written back")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "keys follow insertion order: {ids:?}");
    for h in &hs {
        assert_eq!(h.state(), ObjectState::Persistent);
        let fresh = db.session().get::<Customer>(h.get().id.expect("id"))?.expect("row exists");
        assert_eq!(fresh.get().name, h.get().name, "key matches the row's own values");
    }
    Ok(())
}

/// A flush of many new rows is a few multi-row INSERTs, not one per row.
pub fn flush_batches_inserts(db: &TestDb) -> Result<()> {
    db.create_all()?;
    db.clear_sql();
    let s = db.session();
    s.add_all((0..1200).map(|i| Customer::new("n", &format!("e{i}@x"), 20)));
    s.flush()?;
    let inserts = db.take_sql().into_iter().filter(|q| q.starts_with("INSERT")).count();
    assert!(inserts <= 3, "1200 rows should take at most 3 statements, took {inserts}");
    s.commit()?;
    assert_eq!(db.session().query::<Customer>().count()?, 1200);
    Ok(())
}

/// The identity map: one instance per row per session, and `get` of a loaded key sends no SQL.
pub fn identity_map_returns_same_instance(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let a = s.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    let id = a.get().id.expect("id");
    let before = db.engine.statement_count();
    let b = s.get::<Customer>(id)?.expect("loaded");
    assert_eq!(db.engine.statement_count(), before, "a get of a loaded key emits no SQL");
    assert!(Handle::ptr_eq(&a, &b));
    let all = s.query::<Customer>().order_by(Customer::name.asc()).all()?;
    assert!(all.iter().any(|h| Handle::ptr_eq(h, &a)), "a query returns the same instance");
    assert_eq!(s.identity_count(), 3);
    Ok(())
}

/// Changing one field emits one UPDATE naming only that column; no change, no statement.
pub fn dirty_tracking_updates_changed_columns_only(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let brian = s.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    db.clear_sql();
    s.flush()?;
    brian.edit(|c| c.age = 34)?; // same value: not a change
    s.flush()?;
    assert!(db.take_sql().iter().all(|q| !q.starts_with("UPDATE")), "no UPDATE when nothing changed");
    brian.edit(|c| c.address = Some("1 Main St".into()))?;
    s.commit()?;
    let sql = db.take_sql();
    let updates: Vec<&String> = sql.iter().filter(|q| q.starts_with("UPDATE")).collect();
    assert_eq!(updates, ["UPDATE customers SET address = ? WHERE id = ?"]);
    let again = db.session().get::<Customer>(brian.get().id.expect("id"))?.expect("row");
    assert_eq!(again.get().address.as_deref(), Some("1 Main St"));
    Ok(())
}

/// Autoflush: a query sees the session's own pending changes.
pub fn autoflush_before_query(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    s.add(Customer::new("newbie", "newbie@x", 19));
    assert_eq!(s.query::<Customer>().filter(Customer::age.ge(18)).count()?, 3);
    s.rollback()?; // one writer at a time on SQLite
    let off = athanor::sessionmaker(&db.engine).autoflush(false).session();
    off.add(Customer::new("quiet", "quiet@x", 50));
    assert_eq!(off.query::<Customer>().filter(Customer::name.eq("quiet")).count()?, 0, "autoflush off");
    off.flush()?;
    assert_eq!(off.query::<Customer>().filter(Customer::name.eq("quiet")).count()?, 1);
    Ok(())
}

/// A unique violation on flush is an integrity error naming the constraint; the session needs
/// rollback() and then commits new work fine.
pub fn unique_violation_then_rollback_recovers(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ok = s.add(Customer::new("first", "first@x", 30));
    let dup = s.add(Customer::new("dup", "brian@example.com", 30));
    let err = s.commit().expect_err("duplicate email");
    match &err {
        Error::Integrity { kind, constraint, .. } => {
            assert_eq!(*kind, athanor::IntegrityKind::Unique);
            assert_eq!(constraint.as_deref(), Some("uq_customers_email"), "{err}");
        }
        other => panic!("expected an integrity error, got {other:?}"),
    }
    assert!(!s.is_active());
    assert!(std::error::Error::source(&err).is_some(), "the driver's error is kept: {err:?}");
    let pending = s.query::<Customer>().count().expect_err("needs rollback");
    match &pending {
        Error::PendingRollback { cause } => assert!(cause.is_integrity(), "the cause keeps its kind: {cause:?}"),
        other => panic!("expected PendingRollback, got {other:?}"),
    }
    assert_eq!(pending.root_cause(), &err);
    s.rollback()?;
    assert_eq!(ok.state(), ObjectState::Transient);
    assert_eq!(dup.state(), ObjectState::Transient);
    s.add(Customer::new("after", "after@x", 22));
    s.commit()?;
    let names: Vec<String> =
        s.query::<Customer>().order_by(Customer::name.asc()).all()?.iter().map(|h| h.get().name.clone()).collect();
    assert_eq!(names, ["after", "ann", "brian", "zed"], "nothing of the failed flush was written");
    Ok(())
}

/// Another session deletes a row this session holds; this session's edit then flushes an UPDATE
/// that matches no row: [`Error::StaleData`] (not `NotFound`), and the session needs rollback()
/// with the stale-data error as the pending rollback's cause.
pub fn update_of_a_deleted_row_is_stale_data(db: &TestDb) -> Result<()> {
    seed(db)?;
    let a = athanor::sessionmaker(&db.engine).expire_on_commit(false).session();
    let brian = a.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    let id = brian.get().id.expect("id");
    a.commit()?; // no transaction of `a` holds a lock or a snapshot while `b` deletes
    let b = athanor::sessionmaker(&db.another_engine()).session();
    let gone = b.get::<Customer>(id)?.expect("row");
    b.delete(&gone)?;
    b.commit()?;
    brian.edit(|c| c.age = 35)?;
    let err = a.flush().expect_err("the row is gone");
    match &err {
        Error::StaleData { table, expected: 1, matched: 0, .. } => assert_eq!(table, "customers"),
        other => panic!("expected StaleData, got {other:?}"),
    }
    assert!(!a.is_active());
    let pending = a.query::<Customer>().count().expect_err("needs rollback");
    assert!(matches!(&pending, Error::PendingRollback { cause } if **cause == err), "{pending:?}");
    a.rollback()?;
    assert_eq!(a.query::<Customer>().count()?, 2);
    Ok(())
}

/// Parents are inserted before children and children deleted before parents, whatever the
/// order objects were added or deleted in.
pub fn flush_orders_by_foreign_keys(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let c = s.add(Child { id: 10, parent_id: 1, name: "kid".into() });
    let p = s.add(Parent { id: 1, name: "mum".into() });
    db.clear_sql();
    s.commit()?;
    let sql = db.take_sql();
    let pos = |prefix: &str| sql.iter().position(|q| q.starts_with(prefix)).expect(prefix);
    assert!(pos("INSERT INTO parents") < pos("INSERT INTO children"), "{sql:?}");
    s.delete(&p)?;
    s.delete(&c)?;
    s.commit()?;
    let sql = db.take_sql();
    let pos = |prefix: &str| sql.iter().position(|q| q.starts_with(prefix)).expect(prefix);
    assert!(pos("DELETE FROM children") < pos("DELETE FROM parents"), "{sql:?}");
    assert_eq!(p.state(), ObjectState::Detached);
    Ok(())
}

/// delete + rollback: nothing deleted; the object is persistent (and expired) again.
pub fn rollback_undoes_delete_and_pending(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let brian = s.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    let extra = s.add(Customer::new("extra", "extra@x", 5));
    s.delete(&brian)?;
    s.flush()?;
    assert_eq!(brian.state(), ObjectState::Deleted);
    assert_eq!(s.query::<Customer>().count()?, 3, "brian deleted, extra added");
    s.rollback()?;
    assert_eq!(brian.state(), ObjectState::Persistent);
    assert!(brian.is_expired());
    assert_eq!(extra.state(), ObjectState::Transient);
    assert_eq!(s.query::<Customer>().count()?, 3);
    let again = s.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    assert!(Handle::ptr_eq(&again, &brian));
    assert!(!brian.is_expired(), "the query reloaded it");
    Ok(())
}

/// An unflushed edit is undone by rollback.
pub fn rollback_undoes_unflushed_edit(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    ann.edit(|c| c.age = 99)?;
    s.rollback()?;
    assert_eq!(ann.get().age, 41);
    assert!(!s.is_dirty());
    Ok(())
}

/// expire + refresh / load reload the values from the database.
pub fn expire_and_refresh_reload(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    let id = ann.get().id.expect("id");
    s.commit()?; // ends the read transaction; expire_on_commit expires ann
    let other = athanor::sessionmaker(&db.another_engine()).session();
    other.get::<Customer>(id)?.expect("row").edit(|c| c.age = 50)?;
    other.commit()?;
    assert_eq!(ann.get().age, 41, "no I/O on plain access");
    assert!(ann.is_expired());
    assert_eq!(ann.load()?.age, 50);
    ann.edit(|c| c.age = 51)?;
    s.expire(&ann);
    s.refresh(&ann)?;
    assert_eq!(ann.get().age, 50, "refresh discards the unflushed change");
    Ok(())
}

/// expunge detaches; close detaches everything; get after close reloads a new instance.
pub fn expunge_and_close_detach(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let all = s.query::<Customer>().all()?;
    s.expunge(&all[0]);
    assert_eq!(all[0].state(), ObjectState::Detached);
    assert_eq!(s.identity_count(), 2);
    s.close();
    assert_eq!(s.identity_count(), 0);
    assert!(all.iter().all(|h| h.state() == ObjectState::Detached));
    let again = s.get::<Customer>(all[1].get().id.expect("id"))?.expect("row");
    assert!(!Handle::ptr_eq(&again, &all[1]));
    Ok(())
}

/// Dropping a session rolls back its uncommitted work.
pub fn drop_rolls_back(db: &TestDb) -> Result<()> {
    seed(db)?;
    {
        let s = db.session();
        s.add(Customer::new("ghost", "ghost@x", 1));
        s.flush()?;
    }
    assert_eq!(db.session().query::<Customer>().filter(Customer::name.eq("ghost")).count()?, 0);
    let (open, _) = db.engine.pool_status();
    assert!(open >= 1);
    Ok(())
}

/// begin_nested: rolling back to the savepoint keeps the outer work.
pub fn nested_rollback_keeps_outer_work(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Customer::new("outer", "outer@x", 1));
    let sp = s.begin_nested()?;
    let inner = s.add(Customer::new("inner", "inner@x", 2));
    s.flush()?;
    sp.rollback()?;
    assert_eq!(inner.state(), ObjectState::Transient);
    let sp2 = s.begin_nested()?;
    s.add(Customer::new("kept", "kept@x", 3));
    sp2.commit()?;
    s.commit()?;
    let mut names: Vec<String> = s.query::<Customer>().all()?.iter().map(|h| h.get().name.clone()).collect();
    names.sort();
    assert_eq!(names, ["kept", "outer"]);
    Ok(())
}

/// A failure inside a savepoint rolls back to the savepoint only.
pub fn nested_failure_keeps_outer_work(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    s.add(Customer::new("outer", "outer@x", 1));
    let sp = s.begin_nested()?;
    s.add(Customer::new("dup", "ann@example.com", 2));
    let err = s.flush().expect_err("duplicate");
    assert!(err.is_integrity());
    sp.rollback()?;
    assert!(s.is_active(), "the nested rollback clears the failure");
    s.commit()?;
    assert_eq!(db.session().query::<Customer>().filter(Customer::name.eq("outer")).count()?, 1);
    Ok(())
}

/// Composite primary keys: get by tuple, update, delete.
pub fn composite_primary_key(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Membership { group_id: 1, user_name: "ann".into(), role: "admin".into() });
    s.add(Membership { group_id: 1, user_name: "bob".into(), role: "user".into() });
    s.add(Membership { group_id: 2, user_name: "ann".into(), role: "user".into() });
    s.commit()?;
    let s2 = db.session();
    let m = s2.get::<Membership>((1, "bob"))?.expect("row");
    assert_eq!(m.get().role, "user");
    m.edit(|m| m.role = "owner".into())?;
    s2.commit()?;
    db.clear_sql();
    let m2 = db.session().get::<Membership>((1, "bob"))?.expect("row");
    assert_eq!(m2.get().role, "owner");
    assert!(db.session().get::<Membership>((3, "bob"))?.is_none());
    let wrong = db.session().get::<Membership>(1).expect_err("one value for a two-column key");
    assert!(matches!(wrong, Error::InvalidRequest { .. }));
    Ok(())
}

/// Changing a primary key of a persistent object is refused at flush.
pub fn primary_key_change_is_refused(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let p = s.add(Parent { id: 1, name: "p".into() });
    s.commit()?;
    p.edit(|p| p.id = 2)?;
    let err = s.flush().expect_err("pk change");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    s.rollback()?;
    assert!(p.is_expired());
    assert_eq!(p.load()?.id, 1, "reloaded by its identity key");
    Ok(())
}

/// Raw SQL through the session runs in its transaction.
pub fn session_execute_joins_transaction(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let table = athanor::backend::quoted(db.engine.dialect(), "customers")?;
    let n = s.execute_sql(&format!("DELETE FROM {table}"), &[])?;
    assert_eq!(n, 3);
    assert_eq!(s.query::<Customer>().count()?, 0);
    s.rollback()?;
    let rows = s.query_sql(&format!("SELECT COUNT(*) FROM {table}"), &[])?;
    assert_eq!(rows[0].get::<i64>(0)?, 3);
    Ok(())
}

/// Deleting an object that is not in the session is an error, not a silent no-op.
pub fn delete_of_foreign_object_is_an_error(db: &TestDb) -> Result<()> {
    seed(db)?;
    let a = db.session();
    let b = db.session();
    let h = a.query::<Customer>().first()?.expect("row");
    assert!(matches!(b.delete(&h), Err(Error::InvalidRequest { .. })));
    Ok(())
}

/// A row whose only column is generated (`DEFAULT VALUES`, or `() VALUES ()` on MySQL).
pub fn insert_key_only_rows(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let hs = s.add_all(vec![Ticket { id: None }, Ticket { id: None }, Ticket { id: None }]);
    s.commit()?;
    let mut ids: Vec<i64> = hs.iter().map(|h| h.get().id.expect("generated")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(db.session().query::<Ticket>().count()?, 3);
    Ok(())
}

/// Editing an expired object writes only the columns the edit changed: another session's
/// committed change to an untouched column survives (no lost update).
pub fn expired_edit_keeps_other_sessions_change(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let a = db.session();
    let brian = a.add(Customer::new("brian", "brian@example.com", 30));
    a.commit()?; // expire_on_commit: brian is expired
    let id = brian.get().id.expect("id");
    let b = athanor::sessionmaker(&db.another_engine()).session();
    b.get::<Customer>(id)?.expect("row").edit(|c| c.age = 99)?;
    b.commit()?;
    assert!(brian.is_expired());
    db.clear_sql();
    brian.edit(|c| c.address = Some("1 Main St".into()))?;
    a.commit()?;
    let updates: Vec<String> = db.take_sql().into_iter().filter(|q| q.starts_with("UPDATE")).collect();
    assert_eq!(updates, ["UPDATE customers SET address = ? WHERE id = ?"], "only the edited column is written");
    let fresh = db.session().get::<Customer>(id)?.expect("row");
    assert_eq!(fresh.get().age, 99, "the other session's committed change survives");
    assert_eq!(fresh.get().address.as_deref(), Some("1 Main St"));
    Ok(())
}

/// A loaded object expired by `expire()` and edited twice in a row writes exactly the two
/// columns the edits changed (before the fix: every column).
pub fn expire_then_two_edits_write_both_columns_only(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    let id = ann.get().id.expect("id");
    s.expire(&ann);
    db.clear_sql();
    ann.edit(|c| c.address = Some("2 Elm St".into()))?;
    ann.edit(|c| c.age = 42)?;
    s.commit()?;
    let updates: Vec<String> = db.take_sql().into_iter().filter(|q| q.starts_with("UPDATE")).collect();
    assert_eq!(
        updates,
        ["UPDATE customers SET address = ?, age = ? WHERE id = ?"],
        "the untouched name is not written"
    );
    let fresh = db.session().get::<Customer>(id)?.expect("row");
    assert_eq!((fresh.get().address.as_deref(), fresh.get().age), (Some("2 Elm St"), 42));
    Ok(())
}

/// Reading the handle inside its own edit works (it sees the values from before the edit);
/// an edit nested in an edit of the same object, or an edit while a `get()` guard is alive, is a
/// typed error that changes nothing. Nothing panics.
pub fn reentrant_edit_reads_and_conflicts_are_typed(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let h = s.query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    h.edit(|p| p.age = h.get().age + 1)?;
    assert_eq!(h.get().age, 35);
    let nested = h.edit(|p| {
        p.age = 0;
        h.edit(|q| q.age = 1)
    })?;
    assert!(matches!(nested, Err(Error::InvalidRequest { .. })), "{nested:?}");
    assert_eq!(h.get().age, 0, "the outer edit applies; the nested one was refused");
    let guard = h.get();
    let held = h.edit(|p| p.age = 7);
    assert!(matches!(held, Err(Error::InvalidRequest { .. })), "{held:?}");
    assert_eq!(guard.age, 0, "the discarded edit changed nothing");
    drop(guard);
    s.commit()?;
    let fresh = db.session().query::<Customer>().filter(Customer::name.eq("brian")).one()?;
    assert_eq!(fresh.get().age, 0);
    Ok(())
}

/// A mixed flush over two related tables sends exactly this sequence, on every database:
/// per table in foreign-key order (parents first) its INSERTs then its UPDATEs, then the
/// DELETEs in reverse order (children first). New objects were added child first.
pub fn mixed_flush_statement_sequence(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add_all([Parent { id: 1, name: "mum".into() }, Parent { id: 2, name: "dad".into() }]);
    s.add_all([Child { id: 10, parent_id: 1, name: "ann".into() }, Child { id: 11, parent_id: 2, name: "bob".into() }]);
    s.commit()?;
    let parents = s.query::<Parent>().order_by(Parent::id.asc()).all()?;
    let children = s.query::<Child>().order_by(Child::id.asc()).all()?;
    s.add(Child { id: 12, parent_id: 3, name: "cy".into() });
    s.add(Parent { id: 3, name: "gran".into() });
    parents[0].edit(|p| p.name = "mother".into())?;
    children[0].edit(|c| c.name = "annie".into())?;
    s.delete(&children[1])?;
    db.clear_sql();
    s.flush()?;
    assert_eq!(
        db.take_sql(),
        [
            "INSERT INTO parents (id, name) VALUES (?, ?)",
            "UPDATE parents SET name = ? WHERE id = ?",
            "INSERT INTO children (id, parent_id, name) VALUES (?, ?, ?)",
            "UPDATE children SET name = ? WHERE id = ?",
            "DELETE FROM children WHERE id = ?",
        ]
    );
    s.commit()?;
    let names: Vec<String> =
        db.session().query::<Child>().order_by(Child::id.asc()).all()?.iter().map(|c| c.get().name.clone()).collect();
    assert_eq!(names, ["annie", "cy"]);
    Ok(())
}

/// With autoflush off, a query that returns an expired object with unflushed edits keeps the
/// edits (they are not overwritten by the row) and the next flush writes them.
pub fn query_keeps_unflushed_edits_of_expired_objects(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = athanor::sessionmaker(&db.engine).autoflush(false).session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    s.expire(&ann);
    ann.edit(|c| c.age = 77)?;
    let again = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    assert!(Handle::ptr_eq(&again, &ann));
    assert_eq!(ann.get().age, 77, "the unflushed edit survives the query");
    s.commit()?;
    let fresh = db.session().query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    assert_eq!(fresh.get().age, 77);
    Ok(())
}
