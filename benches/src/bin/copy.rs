//! `athanor copy` against the destination's own bulk path, in the same run (the numbers in
//! BENCHMARKS.md): N rows of an SQLite file copied to PostgreSQL and to MySQL/MariaDB by
//! `athanor::copy::copy`, and by the raw drivers: rusqlite reading, multi-row `INSERT`
//! statements of the same batch size in one transaction per batch written with `postgres` /
//! `mysql`, and PostgreSQL's `COPY … FROM STDIN`.
//!
//! ```text
//! cargo run --release -p athanor-bench --bin copy -- [ROWS] [PG_URL] [MYSQL_URL]
//! ```
//!
//! Each destination database (`athanor_copy_bench`) is made and dropped by the run.

use athanor::admin::{create_database, drop_database};
use athanor::backend::ConnectOptions;
use athanor::copy::{copy, CopyOptions};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const DDL_PG: &str = "CREATE TABLE copy_rows (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty BIGINT NOT NULL, \
                      price NUMERIC(10,2) NOT NULL, at TIMESTAMPTZ NOT NULL, note TEXT)";
const DDL_MY: &str = "CREATE TABLE copy_rows (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty BIGINT NOT NULL, \
                      price DECIMAL(10,2) NOT NULL, at DATETIME(6) NOT NULL, note LONGTEXT)";
const BATCH: usize = 5_000;
const COLS: usize = 6;

/// One source row as the raw paths carry it.
struct Row {
    id: i64,
    name: String,
    qty: i64,
    price: String,
    at: String,
    note: Option<String>,
}

fn seed(path: &std::path::Path, n: usize) -> Res<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "CREATE TABLE copy_rows (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INTEGER NOT NULL, \
         price DECIMAL_TEXT(10,2) NOT NULL, at TIMESTAMP_TEXT NOT NULL, note TEXT); BEGIN",
    )?;
    {
        let mut st = conn.prepare("INSERT INTO copy_rows VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for i in 0..n as i64 {
            let at = athanor::temporal::format_timestamp(1_700_000_000_000_000 + i * 1_000_003);
            let note = (i % 3 == 0).then(|| format!("note {i}"));
            st.execute(rusqlite::params![
                i + 1,
                format!("row {i:08}"),
                i % 1000,
                format!("{}.{:02}", i % 100_000, i % 100),
                at,
                note
            ])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

fn read_rows(path: &std::path::Path, mut each: impl FnMut(Vec<Row>) -> Res<()>) -> Res<()> {
    let conn = rusqlite::Connection::open(path)?;
    let mut st = conn.prepare("SELECT id, name, qty, price, at, note FROM copy_rows ORDER BY id")?;
    let mut rows = st.query([])?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(r) = rows.next()? {
        batch.push(Row {
            id: r.get(0)?,
            name: r.get(1)?,
            qty: r.get(2)?,
            price: r.get(3)?,
            at: r.get(4)?,
            note: r.get(5)?,
        });
        if batch.len() == BATCH {
            each(std::mem::take(&mut batch))?;
        }
    }
    if !batch.is_empty() {
        each(batch)?;
    }
    Ok(())
}

fn values(rows: usize, ph: impl Fn(usize) -> String) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| format!("({})", (0..COLS).map(|j| ph(r * COLS + j)).collect::<Vec<_>>().join(", ")))
        .collect();
    format!("INSERT INTO copy_rows (id, name, qty, price, at, note) VALUES {}", tuples.join(", "))
}

