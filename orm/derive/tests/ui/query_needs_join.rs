// A query filters on its own model, or on a model it joined; nothing else compiles.
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
    pub score: i32,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
}

fn queries(session: &Session) {
    let _ok = session.query::<User>().join(User::posts).filter(Post::score.ge(1));
    let _no = session.query::<User>().filter(Post::score.ge(1));
    let _no_join_from_post = session.query::<User>().join(Post::author);
}

fn main() {}
