//! The raw `mysql` contender: prepared statements (the driver caches them per connection), one
//! transaction per workload.

use crate::data::{
    assoc_counts, assoc_seed, check_assoc, flipped_age, group_assoc, in_list, multi_insert, AssocComment, AssocPost,
    AssocUser, Row, ASSOC_COMMENTS_TABLE, ASSOC_POSTS_TABLE, ASSOC_USERS_TABLE, SEED_BATCH, TABLE,
};
use crate::harness::{timed, Contender, Params, Res, Workload};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, TxOpts, Value};
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
    by_email: String,
    adults: String,
    range: String,
    update_age: String,
    assoc_shape: Option<(usize, usize, usize)>,
    assoc_checked: bool,
}

/// `?`.
fn ph(_: usize) -> String {
    "?".to_string()
}

/// The keys as statement parameters.
fn keys(ids: &[i64]) -> mysql::Params {
    mysql::Params::Positional(ids.iter().map(|&id| Value::from(id)).collect())
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
            by_email: format!("SELECT {COLS} FROM {TABLE} WHERE email = ?"),
            adults: format!("SELECT {COLS} FROM {TABLE} WHERE age >= ? ORDER BY name"),
            range: format!("SELECT {COLS} FROM {TABLE} WHERE id BETWEEN ? AND ?"),
            update_age: format!("UPDATE {TABLE} SET age = ? WHERE id = ?"),
            assoc_shape: None,
            assoc_checked: false,
        })
    }

    /// Empty the table and restart its keys at 1.
    pub fn reset(&mut self) -> Res<()> {
        self.conn.query_drop(format!("TRUNCATE TABLE {TABLE}"))?;
        Ok(())
    }

    /// Fill the `load_assoc` tables (emptied first), multi-row INSERTs in one transaction.
    pub fn seed_assoc(&mut self) -> Res<()> {
        let seed = assoc_seed();
        let mut tx = self.conn.start_transaction(TxOpts::default())?;
        for t in [ASSOC_COMMENTS_TABLE, ASSOC_POSTS_TABLE, ASSOC_USERS_TABLE] {
            tx.query_drop(format!("DELETE FROM {t}"))?;
        }
        for chunk in seed.users.chunks(SEED_BATCH) {
            let sql = multi_insert(ASSOC_USERS_TABLE, &["id", "name"], chunk.len(), ph);
            let values = chunk.iter().flat_map(|(id, name)| [Value::from(*id), Value::from(name)]).collect();
            tx.exec_drop(sql, mysql::Params::Positional(values))?;
        }
        for (table, fk, text, rows) in [
            (ASSOC_POSTS_TABLE, "user_id", "title", &seed.posts),
            (ASSOC_COMMENTS_TABLE, "post_id", "body", &seed.comments),
        ] {
            for chunk in rows.chunks(SEED_BATCH) {
                let sql = multi_insert(table, &["id", fk, text], chunk.len(), ph);
                let values = chunk
                    .iter()
                    .flat_map(|(id, parent, t)| [Value::from(*id), Value::from(*parent), Value::from(t)])
                    .collect();
                tx.exec_drop(sql, mysql::Params::Positional(values))?;
            }
        }
        tx.commit()?;
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
        let RawMysql {
            conn,
            insert,
            select_all,
            by_pk,
            by_email,
            adults,
            range,
            update_age,
            assoc_shape,
            assoc_checked,
        } = self;
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
            Workload::FilterOne => timed(|| {
                let mut tx = conn.start_transaction(TxOpts::default())?;
                let stmt = tx.prep(&*by_email)?;
                let mut n = 0;
                for email in p.lookup_emails() {
                    let c = row(tx.exec_first::<Tuple, _, _>(&stmt, (email,))?.ok_or("missing row")?);
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
            Workload::LoadAssoc => {
                let check = !*assoc_checked;
                let (d, shape) = timed(|| {
                    let mut tx = conn.start_transaction(TxOpts::default())?;
                    let users: Vec<AssocUser> =
                        tx.exec_map(format!("SELECT id, name FROM {ASSOC_USERS_TABLE}"), (), |(id, name)| AssocUser {
                            id,
                            name,
                        })?;
                    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                    let posts: Vec<AssocPost> = tx.exec_map(
                        format!(
                            "SELECT id, user_id, title FROM {ASSOC_POSTS_TABLE} WHERE user_id IN {}",
                            in_list(ids.len(), ph)
                        ),
                        keys(&ids),
                        |(id, user_id, title)| AssocPost { id, user_id, title },
                    )?;
                    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
                    let comments: Vec<AssocComment> = tx.exec_map(
                        format!(
                            "SELECT id, post_id, body FROM {ASSOC_COMMENTS_TABLE} WHERE post_id IN {}",
                            in_list(ids.len(), ph)
                        ),
                        keys(&ids),
                        |(id, post_id, body)| AssocComment { id, post_id, body },
                    )?;
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
