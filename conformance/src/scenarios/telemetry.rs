//! Statement telemetry, read back from an in-memory `tracing` subscriber: one span per statement
//! with OpenTelemetry's stable database attributes, parameters only in DEBUG events (and never
//! with `hide_parameters`), the `slow_statement` warnings (while running and at the end), the
//! `after_statement` event and the pool's gauges.

use crate::harness::{normalize, TestDb};
use crate::models::*;
use athanor::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The fields of a span or an event, as text.
pub type Fields = BTreeMap<String, String>;

/// A closed span: its name and fields.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// The span's name.
    pub name: String,
    /// Its fields as recorded by the end.
    pub fields: Fields,
}

/// An event: its level, its fields (`message` included) and its parent span's fields.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The level.
    pub level: Level,
    /// The event's fields.
    pub fields: Fields,
    /// The fields of the span it happened in, if any.
    pub parent: Option<Fields>,
}

#[derive(Default)]
struct Store {
    open: HashMap<u64, SpanRecord>,
    closed: Vec<SpanRecord>,
    events: Vec<EventRecord>,
    /// The target kept, when not `athanor::sql` ([`Capture::for_target`]).
    target: Option<&'static str>,
}

/// An in-memory `tracing` layer that keeps every span and event of target `athanor::sql` (or of
/// the target given to [`Capture::for_target`]).
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Store>>);

struct Text<'a>(&'a mut Fields);
impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Capture {
    /// A capture of another target's spans and events (`athanor::session`).
    pub fn for_target(target: &'static str) -> Capture {
        let c = Capture::default();
        c.store().target = Some(target);
        c
    }
    fn wants(&self, target: &str) -> bool {
        target == self.store().target.unwrap_or("athanor::sql")
    }
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// The spans closed so far, in order.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.store().closed.clone()
    }
    /// The events so far, in order.
    pub fn events(&self) -> Vec<EventRecord> {
        self.store().events.clone()
    }
    /// Run `f` with this capture as the thread's subscriber.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::with_default(subscriber, f)
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        if !self.wants(attrs.metadata().target()) {
            return;
        }
        let mut fields = Fields::new();
        attrs.record(&mut Text(&mut fields));
        self.store().open.insert(id.into_u64(), SpanRecord { name: attrs.metadata().name().to_string(), fields });
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.store().open.get_mut(&id.into_u64()) {
            values.record(&mut Text(&mut span.fields));
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !self.wants(event.metadata().target()) {
            return;
        }
        let mut fields = Fields::new();
        event.record(&mut Text(&mut fields));
        let mut store = self.store();
        let parent = ctx.event_span(event).and_then(|s| store.open.get(&s.id().into_u64()).map(|r| r.fields.clone()));
        store.events.push(EventRecord { level: *event.metadata().level(), fields, parent });
    }
    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut store = self.store();
        if let Some(span) = store.open.remove(&id.into_u64()) {
            store.closed.push(span);
        }
    }
}

/// What an `after_statement` listener kept: the text, the rows, and whether it ran without error.
type Seen = (String, Option<u64>, bool);

