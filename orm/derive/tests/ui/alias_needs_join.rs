// An alias is a source of its own: its columns need the alias joined.
use athanor::prelude::*;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
}

athanor::alias!(Other = "other");

fn rows(session: &athanor::Session) {
    let _ = session.query::<Customer>().filter(Other::col(Customer::id).eq(1)).all();
}

fn main() {}
