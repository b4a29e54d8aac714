use athanor::Model;

#[derive(Model)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(version)]
    pub version: Option<i64>,
}

#[derive(Model)]
#[model(table = "pages")]
pub struct Page {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(version)]
    pub a: i64,
    #[column(version)]
    pub b: i64,
}

fn main() {}
