use athanor::prelude::*;

#[derive(Model)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub title: String,
    pub stock: i32,
    pub spare: Option<i32>,
}

fn run(s: &Session) {
    // An expression of another type.
    let _ = s.query::<Book>().update(|set| set.value(Book::stock, Book::title));
    // A nullable expression into a NOT NULL column.
    let _ = s.query::<Book>().update(|set| set.value(Book::stock, Book::spare.add(1)));
}

fn main() {}
