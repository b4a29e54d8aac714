//! Relationships: the blog graph (users → posts → comments, tags through `post_tags`, a
//! category tree) built in one flush, reloaded with every loading strategy with its statement
//! count asserted, changed, and the errors of bad input.

use crate::harness::TestDb;
use crate::models::blog::*;
use athanor::prelude::*;
use athanor::{exists, func, not_exists};
use athanor::{Dynamic, ObjectState};
use std::collections::BTreeMap;

fn create(db: &TestDb) -> Result<()> {
    base().metadata().create_all(&db.engine)?;
    db.clear_sql();
    Ok(())
}

/// The statements since the last call, with the backend's key-recovery suffix removed
/// (`RETURNING id` on PostgreSQL and SQLite; MySQL reads LAST_INSERT_ID()).
fn statements(db: &TestDb) -> Vec<String> {
    db.take_sql()
        .into_iter()
        .filter(|s| {
            !["BEGIN", "START TRANSACTION", "SET TRANSACTION", "COMMIT", "ROLLBACK"].iter().any(|p| s.starts_with(p))
        })
        .map(|s| match s.find(" RETURNING ") {
            Some(i) => s[..i].to_string(),
            None => s,
        })
        .collect()
}

fn title(p: &Handle<Post>) -> String {
    p.get().title.clone()
}

/// The graph as text, from loaded fields only (a field not loaded prints `?`).
fn describe_users(users: &[Handle<User>]) -> String {
    let mut out = Vec::new();
    for u in users {
        let u = u.get();
        let posts = match u.posts.loaded() {
            None => "?".to_string(),
            Some(ps) => ps
                .iter()
                .map(|p| {
                    let p = p.get();
                    let comments = match p.comments.loaded() {
                        None => "?".to_string(),
                        Some(cs) => cs.iter().map(|c| c.get().body.clone()).collect::<Vec<_>>().join(","),
                    };
                    let tags = match p.tags.loaded() {
                        None => "?".to_string(),
                        Some(ts) => ts.iter().map(|t| t.get().name.clone()).collect::<Vec<_>>().join(","),
                    };
                    format!("{}[{comments}]{{{tags}}}", p.title)
                })
                .collect::<Vec<_>>()
                .join(" "),
        };
        out.push(format!("{}: {posts}", u.name));
    }
    out.join("; ")
}

/// ann: hello (c1, c2; rust, orm) and second (c3; orm); bob: bobs (c4). Categories
/// tech → (rust, db → sql). Returns (ann, bob).
fn build(s: &Session) -> Result<(Handle<User>, Handle<User>)> {
    let ann = s.add(User { name: "ann".into(), ..Default::default() });
    let bob = s.add(User { name: "bob".into(), ..Default::default() });
    let tech = s.add(Category { name: "tech".into(), ..Default::default() });
    let rust = s.add(Category { name: "rust".into(), parent: BelongsTo::to(&tech), ..Default::default() });
    let dbc = s.add(Category { name: "db".into(), ..Default::default() });
    tech.edit(|c| c.children.push(&dbc))?;
    let sql = s.add(Category { name: "sql".into(), ..Default::default() });
    sql.edit(|c| c.parent.set(&dbc))?;
    let t_rust = s.add(Tag { name: "rust".into(), ..Default::default() });
    let t_orm = s.add(Tag { name: "orm".into(), ..Default::default() });
    s.add(Tag { name: "misc".into(), ..Default::default() });
    let hello = s.add(Post { title: "hello".into(), score: 5, ..Default::default() });
    let second = s.add(Post { title: "second".into(), score: 2, ..Default::default() });
    let bobs = s.add(Post { title: "bobs".into(), score: 9, author: BelongsTo::to(&bob), ..Default::default() });
    ann.edit(|u| {
        u.posts.push(&hello);
        u.posts.push(&second);
    })?;
    hello.edit(|p| {
        p.tags.push(&t_rust);
        p.tags.push(&t_orm);
        p.category.set(&rust);
    })?;
    t_orm.edit(|t| t.posts.push(&second))?;
    bobs.edit(|p| p.category.set(&sql))?;
    for (post, body) in [(&hello, "c1"), (&hello, "c2"), (&second, "c3"), (&bobs, "c4")] {
        // A comment built with its post: the other side is kept in step.
        s.add(Comment { body: body.into(), post: BelongsTo::to(post), ..Default::default() });
    }
    Ok((ann, bob))
}

const GRAPH: &str = "ann: hello[c1,c2]{rust,orm} second[c3]{orm}; bob: bobs[c4]{}";

/// The whole graph is one flush: parents first, the category tree in waves (a parent before
/// its children), foreign keys from the related objects, association rows last.
pub fn blog_graph_is_built_in_one_flush(db: &TestDb) -> Result<()> {
    create(db)?;
    let s = db.session();
    let (ann, bob) = build(&s)?;
    // In memory, both sides are in step before any SQL.
    assert_eq!(describe_users(&[ann.clone(), bob.clone()]), GRAPH);
    let hello = ann.get().posts.loaded().expect("loaded")[0].clone();
    assert!(Handle::ptr_eq(hello.get().author.get().expect("author set by back_populates"), &ann));
    assert!(db.take_sql().is_empty(), "no SQL before the flush");
    s.flush()?;
    assert_eq!(
        statements(db),
        [
            "INSERT INTO users (name) VALUES (?), (?)",
            "INSERT INTO categories (parent_id, name) VALUES (?, ?)",
            "INSERT INTO categories (parent_id, name) VALUES (?, ?), (?, ?)",
            "INSERT INTO categories (parent_id, name) VALUES (?, ?)",
            "INSERT INTO tags (name) VALUES (?), (?), (?)",
            "INSERT INTO posts (user_id, category_id, title, score) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)",
            "INSERT INTO comments (post_id, body) VALUES (?, ?), (?, ?), (?, ?), (?, ?)",
            "INSERT INTO post_tags (post_id, tag_id) VALUES (?, ?), (?, ?), (?, ?)",
        ]
    );
    s.commit()?;
    // The rows, read without the ORM.
    let rows = db.session().query_sql(
        "SELECT p.title, u.name, c.name FROM posts p JOIN users u ON u.id = p.user_id \
         LEFT JOIN categories c ON c.id = p.category_id ORDER BY p.id",
        &[],
    )?;
    let got: Vec<(String, String, Option<String>)> =
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).collect::<Result<_>>()?;
    assert_eq!(
        got,
        [
            ("hello".into(), "ann".into(), Some("rust".into())),
            ("second".into(), "ann".into(), None),
            ("bobs".into(), "bob".into(), Some("sql".into()))
        ]
    );
    let tree = db.session().query_sql(
        "SELECT c.name, p.name FROM categories c LEFT JOIN categories p ON p.id = c.parent_id ORDER BY c.id",
        &[],
    )?;
    let got: Vec<(String, Option<String>)> = tree.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect::<Result<_>>()?;
    let want: Vec<(String, Option<String>)> = vec![
        ("tech".into(), None),
        ("rust".into(), Some("tech".into())),
        ("db".into(), Some("tech".into())),
        ("sql".into(), Some("db".into())),
    ];
    assert_eq!(got, want);
    let n: i64 = db.session().query_sql("SELECT COUNT(*) FROM post_tags", &[])?[0].get(0)?;
    assert_eq!(n, 3);
    Ok(())
}

