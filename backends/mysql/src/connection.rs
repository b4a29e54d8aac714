//! [`MySqlConnection`]: one physical connection, implementing [`RawConnection`].

use crate::error::{connect_error, map_error, server_code, UNSUPPORTED_IN_PREPARED};
use crate::value::{to_params, MySqlRow};
use athanor_core::{Capabilities, Error, KeyRecovery, RawConnection, Result, Row, Timeouts, ValueRef};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Params, QueryResult, Value};
use std::sync::atomic::{AtomicBool, Ordering};

/// The bytes a long-data packet adds to a value, plus one (the server wants packets shorter than
/// `max_allowed_packet`).
const PACKET_OVERHEAD: u64 = 8;

/// One connection to a MySQL or MariaDB server.
///
/// Prepared statements are cached by SQL text (by the driver, 256 per connection). Once an error
/// shows that the connection was lost, every further call fails with [`Error::Connection`]
/// (`disconnect: true`) without touching the network, and [`RawConnection::is_broken`] is `true`.
pub struct MySqlConnection {
    conn: Conn,
    broken: bool,
    last_insert_id: Option<u64>,
    /// Whether the server promises consecutive keys for one multi-row INSERT, as read at connect
    /// (reported through [`RawConnection::adjust_capabilities`]).
    consecutive_insert_keys: bool,
    /// `@@version`, read at connect.
    server_version: Option<String>,
    /// `@@max_allowed_packet`: the largest value the server accepts in one parameter.
    max_value_bytes: Option<u64>,
}

impl std::fmt::Debug for MySqlConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlConnection")
            .field("connection_id", &self.conn.connection_id())
            .field("broken", &self.broken)
            .field("consecutive_insert_keys", &self.consecutive_insert_keys)
            .finish()
    }
}

impl MySqlConnection {
    /// Connect; `warned` is the driver's "already warned about non-consecutive keys" flag, so a
    /// pool logs the warning once rather than once per connection.
    pub(crate) fn connect(opts: Opts, target: &str, warned: &AtomicBool, timeouts: Timeouts) -> Result<Self> {
        let mut conn = Conn::new(opts).map_err(|e| connect_error(e, target))?;
        let settings = read_server_settings(&mut conn).map_err(|e| connect_error(e, target))?;
        let mariadb = settings.version.as_deref().is_some_and(|v| v.contains("MariaDB"));
        for sql in timeout_statements(timeouts, mariadb) {
            conn.query_drop(&sql).map_err(|e| connect_error(e, target))?;
        }
        let (increment, lock_mode) = (settings.autoinc_increment, settings.autoinc_lock_mode);
        let consecutive_insert_keys = keys_are_consecutive(increment, lock_mode);
        let server_version = settings.version.clone().or_else(|| {
            let (major, minor, patch) = conn.server_version();
            Some(format!("{major}.{minor}.{patch}"))
        });
        if !consecutive_insert_keys {
            let (increment, lock_mode) = (describe(increment), describe(lock_mode));
            if warned.swap(true, Ordering::Relaxed) {
                tracing::debug!(
                    target: "athanor::mysql",
                    "{target}: auto_increment_increment = {increment}, innodb_autoinc_lock_mode = {lock_mode}"
                );
            } else {
                tracing::warn!(
                    target: "athanor::mysql",
                    "{target}: auto_increment_increment = {increment}, innodb_autoinc_lock_mode = {lock_mode}: the \
                     keys of a multi-row INSERT may not be consecutive under concurrent inserts (they are when the \
                     increment is 1 and the lock mode 0 or 1)"
                );
            }
        }
        Ok(MySqlConnection {
            conn,
            broken: false,
            last_insert_id: None,
            consecutive_insert_keys,
            server_version,
            max_value_bytes: settings.max_allowed_packet.and_then(|m| u64::try_from(m).ok()),
        })
    }

    /// The server's version (`@@version`, e.g. `10.11.6-MariaDB-0+deb12u1` or `8.0.36`), as
    /// read at connect.
    pub fn server_version(&self) -> Option<&str> {
        self.server_version.as_deref()
    }

