//! Athanor core: the floors below the ORM. Values and errors; the schema, field and catalog
//! types; the untyped SQL AST, the [`Dialect`] trait and the SQL renderers; the [`Driver`] and
//! [`RawConnection`] traits, the [`Engine`] and its pool, [`MetaData`] and [`reflect`] (reading a
//! database's catalog).
//!
//! This crate names no database and no ORM type. Backends implement [`Driver`] and
//! [`RawConnection`]; dialects implement [`Dialect`]; the ORM (`athanor-orm`: models, the
//! session, typed expressions) and the tools (`athanor-tools`: copy, migrate) are built on it, and
//! the `athanor` facade crate installs the compiled-in backends and offers `create_engine(url)`.
//! Users depend on `athanor`, not on this crate. ARCHITECTURE.md has the floor map.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod catalog;
pub mod decimal;
pub mod dialect;
pub mod driver;
pub mod engine;
pub mod error;
pub mod field;
#[cfg(feature = "json")]
pub mod json;
pub mod metadata;
pub mod reflect;
pub mod row;
pub mod schema;
pub mod sql;
pub mod temporal;
pub mod url;
pub mod value;

pub use dialect::{
    add_foreign_key_statement, ansi_column_type, create_table_statements, create_table_statements_deferring,
    ddl_column, drop_table_statement, quoted, write_allowed_check, write_ansi_literal, write_column_definition,
    write_foreign_key, write_ident_list, AdvisoryLock, BatchUpdate, Capabilities, Dialect, IsolationLevel, KeyRecovery,
    LexicalForms, RebuildRecipe, TxOptions,
};
pub use driver::Timeouts;
pub use driver::{
    in_blocking_section, Backend, BlockingSection, ConnectDeadline, Driver, RawConnection, DEFAULT_CONNECT_TIMEOUT,
};
/// Statement telemetry: the span target, the pool's gauges, and how spans name a statement.
pub use engine::{error_type, summarize, system_name, PoolMetrics, StatementMark, SQL_TARGET};
pub use engine::{
    Connection, ConsistencyToken, Engine, EngineConfig, ReplicaMetrics, ResultColumns, ResultRow, StatementEvent,
};
pub use error::{DbError, Error, ErrorSource, IntegrityKind, Result, RetryError, TimeoutKind};
pub use metadata::MetaData;
pub use sql::ast::{
    escape_like, ArithOp, CastType, CmpOp, ColumnRef, DatePart, DecimalFunc, Expr, NullsOrder, NumberKind, Operand,
    OrderKey, Scalar, SqlFunc,
};

pub use field::{ColumnValue, DbNewtype, SqlField};
pub use row::{Row, RowIndex};
/// The crate `rust_decimal::Decimal` fields come from (feature `decimal`).
#[cfg(feature = "decimal")]
pub use rust_decimal;
pub use schema::{ColumnDef, ConstraintDef, DefaultValue, ForeignKeyDef, TableDef};
/// The crate JSON fields come from (feature `json`).
#[cfg(feature = "json")]
pub use serde_json;
pub use sql::{text, SelectStatement, Text};
pub use url::{percent_decode, ConnectOptions, ENGINE_OPTIONS};
pub use value::{FromValue, SqlType, ToValue, Value, ValueRef};
