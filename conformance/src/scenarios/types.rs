//! Values round-trip without loss for every supported field type, NULL and boundary values.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;

fn sample(i: i64) -> TypeSample {
    TypeSample {
        id: None,
        b: i % 2 == 0,
        small: 0,
        int: 0,
        big: i,
        real: 0.0,
        double: 0.0,
        text: String::new(),
        blob: Vec::new(),
        ob: None,
        osmall: None,
        oint: None,
        obig: None,
        oreal: None,
        odouble: None,
        otext: None,
        oblob: None,
    }
}

fn roundtrip(db: &TestDb, values: Vec<TypeSample>) -> Result<()> {
    let s = db.session();
    let hs = s.add_all(values.clone());
    s.commit()?;
    let fresh = db.session();
    for (h, want) in hs.iter().zip(values) {
        let id = h.get().id.expect("key");
        let got = fresh.get::<TypeSample>(id)?.expect("row");
        let got = got.get();
        let mut want = want;
        want.id = Some(id);
        // NaN != NaN: compare floats bitwise-ish.
        let same_f32 = |a: f32, b: f32| a == b || (a.is_nan() && b.is_nan());
        let same_f64 = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        assert!(same_f32(got.real, want.real), "f32 {} != {}", got.real, want.real);
        assert!(same_f64(got.double, want.double), "f64 {} != {}", got.double, want.double);
        let (mut g, mut w) = (got.clone(), want.clone());
        g.real = 0.0;
        w.real = 0.0;
        g.double = 0.0;
        w.double = 0.0;
        assert_eq!(g, w);
    }
    Ok(())
}

/// Integer extremes, floats, empty and unicode text, blobs, booleans.
pub fn roundtrip_boundary_values(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let caps = db.caps().clone();
    let mut v = Vec::new();
    let mut a = sample(i64::MAX);
    a.small = i16::MAX;
    a.int = i32::MAX;
    a.real = f32::MAX;
    a.double = f64::MAX;
    a.text = "héllo wörld ✓ 🦀 — 中文".into();
    a.blob = vec![0, 1, 2, 0xff, 0xfe, 0];
    v.push(a);
    let mut b = sample(i64::MIN);
    b.small = i16::MIN;
    b.int = i32::MIN;
    b.real = f32::MIN_POSITIVE;
    b.double = -f64::MIN_POSITIVE;
    b.text = "quote ' double \" backslash \\ -- ; /* */".into();
    v.push(b);
    let mut c = sample(0);
    c.real = -1.5;
    c.double = 0.1 + 0.2;
    c.text = " trailing space ".into();
    c.blob = vec![0; 1000];
    v.push(c);
    if caps.stores_infinity {
        let mut d = sample(1);
        d.double = f64::INFINITY;
        d.real = f32::NEG_INFINITY;
        v.push(d);
    }
    if caps.stores_nan {
        let mut e = sample(2);
        e.double = f64::NAN;
        e.real = f32::NAN;
        v.push(e);
    }
    roundtrip(db, v)
}

/// Every Option field as Some and as None.
pub fn roundtrip_nullable_values(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let mut some = sample(7);
    some.ob = Some(true);
    some.osmall = Some(-7);
    some.oint = Some(123_456);
    some.obig = Some(-9_876_543_210);
    some.oreal = Some(2.5);
    some.odouble = Some(-1e300);
    some.otext = Some(String::new());
    some.oblob = Some(Vec::new());
    roundtrip(db, vec![some, sample(8)])
}

/// Filtering by every type finds the row (values compare exactly in the database too).
pub fn filter_by_each_type(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let mut a = sample(42);
    a.small = -3;
    a.int = 70_000;
    a.text = "exact Text".into();
    a.blob = vec![9, 8, 7];
    a.double = 2.5;
    s.add(a);
    s.add(sample(43));
    s.commit()?;
    let q = || s.query::<TypeSample>();
    assert_eq!(q().filter(TypeSample::big.eq(42)).count()?, 1);
    assert_eq!(q().filter(TypeSample::small.eq(-3)).count()?, 1);
    assert_eq!(q().filter(TypeSample::int.eq(70_000)).count()?, 1);
    assert_eq!(q().filter(TypeSample::text.eq("exact Text")).count()?, 1);
    assert_eq!(q().filter(TypeSample::text.eq("exact text")).count()?, 0, "= is case-sensitive everywhere");
    assert_eq!(q().filter(TypeSample::blob.eq(vec![9u8, 8, 7])).count()?, 1);
    assert_eq!(q().filter(TypeSample::double.eq(2.5)).count()?, 1);
    assert_eq!(q().filter(TypeSample::b.eq(true)).count()?, 1);
    assert_eq!(q().filter(TypeSample::ob.is_null()).count()?, 2);
    Ok(())
}

