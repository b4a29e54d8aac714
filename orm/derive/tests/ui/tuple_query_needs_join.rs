// A query of several models needs each one after the first joined.
use athanor::Model;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
}

fn rows(session: &athanor::Session) {
    let _ = session.query::<(Customer, Option<Order>)>().all();
}

fn main() {}
