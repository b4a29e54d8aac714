//! The questions the data asks of databases Athanor did not create (issue 21): exact decimal
//! arithmetic and aggregates, date parts, portable identifiers in raw SQL, and comparisons
//! between a reflected model's `Option<i64>` key and the `i64` foreign keys pointing at it,
//! with the same results on every database.

use crate::harness::TestDb;
use athanor::func::DatePart;
use athanor::prelude::*;
use athanor::{Base, Decimal};

/// A key as reflection gives it: `Option<i64>`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "x_tracks")]
pub struct XTrack {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub name: String,
}

/// An invoice line: its foreign key is a plain `i64`, money is exact.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "x_lines")]
pub struct XLine {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The track sold.
    #[column(foreign_key = "x_tracks.id")]
    pub track_id: i64,
    /// Unit price.
    #[column(precision = 12, scale = 2)]
    pub price: Decimal,
    /// Units.
    pub quantity: i32,
    /// A discount, if any.
    #[column(precision = 12, scale = 3)]
    pub discount: Option<Decimal>,
    /// The invoice's date.
    pub day: jiff::civil::Date,
    /// When it was shipped.
    pub shipped: Option<jiff::civil::DateTime>,
}

/// Five aggregates of decimals.
type Five = (Option<Decimal>, Option<Decimal>, Option<Decimal>, Option<Decimal>, Option<Decimal>);
/// A date's year, month and day, a date-time's hour, minute and second.
type Parts = (i32, i32, i32, Option<i32>, Option<i32>, Option<i32>);
/// A nullable date-time's year, month and day, and a date's hour.
type Shipped = (Option<i32>, Option<i32>, Option<i32>, i32);

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn seed(db: &TestDb) -> Result<()> {
    Base::new().register::<XTrack>().register::<XLine>().metadata().create_all(&db.engine)?;
    let s = db.session();
    for name in ["Intro", "Outro"] {
        s.add(XTrack { id: None, name: name.into() });
    }
    s.flush()?;
    let date = |y, m, d| jiff::civil::date(y, m, d);
    let lines = [
        (1, "0.10", 3, None, date(1999, 12, 31), Some(date(2000, 1, 1).at(23, 59, 58, 999_999_000))),
        (1, "0.20", 1, Some("0.005"), date(2024, 2, 29), Some(date(2024, 3, 1).at(0, 0, 0, 0))),
        (1, "99999.99", 2, Some("0.015"), date(2024, 3, 1), None),
    ];
    for (track_id, price, quantity, discount, day, shipped) in lines {
        s.add(XLine { id: None, track_id, price: dec(price), quantity, discount: discount.map(dec), day, shipped });
    }
    s.commit()
}

