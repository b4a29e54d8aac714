//! What tests make on a database server, and its removal: every schema (PostgreSQL), database
//! (PostgreSQL, MySQL) or file (SQLite) a test creates is held by a [`Scratch`] guard that drops
//! it when the test ends, passing or panicking; what a killed process left is dropped by the next
//! test process's start-up sweep.
//!
//! **Names.** Everything is named `ath_<token>_<label>`, where `<token>` identifies the test
//! process that made it (its process id when free, otherwise another number).
//!
//! **Liveness.** A process that makes names on a server first takes a session lock named by its
//! token on that server (PostgreSQL `pg_try_advisory_lock(<class>, <token>)` in the configured
//! database; MySQL `GET_LOCK('athanor_test_owner_<token>', 0)`) on a connection it keeps open
//! until it exits. The server releases the lock when that connection ends, however the process
//! ends (`kill -9` included). So a name whose token's lock can be taken belongs to a process
//! that is gone; a held lock means a live process (on this machine or another, in any process
//! namespace) may still use it, and it is left alone.
//!
//! **Sweep.** The first time a process takes its lock on a server it lists the `ath_…` schemas
//! and databases there, and for each token whose lock it can take drops that token's names and
//! releases the lock (holding it meanwhile, so no new process can adopt the token halfway). Its
//! own token is included: names with it that exist before it made any were made by an earlier
//! process with the same number, which is gone.
//!
//! **Limits.** Names of another form (`ath<pid>_…` of Athanor before this scheme) are never
//! swept. If the server ends the lock connection while the process still runs (a server
//! restart), another process's sweep may drop that process's live names.
//!
//! **Keeping.** With `ATHANOR_TEST_KEEP=1` nothing is dropped, neither at a test's end (a
//! `KEPT <name>` line says what stayed) nor by the sweep; the next run without it removes them.
//!
//! Athanor's own tests and [`super::fresh_database`] share it (the conformance suite re-exports
//! it as `athanor_conformance::scratch`).

