//! The generative Query: operators, ordering, limits, and the terminal methods.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;

fn seed(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    for (name, age, addr) in [
        ("brian", 34, Some("1 Main St")),
        ("ann", 41, None),
        ("zed", 12, Some("9 Elm")),
        ("carl", 18, None),
        ("dora", 65, Some("5 Oak")),
    ] {
        let mut c = Customer::new(name, &format!("{name}@example.com"), age);
        c.address = addr.map(Into::into);
        s.add(c);
    }
    s.commit()?;
    Ok(())
}

fn names(hs: &[Handle<Customer>]) -> Vec<String> {
    hs.iter().map(|h| h.get().name.clone()).collect()
}

/// The seed's query: filter(age >= 18).order_by(name).
pub fn filter_and_order_by(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let q = s.query::<Customer>().filter(Customer::age.ge(18)).order_by(Customer::name.asc());
    assert_eq!(names(&q.all()?), ["ann", "brian", "carl", "dora"]);
    let desc = s.query::<Customer>().order_by(Customer::age.desc()).all()?;
    assert_eq!(names(&desc), ["dora", "ann", "brian", "carl", "zed"]);
    Ok(())
}

/// Each method returns a new query; the base query is unchanged and reusable.
pub fn queries_are_generative(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let base = s.query::<Customer>().order_by(Customer::name.asc());
    let adults = base.clone().filter(Customer::age.ge(18));
    let minors = base.clone().filter(Customer::age.lt(18));
    assert_eq!(base.count()?, 5);
    assert_eq!(adults.count()?, 4);
    assert_eq!(names(&minors.all()?), ["zed"]);
    assert_eq!(base.count()?, 5);
    Ok(())
}

/// Every comparison operator, and/or/not, IN, LIKE, NULL tests, BETWEEN.
pub fn operators_compare_match_and_combine_the_same_everywhere(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let run = |c: athanor::Condition<Customer>| -> Result<Vec<String>> {
        Ok(names(&s.query::<Customer>().filter(c).order_by(Customer::name.asc()).all()?))
    };
    assert_eq!(run(Customer::name.eq("ann"))?, ["ann"]);
    assert_eq!(run(Customer::name.ne("ann"))?, ["brian", "carl", "dora", "zed"]);
    assert_eq!(run(Customer::age.lt(18))?, ["zed"]);
    assert_eq!(run(Customer::age.le(18))?, ["carl", "zed"]);
    assert_eq!(run(Customer::age.gt(41))?, ["dora"]);
    assert_eq!(run(Customer::age.ge(41))?, ["ann", "dora"]);
    assert_eq!(run(Customer::name.in_(["ann", "zed", "nobody"]))?, ["ann", "zed"]);
    assert_eq!(run(Customer::name.in_(Vec::<&str>::new()))?, Vec::<String>::new());
    assert_eq!(run(Customer::name.not_in(["ann", "zed"]))?, ["brian", "carl", "dora"]);
    assert_eq!(run(Customer::name.not_in(Vec::<&str>::new()))?.len(), 5);
    assert_eq!(run(Customer::email.like("%an%"))?, ["ann", "brian"]);
    assert_eq!(run(Customer::email.not_like("%an%"))?, ["carl", "dora", "zed"]);
    // LIKE is case-sensitive on every database (SQLite's default would match "ann" here).
    assert_eq!(run(Customer::email.like("%AN%"))?, Vec::<String>::new());
    assert_eq!(run(Customer::name.like("A%"))?, Vec::<String>::new());
    assert_eq!(run(Customer::address.is_null())?, ["ann", "carl"]);
    assert_eq!(run(Customer::address.is_not_null())?, ["brian", "dora", "zed"]);
    assert_eq!(run(Customer::address.eq(None::<String>))?, ["ann", "carl"], "== None is IS NULL");
    assert_eq!(run(Customer::address.eq("9 Elm"))?, ["zed"]);
    assert_eq!(run(Customer::age.between(18, 41))?, ["ann", "brian", "carl"]);
    assert_eq!(run(Customer::age.ge(18) & Customer::address.is_null())?, ["ann", "carl"]);
    assert_eq!(run(Customer::age.lt(18) | Customer::age.gt(60))?, ["dora", "zed"]);
    assert_eq!(run(!Customer::age.ge(18))?, ["zed"]);
    assert_eq!(
        run(and_([Customer::age.ge(18), or_([Customer::name.eq("ann"), Customer::name.eq("dora")])]))?,
        ["ann", "dora"]
    );
    assert_eq!(run(not_(Customer::name.like("%a%")))?, ["zed"]);
    Ok(())
}

