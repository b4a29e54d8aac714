//! What the async bridge costs per request (BENCHMARKS.md, "The async bridge"): the same small
//! request — a fresh session, one `get` by primary key, the session dropped (its transaction
//! rolled back) — called directly on a thread, and through `SessionMaker::run` from a tokio task
//! (one after another, so the difference is the bridge: a slot, a hand-off to a blocking thread
//! and back); then 64 tasks at once through the bridge against 64 threads calling directly.
//!
//! `cargo run --release --example bridge_overhead -- [URL] [requests]` (default: an in-memory
//! SQLite database, 20,000 requests)
use athanor::prelude::*;
use std::time::Instant;

/// A row to read.
#[derive(Model, Debug, Clone)]
#[model(table = "bridge_bench")]
pub struct Row {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Some text.
    pub name: String,
}

fn request(s: &Session, id: i64) -> athanor::Result<usize> {
    Ok(s.get::<Row>(id)?.map_or(0, |r| r.get().name.len()))
}

fn per_request(label: &str, n: u64, elapsed: std::time::Duration) -> f64 {
    let us = elapsed.as_secs_f64() * 1e6 / n as f64;
    println!("{label:<52} {us:>8.2} µs per request");
    us
}

fn main() -> athanor::Result<()> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "sqlite::memory:".into());
    let n: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrent_url = if url.starts_with("sqlite") { url.clone() } else { format!("{url}?pool_size=16") };
    let engine = create_engine(&concurrent_url)?;
    let meta = Base::new().register::<Row>().metadata();
    meta.drop_all(&engine)?;
    meta.create_all(&engine)?;
    let sessions = sessionmaker(&engine);
    {
        let s = sessions.session();
        for i in 1..=100 {
            s.add(Row { id: Some(i), name: format!("row {i}") });
        }
        s.commit()?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");

    let mut best_direct = f64::MAX;
    let mut best_bridge = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for i in 0..n {
            request(&sessions.session(), (i % 100) as i64 + 1)?;
        }
        best_direct = best_direct.min(per_request("direct sync call, one thread", n, start.elapsed()));
        let start = Instant::now();
        rt.block_on(async {
            for i in 0..n {
                let id = (i % 100) as i64 + 1;
                sessions.run(move |s| request(s, id)).await?;
            }
            Ok::<_, Error>(())
        })?;
        best_bridge = best_bridge.min(per_request("SessionMaker::run, one task", n, start.elapsed()));
    }
    println!("bridge cost per request (best of 3): {:+.2} µs", best_bridge - best_direct);

    let workers = 64u64;
    let each = n / workers;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            let sessions = sessions.clone();
            scope.spawn(move || {
                for i in 0..each {
                    let _ = request(&sessions.session(), ((w + i) % 100) as i64 + 1);
                }
            });
        }
    });
    per_request("64 threads calling directly (throughput)", each * workers, start.elapsed());
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..workers)
            .map(|w| {
                let sessions = sessions.clone();
                tokio::spawn(async move {
                    for i in 0..each {
                        let id = ((w + i) % 100) as i64 + 1;
                        let _ = sessions.run(move |s| request(s, id)).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    });
    per_request("64 tasks through SessionMaker::run (throughput)", each * workers, start.elapsed());
    meta.drop_all(&engine)?;
    Ok(())
}
