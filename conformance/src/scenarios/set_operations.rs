//! Set operations between column selects (`intersect`, `except_`, their `ALL` forms next to
//! `union`) and a subquery as a select's only FROM (`select_from`): the SQL asserted exactly,
//! the rows the same on every database, the `ALL` forms a typed `Unsupported` where the
//! database has none (`Capabilities::intersect_except_all`).

use crate::harness::TestDb;
use crate::models::blog::*;
use crate::scenarios::relationships::seeded;
use athanor::prelude::*;
use athanor::{func, select_columns, select_from};

athanor::alias!(Names = "names");
athanor::alias!(Stats = "stats");

/// The statements since the last call, without transaction control.
fn statements(db: &TestDb) -> Vec<String> {
    db.take_sql()
        .into_iter()
        .filter(|s| {
            !["BEGIN", "START TRANSACTION", "SET TRANSACTION", "COMMIT", "ROLLBACK"].iter().any(|p| s.starts_with(p))
        })
        .collect()
}

/// `ORDER BY 1 ASC` as the database is told it (NULL first: PostgreSQL needs saying so).
fn by_first(db: &TestDb) -> &'static str {
    if db.caps().nulls_sort_low {
        "ORDER BY 1 ASC"
    } else {
        "ORDER BY 1 ASC NULLS FIRST"
    }
}

/// Tags are rust, orm, misc; categories tech, rust, db, sql; users ann, bob. INTERSECT keeps
/// what both have, EXCEPT what the left has and the right does not, each without duplicates.
pub fn intersect_and_except_of_column_selects(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let both: Vec<String> =
        s.execute(select_columns(Tag::name).intersect(select_columns(Category::name)).order_by_item(1))?.all();
    assert_eq!(both, ["rust"]);
    assert_eq!(
        statements(db),
        [format!("SELECT tags.name FROM tags INTERSECT SELECT categories.name FROM categories {}", by_first(db))]
    );
    let only: Vec<String> =
        s.select(Category::name).except_(s.select(Tag::name).filter(Tag::name.ne("misc"))).order_by_item(1).all()?;
    assert_eq!(only, ["db", "sql", "tech"]);
    assert_eq!(
        statements(db),
        [format!(
            "SELECT categories.name FROM categories EXCEPT SELECT tags.name FROM tags WHERE tags.name <> ? {}",
            by_first(db)
        )]
    );
    // Duplicates go: ann wrote two posts, EXCEPT gives her id once.
    let ann: Option<i64> = s.execute(select_columns(User::id).filter(User::name.eq("ann")))?.scalars().one()?;
    let bob: Option<i64> = s.execute(select_columns(User::id).filter(User::name.eq("bob")))?.scalars().one()?;
    let authors = || select_columns(Post::user_id);
    let not_bob: Vec<Option<i64>> =
        s.execute(authors().except_(select_columns(User::id).filter(User::name.eq("bob"))))?.all();
    assert_eq!(not_bob, [ann]);
    let mut common: Vec<Option<i64>> = s.execute(authors().intersect(authors()))?.all();
    common.sort();
    assert_eq!(common, [ann, bob]);
    // INTERSECT first, then UNION: the same order of evaluation everywhere.
    let mixed: Vec<String> = s
        .execute(
            select_columns(Tag::name)
                .intersect(select_columns(Category::name))
                .union(select_columns(User::name))
                .order_by_item_desc(1)
                .limit(2),
        )?
        .all();
    assert_eq!(mixed, ["rust", "bob"]);
    Ok(())
}

