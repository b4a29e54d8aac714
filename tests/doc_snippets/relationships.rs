// Context of docs/relationships.md's snippets: the blog models.
// params: session: &Session, bob: Handle<User>
use athanor::prelude::*;

#[derive(Model, Debug, Clone, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(back_populates = "author", cascade = "all, delete-orphan", order_by = "id")]
    pub posts: HasMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "users.id", index)]
    pub user_id: Option<i64>,
    pub title: String,
    #[relationship(back_populates = "posts")]
    pub author: BelongsTo<User>,
    #[relationship(secondary = "post_tags", back_populates = "posts")]
    pub tags: ManyToMany<Tag>,
    #[relationship(back_populates = "post")]
    pub comments: HasMany<Comment>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(secondary = "post_tags", back_populates = "tags")]
    pub posts: ManyToMany<Post>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "comments")]
pub struct Comment {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "posts.id")]
    pub post_id: Option<i64>,
    pub body: String,
    #[relationship(back_populates = "comments")]
    pub post: BelongsTo<Post>,
}
