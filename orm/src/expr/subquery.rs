//! Subqueries in conditions: [`Subquery`] (IN), [`Correlated`] and `exists` / `not_exists`.

use super::condition::Condition;
use super::scalar::{operand, Nullable, ScalarExpr};
use athanor_core::field::ColumnValue;
use athanor_core::sql::ast::{ColumnRef, Expr, Scalar};
use std::marker::PhantomData;

/// A one-column subquery whose values have type `T` (`ColumnQuery::subquery`).
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery<T> {
    pub(crate) statement: athanor_core::sql::ast::SubqueryStatement,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Subquery<T> {
    /// This one-column subquery as a value, `(SELECT …)`, in a filter or a select list of a
    /// query on `M` (SQLAlchemy's `scalar_subquery()`); NULL when it returns no row, so the
    /// result is nullable. The subquery is uncorrelated (it names only its own models), and a
    /// subquery that returns more than one row is the database's error.
    ///
    /// ```text
    /// let top = session.select(func::max(Post::score)).subquery().scalar::<Post>();
    /// session.query::<Post>().filter(Post::score.eq(top)).all()?;
    /// ```
    pub fn scalar<M>(self) -> ScalarExpr<M, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Subquery(Box::new(self.statement)), _m: PhantomData }
    }
}

/// What `in_` / `not_in` take: values of the column's type, or a [`Subquery`] of it. `K` is
/// inferred.
pub trait InValues<T, K> {
    /// The condition.
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr;
}
impl<T, V: ColumnValue<T>, I: IntoIterator<Item = V>> InValues<T, operand::Val> for I {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InList { column, values: self.into_iter().map(ColumnValue::into_value).collect(), negated }
    }
}
impl<T> InValues<T, operand::Ex> for Subquery<T> {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InSubquery { column, subquery: Box::new(self.statement), negated }
    }
}
/// A nullable column's values in a subquery compared with a non-null column.
impl<T> InValues<T, operand::Col> for Subquery<Option<T>> {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InSubquery { column, subquery: Box::new(self.statement), negated }
    }
}
/// A non-null column's values in a subquery compared with a nullable column (a reflected
/// model's `Option<i64>` key `IN` the `i64` foreign keys of another table).
impl<T> InValues<Option<T>, operand::ToNullable> for Subquery<T> {
    fn in_expr(self, column: ColumnRef, negated: bool) -> Expr {
        Expr::InSubquery { column, subquery: Box::new(self.statement), negated }
    }
}

/// A subquery correlated with model (or alias) `Q` of the enclosing query
/// (`ColumnQuery::correlate`): its WHERE compares one of its columns with one of `Q`'s, so it
/// is valid only where `Q` is in scope. `exists(…)` of it is a `Condition<Q>` and `scalar()` a
/// value of `Q`'s query, so the compiler checks that the enclosing query has `Q`.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlated<T, Q> {
    pub(crate) statement: athanor_core::sql::ast::SubqueryStatement,
    pub(crate) _t: PhantomData<fn() -> (T, Q)>,
}

impl<T, Q> Correlated<T, Q> {
    /// This one-column correlated subquery as a value per row of the enclosing query
    /// (`(SELECT COUNT(*) FROM posts WHERE posts.user_id = users.id)`); NULL for no row.
    pub fn scalar(self) -> ScalarExpr<Q, T::Opt>
    where
        T: Nullable,
    {
        ScalarExpr { expr: Scalar::Subquery(Box::new(self.statement)), _m: PhantomData }
    }
}

/// What `exists` / `not_exists` take: an uncorrelated [`Subquery`] (valid in any query: name
/// the model, `exists::<User, _>(sub)`), or a [`Correlated`] one (valid where its outer model is).
pub trait IntoSubquery<M> {
    /// The statement.
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement;
}
impl<M, T> IntoSubquery<M> for Subquery<T> {
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement {
        self.statement
    }
}
impl<T, Q> IntoSubquery<Q> for Correlated<T, Q> {
    fn into_statement(self) -> athanor_core::sql::ast::SubqueryStatement {
        self.statement
    }
}

/// `EXISTS (subquery)`: some row matches (SQLAlchemy's `exists()`). For an uncorrelated
/// subquery the condition's model cannot be inferred: name it,
/// `query::<User>().filter(exists::<User, _>(sub))`. A correlated one
/// (`session.select(Post::id).correlate(Post::user_id, User::id)`) is a condition on its outer
/// model: `query::<User>().filter(exists(posts_of_user))`.
pub fn exists<M, S: IntoSubquery<M>>(subquery: S) -> Condition<M> {
    Condition::new(Expr::Exists { subquery: Box::new(subquery.into_statement()), negated: false })
}

/// `NOT EXISTS (subquery)`.
pub fn not_exists<M, S: IntoSubquery<M>>(subquery: S) -> Condition<M> {
    Condition::new(Expr::Exists { subquery: Box::new(subquery.into_statement()), negated: true })
}
