//! Athanor core: the engine and its pool, the [`Dialect`] and [`Driver`] traits, table metadata,
//! the [`Session`] unit of work and the generative [`Query`], and the schema tools built on them:
//! [`reflect`] (reading a database's catalog), [`copy`] (copying tables between databases) and
//! `migrate` (cargo feature `migrate`: migration files, their generation and their application).
//!
//! This crate names no database. Backends implement [`Driver`] and [`RawConnection`]; dialects
//! implement [`Dialect`]; the `athanor` facade crate installs the compiled-in backends and offers
//! `create_engine(url)`. Users depend on `athanor`, not on this crate.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod catalog;
pub mod copy;
pub mod decimal;
mod dialect;
mod driver;
mod engine;
mod error;
mod expr;
mod field;
pub mod func;
#[cfg(feature = "json")]
pub mod json;
mod metadata;
#[cfg(feature = "migrate")]
pub mod migrate;
mod model;
mod orm;
pub mod reflect;
pub mod relation;

pub mod row;
mod schema;
mod session;
pub mod sql;
pub mod temporal;
mod url;
mod value;

pub use dialect::{
    add_foreign_key_statement, ansi_column_type, create_table_statements, create_table_statements_deferring,
    ddl_column, drop_table_statement, quoted, write_allowed_check, write_ansi_literal, write_column_definition,
    write_foreign_key, write_ident_list, Capabilities, Dialect, IsolationLevel, KeyRecovery, LexicalForms,
    RebuildRecipe, TxOptions,
};
pub use driver::Timeouts;
pub use driver::{Backend, ConnectDeadline, Driver, RawConnection, DEFAULT_CONNECT_TIMEOUT};
pub use engine::{Connection, Engine, EngineConfig, ResultColumns, ResultRow, StatementEvent};
pub use error::{DbError, Error, ErrorSource, IntegrityKind, Result, RetryError, TimeoutKind};
pub use expr::{
    and_, case, escape_like, exists, not_, not_exists, operand, or_, AliasName, Aliased, ArithOp, Case, CaseStart,
    CastTo, CastType, CmpOp, Column, ColumnRef, Condition, Correlated, Expr, ExprOrdering, InValues, IntoOrderKey,
    IntoScalar, IntoSubquery, Nullable, NullsOrder, Numeric, Operand, OrderKey, Ordering, Scalar, ScalarExpr, Source,
    SqlFunc, Subquery, TableSource, TextColumn, Textual,
};
pub use metadata::MetaData;
pub use model::{check_field, decode_cell, decode_value, generated_key, Model};
pub use orm::Base;
pub use relation::{Cascade, LoadStrategy, RelationKind, RelationshipDef};

pub use field::{ColumnValue, DbNewtype, SqlField};
pub use row::{Row, RowIndex};
/// The crate `rust_decimal::Decimal` fields come from (feature `decimal`).
#[cfg(feature = "decimal")]
pub use rust_decimal;
pub use schema::{ColumnDef, ConstraintDef, DefaultValue, ForeignKeyDef, TableDef};
/// The crate JSON fields come from (feature `json`).
#[cfg(feature = "json")]
pub use serde_json;
pub use session::{
    defaultload, joinedload, lazyload, position, raiseload, selectinload, sessionmaker, AnyHandle, AnyRelation,
    BelongsTo, ColumnIter, ColumnList, ColumnQuery, CompoundQuery, Derived, EntityPart, Handle, HasMany, InQuery,
    Insert, IntoPrimaryKey, Joined, Load, LoadCtx, Many, ManyToMany, ModelMarker, ModelType, NestedTransaction, Nth,
    ObjectState, OnConflict, One, Query, QueryEntities, QueryIter, RelKind, Relationship, Rows, SelectItem, Selection,
    SelectionIn, Session, SessionConfig, SessionMaker, Synchronize, UpdateSet, DEFAULT_YIELD_PER,
};
pub use sql::{select, text, Select, SelectStatement, Text};
pub use url::{percent_decode, ConnectOptions, ENGINE_OPTIONS};
pub use value::{FromValue, SqlType, ToValue, Value, ValueRef};
