//! Read-modify-write that is correct on every database (`docs/guarantees.md`, "Read-modify-write"):
//! columns set to SQL expressions (bulk `UPDATE … SET stock = stock - ?` with a guard, and
//! `Handle::set_expr` flushed as such and read back), optimistic locking with a version column
//! (two sessions; `Error::StaleData`), an UPDATE that writes the values a row already holds
//! (not stale: MySQL reports found rows), and the oversell test: 30 concurrent orders against a
//! stock of 10, once per documented pattern, ending with stock 0 and exactly 10 accepted orders
//! on every database.
//!
//! The orders run on threads, each with its own sessions from the test's one engine (its pool
//! holds 10 connections, so the 30 orders also wait for connections: the pool bounds them).
//! Nothing is timed: an order is accepted, refused (out of stock) or fails the test.

use crate::harness::TestDb;
use athanor::backend::BatchUpdate;
use athanor::prelude::*;
use athanor::{Base, Error, ObjectState, RetryError, SessionMaker, Synchronize};

/// A book without a version column.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "rmw_books")]
pub struct Book {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Title.
    pub title: String,
    /// Copies in stock.
    pub stock: i32,
}

/// A book with a version column (optimistic locking).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "rmw_editions")]
pub struct Edition {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Title.
    pub title: String,
    /// Copies in stock.
    pub stock: i32,
    /// Checked and bumped by every UPDATE and DELETE of the object.
    #[column(version)]
    pub version: i64,
}

/// An accepted order: one row per copy sold, written in the transaction that took the copy.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "rmw_orders")]
pub struct BookOrder {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The book (or edition) ordered.
    pub book_id: i64,
}

fn create(db: &TestDb) -> Result<()> {
    Base::new().register::<Book>().register::<Edition>().register::<BookOrder>().metadata().create_all(&db.engine)
}

/// The SELECT, INSERT, UPDATE and DELETE statements sent since the last call (transaction
/// control left out: it differs per database).
fn sent(db: &TestDb) -> Vec<String> {
    db.take_sql()
        .into_iter()
        .filter(|q| ["SELECT", "INSERT", "UPDATE", "DELETE"].iter().any(|k| q.starts_with(k)))
        .collect()
}

fn add_book(db: &TestDb, stock: i32) -> Result<i64> {
    let s = db.session();
    let b = s.add(Book { id: None, title: "Emma".into(), stock });
    s.commit()?;
    let id = b.get().id.expect("generated key");
    Ok(id)
}

fn add_edition(db: &TestDb, stock: i32) -> Result<i64> {
    let s = db.session();
    let e = s.add(Edition { id: None, title: "Dune".into(), stock, version: 0 });
    s.commit()?;
    let id = e.get().id.expect("generated key");
    Ok(id)
}

/// A bulk UPDATE sets a column from an expression evaluated by the database row by row, guarded
/// by a condition (`SET stock = stock - ? WHERE … AND stock >= ?`); a versioned model's rows get
/// `version = version + 1`; the loaded objects of the matched rows read the computed columns
/// back (`Synchronize::Fetch`), or keep their values (`Synchronize::None`). A plain value still
/// works.
pub fn bulk_update_sets_columns_from_expressions(db: &TestDb) -> Result<()> {
    create(db)?;
    let edition = add_edition(db, 10)?;
    let id = edition;
    let s = db.session();
    let e = s.get::<Edition>(id)?.expect("row");
    db.clear_sql();
    let sell = |n: i32| {
        s.query::<Edition>()
            .filter(Edition::id.eq(id))
            .filter(Edition::stock.ge(n))
            .update(|set| set.value(Edition::stock, Edition::stock.sub(n)))
    };
    assert_eq!(sell(3)?, 1);
    assert_eq!(
        sent(db),
        [
            "SELECT rmw_editions.id FROM rmw_editions WHERE rmw_editions.id = ? AND rmw_editions.stock >= ?",
            "UPDATE rmw_editions SET stock = (rmw_editions.stock - ?), version = (rmw_editions.version + ?) \
             WHERE rmw_editions.id = ? AND rmw_editions.stock >= ?",
            "SELECT rmw_editions.id, rmw_editions.stock, rmw_editions.version FROM rmw_editions WHERE rmw_editions.id IN (?)",
        ]
    );
    assert_eq!((e.get().stock, e.get().version), (7, 1), "the loaded object reads the computed columns back");
    // The guard refuses what the stock cannot give: no row matches, nothing changes.
    assert_eq!(sell(8)?, 0);
    assert_eq!((e.get().stock, e.get().version), (7, 1));
    // Without synchronization: one statement; the loaded object keeps its values until refreshed.
    db.clear_sql();
    let n = s
        .query::<Edition>()
        .filter(Edition::id.eq(id))
        .synchronize_session(Synchronize::None)
        .update(|set| set.value(Edition::stock, Edition::stock.add(Edition::stock)))?;
    assert_eq!(n, 1);
    assert_eq!(sent(db).len(), 1);
    assert_eq!(e.get().stock, 7, "not synchronized");
    s.refresh(&e)?;
    assert_eq!((e.get().stock, e.get().version), (14, 2));
    s.commit()?;

    // A model without a version column: only the named columns; a value is a value.
    let id = add_book(db, 4)?;
    let s = db.session();
    let b = s.get::<Book>(id)?.expect("row");
    db.clear_sql();
    assert_eq!(s.query::<Book>().filter(Book::id.eq(id)).update(|set| set.value(Book::stock, 5))?, 1);
    assert_eq!(
        sent(db),
        [
            "SELECT rmw_books.id FROM rmw_books WHERE rmw_books.id = ?",
            "UPDATE rmw_books SET stock = ? WHERE rmw_books.id = ?",
        ],
        "values are set on the loaded objects as they are: nothing to read back"
    );
    assert_eq!(b.get().stock, 5);
    s.commit()?;
    let check = db.session();
    assert_eq!(check.get::<Edition>(edition)?.map(|e| (e.get().stock, e.get().version)), Some((14, 2)));
    Ok(())
}

