//! Dynamic statements (`Select<M, Dynamic>`, `into_dynamic()`): joins and filters added
//! conditionally to one variable render exactly the SQL of the typed statement with the same
//! steps, on the three dialects; a condition, sort key or join naming a model the statement did
//! not join is a typed `Error::InvalidRequest` when it renders, never a panic and never SQL that
//! names a table missing from the FROM.
#![allow(missing_docs)] // test models
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

#[path = "common/per_dialect.rs"]
mod per_dialect;

use athanor::prelude::*;
use athanor::{Dynamic, Select, Value};
use per_dialect::{assert_sql, dialects, rendered};

#[derive(Model, Debug, Clone, Default)]
#[model(table = "authors")]
pub struct Author {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(back_populates = "author")]
    pub books: HasMany<Book>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "authors.id")]
    pub author_id: Option<i64>,
    pub title: String,
    pub price: i64,
    #[relationship(back_populates = "books")]
    pub author: BelongsTo<Author>,
    #[relationship(secondary = "book_tags", back_populates = "books")]
    pub tags: ManyToMany<Tag>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(secondary = "book_tags", back_populates = "tags")]
    pub books: ManyToMany<Book>,
}

alias!(Writer = "writer");

/// What a request handler gets from the query string.
#[derive(Default)]
struct Params {
    title: Option<String>,
    tag: Option<String>,
    min_price: Option<i64>,
    sort: Option<&'static str>,
    page: u64,
}

/// The recipe of docs/expressions.md, as a session-free statement.
fn search(p: &Params) -> Select<Book, Dynamic> {
    let mut st = athanor::select::<Book>().into_dynamic();
    if let Some(t) = &p.title {
        st = st.filter(Book::title.contains(t.as_str()));
    }
    if let Some(tag) = &p.tag {
        st = st.join(Book::tags).filter(Tag::name.eq(tag.as_str()));
    }
    if let Some(min) = p.min_price {
        st = st.filter(Book::price.ge(min));
    }
    st = match p.sort {
        Some("price") => st.order_by((Book::price.asc(), Book::id.asc())),
        Some("-price") => st.order_by((Book::price.desc(), Book::id.asc())),
        _ => st.order_by((Book::title.asc(), Book::id.asc())),
    };
    st.limit(20).offset(20 * p.page)
}

const COLS_Q: &str = r#"SELECT "books"."id", "books"."author_id", "books"."title", "books"."price" FROM "books""#;
const COLS_B: &str = "SELECT `books`.`id`, `books`.`author_id`, `books`.`title`, `books`.`price` FROM `books`";