/// A value that does not fit the field's type is a TypeMismatch naming the column; the session
/// stays usable.
pub fn result_type_mismatch_is_typed(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Wide { id: None, n: 5 });
    s.add(Wide { id: None, n: i64::from(i32::MAX) + 1 });
    s.commit()?;
    let r = db.session();
    let ok = r.query::<Narrow>().filter(Narrow::n.eq(5)).one()?;
    assert_eq!(ok.get().n, 5);
    let err = r.query::<Narrow>().all().expect_err("too wide for i32");
    match &err {
        Error::TypeMismatch { column, expected, .. } => {
            assert_eq!(column, "wide_values.n");
            assert_eq!(*expected, "i32");
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    assert_eq!(r.query::<Wide>().count()?, 2, "the session is still usable");
    Ok(())
}

/// `sql` with `{1}`, `{2}` … replaced by the dialect's placeholders and `{t}` by the quoted table.
fn raw_sql(db: &TestDb, table: &str, sql: &str) -> Result<String> {
    let d = db.engine.dialect();
    let mut out = sql.replace("{t}", &athanor::backend::quoted(d, table)?);
    for n in (1..=9).rev() {
        let mut p = String::new();
        d.write_placeholder(&mut p, n);
        out = out.replace(&format!("{{{n}}}"), &p);
    }
    Ok(out)
}

/// Raw SELECTs of a DECIMAL(10,2), a DATE, AVG and SUM read the same Rust values everywhere
/// (the Row/Value contract: decimals are `Value::Decimal`, exact text — SQLite, which has no
/// decimal type, stores a decimal column's values as numbers — dates ISO-8601 text, and numbers
/// read from decimals when exact, never from text).
pub fn raw_decimal_date_and_avg_agree(db: &TestDb) -> Result<()> {
    let create = raw_sql(
        db,
        "raw_values",
        "CREATE TABLE {t} (id INTEGER PRIMARY KEY, price DECIMAL(10,2), day DATE, n INTEGER)",
    )?;
    db.engine.execute(&create, &[])?;
    let insert = raw_sql(db, "raw_values", "INSERT INTO {t} (id, price, day, n) VALUES ({1}, {2}, {3}, {4})")?;
    let mut c = db.engine.connect()?;
    for (id, price, day, n) in [
        (1, "12.50", "2024-02-29", 1),
        (2, "7.25", "1999-12-31", 2),
        (3, "0.25", "2000-01-01", 3),
        (4, "-1.00", "2038-01-19", 4),
    ] {
        c.execute(&insert, &params![id, price, day, n])?;
    }
    let select = raw_sql(db, "raw_values", "SELECT price, day FROM {t} WHERE id = {1}")?;
    let rows = c.query(&select, &params![1])?;
    assert_eq!(rows[0].get::<f64>("price")?, 12.5, "a DECIMAL(10,2) reads as f64 when exact");
    assert_eq!(rows[0].get::<String>("day")?, "2024-02-29", "a DATE is ISO-8601 text");
    let rows = c.query(&select, &params![4])?;
    assert_eq!(rows[0].get::<i64>("price")?, -1, "a whole DECIMAL reads as an integer");
    assert_eq!(rows[0].get::<String>(1)?, "2038-01-19");
    let sqlite = db.engine.dialect().name() == "sqlite";
    let rows = c.query(&select, &params![2])?;
    match rows[0].get::<Value>("price")? {
        Value::Decimal(d) => assert!(!sqlite && d == "7.25", "{d:?}"),
        Value::F64(f) => assert!(sqlite && f == 7.25, "{f}"),
        other => panic!("a DECIMAL cell is a decimal (a number on SQLite), not {other:?}"),
    }
    if !sqlite {
        assert_eq!(rows[0].get::<String>("price")?, "7.25", "a decimal reads as its digits");
    }
    assert!(matches!(rows[0].get::<i64>("day"), Err(Error::TypeMismatch { .. })), "text never reads into an integer");
    // A decimal parameter: sent exactly where the database has decimals; as its digits (TEXT) on
    // SQLite, which the column's NUMERIC affinity compares as a number.
    let by_price = raw_sql(db, "raw_values", "SELECT id FROM {t} WHERE price = {1}")?;
    let rows = c.query(&by_price, &[Value::Decimal("0.25".into())])?;
    assert!(rows.len() == 1 && rows[0].get::<i64>(0)? == 3);
    let days: Vec<String> = c
        .query(&raw_sql(db, "raw_values", "SELECT day FROM {t} ORDER BY day")?, &[])?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_>>()?;
    assert_eq!(days, ["1999-12-31", "2000-01-01", "2024-02-29", "2038-01-19"], "dates order as dates");
    let aggregates =
        raw_sql(db, "raw_values", "SELECT AVG(n) AS avg_n, SUM(n) AS sum_n, SUM(price) AS total FROM {t}")?;
    let rows = c.query(&aggregates, &[])?;
    let row = &rows[0];
    assert_eq!(row.get::<f64>("avg_n")?, 2.5, "AVG of integers reads as the same f64 everywhere");
    assert_eq!(row.get::<i64>("sum_n")?, 10, "SUM of integers reads as i64 everywhere");
    assert_eq!(row.get::<f64>("total")?, 19.0);
    // An average without a short decimal form: a float where the database computes in floats,
    // a mismatch (never a rounded float) where it computes a decimal.
    let odd = raw_sql(db, "raw_values", "SELECT AVG(n) FROM {t} WHERE n < 4")?;
    assert_eq!(c.query_scalar::<f64>(&odd, &[])?, 2.0);
    let third = raw_sql(db, "raw_values", "SELECT AVG(n) FROM {t} WHERE n IN (1, 2, 4)")?;
    match c.query_scalar::<f64>(&third, &[]) {
        // SQLite's float, or a decimal the database itself rounded (MySQL: to 4 places).
        Ok(f) => assert!((f - 7.0 / 3.0).abs() < 1e-3, "{f}"),
        Err(Error::TypeMismatch { expected, .. }) => assert_eq!(expected, "f64"),
        Err(other) => return Err(other),
    }
    Ok(())
}

/// `row.get::<T>("name")` reads by column name (the alias of `AS`); an unknown name is a typed
/// error naming it.
pub fn result_row_get_by_name(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let mut a = sample(41);
    a.text = "by name".into();
    s.add(a);
    s.commit()?;
    let sql = raw_sql(db, "type_samples", "SELECT big AS total, text FROM {t}")?;
    let rows = s.query_sql(&sql, &[])?;
    assert_eq!(rows[0].get::<i64>("total")?, 41);
    assert_eq!(rows[0].get::<String>("text")?, "by name");
    assert_eq!(rows[0].get::<i64>(0)?, 41);
    assert_eq!(rows[0].columns().names().collect::<Vec<_>>(), ["total", "text"]);
    match rows[0].get::<i64>("no_such_column") {
        Err(Error::InvalidRequest { message }) => assert!(message.contains("no_such_column"), "{message}"),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    match rows[0].get::<i64>("text") {
        Err(Error::TypeMismatch { column, .. }) => assert_eq!(column, "text"),
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    assert!(matches!(rows[0].get::<i64>(2), Err(Error::InvalidRequest { .. })));
    Ok(())
}

/// A generated gadget: key, level, port, count, tag and the nullable count.
type GadgetRow = (u128, u8, u16, u32, Option<u128>, Option<u32>);

fn gadget(n: u32, id: uuid::Uuid) -> Gadget {
    Gadget {
        id,
        label: format!("g{n:03}"),
        level: (n % 256) as u8,
        port: (n * 257 % 65_536) as u16,
        count: n.wrapping_mul(2_654_435_761),
        tag: (n % 2 == 0).then_some(id),
        ocount: (n % 3 == 0).then_some(u32::MAX - n),
    }
}

/// `u8`, `u16`, `u32` and `uuid::Uuid` round-trip exactly (property test: the whole range of
/// each, NULLs, a UUID primary key through the identity map).
pub fn unsigned_and_uuid_roundtrip(db: &TestDb) -> Result<()> {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    db.create_all()?;
    let strategy = proptest::collection::vec(
        (any::<u128>(), any::<u8>(), any::<u16>(), any::<u32>(), any::<Option<u128>>(), any::<Option<u32>>()),
        1..8,
    );
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    let edges = vec![
        (0u128, 0u8, 0u16, 0u32, Some(0u128), Some(0u32)),
        (u128::MAX, u8::MAX, u16::MAX, u32::MAX, Some(u128::MAX), Some(u32::MAX)),
    ];
    let run = |rows: Vec<GadgetRow>| -> Result<()> {
        let s = db.session();
        s.query::<Gadget>().delete()?;
        let mut want = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (id, level, port, count, tag, ocount) in rows {
            if !seen.insert(id) {
                continue;
            }
            let g = Gadget {
                id: uuid::Uuid::from_u128(id),
                label: "p".into(),
                level,
                port,
                count,
                tag: tag.map(uuid::Uuid::from_u128),
                ocount,
            };
            s.add(g.clone());
            want.push(g);
        }
        s.commit()?;
        want.sort_by_key(|g| g.id);
        let fresh = db.session();
        let got: Vec<Gadget> =
            fresh.query::<Gadget>().order_by(Gadget::id.asc()).all()?.iter().map(|h| h.cloned()).collect();
        assert_eq!(got, want, "ordered by the UUID's bytes on every database");
        for g in &want {
            let h = fresh.get::<Gadget>(g.id)?.expect("found by its UUID key");
            assert_eq!(&*h.get(), g);
        }
        Ok(())
    };
    run(edges)?;
    runner
        .run(&strategy, |rows| run(rows).map_err(|e| TestCaseError::fail(e.to_string())))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;
    Ok(())
}

/// Comparisons and ORDER BY agree on every database for unsigned integers and UUIDs, a UUID or
/// an unsigned value written by another client (raw SQL in its own form) reads back, and a
/// stored value beyond the field's range is a typed error, never a wrapped number.
pub fn unsigned_and_uuid_compare_and_foreign_values(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let ids: Vec<uuid::Uuid> = (1..=12u128).map(|i| uuid::Uuid::from_u128(i.rotate_right(7) ^ 0x5a5a)).collect();
    for (n, id) in ids.iter().enumerate() {
        s.add(gadget(n as u32 * 37, *id));
    }
    s.commit()?;
    let labels = |q: athanor::Query<'_, Gadget>| -> Result<Vec<String>> {
        Ok(q.all()?.iter().map(|g| g.get().label.clone()).collect())
    };
    let mut by_count: Vec<Gadget> = (0..12u32).map(|n| gadget(n * 37, ids[n as usize])).collect();
    by_count.sort_by_key(|g| g.count);
    assert_eq!(
        labels(s.query::<Gadget>().order_by(Gadget::count.asc()))?,
        by_count.iter().map(|g| g.label.clone()).collect::<Vec<_>>(),
        "u32 values above i32::MAX sort as unsigned"
    );
    let big: Vec<String> =
        by_count.iter().filter(|g| g.count > 3_000_000_000).map(|g| g.label.clone()).collect::<Vec<_>>();
    let mut got = labels(s.query::<Gadget>().filter(Gadget::count.gt(3_000_000_000u32)))?;
    got.sort();
    let mut big_sorted = big.clone();
    big_sorted.sort();
    assert_eq!(got, big_sorted);
    let high = by_count.iter().filter(|g| g.level >= 100).count() as u64;
    assert_eq!(s.query::<Gadget>().filter(Gadget::level.ge(100u8)).count()?, high);
    assert_eq!(labels(s.query::<Gadget>().filter(Gadget::tag.eq(ids[2])))?, ["g074"], "a UUID compares by value");
    assert_eq!(s.query::<Gadget>().filter(Gadget::tag.is_null()).count()?, 6);
    let mut sorted = ids.clone();
    sorted.sort();
    let by_id: Vec<uuid::Uuid> =
        s.query::<Gadget>().order_by(Gadget::id.desc()).all()?.iter().map(|g| g.get().id).collect();
    assert_eq!(by_id, sorted.iter().rev().copied().collect::<Vec<_>>(), "UUIDs sort by their bytes everywhere");
    s.commit()?;

    // Written by another client, in that database's own form.
    let foreign = uuid::Uuid::parse_str("6f1c2a4e-9b3d-4c8e-a1f0-123456789abc").expect("uuid");
    let dialect = db.engine.dialect().name();
    let insert = match dialect {
        // sqlite3 users often store the text form.
        "sqlite" => "INSERT INTO gadgets (id, label, level, port, count) VALUES ('6f1c2a4e-9b3d-4c8e-a1f0-123456789abc', 'foreign', 255, 65535, 4294967295)",
        "postgres" => "INSERT INTO gadgets (id, label, level, port, count) VALUES ('6f1c2a4e-9b3d-4c8e-a1f0-123456789abc'::uuid, 'foreign', 255, 65535, 4294967295)",
        _ => "INSERT INTO gadgets (id, label, level, port, count) VALUES (UNHEX(REPLACE('6f1c2a4e-9b3d-4c8e-a1f0-123456789abc', '-', '')), 'foreign', 255, 65535, 4294967295)",
    };
    s.execute_sql(insert, &[])?;
    s.commit()?;
    let g = db.session().query::<Gadget>().filter(Gadget::label.eq("foreign")).one()?;
    assert_eq!((g.get().id, g.get().level, g.get().port, g.get().count), (foreign, 255, 65535, u32::MAX));
    // A value beyond the field's range: refused by the database (MySQL's UNSIGNED types) or a
    // typed error when read (SQLite's INTEGER, PostgreSQL's SMALLINT), never a wrapped number.
    let over = s.execute_sql("UPDATE gadgets SET level = 300 WHERE label = 'foreign'", &[]);
    match over {
        Ok(_) => {
            s.commit()?;
            let read = db.session().query::<Gadget>().filter(Gadget::label.eq("foreign")).one();
            assert!(matches!(read, Err(Error::TypeMismatch { .. })), "{read:?}");
        }
        Err(e) => {
            assert!(matches!(e, Error::Database { .. } | Error::Integrity { .. }), "{e}");
            s.rollback()?;
        }
    }
    Ok(())
}

/// `jiff::Timestamp` round-trips at microsecond precision over the whole portable range
/// (property test; a finer value is truncated toward the past), orders and compares the same on
/// every database, reads what another client wrote in the database's own form, and an instant
/// outside 0001–9999 is a typed error before anything is sent.
pub fn timestamps_roundtrip_order_and_foreign_values(db: &TestDb) -> Result<()> {
    use athanor::temporal::{MAX_TIMESTAMP, MIN_TIMESTAMP};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    db.create_all()?;
    let ts = |us: i64| jiff::Timestamp::from_microsecond(us).expect("in jiff's range");
    // jiff's own range ends a little before 9999-12-31T23:59:59.999999Z.
    let max = MAX_TIMESTAMP.min(jiff::Timestamp::MAX.as_second() * 1_000_000);
    let run = |values: Vec<(i64, Option<i64>)>| -> Result<()> {
        let s = db.session();
        s.query::<Event>().delete()?;
        let mut want = Vec::new();
        for (i, (at, ends)) in values.into_iter().enumerate() {
            let e = Event { id: None, name: format!("e{i:03}"), at: ts(at), ends: ends.map(ts) };
            s.add(e.clone());
            want.push(e);
        }
        s.commit()?;
        want.sort_by(|a, b| (a.at, &a.name).cmp(&(b.at, &b.name)));
        let fresh = db.session();
        let got: Vec<Event> = fresh
            .query::<Event>()
            .order_by(Event::at.asc())
            .order_by(Event::name.asc())
            .all()?
            .iter()
            .map(|h| {
                let mut e = h.cloned();
                e.id = None;
                e
            })
            .collect();
        let want: Vec<Event> = want
            .into_iter()
            .map(|mut e| {
                e.id = None;
                e
            })
            .collect();
        assert_eq!(got, want, "equal after the round trip, in time order");
        Ok(())
    };
    run(vec![(MIN_TIMESTAMP, Some(max)), (0, None), (-1, Some(1)), (951_782_400_123_456, None)])?;
    let instant = prop_oneof![MIN_TIMESTAMP..=max, -100_000_000_000i64..100_000_000_000];
    let strategy = proptest::collection::vec((instant.clone(), proptest::option::of(instant)), 1..8);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |v| run(v).map_err(|e| TestCaseError::fail(e.to_string())))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;

    // Comparisons with a bound instant, and sub-microsecond truncation toward the past.
    let s = db.session();
    s.query::<Event>().delete()?;
    let base = ts(1_700_000_000_000_000);
    for (i, secs) in [-90i64, -1, 0, 1, 3600].iter().enumerate() {
        let at = base.checked_add(jiff::SignedDuration::from_secs(*secs)).expect("in range");
        s.add(Event { id: None, name: format!("c{i}"), at, ends: None });
    }
    let fine = jiff::Timestamp::from_nanosecond(-1_500).expect("in range");
    s.add(Event { id: None, name: "fine".into(), at: fine, ends: Some(base) });
    s.commit()?;
    let names = |q: athanor::Query<'_, Event>| -> Result<Vec<String>> {
        Ok(q.order_by(Event::at.asc()).all()?.iter().map(|e| e.get().name.clone()).collect())
    };
    assert_eq!(names(s.query::<Event>().filter(Event::at.lt(base)))?, ["fine", "c0", "c1"]);
    assert_eq!(names(s.query::<Event>().filter(Event::at.ge(base)))?, ["c2", "c3", "c4"]);
    assert_eq!(names(s.query::<Event>().filter(Event::ends.eq(base)))?, ["fine"]);
    let back = s.query::<Event>().filter(Event::name.eq("fine")).one()?;
    assert_eq!(back.get().at, ts(-2), "-1.5 µs is stored as -2 µs (truncated toward the past)");

    // Written by another client, in the database's own form (UTC).
    let dialect = db.engine.dialect().name();
    let insert = match dialect {
        "sqlite" => "INSERT INTO events (name, at) VALUES ('foreign', '2024-02-29 12:34:56.5+02:00')",
        "postgres" => "INSERT INTO events (name, at) VALUES ('foreign', TIMESTAMPTZ '2024-02-29 12:34:56.5+02:00')",
        _ => "INSERT INTO events (name, at) VALUES ('foreign', '2024-02-29 10:34:56.5')",
    };
    s.execute_sql(insert, &[])?;
    s.commit()?;
    let foreign = db.session().query::<Event>().filter(Event::name.eq("foreign")).one()?;
    assert_eq!(foreign.get().at.to_string(), "2024-02-29T10:34:56.5Z");

    // Outside the portable range: a typed error, nothing sent.
    let far = jiff::Timestamp::from_second(-62_135_596_801).expect("year 0 is in jiff's range");
    s.add(Event { id: None, name: "far".into(), at: far, ends: None });
    let err = s.commit().expect_err("year 0 is outside 0001–9999");
    assert!(matches!(err, Error::InvalidValue { ref column, .. } if column == "events.at"), "{err}");
    s.rollback()?;
    assert_eq!(s.query::<Event>().filter(Event::name.eq("far")).count()?, 0);
    Ok(())
}