/// `Handle::set_expr` records an SQL expression for a column of a loaded object; the next flush
/// writes it as such, so the database computes the new value from what the row holds *then*
/// (another session's committed change is not overwritten), and reads it back (`RETURNING`
/// where the database has `UPDATE … RETURNING`, a SELECT by key elsewhere). Autoflush writes it,
/// rollback discards it, a later edit of the column replaces it; a pending object or a key
/// column is refused.
pub fn set_expr_is_flushed_as_an_expression(db: &TestDb) -> Result<()> {
    create(db)?;
    let id = add_book(db, 10)?;
    let s = athanor::sessionmaker(&db.engine).expire_on_commit(false).session();
    let book = s.get::<Book>(id)?.expect("row");
    s.commit()?; // no transaction of `s` holds a lock or a snapshot while `other` writes
    let other = db.session();
    other.get::<Book>(id)?.expect("row").edit(|b| b.stock = 7)?;
    other.commit()?;
    assert_eq!(book.get().stock, 10, "this session still holds what it read");

    db.clear_sql();
    book.set_expr(Book::stock, Book::stock.sub(1))?;
    assert!(s.is_dirty());
    assert_eq!(book.get().stock, 10, "the field keeps its value until the flush");
    s.flush()?;
    let returning = db.caps().update_returning;
    let update = "UPDATE rmw_books SET stock = (rmw_books.stock - ?) WHERE id = ?";
    if returning {
        assert_eq!(sent(db), [format!("{update} RETURNING stock")]);
    } else {
        assert_eq!(sent(db), [update, "SELECT stock FROM rmw_books WHERE id = ?"]);
    }
    assert_eq!(book.get().stock, 6, "computed from the row's 7, not the 10 read before, and read back");
    s.commit()?;

    // With an edit of another column: one UPDATE, values first. Autoflush writes it before a query.
    book.set_expr(Book::stock, Book::stock.add(4))?;
    book.edit(|b| b.title = "Emma II".into())?;
    db.clear_sql();
    assert_eq!(s.query::<Book>().filter(Book::stock.eq(10)).count()?, 1, "autoflushed first");
    let update = "UPDATE rmw_books SET title = ?, stock = (rmw_books.stock + ?) WHERE id = ?";
    let first = sent(db).into_iter().next().expect("the flush's UPDATE");
    assert_eq!(first, if returning { format!("{update} RETURNING stock") } else { update.to_string() });
    s.commit()?;

    // Rollback discards it: nothing is written afterwards.
    book.set_expr(Book::stock, Book::stock.sub(100))?;
    s.rollback()?;
    db.clear_sql();
    s.flush()?;
    assert!(sent(db).is_empty(), "nothing left to flush");

    // An edit of the same column after it: the value wins.
    let book = s.get::<Book>(id)?.expect("row");
    book.set_expr(Book::stock, Book::stock.sub(1))?;
    book.edit(|b| b.stock = 50)?;
    db.clear_sql();
    s.commit()?;
    assert_eq!(sent(db), ["UPDATE rmw_books SET stock = ? WHERE id = ?"]);

    // Refused, changing nothing: a key column, an object not in the database yet.
    assert!(matches!(book.set_expr(Book::id, Book::id.add(1)), Err(Error::InvalidRequest { .. })));
    let pending = s.add(Book { id: None, title: "new".into(), stock: 1 });
    assert!(matches!(pending.set_expr(Book::stock, Book::stock.add(1)), Err(Error::InvalidRequest { .. })));
    s.expunge(&pending);
    assert_eq!(pending.state(), ObjectState::Transient);
    assert!(!s.is_dirty());
    let check = db.session();
    let row = check.get::<Book>(id)?.expect("row");
    assert_eq!((row.get().title.as_str(), row.get().stock), ("Emma II", 50));
    Ok(())
}