/// The blog graph, committed (also the N+1 scenarios' data).
pub(crate) fn seeded(db: &TestDb) -> Result<()> {
    create(db)?;
    let s = db.session();
    build(&s)?;
    s.commit()?;
    db.clear_sql();
    Ok(())
}

/// Nested selectin: one statement per level, the IN lists holding every key of the level.
pub fn selectin_loads_one_statement_per_level(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let users = s
        .query::<User>()
        .order_by(User::id.asc())
        .options(selectinload(User::posts).selectinload(Post::comments))
        .options(selectinload(Post::tags))
        .all()?;
    assert_eq!(
        statements(db),
        [
            "SELECT users.id, users.name FROM users ORDER BY users.id ASC",
            "SELECT posts.id, posts.user_id, posts.category_id, posts.title, posts.score FROM posts \
             WHERE posts.user_id IN (?, ?) ORDER BY posts.id ASC",
            "SELECT post_tags.post_id, tags.id, tags.name FROM tags JOIN post_tags ON post_tags.tag_id = tags.id \
             WHERE post_tags.post_id IN (?, ?, ?) ORDER BY tags.id ASC",
            "SELECT comments.id, comments.post_id, comments.body FROM comments WHERE comments.post_id IN (?, ?, ?) \
             ORDER BY comments.id ASC",
        ]
    );
    assert_eq!(describe_users(&users), GRAPH);
    // Everything is loaded now: related() answers from memory.
    let posts = s.related(&users[0], User::posts)?;
    assert_eq!(posts.iter().map(title).collect::<Vec<_>>(), ["hello", "second"]);
    let author = s.related(&posts[0], Post::author)?.expect("author");
    assert!(Handle::ptr_eq(&author, &users[0]), "the identity map: one instance per row");
    assert!(db.take_sql().is_empty(), "no SQL for loaded fields, or a many-to-one in the identity map");
    Ok(())
}

/// Joined loading: the whole graph in one statement, de-duplicated into the identity map.
pub fn joined_loads_in_one_statement(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let users = s
        .query::<User>()
        .order_by(User::id.asc())
        .options(joinedload(User::posts).joinedload(Post::comments))
        .options(joinedload(Post::tags))
        .all()?;
    assert_eq!(
        statements(db),
        [
            "SELECT users.id, users.name, posts_1.id, posts_1.user_id, posts_1.category_id, posts_1.title, posts_1.score, \
             tags_2.id, tags_2.name, comments_3.id, comments_3.post_id, comments_3.body FROM users \
             LEFT OUTER JOIN posts AS posts_1 ON posts_1.user_id = users.id \
             LEFT OUTER JOIN post_tags AS post_tags_2 ON post_tags_2.post_id = posts_1.id \
             LEFT OUTER JOIN tags AS tags_2 ON tags_2.id = post_tags_2.tag_id \
             LEFT OUTER JOIN comments AS comments_3 ON comments_3.post_id = posts_1.id \
             ORDER BY users.id ASC, posts_1.id ASC, tags_2.id ASC, comments_3.id ASC"
        ]
    );
    assert_eq!(users.len(), 2, "joined rows are de-duplicated");
    assert_eq!(describe_users(&users), GRAPH);

    // A LIMIT with a joined collection limits the users, not the joined rows.
    let s = db.session();
    let first = s.query::<User>().order_by(User::id.asc()).options(joinedload(User::posts)).limit(1).all()?;
    let sql = statements(db);
    assert_eq!(sql.len(), 1);
    assert!(
        sql[0].contains(") AS anon_1 LEFT OUTER JOIN posts AS posts_1 ON posts_1.user_id = anon_1.id"),
        "{}",
        sql[0]
    );
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].get().posts.len(), 2, "both of ann's posts");

    // Many-to-one joined, mixed with selectin below it.
    let s = db.session();
    let posts =
        s.query::<Post>().order_by(Post::id.asc()).options(joinedload(Post::author).selectinload(User::posts)).all()?;
    assert_eq!(statements(db).len(), 2);
    let authors: Vec<String> =
        posts.iter().map(|p| p.get().author.get().map(|a| a.get().name.clone()).unwrap_or_default()).collect();
    assert_eq!(authors, ["ann", "ann", "bob"]);
    assert!(s.query::<Post>().options(joinedload(Post::author)).with_for_update().all().is_err());
    Ok(())
}

/// Lazy loading is one explicit call; raiseload makes it an error, and the session goes on.
pub fn lazy_and_raise(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let ann = s.query::<User>().filter(User::name.eq("ann")).one()?;
    assert!(ann.get().posts.loaded().is_none(), "nothing loaded by an attribute read");
    db.clear_sql();
    let posts = s.related(&ann, User::posts)?;
    assert_eq!(
        statements(db),
        ["SELECT posts.id, posts.user_id, posts.category_id, posts.title, posts.score FROM posts \
          WHERE posts.user_id IN (?) ORDER BY posts.id ASC"]
    );
    assert_eq!(posts.iter().map(title).collect::<Vec<_>>(), ["hello", "second"]);
    assert_eq!(ann.get().posts.loaded().map(<[_]>::len), Some(2));
    s.related(&ann, User::posts)?;
    assert!(db.take_sql().is_empty(), "the second call is from memory");

    let s = db.session();
    let posts = s.query::<Post>().order_by(Post::id.asc()).options(raiseload(Post::tags)).all()?;
    db.clear_sql();
    let err = s.related(&posts[0], Post::tags).expect_err("raise");
    assert_eq!(err, Error::LazyLoadForbidden { model: "Post", relationship: "tags" });
    assert!(db.take_sql().is_empty(), "nothing sent");
    // Other relationships still load, and the session is usable.
    let author = s.related(&posts[0], Post::author)?.expect("author");
    assert_eq!(author.get().name, "ann");
    let cat = s.related(&posts[1], Post::category)?;
    assert!(cat.is_none(), "a NULL foreign key is no related object");
    // A new object whose key was set by hand: its many-to-one is found by that key.
    let by_key = s.add(Post { title: "by key".into(), user_id: author.get().id, ..Default::default() });
    let found = s.related(&by_key, Post::author)?.expect("found by the foreign key");
    assert!(Handle::ptr_eq(&found, &author));
    assert!(s.related(&by_key, Post::comments)?.is_empty());
    s.rollback()?;
    Ok(())
}

/// The category tree: nested selectin down two levels from the roots, and the whole tree's
/// parents from the identity map.
pub fn self_referential_tree(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let roots = s
        .query::<Category>()
        .filter(Category::parent_id.is_null())
        .order_by(Category::id.asc())
        .options(selectinload(Category::children).selectinload(Category::children))
        .all()?;
    assert_eq!(statements(db).len(), 3, "roots, children, grandchildren");
    let names = |v: &[Handle<Category>]| v.iter().map(|c| c.get().name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&roots), ["tech"]);
    let kids = roots[0].get().children.loaded().expect("level 1").to_vec();
    assert_eq!(names(&kids), ["rust", "db"]);
    let grandkids = kids[1].get().children.loaded().expect("level 2").to_vec();
    assert_eq!(names(&grandkids), ["sql"]);
    assert!(grandkids[0].get().children.loaded().is_none(), "the option stops at its depth");
    let up = s.related(&grandkids[0], Category::parent)?.expect("parent");
    assert!(Handle::ptr_eq(&up, &kids[1]));
    assert!(db.take_sql().is_empty(), "the parent was in the identity map");
    Ok(())
}

