//! A library crate written once against Athanor's backend-neutral API.
//!
//! It names no database: its functions take an [`Engine`] (or a URL), and the application that
//! depends on it picks the backend with a cargo feature, forwarded to `athanor`:
//!
//! ```toml
//! [dependencies]
//! portable-lib = { path = "…", default-features = false, features = ["postgres"] }
//! ```
//!
//! With only `postgres` enabled, neither rusqlite nor mysql is compiled; a `sqlite:` URL then
//! fails with `Error::Config` naming the `sqlite` feature.

use athanor::prelude::*;

/// A to-do item.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "todo_items")]
pub struct Todo {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// What to do.
    #[column(length = 200)]
    pub title: String,
    /// Done yet?
    #[column(default = false)]
    pub done: bool,
}

/// The library's catalog.
pub fn base() -> Base {
    Base::new().register::<Todo>()
}

/// Open the store at `url` and create its tables if they are missing.
pub fn open(url: &str) -> Result<Engine> {
    let engine = create_engine(url)?;
    base().metadata().create_all(&engine)?;
    Ok(engine)
}

/// Add a to-do item; returns its key.
pub fn add(engine: &Engine, title: &str) -> Result<i64> {
    let session = sessionmaker(engine).session();
    let h = session.add(Todo { id: None, title: title.into(), done: false });
    session.commit()?;
    let id = h.get().id;
    id.ok_or_else(|| Error::invalid_request("no key was generated"))
}

/// Mark an item done; `false` if there is no such item.
pub fn complete(engine: &Engine, id: i64) -> Result<bool> {
    let session = sessionmaker(engine).session();
    let Some(item) = session.get::<Todo>(id)? else { return Ok(false) };
    item.edit(|t| t.done = true)?;
    session.commit()?;
    Ok(true)
}

/// The open items, oldest first.
pub fn open_items(engine: &Engine) -> Result<Vec<String>> {
    let session = sessionmaker(engine).session();
    let items = session.query::<Todo>().filter(Todo::done.eq(false)).order_by(Todo::id.asc()).all()?;
    Ok(items.iter().map(|h| h.get().title.clone()).collect())
}

/// The library's tests run on every backend compiled in and configured: one test per backend
/// (`works_everywhere::sqlite`, `::postgres`, `::mysql`), each on a fresh database with
/// [`base`]'s tables. A backend whose cargo feature is off, or whose `ATHANOR_TEST_<BACKEND>_URL`
/// is unset, is skipped with one line (docs/testing.md).
#[cfg(test)]
mod tests {
    use super::*;

    #[athanor::test(backends(sqlite, postgres, mysql), base = base)]
    fn works_everywhere(engine: Engine) -> Result<()> {
        let a = add(&engine, "write docs")?;
        add(&engine, "ship")?;
        assert!(complete(&engine, a)?);
        assert!(!complete(&engine, 999)?);
        assert_eq!(open_items(&engine)?, ["ship"]);
        Ok(())
    }

    /// `open` creates the tables itself (on an in-memory database here).
    #[cfg(feature = "sqlite")]
    #[test]
    fn open_creates_the_tables() -> Result<()> {
        let engine = open("sqlite::memory:")?;
        add(&engine, "one")?;
        assert_eq!(open_items(&engine)?, ["one"]);
        Ok(())
    }
}