/// Optimistic locking, two sessions: each UPDATE and DELETE of a versioned object requires the
/// version its session read and writes the next; a change committed meanwhile by another
/// session makes the flush fail with `Error::StaleData` naming the model, the key and the
/// version read (retryable), and the session goes on after `rollback()` with the new version.
pub fn version_column_detects_a_concurrent_change(db: &TestDb) -> Result<()> {
    create(db)?;
    let id = add_edition(db, 10)?;
    let a = athanor::sessionmaker(&db.engine).expire_on_commit(false).session();
    let mine = a.get::<Edition>(id)?.expect("row");
    a.commit()?; // `a` holds no lock or snapshot while `b` writes
    let b_engine = db.another_engine();
    let b = athanor::sessionmaker(&b_engine).session();
    let theirs = b.get::<Edition>(id)?.expect("row");
    theirs.edit(|e| e.title = "Dune (2nd ed.)".into())?;
    b.commit()?;
    assert_eq!(theirs.get().version, 1, "the flush wrote the next version into the object");

    mine.edit(|e| e.stock = 9)?;
    db.clear_sql();
    let err = a.flush().expect_err("b changed the row since a read it");
    assert_eq!(sent(db), ["UPDATE rmw_editions SET stock = ?, version = ? WHERE id = ? AND version = ?"]);
    match &err {
        Error::StaleData { model: "Edition", table, version: Some(0), expected: 1, matched: 0, .. } => {
            assert_eq!(table, "rmw_editions")
        }
        other => panic!("expected StaleData at version 0, got {other:?}"),
    }
    assert!(err.is_retryable(), "a version conflict is retried by retry_on_serialization_failure");
    assert!(!a.is_active());
    a.rollback()?;

    // Read again and decide again: an expression in the same UPDATE as the version.
    let fresh = a.get::<Edition>(id)?.expect("row");
    assert!(Handle::ptr_eq(&fresh, &mine));
    assert_eq!((fresh.get().title.as_str(), fresh.get().version, fresh.get().stock), ("Dune (2nd ed.)", 1, 10));
    fresh.set_expr(Edition::stock, Edition::stock.sub(1))?;
    db.clear_sql();
    a.commit()?;
    let update = "UPDATE rmw_editions SET stock = (rmw_editions.stock - ?), version = ? WHERE id = ? AND version = ?";
    if db.caps().update_returning {
        assert_eq!(sent(db), [format!("{update} RETURNING stock")]);
    } else {
        assert_eq!(sent(db), [update, "SELECT stock FROM rmw_editions WHERE id = ?"]);
    }
    assert_eq!((mine.get().stock, mine.get().version), (9, 2));

    // The version field is the flush's: an edit of it is refused at the flush.
    mine.edit(|e| e.version = 40)?;
    assert!(matches!(a.flush(), Err(Error::InvalidRequest { .. })));
    a.rollback()?;
    assert!(matches!(mine.set_expr(Edition::version, Edition::version.add(1)), Err(Error::InvalidRequest { .. })));

    // A DELETE at a stale version is refused the same way.
    let theirs = b.get::<Edition>(id)?.expect("row");
    theirs.edit(|e| e.stock = 8)?;
    b.commit()?;
    let mine = a.get::<Edition>(id)?.expect("row");
    a.commit()?;
    assert_eq!(mine.get().version, 3);
    let theirs = b.get::<Edition>(id)?.expect("row");
    theirs.edit(|e| e.stock = 7)?;
    b.commit()?;
    a.delete(&mine)?;
    db.clear_sql();
    match a.flush() {
        Err(Error::StaleData { version: Some(3), .. }) => {}
        other => panic!("expected StaleData at version 3, got {other:?}"),
    }
    assert_eq!(sent(db), ["DELETE FROM rmw_editions WHERE id = ? AND version = ?"]);
    a.rollback()?;
    let mine = a.get::<Edition>(id)?.expect("row");
    assert_eq!(mine.get().version, 4);
    a.delete(&mine)?;
    a.commit()?;
    assert!(b.get::<Edition>(id)?.is_none());
    Ok(())
}

