//! `session.execute(statement)` (SQLAlchemy 2.0's `session.execute(select(…))` and
//! `session.scalars(…)`): the statements a session runs as they are. Raw SQL ([`Text`]) gives
//! [`Rows`] as before; a typed select gives [`TypedRows`]: the objects of a
//! `select::<User>()` (through the identity map, with the model's loader defaults, as
//! `session.query::<User>()` would), the decoded tuples of a `select_columns((…))` or of a
//! UNION of them. `.scalars()` keeps each row's first item.

use super::{ColumnQuery, Handle, Query, Rows, Session};
use crate::column_select::{ColumnSelect, CompoundSelect, FromSubquery, RowItems, Selection, SelectionIn};
use crate::expr::AliasName;
use crate::model::Model;
use crate::select::Select;
use athanor_core::error::{Error, Result};
use athanor_core::sql::Text;

/// A statement [`Session::execute`] runs; `I` is where the selected items sit (inferred).
pub trait Executable<I = ()> {
    /// What running it gives.
    type Output;
    /// Run it in the session's transaction (after autoflush).
    ///
    /// # Errors
    /// Rendering errors, the database's (the session then needs `rollback()`).
    fn execute_in(self, session: &Session) -> Result<Self::Output>;
}

/// A statement whose rows have a first item, for [`Session::scalars`].
pub trait ScalarExecutable<I = ()>: Executable<I> {
    /// The first item of a row.
    type Scalar;
    /// Run it and keep each row's first item.
    ///
    /// # Errors
    /// As [`Executable::execute_in`].
    fn scalars_in(self, session: &Session) -> Result<TypedRows<Self::Scalar>>;
}

/// The decoded rows of a typed select run by [`Session::execute`]: `R` is a row (an object's
/// `Handle<M>`, or the tuple of a column select), `S` its first item (what
/// [`TypedRows::scalars`] keeps). SQLAlchemy's `Result`, already fetched.
pub struct TypedRows<R, S = R> {
    rows: Vec<R>,
    first: fn(R) -> S,
    /// What the statement selects, for the errors of `one()` (named without rendering the
    /// statement a second time).
    what: String,
}

impl<R: std::fmt::Debug, S> std::fmt::Debug for TypedRows<R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRows").field("what", &self.what).field("rows", &self.rows).finish()
    }
}

fn same<R>(r: R) -> R {
    r
}

impl<R, S> TypedRows<R, S> {
    /// Each row's first item (`session.execute(select_columns(User::name))?.scalars()`; for a
    /// `select::<User>()` the objects themselves).
    pub fn scalars(self) -> TypedRows<S> {
        TypedRows { rows: self.rows.into_iter().map(self.first).collect(), first: same, what: self.what }
    }

    /// Every row.
    pub fn all(self) -> Vec<R> {
        self.rows
    }

    /// The first row, or `None` (the statement ran without a limit: add `limit(1)` to fetch one).
    pub fn first(self) -> Option<R> {
        self.rows.into_iter().next()
    }

    /// Exactly one row.
    ///
    /// # Errors
    /// [`Error::NotFound`] for none, [`Error::MultipleResults`] for more.
    pub fn one(mut self) -> Result<R> {
        match self.rows.len() {
            1 => self.rows.pop().ok_or_else(|| Error::NotFound { what: self.what }),
            0 => Err(Error::NotFound { what: self.what }),
            _ => Err(Error::MultipleResults { what: self.what }),
        }
    }

