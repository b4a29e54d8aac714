//! Objects after their session: dropping a session detaches its objects exactly as `close()`
//! does; a detached object's edits are kept and written after it is attached to a new session
//! (`add_handle`), never silently discarded; what cannot be done without a session (loading a
//! relationship or an expired object, changing a relationship) and attaching an object whose key
//! the session already holds are typed errors.

use super::session::seed;
use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::ObjectState;

/// The writes since the last call (transaction control and reads left out).
fn writes(db: &TestDb) -> Vec<String> {
    db.take_sql().into_iter().filter(|s| ["INSERT", "UPDATE", "DELETE"].iter().any(|p| s.starts_with(p))).collect()
}

/// `ann` as a fresh session reads her.
fn fresh_ann(db: &TestDb) -> Result<Customer> {
    let h = db.session().query::<Customer>().filter(Customer::email.eq("ann@example.com")).one()?;
    let c = h.get().clone();
    Ok(c)
}

/// `ann`, loaded by a session that is then dropped, as a request handler would.
fn ann_from_a_dropped_session(db: &TestDb) -> Result<Handle<Customer>> {
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    s.commit()?;
    Ok(ann)
}

/// Attach `ann` to a new session, commit, and check that exactly one UPDATE of the edited
/// columns was written and that a fresh read sees the edit.
fn attach_and_commit(db: &TestDb, ann: &Handle<Customer>) -> Result<()> {
    let s = db.session();
    s.add_handle(ann)?;
    assert_eq!(ann.state(), ObjectState::Persistent);
    assert!(s.is_dirty(), "the detached edit is a change the new session will flush");
    db.clear_sql();
    s.commit()?;
    assert_eq!(writes(db), ["UPDATE customers SET name = ?, age = ? WHERE id = ?"]);
    let fresh = fresh_ann(db)?;
    assert_eq!((fresh.name.as_str(), fresh.age), ("annie", 42));
    assert_eq!(fresh.email, "ann@example.com", "a column no edit changed is not written");
    Ok(())
}

/// A session that goes out of scope detaches its objects (persistent → detached, pending →
/// transient), as `close()` does, and rolls back: unflushed edits are undone.
pub fn dropped_session_detaches_its_objects(db: &TestDb) -> Result<()> {
    seed(db)?;
    let (ann, ghost, zed) = {
        let s = db.session();
        let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
        let zed = s.query::<Customer>().filter(Customer::name.eq("zed")).one()?;
        zed.edit(|c| c.age = 99)?;
        let ghost = s.add(Customer::new("ghost", "ghost@x", 1));
        (ann, ghost, zed)
    };
    assert_eq!(ann.state(), ObjectState::Detached);
    assert_eq!(zed.state(), ObjectState::Detached);
    assert_eq!(ghost.state(), ObjectState::Transient);
    assert_eq!(zed.get().age, 12, "the dropped session rolled back its unflushed edit, as close() does");
    // Another session takes them: not "of another session".
    let s = db.session();
    s.add_handle(&ann)?;
    s.add_handle(&ghost)?;
    assert_eq!((ann.state(), ghost.state()), (ObjectState::Persistent, ObjectState::Pending));
    s.commit()?;
    assert_eq!(s.query::<Customer>().count()?, 4);
    Ok(())
}

/// An edit of an object whose session was dropped is kept; after `add_handle` to a new session
/// the commit writes one UPDATE of exactly the edited columns.
pub fn edit_after_drop_is_written_after_add_handle(db: &TestDb) -> Result<()> {
    seed(db)?;
    let ann = ann_from_a_dropped_session(db)?;
    assert_eq!(ann.state(), ObjectState::Detached);
    ann.edit(|c| c.name = "annie".into())?;
    ann.edit(|c| c.age = 42)?;
    assert_eq!(fresh_ann(db)?.age, 41, "nothing is written while detached");
    attach_and_commit(db, &ann)
}

/// The same after `close()`.
pub fn edit_after_close_is_written_after_add_handle(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    s.close();
    assert_eq!(ann.state(), ObjectState::Detached);
    ann.edit(|c| {
        c.name = "annie".into();
        c.age = 42;
    })?;
    // The closed session is not dirty: the edit belongs to the object, not to it.
    assert!(!s.is_dirty());
    s.commit()?;
    assert_eq!(fresh_ann(db)?.age, 41);
    attach_and_commit(db, &ann)
}

/// The same after `expunge`: edits made before it (not flushed) and after it are kept, and
/// the session it left does not write them.
pub fn expunged_edits_are_written_after_add_handle(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    ann.edit(|c| c.name = "annie".into())?;
    s.expunge(&ann);
    assert_eq!(ann.state(), ObjectState::Detached);
    ann.edit(|c| c.age = 42)?;
    db.clear_sql();
    s.commit()?;
    assert!(writes(db).is_empty(), "the session it left writes nothing for it");
    assert_eq!(fresh_ann(db)?.name, "ann");
    attach_and_commit(db, &ann)?;
    // Back into the session it left: the same rule.
    s.expunge(&ann);
    ann.edit(|c| c.age = 43)?;
    s.add_handle(&ann)?;
    db.clear_sql();
    s.commit()?;
    assert_eq!(writes(db), ["UPDATE customers SET age = ? WHERE id = ?"]);
    assert_eq!(fresh_ann(db)?.age, 43);
    Ok(())
}

