//! Queries of several models per row: `session.query::<(User, Option<Post>)>()`
//! (SQLAlchemy's `session.query(User, Post)` / `select(User, Post)`).
//!
//! The first model is the FROM table; the others must be joined (`join` / `outerjoin`): a model
//! that is not joined does not compile (the [`InQuery`] bound), nothing is checked at run time,
//! except in a [`Dynamic`](super::Dynamic) query, which checks it when it runs.
//! Each row gives one object per model, through the
//! identity map, with no uniquing: a user with three posts comes back in three rows, with the
//! same `Handle<User>` in each. `Option<B>` is a model an outer join may leave out (its columns
//! are all NULL in that row); a plain `B` with no row there is [`Error::InvalidRequest`].
//!
//! Partial: relationship loader defaults and options do not apply to these rows (load with
//! `Session::related`), and `FOR UPDATE` / `DISTINCT ON` are refused with
//! [`Error::InvalidRequest`].

use super::identity::IdentityMap;
use super::loading::OffsetRow;
use super::query::{InQuery, Query};
use super::{identity_row, is_database_error, Handle, Inner, Session};
use crate::expr::{AliasName, Aliased, ColumnRef, Scalar, TableSource};
use crate::model::Model;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::value::{Value, ValueRef};
use std::rc::Rc;

/// What [`Session::query`] takes: one model, or a tuple of two or three whose first member is
/// a model and whose others are models or `Option`s of models ([`EntityPart`]).
pub trait QueryEntities {
    /// The model whose table is the FROM.
    type Root: Model;
}
impl<M: Model> QueryEntities for M {
    type Root = M;
}
impl<A: Model, B: EntityPart> QueryEntities for (A, B) {
    type Root = A;
}
impl<A: Model, B: EntityPart, C: EntityPart> QueryEntities for (A, B, C) {
    type Root = A;
}

/// A member of a tuple query after the first: a model `B` (its object is in every row),
/// `Option<B>` (an outer join may leave it out), or the same for an alias of `B`
/// (`Aliased<B, Parent>`, which gives `B`'s objects: an alias is another name for the table).
pub trait EntityPart {
    /// Where its columns come from: the model or the alias (what the join checks name).
    type Source: TableSource;
    /// What a row gives for it: `Handle<B>` or `Option<Handle<B>>`.
    type Out;
    /// The row's object, or `None` where the row has no `B`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a required `B` missing from a row.
    fn pick(found: Option<Handle<<Self::Source as TableSource>::Model>>) -> Result<Self::Out>;
}

fn required<B: Model>(found: Option<Handle<B>>) -> Result<Handle<B>> {
    found.ok_or_else(|| {
        Error::invalid_request(format!(
            "a row has no {} (its columns are NULL, as an outer join leaves them): query Option<{}> instead",
            B::TABLE.rust_name,
            B::TABLE.rust_name
        ))
    })
}

impl<B: Model> EntityPart for B {
    type Source = B;
    type Out = Handle<B>;
    fn pick(found: Option<Handle<B>>) -> Result<Handle<B>> {
        required(found)
    }
}
impl<B: Model> EntityPart for Option<B> {
    type Source = B;
    type Out = Option<Handle<B>>;
    fn pick(found: Option<Handle<B>>) -> Result<Option<Handle<B>>> {
        Ok(found)
    }
}
impl<B: Model, A: AliasName> EntityPart for Aliased<B, A> {
    type Source = Aliased<B, A>;
    type Out = Handle<B>;
    fn pick(found: Option<Handle<B>>) -> Result<Handle<B>> {
        required(found)
    }
}
impl<B: Model, A: AliasName> EntityPart for Option<Aliased<B, A>> {
    type Source = Aliased<B, A>;
    type Out = Option<Handle<B>>;
    fn pick(found: Option<Handle<B>>) -> Result<Option<Handle<B>>> {
        Ok(found)
    }
}

/// The selected columns of `S`'s table, qualified by its name or alias.
fn columns_of<S: TableSource>(items: &mut Vec<Scalar>) {
    let t = S::Model::TABLE;
    items.extend(t.columns.iter().map(|c| Scalar::Column(ColumnRef { table: S::QUALIFIER, column: c.name })));
}

/// `T`'s object from its columns at `offset`, or `None` when its key columns are all NULL.
fn object_at<T: Model>(
    identity: &mut IdentityMap,
    weak: &std::rc::Weak<super::Shared>,
    row: &dyn Row,
    offset: usize,
) -> Result<Option<Handle<T>>> {
    let part = OffsetRow { row, offset, len: T::TABLE.columns.len() };
    let mut key_cells = T::TABLE.primary_key();
    let all_null = key_cells.all(|i| matches!(part.get(i), Ok(ValueRef::Null)));
    if all_null {
        return Ok(None);
    }
    let (inst, _) = identity_row::<T>(identity.typed_mut::<T>(), weak, &part, 0)?;
    Ok(Some(Handle::from_instance(inst)))
}

