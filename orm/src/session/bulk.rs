//! Bulk UPDATE and DELETE of the rows a query matches (SQLAlchemy's `Query.update()` /
//! `Query.delete()` with `synchronize_session="fetch"`): one statement for the rows, and the
//! session's objects for those rows kept in step.
//!
//! Synchronization, by default (`Synchronize::Fetch`): after autoflush, the keys of the matching
//! rows are read first (`SELECT <key> … WHERE <the same filters>`, in the same transaction), then the
//! statement runs; loaded objects with those keys get the new values (UPDATE), or become deleted
//! (DELETE: out of the identity map, detached at commit, back at rollback, as a flushed delete).
//! A column set to an SQL expression (`set.value(Book::stock, Book::stock.sub(1))`, and a
//! versioned model's `version = version + 1`) has no value the session could compute without
//! the row (SQLAlchemy's `"evaluate"` cannot either): those columns of the loaded objects are read
//! back after the UPDATE, one `SELECT <key>, <columns> … WHERE <key> IN (…)` per chunk of keys.
//! Limits: a row the filters match only after another transaction's concurrent change, between
//! the SELECT and the statement (READ COMMITTED), is updated in the database but not in memory;
//! relationship collections still holding a bulk-deleted object are not changed;
//! `Synchronize::None` skips the SELECT and leaves loaded objects as they were.

use super::events::Hook;
use super::identity::Key;
use super::state::{Instance, ObjectState};
use super::Session;
use crate::model::Model;
use athanor_core::error::{Error, Result};
use athanor_core::sql::ast::Scalar;
use athanor_core::sql::SelectStatement;
use athanor_core::value::{Value, ValueRef};
use std::any::TypeId;
use std::rc::Rc;

/// How `Query::update` / `Query::delete` keep the session's loaded objects in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronize {
    /// Read the matching keys first, then update (or delete) the loaded objects with those keys.
    #[default]
    Fetch,
    /// Do not: loaded objects keep their values (expire or refresh them yourself).
    None,
}

impl Session {
    /// The keys of the rows `st` matches.
    fn matching_keys(&self, st: &SelectStatement) -> Result<Vec<Key>> {
        let engine = self.engine();
        // Only the key columns: `SELECT pk FROM t WHERE <the filters>`.
        let pk: Vec<usize> = st.table.primary_key().collect();
        let items: Vec<crate::expr::Scalar> = pk
            .iter()
            .map(|&i| crate::expr::Scalar::Column(crate::expr::ColumnRef::new(st.table.name, st.table.columns[i].name)))
            .collect();
        let sql = st.to_sql_columns(engine.dialect(), &items, &[], &[], None)?;
        let refs: Vec<ValueRef<'_>> = sql.params.iter().map(Value::as_ref).collect();
        let mut keys = Vec::new();
        self.with_conn(|c| {
            c.query_refs(&sql.sql, &refs, &mut |row| {
                let at = |i: usize| pk.iter().position(|&p| p == i).unwrap_or(usize::MAX);
                keys.push(Key::build(st.table, |i| row.get(at(i)))?);
                Ok(())
            })
        })?;
        Ok(keys)
    }

    /// The keys of the rows a bulk statement will change, read when the session synchronizes
    /// (`Synchronize::Fetch`) or model `M` has a `hook` to call with them; the hook is called
    /// here, before the statement (its error fails the transaction, as a failed statement).
    fn keys_for_bulk<M: Model>(&self, st: &SelectStatement, sync: Synchronize, hook: Hook) -> Result<Vec<Key>> {
        let events = self.events();
        let hooked = events.has(TypeId::of::<M>(), hook);
        if sync == Synchronize::None && !hooked {
            return Ok(Vec::new());
        }
        let keys = self.matching_keys(st)?;
        if let Err(e) = events.on_keys::<M>(hook, &keys) {
            self.inner().fail(&e);
            return Err(e);
        }
        Ok(keys)
    }