/// `jiff::civil::{Date, Time, DateTime}` round-trip (property test over 0001–9999, microseconds,
/// a finer time truncated), sort and compare the same on every database, and read what another
/// client wrote. (A civil text with a zone is a type mismatch rather than a silent shift: see
/// `athanor_core::temporal`'s tests.)
pub fn civil_dates_and_times(db: &TestDb) -> Result<()> {
    use jiff::civil::{Date, DateTime, Time};
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    db.create_all()?;
    let day = |d: i64| -> Date {
        let (y, m, dd) = athanor::temporal::civil_from_days(d);
        Date::new(y as i16, m as i8, dd as i8).expect("a real date")
    };
    let time = |us: i64| -> Time {
        let s = us / 1_000_000;
        Time::new((s / 3600) as i8, (s / 60 % 60) as i8, (s % 60) as i8, (us % 1_000_000 * 1000) as i32)
            .expect("a time")
    };
    let min_day = athanor::temporal::MIN_TIMESTAMP.div_euclid(athanor::temporal::MICROS_PER_DAY);
    let max_day = athanor::temporal::MAX_TIMESTAMP.div_euclid(athanor::temporal::MICROS_PER_DAY);
    let run = |rows: Vec<(i64, i64, i64, i64, Option<i64>)>| -> Result<()> {
        let s = db.session();
        s.query::<Shift>().delete()?;
        let mut want = Vec::new();
        for (d, t, pd, pt, other) in rows {
            let sh = Shift {
                id: None,
                day: day(d),
                starts: time(t),
                planned: DateTime::from_parts(day(pd), time(pt)),
                other: other.map(day),
            };
            s.add(sh.clone());
            want.push(sh);
        }
        s.commit()?;
        let key = |x: &Shift| (x.day, x.starts, x.planned);
        want.sort_by_key(key);
        let got: Vec<Shift> = db
            .session()
            .query::<Shift>()
            .order_by(Shift::day.asc())
            .order_by(Shift::starts.asc())
            .order_by(Shift::planned.asc())
            .all()?
            .iter()
            .map(|h| Shift { id: None, ..h.cloned() })
            .collect();
        let want: Vec<Shift> = want.into_iter().map(|x| Shift { id: None, ..x }).collect();
        assert_eq!(got, want);
        Ok(())
    };
    let us_day = athanor::temporal::MICROS_PER_DAY;
    run(vec![
        (min_day, 0, min_day, 0, Some(max_day)),
        (max_day, us_day - 1, max_day, us_day - 1, None),
        (0, 1, -1, 2, Some(0)),
    ])?;
    let strategy = proptest::collection::vec(
        (min_day..=max_day, 0..us_day, min_day..=max_day, 0..us_day, proptest::option::of(min_day..=max_day)),
        1..8,
    );
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |v| run(v).map_err(|e| TestCaseError::fail(e.to_string())))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;

    // Comparisons with bound values; a time finer than a microsecond is truncated.
    let s = db.session();
    s.query::<Shift>().delete()?;
    let d0 = jiff::civil::date(2024, 2, 28);
    for (i, d) in [d0, jiff::civil::date(2024, 2, 29), jiff::civil::date(2024, 3, 1)].into_iter().enumerate() {
        let starts = Time::new(9, i as i8 * 10, 0, 999).expect("time");
        s.add(Shift { id: None, day: d, starts, planned: d.at(23, 59, 59, 0), other: None });
    }
    s.commit()?;
    let leap: Vec<Date> = s
        .query::<Shift>()
        .filter(Shift::day.gt(d0))
        .filter(Shift::starts.lt(Time::new(9, 15, 0, 0).expect("time")))
        .all()?
        .iter()
        .map(|x| x.get().day)
        .collect();
    assert_eq!(leap, [jiff::civil::date(2024, 2, 29)]);
    let first = s.query::<Shift>().filter(Shift::day.eq(d0)).one()?;
    assert_eq!(first.get().starts, Time::new(9, 0, 0, 0).expect("time"), "999 ns is truncated to 0 µs");
    assert_eq!(s.query::<Shift>().filter(Shift::planned.ge(jiff::civil::date(2024, 2, 29).at(0, 0, 0, 0))).count()?, 2);

    // Written by another client in the database's own form.
    s.execute_sql(
        "INSERT INTO shifts (day, starts, planned) VALUES ('1999-12-31', '23:59:58.25', '2000-01-01 00:00:01.5')",
        &[],
    )?;
    s.commit()?;
    let foreign = db.session().query::<Shift>().filter(Shift::day.eq(jiff::civil::date(1999, 12, 31))).one()?;
    let f = foreign.get();
    assert_eq!(
        (f.starts.to_string(), f.planned.to_string()),
        ("23:59:58.25".to_string(), "2000-01-01T00:00:01.5".to_string())
    );
    Ok(())
}

