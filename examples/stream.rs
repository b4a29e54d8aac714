//! Walking a large result in bounded memory: `query.yield_per(n).iter()` against `all()`, with
//! the peak resident memory of each printed (Linux: `VmHWM` from `/proc/self/status`).
//!
//! ```text
//! cargo run --release --example stream                                   # SQLite file
//! cargo run --release --example stream -- postgres://postgres@127.0.0.1/test
//! cargo run --release --example stream -- mysql://root@127.0.0.1/test
//! cargo run --release --example stream -- <URL> 50000                   # another row count
//! ```
//!
//! The program fills a table with 200,000 rows of about 100 bytes, then runs itself once per
//! way of reading them, so each measurement starts from a fresh process: the peak it prints is
//! the growth of the resident set over the process's size just before the query.
#![allow(missing_docs)] // a program, not a library

use athanor::prelude::*;
use std::process::Command;

#[derive(Model, Debug, Clone)]
#[model(table = "stream_rows")]
pub struct Item {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(length = 100)]
    pub label: String,
    pub qty: i64,
    pub note: Option<String>,
}

fn kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset the peak to the current size (Linux 4.0+), so the next peak is the query's.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn base(url: &str) -> Result<(Engine, Base)> {
    Ok((create_engine(url)?, Base::new().register::<Item>()))
}

fn seed(url: &str, rows: i64) -> Result<()> {
    let (engine, base) = base(url)?;
    base.metadata().drop_all(&engine)?;
    base.metadata().create_all(&engine)?;
    let s = sessionmaker(&engine).session();
    let mut batch = Vec::with_capacity(5000);
    for i in 0..rows {
        batch.push(Item {
            id: None,
            label: format!("item {i:08} {}", "x".repeat(60)),
            qty: i % 1000,
            note: (i % 2 == 0).then(|| "even".to_string()),
        });
        if batch.len() == 5000 {
            s.insert::<Item>().values(std::mem::take(&mut batch)).execute()?;
        }
    }
    s.insert::<Item>().values(batch).execute()?;
    s.commit()
}

/// Read every row one way; print the count, a checksum and the peak growth in KiB.
fn measure(url: &str, mode: &str) -> Result<()> {
    let (engine, _base) = base(url)?;
    let s = sessionmaker(&engine).session();
    // Connect and warm up before the baseline.
    s.query::<Item>().limit(1).all()?;
    let before = kib("VmRSS:").unwrap_or(0);
    let reset = reset_peak();
    let (mut n, mut sum) = (0u64, 0i64);
    let q = s.query::<Item>().order_by(Item::id.asc());
    match mode {
        "all" => {
            for item in q.all()? {
                n += 1;
                sum += item.get().qty;
            }
        }
        _ => {
            for item in q.yield_per(1000).iter()? {
                let item = item?;
                n += 1;
                sum += item.get().qty;
            }
        }
    }
    let peak = kib("VmHWM:").filter(|_| reset).map(|p| p.saturating_sub(before));
    match peak {
        Some(p) => println!("{mode:<16} {n:>8} rows  checksum {sum:>12}  peak +{:.1} MiB", p as f64 / 1024.0),
        None => println!("{mode:<16} {n:>8} rows  checksum {sum:>12}  peak unknown (no /proc/self/clear_refs)"),
    }
    s.commit()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let (Some(flag), Some(url), Some(mode)) = (args.get(1), args.get(2), args.get(3)) {
        if flag == "--measure" {
            return measure(url, mode);
        }
    }
    let dir = tempfile_dir();
    let default_url = format!("sqlite://{}/stream.db", dir.display());
    let url = args.get(1).cloned().unwrap_or(default_url);
    let rows: i64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(200_000);
    seed(&url, rows)?;
    println!("{rows} rows of ~100 bytes on {}", url.split(':').next().unwrap_or("?"));
    let exe = std::env::current_exe().map_err(|e| Error::invalid_request(format!("cannot find this program: {e}")))?;
    for mode in ["yield_per(1000)", "all"] {
        let status = Command::new(&exe)
            .args(["--measure", &url, mode])
            .status()
            .map_err(|e| Error::invalid_request(format!("cannot run {}: {e}", exe.display())))?;
        if !status.success() {
            return Err(Error::invalid_request(format!("the {mode} run failed ({status})")));
        }
    }
    let (engine, base) = base(&url)?;
    base.metadata().drop_all(&engine)?;
    Ok(())
}

/// A directory for the SQLite file that lives as long as the program.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("athanor-stream-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}
