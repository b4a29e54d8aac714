//! SQL dialects for Athanor: one unit struct per database, each overriding only the
//! [`athanor_core::Dialect`] hooks where that database differs from ANSI SQL, and one
//! [`athanor_core::Capabilities`] literal that reads like a spec sheet.
//!
//! Pure code: everything here is testable without a server, and the tests assert the exact SQL.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod mysql;
mod postgres;
mod sqlite;
pub mod type_names;

pub use mysql::{MySqlDialect, MYSQL_CAPABILITIES};
pub use postgres::{PostgresDialect, POSTGRES_CAPABILITIES};
pub use sqlite::{
    SqliteDialect, DECIMAL_ADD, DECIMAL_AVG, DECIMAL_COLLATION, DECIMAL_MUL, DECIMAL_SUB, DECIMAL_SUM,
    SQLITE_CAPABILITIES,
};