/// chrono's types share jiff's storage: rows written with one read back equal with the other
/// (the same tables mapped twice), chrono values round-trip and compare, and an instant before
/// 0001 is refused before sending.
pub fn chrono_types_share_the_storage(db: &TestDb) -> Result<()> {
    use chrono::{NaiveDate, TimeZone, Utc};
    db.create_all()?;
    let s = db.session();
    let at = jiff::Timestamp::from_microsecond(1_709_210_096_500_001).expect("instant");
    s.add(Event { id: None, name: "j".into(), at, ends: None });
    let day = jiff::civil::date(2024, 2, 29);
    s.add(Shift {
        id: None,
        day,
        starts: day.at(7, 8, 9, 10_000).time(),
        planned: day.at(23, 0, 0, 1_000),
        other: Some(day),
    });
    s.commit()?;
    let c = db.session();
    let e = c.query::<ChronoEvent>().filter(ChronoEvent::name.eq("j")).one()?;
    assert_eq!(e.get().at.timestamp_micros(), at.as_microsecond());
    let sh = c.query::<ChronoShift>().one()?;
    let want_day = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
    assert_eq!(sh.get().day, want_day);
    assert_eq!(sh.get().starts.to_string(), "07:08:09.000010");
    assert_eq!(sh.get().planned, want_day.and_hms_micro_opt(23, 0, 0, 1).expect("time"));
    assert_eq!(sh.get().other, Some(want_day));
    // Written with chrono, read with jiff; compared with bound chrono values.
    let t0 = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).single().expect("instant")
        + chrono::Duration::nanoseconds(999_999_500);
    c.add(ChronoEvent { id: None, name: "c".into(), at: t0, ends: Some(t0) });
    c.commit()?;
    let back = db.session().query::<Event>().filter(Event::name.eq("c")).one()?;
    assert_eq!(back.get().at.as_microsecond(), -1, "999 999.5 µs past 23:59:59 is stored as -1 µs");
    let later = c.query::<ChronoEvent>().filter(ChronoEvent::at.gt(t0)).all()?;
    assert_eq!(later.iter().map(|e| e.get().name.clone()).collect::<Vec<_>>(), ["j"]);
    let early = Utc.with_ymd_and_hms(0, 12, 31, 0, 0, 0).single().expect("year 0");
    c.add(ChronoEvent { id: None, name: "early".into(), at: early, ends: None });
    let err = c.commit().expect_err("year 0 is outside the portable range");
    assert!(matches!(err, Error::InvalidValue { ref column, .. } if column == "events.at"), "{err}");
    c.rollback()?;
    Ok(())
}

