//! The Hermitage anomaly tests (G0 … G2), as two or three concurrent sessions stepped through
//! Athanor's API.
//!
//! Each transaction is a [`Session`] on its own thread, begun with
//! `Session::begin_with(TxOptions { isolation: Some(level), .. })`. Reads go through the ORM
//! (`session.query::<Item>().filter(…)`, after `expire_all()` so the identity map does not hide
//! what the database returned); single-row and predicate writes are the exact statements of the
//! Hermitage scripts, sent with `Session::execute` (identifiers quoted by the dialect, values
//! bound); inserts are `session.add` + `flush`.
//!
//! The driver sends each step to its session's thread, as a person types into one terminal per
//! transaction: when a step does not answer within the block threshold, it is *blocked* and the
//! script goes on with the other sessions (the blocked session's later steps queue behind it).
//! After every step the driver waits a moment for blocked sessions to catch up. A step that takes
//! longer than the threshold is recorded as blocked. At the end every session must finish within
//! a deadline, or the test fails with the trace (nothing hangs).
//!
//! The observed outcome of a cell is **allowed** when the run shows the anomaly's phenomenon,
//! decided by its definition (Adya's, and Bailis et al.'s for OTV and PMP) from the rows each
//! read returned, the rows each write affected, which transactions committed and the final rows
//! ([`phenomena::analyse`]; PMP-write is PMP on a write predicate, G-single-write is G-single).
//! Otherwise it is **error** when a step failed with a serialization failure; else **blocks**
//! when a step waited; else **snapshot**. Any other error fails the test. Separately, the test
//! checks whether the run's whole history was serializable ([`serial::judge`]: some serial order
//! of the committed transactions, replayed from the seeded rows, gives every read the rows it
//! returned, every write its affected-row count and the same final rows) against the matrix's
//! separate column. When either differs from the expectation, the script is run again with longer
//! timings (up to three runs: a loaded machine can make a slow step look blocked) and the last
//! run decides. `ATHANOR_TRACE=1` prints every run's trace.

use crate::acid::expectations::{expected, expected_serializable, Anomaly, Outcome, Target};
use crate::acid::phenomena::{self, Phenomenon, Unexplained};
use crate::acid::serial;
use crate::harness;
use athanor::backend::sql::SqlWriter;
use athanor::prelude::*;
use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Hermitage's `test` table: `(id int primary key, value int)`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "hermitage")]
pub struct Item {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// The value.
    pub value: i64,
}

/// A read's predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pred {
    /// Every row.
    All,
    /// `id = n`.
    Id(i64),
    /// `id IN (a, b)`.
    Ids(i64, i64),
    /// `value = n`.
    ValueEq(i64),
    /// `value >= n` (Hermitage's `value % 3 = 0`: true of no seeded row, of every inserted one).
    ValueGe(i64),
}

/// One step of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `begin` at the test's isolation level.
    Begin,
    /// `select * from test where …`.
    Read(Pred),
    /// `update test set value = v where id = i`.
    Set(i64, i64),
    /// `update test set value = value + d`.
    AddToAll(i64),
    /// `delete from test where value = v`.
    DeleteWhereValue(i64),
    /// `insert into test (id, value) values (i, v)`.
    Insert(i64, i64),
    /// `commit`.
    Commit,
    /// `rollback`.
    Rollback,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Begin => f.write_str("begin"),
            Op::Read(Pred::All) => f.write_str("select * from test"),
            Op::Read(Pred::Id(i)) => write!(f, "select * from test where id = {i}"),
            Op::Read(Pred::Ids(a, b)) => write!(f, "select * from test where id in ({a}, {b})"),
            Op::Read(Pred::ValueEq(v)) => write!(f, "select * from test where value = {v}"),
            Op::Read(Pred::ValueGe(v)) => write!(f, "select * from test where value >= {v}"),
            Op::Set(i, v) => write!(f, "update test set value = {v} where id = {i}"),
            Op::AddToAll(d) => write!(f, "update test set value = value + {d}"),
            Op::DeleteWhereValue(v) => write!(f, "delete from test where value = {v}"),
            Op::Insert(i, v) => write!(f, "insert into test (id, value) values ({i}, {v})"),
            Op::Commit => f.write_str("commit"),
            Op::Rollback => f.write_str("rollback"),
        }
    }
}

/// A step: which transaction (0 = T1) does what.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// The transaction, 0-based.
    pub tx: usize,
    /// What it does.
    pub op: Op,
}

const fn t(tx: usize, op: Op) -> Step {
    Step { tx, op }
}