    fn check_bulk(st: &SelectStatement, what: &str) -> Result<()> {
        if st.limit.is_some()
            || st.offset.is_some()
            || st.distinct
            || st.for_update
            || !st.joins.is_empty()
            || !st.table_joins.is_empty()
        {
            return Err(Error::invalid_request(format!(
                "a bulk {what} applies to the rows the filters match: remove limit, offset, distinct, \
                 joins and with_for_update from the query"
            )));
        }
        Ok(())
    }

    /// `UPDATE … SET … WHERE <filters>`; the number of rows the database reports.
    pub(super) fn bulk_update<M: Model>(
        &self,
        st: &SelectStatement,
        set: &[(usize, Scalar)],
        sync: Synchronize,
    ) -> Result<u64> {
        Self::check_bulk(st, "UPDATE")?;
        if let Some((i, _)) = set.iter().find(|(i, _)| M::TABLE.columns.get(*i).is_some_and(|c| c.primary_key)) {
            return Err(Error::invalid_request(format!(
                "a bulk UPDATE may not change the primary key {}.{}",
                M::TABLE.name,
                M::TABLE.columns[*i].name
            )));
        }
        // A versioned model's rows move to their next version: `version = version + 1`.
        let mut set = set.to_vec();
        if let Some(v) = M::VERSION_COLUMN {
            if !set.is_empty() && !set.iter().any(|(i, _)| *i == v) {
                set.push((v, version_bump(M::TABLE, v)?));
            }
        }
        self.prepare_read()?;
        let engine = self.engine();
        let stmt = athanor_core::sql::bulk_update(engine.dialect(), M::TABLE, &set, &st.filters)?;
        let mut keys = self.keys_for_bulk::<M>(st, sync, Hook::Update)?;
        let n = self.with_conn(|c| c.execute(&stmt.sql, &stmt.params))?;
        if sync == Synchronize::None {
            keys.clear();
        }
        // Loaded objects of the matched rows: values are set as they are; columns set from
        // expressions are read back (one SELECT by key per loaded object).
        let loaded: Vec<Rc<Instance<M>>> = match self.inner().identity.typed::<M>() {
            Some(map) => keys.iter().filter_map(|k| map.get(k).cloned()).collect(),
            None => Vec::new(),
        };
        let computed: Vec<usize> =
            set.iter().filter(|(_, e)| !matches!(e, Scalar::Value(_))).map(|(i, _)| *i).collect();
        for inst in &loaded {
            if let Ok(mut v) = inst.value.try_borrow_mut() {
                for (i, e) in &set {
                    if let Scalar::Value(val) = e {
                        v.set_column(*i, val.as_ref())?;
                    }
                }
            }
        }
        if !computed.is_empty() && !loaded.is_empty() {
            self.read_back::<M>(&loaded, &computed)?;
        }
        Ok(n)
    }

