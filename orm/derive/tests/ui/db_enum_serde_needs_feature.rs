// `#[db_enum(serde)]` derives serde's traits for the stored values: without athanor's `serde`
// feature it is one error naming the feature; an unknown option lists the two known ones.
use athanor::DbEnum;

#[derive(DbEnum)]
#[db_enum(serde)]
pub enum Status {
    Draft,
    Live,
}

#[derive(DbEnum)]
#[db_enum(json)]
pub enum Other {
    A,
}

fn main() {}