fn raw_postgres(src: &std::path::Path, url: &str) -> Res<Duration> {
    let mut client = postgres::Client::connect(&pg_conninfo(url), postgres::NoTls)?;
    client.batch_execute(DDL_PG)?;
    // The decimal and the instant are sent as text for the server to parse, as Athanor does.
    let ph = |i: usize| match i % COLS {
        3 => format!("${}::text::numeric", i + 1),
        4 => format!("${}::text::timestamptz", i + 1),
        _ => format!("${}", i + 1),
    };
    let start = Instant::now();
    // 1000 rows per statement (6,000 parameters), five statements per transaction.
    let per = 1000;
    let full = client.prepare(&values(per, ph))?;
    read_rows(src, |batch| {
        let mut tx = client.transaction()?;
        for chunk in batch.chunks(per) {
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::with_capacity(chunk.len() * COLS);
            for r in chunk {
                params.extend([
                    &r.id as &(dyn postgres::types::ToSql + Sync),
                    &r.name,
                    &r.qty,
                    &r.price,
                    &r.at,
                    &r.note,
                ]);
            }
            if chunk.len() == per {
                tx.execute(&full, &params)?;
            } else {
                tx.execute(&values(chunk.len(), ph), &params)?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    let took = start.elapsed();
    client.batch_execute("DROP TABLE copy_rows")?;
    Ok(took)
}

fn raw_postgres_copy(src: &std::path::Path, url: &str) -> Res<Duration> {
    use std::io::Write;
    let mut client = postgres::Client::connect(&pg_conninfo(url), postgres::NoTls)?;
    client.batch_execute(DDL_PG)?;
    let start = Instant::now();
    read_rows(src, |batch| {
        let mut tx = client.transaction()?;
        let mut w = tx.copy_in("COPY copy_rows (id, name, qty, price, at, note) FROM STDIN")?;
        for r in &batch {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.id,
                r.name,
                r.qty,
                r.price,
                r.at,
                r.note.as_deref().unwrap_or("\\N")
            )?;
        }
        w.finish()?;
        tx.commit()?;
        Ok(())
    })?;
    let took = start.elapsed();
    client.batch_execute("DROP TABLE copy_rows")?;
    Ok(took)
}

fn raw_mysql(src: &std::path::Path, url: &str) -> Res<Duration> {
    use mysql::prelude::Queryable;
    let mut conn = mysql::Conn::new(mysql::Opts::from_url(url)?)?;
    conn.query_drop(DDL_MY)?;
    let start = Instant::now();
    let per = 1000;
    let full = conn.prep(values(per, |_| "?".to_string()))?;
    read_rows(src, |batch| {
        let mut tx = conn.start_transaction(mysql::TxOpts::default())?;
        for chunk in batch.chunks(per) {
            let params: Vec<mysql::Value> = chunk
                .iter()
                .flat_map(|r| {
                    [
                        mysql::Value::Int(r.id),
                        mysql::Value::from(r.name.as_str()),
                        mysql::Value::Int(r.qty),
                        mysql::Value::from(r.price.as_str()),
                        mysql::Value::from(r.at.trim_end_matches('Z').replace('T', " ")),
                        r.note.as_deref().map_or(mysql::Value::NULL, mysql::Value::from),
                    ]
                })
                .collect();
            if chunk.len() == per {
                tx.exec_drop(&full, params)?;
            } else {
                tx.exec_drop(values(chunk.len(), |_| "?".to_string()), params)?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    let took = start.elapsed();
    conn.query_drop("DROP TABLE copy_rows")?;
    Ok(took)
}

/// `postgres://user@host:port/db` as a libpq-style conninfo the `postgres` crate takes.
fn pg_conninfo(url: &str) -> String {
    let o = ConnectOptions::parse(url).ok();
    let o = o.as_ref();
    format!(
        "host={} port={} user={} dbname={}",
        o.and_then(|o| o.host.clone()).unwrap_or_else(|| "127.0.0.1".into()),
        o.and_then(|o| o.port).unwrap_or(5432),
        o.and_then(|o| o.user.clone()).unwrap_or_else(|| "postgres".into()),
        o.and_then(|o| o.database.clone()).unwrap_or_default()
    )
}

fn athanor_copy(src_url: &str, url: &str) -> Res<Duration> {
    let (from, to) = (athanor::create_engine(src_url)?, athanor::create_engine(url)?);
    let options = CopyOptions { create: true, batch_rows: BATCH, ..CopyOptions::default() };
    let start = Instant::now();
    copy(&from, &to, &options, &mut ())?;
    let took = start.elapsed();
    to.connect()?.batch_execute("DROP TABLE copy_rows")?;
    Ok(took)
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let pg = args.next().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let my = args.next().unwrap_or_else(|| "mysql://root@127.0.0.1:3306/test".into());
    let dir = std::env::temp_dir().join(format!("athanor-copy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let src = dir.join("src.db");
    seed(&src, n)?;
    let src_url = format!("sqlite://{}", src.display());
    println!("{n} rows (6 columns: key, text, integer, decimal, instant, nullable text) from an SQLite file; batches of {BATCH}");
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    for (name, server) in [("PostgreSQL", &pg), ("MariaDB", &my)] {
        let url = ConnectOptions::parse(server)?.with_database("athanor_copy_bench")?;
        drop_database(&url, true)?;
        create_database(&url, false)?;
        let athanor = athanor_copy(&src_url, &url)?;
        let raw = if name == "PostgreSQL" { raw_postgres(&src, &url)? } else { raw_mysql(&src, &url)? };
        println!(
            "{name}: athanor copy {:.2} s ({:.0} rows/s); raw multi-row INSERT {:.2} s ({:.0} rows/s); ratio {:.2}",
            athanor.as_secs_f64(),
            rate(athanor),
            raw.as_secs_f64(),
            rate(raw),
            athanor.as_secs_f64() / raw.as_secs_f64()
        );
        if name == "PostgreSQL" {
            let c = raw_postgres_copy(&src, &url)?;
            println!(
                "{name}: raw COPY FROM STDIN {:.2} s ({:.0} rows/s); athanor copy / COPY {:.2}",
                c.as_secs_f64(),
                rate(c),
                athanor.as_secs_f64() / c.as_secs_f64()
            );
        }
        drop_database(&url, false)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