/// `INTERSECT ALL` and `EXCEPT ALL` keep duplicates where the database has them
/// (PostgreSQL, MariaDB 10.5+, MySQL 8.0.31+); elsewhere (SQLite) they are
/// `Error::Unsupported` before anything is sent, and the session stays usable.
pub fn intersect_all_and_except_all_keep_duplicates_or_are_unsupported(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let ann: Option<i64> = s.execute(select_columns(User::id).filter(User::name.eq("ann")))?.scalars().one()?;
    let bob: Option<i64> = s.execute(select_columns(User::id).filter(User::name.eq("bob")))?.scalars().one()?;
    db.clear_sql();
    let authors = || select_columns(Post::user_id);
    let except_all = s.execute(authors().except_all(select_columns(User::id).filter(User::name.eq("bob"))));
    let intersect_all = s.execute(authors().intersect_all(authors()).order_by_item(1));
    if db.caps().intersect_except_all {
        assert_eq!(except_all?.all(), [ann, ann], "ann's two posts, bob's one taken away");
        assert_eq!(intersect_all?.all(), [ann, ann, bob]);
        assert_eq!(
            statements(db),
            [
                "SELECT posts.user_id FROM posts EXCEPT ALL SELECT users.id FROM users WHERE users.name = ?"
                    .to_string(),
                format!(
                    "SELECT posts.user_id FROM posts INTERSECT ALL SELECT posts.user_id FROM posts {}",
                    by_first(db)
                ),
            ]
        );
    } else {
        assert!(matches!(except_all, Err(Error::Unsupported { .. })), "{except_all:?}");
        assert!(matches!(intersect_all, Err(Error::Unsupported { .. })), "{intersect_all:?}");
        assert!(statements(db).is_empty(), "refused before sending");
    }
    // The session is usable either way.
    let n: Vec<String> = s.select(User::name).intersect(s.select(User::name)).order_by_item(1).all()?;
    assert_eq!(n, ["ann", "bob"]);
    // An INTERSECT after a UNION would be evaluated first on some databases, last on SQLite:
    // refused everywhere, with the way out in the message.
    let ambiguous = s
        .execute(select_columns(Tag::name).union(select_columns(User::name)).intersect(select_columns(Category::name)));
    match ambiguous {
        Err(Error::InvalidRequest { message, .. }) => assert!(message.contains("select_from"), "{message}"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    Ok(())
}

/// A subquery as the only FROM: a compound one (the way to INTERSECT a UNION) and an
/// aggregate one, with conditions and sort keys on its columns.
pub fn select_from_a_subquery(db: &TestDb) -> Result<()> {
    seeded(db)?;
    let s = db.session();
    let names = select_columns(Tag::name).union(select_columns(User::name)).subquery_as(Names);
    let some: Vec<String> =
        s.execute(select_from(&names, names.c0()).filter(names.c0().ne("orm")).order_by(names.c0().desc()))?.all();
    assert_eq!(some, ["rust", "misc", "bob", "ann"]);
    // A subquery's column may hold NULL: sorted as the smallest value, as everywhere.
    let nulls = if db.caps().nulls_sort_low { "" } else { " NULLS LAST" };
    assert_eq!(
        statements(db),
        [format!(
            "SELECT names.c0 FROM (SELECT tags.name AS c0 FROM tags UNION SELECT users.name FROM users) AS names \
             WHERE names.c0 <> ? ORDER BY names.c0 DESC{nulls}"
        )]
    );
    // (tags UNION users) INTERSECT categories, the same everywhere.
    let in_categories: Vec<String> =
        s.execute(select_from(&names, names.c0()).intersect(select_columns(Category::name)))?.all();
    assert_eq!(in_categories, ["rust"]);
    assert_eq!(
        statements(db),
        ["SELECT names.c0 FROM (SELECT tags.name AS c0 FROM tags UNION SELECT users.name FROM users) AS names \
          INTERSECT SELECT categories.name FROM categories"]
    );
    // A compound subquery joined like any subquery in FROM.
    let listed: Vec<String> =
        s.select(User::name).join_subquery(&names, names.c0(), User::name).order_by(User::name.asc()).all()?;
    assert_eq!(listed, ["ann", "bob"]);
    assert_eq!(
        statements(db),
        ["SELECT users.name FROM users JOIN (SELECT tags.name AS c0 FROM tags UNION SELECT users.name FROM users) \
          AS names ON names.c0 = users.name ORDER BY users.name ASC"]
    );
    // An aggregate over an aggregate: the most posts anyone wrote, and who wrote more than one.
    let stats = select_columns((Post::user_id, func::count(Post::id)))
        .filter(Post::score.ge(0))
        .group_by(Post::user_id)
        .subquery_as(Stats);
    let most: Vec<Option<i64>> = s.execute(select_from(&stats, func::max(stats.c1())))?.all();
    assert_eq!(most, [Some(2)]);
    let prolific: Vec<(Option<i64>, i64)> =
        s.execute(select_from(&stats, (stats.c0(), stats.c1())).filter(stats.c1().gt(1)))?.all();
    let ann: Option<i64> = s.execute(select_columns(User::id).filter(User::name.eq("ann")))?.scalars().one()?;
    assert_eq!(prolific, [(ann, 2)]);
    let sql = statements(db);
    assert_eq!(
        sql[..2],
        [
            "SELECT MAX(stats.c1) FROM (SELECT posts.user_id AS c0, COUNT(posts.id) AS c1 FROM posts \
             WHERE posts.score >= ? GROUP BY posts.user_id) AS stats",
            "SELECT stats.c0, stats.c1 FROM (SELECT posts.user_id AS c0, COUNT(posts.id) AS c1 FROM posts \
             WHERE posts.score >= ? GROUP BY posts.user_id) AS stats WHERE stats.c1 > ?",
        ]
    );
    // Rendered without a session, the same text with the dialect's LIMIT.
    let st = select_from(&names, names.c0()).limit(2).to_sql(db.engine.dialect())?;
    assert!(
        crate::harness::normalize(&st.sql).starts_with("SELECT names.c0 FROM (SELECT tags.name AS c0"),
        "{}",
        st.sql
    );
    Ok(())
}