/// Move a post to another author, remove a tag, delete a user with `delete-orphan`: the
/// statements and the rows after.
pub fn moved_unlinked_and_orphaned_objects_write_the_expected_statements(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let users = s.query::<User>().order_by(User::id.asc()).options(selectinload(User::posts)).all()?;
    let (ann, bob) = (users[0].clone(), users[1].clone());
    let second = ann.get().posts.loaded().expect("loaded")[1].clone();
    db.clear_sql();
    second.edit(|p| p.author.set(&bob))?;
    assert_eq!(ann.get().posts.iter().map(title).collect::<Vec<_>>(), ["hello"], "moved out in memory");
    assert_eq!(bob.get().posts.iter().map(title).collect::<Vec<_>>(), ["bobs", "second"]);
    s.flush()?;
    assert_eq!(statements(db), ["UPDATE posts SET user_id = ? WHERE id = ?"]);
    let hello = ann.get().posts.loaded().expect("loaded")[0].clone();
    let tags = s.related(&hello, Post::tags)?;
    db.clear_sql();
    let orm = tags.iter().find(|t| t.get().name == "orm").expect("orm").clone();
    hello.edit(|p| p.tags.remove(&orm))?;
    s.flush()?;
    assert_eq!(statements(db), ["DELETE FROM post_tags WHERE post_id = ? AND tag_id = ?"]);
    // delete-orphan: a comment removed from its post is deleted.
    let comments = s.related(&hello, Post::comments)?;
    db.clear_sql();
    hello.edit(|p| p.comments.remove(&comments[0]))?;
    s.flush()?;
    assert_eq!(statements(db), ["DELETE FROM comments WHERE id = ?"]);
    assert_eq!(comments[0].state(), ObjectState::Deleted);
    // Deleting ann deletes her post and its remaining comment (cascade), and its tag rows.
    s.delete(&ann)?;
    s.flush()?;
    assert_eq!(
        statements(db),
        [
            "DELETE FROM post_tags WHERE post_id IN (?)",
            "DELETE FROM comments WHERE id = ?",
            "DELETE FROM posts WHERE id = ?",
            "DELETE FROM users WHERE id = ?",
        ]
    );
    s.commit()?;
    let s = db.session();
    let users = s
        .query::<User>()
        .options(selectinload(User::posts).selectinload(Post::comments))
        .options(selectinload(Post::tags))
        .all()?;
    assert_eq!(describe_users(&users), "bob: second[c3]{orm} bobs[c4]{}");
    let left: i64 = s.query_sql("SELECT COUNT(*) FROM comments", &[])?[0].get(0)?;
    assert_eq!(left, 2);
    Ok(())
}

/// Deleting a parent without a delete cascade: a nullable key becomes NULL (the children are
/// loaded first if they were not); a NOT NULL key makes the DELETE fail, naming the constraint,
/// and the session recovers with rollback.
pub fn delete_without_cascade(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let dbc = s.query::<Category>().filter(Category::name.eq("db")).one()?;
    db.clear_sql();
    s.delete(&dbc)?;
    s.flush()?;
    assert_eq!(
        statements(db),
        [
            "SELECT categories.id, categories.parent_id, categories.name FROM categories \
             WHERE categories.parent_id IN (?) ORDER BY categories.id ASC",
            "SELECT posts.id, posts.user_id, posts.category_id, posts.title, posts.score FROM posts \
             WHERE posts.category_id IN (?) ORDER BY posts.id ASC",
            "UPDATE categories SET parent_id = ? WHERE id = ?",
            "DELETE FROM categories WHERE id = ?",
        ]
    );
    s.commit()?;
    let sql = db.session().query::<Category>().filter(Category::name.eq("sql")).one()?;
    assert_eq!(sql.get().parent_id, None, "the child became a root");

    let s = db.session();
    let bobs = s.query::<Post>().filter(Post::title.eq("bobs")).one()?;
    s.add(Review { post_id: bobs.get().id.expect("id"), stars: 4, ..Default::default() });
    s.commit()?;
    s.delete(&bobs)?;
    let err = s.flush().expect_err("a review still references the post");
    match &err {
        Error::Integrity { constraint, .. } => {
            assert_eq!(constraint.as_deref(), Some("fk_reviews_post_id_posts"), "{err}")
        }
        other => panic!("expected an integrity error, got {other}"),
    }
    s.rollback()?;
    assert_eq!(s.query::<Post>().filter(Post::title.eq("bobs")).count()?, 1);
    Ok(())
}

/// Objects that cannot be related are typed errors and change nothing; so is changing a
/// collection that was never loaded; the session stays usable.
pub fn unrelatable_objects_are_typed_errors_that_change_nothing(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let hello = s.query::<Post>().filter(Post::title.eq("hello")).one()?;
    let other = db.session();
    let foreign = other.add(Tag { name: "foreign".into(), ..Default::default() });
    s.related(&hello, Post::tags)?;
    let err = hello.edit(|p| p.tags.push(&foreign)).expect_err("another session's object");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert_eq!(hello.get().tags.len(), 2, "the edit was discarded");

    let misc = s.query::<Tag>().filter(Tag::name.eq("misc")).one()?;
    s.expunge(&misc);
    let err = hello.edit(|p| p.tags.push(&misc)).expect_err("a detached object");
    assert!(err.to_string().contains("detached"), "{err}");

    let bob = s.query::<User>().filter(User::name.eq("bob")).one()?;
    let err = bob.edit(|u| u.posts.push(&hello)).expect_err("posts never loaded");
    assert!(err.to_string().contains("never loaded"), "{err}");
    assert!(bob.get().posts.loaded().is_none());

    // An object built holding another session's object: `add` cannot fail, the flush does,
    // before anything is written, and the session is still active.
    let stray = s.add(Post { title: "stray".into(), tags: ManyToMany::of([&foreign]), ..Default::default() });
    let err = s.flush().expect_err("another session's tag");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert!(s.is_active(), "no database error: no rollback needed");
    s.expunge(&stray);
    s.flush()?;

    // Still usable: a good change flushes.
    s.related(&bob, User::posts)?;
    bob.edit(|u| u.posts.push(&hello))?;
    s.commit()?;
    let s = db.session();
    let hello = s.query::<Post>().filter(Post::title.eq("hello")).one()?;
    assert_eq!(s.related(&hello, Post::author)?.map(|u| u.get().name.clone()).as_deref(), Some("bob"));
    Ok(())
}