/// filter_by with a column name; an unknown name is an error when the query runs.
pub fn filter_by_name(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    assert_eq!(names(&s.query::<Customer>().filter_by("name", "carl").all()?), ["carl"]);
    let err = s.query::<Customer>().filter_by("nope", 1).all().expect_err("unknown column");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(s.is_active(), "a client-side error does not poison the session");
    Ok(())
}

/// limit, offset (also without limit), distinct.
pub fn limit_offset_distinct(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let q = s.query::<Customer>().order_by(Customer::name.asc());
    assert_eq!(names(&q.clone().limit(2).all()?), ["ann", "brian"]);
    assert_eq!(names(&q.clone().limit(2).offset(2).all()?), ["carl", "dora"]);
    assert_eq!(names(&q.clone().offset(3).all()?), ["dora", "zed"], "OFFSET without LIMIT");
    assert_eq!(q.clone().limit(2).count()?, 2);
    assert_eq!(s.query::<Customer>().distinct().count()?, 5);
    Ok(())
}

/// first, one, one_or_none, count, exists.
pub fn first_one_and_count_report_no_or_several_rows(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let q = s.query::<Customer>().order_by(Customer::name.asc());
    assert_eq!(q.first()?.map(|h| h.get().name.clone()).as_deref(), Some("ann"));
    assert!(q.clone().filter(Customer::age.gt(100)).first()?.is_none());
    assert_eq!(q.clone().filter(Customer::name.eq("zed")).one()?.get().age, 12);
    assert!(matches!(q.clone().filter(Customer::age.gt(100)).one(), Err(Error::NotFound { .. })));
    assert!(matches!(q.one(), Err(Error::MultipleResults { .. })));
    assert!(matches!(q.one_or_none(), Err(Error::MultipleResults { .. })));
    assert!(q.clone().filter(Customer::age.gt(100)).one_or_none()?.is_none());
    assert_eq!(q.count()?, 5);
    assert!(q.exists()?);
    assert!(!q.clone().filter(Customer::age.gt(100)).exists()?);
    Ok(())
}

/// The SQL a query will run can be seen, and values are bound, never inlined.
pub fn query_sql_is_visible_and_bound(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let q =
        s.query::<Customer>().filter(Customer::name.eq("x'; DROP TABLE customers; --")).order_by(Customer::age.desc());
    let st = q.statement()?;
    assert_eq!(
        crate::harness::normalize(&st.sql),
        "SELECT customers.id, customers.name, customers.address, customers.email, customers.age FROM customers \
         WHERE customers.name = ? ORDER BY customers.age DESC"
    );
    // The same statement, built without a session, renders the same text.
    let free = athanor::select::<Customer>()
        .filter(Customer::name.eq("x'; DROP TABLE customers; --"))
        .order_by(Customer::age.desc())
        .to_sql(db.engine.dialect())?;
    assert_eq!(free, st);
    assert_eq!(st.params, vec![Value::Text("x'; DROP TABLE customers; --".into())]);
    assert!(q.all()?.is_empty());
    assert_eq!(s.query::<Customer>().count()?, 0, "the table is still there");
    Ok(())
}

/// A query against a table that does not exist is a typed database error, and rollback()
/// makes the session usable again.
pub fn missing_table_is_a_database_error(db: &TestDb) -> Result<()> {
    let s = db.session();
    let err = s.query::<Customer>().all().expect_err("no table");
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    // The driver's own error stays reachable for whoever needs more than Athanor's reading of it.
    let source = std::error::Error::source(&err).expect("the driver's error as source()");
    assert!(!source.to_string().is_empty());
    s.rollback()?;
    db.create_all()?;
    assert_eq!(s.query::<Customer>().count()?, 0);
    Ok(())
}

