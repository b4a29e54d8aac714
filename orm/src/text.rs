//! Raw SQL ([`Text`]) used inside the typed layer: as a condition or a scalar of a query on a
//! model. `Text` is plain statement data of `athanor-core`, which knows no model; the typed
//! methods are the [`TypedText`] trait of this floor (in `athanor::prelude`).

use crate::expr::{Condition, ScalarExpr};
use athanor_core::sql::ast::{Expr, Scalar};
use athanor_core::sql::Text;

/// The typed forms of raw SQL: `text("…").condition::<User>()` and
/// `text("…").scalar::<User, i64>()`. In `athanor::prelude`.
pub trait TypedText {
    /// This text as a condition on `M`, inside a query's filters (SQLAlchemy's
    /// `filter(text("…"))`), parenthesized and ANDed with the others:
    /// `query::<User>().filter(text("length(name) > :n").bind("n", 3).condition::<User>())`.
    /// Athanor cannot check raw SQL: it must be valid on each database it runs on.
    fn condition<M>(self) -> Condition<M>;

    /// This text as a value of type `T` in an expression or a select list of a query on `M`:
    /// `select((User::name, text("1 + 1").scalar::<User, i64>()))`.
    fn scalar<M, T>(self) -> ScalarExpr<M, T>;
}

impl TypedText for Text {
    fn condition<M>(self) -> Condition<M> {
        Condition::from_expr(Expr::Text(Box::new(self)))
    }

    fn scalar<M, T>(self) -> ScalarExpr<M, T> {
        ScalarExpr::from_scalar(Scalar::Text(Box::new(self)))
    }
}
