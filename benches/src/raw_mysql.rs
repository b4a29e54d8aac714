//! The raw `mysql` contender: prepared statements (the driver caches them per connection), one
//! transaction per workload.

use crate::data::{flipped_age, Row, TABLE};
use crate::harness::{timed, Contender, Params, Res, Workload};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, TxOpts};
use std::hint::black_box;
use std::time::Duration;

const COLS: &str = "id, name, address, email, age";

type Tuple = (i64, String, Option<String>, String, i32);

fn row((id, name, address, email, age): Tuple) -> Row {
    Row { id, name, address, email, age }
}

/// The `mysql` crate on one connection.
pub struct RawMysql {
    conn: Conn,
    insert: String,
    select_all: String,
    by_pk: String,
    adults: String,
    range: String,
    update_age: String,
}

impl RawMysql {
    /// Connect over TCP, as Athanor and Diesel do (the driver would otherwise switch to the
    /// server's Unix socket for a local host, which has lower latency).
    pub fn connect(url: &str) -> Res<Self> {
        let conn = Conn::new(OptsBuilder::from_opts(Opts::from_url(url)?).prefer_socket(false))?;
        Ok(RawMysql {
            conn,
            insert: format!("INSERT INTO {TABLE} (name, address, email, age) VALUES (?, ?, ?, ?)"),
            select_all: format!("SELECT {COLS} FROM {TABLE}"),
            by_pk: format!("SELECT {COLS} FROM {TABLE} WHERE id = ?"),
            adults: format!("SELECT {COLS} FROM {TABLE} WHERE age >= ? ORDER BY name"),
            range: format!("SELECT {COLS} FROM {TABLE} WHERE id BETWEEN ? AND ?"),
            update_age: format!("UPDATE {TABLE} SET age = ? WHERE id = ?"),
        })
    }

    /// Empty the table and restart its keys at 1.
    pub fn reset(&mut self) -> Res<()> {
        self.conn.query_drop(format!("TRUNCATE TABLE {TABLE}"))?;
        Ok(())
    }

    /// The server's `VERSION()`.
    pub fn version(&mut self) -> Res<String> {
        let v: Option<String> = self.conn.query_first("SELECT VERSION()")?;
        Ok(v.map_or_else(|| "MySQL (unknown version)".to_string(), |v| format!("MySQL/MariaDB {v}")))
    }

    /// The smallest and largest key and the row count.
    pub fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        let r: Option<(i64, i64, i64)> =
            self.conn.query_first(format!("SELECT MIN(id), MAX(id), COUNT(*) FROM {TABLE}"))?;
        r.ok_or_else(|| "no answer".into())
    }
}

impl Contender for RawMysql {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let RawMysql { conn, insert, select_all, by_pk, adults, range, update_age } = self;
        let r = match w {
            Workload::InsertN => timed(|| {
                let mut tx = conn.start_transaction(TxOpts::default())?;
                let stmt = tx.prep(&*insert)?;
                let mut ids = Vec::with_capacity(p.n());
                for r in &p.rows {
                    tx.exec_drop(&stmt, (&r.name, &r.address, &r.email, r.age))?;
                    ids.push(tx.last_insert_id().ok_or("no generated key")?);
                }
                tx.commit()?;
                Ok(black_box(ids).len())
            })?,
            Workload::SelectAll => timed(|| {
                let mut tx = conn.start_transaction(TxOpts::default())?;
                let rows: Vec<Row> = tx.exec_map(&*select_all, (), row)?;
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::GetByPk | Workload::GetByPkOneSession => timed(|| {
                let mut tx = conn.start_transaction(TxOpts::default())?;
                let stmt = tx.prep(&*by_pk)?;
                let mut n = 0;
                for &id in &p.lookup {
                    let c = row(tx.exec_first::<Tuple, _, _>(&stmt, (id,))?.ok_or("missing row")?);
                    black_box(c.age);
                    n += 1;
                }
                tx.commit()?;
                Ok(n)
            })?,
            Workload::GetByPkTxEach => timed(|| {
                let mut n = 0;
                for &id in &p.lookup {
                    let mut tx = conn.start_transaction(TxOpts::default())?;
                    let stmt = tx.prep(&*by_pk)?;
                    let c = row(tx.exec_first::<Tuple, _, _>(&stmt, (id,))?.ok_or("missing row")?);
                    black_box(c.age);
                    n += 1;
                    tx.rollback()?; // as a session that only read
                }
                Ok(n)
            })?,
            Workload::GetByPkHit => return Ok(None),
            Workload::FilterOrder => timed(|| {
                let mut tx = conn.start_transaction(TxOpts::default())?;
                let rows: Vec<Row> = tx.exec_map(&*adults, (18,), row)?;
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::UpdateDirty => {
                let (lo, hi) = p.update_range();
                timed(|| {
                    let mut tx = conn.start_transaction(TxOpts::default())?;
                    let mut rows: Vec<Row> = tx.exec_map(&*range, (lo, hi), row)?;
                    let stmt = tx.prep(&*update_age)?;
                    for c in &mut rows {
                        c.age = flipped_age(c.age);
                        tx.exec_drop(&stmt, (c.age, c.id))?;
                    }
                    tx.commit()?;
                    Ok(rows.len())
                })?
            }
        };
        Ok(Some(r))
    }
}
