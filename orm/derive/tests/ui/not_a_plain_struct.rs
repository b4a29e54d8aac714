use athanor::Model;

#[derive(Model)]
#[model(table = "points")]
pub struct Point(i64, i64);

#[derive(Model)]
#[model(table = "boxes")]
pub struct Boxed<T> {
    #[column(primary_key)]
    pub id: i64,
    pub content: T,
}

#[derive(Model)]
#[model(table = "shapes")]
pub enum Shape {
    Circle,
}

fn main() {}