/// The script of an anomaly test (after `begin` in every transaction). Hermitage's, with reads of
/// `value % 3 = 0` written `value >= 30` (the same rows qualify) and the pre-read of PMP-write
/// that Hermitage's MySQL script has.
pub fn script(anomaly: Anomaly) -> Vec<Step> {
    use Op::*;
    use Pred::*;
    let body: Vec<Step> = match anomaly {
        Anomaly::G0 => {
            vec![t(0, Set(1, 11)), t(1, Set(1, 12)), t(0, Set(2, 21)), t(0, Commit), t(1, Set(2, 22)), t(1, Commit)]
        }
        Anomaly::G1a => vec![t(0, Set(1, 101)), t(1, Read(All)), t(0, Rollback), t(1, Read(All)), t(1, Commit)],
        Anomaly::G1b => {
            vec![t(0, Set(1, 101)), t(1, Read(All)), t(0, Set(1, 11)), t(0, Commit), t(1, Read(All)), t(1, Commit)]
        }
        Anomaly::G1c => {
            vec![t(0, Set(1, 11)), t(1, Set(2, 22)), t(0, Read(Id(2))), t(1, Read(Id(1))), t(0, Commit), t(1, Commit)]
        }
        Anomaly::Otv => vec![
            t(0, Set(1, 11)),
            t(0, Set(2, 19)),
            t(1, Set(1, 12)),
            t(0, Commit),
            t(2, Read(All)),
            t(1, Set(2, 18)),
            t(2, Read(All)),
            t(1, Commit),
            t(2, Read(All)),
            t(2, Commit),
        ],
        Anomaly::Pmp => {
            vec![t(0, Read(ValueEq(30))), t(1, Insert(3, 30)), t(1, Commit), t(0, Read(ValueGe(30))), t(0, Commit)]
        }
        Anomaly::PmpWrite => vec![
            t(0, AddToAll(10)),
            t(1, Read(ValueEq(20))),
            t(1, DeleteWhereValue(20)),
            t(0, Commit),
            t(1, Read(ValueEq(20))),
            t(1, Commit),
        ],
        Anomaly::P4 => {
            vec![t(0, Read(Id(1))), t(1, Read(Id(1))), t(0, Set(1, 11)), t(1, Set(1, 11)), t(0, Commit), t(1, Commit)]
        }
        Anomaly::GSingle => vec![
            t(0, Read(Id(1))),
            t(1, Read(Id(1))),
            t(1, Read(Id(2))),
            t(1, Set(1, 12)),
            t(1, Set(2, 18)),
            t(1, Commit),
            t(0, Read(Id(2))),
            t(0, Commit),
        ],
        Anomaly::GSingleWrite => vec![
            t(0, Read(Id(1))),
            t(1, Read(All)),
            t(1, Set(1, 12)),
            t(1, Set(2, 18)),
            t(1, Commit),
            t(0, DeleteWhereValue(20)),
            t(0, Read(Id(2))),
            t(0, Commit),
        ],
        Anomaly::G2Item => vec![
            t(0, Read(Ids(1, 2))),
            t(1, Read(Ids(1, 2))),
            t(0, Set(1, 11)),
            t(1, Set(2, 21)),
            t(0, Commit),
            t(1, Commit),
        ],
        Anomaly::G2 => vec![
            t(0, Read(ValueGe(30))),
            t(1, Read(ValueGe(30))),
            t(0, Insert(3, 30)),
            t(1, Insert(4, 42)),
            t(0, Commit),
            t(1, Commit),
        ],
    };
    let ntx = body.iter().map(|s| s.tx + 1).max().unwrap_or(0);
    (0..ntx).map(|tx| t(tx, Begin)).chain(body).collect()
}

/// What a step returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The rows of a read, `(id, value)` by id.
    Rows(Vec<(i64, i64)>),
    /// Rows affected by a write.
    Affected(u64),
    /// `begin`, `commit`, `rollback`, an insert: done.
    Done,
    /// The step failed; the session was rolled back.
    Failed(Error),
    /// Not run: the transaction had already failed.
    Skipped,
}

/// One step as it ran.
#[derive(Debug, Clone)]
pub struct Record {
    /// The step.
    pub step: Step,
    /// Its reply (`None`: never answered).
    pub reply: Option<Reply>,
    /// How long the session took to run it.
    pub took: Duration,
    /// It took longer than the block threshold.
    pub blocked: bool,
}

/// A run of a script.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The steps in script order.
    pub records: Vec<Record>,
    /// The committed rows after every session finished.
    pub final_rows: Vec<(i64, i64)>,
    /// The timings used.
    pub timing: Timing,
}

