//! The judge of the Hermitage matrix: is a run's history serializable?
//!
//! A run is judged by what its **committed** transactions observed: the rows each read returned,
//! the number of rows each write affected, and the committed rows at the end. The history is
//! serializable when some serial order of those transactions, replayed one after another from
//! the seeded rows against a tiny model of the table (`id -> value`), gives every read exactly the
//! rows it returned in the run, every write the same affected-row count, every insert success, and
//! the same final rows. With two or three transactions every order is tried.
//!
//! Aborted transactions (rolled back, or failed on a step or at commit) are left out of the
//! replay: their reads do not matter, and their writes must not be visible. So a committed
//! transaction that read a value written by an aborted transaction (G1a), or a value its writer
//! overwrote before committing (G1b), cannot be matched by any order. A read-only transaction
//! that committed counts like any other.
//!
//! This is pure: no database. It answers one question, whether the whole history is
//! serializable, the matrix's separate "non-serializable histories" column. Whether the named
//! anomaly of a script happened is decided by its definition in [`crate::acid::phenomena`]: a
//! history can be non-serializable through another anomaly (the G1b script at read committed
//! shows a non-repeatable read, not an intermediate read).

use crate::acid::hermitage::{Op, Pred, Reply, Trace};
use std::collections::btree_map::{BTreeMap, Entry};
use std::fmt;

/// The rows every Hermitage test starts from.
pub const SEED: [(i64, i64); 2] = [(1, 10), (2, 20)];

/// What a step of a committed transaction observed, in the form the model replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obs {
    /// A read's rows, `(id, value)` by id.
    Rows(Vec<(i64, i64)>),
    /// A write's affected-row count.
    Affected(u64),
    /// An insert (or begin/commit) succeeded.
    Done,
    /// The step did not succeed (an insert of an existing id in the model; in the run, a step
    /// without a successful reply).
    Failed,
}

impl fmt::Display for Obs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Obs::Rows(rows) => write!(f, "{rows:?}"),
            Obs::Affected(n) => write!(f, "{n} row(s)"),
            Obs::Done => f.write_str("ok"),
            Obs::Failed => f.write_str("a failure"),
        }
    }
}

/// One committed transaction: its steps (without `begin`/`commit`) and what each observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxHistory {
    /// The transaction, 0-based (T1 = 0).
    pub tx: usize,
    /// Its steps in program order, with their observations.
    pub steps: Vec<(Op, Obs)>,
}

/// The model of the `hermitage` table.
pub type Table = BTreeMap<i64, i64>;

fn matches(pred: Pred, id: i64, value: i64) -> bool {
    match pred {
        Pred::All => true,
        Pred::Id(i) => id == i,
        Pred::Ids(a, b) => id == a || id == b,
        Pred::ValueEq(v) => value == v,
        Pred::ValueGe(v) => value >= v,
    }
}

/// Run one step against the model and return what it observes.
pub fn apply(table: &mut Table, op: Op) -> Obs {
    match op {
        Op::Begin | Op::Commit | Op::Rollback => Obs::Done,
        Op::Read(pred) => {
            Obs::Rows(table.iter().filter(|(i, v)| matches(pred, **i, **v)).map(|(i, v)| (*i, *v)).collect())
        }
        Op::Set(id, value) => match table.get_mut(&id) {
            Some(v) => {
                *v = value;
                Obs::Affected(1)
            }
            None => Obs::Affected(0),
        },
        Op::AddToAll(d) => {
            for v in table.values_mut() {
                *v += d;
            }
            Obs::Affected(table.len() as u64)
        }
        Op::DeleteWhereValue(value) => {
            let before = table.len();
            table.retain(|_, v| *v != value);
            Obs::Affected((before - table.len()) as u64)
        }
        Op::Insert(id, value) => match table.entry(id) {
            Entry::Vacant(e) => {
                e.insert(value);
                Obs::Done
            }
            Entry::Occupied(_) => Obs::Failed,
        },
    }
}

/// The committed transactions of a run, in transaction order, with what their steps observed.
pub fn committed_histories(trace: &Trace) -> Vec<TxHistory> {
    let ntx = trace.records.iter().map(|r| r.step.tx + 1).max().unwrap_or(0);
    (0..ntx)
        .filter(|&tx| trace.committed(tx))
        .map(|tx| TxHistory {
            tx,
            steps: trace
                .records
                .iter()
                .filter(|r| r.step.tx == tx && !matches!(r.step.op, Op::Begin | Op::Commit))
                .map(|r| {
                    let obs = match &r.reply {
                        Some(Reply::Rows(rows)) => Obs::Rows(rows.clone()),
                        Some(Reply::Affected(n)) => Obs::Affected(*n),
                        Some(Reply::Done) => Obs::Done,
                        Some(Reply::Failed(_) | Reply::Skipped) | None => Obs::Failed,
                    };
                    (r.step.op, obs)
                })
                .collect(),
        })
        .collect()
}

