//! The conformance suite: the same mapping, session, query, type and transaction scenarios, run
//! against every backend whose URL is configured.
//!
//! Each backend has its own test binary (`tests/sqlite.rs`, `tests/postgres.rs`,
//! `tests/mysql.rs`), so `cargo test` reports per-backend counts. Scenarios read what a database
//! can do from the engine's [`athanor::Capabilities`]; backend names appear only in the harness.
//!
//! A scenario that needs a capability says so in its suite's list, `name requires(savepoints)`
//! (the names are [`harness::req`]'s). Where the engine lacks it the test passes after one line,
//! `SKIPPED scenario <name> on <backend>: requires <what>`, and each suite's
//! `requirements_summary` test prints `SUMMARY <suite> on <backend>: N scenarios, R ran, S
//! skipped by requires…`, so the run says how much of libtest's pass count was skipped.
//!
//! | variable | when unset |
//! |---|---|
//! | `ATHANOR_TEST_SQLITE_URL` | a temporary file per test (set: a file per test beside it) |
//! | `ATHANOR_TEST_POSTGRES_URL` | skipped with one line (set: a schema per test) |
//! | `ATHANOR_TEST_MYSQL_URL` | skipped with one line (set: a database per test) |
//! | `ATHANOR_TEST_KEEP` | unset: each test's schema, database or file is dropped at its end; `1` keeps them |
//!
//! Each scenario is a `pub fn name(db: &TestDb) -> Result<()>` in `src/scenarios/<group>.rs` or
//! `src/acid/<group>.rs`, named in its group's list in the macros below. Each suite's
//! `every_scenario_is_registered_once` test ([`registry`]) fails when a scenario in the sources
//! is missing from the lists or named twice, so none is silently never run.
//!
//! A backend whose variable is unset, or that is not compiled in, is skipped with one line,
//! `SKIPPED backend <name>: …`; so is a configured server that cannot be reached, except under
//! `CI=true`, where that fails the test (`athanor::testing`'s rule).
//!
//! Each test's schema, database or file is dropped when the test ends, passing or failing, and
//! what a killed test process left is dropped when the next one starts ([`scratch`]);
//! `ATHANOR_TEST_KEEP=1` keeps them for inspection.
#![allow(missing_docs)]

