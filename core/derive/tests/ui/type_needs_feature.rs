// A type from another crate needs athanor's feature of that name; the message says which.
use athanor::Model;

#[derive(Model)]
#[model(table = "gadgets")]
pub struct Gadget {
    #[column(primary_key)]
    pub id: uuid::Uuid,
    pub doc: serde_json::Value,
}

fn main() {}
