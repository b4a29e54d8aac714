//! A bookshop JSON service on axum + tokio over Athanor: the same binary on SQLite, PostgreSQL
//! or MySQL/MariaDB, chosen by `DATABASE_URL`.
//!
//! What it shows (docs/async.md):
//! - every handler's database work runs in `sessions.run(…)` / `run_transaction(…)` (the async
//!   bridge, feature `tokio`), one session per request, on tokio's blocking threads bounded by
//!   the pool; reads in an `autocommit_reads` session (no `BEGIN`/`ROLLBACK` round trips);
//! - handlers return the models themselves (`Detached<T>`, feature `serde`): loaded relationships
//!   nest, unloaded ones are left out;
//! - an order takes stock with `UPDATE … SET stock = stock - ? WHERE id = ? AND stock >= ?`,
//!   correct under concurrency on every database;
//! - optional filters from the query string on one dynamic query (`into_dynamic`);
//! - errors mapped to 404 / 409 / 422 / 503 ([`error::ApiError`]);
//! - a `tracing` span per request, which the statements' spans join on the blocking thread;
//! - migrations compiled in and applied at startup ([`MIGRATIONS`]).

pub mod error;
pub mod models;

use athanor::prelude::*;
use athanor::{Decimal, Detached, Dynamic};
use axum::extract::{MatchedPath, Path, Query as QueryString, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use error::ApiError;
use models::{Author, Book, Order, OrderStatus, Tag};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

/// The service's migrations, compiled in (made by `athanor migrate generate` from [`models::base`]).
pub static MIGRATIONS: athanor::migrate::EmbeddedMigrations = athanor::migrate::embedded!("migrations");

/// What every handler shares: two session factories on one engine.
#[derive(Clone)]
pub struct AppState {
    /// For requests that only read: statements run without a transaction round trip.
    pub reads: SessionMaker,
    /// For requests that write: `write_intent`, so that on SQLite a transaction takes the write
    /// lock at `BEGIN` (it then waits for other writers instead of failing at its first write).
    pub writes: SessionMaker,
}

impl AppState {
    /// The state over an engine.
    pub fn new(engine: &Engine) -> AppState {
        AppState { reads: sessionmaker(engine).autocommit_reads(true), writes: sessionmaker(engine).write_intent(true) }
    }
}

/// Bring the database up to date (one instance migrates when several start together) and make
/// the state. Runs the migration on a blocking thread.
///
/// # Errors
/// Those of connecting and migrating.
pub async fn start(url: &str) -> Result<AppState, ApiError> {
    let engine = create_engine(url)?;
    let migrating = engine.clone();
    let applied = tokio::task::spawn_blocking(move || MIGRATIONS.upgrade(&migrating))
        .await
        .map_err(|e| ApiError::BadInput(format!("the migration task failed: {e}")))??;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrated");
    }
    Ok(AppState::new(&engine))
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/authors", get(list_authors).post(create_author))
        .route("/authors/{id}", get(get_author))
        .route("/books", get(list_books).post(create_book))
        .route("/books/{id}", get(get_book).patch(update_book).delete(delete_book))
        .route("/orders", post(place_order))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .layer(middleware::from_fn(request_span))
        .with_state(state)
}

/// One span per request; the bridge carries it to the blocking thread, so each statement's
/// `db.statement` span is its child.
async fn request_span(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("?", MatchedPath::as_str).to_owned();
    let span = tracing::info_span!("request", method = %request.method(), route = %route);
    next.run(request).instrument(span).await
}

/// A page of results.
#[derive(Serialize, Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many match in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Items per page.
    pub per_page: u64,
}

/// `?page=&per_page=` (1-based; at most 100 per page).
#[derive(Deserialize, Debug, Default)]
pub struct Paging {
    /// The page, from 1.
    pub page: Option<u64>,
    /// Items per page (default 20, at most 100).
    pub per_page: Option<u64>,
}

