//! The MySQL conformance scenarios on a 3-node Galera cluster (`ATHANOR_TEST_GALERA_URL`, e.g.
//! `mysql://root@127.0.0.1:3311/test?hosts=127.0.0.1:3311,127.0.0.1:3312,127.0.0.1:3313`;
//! `.ci/scale/galera.sh` starts one), each new pooled connection on the next node; the scenarios
//! that cannot hold across nodes are skipped by name with their reason
//! (`harness::NOT_ON_A_GALERA_CLUSTER`, docs/scaling.md). Below them, the cluster's own tests:
//! transfers spread over the nodes, keys of multi-row inserts with `auto_increment_increment=3`,
//! and a node killed mid-workload.
#![cfg(feature = "mysql")]

athanor_conformance::conformance_tests!(galera);
athanor_conformance::acid_tests!(galera);

mod galera_support;

/// The cluster's own checks (docs/scaling.md quotes what they print).
mod cluster {
    use crate::galera_support::{audit, setup, transfers, Tally, ACCOUNTS, OPENING};
    use athanor::prelude::*;
    use athanor_conformance::harness;
    use athanor_conformance::models::Customer;
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn transfers_spread_over_the_nodes_keep_the_total() {
        let Some(db) = harness::open(harness::GALERA, "cluster_transfers") else { return };
        let run = || -> Result<()> {
            setup(&db)?;
            let engine = create_engine(&format!("{}&pool_size=8", db.url))?;
            // Every node serves a connection of the pool.
            let mut ports = BTreeMap::new();
            let held: Vec<_> = (0..3).map(|_| engine.connect()).collect::<Result<_>>()?;
            for mut c in held {
                let port: i64 = c.query_scalar("SELECT @@port", &[])?;
                *ports.entry(port).or_insert(0) += 1;
            }
            let mut conn = engine.connect()?;
            let nodes: String = conn.query_scalar("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'", &[])?;
            drop(conn);
            let nodes: usize = nodes.parse().map_err(|_| Error::invalid_request(format!("cluster size {nodes:?}")))?;
            assert_eq!(ports.len(), nodes.min(3), "three connections, one per node that is up: {ports:?}");
            let tally = Arc::new(Tally::default());
            transfers(&engine, 8, 40, &tally)?;
            let (sum, min, ids) = audit(&engine)?;
            let acknowledged = tally.acknowledged.lock().unwrap_or_else(|p| p.into_inner()).clone();
            eprintln!(
                "galera transfers: {} committed over nodes {:?}, {} retries (certification failures and deadlocks), \
                 total {sum}, lowest {min}, {} logged",
                tally.committed.load(Ordering::Relaxed),
                ports.keys().collect::<Vec<_>>(),
                tally.retries.load(Ordering::Relaxed),
                ids.len()
            );
            assert_eq!(sum, ACCOUNTS * OPENING, "the total moved");
            assert!(min >= 0, "a negative balance {min}");
            let mut want = acknowledged;
            want.sort_unstable();
            assert_eq!(ids, want, "the log holds exactly the acknowledged transfers");
            Ok(())
        };
        if let Err(e) = run() {
            panic!("galera transfers: {e}");
        }
    }

    /// A multi-row flush with `auto_increment_increment = 3`: every object gets the key its row
    /// has (the backend sees the increment and inserts such rows one per statement).
    #[test]
    fn generated_keys_are_right_with_an_increment_above_one() {
        let Some(db) = harness::open(harness::GALERA, "cluster_keys") else { return };
        let run = || -> Result<()> {
            db.create_all()?;
            let mut conn = db.engine.connect()?;
            let increment: i64 = conn.query_scalar("SELECT @@auto_increment_increment", &[])?;
            // wsrep_auto_increment_control: the number of nodes up (3, or 2 after galera_kill).
            assert!(increment > 1, "the cluster's wsrep_auto_increment_control: {increment}");
            drop(conn);
            let s = db.session();
            let customers: Vec<_> =
                (0..30).map(|i| s.add(Customer::new(&format!("c{i}"), &format!("c{i}@x"), i))).collect();
            s.commit()?;
            let mut keys = Vec::new();
            for c in &customers {
                let c = c.get();
                let id = c.id.ok_or_else(|| Error::invalid_request("no key written back"))?;
                keys.push(id);
                let mut conn = db.engine.connect()?;
                conn.execute("SET SESSION wsrep_sync_wait = 1 | @@wsrep_sync_wait", &[])?;
                let email: String = conn.query_scalar("SELECT email FROM customers WHERE id = ?", &[Value::I64(id)])?;
                assert_eq!(email, c.email, "key {id}");
            }
            let mut sorted = keys.clone();
            sorted.dedup();
            assert_eq!(sorted.len(), 30);
            eprintln!("galera keys with auto_increment_increment={increment}: {:?} …", &keys[..6]);
            Ok(())
        };
        if let Err(e) = run() {
            panic!("galera keys: {e}");
        }
    }
}