/// The time crate's types share the same storage (the same tables mapped with jiff and time),
/// and an `OffsetDateTime` with an offset other than UTC is refused before anything is written,
/// naming the column, with the session still usable.
pub fn time_crate_types_share_the_storage(db: &TestDb) -> Result<()> {
    use time::macros::{date, datetime, offset, time};
    db.create_all()?;
    let s = db.session();
    let at = datetime!(2024-02-29 10:34:56.500_001 UTC);
    s.add(TimeEvent { id: None, name: "t".into(), at, ends: None });
    s.add(TimeShift {
        id: None,
        day: date!(2024 - 02 - 29),
        starts: time!(07:08:09.000_010),
        planned: datetime!(2024-02-29 23:00:00.000_001),
        other: None,
    });
    s.commit()?;
    let j = db.session().query::<Event>().filter(Event::name.eq("t")).one()?;
    assert_eq!(j.get().at.to_string(), "2024-02-29T10:34:56.500001Z");
    let sh = db.session().query::<Shift>().one()?;
    assert_eq!(sh.get().day, jiff::civil::date(2024, 2, 29));
    assert_eq!(sh.get().starts.to_string(), "07:08:09.00001");
    let back = db.session().query::<TimeShift>().one()?;
    assert_eq!(back.get().planned, datetime!(2024-02-29 23:00:00.000_001));
    let later = s.query::<TimeEvent>().filter(TimeEvent::at.ge(datetime!(2024-02-29 10:34:56.5 UTC))).count()?;
    assert_eq!(later, 1);
    // Another offset: the column would lose it, so it is refused, naming the column.
    let h = s.add(TimeEvent { id: None, name: "paris".into(), at: at.to_offset(offset!(+1)), ends: None });
    let err = s.commit().expect_err("a non-UTC offset");
    assert!(matches!(err, Error::InvalidValue { ref column, .. } if column == "events.at"), "{err}");
    h.edit(|e| e.at = e.at.to_offset(time::UtcOffset::UTC))?;
    s.commit()?;
    assert_eq!(s.query::<Event>().filter(Event::name.eq("paris")).one()?.get().at, j.get().at);
    Ok(())
}