    /// One row or `None`.
    ///
    /// # Errors
    /// [`Error::MultipleResults`] for more than one.
    pub fn one_or_none(mut self) -> Result<Option<R>> {
        match self.rows.len() {
            0 => Ok(None),
            1 => Ok(self.rows.pop()),
            _ => Err(Error::MultipleResults { what: std::mem::take(&mut self.what) }),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<R, S> std::ops::Deref for TypedRows<R, S> {
    type Target = [R];
    fn deref(&self) -> &[R] {
        &self.rows
    }
}

impl<R, S> IntoIterator for TypedRows<R, S> {
    type Item = R;
    type IntoIter = std::vec::IntoIter<R>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

/// Raw SQL: its rows by column name, or the affected-row count (as before typed selects).
impl Executable for Text {
    type Output = Rows;
    fn execute_in(self, session: &Session) -> Result<Rows> {
        session.execute_text(self)
    }
}

/// `select::<User>()`: the objects, as `session.query::<User>()` with the same statement gives
/// them (identity map, loader defaults, each object once after a join).
impl<M: Model, J> Executable for Select<M, J> {
    type Output = TypedRows<Handle<M>>;
    fn execute_in(self, session: &Session) -> Result<TypedRows<Handle<M>>> {
        let query: Query<'_, M, J> = Query::from_select(session, self);
        let what = format!("{} (a select of {})", M::TABLE.name, M::TABLE.rust_name);
        Ok(TypedRows { rows: query.all()?, first: same, what })
    }
}
impl<M: Model, J> ScalarExecutable for Select<M, J> {
    type Scalar = Handle<M>;
    fn scalars_in(self, session: &Session) -> Result<TypedRows<Handle<M>>> {
        self.execute_in(session)
    }
}

/// `select_columns((…))`: the decoded tuples.
impl<S: Selection + SelectionIn<S::Root, J, I>, J, I> Executable<I> for ColumnSelect<S, J> {
    type Output = TypedRows<S::Out, S::First>;
    fn execute_in(self, session: &Session) -> Result<Self::Output> {
        let query = ColumnQuery::from_select(session, self);
        let what = format!("a column select from {}", <S::Root as Model>::TABLE.name);
        Ok(TypedRows { rows: query.rows(None)?, first: S::first, what })
    }
}
impl<S: Selection + SelectionIn<S::Root, J, I>, J, I> ScalarExecutable<I> for ColumnSelect<S, J> {
    type Scalar = S::First;
    fn scalars_in(self, session: &Session) -> Result<TypedRows<S::First>> {
        Ok(self.execute_in(session)?.scalars())
    }
}

/// A UNION of column selects: the decoded tuples of the combined rows.
impl<Out, First> Executable for CompoundSelect<Out, First> {
    type Output = TypedRows<Out, First>;
    fn execute_in(self, session: &Session) -> Result<Self::Output> {
        let engine = session.engine();
        let st = self.statement.to_sql_for(engine.dialect(), engine.capabilities())?;
        let rows = session.run_decoded(&st, self.decode)?;
        Ok(TypedRows { rows, first: self.first, what: st.sql })
    }
}
impl<Out, First> ScalarExecutable for CompoundSelect<Out, First> {
    type Scalar = First;
    fn scalars_in(self, session: &Session) -> Result<TypedRows<First>> {
        Ok(self.execute_in(session)?.scalars())
    }
}

/// A select over a subquery in FROM (`select_from`): the decoded tuples.
impl<T: RowItems, A: AliasName> Executable for FromSubquery<T, A> {
    type Output = TypedRows<T::Out, T::First>;
    fn execute_in(self, session: &Session) -> Result<Self::Output> {
        let st = self.to_sql(session.engine().dialect())?;
        let rows = session.run_decoded(&st, T::decode_row)?;
        Ok(TypedRows { rows, first: T::first_item, what: st.sql })
    }
}
impl<T: RowItems, A: AliasName> ScalarExecutable for FromSubquery<T, A> {
    type Scalar = T::First;
    fn scalars_in(self, session: &Session) -> Result<TypedRows<T::First>> {
        Ok(self.execute_in(session)?.scalars())
    }
}

impl Session {
    /// Run a statement in the session's transaction (after autoflush), SQLAlchemy 2.0's
    /// `session.execute(…)`:
    ///
    /// - portable raw SQL, `text("SELECT id, name FROM users WHERE name = :n").bind("n", "ann")`:
    ///   its `:name` binds become the dialect's placeholders; a statement that returns rows
    ///   (SELECT, WITH, …, or with RETURNING) gives them as [`Rows`], readable by column name
    ///   (`rows[0].get::<i64>("id")?`); any other gives its affected-row count in
    ///   [`Rows::affected`];
    /// - a typed select built without a session, [`TypedRows`]: `select::<User>()` gives the
    ///   objects (`Handle<User>`, as `session.query::<User>()` would), `select_columns((…))`
    ///   and its `union(…)` the decoded tuples; `.scalars()` keeps each row's first item.
    ///
    /// ```text
    /// let names: Vec<String> = session.execute(select_columns(User::name).order_by(User::name.asc()))?.scalars().all();
    /// let adults = session.execute(select::<User>().filter(User::age.ge(18)))?.all();
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a bind with no value or a value with no bind, or a
    /// builder's error; those of [`Session::execute_sql`]; a cell that does not decode
    /// ([`Error::TypeMismatch`]).
    pub fn execute<X: Executable<I>, I>(&self, statement: X) -> Result<X::Output> {
        statement.execute_in(self)
    }

    /// Run a typed select and keep each row's first item (SQLAlchemy's `session.scalars(…)`):
    /// `session.scalars(select::<User>())?.all()`, `session.scalars(select_columns(User::name))?`.
    ///
    /// # Errors
    /// As [`Session::execute`].
    pub fn scalars<X: ScalarExecutable<I>, I>(&self, statement: X) -> Result<TypedRows<X::Scalar>> {
        statement.scalars_in(self)
    }
}
