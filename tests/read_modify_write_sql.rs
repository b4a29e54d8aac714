//! Exact SQL of read-modify-write per dialect (SQLite, PostgreSQL, MySQL), rendered with no
//! connection: a column set to an expression in a bulk UPDATE and in the unit of work's UPDATE
//! (`SET "stock" = ("books"."stock" - ?)`), the version column's check and bump
//! (`SET "version" = ? … AND "version" = ?`), the read-back of expression columns (`RETURNING`
//! or a SELECT by key), the versioned DELETE, and `FOR UPDATE` under SQLite's write lock.
#![allow(missing_docs)] // test models
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

#[path = "common/per_dialect.rs"]
mod per_dialect;

use athanor::prelude::*;
use athanor::sql::SelectStatement;
use athanor::{Assignable, Value};
use per_dialect::{assert_sql, dialects, rendered};

#[derive(Model, Debug, Clone)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub title: String,
    pub stock: i32,
    pub note: Option<String>,
    #[column(version)]
    pub version: i64,
}

fn set<K>(value: impl Assignable<Book, i32, K>) -> athanor::sql::Scalar {
    value.into_assignment()
}

#[test]
fn the_derive_names_the_version_column() {
    assert_eq!(<Book as Model>::VERSION_COLUMN, Some(4));
    #[derive(Model)]
    #[model(table = "plain")]
    struct Plain {
        #[column(primary_key)]
        id: i64,
    }
    assert_eq!(<Plain as Model>::VERSION_COLUMN, None);
}

#[test]
fn bulk_update_sets_a_column_from_an_expression() {
    let filter = [Book::id.eq(7i64).into_expr()];
    // What `update(|set| set.value(Book::stock, Book::stock.sub(3)))` sends, with the version
    // bump the session adds for a versioned model.
    let assignments = [
        (2, set(Book::stock.sub(3))),
        (4, Book::version.add(1i64).expr),
        (3, Assignable::<Book, Option<String>, _>::into_assignment("x")),
    ];
    assert_sql(
        rendered(|d| athanor::backend::sql::bulk_update(d, Book::TABLE, &assignments, &filter)),
        [
            r#"UPDATE "books" SET "stock" = ("books"."stock" - ?), "version" = ("books"."version" + ?), "note" = ? WHERE "books"."id" = ?"#,
            r#"UPDATE "books" SET "stock" = ("books"."stock" - $1), "version" = ("books"."version" + $2), "note" = $3 WHERE "books"."id" = $4"#,
            "UPDATE `books` SET `stock` = (`books`.`stock` - ?), `version` = (`books`.`version` + ?), `note` = ? WHERE `books`.`id` = ?",
        ],
        &[Value::I32(3), Value::I64(1), Value::from("x"), Value::I64(7)],
    );
    // A value stays one placeholder; another column of the model is a column.
    assert_sql(
        rendered(|d| athanor::backend::sql::bulk_update(d, Book::TABLE, &[(2, set(5)), (2, set(Book::stock))], &[])),
        [
            r#"UPDATE "books" SET "stock" = ?, "stock" = "books"."stock""#,
            r#"UPDATE "books" SET "stock" = $1, "stock" = "books"."stock""#,
            "UPDATE `books` SET `stock` = ?, `stock` = `books`.`stock`",
        ],
        &[Value::I32(5)],
    );
}

#[test]
fn unit_of_work_update_with_version_and_expression() {
    use athanor::backend::sql::{update_row, RowUpdate};
    // A plain edit of a versioned model: the changed columns, the next version, the key and the
    // version read.
    assert_sql(
        rendered(|d| update_row(d, Book::TABLE, &RowUpdate { columns: &[1], version: Some(4), ..Default::default() })),
        [
            r#"UPDATE "books" SET "title" = ?, "version" = ? WHERE "id" = ? AND "version" = ?"#,
            r#"UPDATE "books" SET "title" = $1, "version" = $2 WHERE "id" = $3 AND "version" = $4"#,
            "UPDATE `books` SET `title` = ?, `version` = ? WHERE `id` = ? AND `version` = ?",
        ],
        &[],
    );
    // `set_expr(Book::stock, Book::stock.sub(1))`: the expression after the values; RETURNING
    // where the dialect has UPDATE … RETURNING (the session asks for it from the capabilities).
    let e = set(Book::stock.sub(1));
    let rendered_with = |d: &dyn athanor::backend::Dialect| {
        let returning: &[usize] = if d.capabilities().update_returning { &[2] } else { &[] };
        update_row(d, Book::TABLE, &RowUpdate { columns: &[1], exprs: &[(2, &e)], version: Some(4), returning })
    };
    assert_sql(
        rendered(rendered_with),
        [
            r#"UPDATE "books" SET "title" = ?, "stock" = ("books"."stock" - ?), "version" = ? WHERE "id" = ? AND "version" = ? RETURNING "stock""#,
            r#"UPDATE "books" SET "title" = $1, "stock" = ("books"."stock" - $2), "version" = $3 WHERE "id" = $4 AND "version" = $5 RETURNING "stock""#,
            "UPDATE `books` SET `title` = ?, `stock` = (`books`.`stock` - ?), `version` = ? WHERE `id` = ? AND `version` = ?",
        ],
        &[Value::I32(1)],
    );
    // Without a version column: only the key.
    assert_sql(
        rendered(|d| update_row(d, Book::TABLE, &RowUpdate { exprs: &[(2, &e)], ..Default::default() })),
        [
            r#"UPDATE "books" SET "stock" = ("books"."stock" - ?) WHERE "id" = ?"#,
            r#"UPDATE "books" SET "stock" = ("books"."stock" - $1) WHERE "id" = $2"#,
            "UPDATE `books` SET `stock` = (`books`.`stock` - ?) WHERE `id` = ?",
        ],
        &[Value::I32(1)],
    );
    for (name, d) in dialects() {
        assert!(update_row(d, Book::TABLE, &RowUpdate::default()).is_err(), "{name}: nothing to set");
        assert!(update_row(d, Book::TABLE, &RowUpdate { columns: &[9], ..Default::default() }).is_err(), "{name}");
    }
}