/// A user's own newtype (`Email`, one `DbNewtype` impl): stored as its inner type, compared in
/// filters, usable in `unique` columns and as a parameter; a stored value the newtype refuses is
/// a `TypeMismatch` naming the column when read.
pub fn newtype_fields(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(Contact { id: None, email: Email::parse("ann@x")?, backup: None });
    s.add(Contact { id: None, email: Email::parse("bob@x")?, backup: Some(Email::parse("bob@y")?) });
    s.commit()?;
    let bob = s.query::<Contact>().filter(Contact::email.eq(Email::parse("bob@x")?)).one()?;
    assert_eq!(bob.get().backup, Some(Email::parse("bob@y")?));
    let sorted: Vec<Email> =
        s.query::<Contact>().order_by(Contact::email.desc()).all()?.iter().map(|c| c.get().email.clone()).collect();
    assert_eq!(sorted, [Email::parse("bob@x")?, Email::parse("ann@x")?]);
    assert_eq!(s.query::<Contact>().filter(Contact::backup.is_null()).count()?, 1);
    let dup =
        s.insert::<Contact>().values([Contact { id: None, email: Email::parse("ann@x")?, backup: None }]).execute();
    assert!(matches!(dup, Err(Error::Integrity { .. })), "{dup:?}");
    s.rollback()?;
    s.execute_sql("INSERT INTO contacts (email) VALUES ('not-an-address')", &[])?;
    s.commit()?;
    let bad = db.session().query::<Contact>().filter(Contact::email.ne(Email::parse("ann@x")?)).all();
    match bad {
        Err(Error::TypeMismatch { column, .. }) => assert_eq!(column, "contacts.email"),
        other => panic!("a stored value the newtype refuses: {other:?}"),
    }
    Ok(())
}

/// `#[derive(DbEnum)]` enums as text and as integers: round trip, filters, order by the stored
/// value, and a CHECK constraint that refuses a value the enum does not have on every database.
pub fn db_enums_as_text_and_integers(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    for (stage, level) in [
        (Stage::Open, Some(Level::High)),
        (Stage::Working, None),
        (Stage::Closed, Some(Level::Low)),
        (Stage::Working, Some(Level::Urgent)),
    ] {
        s.add(Task { id: None, stage, level });
    }
    s.commit()?;
    let working = s.query::<Task>().filter(Task::stage.eq(Stage::Working)).count()?;
    assert_eq!(working, 2);
    let by_level: Vec<Option<Level>> =
        s.query::<Task>().order_by(Task::level.asc()).all()?.iter().map(|t| t.get().level).collect();
    assert_eq!(by_level, [None, Some(Level::Low), Some(Level::High), Some(Level::Urgent)], "integers sort numerically");
    let high = s.query::<Task>().filter(Task::level.ge(Level::High)).count()?;
    assert_eq!(high, 2, "compared by the stored integer");
    let raw: Vec<(String, Option<i64>)> = s
        .execute(text("SELECT stage, level FROM tasks ORDER BY id"))?
        .iter()
        .map(|r| Ok((r.get("stage")?, r.get("level")?)))
        .collect::<Result<_>>()?;
    assert_eq!(raw[1], ("in_progress".to_string(), None), "the renamed variant's text is stored");
    assert_eq!(raw[3].1, Some(100));
    s.commit()?;
    // The CHECK constraint refuses another client's value on every database.
    for bad in ["INSERT INTO tasks (stage) VALUES ('Lost')", "INSERT INTO tasks (stage, level) VALUES ('Open', 5)"] {
        let err = s.execute_sql(bad, &[]).expect_err("a value the enum does not have");
        assert!(matches!(err, Error::Integrity { .. } | Error::Database { .. }), "{err}");
        s.rollback()?;
    }
    Ok(())
}

/// `func::now()` is the database's current instant in UTC, in the stored form, so it compares
/// with stored instants and reads back as an instant on every database.
pub fn now_compares_with_stored_instants(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let wall = jiff::Timestamp::now();
    let hour = jiff::SignedDuration::from_hours(1);
    s.add(Event { id: None, name: "past".into(), at: wall.checked_sub(hour).expect("in range"), ends: None });
    s.add(Event { id: None, name: "future".into(), at: wall.checked_add(hour).expect("in range"), ends: None });
    s.commit()?;
    let past: Vec<String> = s
        .query::<Event>()
        .filter(Event::at.lt(athanor::func::now()))
        .all()?
        .iter()
        .map(|e| e.get().name.clone())
        .collect();
    assert_eq!(past, ["past"]);
    let (name, now): (String, jiff::Timestamp) = s
        .select((Event::name, athanor::func::now().of::<Event, jiff::Timestamp>()))
        .filter(Event::name.eq("future"))
        .one()?;
    assert_eq!(name, "future");
    let skew = now.duration_since(wall).abs();
    assert!(skew < jiff::SignedDuration::from_secs(60), "the server's clock, within a minute of ours: {skew:?}");
    let chrono_now: Vec<chrono::DateTime<chrono::Utc>> =
        s.select(athanor::func::now().of::<Event, chrono::DateTime<chrono::Utc>>()).all()?;
    assert_eq!(chrono_now.len(), 2);
    Ok(())
}

fn dec(mantissa: i128, scale: u32) -> athanor::Decimal {
    athanor::Decimal::from_i128_with_scale(mantissa, scale)
}

fn price(label: &str, amount: athanor::Decimal, rate: Option<athanor::Decimal>, serial: u64) -> Price {
    Price { id: None, label: label.into(), amount, rate, serial }
}

/// Every price, ordered by `order`, without keys.
fn prices(db: &TestDb, order: athanor::Ordering<Price>) -> Result<Vec<Price>> {
    let s = db.session();
    let rows = s.query::<Price>().order_by(order).order_by(Price::label.asc()).all()?;
    Ok(rows.iter().map(|h| Price { id: None, ..h.cloned() }).collect())
}

/// A generated price: the amount's mantissa and scale, the rate's.
type PriceRow = ((i64, u32), Option<(i128, u32)>);

