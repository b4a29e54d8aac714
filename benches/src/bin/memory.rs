//! Memory of reading a large result (issue 25, item 7): Athanor's `all()` and
//! `yield_per(1000).iter()` against the raw driver reading the same rows into a `Vec` of plain
//! structs, on each database. The peak growth of the resident set (Linux `VmHWM`, reset through
//! `/proc/self/clear_refs` just before the query) is printed per way of reading; each runs in a
//! fresh process of its own.
//!
//! ```text
//! cargo run --release -p athanor-bench --bin memory -- [ROWS]     # default 200,000
//! ```
//!
//! The rows are those of `examples/stream.rs` (about 100 bytes: a 73-character label, an
//! integer, every other row a short note). The table `bench_memory_rows` is made and dropped by
//! the run, on an SQLite file in the temporary directory and on the servers of
//! `ATHANOR_TEST_POSTGRES_URL` / `ATHANOR_TEST_MYSQL_URL` (defaults: the local test servers); an
//! unreachable one is skipped with one line.
#![allow(missing_docs)] // a benchmark's model

use athanor::prelude::*;
use std::process::Command;

#[derive(Model, Debug, Clone)]
#[model(table = "bench_memory_rows")]
pub struct Item {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(length = 100)]
    pub label: String,
    pub qty: i64,
    pub note: Option<String>,
}

/// What the raw driver reads each row into.
#[allow(dead_code)] // the fields are what is measured
struct RawItem {
    id: i64,
    label: String,
    qty: i64,
    note: Option<String>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const SELECT: &str = "SELECT id, label, qty, note FROM bench_memory_rows ORDER BY id";

fn kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn base() -> Base {
    Base::new().register::<Item>()
}

fn seed(engine: &Engine, rows: i64) -> Result<()> {
    let base = base();
    base.metadata().drop_all(engine)?;
    base.metadata().create_all(engine)?;
    let s = sessionmaker(engine).session();
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

/// The raw driver's `Vec` of structs for `url`.
fn raw_rows(url: &str) -> Result<Vec<RawItem>, BoxError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let conn = rusqlite::Connection::open(path)?;
        let mut stmt = conn.prepare(SELECT)?;
        let rows =
            stmt.query_map([], |r| Ok(RawItem { id: r.get(0)?, label: r.get(1)?, qty: r.get(2)?, note: r.get(3)? }))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    } else if url.starts_with("postgres://") {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        let rows = client.query(SELECT, &[])?;
        let out =
            rows.iter().map(|r| RawItem { id: r.get(0), label: r.get(1), qty: r.get(2), note: r.get(3) }).collect();
        Ok(out)
    } else {
        use mysql::prelude::Queryable;
        let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url)?).prefer_socket(false);
        let mut conn = mysql::Conn::new(opts)?;
        let rows: Vec<(i64, String, i64, Option<String>)> = conn.query(SELECT)?;
        Ok(rows.into_iter().map(|(id, label, qty, note)| RawItem { id, label, qty, note }).collect())
    }
}

/// Read every row one way; print the count, a checksum and the peak growth in MiB.
fn measure(url: &str, mode: &str) -> Result<(), BoxError> {
    let engine = create_engine(url)?;
    let s = sessionmaker(&engine).session();
    // Connect and warm up before the baseline (the raw driver connects inside its measurement:
    // a connection's buffers are a few KiB).
    s.query::<Item>().limit(1).all()?;
    let before = kib("VmRSS:").unwrap_or(0);
    let reset = reset_peak();
    let (mut n, mut sum) = (0u64, 0i64);
    match mode {
        "raw Vec<struct>" => {
            let rows = raw_rows(url)?;
            for r in &rows {
                n += 1;
                sum += r.qty;
            }
        }
        "all()" => {
            for item in s.query::<Item>().order_by(Item::id.asc()).all()? {
                n += 1;
                sum += item.get().qty;
            }
        }
        _ => {
            for item in s.query::<Item>().order_by(Item::id.asc()).yield_per(1000).iter()? {
                let item = item?;
                n += 1;
                sum += item.get().qty;
            }
        }
    }
    let peak = kib("VmHWM:").filter(|_| reset).map(|p| p.saturating_sub(before));
    match peak {
        Some(p) => println!("  {mode:<22} {n:>8} rows  checksum {sum:>12}  peak +{:.1} MiB", p as f64 / 1024.0),
        None => println!("  {mode:<22} {n:>8} rows  checksum {sum:>12}  peak unknown (no /proc/self/clear_refs)"),
    }
    s.commit()?;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    if let (Some(flag), Some(url), Some(mode)) = (args.get(1), args.get(2), args.get(3)) {
        if flag == "--measure" {
            return measure(url, mode);
        }
    }
    let rows: i64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!("athanor-bench-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let urls = [
        ("sqlite", format!("sqlite://{}/memory.db", dir.display())),
        (
            "postgres",
            std::env::var("ATHANOR_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        ),
        (
            "mysql",
            std::env::var("ATHANOR_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
        ),
    ];
    let exe = std::env::current_exe()?;
    for (name, url) in &urls {
        let engine = create_engine(url)?;
        if let Err(e) = engine.connect() {
            println!("SKIPPED backend {name}: {e}");
            continue;
        }
        seed(&engine, rows)?;
        println!("{name}: {rows} rows of ~100 bytes");
        for mode in ["raw Vec<struct>", "all()", "yield_per(1000).iter()"] {
            let status = Command::new(&exe).args(["--measure", url, mode]).status()?;
            if !status.success() {
                return Err(format!("the {mode} run on {name} failed ({status})").into());
            }
        }
        base().metadata().drop_all(&engine)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