#[test]
fn read_back_and_versioned_delete() {
    let sql = |f: &dyn Fn(&dyn athanor::backend::Dialect) -> athanor::Result<String>| -> Vec<String> {
        dialects().iter().map(|(_, d)| f(*d).unwrap()).collect()
    };
    assert_eq!(
        sql(&|d| athanor::backend::sql::select_columns_by_pk(d, Book::TABLE, &[2, 4])),
        [
            r#"SELECT "stock", "version" FROM "books" WHERE "id" = ?"#,
            r#"SELECT "stock", "version" FROM "books" WHERE "id" = $1"#,
            "SELECT `stock`, `version` FROM `books` WHERE `id` = ?",
        ]
    );
    assert_eq!(
        sql(&|d| athanor::backend::sql::delete_versioned(d, Book::TABLE, 4)),
        [
            r#"DELETE FROM "books" WHERE "id" = ? AND "version" = ?"#,
            r#"DELETE FROM "books" WHERE "id" = $1 AND "version" = $2"#,
            "DELETE FROM `books` WHERE `id` = ? AND `version` = ?",
        ]
    );
}

#[test]
fn for_update_under_the_write_lock() {
    let mut st: SelectStatement =
        select::<Book>().filter(Book::id.eq(1i64)).with_for_update().statement().unwrap().clone();
    let select_sql = |quote: char, p: &str| {
        let q = |s: &str| format!("{quote}{s}{quote}");
        format!(
            "SELECT {b}.{id}, {b}.{t}, {b}.{s}, {b}.{n}, {b}.{v} FROM {b} WHERE {b}.{id} = {p}",
            b = q("books"),
            id = q("id"),
            t = q("title"),
            s = q("stock"),
            n = q("note"),
            v = q("version")
        )
    };
    // Rendered on its own: SQLite refuses, saying what to do; the others lock rows.
    let [(_, sqlite), (_, postgres), (_, mysql)] = dialects();
    match st.to_sql(sqlite) {
        Err(athanor::Error::Unsupported { feature, dialect: "sqlite" }) => {
            assert!(feature.contains("write_intent"), "{feature}")
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(st.to_sql(postgres).unwrap().sql, select_sql('"', "$1") + " FOR UPDATE");
    assert_eq!(st.to_sql(mysql).unwrap().sql, select_sql('`', "?") + " FOR UPDATE");
    // In a transaction that holds the write lock: SQLite sends no clause; the others are as
    // before (their row locks are what FOR UPDATE asks for).
    st.write_lock_held = true;
    assert_eq!(st.to_sql(sqlite).unwrap().sql, select_sql('"', "?"));
    assert_eq!(st.to_sql(postgres).unwrap().sql, select_sql('"', "$1") + " FOR UPDATE");
    assert_eq!(st.to_sql(mysql).unwrap().sql, select_sql('`', "?") + " FOR UPDATE");
    // NOWAIT and SKIP LOCKED stay refused on SQLite, with the reason.
    for (wait, what) in [
        (athanor::backend::sql::ast::LockWait::NoWait, "NOWAIT"),
        (athanor::backend::sql::ast::LockWait::SkipLocked, "SKIP LOCKED"),
    ] {
        st.lock_wait = wait;
        match st.to_sql(sqlite) {
            Err(athanor::Error::Unsupported { feature, .. }) => {
                assert!(feature.contains(what) && feature.contains("locks as a whole"), "{feature}")
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert!(st.to_sql(postgres).unwrap().sql.ends_with(&format!("FOR UPDATE {what}")));
    }
}