use crate::{create_engine, Connection, Engine, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The prefix of every name a test makes on a server.
pub const PREFIX: &str = "ath_";
/// The environment variable that keeps what tests make (`1` or `true`).
pub const KEEP_VAR: &str = "ATHANOR_TEST_KEEP";
/// The first key of PostgreSQL's two-key advisory locks taken by test processes (`'ath'`).
pub const PG_LOCK_CLASS: i32 = 0x0061_7468;
/// How long a drop waits for a lock held elsewhere before giving up (the sweep retries later).
const DROP_LOCK_WAIT_SECONDS: u32 = 30;

/// `true` when `ATHANOR_TEST_KEEP` asks to keep what tests make, for inspection.
pub fn keep() -> bool {
    std::env::var(KEEP_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Which kind of server a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Server {
    /// The server kind of `url`, by its scheme; `None` for SQLite or an unknown scheme.
    pub fn of(url: &str) -> Option<Server> {
        let scheme = url.split("://").next().unwrap_or("").split('+').next().unwrap_or("");
        match scheme {
            "postgres" | "postgresql" => Some(Server::Postgres),
            "mysql" | "mariadb" => Some(Server::MySql),
            _ => None,
        }
    }
}

/// Write one line to the process's stderr, past libtest's capture (a leftover must be seen).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn with_option(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// This process's token on each server (by configured URL), or why none could be had.
fn owners() -> &'static Mutex<HashMap<String, Result<u32, String>>> {
    static O: OnceLock<Mutex<HashMap<String, Result<u32, String>>>> = OnceLock::new();
    O.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The connections holding this process's locks: kept open until the process exits.
fn holders() -> &'static Mutex<Vec<(Engine, Connection)>> {
    static H: OnceLock<Mutex<Vec<(Engine, Connection)>>> = OnceLock::new();
    H.get_or_init(|| Mutex::new(Vec::new()))
}

/// This process's token on the server `server_url` names (a URL of an existing database on it,
/// such as `ATHANOR_TEST_POSTGRES_URL`). The first call per server takes the lock and sweeps
/// the leftovers of processes that are gone.
///
/// # Errors
/// The server cannot be reached, or `server_url` is not a PostgreSQL or MySQL URL.
pub fn owner(server_url: &str) -> Result<u32, String> {
    let mut owners = owners().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = owners.get(server_url) {
        return known.clone();
    }
    let got = take_token(server_url);
    owners.insert(server_url.to_string(), got.clone());
    got
}

fn take_token(server_url: &str) -> Result<u32, String> {
    let server = Server::of(server_url).ok_or_else(|| format!("not a server URL: {server_url}"))?;
    let engine = create_engine(&with_option(server_url, "pool_timeout", "10")).map_err(|e| e.to_string())?;
    let mut conn = engine.connect().map_err(|e| e.to_string())?;
    let mut token = std::process::id() & 0x7fff_ffff;
    let mut tries = 0u32;
    while !try_lock(&mut conn, server, token).map_err(|e| e.to_string())? {
        // Another process (on another machine, or sweeping a dead one) holds this number.
        tries += 1;
        if tries > 50 {
            return Err("no free test-owner lock after 50 tries".into());
        }
        token = next_token(token);
    }
    if !keep() {
        sweep(&mut conn, server, None);
    }
    holders().lock().unwrap_or_else(|p| p.into_inner()).push((engine, conn));
    Ok(token)
}

fn next_token(prev: u32) -> u32 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(prev);
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    // Seven digits at most, so names stay short.
    (h.finish() % 9_000_000) as u32 + 1_000_000
}

fn lock_name(token: u32) -> String {
    format!("athanor_test_owner_{token}")
}

/// Take the session lock of `token` on `conn` without waiting: `true` when taken (its owner, if
/// any, is gone), `false` when another session holds it. Re-entrant within one session.
///
/// # Errors
/// The server refuses the statement.
pub fn try_lock(conn: &mut Connection, server: Server, token: u32) -> crate::Result<bool> {
    match server {
        Server::Postgres => conn.query_scalar::<bool>(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[Value::I32(PG_LOCK_CLASS), Value::I32(token as i32)],
        ),
        Server::MySql => {
            Ok(conn.query_scalar::<Option<i64>>("SELECT GET_LOCK(?, 0)", &[Value::Text(lock_name(token))])? == Some(1))
        }
    }
}

/// Release one hold of the session lock of `token` on `conn`.
///
/// # Errors
/// The server refuses the statement.
pub fn unlock(conn: &mut Connection, server: Server, token: u32) -> crate::Result<()> {
    match server {
        Server::Postgres => conn
            .query_scalar::<bool>(
                "SELECT pg_advisory_unlock($1, $2)",
                &[Value::I32(PG_LOCK_CLASS), Value::I32(token as i32)],
            )
            .map(drop),
        Server::MySql => {
            conn.query_scalar::<Option<i64>>("SELECT RELEASE_LOCK(?)", &[Value::Text(lock_name(token))]).map(drop)
        }
    }
}

/// The token of a name this module makes (`ath_<token>_…`, lower-case letters, digits and `_`
/// only), or `None` for any other name.
pub fn token_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let (digits, _) = rest.split_once('_')?;
    if digits.is_empty() || digits.len() > 10 {
        return None;
    }
    digits.parse().ok()
}

/// One thing a test made on a server.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Leftover {
    /// A PostgreSQL schema in the configured database.
    Schema(String),
    /// A database (PostgreSQL or MySQL).
    Database(String),
}

impl Leftover {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Leftover::Schema(n) | Leftover::Database(n) => n,
        }
    }
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leftover::Schema(n) => write!(f, "schema {n}"),
            Leftover::Database(n) => write!(f, "database {n}"),
        }
    }
}

