//! Expressions over the columns of databases Athanor did not create (issue 21), rendered with no
//! connection, exact SQL per dialect (SQLite, PostgreSQL, MySQL): comparisons between a
//! reflected model's `Option<i64>` key and the `i64` foreign keys pointing at it (correlate,
//! IN / NOT IN a subquery, joins on, column comparisons), exact decimal arithmetic and
//! aggregates, and date parts.
#![allow(missing_docs)] // test models
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

#[path = "common/per_dialect.rs"]
mod per_dialect;

use athanor::dialects::{MySqlDialect, PostgresDialect, SqliteDialect};
use athanor::prelude::*;
use athanor::Value;
use per_dialect::{assert_sql, rendered};

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

#[derive(Model, Debug, Clone, Default)]
#[model(table = "items")]
pub struct Item {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(precision = 12, scale = 2)]
    pub price: athanor::Decimal,
    #[column(precision = 12, scale = 2)]
    pub discount: Option<athanor::Decimal>,
    pub quantity: i32,
    pub placed_on: jiff::civil::Date,
    pub shipped_at: Option<jiff::civil::DateTime>,
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

#[test]
fn decimal_arithmetic_and_aggregates_are_exact_on_every_database() {
    use athanor::Decimal;
    let total = Item::price.mul(Item::quantity.cast::<Decimal>());
    let q =
        select_columns((func::sum(total.clone()), func::avg(Item::price), func::min(Item::price), func::max(total)))
            .filter(Item::price.sub(Item::discount).gt(Decimal::new(1, 1)));
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT (athanor_decimal_sum((athanor_decimal_mul("items"."price", CAST("items"."quantity" AS TEXT)) COLLATE athanor_decimal)) COLLATE athanor_decimal), (athanor_decimal_avg("items"."price", 10) COLLATE athanor_decimal), MIN("items"."price"), MAX((athanor_decimal_mul("items"."price", CAST("items"."quantity" AS TEXT)) COLLATE athanor_decimal)) FROM "items" WHERE (athanor_decimal_sub("items"."price", "items"."discount") COLLATE athanor_decimal) > ?"#,
            r#"SELECT SUM(("items"."price" * CAST("items"."quantity" AS NUMERIC))), ROUND(AVG("items"."price"), 10), MIN("items"."price"), MAX(("items"."price" * CAST("items"."quantity" AS NUMERIC))) FROM "items" WHERE ("items"."price" - "items"."discount") > $1"#,
            "SELECT SUM((`items`.`price` * CAST(`items`.`quantity` AS DECIMAL(20,0)))), ROUND(AVG(CAST(`items`.`price` AS DECIMAL(65,30))), 10), MIN(`items`.`price`), MAX((`items`.`price` * CAST(`items`.`quantity` AS DECIMAL(20,0)))) FROM `items` WHERE (`items`.`price` - `items`.`discount`) > CAST(? AS DECIMAL(1,1))",
        ],
        &[Value::Decimal("0.1".into())],
    );
    // A bound decimal inside an expression is cast to its own type on MySQL (a string there).
    let q = select_columns(Item::price.mul(Decimal::new(-1250, 2)).add(Item::discount.coalesce(Decimal::new(0, 3))));
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT (athanor_decimal_add((athanor_decimal_mul("items"."price", ?) COLLATE athanor_decimal), COALESCE("items"."discount", ?)) COLLATE athanor_decimal) FROM "items""#,
            r#"SELECT (("items"."price" * $1) + COALESCE("items"."discount", $2)) FROM "items""#,
            "SELECT ((`items`.`price` * CAST(? AS DECIMAL(4,2))) + COALESCE(`items`.`discount`, CAST(? AS DECIMAL(3,3)))) FROM `items`",
        ],
        &[Value::Decimal("-12.50".into()), Value::Decimal("0.000".into())],
    );
    // `-x` of a decimal is `0 - x`, exact on SQLite too.
    let q = select_columns(Item::price.add(Item::price).neg());
    let st = q.to_sql(&PostgresDialect).unwrap();
    assert_eq!(st.sql, r#"SELECT ($1 - ("items"."price" + "items"."price")) FROM "items""#);
    assert_eq!(st.params, [Value::Decimal("0".into())]);
    assert_eq!(
        q.to_sql(&SqliteDialect).unwrap().sql,
        r#"SELECT (athanor_decimal_sub(?, (athanor_decimal_add("items"."price", "items"."price") COLLATE athanor_decimal)) COLLATE athanor_decimal) FROM "items""#
    );
}

#[test]
fn date_parts_are_integers_on_every_database() {
    use athanor::func::DatePart;
    let q = select_columns((
        func::extract(DatePart::Year, Item::placed_on),
        func::extract(DatePart::Second, Item::shipped_at),
    ))
    .filter(func::extract(DatePart::Month, Item::placed_on).eq(3));
    assert_sql(
        rendered(|d| q.to_sql(d)),
        [
            r#"SELECT CAST(strftime('%Y', "items"."placed_on") AS INTEGER), CAST(strftime('%S', "items"."shipped_at") AS INTEGER) FROM "items" WHERE CAST(strftime('%m', "items"."placed_on") AS INTEGER) = ?"#,
            r#"SELECT CAST(EXTRACT(YEAR FROM CAST("items"."placed_on" AS TIMESTAMP)) AS INTEGER), CAST(FLOOR(EXTRACT(SECOND FROM CAST("items"."shipped_at" AS TIMESTAMP))) AS INTEGER) FROM "items" WHERE CAST(EXTRACT(MONTH FROM CAST("items"."placed_on" AS TIMESTAMP)) AS INTEGER) = $1"#,
            "SELECT EXTRACT(YEAR FROM `items`.`placed_on`), EXTRACT(SECOND FROM `items`.`shipped_at`) FROM `items` WHERE EXTRACT(MONTH FROM `items`.`placed_on`) = ?",
        ],
        &[Value::I32(3)],
    );
    for part in [DatePart::Day, DatePart::Hour, DatePart::Minute] {
        let st = select_columns(func::extract(part, Item::shipped_at)).to_sql(&MySqlDialect).unwrap();
        let name = format!("{part:?}").to_uppercase();
        assert_eq!(st.sql, format!("SELECT EXTRACT({name} FROM `items`.`shipped_at`) FROM `items`"));
    }
}
