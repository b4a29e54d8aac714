//! What statement telemetry costs per statement (BENCHMARKS.md, "Statement telemetry"): the same
//! primary-key SELECT on an in-memory SQLite database, with no subscriber, with a bare registry
//! (every span made and kept, nothing formatted), with a `fmt` subscriber that formats statement
//! spans at INFO (into a sink), and at DEBUG (spans and the parameter events).
//!
//! `cargo run --release --example telemetry_overhead [statements]`
use athanor::{create_engine, Value};
use std::time::Instant;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

fn run(label: &str, n: u64) -> athanor::Result<f64> {
    let engine = create_engine("sqlite::memory:")?;
    let mut conn = engine.connect()?;
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)", &[])?;
    for i in 0..100 {
        conn.execute("INSERT INTO t (id, name) VALUES (?, ?)", &[Value::I64(i), Value::Text(format!("n{i}"))])?;
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for i in 0..n {
            let rows = conn.query("SELECT id, name FROM t WHERE id = ?", &[Value::I64((i % 100) as i64)])?;
            assert_eq!(rows.len(), 1);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    println!("{label:<40} {best:>8.0} ns per statement (best of 5 × {n})");
    Ok(best)
}

fn main() -> athanor::Result<()> {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let off = run("no subscriber", n)?;
    let at = |level: LevelFilter| {
        tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink).with_filter(level))
    };
    let bare = {
        // Enabled for everything, keeps span data, formats nothing: Athanor's own part.
        let _subscriber = tracing_subscriber::registry().set_default();
        run("registry only (spans, no output)", n)?
    };
    let info = {
        let _subscriber = at(LevelFilter::INFO).set_default();
        run("fmt subscriber at INFO (spans)", n)?
    };
    let debug = {
        let _subscriber = at(LevelFilter::DEBUG).set_default();
        run("fmt subscriber at DEBUG (+ params)", n)?
    };
    println!(
        "overhead: registry {:+.0} ns, fmt INFO {:+.0} ns, fmt DEBUG {:+.0} ns per statement",
        bare - off,
        info - off,
        debug - off
    );
    Ok(())
}
