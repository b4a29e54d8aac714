//! The typed selects render without a session or a connection: exact SQL per dialect (SQLite,
//! PostgreSQL, MySQL) for UNION / UNION ALL with the whole's ORDER BY and LIMIT, a subquery in
//! FROM, a correlated subquery, `IN (subquery)`, several sort and GROUP BY keys, and joins on the
//! session-free values. (Here rather than in `dialects/tests/`: the statements are built from
//! `#[derive(Model)]` models, which only the facade's tests can derive; the dialects crate stays
//! free of the ORM.)
#![allow(missing_docs)] // test models

#[path = "common/per_dialect.rs"]
mod per_dialect;

use athanor::prelude::*;
use athanor::Value;
use per_dialect::{assert_sql, dialects, rendered};

#[derive(Model, Debug, Clone, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    pub age: i32,
    #[relationship(back_populates = "author")]
    pub posts: HasMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id")]
    pub user_id: Option<i64>,
    pub title: String,
    pub score: i32,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
}

alias!(Stats = "stats");

#[test]
fn union_all_with_order_by_limit_and_offset_of_the_whole() {
    let u = select_columns(User::name)
        .filter(User::age.ge(18))
        .union_all(select_columns(Post::title).filter(Post::score.gt(5)))
        .order_by_item_desc(1)
        .limit(3)
        .offset(1);
    assert_sql(
        rendered(|d| u.to_sql(d)),
        [
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" >= ? UNION ALL SELECT "posts"."title" FROM "posts" WHERE "posts"."score" > ? ORDER BY 1 DESC LIMIT 3 OFFSET 1"#,
            r#"SELECT "users"."name" FROM "users" WHERE "users"."age" >= $1 UNION ALL SELECT "posts"."title" FROM "posts" WHERE "posts"."score" > $2 ORDER BY 1 DESC NULLS LAST LIMIT 3 OFFSET 1"#,
            "SELECT `users`.`name` FROM `users` WHERE `users`.`age` >= ? UNION ALL SELECT `posts`.`title` FROM `posts` WHERE `posts`.`score` > ? ORDER BY 1 DESC LIMIT 3 OFFSET 1",
        ],
        &[Value::I32(18), Value::I32(5)],
    );
}

#[test]
fn union_of_three_parts_sorted_by_two_positions() {
    let u = select_columns((User::id, User::name))
        .union(select_columns((Post::id, Post::title)))
        .union(select_columns((User::id, User::name)).filter(User::age.lt(3)))
        .order_by_item(2)
        .order_by_item_desc(1);
    assert_sql(
        rendered(|d| u.to_sql(d)),
        [
            r#"SELECT "users"."id", "users"."name" FROM "users" UNION SELECT "posts"."id", "posts"."title" FROM "posts" UNION SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" < ? ORDER BY 2 ASC, 1 DESC"#,
            r#"SELECT "users"."id", "users"."name" FROM "users" UNION SELECT "posts"."id", "posts"."title" FROM "posts" UNION SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" < $1 ORDER BY 2 ASC NULLS FIRST, 1 DESC NULLS LAST"#,
            "SELECT `users`.`id`, `users`.`name` FROM `users` UNION SELECT `posts`.`id`, `posts`.`title` FROM `posts` UNION SELECT `users`.`id`, `users`.`name` FROM `users` WHERE `users`.`age` < ? ORDER BY 2 ASC, 1 DESC",
        ],
        &[Value::I32(3)],
    );
}

#[test]
fn a_union_part_with_its_own_order_or_limit_and_a_bad_position_are_refused() {
    let part_sorted = select_columns(User::name).union(select_columns(Post::title).order_by(Post::title.asc()));
    let part_limited = select_columns(User::name).limit(2).union_all(select_columns(Post::title));
    let bad_position = select_columns(User::name).union(select_columns(Post::title)).order_by_item(2);
    for (_, d) in dialects() {
        for st in [part_sorted.to_sql(d), part_limited.to_sql(d), bad_position.to_sql(d)] {
            assert!(matches!(st, Err(Error::InvalidRequest { .. })), "{st:?}");
        }
    }
}