/// `rust_decimal::Decimal` round-trips exactly (property test over the whole precision of a
/// `DECIMAL(12,2)` and a `DECIMAL(28,10)`, every scale up to the column's), and comparisons and
/// ORDER BY order decimals as numbers on every database (SQLite's digits-as-text included).
pub fn decimals_roundtrip_and_compare_as_numbers(db: &TestDb) -> Result<()> {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    db.create_all()?;
    let run = |values: Vec<PriceRow>| -> Result<()> {
        let s = db.session();
        s.query::<Price>().delete()?;
        let mut want = Vec::new();
        for (i, ((m, sc), rate)) in values.into_iter().enumerate() {
            let p = price(&format!("p{i:03}"), dec(m.into(), sc), rate.map(|(m, sc)| dec(m, sc)), i as u64);
            s.add(p.clone());
            want.push(p);
        }
        s.commit()?;
        want.sort_by(|a, b| (a.amount, &a.label).cmp(&(b.amount, &b.label)));
        assert_eq!(prices(db, Price::amount.asc())?, want, "equal after the round trip, in numeric order");
        let mut by_rate = want.clone();
        by_rate.sort_by(|a, b| (a.rate, &a.label).cmp(&(b.rate, &b.label)));
        assert_eq!(prices(db, Price::rate.asc())?, by_rate, "NULL first, then numeric order");
        // A bound decimal compares by value, whatever its scale.
        if let Some(pivot) = want.get(want.len() / 2).map(|p| p.amount) {
            let s = db.session();
            let above = want.iter().filter(|p| p.amount >= pivot).count() as u64;
            assert_eq!(s.query::<Price>().filter(Price::amount.ge(pivot)).count()?, above);
            let equal = want.iter().filter(|p| p.amount == pivot).count() as u64;
            let rescaled = pivot.normalize();
            assert_eq!(s.query::<Price>().filter(Price::amount.eq(rescaled)).count()?, equal);
        }
        Ok(())
    };
    let cents = 999_999_999_999i64;
    let widest = 9_999_999_999_999_999_999_999_999_999i128;
    run(vec![
        ((cents, 2), Some((widest, 10))),
        ((-cents, 2), Some((-widest, 10))),
        ((0, 0), None),
        ((5, 1), Some((1, 10))),
        ((-1, 2), Some((-1, 0))),
        ((10, 0), Some((999, 1))),
        ((9, 0), Some((9_999, 3))),
    ])?;
    // At most 10 digits before the point: a long mantissa needs a larger scale.
    let amount = (-cents..=cents).prop_flat_map(|m| {
        let digits = m.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
        (Just(m), digits.saturating_sub(10)..=2u32)
    });
    let rate = (-widest..=widest).prop_flat_map(|m| {
        let digits = m.unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
        (Just(m), digits.saturating_sub(18).min(10)..=10u32)
    });
    let strategy = proptest::collection::vec((amount, proptest::option::of(rate)), 1..8);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |v| run(v).map_err(|e| TestCaseError::fail(e.to_string())))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;

    // Numeric order where text order differs: "10" > "9", "-2" < "-10" is wrong as text.
    let s = db.session();
    s.query::<Price>().delete()?;
    for (label, m, sc) in [("a", 10, 0), ("b", 9, 0), ("c", -2, 0), ("d", -10, 0), ("e", 95, 1), ("f", 1000, 2)] {
        s.add(price(label, dec(m, sc), None, 1));
    }
    s.commit()?;
    let labels: Vec<String> = prices(db, Price::amount.desc())?.into_iter().map(|p| p.label).collect();
    assert_eq!(labels, ["a", "f", "e", "b", "c", "d"], "10 > 10.00 = 10 > 9.5 > 9 > -2 > -10, as numbers");
    assert_eq!(s.query::<Price>().filter(Price::amount.gt(dec(95, 1))).count()?, 2);
    assert_eq!(s.query::<Price>().filter(Price::amount.eq(dec(10, 0))).count()?, 2, "10 = 10.00");
    assert_eq!(s.query::<Price>().filter(Price::amount.between(dec(-5, 0), dec(9, 0))).count()?, 2);
    Ok(())
}

/// A decimal the column cannot hold exactly (more digits after the point than its scale, or
/// before it than its precision leaves) is a typed error naming the column before anything is
/// written; the session stays usable. A decimal written by another client reads back.
pub fn decimal_overflow_is_refused_and_foreign_values_read(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    s.add(price("fine", dec(150, 2), None, 0));
    s.commit()?;
    for (bad, why) in [(dec(1005, 3), "3 digit(s) after the point"), (dec(10_000_000_000, 0), "11 digit(s) before")] {
        s.add(price("bad", bad, None, 0));
        let err = s.commit().expect_err("cannot be stored exactly");
        assert!(
            matches!(err, Error::InvalidValue { ref column, ref reason } if column == "prices.amount" && reason.contains(why)),
            "{err}"
        );
        s.rollback()?;
    }
    // Trailing zeros beyond the scale lose nothing: accepted.
    s.add(price("zeros", dec(25_000, 4), Some(dec(1, 0)), 0));
    s.commit()?;
    assert_eq!(s.query::<Price>().count()?, 2, "nothing of the refused rows was written");
    let zeros = s.query::<Price>().filter(Price::label.eq("zeros")).one()?;
    assert_eq!(zeros.get().amount, dec(25, 1));
    let fine = db.session().query::<Price>().filter(Price::label.eq("fine")).one()?;
    assert_eq!(
        (fine.get().amount.to_string(), zeros.get().amount.to_string()),
        ("1.50".to_string(), "2.50".to_string()),
        "read at the column's scale on every database"
    );

    let insert = match db.engine.dialect().name() {
        // The sqlite3 shell stores what it is given; a number in a TEXT column becomes its text.
        "sqlite" => "INSERT INTO prices (label, amount, rate, serial) VALUES ('foreign', '-1234.5', 1.25e-3, 7)",
        _ => "INSERT INTO prices (label, amount, rate, serial) VALUES ('foreign', -1234.5, 0.00125, 7)",
    };
    s.execute_sql(insert, &[])?;
    s.commit()?;
    let f = db.session().query::<Price>().filter(Price::label.eq("foreign")).one()?;
    assert_eq!((f.get().amount, f.get().rate, f.get().serial), (dec(-12345, 1), Some(dec(125, 5)), 7));
    assert_eq!(f.get().rate.map(|r| r.to_string()).as_deref(), Some("0.0012500000"));
    assert_eq!(
        s.query::<Price>().filter(Price::amount.lt(dec(0, 0))).count()?,
        1,
        "a foreign value compares as a number too"
    );
    Ok(())
}