fn with_option(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

/// A session's INSERT, COMMIT and SELECT, an autocommit statement and a failing one: each is one
/// span named `db.statement` with the stable OpenTelemetry attributes (`db.system.name`,
/// `db.query.text`, `db.query.summary`, `db.operation.name`, `db.collection.name`,
/// `server.address`/`server.port`, `error.type`), the duration, the rows, and the session's
/// transaction; the parameter values appear in DEBUG events only.
pub fn statement_spans_follow_the_opentelemetry_conventions(db: &TestDb) -> Result<()> {
    db.create_all()?;
    db.clear_sql();
    let capture = Capture::default();
    let failed = capture.run(|| -> Result<Error> {
        let s = db.session();
        s.add(Customer::new("ann", "ann@example.com", 41));
        s.commit()?;
        let found = s.query::<Customer>().filter(Customer::name.eq("ann")).all()?;
        assert_eq!(found.len(), 1);
        s.commit()?;
        let dup = db.session();
        dup.add(Customer::new("ann2", "ann@example.com", 7));
        Ok(dup.commit().expect_err("a duplicate email fails"))
    })?;
    assert!(matches!(failed, Error::Integrity { .. }), "{failed:?}");
    let spans = capture.spans();
    // One span per statement sent, in order, with the text the statement hook saw.
    let texts: Vec<String> = spans.iter().map(|s| normalize(field(&s.fields, "db.query.text"))).collect();
    assert_eq!(texts, db.take_sql());
    assert!(spans.iter().all(|s| s.name == "db.statement"));

    let system = athanor::telemetry::system_name(db.engine.dialect().name(), db.engine.server_version());
    let expected_system = match db.backend {
        "sqlite" => "sqlite",
        "postgres" => "postgresql",
        _ => system,
    };
    assert!(["mysql", "mariadb"].contains(&system) || system == expected_system);
    let options = athanor::backend::ConnectOptions::parse(&db.url)?;
    for s in &spans {
        let f = &s.fields;
        assert_eq!(field(f, "db.system.name"), expected_system, "{f:?}");
        assert_eq!(field(f, "otel.kind"), "client");
        assert_eq!(field(f, "server.address"), options.host.as_deref().unwrap_or(""), "{f:?}");
        assert_eq!(field(f, "server.port"), options.port.map(|p| p.to_string()).unwrap_or_default());
        let op = field(f, "db.operation.name");
        assert!(field(f, "db.query.text").to_ascii_uppercase().starts_with(op), "{f:?}");
        assert_eq!(field(f, "otel.name"), field(f, "db.query.summary"));
        let duration: f64 = field(f, "db.client.operation.duration").parse().expect("a duration in seconds");
        assert!(duration > 0.0 && duration < 60.0, "{f:?}");
        assert!(!f.values().any(|v| v.contains("ann@example.com")), "no parameter value in a span: {f:?}");
    }
    let inserts: Vec<&SpanRecord> =
        spans.iter().filter(|s| field(&s.fields, "db.operation.name") == "INSERT").collect();
    assert_eq!(inserts.len(), 2, "the good insert and the duplicate");
    let (good, dup) = (&inserts[0].fields, &inserts[1].fields);
    assert_eq!(field(good, "db.collection.name"), "customers");
    assert_eq!(field(good, "db.query.summary"), "INSERT customers");
    let rows = |f: &Fields| {
        f.get("athanor.rows_affected").or_else(|| f.get("db.response.returned_rows")).cloned().unwrap_or_default()
    };
    assert_eq!(rows(good), "1");
    assert_eq!(field(good, "error.type"), "");
    assert_eq!(field(dup, "error.type"), "integrity");
    assert_eq!(field(dup, "otel.status_code"), "ERROR");
    let select = spans
        .iter()
        .map(|s| &s.fields)
        .find(|f| field(f, "db.query.summary") == "SELECT customers")
        .expect("the query's span");
    assert_eq!(field(select, "db.response.returned_rows"), "1");
    // The session's transaction: its statements share one number, the next transaction has another.
    let tx = |f: &Fields| field(f, "athanor.transaction").to_string();
    assert!(!tx(good).is_empty());
    let commits: Vec<&Fields> =
        spans.iter().map(|s| &s.fields).filter(|f| field(f, "db.operation.name") == "COMMIT").collect();
    assert_eq!(tx(commits[0]), tx(good), "the INSERT and its COMMIT are one transaction");
    assert_ne!(tx(select), tx(good), "the query runs in the session's next transaction");
    assert_ne!(tx(dup), tx(good));
    // Parameters: in DEBUG events inside the statement's span, never at INFO.
    let events = capture.events();
    let with_params: Vec<&EventRecord> =
        events.iter().filter(|e| field(&e.fields, "params").contains("ann@example.com")).collect();
    assert!(!with_params.is_empty());
    assert!(with_params.iter().all(|e| e.level == Level::DEBUG));
    assert!(with_params.iter().all(|e| e.parent.as_ref().is_some_and(|p| field(p, "db.operation.name") == "INSERT")));
    assert!(events.iter().all(|e| e.level != Level::INFO), "quiet at INFO without echo");
    Ok(())
}

/// `hide_parameters=true` keeps parameter values out of every event, `echo`'s included; `echo`
/// logs each statement at its end with its duration and row count.
pub fn hide_parameters_and_echo(db: &TestDb) -> Result<()> {
    db.create_all()?;
    for hide in [false, true] {
        let url = with_option(&with_option(&db.url, "echo", "true"), "hide_parameters", &hide.to_string());
        let engine = create_engine(&url)?;
        let capture = Capture::default();
        capture.run(|| -> Result<()> {
            let s = sessionmaker(&engine).session();
            s.add(Customer::new("bo", &format!("bo{hide}@example.com"), 3));
            s.commit()
        })?;
        let events = capture.events();
        let echoed: Vec<&str> = events
            .iter()
            .filter(|e| e.level == Level::INFO)
            .map(|e| field(&e.fields, "message"))
            .filter(|m| m.starts_with("INSERT"))
            .collect();
        assert_eq!(echoed.len(), 1, "{events:?}");
        assert!(echoed[0].contains(" ms, 1 rows)"), "{}", echoed[0]);
        let leaked = events.iter().any(|e| e.fields.values().any(|v| v.contains("@example.com")));
        assert_eq!(leaked, !hide, "hide_parameters={hide}: {events:?}");
    }
    Ok(())
}

/// A statement that passes `slow_statement` is reported at WARN while it still runs (from the
/// engine's watchdog, to the caller's subscriber, inside the statement's span) and when it ends;
/// `after_statement` listeners see its duration and rows.
pub fn slow_statements_warn_while_running_and_after(db: &TestDb) -> Result<()> {
    let engine = create_engine(&with_option(&db.url, "slow_statement", "20"))?;
    let sql = match engine.dialect().name() {
        "postgres" => "SELECT 1 FROM pg_sleep(0.3)",
        "mysql" => "SELECT SLEEP(0.3)",
        _ => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c",
    };
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let sink = seen.clone();
    engine.after_statement(move |ev| {
        let ok = ev.duration.is_some() && ev.error.is_none();
        sink.lock().unwrap_or_else(|p| p.into_inner()).push((ev.sql.to_string(), ev.rows, ok));
    });
    let capture = Capture::default();
    capture.run(|| engine.connect()?.query(sql, &[]))?;
    let events = capture.events();
    let warns: Vec<&EventRecord> = events.iter().filter(|e| e.level == Level::WARN).collect();
    let message = |e: &EventRecord| field(&e.fields, "message").to_string();
    assert_eq!(warns.len(), 2, "{events:?}");
    assert_eq!(message(warns[0]), "slow statement still running");
    assert!(message(warns[1]).starts_with("slow statement took"), "{}", message(warns[1]));
    for w in &warns {
        assert_eq!(field(&w.fields, "query"), sql);
        assert_eq!(w.parent.as_ref().map(|p| field(p, "db.query.text").to_string()), Some(sql.to_string()), "{w:?}");
    }
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(seen, [(sql.to_string(), Some(1), true)]);
    // A quick statement does not warn.
    let quiet = Capture::default();
    quiet.run(|| engine.execute("SELECT 1", &[]))?;
    assert!(quiet.events().iter().all(|e| e.level != Level::WARN));
    Ok(())
}

/// The pool's gauges: connections in use and idle, and the timeouts counted.
pub fn pool_gauges_count_use_idle_and_timeouts(db: &TestDb) -> Result<()> {
    let engine = create_engine(&with_option(&with_option(&db.url, "pool_size", "1"), "pool_timeout", "0.2"))?;
    let held = engine.connect()?;
    let m = engine.pool_metrics();
    assert_eq!((m.max_size, m.connections, m.in_use, m.idle, m.waiters, m.timeouts), (1, 1, 1, 0, 0, 0));
    let e = engine.connect().expect_err("the one connection is in use");
    assert!(matches!(e, Error::PoolTimeout { .. }), "{e:?}");
    drop(held);
    let m = engine.pool_metrics();
    assert_eq!((m.connections, m.in_use, m.idle, m.waiters, m.timeouts), (1, 0, 1, 0, 1));
    Ok(())
}
