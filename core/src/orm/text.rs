//! Raw SQL ([`Text`]) used inside the typed layer: as a condition or a scalar of a query on a
//! model. The methods appear on `Text`; they live here because they return typed expressions.

use crate::expr::{Condition, ScalarExpr};
use crate::sql::ast::{Expr, Scalar};
use crate::sql::Text;

impl Text {
    /// This text as a condition on `M`, inside a query's filters (SQLAlchemy's
    /// `filter(text("…"))`), parenthesized and ANDed with the others:
    /// `query::<User>().filter(text("length(name) > :n").bind("n", 3).condition::<User>())`.
    /// Athanor cannot check raw SQL: it must be valid on each database it runs on.
    pub fn condition<M>(self) -> Condition<M> {
        Condition::from_expr(Expr::Text(Box::new(self)))
    }

    /// This text as a value of type `T` in an expression or a select list of a query on `M`:
    /// `select((User::name, text("1 + 1").scalar::<User, i64>()))`.
    pub fn scalar<M, T>(self) -> ScalarExpr<M, T> {
        ScalarExpr::from_scalar(Scalar::Text(Box::new(self)))
    }
}