/// SELECT … FOR UPDATE where the database has row locks; on SQLite, which locks the whole
/// database, inside a transaction begun with write_intent (no clause sent) and a typed error
/// outside one.
pub fn for_update_follows_capability(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let q = s.query::<Customer>().filter(Customer::name.eq("ann")).with_for_update();
    if db.caps().select_for_update {
        assert_eq!(q.one()?.get().age, 41);
    } else if db.caps().for_update_under_write_intent {
        // SQLite: refused outside a write_intent transaction, saying so, nothing sent ...
        match q.all() {
            Err(Error::Unsupported { feature, .. }) => assert!(feature.contains("write_intent"), "{feature}"),
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert!(!s.in_transaction());
        // ... and run without the clause inside one: the transaction holds the write lock.
        for by_maker in [true, false] {
            db.clear_sql();
            let w = if by_maker {
                athanor::sessionmaker(&db.engine).write_intent(true).session()
            } else {
                let w = db.session();
                w.begin_with(athanor::TxOptions { write_intent: true, ..Default::default() })?;
                w
            };
            let ann = w.query::<Customer>().filter(Customer::name.eq("ann")).with_for_update().one()?;
            assert_eq!(ann.get().age, 41);
            let sql = db.take_sql();
            assert!(sql.iter().any(|q| q.starts_with("BEGIN IMMEDIATE")), "{sql:?}");
            let select = sql.iter().find(|q| q.starts_with("SELECT")).expect("the SELECT");
            assert!(select.starts_with("SELECT customers.id") && !select.contains("FOR UPDATE"), "{select}");
            let nowait = w.query::<Customer>().with_for_update_nowait().all();
            assert!(matches!(nowait, Err(Error::Unsupported { .. })), "{nowait:?}");
            w.rollback()?;
        }
    } else {
        assert!(matches!(q.all(), Err(Error::Unsupported { .. })));
    }
    Ok(())
}

/// NULLs sort as the smallest value on every database (first ascending, last descending), and
/// `nulls_first()` / `nulls_last()` put them where asked, the same everywhere.
pub fn null_order_is_the_same_everywhere(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let run = |o: athanor::Ordering<Customer>| -> Result<Vec<String>> {
        Ok(names(&s.query::<Customer>().order_by(o).order_by(Customer::name.asc()).all()?))
    };
    // Addresses: ann, carl NULL; "1 Main St" brian, "5 Oak" dora, "9 Elm" zed.
    assert_eq!(run(Customer::address.asc())?, ["ann", "carl", "brian", "dora", "zed"]);
    assert_eq!(run(Customer::address.desc())?, ["zed", "dora", "brian", "ann", "carl"]);
    assert_eq!(run(Customer::address.asc().nulls_last())?, ["brian", "dora", "zed", "ann", "carl"]);
    assert_eq!(run(Customer::address.desc().nulls_first())?, ["ann", "carl", "zed", "dora", "brian"]);
    assert_eq!(run(Customer::address.asc().nulls_first())?, ["ann", "carl", "brian", "dora", "zed"]);
    assert_eq!(run(Customer::address.desc().nulls_last())?, ["zed", "dora", "brian", "ann", "carl"]);
    Ok(())
}

/// LIKE means the same everywhere: backslash escapes `%` and `_`, `escape()` picks another
/// character, `contains` / `startswith` / `endswith` match their argument literally, `ilike`
/// ignores (ASCII) case.
pub fn like_escapes_and_matchers(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    for (i, name) in ["a%b", "a_b", "axb", "a\\b", "Ab"].iter().enumerate() {
        s.add(Customer::new(name, &format!("c{i}@x"), 1));
    }
    s.commit()?;
    let run = |c: athanor::Condition<Customer>| -> Result<Vec<String>> {
        Ok(names(&s.query::<Customer>().filter(c).order_by(Customer::id.asc()).all()?))
    };
    assert_eq!(run(Customer::name.like("a\\%b"))?, ["a%b"], "a literal % through the backslash");
    assert_eq!(run(Customer::name.like("a_b"))?, ["a%b", "a_b", "axb", "a\\b"], "_ is a wildcard");
    assert_eq!(run(Customer::name.like("a!_b").escape('!'))?, ["a_b"]);
    assert_eq!(run(Customer::name.contains("%"))?, ["a%b"]);
    assert_eq!(run(Customer::name.contains("\\"))?, ["a\\b"]);
    assert_eq!(run(Customer::name.startswith("a_"))?, ["a_b"]);
    assert_eq!(run(Customer::name.endswith("_b"))?, ["a_b"]);
    assert_eq!(run(Customer::name.like("ab"))?, Vec::<String>::new(), "case-sensitive");
    assert_eq!(run(Customer::name.ilike("ab"))?, ["Ab"]);
    assert_eq!(run(Customer::name.ilike("A_B"))?, ["a%b", "a_b", "axb", "a\\b"]);
    assert_eq!(run(!Customer::name.contains("_"))?, ["a%b", "axb", "a\\b", "Ab"]);
    Ok(())
}

/// Bulk UPDATE and DELETE of the rows a query matches, with the session's loaded objects kept
/// in step (`Synchronize::Fetch`: the matching keys are read first), or not (`None`).
pub fn bulk_update_and_delete(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let all = s.query::<Customer>().order_by(Customer::name.asc()).all()?;
    let by = |n: &str| all.iter().find(|h| h.get().name == n).cloned().expect("seeded");
    let (zed, carl, ann) = (by("zed"), by("carl"), by("ann"));
    db.clear_sql();
    let n = s.query::<Customer>().filter(Customer::age.lt(20)).update(|set| set.value(Customer::age, 20))?;
    assert_eq!(n, 2);
    let sql: Vec<String> = db.take_sql().into_iter().filter(|q| !q.starts_with("BEGIN")).collect();
    assert_eq!(
        sql,
        [
            "SELECT customers.id FROM customers WHERE customers.age < ?",
            "UPDATE customers SET age = ? WHERE customers.age < ?",
        ]
    );
    assert_eq!((zed.get().age, carl.get().age, ann.get().age), (20, 20, 41), "loaded objects follow");

    // Without synchronization: one statement, loaded objects unchanged.
    let n = s
        .query::<Customer>()
        .filter(Customer::name.eq("ann"))
        .synchronize_session(athanor::Synchronize::None)
        .update(|set| set.value(Customer::address, "2 Pine"))?;
    assert_eq!(n, 1);
    assert_eq!(db.take_sql().len(), 1);
    assert_eq!(ann.get().address, None, "not synchronized");
    s.refresh(&ann)?;
    assert_eq!(ann.get().address.as_deref(), Some("2 Pine"));

    let n = s.query::<Customer>().filter(Customer::name.eq("zed")).delete()?;
    assert_eq!(n, 1);
    assert_eq!(zed.state(), athanor::ObjectState::Deleted);
    assert!(s.get::<Customer>(zed.get().id.expect("id"))?.is_none());

    // Refused before anything is sent; the session goes on.
    db.clear_sql();
    assert!(matches!(s.query::<Customer>().limit(1).delete(), Err(Error::InvalidRequest { .. })));
    assert!(matches!(s.query::<Customer>().update(|set| set), Err(Error::InvalidRequest { .. })));
    assert!(matches!(
        s.query::<Customer>().update(|set| set.value(Customer::id, 9)),
        Err(Error::InvalidRequest { .. })
    ));
    assert!(db.take_sql().iter().all(|q| q.starts_with("SELECT")), "no write was sent");
    s.commit()?;
    assert_eq!(zed.state(), athanor::ObjectState::Detached);
    let s = db.session();
    assert_eq!(s.query::<Customer>().count()?, 4);
    assert_eq!(s.query::<Customer>().filter(Customer::age.eq(20)).count()?, 1, "carl");

    // A rollback brings a bulk-deleted object back.
    let s = db.session();
    let carl = s.query::<Customer>().filter(Customer::name.eq("carl")).one()?;
    s.query::<Customer>().filter(Customer::name.eq("carl")).delete()?;
    s.rollback()?;
    assert_eq!(carl.state(), athanor::ObjectState::Persistent);
    assert_eq!(s.query::<Customer>().count()?, 4);
    Ok(())
}

/// Multi-row INSERT outside the unit of work, and upserts on a unique column: the same rows on
/// every database (`ON CONFLICT … DO UPDATE / DO NOTHING`, `ON DUPLICATE KEY UPDATE`).
pub fn insert_and_upsert(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let ann = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    let n = s
        .insert::<Customer>()
        .values([Customer::new("eve", "eve@x", 30), Customer::new("fay", "fay@x", 31)])
        .execute()?;
    assert_eq!(n, 2);
    let mut ann2 = Customer::new("ann", "ann@example.com", 99);
    ann2.address = Some("upserted".into());
    s.insert::<Customer>()
        .values([ann2, Customer::new("gus", "gus@x", 7)])
        .on_conflict(Customer::email)
        .do_update(&[Customer::age])?;
    assert!(ann.is_expired(), "loaded objects of the model are expired");
    let fresh = s.query::<Customer>().filter(Customer::name.eq("ann")).one()?;
    assert!(Handle::ptr_eq(&fresh, &ann));
    assert_eq!((ann.get().age, ann.get().address.clone()), (99, None), "only the named column was updated");
    s.insert::<Customer>()
        .values([Customer::new("ann", "ann@example.com", 1), Customer::new("hal", "hal@x", 8)])
        .on_conflict(Customer::email)
        .do_nothing()?;
    let ages: Vec<(String, i32)> = s
        .query::<Customer>()
        .order_by(Customer::name.asc())
        .all()?
        .iter()
        .map(|h| (h.get().name.clone(), h.get().age))
        .collect();
    let want: Vec<(String, i32)> = [
        ("ann", 99),
        ("brian", 34),
        ("carl", 18),
        ("dora", 65),
        ("eve", 30),
        ("fay", 31),
        ("gus", 7),
        ("hal", 8),
        ("zed", 12),
    ]
    .iter()
    .map(|(n, a)| (n.to_string(), *a))
    .collect();
    assert_eq!(ages, want);
    // INSERT … RETURNING where the database has it (not MySQL; MariaDB from 10.5).
    let back = s
        .insert::<Customer>()
        .values([Customer::new("ivy", "ivy@x", 40), Customer::new("jon", "jon@x", 41)])
        .returning((Customer::id, Customer::name));
    if db.engine.capabilities().insert_returning {
        let back = back?;
        let names: Vec<&str> = back.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["ivy", "jon"]);
        for (id, n) in &back {
            let row = s.get::<Customer>(id.expect("a generated key"))?.expect("inserted");
            assert_eq!(&row.get().name, n);
        }
        s.query::<Customer>().filter(Customer::name.in_(["ivy", "jon"])).delete()?;
    } else {
        assert!(matches!(back, Err(Error::Unsupported { .. })), "{back:?}");
    }
    // An upsert with RETURNING gives the rows written, inserted or updated, with their new values.
    db.clear_sql();
    let written = s
        .insert::<Customer>()
        .values([Customer::new("ann", "ann@example.com", 77), Customer::new("kim", "kim@x", 5)])
        .on_conflict(Customer::email)
        .do_update_returning(&[Customer::age], (Customer::name, Customer::age));
    if db.engine.capabilities().insert_returning {
        let mut written = written?;
        let sql = db.take_sql().into_iter().map(|q| crate::harness::normalize(&q)).find(|q| q.starts_with("INSERT"));
        assert!(sql.as_deref().is_some_and(|q| q.ends_with(" RETURNING customers.name, customers.age")), "{sql:?}");
        written.sort();
        assert_eq!(written, [("ann".to_string(), 77), ("kim".to_string(), 5)]);
        s.query::<Customer>().filter(Customer::name.eq("kim")).delete()?;
        s.query::<Customer>().filter(Customer::name.eq("ann")).update(|set| set.value(Customer::age, 99))?;
    } else {
        assert!(matches!(written, Err(Error::Unsupported { .. })), "{written:?}");
    }
    // A target that is not unique is refused before anything is sent.
    let err = s.insert::<Customer>().values([Customer::new("x", "x@x", 1)]).on_conflict(Customer::name).do_nothing();
    assert!(matches!(err, Err(Error::InvalidRequest { .. })), "{err:?}");
    s.commit()?;
    // Without a conflict clause a duplicate is an integrity error; rollback recovers.
    let err = s.insert::<Customer>().values([Customer::new("dup", "ann@example.com", 1)]).execute();
    assert!(matches!(err, Err(Error::Integrity { .. })), "{err:?}");
    s.rollback()?;
    assert_eq!(s.query::<Customer>().count()?, 9);
    Ok(())
}