/// Every `ath_<token>_…` schema and database on the server `conn` is connected to, live
/// owners' included.
///
/// # Errors
/// The catalog query fails.
pub fn list(conn: &mut Connection, server: Server) -> crate::Result<Vec<Leftover>> {
    let pattern = Value::Text(format!("{}%", PREFIX.replace('_', "\\_")));
    let mut out = Vec::new();
    let names = |conn: &mut Connection, sql: &str| -> crate::Result<Vec<String>> {
        conn.query(sql, std::slice::from_ref(&pattern))?.iter().map(|r| r.get::<String>(0)).collect()
    };
    match server {
        Server::Postgres => {
            for n in names(conn, "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1")? {
                out.push(Leftover::Schema(n));
            }
            for n in names(conn, "SELECT datname FROM pg_database WHERE datname LIKE $1")? {
                out.push(Leftover::Database(n));
            }
        }
        Server::MySql => {
            for n in names(conn, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?")? {
                out.push(Leftover::Database(n));
            }
        }
    }
    out.retain(|l| token_of(l.name()).is_some());
    out.sort();
    Ok(out)
}

/// Drop the leftovers of every process that is gone (see the module docs), from `conn`; the
/// names of token `skip` are left alone (this process's own: a session lock is re-entrant, so
/// taking it again would succeed). Returns how many were dropped. Failures are printed, not
/// returned: the next sweep tries again.
///
/// A process's first sweep, right after it took its token, passes no `skip`: names with that
/// token made before were made by an earlier holder of the number, which is gone.
pub fn sweep(conn: &mut Connection, server: Server, skip: Option<u32>) -> usize {
    let found = match list(conn, server) {
        Ok(found) => found,
        Err(e) => {
            say(&format!("LEFTOVER sweep on {server:?} could not list: {e}"));
            return 0;
        }
    };
    let mut by_token: BTreeMap<u32, Vec<Leftover>> = BTreeMap::new();
    for l in found {
        if let Some(t) = token_of(l.name()).filter(|t| Some(*t) != skip) {
            by_token.entry(t).or_default().push(l);
        }
    }
    let mut dropped = 0usize;
    for (token, items) in by_token {
        match try_lock(conn, server, token) {
            Ok(true) => {}
            Ok(false) => continue, // a live process
            Err(e) => {
                say(&format!("LEFTOVER sweep on {server:?}: {e}"));
                break;
            }
        }
        for l in &items {
            match drop_leftover(conn, server, l) {
                Ok(()) => dropped += 1,
                Err(e) => say(&format!("LEFTOVER {l} of a finished test process could not be dropped: {e}")),
            }
        }
        if let Err(e) = unlock(conn, server, token) {
            say(&format!("LEFTOVER sweep on {server:?} could not release lock {token}: {e}"));
        }
    }
    if dropped > 0 {
        say(&format!("SWEPT {dropped} schema(s)/database(s) left by finished test processes on {server:?}"));
    }
    dropped
}

/// Drop one leftover on `conn`, waiting at most [`DROP_LOCK_WAIT_SECONDS`] for locks.
///
/// # Errors
/// The name is not one this module makes, or the server refuses or times out.
pub fn drop_leftover(conn: &mut Connection, server: Server, what: &Leftover) -> crate::Result<()> {
    let name = what.name();
    // The name is interpolated as an identifier: only names of our own form are accepted.
    if token_of(name).is_none() {
        return Err(crate::Error::invalid_request(format!("not a test-made name: {name}")));
    }
    match (server, what) {
        (Server::Postgres, Leftover::Schema(_)) => {
            conn.batch_execute(&format!("SET lock_timeout = '{DROP_LOCK_WAIT_SECONDS}s'"))?;
            conn.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
        }
        (Server::Postgres, Leftover::Database(_)) => {
            conn.batch_execute(&format!("SET lock_timeout = '{DROP_LOCK_WAIT_SECONDS}s'"))?;
            // WITH (FORCE) (PostgreSQL 13+) ends sessions a killed test left behind.
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .or_else(|_| conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\"")))
        }
        (Server::MySql, _) => {
            conn.batch_execute(&format!("SET SESSION lock_wait_timeout = {DROP_LOCK_WAIT_SECONDS}"))?;
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"))
        }
    }
}

/// `ath_<token>_<label>` for this process on the server `server_url` names: lower case, only
/// letters, digits and `_`, at most 60 bytes (a long label ends in a hash of the whole).
///
/// # Errors
/// As [`owner`].
pub fn name(server_url: &str, label: &str) -> Result<String, String> {
    Ok(name_for(owner(server_url)?, label))
}

