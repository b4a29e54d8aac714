//! What the Galera tests share: the transfer workload and its audit.
#![allow(dead_code)]

use athanor::prelude::*;
use athanor_conformance::harness;
use athanor_conformance::models::Account;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const ACCOUNTS: i64 = 12;
pub const OPENING: i64 = 1000;

/// One acknowledged transfer: its id is in `galera_transfers` once `commit` returned.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "galera_transfers")]
pub struct Transfer {
    #[column(primary_key)]
    pub id: i64,
    pub amount: i64,
}

#[derive(Default, Debug)]
pub struct Tally {
    pub committed: AtomicU64,
    pub retries: AtomicU64,
    pub lost_connections: AtomicU64,
    pub acknowledged: Mutex<Vec<i64>>,
}

/// Fill the accounts and make the log table.
pub fn setup(db: &harness::TestDb) -> Result<()> {
    db.create_all()?;
    Base::new().register::<Transfer>().metadata().create_all(&db.engine)?;
    let s = db.session();
    s.add_all((1..=ACCOUNTS).map(|id| Account { id, balance: OPENING }));
    s.commit()
}

/// `threads` × `per_thread` SERIALIZABLE transfers through `engine` (a `hosts=` URL: its
/// connections are spread over the nodes), retried on certification failures and deadlocks
/// by the session's helper; a lost connection (a killed node) ends that transfer
/// unacknowledged and the next one connects to a node that is up.
pub fn transfers(engine: &Engine, threads: i64, per_thread: i64, tally: &Arc<Tally>) -> Result<()> {
    let maker = athanor::sessionmaker(engine).isolation_level(IsolationLevel::Serializable);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (maker, tally) = (maker.clone(), tally.clone());
            std::thread::spawn(move || -> Result<()> {
                for i in 0..per_thread {
                    let id = t * 100_000 + i;
                    let from = 1 + (t * 5 + i * 7) % ACCOUNTS;
                    let to = 1 + (from + 1 + i % (ACCOUNTS - 1)) % ACCOUNTS;
                    let to = if to == from { 1 + from % ACCOUNTS } else { to };
                    let amount = 1 + (t + i) % 23;
                    let mut attempts = 0u64;
                    let r = maker.retry_on_serialization_failure(100, |s| -> Result<bool> {
                        attempts += 1;
                        let gone = |id| Error::NotFound { what: format!("account {id}") };
                        let a = s.get::<Account>(from)?.ok_or_else(|| gone(from))?;
                        let b = s.get::<Account>(to)?.ok_or_else(|| gone(to))?;
                        if a.get().balance < amount {
                            return Ok(false);
                        }
                        a.edit(|x| x.balance -= amount)?;
                        b.edit(|x| x.balance += amount)?;
                        s.add(Transfer { id, amount });
                        Ok(true)
                    });
                    tally.retries.fetch_add(attempts.saturating_sub(1), Ordering::Relaxed);
                    match r {
                        Ok(true) => {
                            tally.committed.fetch_add(1, Ordering::Relaxed);
                            tally.acknowledged.lock().unwrap_or_else(|p| p.into_inner()).push(id);
                        }
                        Ok(false) => {}
                        Err(e) if e.is_disconnect() || matches!(e, Error::Connection { .. }) => {
                            tally.lost_connections.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| Error::invalid_request("a transfer thread panicked"))??;
    }
    Ok(())
}

/// Sum and lowest balance, the transfer ids present, and the nodes (`@@port`) answering, read
/// with `wsrep_sync_wait` bit 1 set (each read waits until its node applied everything before it).
pub fn audit(engine: &Engine) -> Result<(i64, i64, Vec<i64>)> {
    let mut conn = engine.connect()?;
    let before: i64 = conn.query_scalar("SELECT @@wsrep_sync_wait", &[])?;
    conn.execute("SET SESSION wsrep_sync_wait = 1 | @@wsrep_sync_wait", &[])?;
    let sum: i64 = conn.query_scalar("SELECT CAST(SUM(balance) AS SIGNED) FROM accounts", &[])?;
    let min: i64 = conn.query_scalar("SELECT MIN(balance) FROM accounts", &[])?;
    let mut ids = Vec::new();
    for row in conn.query("SELECT id FROM galera_transfers ORDER BY id", &[])? {
        ids.push(row.get::<i64>(0)?);
    }
    conn.execute("SET SESSION wsrep_sync_wait = ?", &[Value::I64(before)])?;
    Ok((sum, min, ids))
}
