//! SQLite's statement deadline (`statement_timeout`): SQLite's own work is bounded, the time a
//! reader spends with each row is not counted, and the connection works after an interrupt.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{ConnectOptions, Driver, Error, Result, TimeoutKind};
use athanor_sqlite::backend;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn driver(url: &str) -> Arc<dyn Driver> {
    (backend().open)(&ConnectOptions::parse(url).unwrap()).unwrap()
}

const SLOW: &str = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) \
                    SELECT count(*) FROM r a, r b, r c";

#[test]
fn a_statement_past_its_deadline_is_interrupted_and_the_connection_goes_on() -> Result<()> {
    let d = driver("sqlite::memory:?statement_timeout=200");
    let mut c = d.connect()?;
    for _ in 0..2 {
        let start = Instant::now();
        let r = c.query(SLOW, &[], &mut |_| Ok(()));
        let took = start.elapsed();
        assert!(matches!(r, Err(Error::Timeout { kind: TimeoutKind::Statement, .. })), "{r:?}");
        assert!(took >= Duration::from_millis(180) && took < Duration::from_secs(5), "{took:?}");
        // The deadline is per statement: the next one has its own.
        let mut n = 0;
        c.query("SELECT 1", &[], &mut |_| {
            n += 1;
            Ok(())
        })?;
        assert_eq!(n, 1);
    }
    Ok(())
}

#[test]
fn time_spent_by_the_reader_is_not_the_statements() -> Result<()> {
    let d = driver("sqlite::memory:?statement_timeout=200");
    let mut c = d.connect()?;
    let mut rows = 0;
    // Thousands of SQLite instructions between two rows, so the deadline is checked meanwhile.
    let spread = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 30000) \
                  SELECT n FROM r WHERE n % 10000 = 0";
    c.query(spread, &[], &mut |_| {
        rows += 1;
        std::thread::sleep(Duration::from_millis(150));
        Ok(())
    })?;
    assert_eq!(rows, 3, "450 ms with the rows, but SQLite's own work took far less than 200 ms");
    Ok(())
}

#[test]
fn without_statement_timeout_nothing_is_interrupted() -> Result<()> {
    let d = driver("sqlite::memory:");
    let mut c = d.connect()?;
    let mut got = None;
    c.query(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 200000) SELECT count(*) FROM r",
        &[],
        &mut |row| {
            got = Some(row.get(0)?.to_owned());
            Ok(())
        },
    )?;
    assert_eq!(got, Some(athanor_core::Value::I64(200_000)));
    Ok(())
}
