//! Sort keys: [`Ordering`] on a column, [`ExprOrdering`] on an expression, and [`IntoOrderKey`].

use athanor_core::sql::ast::{ColumnRef, NullsOrder, OrderKey};
use std::marker::PhantomData;

/// A sort key: a column, ascending or descending, and where its NULLs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ordering<M> {
    /// The column.
    pub column: ColumnRef,
    /// `DESC`.
    pub descending: bool,
    /// Where NULLs go; `None`: NULL is the smallest value (first ascending, last descending) on
    /// every database.
    pub nulls: Option<NullsOrder>,
    pub(super) _model: PhantomData<fn() -> M>,
}

impl<M> Ordering<M> {
    /// NULLs first, whatever the direction (SQLAlchemy's `.nulls_first()`).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some(NullsOrder::First);
        self
    }
    /// NULLs last, whatever the direction (SQLAlchemy's `.nulls_last()`).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some(NullsOrder::Last);
        self
    }
    /// The untyped key.
    pub fn key(&self) -> OrderKey {
        OrderKey { column: self.column, expr: None, descending: self.descending, nulls: self.nulls }
    }
}

/// A sort key on an expression of model `M`: `func::count(Post::id).desc()`.
#[derive(Debug, Clone)]
pub struct ExprOrdering<M> {
    pub(super) key: OrderKey,
    pub(super) _m: PhantomData<fn() -> M>,
}

impl<M> ExprOrdering<M> {
    /// NULLs first.
    pub fn nulls_first(mut self) -> Self {
        self.key.nulls = Some(NullsOrder::First);
        self
    }
    /// NULLs last.
    pub fn nulls_last(mut self) -> Self {
        self.key.nulls = Some(NullsOrder::Last);
        self
    }
}

/// A sort key of model `M`: a column's ([`Ordering`]) or an expression's ([`ExprOrdering`]).
pub trait IntoOrderKey<M> {
    /// The untyped key.
    fn into_order_key(self) -> OrderKey;
}
impl<M> IntoOrderKey<M> for Ordering<M> {
    fn into_order_key(self) -> OrderKey {
        self.key()
    }
}
impl<M> IntoOrderKey<M> for ExprOrdering<M> {
    fn into_order_key(self) -> OrderKey {
        self.key
    }
}
