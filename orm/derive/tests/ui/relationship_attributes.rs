// Relationship attributes that cannot be honoured are refused by the derive.
use athanor::prelude::*;

#[derive(Model, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
}

#[derive(Model, Default)]
#[model(table = "a")]
pub struct A {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub tags: ManyToMany<Tag>,
}

#[derive(Model, Default)]
#[model(table = "b")]
pub struct B {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "tags.id")]
    pub tag_id: Option<i64>,
    #[relationship(cascade = "all, merge")]
    pub tag: BelongsTo<Tag>,
}

#[derive(Model, Default)]
#[model(table = "c")]
pub struct C {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "tags.id")]
    pub tag_id: Option<i64>,
    #[relationship(cascade = "delete")]
    pub tag: BelongsTo<Tag>,
    #[relationship(lazy = "eager")]
    #[column(index)]
    pub other: BelongsTo<Tag>,
}

fn main() {}