pub mod acid;
pub mod harness;
pub mod models;
pub mod registry;
pub mod scenarios;
pub mod scratch;

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
            expired_edit_keeps_other_sessions_change, expire_then_two_edits_write_both_columns_only,
            reentrant_edit_reads_and_conflicts_are_typed, mixed_flush_statement_sequence,
            update_of_a_deleted_row_is_stale_data, query_keeps_unflushed_edits_of_expired_objects,
        ]);
        $crate::conformance_tests!(@group $backend, detached: [
            dropped_session_detaches_its_objects, edit_after_drop_is_written_after_add_handle,
            edit_after_close_is_written_after_add_handle, expunged_edits_are_written_after_add_handle,
            attaching_a_key_the_session_holds_is_a_typed_error, detached_edits_are_never_discarded_silently,
            detached_relationships_are_typed_errors,
        ]);
        $crate::conformance_tests!(@group $backend, session_conveniences: [
            get_takes_the_option_key_of_a_model, transaction_helpers_take_application_errors,
            flush_brings_instants_to_stored_precision,
        ]);
        $crate::conformance_tests!(@group $backend, query: [
            filter_and_order_by, queries_are_generative, operators_compare_match_and_combine_the_same_everywhere,
            filter_by_name, limit_offset_distinct, first_one_and_count_report_no_or_several_rows,
            query_sql_is_visible_and_bound, missing_table_is_a_database_error, for_update_follows_capability,
            null_order_is_the_same_everywhere, like_escapes_and_matchers, bulk_update_and_delete, insert_and_upsert,
            portable_raw_sql, column_comparisons_and_arithmetic, string_functions_and_coalesce,
            for_update_nowait_and_skip_locked, distinct_on_follows_capability, yield_per_streams_in_batches,
            case_and_cast_give_the_same_results_everywhere,
        ]);
        $crate::conformance_tests!(@group $backend, read_modify_write: [
            bulk_update_sets_columns_from_expressions, set_expr_is_flushed_as_an_expression,
            version_column_detects_a_concurrent_change, update_to_the_value_the_row_holds_is_not_stale,
            oversell_expression_update_with_guard, oversell_for_update, oversell_serializable_retry,
            oversell_version_column_retry, batched_flush_sends_one_statement_per_column_set,
            stale_row_inside_a_batch_names_that_object,
        ]);
        $crate::conformance_tests!(@group $backend, expressions: [
            decimal_sums_and_averages_are_exact_everywhere, date_parts_are_the_same_integers_everywhere,
            raw_sql_names_mixed_case_identifiers_portably, option_keys_compare_with_plain_foreign_keys,
        ]);
        $crate::conformance_tests!(@group $backend, types: [
            roundtrip_boundary_values, roundtrip_nullable_values, filter_by_each_type,
            result_type_mismatch_is_typed, raw_decimal_date_and_avg_agree, result_row_get_by_name,
            unsigned_and_uuid_roundtrip, unsigned_and_uuid_compare_and_foreign_values,
            timestamps_roundtrip_order_and_foreign_values, civil_dates_and_times,
            chrono_types_share_the_storage, time_crate_types_share_the_storage,
            newtype_fields, db_enums_as_text_and_integers, now_compares_with_stored_instants,
            decimals_roundtrip_and_compare_as_numbers, decimal_overflow_is_refused_and_foreign_values_read,
            u64_within_i64, json_documents_roundtrip,
        ]);
        $crate::conformance_tests!(@group $backend, relationships: [
            blog_graph_is_built_in_one_flush, selectin_loads_one_statement_per_level, joined_loads_in_one_statement,
            lazy_and_raise, self_referential_tree, moved_unlinked_and_orphaned_objects_write_the_expected_statements,
            delete_without_cascade requires(foreign_keys), unrelatable_objects_are_typed_errors_that_change_nothing,
            selectin_100_users_10_posts_10_comments, cycle_between_tables_is_flushed_with_a_later_update,
            rollback_expires_relationships requires(savepoints), default_strategies_and_overrides,
            joins_along_relationships, aggregates_group_by_having, subqueries_in_and_exists,
            union_removes_duplicates_and_union_all_keeps_them, rows_of_several_models, aliases_and_explicit_on,
            subqueries_in_from, association_tables_are_declared_once, session_free_selects_run_through_execute,
            dynamic_queries_add_joins_from_optional_parameters,
        ]);
        $crate::conformance_tests!(@group $backend, reflection: [
            create_all_reflects_back_equal, foreign_keys_and_composite_keys_reflect,
            column_added_behind_the_model_is_reported_as_a_difference, hand_written_tables_reflect_map_and_copy,
        ]);
        $crate::conformance_tests!(@group $backend, transactions: [
            engine_transaction_commits_or_rolls_back, engine_transaction_rolls_back_on_panic,
            connection_explicit_transactions, dropped_connection_rolls_back,
            isolation_levels_follow_capabilities, pool_exhaustion_times_out, uncommitted_work_is_invisible,
        ]);
        $crate::conformance_tests!(@group $backend, bad_input: [
            like_pattern_with_nul_is_refused, like_escape_must_be_one_ascii_character,
            in_list_over_the_bind_limit_is_refused, raw_sql_reads_each_dialects_literals_and_comments,
        ]);
        $crate::conformance_tests!(@group $backend, autocommit_reads: [
            read_only_session_sends_no_begin_or_rollback, autocommit_reads_session_writes_in_a_real_transaction,
            failed_read_without_a_transaction_leaves_the_session_usable,
            each_read_sees_its_own_snapshot_and_loaded_objects_stay,
        ]);
        $crate::conformance_tests!(@group $backend, events: [
            session_events_and_model_hooks_in_order, model_hooks_fire_on_bulk_statements,
            hook_error_rolls_back_and_session_recovers, pool_connect_and_checkout_hooks,
        ]);
        $crate::conformance_tests!(@group $backend, telemetry: [
            statement_spans_follow_the_opentelemetry_conventions, hide_parameters_and_echo,
            slow_statements_warn_while_running_and_after, pool_gauges_count_use_idle_and_timeouts,
        ]);
        $crate::conformance_tests!(@group $backend, lazy_loads: [
            lazy_load_in_a_loop_warns_once_per_relationship,
            raise_fails_before_sending_and_the_session_stays_usable,
            statement_budgets_count_exactly_without_transaction_control,
        ]);
        $crate::conformance_tests!(@group $backend, set_operations: [
            intersect_and_except_of_column_selects,
            intersect_all_and_except_all_keep_duplicates_or_are_unsupported, select_from_a_subquery,
        ]);
        $crate::conformance_tests!(@group $backend, merge: [
            merge_loads_copies_and_writes_the_difference, merge_without_load_sends_nothing, merge_checks_the_version,
        ]);
        $crate::conformance_tests!(@group $backend, populate_existing: [
            populate_existing_refreshes_held_objects, populate_existing_with_a_joined_collection,
        ]);
        /// Every group of the suite, as the source module and its list: the summary counts
        /// them and the registration check compares them with the sources.
        const GROUPS: &[$crate::registry::Group<'static>] = &[
            mapping::GROUP,
            session::GROUP,
            detached::GROUP,
            session_conveniences::GROUP,
            query::GROUP,
            read_modify_write::GROUP,
            relationships::GROUP,
            types::GROUP,
            expressions::GROUP,
            reflection::GROUP,
            transactions::GROUP,
            bad_input::GROUP,
            telemetry::GROUP,
            events::GROUP,
            autocommit_reads::GROUP,
            lazy_loads::GROUP,
            set_operations::GROUP,
            merge::GROUP,
            populate_existing::GROUP,
        ];
        #[test]
        fn requirements_summary() {
            let lists: Vec<_> = GROUPS.iter().map(|(_, list)| *list).collect();
            $crate::harness::summary(stringify!($backend), "conformance", &lists);
        }
        /// A `pub fn` scenario in `src/scenarios/` that no list above names fails here.
        #[test]
        fn every_scenario_is_registered_once() {
            $crate::registry::check("scenarios", GROUPS);
        }
        mod harness_cleanup {
            #[test]
            fn test_database_is_dropped_after_the_test_and_after_a_panic() {
                $crate::harness::check_dropped(stringify!($backend));
            }
            #[test]
            fn leftovers_of_finished_processes_are_swept_and_live_ones_kept() {
                $crate::harness::check_sweep(stringify!($backend));
            }
        }
    };
    (@group $backend:ident, $module:ident: [$($name:ident $(requires($($req:ident),+))?),* $(,)?]) => {
        mod $module {
            /// Each scenario of the group with what it requires.
            pub(super) const SCENARIOS: &[(&str, &[$crate::harness::Requirement])] =
                &[$((stringify!($name), &[$($($crate::harness::req::$req),+)?])),*];
            /// The group as the registration check reads it: source module and list.
            pub(super) const GROUP: $crate::registry::Group<'static> = (stringify!($module), SCENARIOS);
            $(
                #[test]
                fn $name() {
                    $crate::harness::run(
                        stringify!($backend),
                        concat!(stringify!($module), "_", stringify!($name)),
                        &[$($($crate::harness::req::$req),+)?],
                        $crate::scenarios::$module::$name,
                    );
                }
            )*
        }
    };
}

