//! N+1 detection (`SessionMaker::lazy_loads`) and statement budgets
//! (`Session::statement_mark` / `statements_since`, `Engine::statements_since`): a lazy load in
//! a loop over one query's result warns once per relationship or fails before sending anything,
//! `selectinload` avoids it, and a block's statements are counted exactly (transaction control
//! apart) on every database.

use super::relationships::seeded;
use super::telemetry::{Capture, EventRecord};
use crate::harness::TestDb;
use crate::models::blog::*;
use athanor::prelude::*;
use athanor::LazyLoads;
use tracing::Level;

fn session(db: &TestDb, mode: LazyLoads) -> Session {
    sessionmaker(&db.engine).lazy_loads(mode).session()
}

/// The N+1 warnings among the captured events: `(model, relationship, message)`.
fn warnings(events: &[EventRecord]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e.level == Level::WARN)
        .map(|e| {
            let f = |n: &str| e.fields.get(n).cloned().unwrap_or_default();
            (f("model"), f("relationship"), f("message"))
        })
        .collect()
}

/// A loop over three posts loading each one's comments sends three statements and warns once,
/// naming `Post`, `comments` and `selectinload(Post::comments)`; a second loop over another
/// relationship warns once more, a third over the same one stays quiet. Loads that send
/// nothing (a many-to-one whose targets are in the identity map) and the load of a single
/// object's result never warn, and the default session tracks nothing.
pub fn lazy_load_in_a_loop_warns_once_per_relationship(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let capture = Capture::for_target("athanor::session");
    capture.run(|| -> Result<()> {
        let s = session(db, LazyLoads::Warn);
        // One object's result: its lazy loads are no loop.
        let ann = s.query::<User>().filter(User::name.eq("ann")).one()?;
        assert_eq!(s.related(&ann, User::posts)?.len(), 2);
        let bob = s.query::<User>().filter(User::name.eq("bob")).one()?;
        assert_eq!(s.related(&bob, User::posts)?.len(), 1);
        assert!(warnings(&capture.events()).is_empty(), "{:?}", capture.events());

        let posts = s.query::<Post>().order_by(Post::id.asc()).all()?;
        assert_eq!(posts.len(), 3);
        // Every author is in the identity map: no statement, no warning.
        let mark = s.statement_mark();
        for p in &posts {
            assert!(s.related(p, Post::author)?.is_some());
        }
        assert_eq!(s.statements_since(mark), 0);
        assert!(warnings(&capture.events()).is_empty());

        // The N+1 loop: one statement per post, one warning.
        let mark = s.statement_mark();
        let mut bodies = Vec::new();
        for p in &posts {
            bodies.extend(s.related(p, Post::comments)?.iter().map(|c| c.get().body.clone()));
        }
        assert_eq!(bodies, ["c1", "c2", "c3", "c4"]);
        assert_eq!(s.statements_since(mark), 3);
        let found = warnings(&capture.events());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1.as_str()), ("Post", "comments"));
        assert!(found[0].2.contains(".options(selectinload(Post::comments))"), "{}", found[0].2);

        // Another relationship of the same result: one more warning; the same one again, from
        // a new query of the posts, none (once per relationship per session).
        for p in &posts {
            s.related(p, Post::tags)?;
        }
        s.expire_all();
        let again = s.query::<Post>().order_by(Post::id.asc()).all()?;
        let mark = s.statement_mark();
        for p in &again {
            s.related(p, Post::comments)?;
        }
        assert_eq!(s.statements_since(mark), 3);
        let found = warnings(&capture.events());
        let names: Vec<_> = found.iter().map(|(m, r, _)| format!("{m}.{r}")).collect();
        assert_eq!(names, ["Post.comments", "Post.tags"]);
        s.rollback()?;

        // The default session (`LazyLoads::Allow`) says nothing.
        let quiet = db.session();
        for p in &quiet.query::<Post>().all()? {
            quiet.related(p, Post::comments)?;
        }
        assert_eq!(warnings(&capture.events()).len(), 2);
        Ok(())
    })
}

