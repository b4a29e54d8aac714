//! Where a column comes from: [`Source`], [`TableSource`], aliases ([`Aliased`], `alias!`) and
//! subqueries in FROM.

use super::column::Column;
use crate::model::Model;
use std::marker::PhantomData;

/// Where a column's values come from in a statement: a model's table, an alias of it
/// ([`Aliased`]) for a second appearance of the same table (a self-join), or a subquery in FROM
/// (`Derived`).
pub trait Source {
    /// The name its columns are qualified with (the table's, or the alias's).
    const QUALIFIER: &'static str;
}

/// A [`Source`] that is a mapped table, under its own name or an alias.
pub trait TableSource: Source {
    /// The mapped model.
    type Model: Model;
    /// The alias, if this is one.
    const ALIAS: Option<&'static str>;
}

impl<M: Model> Source for M {
    const QUALIFIER: &'static str = M::TABLE.name;
}
impl<M: Model> TableSource for M {
    type Model = M;
    const ALIAS: Option<&'static str> = None;
}

/// The name of an alias (SQLAlchemy's `aliased(Category, name="parent")`), declared with
/// [`alias!`](crate::alias): `alias!(pub Parent = "parent");` declares `struct Parent`.
pub trait AliasName: Copy {
    /// The alias in SQL (`categories AS parent`). It must differ from every table name of the
    /// query, and is quoted like any identifier.
    const NAME: &'static str;

    /// Column `column` of model `M` under this alias: `Parent::col(Category::name)`.
    fn col<M: Model, T>(column: Column<M, T>) -> Column<Aliased<M, Self>, T> {
        Column::new(column.index, column.name)
    }
}

/// Model `M`'s table under the alias `A` ([`AliasName`]): a distinct source for the compiler, so
/// conditions on the alias and on the table itself are told apart.
pub struct Aliased<M, A>(PhantomData<fn() -> (M, A)>);

impl<M: Model, A: AliasName> Source for Aliased<M, A> {
    const QUALIFIER: &'static str = A::NAME;
}
impl<M: Model, A: AliasName> TableSource for Aliased<M, A> {
    type Model = M;
    const ALIAS: Option<&'static str> = Some(A::NAME);
}

/// The columns of a subquery in FROM ([`crate::Derived`]) under the alias `A`.
pub struct SubquerySource<A>(PhantomData<fn() -> A>);

impl<A: AliasName> Source for SubquerySource<A> {
    const QUALIFIER: &'static str = A::NAME;
}

/// Declare an alias name for self-joins: `alias!(pub Parent = "parent");` is a unit struct
/// `Parent` whose SQL name is `parent`. Use it with `Query::join_as` / `join_on` and
/// `Parent::col(Category::name)`.
#[macro_export]
macro_rules! alias {
    ($(#[$meta:meta])* $vis:vis $name:ident = $sql:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        $vis struct $name;
        impl $crate::AliasName for $name {
            const NAME: &'static str = $sql;
        }
    };
}