/// Generate the ACID suite's tests for a backend: `acid_tests!(postgres);`. Groups
/// `acid_transactions`, `acid_atomicity`, `acid_consistency`, `acid_durability`, `acid_faults`,
/// `acid_hostile`, and `acid_hermitage` with one test per cell of the isolation matrix, named
/// `<target>_<level>_<anomaly>` (`postgres_repeatable_read_p4`).
/// The Hermitage matrix of a suite: none for `pgbouncer` and `galera`, whose matrix cases would
/// open their own connections to the single server by target, not through the pooler or the
/// cluster (docs/scaling.md).
#[doc(hidden)]
#[macro_export]
macro_rules! __acid_hermitage_for {
    (pgbouncer) => {};
    (galera) => {};
    ($backend:ident) => {
        $crate::__acid_hermitage_tests!($backend);
    };
}

#[macro_export]
macro_rules! acid_tests {
    ($backend:ident) => {
        $crate::acid_tests!(@group $backend, acid_transactions, transactions: [
            savepoints_nest_several_deep,
            failure_inside_deep_savepoint_keeps_outer_work requires(savepoints),
            isolation_level_per_engine_maker_and_transaction, read_only_transactions_refuse_writes,
            retry_on_serialization_failure_retries_only_those, open_read_session_does_not_block_a_writer,
            writers_with_write_intent_need_no_retry,
        ]);
        $crate::acid_tests!(@group $backend, acid_atomicity, atomicity: [
            flush_fails_at_kth_statement, engine_transaction_error_or_panic_leaves_nothing,
            session_error_or_panic_leaves_nothing,
        ]);
        $crate::acid_tests!(@group $backend, acid_consistency, consistency: [
            constraints_are_enforced_and_named, foreign_key_violation_names_constraint requires(foreign_keys),
            bank_transfers_keep_the_total,
        ]);
        $crate::acid_tests!(@group $backend, acid_faults, faults: [
            server_kills_connection_mid_session, idle_pooled_connection_dies, pool_exhaustion_is_a_timeout,
            database_lock_held_elsewhere requires(database_lock),
        ]);
        $crate::acid_tests!(@group $backend, acid_timeouts, timeouts: [
            lock_wait_is_bounded_by_lock_timeout, long_statement_is_stopped_by_statement_timeout,
        ]);
        $crate::acid_tests!(@group $backend, acid_hostile, hostile: [
            strings_and_numbers_roundtrip, identifiers_are_quoted_or_refused, bad_urls_and_credentials_are_typed_errors,
        ]);
        mod acid_durability {
            pub(super) const SCENARIOS: &[(&str, &[$crate::harness::Requirement])] =
                &[("child_killed_at_random_moments", &[])];
            pub(super) const GROUP: $crate::registry::Group<'static> = ("durability", SCENARIOS);
            #[test]
            fn child_killed_at_random_moments() {
                $crate::acid::run(stringify!($backend), "durability", "child_killed_at_random_moments", &[], |db| {
                    $crate::acid::durability::child_killed_at_random_moments(db, env!("CARGO_BIN_EXE_acid_child"))
                });
            }
        }
        mod acid_hermitage {
            $crate::__acid_hermitage_for!($backend);
        }
        mod acid_summary {
            /// Every group of the suite, as the source module under `src/acid/` and its list.
            const GROUPS: &[$crate::registry::Group<'static>] = &[
                super::acid_transactions::GROUP,
                super::acid_atomicity::GROUP,
                super::acid_consistency::GROUP,
                super::acid_faults::GROUP,
                super::acid_timeouts::GROUP,
                super::acid_hostile::GROUP,
                super::acid_durability::GROUP,
            ];
            // The Hermitage cells are not gated: a level the database lacks is a cell that
            // expects `Unsupported`.
            #[test]
            fn requirements_summary() {
                let lists: Vec<_> = GROUPS.iter().map(|(_, list)| *list).collect();
                $crate::harness::summary(stringify!($backend), "acid", &lists);
            }
            /// A `pub fn` scenario in `src/acid/` that no list above names fails here.
            #[test]
            fn every_scenario_is_registered_once() {
                $crate::registry::check("acid", GROUPS);
            }
        }
    };
    (@group $backend:ident, $mod:ident, $module:ident: [$($name:ident $(requires($($req:ident),+))?),* $(,)?]) => {
        mod $mod {
            /// Each scenario of the group with what it requires.
            pub(super) const SCENARIOS: &[(&str, &[$crate::harness::Requirement])] =
                &[$((stringify!($name), &[$($($crate::harness::req::$req),+)?])),*];
            /// The group as the registration check reads it: source module and list.
            pub(super) const GROUP: $crate::registry::Group<'static> = (stringify!($module), SCENARIOS);
            $(
                #[test]
                fn $name() {
                    $crate::acid::run(
                        stringify!($backend),
                        stringify!($module),
                        stringify!($name),
                        &[$($($crate::harness::req::$req),+)?],
                        $crate::acid::$module::$name,
                    );
                }
            )*
        }
    };
}
