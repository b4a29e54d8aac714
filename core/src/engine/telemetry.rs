//! Statement telemetry: one `tracing` span per statement named and attributed by OpenTelemetry's
//! stable database conventions, the `echo` and parameter events, the `slow_statement` warnings
//! (at the end of a statement and, from a per-engine watchdog thread, while it still runs), and
//! the pool's gauges.
//!
//! Nothing here installs a subscriber: the application's (or none) receives what is emitted. With
//! no subscriber interested in target `athanor::sql`, a statement costs one disabled-callsite
//! check and two clock reads (measured in BENCHMARKS.md).

use crate::error::Error;
use crate::url::ConnectOptions;
use crate::value::ValueRef;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tracing::field::Empty;
use tracing::{Dispatch, Span};

/// The `tracing` target of statement spans and events.
pub const SQL_TARGET: &str = "athanor::sql";

/// The pool's gauges and counters at one moment ([`crate::Engine::pool_metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolMetrics {
    /// The most connections the pool opens (`pool_size`).
    pub max_size: u32,
    /// Open connections, in use or idle.
    pub connections: u32,
    /// Connections checked out now.
    pub in_use: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// Callers waiting now for a connection to come free.
    pub waiters: u64,
    /// How many checkouts ended in [`Error::PoolTimeout`] since the engine was made.
    pub timeouts: u64,
}

/// The fixed attributes of an engine's statement spans, read once from its URL.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    pub(super) address: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) namespace: Option<String>,
    /// `host:port` (or `host`), what a [`crate::StatementEvent`] names as its node.
    pub(super) label: Option<String>,
}

impl Node {
    pub(super) fn of(options: &ConnectOptions) -> Node {
        let label = options.host.as_ref().map(|h| match options.port {
            Some(p) => format!("{h}:{p}"),
            None => h.clone(),
        });
        Node { address: options.host.clone(), port: options.port, namespace: options.database.clone(), label }
    }
}

/// A statement being run: its span (disabled when nobody listens), its start, and its entry in
/// the slow-statement watchdog.
pub(super) struct Started {
    pub(super) span: Span,
    pub(super) start: Instant,
    pub(super) watch: Option<u64>,
    /// The statement and its parameters as `echo` prints them at the end, when echo is on.
    pub(super) echo: Option<String>,
}

/// The operation (first keyword, upper case as written) and the table a statement works on,
/// read from its text without parsing it: `INSERT INTO "users" …` → (`INSERT`, `users`).
pub fn summarize(sql: &str) -> (String, Option<String>) {
    let mut words = sql.split_whitespace();
    let op = words.next().unwrap_or("").trim_end_matches(';').to_ascii_uppercase();
    let after = |key: &str| -> Option<String> {
        let mut it = sql.split_whitespace();
        while let Some(w) = it.next() {
            if w.eq_ignore_ascii_case(key) {
                return it.next().filter(|w| !w.starts_with('(')).map(unquote).filter(|t| !t.is_empty());
            }
        }
        None
    };
    let table = match op.as_str() {
        "SELECT" | "DELETE" | "WITH" => after("FROM"),
        "INSERT" | "REPLACE" => after("INTO"),
        "UPDATE" => words.next().map(unquote),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => after("TABLE"),
        _ => None,
    };
    (op, table)
}

fn unquote(word: &str) -> String {
    word.chars().filter(|c| !matches!(c, '"' | '`' | '[' | ']' | '(' | ')' | ',' | ';')).collect()
}

/// OpenTelemetry's `db.system.name` for a dialect name and the server's version text.
pub fn system_name(dialect: &str, server_version: Option<&str>) -> &'static str {
    match dialect {
        "sqlite" => "sqlite",
        "postgres" => "postgresql",
        "mysql" if server_version.is_some_and(|v| v.to_ascii_lowercase().contains("mariadb")) => "mariadb",
        "mysql" => "mysql",
        _ => "other_sql",
    }
}

/// A point in a count of statements: taken by `Engine::statement_mark` or
/// `Session::statement_mark`, given back to the same one's `statements_since` (a mark of one
/// counter means nothing to another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatementMark(pub u64);