/// Portable raw SQL: `:name` binds become each database's placeholders, rows read by name, a
/// DML statement reports its affected rows, and a missing bind is a typed error.
pub fn portable_raw_sql(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let rows = s.execute(
        text("SELECT id, name, age FROM customers WHERE age >= :min AND name <> ':min' ORDER BY age").bind("min", 35),
    )?;
    let got: Vec<(String, i32)> = rows.iter().map(|r| Ok((r.get("name")?, r.get("age")?))).collect::<Result<_>>()?;
    assert_eq!(got, [("ann".to_string(), 41), ("dora".to_string(), 65)]);
    let updated =
        s.execute(text("UPDATE customers SET age = age + :d WHERE age < :lim").bind("d", 1).bind("lim", 20))?;
    assert_eq!(updated.affected, 2);
    assert!(updated.is_empty());
    let err = s.execute(text("SELECT * FROM customers WHERE name = :n")).expect_err("no value for :n");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
    let zed: i32 = s.execute(text("SELECT age FROM customers WHERE name = :n").bind("n", "zed"))?[0].get("age")?;
    assert_eq!(zed, 13, "the session's transaction saw its own update");
    // Raw SQL inside typed queries: a condition and a value, binds numbered with the statement's.
    let adults = s
        .query::<Customer>()
        .filter(Customer::name.ne("brian"))
        .filter(
            text("age >= :min AND email LIKE '%:x%' ESCAPE '!' OR age = :min").bind("min", 41).condition::<Customer>(),
        )
        .order_by(Customer::name.asc())
        .all()?;
    assert_eq!(names(&adults), ["ann"]);
    let rows: Vec<(String, i64)> = s
        .select((Customer::name, text("age * :k").bind("k", 2).scalar::<Customer, i64>()))
        .filter(Customer::age.lt(20))
        .order_by(Customer::name.asc())
        .all()?;
    assert_eq!(rows, [("carl".to_string(), 38), ("zed".to_string(), 26)]);
    s.commit()?;
    Ok(())
}