    /// The server's id for this connection (`CONNECTION_ID()`, the argument of `KILL`).
    pub fn connection_id(&self) -> u32 {
        self.conn.connection_id()
    }

    fn check_open(&self) -> Result<()> {
        if self.broken {
            Err(Error::Connection {
                message: "the connection to the server was lost earlier; take a new one".into(),
                disconnect: true,
                source: None,
            })
        } else {
            Ok(())
        }
    }

    /// Refuse a text or blob parameter that does not fit in `@@max_allowed_packet` before sending
    /// it: the server would answer by closing the connection (error 1153). A large value travels
    /// in `COM_STMT_SEND_LONG_DATA` packets with a 7-byte header, so the largest value accepted is
    /// `max_allowed_packet - 8` bytes.
    fn check_sizes(&self, params: &[ValueRef<'_>]) -> Result<()> {
        let Some(max) = self.max_value_bytes else { return Ok(()) };
        for (i, p) in params.iter().enumerate() {
            let len = match p {
                ValueRef::Text(s) => s.len(),
                ValueRef::Blob(b) => b.len(),
                _ => continue,
            };
            if len as u64 + PACKET_OVERHEAD > max {
                return Err(Error::Database {
                    code: "1153".into(),
                    message: format!(
                        "parameter {} is {len} bytes, more than the server's max_allowed_packet ({max} bytes) \
                         allows; nothing was sent",
                        i + 1
                    ),
                    source: None,
                });
            }
        }
        Ok(())
    }

    /// Map a driver error, remembering a disconnect.
    fn fail(&mut self, err: mysql::Error) -> Error {
        let e = map_error(err);
        if e.is_disconnect() {
            self.broken = true;
        }
        e
    }

    /// The outcome of [`read_rows`]: the callback's error if any, else the driver's; a disconnect
    /// reported by the driver is remembered either way.
    fn finish_rows(&mut self, callback: Option<Error>, driver: Option<mysql::Error>) -> Result<()> {
        let driver = driver.map(|e| self.fail(e));
        match (callback, driver) {
            (Some(e), _) | (None, Some(e)) => Err(e),
            (None, None) => Ok(()),
        }
    }

    fn remember_insert_id(&mut self, id: Option<u64>) {
        // Like LAST_INSERT_ID(): only a statement that generated a key changes it.
        if let Some(id) = id.filter(|&id| id != 0) {
            self.last_insert_id = Some(id);
        }
    }
}

/// The session settings for the engine's timeouts.
///
/// - `statement_timeout`: MariaDB's `max_statement_time` (seconds, to the microsecond; every
///   statement, error 1969); MySQL's `max_execution_time` (milliseconds; read-only `SELECT`
///   statements only, error 3024: MySQL has no bound for other statements).
/// - `lock_timeout`: `innodb_lock_wait_timeout` (row locks) and `lock_wait_timeout` (metadata
///   locks: a table altered or dropped meanwhile), both whole seconds: the bound is rounded up,
///   1 s at least (error 1205 for both).
fn timeout_statements(t: Timeouts, mariadb: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = t.statement {
        out.push(if mariadb {
            format!("SET SESSION max_statement_time = {}.{:06}", d.as_secs(), d.subsec_micros())
        } else {
            format!("SET SESSION max_execution_time = {}", d.as_millis().max(1))
        });
    }
    if let Some(d) = t.lock {
        let secs = d.as_millis().div_ceil(1000).max(1);
        out.push(format!("SET SESSION innodb_lock_wait_timeout = {secs}"));
        out.push(format!("SET SESSION lock_wait_timeout = {secs}"));
    }
    out
}

/// MySQL promises consecutive keys for the rows of one INSERT when the increment is 1 and the
/// lock mode is traditional (0) or consecutive (1); unknown settings count as "no".
fn keys_are_consecutive(increment: Option<i64>, lock_mode: Option<i64>) -> bool {
    increment == Some(1) && matches!(lock_mode, Some(0 | 1))
}

fn describe(v: Option<i64>) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| v.to_string())
}

/// What the backend reads from the server at connect (`None` where the server has no such
/// variable or does not give a number).
#[derive(Debug, Default)]
struct ServerSettings {
    autoinc_increment: Option<i64>,
    autoinc_lock_mode: Option<i64>,
    max_allowed_packet: Option<i64>,
    version: Option<String>,
}