/// The judgement of one history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The committed transactions (0-based), in transaction order.
    pub committed: Vec<usize>,
    /// The first serial order (of `committed`) that explains every observation; `None`: the
    /// history is not serializable.
    pub order: Option<Vec<usize>>,
    /// For every order tried and rejected, the first observation it could not explain.
    pub rejected: Vec<(Vec<usize>, String)>,
}

impl Verdict {
    /// `true` when some serial order explains the history.
    pub fn serializable(&self) -> bool {
        self.order.is_some()
    }
}

fn names(order: &[usize]) -> String {
    order.iter().map(|t| format!("T{}", t + 1)).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.order {
            Some(order) if order.is_empty() => f.write_str("serializable (nothing committed)"),
            Some(order) => write!(f, "serializable as {}", names(order)),
            None => {
                write!(f, "NOT serializable (committed: {})", names(&self.committed))?;
                for (order, why) in &self.rejected {
                    write!(f, "; as {}: {why}", names(order))?;
                }
                Ok(())
            }
        }
    }
}

/// Every permutation of `items` (in a fixed order: lexicographic by position).
pub fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            out.push(tail);
        }
    }
    out
}

/// Replay `order` from `initial`; `Err` with the first observation it does not reproduce.
fn replay(
    initial: &[(i64, i64)],
    histories: &[TxHistory],
    order: &[usize],
    final_rows: &[(i64, i64)],
) -> Result<(), String> {
    let mut table: Table = initial.iter().copied().collect();
    for &tx in order {
        let Some(h) = histories.iter().find(|h| h.tx == tx) else {
            return Err(format!("T{} has no history", tx + 1));
        };
        for (op, seen) in &h.steps {
            let serial = apply(&mut table, *op);
            if serial != *seen {
                return Err(format!("T{}'s `{op}` gave {seen}, serially {serial}", tx + 1));
            }
        }
    }
    let serial: Vec<(i64, i64)> = table.into_iter().collect();
    if serial != final_rows {
        return Err(format!("final rows {final_rows:?}, serially {serial:?}"));
    }
    Ok(())
}

/// Judge the committed transactions' histories against every serial order of them.
pub fn check(initial: &[(i64, i64)], histories: &[TxHistory], final_rows: &[(i64, i64)]) -> Verdict {
    let committed: Vec<usize> = histories.iter().map(|h| h.tx).collect();
    let mut rejected = Vec::new();
    for order in permutations(&committed) {
        match replay(initial, histories, &order, final_rows) {
            Ok(()) => return Verdict { committed, order: Some(order), rejected },
            Err(why) => rejected.push((order, why)),
        }
    }
    Verdict { committed, order: None, rejected }
}