/// Columns compared with columns and arithmetic over them, the same on every database
/// (integer division truncates toward zero; `%` takes the dividend's sign).
pub fn column_comparisons_and_arithmetic(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let c = s.add(Customer::new("c", "c@x", 1));
    s.flush()?;
    let cid = c.get().id.expect("id");
    for (total, id) in [(700, 1), (-700, 2), (150, 3), (99, 4)] {
        s.add(Order { id: Some(id), customer_id: cid, total_cents: total });
    }
    s.commit()?;
    let ids = |cond: athanor::Condition<Order>| -> Result<Vec<i64>> {
        Ok(s.query::<Order>().filter(cond).order_by(Order::id.asc()).all()?.iter().filter_map(|o| o.get().id).collect())
    };
    // Column against column, and against arithmetic of columns and values.
    assert_eq!(ids(Order::total_cents.gt(Order::customer_id))?, [1, 3, 4]);
    assert_eq!(ids(Order::total_cents.div(200).eq(3))?, [1], "700 / 200 truncates to 3");
    assert_eq!(ids(Order::total_cents.div(200).eq(-3))?, [2], "-700 / 200 truncates toward zero");
    assert_eq!(ids(Order::total_cents.rem(200).eq(-100))?, [2], "the remainder takes the dividend's sign");
    assert_eq!(ids(Order::total_cents.add(Order::id).mul(2).ge(300))?, [1, 3]);
    assert_eq!(ids(Order::total_cents.neg().gt(0))?, [2]);
    assert_eq!(ids(Order::id.mul(50).le(Order::total_cents))?, [1, 3]);
    Ok(())
}

