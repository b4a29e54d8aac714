// A type from another crate needs athanor's feature of that name: one error per field, naming the
// feature, and none of the trait errors that would otherwise come first.
use athanor::Model;

#[derive(Model)]
#[model(table = "gadgets")]
pub struct Gadget {
    #[column(primary_key)]
    pub id: uuid::Uuid,
    pub doc: serde_json::Value,
}

fn main() {}

// Imported under a bare name, the type could be the application's own, so the derive cannot tell;
// the first error still names the feature.
mod imported {
    use athanor::Model;
    use uuid::Uuid;

    #[derive(Model)]
    #[model(table = "tokens")]
    pub struct Token {
        #[column(primary_key)]
        pub id: Uuid,
    }
}