impl Trace {
    /// The successful reads of transaction `tx`, in order.
    pub fn reads(&self, tx: usize) -> Vec<&[(i64, i64)]> {
        self.records
            .iter()
            .filter(|r| r.step.tx == tx)
            .filter_map(|r| match &r.reply {
                Some(Reply::Rows(rows)) => Some(rows.as_slice()),
                _ => None,
            })
            .collect()
    }

    /// `true` when transaction `tx`'s commit succeeded.
    pub fn committed(&self, tx: usize) -> bool {
        self.records.iter().any(|r| r.step.tx == tx && r.step.op == Op::Commit && r.reply == Some(Reply::Done))
    }

    /// The value of row `id` in the final state.
    pub fn final_value(&self, id: i64) -> Option<i64> {
        self.final_rows.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
    }

    fn failed(&self) -> impl Iterator<Item = &Error> {
        self.records.iter().filter_map(|r| match &r.reply {
            Some(Reply::Failed(e)) => Some(e),
            _ => None,
        })
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.records {
            let reply = match &r.reply {
                None => "<no answer>".to_string(),
                Some(Reply::Rows(rows)) => format!("{rows:?}"),
                Some(Reply::Affected(n)) => format!("{n} row(s)"),
                Some(Reply::Done) => "ok".to_string(),
                Some(Reply::Failed(e)) => format!("ERROR {e}"),
                Some(Reply::Skipped) => "(skipped: transaction failed)".to_string(),
            };
            let blocked = if r.blocked { " BLOCKED" } else { "" };
            writeln!(f, "  T{}: {:<48} -> {reply} [{:?}{blocked}]", r.step.tx + 1, r.step.op.to_string(), r.took)?;
        }
        write!(f, "  final: {:?} (timing {:?})", self.final_rows, self.timing)
    }
}

/// The timings of a run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// A step not answered within this is blocked.
    pub block: Duration,
    /// After each step, how long to wait for blocked sessions to catch up.
    pub settle: Duration,
    /// How long every session has to finish at the end.
    pub drain: Duration,
}

impl Timing {
    /// The first run's timings; later runs multiply them.
    pub fn scaled(factor: u32) -> Timing {
        Timing {
            block: Duration::from_millis(300) * factor,
            settle: Duration::from_millis(150) * factor,
            drain: Duration::from_secs(30),
        }
    }
}

/// The outcome of `anomaly`'s cell that a trace shows (see the module docs): **allowed** when
/// the run shows the anomaly's phenomenon ([`phenomena::analyse`]), else how it was prevented.
///
/// # Errors
/// [`Unexplained`] when no interpretation of the run explains it.
pub fn classify(anomaly: Anomaly, trace: &Trace) -> Result<Outcome, Unexplained> {
    Ok(if phenomena::analyse(trace)?.shows(anomaly.phenomenon()) {
        Outcome::Allowed
    } else if trace.failed().next().is_some() {
        Outcome::Aborted
    } else if trace.records.iter().any(|r| r.blocked) {
        Outcome::Blocked
    } else {
        Outcome::Snapshot
    })
}

struct Statements {
    set: String,
    add_to_all: String,
    delete_where_value: String,
}

impl Statements {
    fn new(dialect: &dyn athanor::backend::Dialect) -> Result<Statements> {
        let mut set = SqlWriter::new(dialect);
        set.push("UPDATE ").ident("hermitage")?.push(" SET ").ident("value")?.push(" = ").placeholder();
        set.push(" WHERE ").ident("id")?.push(" = ").placeholder();
        let mut add = SqlWriter::new(dialect);
        add.push("UPDATE ").ident("hermitage")?.push(" SET ").ident("value")?.push(" = ").ident("value")?;
        add.push(" + ").placeholder();
        let mut del = SqlWriter::new(dialect);
        del.push("DELETE FROM ").ident("hermitage")?.push(" WHERE ").ident("value")?.push(" = ").placeholder();
        Ok(Statements { set: set.sql, add_to_all: add.sql, delete_where_value: del.sql })
    }
}

