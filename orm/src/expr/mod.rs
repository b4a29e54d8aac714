//! Typed column handles and the filter expressions built from them.
//!
//! `#[derive(Model)]` writes one [`Column`] constant per field (`Customer::age`), typed by the
//! model and the field's Rust type, so `Customer::age.ge("x")` and a filter on another model's
//! column do not compile. Values always become bound parameters.
//!
//! Files: `condition.rs` conditions and `and_` / `or_` / `not_`; `column.rs` the column handles,
//! their comparisons and LIKE matchers; `scalar.rs` typed scalar expressions (arithmetic, casts,
//! `case`, string functions); `order.rs` sort keys; `subquery.rs` IN / EXISTS / correlated
//! subqueries; `source.rs` where columns come from (tables, aliases, subqueries in FROM).

pub use athanor_core::sql::ast::{CmpOp, ColumnRef, Expr, Operand, OrderKey, Scalar, SqlFunc};

mod column;
mod condition;
mod order;
mod scalar;
mod source;
mod subquery;

pub use column::{Column, TextColumn};
pub use condition::{and_, not_, or_, Condition};
pub use order::{ExprOrdering, IntoOrderKey, Ordering};
pub use scalar::{
    case, operand, Assignable, Case, CaseStart, CastTo, Comparable, Divisible, IntoScalar, Nullable, Numeric,
    ScalarExpr, Textual,
};
pub use source::{AliasName, Aliased, Source, SubquerySource, TableSource};
pub use subquery::{exists, not_exists, Correlated, InValues, IntoSubquery, Subquery};
