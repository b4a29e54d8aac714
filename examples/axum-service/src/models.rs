//! The bookshop's tables: authors, books, tags (many-to-many with books) and orders, with money
//! (`Decimal`), instants (`jiff::Timestamp`) and a status enum. The models derive `Serialize`
//! (feature `serde`), so handlers return them (as `Detached<T>`) without DTOs.

use athanor::prelude::*;
use athanor::Decimal;
use serde::{Deserialize, Serialize};

/// An author; `name` is unique (a second one is a 409).
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "shop_authors")]
pub struct Author {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Unique name.
    #[column(unique, length = 100)]
    pub name: String,
    /// Their books, when loaded (`GET /authors/{id}` loads them).
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "author", order_by = "id")]
    pub books: HasMany<Book>,
}

/// A book in stock.
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "shop_books")]
pub struct Book {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The author.
    #[column(foreign_key = "shop_authors.id", index)]
    pub author_id: Option<i64>,
    /// Title.
    #[column(length = 200)]
    pub title: String,
    /// Price, exact: up to 99,999,999.99.
    #[column(precision = 10, scale = 2)]
    pub price: Decimal,
    /// Copies in stock; an order takes them with `SET stock = stock - ?` under a guard.
    pub stock: i32,
    /// When it was added.
    pub created_at: jiff::Timestamp,
    /// Its author, when loaded.
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "books")]
    pub author: BelongsTo<Author>,
    /// Its tags, when loaded.
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(secondary = "shop_book_tags", back_populates = "books")]
    pub tags: ManyToMany<Tag>,
    /// Its orders, when loaded (no endpoint loads them).
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "book")]
    pub orders: HasMany<Order>,
}

/// A tag; names are unique.
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "shop_tags")]
pub struct Tag {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Unique name.
    #[column(unique, length = 40)]
    pub name: String,
    /// The tagged books, when loaded.
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(secondary = "shop_book_tags", back_populates = "tags")]
    pub books: ManyToMany<Book>,
}

/// Where an order is.
#[derive(DbEnum, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed: the stock is taken.
    #[default]
    Placed,
    /// Cancelled: the stock was given back.
    Cancelled,
}

/// An order of some copies of one book.
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "shop_orders")]
pub struct Order {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The book.
    #[column(foreign_key = "shop_books.id", index)]
    pub book_id: Option<i64>,
    /// Copies.
    pub quantity: i32,
    /// Price × quantity when placed.
    #[column(precision = 12, scale = 2)]
    pub total: Decimal,
    /// Placed or cancelled.
    pub status: OrderStatus,
    /// When it was placed.
    pub placed_at: jiff::Timestamp,
    /// The book, when loaded.
    #[serde(default, skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "orders")]
    pub book: BelongsTo<Book>,
}

/// Every table of the service (the migrations make the same; a test checks).
pub fn base() -> Base {
    Base::new().register::<Author>().register::<Book>().register::<Tag>().register::<Order>()
}
