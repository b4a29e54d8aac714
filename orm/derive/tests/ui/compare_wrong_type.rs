use athanor::Model;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub age: i32,
}

fn main() {
    let _ = Customer::age.ge("x");
}