/// An UPDATE whose values equal what the row already holds matched the row: not stale. (MySQL
/// counts changed rows unless the client asks for found rows, as Athanor's does.)
pub fn update_to_the_value_the_row_holds_is_not_stale(db: &TestDb) -> Result<()> {
    create(db)?;
    let id = add_book(db, 10)?;
    let a = athanor::sessionmaker(&db.engine).expire_on_commit(false).session();
    let mine = a.get::<Book>(id)?.expect("row");
    a.commit()?;
    let b = db.session();
    b.get::<Book>(id)?.expect("row").edit(|x| x.stock = 5)?;
    b.commit()?;
    // `a` read 10 and writes 5: the row holds 5 already.
    mine.edit(|x| x.stock = 5)?;
    db.clear_sql();
    a.commit()?;
    assert_eq!(sent(db), ["UPDATE rmw_books SET stock = ? WHERE id = ?"]);
    assert_eq!(db.session().get::<Book>(id)?.map(|x| x.get().stock), Some(5));
    Ok(())
}

const ORDERS: usize = 30;
const STOCK: i32 = 10;
/// Enough attempts that no order gives up: each conflict means another order committed, and
/// after the 10th sale every order is refused without writing.
const ATTEMPTS: usize = 1_000;

/// Run `ORDERS` orders of one copy each on as many threads (each order its own sessions from
/// `maker`, on the test's engine) against one book with `STOCK` copies; each returns whether it
/// was accepted. The stock ends at 0, exactly `STOCK` orders were accepted and as many order
/// rows written.
fn oversell(
    db: &TestDb,
    maker: SessionMaker,
    (book, versioned): (i64, bool),
    order: fn(&SessionMaker, i64) -> Result<bool>,
) -> Result<()> {
    let start = std::sync::Arc::new(std::sync::Barrier::new(ORDERS));
    let threads: Vec<_> = (0..ORDERS)
        .map(|_| {
            let (maker, start) = (maker.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                order(&maker, book)
            })
        })
        .collect();
    let mut accepted = 0;
    for t in threads {
        if t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))? {
            accepted += 1;
        }
    }
    assert_eq!(accepted, STOCK as usize, "orders accepted");
    let s = db.session();
    assert_eq!(s.query::<BookOrder>().filter(BookOrder::book_id.eq(book)).count()?, STOCK as u64, "order rows");
    let left: i32 = if versioned {
        s.select(Edition::stock).filter(Edition::id.eq(book)).one()?
    } else {
        s.select(Book::stock).filter(Book::id.eq(book)).one()?
    };
    assert_eq!(left, 0, "stock left");
    Ok(())
}

/// Pattern 1, the expression update with a guard: `UPDATE … SET stock = stock - 1 WHERE id = ?
/// AND stock >= 1` matches the row only while a copy is left; the database evaluates both on
/// the row as it is when the UPDATE runs (it waits for a concurrent writer of that row).
pub fn oversell_expression_update_with_guard(db: &TestDb) -> Result<()> {
    create(db)?;
    let book = add_book(db, STOCK)?;
    // write_intent: a no-op on the servers; on SQLite `BEGIN IMMEDIATE`, so writers queue at
    // BEGIN instead of failing to upgrade a read lock.
    let maker = athanor::sessionmaker(&db.engine).write_intent(true);
    oversell(db, maker, (book, false), |maker, book| {
        let s = maker.session();
        let n = s
            .query::<Book>()
            .filter(Book::id.eq(book))
            .filter(Book::stock.ge(1))
            .synchronize_session(Synchronize::None)
            .update(|set| set.value(Book::stock, Book::stock.sub(1)))?;
        if n == 0 {
            s.rollback()?;
            return Ok(false);
        }
        s.add(BookOrder { id: None, book_id: book });
        s.commit()?;
        Ok(true)
    })
}