/// With `LazyLoads::Raise` the first object's lazy load runs and the second object's fails with
/// `Error::LazyLoadInLoop` before anything is sent; the session goes on (a query with
/// `selectinload` fills the rest, commit works).
pub fn raise_fails_before_sending_and_the_session_stays_usable(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = session(db, LazyLoads::Raise);
    let posts = s.query::<Post>().order_by(Post::id.asc()).all()?;
    let mark = s.statement_mark();
    assert_eq!(s.related(&posts[0], Post::comments)?.len(), 2);
    assert_eq!(s.statements_since(mark), 1);
    // The same object again is served from memory.
    assert_eq!(s.related(&posts[0], Post::comments)?.len(), 2);
    let err = s.related(&posts[1], Post::comments).expect_err("the second object of the result");
    assert_eq!(err, Error::LazyLoadInLoop { model: "Post", relationship: "comments" });
    assert!(err.to_string().contains("selectinload(Post::comments)"), "{err}");
    assert_eq!(s.statements_since(mark), 1, "nothing sent for the refused load");
    assert!(posts[1].get().comments.loaded().is_none());

    let mark = s.statement_mark();
    let reloaded = s.query::<Post>().order_by(Post::id.asc()).options(selectinload(Post::comments)).all()?;
    assert_eq!(s.statements_since(mark), 2, "the posts, then the comments of the two not loaded");
    for p in &reloaded {
        s.related(p, Post::comments)?;
    }
    assert_eq!(s.statements_since(mark), 2);
    let counts: Vec<usize> = reloaded.iter().map(|p| p.get().comments.len()).collect();
    assert_eq!(counts, [2, 1, 1]);
    s.commit()?;
    Ok(())
}

/// Statement budgets: `statements_since` counts SELECT / INSERT / UPDATE / DELETE and not
/// BEGIN, COMMIT, ROLLBACK or SAVEPOINT; a session counts its own statements only, the engine
/// every session's. `selectinload` loads two levels in three statements, and with
/// `LazyLoads::Raise` their loops over the loaded fields never fail.
pub fn statement_budgets_count_exactly_without_transaction_control(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let engine_mark = db.engine.statement_mark();
    let all_before = db.engine.statement_count();
    let s = session(db, LazyLoads::Raise);
    let mark = s.statement_mark();
    let users = s
        .query::<User>()
        .order_by(User::id.asc())
        .options(selectinload(User::posts).selectinload(Post::comments))
        .all()?;
    assert_eq!(s.statements_since(mark), 3, "users, posts, comments (BEGIN not counted)");
    let mut comments = 0;
    for u in &users {
        for p in s.related(u, User::posts)? {
            comments += s.related(&p, Post::comments)?.len();
        }
    }
    assert_eq!(comments, 4);
    assert_eq!(s.statements_since(mark), 3);

    // Another session counts its own statements only.
    let other = db.session();
    let other_mark = other.statement_mark();
    other.query::<Tag>().count()?;
    assert_eq!(other.statements_since(other_mark), 1);
    assert_eq!(s.statements_since(mark), 3);
    other.rollback()?;
    drop(other);

    // Writes: one INSERT (its key comes back without another statement), one UPDATE, one
    // DELETE; the savepoint, its release and the commit are not counted.
    let mark = s.statement_mark();
    let nested = s.begin_nested()?;
    s.add(Tag { name: "new".into(), ..Default::default() });
    nested.commit()?;
    assert_eq!(s.statements_since(mark), 1, "one INSERT on {}", db.backend);
    users[1].edit(|u| u.name = "robert".into())?;
    s.flush()?;
    assert_eq!(s.statements_since(mark), 2);
    let c4 = s.query::<Comment>().filter(Comment::body.eq("c4")).one()?;
    s.delete(&c4)?;
    s.commit()?;
    assert_eq!(s.statements_since(mark), 4, "INSERT, UPDATE, SELECT, DELETE; COMMIT not counted");
    // A rollback counts nothing.
    let mark = s.statement_mark();
    s.query::<Tag>().count()?;
    s.rollback()?;
    assert_eq!(s.statements_since(mark), 1);
    assert_eq!(db.engine.statements_since(engine_mark), 3 + 1 + 4 + 1, "every session's statements");
    // What was not counted is exactly the transaction control the engine sent (its log).
    let log = db.take_sql();
    let control = ["BEGIN", "START TRANSACTION", "SET TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"];
    let (tx, work): (Vec<&String>, Vec<&String>) = log.iter().partition(|s| control.iter().any(|p| s.starts_with(p)));
    assert_eq!(work.len(), 9, "{work:?}");
    assert!(tx.iter().any(|s| s.starts_with("SAVEPOINT")) && tx.iter().any(|s| s.starts_with("RELEASE")), "{tx:?}");
    assert_eq!(db.engine.statement_count() - all_before, (work.len() + tx.len()) as u64);
    Ok(())
}
