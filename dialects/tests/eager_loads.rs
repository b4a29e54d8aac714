//! Exact SQL of the relationship loaders' statements on every dialect: joined eager loads
//! (`LEFT OUTER JOIN … AS t_n`), the LIMIT subquery around a joined collection, a many-to-many
//! load through its association table, the association DELETE, and a deferred foreign key.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::sql::select::{EagerJoin, Through};
use athanor_core::sql::{self, SelectStatement};
use athanor_core::{
    add_foreign_key_statement, ColumnDef, ColumnRef, Dialect, Error, Expr, ForeignKeyDef, SqlType, TableDef, Value,
};
use athanor_dialects::{MySqlDialect, PostgresDialect, SqliteDialect};

const ID: ColumnDef = ColumnDef { primary_key: true, autoincrement: true, ..ColumnDef::new("id", SqlType::BigInt) };
const fn fk(name: &'static str, table: &'static str) -> ColumnDef {
    ColumnDef {
        nullable: true,
        foreign_key: Some(ForeignKeyDef { table, column: "id" }),
        ..ColumnDef::new(name, SqlType::BigInt)
    }
}
static USERS: TableDef =
    TableDef { name: "users", rust_name: "User", columns: &[ID, ColumnDef::new("name", SqlType::Text)] };
static POSTS: TableDef = TableDef { name: "posts", rust_name: "Post", columns: &[ID, fk("user_id", "users")] };
static TAGS: TableDef = TableDef { name: "tags", rust_name: "Tag", columns: &[ID] };
static POST_TAGS: TableDef =
    TableDef { name: "post_tags", rust_name: "post_tags", columns: &[fk("post_id", "posts"), fk("tag_id", "tags")] };

type Quoting = fn(&str) -> String;

