//! Small session conveniences a service trips over: `get` with the `Option` key a model's
//! generated key is, transaction helpers whose closures return the application's own error
//! type, and instants brought to what the database stores when they are flushed.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::RetryError;
use std::cell::Cell;

/// `session.get::<M>(h.get().id)` takes the `Option<i64>` of a generated key; `None` finds no
/// row and sends nothing (SQLAlchemy's `get(None)` returns `None`).
pub fn get_takes_the_option_key_of_a_model(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let s = db.session();
    let ann = s.add(Customer::new("ann", "ann@example.com", 41));
    s.commit()?;
    let other = db.session();
    let found = other.get::<Customer>(ann.get().id)?.expect("ann's row");
    assert_eq!(found.get().name, "ann");
    let before = db.engine.statement_count();
    assert!(other.get::<Customer>(None::<i64>)?.is_none());
    let transient = Customer::new("new", "new@x", 1);
    assert!(other.get::<Customer>(transient.id)?.is_none());
    assert_eq!(db.engine.statement_count(), before, "a NULL key is looked up nowhere");
    Ok(())
}

/// An application's error type: business outcomes beside the database's errors.
#[derive(Debug)]
enum AppError {
    NotFound,
    Conflict(&'static str),
    Db(Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}

impl RetryError for AppError {
    fn athanor_error(&self) -> Option<&Error> {
        match self {
            AppError::Db(e) => Some(e),
            _ => None,
        }
    }
}

/// `retry_on_serialization_failure` and `Engine::transaction` take closures returning the
/// application's error type: a business error is returned at once (after rollback, not
/// retried); a serialization failure inside it is still retried.
pub fn transaction_helpers_take_application_errors(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let maker = athanor::sessionmaker(&db.engine);
    let attempts = Cell::new(0);
    let r: std::result::Result<(), AppError> = maker.retry_on_serialization_failure(5, |s| {
        attempts.set(attempts.get() + 1);
        s.add(Customer::new("ghost", "ghost@x", 1));
        s.flush()?;
        Err(AppError::Conflict("taken"))
    });
    assert!(matches!(r, Err(AppError::Conflict("taken"))), "{r:?}");
    assert_eq!(attempts.get(), 1, "a business error is not retried");
    assert_eq!(db.session().query::<Customer>().count()?, 0, "its attempt was rolled back");

    attempts.set(0);
    let r = maker.retry_on_serialization_failure(5, |s| {
        attempts.set(attempts.get() + 1);
        if attempts.get() < 3 {
            return Err(AppError::Db(Error::serialization_failure("synthetic", false)));
        }
        let c = s.add(Customer::new("kept", "kept@x", 2));
        s.flush()?;
        let id = c.get().id;
        id.ok_or(AppError::NotFound)
    });
    assert!(matches!(r, Ok(id) if id > 0), "{r:?}");
    assert_eq!(attempts.get(), 3, "a serialization failure inside the application's error is retried");

    let r: std::result::Result<u64, AppError> = db.engine.transaction(|c| {
        c.execute("DELETE FROM customers", &[])?;
        Err(AppError::NotFound)
    });
    assert!(matches!(r, Err(AppError::NotFound)), "{r:?}");
    assert_eq!(db.session().query::<Customer>().count()?, 1, "the business error rolled the transaction back");
    Ok(())
}

/// An instant (and a civil date-time and time of day) with nanoseconds is brought to the
/// microseconds the database stores when it is flushed, by INSERT and by UPDATE, so the object
/// in memory equals what a later read returns.
pub fn flush_brings_instants_to_stored_precision(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let at = jiff::Timestamp::from_nanosecond(1_700_000_000_123_456_789)
        .map_err(|e| Error::invalid_request(e.to_string()))?;
    let ends =
        jiff::Timestamp::from_nanosecond(-86_400_000_000_999).map_err(|e| Error::invalid_request(e.to_string()))?;
    let s = db.session();
    let ev = s.add(Event { id: None, name: "launch".into(), at, ends: Some(ends) });
    let day = jiff::civil::date(2024, 2, 29);
    let starts = jiff::civil::time(9, 30, 15, 123_456_789);
    let shift = s.add(Shift { id: None, day, starts, planned: day.at(23, 59, 59, 999_999_999), other: None });
    s.flush()?;
    assert_eq!(ev.get().at.as_nanosecond(), 1_700_000_000_123_456_000);
    assert_eq!(ev.get().ends.map(|t| t.as_nanosecond()), Some(-86_400_000_001_000), "floored toward the past");
    assert_eq!(shift.get().starts.subsec_nanosecond(), 123_456_000);
    assert_eq!(shift.get().planned.subsec_nanosecond(), 999_999_000);
    s.commit()?;
    let id = ev.get().id;
    let fresh = db.session().get::<Event>(id)?.expect("the event");
    assert_eq!(*fresh.get(), *ev.get(), "the object equals what a later read returns");
    let fresh_shift = db.session().get::<Shift>(shift.get().id)?.expect("the shift");
    assert_eq!(*fresh_shift.get(), *shift.get());

    let later = jiff::Timestamp::from_nanosecond(1_800_000_000_000_000_001)
        .map_err(|e| Error::invalid_request(e.to_string()))?;
    ev.edit(|e| e.at = later)?;
    s.flush()?;
    assert_eq!(ev.get().at.as_nanosecond(), 1_800_000_000_000_000_000, "UPDATE: the same rule");
    s.commit()?;
    let fresh = db.session().get::<Event>(id)?.expect("the event");
    assert_eq!(*fresh.get(), *ev.get());
    Ok(())
}