/// 100 users × 10 posts × 10 comments with two nested selectin levels: exactly 3 statements,
/// and the same graph as the rows say.
pub fn selectin_100_users_10_posts_10_comments(db: &TestDb) -> Result<()> {
    create(db)?;
    let s = db.session();
    let users = s.add_all((0..100).map(|i| User { name: format!("u{i}"), ..Default::default() }));
    s.flush()?;
    let mut posts = Vec::new();
    for u in &users {
        for j in 0..10 {
            posts.push(Post { user_id: u.get().id, title: format!("p{j}"), score: j, ..Default::default() });
        }
    }
    let posts = s.add_all(posts);
    s.flush()?;
    let mut comments = Vec::new();
    for p in &posts {
        for k in 0..10 {
            comments.push(Comment { post_id: p.get().id, body: format!("c{k}"), ..Default::default() });
        }
    }
    s.add_all(comments);
    s.commit()?;
    // The graph by hand, from the rows: user id → post id → comment ids.
    let rows = s.query_sql("SELECT p.user_id, p.id, c.id FROM posts p JOIN comments c ON c.post_id = p.id", &[])?;
    let mut want: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
    for r in &rows {
        want.entry(r.get(0)?).or_default().entry(r.get(1)?).or_default().push(r.get(2)?);
    }
    want.values_mut().flat_map(|m| m.values_mut()).for_each(|v| v.sort_unstable());

    for strategy in ["selectin", "joined"] {
        let s = db.session();
        db.clear_sql();
        let q = s.query::<User>();
        let users = match strategy {
            "selectin" => q.options(selectinload(User::posts).selectinload(Post::comments)).all()?,
            _ => q.options(joinedload(User::posts).joinedload(Post::comments)).all()?,
        };
        assert_eq!(statements(db).len(), if strategy == "selectin" { 3 } else { 1 }, "{strategy}");
        let mut got: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
        for u in &users {
            let u = u.get();
            let e = got.entry(u.id.expect("id")).or_default();
            for p in u.posts.loaded().expect("posts loaded") {
                let p = p.get();
                let cs =
                    p.comments.loaded().expect("comments loaded").iter().map(|c| c.get().id.expect("id")).collect();
                e.insert(p.id.expect("id"), cs);
            }
        }
        assert_eq!(got, want, "{strategy}");
        assert_eq!(s.identity_count(), 100 + 1000 + 10_000);
    }
    Ok(())
}

/// Two tables referencing each other: `create_all` adds the forward key by ALTER TABLE where
/// the database needs it, and one flush inserts a team with its captain: the team first with
/// the key NULL, then the player, then an UPDATE (SQLAlchemy's `post_update`, chosen here
/// automatically because the key is nullable).
pub fn cycle_between_tables_is_flushed_with_a_later_update(db: &TestDb) -> Result<()> {
    let base = cycle_base();
    let ddl = base.metadata().create_statements(db.engine.dialect())?;
    let alters = ddl.iter().filter(|s| s.starts_with("ALTER TABLE")).count();
    assert_eq!(alters, usize::from(!db.caps().foreign_key_forward_reference), "{ddl:?}");
    base.metadata().create_all(&db.engine)?;
    db.clear_sql();
    let s = db.session();
    let team = s.add(Team { name: "reds".into(), ..Default::default() });
    let cap = s.add(Player { name: "kim".into(), team: BelongsTo::to(&team), ..Default::default() });
    s.add(Player { name: "lee".into(), team: BelongsTo::to(&team), ..Default::default() });
    team.edit(|t| t.captain.set(&cap))?;
    s.commit()?;
    assert_eq!(
        statements(db),
        [
            "INSERT INTO teams (name, captain_id) VALUES (?, ?)",
            "INSERT INTO players (name, team_id) VALUES (?, ?), (?, ?)",
            "UPDATE teams SET captain_id = ? WHERE id = ?",
        ]
    );
    let s = db.session();
    let team = s.query::<Team>().options(selectinload(Team::players)).one()?;
    let captain = s.related(&team, Team::captain)?.expect("captain");
    assert_eq!(captain.get().name, "kim");
    assert_eq!(team.get().players.iter().map(|p| p.get().name.clone()).collect::<Vec<_>>(), ["kim", "lee"]);
    Ok(())
}

/// A rollback forgets unflushed relationship changes and expires every relationship field (as
/// SQLAlchemy expires them): the next `related` reads what the database holds.
pub fn rollback_expires_relationships(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let ann = s.query::<User>().filter(User::name.eq("ann")).one()?;
    s.related(&ann, User::posts)?;
    let draft = s.add(Post { title: "draft".into(), ..Default::default() });
    ann.edit(|u| u.posts.push(&draft))?;
    assert_eq!(ann.get().posts.len(), 3);
    s.rollback()?;
    assert!(ann.get().posts.loaded().is_none(), "expired by the rollback");
    assert_eq!(draft.state(), ObjectState::Transient);
    let posts = s.related(&ann, User::posts)?;
    assert_eq!(posts.iter().map(title).collect::<Vec<_>>(), ["hello", "second"]);
    // In a savepoint: the outer work stays.
    let bob = s.query::<User>().filter(User::name.eq("bob")).one()?;
    s.related(&bob, User::posts)?;
    let kept = s.add(Post { title: "kept".into(), ..Default::default() });
    bob.edit(|u| u.posts.push(&kept))?;
    let sp = s.begin_nested()?;
    let gone = s.add(Post { title: "gone".into(), ..Default::default() });
    bob.edit(|u| u.posts.push(&gone))?;
    sp.rollback()?;
    s.commit()?;
    let s = db.session();
    let bob = s.query::<User>().filter(User::name.eq("bob")).one()?;
    let titles: Vec<String> = s.related(&bob, User::posts)?.iter().map(title).collect();
    assert_eq!(titles, ["bobs", "kept"]);
    Ok(())
}

/// A relationship's own `lazy = "selectin" | "joined" | "raise"` applies wherever no option says
/// otherwise, and an option overrides it.
pub fn default_strategies_and_overrides(db: &TestDb) -> Result<()> {
    shelf_base().metadata().create_all(&db.engine)?;
    let s = db.session();
    for (name, titles) in [("a", vec!["a1", "a2"]), ("b", vec!["b1"])] {
        let shelf = s.add(Shelf { name: name.into(), ..Default::default() });
        for t in titles {
            let book = s.add(Book { title: t.into(), shelf: BelongsTo::to(&shelf), ..Default::default() });
            s.add(Label { text: format!("{t}!"), book: BelongsTo::to(&book), ..Default::default() });
        }
    }
    s.commit()?;
    db.clear_sql();

    // Shelves: their books by selectin (whose shelf is joined by default: the SELECT of books
    // joins shelves too).
    let s = db.session();
    let shelves = s.query::<Shelf>().order_by(Shelf::id.asc()).all()?;
    assert_eq!(
        statements(db),
        [
            "SELECT shelves.id, shelves.name FROM shelves ORDER BY shelves.id ASC",
            "SELECT books.id, books.shelf_id, books.title, shelves_1.id, shelves_1.name FROM books \
             LEFT OUTER JOIN shelves AS shelves_1 ON shelves_1.id = books.shelf_id WHERE books.shelf_id IN (?, ?) \
             ORDER BY books.id ASC",
        ]
    );
    let titles: Vec<String> = shelves[0].get().books.iter().map(|b| b.get().title.clone()).collect();
    assert_eq!(titles, ["a1", "a2"]);
    assert!(shelves[0].get().books.loaded().expect("loaded")[0].get().labels.loaded().is_none(), "labels are lazy");

    // An option overrides the default.
    let s = db.session();
    let shelves = s.query::<Shelf>().options(lazyload(Shelf::books)).all()?;
    assert_eq!(statements(db).len(), 1);
    assert!(shelves[0].get().books.loaded().is_none());

    // Labels: their book must not load on demand.
    let s = db.session();
    let labels = s.query::<Label>().order_by(Label::id.asc()).all()?;
    db.clear_sql();
    let err = s.related(&labels[0], Label::book).expect_err("raise");
    assert_eq!(err, Error::LazyLoadForbidden { model: "Label", relationship: "book" });
    assert!(statements(db).is_empty());
    // Loaded eagerly, it is there.
    let labels = s.query::<Label>().options(selectinload(Label::book)).all()?;
    let book = s.related(&labels[0], Label::book)?.expect("book");
    assert_eq!(book.get().title, "a1");
    assert!(book.get().shelf.get().is_some(), "the book's shelf came joined by default");
    Ok(())
}

