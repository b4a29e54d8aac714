// Context of docs/testing.md's snippets: the application's catalog.
use athanor::prelude::*;

pub fn base() -> Base {
    Base::new()
}

// The N+1 section's models.
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
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
}
