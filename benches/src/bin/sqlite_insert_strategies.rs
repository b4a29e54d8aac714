//! How SQLite itself spends time on the ways an ORM can insert N rows and learn their keys, with
//! rusqlite and no ORM in between (the evidence behind the `insert_n` note in BENCHMARKS.md):
//! one prepared single-row INSERT per row (+ `last_insert_rowid()`), or multi-row
//! `INSERT … VALUES (…), (…)` statements of B rows, with or without `RETURNING id`.
//!
//! ```text
//! cargo run --release -p athanor-bench --bin sqlite_insert_strategies [-- N]
//! ```

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let dir = std::env::temp_dir().join(format!("athanor-insert-strategies-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let r = run(&dir, n);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn run(dir: &std::path::Path, n: usize) -> Res<()> {
    let conn = Connection::open(dir.join("strategies.db"))?;
    conn.execute_batch(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT, \
         email VARCHAR(255) NOT NULL UNIQUE, age INTEGER NOT NULL)",
    )?;
    let rows = bench_rows(n);
    println!("SQLite, file database, {n} rows per transaction (median of 9, including COMMIT):");
    for batch in [1usize, 10, 100, 500] {
        for returning in [false, true] {
            let mut times = Vec::new();
            for _ in 0..10 {
                conn.execute_batch("DELETE FROM c")?;
                times.push(insert(&conn, &rows, batch, returning)?);
            }
            times.remove(0); // warm-up
            times.sort_unstable();
            let how = if returning { "RETURNING id" } else { "last_insert_rowid()" };
            println!("  {batch:>4} row(s) per statement, keys by {how:<20} {:>8.2} ms", ms(times[times.len() / 2]));
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The benchmark's rows (the same generator as the runner's `data::rows`).
fn bench_rows(n: usize) -> Vec<(String, Option<String>, String, i64)> {
    (0..n)
        .map(|i| {
            let scrambled = (i as u64).wrapping_mul(2_654_435_761) % 1_000_003;
            (
                format!("customer {scrambled:07}"),
                (i % 3 != 0).then(|| format!("{} Main Street, Springfield", i + 1)),
                format!("user{i}@example.com"),
                (scrambled % 80) as i64,
            )
        })
        .collect()
}

fn insert(
    conn: &Connection,
    rows: &[(String, Option<String>, String, i64)],
    batch: usize,
    returning: bool,
) -> Res<Duration> {
    let sql_for = |k: usize| {
        let mut s = String::from("INSERT INTO c (name, address, email, age) VALUES ");
        for r in 0..k {
            s.push_str(if r == 0 { "(?, ?, ?, ?)" } else { ", (?, ?, ?, ?)" });
        }
        if returning {
            s.push_str(" RETURNING id");
        }
        s
    };
    let full = sql_for(batch);
    let start = Instant::now();
    conn.execute_batch("BEGIN")?;
    let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(batch) {
        let tail;
        let text = if chunk.len() == batch {
            &full
        } else {
            tail = sql_for(chunk.len());
            &tail
        };
        let mut stmt = conn.prepare_cached(text)?;
        let params = chunk.iter().flat_map(|(name, address, email, age)| {
            [
                ValueRef::Text(name.as_bytes()),
                address.as_deref().map_or(ValueRef::Null, |a| ValueRef::Text(a.as_bytes())),
                ValueRef::Text(email.as_bytes()),
                ValueRef::Integer(*age),
            ]
            .map(ToSqlOutput::Borrowed)
        });
        if returning {
            let mut q = stmt.query(params_from_iter(params))?;
            while let Some(r) = q.next()? {
                ids.push(r.get(0)?);
            }
        } else {
            stmt.execute(params_from_iter(params))?;
            let last = conn.last_insert_rowid();
            ids.extend((last + 1 - chunk.len() as i64)..=last);
        }
    }
    conn.execute_batch("COMMIT")?;
    let d = start.elapsed();
    if ids.len() != rows.len() {
        return Err(format!("{} keys for {} rows", ids.len(), rows.len()).into());
    }
    Ok(d)
}