/// Joins along relationships, to filter and sort on the related model: one-to-many, through an
/// association table, chained, and outer; each object once.
pub fn joins_along_relationships(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let users = s.query::<User>().join(User::posts).filter(Post::score.ge(5)).order_by(User::id.asc()).all()?;
    assert_eq!(
        statements(db),
        ["SELECT users.id, users.name FROM users JOIN posts ON posts.user_id = users.id WHERE posts.score >= ? \
          ORDER BY users.id ASC"]
    );
    assert_eq!(users.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["ann", "bob"]);
    let ann_twice = s.query::<User>().join(User::posts).filter(User::name.eq("ann")).all()?;
    assert_eq!(ann_twice.len(), 1, "two posts, one user");
    let tagged = s.query::<Post>().join(Post::tags).filter(Tag::name.eq("orm")).order_by(Post::id.asc()).all()?;
    assert_eq!(tagged.iter().map(title).collect::<Vec<_>>(), ["hello", "second"]);
    let sql = statements(db);
    assert!(
        sql.last().is_some_and(|q| q.contains(
            "FROM posts JOIN post_tags ON post_tags.post_id = posts.id JOIN tags ON tags.id = post_tags.tag_id"
        )),
        "{sql:?}"
    );
    let by_comment = s.query::<User>().join(User::posts).join(Post::comments).filter(Comment::body.eq("c4")).all()?;
    assert_eq!(by_comment.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["bob"]);
    let empty = s
        .query::<Category>()
        .outerjoin(Category::posts)
        .filter(Post::id.is_null())
        .order_by(Category::id.asc())
        .all()?;
    assert_eq!(empty.iter().map(|c| c.get().name.clone()).collect::<Vec<_>>(), ["tech", "db"]);
    assert_eq!(s.query::<User>().join(User::posts).count()?, 3, "COUNT counts the joined rows");
    // Sorting on the joined model, and a loader option beside the join.
    let by_score =
        s.query::<User>().join(User::posts).order_by(Post::score.desc()).options(selectinload(User::posts)).all()?;
    assert_eq!(by_score.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["bob", "ann"]);
    assert_eq!(by_score[1].get().posts.len(), 2);
    Ok(())
}

/// Columns and aggregates with one result type on every database: COUNT an `i64`, SUM of
/// integers an `Option<i64>`, AVG an `Option<f64>`, MIN/MAX the column's type; GROUP BY and
/// HAVING over a join.
#[allow(clippy::type_complexity)] // the typed rows are the point
pub fn aggregates_group_by_having(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    // Scores: ann hello 5, second 2; bob bobs 9.
    let rows: Vec<(String, i64, Option<i64>, Option<f64>, Option<i32>)> = s
        .select((
            User::name,
            func::count(Post::id),
            func::sum(Post::score),
            func::avg(Post::score),
            func::max(Post::score),
        ))
        .join(User::posts)
        .group_by(User::name)
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(
        rows,
        [("ann".to_string(), 2, Some(7), Some(3.5), Some(5)), ("bob".to_string(), 1, Some(9), Some(9.0), Some(9))]
    );
    let busy: Vec<String> =
        s.select(User::name).join(User::posts).group_by(User::name).having(func::count(Post::id).gt(1)).all()?;
    assert_eq!(busy, ["ann"]);
    // An AVG that is not a short decimal still decodes as f64 everywhere.
    let avg: Vec<Option<f64>> = s.select(func::avg(Comment::id)).all()?;
    assert!(avg[0].is_some_and(|a| a > 0.0));
    // Over no rows: COUNT 0, the others NULL.
    let none: Vec<(i64, Option<i64>, Option<f64>, Option<i32>)> = s
        .select((func::count_all::<Post>(), func::sum(Post::score), func::avg(Post::score), func::min(Post::score)))
        .filter(Post::score.gt(100))
        .all()?;
    assert_eq!(none, [(0, None, None, None)]);
    let distinct_tags: Vec<i64> = s.select(func::count_distinct(Post::user_id)).all()?;
    assert_eq!(distinct_tags, [2]);
    // Ordering by an aggregate and by arithmetic.
    let by_count: Vec<(String, i64)> = s
        .select((User::name, func::count(Post::id)))
        .join(User::posts)
        .group_by(User::name)
        .order_by(func::count(Post::id).desc())
        .all()?;
    assert_eq!(by_count, [("ann".to_string(), 2), ("bob".to_string(), 1)]);
    let posts = s.query::<Post>().order_by(Post::score.neg().asc()).all()?;
    assert_eq!(posts.iter().map(title).collect::<Vec<_>>(), ["bobs", "hello", "second"]);
    Ok(())
}

/// Subqueries: `IN (SELECT …)` of the same type, `EXISTS`, with the outer and inner bound values
/// numbered in one statement.
pub fn subqueries_in_and_exists(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let high = s.select(Post::user_id).filter(Post::score.gt(5)).subquery();
    let users = s.query::<User>().filter(User::name.ne("zed")).filter(User::id.in_(high)).all()?;
    assert_eq!(users.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["bob"]);
    let sql = statements(db);
    assert_eq!(
        sql.last().map(String::as_str),
        Some(
            "SELECT users.id, users.name FROM users WHERE users.name <> ? AND users.id IN \
             (SELECT posts.user_id FROM posts WHERE posts.score > ?)"
        )
    );
    let low = s.select(Post::user_id).filter(Post::score.lt(3)).subquery();
    let others = s.query::<User>().filter(User::id.not_in(low)).all()?;
    assert_eq!(others.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["bob"]);
    let none = s.select(Post::id).filter(Post::score.gt(100)).subquery();
    assert!(s.query::<User>().filter(exists::<User, _>(none.clone())).all()?.is_empty());
    assert_eq!(s.query::<User>().filter(not_exists::<User, _>(none)).count()?, 2);
    // A subquery with GROUP BY / HAVING: the users with more than one post.
    let busy = s.select(Post::user_id).group_by(Post::user_id).having(func::count(Post::id).gt(1)).subquery();
    let names: Vec<String> =
        s.query::<User>().filter(User::id.in_(busy)).all()?.iter().map(|u| u.get().name.clone()).collect();
    assert_eq!(names, ["ann"]);

    // Scalar subqueries: a value in a filter and in a select list, NULL over no row.
    let posts: Vec<(String, i32)> = s.select((Post::title, Post::score)).order_by(Post::id.asc()).all()?;
    let top = posts.iter().map(|p| p.1).max().expect("posts");
    let best = s
        .query::<Post>()
        .filter(Post::score.eq(s.select(func::max(Post::score)).subquery().scalar::<Post>()))
        .order_by(Post::id.asc())
        .all()?;
    let want: Vec<String> = posts.iter().filter(|p| p.1 == top).map(|p| p.0.clone()).collect();
    assert_eq!(best.iter().map(|p| p.get().title.clone()).collect::<Vec<_>>(), want);
    let sql = statements(db);
    assert_eq!(
        sql.last().map(String::as_str),
        Some(
            "SELECT posts.id, posts.user_id, posts.category_id, posts.title, posts.score FROM posts \
             WHERE posts.score = (SELECT MAX(posts.score) FROM posts) ORDER BY posts.id ASC"
        )
    );
    let total = s.select(func::count_all::<Post>()).subquery().scalar::<User>();
    let nothing = s.select(Post::score).filter(Post::score.gt(1000)).subquery().scalar::<User>();
    let rows: Vec<(String, Option<i64>, Option<i32>)> =
        s.select((User::name, total, nothing)).order_by(User::name.asc()).all()?;
    let n = posts.len() as i64;
    assert_eq!(rows, [("ann".to_string(), Some(n), None), ("bob".to_string(), Some(n), None)]);

    // Correlated subqueries: EXISTS per user, and a count per user in the select list.
    let high = || s.select(Post::id).filter(Post::score.gt(6)).correlate(Post::user_id, User::id);
    let with_high: Vec<String> =
        s.query::<User>().filter(exists(high())).all()?.iter().map(|u| u.get().name.clone()).collect();
    assert_eq!(with_high, ["bob"]);
    assert_eq!(
        statements(db).last().map(String::as_str),
        Some(
            "SELECT users.id, users.name FROM users WHERE EXISTS \
             (SELECT posts.id FROM posts WHERE posts.score > ? AND posts.user_id = users.id)"
        )
    );
    let without: Vec<String> = s
        .query::<User>()
        .filter(not_exists(high()))
        .order_by(User::name.asc())
        .all()?
        .iter()
        .map(|u| u.get().name.clone())
        .collect();
    assert_eq!(without, ["ann"]);
    let per_user: Vec<(String, Option<i64>)> = s
        .select((User::name, s.select(func::count(Post::id)).correlate(Post::user_id, User::id).scalar()))
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(per_user, [("ann".to_string(), Some(2)), ("bob".to_string(), Some(1))]);
    let own = s.query::<User>().filter(exists(s.select(User::id).correlate(User::id, User::id))).all();
    assert!(matches!(own, Err(Error::InvalidRequest { .. })), "{own:?}");
    Ok(())
}

