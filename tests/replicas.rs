//! Read replicas (docs/scaling.md, "Read replicas"): a session reads from a replica until it
//! writes, locks or asks for the primary; a replica that cannot be reached is skipped; a
//! consistency token taken after a commit makes a later session read from a replica only once
//! that replica has applied the commit, else from the primary.
//!
//! Needs a primary with a streaming replica per backend (`.ci/scale/replicas.sh start` makes
//! them): `ATHANOR_TEST_PG_PRIMARY_URL` / `ATHANOR_TEST_PG_REPLICA_URL` and
//! `ATHANOR_TEST_MYSQL_PRIMARY_URL` / `ATHANOR_TEST_MYSQL_REPLICA_URL` (MariaDB). Unset: one skip
//! line; set but unreachable under `CI=true`: a failure. The tests of this file take turns (one
//! pauses replication).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use athanor::testing::{in_ci, say_skipped};
use athanor::{ConsistencyToken, Session};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A note.
#[derive(Model, Debug, Clone, Default)]
#[model(table = "replica_notes")]
pub struct Note {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// Text.
    pub body: String,
}

/// One backend's primary and replica.
struct Pair {
    backend: &'static str,
    primary: String,
    replica: String,
}

impl Pair {
    /// The replica's `host:port`, as `?replicas=` takes it and a statement event names it.
    fn replica_node(&self) -> String {
        let o = athanor::backend::ConnectOptions::parse(&self.replica).unwrap();
        format!("{}:{}", o.host.unwrap(), o.port.unwrap())
    }

    /// The primary's URL with options (`&`-joined) added.
    fn url(&self, options: &str) -> String {
        let sep = if self.primary.contains('?') { '&' } else { '?' };
        format!("{}{sep}{options}", self.primary)
    }
}

fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The configured pairs that answer (with the skip rule for the others).
fn pairs() -> Vec<Pair> {
    let mut out = Vec::new();
    for (backend, var) in [("postgres", "PG"), ("mysql", "MYSQL")] {
        let p = std::env::var(format!("ATHANOR_TEST_{var}_PRIMARY_URL")).ok().filter(|v| !v.is_empty());
        let r = std::env::var(format!("ATHANOR_TEST_{var}_REPLICA_URL")).ok().filter(|v| !v.is_empty());
        let label = format!("{backend} replicas");
        let (Some(primary), Some(replica)) = (p, r) else {
            say_skipped(
                &label,
                &format!("ATHANOR_TEST_{var}_PRIMARY_URL / ATHANOR_TEST_{var}_REPLICA_URL are not set"),
            );
            continue;
        };
        let reach = |url: &str| create_engine(url).and_then(|e| e.connect().map(|_| ()));
        match reach(&primary).and_then(|_| reach(&replica)) {
            Ok(()) => out.push(Pair { backend, primary, replica }),
            Err(e) => {
                assert!(!in_ci(), "{label} are configured but unreachable under CI=true: {e}");
                say_skipped(&label, &format!("unreachable: {e}"));
            }
        }
    }
    out
}

/// Which node ran each statement of an engine (and its replicas): (replica?, node, SQL).
#[derive(Clone, Default)]
struct Nodes(Arc<Mutex<Vec<Ran>>>);

/// A statement's (replica?, node, SQL).
type Ran = (bool, Option<String>, String);

