//! [`Column`]: the typed handle `#[derive(Model)]` writes per field, its comparisons and the
//! LIKE matchers of [`TextColumn`].

use super::condition::Condition;
use super::order::Ordering;
use super::scalar::{compare_scalars, Comparable, IntoScalar};
use super::source::Source;
use super::subquery::InValues;
use crate::model::Model;
use athanor_core::field::ColumnValue;
use athanor_core::sql::ast::{escape_like, CmpOp, ColumnRef, Expr, Operand, Scalar};
use athanor_core::value::Value;
use std::marker::PhantomData;

/// A typed handle to column `name` of model `M`, whose field has Rust type `T`.
pub struct Column<M, T> {
    /// The column's position in the table.
    pub index: usize,
    /// The column's name in the database.
    pub name: &'static str,
    _marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, T> Copy for Column<M, T> {}
impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<M, T> Column<M, T> {
    /// Used by `#[derive(Model)]`.
    pub const fn new(index: usize, name: &'static str) -> Self {
        Column { index, name, _marker: PhantomData }
    }
}

impl<M: Source, T> Column<M, T> {
    /// The table-qualified reference to this column.
    pub fn column_ref(self) -> ColumnRef {
        ColumnRef { table: M::QUALIFIER, column: self.name }
    }

    /// `col op other` for another column of the same model and type, or one the other's
    /// `Option` ([`Comparable`]; the same as `Item::sold.lt(Item::stock)`, with the operator as
    /// a value).
    pub fn cmp_column<U, K>(self, op: CmpOp, other: Column<M, U>) -> Condition<M>
    where
        U: Comparable<T, K>,
    {
        Condition::new(Expr::Compare { left: self.column_ref(), op, right: Operand::Column(other.column_ref()) })
    }

    /// `col = other`: a value (`IS NULL` for a `None`), another column of the model, or an
    /// expression of the same type (`Order::total_cents.eq(Order::customer_id.mul(100))`).
    pub fn eq<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Eq, other.into_scalar())
    }
    /// `col <> other` (`IS NOT NULL` for a `None`).
    pub fn ne<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Ne, other.into_scalar())
    }
    /// `col < other`.
    pub fn lt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Lt, other.into_scalar())
    }
    /// `col <= other`.
    pub fn le<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Le, other.into_scalar())
    }
    /// `col > other`.
    pub fn gt<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Gt, other.into_scalar())
    }
    /// `col >= other`.
    pub fn ge<K>(self, other: impl IntoScalar<M, T, K>) -> Condition<M> {
        compare_scalars(Scalar::Column(self.column_ref()), CmpOp::Ge, other.into_scalar())
    }
    /// `col IN (…)`: values (an empty list matches nothing) or a one-column subquery of the
    /// same type (`User::id.in_(session.select(Post::user_id).filter(…).subquery())`).
    pub fn in_<K>(self, values: impl InValues<T, K>) -> Condition<M> {
        Condition::new(values.in_expr(self.column_ref(), false))
    }
    /// `col NOT IN (…)`; an empty list matches everything. Beware NULLs in a subquery: `NOT IN`
    /// a set holding NULL matches nothing, on every database.
    pub fn not_in<K>(self, values: impl InValues<T, K>) -> Condition<M> {
        Condition::new(values.in_expr(self.column_ref(), true))
    }
    /// `col BETWEEN low AND high` (inclusive).
    pub fn between(self, low: impl ColumnValue<T>, high: impl ColumnValue<T>) -> Condition<M> {
        Condition::new(Expr::Between { column: self.column_ref(), low: low.into_value(), high: high.into_value() })
    }
    /// `col IS NULL`.
    pub fn is_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull { column: self.column_ref(), negated: false })
    }
    /// `col IS NOT NULL`.
    pub fn is_not_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull { column: self.column_ref(), negated: true })
    }
    /// Ascending sort key.
    pub fn asc(self) -> Ordering<M> {
        Ordering { column: self.column_ref(), descending: false, nulls: None, _model: PhantomData }
    }
    /// Descending sort key.
    pub fn desc(self) -> Ordering<M> {
        Ordering { column: self.column_ref(), descending: true, nulls: None, _model: PhantomData }
    }
}

/// Text columns: `LIKE` and the matchers built on it.
///
/// The backslash is the escape character on every database (PostgreSQL's and MySQL's default;
/// SQLite has none, so Athanor always renders `ESCAPE '\\'`): `like("%\\%%")` matches a literal `%`
/// everywhere. [`TextColumn::contains`], [`TextColumn::startswith`] and
/// [`TextColumn::endswith`] escape their argument, so `%`, `_` and `\\` in it match themselves.
///
/// A pattern (or `contains`/`startswith`/`endswith` argument) containing the NUL character is
/// refused on every database with [`Error::Unsupported`](athanor_core::Error::Unsupported) before
/// anything is sent: SQLite reads a LIKE pattern only up to the NUL (so `contains("\0")` would
/// match every row) and PostgreSQL cannot hold NUL in text.
pub trait TextColumn<M> {
    /// `col LIKE pattern` (`%` and `_` are wildcards, `\\` escapes them; see
    /// [`Condition::escape`] for another escape character). Case-sensitive on every database:
    /// SQLite connections run with `PRAGMA case_sensitive_like = ON`, MySQL tables use the
    /// `utf8mb4_bin` collation, and PostgreSQL's `LIKE` is case-sensitive.
    fn like(self, pattern: &str) -> Condition<M>;
    /// `col NOT LIKE pattern`.
    fn not_like(self, pattern: &str) -> Condition<M>;
    /// `LOWER(col) LIKE LOWER(pattern)`: case-insensitive LIKE (SQLAlchemy's `ilike`). Letters
    /// are folded by the database's `LOWER`: all of Unicode on PostgreSQL and MySQL, ASCII only
    /// on SQLite (its `LOWER` without ICU), so `É` and `é` differ there.
    fn ilike(self, pattern: &str) -> Condition<M>;
    /// The text contains `part` (matched literally: `%`, `_`, `\\` are escaped).
    fn contains(self, part: &str) -> Condition<M>;
    /// The text starts with `prefix` (matched literally).
    fn startswith(self, prefix: &str) -> Condition<M>;
    /// The text ends with `suffix` (matched literally).
    fn endswith(self, suffix: &str) -> Condition<M>;
}

fn like_expr(column: ColumnRef, pattern: String, negated: bool, case_insensitive: bool) -> Expr {
    Expr::Like { column, pattern: Value::Text(pattern), negated, escape: '\\', case_insensitive }
}

macro_rules! text_column {
    ($t:ty) => {
        impl<M: Model> TextColumn<M> for Column<M, $t> {
            fn like(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), false, false))
            }
            fn not_like(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), true, false))
            }
            fn ilike(self, pattern: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), pattern.to_string(), false, true))
            }
            fn contains(self, part: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("%{}%", escape_like(part)), false, false))
            }
            fn startswith(self, prefix: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("{}%", escape_like(prefix)), false, false))
            }
            fn endswith(self, suffix: &str) -> Condition<M> {
                Condition::new(like_expr(self.column_ref(), format!("%{}", escape_like(suffix)), false, false))
            }
        }
    };
}
text_column!(String);
text_column!(Option<String>);
