use athanor::{Condition, Model};

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub age: i32,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub total_cents: i64,
}

fn main() {
    // A condition on orders cannot filter customers.
    let _adults: Condition<Customer> = Customer::age.ge(18) & Order::total_cents.gt(100);
}