#[test]
fn a_subquery_in_from_joined_on_its_column() {
    let stats = select_columns((Post::user_id, func::count(Post::id)))
        .filter(Post::score.gt(0))
        .group_by(Post::user_id)
        .subquery_as(Stats);
    let q = select_columns((User::name, stats.c1()))
        .outerjoin_subquery(&stats, stats.c0(), User::id)
        .filter(User::age.ge(21))
        .order_by(User::name.asc());
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT "users"."name", "stats"."c1" FROM "users" LEFT OUTER JOIN (SELECT "posts"."user_id" AS "c0", COUNT("posts"."id") AS "c1" FROM "posts" WHERE "posts"."score" > ? GROUP BY "posts"."user_id") AS "stats" ON "stats"."c0" = "users"."id" WHERE "users"."age" >= ? ORDER BY "users"."name" ASC"#,
            r#"SELECT "users"."name", "stats"."c1" FROM "users" LEFT OUTER JOIN (SELECT "posts"."user_id" AS "c0", COUNT("posts"."id") AS "c1" FROM "posts" WHERE "posts"."score" > $1 GROUP BY "posts"."user_id") AS "stats" ON "stats"."c0" = "users"."id" WHERE "users"."age" >= $2 ORDER BY "users"."name" ASC"#,
            "SELECT `users`.`name`, `stats`.`c1` FROM `users` LEFT OUTER JOIN (SELECT `posts`.`user_id` AS `c0`, COUNT(`posts`.`id`) AS `c1` FROM `posts` WHERE `posts`.`score` > ? GROUP BY `posts`.`user_id`) AS `stats` ON `stats`.`c0` = `users`.`id` WHERE `users`.`age` >= ? ORDER BY `users`.`name` ASC",
        ],
        &[Value::I32(0), Value::I32(21)],
    );
    // The same subquery filters the objects of a session-free `select::<User>()`.
    let objects = select::<User>().join_subquery(&stats, stats.c0(), User::id).filter(stats.c1().gt(2));
    let got = rendered(|d| objects.to_sql(d));
    assert_eq!(
        got[1].0,
        r#"SELECT "users"."id", "users"."name", "users"."age" FROM "users" JOIN (SELECT "posts"."user_id" AS "c0", COUNT("posts"."id") AS "c1" FROM "posts" WHERE "posts"."score" > $1 GROUP BY "posts"."user_id") AS "stats" ON "stats"."c0" = "users"."id" WHERE "stats"."c1" > $2"#
    );
    assert_eq!(got[1].1, [Value::I32(0), Value::I64(2)]);
}

#[test]
fn correlated_subqueries_as_a_value_and_in_exists() {
    let n_posts = select_columns(func::count(Post::id)).correlate(Post::user_id, User::id).scalar();
    let has_good = exists(select_columns(Post::id).filter(Post::score.gt(10)).correlate(Post::user_id, User::id));
    let q = select_columns((User::name, n_posts)).filter(has_good);
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT "users"."name", (SELECT COUNT("posts"."id") FROM "posts" WHERE "posts"."user_id" = "users"."id") FROM "users" WHERE EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."score" > ? AND "posts"."user_id" = "users"."id")"#,
            r#"SELECT "users"."name", (SELECT COUNT("posts"."id") FROM "posts" WHERE "posts"."user_id" = "users"."id") FROM "users" WHERE EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."score" > $1 AND "posts"."user_id" = "users"."id")"#,
            "SELECT `users`.`name`, (SELECT COUNT(`posts`.`id`) FROM `posts` WHERE `posts`.`user_id` = `users`.`id`) FROM `users` WHERE EXISTS (SELECT `posts`.`id` FROM `posts` WHERE `posts`.`score` > ? AND `posts`.`user_id` = `users`.`id`)",
        ],
        &[Value::I32(10)],
    );
    // A correlated subquery that has the outer table itself would refer to its own rows.
    let own = select_columns(User::id).correlate(User::id, User::id).scalar();
    let bad = select_columns((User::name, own));
    for (_, d) in dialects() {
        assert!(matches!(bad.to_sql(d), Err(Error::InvalidRequest { .. })));
    }
}

