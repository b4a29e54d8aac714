// A decimal column declares its precision and scale, within what rust_decimal holds; only a
// decimal column takes them.
use athanor::{Decimal, Model};

#[derive(Model)]
#[model(table = "prices")]
pub struct NoPrecision {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub amount: Decimal,
}

#[derive(Model)]
#[model(table = "counts")]
pub struct NotADecimal {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(precision = 10, scale = 2)]
    pub n: i64,
}

#[derive(Model)]
#[model(table = "bad")]
pub struct BadNumbers {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(precision = 29)]
    pub a: Decimal,
    #[column(precision = 4, scale = 5)]
    pub b: Decimal,
    #[column(scale = 2)]
    pub c: Decimal,
}

fn main() {}