/// `ath_<token>_<label>`, shortened as [`name`] describes.
pub fn name_for(token: u32, label: &str) -> String {
    let mut name = format!("{PREFIX}{token}_{label}").to_ascii_lowercase();
    name.retain(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.len() > 60 {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
        name.truncate(48);
        name.push_str(&format!("_{:x}", h & 0xffff_ffff));
    }
    name
}

/// Something a test made, dropped when the guard is (a test's end, or the unwinding of its
/// panic), unless [`keep`] says otherwise. Declare it after (so drop it after) every engine on
/// it.
pub struct Scratch {
    what: What,
    kept: bool,
}

enum What {
    Server { admin: Engine, server: Server, item: Leftover },
    File(PathBuf),
}

impl Scratch {
    /// A guard for the schema `name` on the PostgreSQL server `admin` is connected to.
    pub fn schema(admin: Engine, name: String) -> Scratch {
        Scratch { what: What::Server { admin, server: Server::Postgres, item: Leftover::Schema(name) }, kept: false }
    }

    /// A guard for the database `name` on the server `admin` is connected to.
    pub fn database(admin: Engine, server: Server, name: String) -> Scratch {
        Scratch { what: What::Server { admin, server, item: Leftover::Database(name) }, kept: false }
    }

    /// A guard for an SQLite file (and its `-wal`, `-shm`, `-journal` companions).
    pub fn file(path: PathBuf) -> Scratch {
        Scratch { what: What::File(path), kept: false }
    }

    /// A fresh, empty database of this process on the server `server_url` names (a URL of an
    /// existing database there, such as `ATHANOR_TEST_MYSQL_URL`): `ath_<token>_<label>`.
    /// Returns the guard and the new database's URL.
    ///
    /// # Errors
    /// The server cannot be reached or refuses.
    pub fn fresh_database(server_url: &str, label: &str) -> Result<(Scratch, String), String> {
        let server = Server::of(server_url).ok_or_else(|| format!("not a server URL: {server_url}"))?;
        let name = name(server_url, label)?;
        let url = crate::backend::ConnectOptions::parse(server_url)
            .and_then(|o| o.with_database(&name))
            .map_err(|e| e.to_string())?;
        let admin = create_engine(&with_option(server_url, "pool_timeout", "10")).map_err(|e| e.to_string())?;
        let guard = Scratch::database(admin, server, name);
        crate::admin::drop_database(&url, true).map_err(|e| e.to_string())?;
        crate::admin::create_database(&url, false).map_err(|e| e.to_string())?;
        Ok((guard, url))
    }

    /// Keep what the guard holds when it is dropped (a `KEPT` line names it); the next test
    /// process's sweep drops it unless [`KEEP_VAR`] is set then.
    pub fn retain(&mut self) {
        self.kept = true;
    }

    /// What the guard holds: `schema <name>`, `database <name>`, or a path.
    pub fn describe(&self) -> String {
        match &self.what {
            What::Server { item, .. } => item.to_string(),
            What::File(p) => p.display().to_string(),
        }
    }

    /// The schema or database name, for a server object.
    pub fn name(&self) -> Option<&str> {
        match &self.what {
            What::Server { item, .. } => Some(item.name()),
            _ => None,
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let described = self.describe();
        if keep() || self.kept {
            let why = if self.kept { "kept after a failure" } else { "ATHANOR_TEST_KEEP is set" };
            return say(&format!("KEPT {described} ({why})"));
        }
        let failed = match &mut self.what {
            What::Server { admin, server, item } => {
                admin.connect().and_then(|mut c| drop_leftover(&mut c, *server, item)).err().map(|e| e.to_string())
            }
            What::File(path) => {
                let mut err = None;
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    match std::fs::remove_file(&p) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => err = Some(e.to_string()),
                        _ => {}
                    }
                }
                err
            }
        };
        if let Some(e) = failed {
            say(&format!("LEFTOVER {described} could not be dropped: {e}"));
        }
    }
}
