//! Re-exported from the facade: what tests make on a database server, and its removal
//! (`athanor::testing::scratch`, shared with `#[athanor::test]` and `fresh_database`).
pub use athanor::testing::scratch::*;