/// `SUM(price * quantity)`, `SUM`/`AVG`/`MIN`/`MAX` over decimals and decimal arithmetic are
/// exact `Decimal`s with the same digits (scale included) on every database: `0.1 + 0.2` is
/// `0.30`, never `0.30000000000000004`; AVG is rounded half away from zero to 10 digits.
pub fn decimal_sums_and_averages_are_exact_everywhere(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let total = XLine::price.mul(XLine::quantity.cast::<Decimal>());
    let row: Vec<Five> = s
        .select((
            func::sum(XLine::price),
            func::sum(total.clone()),
            func::avg(XLine::price),
            func::min(XLine::price),
            func::max(XLine::price),
        ))
        .all()?;
    let (sum, sum_total, avg, min, max) = row[0];
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    assert_eq!(text(sum).as_deref(), Some("100000.29"), "0.10 + 0.20 + 99999.99");
    assert_eq!(text(sum_total).as_deref(), Some("200000.48"), "0.30 + 0.20 + 199999.98");
    // (0.10 + 0.20 + 99999.99) / 3 = 33333.43
    assert_eq!(text(avg).as_deref(), Some("33333.4300000000"), "rounded to 10 digits everywhere");
    assert_eq!((text(min).as_deref(), text(max).as_deref()), (Some("0.10"), Some("99999.99")), "numeric order");
    // 0.1 + 0.2 is exact; the average of 0.10 and 0.20 is 0.15; of a third, rounded half away.
    let small = XLine::price.lt(dec("1"));
    let pair: Vec<(Option<Decimal>, Option<Decimal>)> =
        s.select((func::sum(XLine::price), func::avg(XLine::price))).filter(small.clone()).all()?;
    assert_eq!(pair[0].0, Some(dec("0.3")));
    assert_eq!(text(pair[0].1).as_deref(), Some("0.1500000000"));
    let thirds: Vec<Option<Decimal>> = s.select(func::avg(XLine::discount)).all()?;
    assert_eq!(text(thirds[0]).as_deref(), Some("0.0100000000"), "(0.005 + 0.015) / 2, NULL skipped");
    // Arithmetic per row, compared and ordered as numbers (SQLite's text through the collation).
    let nets: Vec<(Decimal, Decimal)> = s
        .select((total.clone(), XLine::price.sub(XLine::discount.coalesce(dec("0.000"))).neg()))
        .filter(total.clone().gt(dec("0.25")))
        .order_by(total.clone().desc())
        .all()?;
    let nets: Vec<(String, String)> = nets.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(
        nets,
        [("199999.98".to_string(), "-99999.975".to_string()), ("0.30".to_string(), "-0.100".to_string())],
        "products keep the sum of the scales, differences the larger one"
    );
    // Over no rows: NULL.
    let none: Vec<(Option<Decimal>, Option<Decimal>)> =
        s.select((func::sum(XLine::price), func::avg(XLine::price))).filter(XLine::quantity.gt(100)).all()?;
    assert_eq!(none, [(None, None)]);
    // Grouped and compared in HAVING.
    let per_track: Vec<(String, Option<Decimal>)> = s
        .select((XTrack::name, func::sum(total.clone())))
        .join_on(XLine::track_id, XTrack::id)
        .group_by(XTrack::name)
        .having(func::sum(total).gt(dec("1000")))
        .all()?;
    assert_eq!(per_track, [("Intro".to_string(), Some(dec("200000.48")))]);
    Ok(())
}

/// `func::extract(part, col)` of dates and date-times is the same integer on every database
/// (whole seconds, the fraction dropped).
pub fn date_parts_are_the_same_integers_everywhere(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let parts: Vec<Parts> = s
        .select((
            func::extract(DatePart::Year, XLine::day),
            func::extract(DatePart::Month, XLine::day),
            func::extract(DatePart::Day, XLine::day),
            func::extract(DatePart::Hour, XLine::shipped),
            func::extract(DatePart::Minute, XLine::shipped),
            func::extract(DatePart::Second, XLine::shipped),
        ))
        .order_by(XLine::day.asc())
        .all()?;
    assert_eq!(
        parts,
        [
            (1999, 12, 31, Some(23), Some(59), Some(58)),
            (2024, 2, 29, Some(0), Some(0), Some(0)),
            (2024, 3, 1, None, None, None),
        ]
    );
    let shipped: Vec<Shipped> = s
        .select((
            func::extract(DatePart::Year, XLine::shipped),
            func::extract(DatePart::Month, XLine::shipped),
            func::extract(DatePart::Day, XLine::shipped),
            func::extract(DatePart::Hour, XLine::day),
        ))
        .order_by(XLine::day.asc())
        .all()?;
    assert_eq!(shipped, [(Some(2000), Some(1), Some(1), 0), (Some(2024), Some(3), Some(1), 0), (None, None, None, 0)]);
    // In a filter, grouped: the lines of 2024 by month.
    let by_month: Vec<(i32, i64)> = s
        .select((func::extract(DatePart::Month, XLine::day), func::count(XLine::id)))
        .filter(func::extract(DatePart::Year, XLine::day).eq(2024))
        .group_by(func::extract(DatePart::Month, XLine::day))
        .order_by(func::extract(DatePart::Month, XLine::day).asc())
        .all()?;
    assert_eq!(by_month, [(2, 1), (3, 1)]);
    Ok(())
}

