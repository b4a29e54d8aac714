// Context of docs/sqlalchemy.md's snippets.
// params: session: &Session, s: &Session, engine: &Engine, rows: Vec<Customer>
use athanor::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    pub address: Option<String>,
    #[column(unique, length = 255)]
    pub email: String,
    pub age: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "customers.id")]
    pub customer_id: i64,
    pub total_cents: i64,
}
