//! The bookshop service driven in-process (the router as a tower service, no socket) on every
//! configured backend, each on a fresh database migrated at startup: CRUD, pagination, eager
//! loading, filters, orders in a transaction, and the HTTP status of each kind of error. Also:
//! 30 concurrent orders against a stock of 10 accept exactly 10.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a test: a failed unwrap is a failed test

use athanor::testing;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use axum_service::{models, router, start, AppState, MIGRATIONS};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// Each configured backend: a fresh database, the service started on it (with `options`
/// appended to its URL), and the test run on a multi-thread runtime.
type Test = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn each_backend(options: &str, test: impl Fn(String, AppState, Router) -> Test) {
    for (backend, db) in testing::configured_databases() {
        let sep = if db.url().contains('?') { '&' } else { '?' };
        let url = if options.is_empty() { db.url().to_string() } else { format!("{}{sep}{options}", db.url()) };
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let state = start(&url).await.unwrap_or_else(|e| panic!("{backend}: {e:?}"));
            test(backend.to_string(), state.clone(), router(state)).await;
        });
    }
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, value)
}

async fn new_author(app: &Router, name: &str) -> i64 {
    let (st, a) = call(app, Method::POST, "/authors", Some(json!({ "name": name }))).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_i64().unwrap()
}

async fn new_book(app: &Router, author: i64, title: &str, price: &str, stock: i32, tags: &[&str]) -> i64 {
    let body = json!({ "author_id": author, "title": title, "price": price, "stock": stock, "tags": tags });
    let (st, b) = call(app, Method::POST, "/books", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["id"].as_i64().unwrap()
}

#[test]
fn authors_and_books_round_trip_with_nested_relationships() {
    each_backend("", |backend, _, app| {
        Box::pin(async move {
            let le_guin = new_author(&app, "Ursula K. Le Guin").await;
            let (st, dup) = call(&app, Method::POST, "/authors", Some(json!({ "name": "Ursula K. Le Guin" }))).await;
            assert_eq!(st, StatusCode::CONFLICT, "{backend}: a unique name taken: {dup}");
            let book = new_book(&app, le_guin, "The Dispossessed", "12.50", 3, &["classic", "scifi"]).await;
            new_book(&app, le_guin, "A Wizard of Earthsea", "9.99", 5, &["fantasy", "classic"]).await;

            let (st, b) = call(&app, Method::GET, &format!("/books/{book}"), None).await;
            assert_eq!(st, StatusCode::OK);
            assert_eq!(b["title"], "The Dispossessed", "{backend}");
            assert_eq!(b["price"], "12.50", "{backend}: money as an exact string");
            assert_eq!(b["author"]["name"], "Ursula K. Le Guin", "{backend}: the author nested");
            let tags: Vec<&str> = b["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
            assert_eq!(tags.len(), 2, "{backend}: {b}");
            assert!(b["created_at"].as_str().unwrap().ends_with('Z'), "{backend}: an instant in UTC: {b}");

            let (st, a) = call(&app, Method::GET, &format!("/authors/{le_guin}"), None).await;
            assert_eq!(st, StatusCode::OK);
            let titles: Vec<&str> =
                a["books"].as_array().unwrap().iter().map(|b| b["title"].as_str().unwrap()).collect();
            assert_eq!(titles, ["The Dispossessed", "A Wizard of Earthsea"], "{backend}");
            assert!(a["books"][0].get("tags").is_none(), "{backend}: an unloaded relationship is left out: {a}");

            let (st, _) = call(&app, Method::GET, "/books/999999", None).await;
            assert_eq!(st, StatusCode::NOT_FOUND);
            let (st, _) = call(&app, Method::GET, "/authors/999999", None).await;
            assert_eq!(st, StatusCode::NOT_FOUND);

            let (st, b) =
                call(&app, Method::PATCH, &format!("/books/{book}"), Some(json!({ "price": "11.00", "restock": 2 })))
                    .await;
            assert_eq!(st, StatusCode::OK, "{b}");
            assert_eq!((b["price"].as_str(), b["stock"].as_i64()), (Some("11.00"), Some(5)), "{backend}: {b}");

            let (st, _) = call(&app, Method::DELETE, &format!("/books/{book}"), None).await;
            assert_eq!(st, StatusCode::NO_CONTENT);
            let (st, _) = call(&app, Method::GET, &format!("/books/{book}"), None).await;
            assert_eq!(st, StatusCode::NOT_FOUND);
        })
    });
}

#[test]
fn bad_values_are_422_and_the_service_goes_on() {
    each_backend("", |backend, _, app| {
        Box::pin(async move {
            let a = new_author(&app, "Ann").await;
            let body = json!({ "author_id": a, "title": "Too precise", "price": "1.005", "stock": 1 });
            let (st, e) = call(&app, Method::POST, "/books", Some(body)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: a third decimal: {e}");
            assert!(e["error"].as_str().unwrap().contains("shop_books.price"), "{backend}: {e}");
            let body = json!({ "author_id": 424242, "title": "Nobody's", "price": "1.00", "stock": 1 });
            let (st, e) = call(&app, Method::POST, "/books", Some(body)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: a missing author: {e}");
            let (st, _) = call(&app, Method::GET, "/books?sort=color", None).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
            let (st, _) = call(&app, Method::GET, "/authors?per_page=1000", None).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
            // Nothing of those requests stayed behind, and the next one works.
            let (st, page) = call(&app, Method::GET, "/books", None).await;
            assert_eq!((st, page["total"].as_u64()), (StatusCode::OK, Some(0)), "{backend}: {page}");
        })
    });
}

#[test]
fn filters_from_the_query_string_and_pages() {
    each_backend("", |backend, _, app| {
        Box::pin(async move {
            let a = new_author(&app, "Ann").await;
            let b = new_author(&app, "Bo").await;
            new_book(&app, a, "Rust in Action", "39.99", 1, &["systems"]).await;
            new_book(&app, a, "Programming Rust", "49.50", 1, &["systems", "classic"]).await;
            new_book(&app, b, "Dune", "12.00", 1, &["scifi", "classic"]).await;
            new_book(&app, b, "Rustic Cooking", "20.00", 1, &[]).await;
            let titles = |v: &Value| -> Vec<String> {
                v["items"].as_array().unwrap().iter().map(|b| b["title"].as_str().unwrap().to_string()).collect()
            };
            let (_, v) = call(&app, Method::GET, "/books?title=Rust&sort=price", None).await;
            assert_eq!(titles(&v), ["Rustic Cooking", "Rust in Action", "Programming Rust"], "{backend}");
            let (_, v) = call(&app, Method::GET, "/books?tag=classic&sort=-price", None).await;
            assert_eq!(titles(&v), ["Programming Rust", "Dune"], "{backend}");
            assert_eq!(v["total"], 2);
            let (_, v) = call(&app, Method::GET, "/books?tag=systems&min_price=40", None).await;
            assert_eq!(titles(&v), ["Programming Rust"], "{backend}");
            let (_, v) = call(&app, Method::GET, &format!("/books?author={b}&max_price=15"), None).await;
            assert_eq!(titles(&v), ["Dune"], "{backend}");
            let (_, p1) = call(&app, Method::GET, "/books?per_page=3", None).await;
            let (_, p2) = call(&app, Method::GET, "/books?per_page=3&page=2", None).await;
            assert_eq!((p1["total"].as_u64(), p2["total"].as_u64()), (Some(4), Some(4)));
            assert_eq!(titles(&p1), ["Dune", "Programming Rust", "Rust in Action"], "{backend}");
            assert_eq!(titles(&p2), ["Rustic Cooking"], "{backend}");
            let (_, authors) = call(&app, Method::GET, "/authors?per_page=1&page=2", None).await;
            assert_eq!(authors["items"][0]["name"], "Bo", "{backend}");
        })
    });
}

#[test]
fn an_order_takes_stock_in_a_transaction_and_a_cancel_gives_it_back() {
    each_backend("", |backend, _, app| {
        Box::pin(async move {
            let a = new_author(&app, "Ann").await;
            let book = new_book(&app, a, "Dune", "12.50", 2, &[]).await;
            let (st, e) = call(&app, Method::POST, "/orders", Some(json!({ "book_id": book, "quantity": 3 }))).await;
            assert_eq!(st, StatusCode::CONFLICT, "{backend}: {e}");
            let (st, o) = call(&app, Method::POST, "/orders", Some(json!({ "book_id": book, "quantity": 2 }))).await;
            assert_eq!(st, StatusCode::CREATED, "{backend}: {o}");
            assert_eq!((o["total"].as_str(), o["status"].as_str()), (Some("25.00"), Some("placed")), "{backend}: {o}");
            let order = o["id"].as_i64().unwrap();
            let (_, b) = call(&app, Method::GET, &format!("/books/{book}"), None).await;
            assert_eq!(b["stock"], 0, "{backend}");
            let (st, _) = call(&app, Method::POST, "/orders", Some(json!({ "book_id": 777777, "quantity": 1 }))).await;
            assert_eq!(st, StatusCode::NOT_FOUND);
            let (st, o) = call(&app, Method::GET, &format!("/orders/{order}"), None).await;
            assert_eq!((st, o["book"]["title"].as_str()), (StatusCode::OK, Some("Dune")), "{backend}: {o}");
            let (st, o) = call(&app, Method::POST, &format!("/orders/{order}/cancel"), None).await;
            assert_eq!((st, o["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{backend}: {o}");
            let (st, _) = call(&app, Method::POST, &format!("/orders/{order}/cancel"), None).await;
            assert_eq!(st, StatusCode::CONFLICT, "{backend}: cancelled once");
            let (_, b) = call(&app, Method::GET, &format!("/books/{book}"), None).await;
            assert_eq!(b["stock"], 2, "{backend}: the stock came back");
        })
    });
}

#[test]
fn thirty_concurrent_orders_against_a_stock_of_ten_accept_ten() {
    each_backend("pool_size=8", |backend, _, app| {
        Box::pin(async move {
            let a = new_author(&app, "Ann").await;
            let book = new_book(&app, a, "Dune", "10.00", 10, &[]).await;
            let tasks: Vec<_> = (0..30)
                .map(|_| {
                    let app = app.clone();
                    tokio::spawn(async move {
                        call(&app, Method::POST, "/orders", Some(json!({ "book_id": book, "quantity": 1 }))).await.0
                    })
                })
                .collect();
            let mut statuses = Vec::new();
            for t in tasks {
                statuses.push(t.await.unwrap());
            }
            let accepted = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
            let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
            assert_eq!((accepted, refused), (10, 20), "{backend}: {statuses:?}");
            let (_, b) = call(&app, Method::GET, &format!("/books/{book}"), None).await;
            assert_eq!(b["stock"], 0, "{backend}");
        })
    });
}

#[test]
fn a_request_that_cannot_get_a_connection_in_time_is_503() {
    each_backend("pool_size=1&pool_timeout=0.2", |backend, state, app| {
        Box::pin(async move {
            // Other work of the service holds the engine's only connection for a while.
            let (started_tx, started_rx) = tokio::sync::oneshot::channel();
            let holder = tokio::spawn(async move {
                state
                    .writes
                    .run(move |s| {
                        s.query::<models::Book>().count()?;
                        let _ = started_tx.send(());
                        std::thread::sleep(std::time::Duration::from_millis(800));
                        Ok::<_, athanor::Error>(())
                    })
                    .await
            });
            started_rx.await.unwrap();
            let (st, e) = call(&app, Method::GET, "/books", None).await;
            assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{backend}: {e}");
            holder.await.unwrap().unwrap();
            let (st, _) = call(&app, Method::GET, "/books", None).await;
            assert_eq!(st, StatusCode::OK, "{backend}: served again once the connection is free");
        })
    });
}

#[test]
fn the_migrations_make_what_the_models_describe() {
    let engine = athanor::create_engine("sqlite::memory:").unwrap();
    assert_eq!(MIGRATIONS.upgrade(&engine).unwrap().len(), MIGRATIONS.chain().unwrap().len());
    let drift = athanor::migrate::check(&mut engine.connect().unwrap(), &models::base().metadata()).unwrap();
    assert!(drift.is_empty(), "the migrations and the models differ: {drift:?}");
}
