// Context of docs/expressions.md's snippets.
// params: session: &Session, s: &Session, engine: &Engine, tags: Vec<Tag>
use athanor::prelude::*;

#[derive(Model, Debug, Clone, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(back_populates = "author")]
    pub posts: HasMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id")]
    pub user_id: Option<i64>,
    pub title: String,
    pub score: i64,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(unique, length = 40)]
    pub name: String,
    pub uses: i64,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    pub age: i32,
}

alias!(pub Stats = "stats");
