// A column compares with a column or an expression of the same model and type only.
use athanor::Model;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub age: i32,
    pub name: String,
}

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub qty: i32,
}

fn main() {
    let _ = Customer::age.gt(Customer::name);
    let _ = Customer::age.gt(Order::qty);
    let _ = Customer::age.add(1).gt("x");
    let _ = Customer::name.add(1);
}
