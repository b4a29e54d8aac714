//! Relationships, as in SQLAlchemy's `relationship()`: a blog with users, posts, comments, tags
//! through an association table and a category tree, built in one flush and loaded with each
//! strategy, with the number of SELECTs each one costs.
//!
//! ```text
//! cargo run --example blog                                    # an SQLite file, no server
//! cargo run --example blog -- postgres://postgres@127.0.0.1/test
//! cargo run --example blog -- mysql://root@127.0.0.1/test
//! ```
//! The output on stdout is the same on every database; add `?echo=true` to the URL to see the
//! statements.
#![allow(missing_docs)] // a program, not a library

use athanor::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    // One-to-many: the foreign key is found on Post (blog_posts.user_id), at compile time.
    #[relationship(back_populates = "author", cascade = "all, delete-orphan", order_by = "id")]
    pub posts: HasMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "blog_users.id", index)]
    pub user_id: Option<i64>,
    #[column(foreign_key = "blog_categories.id")]
    pub category_id: Option<i64>,
    pub title: String,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
    #[relationship(back_populates = "posts")]
    pub category: BelongsTo<Category>,
    // Many-to-many through blog_post_tags (post_id, tag_id), created with the models.
    #[relationship(secondary = "blog_post_tags", back_populates = "posts")]
    pub tags: ManyToMany<Tag>,
    #[relationship(back_populates = "post", cascade = "all, delete-orphan")]
    pub comments: HasMany<Comment>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_comments")]
pub struct Comment {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "blog_posts.id")]
    pub post_id: Option<i64>,
    pub body: String,
    #[relationship(back_populates = "comments")]
    pub post: BelongsTo<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(secondary = "blog_post_tags", back_populates = "tags")]
    pub posts: ManyToMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "blog_categories")]
pub struct Category {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "blog_categories.id")]
    pub parent_id: Option<i64>,
    pub name: String,
    // A self-referential tree.
    #[relationship(back_populates = "children")]
    pub parent: BelongsTo<Category>,
    #[relationship(back_populates = "parent", order_by = "id")]
    pub children: HasMany<Category>,
    #[relationship(back_populates = "category")]
    pub posts: HasMany<Post>,
}

fn names<M: Model>(items: &[Handle<M>], name: impl Fn(&M) -> String) -> String {
    items.iter().map(|h| name(&h.get())).collect::<Vec<_>>().join(", ")
}

fn show(users: &[Handle<User>]) {
    for u in users {
        let u = u.get();
        println!("   {}", u.name);
        for p in u.posts.iter() {
            let p = p.get();
            let comments = p.comments.loaded().map_or("?".into(), |c| names(c, |c: &Comment| c.body.clone()));
            let tags = p.tags.loaded().map_or("?".into(), |t| names(t, |t: &Tag| t.name.clone()));
            println!("     {:<8} comments [{comments}]  tags [{tags}]", p.title);
        }
    }
}

