//! Expressions over the columns of databases Athanor did not create (issue 21), rendered with no
//! connection, exact SQL per dialect (SQLite, PostgreSQL, MySQL): comparisons between a
//! reflected model's `Option<i64>` key and the `i64` foreign keys pointing at it (correlate,
//! IN / NOT IN a subquery, joins on, column comparisons), exact decimal arithmetic and
//! aggregates, and date parts.
#![allow(missing_docs)] // test models

use athanor::backend::Dialect;
use athanor::dialects::{MySqlDialect, PostgresDialect, SqliteDialect};
use athanor::prelude::*;
use athanor::sql::Statement;
use athanor::Value;

/// As reflected: the key is `Option<i64>` (generated), the foreign key pointing at it `i64`.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "tracks")]
pub struct Track {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "lines")]
pub struct Line {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "tracks.id")]
    pub track_id: i64,
    pub spare_id: Option<i64>,
}

fn dialects() -> [(&'static str, &'static dyn Dialect); 3] {
    [("sqlite", &SqliteDialect), ("postgres", &PostgresDialect), ("mysql", &MySqlDialect)]
}

/// The SQL and parameters of a statement per dialect, in the order sqlite, postgres, mysql.
fn rendered(f: impl Fn(&dyn Dialect) -> athanor::Result<Statement>) -> Vec<(String, Vec<Value>)> {
    dialects()
        .iter()
        .map(|(name, d)| match f(*d) {
            Ok(st) => (st.sql, st.params),
            Err(e) => panic!("{name}: {e}"),
        })
        .collect()
}

fn assert_sql(got: Vec<(String, Vec<Value>)>, expected: [&str; 3], params: &[Value]) {
    for ((name, _), ((sql, ps), want)) in dialects().iter().zip(got.into_iter().zip(expected)) {
        assert_eq!(sql, want, "{name}");
        assert_eq!(ps, params, "{name}");
    }
}

/// `"` quoting on SQLite and PostgreSQL, backticks on MySQL; `?` or `$n` placeholders.
fn per_dialect(ansi: &str) -> [String; 3] {
    let mut n = 0;
    let pg: String = ansi
        .split('?')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                n += 1;
                format!("${n}{part}")
            }
        })
        .collect();
    [ansi.to_string(), pg, ansi.replace('"', "`")]
}

fn assert_ansi(got: Vec<(String, Vec<Value>)>, ansi: &str, params: &[Value]) {
    let [a, b, c] = per_dialect(ansi);
    assert_sql(got, [&a, &b, &c], params);
}

#[test]
fn an_option_key_and_the_plain_foreign_key_compare_both_ways() {
    // correlate: i64 inner with Option<i64> outer, and the other way round.
    let n_lines = select_columns(func::count(Line::id)).correlate(Line::track_id, Track::id).scalar();
    let q = select_columns((Track::name, n_lines));
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "tracks"."name", (SELECT COUNT("lines"."id") FROM "lines" WHERE "lines"."track_id" = "tracks"."id") FROM "tracks""#,
        &[],
    );
    let has_track = exists(select_columns(Track::id).correlate(Track::id, Line::track_id));
    let q = select::<Line>().filter(has_track);
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "lines"."id", "lines"."track_id", "lines"."spare_id" FROM "lines" WHERE EXISTS (SELECT "tracks"."id" FROM "tracks" WHERE "tracks"."id" = "lines"."track_id")"#,
        &[],
    );
    // IN / NOT IN a subquery of the other type.
    let q = select::<Line>().filter(Line::track_id.in_(select_columns(Track::id).subquery()));
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "lines"."id", "lines"."track_id", "lines"."spare_id" FROM "lines" WHERE "lines"."track_id" IN (SELECT "tracks"."id" FROM "tracks")"#,
        &[],
    );
    let q = select::<Track>().filter(Track::id.not_in(select_columns(Line::track_id).subquery()));
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "tracks"."id", "tracks"."name" FROM "tracks" WHERE "tracks"."id" NOT IN (SELECT "lines"."track_id" FROM "lines")"#,
        &[],
    );
    // Joins on either order, and a comparison of two columns of one model.
    let q = select_columns((Line::id, Track::name)).join_on(Track::id, Line::track_id).filter(
        Line::track_id.ne(Line::spare_id).and(Line::spare_id.cmp_column(athanor::sql::CmpOp::Lt, Line::track_id)),
    );
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "lines"."id", "tracks"."name" FROM "lines" JOIN "tracks" ON "tracks"."id" = "lines"."track_id" WHERE "lines"."track_id" <> "lines"."spare_id" AND "lines"."spare_id" < "lines"."track_id""#,
        &[],
    );
    let q = select_columns((Track::name, Line::id)).outerjoin_on(Line::track_id, Track::id);
    assert_ansi(
        rendered(|d| q.to_sql(d)),
        r#"SELECT "tracks"."name", "lines"."id" FROM "tracks" LEFT OUTER JOIN "lines" ON "lines"."track_id" = "tracks"."id""#,
        &[],
    );
}