/// String functions and COALESCE with one meaning everywhere: concatenation (`||` or
/// `CONCAT`), `lower`/`upper` on ASCII, the length in characters (not bytes), `coalesce`.
pub fn string_functions_and_coalesce(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    s.add(Customer::new("zoë", "zoe@example.com", 7));
    s.commit()?;
    let run = |c: athanor::Condition<Customer>| -> Result<Vec<String>> {
        Ok(names(&s.query::<Customer>().filter(c).order_by(Customer::name.asc()).all()?))
    };
    assert_eq!(run(Customer::name.concat("!").eq("ann!"))?, ["ann"]);
    assert_eq!(run(Customer::name.concat(Customer::name).eq("zedzed"))?, ["zed"]);
    assert_eq!(run(Customer::name.upper().eq("DORA"))?, ["dora"]);
    assert_eq!(run(Customer::name.upper().lower().eq("carl"))?, ["carl"]);
    assert_eq!(run(Customer::name.length().eq(3))?, ["ann", "zed", "zoë"], "characters, not bytes");
    assert_eq!(run(Customer::address.coalesce("-").eq("-"))?, ["ann", "carl", "zoë"]);
    assert_eq!(run(Customer::address.concat("!").eq("9 Elm!"))?, ["zed"], "NULL || x is NULL everywhere");
    assert_eq!(run(Customer::name.length().mul(10).gt(40))?, ["brian"], "a length is an integer expression");
    Ok(())
}

