//! Durability: a child process (`src/bin/acid_child.rs`) commits through Athanor in a loop and is
//! killed with SIGKILL at a random moment; a fresh engine then checks that every transaction is
//! all or nothing (its rows *and* its counter update) and that every transaction the child
//! reported committed (after `commit()` returned) is there.
//!
//! A kill lands while a transaction is being written (before commit), during its commit (the
//! transaction is then either absent, or present but unreported), or between transactions. The
//! test counts each case. SIGKILL tests a process crash: what the database server or the
//! operating system has accepted survives it; a power loss is another matter (SQLite's
//! `synchronous`, the servers' fsync settings).

use crate::acid::expectations::durability_variants;
use crate::acid::models::{durable_base, DurableCounter, DurableRow, ROWS_PER_TXN};
use crate::acid::{scaled, strongest_level, url_with, Rng};
use crate::harness::TestDb;
use athanor::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Where the kills landed.
#[derive(Debug, Default, Clone)]
pub struct KillStats {
    /// Trials run.
    pub trials: usize,
    /// Commits the children reported.
    pub reported: usize,
    /// Transactions found afterwards.
    pub found: usize,
    /// Killed before the first transaction or while writing one (it must be absent).
    pub while_writing: usize,
    /// Killed during a commit that did not take effect.
    pub in_commit_absent: usize,
    /// Killed after a commit took effect but before the child said so.
    pub in_commit_present: usize,
}

fn missing(what: String) -> Error {
    Error::NotFound { what }
}

/// Run one trial: start the child, kill it after `delay`, verify. Returns the child's
/// `committed` transactions and its last line.
fn trial(child: &str, url: &str, trial: i64, delay: Duration) -> Result<(BTreeSet<i64>, String)> {
    let mut proc = Command::new(child)
        .arg(url)
        .arg(trial.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::invalid_request(format!("cannot start {child}: {e}")))?;
    let stdout = proc.stdout.take().ok_or_else(|| Error::invalid_request("no stdout"))?;
    let mut stderr = proc.stderr.take().ok_or_else(|| Error::invalid_request("no stderr"))?;
    let (tx, lines) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let ready = lines.recv_timeout(Duration::from_secs(30));
    if ready.as_deref() != Ok("ready") {
        let _ = proc.kill();
        let _ = proc.wait();
        let err = err_reader.join().unwrap_or_default();
        return Err(Error::invalid_request(format!("the child did not start ({ready:?}): {err}")));
    }
    std::thread::sleep(delay);
    let exited_by_itself = proc.try_wait().ok().flatten();
    let _ = proc.kill(); // SIGKILL
    let _ = proc.wait();
    let _ = reader.join();
    let err = err_reader.join().unwrap_or_default();
    if let Some(status) = exited_by_itself {
        return Err(Error::invalid_request(format!("the child exited by itself ({status}) before the kill: {err}")));
    }
    let mut committed = BTreeSet::new();
    let mut last = String::from("ready");
    for line in lines.try_iter() {
        if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.parse().ok()) {
            committed.insert(n);
        }
        last = line;
    }
    Ok((committed, last))
}

/// Check one trial's data with a fresh engine; update the stats.
fn verify(url: &str, trial_no: i64, committed: &BTreeSet<i64>, last: &str, stats: &mut KillStats) -> Result<()> {
    let engine = create_engine(url)?;
    // One snapshot for the rows and the counter: a server may still be committing the killed
    // child's last COMMIT while we read.
    let caps = engine.capabilities();
    let level = if caps.isolation_levels.contains(&IsolationLevel::RepeatableRead) {
        IsolationLevel::RepeatableRead
    } else {
        strongest_level(caps)
    };
    let s = athanor::sessionmaker(&engine).session();
    s.begin_with(TxOptions { isolation: Some(level), read_only: false, ..TxOptions::default() })?;
    let rows = s.query::<DurableRow>().filter(DurableRow::trial.eq(trial_no)).all()?;
    let mut per_txn: BTreeMap<i64, i64> = BTreeMap::new();
    for r in &rows {
        *per_txn.entry(r.get().txn).or_default() += 1;
    }
    for (txn, n) in &per_txn {
        assert_eq!(*n, ROWS_PER_TXN, "trial {trial_no}: transaction {txn} is partly there ({n} rows)");
    }
    let counter = s.get::<DurableCounter>(trial_no)?.ok_or_else(|| missing(format!("counter of trial {trial_no}")))?;
    let counter = counter.get().clone();
    assert_eq!(counter.rows, rows.len() as i64, "trial {trial_no}: the counter disagrees with the rows");
    assert_eq!(counter.txns, per_txn.len() as i64, "trial {trial_no}: the counter disagrees with the transactions");
    for txn in committed {
        assert!(per_txn.contains_key(txn), "trial {trial_no}: transaction {txn} was reported committed and is lost");
    }
    stats.trials += 1;
    stats.reported += committed.len();
    stats.found += per_txn.len();
    match last.strip_prefix("commit ").and_then(|n| n.parse::<i64>().ok()) {
        Some(txn) if per_txn.contains_key(&txn) => stats.in_commit_present += 1,
        Some(_) => stats.in_commit_absent += 1,
        None => stats.while_writing += 1,
    }
    // Nothing beyond the reported transactions and the one in flight.
    let in_flight = last.strip_prefix("commit ").and_then(|n| n.parse::<i64>().ok());
    for txn in per_txn.keys() {
        assert!(
            committed.contains(txn) || Some(*txn) == in_flight,
            "trial {trial_no}: transaction {txn} is there but was neither reported nor in flight"
        );
    }
    Ok(())
}

/// ≥ 50 kill trials per configuration in CI (200 under `ATHANOR_FULL=1`), for every
/// configuration the backend has (SQLite: WAL, its default, and the rollback journal): nothing
/// half-done, nothing reported lost.
pub fn child_killed_at_random_moments(db: &TestDb, child: &str) -> Result<()> {
    let trials = scaled(50, 200);
    let seed = Rng::seed_from_clock();
    let mut rng = Rng::new(seed);
    for (variant, (label, options)) in durability_variants(db.backend).iter().enumerate() {
        let url = url_with(&db.url, options);
        let setup = create_engine(&url)?;
        durable_base().metadata().create_all(&setup)?;
        let mut stats = KillStats::default();
        for k in 0..trials {
            let trial_no = (variant * 10_000 + k) as i64;
            let s = athanor::sessionmaker(&setup).session();
            s.add(DurableCounter { trial: trial_no, rows: 0, txns: 0 });
            s.commit()?;
            drop(s);
            // Mostly within the first few transactions, sometimes at once, sometimes later.
            let delay = Duration::from_micros(match rng.below(10) {
                0 => 0,
                1..=7 => rng.below(60_000),
                _ => 60_000 + rng.below(200_000),
            });
            let (committed, last) = trial(child, &url, trial_no, delay)?;
            verify(&url, trial_no, &committed, &last, &mut stats)?;
        }
        eprintln!(
            "durability {} {label} (seed {seed}): {} trials, {} commits reported, {} transactions found, \
             killed while writing {}, during a commit that was lost {}, after a commit that was not yet reported {}",
            db.backend,
            stats.trials,
            stats.reported,
            stats.found,
            stats.while_writing,
            stats.in_commit_absent,
            stats.in_commit_present
        );
        assert_eq!(stats.trials, trials);
    }
    Ok(())
}
