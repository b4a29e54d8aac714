//! The raw `postgres` contender: statements prepared once per connection, one transaction per
//! workload.

use crate::data::{flipped_age, Row, TABLE};
use crate::harness::{timed, Contender, Params, Res, Workload};
use postgres::{Client, NoTls, Statement};
use std::hint::black_box;
use std::time::Duration;

struct Prepared {
    insert: Statement,
    select_all: Statement,
    by_pk: Statement,
    adults: Statement,
    range: Statement,
    update_age: Statement,
}

/// The `postgres` crate on one connection.
pub struct RawPostgres {
    client: Client,
    st: Prepared,
}

fn row(r: &postgres::Row) -> Res<Row> {
    Ok(Row { id: r.try_get(0)?, name: r.try_get(1)?, address: r.try_get(2)?, email: r.try_get(3)?, age: r.try_get(4)? })
}

impl RawPostgres {
    /// Connect (the table must exist: the statements are prepared now).
    pub fn connect(url: &str) -> Res<Self> {
        let mut client = Client::connect(url, NoTls)?;
        let cols = "id, name, address, email, age";
        let st = Prepared {
            insert: client.prepare(&format!(
                "INSERT INTO {TABLE} (name, address, email, age) VALUES ($1, $2, $3, $4) RETURNING id"
            ))?,
            select_all: client.prepare(&format!("SELECT {cols} FROM {TABLE}"))?,
            by_pk: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE id = $1"))?,
            adults: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE age >= $1 ORDER BY name"))?,
            range: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE id BETWEEN $1 AND $2"))?,
            update_age: client.prepare(&format!("UPDATE {TABLE} SET age = $1 WHERE id = $2"))?,
        };
        Ok(RawPostgres { client, st })
    }

    /// Empty the table and restart its keys at 1.
    pub fn reset(&mut self) -> Res<()> {
        self.client.batch_execute(&format!("TRUNCATE {TABLE} RESTART IDENTITY"))?;
        Ok(())
    }

    /// `PostgreSQL <server_version>`.
    pub fn version(&mut self) -> Res<String> {
        let v: String = self.client.query_one("SHOW server_version", &[])?.try_get(0)?;
        Ok(format!("PostgreSQL {v}"))
    }

    /// The smallest and largest key and the row count.
    pub fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        let r = self.client.query_one(&format!("SELECT MIN(id), MAX(id), COUNT(*) FROM {TABLE}"), &[])?;
        Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
    }
}

impl Contender for RawPostgres {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let st = &self.st;
        let client = &mut self.client;
        let r = match w {
            Workload::InsertN => timed(|| {
                let mut tx = client.transaction()?;
                let mut ids: Vec<i64> = Vec::with_capacity(p.n());
                for r in &p.rows {
                    ids.push(tx.query_one(&st.insert, &[&r.name, &r.address, &r.email, &r.age])?.try_get(0)?);
                }
                tx.commit()?;
                Ok(black_box(ids).len())
            })?,
            Workload::SelectAll => timed(|| {
                let mut tx = client.transaction()?;
                let rows = tx.query(&st.select_all, &[])?.iter().map(row).collect::<Res<Vec<Row>>>()?;
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::GetByPk | Workload::GetByPkOneSession => timed(|| {
                let mut tx = client.transaction()?;
                let mut n = 0;
                for id in &p.lookup {
                    let c = row(&tx.query_one(&st.by_pk, &[id])?)?;
                    black_box(c.age);
                    n += 1;
                }
                tx.commit()?;
                Ok(n)
            })?,
            Workload::GetByPkTxEach => timed(|| {
                let mut n = 0;
                for id in &p.lookup {
                    let mut tx = client.transaction()?;
                    let c = row(&tx.query_one(&st.by_pk, &[id])?)?;
                    black_box(c.age);
                    n += 1;
                    tx.rollback()?; // as a session that only read
                }
                Ok(n)
            })?,
            Workload::GetByPkHit => return Ok(None),
            Workload::FilterOrder => timed(|| {
                let mut tx = client.transaction()?;
                let rows = tx.query(&st.adults, &[&18i32])?.iter().map(row).collect::<Res<Vec<Row>>>()?;
                tx.commit()?;
                Ok(black_box(rows).len())
            })?,
            Workload::UpdateDirty => {
                let (lo, hi) = p.update_range();
                timed(|| {
                    let mut tx = client.transaction()?;
                    let mut rows = tx.query(&st.range, &[&lo, &hi])?.iter().map(row).collect::<Res<Vec<Row>>>()?;
                    for c in &mut rows {
                        c.age = flipped_age(c.age);
                        tx.execute(&st.update_age, &[&c.age, &c.id])?;
                    }
                    tx.commit()?;
                    Ok(rows.len())
                })?
            }
        };
        Ok(Some(r))
    }
}
