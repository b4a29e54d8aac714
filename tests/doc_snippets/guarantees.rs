// Context of docs/guarantees.md's snippets: a book shop's stock and orders.
// params: s: &Session, engine: &Engine, id: i64, qty: i32
use athanor::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub title: String,
    pub stock: i32,
}

#[derive(Model, Debug, Clone)]
#[model(table = "book_orders")]
pub struct BookOrder {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub book_id: i64,
    pub quantity: i32,
}
