//! PLACEHOLDER: replaced by the postgres dialect implementation.
use athanor_core::{Capabilities, DbError, Dialect, Error, IsolationLevel, KeyRecovery};

/// The postgres dialect.
#[derive(Debug, Default, Clone, Copy)]
pub struct PostgresDialect;

/// What postgres can do.
pub static POSTGRES_CAPABILITIES: Capabilities = Capabilities {
    key_recovery: KeyRecovery::Returning,
    multi_row_insert: true,
    max_bind_params: 999,
    savepoints: true,
    transactional_ddl: false,
    isolation_levels: &[IsolationLevel::Serializable],
    default_isolation: IsolationLevel::Serializable,
    read_only_transactions: false,
    check_constraints: true,
    foreign_keys: true,
    stores_nan: false,
    stores_infinity: false,
    text_allows_nul: false,
    indexed_text_length: None,
    select_for_update: false,
    row_level_locking: false,
};

impl Dialect for PostgresDialect {
    fn name(&self) -> &'static str {
        "postgresql"
    }
    fn capabilities(&self) -> &Capabilities {
        &POSTGRES_CAPABILITIES
    }
    fn table_exists_query(&self) -> &'static str {
        ""
    }
    fn map_error(&self, err: DbError) -> Error {
        Error::Database { code: err.code, message: err.message }
    }
}
