//! Bulk UPDATE and DELETE of the rows a query matches (SQLAlchemy's `Query.update()` /
//! `Query.delete()` with `synchronize_session="fetch"`): one statement for the rows, and the
//! session's objects for those rows kept in step.
//!
//! Synchronization, by default (`Synchronize::Fetch`): after autoflush, the keys of the matching
//! rows are read first (`SELECT … WHERE <the same filters>`, in the same transaction), then the
//! statement runs; loaded objects with those keys get the new values (UPDATE), or become deleted
//! (DELETE: out of the identity map, detached at commit, back at rollback, as a flushed delete).
//! Limits: a row the filters match only after another transaction's concurrent change, between
//! the SELECT and the statement (READ COMMITTED), is updated in the database but not in memory;
//! relationship collections still holding a bulk-deleted object are not changed;
//! `Synchronize::None` skips the SELECT and leaves loaded objects as they were.

use super::*;
use crate::sql::SelectStatement;

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
        let sql = st.to_sql(engine.dialect())?;
        let refs: Vec<ValueRef<'_>> = sql.params.iter().map(Value::as_ref).collect();
        let mut keys = Vec::new();
        self.with_conn(|c| {
            c.query_refs(&sql.sql, &refs, &mut |row| {
                keys.push(Key::build(st.table, |i| row.get(i))?);
                Ok(())
            })
        })?;
        Ok(keys)
    }

    fn check_bulk(st: &SelectStatement, what: &str) -> Result<()> {
        if st.limit.is_some() || st.offset.is_some() || st.distinct || st.for_update || !st.joins.is_empty() {
            return Err(Error::invalid(format!(
                "a bulk {what} applies to the rows the filters match: remove limit, offset, distinct and \
                 with_for_update from the query"
            )));
        }
        Ok(())
    }

    /// `UPDATE … SET … WHERE <filters>`; the number of rows the database reports.
    pub(super) fn bulk_update<M: Model>(
        &self,
        st: &SelectStatement,
        set: &[(usize, Value)],
        sync: Synchronize,
    ) -> Result<u64> {
        Self::check_bulk(st, "UPDATE")?;
        if let Some((i, _)) = set.iter().find(|(i, _)| M::TABLE.columns.get(*i).is_some_and(|c| c.primary_key)) {
            return Err(Error::invalid(format!(
                "a bulk UPDATE may not change the primary key {}.{}",
                M::TABLE.name,
                M::TABLE.columns[*i].name
            )));
        }
        self.prepare_read()?;
        let engine = self.engine();
        let stmt = crate::sql::bulk_update(engine.dialect(), M::TABLE, set, &st.filters)?;
        let keys = if sync == Synchronize::Fetch { self.matching_keys(st)? } else { Vec::new() };
        let n = self.with_conn(|c| c.execute(&stmt.sql, &stmt.params))?;
        let inner = self.inner();
        if let Some(map) = inner.identity.typed::<M>() {
            for k in &keys {
                if let Some(inst) = map.get(k) {
                    if let Ok(mut v) = inst.value.try_borrow_mut() {
                        for (i, val) in set {
                            v.set_column(*i, val.as_ref())?;
                        }
                    }
                }
            }
        }
        Ok(n)
    }

    /// `DELETE FROM … WHERE <filters>`; the number of rows the database reports.
    pub(super) fn bulk_delete<M: Model>(&self, st: &SelectStatement, sync: Synchronize) -> Result<u64> {
        Self::check_bulk(st, "DELETE")?;
        self.prepare_read()?;
        let engine = self.engine();
        let stmt = crate::sql::bulk_delete(engine.dialect(), M::TABLE, &st.filters)?;
        let keys = if sync == Synchronize::Fetch { self.matching_keys(st)? } else { Vec::new() };
        let n = self.with_conn(|c| c.execute(&stmt.sql, &stmt.params))?;
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

/// The columns and values of a bulk UPDATE: `|set| set.value(Post::score, 0)`.
pub struct UpdateSet<M> {
    pub(super) values: Vec<(usize, Value)>,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M: Model> UpdateSet<M> {
    pub(super) fn new() -> Self {
        UpdateSet { values: Vec::new(), _m: std::marker::PhantomData }
    }

    /// `SET column = value` (typed: the value must suit the column).
    #[must_use]
    pub fn value<T>(mut self, column: crate::expr::Column<M, T>, value: impl crate::value::ColumnValue<T>) -> Self {
        self.values.retain(|(i, _)| *i != column.index);
        self.values.push((column.index, value.into_value()));
        self
    }
}
