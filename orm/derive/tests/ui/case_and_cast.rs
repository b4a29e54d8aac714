// Casts are offered only where every database gives the same result, and CASE results share
// one type.
use athanor::Model;

#[derive(Model)]
#[model(table = "customers")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub age: i32,
    pub name: String,
    pub score: f64,
}

fn main() {
    let _ = Customer::name.cast::<i64>();
    let _ = Customer::score.cast::<i64>();
}

fn case_results_share_a_type() {
    let _: athanor::ScalarExpr<Customer, String> =
        athanor::case().when(Customer::age.gt(1), Customer::name).else_(3);
}
