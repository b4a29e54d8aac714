//! Creating and dropping whole databases: `athanor db create|drop URL` is built on these.
//!
//! On PostgreSQL and MySQL a database is made by a statement sent to the same server, through a
//! connection to its maintenance database (the dialect's `maintenance_database`: `postgres` on
//! PostgreSQL, none on MySQL; MySQL's is made with `utf8mb4` and the binary collation Athanor's
//! tables use). An SQLite database is its file: it is made by opening it, and dropped by
//! removing the file and its `-wal`, `-shm` and `-journal` companions. An in-memory database
//! is neither made nor dropped (`Error::InvalidRequest`).

use crate::{create_engine, Error, Result};
use athanor_core::{ConnectOptions, Value};

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The database was created or dropped.
    Done,
    /// Nothing to do: it already existed (`if_not_exists`) or did not exist (`if_exists`).
    Unchanged,
}

/// The database name of a server URL.
fn database_name(options: &ConnectOptions) -> Result<String> {
    match options.database.as_deref() {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(Error::invalid_request(format!("the URL {} names no database", options.redacted()))),
    }
}

/// Whether the server database exists, asked through the maintenance connection.
fn exists(conn: &mut athanor_core::Connection, name: &str) -> Result<bool> {
    let mut sql = String::new();
    conn.dialect().write_database_exists(&mut sql)?;
    Ok(!conn.query(&sql, &[Value::Text(name.to_string())])?.is_empty())
}

/// A connection to the maintenance database of a server URL, and the database's name; `None`
/// for a backend whose database is a file.
fn maintenance(url: &str) -> Result<Option<(athanor_core::Connection, String)>> {
    let options = ConnectOptions::parse(url)?;
    let engine = create_engine(url)?;
    let Some(maintenance) = engine.dialect().maintenance_database() else { return Ok(None) };
    let name = database_name(&options)?;
    let server = create_engine(&options.with_database(maintenance)?)?;
    Ok(Some((server.connect()?, name)))
}

/// The file of a file database (SQLite), or why there is none.
fn database_file(url: &str) -> Result<std::path::PathBuf> {
    let options = ConnectOptions::parse(url)?;
    let driver = crate::open_driver(&options)?;
    driver.database_file().ok_or_else(|| {
        Error::invalid_request(format!(
            "{} is an in-memory database: it is neither created nor dropped",
            options.redacted()
        ))
    })
}

/// Create the database `url` names.
///
/// ```no_run
/// use athanor::admin::{create_database, Outcome};
/// assert_eq!(create_database("postgres://postgres@127.0.0.1/shop", true)?, Outcome::Done);
/// # Ok::<(), athanor::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidRequest`] when it exists and `if_not_exists` is false, for an in-memory
/// SQLite URL or a server URL without a database; [`Error::Config`] for a bad URL;
/// [`Error::Connection`] when the server cannot be reached; what the server reports (a missing
/// privilege) as [`Error::Database`].
pub fn create_database(url: &str, if_not_exists: bool) -> Result<Outcome> {
    match maintenance(url)? {
        Some((mut conn, name)) => {
            if exists(&mut conn, &name)? {
                return already(if_not_exists, &name);
            }
            let mut sql = String::new();
            conn.dialect().write_create_database(&mut sql, &name)?;
            conn.batch_execute(&sql)?;
            Ok(Outcome::Done)
        }
        None => {
            let path = database_file(url)?;
            if path.exists() {
                return already(if_not_exists, &path.display().to_string());
            }
            // Opening the file creates it.
            create_engine(url)?.connect()?;
            Ok(Outcome::Done)
        }
    }
}

fn already(if_not_exists: bool, name: &str) -> Result<Outcome> {
    if if_not_exists {
        Ok(Outcome::Unchanged)
    } else {
        Err(Error::invalid_request(format!("database {name} already exists")))
    }
}

fn missing(if_exists: bool, name: &str) -> Result<Outcome> {
    if if_exists {
        Ok(Outcome::Unchanged)
    } else {
        Err(Error::invalid_request(format!("database {name} does not exist")))
    }
}

/// Drop the database `url` names, with everything in it.
///
/// # Errors
/// [`Error::InvalidRequest`] when it does not exist and `if_exists` is false, and as
/// [`create_database`]; the server's error when other sessions are connected to it (PostgreSQL
/// refuses to drop a database in use).
pub fn drop_database(url: &str, if_exists: bool) -> Result<Outcome> {
    match maintenance(url)? {
        Some((mut conn, name)) => {
            if !exists(&mut conn, &name)? {
                return missing(if_exists, &name);
            }
            let mut sql = String::new();
            conn.dialect().write_drop_database(&mut sql, &name, false)?;
            conn.batch_execute(&sql)?;
            Ok(Outcome::Done)
        }
        None => {
            let path = database_file(url)?;
            if !path.exists() {
                return missing(if_exists, &path.display().to_string());
            }
            let io = |e: std::io::Error, p: &std::path::Path| {
                Error::invalid_request(format!("cannot remove {}: {e}", p.display()))
            };
            std::fs::remove_file(&path).map_err(|e| io(e, &path))?;
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut companion = path.clone().into_os_string();
                companion.push(suffix);
                let companion = std::path::PathBuf::from(companion);
                if companion.exists() {
                    std::fs::remove_file(&companion).map_err(|e| io(e, &companion))?;
                }
            }
            Ok(Outcome::Done)
        }
    }
}
