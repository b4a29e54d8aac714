// `Session::merge` takes a model's value (a handle goes through `merge_handle`) and returns a
// handle of that model.
use athanor::prelude::*;
use athanor::MergeOptions;

#[derive(Model, Default)]
#[model(table = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Model, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
}

fn merges(session: &Session, h: &Handle<User>) -> athanor::Result<()> {
    let _ok: Handle<User> = session.merge(User::default())?;
    let _ok: Handle<User> = session.merge_handle(h, MergeOptions::default())?;
    let _handle = session.merge(h.clone())?;
    let _other: Handle<Tag> = session.merge(User::default())?;
    Ok(())
}

fn main() {}
