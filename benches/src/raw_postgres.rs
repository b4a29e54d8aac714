//! The raw `postgres` contender: statements prepared once per connection, one transaction per
//! workload.

use crate::data::{
    assoc_counts, assoc_seed, check_assoc, flipped_age, group_assoc, in_list, multi_insert, AssocComment, AssocPost,
    AssocUser, Row, ASSOC_COMMENTS_TABLE, ASSOC_POSTS_TABLE, ASSOC_USERS_TABLE, SEED_BATCH, TABLE,
};
use crate::harness::{timed, Contender, Params, Res, Workload};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement, Transaction};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

struct Prepared {
    insert: Statement,
    select_all: Statement,
    by_pk: Statement,
    by_email: Statement,
    adults: Statement,
    range: Statement,
    update_age: Statement,
}

/// The `postgres` crate on one connection.
pub struct RawPostgres {
    client: Client,
    st: Prepared,
    /// `load_assoc`'s statements (their `IN` lists depend on the data), prepared once each.
    cache: HashMap<String, Statement>,
    assoc_shape: Option<(usize, usize, usize)>,
    assoc_checked: bool,
}

/// `$1, $2, …`.
fn ph(i: usize) -> String {
    format!("${}", i + 1)
}

/// The statement for `sql`, prepared on first use.
fn cached(tx: &mut Transaction<'_>, cache: &mut HashMap<String, Statement>, sql: String) -> Res<Statement> {
    if let Some(st) = cache.get(&sql) {
        return Ok(st.clone());
    }
    let st = tx.prepare(&sql)?;
    cache.insert(sql, st.clone());
    Ok(st)
}

/// The keys as statement parameters.
fn keys(ids: &[i64]) -> Vec<&(dyn ToSql + Sync)> {
    ids.iter().map(|id| id as &(dyn ToSql + Sync)).collect()
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
            by_email: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE email = $1"))?,
            adults: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE age >= $1 ORDER BY name"))?,
            range: client.prepare(&format!("SELECT {cols} FROM {TABLE} WHERE id BETWEEN $1 AND $2"))?,
            update_age: client.prepare(&format!("UPDATE {TABLE} SET age = $1 WHERE id = $2"))?,
        };
        Ok(RawPostgres { client, st, cache: HashMap::new(), assoc_shape: None, assoc_checked: false })
    }

    /// Empty the table and restart its keys at 1.
    pub fn reset(&mut self) -> Res<()> {
        self.client.batch_execute(&format!("TRUNCATE {TABLE} RESTART IDENTITY"))?;
        Ok(())
    }

    /// Fill the `load_assoc` tables (emptied first), multi-row INSERTs in one transaction.
    pub fn seed_assoc(&mut self) -> Res<()> {
        let seed = assoc_seed();
        let mut tx = self.client.transaction()?;
        tx.batch_execute(&format!("TRUNCATE {ASSOC_COMMENTS_TABLE}, {ASSOC_POSTS_TABLE}, {ASSOC_USERS_TABLE}"))?;
        for chunk in seed.users.chunks(SEED_BATCH) {
            let sql = multi_insert(ASSOC_USERS_TABLE, &["id", "name"], chunk.len(), ph);
            let values: Vec<&(dyn ToSql + Sync)> =
                chunk.iter().flat_map(|(id, name)| [id as &(dyn ToSql + Sync), name]).collect();
            tx.execute(&sql, &values)?;
        }
        for (table, fk, text, rows) in [
            (ASSOC_POSTS_TABLE, "user_id", "title", &seed.posts),
            (ASSOC_COMMENTS_TABLE, "post_id", "body", &seed.comments),
        ] {
            for chunk in rows.chunks(SEED_BATCH) {
                let sql = multi_insert(table, &["id", fk, text], chunk.len(), ph);
                let values: Vec<&(dyn ToSql + Sync)> =
                    chunk.iter().flat_map(|(id, parent, t)| [id as &(dyn ToSql + Sync), parent, t]).collect();
                tx.execute(&sql, &values)?;
            }
        }
        tx.commit()?;
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
        let RawPostgres { client, st, cache, assoc_shape, assoc_checked } = self;
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
            Workload::FilterOne => timed(|| {
                let mut tx = client.transaction()?;
                let mut n = 0;
                for email in p.lookup_emails() {
                    let c = row(&tx.query_one(&st.by_email, &[&email])?)?;
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
            Workload::LoadAssoc => {
                let check = !*assoc_checked;
                let (d, shape) = timed(|| {
                    let mut tx = client.transaction()?;
                    let sql = format!("SELECT id, name FROM {ASSOC_USERS_TABLE}");
                    let stmt = cached(&mut tx, cache, sql)?;
                    let users = tx
                        .query(&stmt, &[])?
                        .iter()
                        .map(|r| Ok(AssocUser { id: r.try_get(0)?, name: r.try_get(1)? }))
                        .collect::<Res<Vec<_>>>()?;
                    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let sql = format!(
                        "SELECT id, user_id, title FROM {ASSOC_POSTS_TABLE} WHERE user_id IN {}",
                        in_list(ids.len(), ph)
                    );
                    let stmt = cached(&mut tx, cache, sql)?;
                    let posts = tx
                        .query(&stmt, &keys(&ids))?
                        .iter()
                        .map(|r| Ok(AssocPost { id: r.try_get(0)?, user_id: r.try_get(1)?, title: r.try_get(2)? }))
                        .collect::<Res<Vec<_>>>()?;
                    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                    let sql = format!(
                        "SELECT id, post_id, body FROM {ASSOC_COMMENTS_TABLE} WHERE post_id IN {}",
                        in_list(ids.len(), ph)
                    );
                    let stmt = cached(&mut tx, cache, sql)?;
                    let comments = tx
                        .query(&stmt, &keys(&ids))?
                        .iter()
                        .map(|r| Ok(AssocComment { id: r.try_get(0)?, post_id: r.try_get(1)?, body: r.try_get(2)? }))
                        .collect::<Res<Vec<_>>>()?;
                    tx.commit()?;
                    let graph = group_assoc(users, posts, comments);
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