impl Nodes {
    fn watch(engine: &Engine) -> Nodes {
        let nodes = Nodes::default();
        let log = nodes.0.clone();
        engine.after_statement(move |ev| {
            log.lock().unwrap().push((ev.replica, ev.node.map(str::to_string), ev.sql.to_string()));
        });
        nodes
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// The nodes of the SELECTs on `replica_notes` since the last clear: `true` for a replica.
    fn note_reads(&self) -> Vec<(bool, Option<String>)> {
        let log = self.0.lock().unwrap();
        log.iter()
            .filter(|(_, _, sql)| sql.starts_with("SELECT") && sql.contains("replica_notes"))
            .map(|(r, n, _)| (*r, n.clone()))
            .collect()
    }

    /// Whether the last read of `replica_notes` ran on a replica.
    fn last_read_on_replica(&self) -> bool {
        let reads = self.note_reads();
        reads.last().expect("a read of replica_notes was sent").0
    }
}

/// Create the table on the primary (dropping any earlier one) and wait for the replica to have it.
fn setup(pair: &Pair) -> Engine {
    let primary = create_engine(&pair.primary).unwrap();
    primary.execute("DROP TABLE IF EXISTS replica_notes", &[]).unwrap();
    Base::new().register::<Note>().metadata().create_all(&primary).unwrap();
    let replica = create_engine(&pair.replica).unwrap();
    wait_until(pair, || {
        replica.connect()?.query_scalar::<i64>("SELECT COUNT(*) FROM replica_notes", &[]).map(|n| n == 0)
    });
    primary
}

fn teardown(primary: &Engine) {
    primary.execute("DROP TABLE IF EXISTS replica_notes", &[]).unwrap();
}

/// Poll `check` until it is true (replication is asynchronous), for at most 20 s.
fn wait_until(pair: &Pair, mut check: impl FnMut() -> athanor::Result<bool>) {
    let start = Instant::now();
    loop {
        if check().unwrap_or(false) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{}: the replica did not catch up", pair.backend);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(s: &Session) -> i64 {
    s.query::<Note>().all().unwrap().len() as i64
}

fn replicated_count(pair: &Pair, n: i64) {
    let replica = create_engine(&pair.replica).unwrap();
    wait_until(pair, || {
        replica.connect()?.query_scalar::<i64>("SELECT COUNT(*) FROM replica_notes", &[]).map(|c| c == n)
    });
}

#[test]
fn reads_go_to_the_replica_until_the_session_writes() {
    let _turn = turn();
    for pair in pairs() {
        let _ = setup(&pair);
        let engine = create_engine(&pair.url(&format!("replicas={}", pair.replica_node()))).unwrap();
        let nodes = Nodes::watch(&engine);
        let sessions = sessionmaker(&engine);

        // Reads of a session that has not written: the replica, named by the event.
        let s = sessions.session();
        assert_eq!(count(&s), 0);
        assert_eq!(nodes.note_reads(), [(true, Some(pair.replica_node()))], "{}", pair.backend);
        assert!(s.on_replica() && !s.is_bound_to_primary());
        // Its first write pins it to the primary, and its reads stay there (it sees its writes).
        s.add(Note { id: 1, body: "one".into() });
        s.flush().unwrap();
        assert!(!s.on_replica() && s.is_bound_to_primary());
        nodes.clear();
        assert_eq!(count(&s), 1);
        assert!(!nodes.last_read_on_replica(), "{}: a read after a flush went to the replica", pair.backend);
        s.commit().unwrap();
        nodes.clear();
        assert_eq!(count(&s), 1, "{}", pair.backend);
        assert!(!nodes.last_read_on_replica(), "{}: the session is pinned until it ends", pair.backend);
        let note = s.get::<Note>(1i64).unwrap().unwrap();
        assert_eq!(note.get().body, "one");
        drop(s);
        replicated_count(&pair, 1);

        // A new session reads from the replica again; its objects stay valid after it pins.
        let s = sessions.session();
        nodes.clear();
        let note = s.get::<Note>(1i64).unwrap().unwrap();
        assert!(nodes.last_read_on_replica(), "{}", pair.backend);
        note.edit(|n| n.body = "edited".into()).unwrap();
        s.commit().unwrap();
        assert!(s.is_bound_to_primary());
        assert_eq!(
            create_engine(&pair.primary)
                .unwrap()
                .connect()
                .unwrap()
                .query_scalar::<String>("SELECT body FROM replica_notes WHERE id = 1", &[])
                .unwrap(),
            "edited"
        );

        // FOR UPDATE pins.
        drop(s);
        let s = sessions.session();
        nodes.clear();
        assert_eq!(s.query::<Note>().with_for_update().all().unwrap().len(), 1);
        assert!(!nodes.last_read_on_replica() && s.is_bound_to_primary(), "{}: FOR UPDATE on a replica", pair.backend);
        s.rollback().unwrap();

        // bind_primary pins on request, after a replica read too.
        drop(s);
        let s = sessions.session();
        count(&s);
        assert!(s.on_replica());
        s.bind_primary();
        assert!(!s.on_replica());
        nodes.clear();
        count(&s);
        assert!(!nodes.last_read_on_replica(), "{}: bind_primary", pair.backend);

        // replica_reads(false): the primary only.
        drop(s);
        let s = sessions.clone().replica_reads(false).session();
        nodes.clear();
        count(&s);
        assert!(!nodes.last_read_on_replica(), "{}: replica_reads(false)", pair.backend);

        // write_intent: the session means to write, so it starts on the primary.
        drop(s);
        let s = sessions.clone().write_intent(true).session();
        nodes.clear();
        count(&s);
        assert!(!nodes.last_read_on_replica(), "{}: write_intent", pair.backend);

        // Reads without a transaction go to the replica too.
        drop(s);
        let s = sessions.clone().autocommit_reads(true).session();
        nodes.clear();
        count(&s);
        assert!(nodes.last_read_on_replica(), "{}: autocommit_reads", pair.backend);
        drop(s);
        let m = engine.replica_metrics();
        assert_eq!(m.replicas, 1);
        assert!(m.replica_reads >= 4, "{m:?}");
        teardown(&engine);
    }
}

#[test]
fn reads_rotate_over_the_replicas() {
    let _turn = turn();
    for pair in pairs() {
        let primary = setup(&pair);
        // Two names of the one replica: two replica engines, told apart by their node name.
        let port = pair.replica_node().rsplit_once(':').unwrap().1.to_string();
        let engine = create_engine(&pair.url(&format!("replicas=127.0.0.1:{port},localhost:{port}"))).unwrap();
        assert_eq!(engine.replicas().len(), 2);
        let nodes = Nodes::watch(&engine);
        for _ in 0..4 {
            count(&sessionmaker(&engine).session());
        }
        let seen: Vec<String> = nodes
            .note_reads()
            .into_iter()
            .map(|(r, n)| {
                assert!(r);
                n.unwrap()
            })
            .collect();
        let a = format!("127.0.0.1:{port}");
        let b = format!("localhost:{port}");
        assert!(seen == [a.as_str(), &b, &a, &b] || seen == [b.as_str(), &a, &b, &a], "{}: {seen:?}", pair.backend);
        teardown(&primary);
    }
}

#[test]
fn an_unreachable_replica_is_skipped_and_the_read_falls_back() {
    let _turn = turn();
    for pair in pairs() {
        let primary = setup(&pair);
        // A port nothing listens on (bound, then released).
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let engine = create_engine(&pair.url(&format!("replicas=127.0.0.1:{dead}&replica_backoff=60000"))).unwrap();
        let nodes = Nodes::watch(&engine);
        for _ in 0..3 {
            assert_eq!(count(&sessionmaker(&engine).session()), 0, "{}: no error, the primary answers", pair.backend);
        }
        assert!(nodes.note_reads().iter().all(|(r, _)| !r), "{}", pair.backend);
        let m = engine.replica_metrics();
        assert_eq!(m.backoffs, 1, "{}: tried once, then skipped for the back-off: {m:?}", pair.backend);
        assert_eq!(m.primary_fallbacks, 3, "{m:?}");

        // With a healthy replica beside it, reads go to the healthy one.
        let both = create_engine(&pair.url(&format!("replicas=127.0.0.1:{dead},{}", pair.replica_node()))).unwrap();
        let nodes = Nodes::watch(&both);
        for _ in 0..3 {
            count(&sessionmaker(&both).session());
        }
        assert!(nodes.note_reads().iter().all(|(r, _)| *r), "{}: {:?}", pair.backend, nodes.note_reads());
        teardown(&primary);
    }
}

/// Close every client connection to the replica's `test` database but the caller's (not the
/// replication threads).
fn kill_replica_clients(pair: &Pair) {
    let mut c = create_engine(&pair.replica).unwrap().connect().unwrap();
    if pair.backend == "postgres" {
        c.query(
            "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = 'test' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    } else {
        let ids: Vec<i64> = c
            .query(
                "SELECT id FROM information_schema.processlist WHERE db = 'test' AND command = 'Sleep' AND id <> CONNECTION_ID()",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get::<i64>(0).unwrap())
            .collect();
        for id in ids {
            c.execute(&format!("KILL {id}"), &[]).unwrap();
        }
    }
}

#[test]
fn a_replica_that_drops_a_connection_is_skipped() {
    let _turn = turn();
    for pair in pairs() {
        let primary = setup(&pair);
        let engine =
            create_engine(&pair.url(&format!("replicas={}&replica_backoff=60000", pair.replica_node()))).unwrap();
        let nodes = Nodes::watch(&engine);
        let sessions = sessionmaker(&engine);
        let s = sessions.session();
        count(&s);
        assert!(s.on_replica());
        kill_replica_clients(&pair);
        // The read that meets the lost connection fails, as on any engine …
        match s.query::<Note>().all() {
            Err(e) => assert!(e.is_disconnect(), "{}: {e:?}", pair.backend),
            Ok(_) => panic!("{}: a read on a killed connection succeeded", pair.backend),
        }
        s.rollback().unwrap();
        // … and the replica is skipped for its back-off: the next reads go to the primary.
        nodes.clear();
        assert_eq!(count(&s), 0);
        assert!(!nodes.last_read_on_replica(), "{}", pair.backend);
        assert_eq!(count(&sessions.session()), 0);
        assert!(!nodes.last_read_on_replica(), "{}", pair.backend);
        assert_eq!(engine.replica_metrics().backoffs, 1);
        drop(s);
        teardown(&primary);
    }
}

/// Stop (or restart) the replica's applying of changes.
fn pause_replica(pair: &Pair, pause: bool) {
    let mut c = create_engine(&pair.replica).unwrap().connect().unwrap();
    let sql = match (pair.backend, pause) {
        ("postgres", true) => "SELECT pg_wal_replay_pause()::text",
        ("postgres", false) => "SELECT pg_wal_replay_resume()::text",
        (_, true) => "STOP SLAVE SQL_THREAD",
        (_, false) => "START SLAVE SQL_THREAD",
    };
    if pair.backend == "postgres" {
        c.query(sql, &[]).unwrap();
    } else {
        c.execute(sql, &[]).unwrap();
    }
}

#[test]
fn a_token_reads_its_writes_past_a_lagging_replica() {
    let _turn = turn();
    for pair in pairs() {
        let primary = setup(&pair);
        let engine = create_engine(&pair.url(&format!("replicas={}", pair.replica_node()))).unwrap();
        let nodes = Nodes::watch(&engine);
        let sessions = sessionmaker(&engine);
        pause_replica(&pair, true);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let s = sessions.session();
            s.add(Note { id: 7, body: "written".into() });
            s.commit().unwrap();
            // The spelling of target-api-3.md: `commit_token()?`, then `sessions.after(&token)`.
            let token = s.commit_token().expect("a token after a commit that wrote");
            assert_eq!(s.consistency_token(), Some(token.clone()));
            assert_eq!(token.dialect(), engine.dialect().name());
            // The web app's cookie: text and back.
            let cookie = token.to_string();
            let token: ConsistencyToken = cookie.parse().unwrap();
            assert_eq!(token.to_string(), cookie);

            // Without the token: the lagging replica, which has not got the write (stale).
            let stale = sessions.session();
            nodes.clear();
            assert_eq!(count(&stale), 0, "{}: the paused replica shows the write", pair.backend);
            assert!(nodes.last_read_on_replica());
            // With it: the replica is behind, so the primary, which has it.
            let fresh = sessions.session_after(&token).unwrap();
            nodes.clear();
            assert_eq!(count(&fresh), 1, "{}: the token did not read its write", pair.backend);
            assert!(!nodes.last_read_on_replica(), "{}: read from a replica behind the token", pair.backend);
            assert!(engine.replica_metrics().lagging >= 1);
            assert_eq!(fresh.consistency_token(), Some(token.clone()));
            token
        }));
        pause_replica(&pair, false);
        let token = match outcome {
            Ok(t) => t,
            Err(p) => {
                teardown(&primary);
                std::panic::resume_unwind(p)
            }
        };
        // Once the replica has applied it, the token is satisfied there.
        replicated_count(&pair, 1);
        let s = sessions.after(&token).session();
        nodes.clear();
        assert_eq!(count(&s), 1);
        assert!(nodes.last_read_on_replica(), "{}: a caught-up replica was not used", pair.backend);
        drop(s);
        teardown(&primary);
    }
}