#[test]
fn in_subquery_and_several_sort_keys_on_a_select_of_objects() {
    let q = select::<User>()
        .filter(User::id.in_(select_columns(Post::user_id).filter(Post::score.gt(5)).subquery()))
        .order_by((User::age.desc(), User::name.asc()));
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT "users"."id", "users"."name", "users"."age" FROM "users" WHERE "users"."id" IN (SELECT "posts"."user_id" FROM "posts" WHERE "posts"."score" > ?) ORDER BY "users"."age" DESC, "users"."name" ASC"#,
            r#"SELECT "users"."id", "users"."name", "users"."age" FROM "users" WHERE "users"."id" IN (SELECT "posts"."user_id" FROM "posts" WHERE "posts"."score" > $1) ORDER BY "users"."age" DESC, "users"."name" ASC"#,
            "SELECT `users`.`id`, `users`.`name`, `users`.`age` FROM `users` WHERE `users`.`id` IN (SELECT `posts`.`user_id` FROM `posts` WHERE `posts`.`score` > ?) ORDER BY `users`.`age` DESC, `users`.`name` ASC",
        ],
        &[Value::I32(5)],
    );
}

#[test]
fn several_group_by_and_order_by_keys_after_a_join() {
    let q = select_columns((User::name, User::age, func::count(Post::id)))
        .join(User::posts)
        .group_by((User::name, User::age))
        .having(func::count(Post::id).gt(1))
        .order_by((func::count(Post::id).desc(), User::name.asc()))
        .limit(5);
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT "users"."name", "users"."age", COUNT("posts"."id") FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id" GROUP BY "users"."name", "users"."age" HAVING COUNT("posts"."id") > ? ORDER BY COUNT("posts"."id") DESC, "users"."name" ASC LIMIT 5"#,
            r#"SELECT "users"."name", "users"."age", COUNT("posts"."id") FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id" GROUP BY "users"."name", "users"."age" HAVING COUNT("posts"."id") > $1 ORDER BY COUNT("posts"."id") DESC NULLS LAST, "users"."name" ASC LIMIT 5"#,
            "SELECT `users`.`name`, `users`.`age`, COUNT(`posts`.`id`) FROM `users` JOIN `posts` ON `posts`.`user_id` = `users`.`id` GROUP BY `users`.`name`, `users`.`age` HAVING COUNT(`posts`.`id`) > ? ORDER BY COUNT(`posts`.`id`) DESC, `users`.`name` ASC LIMIT 5",
        ],
        &[Value::I64(1)],
    );
    // One tuple and two calls give the same keys.
    let two_calls = select_columns((User::name, User::age, func::count(Post::id)))
        .join(User::posts)
        .group_by(User::name)
        .group_by(User::age)
        .having(func::count(Post::id).gt(1))
        .order_by(func::count(Post::id).desc())
        .order_by(User::name.asc())
        .limit(5);
    assert_eq!(rendered(|d| two_calls.to_sql(d)), rendered(|d| q.to_sql(d)));
}

#[test]
fn a_session_free_select_of_objects_joins_along_a_relationship() {
    let q = select::<User>().join(User::posts).filter(Post::score.ge(3)).order_by((Post::score.desc(), User::id.asc()));
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT "users"."id", "users"."name", "users"."age" FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id" WHERE "posts"."score" >= ? ORDER BY "posts"."score" DESC, "users"."id" ASC"#,
            r#"SELECT "users"."id", "users"."name", "users"."age" FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id" WHERE "posts"."score" >= $1 ORDER BY "posts"."score" DESC NULLS LAST, "users"."id" ASC"#,
            "SELECT `users`.`id`, `users`.`name`, `users`.`age` FROM `users` JOIN `posts` ON `posts`.`user_id` = `users`.`id` WHERE `posts`.`score` >= ? ORDER BY `posts`.`score` DESC, `users`.`id` ASC",
        ],
        &[Value::I32(3)],
    );
}