fn run_op(session: &Session, sql: &Statements, level: IsolationLevel, op: Op) -> Result<Reply> {
    Ok(match op {
        Op::Begin => {
            session.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() })?;
            Reply::Done
        }
        Op::Read(pred) => {
            session.expire_all();
            let q = session.query::<Item>().order_by(Item::id.asc());
            let q = match pred {
                Pred::All => q,
                Pred::Id(i) => q.filter(Item::id.eq(i)),
                Pred::Ids(a, b) => q.filter(Item::id.in_([a, b])),
                Pred::ValueEq(v) => q.filter(Item::value.eq(v)),
                Pred::ValueGe(v) => q.filter(Item::value.ge(v)),
            };
            Reply::Rows(q.all()?.iter().map(|h| (h.get().id, h.get().value)).collect())
        }
        Op::Set(id, value) => Reply::Affected(session.execute_sql(&sql.set, &params![value, id])?),
        Op::AddToAll(d) => Reply::Affected(session.execute_sql(&sql.add_to_all, &params![d])?),
        Op::DeleteWhereValue(v) => Reply::Affected(session.execute_sql(&sql.delete_where_value, &params![v])?),
        Op::Insert(id, value) => {
            session.add(Item { id, value });
            session.flush()?;
            Reply::Done
        }
        Op::Commit => {
            session.commit()?;
            Reply::Done
        }
        Op::Rollback => {
            session.rollback()?;
            Reply::Done
        }
    })
}

type Answer = (usize, Reply, Duration);

fn worker(engine: Engine, level: IsolationLevel, steps: mpsc::Receiver<(usize, Op)>, answers: mpsc::Sender<Answer>) {
    let session = athanor::sessionmaker(&engine).session();
    let sql = Statements::new(engine.dialect());
    let mut failed = false;
    for (i, op) in steps {
        let start = Instant::now();
        let reply = match &sql {
            Err(e) => Reply::Failed(e.clone()),
            Ok(_) if failed => Reply::Skipped,
            Ok(sql) => match run_op(&session, sql, level, op) {
                Ok(r) => r,
                Err(e) => {
                    failed = true;
                    let _ = session.rollback();
                    Reply::Failed(e)
                }
            },
        };
        if answers.send((i, reply, start.elapsed())).is_err() {
            break;
        }
    }
}

struct Driver {
    answers: mpsc::Receiver<Answer>,
    records: Vec<Record>,
    outstanding: Vec<VecDeque<usize>>,
    block: Duration,
}

impl Driver {
    fn record(&mut self, (i, reply, took): Answer) {
        let tx = self.records[i].step.tx;
        self.outstanding[tx].retain(|&j| j != i);
        let r = &mut self.records[i];
        r.reply = Some(reply);
        r.took = took;
        r.blocked = took >= self.block;
    }

    /// Record answers until `done` holds (`true`) or `wait` has passed (`false`).
    fn wait(&mut self, wait: Duration, done: impl Fn(&[VecDeque<usize>]) -> bool) -> bool {
        let deadline = Instant::now() + wait;
        while !done(&self.outstanding) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match self.answers.recv_timeout(deadline - now) {
                Ok(a) => self.record(a),
                Err(_) => return done(&self.outstanding),
            }
        }
        true
    }
}

fn all_idle(o: &[VecDeque<usize>]) -> bool {
    o.iter().all(VecDeque::is_empty)
}

/// Run a script at a level; `Err` with the partial trace when a session never finished.
pub fn run_script(engine: &Engine, level: IsolationLevel, steps: &[Step], timing: Timing) -> Result<Trace, Trace> {
    let ntx = steps.iter().map(|s| s.tx + 1).max().unwrap_or(0);
    let (answer_tx, answers) = mpsc::channel::<Answer>();
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..ntx {
        let (tx, rx) = mpsc::channel();
        let (engine, answer_tx) = (engine.clone(), answer_tx.clone());
        handles.push(std::thread::spawn(move || worker(engine, level, rx, answer_tx)));
        senders.push(tx);
    }
    drop(answer_tx);
    let mut d = Driver {
        answers,
        records: steps.iter().map(|s| Record { step: *s, reply: None, took: Duration::ZERO, blocked: false }).collect(),
        outstanding: vec![VecDeque::new(); ntx],
        block: timing.block,
    };
    for (i, step) in steps.iter().enumerate() {
        let tx = step.tx;
        let idle = d.outstanding[tx].is_empty();
        d.outstanding[tx].push_back(i);
        if senders[tx].send((i, step.op)).is_err() {
            break;
        }
        if idle {
            d.wait(timing.block, |o| !o[tx].contains(&i));
        }
        d.wait(timing.settle, all_idle);
    }
    let finished = d.wait(timing.drain, all_idle);
    drop(senders);
    let mut trace = Trace { records: d.records, final_rows: Vec::new(), timing };
    if !finished {
        // Sessions still blocked keep their threads; the test fails with the trace.
        return Err(trace);
    }
    for h in handles {
        let _ = h.join();
    }
    let session = athanor::sessionmaker(engine).session();
    let rows = session.query::<Item>().order_by(Item::id.asc()).all();
    let rows = rows.unwrap_or_else(|e| panic!("reading the final state: {e}\n{trace}"));
    trace.final_rows = rows.iter().map(|h| (h.get().id, h.get().value)).collect();
    Ok(trace)
}

