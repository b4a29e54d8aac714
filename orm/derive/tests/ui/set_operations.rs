// The parts of an INTERSECT / EXCEPT have the same row type, and a select over a subquery in
// FROM selects that subquery's columns only.
use athanor::prelude::*;
use athanor::{select_columns, select_from};

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
    pub name: String,
}

athanor::alias!(Names = "names");

fn statements() {
    let _ok = select_columns(User::name).intersect(select_columns(Tag::name));
    let _rows = select_columns(User::name).except_(select_columns(Tag::id));
    let names = select_columns(User::name).union(select_columns(Tag::name)).subquery_as(Names);
    let _ok = select_from(&names, names.c0());
    let _other = select_from(&names, Tag::name);
}

fn main() {}