/// `FOR UPDATE NOWAIT` fails at once on a row another transaction holds, `SKIP LOCKED` leaves it
/// out; where the database has no such lock (SQLite) both are `Error::Unsupported`, nothing sent.
pub fn for_update_nowait_and_skip_locked(db: &TestDb) -> Result<()> {
    seed(db)?;
    let caps = db.engine.capabilities();
    let holder = db.session();
    let other_engine = db.another_engine();
    let other = athanor::sessionmaker(&other_engine).session();
    let nowait = |id: i64| other.query::<Customer>().filter(Customer::id.eq(id)).with_for_update_nowait().all();
    let skip = || other.query::<Customer>().order_by(Customer::name.asc()).with_for_update_skip_locked().all();
    if !caps.select_for_update {
        assert!(matches!(nowait(1), Err(Error::Unsupported { .. })));
        assert!(matches!(skip(), Err(Error::Unsupported { .. })));
        return Ok(());
    }
    // By primary key: InnoDB locks every row a locking read scans, and `name` has no index.
    let ann_id = holder.query::<Customer>().filter(Customer::name.eq("ann")).one()?.get().id.expect("id");
    holder.query::<Customer>().filter(Customer::id.eq(ann_id)).with_for_update().one()?;
    if caps.lock_skip_locked {
        let got = names(&skip()?);
        assert_eq!(got, ["brian", "carl", "dora", "zed"], "ann is locked by the other session");
        other.rollback()?;
    }
    if caps.lock_nowait {
        let err = nowait(ann_id).expect_err("ann is locked");
        assert!(!matches!(err, Error::Unsupported { .. }), "{err}");
        other.rollback()?;
    }
    holder.rollback()?;
    // Once released, NOWAIT finds it.
    if caps.lock_nowait {
        assert_eq!(names(&nowait(ann_id)?), ["ann"]);
    }
    Ok(())
}

/// `DISTINCT ON` where the database has it (PostgreSQL), `Error::Unsupported` elsewhere.
pub fn distinct_on_follows_capability(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    // The oldest customer per "has an address" (address NULL or not): DISTINCT ON a nullable key.
    let q = s
        .query::<Customer>()
        .distinct_on(Customer::address)
        .order_by(Customer::address.asc())
        .order_by(Customer::age.desc());
    if db.caps().distinct_on {
        let got = names(&q.all()?);
        assert_eq!(got, ["ann", "brian", "dora", "zed"], "one row per address, NULL first");
    } else {
        assert!(matches!(q.all(), Err(Error::Unsupported { .. })));
    }
    Ok(())
}

/// `yield_per(n).iter()` walks a result in batches: the same objects in the same order as
/// `all()`, through the identity map (an object already loaded is the same instance), objects
/// nobody holds leave the session as the stream moves on, objects kept or changed stay, and the
/// session's connection is busy (a typed error) until the iterator ends or is dropped.
pub fn yield_per_streams_in_batches(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let rows: Vec<Customer> = (0..1250)
        .map(|i| {
            let mut c = Customer::new(&format!("c{i:04}"), &format!("c{i}@x"), i % 90);
            c.address = (i % 3 == 0).then(|| format!("{i} Main St"));
            c
        })
        .collect();
    s.insert::<Customer>().values(rows).execute()?;
    s.commit()?;

    let held = s.query::<Customer>().filter(Customer::name.eq("c0500")).one()?;
    db.clear_sql();
    let mut seen = Vec::new();
    let mut kept = Vec::new();
    let mut most_in_session = 0;
    for (i, c) in s.query::<Customer>().order_by(Customer::id.asc()).yield_per(100).iter()?.enumerate() {
        let c = c?;
        seen.push(c.get().name.clone());
        if c.get().name == "c0500" {
            assert!(Handle::ptr_eq(&c, &held), "the object loaded before the stream is the same instance");
        }
        if i % 250 == 0 {
            kept.push(c.clone());
        }
        if i == 10 {
            c.edit(|c| c.age = 999)?;
            let busy = s.query::<Customer>().count().expect_err("the connection is streaming");
            assert!(matches!(busy, Error::InvalidRequest { .. }), "{busy}");
            assert!(matches!(s.commit(), Err(Error::InvalidRequest { .. })), "no commit in the middle of a stream");
        }
        most_in_session = most_in_session.max(s.identity_count());
    }
    let expected: Vec<String> = (0..1250).map(|i| format!("c{i:04}")).collect();
    assert_eq!(seen, expected);
    assert!(
        most_in_session <= 2 * 100 + kept.len() + 2,
        "the session held {most_in_session} objects at most while streaming batches of 100"
    );
    assert_eq!(db.take_sql().iter().filter(|q| q.contains("customers")).count(), 1, "one SELECT");
    // Kept objects keep their identity; the edited one was kept for the flush.
    let again = s.query::<Customer>().filter(Customer::name.eq("c0250")).one()?;
    assert!(kept.iter().any(|k| Handle::ptr_eq(k, &again)));
    s.commit()?;
    let edited = db.session().query::<Customer>().filter(Customer::name.eq("c0010")).one()?;
    assert_eq!(edited.get().age, 999, "the change made while streaming was flushed at commit");

    // Dropping the iterator early gives the connection back.
    let first: Vec<String> = s
        .query::<Customer>()
        .filter(Customer::address.is_not_null())
        .order_by(Customer::name.desc())
        .yield_per(7)
        .iter()?
        .take(3)
        .map(|c| c.map(|c| c.get().name.clone()))
        .collect::<Result<_>>()?;
    assert_eq!(first, ["c1248", "c1245", "c1242"]);
    assert_eq!(s.query::<Customer>().count()?, 1250, "the session works after an early drop");

    // Column rows stream the same way and agree with all().
    let q = s.select((Customer::name, Customer::address)).filter(Customer::age.lt(3)).order_by(Customer::name.asc());
    let all = q.all()?;
    let streamed = s
        .select((Customer::name, Customer::address))
        .filter(Customer::age.lt(3))
        .order_by(Customer::name.asc())
        .yield_per(4)
        .iter()?
        .collect::<Result<Vec<_>>>()?;
    assert_eq!(streamed, all);
    assert_eq!(streamed.len(), 42);
    let empty = s.query::<Customer>().filter(Customer::age.gt(5000)).iter()?.count();
    assert_eq!(empty, 0);
    let zero = s.query::<Customer>().yield_per(0).iter().expect_err("yield_per(0)");
    assert!(matches!(zero, Error::InvalidRequest { .. }), "{zero}");
    s.commit()?;
    Ok(())
}