impl Paging {
    fn limits(&self) -> Result<(u64, u64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 || per_page == 0 || per_page > 100 {
            return Err(ApiError::BadInput("page starts at 1; per_page is 1 to 100".into()));
        }
        Ok((page, per_page))
    }
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let m = state.reads.engine().pool_metrics();
    Json(serde_json::json!({ "status": "ok", "pool": { "in_use": m.in_use, "idle": m.idle, "waiters": m.waiters } }))
}

async fn list_authors(
    State(state): State<AppState>,
    QueryString(paging): QueryString<Paging>,
) -> Result<Json<Page<Detached<Author>>>, ApiError> {
    let (page, per_page) = paging.limits()?;
    let page = state
        .reads
        .run(move |s| -> Result<_, ApiError> {
            let q = s.query::<Author>().order_by((Author::name.asc(), Author::id.asc()));
            let total = q.count()?;
            let rows = q.limit(per_page).offset((page - 1) * per_page).all()?;
            Ok(Page { items: Detached::from_handles(&rows)?, total, page, per_page })
        })
        .await?;
    Ok(Json(page))
}

/// `POST /authors`.
#[derive(Deserialize, Debug)]
pub struct NewAuthor {
    /// Unique name.
    pub name: String,
}

async fn create_author(
    State(state): State<AppState>,
    Json(new): Json<NewAuthor>,
) -> Result<(StatusCode, Json<Detached<Author>>), ApiError> {
    let author = state
        .writes
        .run_transaction(move |s| -> Result<_, ApiError> {
            let a = s.add(Author { name: new.name, ..Default::default() });
            s.flush()?;
            Ok(a.to_owned_tree()?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(author)))
}

async fn get_author(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Detached<Author>>, ApiError> {
    let author = state
        .reads
        .run(move |s| -> Result<_, ApiError> {
            let a = s
                .query::<Author>()
                .filter(Author::id.eq(id))
                .options(selectinload(Author::books))
                .one_or_none()?
                .ok_or_else(|| ApiError::NotFound(format!("author {id}")))?;
            Ok(a.to_owned_tree()?)
        })
        .await?;
    Ok(Json(author))
}

/// `GET /books?title=&tag=&author=&min_price=&max_price=&sort=&page=&per_page=`, every
/// parameter optional.
#[derive(Deserialize, Debug, Default)]
pub struct BookFilters {
    /// Part of the title.
    pub title: Option<String>,
    /// A tag's name (adds the join only when given).
    pub tag: Option<String>,
    /// The author's id.
    pub author: Option<i64>,
    /// At least this price.
    pub min_price: Option<Decimal>,
    /// At most this price.
    pub max_price: Option<Decimal>,
    /// `title` (default), `price`, `-price`, `newest`.
    pub sort: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
    /// Items per page.
    pub per_page: Option<u64>,
}

/// The books matching `f`, a page of them, with their tags: one dynamic query whose joins and
/// filters depend on which parameters are present.
fn search_books(s: &Session, f: &BookFilters, page: u64, per_page: u64) -> Result<Page<Detached<Book>>, ApiError> {
    let mut q: Query<'_, Book, Dynamic> = s.query::<Book>().into_dynamic();
    if let Some(title) = &f.title {
        q = q.filter(Book::title.contains(title));
    }
    if let Some(tag) = &f.tag {
        q = q.join(Book::tags).filter(Tag::name.eq(tag.as_str()));
    }
    if let Some(author) = f.author {
        q = q.filter(Book::author_id.eq(author));
    }
    if let Some(min) = f.min_price {
        q = q.filter(Book::price.ge(min));
    }
    if let Some(max) = f.max_price {
        q = q.filter(Book::price.le(max));
    }
    q = match f.sort.as_deref() {
        None | Some("title") => q.order_by((Book::title.asc(), Book::id.asc())),
        Some("price") => q.order_by((Book::price.asc(), Book::id.asc())),
        Some("-price") => q.order_by((Book::price.desc(), Book::id.asc())),
        Some("newest") => q.order_by((Book::created_at.desc(), Book::id.desc())),
        Some(other) => return Err(ApiError::BadInput(format!("unknown sort key {other:?}"))),
    };
    let total = q.count()?;
    let rows = q.options(selectinload(Book::tags)).limit(per_page).offset((page - 1) * per_page).all()?;
    Ok(Page { items: Detached::from_handles(&rows)?, total, page, per_page })
}

async fn list_books(
    State(state): State<AppState>,
    QueryString(filters): QueryString<BookFilters>,
) -> Result<Json<Page<Detached<Book>>>, ApiError> {
    let (page, per_page) = Paging { page: filters.page, per_page: filters.per_page }.limits()?;
    let page = state.reads.run(move |s| search_books(s, &filters, page, per_page)).await?;
    Ok(Json(page))
}

/// `POST /books`.
#[derive(Deserialize, Debug)]
pub struct NewBook {
    /// The author's id.
    pub author_id: i64,
    /// Title.
    pub title: String,
    /// Price (at most two decimals: more is a 422 from the column).
    pub price: Decimal,
    /// Copies in stock.
    pub stock: i32,
    /// Tag names (made when new).
    #[serde(default)]
    pub tags: Vec<String>,
}

async fn create_book(
    State(state): State<AppState>,
    Json(new): Json<NewBook>,
) -> Result<(StatusCode, Json<Detached<Book>>), ApiError> {
    if new.price.is_sign_negative() || new.stock < 0 {
        return Err(ApiError::BadInput("price and stock cannot be negative".into()));
    }
    let book = state
        .writes
        .run_transaction(move |s| -> Result<_, ApiError> {
            let mut tags = Vec::new();
            for name in &new.tags {
                let tag = match s.query::<Tag>().filter(Tag::name.eq(name.as_str())).one_or_none()? {
                    Some(t) => t,
                    None => s.add(Tag { name: name.clone(), ..Default::default() }),
                };
                tags.push(tag);
            }
            let book = s.add(Book {
                author_id: Some(new.author_id),
                title: new.title,
                price: new.price,
                stock: new.stock,
                created_at: jiff::Timestamp::now(),
                ..Default::default()
            });
            for t in &tags {
                book.edit(|b| b.tags.push(t))?;
            }
            s.flush()?;
            Ok(book.to_owned_tree()?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(book)))
}

fn load_book(s: &Session, id: i64) -> Result<Handle<Book>, ApiError> {
    s.query::<Book>()
        .filter(Book::id.eq(id))
        .options(selectinload(Book::author))
        .options(selectinload(Book::tags))
        .one_or_none()?
        .ok_or_else(|| ApiError::NotFound(format!("book {id}")))
}

async fn get_book(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Detached<Book>>, ApiError> {
    let book = state.reads.run(move |s| Ok::<_, ApiError>(load_book(s, id)?.to_owned_tree()?)).await?;
    Ok(Json(book))
}

/// `PATCH /books/{id}`: the fields given change.
#[derive(Deserialize, Debug)]
pub struct BookChanges {
    /// New title.
    pub title: Option<String>,
    /// New price.
    pub price: Option<Decimal>,
    /// Copies to add to the stock (negative to remove); applied as `stock = stock + ?`.
    pub restock: Option<i32>,
}

async fn update_book(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Json(changes): Json<BookChanges>,
) -> Result<Json<Detached<Book>>, ApiError> {
    let book = state
        .writes
        .run_transaction(move |s| -> Result<_, ApiError> {
            let book = load_book(s, id)?;
            book.edit(|b| {
                if let Some(t) = changes.title {
                    b.title = t;
                }
                if let Some(p) = changes.price {
                    b.price = p;
                }
            })?;
            if let Some(n) = changes.restock {
                // Flushed as `SET stock = stock + ?`: a concurrent order's change is not lost.
                book.set_expr(Book::stock, Book::stock.add(n))?;
            }
            s.flush()?;
            if book.get().stock < 0 {
                return Err(ApiError::BadInput("the stock cannot go below zero".into()));
            }
            Ok(book.to_owned_tree()?)
        })
        .await?;
    Ok(Json(book))
}

async fn delete_book(State(state): State<AppState>, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    state
        .writes
        .run_transaction(move |s| -> Result<_, ApiError> {
            let book = s.get::<Book>(id)?.ok_or_else(|| ApiError::NotFound(format!("book {id}")))?;
            s.delete(&book)?;
            s.flush()?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /orders`.
#[derive(Deserialize, Debug)]
pub struct NewOrder {
    /// The book.
    pub book_id: i64,
    /// Copies (at least 1).
    pub quantity: i32,
}

/// Take `quantity` copies of the book and record the order, in one transaction. The stock is
/// taken by one guarded statement, `UPDATE shop_books SET stock = stock - ? WHERE id = ? AND
/// stock >= ?`: the database applies concurrent orders one after another, so stock never goes
/// below zero and no order is lost, on every database and at any isolation level.
pub fn place(s: &Session, book_id: i64, quantity: i32) -> Result<Handle<Order>, ApiError> {
    if quantity < 1 {
        return Err(ApiError::BadInput("quantity must be at least 1".into()));
    }
    let taken = s
        .query::<Book>()
        .filter(Book::id.eq(book_id))
        .filter(Book::stock.ge(quantity))
        .update(|set| set.value(Book::stock, Book::stock.sub(quantity)))?;
    if taken == 0 {
        return Err(match s.get::<Book>(book_id)? {
            None => ApiError::NotFound(format!("book {book_id}")),
            Some(_) => ApiError::Conflict(format!("book {book_id} has fewer than {quantity} copies in stock")),
        });
    }
    let price = s.get::<Book>(book_id)?.ok_or_else(|| ApiError::NotFound(format!("book {book_id}")))?.get().price;
    let order = s.add(Order {
        book_id: Some(book_id),
        quantity,
        total: price * Decimal::from(quantity),
        status: OrderStatus::Placed,
        placed_at: jiff::Timestamp::now(),
        ..Default::default()
    });
    s.flush()?;
    Ok(order)
}

async fn place_order(
    State(state): State<AppState>,
    Json(new): Json<NewOrder>,
) -> Result<(StatusCode, Json<Detached<Order>>), ApiError> {
    let order = state
        .writes
        .run_transaction(move |s| Ok::<_, ApiError>(place(s, new.book_id, new.quantity)?.to_owned_tree()?))
        .await?;
    Ok((StatusCode::CREATED, Json(order)))
}

async fn get_order(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Detached<Order>>, ApiError> {
    let order = state
        .reads
        .run(move |s| -> Result<_, ApiError> {
            let o = s
                .query::<Order>()
                .filter(Order::id.eq(id))
                .options(selectinload(Order::book))
                .one_or_none()?
                .ok_or_else(|| ApiError::NotFound(format!("order {id}")))?;
            Ok(o.to_owned_tree()?)
        })
        .await?;
    Ok(Json(order))
}

async fn cancel_order(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Detached<Order>>, ApiError> {
    let order = state
        .writes
        .run_transaction(move |s| -> Result<_, ApiError> {
            let o = s.get::<Order>(id)?.ok_or_else(|| ApiError::NotFound(format!("order {id}")))?;
            let (book_id, quantity) = (o.get().book_id, o.get().quantity);
            // Guarded like the stock: of two concurrent cancels, one changes the row.
            let cancelled = s
                .query::<Order>()
                .filter(Order::id.eq(id))
                .filter(Order::status.eq(OrderStatus::Placed))
                .update(|set| set.value(Order::status, OrderStatus::Cancelled))?;
            if cancelled == 0 {
                return Err(ApiError::Conflict(format!("order {id} is already cancelled")));
            }
            s.query::<Book>()
                .filter(Book::id.eq(book_id.unwrap_or_default()))
                .update(|set| set.value(Book::stock, Book::stock.add(quantity)))?;
            s.refresh(&o)?;
            Ok(o.to_owned_tree()?)
        })
        .await?;
    Ok(Json(order))
}