/// Pattern 2, `SELECT … FOR UPDATE` then check and edit: the row is locked until the
/// transaction ends (SQLite: the transaction holds the database's write lock, `write_intent`).
pub fn oversell_for_update(db: &TestDb) -> Result<()> {
    create(db)?;
    let book = add_book(db, STOCK)?;
    let maker = athanor::sessionmaker(&db.engine).write_intent(true);
    oversell(db, maker, (book, false), |maker, book| {
        let s = maker.session();
        let b = s.query::<Book>().filter(Book::id.eq(book)).with_for_update().one()?;
        if b.get().stock < 1 {
            s.rollback()?;
            return Ok(false);
        }
        b.edit(|b| b.stock -= 1)?;
        s.add(BookOrder { id: None, book_id: book });
        s.commit()?;
        Ok(true)
    })
}

/// Pattern 3, SERIALIZABLE and retry: the plain get / check / edit / commit, run at the
/// serializable level by `retry_on_serialization_failure`, which reruns an order the database
/// refused (a serialization failure, a deadlock, a lock wait given up).
pub fn oversell_serializable_retry(db: &TestDb) -> Result<()> {
    create(db)?;
    let book = add_book(db, STOCK)?;
    let maker = athanor::sessionmaker(&db.engine).isolation_level(athanor::IsolationLevel::Serializable);
    oversell(db, maker, (book, false), |maker, book| {
        maker.retry_on_serialization_failure(ATTEMPTS, |s| {
            let b = s.get::<Book>(book)?.ok_or_else(|| Error::NotFound { what: "the book".into() })?;
            if b.get().stock < 1 {
                return Ok(false);
            }
            b.edit(|b| b.stock -= 1)?;
            s.add(BookOrder { id: None, book_id: book });
            Ok(true)
        })
    })
}

/// Pattern 4, a version column and retry: the plain get / check / edit / commit at the default
/// level; a sale committed meanwhile moves the version on, the flush fails with `StaleData`, and
/// `retry_on_serialization_failure` reruns the order on the new version.
pub fn oversell_version_column_retry(db: &TestDb) -> Result<()> {
    create(db)?;
    let book = add_edition(db, STOCK)?;
    let maker = athanor::sessionmaker(&db.engine);
    oversell(db, maker, (book, true), |maker, book| {
        maker.retry_on_serialization_failure(ATTEMPTS, |s| {
            let e = s.get::<Edition>(book)?.ok_or_else(|| Error::NotFound { what: "the edition".into() })?;
            if e.get().stock < 1 {
                return Ok(false);
            }
            e.edit(|e| e.stock -= 1)?;
            s.add(BookOrder { id: None, book_id: book });
            Ok(true)
        })
    })
}

/// Add `n` editions (stock 10, version 0); their keys.
fn add_editions(db: &TestDb, n: usize) -> Result<Vec<i64>> {
    let s = db.session();
    let hs: Vec<_> =
        (0..n).map(|i| s.add(Edition { id: None, title: format!("Dune {i}"), stock: 10, version: 0 })).collect();
    s.commit()?;
    Ok(hs.iter().map(|h| h.get().id.expect("generated key")).collect())
}

/// The batched UPDATE of `rows` editions that changed `column`, as this database's
/// [`BatchUpdate`] form sends it (normalized).
fn batched_update(db: &TestDb, column: &str, ty: &str, rows: usize) -> Vec<String> {
    let single = format!("UPDATE rmw_editions SET {column} = ?, version = ? WHERE id = ? AND version = ?");
    match db.caps().batch_update {
        BatchUpdate::PerRow => vec![single; rows],
        BatchUpdate::ReturningKeys => {
            let row = format!("(CAST(? AS {ty}), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))");
            vec![format!(
                "UPDATE rmw_editions SET {column} = athanor_v.p0, version = athanor_v.p1 FROM (VALUES {}) AS athanor_v \
                 (p0, p1, p2, p3) WHERE rmw_editions.id = athanor_v.p2 AND rmw_editions.version = athanor_v.p3 \
                 RETURNING rmw_editions.id",
                vec![row; rows].join(", ")
            )]
        }
        BatchUpdate::MatchedCount => {
            let whens = " WHEN ? THEN ?".repeat(rows);
            let wheres = vec!["(id = ? AND version = ?)"; rows].join(" OR ");
            vec![format!(
                "UPDATE rmw_editions SET {column} = CASE id{whens} ELSE {column} END, version = CASE id{whens} ELSE \
                 version END WHERE {wheres}"
            )]
        }
    }
}

