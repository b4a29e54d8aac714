use athanor::Model;

#[derive(Model)]
#[model(table = "countries")]
pub struct Country {
    #[column(primary_key)]
    pub code: Option<String>,
}

#[derive(Model)]
#[model(table = "order_lines")]
pub struct OrderLine {
    #[column(primary_key)]
    pub order_id: i64,
    #[column(primary_key)]
    pub line: Option<i32>,
}

fn main() {}