/// `{Name}` in `text()` is an identifier quoted by the dialect: one string queries a
/// mixed-case table on every database (double quotes fail on MySQL, bare names on PostgreSQL).
pub fn raw_sql_names_mixed_case_identifiers_portably(db: &TestDb) -> Result<()> {
    let s = db.session();
    s.execute(text("CREATE TABLE {MixedCase} ({TrackId} INTEGER PRIMARY KEY, {Track Name} VARCHAR(40))"))?;
    for (id, name) in [(1, "Intro"), (2, "Outro")] {
        s.execute(
            text("INSERT INTO {MixedCase} ({TrackId}, {Track Name}) VALUES (:id, :name)")
                .bind("id", id)
                .bind("name", name),
        )?;
    }
    let rows = s.execute(
        text("SELECT {m}.{TrackId}, {Track Name} FROM {MixedCase} AS {m} WHERE {Track Name} <> ':x {no}' ORDER BY {TrackId} DESC"),
    )?;
    let got: Vec<(i64, String)> = rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect::<Result<_>>()?;
    assert_eq!(got, [(2, "Outro".to_string()), (1, "Intro".to_string())]);
    s.commit()?;
    // The name is quoted, never spliced: a hostile one is just a missing table.
    let s = db.session();
    let err = s.execute(text("SELECT * FROM {MixedCase; DROP TABLE MixedCase}")).expect_err("no such table");
    assert!(matches!(err, Error::Database { .. }), "{err}");
    s.rollback()?;
    let s = db.session();
    let n: i64 = s.execute(text("SELECT COUNT(*) FROM {MixedCase}"))?[0].get(0)?;
    assert_eq!(n, 2, "the table is still there");
    s.execute(text("DROP TABLE {MixedCase}"))?;
    s.commit()
}

/// A reflected key (`Option<i64>`) and the plain `i64` foreign key pointing at it compare in
/// `correlate`, `IN` / `NOT IN` a subquery and `join_on`, both ways round.
pub fn option_keys_compare_with_plain_foreign_keys(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let n_lines = s.select(func::count(XLine::id)).correlate(XLine::track_id, XTrack::id).scalar();
    let counts: Vec<(String, Option<i64>)> = s.select((XTrack::name, n_lines)).order_by(XTrack::name.asc()).all()?;
    assert_eq!(counts, [("Intro".to_string(), Some(3)), ("Outro".to_string(), Some(0))]);
    let sold = s.query::<XTrack>().filter(XTrack::id.in_(s.select(XLine::track_id).subquery())).all()?;
    assert_eq!(sold.iter().map(|t| t.get().name.clone()).collect::<Vec<_>>(), ["Intro"]);
    let unsold = s.query::<XTrack>().filter(XTrack::id.not_in(s.select(XLine::track_id).subquery())).all()?;
    assert_eq!(unsold.iter().map(|t| t.get().name.clone()).collect::<Vec<_>>(), ["Outro"]);
    let known = s.query::<XLine>().filter(XLine::track_id.in_(s.select(XTrack::id).subquery())).count()?;
    assert_eq!(known, 3);
    let with_track =
        s.query::<XLine>().filter(exists(s.select(XTrack::id).correlate(XTrack::id, XLine::track_id))).count()?;
    assert_eq!(with_track, 3);
    let joined: Vec<(String, i32)> = s
        .select((XTrack::name, XLine::quantity))
        .join_on(XLine::track_id, XTrack::id)
        .order_by(XLine::quantity.asc())
        .all()?;
    assert_eq!(joined.iter().map(|(_, q)| *q).collect::<Vec<_>>(), [1, 2, 3]);
    Ok(())
}