fn main() -> athanor::Result<()> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite://blog.db".into());
    if url.contains("echo=true") {
        tracing_subscriber::fmt().with_target(false).init();
    }
    let engine = create_engine(&url)?;
    eprintln!("   engine for {} (dialect {})", engine.url(), engine.dialect().name());
    // Count the SELECTs, to show what each loading strategy costs.
    let selects = Arc::new(AtomicUsize::new(0));
    let counter = selects.clone();
    engine.on_statement(move |ev| {
        if ev.sql.starts_with("SELECT") {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let count = || selects.swap(0, Ordering::Relaxed);

    let base = Base::new()
        .register::<User>()
        .register::<Category>()
        .register::<Post>()
        .register::<Comment>()
        .register::<Tag>();
    base.metadata().drop_all(&engine)?; // a re-run starts clean
    base.metadata().create_all(&engine)?; // in foreign-key order, the association table included
    println!("1. tables created: {}", names_of(&base));

    // Build the graph in memory; one flush writes it, parents first.
    let session = sessionmaker(&engine).session();
    let ann = session.add(User { name: "ann".into(), ..Default::default() });
    let bob = session.add(User { name: "bob".into(), ..Default::default() });
    let tech = session.add(Category { name: "tech".into(), ..Default::default() });
    let rust = session.add(Category { name: "rust".into(), parent: BelongsTo::to(&tech), ..Default::default() });
    let (t_rust, t_orm) = (
        session.add(Tag { name: "rust".into(), ..Default::default() }),
        session.add(Tag { name: "orm".into(), ..Default::default() }),
    );
    let hello = session.add(Post { title: "hello".into(), ..Default::default() });
    let second = session.add(Post { title: "second".into(), ..Default::default() });
    ann.edit(|u| {
        u.posts.push(&hello); // back_populates: hello.author is ann now
        u.posts.push(&second);
    })?;
    hello.edit(|p| {
        p.tags.push(&t_rust);
        p.tags.push(&t_orm);
        p.category.set(&rust);
    })?;
    second.edit(|p| p.tags.push(&t_orm))?;
    for (post, body) in [(&hello, "first!"), (&hello, "nice"), (&second, "more")] {
        session.add(Comment { body: body.into(), post: BelongsTo::to(post), ..Default::default() });
    }
    session.add(Post { title: "bobs".into(), author: BelongsTo::to(&bob), ..Default::default() });
    assert!(Handle::ptr_eq(hello.get().author.get().expect("set by back_populates"), &ann));
    count();
    session.commit()?; // INSERT users, categories (parents first), tags, posts, comments, post_tags
    println!("2. one commit wrote the graph; ann's key {:?}, hello.user_id {:?}", ann.get().id, hello.get().user_id);

    // Loading is explicit: an attribute read never does I/O.
    let session = sessionmaker(&engine).session();
    let users = session.query::<User>().order_by(User::id.asc()).all()?;
    assert!(users[0].get().posts.loaded().is_none());
    count();
    let posts = session.related(&users[0], User::posts)?; // one SELECT, fills the field
    println!(
        "3. lazy: session.related(&ann, User::posts) = [{}] in {} SELECT",
        names(&posts, |p: &Post| p.title.clone()),
        count()
    );
    session.related(&users[0], User::posts)?;
    println!("   again: {} SELECTs (loaded)", count());

    // selectin: one IN query per level, whatever the number of objects.
    let session = sessionmaker(&engine).session();
    let users = session
        .query::<User>()
        .order_by(User::id.asc())
        .options(selectinload(User::posts).selectinload(Post::comments))
        .options(selectinload(Post::tags))
        .all()?;
    println!("4. selectinload two levels + tags: {} SELECTs", count());
    show(&users);

    // joined: the same graph in one statement.
    let session = sessionmaker(&engine).session();
    let users = session
        .query::<User>()
        .order_by(User::id.asc())
        .options(joinedload(User::posts).joinedload(Post::comments))
        .options(joinedload(Post::tags))
        .all()?;
    println!("5. joinedload: {} SELECT", count());
    show(&users);

    // raise: an accidental lazy load is an error, not a hidden N+1.
    let session = sessionmaker(&engine).session();
    let posts = session.query::<Post>().order_by(Post::id.asc()).options(raiseload(Post::tags)).all()?;
    match session.related(&posts[0], Post::tags) {
        Err(e @ Error::LazyLoadForbidden { .. }) => println!("6. raiseload: {e}"),
        other => println!("6. raiseload: unexpected {other:?}"),
    }

    // Change the graph: move a post, remove a tag, delete a user (delete-orphan cascades).
    let session = sessionmaker(&engine).session();
    let users = session.query::<User>().order_by(User::id.asc()).options(selectinload(User::posts)).all()?;
    let (ann, bob) = (users[0].clone(), users[1].clone());
    let second = ann.get().posts.loaded().expect("loaded")[1].clone();
    second.edit(|p| p.author.set(&bob))?; // ann.posts and bob.posts follow in memory
    let hello = ann.get().posts.loaded().expect("loaded")[0].clone();
    let tags = session.related(&hello, Post::tags)?;
    hello.edit(|p| p.tags.remove(&tags[1]))?;
    session.commit()?;
    session.delete(&ann)?; // her remaining post and its comments go with her
    session.commit()?;
    let session = sessionmaker(&engine).session();
    let users = session
        .query::<User>()
        .options(selectinload(User::posts).selectinload(Post::comments))
        .options(selectinload(Post::tags))
        .all()?;
    println!("7. after moving 'second' to bob, untagging 'hello' and deleting ann:");
    show(&users);

    // The category tree, two levels from the roots.
    let roots = session
        .query::<Category>()
        .filter(Category::parent_id.is_null())
        .options(selectinload(Category::children))
        .all()?;
    for r in &roots {
        println!(
            "8. category {} > [{}]",
            r.get().name,
            names(r.get().children.iter().as_slice(), |c: &Category| c.name.clone())
        );
    }
    Ok(())
}

fn names_of(base: &Base) -> String {
    base.metadata().tables().iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}
