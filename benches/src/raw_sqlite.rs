//! The raw rusqlite contender: cached prepared statements, one transaction per workload.

use crate::data::{flipped_age, Row, TABLE};
use crate::harness::{timed, Contender, Params, Res, Workload};
use rusqlite::{params, Connection};
use std::hint::black_box;
use std::time::Duration;

const INSERT: &str = "INSERT INTO bench_customers (name, address, email, age) VALUES (?1, ?2, ?3, ?4)";
const SELECT_ALL: &str = "SELECT id, name, address, email, age FROM bench_customers";
const BY_PK: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE id = ?1";
const ADULTS: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE age >= ?1 ORDER BY name";
const RANGE: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE id BETWEEN ?1 AND ?2";
const UPDATE_AGE: &str = "UPDATE bench_customers SET age = ?1 WHERE id = ?2";

/// rusqlite on the benchmark's database file.
pub struct RawSqlite {
    conn: Connection,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row { id: r.get(0)?, name: r.get(1)?, address: r.get(2)?, email: r.get(3)?, age: r.get(4)? })
}

impl RawSqlite {
    /// Open the database file.
    pub fn open(path: &std::path::Path) -> Res<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(RawSqlite { conn })
    }

    /// Empty the table (keys start again at 1).
    pub fn reset(&mut self) -> Res<()> {
        self.conn.execute_batch(&format!("DELETE FROM {TABLE}"))?;
        Ok(())
    }

    /// The smallest key and the row count.
    pub fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        Ok(self.conn.query_row(&format!("SELECT MIN(id), MAX(id), COUNT(*) FROM {TABLE}"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?)
    }
}

impl Contender for RawSqlite {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let conn = &mut self.conn;
        let r = match w {
            Workload::InsertN => timed(|| {
                let tx = conn.transaction()?;
                let mut ids = Vec::with_capacity(p.n());
                {
                    let mut stmt = tx.prepare_cached(INSERT)?;
                    for r in &p.rows {
                        stmt.execute(params![r.name, r.address, r.email, r.age])?;
                        ids.push(tx.last_insert_rowid());
                    }
                }
                tx.commit()?;
                Ok(black_box(ids).len())
            })?,
            Workload::SelectAll => timed(|| {
                let tx = conn.transaction()?;
                let rows = {
                    let mut stmt = tx.prepare_cached(SELECT_ALL)?;
                    let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<Vec<Row>>>()?;
                    rows
                };
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::GetByPk | Workload::GetByPkOneSession => timed(|| {
                let tx = conn.transaction()?;
                let mut n = 0;
                {
                    let mut stmt = tx.prepare_cached(BY_PK)?;
                    for &id in &p.lookup {
                        let c = stmt.query_row([id], row)?;
                        black_box(c.age);
                        n += 1;
                    }
                }
                tx.commit()?;
                Ok(n)
            })?,
            Workload::GetByPkTxEach => timed(|| {
                let mut n = 0;
                for &id in &p.lookup {
                    let tx = conn.transaction()?;
                    let c = tx.prepare_cached(BY_PK)?.query_row([id], row)?;
                    black_box(c.age);
                    n += 1;
                    drop(tx); // ROLLBACK, as a session that only read
                }
                Ok(n)
            })?,
            Workload::GetByPkHit => return Ok(None),
            Workload::FilterOrder => timed(|| {
                let tx = conn.transaction()?;
                let rows = {
                    let mut stmt = tx.prepare_cached(ADULTS)?;
                    let rows = stmt.query_map([18], row)?.collect::<rusqlite::Result<Vec<Row>>>()?;
                    rows
                };
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::UpdateDirty => {
                let (lo, hi) = p.update_range();
                timed(|| {
                    let tx = conn.transaction()?;
                    let n = {
                        let mut load = tx.prepare_cached(RANGE)?;
                        let mut rows = load.query_map([lo, hi], row)?.collect::<rusqlite::Result<Vec<Row>>>()?;
                        let mut update = tx.prepare_cached(UPDATE_AGE)?;
                        for c in &mut rows {
                            c.age = flipped_age(c.age);
                            update.execute(params![c.age, c.id])?;
                        }
                        rows.len()
                    };
                    tx.commit()?;
                    Ok(n)
                })?
            }
        };
        Ok(Some(r))
    }
}
