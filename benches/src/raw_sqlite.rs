//! The raw rusqlite contender: cached prepared statements, one transaction per workload.

use crate::data::{
    assoc_counts, assoc_seed, check_assoc, flipped_age, group_assoc, in_list, multi_insert, AssocComment, AssocPost,
    AssocUser, Row, ASSOC_COMMENTS_TABLE, ASSOC_POSTS_TABLE, ASSOC_USERS_TABLE, SEED_BATCH, TABLE,
};
use crate::harness::{timed, Contender, Params, Res, Workload};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};
use std::hint::black_box;
use std::time::Duration;

const INSERT: &str = "INSERT INTO bench_customers (name, address, email, age) VALUES (?1, ?2, ?3, ?4)";
const SELECT_ALL: &str = "SELECT id, name, address, email, age FROM bench_customers";
const BY_PK: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE id = ?1";
const BY_EMAIL: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE email = ?1";
const ADULTS: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE age >= ?1 ORDER BY name";
const RANGE: &str = "SELECT id, name, address, email, age FROM bench_customers WHERE id BETWEEN ?1 AND ?2";
const UPDATE_AGE: &str = "UPDATE bench_customers SET age = ?1 WHERE id = ?2";

/// rusqlite on the benchmark's database file.
pub struct RawSqlite {
    conn: Connection,
    assoc_shape: Option<(usize, usize, usize)>,
    assoc_checked: bool,
}

/// `?1, ?2, …`.
fn ph(i: usize) -> String {
    format!("?{}", i + 1)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row { id: r.get(0)?, name: r.get(1)?, address: r.get(2)?, email: r.get(3)?, age: r.get(4)? })
}

impl RawSqlite {
    /// Open the database file.
    pub fn open(path: &std::path::Path) -> Res<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(RawSqlite { conn, assoc_shape: None, assoc_checked: false })
    }

    /// Empty the table (keys start again at 1).
    pub fn reset(&mut self) -> Res<()> {
        self.conn.execute_batch(&format!("DELETE FROM {TABLE}"))?;
        Ok(())
    }

    /// Fill the `load_assoc` tables (emptied first), multi-row INSERTs in one transaction.
    pub fn seed_assoc(&mut self) -> Res<()> {
        let seed = assoc_seed();
        let tx = self.conn.transaction()?;
        tx.execute_batch(&format!(
            "DELETE FROM {ASSOC_COMMENTS_TABLE}; DELETE FROM {ASSOC_POSTS_TABLE}; DELETE FROM {ASSOC_USERS_TABLE}"
        ))?;
        for chunk in seed.users.chunks(SEED_BATCH) {
            let sql = multi_insert(ASSOC_USERS_TABLE, &["id", "name"], chunk.len(), ph);
            let values = chunk.iter().flat_map(|(id, name)| [Value::from(*id), Value::from(name.clone())]);
            tx.execute(&sql, params_from_iter(values))?;
        }
        for (table, fk, text, rows) in [
            (ASSOC_POSTS_TABLE, "user_id", "title", &seed.posts),
            (ASSOC_COMMENTS_TABLE, "post_id", "body", &seed.comments),
        ] {
            for chunk in rows.chunks(SEED_BATCH) {
                let sql = multi_insert(table, &["id", fk, text], chunk.len(), ph);
                let values = chunk
                    .iter()
                    .flat_map(|(id, parent, t)| [Value::from(*id), Value::from(*parent), Value::from(t.clone())]);
                tx.execute(&sql, params_from_iter(values))?;
            }
        }
        tx.commit()?;
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
        let RawSqlite { conn, assoc_shape, assoc_checked } = self;
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
            Workload::FilterOne => timed(|| {
                let tx = conn.transaction()?;
                let mut n = 0;
                {
                    let mut stmt = tx.prepare_cached(BY_EMAIL)?;
                    for email in p.lookup_emails() {
                        let c = stmt.query_row([email], row)?;
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
            Workload::LoadAssoc => {
                let check = !*assoc_checked;
                let (d, shape) = timed(|| {
                    let tx = conn.transaction()?;
                    let graph = {
                        let users = tx
                            .prepare_cached(&format!("SELECT id, name FROM {ASSOC_USERS_TABLE}"))?
                            .query_map([], |r| Ok(AssocUser { id: r.get(0)?, name: r.get(1)? }))?
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                        let posts = tx
                            .prepare_cached(&format!(
                                "SELECT id, user_id, title FROM {ASSOC_POSTS_TABLE} WHERE user_id IN {}",
                                in_list(ids.len(), ph)
                            ))?
                            .query_map(params_from_iter(&ids), |r| {
                                Ok(AssocPost { id: r.get(0)?, user_id: r.get(1)?, title: r.get(2)? })
                            })?
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                        let comments = tx
                            .prepare_cached(&format!(
                                "SELECT id, post_id, body FROM {ASSOC_COMMENTS_TABLE} WHERE post_id IN {}",
                                in_list(ids.len(), ph)
                            ))?
                            .query_map(params_from_iter(&ids), |r| {
                                Ok(AssocComment { id: r.get(0)?, post_id: r.get(1)?, body: r.get(2)? })
                            })?
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        (users, posts, comments)
                    };
                    tx.commit()?;
                    let graph = group_assoc(graph.0, graph.1, graph.2);
                    if check {
                        check_assoc(&graph)?;
                    }
                    Ok(assoc_counts(black_box(&graph)))
                })?;
                *assoc_checked = true;
                *assoc_shape = Some(shape);
                (d, shape.2)
            }
        };
        Ok(Some(r))
    }

    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        self.assoc_shape
    }
}