/// Rows of several models: `query::<(User, Option<Post>)>()` with an outer join gives one row per
/// match, the same instance for the same row of a table, and `None` where the join found nothing;
/// a required member missing from a row is a typed error.
pub fn rows_of_several_models(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    s.add(User { name: "cyd".into(), ..Default::default() });
    s.commit()?;
    db.clear_sql();
    let rows = s
        .query::<(User, Option<Post>)>()
        .outerjoin(User::posts)
        .order_by(User::name.asc())
        .order_by(Post::id.asc())
        .all()?;
    let got: Vec<(String, Option<String>)> =
        rows.iter().map(|(u, p)| (u.get().name.clone(), p.as_ref().map(|p| p.get().title.clone()))).collect();
    let want = [("ann", Some("hello")), ("ann", Some("second")), ("bob", Some("bobs")), ("cyd", None)];
    assert_eq!(got, want.map(|(u, p)| (u.to_string(), p.map(str::to_string))));
    assert!(Handle::ptr_eq(&rows[0].0, &rows[1].0), "one instance per row of a table");
    // An outer-joined column may be NULL: where NULL does not sort low by itself, it is told to.
    let nulls = if db.caps().nulls_sort_low { "" } else { " NULLS FIRST" };
    assert_eq!(
        statements(db),
        [format!(
            "SELECT users.id, users.name, posts.id, posts.user_id, posts.category_id, posts.title, posts.score \
             FROM users LEFT OUTER JOIN posts ON posts.user_id = users.id ORDER BY users.name ASC, posts.id ASC{nulls}"
        )]
    );
    // Three models, filtered on the last, and first().
    let triples = s
        .query::<(User, Post, Comment)>()
        .join(User::posts)
        .join(Post::comments)
        .filter(Comment::body.ne("c2"))
        .order_by(Comment::body.asc())
        .all()?;
    let got: Vec<String> =
        triples.iter().map(|(u, p, c)| format!("{}/{}/{}", u.get().name, p.get().title, c.get().body)).collect();
    assert_eq!(got, ["ann/hello/c1", "ann/second/c3", "bob/bobs/c4"]);
    let first = s.query::<(User, Post)>().join(User::posts).order_by(Post::score.desc()).first()?;
    assert_eq!(first.map(|(u, p)| (u.get().name.clone(), p.get().score)), Some(("bob".to_string(), 9)));
    // A required member that a row lacks.
    let err = s.query::<(User, Post)>().outerjoin(User::posts).all().expect_err("cyd has no post");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    let locked = s.query::<(User, Post)>().join(User::posts).with_for_update().all();
    assert!(matches!(locked, Err(Error::InvalidRequest { .. })), "{locked:?}");
    assert_eq!(s.query::<User>().count()?, 3, "the session goes on");
    Ok(())
}

athanor::alias!(
    /// The parent category in a self-join.
    Parent = "parent"
);

/// Self-joins through an alias and joins with an explicit ON, in queries of objects, of
/// several models and of columns; the SQL names the alias.
pub fn aliases_and_explicit_on(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let under_tech = s
        .query::<Category>()
        .join_as(Category::parent, Parent)
        .filter(Parent::col(Category::name).eq("tech"))
        .order_by(Category::name.asc())
        .all()?;
    assert_eq!(under_tech.iter().map(|c| c.get().name.clone()).collect::<Vec<_>>(), ["db", "rust"]);
    assert_eq!(
        statements(db),
        ["SELECT categories.id, categories.parent_id, categories.name FROM categories \
          JOIN categories AS parent ON parent.id = categories.parent_id WHERE parent.name = ? \
          ORDER BY categories.name ASC"]
    );
    // Rows of a category and its parent: the alias gives the same instances as the table.
    let pairs = s
        .query::<(Category, Option<athanor::Aliased<Category, Parent>>)>()
        .outerjoin_as(Category::parent, Parent)
        .order_by(Category::name.asc())
        .all()?;
    let got: Vec<(String, Option<String>)> =
        pairs.iter().map(|(c, p)| (c.get().name.clone(), p.as_ref().map(|p| p.get().name.clone()))).collect();
    let want = [("db", Some("tech")), ("rust", Some("tech")), ("sql", Some("db")), ("tech", None)];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.map(str::to_string))));
    let tech = &pairs[3].0;
    assert!(pairs[0].1.as_ref().is_some_and(|p| Handle::ptr_eq(p, tech)), "one instance per row");
    let names: Vec<(String, String)> = s
        .select((Category::name, Parent::col(Category::name)))
        .join_as(Category::parent, Parent)
        .order_by(Parent::col(Category::name).desc())
        .order_by(Category::name.asc())
        .all()?;
    let want = [("db", "tech"), ("rust", "tech"), ("sql", "db")];
    assert_eq!(names, want.map(|(a, b)| (a.to_string(), b.to_string())));

    // Explicit ON: equality of two columns of the same type, with or without a relationship.
    let posters = s
        .query::<User>()
        .join_on(Post::user_id, User::id)
        .filter(Post::score.gt(4))
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(posters.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["ann", "bob"]);
    db.clear_sql();
    let same_name: Vec<(String, Option<i64>)> =
        s.select((Category::name, Tag::id)).join_on(Tag::name, Category::name).all()?;
    assert_eq!(same_name.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["rust"]);
    assert_eq!(
        statements(db),
        ["SELECT categories.name, tags.id FROM categories JOIN tags ON tags.name = categories.name"]
    );
    let outer: Vec<(String, Option<i64>)> = s
        .select((User::name, Parent::col(Category::id)))
        .outerjoin_on(Parent::col(Category::name), User::name)
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(outer, [("ann".to_string(), None), ("bob".to_string(), None)]);

    // The same table twice without an alias, or an alias twice, is refused before sending.
    let twice = s.query::<Category>().join(Category::parent).all();
    assert!(matches!(twice, Err(Error::InvalidRequest { .. })), "{twice:?}");
    let again = s.query::<Category>().join_as(Category::parent, Parent).join_as(Category::children, Parent).all();
    assert!(matches!(again, Err(Error::InvalidRequest { .. })), "{again:?}");
    assert_eq!(s.query::<Category>().count()?, 4, "the session goes on");
    Ok(())
}