#[test]
fn tokens_parse_and_refuse_garbage() {
    let t = ConsistencyToken::parse("postgres:0/3000148").unwrap();
    assert_eq!((t.dialect(), t.position()), ("postgres", "0/3000148"));
    assert_eq!(t.to_string().parse::<ConsistencyToken>().unwrap(), t);
    let m = ConsistencyToken::parse("mysql:0-1-7,1-2-30").unwrap();
    assert_eq!(m.to_string(), "mysql:0-1-7,1-2-30");
    for bad in ["", "garbage", "postgres:", ":0/1", "postgres:0/1; DROP TABLE x", "a b:1"] {
        match ConsistencyToken::parse(bad) {
            Err(Error::InvalidRequest { message }) => assert!(!message.contains("DROP"), "echoes the input: {message}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert!(ConsistencyToken::parse(&format!("postgres:{}", "1".repeat(600))).is_err());
    // Whitespace around it (a header's, a cookie's) is not part of it.
    assert_eq!(ConsistencyToken::parse(" postgres:0/3000148\n").unwrap(), t);
}

#[test]
fn sqlite_has_no_replicas() {
    match create_engine("sqlite::memory:?replicas=127.0.0.1:5441") {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A token of another database is refused; without replicas nothing is routed.
    let engine = create_engine("sqlite::memory:").unwrap();
    assert!(!engine.has_replicas());
    let token = ConsistencyToken::parse("postgres:0/1").unwrap();
    assert!(matches!(sessionmaker(&engine).session_after(&token), Err(Error::InvalidRequest { .. })));
    // `after` cannot refuse: another database's token sends the sessions to the primary.
    assert!(sessionmaker(&engine).after(&token).session().is_bound_to_primary());
    // No replicas: a commit that wrote gives no token, and `commit_token` says so.
    let s = sessionmaker(&engine).session();
    s.execute_sql("CREATE TABLE t (x INTEGER)", &[]).unwrap();
    s.execute_sql("INSERT INTO t VALUES (1)", &[]).unwrap();
    s.commit().unwrap();
    assert_eq!(s.consistency_token(), None);
    assert!(matches!(s.commit_token(), Err(Error::InvalidRequest { .. })));
    assert!(matches!(engine.connect().unwrap().consistency_token(), Err(Error::Unsupported { .. })));
    assert!(matches!(create_engine("postgres://h/db?replicas=h2:notaport"), Err(Error::Config { .. })));
}
