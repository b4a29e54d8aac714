// A relationship whose foreign key is missing, or ambiguous, fails the build naming both models.
use athanor::prelude::*;

#[derive(Model, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub posts: HasMany<Post>,
}

#[derive(Model, Default)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub user_id: Option<i64>,
}

#[derive(Model, Default)]
#[model(table = "messages")]
pub struct Message {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id")]
    pub sender_id: i64,
    #[column(foreign_key = "users.id")]
    pub recipient_id: i64,
    pub sender: BelongsTo<User>,
    #[relationship(foreign_key = "recipient_id")]
    pub recipient: BelongsTo<User>,
}

#[derive(Model, Default)]
#[model(table = "notes")]
pub struct Note {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id")]
    pub user_id: i64,
    #[relationship(back_populates = "notes")]
    pub user: BelongsTo<User>,
    #[relationship(order_by = "title")]
    pub users: HasMany<Post>,
}

fn main() {}