#[test]
fn no_parameters_is_the_plain_statement() {
    let st = search(&Params::default());
    assert_sql(
        rendered(|d| st.to_sql(d)),
        [
            &format!(r#"{COLS_Q} ORDER BY "books"."title" ASC, "books"."id" ASC LIMIT 20 OFFSET 0"#),
            &format!(r#"{COLS_Q} ORDER BY "books"."title" ASC, "books"."id" ASC LIMIT 20 OFFSET 0"#),
            &format!("{COLS_B} ORDER BY `books`.`title` ASC, `books`.`id` ASC LIMIT 20 OFFSET 0"),
        ],
        &[],
    );
}

#[test]
fn every_parameter_adds_its_join_and_filters() {
    let p = Params {
        title: Some("rust".into()),
        tag: Some("systems".into()),
        min_price: Some(1500),
        sort: Some("-price"),
        page: 2,
    };
    let st = search(&p);
    let join_q =
        r#"JOIN "book_tags" ON "book_tags"."book_id" = "books"."id" JOIN "tags" ON "tags"."id" = "book_tags"."tag_id""#;
    let join_b =
        "JOIN `book_tags` ON `book_tags`.`book_id` = `books`.`id` JOIN `tags` ON `tags`.`id` = `book_tags`.`tag_id`";
    assert_sql(
        rendered(|d| st.to_sql(d)),
        [
            &format!(
                r#"{COLS_Q} {join_q} WHERE "books"."title" LIKE ? ESCAPE '\' AND "tags"."name" = ? AND "books"."price" >= ? ORDER BY "books"."price" DESC, "books"."id" ASC LIMIT 20 OFFSET 40"#
            ),
            &format!(
                r#"{COLS_Q} {join_q} WHERE "books"."title" LIKE $1 ESCAPE '\' AND "tags"."name" = $2 AND "books"."price" >= $3 ORDER BY "books"."price" DESC, "books"."id" ASC LIMIT 20 OFFSET 40"#
            ),
            &format!(
                r#"{COLS_B} {join_b} WHERE `books`.`title` LIKE ? ESCAPE '\\' AND `tags`.`name` = ? AND `books`.`price` >= ? ORDER BY `books`.`price` DESC, `books`.`id` ASC LIMIT 20 OFFSET 40"#
            ),
        ],
        &[Value::Text("%rust%".into()), Value::Text("systems".into()), Value::I64(1500)],
    );
}

/// The dynamic statement renders exactly what the typed one with the same steps does (and its
/// COUNT too): only where the check happens differs.
#[test]
fn a_dynamic_statement_renders_as_its_typed_twin() {
    let typed = athanor::select::<Book>()
        .join(Book::author)
        .outerjoin(Book::tags)
        .filter(Author::name.eq("ann"))
        .filter(Tag::id.is_null())
        .order_by(Author::name.asc())
        .limit(5);
    let dynamic = athanor::select::<Book>()
        .into_dynamic()
        .join(Book::author)
        .outerjoin(Book::tags)
        .filter(Author::name.eq("ann"))
        .filter(Tag::id.is_null())
        .order_by(Author::name.asc())
        .limit(5);
    for (name, d) in dialects() {
        assert_eq!(typed.to_sql(d).unwrap(), dynamic.to_sql(d).unwrap(), "{name}");
        assert_eq!(typed.count_sql(d).unwrap(), dynamic.count_sql(d).unwrap(), "{name}");
        assert_eq!(typed.exists_sql(d).unwrap(), dynamic.exists_sql(d).unwrap(), "{name}");
    }
    // A typed statement made dynamic keeps its joins, and joins further under the same type.
    let mut st: Select<Book, Dynamic> = athanor::select::<Book>().join(Book::author).into_dynamic();
    st = st.join_as(Author::books, Writer).filter(Writer::col(Book::title).eq("x"));
    assert_sql(
        rendered(|d| st.to_sql(d)),
        [
            &format!(
                r#"{COLS_Q} JOIN "authors" ON "authors"."id" = "books"."author_id" JOIN "books" AS "writer" ON "writer"."author_id" = "authors"."id" WHERE "writer"."title" = ?"#
            ),
            &format!(
                r#"{COLS_Q} JOIN "authors" ON "authors"."id" = "books"."author_id" JOIN "books" AS "writer" ON "writer"."author_id" = "authors"."id" WHERE "writer"."title" = $1"#
            ),
            &format!(
                "{COLS_B} JOIN `authors` ON `authors`.`id` = `books`.`author_id` JOIN `books` AS `writer` ON `writer`.`author_id` = `authors`.`id` WHERE `writer`.`title` = ?"
            ),
        ],
        &[Value::Text("x".into())],
    );
    // join_on with an explicit ON clause.
    let st = athanor::select::<Book>().into_dynamic().join_on(Author::id, Book::author_id).filter(Author::name.eq("b"));
    assert_sql(
        rendered(|d| st.to_sql(d)),
        [
            &format!(r#"{COLS_Q} JOIN "authors" ON "authors"."id" = "books"."author_id" WHERE "authors"."name" = ?"#),
            &format!(r#"{COLS_Q} JOIN "authors" ON "authors"."id" = "books"."author_id" WHERE "authors"."name" = $1"#),
            &format!("{COLS_B} JOIN `authors` ON `authors`.`id` = `books`.`author_id` WHERE `authors`.`name` = ?"),
        ],
        &[Value::Text("b".into())],
    );
}

fn refused(st: &Select<Book, Dynamic>, needle: &str) {
    for (name, d) in dialects() {
        for r in [st.to_sql(d), st.count_sql(d), st.exists_sql(d)] {
            match r {
                Err(Error::InvalidRequest { message }) => assert!(message.contains(needle), "{name}: {message}"),
                other => panic!("{name}: expected InvalidRequest naming {needle}, got {other:?}"),
            }
        }
    }
}

#[test]
fn a_source_that_was_not_joined_is_a_typed_error_when_rendered() {
    // A filter on a model never joined: the typed statement would not compile.
    refused(
        &athanor::select::<Book>().into_dynamic().filter(Tag::name.eq("x")),
        "a filter of this dynamic query of Book names tags",
    );
    // A sort key, also inside a tuple of keys.
    refused(
        &athanor::select::<Book>().into_dynamic().order_by((Book::id.asc(), Author::name.desc())),
        "a sort key of this dynamic query of Book names authors",
    );
    // An alias that was not joined (the table itself was).
    refused(
        &athanor::select::<Book>().into_dynamic().join(Book::author).filter(Writer::col(Book::title).eq("x")),
        "names writer",
    );
    // A relationship join whose starting model is not in the statement (yet).
    refused(&athanor::select::<Book>().into_dynamic().join(Author::books), "starts at authors");
    // The order of the steps does not matter for filters (WHERE comes after every join)...
    let later = athanor::select::<Book>().into_dynamic().filter(Tag::name.eq("x")).join(Book::tags);
    assert!(later.to_sql(dialects()[0].1).is_ok());
    // ...but a join's ON clause may only name what was joined before it.
    refused(&athanor::select::<Book>().into_dynamic().join(Author::books).join(Book::author), "starts at authors");
    // Joinable's own join, called on a dynamic statement, checks its start the same way.
    let via_trait = Joinable::join(athanor::select::<Book>().into_dynamic(), Author::books);
    for (name, d) in dialects() {
        assert!(matches!(via_trait.to_sql(d), Err(Error::InvalidRequest { .. })), "{name}");
    }
}
