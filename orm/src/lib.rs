//! Athanor's ORM floor: the [`Model`] trait that `#[derive(Model)]` implements, relationships
//! ([`relation`]), typed column expressions (`expr`), the typed [`Select<M>`], the declarative
//! [`Base`], and the [`Session`] unit of work with its generative [`Query`].
//!
//! It is built on `athanor-core` (values, schema, the SQL AST, dialects, the engine) and names no
//! database. The one import circle allowed inside this crate is the ORM's own: `Model` names the
//! session's `AnyRelation`, the session builds typed selects over typed expressions (as
//! SQLAlchemy keeps `orm/state.py` ↔ `orm/session.py`); `tests/floors.rs` (the workspace's) keeps it so.
//! Users depend on `athanor`, not on this crate.
//!
//! Module map: `model.rs` (the `Model` trait and the helpers derived code calls), `relation.rs`
//! (relationship descriptions as plain `'static` data), `expr/` (typed columns, conditions and
//! scalar expressions over the AST of `athanor_core::sql::ast`), `func.rs` (SQL functions),
//! `select.rs` (`Select<M>`, a typed select without a session, and the one join API, `Joinable`),
//! `column_select.rs` (`select_columns`, subqueries and UNION without a session), `text.rs` (raw SQL as a typed
//! condition or scalar), `base.rs` (`Base`, the registry of models), `session/` (the unit of work;
//! its `mod.rs` maps its files).
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod base;
mod column_select;
mod expr;
pub mod func;
mod model;
pub mod relation;
mod select;
mod session;
mod text;

pub use base::Base;
pub use column_select::{
    select_columns, select_from, ColumnSelect, CompoundPart, CompoundSelect, FromSubquery, GroupKeys, Nth, RowItems,
    SelectItem, Values,
};
pub use expr::{
    and_, case, exists, not_, not_exists, operand, or_, AliasName, Aliased, Assignable, Case, CaseStart, CastTo,
    Column, Comparable, Condition, Correlated, Divisible, ExprOrdering, InValues, IntoOrderKey, IntoScalar,
    IntoSubquery, Nullable, Numeric, Ordering, ScalarExpr, Source, Subquery, TableSource, TextColumn, Textual,
};
pub use model::{check_field, decode_cell, decode_value, generated_key, set_field, Cells, Model};
pub use relation::{Cascade, LoadStrategy, ModelRef, RelationKind, RelationshipDef};
pub use select::{select, Joinable, KeyIn, OrderKeys, Select};
pub use session::{
    defaultload, joinedload, lazyload, position, raiseload, selectinload, sessionmaker, AnyHandle, AnyRelation,
    BelongsTo, Change, ColumnIter, ColumnList, ColumnQuery, CompoundQuery, Derived, Dynamic, EntityPart, Events,
    Executable, Handle, HasMany, InQuery, Insert, IntoPrimaryKey, Joined, LazyLoads, Load, LoadCtx, Loaders, Many,
    ManyToMany, MergeOptions, ModelMarker, ModelType, NestedTransaction, ObjectState, OnConflict, One, Query,
    QueryEntities, QueryIter, RelKind, Relationship, Rows, ScalarExecutable, Selection, SelectionIn, Session,
    SessionConfig, SessionMaker, Synchronize, TypedRows, UpdateSet, DEFAULT_YIELD_PER,
};
pub use text::TypedText;

/// serde for the object graph (cargo feature `serde`; docs/serde.md): [`Detached`], and
/// [`is_unloaded`](serialization::is_unloaded) for `#[serde(skip_serializing_if = "…")]`.
#[cfg(feature = "serde")]
pub mod serialization {
    pub use crate::session::{is_unloaded, Detached, SerializedRelation};
}
/// The serde crate, for the code `#[derive(DbEnum)]` writes with `#[db_enum(serde)]`.
#[cfg(feature = "serde")]
#[doc(hidden)]
pub use serde as __serde;
#[cfg(feature = "serde")]
pub use session::Detached;
