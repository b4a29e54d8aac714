//! The conformance suite: the same mapping, session, query, type and transaction scenarios, run
//! against every backend whose URL is configured.
//!
//! Each backend has its own test binary (`tests/sqlite.rs`, `tests/postgres.rs`,
//! `tests/mysql.rs`), so `cargo test` reports per-backend counts. Scenarios read what a database
//! can do from its dialect's [`athanor::Capabilities`]; backend names appear only in the harness.
//!
//! | variable | default |
//! |---|---|
//! | `ATHANOR_TEST_SQLITE_URL` | a temporary file per test |
//! | `ATHANOR_TEST_POSTGRES_URL` | `postgres://postgres@127.0.0.1:5432/test` (a schema per test) |
//! | `ATHANOR_TEST_MYSQL_URL` | `mysql://root@127.0.0.1:3306/test` (a database per test) |
//!
//! Outside CI an unreachable server is skipped with one line, `SKIPPED backend <name> at <url>: …`;
//! with `CI=true` it fails the test.
#![allow(missing_docs)]

pub mod harness;
pub mod models;
pub mod scenarios;

pub use athanor;

/// Generate one `#[test]` per scenario for a backend: `conformance_tests!(postgres);`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ident) => {
        $crate::conformance_tests!(@group $backend, mapping: [
            metadata_describes_tables, create_all_is_idempotent, create_all_orders_by_foreign_keys,
            create_all_rejects_unknown_foreign_key_table,
        ]);
        $crate::conformance_tests!(@group $backend, session: [
            commit_writes_generated_keys_back, flush_batches_inserts, identity_map_returns_same_instance,
            dirty_tracking_updates_changed_columns_only, autoflush_before_query,
            unique_violation_then_rollback_recovers, flush_orders_by_foreign_keys,
            rollback_undoes_delete_and_pending, rollback_undoes_unflushed_edit, expire_and_refresh_reload,
            expunge_and_close_detach, drop_rolls_back, nested_rollback_keeps_outer_work,
            nested_failure_keeps_outer_work, composite_primary_key, primary_key_change_is_refused,
            session_execute_joins_transaction, delete_of_foreign_object_is_an_error, insert_key_only_rows,
        ]);
        $crate::conformance_tests!(@group $backend, query: [
            filter_and_order_by, queries_are_generative, operators, filter_by_name, limit_offset_distinct,
            terminal_methods, query_sql_is_visible_and_bound, missing_table_is_a_database_error,
            for_update_follows_capability,
        ]);
        $crate::conformance_tests!(@group $backend, types: [
            roundtrip_boundary_values, roundtrip_nullable_values, filter_by_each_type,
            result_type_mismatch_is_typed,
        ]);
        $crate::conformance_tests!(@group $backend, transactions: [
            engine_transaction_commits_or_rolls_back, engine_transaction_rolls_back_on_panic,
            connection_explicit_transactions, dropped_connection_rolls_back,
            isolation_levels_follow_capabilities, pool_exhaustion_times_out, uncommitted_work_is_invisible,
        ]);
    };
    (@group $backend:ident, $module:ident: [$($name:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    $crate::harness::run(
                        stringify!($backend),
                        concat!(stringify!($module), "_", stringify!($name)),
                        $crate::scenarios::$module::$name,
                    );
                }
            )*
        }
    };
}
