//! `Session::merge`: an object from outside the session copied onto the session's object with
//! the same key (loaded by one SELECT when not held), new when no row has that key; with
//! `MergeOptions { load: false }` no SELECT and nothing written. The statements are asserted
//! exactly, the same on every database.

use crate::harness::TestDb;
use crate::models::*;
use crate::scenarios::session::seed;
use athanor::prelude::*;
use athanor::{MergeOptions, ObjectState};

/// A row with a version column (optimistic locking).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "merge_notes")]
pub struct Note {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Text.
    pub body: String,
    /// Checked and bumped by every UPDATE.
    #[column(version)]
    pub version: i64,
}

/// SELECT, INSERT, UPDATE and DELETE statements since the last call, without a key-recovery
/// suffix (transaction control differs per database).
fn sent(db: &TestDb) -> Vec<String> {
    db.take_sql()
        .into_iter()
        .filter(|q| ["SELECT", "INSERT", "UPDATE", "DELETE"].iter().any(|k| q.starts_with(k)))
        .map(|s| match s.find(" RETURNING ") {
            Some(i) => s[..i].to_string(),
            None => s,
        })
        .collect()
}

fn id_of(db: &TestDb, name: &str) -> Result<i64> {
    let s = db.session();
    let c = s.query::<Customer>().filter(Customer::name.eq(name)).one()?;
    let id = c.get().id.ok_or_else(|| Error::invalid_request("no key"))?;
    db.clear_sql();
    Ok(id)
}

const SELECT_CUSTOMER: &str = "SELECT id, name, address, email, age FROM customers WHERE id = ?";

/// A detached customer (as a web request would send it back) merged: one SELECT by key, the
/// changed columns only in the UPDATE; merged again, no SELECT (the identity map holds it);
/// a keyless object or a key with no row becomes new.
pub fn merge_loads_copies_and_writes_the_difference(db: &TestDb) -> Result<()> {
    seed(db)?;
    let brian = id_of(db, "brian")?;
    let s = db.session();
    let incoming = Customer {
        id: Some(brian),
        name: "brian".into(),
        address: Some("Main St".into()),
        email: "brian@example.com".into(),
        age: 35,
    };
    let h = s.merge(incoming.clone())?;
    assert_eq!(sent(db), [SELECT_CUSTOMER]);
    assert_eq!(h.state(), ObjectState::Persistent);
    assert_eq!(*h.get(), incoming);
    assert!(s.is_dirty());
    // Again: the identity map's object, no SELECT; nothing new to copy.
    let again = s.merge(incoming)?;
    assert!(Handle::ptr_eq(&h, &again));
    assert!(sent(db).is_empty());
    s.commit()?;
    assert_eq!(sent(db), ["UPDATE customers SET address = ?, age = ? WHERE id = ?"]);
    let row = db.session().get::<Customer>(brian)?.ok_or_else(|| Error::invalid_request("gone"))?;
    assert_eq!((row.get().address.clone(), row.get().age), (Some("Main St".to_string()), 35));
    db.clear_sql();

    // No key: new, no SELECT. A key no row has: one SELECT (after the autoflush of the new
    // one, as every load), then new.
    let s = db.session();
    let new = s.merge(Customer::new("cyd", "cyd@example.com", 20))?;
    assert_eq!(new.state(), ObjectState::Pending);
    assert!(sent(db).is_empty());
    let ghost = s.merge(Customer { id: Some(brian + 1000), ..Customer::new("gus", "gus@example.com", 50) })?;
    assert_eq!(ghost.state(), ObjectState::Pending);
    assert_eq!(sent(db), ["INSERT INTO customers (name, address, email, age) VALUES (?, ?, ?, ?)", SELECT_CUSTOMER]);
    s.commit()?;
    let names: Vec<String> = db
        .session()
        .query::<Customer>()
        .order_by(Customer::name.asc())
        .all()?
        .iter()
        .map(|c| c.get().name.clone())
        .collect();
    assert_eq!(names, ["ann", "brian", "cyd", "gus", "zed"]);
    assert_eq!(ghost.get().id, Some(brian + 1000), "the merged key is the row's");

    // A detached handle merges the same way; the handle itself stays detached.
    let other = db.session();
    let ann = other.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    other.close();
    ann.edit(|c| c.age = 42)?;
    let s = db.session();
    db.clear_sql();
    let merged = s.merge_handle(&ann, MergeOptions::default())?;
    assert!(!Handle::ptr_eq(&merged, &ann));
    assert_eq!(ann.state(), ObjectState::Detached);
    s.commit()?;
    assert_eq!(sent(db), [SELECT_CUSTOMER.to_string(), "UPDATE customers SET age = ? WHERE id = ?".to_string()]);
    Ok(())
}

