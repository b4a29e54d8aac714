//! Rendering one statement for the three dialects and asserting the SQL exactly: shared by the
//! facade's exact-SQL tests (`typed_select_sql.rs`, `expression_sql.rs`).

use athanor::backend::Dialect;
use athanor::dialects::{MySqlDialect, PostgresDialect, SqliteDialect};
use athanor::sql::Statement;
use athanor::Value;

/// The three dialects, in the order sqlite, postgres, mysql.
pub fn dialects() -> [(&'static str, &'static dyn Dialect); 3] {
    [("sqlite", &SqliteDialect), ("postgres", &PostgresDialect), ("mysql", &MySqlDialect)]
}

/// The SQL and parameters of a statement per dialect, in the order sqlite, postgres, mysql.
pub fn rendered(f: impl Fn(&dyn Dialect) -> athanor::Result<Statement>) -> Vec<(String, Vec<Value>)> {
    dialects()
        .iter()
        .map(|(name, d)| match f(*d) {
            Ok(st) => (st.sql, st.params),
            Err(e) => panic!("{name}: {e}"),
        })
        .collect()
}

/// Each dialect's SQL is `expected`'s, and its parameters `params`.
pub fn assert_sql(got: Vec<(String, Vec<Value>)>, expected: [&str; 3], params: &[Value]) {
    for ((name, _), ((sql, ps), want)) in dialects().iter().zip(got.into_iter().zip(expected)) {
        assert_eq!(sql, want, "{name}");
        assert_eq!(ps, params, "{name}");
    }
}
