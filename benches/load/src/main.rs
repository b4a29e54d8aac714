//! HTTP load on the bookshop service (issue 23 item 8): its read endpoint (`GET /books/{id}`: a
//! book with its author and tags, as JSON) and its write endpoint (`POST /orders`: a guarded stock
//! UPDATE, a SELECT and an INSERT in one transaction) under `wrk` on loopback, served once by
//! `examples/axum-service` (Athanor through the async bridge) and once by the same endpoints
//! written directly on sqlx 0.9 (async-native), against the same database, in the same run.
//!
//! ```text
//! cargo run --release --manifest-path benches/load/Cargo.toml -- [--seconds 10] [--connections 32] [--backends sqlite,postgres,mysql]
//! ```
//!
//! The servers' URLs come from `ATHANOR_TEST_POSTGRES_URL` / `ATHANOR_TEST_MYSQL_URL` (a backend
//! whose variable is unset is skipped); each run makes a fresh database and drops it. Prints a
//! Markdown table: requests/s, p50 and p99 latency, non-2xx responses.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use athanor::prelude::*;
use athanor::testing;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::process::Command;
use std::str::FromStr;

/// What `wrk` reported.
#[derive(Debug, Default, Clone)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    requests: u64,
}

fn millis(text: &str) -> f64 {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn parse_wrk(out: &str) -> Load {
    let mut l = Load::default();
    for line in out.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            l.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("50%") {
            l.p50_ms = millis(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            l.p99_ms = millis(v);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            l.non_2xx = v.trim().parse().unwrap_or(0);
        } else if t.contains("requests in") {
            l.requests = t.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        }
    }
    l
}

const READ_LUA: &str = r#"
math.randomseed(7)
request = function() return wrk.format("GET", "/books/" .. math.random(1, 100)) end
"#;

const WRITE_LUA: &str = r#"
math.randomseed(11)
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format("POST", "/orders", nil, '{"book_id":' .. math.random(1, 100) .. ',"quantity":1}')
end
"#;

fn wrk(port: u16, script: &std::path::Path, seconds: u64, connections: u64) -> Load {
    let out = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .expect("wrk (Debian package `wrk`) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    parse_wrk(&text)
}

/// Serve `app` on a free loopback port until the returned sender is dropped.
async fn serve(app: Router) -> (u16, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (port, tx, task)
}

// ---------------------------------------------------------------------------------------------
// The peer: the same two endpoints on sqlx, one module per database (sqlx pools are typed).

/// The SQL that differs per database: placeholders, text casts, the new order's id.
struct Sql {
    book: &'static str,
    author: &'static str,
    tags: &'static str,
    take: &'static str,
    price: &'static str,
    insert: &'static str,
}

/// The new row's id from `INSERT … RETURNING id`.
macro_rules! id_returning {
    ($q:expr, $tx:expr) => {{
        use sqlx::Row as _;
        $q.fetch_one(&mut *$tx).await.map(|r| r.get::<i64, _>(0))
    }};
}

/// The new row's id from MySQL's `LAST_INSERT_ID()`, reported with the INSERT.
macro_rules! id_last_insert {
    ($q:expr, $tx:expr) => {
        $q.execute(&mut *$tx).await.map(|r| r.last_insert_id() as i64)
    };
}

macro_rules! sqlx_peer {
    ($m:ident, $pool:ty, $opts:ty, $sql:expr, $insert_id:ident) => {
        mod $m {
            use super::*;

            pub async fn pool(url: &str, size: u32) -> $pool {
                let opts = <$opts>::from_str(url).unwrap();
                sqlx::pool::PoolOptions::new().max_connections(size).connect_with(opts).await.unwrap()
            }

            const SQL: Sql = $sql;

            async fn get_book(State(pool): State<$pool>, Path(id): Path<i64>) -> Result<Json<Value>, StatusCode> {
                let e500 = |_| StatusCode::INTERNAL_SERVER_ERROR;
                let mut conn = pool.acquire().await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
                let Some(b) = sqlx::query_as::<_, (i64, Option<i64>, String, String, i32, String)>(SQL.book)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(e500)?
                else {
                    return Err(StatusCode::NOT_FOUND);
                };
                let author = match b.1 {
                    Some(a) => sqlx::query_as::<_, (i64, String)>(SQL.author)
                        .bind(a)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(e500)?
                        .map(|(id, name)| json!({ "id": id, "name": name })),
                    None => None,
                };
                let tags: Vec<Value> = sqlx::query_as::<_, (i64, String)>(SQL.tags)
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(e500)?
                    .into_iter()
                    .map(|(id, name)| json!({ "id": id, "name": name }))
                    .collect();
                Ok(Json(json!({
                    "id": b.0, "author_id": b.1, "title": b.2, "price": b.3, "stock": b.4, "created_at": b.5,
                    "author": author, "tags": tags,
                })))
            }

            #[derive(serde::Deserialize)]
            struct NewOrder {
                book_id: i64,
                quantity: i32,
            }

            async fn place_order(
                State(pool): State<$pool>,
                Json(o): Json<NewOrder>,
            ) -> Result<(StatusCode, Json<Value>), StatusCode> {
                let e500 = |_| StatusCode::INTERNAL_SERVER_ERROR;
                let mut tx = pool.begin().await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
                let taken = sqlx::query(SQL.take)
                    .bind(o.quantity)
                    .bind(o.book_id)
                    .bind(o.quantity)
                    .execute(&mut *tx)
                    .await
                    .map_err(e500)?
                    .rows_affected();
                if taken == 0 {
                    return Err(StatusCode::CONFLICT);
                }
                let (price,): (String,) =
                    sqlx::query_as(SQL.price).bind(o.book_id).fetch_one(&mut *tx).await.map_err(e500)?;
                let total = rust_decimal::Decimal::from_str(&price).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
                    * rust_decimal::Decimal::from(o.quantity);
                let placed = jiff_now();
                let insert = sqlx::query(SQL.insert)
                    .bind(o.book_id)
                    .bind(o.quantity)
                    .bind(total.to_string())
                    .bind("Placed")
                    .bind(placed.clone());
                let id: i64 = $insert_id!(insert, tx).map_err(e500)?;
                tx.commit().await.map_err(e500)?;
                Ok((
                    StatusCode::CREATED,
                    Json(json!({ "id": id, "book_id": o.book_id, "quantity": o.quantity, "total": total.to_string(),
                                 "status": "placed", "placed_at": placed })),
                ))
            }

            pub fn router(pool: $pool) -> Router {
                Router::new().route("/books/{id}", get(get_book)).route("/orders", post(place_order)).with_state(pool)
            }
        }
    };
}

fn jiff_now() -> String {
    // The instant as the service writes it; the peer binds it as text (each database converts).
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

sqlx_peer!(
    pg,
    sqlx::PgPool,
    sqlx::postgres::PgConnectOptions,
    Sql {
        book: "SELECT id, author_id, title, price::text, stock, created_at::text FROM shop_books WHERE id = $1",
        author: "SELECT id, name FROM shop_authors WHERE id = $1",
        tags: "SELECT t.id, t.name FROM shop_tags t JOIN shop_book_tags bt ON bt.tag_id = t.id WHERE bt.book_id = $1 ORDER BY t.id",
        take: "UPDATE shop_books SET stock = stock - $1 WHERE id = $2 AND stock >= $3",
        price: "SELECT price::text FROM shop_books WHERE id = $1",
        insert: "INSERT INTO shop_orders (book_id, quantity, total, status, placed_at) VALUES ($1, $2, CAST($3 AS NUMERIC), $4, to_timestamp(CAST($5 AS DOUBLE PRECISION))) RETURNING id",
    },
    id_returning
);

sqlx_peer!(
    my,
    sqlx::MySqlPool,
    sqlx::mysql::MySqlConnectOptions,
    Sql {
        book: "SELECT id, author_id, title, CAST(price AS CHAR), stock, CAST(created_at AS CHAR) FROM shop_books WHERE id = ?",
        author: "SELECT id, name FROM shop_authors WHERE id = ?",
        tags: "SELECT t.id, t.name FROM shop_tags t JOIN shop_book_tags bt ON bt.tag_id = t.id WHERE bt.book_id = ? ORDER BY t.id",
        take: "UPDATE shop_books SET stock = stock - ? WHERE id = ? AND stock >= ?",
        price: "SELECT CAST(price AS CHAR) FROM shop_books WHERE id = ?",
        insert: "INSERT INTO shop_orders (book_id, quantity, total, status, placed_at) VALUES (?, ?, CAST(? AS DECIMAL(12,2)), ?, FROM_UNIXTIME(?))",
    },
    id_last_insert
);

sqlx_peer!(
    lite,
    sqlx::SqlitePool,
    sqlx::sqlite::SqliteConnectOptions,
    Sql {
        book: "SELECT id, author_id, title, CAST(price AS TEXT), stock, CAST(created_at AS TEXT) FROM shop_books WHERE id = ?",
        author: "SELECT id, name FROM shop_authors WHERE id = ?",
        tags: "SELECT t.id, t.name FROM shop_tags t JOIN shop_book_tags bt ON bt.tag_id = t.id WHERE bt.book_id = ? ORDER BY t.id",
        take: "UPDATE shop_books SET stock = stock - ? WHERE id = ? AND stock >= ?",
        price: "SELECT CAST(price AS TEXT) FROM shop_books WHERE id = ?",
        insert: "INSERT INTO shop_orders (book_id, quantity, total, status, placed_at) VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', CAST(? AS REAL), 'unixepoch')) RETURNING id",
    },
    id_returning
);

// ---------------------------------------------------------------------------------------------

fn seed(url: &str) -> athanor::Result<()> {
    use axum_service::models::{Author, Book, Tag};
    let engine = create_engine(url)?;
    let s = sessionmaker(&engine).session();
    let authors: Vec<_> = (0..10).map(|i| s.add(Author { name: format!("author {i}"), ..Default::default() })).collect();
    let tags: Vec<_> = (0..5).map(|i| s.add(Tag { name: format!("tag {i}"), ..Default::default() })).collect();
    s.flush()?;
    for i in 0..100usize {
        let b = s.add(Book {
            author_id: authors[i % 10].get().id,
            title: format!("book {i}"),
            price: athanor::Decimal::new(1000 + i as i64, 2),
            stock: 1_000_000_000,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            ..Default::default()
        });
        b.edit(|b| {
            b.tags.push(&tags[i % 5]);
            b.tags.push(&tags[(i + 1) % 5]);
        })?;
    }
    s.commit()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: u64 = arg("--connections").and_then(|s| s.parse().ok()).unwrap_or(32);
    let backends = arg("--backends").unwrap_or_else(|| "sqlite,postgres,mysql".into());
    let dir = std::env::temp_dir().join(format!("athanor-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let read = dir.join("read.lua");
    let write = dir.join("write.lua");
    std::fs::write(&read, READ_LUA).unwrap();
    std::fs::write(&write, WRITE_LUA).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!("| database | endpoint | server | requests/s | p50 ms | p99 ms | non-2xx | Athanor/sqlx req/s |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for backend in backends.split(',') {
        let Some(url) = testing::target_url(backend) else { continue };
        let db = testing::fresh_database(&url).unwrap();
        let sep = if db.url().contains('?') { '&' } else { '?' };
        let athanor_url = format!("{}{sep}pool_size=16", db.url());
        rt.block_on(async {
            let state = axum_service::start(&athanor_url).await.unwrap();
            let (a_port, a_stop, a_task) = serve(axum_service::router(state)).await;
            let seed_url = athanor_url.clone();
            tokio::task::spawn_blocking(move || seed(&seed_url)).await.unwrap().unwrap();
            let peer = match backend {
                "postgres" => pg::router(pg::pool(db.url(), 16).await),
                "mysql" => my::router(my::pool(db.url(), 16).await),
                _ => {
                    let path = db.url().trim_start_matches("sqlite://").split('?').next().unwrap_or_default().to_string();
                    lite::router(lite::pool(&format!("sqlite://{path}"), 16).await)
                }
            };
            let (p_port, p_stop, p_task) = serve(peer).await;
            for (endpoint, script) in [("GET /books/{id}", &read), ("POST /orders", &write)] {
                let s = script.clone();
                let a = tokio::task::spawn_blocking(move || wrk(a_port, &s, seconds, connections)).await.unwrap();
                let s = script.clone();
                let p = tokio::task::spawn_blocking(move || wrk(p_port, &s, seconds, connections)).await.unwrap();
                for (server, l) in [("Athanor (axum example)", &a), ("sqlx 0.9", &p)] {
                    let ratio = if server == "sqlx 0.9" { String::new() } else { format!("{:.2}", a.rps / p.rps) };
                    println!(
                        "| {backend} | `{endpoint}` | {server} | {:.0} | {:.2} | {:.2} | {} | {ratio} |",
                        l.rps, l.p50_ms, l.p99_ms, l.non_2xx
                    );
                }
            }
            let _ = (a_stop.send(()), p_stop.send(()));
            let _ = (a_task.await, p_task.await);
        });
        drop(db);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