fn read_server_settings(conn: &mut Conn) -> mysql::Result<ServerSettings> {
    let mut out = ServerSettings::default();
    let sql = "SELECT @@auto_increment_increment, @@max_allowed_packet, @@version, @@innodb_autoinc_lock_mode";
    let mut result = match conn.query_iter(sql) {
        Ok(r) => r,
        // ER_UNKNOWN_SYSTEM_VARIABLE: a server without InnoDB's variable.
        Err(e) if server_code(&e) == Some(1193) => return Ok(out),
        Err(e) => return Err(e),
    };
    if let Some(row) = result.next() {
        let row = row?;
        out.autoinc_increment = int_cell(row.as_ref(0));
        out.max_allowed_packet = int_cell(row.as_ref(1));
        out.version = text_cell(row.as_ref(2));
        out.autoinc_lock_mode = int_cell(row.as_ref(3));
    }
    drain(result)?;
    Ok(out)
}

fn text_cell(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Bytes(b) => std::str::from_utf8(b).ok().map(str::to_string).filter(|s| !s.is_empty()),
        _ => None,
    }
}

fn int_cell(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Int(i) => Some(*i),
        Value::UInt(u) => i64::try_from(*u).ok(),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// Read every remaining result set, surfacing the first error (the driver's own drop would
/// swallow an error of a later statement in a multi-statement batch).
fn drain<P: mysql::prelude::Protocol>(mut result: QueryResult<'_, '_, '_, P>) -> mysql::Result<()> {
    while let Some(set) = result.iter() {
        for row in set {
            row?;
        }
    }
    Ok(())
}

fn params(values: Vec<Value>) -> Params {
    if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values)
    }
}

/// `caps` as a connection that read these settings reports them: keys recovered from
/// `LAST_INSERT_ID()` one row per statement unless they are consecutive, and the version.
fn adjusted(caps: &mut Capabilities, consecutive_insert_keys: bool, server_version: Option<&str>) {
    if !consecutive_insert_keys && caps.key_recovery == KeyRecovery::LastInsertIdConsecutive {
        caps.key_recovery = KeyRecovery::LastInsertIdPerRow;
    }
    caps.server_version = server_version.map(str::to_string);
    // NOWAIT / SKIP LOCKED: MySQL 8.0.1+; MariaDB 10.3+ (NOWAIT) and 10.6+ (SKIP LOCKED).
    if let Some((major, minor)) = caps.server_version_number() {
        let mariadb = server_version.is_some_and(|v| v.contains("MariaDB"));
        let (nowait, skip) =
            if mariadb { ((major, minor) >= (10, 3), (major, minor) >= (10, 6)) } else { (major >= 8, major >= 8) };
        caps.lock_nowait &= nowait;
        caps.lock_skip_locked &= skip;
        // INSERT … RETURNING: MariaDB 10.5+ only.
        caps.insert_returning &= mariadb && (major, minor) >= (10, 5);
        // INTERSECT / EXCEPT: MariaDB 10.3+ (ALL forms 10.5+), MySQL 8.0.31+ (both).
        let (set_ops, set_ops_all) = if mariadb {
            ((major, minor) >= (10, 3), (major, minor) >= (10, 5))
        } else {
            let recent = version_at_least(server_version, (8, 0, 31));
            (recent, recent)
        };
        caps.intersect_except &= set_ops;
        caps.intersect_except_all &= set_ops_all;
    } else {
        caps.insert_returning = false;
    }
}

/// Whether `version` (`"8.0.36"`, `"8.0.31-log"`) is at least `min` (major, minor, patch).
fn version_at_least(version: Option<&str>, min: (u32, u32, u32)) -> bool {
    let Some(v) = version else { return false };
    let mut parts = v.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().ok());
    let mut next = || parts.next().flatten().unwrap_or(0);
    (next(), next(), next()) >= min
}

