use athanor::Model;

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(uniqe)]
    pub number: String,
    #[column(foreign_key = "customers")]
    pub customer_id: i64,
}

fn main() {}