impl<M: Model, J, E> Query<'_, M, J, E> {
    /// Run a SELECT of `items` with this query's FROM, joins, filters, order and limit, calling
    /// `each` per row (after autoflush), through the session's connection.
    fn rows_of(
        &self,
        items: &[Scalar],
        limit: Option<u64>,
        mut each: impl FnMut(&mut IdentityMap, &std::rc::Weak<super::Shared>, &dyn Row) -> Result<()>,
    ) -> Result<()> {
        let select = self.as_select().statement()?;
        if select.for_update || !select.distinct_on.is_empty() {
            return Err(Error::invalid_request(
                "FOR UPDATE and DISTINCT ON are not built for a query of several models; query one model",
            ));
        }
        let limit = match (limit, select.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let session: &Session = self.session();
        let st = select.to_sql_columns(session.engine().dialect(), items, &[], &[], limit)?;
        session.prepare_read()?;
        let weak = Rc::downgrade(&session.shared);
        let mut inner_ref = session.inner();
        inner_ref.ensure_read_conn()?;
        let refs: Vec<ValueRef<'_>> = st.params.iter().map(Value::as_ref).collect();
        let r = {
            let Inner { conn, identity, .. } = &mut *inner_ref;
            let conn = conn.as_mut().ok_or_else(|| Error::invalid_request("no connection"))?;
            conn.query_read_refs(&st.sql, &refs, &mut |row| each(identity, &weak, row))
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner_ref.read_failed(e);
            }
        }
        r
    }
}

macro_rules! tuple_query {
    ($($t:ident $i:ident),+) => {
        impl<'s, M: Model, J, $($t: EntityPart),+> Query<'s, M, J, (M, $($t),+)> {
            fn tuples(
                &self,
                limit: Option<u64>,
                checks: &[Option<&'static str>],
            ) -> Result<Vec<(Handle<M>, $($t::Out),+)>> {
                // A dynamic query's members are checked now (a typed one's by its `InQuery` bounds).
                if let Some(q) = checks.iter().flatten().find(|q| !self.as_select().has_source(q)) {
                    return Err(Error::invalid_request(format!(
                        "this dynamic query of {} returns {q} objects, but neither selects from nor joined {q}: join it first",
                        M::TABLE.rust_name
                    )));
                }
                let mut items = Vec::new();
                columns_of::<M>(&mut items);
                $(columns_of::<$t::Source>(&mut items);)+
                let mut out = Vec::new();
                self.rows_of(&items, limit, |identity, weak, row| {
                    let mut offset = 0;
                    let root = object_at::<M>(identity, weak, row, offset)?
                        .ok_or_else(|| Error::invalid_request(format!("a {} row without a key", M::TABLE.name)))?;
                    offset += M::TABLE.columns.len();
                    out.push((root, $({
                        type Of<X> = <<X as EntityPart>::Source as TableSource>::Model;
                        let found = object_at::<Of<$t>>(identity, weak, row, offset)?;
                        offset += <Of<$t> as Model>::TABLE.columns.len();
                        $t::pick(found)?
                    }),+));
                    let _ = offset;
                    Ok(())
                })?;
                Ok(out)
            }

            /// Every row: one object per model (the same instance for the same row of a table),
            /// in the query's order, not uniqued.
            ///
            /// # Errors
            /// [`Error::InvalidRequest`] for a required member missing from a row (query it as
            /// an `Option`), or for `FOR UPDATE` / `DISTINCT ON`; a rendering error; the
            /// database's (the session then needs `rollback()`).
            pub fn all<$($i),+>(&self) -> Result<Vec<(Handle<M>, $($t::Out),+)>>
            where
                $($t::Source: InQuery<M, J, $i>,)+
            {
                self.tuples(None, &[$(<$t::Source as InQuery<M, J, $i>>::RUNTIME_CHECK),+])
            }

            /// The first row (`LIMIT 1`), or `None`.
            ///
            /// # Errors
            /// As `all`.
            pub fn first<$($i),+>(&self) -> Result<Option<(Handle<M>, $($t::Out),+)>>
            where
                $($t::Source: InQuery<M, J, $i>,)+
            {
                Ok(self.tuples(Some(1), &[$(<$t::Source as InQuery<M, J, $i>>::RUNTIME_CHECK),+])?.into_iter().next())
            }
        }
    };
}
tuple_query!(B IB);
tuple_query!(B IB, C IC);
