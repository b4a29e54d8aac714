// A `T` column compares with an `Option<T>` column across models (a reflected `Option<i64>` key
// and the `i64` foreign key pointing at it), but never with a column of another value type; and
// decimals have no portable division.
use athanor::prelude::*;

#[derive(Model)]
#[model(table = "tracks")]
pub struct Track {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
}

#[derive(Model)]
#[model(table = "lines")]
pub struct Line {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "tracks.id")]
    pub track_id: i64,
    #[column(precision = 10, scale = 2)]
    pub price: athanor::Decimal,
}

fn main() {
    // These compile: i64 against Option<i64>, either way round.
    let _ = select_columns(Line::id).correlate(Line::track_id, Track::id);
    let _ = select_columns(Line::id).join_on(Track::id, Line::track_id);
    let _ = Line::track_id.in_(select_columns(Track::id).subquery());
    let _ = Track::id.in_(select_columns(Line::track_id).subquery());
    // These do not: i64 against String.
    let _ = select_columns(Line::id).correlate(Line::track_id, Track::name);
    let _ = select_columns(Line::id).join_on(Track::name, Line::track_id);
    let _ = Line::track_id.in_(select_columns(Track::name).subquery());
    let _ = Line::price.div(Line::price);
}