/// The changed objects of one table are updated in batches, one per set of changed columns
/// (in the order of each set's first object): one statement per batch on PostgreSQL
/// (`UPDATE … FROM (VALUES …) RETURNING`) and MySQL/MariaDB (`CASE`), one prepared statement
/// run per row on SQLite. Each row's version is checked and bumped; the objects hold the new
/// version and the database the new values.
pub fn batched_flush_sends_one_statement_per_column_set(db: &TestDb) -> Result<()> {
    create(db)?;
    let ids = add_editions(db, 5)?;
    let s = db.session();
    let eds: Vec<Handle<Edition>> =
        ids.iter().map(|id| s.get::<Edition>(*id).map(|e| e.expect("row"))).collect::<Result<_>>()?;
    eds[0].edit(|e| e.stock = 1)?;
    eds[1].edit(|e| e.title = "Emma 1".into())?;
    eds[2].edit(|e| e.stock = 3)?;
    eds[3].edit(|e| e.title = "Emma 3".into())?;
    eds[4].edit(|e| e.stock = 5)?;
    db.clear_sql();
    s.flush()?;
    let mut expected = batched_update(db, "stock", "INTEGER", 3);
    expected.extend(batched_update(db, "title", "TEXT", 2));
    assert_eq!(sent(db), expected);
    assert!(eds.iter().all(|e| e.get().version == 1), "the flush wrote the next version into the objects");
    s.commit()?;
    let fresh = db.session();
    let rows: Vec<(String, i32, i64)> = ids
        .iter()
        .map(|id| {
            let e = fresh.get::<Edition>(*id)?.expect("row");
            let e = e.get();
            Ok((e.title.clone(), e.stock, e.version))
        })
        .collect::<Result<_>>()?;
    assert_eq!(
        rows,
        [
            ("Dune 0".to_string(), 1, 1),
            ("Emma 1".to_string(), 10, 1),
            ("Dune 2".to_string(), 3, 1),
            ("Emma 3".to_string(), 10, 1),
            ("Dune 4".to_string(), 5, 1),
        ]
    );
    Ok(())
}

/// One of three objects of a batch was changed by another session since it was read: the flush
/// fails with `Error::StaleData` naming that object's key and the version read (on PostgreSQL,
/// whose batch reports the keys it matched, `expected` and `matched` count the batch's rows; on
/// the others the row's own statement is the one that matched nothing), and after `rollback()`
/// none of the three rows holds this session's change.
pub fn stale_row_inside_a_batch_names_that_object(db: &TestDb) -> Result<()> {
    create(db)?;
    let ids = add_editions(db, 3)?;
    let a = athanor::sessionmaker(&db.engine).expire_on_commit(false).session();
    let mine: Vec<Handle<Edition>> =
        ids.iter().map(|id| a.get::<Edition>(*id).map(|e| e.expect("row"))).collect::<Result<_>>()?;
    a.commit()?; // `a` holds no lock or snapshot while `b` writes
    let b_engine = db.another_engine();
    let b = athanor::sessionmaker(&b_engine).session();
    let theirs = b.get::<Edition>(ids[1])?.expect("row");
    theirs.edit(|e| e.title = "Dune (2nd ed.)".into())?;
    b.commit()?;

    for e in &mine {
        e.edit(|e| e.stock = 7)?;
    }
    let err = a.flush().expect_err("b changed the second row since a read it");
    let want_key = format!("({})", ids[1]);
    let (want_expected, want_matched) =
        if db.caps().batch_update == BatchUpdate::ReturningKeys { (3, 2) } else { (1, 0) };
    match &err {
        Error::StaleData { model: "Edition", table, key, version: Some(0), expected, matched } => {
            assert_eq!(table, "rmw_editions");
            assert_eq!(key, &want_key, "the stale object, and only it, is named");
            assert_eq!((*expected, *matched), (want_expected, want_matched));
        }
        other => panic!("expected StaleData at version 0, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert!(!a.is_active());
    a.rollback()?;
    let fresh = db.session();
    for (n, id) in ids.iter().enumerate() {
        let e = fresh.get::<Edition>(*id)?.expect("row");
        let e = e.get();
        assert_eq!(e.stock, 10, "row {n}: nothing of the failed flush was written");
        assert_eq!(e.version, if n == 1 { 1 } else { 0 });
    }
    Ok(())
}