    /// Read columns `cols` of the `loaded` objects' rows into them (after a bulk UPDATE set
    /// them from expressions): `SELECT <key>, <cols> … WHERE <key> IN (…)` for a single-column
    /// key, in chunks under the bind limit; one SELECT per object for a composite key.
    fn read_back<M: Model>(&self, loaded: &[Rc<Instance<M>>], cols: &[usize]) -> Result<()> {
        use athanor_core::sql::ast::{ColumnRef, Expr};
        let engine = self.engine();
        let table = M::TABLE;
        let pk: Vec<usize> = table.primary_key().collect();
        let column = |i: usize| Scalar::Column(ColumnRef::new(table.name, table.columns[i].name));
        let items: Vec<Scalar> = pk.iter().chain(cols).map(|&i| column(i)).collect();
        let keys: Vec<Key> = loaded.iter().filter_map(|i| i.meta.borrow().key.clone()).collect();
        let per = if pk.len() == 1 { engine.capabilities().max_bind_params.clamp(1, 500) } else { 1 };
        let mut fresh: Vec<(Key, Vec<Value>)> = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(per) {
            let filter = match pk.as_slice() {
                [one] => Expr::InList {
                    column: ColumnRef::new(table.name, table.columns[*one].name),
                    values: chunk.iter().flat_map(|k| k.params().map(ValueRef::to_owned)).collect(),
                    negated: false,
                },
                _ => Expr::And(
                    chunk
                        .iter()
                        .flat_map(|k| {
                            pk.iter().zip(k.params()).map(|(&i, v)| Expr::Compare {
                                left: ColumnRef::new(table.name, table.columns[i].name),
                                op: athanor_core::sql::ast::CmpOp::Eq,
                                right: athanor_core::sql::ast::Operand::Value(v.to_owned()),
                            })
                        })
                        .collect(),
                ),
            };
            let mut st = SelectStatement::new(table);
            st.filters.push(filter);
            let sql = st.to_sql_columns(engine.dialect(), &items, &[], &[], None)?;
            let refs: Vec<ValueRef<'_>> = sql.params.iter().map(Value::as_ref).collect();
            self.with_conn(|c| {
                c.query_refs(&sql.sql, &refs, &mut |row| {
                    let at = |i: usize| pk.iter().position(|&p| p == i).unwrap_or(usize::MAX);
                    let key = Key::build(table, |i| row.get(at(i)))?;
                    let values = (0..cols.len())
                        .map(|j| row.get(pk.len() + j).map(ValueRef::to_owned))
                        .collect::<Result<_>>()?;
                    fresh.push((key, values));
                    Ok(())
                })
            })?;
        }
        for (key, values) in &fresh {
            let inst = self.inner().identity.typed::<M>().and_then(|m| m.get(key)).cloned();
            let Some(inst) = inst else { continue };
            let Ok(mut v) = inst.value.try_borrow_mut() else { continue };
            for (i, val) in cols.iter().zip(values) {
                v.set_column(*i, val.as_ref())?;
            }
        }
        Ok(())
    }

    /// `DELETE FROM … WHERE <filters>`; the number of rows the database reports.
    pub(super) fn bulk_delete<M: Model>(&self, st: &SelectStatement, sync: Synchronize) -> Result<u64> {
        Self::check_bulk(st, "DELETE")?;
        self.prepare_read()?;
        let engine = self.engine();
        let stmt = athanor_core::sql::bulk_delete(engine.dialect(), M::TABLE, &st.filters)?;
        let mut keys = self.keys_for_bulk::<M>(st, sync, Hook::Delete)?;
        let n = self.with_conn(|c| c.execute(&stmt.sql, &stmt.params))?;
        if sync == Synchronize::None {
            keys.clear();
        }
        let mut inner = self.inner();
        for k in &keys {
            let Some(inst) = inner.identity.typed::<M>().and_then(|m| m.get(k)).cloned() else { continue };
            inst.meta.borrow_mut().state = ObjectState::Deleted;
            inner.identity.remove(TypeId::of::<M>(), k);
            inner.deleted_in_tx.push(inst);
        }
        Ok(n)
    }
}

/// `version + 1` for a bulk UPDATE of a versioned model, in the column's integer type.
fn version_bump(table: &'static athanor_core::schema::TableDef, v: usize) -> Result<Scalar> {
    use athanor_core::sql::ast::{ArithOp, ColumnRef, NumberKind};
    let col =
        table.columns.get(v).ok_or_else(|| Error::invalid_request(format!("no column #{v} in {}", table.name)))?;
    let one = match col.sql_type {
        athanor_core::value::SqlType::SmallInt => Value::I16(1),
        athanor_core::value::SqlType::Integer => Value::I32(1),
        _ => Value::I64(1),
    };
    Ok(Scalar::Arith {
        op: ArithOp::Add,
        left: Box::new(Scalar::Column(ColumnRef::new(table.name, col.name))),
        right: Box::new(Scalar::Value(one)),
        kind: NumberKind::Integer,
    })
}

