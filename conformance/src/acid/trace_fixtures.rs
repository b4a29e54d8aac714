//! Hand-made Hermitage runs for the unit tests of the two analyses of a run ([`super::serial`],
//! the serializability judge, and [`super::phenomena`], the named anomalies): both read the same
//! [`Trace`]s, so they build them the same way.

use crate::acid::hermitage::{Op, Record, Reply, Step, Timing, Trace};
use athanor::Error;
use std::time::Duration;

/// One step of a run: `(tx, op, reply, blocked)`.
pub type Row = (usize, Op, Reply, bool);

/// The two rows every script starts from.
pub const SEEDED: [(i64, i64); 2] = [(1, 10), (2, 20)];

pub fn rows(r: &[(i64, i64)]) -> Reply {
    Reply::Rows(r.to_vec())
}

pub fn n(k: u64) -> Reply {
    Reply::Affected(k)
}

pub fn ok() -> Reply {
    Reply::Done
}

pub fn serialization_failure() -> Reply {
    Reply::Failed(Error::SerializationFailure {
        message: "could not serialize access".into(),
        deadlock: false,
        source: None,
    })
}

/// A step that did not wait.
pub fn s(tx: usize, op: Op, reply: Reply) -> Row {
    (tx, op, reply, false)
}

/// A step that waited for another transaction's lock.
pub fn blocked(tx: usize, op: Op, reply: Reply) -> Row {
    (tx, op, reply, true)
}

/// A run: the steps in script order (every transaction's `begin` is added first) and the final
/// rows.
pub fn run(steps: &[Row], final_rows: &[(i64, i64)]) -> Trace {
    let ntx = steps.iter().map(|s| s.0 + 1).max().unwrap_or(0);
    let records = (0..ntx)
        .map(|tx| (tx, Op::Begin, ok(), false))
        .chain(steps.iter().cloned())
        .map(|(tx, op, reply, blocked)| Record {
            step: Step { tx, op },
            reply: Some(reply),
            took: if blocked { Duration::from_millis(400) } else { Duration::ZERO },
            blocked,
        })
        .collect();
    Trace { records, final_rows: final_rows.to_vec(), timing: Timing::scaled(1) }
}