/// `CASE` and `CAST` with the same results everywhere: the first matching WHEN wins, a missing
/// ELSE is NULL, bound numbers in results keep their type, integers cast to text, i64 and f64.
pub fn case_and_cast_give_the_same_results_everywhere(db: &TestDb) -> Result<()> {
    seed(db)?;
    let s = db.session();
    let band = || {
        athanor::case::<String>()
            .when(Customer::age.ge(60), "senior")
            .when(Customer::age.ge(18), "adult")
            .else_("minor")
    };
    let rows = s.select((Customer::name, band())).order_by(Customer::name.asc()).all()?;
    let want = [("ann", "adult"), ("brian", "adult"), ("carl", "adult"), ("dora", "senior"), ("zed", "minor")];
    assert_eq!(rows, want.map(|(a, b)| (a.to_string(), b.to_string())));
    // A CASE in a filter and as a sort key; numbers as results (bound, cast to their type).
    let weight = athanor::case::<i64>().when(Customer::address.is_null(), 10i64).when(Customer::age.lt(18), 5i64).end();
    let rows: Vec<(String, Option<i64>)> = s
        .select((Customer::name, weight.clone()))
        .filter(band().ne("minor"))
        .order_by(weight.desc())
        .order_by(Customer::name.asc())
        .all()?;
    let want = [("ann", Some(10)), ("carl", Some(10)), ("brian", None), ("dora", None)];
    assert_eq!(rows, want.map(|(a, b)| (a.to_string(), b)), "NULL sorts smallest: last when descending");
    let halves: Vec<(String, f64, i64)> = s
        .select((Customer::age.cast::<String>(), Customer::age.cast::<f64>().div(8.0), Customer::age.cast::<i64>()))
        .filter(Customer::name.eq("brian").or(Customer::name.eq("zed")))
        .order_by(Customer::age.asc())
        .all()?;
    assert_eq!(halves, [("12".to_string(), 1.5, 12), ("34".to_string(), 4.25, 34)]);
    let by_text =
        s.query::<Customer>().filter(Customer::age.cast::<String>().concat("!").eq("41!")).one()?.get().name.clone();
    assert_eq!(by_text, "ann");
    let floats: Vec<f64> = s
        .select(athanor::case::<f64>().when(Customer::age.gt(40), 0.5).else_(Customer::age.cast::<f64>()))
        .order_by(Customer::age.asc())
        .all()?;
    assert_eq!(floats, [12.0, 18.0, 34.0, 0.5, 0.5]);
    Ok(())
}
