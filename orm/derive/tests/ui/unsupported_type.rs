use athanor::Model;

pub struct Money {
    pub cents: i64,
}

#[derive(Model)]
#[model(table = "accounts")]
pub struct Account {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub big: u128,
    pub balance: Money,
}

fn main() {}
