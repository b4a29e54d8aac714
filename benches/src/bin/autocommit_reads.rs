//! A read-only request with and without `sessionmaker(&engine).autocommit_reads(true)` (the
//! numbers in BENCHMARKS.md): each request is a fresh session that reads and is dropped, as a web
//! handler's. With the default settings the session's first read begins a transaction (BEGIN)
//! and dropping it rolls back (ROLLBACK); with `autocommit_reads` it sends only the reads.
//!
//! ```text
//! cargo run --release -p athanor-bench --bin autocommit_reads -- [REQUESTS] [REPS]
//! ```
//!
//! Two requests: `get` (one `Session::get` by key) and `page` (a filtered `count()` and a page of
//! 20 objects: two SELECTs). The table `bench_autocommit_reads` (1,000 rows) is made and dropped
//! by the run, on an SQLite file in the temporary directory, and on the servers of
//! `ATHANOR_TEST_POSTGRES_URL` / `ATHANOR_TEST_MYSQL_URL` (defaults: the local test servers); an
//! unreachable one is skipped with one line. The two modes take turns rep by rep, and the median
//! of the reps is printed per request in microseconds, with the statements each request sent.
#![allow(missing_docs)] // a benchmark's model

use athanor::prelude::*;
use std::time::Instant;

#[derive(Model, Debug, Clone)]
#[model(table = "bench_autocommit_reads")]
pub struct Item {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(length = 40)]
    pub name: String,
    pub price: i64,
}

const ROWS: i64 = 1_000;

fn base() -> Base {
    Base::new().register::<Item>()
}

/// One request of the given shape in a fresh session; the objects it returned.
fn request(maker: &SessionMaker, shape: &str, i: i64) -> Result<usize> {
    let s = maker.session();
    match shape {
        "get" => Ok(s.get::<Item>(1 + i % ROWS)?.map_or(0, |_| 1)),
        _ => {
            let q = s.query::<Item>().filter(Item::price.ge(500)).order_by(Item::id.asc());
            let total = q.count()?;
            let page = q.limit(20).offset((i as u64 * 20) % total.max(1)).all()?;
            Ok(page.len())
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(name: &str, url: &str, requests: i64, reps: usize) -> Result<()> {
    let engine = create_engine(url)?;
    if let Err(e) = engine.connect() {
        println!("SKIPPED backend {name} at {url}: {e}");
        return Ok(());
    }
    let meta = base().metadata();
    meta.drop_all(&engine)?;
    meta.create_all(&engine)?;
    let out = (|| -> Result<()> {
        let s = sessionmaker(&engine).session();
        s.add_all((0..ROWS).map(|i| Item { id: None, name: format!("item {i:04}"), price: (i * 7919) % 1000 }));
        s.commit()?;
        let modes = [
            ("transaction", sessionmaker(&engine)),
            ("autocommit_reads", sessionmaker(&engine).autocommit_reads(true)),
        ];
        for shape in ["get", "page"] {
            // Warm-up: prepared statements, pool.
            for (_, maker) in &modes {
                for i in 0..requests.min(200) {
                    request(maker, shape, i)?;
                }
            }
            let mut times = [Vec::new(), Vec::new()];
            let mut statements = [0u64; 2];
            for rep in 0..reps {
                for k in 0..2 {
                    // Alternate which mode goes first.
                    let m = (k + rep) % 2;
                    let before = engine.statement_count();
                    let start = Instant::now();
                    let mut found = 0;
                    for i in 0..requests {
                        found += request(&modes[m].1, shape, i)?;
                    }
                    times[m].push(start.elapsed().as_secs_f64() * 1e6 / requests as f64);
                    statements[m] = (engine.statement_count() - before) / requests as u64;
                    assert!(found > 0, "the requests found rows");
                }
            }
            let (tx, ac) = (median(times[0].clone()), median(times[1].clone()));
            println!(
                "| {name} | {shape} | {} | {} | {tx:.1} | {ac:.1} | {:.2} |",
                statements[0],
                statements[1],
                ac / tx
            );
        }
        Ok(())
    })();
    meta.drop_all(&engine)?;
    out
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let requests: i64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let reps: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(7);
    let dir = std::env::temp_dir().join(format!("athanor-autocommit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::invalid_request(e.to_string()))?;
    let sqlite = format!("sqlite://{}", dir.join("bench.db").display());
    let pg =
        std::env::var("ATHANOR_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let my = std::env::var("ATHANOR_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    println!("{requests} requests per rep, {reps} reps; median microseconds per request");
    println!();
    println!("| database | request | statements (transaction) | statements (autocommit_reads) | µs (transaction) | µs (autocommit_reads) | autocommit / transaction |");
    println!("|---|---|---|---|---|---|---|");
    let r = run("SQLite", &sqlite, requests, reps)
        .and_then(|_| run("PostgreSQL", &pg, requests, reps))
        .and_then(|_| run("MySQL/MariaDB", &my, requests, reps));
    let _ = std::fs::remove_dir_all(&dir);
    r
}