/// The low-cardinality `error.type` of an error: its kind, in snake case.
pub fn error_type(e: &Error) -> &'static str {
    match e {
        Error::Config { .. } => "config",
        Error::Connection { .. } => "connection",
        Error::PoolTimeout { .. } => "pool_timeout",
        Error::Integrity { .. } => "integrity",
        Error::SerializationFailure { .. } => "serialization_failure",
        Error::Timeout { .. } => "timeout",
        Error::ReadOnly { .. } => "read_only",
        Error::TypeMismatch { .. } => "type_mismatch",
        Error::InvalidRequest { .. } => "invalid_request",
        Error::InvalidValue { .. } => "invalid_value",
        Error::Unsupported { .. } => "unsupported",
        Error::Database { .. } => "database",
        _ => "other",
    }
}

/// Open the span of one statement (disabled, and nothing computed, when no subscriber wants
/// INFO spans of [`SQL_TARGET`]). Every field known at the start is given at creation, so a
/// subscriber formats them once; absent ones (`None`) are left out.
pub(super) fn statement_span(
    system: impl FnOnce() -> &'static str,
    node: &Node,
    role: Option<&'static str>,
    sql: &str,
    tx: Option<u64>,
) -> Span {
    // Evaluated only when the span is enabled (the macro's fields are), and then once.
    let parsed = std::cell::OnceCell::new();
    let summary = || {
        parsed.get_or_init(|| {
            let (op, table) = summarize(sql);
            let summary = match &table {
                Some(t) => format!("{op} {t}"),
                None => op.clone(),
            };
            (op, table, summary)
        })
    };
    tracing::info_span!(
        target: "athanor::sql",
        "db.statement",
        otel.name = summary().2.as_str(),
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = system(),
        db.namespace = node.namespace.as_deref(),
        db.operation.name = summary().0.as_str(),
        db.collection.name = summary().1.as_deref(),
        db.query.summary = summary().2.as_str(),
        db.query.text = sql,
        server.address = node.address.as_deref(),
        server.port = node.port,
        db.node = role,
        athanor.transaction = tx,
        db.response.returned_rows = Empty,
        athanor.rows_affected = Empty,
        db.client.operation.duration = Empty,
        error.type = Empty,
    )
}

/// The parameters as the DEBUG event and `echo` print them.
pub(super) fn describe_params(params: &[ValueRef<'_>]) -> String {
    format!("{params:?}")
}

/// What ended a statement, for its span and the events after it.
pub(super) struct Ended<'a> {
    pub(super) duration: Duration,
    /// Rows returned (a query) or affected (a write); `None` for an unprepared statement.
    pub(super) rows: Option<u64>,
    pub(super) query: bool,
    pub(super) error: Option<&'a Error>,
}

/// Record the end of a statement on its span.
pub(super) fn record_end(span: &Span, end: &Ended<'_>) {
    if span.is_disabled() {
        return;
    }
    span.record("db.client.operation.duration", end.duration.as_secs_f64());
    match (end.rows, end.query) {
        (Some(n), true) => span.record("db.response.returned_rows", n),
        (Some(n), false) => span.record("athanor.rows_affected", n),
        _ => span,
    };
    if let Some(e) = end.error {
        span.record("error.type", error_type(e));
        span.record("otel.status_code", "ERROR");
    }
    // tracing-opentelemetry's MetricsLayer turns `histogram.*` fields into histograms.
    span.in_scope(|| {
        tracing::event!(
            target: "athanor::sql",
            tracing::Level::DEBUG,
            histogram.db.client.operation.duration = end.duration.as_secs_f64(),
            "statement finished"
        );
    });
}

/// A statement the watchdog watches: when it started, its text, its span, and the subscriber
/// that was the caller's (the warning goes to it, from the watchdog's thread).
struct InFlight {
    start: Instant,
    sql: Box<str>,
    span: Span,
    dispatch: Dispatch,
    warned: bool,
}

