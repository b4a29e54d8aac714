//! The child process of the durability test (`acid::durability`): commits transactions through
//! Athanor in a loop until it is killed.
//!
//! `acid_child <url> <trial>`: connects, prints `ready`, then for each transaction `n` of the
//! trial inserts [`ROWS_PER_TXN`] rows and bumps the trial's counter row in one session, prints
//! `commit <n>`, commits, and prints `committed <n>` once the commit has returned. Stdout is line
//! buffered, so each line is out before the next step. Any error is printed to stderr as
//! `acid_child: …` with exit status 1.

use athanor_conformance::acid::models::{DurableCounter, DurableRow, ROWS_PER_TXN};
use athanor_conformance::athanor::{self, Error, Result};
use std::io::Write;

/// Stop on our own after this many transactions (the parent kills long before).
const MAX_TXNS: i64 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(trial)) = (args.first(), args.get(1).and_then(|t| t.parse::<i64>().ok())) else {
        eprintln!("usage: acid_child <url> <trial>");
        std::process::exit(2);
    };
    if let Err(e) = run(url, trial) {
        eprintln!("acid_child: {e}");
        std::process::exit(1);
    }
}

fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush()).map_err(|e| Error::invalid_request(format!("stdout: {e}")))
}

fn run(url: &str, trial: i64) -> Result<()> {
    let engine = athanor::create_engine(url)?;
    drop(engine.connect()?);
    let maker = athanor::sessionmaker(&engine);
    say("ready")?;
    for seq in 0..MAX_TXNS {
        let txn = trial * 1_000_000 + seq;
        let s = maker.session();
        let counter = s
            .get::<DurableCounter>(trial)?
            .ok_or_else(|| Error::NotFound { what: format!("durable_counters row of trial {trial}") })?;
        s.add_all((0..ROWS_PER_TXN).map(|j| DurableRow {
            id: txn * 100 + j,
            trial,
            txn,
            payload: format!("trial {trial} txn {txn} row {j} {}", "x".repeat(200)),
        }));
        counter.edit(|c| {
            c.rows += ROWS_PER_TXN;
            c.txns += 1;
        })?;
        s.flush()?;
        say(&format!("commit {txn}"))?;
        s.commit()?;
        say(&format!("committed {txn}"))?;
    }
    Ok(())
}
