// A DbEnum is an enum of unit variants with distinct stored values.
use athanor::DbEnum;

#[derive(DbEnum)]
pub enum WithData {
    A(i32),
}

#[derive(DbEnum)]
pub enum Twice {
    A,
    #[db_enum(rename = "A")]
    B,
}

#[derive(DbEnum)]
#[db_enum(int)]
pub enum SameNumber {
    A = 1,
    B = 1,
}

#[derive(DbEnum)]
pub struct NotAnEnum;

fn main() {}
