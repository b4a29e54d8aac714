//! The Diesel contenders: `table!`, `Queryable`/`Insertable`, one batch `insert_into(…).values(&vec)`,
//! one transaction per workload, each on Diesel's own connection type.

use crate::data::flipped_age;
use crate::harness::{timed, Contender, Params, Res, Workload};
use diesel::prelude::*;
use std::hint::black_box;
use std::time::Duration;

diesel::table! {
    bench_customers (id) {
        id -> BigInt,
        name -> Text,
        address -> Nullable<Text>,
        email -> Text,
        age -> Integer,
    }
}

use bench_customers::dsl;

/// A loaded row.
#[derive(Queryable, Debug, Clone, PartialEq)]
pub struct DCustomer {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<String>,
    /// Email.
    pub email: String,
    /// Age.
    pub age: i32,
}

/// A row to insert (borrowing the benchmark's data).
#[derive(Insertable, Debug)]
#[diesel(table_name = bench_customers)]
pub struct NewDCustomer<'a> {
    /// Name.
    pub name: &'a str,
    /// Address.
    pub address: Option<&'a str>,
    /// Email.
    pub email: &'a str,
    /// Age.
    pub age: i32,
}

fn new_rows(p: &Params) -> Vec<NewDCustomer<'_>> {
    p.rows
        .iter()
        .map(|r| NewDCustomer { name: &r.name, address: r.address.as_deref(), email: &r.email, age: r.age })
        .collect()
}

/// The workloads other than `insert_n`, the same for every Diesel backend.
macro_rules! diesel_reads {
    ($conn:expr, $w:expr, $p:expr) => {{
        let conn = $conn;
        let p = $p;
        match $w {
            Workload::InsertN => unreachable!("insert_n is backend-specific"),
            Workload::SelectAll => timed(|| {
                let rows = conn.transaction(|c| dsl::bench_customers.load::<DCustomer>(c))?;
                Ok(black_box(rows).len())
            })?,
            Workload::GetByPk | Workload::GetByPkOneSession => timed(|| {
                let n = conn.transaction(|c| {
                    let mut n = 0;
                    for &id in &p.lookup {
                        let row = dsl::bench_customers.find(id).first::<DCustomer>(c)?;
                        black_box(row.age);
                        n += 1;
                    }
                    diesel::QueryResult::Ok(n)
                })?;
                Ok(n)
            })?,
            Workload::GetByPkTxEach => timed(|| {
                let mut n = 0;
                for &id in &p.lookup {
                    let row = conn.transaction(|c| dsl::bench_customers.find(id).first::<DCustomer>(c))?;
                    black_box(row.age);
                    n += 1;
                }
                Ok(n)
            })?,
            Workload::GetByPkHit => return Ok(None),
            Workload::FilterOrder => timed(|| {
                let rows = conn.transaction(|c| {
                    dsl::bench_customers.filter(dsl::age.ge(18)).order(dsl::name.asc()).load::<DCustomer>(c)
                })?;
                Ok(black_box(rows).len())
            })?,
            Workload::UpdateDirty => {
                let (lo, hi) = p.update_range();
                timed(|| {
                    let n = conn.transaction(|c| {
                        let rows = dsl::bench_customers.filter(dsl::id.between(lo, hi)).load::<DCustomer>(c)?;
                        for r in &rows {
                            diesel::update(dsl::bench_customers.find(r.id))
                                .set(dsl::age.eq(flipped_age(r.age)))
                                .execute(c)?;
                        }
                        diesel::QueryResult::Ok(rows.len())
                    })?;
                    Ok(n)
                })?
            }
        }
    }};
}

/// Diesel on SQLite.
pub struct DieselSqlite(pub diesel::SqliteConnection);
/// Diesel on PostgreSQL.
pub struct DieselPostgres(pub diesel::PgConnection);
/// Diesel on MySQL/MariaDB.
pub struct DieselMysql(pub diesel::MysqlConnection);

impl Contender for DieselSqlite {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let conn = &mut self.0;
        let r = if w == Workload::InsertN {
            let new = new_rows(p);
            timed(|| {
                // One multi-row INSERT … RETURNING id (SQLite ≥ 3.35).
                let ids = conn.transaction(|c| {
                    diesel::insert_into(dsl::bench_customers).values(&new).returning(dsl::id).get_results::<i64>(c)
                })?;
                Ok(black_box(ids).len())
            })?
        } else {
            diesel_reads!(conn, w, p)
        };
        Ok(Some(r))
    }
}

impl Contender for DieselPostgres {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let conn = &mut self.0;
        let r = if w == Workload::InsertN {
            let new = new_rows(p);
            timed(|| {
                // One multi-row INSERT … RETURNING id.
                let ids = conn.transaction(|c| {
                    diesel::insert_into(dsl::bench_customers).values(&new).returning(dsl::id).get_results::<i64>(c)
                })?;
                Ok(black_box(ids).len())
            })?
        } else {
            diesel_reads!(conn, w, p)
        };
        Ok(Some(r))
    }
}

impl Contender for DieselMysql {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let conn = &mut self.0;
        let r = if w == Workload::InsertN {
            let new = new_rows(p);
            timed(|| {
                // One multi-row INSERT; MySQL has no RETURNING, so Diesel does not recover the keys.
                let n = conn.transaction(|c| diesel::insert_into(dsl::bench_customers).values(&new).execute(c))?;
                Ok(n)
            })?
        } else {
            diesel_reads!(conn, w, p)
        };
        Ok(Some(r))
    }
}
