// A selected column must be on the statement's model or a joined one.
use athanor::prelude::*;

#[derive(Model, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
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

fn queries(session: &Session) -> athanor::Result<()> {
    let _ok: Vec<(String, i64)> = session.select((User::name, athanor::func::count(Post::id))).join(User::posts).all()?;
    let _no: Vec<(String, i64)> = session.select((User::name, athanor::func::count(Post::id))).all()?;
    Ok(())
}

fn main() {}
