// Context of docs/async.md's snippets: a book model and an application error type.
use athanor::prelude::*;

#[derive(Model, Debug, Clone)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub title: String,
    pub stock: i32,
}

#[derive(Debug)]
pub enum AppError {
    NotFound,
    OutOfStock,
    Db(Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError::Db(e)
    }
}