fn dialects() -> [(&'static dyn Dialect, Quoting); 3] {
    // Each dialect's quoting and placeholders, applied to a template written with "…" and ?.
    fn pg(s: &str) -> String {
        let mut out = String::new();
        let mut n = 0;
        for ch in s.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
        out
    }
    [(&SqliteDialect, |s| s.to_string()), (&PostgresDialect, pg), (&MySqlDialect, |s| s.replace('"', "`"))]
}

fn posts_join() -> EagerJoin {
    EagerJoin {
        parent: None,
        parent_column: "id",
        table: &POSTS,
        column: "user_id",
        via: None,
        collection: true,
        order: vec![("id", false)],
    }
}

#[test]
fn joined_collection_and_many_to_many() {
    let mut st = SelectStatement::new(&USERS);
    st.order.push(athanor_core::OrderKey::new(ColumnRef::new("users", "id"), false));
    st.joins.push(posts_join());
    st.joins.push(EagerJoin {
        parent: Some(0),
        parent_column: "id",
        table: &TAGS,
        column: "id",
        via: Some((&POST_TAGS, "post_id", "tag_id")),
        collection: true,
        order: vec![("id", true)],
    });
    for (d, q) in dialects() {
        assert_eq!(
            st.to_sql(d).unwrap().sql,
            q("SELECT \"users\".\"id\", \"users\".\"name\", \"posts_1\".\"id\", \"posts_1\".\"user_id\", \"tags_2\".\"id\" \
               FROM \"users\" LEFT OUTER JOIN \"posts\" AS \"posts_1\" ON \"posts_1\".\"user_id\" = \"users\".\"id\" \
               LEFT OUTER JOIN \"post_tags\" AS \"post_tags_2\" ON \"post_tags_2\".\"post_id\" = \"posts_1\".\"id\" \
               LEFT OUTER JOIN \"tags\" AS \"tags_2\" ON \"tags_2\".\"id\" = \"post_tags_2\".\"tag_id\" \
               ORDER BY \"users\".\"id\" ASC, \"posts_1\".\"id\" ASC, \"tags_2\".\"id\" DESC"),
            "{}",
            d.name()
        );
    }
}

#[test]
fn limit_with_a_joined_collection_is_a_subquery() {
    let mut st = SelectStatement::new(&USERS);
    st.filters.push(Expr::InList {
        column: ColumnRef::new("users", "name"),
        values: vec![Value::from("a")],
        negated: false,
    });
    st.order.push(athanor_core::OrderKey::new(ColumnRef::new("users", "name"), true));
    st.limit = Some(5);
    st.joins.push(posts_join());
    let sqlite = st.to_sql(&SqliteDialect).unwrap();
    assert_eq!(
        sqlite.sql,
        "SELECT \"anon_1\".\"id\", \"anon_1\".\"name\", \"posts_1\".\"id\", \"posts_1\".\"user_id\" FROM \
         (SELECT \"users\".\"id\", \"users\".\"name\" FROM \"users\" WHERE \"users\".\"name\" IN (?) \
         ORDER BY \"users\".\"name\" DESC LIMIT 5) AS \"anon_1\" \
         LEFT OUTER JOIN \"posts\" AS \"posts_1\" ON \"posts_1\".\"user_id\" = \"anon_1\".\"id\" \
         ORDER BY \"anon_1\".\"name\" DESC, \"posts_1\".\"id\" ASC"
    );
    assert_eq!(sqlite.params, [Value::from("a")]);
    let pg = st.to_sql(&PostgresDialect).unwrap().sql;
    assert!(pg.contains("WHERE \"users\".\"name\" IN ($1)"), "{pg}");
    // The COUNT of such a query ignores the joins.
    assert_eq!(
        st.count_sql(&SqliteDialect).unwrap().sql,
        "SELECT COUNT(*) FROM (SELECT \"users\".\"id\", \"users\".\"name\" FROM \"users\" WHERE \"users\".\"name\" IN (?) \
         ORDER BY \"users\".\"name\" DESC LIMIT 5) AS \"anon_1\""
    );
    // FOR UPDATE does not go with an outer join.
    st.for_update = true;
    for (d, _) in dialects() {
        assert!(matches!(st.to_sql(d), Err(Error::Unsupported { .. })), "{}", d.name());
    }
}

#[test]
fn many_to_many_selectin_through_the_association() {
    let mut st = SelectStatement::new(&TAGS);
    st.through =
        Some(Through { table: &POST_TAGS, owner_column: "post_id", target_column: "tag_id", referenced: "id" });
    st.filters.push(Expr::InList {
        column: ColumnRef::new("post_tags", "post_id"),
        values: vec![Value::from(1i64), Value::from(2i64)],
        negated: false,
    });
    st.order.push(athanor_core::OrderKey::new(ColumnRef::new("tags", "id"), false));
    for (d, q) in dialects() {
        assert_eq!(
            st.to_sql(d).unwrap().sql,
            q("SELECT \"post_tags\".\"post_id\", \"tags\".\"id\" FROM \"tags\" JOIN \"post_tags\" ON \
               \"post_tags\".\"tag_id\" = \"tags\".\"id\" WHERE \"post_tags\".\"post_id\" IN (?, ?) ORDER BY \"tags\".\"id\" ASC")
        );
        assert_eq!(
            sql::delete_where_in(d, &POST_TAGS, 0, 2).unwrap(),
            q("DELETE FROM \"post_tags\" WHERE \"post_id\" IN (?, ?)")
        );
    }
}

#[test]
fn deferred_foreign_key() {
    for (d, q) in dialects() {
        assert_eq!(
            add_foreign_key_statement(d, &POSTS, "fk_posts_user_id_users").unwrap(),
            q("ALTER TABLE \"posts\" ADD CONSTRAINT \"fk_posts_user_id_users\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\")")
        );
        assert!(add_foreign_key_statement(d, &POSTS, "nope").is_err());
    }
    assert!(SqliteDialect.capabilities().foreign_key_forward_reference);
    assert!(!PostgresDialect.capabilities().foreign_key_forward_reference);
    assert!(!MySqlDialect.capabilities().foreign_key_forward_reference);
}
