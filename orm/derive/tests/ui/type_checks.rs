use athanor::Model;

type MaybeId = Option<i64>;

// Checks made once the field types are known: a default or a length that does not suit the
// column's type, and a key whose type (here through an alias) is an Option.
#[derive(Model)]
#[model(table = "products")]
pub struct Product {
    #[column(primary_key)]
    pub id: MaybeId,
    #[column(default = "none")]
    pub stock: i32,
    #[column(length = 20)]
    pub price_cents: i64,
    #[column(default = 40000)]
    pub shelf: i16,
}

fn main() {}
