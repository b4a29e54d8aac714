//! Read replicas in figures (docs/scaling.md, "Read replicas"): what a read costs on the
//! primary and routed to a replica, how long a replica takes to apply a commit (the lag a
//! consistency token waits out), and where the reads of sessions made with a fresh token went.
//!
//! `cargo run --release --example replica_lag -- PRIMARY_URL REPLICA_URL [requests]`
//! (`.ci/scale/replicas.sh start` prints such URLs: PostgreSQL 5440/5441, MariaDB 3320/3321).
use athanor::prelude::*;
use std::time::{Duration, Instant};

/// A row to read.
#[derive(Model, Debug, Clone)]
#[model(table = "replica_bench")]
pub struct Row {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// Some text.
    pub name: String,
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> athanor::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(primary), Some(replica)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: replica_lag PRIMARY_URL REPLICA_URL [requests]");
        return Ok(());
    };
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let node = {
        let o = athanor::backend::ConnectOptions::parse(replica)?;
        format!("{}:{}", o.host.unwrap_or_default(), o.port.unwrap_or_default())
    };
    let sep = if primary.contains('?') { '&' } else { '?' };
    let engine = create_engine(&format!("{primary}{sep}replicas={node}"))?;
    engine.execute("DROP TABLE IF EXISTS replica_bench", &[])?;
    Base::new().register::<Row>().metadata().create_all(&engine)?;
    let sessions = sessionmaker(&engine);
    {
        let s = sessions.session();
        s.add(Row { id: 1, name: "one".into() });
        s.commit()?;
    }
    std::thread::sleep(Duration::from_millis(500));

    // 1. A request (fresh session, get by key, dropped) on the primary and on the replica.
    for (label, maker) in
        [("primary only", sessions.clone().replica_reads(false)), ("routed to the replica", sessions.clone())]
    {
        let before = engine.statement_count();
        let start = Instant::now();
        for _ in 0..n {
            let s = maker.session();
            s.get::<Row>(1i64)?;
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        let per = (engine.statement_count() - before) as f64 / n as f64;
        println!("{label:<40} {us:>8.1} µs per request, {per:.1} statements");
    }

    // 2. The lag a token waits out: from COMMIT to the replica having applied it.
    let rounds = (n / 10).max(20);
    let mut lags = Vec::with_capacity(rounds);
    let (mut on_replica, mut on_primary) = (0u64, 0u64);
    for i in 0..rounds {
        let s = sessions.session();
        s.add(Row { id: 100 + i as i64, name: "x".into() });
        s.commit()?;
        let committed = Instant::now();
        let Some(token) = s.consistency_token() else { panic!("no token after a commit") };
        // A session made with the token at once (the next request): where did it read?
        let next = sessions.session_after(&token)?;
        next.get::<Row>(100 + i as i64)?.expect("the token reads its write");
        if next.on_replica() {
            on_replica += 1;
        } else {
            on_primary += 1;
        }
        drop(next);
        // Then wait until a replica has applied it.
        loop {
            if engine.connect_replica(Some(&token)).is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        lags.push(committed.elapsed());
    }
    let p50 = percentile(&mut lags, 0.5);
    let p99 = percentile(&mut lags, 0.99);
    println!(
        "replica lag after a commit ({rounds} commits)  p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!("sessions made with a fresh token: {on_replica} read from the replica, {on_primary} from the primary");
    println!("{:?}", engine.replica_metrics());
    for r in engine.replicas() {
        println!("replica pool {:?}", r.pool_metrics());
    }
    engine.execute("DROP TABLE replica_bench", &[])?;
    Ok(())
}