/// `u64` is stored within `i64` on every database: `0..=i64::MAX` round-trips and sorts as
/// numbers, a larger value is a typed error naming the column before anything is written (and
/// as a filter value, before the query is sent), and a negative stored value is a typed error
/// when read.
pub fn u64_within_i64(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    for (label, serial) in [("max", i64::MAX as u64), ("zero", 0), ("big", 1 << 40)] {
        s.add(price(label, dec(1, 0), None, serial));
    }
    s.commit()?;
    let order: Vec<u64> = prices(db, Price::serial.desc())?.iter().map(|p| p.serial).collect();
    assert_eq!(order, [i64::MAX as u64, 1 << 40, 0]);
    assert_eq!(s.query::<Price>().filter(Price::serial.ge(1u64 << 40)).count()?, 2);

    s.add(price("over", dec(1, 0), None, u64::MAX));
    let err = s.commit().expect_err("beyond i64::MAX");
    assert!(matches!(err, Error::InvalidValue { ref column, .. } if column == "prices.serial"), "{err}");
    s.rollback()?;
    let err = s.query::<Price>().filter(Price::serial.lt(u64::MAX)).count().expect_err("refused before sending");
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err}");
    assert_eq!(s.query::<Price>().count()?, 3, "the session is usable and nothing else was written");

    s.execute_sql("UPDATE prices SET serial = -1 WHERE label = 'zero'", &[])?;
    s.commit()?;
    let read = db.session().query::<Price>().filter(Price::label.eq("zero")).one();
    assert!(matches!(read, Err(Error::TypeMismatch { .. })), "{read:?}");
    Ok(())
}

/// An arbitrary JSON document (no strings holding U+0000).
fn json_strategy() -> impl proptest::strategy::Strategy<Value = athanor::serde_json::Value> {
    use athanor::serde_json::Value as J;
    use proptest::prelude::*;
    let text = "[^\u{0}]{0,12}";
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(J::from),
        text.prop_map(J::String),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            proptest::collection::btree_map(text, inner, 0..4).prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

/// `got` is `want` read back: equal, except that a float of `want` may come back as an integer
/// of the same value. PostgreSQL's `JSONB` keeps numbers as `numeric`, so a float that
/// serde_json writes in exponent form (`-4.5614846489749187e18`) comes back as the integer that
/// text spells (`-4561484648974918700`), which reads back as the same `f64` (docs/types.md).
fn same_document(want: &athanor::serde_json::Value, got: &athanor::serde_json::Value) -> bool {
    use athanor::serde_json::Value as J;
    match (want, got) {
        (J::Number(w), J::Number(g)) if w.is_f64() && !g.is_f64() => w.as_f64() == g.as_f64(),
        (J::Array(w), J::Array(g)) => w.len() == g.len() && w.iter().zip(g).all(|(w, g)| same_document(w, g)),
        (J::Object(w), J::Object(g)) => {
            w.len() == g.len() && w.iter().all(|(k, w)| g.get(k).is_some_and(|g| same_document(w, g)))
        }
        (w, g) => w == g,
    }
}

/// JSON documents round-trip (property test: any document; objects compare without regard to
/// key order, which PostgreSQL's JSONB does not keep), a typed `Json<T>` too; a document another
/// client wrote reads back; a string holding U+0000 (which JSONB cannot store) is a typed error
/// naming the column on every database, before anything is written.
pub fn json_documents_roundtrip(db: &TestDb) -> Result<()> {
    use athanor::serde_json::json;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    db.create_all()?;
    let run = |bodies: Vec<athanor::serde_json::Value>| -> Result<()> {
        let s = db.session();
        s.query::<Doc>().delete()?;
        let mut want = Vec::new();
        for (i, body) in bodies.into_iter().enumerate() {
            let meta = (i % 2 == 0).then(|| athanor::Json(Meta { tags: vec![format!("t{i}")], score: Some(i as i32) }));
            let d = Doc { id: None, name: format!("d{i:03}"), body, meta };
            s.add(d.clone());
            want.push(d);
        }
        s.commit()?;
        let got: Vec<Doc> = db
            .session()
            .query::<Doc>()
            .order_by(Doc::name.asc())
            .all()?
            .iter()
            .map(|h| Doc { id: None, ..h.cloned() })
            .collect();
        let want: Vec<Doc> = want.into_iter().map(|d| Doc { id: None, ..d }).collect();
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(&want)
                .all(|(g, w)| same_document(&w.body, &g.body) && Doc { body: w.body.clone(), ..g.clone() } == *w);
        assert!(same, "equal after the round trip:\n got: {got:?}\nwant: {want:?}");
        Ok(())
    };
    run(vec![
        json!({"b": [1, 2.5, null, "x"], "a": {"c": true, "é": "ü"}, "": []}),
        json!(null),
        json!("just text with \"quotes\" and \\ and \n"),
        json!([u64::MAX, i64::MIN, 1e300, -5e-324, 0.1]),
    ])?;
    let strategy = proptest::collection::vec(json_strategy(), 1..5);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |v| run(v).map_err(|e| TestCaseError::fail(e.to_string())))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;

    // Edited in place: the unit of work sees the change.
    let s = db.session();
    let first = s.query::<Doc>().filter(Doc::name.eq("d000")).one()?;
    first.edit(|d| d.body = json!({"edited": 1}))?;
    s.commit()?;
    let back = db.session().query::<Doc>().filter(Doc::name.eq("d000")).one()?;
    assert_eq!(back.get().body, json!({"edited": 1}));
    assert_eq!(s.query::<Doc>().filter(Doc::meta.is_null()).count()?, s.query::<Doc>().count()? / 2);

    let insert = match db.engine.dialect().name() {
        "postgres" => {
            r#"INSERT INTO docs (name, body, meta) VALUES ('foreign', '{"k": [1, 2]}'::jsonb, '{"tags": ["x"], "score": null}')"#
        }
        _ => {
            r#"INSERT INTO docs (name, body, meta) VALUES ('foreign', '{"k": [1, 2]}', '{"tags": ["x"], "score": null}')"#
        }
    };
    s.execute_sql(insert, &[])?;
    s.commit()?;
    let f = db.session().query::<Doc>().filter(Doc::name.eq("foreign")).one()?;
    assert_eq!(f.get().body, json!({"k": [1, 2]}));
    assert_eq!(f.get().meta, Some(athanor::Json(Meta { tags: vec!["x".into()], score: None })));

    let before = s.query::<Doc>().count()?;
    s.add(Doc { id: None, name: "nul".into(), body: json!({"a": "x\u{0}y"}), meta: None });
    let err = s.commit().expect_err("U+0000 is refused");
    assert!(matches!(err, Error::InvalidValue { ref column, .. } if column == "docs.body"), "{err}");
    s.rollback()?;
    assert_eq!(s.query::<Doc>().count()?, before, "nothing was written and the session is usable");
    Ok(())
}
