// A relationship handle only works with its own model's handles, and loader paths must chain.
use athanor::prelude::*;

#[derive(Model, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[relationship(back_populates = "author")]
    pub posts: HasMany<Post>,
}

#[derive(Model, Default)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id")]
    pub user_id: Option<i64>,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
}

fn wrong(session: &Session, post: &Handle<Post>) {
    let _ = session.related(post, User::posts);
    let _ = selectinload(User::posts).selectinload(User::posts);
}

fn main() {}