/// `load: false`: the object is taken as what the database holds: no SELECT, no UPDATE, and the
/// session's `get` answers from it. A keyless object, a handle with unflushed edits, or a
/// session object with unflushed edits are refused, and the session stays usable.
pub fn merge_without_load_sends_nothing(db: &TestDb) -> Result<()> {
    seed(db)?;
    let ann = id_of(db, "ann")?;
    let cached = Customer { id: Some(ann), ..Customer::new("ann", "ann@example.com", 41) };
    let s = db.session();
    let h = s.merge_with(cached.clone(), MergeOptions { load: false })?;
    assert_eq!(h.state(), ObjectState::Persistent);
    assert!(!s.is_dirty());
    let got = s.get::<Customer>(ann)?.ok_or_else(|| Error::invalid_request("gone"))?;
    assert!(Handle::ptr_eq(&h, &got));
    s.commit()?;
    assert!(sent(db).is_empty(), "no SELECT, no UPDATE");

    let s = db.session();
    let keyless = s.merge_with(Customer::new("x", "x@example.com", 1), MergeOptions { load: false });
    assert!(matches!(keyless, Err(Error::InvalidRequest { .. })), "{keyless:?}");
    let held = s.merge_with(cached.clone(), MergeOptions { load: false })?;
    held.edit(|c| c.age = 50)?;
    let over_edits = s.merge_with(cached.clone(), MergeOptions { load: false });
    assert!(matches!(over_edits, Err(Error::InvalidRequest { .. })), "{over_edits:?}");
    assert_eq!(held.get().age, 50, "the edit is kept");
    let detached = db.session().query::<Customer>().filter(Customer::name.eq("zed")).one()?;
    detached.edit(|c| c.age = 13)?;
    let dirty = s.merge_handle(&detached, MergeOptions { load: false });
    assert!(matches!(dirty, Err(Error::InvalidRequest { .. })), "{dirty:?}");
    db.clear_sql();
    s.commit()?;
    assert_eq!(sent(db), ["UPDATE customers SET age = ? WHERE id = ?"]);
    Ok(())
}

/// A versioned object merged after another session changed its row is `StaleData`, as in
/// SQLAlchemy; merged with the current version it writes with the version check.
pub fn merge_checks_the_version(db: &TestDb) -> Result<()> {
    Base::new().register::<Note>().metadata().create_all(&db.engine)?;
    let s = db.session();
    let n = s.add(Note { id: None, body: "first".into(), version: 1 });
    s.commit()?;
    let id = n.get().id.ok_or_else(|| Error::invalid_request("no key"))?;
    let stale = n.cloned();
    let s2 = db.session();
    let fresh = s2.get::<Note>(id)?.ok_or_else(|| Error::invalid_request("gone"))?;
    fresh.edit(|n| n.body = "second".into())?;
    s2.commit()?;
    let current = fresh.cloned();
    db.clear_sql();
    let s3 = db.session();
    let err = s3.merge(Note { body: "third".into(), ..stale });
    assert!(matches!(err, Err(Error::StaleData { .. })), "{err:?}");
    let ok = s3.merge(Note { body: "third".into(), ..current })?;
    s3.commit()?;
    assert_eq!(ok.get().body, "third");
    assert_eq!(ok.get().version, current.version + 1);
    let sql = sent(db);
    assert_eq!(
        sql.last().map(String::as_str),
        Some("UPDATE merge_notes SET body = ?, version = ? WHERE id = ? AND version = ?")
    );
    Ok(())
}
