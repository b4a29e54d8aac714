//! The scenarios, each `fn(&TestDb) -> Result<()>`, written once for every backend.

pub mod autocommit_reads;
pub mod bad_input;
pub mod detached;
pub mod events;
pub mod expressions;
pub mod lazy_loads;
pub mod mapping;
pub mod merge;
pub mod populate_existing;
pub mod query;
pub mod read_modify_write;
pub mod reflection;
pub mod relationships;
pub mod session;
pub mod session_conveniences;
pub mod set_operations;
pub mod telemetry;
pub mod transactions;
pub mod types;
