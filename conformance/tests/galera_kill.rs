//! A Galera node killed with SIGKILL in the middle of a transfer workload spread over the three
//! nodes (`ATHANOR_TEST_GALERA_URL` with `hosts=`, `ATHANOR_TEST_GALERA_PIDS` the nodes' pid
//! files; `.ci/scale/galera.sh` exports both): every transfer whose commit was acknowledged is
//! there afterwards, the total is unchanged, and the workload finishes on the other nodes. Its own
//! test binary, so that no other test runs while the node dies; the node is not restarted (the
//! script's stop step copes with a dead one), so the `galera` suite, when it runs after this one,
//! runs on two nodes and fails over from the dead one.
#![cfg(feature = "mysql")]

mod galera_support;

use athanor::prelude::*;
use athanor_conformance::harness;
use galera_support::{audit, setup, transfers, Tally, ACCOUNTS, OPENING};
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[test]
fn a_node_killed_mid_workload_loses_no_acknowledged_transfer() {
    let Some(db) = harness::open(harness::GALERA, "cluster_node_killed") else { return };
    let Some(pids) = std::env::var("ATHANOR_TEST_GALERA_PIDS").ok().filter(|p| !p.is_empty()) else {
        assert!(!athanor::testing::in_ci(), "ATHANOR_TEST_GALERA_PIDS is not set under CI=true");
        eprintln!("SKIPPED galera node kill: ATHANOR_TEST_GALERA_PIDS is not set");
        return;
    };
    let run = || -> Result<()> {
        setup(&db)?;
        // The second node's pid: the first serves the test's setup and audit as well.
        let pidfile = pids.split(',').nth(1).ok_or_else(|| Error::invalid_request("fewer than two pid files"))?;
        let pid: i32 = std::fs::read_to_string(pidfile)
            .map_err(|e| Error::invalid_request(format!("{pidfile}: {e}")))?
            .trim()
            .parse()
            .map_err(|e| Error::invalid_request(format!("{pidfile}: {e}")))?;
        let engine = create_engine(&format!("{}&pool_size=8", db.url))?;
        let tally = Arc::new(Tally::default());
        let killer = {
            let tally = tally.clone();
            std::thread::spawn(move || -> bool {
                while tally.committed.load(Ordering::Relaxed) < 60 {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().is_ok_and(|s| s.success())
            })
        };
        transfers(&engine, 8, 40, &tally)?;
        let killed = killer.join().map_err(|_| Error::invalid_request("the killer thread panicked"))?;
        assert!(killed, "kill -KILL {pid}");
        let (sum, min, ids) = audit(&engine)?;
        let acknowledged = tally.acknowledged.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let missing: Vec<_> = acknowledged.iter().filter(|id| ids.binary_search(id).is_err()).collect();
        eprintln!(
            "galera node killed (pid {pid}) mid-workload: {} acknowledged, {} retries, {} transfers lost their \
             connection (unacknowledged), {} rows checked, {} missing; total {sum}, lowest {min}",
            acknowledged.len(),
            tally.retries.load(Ordering::Relaxed),
            tally.lost_connections.load(Ordering::Relaxed),
            ids.len(),
            missing.len()
        );
        assert!(missing.is_empty(), "acknowledged transfers lost: {missing:?}");
        assert_eq!(sum, ACCOUNTS * OPENING, "the total moved");
        assert!(min >= 0);
        assert!(acknowledged.len() > 60, "the workload went on after the kill");
        Ok(())
    };
    if let Err(e) = run() {
        panic!("galera node kill: {e}");
    }
}