fn reset(engine: &Engine) -> Result<()> {
    let base = Base::new().register::<Item>();
    base.metadata().create_all(engine)?;
    let mut sql = String::from("DELETE FROM ");
    sql.push_str(&athanor::backend::quoted(engine.dialect(), "hermitage")?);
    engine.execute(&sql, &[])?;
    let s = athanor::sessionmaker(engine).session();
    s.add_all([Item { id: 1, value: 10 }, Item { id: 2, value: 20 }]);
    s.commit()
}

fn url_with(url: &str, options: &[(&str, &str)]) -> String {
    let mut out = url.to_string();
    for (k, v) in options {
        let sep = if out.contains('?') { '&' } else { '?' };
        let _ = write!(out, "{sep}{k}={v}");
    }
    out
}

/// One cell of the matrix: run `anomaly` at `level` on `target` and assert the expected outcome.
/// The body of every generated `<target>_<level>_<anomaly>` test.
pub fn run_case(target: Target, level: IsolationLevel, anomaly: Anomaly) {
    let name = format!("herm_{}_{}_{}", target.name(), level.as_snake(), anomaly.id());
    let Some(db) = harness::open(target.backend(), &name) else { return };
    let want = expected(target, level, anomaly);
    let want_serializable = expected_serializable(target, level, anomaly);
    let url = url_with(&db.url, target.hermitage_options());
    let engine = create_engine(&url).unwrap_or_else(|e| panic!("create_engine({url}): {e}"));
    if !engine.capabilities().isolation_levels.contains(&level) {
        assert_eq!(want, Outcome::Unsupported, "{target} {level} {anomaly}: the dialect refuses this level");
        let s = athanor::sessionmaker(&engine).session();
        let r = s.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() });
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{target} {level}: {r:?}");
        return;
    }
    assert_ne!(want, Outcome::Unsupported, "{target} {level} {anomaly}: the dialect accepts this level");
    let steps = script(anomaly);
    let mut last = None;
    for run in 0..3u32 {
        reset(&engine).unwrap_or_else(|e| panic!("{target} {level} {anomaly}: setup: {e}"));
        let trace = match run_script(&engine, level, &steps, Timing::scaled(1 << run)) {
            Ok(t) => t,
            Err(t) => panic!("{target} {level} {anomaly}: a session never finished\n{t}"),
        };
        for e in trace.failed() {
            assert!(
                e.is_serialization_failure(),
                "{target} {level} {anomaly}: a step failed with something else than a serialization failure: \
                 {e:?}\n{trace}"
            );
        }
        let verdict = serial::judge(&trace);
        let analysis = phenomena::analyse(&trace)
            .unwrap_or_else(|e| panic!("{target} {level} {anomaly}: the phenomena analysis failed: {e}\n{trace}"));
        let got = classify(anomaly, &trace).unwrap_or_else(|e| panic!("{target} {level} {anomaly}: {e}\n{trace}"));
        let serializable = |s: bool| if s { "serializable" } else { "not serializable" };
        let want_s = format!("{want}, history {}", serializable(want_serializable));
        let got_s = format!("{got}, history {}", serializable(verdict.serializable()));
        let labels = format!("  phenomena: {analysis}\n  judge: {verdict}");
        // The two analyses are independent; Adya's theory says they must agree: a history is
        // serializable exactly when it shows none of G0, G1a, G1b, G1c and G2.
        let proscribed = [Phenomenon::G0, Phenomenon::G1a, Phenomenon::G1b, Phenomenon::G1c, Phenomenon::G2];
        assert_eq!(
            proscribed.iter().any(|p| analysis.shows(*p)),
            !verdict.serializable(),
            "{target} {level} {anomaly}: the phenomena and the serializability judge disagree\n{trace}\n{labels}"
        );
        if std::env::var_os("ATHANOR_TRACE").is_some() {
            eprintln!("{target} {level} {anomaly}: observed {got_s}\n{trace}\n{labels}");
        }
        if got == want && verdict.serializable() == want_serializable {
            return;
        }
        eprintln!(
            "{target} {level} {anomaly}: run {run} observed {got_s}, expected {want_s}; retrying slower\n{trace}\n{labels}"
        );
        last = Some((want_s, got_s, trace, labels));
    }
    if let Some((want, got, trace, labels)) = last {
        panic!("{target} {level} {anomaly}: expected {want}, observed {got}\n{trace}\n{labels}");
    }
}