impl RawConnection for MySqlConnection {
    /// Reports what was read at connect: [`KeyRecovery::LastInsertIdPerRow`] in place of the
    /// dialect's [`KeyRecovery::LastInsertIdConsecutive`] when the server does not promise
    /// consecutive keys for one multi-row INSERT (`auto_increment_increment` other than 1, or
    /// `innodb_autoinc_lock_mode` 2, or either unknown), so that the unit of work inserts rows
    /// needing a generated key one per statement; and the server's `@@version`.
    fn adjust_capabilities(&self, caps: &mut Capabilities) {
        adjusted(caps, self.consecutive_insert_keys, self.server_version.as_deref());
    }

    fn execute(&mut self, sql: &str, params_in: &[ValueRef<'_>]) -> Result<u64> {
        self.check_open()?;
        self.check_sizes(params_in)?;
        let values = to_params(params_in)?;
        let outcome = if values.is_empty() {
            // No parameters: the text protocol, one round trip, no statement to cache.
            self.conn.query_iter(sql).and_then(|r| {
                let counts = (r.affected_rows(), r.last_insert_id());
                drain(r).map(|()| counts)
            })
        } else {
            self.conn.exec_iter(sql, params(values)).and_then(|r| {
                let counts = (r.affected_rows(), r.last_insert_id());
                drain(r).map(|()| counts)
            })
        };
        match outcome {
            Ok((affected, id)) => {
                self.remember_insert_id(id);
                Ok(affected)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn query(
        &mut self,
        sql: &str,
        params_in: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        self.check_open()?;
        self.check_sizes(params_in)?;
        let values = to_params(params_in)?;
        let no_params = values.is_empty();
        // Queries use the binary protocol even without parameters: its values are exact (MariaDB
        // prints FLOAT with 6 digits in the text protocol) and typed.
        let outcome = match self.conn.exec_iter(sql, params(values)) {
            Ok(result) => Ok(read_rows(result, on_row)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((callback, driver)) => self.finish_rows(callback, driver),
            // EXECUTE and a few other statements cannot be prepared: run them as text.
            Err(e) if no_params && server_code(&e) == Some(UNSUPPORTED_IN_PREPARED) => query_text(self, sql, on_row),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn batch_execute(&mut self, sql: &str) -> Result<()> {
        self.check_open()?;
        match self.conn.query_iter(sql).and_then(drain) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The key the last INSERT generated (`LAST_INSERT_ID()`: for a multi-row INSERT, the key of
    /// the *first* row). `None` before any statement on this connection generated a key.
    fn last_insert_id(&mut self) -> Result<Option<i64>> {
        self.check_open()?;
        match self.last_insert_id {
            None => Ok(None),
            Some(id) => i64::try_from(id).map(Some).map_err(|_| Error::TypeMismatch {
                column: "LAST_INSERT_ID()".into(),
                expected: "i64",
                found: format!("unsigned integer {id}"),
            }),
        }
    }

    fn ping(&mut self) -> Result<()> {
        self.check_open()?;
        self.conn.ping().map_err(|e| {
            // A failed ping always means the connection is unusable.
            self.broken = true;
            match map_error(e) {
                Error::Connection { message, source, .. } => Error::Connection { message, disconnect: true, source },
                other => Error::connection(other.to_string(), true).with_source(other),
            }
        })
    }

    fn is_broken(&self) -> bool {
        self.broken
    }
}

/// Run a parameterless query over the text protocol (statements that cannot be prepared).
fn query_text(this: &mut MySqlConnection, sql: &str, on_row: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
    let outcome = match this.conn.query_iter(sql) {
        Ok(result) => Ok(read_rows(result, on_row)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((callback, driver)) => this.finish_rows(callback, driver),
        Err(e) => Err(this.fail(e)),
    }
}

/// Feed every row of the first result set to `on_row` until it fails, then read what is left
/// (the remaining rows after an early stop, further result sets). The callback's error and the
/// driver's error, each if any.
fn read_rows<P: mysql::prelude::Protocol>(
    mut result: QueryResult<'_, '_, '_, P>,
    on_row: &mut dyn FnMut(&dyn Row) -> Result<()>,
) -> (Option<Error>, Option<mysql::Error>) {
    for row in result.by_ref() {
        match row {
            Ok(row) => {
                if let Err(e) = on_row(&MySqlRow::new(&row)) {
                    return (Some(e), drain(result).err());
                }
            }
            Err(e) => {
                // The driver moves to the next result set after an error; still read it all.
                let _ = drain(result);
                return (None, Some(e));
            }
        }
    }
    (None, drain(result).err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_per_server() {
        use std::time::Duration;
        let t = Timeouts { statement: Some(Duration::from_millis(1500)), lock: Some(Duration::from_millis(300)) };
        assert_eq!(
            timeout_statements(t, true),
            [
                "SET SESSION max_statement_time = 1.500000",
                "SET SESSION innodb_lock_wait_timeout = 1",
                "SET SESSION lock_wait_timeout = 1"
            ]
        );
        let t = Timeouts { statement: Some(Duration::from_millis(250)), lock: Some(Duration::from_millis(2001)) };
        assert_eq!(
            timeout_statements(t, false),
            [
                "SET SESSION max_execution_time = 250",
                "SET SESSION innodb_lock_wait_timeout = 3",
                "SET SESSION lock_wait_timeout = 3"
            ]
        );
        assert!(timeout_statements(Timeouts::default(), true).is_empty());
    }

    #[test]
    fn consecutive_keys_need_increment_1_and_lock_mode_0_or_1() {
        assert!(keys_are_consecutive(Some(1), Some(0)));
        assert!(keys_are_consecutive(Some(1), Some(1)));
        assert!(!keys_are_consecutive(Some(1), Some(2)));
        assert!(!keys_are_consecutive(Some(2), Some(1)));
        assert!(!keys_are_consecutive(None, Some(1)));
        assert!(!keys_are_consecutive(Some(1), None));
    }

    #[test]
    fn capabilities_report_non_consecutive_keys_and_the_version() {
        use athanor_core::Dialect as _;
        let sheet = athanor_dialects::MySqlDialect.capabilities().clone();
        let mut caps = sheet.clone();
        adjusted(&mut caps, true, Some("10.11.6-MariaDB"));
        assert_eq!(caps.key_recovery, KeyRecovery::LastInsertIdConsecutive);
        assert_eq!(caps.server_version.as_deref(), Some("10.11.6-MariaDB"));
        assert_eq!(Capabilities { server_version: None, ..caps }, sheet, "nothing else changes");
        // Row-lock options follow the server's version.
        let mut old = sheet.clone();
        adjusted(&mut old, true, Some("10.5.1-MariaDB"));
        assert!(old.lock_nowait && !old.lock_skip_locked);
        let mut my57 = sheet.clone();
        adjusted(&mut my57, true, Some("5.7.40-log"));
        assert!(!my57.lock_nowait && !my57.lock_skip_locked);
        let mut my8 = sheet.clone();
        adjusted(&mut my8, true, Some("8.0.36"));
        assert!(my8.lock_nowait && my8.lock_skip_locked);
        assert!(!my8.insert_returning && old.insert_returning, "MariaDB 10.5+ only");
        let mut m104 = sheet.clone();
        adjusted(&mut m104, true, Some("10.4.3-MariaDB"));
        assert!(!m104.insert_returning);
        assert!(m104.intersect_except && !m104.intersect_except_all, "INTERSECT ALL: MariaDB 10.5+");
        assert!(old.intersect_except && old.intersect_except_all);
        assert!(my8.intersect_except && my8.intersect_except_all, "MySQL 8.0.31+");
        let mut my830 = sheet.clone();
        adjusted(&mut my830, true, Some("8.0.30"));
        assert!(!my830.intersect_except && !my830.intersect_except_all);
        assert!(!my57.intersect_except);
        let mut caps = sheet.clone();
        adjusted(&mut caps, false, None);
        assert_eq!(caps.key_recovery, KeyRecovery::LastInsertIdPerRow);
        assert_eq!(caps.server_version, None);
    }

    #[test]
    fn int_cells() {
        assert_eq!(int_cell(Some(&Value::Bytes(b"2".to_vec()))), Some(2));
        assert_eq!(int_cell(Some(&Value::Int(1))), Some(1));
        assert_eq!(int_cell(Some(&Value::UInt(u64::MAX))), None);
        assert_eq!(int_cell(Some(&Value::NULL)), None);
        assert_eq!(int_cell(None), None);
    }
}
