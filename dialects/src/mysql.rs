//! PLACEHOLDER: replaced by the mysql dialect implementation.
use athanor_core::{Capabilities, DbError, Dialect, Error, IsolationLevel, KeyRecovery};

/// The mysql dialect.
#[derive(Debug, Default, Clone, Copy)]
pub struct MySqlDialect;

/// What mysql can do.
pub static MYSQL_CAPABILITIES: Capabilities = Capabilities {
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

impl Dialect for MySqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }
    fn capabilities(&self) -> &Capabilities {
        &MYSQL_CAPABILITIES
    }
    fn table_exists_query(&self) -> &'static str {
        ""
    }
    fn map_error(&self, err: DbError) -> Error {
        Error::Database { code: err.code, message: err.message }
    }
}