athanor::alias!(
    /// Per-user post statistics, a subquery in FROM.
    Stats = "stats"
);

/// A grouped subquery in FROM, joined to its table: in a column select (with its bound values
/// numbered in order), an outer join keeping rows without a match, and a query of objects
/// filtered by it.
pub fn subqueries_in_from(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    s.add(User { name: "cyd".into(), ..Default::default() });
    s.commit()?;
    let stats = s
        .select((Post::user_id, func::count(Post::id), func::max(Post::score)))
        .filter(Post::title.ne("nothing"))
        .group_by(Post::user_id)
        .subquery_as(Stats);
    db.clear_sql();
    let rows: Vec<(String, i64, Option<i32>)> = s
        .select((User::name, stats.c1(), stats.c2()))
        .join_subquery(&stats, stats.c0(), User::id)
        .filter(User::name.ne("zed"))
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(rows, [("ann".to_string(), 2, Some(5)), ("bob".to_string(), 1, Some(9))]);
    assert_eq!(
        statements(db),
        ["SELECT users.name, stats.c1, stats.c2 FROM users JOIN (SELECT posts.user_id AS c0, COUNT(posts.id) AS c1, \
          MAX(posts.score) AS c2 FROM posts WHERE posts.title <> ? GROUP BY posts.user_id) AS stats \
          ON stats.c0 = users.id WHERE users.name <> ? ORDER BY users.name ASC"]
    );
    let all: Vec<(String, Option<i64>)> = s
        .select((User::name, stats.c1().nullable()))
        .outerjoin_subquery(&stats, stats.c0(), User::id)
        .order_by(User::name.asc())
        .all()?;
    assert_eq!(all, [("ann".to_string(), Some(2)), ("bob".to_string(), Some(1)), ("cyd".to_string(), None)]);
    let busy = s.query::<User>().join_subquery(&stats, stats.c0(), User::id).filter(stats.c1().gt(1)).all()?;
    assert_eq!(busy.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["ann"]);
    let twice = s
        .select(User::name)
        .join_subquery(&stats, stats.c0(), User::id)
        .join_subquery(&stats, stats.c0(), User::id)
        .all();
    assert!(matches!(twice, Err(Error::InvalidRequest { .. })), "{twice:?}");
    Ok(())
}

/// UNION and UNION ALL of selections with the same row type.
pub fn union_removes_duplicates_and_union_all_keeps_them(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let mut names: Vec<String> = s.select(User::name).union(s.select(Tag::name)).union(s.select(User::name)).all()?;
    names.sort();
    assert_eq!(names, ["ann", "bob", "misc", "orm", "rust"], "UNION removes duplicates");
    let all: Vec<String> = s.select(User::name).union_all(s.select(User::name).filter(User::name.eq("ann"))).all()?;
    assert_eq!(all.len(), 3, "UNION ALL keeps them");
    let st = s.select(User::name).union_all(s.select(Tag::name).filter(Tag::name.ne("x"))).statement()?;
    assert_eq!(
        crate::harness::normalize(&st.sql),
        "SELECT users.name FROM users UNION ALL SELECT tags.name FROM tags WHERE tags.name <> ?"
    );
    let err = s.select(User::name).order_by(User::name.asc()).union(s.select(Tag::name)).all();
    assert!(matches!(err, Err(Error::InvalidRequest { .. })), "a part with its own ORDER BY");
    // ORDER BY, LIMIT and OFFSET of the whole, by the selected item's position.
    let page: Vec<String> =
        s.select(User::name).union(s.select(Tag::name)).order_by_item_desc(1).limit(3).offset(1).all()?;
    assert_eq!(page, ["orm", "misc", "bob"]);
    // NULL is the smallest value here too.
    let ids = || s.select(Post::category_id).union(s.select(Category::parent_id));
    let up: Vec<Option<i64>> = ids().order_by_item(1).all()?;
    let down: Vec<Option<i64>> = ids().order_by_item_desc(1).all()?;
    assert_eq!(up.first(), Some(&None), "{up:?}");
    assert_eq!(down.last(), Some(&None), "{down:?}");
    assert!(up[1..].windows(2).all(|w| w[0] < w[1]), "{up:?}");
    assert_eq!(down.iter().rev().cloned().collect::<Vec<_>>(), up);
    let st = ids().order_by_item_desc(1).limit(2).statement()?;
    let nulls = if db.caps().nulls_sort_low { "" } else { " NULLS LAST" };
    assert_eq!(
        crate::harness::normalize(&st.sql),
        format!("SELECT posts.category_id FROM posts UNION SELECT categories.parent_id FROM categories ORDER BY 1 DESC{nulls} LIMIT 2")
    );
    let bad = s.select(User::name).union(s.select(Tag::name)).order_by_item(2).all();
    assert!(matches!(bad, Err(Error::InvalidRequest { .. })), "{bad:?}");
    Ok(())
}

/// Statements built without a session (`select::<M>()`, `select_columns(…)`, their joins,
/// subqueries and UNION) run through `Session::execute` / `Session::scalars`: objects through
/// the identity map, typed tuples, first items; the SQL sent is the one the value renders.
pub fn session_free_selects_run_through_execute(db: &TestDb) -> Result<()> {
    seeded(db)?;
    // Built before any session exists.
    let high_scorers = select::<User>().join(User::posts).filter(Post::score.ge(5)).order_by(User::name.asc());
    let per_user = select_columns((User::name, func::count(Post::id)))
        .join(User::posts)
        .group_by((User::id, User::name))
        .order_by((func::count(Post::id).desc(), User::name.asc()));
    let names = select_columns(User::name).union(select_columns(Tag::name)).order_by_item_desc(1).limit(3);
    let n_posts = select_columns(func::count(Post::id)).correlate(Post::user_id, User::id).scalar();
    let with_counts = select_columns((User::name, n_posts)).order_by(User::name.asc());
    let top = select::<User>().filter(User::id.in_(select_columns(Post::user_id).filter(Post::score.gt(8)).subquery()));

    let s = db.session();
    let users = s.execute(high_scorers.clone())?;
    assert_eq!(users.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["ann", "bob"], "each object once");
    let again = s.query::<User>().order_by(User::name.asc()).all()?;
    assert!(Handle::ptr_eq(&users[0], &again[0]), "the identity map: one instance per row");
    let scalars = s.scalars(select::<User>().order_by(User::name.desc()))?.all();
    assert_eq!(scalars.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["bob", "ann"]);

    let rows = s.execute(per_user.clone())?.all();
    assert_eq!(rows, [("ann".to_string(), 2), ("bob".to_string(), 1)]);
    let first_items: Vec<String> = s.execute(per_user)?.scalars().all();
    assert_eq!(first_items, ["ann", "bob"]);

    db.clear_sql();
    let page: Vec<String> = s.scalars(names.clone())?.all();
    assert_eq!(page, ["rust", "orm", "misc"]);
    let rendered = crate::harness::normalize(&names.to_sql(db.engine.dialect())?.sql);
    assert_eq!(statements(db), [rendered], "the statement the value renders");

    let counts = s.execute(with_counts)?.all();
    assert_eq!(counts, [("ann".to_string(), Some(2)), ("bob".to_string(), Some(1))], "a scalar subquery may be NULL");
    let bob = s.execute(top)?.one()?;
    assert_eq!(bob.get().name, "bob");
    let none = s.execute(select::<User>().filter(User::name.eq("nobody")))?.one();
    assert!(matches!(none, Err(Error::NotFound { .. })), "{none:?}");
    // Raw SQL still runs through the same door.
    let raw = s.execute(text("SELECT COUNT(*) AS n FROM users"))?;
    assert_eq!(raw[0].get::<i64>("n")?, 2);
    Ok(())
}