/// The columns of a bulk UPDATE and what each is set to: a value (`|set| set.value(Post::score,
/// 0)`) or an SQL expression of the column's type, evaluated by the database row by row
/// (`|set| set.value(Book::stock, Book::stock.sub(qty))` → `SET "stock" = ("books"."stock" -
/// ?)`), its values bound.
pub struct UpdateSet<M> {
    pub(super) values: Vec<(usize, Scalar)>,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M: Model> UpdateSet<M> {
    pub(super) fn new() -> Self {
        UpdateSet { values: Vec::new(), _m: std::marker::PhantomData }
    }

    /// `SET column = <value or expression>` (typed: a value of the column's type, another
    /// column of `M` of that type, or an expression of that type over `M`'s columns; see
    /// [`Assignable`](crate::Assignable)). Setting a column twice keeps the last.
    #[must_use]
    pub fn value<T, K>(mut self, column: crate::expr::Column<M, T>, value: impl crate::Assignable<M, T, K>) -> Self {
        self.values.retain(|(i, _)| *i != column.index);
        self.values.push((column.index, value.into_assignment()));
        self
    }
}

/// A multi-row INSERT of models outside the unit of work (SQLAlchemy's `insert(Tag).values(…)`),
/// optionally an upsert: `session.insert::<Tag>().values(tags).on_conflict(Tag::name).do_update(&[Tag::uses])`.
///
/// The rows are not added to the session (no identity, no generated keys written back); an
/// upsert that updates expires the session's loaded objects of the model, whose rows it may
/// have changed. Differences per database: MySQL applies `ON DUPLICATE KEY UPDATE` to a
/// conflict on any unique key of the table (PostgreSQL and SQLite only to the named one), and
/// reports an updated row as two affected rows — which is why the upserts return `()`.
pub struct Insert<'s, M: Model> {
    session: &'s Session,
    rows: Vec<M>,
}

/// The conflict target of an upsert, waiting for `do_update` or `do_nothing`.
pub struct OnConflict<'s, M: Model> {
    insert: Insert<'s, M>,
    target: Vec<usize>,
}

/// Columns of model `M` named together, whatever their types: `&[Tag::uses]`,
/// `(Tag::uses, Tag::name)`.
pub trait ColumnList<M> {
    /// The columns' positions.
    fn indexes(&self) -> Vec<usize>;
}
impl<M, T> ColumnList<M> for &[crate::expr::Column<M, T>] {
    fn indexes(&self) -> Vec<usize> {
        self.iter().map(|c| c.index).collect()
    }
}
impl<M, T, const N: usize> ColumnList<M> for &[crate::expr::Column<M, T>; N] {
    fn indexes(&self) -> Vec<usize> {
        self.iter().map(|c| c.index).collect()
    }
}
impl<M, T> ColumnList<M> for crate::expr::Column<M, T> {
    fn indexes(&self) -> Vec<usize> {
        vec![self.index]
    }
}
macro_rules! column_tuple {
    ($($t:ident $n:tt),+) => {
        impl<M, $($t),+> ColumnList<M> for ($(crate::expr::Column<M, $t>,)+) {
            fn indexes(&self) -> Vec<usize> {
                vec![$(self.$n.index),+]
            }
        }
    };
}
column_tuple!(A 0, B 1);
column_tuple!(A 0, B 1, C 2);
column_tuple!(A 0, B 1, C 2, D 3);

impl Session {
    /// A multi-row INSERT (or upsert) of `M` rows outside the unit of work.
    pub fn insert<M: Model>(&self) -> Insert<'_, M> {
        Insert { session: self, rows: Vec::new() }
    }
}

impl<'s, M: Model> Insert<'s, M> {
    /// Add rows.
    #[must_use]
    pub fn values(mut self, rows: impl IntoIterator<Item = M>) -> Self {
        self.rows.extend(rows);
        self
    }

