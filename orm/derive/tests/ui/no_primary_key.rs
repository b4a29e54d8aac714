use athanor::Model;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    pub id: Option<i64>,
    pub name: String,
}

fn main() {}