/// Judge a Hermitage run (seeded with [`SEED`]).
pub fn judge(trace: &Trace) -> Verdict {
    check(&SEED, &committed_histories(trace), &trace.final_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acid::trace_fixtures::*;
    use Op::*;
    use Pred::*;

    const BOTH: [(i64, i64); 2] = SEEDED;

    #[test]
    fn permutations_cover_every_order() {
        assert_eq!(permutations(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(permutations(&[0, 1]), vec![vec![0, 1], vec![1, 0]]);
        assert_eq!(permutations(&[0, 1, 2]).len(), 6);
    }

    #[test]
    fn the_model_replays_every_statement() {
        let mut t: Table = SEED.into_iter().collect();
        assert_eq!(apply(&mut t, Read(ValueEq(20))), Obs::Rows(vec![(2, 20)]));
        assert_eq!(apply(&mut t, AddToAll(10)), Obs::Affected(2));
        assert_eq!(apply(&mut t, DeleteWhereValue(20)), Obs::Affected(1));
        assert_eq!(apply(&mut t, Set(1, 5)), Obs::Affected(0));
        assert_eq!(apply(&mut t, Insert(2, 1)), Obs::Failed);
        assert_eq!(apply(&mut t, Insert(3, 30)), Obs::Done);
        assert_eq!(apply(&mut t, Read(ValueGe(30))), Obs::Rows(vec![(2, 30), (3, 30)]));
        assert_eq!(apply(&mut t, Read(Ids(1, 3))), Obs::Rows(vec![(3, 30)]));
    }

    #[test]
    fn one_after_the_other_is_serializable() {
        let trace = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(0, Set(1, 11), n(1)),
                s(0, Commit, ok()),
                s(1, Read(Id(1)), rows(&[(1, 11)])),
                s(1, Set(2, 21), n(1)),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 21)],
        );
        let v = judge(&trace);
        assert_eq!(v.order, Some(vec![0, 1]), "{v}");
    }

    #[test]
    fn interleaved_but_equivalent_to_a_serial_order_is_serializable() {
        // T2 reads row 2 while T1 is writing row 1, and commits first: either order explains it
        // (T1 T2 is tried first).
        let trace = run(
            &[
                s(0, Set(1, 11), n(1)),
                s(1, Read(Id(2)), rows(&[(2, 20)])),
                s(1, Commit, ok()),
                s(0, Read(All), rows(&[(1, 11), (2, 20)])),
                s(0, Commit, ok()),
            ],
            &[(1, 11), (2, 20)],
        );
        assert_eq!(judge(&trace).order, Some(vec![0, 1]));
    }

    #[test]
    fn write_skew_g2_item_is_not_serializable() {
        let trace = run(
            &[
                s(0, Read(Ids(1, 2)), rows(&BOTH)),
                s(1, Read(Ids(1, 2)), rows(&BOTH)),
                s(0, Set(1, 11), n(1)),
                s(1, Set(2, 21), n(1)),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 21)],
        );
        let v = judge(&trace);
        assert!(!v.serializable(), "{v}");
        assert_eq!(v.rejected.len(), 2);
    }

    #[test]
    fn lost_update_p4_is_not_serializable() {
        let trace = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(0, Set(1, 11), n(1)),
                blocked(1, Set(1, 11), n(1)),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 20)],
        );
        assert!(!judge(&trace).serializable());
    }

    #[test]
    fn lost_update_prevented_by_an_error_is_serializable() {
        // PostgreSQL repeatable read: T2's update fails; T2's read of 10 no longer matters.
        let trace = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(0, Set(1, 11), n(1)),
                blocked(1, Set(1, 11), serialization_failure()),
                s(0, Commit, ok()),
                s(1, Commit, Reply::Skipped),
            ],
            &[(1, 11), (2, 20)],
        );
        let v = judge(&trace);
        assert_eq!((v.committed.clone(), v.order.clone()), (vec![0], Some(vec![0])), "{v}");
    }

    #[test]
    fn read_skew_g_single_is_not_serializable() {
        let trace = run(
            &[
                s(0, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(1)), rows(&[(1, 10)])),
                s(1, Read(Id(2)), rows(&[(2, 20)])),
                s(1, Set(1, 12), n(1)),
                s(1, Set(2, 18), n(1)),
                s(1, Commit, ok()),
                s(0, Read(Id(2)), rows(&[(2, 18)])),
                s(0, Commit, ok()),
            ],
            &[(1, 12), (2, 18)],
        );
        assert!(!judge(&trace).serializable());
        // The same history with T1's second read from its snapshot is serializable (T1 T2).
        let mut snapshot = trace.clone();
        if let Some(r) = snapshot.records.iter_mut().find(|r| r.step.tx == 0 && r.step.op == Read(Id(2))) {
            r.reply = Some(rows(&[(2, 20)]));
        }
        assert_eq!(judge(&snapshot).order, Some(vec![0, 1]));
    }

    #[test]
    fn aborted_read_g1a_is_not_serializable() {
        let trace = run(
            &[
                s(0, Set(1, 101), n(1)),
                s(1, Read(All), rows(&[(1, 101), (2, 20)])),
                s(0, Rollback, ok()),
                s(1, Read(All), rows(&BOTH)),
                s(1, Commit, ok()),
            ],
            &BOTH,
        );
        let v = judge(&trace);
        assert_eq!(v.committed, vec![1]);
        assert!(!v.serializable(), "{v}");
        // Without the dirty read, the committed reader alone explains it.
        let mut clean = trace.clone();
        for r in clean.records.iter_mut().filter(|r| r.step.tx == 1 && r.step.op == Read(All)) {
            r.reply = Some(rows(&BOTH));
        }
        assert_eq!(judge(&clean).order, Some(vec![1]));
    }

    #[test]
    fn intermediate_read_g1b_is_not_serializable() {
        let trace = run(
            &[
                s(0, Set(1, 101), n(1)),
                s(1, Read(All), rows(&[(1, 101), (2, 20)])),
                s(0, Set(1, 11), n(1)),
                s(0, Commit, ok()),
                s(1, Read(All), rows(&[(1, 11), (2, 20)])),
                s(1, Commit, ok()),
            ],
            &[(1, 11), (2, 20)],
        );
        assert!(!judge(&trace).serializable());
    }

    #[test]
    fn dirty_writes_g0_interleaved_in_the_final_rows_are_not_serializable() {
        let trace = run(
            &[
                s(0, Set(1, 11), n(1)),
                s(1, Set(1, 12), n(1)),
                s(0, Set(2, 21), n(1)),
                s(0, Commit, ok()),
                s(1, Set(2, 22), n(1)),
                s(1, Commit, ok()),
            ],
            &[(1, 12), (2, 21)],
        );
        assert!(!judge(&trace).serializable());
        let mut serial = trace.clone();
        serial.final_rows = vec![(1, 12), (2, 22)];
        assert_eq!(judge(&serial).order, Some(vec![0, 1]));
    }

    #[test]
    fn a_committed_read_only_transaction_counts() {
        // OTV's T3 sees T1's rows, then T2's: no single point in a serial order shows both.
        let trace = run(
            &[
                s(0, Set(1, 11), n(1)),
                s(0, Set(2, 19), n(1)),
                blocked(1, Set(1, 12), n(1)),
                s(0, Commit, ok()),
                s(2, Read(All), rows(&[(1, 11), (2, 19)])),
                s(1, Set(2, 18), n(1)),
                s(2, Read(All), rows(&[(1, 11), (2, 19)])),
                s(1, Commit, ok()),
                s(2, Read(All), rows(&[(1, 12), (2, 18)])),
                s(2, Commit, ok()),
            ],
            &[(1, 12), (2, 18)],
        );
        let v = judge(&trace);
        assert_eq!(v.committed, vec![0, 1, 2]);
        assert_eq!(v.rejected.len(), 6);
        assert!(!v.serializable(), "{v}");
    }

    #[test]
    fn predicate_inserts_g2_are_not_serializable() {
        let trace = run(
            &[
                s(0, Read(ValueGe(30)), rows(&[])),
                s(1, Read(ValueGe(30)), rows(&[])),
                s(0, Insert(3, 30), ok()),
                s(1, Insert(4, 42), ok()),
                s(0, Commit, ok()),
                s(1, Commit, ok()),
            ],
            &[(1, 10), (2, 20), (3, 30), (4, 42)],
        );
        assert!(!judge(&trace).serializable());
    }

    #[test]
    fn pmp_write_whose_delete_saw_the_old_row_is_not_serializable() {
        // MySQL/MariaDB read committed (the cell said "blocks"): T2's read sees row 2 = 20 from
        // before T1; its delete waits for T1, then deletes row 1 (20 after T1's +10). No serial
        // order gives both: T2 first would delete row 2, T1 first would have T2 read row 1.
        let trace = run(
            &[
                s(0, AddToAll(10), n(2)),
                s(1, Read(ValueEq(20)), rows(&[(2, 20)])),
                blocked(1, DeleteWhereValue(20), n(1)),
                s(0, Commit, ok()),
                s(1, Read(ValueEq(20)), rows(&[])),
                s(1, Commit, ok()),
            ],
            &[(2, 30)],
        );
        let v = judge(&trace);
        assert!(!v.serializable(), "{v}");
    }

    #[test]
    fn a_write_count_that_no_order_gives_is_not_serializable() {
        // Hermitage's MySQL repeatable read PMP-write: T2's delete waits, then deletes nothing
        // (T2 T1 would delete row 2, T1 T2 row 1), and T2 then sees row 1 = 20.
        let trace = run(
            &[
                s(0, AddToAll(10), n(2)),
                s(1, Read(ValueEq(20)), rows(&[(2, 20)])),
                blocked(1, DeleteWhereValue(20), n(0)),
                s(0, Commit, ok()),
                s(1, Read(ValueEq(20)), rows(&[(1, 20)])),
                s(1, Commit, ok()),
            ],
            &[(1, 20), (2, 30)],
        );
        assert!(!judge(&trace).serializable());
    }

    #[test]
    fn an_insert_the_model_refuses_is_not_serializable() {
        let trace = run(
            &[s(0, Insert(3, 30), ok()), s(1, Insert(3, 31), ok()), s(0, Commit, ok()), s(1, Commit, ok())],
            &[(1, 10), (2, 20), (3, 31)],
        );
        let v = judge(&trace);
        assert!(!v.serializable(), "{v}");
        assert!(v.rejected.iter().any(|(_, why)| why.contains("a failure")), "{v}");
    }
}
