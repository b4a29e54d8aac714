//! [`Condition`]: a typed filter on a model, and `and_` / `or_` / `not_`.

use athanor_core::sql::ast::Expr;
use std::marker::PhantomData;

/// A filter condition on model `M`: a typed wrapper around [`Expr`].
///
/// Combine with `&`, `|`, `!` or [`Condition::and`], [`Condition::or`], [`Condition::not`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition<M> {
    expr: Expr,
    _model: PhantomData<fn() -> M>,
}

impl<M> Condition<M> {
    pub(crate) fn new(expr: Expr) -> Self {
        Condition { expr, _model: PhantomData }
    }

    /// A condition around an untyped expression (for raw SQL, [`crate::TypedText::condition`]).
    pub(crate) fn from_expr(expr: Expr) -> Self {
        Condition::new(expr)
    }

    /// The untyped expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Into the untyped expression.
    pub fn into_expr(self) -> Expr {
        self.expr
    }

    /// `self AND other`.
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        match self.expr {
            Expr::And(mut v) => {
                v.push(other.expr);
                Condition::new(Expr::And(v))
            }
            e => Condition::new(Expr::And(vec![e, other.expr])),
        }
    }

    /// `self OR other`.
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        match self.expr {
            Expr::Or(mut v) => {
                v.push(other.expr);
                Condition::new(Expr::Or(v))
            }
            e => Condition::new(Expr::Or(vec![e, other.expr])),
        }
    }

    /// Use `c` as the escape character of this LIKE condition (SQLAlchemy's
    /// `like(pattern, escape="!")`): `Customer::email.like("100!%%").escape('!')` matches text
    /// starting with `100%`. The default is the backslash. A condition that is not a LIKE (or
    /// its negation) is returned unchanged: it has no escape character.
    ///
    /// `c` must be one ASCII character other than NUL, on every database (MySQL would compare a
    /// multi-byte one byte-wise and match nothing): a statement with another escape character
    /// fails with [`Error::Unsupported`](athanor_core::Error::Unsupported) before anything is sent.
    pub fn escape(self, c: char) -> Condition<M> {
        fn set(e: Expr, c: char) -> Expr {
            match e {
                Expr::Like { column, pattern, negated, case_insensitive, .. } => {
                    Expr::Like { column, pattern, negated, escape: c, case_insensitive }
                }
                Expr::Not(inner) => Expr::Not(Box::new(set(*inner, c))),
                other => other,
            }
        }
        Condition::new(set(self.expr, c))
    }

    /// `NOT self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Condition<M> {
        Condition::new(Expr::Not(Box::new(self.expr)))
    }
}

impl<M> std::ops::BitAnd for Condition<M> {
    type Output = Condition<M>;
    fn bitand(self, rhs: Self) -> Self {
        self.and(rhs)
    }
}
impl<M> std::ops::BitOr for Condition<M> {
    type Output = Condition<M>;
    fn bitor(self, rhs: Self) -> Self {
        self.or(rhs)
    }
}
impl<M> std::ops::Not for Condition<M> {
    type Output = Condition<M>;
    fn not(self) -> Self {
        Condition::not(self)
    }
}

/// All of the conditions (`and_(…)` in SQLAlchemy).
pub fn and_<M>(conditions: impl IntoIterator<Item = Condition<M>>) -> Condition<M> {
    Condition::new(Expr::And(conditions.into_iter().map(|c| c.expr).collect()))
}

/// Any of the conditions (`or_(…)` in SQLAlchemy).
pub fn or_<M>(conditions: impl IntoIterator<Item = Condition<M>>) -> Condition<M> {
    Condition::new(Expr::Or(conditions.into_iter().map(|c| c.expr).collect()))
}

/// `NOT condition` (`not_(…)` in SQLAlchemy).
pub fn not_<M>(condition: Condition<M>) -> Condition<M> {
    condition.not()
}