/// The association table a `ManyToMany` declares and the one `Base::association` declares are
/// the same table; a different declaration under that name is refused before anything is sent.
pub fn association_tables_are_declared_once(db: &TestDb) -> Result<()> {
    let derived = base();
    let explicit = base().association("post_tags", (Post::id, Tag::id));
    assert_eq!(explicit.metadata().tables().len(), derived.metadata().tables().len(), "the same table");
    let assoc = explicit.metadata().table("post_tags").expect("declared");
    let names: Vec<&str> = assoc.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, ["post_id", "tag_id"]);
    assert!(assoc.columns.iter().all(|c| c.primary_key && c.foreign_key.is_some()));
    let clash = base().association("post_tags", (Post::id, User::id));
    let err = clash.metadata().create_all(&db.engine).expect_err("two shapes for post_tags");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    assert!(db.take_sql().is_empty(), "nothing sent");
    let not_a_key = base().association("post_tags", (Post::user_id, Tag::id));
    assert!(matches!(not_a_key.metadata().create_all(&db.engine), Err(Error::InvalidRequest { .. })));
    explicit.metadata().create_all(&db.engine)?;
    Ok(())
}

/// The posts a search with optional parameters finds, built on one `Query<'_, Post, Dynamic>`
/// variable: the tag adds its join only when present.
fn search<'s>(
    s: &'s Session,
    title: Option<&str>,
    tag: Option<&str>,
    min_score: Option<i32>,
) -> Query<'s, Post, Dynamic> {
    let mut q = s.query::<Post>().into_dynamic();
    if let Some(t) = title {
        q = q.filter(Post::title.contains(t));
    }
    if let Some(t) = tag {
        q = q.join(Post::tags).filter(Tag::name.eq(t));
    }
    if let Some(m) = min_score {
        q = q.filter(Post::score.ge(m));
    }
    q.order_by((Post::score.desc(), Post::id.asc()))
}

/// Joins and filters added only when a parameter is present (`into_dynamic()`): every
/// combination gives the rows of the typed query with the same steps (the same SQL), with
/// `count`, `exists`, `first`, `one`, pagination, loader options and tuple rows; a filter, sort
/// key or tuple member on a model the query did not join is `Error::InvalidRequest` before any
/// SQL is sent, and the session stays usable.
pub fn dynamic_queries_add_joins_from_optional_parameters(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    // Scores: hello 5 {rust, orm}, second 2 {orm}, bobs 9 {}.
    type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<i32>, &'a [&'a str]);
    let cases: [Case<'_>; 8] = [
        (None, None, None, &["bobs", "hello", "second"]),
        (Some("s"), None, None, &["bobs", "second"]),
        (None, Some("orm"), None, &["hello", "second"]),
        (None, Some("rust"), None, &["hello"]),
        (None, None, Some(5), &["bobs", "hello"]),
        (Some("e"), Some("orm"), Some(3), &["hello"]),
        (Some("e"), Some("orm"), None, &["hello", "second"]),
        (None, Some("none"), None, &[]),
    ];
    for (part, tag, min, want) in cases {
        let what = format!("title={part:?} tag={tag:?} min={min:?}");
        let q = search(&s, part, tag, min);
        assert_eq!(q.all()?.iter().map(title).collect::<Vec<_>>(), want, "{what}");
        assert_eq!(q.count()?, want.len() as u64, "{what}");
        assert_eq!(q.exists()?, !want.is_empty(), "{what}");
        assert_eq!(q.first()?.as_ref().map(title).as_deref(), want.first().copied(), "{what}");
        // Pagination: one per page.
        for (page, expected) in want.iter().enumerate() {
            let got = search(&s, part, tag, min).limit(1).offset(page as u64).all()?;
            assert_eq!(got.iter().map(title).collect::<Vec<_>>(), [*expected], "{what} page {page}");
        }
    }
    // The typed twin of one case: same SQL, same objects (the same instances).
    let typed = s
        .query::<Post>()
        .filter(Post::title.contains("e"))
        .join(Post::tags)
        .filter(Tag::name.eq("orm"))
        .filter(Post::score.ge(3))
        .order_by((Post::score.desc(), Post::id.asc()));
    let dynamic = search(&s, Some("e"), Some("orm"), Some(3));
    assert_eq!(typed.sql()?, dynamic.sql()?);
    db.clear_sql();
    let (a, b) = (typed.all()?, dynamic.all()?);
    assert!(a.len() == 1 && Handle::ptr_eq(&a[0], &b[0]));
    let sql = statements(db);
    assert_eq!(sql[0], sql[1]);
    assert!(sql[0].contains("JOIN post_tags ON post_tags.post_id = posts.id JOIN tags ON tags.id = post_tags.tag_id"));
    assert_eq!(title(&search(&s, None, Some("rust"), None).one()?), "hello");
    // An outer join, a join further down, a loader option.
    let mut q = s.query::<User>().into_dynamic();
    q = q.join(User::posts).outerjoin(Post::comments).filter(Comment::body.is_null().or(Comment::body.ne("c1")));
    let users = q.order_by(User::id.asc()).options(selectinload(User::posts)).all()?;
    assert_eq!(users.iter().map(|u| u.get().name.clone()).collect::<Vec<_>>(), ["ann", "bob"]);
    assert_eq!(users[0].get().posts.len(), 2, "the option loaded the collection");
    // Rows of several models.
    let rows = s.query::<(User, Post)>().into_dynamic().join(User::posts).order_by(Post::id.asc()).all()?;
    let got: Vec<String> = rows.iter().map(|(u, p)| format!("{}/{}", u.get().name, p.get().title)).collect();
    assert_eq!(got, ["ann/hello", "ann/second", "bob/bobs"]);
    // What the typed query refuses at compile time is a typed error here, before any SQL.
    db.clear_sql();
    let refused = [
        s.query::<Post>().into_dynamic().filter(Tag::name.eq("orm")).all().map(|_| ()),
        s.query::<Post>().into_dynamic().order_by(User::name.asc()).count().map(|_| ()),
        s.query::<Post>().into_dynamic().join(User::posts).first().map(|_| ()),
        s.query::<(User, Post)>().into_dynamic().all().map(|_| ()),
    ];
    for r in refused {
        assert!(matches!(r, Err(Error::InvalidRequest { .. })), "{r:?}");
    }
    assert!(db.take_sql().is_empty(), "nothing was sent");
    assert!(s.is_active(), "no pending rollback");
    assert_eq!(search(&s, None, Some("orm"), None).count()?, 2);
    Ok(())
}
