// Context of docs/serde.md's snippets: the bookshop models, serializable.
// params: s: &Session, session: &Session, engine: &Engine
use athanor::prelude::*;
use athanor::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "authors")]
pub struct Author {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "author", order_by = "id")]
    pub books: HasMany<Book>,
}

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "authors.id")]
    pub author_id: Option<i64>,
    pub title: String,
    #[column(precision = 10, scale = 2)]
    pub price: Decimal,
    #[relationship(back_populates = "books")]
    pub author: BelongsTo<Author>,
    #[relationship(secondary = "book_tags", back_populates = "books")]
    pub tags: ManyToMany<Tag>,
}

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(secondary = "book_tags", back_populates = "tags")]
    pub books: ManyToMany<Book>,
}
