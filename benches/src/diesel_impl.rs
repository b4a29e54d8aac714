//! The Diesel contenders: `table!`, `Queryable`/`Insertable`, one batch `insert_into(…).values(&vec)`,
//! one transaction per workload, each on Diesel's own connection type; `load_assoc` with
//! `Identifiable`/`Associations`, `belonging_to` and `grouped_by`.

use crate::data::{
    assoc_counts, check_assoc, flipped_age, AssocComment, AssocPost, AssocUser, PostWithComments, UserWithPosts,
};
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

diesel::table! {
    bench_assoc_users (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    bench_assoc_posts (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        title -> Text,
    }
}

diesel::table! {
    bench_assoc_comments (id) {
        id -> BigInt,
        post_id -> Nullable<BigInt>,
        body -> Text,
    }
}

/// A user of `load_assoc`.
#[derive(Queryable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = bench_assoc_users)]
pub struct DUser {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A post of `load_assoc`.
#[derive(Queryable, Identifiable, Associations, Debug, Clone, PartialEq)]
#[diesel(table_name = bench_assoc_posts, belongs_to(DUser, foreign_key = user_id))]
pub struct DPost {
    /// Key.
    pub id: i64,
    /// The user.
    pub user_id: Option<i64>,
    /// Title.
    pub title: String,
}

/// A comment of `load_assoc`.
#[derive(Queryable, Identifiable, Associations, Debug, Clone, PartialEq)]
#[diesel(table_name = bench_assoc_comments, belongs_to(DPost, foreign_key = post_id))]
pub struct DComment {
    /// Key.
    pub id: i64,
    /// The post.
    pub post_id: Option<i64>,
    /// Text.
    pub body: String,
}

/// Diesel's nested result: each user with their posts, each with its comments.
type DGraph = Vec<(DUser, Vec<(DPost, Vec<DComment>)>)>;

/// The canonical Diesel association load (as in Diesel's own `loading_associations_sequentially`
/// benchmark): users, their posts by `belonging_to`, those posts' comments by `belonging_to`,
/// grouped with `grouped_by`.
macro_rules! diesel_load_assoc {
    ($c:expr) => {{
        let c = $c;
        let users = bench_assoc_users::table.load::<DUser>(c)?;
        let posts = DPost::belonging_to(&users).load::<DPost>(c)?;
        let comments = DComment::belonging_to(&posts).load::<DComment>(c)?;
        let comments = comments.grouped_by(&posts);
        let posts_and_comments = posts.into_iter().zip(comments).grouped_by(&users);
        let graph: DGraph = users.into_iter().zip(posts_and_comments).collect();
        diesel::QueryResult::Ok(graph)
    }};
}

/// (users, posts, comments) of Diesel's nested result, by walking it.
fn d_counts(graph: &DGraph) -> (usize, usize, usize) {
    let posts = graph.iter().map(|(_, p)| p.len()).sum();
    let comments = graph.iter().flat_map(|(_, p)| p).map(|(_, c)| c.len()).sum();
    (graph.len(), posts, comments)
}

/// Check Diesel's nested result in full (the first, untimed run only), as the raw drivers' is.
fn d_check(graph: &DGraph) -> Res<()> {
    let nested: Vec<UserWithPosts> = graph
        .iter()
        .map(|(u, posts)| UserWithPosts {
            user: AssocUser { id: u.id, name: u.name.clone() },
            posts: posts
                .iter()
                .map(|(p, comments)| PostWithComments {
                    post: AssocPost { id: p.id, user_id: p.user_id, title: p.title.clone() },
                    comments: comments
                        .iter()
                        .map(|c| AssocComment { id: c.id, post_id: c.post_id, body: c.body.clone() })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    check_assoc(&nested)?;
    if assoc_counts(&nested) != d_counts(graph) {
        return Err("the nested copy differs".into());
    }
    Ok(())
}

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
    ($conn:expr, $w:expr, $p:expr, $assoc:expr) => {{
        let conn = $conn;
        let p = $p;
        let assoc: &mut AssocState = $assoc;
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
            Workload::FilterOne => timed(|| {
                let n = conn.transaction(|c| {
                    let mut n = 0;
                    for email in p.lookup_emails() {
                        let row = dsl::bench_customers.filter(dsl::email.eq(email)).first::<DCustomer>(c)?;
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
            Workload::LoadAssoc => {
                let check = !assoc.checked;
                let (d, shape) = timed(|| {
                    let graph = conn.transaction(|c| diesel_load_assoc!(c))?;
                    if check {
                        d_check(&graph)?;
                    }
                    Ok(d_counts(black_box(&graph)))
                })?;
                assoc.checked = true;
                assoc.shape = Some(shape);
                (d, shape.2)
            }
        }
    }};
}

/// What a Diesel contender keeps of its `load_assoc` runs.
#[derive(Debug, Default)]
pub struct AssocState {
    shape: Option<(usize, usize, usize)>,
    checked: bool,
}

/// Diesel on SQLite.
pub struct DieselSqlite(pub diesel::SqliteConnection, pub AssocState);
/// Diesel on PostgreSQL.
pub struct DieselPostgres(pub diesel::PgConnection, pub AssocState);
/// Diesel on MySQL/MariaDB.
pub struct DieselMysql(pub diesel::MysqlConnection, pub AssocState);

impl Contender for DieselSqlite {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let (conn, assoc) = (&mut self.0, &mut self.1);
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
            diesel_reads!(conn, w, p, assoc)
        };
        Ok(Some(r))
    }

    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        self.1.shape
    }
}

impl Contender for DieselPostgres {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let (conn, assoc) = (&mut self.0, &mut self.1);
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
            diesel_reads!(conn, w, p, assoc)
        };
        Ok(Some(r))
    }

    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        self.1.shape
    }
}

impl Contender for DieselMysql {
    fn run(&mut self, w: Workload, p: &Params) -> Res<Option<(Duration, usize)>> {
        let (conn, assoc) = (&mut self.0, &mut self.1);
        let r = if w == Workload::InsertN {
            let new = new_rows(p);
            timed(|| {
                // One multi-row INSERT; MySQL has no RETURNING, so Diesel does not recover the keys.
                let n = conn.transaction(|c| diesel::insert_into(dsl::bench_customers).values(&new).execute(c))?;
                Ok(n)
            })?
        } else {
            diesel_reads!(conn, w, p, assoc)
        };
        Ok(Some(r))
    }

    fn assoc_shape(&self) -> Option<(usize, usize, usize)> {
        self.1.shape
    }
}