/// A detached object whose key the session already holds under another instance is refused
/// with `Error::IdentityConflict`; the object keeps its edit, the session stays usable, and
/// once the other instance is gone the edit is written.
pub fn attaching_a_key_the_session_holds_is_a_typed_error(db: &TestDb) -> Result<()> {
    seed(db)?;
    let ann = ann_from_a_dropped_session(db)?;
    ann.edit(|c| c.age = 42)?;
    let s = db.session();
    let other = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    let err = s.add_handle(&ann).expect_err("the key is taken");
    assert!(matches!(&err, Error::IdentityConflict { model: "Customer", .. }), "{err:?}");
    assert!(err.to_string().contains("already"), "{err}");
    assert_eq!(ann.state(), ObjectState::Detached);
    assert_eq!(ann.get().age, 42, "the refused object keeps its edit");
    assert!(s.is_active());
    s.expunge(&other);
    s.add_handle(&ann)?;
    db.clear_sql();
    s.commit()?;
    assert_eq!(writes(db), ["UPDATE customers SET age = ? WHERE id = ?"]);
    assert_eq!(fresh_ann(db)?.age, 42);
    Ok(())
}

/// Nothing a detached object is told is dropped on the floor: an unchanged re-attach writes
/// nothing, an object deleted (and committed) elsewhere fails the flush with `StaleData`
/// instead of losing the edit silently, and the session's rollback undoes a re-attached edit.
pub fn detached_edits_are_never_discarded_silently(db: &TestDb) -> Result<()> {
    seed(db)?;
    let ann = ann_from_a_dropped_session(db)?;
    let s = db.session();
    s.add_handle(&ann)?;
    db.clear_sql();
    s.commit()?;
    assert!(writes(db).is_empty(), "no edit, no UPDATE");
    s.close();

    ann.edit(|c| c.age = 50)?;
    let killer = db.session();
    let doomed = killer.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    killer.delete(&doomed)?;
    killer.commit()?;
    let s = db.session();
    s.add_handle(&ann)?;
    let err = s.commit().expect_err("the row is gone");
    assert!(matches!(err, Error::StaleData { .. }), "{err:?}");
    s.rollback()?;
    assert_eq!(ann.get().age, 41, "rollback undoes the unflushed edit, as for any persistent object");
    Ok(())
}

/// Relationships of a detached object: they read as not loaded (no I/O); loading one, or
/// loading the expired object, is `Error::DetachedInstance` (SQLAlchemy's
/// `DetachedInstanceError`), and so is changing one, which is then discarded; after
/// `add_handle` they load.
pub fn detached_relationships_are_typed_errors(db: &TestDb) -> Result<()> {
    use crate::models::blog::{base, Post, User};
    base().metadata().create_all(&db.engine)?;
    let (ann, post) = {
        let s = db.session();
        let ann = s.add(User { name: "ann".into(), ..Default::default() });
        let post = s.add(Post { title: "hello".into(), author: BelongsTo::to(&ann), ..Default::default() });
        s.commit()?;
        (ann, post)
    };
    assert_eq!((ann.state(), post.state()), (ObjectState::Detached, ObjectState::Detached));
    assert!(post.get().author.loaded().is_none(), "a detached object's relationships read as not loaded");
    let s = db.session();
    let err = s.related(&post, Post::author).expect_err("detached");
    assert!(matches!(&err, Error::DetachedInstance { model: "Post", .. }), "{err:?}");
    let err = post.load().map(|_| ()).expect_err("expired and detached");
    assert!(matches!(&err, Error::DetachedInstance { model: "Post", .. }), "{err:?}");
    let bob = s.add(User { name: "bob".into(), ..Default::default() });
    s.commit()?;
    let err = post.edit(|p| p.author.set(&bob)).expect_err("a relationship of a detached object");
    assert!(matches!(&err, Error::DetachedInstance { model: "Post", .. }), "{err:?}");
    assert!(post.get().author.loaded().is_none(), "the edit was discarded");
    let err = ann.edit(|u| u.posts.push(&post)).expect_err("a relationship of a detached object");
    assert!(matches!(&err, Error::DetachedInstance { model: "User", .. }), "{err:?}");
    // Column edits are kept; once attached, relationships load.
    post.edit(|p| p.score = 7)?;
    s.add_handle(&post)?;
    let author = s.related(&post, Post::author)?.expect("an author");
    assert_eq!(author.get().name, "ann");
    s.commit()?;
    let fresh = db.session().query::<Post>().one()?;
    assert_eq!(fresh.get().score, 7);
    Ok(())
}