/// The `slow_statement` threshold and the statements running under it.
pub(super) struct SlowWatch {
    threshold: Duration,
    next: AtomicU64,
    running: Mutex<HashMap<u64, InFlight>>,
    thread: Mutex<bool>,
}

impl SlowWatch {
    pub(super) fn new(threshold: Duration) -> Arc<SlowWatch> {
        Arc::new(SlowWatch {
            threshold,
            next: AtomicU64::new(0),
            running: Mutex::new(HashMap::new()),
            thread: Mutex::new(false),
        })
    }

    /// Register a statement that starts now; starts the watchdog on the first one.
    pub(super) fn enter(self: &Arc<Self>, sql: &str, span: &Span, start: Instant) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let dispatch = tracing::dispatcher::get_default(Dispatch::clone);
        if let Ok(mut running) = self.running.lock() {
            running.insert(id, InFlight { start, sql: sql.into(), span: span.clone(), dispatch, warned: false });
        }
        self.start_watchdog();
        id
    }

    /// Forget a statement that ended; the WARN of a slow one is the caller's (see
    /// [`SlowWatch::threshold`]).
    pub(super) fn leave(&self, id: u64) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
        }
    }

    pub(super) fn threshold(&self) -> Duration {
        self.threshold
    }

    fn start_watchdog(self: &Arc<Self>) {
        let Ok(mut started) = self.thread.lock() else { return };
        if *started {
            return;
        }
        let weak: Weak<SlowWatch> = Arc::downgrade(self);
        let tick = (self.threshold / 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let spawned = std::thread::Builder::new().name("athanor-slow-watch".into()).spawn(move || loop {
            std::thread::sleep(tick);
            // The engine is gone: so is the watch.
            let Some(watch) = weak.upgrade() else { return };
            watch.check();
        });
        match spawned {
            Ok(_) => *started = true,
            Err(e) => tracing::debug!(target: "athanor::sql", "no slow_statement watchdog thread: {e}"),
        }
    }

    /// Warn once about each statement that has run longer than the threshold.
    fn check(&self) {
        let Ok(mut running) = self.running.lock() else { return };
        for flight in running.values_mut().filter(|f| !f.warned) {
            let elapsed = flight.start.elapsed();
            if elapsed >= self.threshold {
                flight.warned = true;
                tracing::dispatcher::with_default(&flight.dispatch, || {
                    let _entered = flight.span.enter();
                    tracing::warn!(
                        target: "athanor::sql",
                        query = &*flight.sql,
                        elapsed_ms = elapsed.as_millis() as u64,
                        threshold_ms = self.threshold.as_millis() as u64,
                        "slow statement still running"
                    );
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_name_the_operation_and_the_table() {
        let s = |sql: &str| {
            let (op, t) = summarize(sql);
            (op, t.unwrap_or_default())
        };
        assert_eq!(s("SELECT \"u\".\"id\" FROM \"users\" AS \"u\" WHERE x = $1"), ("SELECT".into(), "users".into()));
        assert_eq!(s("insert into `orders` (`a`) VALUES (?)"), ("INSERT".into(), "orders".into()));
        assert_eq!(s("UPDATE \"users\" SET \"name\" = ?"), ("UPDATE".into(), "users".into()));
        assert_eq!(s("DELETE FROM t WHERE id = 1"), ("DELETE".into(), "t".into()));
        assert_eq!(s("CREATE TABLE \"a\" (id INTEGER)"), ("CREATE".into(), "a".into()));
        assert_eq!(s("SELECT count(*) FROM (SELECT 1) AS s"), ("SELECT".into(), String::new()));
        assert_eq!(s("BEGIN"), ("BEGIN".into(), String::new()));
        assert_eq!(s(""), (String::new(), String::new()));
    }

    #[test]
    fn system_names_follow_the_conventions() {
        assert_eq!(system_name("postgres", Some("16.2")), "postgresql");
        assert_eq!(system_name("mysql", Some("10.11.6-MariaDB")), "mariadb");
        assert_eq!(system_name("mysql", Some("8.0.36")), "mysql");
        assert_eq!(system_name("sqlite", None), "sqlite");
    }
}
