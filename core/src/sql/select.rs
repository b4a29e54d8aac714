//! The session-free SELECT: a statement as plain data, rendered by any [`Dialect`].
//!
//! [`SelectStatement`] is the untyped form (a table, filters, sort keys, limit/offset,
//! DISTINCT, FOR UPDATE); the ORM's typed `Select<M>` (athanor-orm's `select.rs`, what
//! `athanor::select` returns and what `Query` wraps) builds it. Neither knows a connection:
//! `athanor::select::<Customer>().filter(Customer::age.ge(18)).to_sql(&dialect)` renders the same
//! text a session would run.

use super::{write_junction, write_order_key, write_qualified_column_list, SqlWriter, Statement};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::sql::ast::{ColumnRef, Expr, OrderKey};
use crate::value::Value;

pub use crate::sql::ast::{
    CompoundStatement, DerivedTable, EagerJoin, FromQuery, LockWait, SelectStatement, SetOperator, SubqueryStatement,
    TableJoin, Through,
};

impl SubqueryStatement {
    /// Write `(SELECT …)` into a statement being rendered.
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql_columns`].
    pub fn write(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        w.push("(");
        self.base.write_columns(w, params, &self.items, &self.group_by, &self.having, self.base.limit)?;
        w.push(")");
        Ok(())
    }
}

impl FromQuery {
    /// Write `(SELECT …)` or `(SELECT … UNION …)` into a statement being rendered.
    ///
    /// # Errors
    /// As [`SubqueryStatement::write`] and [`CompoundStatement::to_sql`].
    pub fn write(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        match self {
            FromQuery::Select(sub) => sub.write(w, params),
            FromQuery::Compound(c) => {
                let caps = w.dialect().capabilities();
                w.push("(");
                c.write(w, params, caps)?;
                w.push(")");
                Ok(())
            }
        }
    }
}

impl CompoundStatement {
    /// `SELECT … UNION [ALL] SELECT … [ORDER BY <position> …] [LIMIT …]` (or `INTERSECT`,
    /// `EXCEPT`, with or without `ALL`). NULL sorts as the smallest value, as for every sort:
    /// told only where the database's own order differs (PostgreSQL), in the ANSI syntax, which a
    /// position also takes.
    ///
    /// # Errors
    /// A part's builder error; [`Error::InvalidRequest`] for fewer than two parts, a part with
    /// its own ORDER BY, LIMIT or OFFSET, an `INTERSECT` after another operator (whose
    /// precedence the databases disagree on), or a sort position outside the selected items;
    /// [`Error::Unsupported`] for `INTERSECT` / `EXCEPT` or their `ALL` forms where the
    /// dialect's [`Capabilities`](crate::dialect::Capabilities) say the database has none;
    /// an identifier the dialect refuses.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.to_sql_for(dialect, dialect.capabilities())
    }

    /// As [`CompoundStatement::to_sql`], with the operators checked against `caps` (an
    /// engine's, adjusted for the server it talks to) rather than the dialect's sheet.
    ///
    /// # Errors
    /// As [`CompoundStatement::to_sql`].
    pub fn to_sql_for(&self, dialect: &dyn Dialect, caps: &crate::dialect::Capabilities) -> Result<Statement> {
        let mut w = SqlWriter::new(dialect);
        let mut params = Vec::new();
        self.write(&mut w, &mut params, caps)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// Check each operator against `caps` and the precedence rule.
    fn check_operators(&self, dialect: &dyn Dialect, caps: &crate::dialect::Capabilities) -> Result<()> {
        for (i, op) in self.ops.iter().enumerate() {
            let all = matches!(op, SetOperator::IntersectAll | SetOperator::ExceptAll);
            let plain = !matches!(op, SetOperator::Union | SetOperator::UnionAll);
            if plain && !caps.intersect_except {
                return Err(Error::unsupported(op.keyword(), dialect.name()));
            }
            if all && !caps.intersect_except_all {
                return Err(Error::unsupported(op.keyword(), dialect.name()));
            }
            if op.is_intersect() && self.ops[..i].iter().any(|o| !o.is_intersect()) {
                return Err(Error::invalid_request(format!(
                    "{} after {}: PostgreSQL, MariaDB and MySQL evaluate INTERSECT first, SQLite from left to right; \
                     make the parts before it a subquery (`subquery_as` and `select_from`) or start with the INTERSECT",
                    op.keyword(),
                    self.ops[..i].iter().find(|o| !o.is_intersect()).map_or("UNION", |o| o.keyword())
                )));
            }
        }
        Ok(())
    }

    fn write(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>, caps: &crate::dialect::Capabilities) -> Result<()> {
        let dialect = w.dialect();
        if self.parts.len() < 2 {
            return Err(Error::invalid_request("a UNION, INTERSECT or EXCEPT needs at least two parts"));
        }
        self.check_operators(dialect, caps)?;
        for (i, p) in self.parts.iter().enumerate() {
            if let Some(e) = &p.error {
                return Err(e.clone());
            }
            if !p.base.order.is_empty() || p.base.limit.is_some() || p.base.offset.is_some() {
                return Err(Error::invalid_request(
                    "a part of a UNION, INTERSECT or EXCEPT may not have its own order_by, limit or offset \
                     (SQLite refuses them)",
                ));
            }
            if i > 0 {
                let op = self.ops.get(i - 1).copied().unwrap_or(SetOperator::Union);
                w.push(" ").push(op.keyword()).push(" ");
            }
            p.base.write_columns(w, params, &p.items, &p.group_by, &p.having, None)?;
        }
        let width = self.parts.first().map_or(0, |p| p.items.len());
        for (i, &(pos, descending)) in self.order.iter().enumerate() {
            if pos == 0 || pos > width {
                return Err(Error::invalid_request(format!(
                    "order_by_item({pos}): the compound select selects items 1 to {width}"
                )));
            }
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            let position = pos.to_string();
            if dialect.capabilities().nulls_sort_low {
                w.push(&position).push(if descending { " DESC" } else { " ASC" });
            } else {
                let nulls =
                    if descending { crate::sql::ast::NullsOrder::Last } else { crate::sql::ast::NullsOrder::First };
                let mut key = String::new();
                dialect.write_nulls_order(&mut key, &position, descending, nulls);
                w.push(&key);
            }
        }
        let mut tail = String::new();
        dialect.write_limit_offset(&mut tail, self.limit, self.offset)?;
        w.push(&tail);
        Ok(())
    }
}

impl SelectStatement {
    fn write_where(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        if !self.filters.is_empty() {
            w.push(" WHERE ");
            write_junction(w, params, &self.filters, true)?;
        }
        Ok(())
    }

    /// The SELECT with the limit replaced by `limit` (what `first()` and `one()` run: the
    /// smaller of the query's own limit and 1 or 2).
    fn render(&self, dialect: &dyn Dialect, limit: Option<u64>) -> Result<Statement> {
        if self.from_subquery.is_some() {
            return Err(Error::invalid_request("a SELECT of a model's rows reads its table, not a subquery"));
        }
        let wrap = (limit.is_some() || self.offset.is_some()) && self.joins.iter().any(|j| j.collection);
        if wrap {
            return self.render_wrapped(dialect, limit);
        }
        let mut w = SqlWriter::new(dialect);
        let mut params = Vec::new();
        if self.distinct_on.is_empty() {
            w.push(if self.distinct { "SELECT DISTINCT " } else { "SELECT " });
        } else {
            if !dialect.capabilities().distinct_on {
                return Err(Error::unsupported("SELECT DISTINCT ON", dialect.name()));
            }
            w.push("SELECT DISTINCT ON (");
            for (i, c) in self.distinct_on.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.column(c)?;
            }
            w.push(") ");
        }
        if let Some(t) = &self.through {
            w.ident(t.table.name)?.push(".").ident(t.owner_column)?.push(", ");
        }
        write_qualified_column_list(&mut w, self.table)?;
        self.write_join_columns(&mut w)?;
        w.push(" FROM ").ident(self.table.name)?;
        if let Some(t) = &self.through {
            w.push(" JOIN ").ident(t.table.name)?.push(" ON ");
            w.ident(t.table.name)?.push(".").ident(t.target_column)?.push(" = ");
            w.ident(self.table.name)?.push(".").ident(t.referenced)?;
        }
        self.write_table_joins(&mut w, &mut params)?;
        self.write_joins(&mut w, self.table.name)?;
        self.write_where(&mut w, &mut params)?;
        let mut first = true;
        for k in &self.order {
            w.push(if first { " ORDER BY " } else { ", " });
            first = false;
            self.write_key(&mut w, &mut params, k, None)?;
        }
        self.write_join_order(&mut w, first)?;
        dialect.write_limit_offset(&mut w.sql, limit, self.offset)?;
        if self.for_update && self.lock_is_the_write_lock(dialect)? {
            self.refuse_joined_for_update(dialect)?;
        } else if self.for_update {
            self.refuse_joined_for_update(dialect)?;
            dialect.write_for_update(&mut w.sql)?;
            let caps = dialect.capabilities();
            match self.lock_wait {
                LockWait::Wait => {}
                LockWait::NoWait if caps.lock_nowait => {
                    w.push(" NOWAIT");
                }
                LockWait::SkipLocked if caps.lock_skip_locked => {
                    w.push(" SKIP LOCKED");
                }
                LockWait::NoWait => return Err(Error::unsupported("SELECT … FOR UPDATE NOWAIT", dialect.name())),
                LockWait::SkipLocked => {
                    return Err(Error::unsupported("SELECT … FOR UPDATE SKIP LOCKED", dialect.name()))
                }
            };
        }
        Ok(Statement { sql: w.sql, params })
    }

    /// A LIMIT/OFFSET with a joined collection: the limit applies to the statement's own rows in
    /// a subquery (`AS anon_1`), and the joins hang from it (SQLAlchemy's shape).
    fn render_wrapped(&self, dialect: &dyn Dialect, limit: Option<u64>) -> Result<Statement> {
        if self.for_update {
            self.refuse_joined_for_update(dialect)?;
        }
        let plain = SelectStatement { joins: Vec::new(), through: None, ..self.clone() };
        let inner = plain.render(dialect, limit)?;
        let mut w = SqlWriter::new(dialect);
        w.placeholders = inner.params.len();
        w.push("SELECT ");
        for (i, c) in self.table.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident("anon_1")?.push(".").ident(c.name)?;
        }
        self.write_join_columns(&mut w)?;
        w.push(" FROM (").push(&inner.sql).push(") AS ").ident("anon_1")?;
        self.write_joins(&mut w, "anon_1")?;
        let mut first = true;
        let mut extra = Vec::new();
        for k in &self.order {
            w.push(if first { " ORDER BY " } else { ", " });
            first = false;
            self.write_key(&mut w, &mut extra, k, Some("anon_1"))?;
        }
        if !extra.is_empty() {
            return Err(Error::invalid("a sort key with a bound value cannot follow a LIMIT subquery"));
        }
        self.write_join_order(&mut w, first)?;
        Ok(Statement { sql: w.sql, params: inner.params })
    }

    fn write_table_joins(&self, w: &mut SqlWriter<'_>, params: &mut Vec<Value>) -> Result<()> {
        for j in &self.table_joins {
            let kw = if j.outer { " LEFT OUTER JOIN " } else { " JOIN " };
            let (near, near_col) = match j.via {
                Some((assoc, to_parent, to_target)) => {
                    w.push(kw).ident(assoc.name)?.push(" ON ");
                    w.ident(assoc.name)?.push(".").ident(to_parent)?.push(" = ");
                    w.ident(j.parent)?.push(".").ident(j.parent_column)?;
                    (assoc.name, to_target)
                }
                None => (j.parent, j.parent_column),
            };
            w.push(kw);
            match &j.derived {
                Some(sub) => {
                    sub.write(w, params)?;
                }
                None => {
                    w.ident(j.table.name)?;
                }
            }
            if let Some(a) = j.alias {
                w.push(" AS ").ident(a)?;
            }
            w.push(" ON ");
            w.ident(j.qualifier())?.push(".").ident(j.column)?.push(" = ");
            w.ident(near)?.push(".").ident(near_col)?;
        }
        Ok(())
    }

    /// `true` when `FOR UPDATE` is satisfied by the write lock the transaction holds
    /// ([`SelectStatement::write_lock_held`] where `Capabilities::for_update_under_write_intent`):
    /// rendered as nothing.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for `NOWAIT` / `SKIP LOCKED` there: the transaction waited for the
    /// lock at `BEGIN`, and no other writer runs whose rows could be skipped.
    fn lock_is_the_write_lock(&self, dialect: &dyn Dialect) -> Result<bool> {
        let caps = dialect.capabilities();
        if caps.select_for_update || !caps.for_update_under_write_intent || !self.write_lock_held {
            return Ok(false);
        }
        match self.lock_wait {
            LockWait::Wait => Ok(true),
            LockWait::NoWait => Err(Error::unsupported(
                "SELECT … FOR UPDATE NOWAIT (the database locks as a whole: a write_intent transaction waits \
                 for the lock at BEGIN, so there is no row lock to not wait for)",
                dialect.name(),
            )),
            LockWait::SkipLocked => Err(Error::unsupported(
                "SELECT … FOR UPDATE SKIP LOCKED (the database locks as a whole: while a write_intent \
                 transaction runs no other writer holds rows to skip; consumers run one after another)",
                dialect.name(),
            )),
        }
    }

    fn refuse_joined_for_update(&self, dialect: &dyn Dialect) -> Result<()> {
        if self.joins.is_empty() {
            return Ok(());
        }
        Err(Error::unsupported(
            "FOR UPDATE with a joined eager load (the joined rows are on the nullable side of an outer join); \
             use selectinload",
            dialect.name(),
        ))
    }

    /// Whether a sort column may hold NULL (`true` when it is not one of the table's).
    fn nullable(&self, col: &ColumnRef) -> bool {
        if col.table != self.table.name {
            return true;
        }
        self.table.columns.iter().find(|c| c.name == col.column).is_none_or(|c| c.nullable)
    }

    fn alias(&self, i: usize) -> String {
        format!("{}_{}", self.joins[i].table.name, i + 1)
    }

    fn write_join_columns(&self, w: &mut SqlWriter<'_>) -> Result<()> {
        for (i, j) in self.joins.iter().enumerate() {
            let alias = self.alias(i);
            for c in j.table.columns {
                w.push(", ").ident(&alias)?.push(".").ident(c.name)?;
            }
        }
        Ok(())
    }

    fn write_joins(&self, w: &mut SqlWriter<'_>, root: &str) -> Result<()> {
        for (i, j) in self.joins.iter().enumerate() {
            let parent = match j.parent {
                Some(p) if p < i => self.alias(p),
                Some(p) => return Err(Error::invalid(format!("eager join {i} hangs from a later join {p}"))),
                None => root.to_string(),
            };
            let alias = self.alias(i);
            let near = match j.via {
                Some((assoc, parent_col, target_col)) => {
                    let assoc_alias = format!("{}_{}", assoc.name, i + 1);
                    w.push(" LEFT OUTER JOIN ").ident(assoc.name)?.push(" AS ").ident(&assoc_alias)?.push(" ON ");
                    w.ident(&assoc_alias)?.push(".").ident(parent_col)?.push(" = ");
                    w.ident(&parent)?.push(".").ident(j.parent_column)?;
                    (assoc_alias, target_col)
                }
                None => (parent, j.parent_column),
            };
            w.push(" LEFT OUTER JOIN ").ident(j.table.name)?.push(" AS ").ident(&alias)?.push(" ON ");
            w.ident(&alias)?.push(".").ident(j.column)?.push(" = ");
            w.ident(&near.0)?.push(".").ident(near.1)?;
        }
        Ok(())
    }

    fn write_join_order(&self, w: &mut SqlWriter<'_>, mut first: bool) -> Result<()> {
        for (i, j) in self.joins.iter().enumerate() {
            let alias = self.alias(i);
            for (col, desc) in &j.order {
                w.push(if first { " ORDER BY " } else { ", " });
                first = false;
                let nullable = j.table.columns.iter().find(|c| c.name == *col).is_none_or(|c| c.nullable);
                write_order_key(w, &alias, col, *desc, None, nullable)?;
            }
        }
        Ok(())
    }

    /// The SELECT.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an identifier the dialect refuses; [`Error::Unsupported`]
    /// for `FOR UPDATE` (or an OFFSET form) the database lacks.
    pub fn to_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        self.render(dialect, self.limit)
    }

    /// The SELECT limited to at most `cap` rows (the query's own limit if smaller).
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn to_sql_capped(&self, dialect: &dyn Dialect, cap: u64) -> Result<Statement> {
        self.render(dialect, Some(self.limit.map_or(cap, |l| l.min(cap))))
    }

    /// `SELECT <items> FROM t [JOIN …] [WHERE …] [GROUP BY …] [HAVING …] [ORDER BY …]`: a SELECT
    /// of columns and expressions (`Session::select`) over this statement's table, joins,
    /// filters, order and limits. Eager joins and FOR UPDATE do not apply.
    ///
    /// # Errors
    /// An identifier the dialect refuses; [`Error::InvalidRequest`] for no item.
    pub fn to_sql_columns(
        &self,
        dialect: &dyn Dialect,
        items: &[crate::sql::ast::Scalar],
        group_by: &[crate::sql::ast::Scalar],
        having: &[Expr],
        limit: Option<u64>,
    ) -> Result<Statement> {
        let mut w = SqlWriter::new(dialect);
        let mut params = Vec::new();
        self.write_columns(&mut w, &mut params, items, group_by, having, limit)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// [`SelectStatement::to_sql_columns`] into a writer (a subquery continues its statement's
    /// placeholders).
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql_columns`].
    pub fn write_columns(
        &self,
        w: &mut SqlWriter<'_>,
        params: &mut Vec<Value>,
        items: &[crate::sql::ast::Scalar],
        group_by: &[crate::sql::ast::Scalar],
        having: &[Expr],
        limit: Option<u64>,
    ) -> Result<()> {
        if items.is_empty() {
            return Err(Error::invalid("a SELECT of columns needs at least one column"));
        }
        w.push(if self.distinct { "SELECT DISTINCT " } else { "SELECT " });
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            super::write_scalar(w, params, it)?;
        }
        w.push(" FROM ");
        match &self.from_subquery {
            Some(d) => {
                d.query.write(w, params)?;
                w.push(" AS ").ident(d.alias)?;
            }
            None => {
                w.ident(self.table.name)?;
            }
        }
        self.write_table_joins(w, params)?;
        self.write_where(w, params)?;
        for (i, g) in group_by.iter().enumerate() {
            w.push(if i == 0 { " GROUP BY " } else { ", " });
            super::write_scalar(w, params, g)?;
        }
        if !having.is_empty() {
            w.push(" HAVING ");
            write_junction(w, params, having, true)?;
        }
        for (i, k) in self.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            self.write_key(w, params, k, None)?;
        }
        w.dialect().write_limit_offset(&mut w.sql, limit, self.offset)?;
        Ok(())
    }

    /// One sort key: a column (qualified by `qualifier` instead of its table when given) or an
    /// expression.
    fn write_key(
        &self,
        w: &mut SqlWriter<'_>,
        params: &mut Vec<Value>,
        k: &OrderKey,
        qualifier: Option<&str>,
    ) -> Result<()> {
        match &k.expr {
            None => write_order_key(
                w,
                qualifier.unwrap_or(k.column.table),
                k.column.column,
                k.descending,
                k.nulls,
                self.nullable(&k.column),
            ),
            Some(e) => {
                if qualifier.is_some() {
                    return Err(Error::invalid(
                        "sorting by an expression with a LIMIT and a joined collection is not built yet",
                    ));
                }
                let mut sql = SqlWriter::new(w.dialect());
                sql.placeholders = w.placeholders;
                let before = params.len();
                super::write_scalar(&mut sql, params, e)?;
                w.placeholders = sql.placeholders;
                let start = w.sql.len();
                super::write_order_sql(w, &sql.sql, k.descending, k.nulls, true);
                // A dialect that emulates the NULL order repeats the expression: its bound values
                // would then be needed twice.
                if params.len() > before && w.sql[start..].matches(sql.sql.as_str()).count() > 1 {
                    return Err(Error::unsupported(
                        "a NULL order on a sort expression with bound values (write the value as a column, or \
                         sort by a column)",
                        w.dialect().name(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// `SELECT COUNT(*) FROM t WHERE …`; wrapped around the SELECT as a subquery (`AS anon_1`,
    /// SQLAlchemy's name) when the statement has a limit, an offset or DISTINCT, whose rows a
    /// plain COUNT would not count.
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn count_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        if !self.joins.is_empty() || self.through.is_some() {
            let plain = SelectStatement { joins: Vec::new(), through: None, ..self.clone() };
            return plain.count_sql(dialect);
        }
        let mut w = SqlWriter::new(dialect);
        if self.distinct || self.limit.is_some() || self.offset.is_some() {
            let inner = self.to_sql(dialect)?;
            w.push("SELECT COUNT(*) FROM (").push(&inner.sql).push(") AS ").ident("anon_1")?;
            return Ok(Statement { sql: w.sql, params: inner.params });
        }
        let mut params = Vec::new();
        w.push("SELECT COUNT(*) FROM ").ident(self.table.name)?;
        self.write_table_joins(&mut w, &mut params)?;
        self.write_where(&mut w, &mut params)?;
        Ok(Statement { sql: w.sql, params })
    }

    /// `SELECT EXISTS (<the SELECT>)`.
    ///
    /// # Errors
    /// As [`SelectStatement::to_sql`].
    pub fn exists_sql(&self, dialect: &dyn Dialect) -> Result<Statement> {
        let inner = self.to_sql(dialect)?;
        let mut sql = String::with_capacity(inner.sql.len() + 16);
        sql.push_str("SELECT EXISTS (");
        sql.push_str(&inner.sql);
        sql.push(')');
        Ok(Statement { sql, params: inner.params })
    }
}