    /// Handle a conflict on these unique columns (a primary key or a `#[column(unique)]`
    /// column: `Tag::name`, or several as a tuple).
    #[must_use]
    pub fn on_conflict(self, target: impl ColumnList<M>) -> OnConflict<'s, M> {
        OnConflict { insert: self, target: target.indexes() }
    }

    /// Insert the rows and return `items` of each inserted row (`INSERT … RETURNING`), in the
    /// order the database returns them (the rows' order on SQLite, PostgreSQL and MariaDB):
    /// `session.insert::<Tag>().values(tags).returning(Tag::id)?` gives the generated keys.
    ///
    /// # Errors
    /// [`Error::Unsupported`] where the database has no `INSERT … RETURNING` (MySQL, MariaDB
    /// before 10.5), nothing sent; otherwise as [`Insert::execute`].
    pub fn returning<S: super::Selection>(self, items: S) -> Result<Vec<S::Out>> {
        self.run_returning(None, items)
    }

    fn run_returning<S: super::Selection>(
        self,
        conflict: Option<(&[usize], &[usize])>,
        items: S,
    ) -> Result<Vec<S::Out>> {
        let session = self.session;
        let engine = session.engine();
        if !engine.capabilities().insert_returning {
            return Err(Error::unsupported("INSERT … RETURNING", engine.dialect().name()));
        }
        let scalars = items.scalars();
        let mut out = Vec::new();
        self.each_chunk(conflict, &mut |sql, params| {
            let mut w = athanor_core::sql::SqlWriter::new(engine.dialect());
            w.push(sql).push(" RETURNING ");
            let mut extra = Vec::new();
            for (i, it) in scalars.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                athanor_core::sql::write_scalar(&mut w, &mut extra, it)?;
            }
            if !extra.is_empty() {
                return Err(Error::invalid_request("RETURNING takes columns and expressions without bound values"));
            }
            session.with_conn(|c| {
                c.query_refs(&w.sql, params, &mut |row| {
                    out.push(S::decode(row)?);
                    Ok(())
                })
            })?;
            Ok(0)
        })?;
        Ok(out)
    }

    /// Insert the rows; how many were inserted.
    ///
    /// # Errors
    /// The database's (an [`Error::Integrity`] for a duplicate key); the session then needs
    /// `rollback()`.
    pub fn execute(self) -> Result<u64> {
        self.run(None)
    }

    fn run(self, conflict: Option<(&[usize], &[usize])>) -> Result<u64> {
        let session = self.session;
        self.each_chunk(conflict, &mut |sql, params| session.with_conn(|c| c.execute_refs(sql, params)))
    }

    /// Render each multi-row chunk and hand its SQL and parameters to `send`; the sum of what
    /// `send` returns.
    fn each_chunk(
        mut self,
        conflict: Option<(&[usize], &[usize])>,
        send: &mut dyn FnMut(&str, &[ValueRef<'_>]) -> Result<u64>,
    ) -> Result<u64> {
        let session = self.session;
        let events = session.events();
        if events.has(TypeId::of::<M>(), Hook::Insert) {
            for row in &mut self.rows {
                if let Err(e) = events.on_value(Hook::Insert, row) {
                    session.inner().fail(&e);
                    return Err(e);
                }
            }
        }
        for row in &self.rows {
            row.check_values()?;
        }
        session.prepare_read()?;
        let engine = session.engine();
        let dialect = engine.dialect();
        let table = M::TABLE;
        let caps = engine.capabilities();
        let auto = table.autoincrement_column();
        let name = |i: &usize| table.columns.get(*i).map(|c| c.name);
        let pk: Vec<&str> = table.primary_key().filter_map(|i| name(&i)).collect();
        let mut total = 0;
        let mut start = 0;
        while start < self.rows.len() {
            // Rows without a key leave the generated column out; rows with one keep it.
            let skip = auto.is_some_and(|a| self.rows[start].column_value(a).is_null());
            let ncols = table.columns.len() - usize::from(skip);
            let per = if caps.multi_row_insert { (caps.max_bind_params / ncols.max(1)).clamp(1, 500) } else { 1 };
            let mut end = start + 1;
            while end < self.rows.len()
                && end - start < per
                && auto.is_some_and(|a| self.rows[end].column_value(a).is_null()) == skip
            {
                end += 1;
            }
            let mut sql = athanor_core::sql::insert(dialect, table, end - start, skip, None)?;
            if let Some((target, update)) = conflict {
                let target: Vec<&str> = target.iter().filter_map(name).collect();
                let update: Vec<&str> = update.iter().filter_map(name).collect();
                dialect.write_on_conflict(&mut sql, &target, &update, &pk)?;
            }
            let mut params: Vec<ValueRef<'_>> = Vec::with_capacity((end - start) * ncols);
            for row in &self.rows[start..end] {
                for c in 0..table.columns.len() {
                    if !(skip && Some(c) == auto) {
                        params.push(row.column_value(c));
                    }
                }
            }
            total += send(&sql, &params)?;
            start = end;
        }
        Ok(total)
    }
}

impl<M: Model> OnConflict<'_, M> {
    fn check(&self) -> Result<()> {
        let table = M::TABLE;
        let pk: Vec<usize> = table.primary_key().collect();
        let unique = match self.target.as_slice() {
            [one] => table.columns.get(*one).is_some_and(|c| c.unique) || pk == [*one],
            many => {
                let mut a = many.to_vec();
                a.sort_unstable();
                a == pk
            }
        };
        if !unique {
            return Err(Error::invalid_request(format!(
                "on_conflict needs the primary key or a unique column of {}: the database matches \
                 conflicts by a unique constraint",
                table.name
            )));
        }
        Ok(())
    }

    /// `… ON CONFLICT (target) DO NOTHING` (MySQL: a no-op `ON DUPLICATE KEY UPDATE`): rows whose
    /// key exists are left as they are.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the target is not the primary key or a unique column; the
    /// database's errors.
    pub fn do_nothing(self) -> Result<()> {
        self.check()?;
        let target = self.target.clone();
        self.insert.run(Some((&target, &[])))?;
        Ok(())
    }

    /// `… ON CONFLICT (target) DO UPDATE SET c = excluded.c` (MySQL: `ON DUPLICATE KEY UPDATE
    /// c = VALUES(c)`): rows whose key exists get these columns from the proposed row. Loaded
    /// objects of the model are expired.
    ///
    /// # Errors
    /// As [`OnConflict::do_nothing`]; [`Error::InvalidRequest`] for no column to update.
    pub fn do_update(self, columns: impl ColumnList<M>) -> Result<()> {
        let (target, update) = self.plan(columns)?;
        let session = self.insert.session;
        self.insert.run(Some((&target, &update)))?;
        Self::expire_loaded(session);
        Ok(())
    }

    /// [`OnConflict::do_update`] with `RETURNING items`: the rows written, inserted or updated,
    /// with their values after the statement (SQLite, PostgreSQL and MariaDB 10.5+ alike;
    /// `Error::Unsupported` on MySQL, which has no RETURNING, before anything is sent).
    ///
    /// ```text
    /// let ids: Vec<(Option<i64>, String)> =
    ///     session.insert::<Tag>().values(tags).on_conflict(Tag::name).do_update_returning(&[Tag::uses], (Tag::id, Tag::name))?;
    /// ```
    ///
    /// # Errors
    /// As [`OnConflict::do_update`]; [`Error::Unsupported`] where the database has no
    /// `INSERT … RETURNING` ([`athanor_core::Capabilities::insert_returning`]).
    pub fn do_update_returning<S: super::Selection>(
        self,
        columns: impl ColumnList<M>,
        items: S,
    ) -> Result<Vec<S::Out>> {
        let (target, update) = self.plan(columns)?;
        let session = self.insert.session;
        let out = self.insert.run_returning(Some((&target, &update)), items)?;
        Self::expire_loaded(session);
        Ok(out)
    }

    /// The conflict target and the columns to update, checked.
    fn plan(&self, columns: impl ColumnList<M>) -> Result<(Vec<usize>, Vec<usize>)> {
        self.check()?;
        let update = columns.indexes();
        if update.is_empty() {
            return Err(Error::invalid_request("do_update needs at least one column (or use do_nothing)"));
        }
        Ok((self.target.clone(), update))
    }

    /// Expire the session's loaded objects of `M` (an upsert may have changed any of them).
    fn expire_loaded(session: &super::Session) {
        if let Some(map) = session.inner().identity.typed::<M>() {
            use super::identity::AnyMap;
            map.for_each_meta(&mut |m| m.borrow_mut().expired = true);
        }
    }
}
