//! The generative [`Query`]: a session and a [`Select`] statement. Each method returns a new
//! query; nothing runs until `all()`, `first()`, `one()`, `one_or_none()`, `count()` or
//! `exists()`, which render the statement through the session's dialect and hand it to the
//! session to execute.

use super::{Handle, Load, Session};
use crate::expr::{Condition, Source};
use crate::model::Model;
use crate::select::{Joinable, OrderKeys, Select};
use athanor_core::error::{Error, Result};
use athanor_core::sql::Statement;
use athanor_core::value::Value;
use std::marker::PhantomData;

/// A SELECT of model `M` being built in a session (`session.query(Customer)`).
///
/// ```text
/// let adults = session.query::<Customer>()
///     .filter(Customer::age.ge(18))
///     .order_by(Customer::name.asc())
///     .all()?;
/// ```
///
/// The statement itself is plain data ([`Query::as_select`], [`crate::select()`]) and renders
/// without a session. (A runnable version is the `athanor` crate's front-page example, where
/// `#[derive(Model)]` is available.)
///
/// `J` lists the models joined with the [`Joinable`] methods (`join`, `outerjoin`, `join_as`,
/// `join_on`, `join_subquery`, …; `()` for none): conditions and sort keys may name columns of
/// `M` or of a joined model, and no other.
pub struct Query<'s, M: Model, J = (), E = M> {
    session: &'s Session,
    select: Select<M, J>,
    /// Loader options (`selectinload(…)`, …), each a path of steps.
    options: Vec<Vec<super::loading::Step>>,
    /// How `update` / `delete` keep loaded objects in step.
    sync: super::Synchronize,
    /// Rows per batch for [`Query::iter`] (`yield_per`).
    fetch: Option<usize>,
    /// Refresh the objects the identity map already holds from the rows ([`Query::populate_existing`]).
    populate: bool,
    /// What each row gives: `M`'s objects, or a tuple of models ([`QueryEntities`]).
    _joined: PhantomData<fn() -> (J, E)>,
}

/// The models a query has joined: `Joined<Post, ()>` after `.join(User::posts)`.
pub struct Joined<T, Rest>(PhantomData<fn() -> (T, Rest)>);

/// The join list of a dynamic query: `Query<'_, Book, Dynamic>` ([`Query::into_dynamic`],
/// [`Select::into_dynamic`]), Diesel's `into_boxed()`.
///
/// A typed query's joins change its type (`Query<'_, Book>` becomes `Query<'_, Book,
/// Joined<Tag, ()>>`), which is what lets the compiler refuse a filter on a model that is not
/// joined. A dynamic query keeps one type whatever it joins, so joins and filters can be added
/// conditionally (from a web request's optional parameters) to one `mut` variable. What moves
/// from compile time to run time is only *which sources are in the FROM*: a filter or sort key
/// on a model (alias, subquery) the query neither selects from nor joined is
/// [`Error::InvalidRequest`] when the query runs (or renders), and so is a relationship join
/// whose starting model is not in the query yet. Column types, values, operators and sort keys
/// stay checked by the compiler, and everything else — `order_by`, `limit`/`offset`, `count`,
/// `exists`, `all`/`first`/`one`, loader options, tuple rows — is the typed query's.
pub enum Dynamic {}

/// Where a model sits in a query (inferred; it keeps [`InQuery`]'s impls apart).
pub mod position {
    use std::marker::PhantomData;
    /// The query's own model.
    pub struct Root;
    /// The last joined model.
    pub struct Here;
    /// A model joined earlier.
    pub struct There<I>(PhantomData<I>);
    /// Any source of a [`Dynamic`](super::Dynamic) query: checked when the query runs.
    pub struct Checked;
}

/// Model `Self` is the root of a `Query<M, J>` or one of the models it joined (what lets
/// `filter(Post::score.ge(10))` compile after `.join(User::posts)`, and not before).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not in this query of `{M}`",
    label = "`{Self}` is used here, but it is neither the query's model nor joined",
    note = "join it first: `.join(<{M} or a joined model>::<relationship to {Self}>)`, `.join_as(<relationship>, <alias>)` for an alias, or `.join_on(<column of {Self}>, <column in the query>)`"
)]
pub trait InQuery<M, J, I> {
    /// The qualifier a [`Dynamic`] query looks for among its sources when it runs; `None` where
    /// the type already proved the source is there (every typed join list).
    #[doc(hidden)]
    const RUNTIME_CHECK: Option<&'static str> = None;
}
impl<M> InQuery<M, (), position::Root> for M {}
impl<M, T, R> InQuery<M, Joined<T, R>, position::Here> for T {}
impl<M, T, R, N, I> InQuery<M, Joined<T, R>, position::There<I>> for N
where
    N: InQuery<M, R, I>,
{
    const RUNTIME_CHECK: Option<&'static str> = <N as InQuery<M, R, I>>::RUNTIME_CHECK;
}
impl<M, N: Source> InQuery<M, Dynamic, position::Checked> for N {
    const RUNTIME_CHECK: Option<&'static str> = Some(N::QUALIFIER);
}

impl<M: Model, J, E> Clone for Query<'_, M, J, E> {
    fn clone(&self) -> Self {
        Query {
            session: self.session,
            select: self.select.clone(),
            options: self.options.clone(),
            sync: self.sync,
            fetch: self.fetch,
            populate: self.populate,
            _joined: PhantomData,
        }
    }
}

impl<M: Model, J, E> std::fmt::Debug for Query<'_, M, J, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.statement() {
            Ok(s) => write!(f, "Query({} {:?})", s.sql, s.params),
            Err(e) => write!(f, "Query(<{e}>)"),
        }
    }
}

impl<'s, M: Model, E> Query<'s, M, (), E> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Query::from_select(session, crate::select::select::<M>())
    }
}

impl<'s, M: Model, J, E> Query<'s, M, J, E> {
    /// A session and a typed select: what `Session::execute` runs.
    pub(crate) fn from_select(session: &'s Session, select: Select<M, J>) -> Self {
        Query {
            session,
            select,
            options: Vec::new(),
            sync: super::Synchronize::Fetch,
            fetch: None,
            populate: false,
            _joined: PhantomData,
        }
    }
}

impl<'s, M: Model, J, E> Joinable for Query<'s, M, J, E> {
    type Root = M;
    type Joins = J;
    type With<J2> = Query<'s, M, J2, E>;
    fn with_joins<J2>(self, f: impl FnOnce(Select<M, J>) -> Select<M, J>) -> Query<'s, M, J2, E> {
        Query {
            session: self.session,
            select: f(self.select).retype(),
            options: self.options,
            sync: self.sync,
            fetch: self.fetch,
            populate: self.populate,
            _joined: PhantomData,
        }
    }
}

/// A dynamic query's joins keep its type (see [`Dynamic`]).
impl<M: Model, E> Query<'_, M, Dynamic, E> {
    crate::select::dynamic_joins!();
}

impl<'s, M: Model, J, E> Query<'s, M, J, E> {
    /// The same query under one type whatever it joins later: `Query<'_, M, Dynamic>`, for
    /// joins and filters added conditionally (Diesel's `into_boxed()`). Sources named by its
    /// filters and sort keys are checked when it runs instead of by the compiler (see
    /// [`Dynamic`]); joins made before the call stay.
    ///
    /// ```text
    /// let mut q = session.query::<Book>().into_dynamic();
    /// if let Some(tag) = &params.tag {
    ///     q = q.join(Book::tags).filter(Tag::name.eq(tag.as_str()));
    /// }
    /// let page = q.order_by(Book::id.asc()).limit(20).all()?;
    /// ```
    pub fn into_dynamic(self) -> Query<'s, M, Dynamic, E> {
        self.with_joins(|s| s)
    }

    /// The session this query runs in.
    pub(super) fn session(&self) -> &'s Session {
        self.session
    }

    /// The statement as a session-free [`Select`], to render or reuse (`select` is the
    /// statement builder; this only lends the query's).
    pub fn as_select(&self) -> &Select<M, J> {
        &self.select
    }

    fn map(self, f: impl FnOnce(Select<M, J>) -> Select<M, J>) -> Self {
        Query {
            session: self.session,
            select: f(self.select),
            options: self.options,
            sync: self.sync,
            fetch: self.fetch,
            populate: self.populate,
            _joined: PhantomData,
        }
    }

    /// Add a condition on `M` or on a joined model (several filters are ANDed).
    pub fn filter<N, I>(self, condition: Condition<N>) -> Self
    where
        N: InQuery<M, J, I>,
    {
        self.map(|s| s.filter(condition))
    }

    /// Add `column = value` by column (or field) name, checked when the query runs
    /// (SQLAlchemy's `filter_by(name="ed")`). Prefer the typed [`Query::filter`].
    pub fn filter_by(self, column: &str, value: impl Into<Value>) -> Self {
        self.map(|s| s.filter_by(column, value))
    }

    /// Add sort keys on `M` or a joined model: one (`Customer::name.asc()`) or a tuple of them
    /// (`(Customer::age.desc(), Customer::name.asc())`).
    pub fn order_by<I>(self, keys: impl OrderKeys<M, J, I>) -> Self {
        self.map(|s| s.order_by(keys))
    }

    /// At most `n` rows.
    pub fn limit(self, n: u64) -> Self {
        self.map(|s| s.limit(n))
    }

    /// Skip `n` rows.
    pub fn offset(self, n: u64) -> Self {
        self.map(|s| s.offset(n))
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(self) -> Self {
        self.map(Select::distinct)
    }

    /// `SELECT … FOR UPDATE`: lock the rows until the transaction ends. On SQLite, which locks
    /// the whole database rather than rows, it runs (without the clause) when the session's
    /// transaction began with `write_intent` (`BEGIN IMMEDIATE`: no other transaction writes
    /// until this one ends), and fails with [`Error::Unsupported`] otherwise.
    pub fn with_for_update(self) -> Self {
        self.map(Select::with_for_update)
    }

    /// `FOR UPDATE NOWAIT` ([`Select::with_for_update_nowait`]).
    pub fn with_for_update_nowait(self) -> Self {
        self.map(Select::with_for_update_nowait)
    }

    /// `FOR UPDATE SKIP LOCKED` ([`Select::with_for_update_skip_locked`]).
    pub fn with_for_update_skip_locked(self) -> Self {
        self.map(Select::with_for_update_skip_locked)
    }

    /// `SELECT DISTINCT ON (col)` ([`Select::distinct_on`]; PostgreSQL only).
    pub fn distinct_on<T>(self, column: crate::expr::Column<M, T>) -> Self {
        self.map(|s| s.distinct_on(column))
    }

    /// The SELECT this query runs, with its parameters (to see the SQL).
    ///
    /// # Errors
    /// As [`Select::to_sql`].
    pub fn statement(&self) -> Result<Statement> {
        self.session_statement()?.to_sql(self.session.engine().dialect())
    }

    /// The statement as this session runs it: a `FOR UPDATE` query is marked when the
    /// transaction it runs in holds the database's write lock (`write_intent`), which stands in
    /// for `FOR UPDATE` where the database locks as a whole (SQLite: no clause is sent; see
    /// `Capabilities::for_update_under_write_intent`).
    fn session_statement(&self) -> Result<std::borrow::Cow<'_, athanor_core::sql::SelectStatement>> {
        self.check_locking()?;
        let st = self.select.statement()?;
        if st.for_update && self.session.holds_write_lock() {
            let mut st = st.clone();
            st.write_lock_held = true;
            return Ok(std::borrow::Cow::Owned(st));
        }
        Ok(std::borrow::Cow::Borrowed(st))
    }

    /// NOWAIT / SKIP LOCKED as the connected server reports them (an older MySQL or MariaDB
    /// lacks what the dialect's sheet offers).
    fn check_locking(&self) -> Result<()> {
        use athanor_core::sql::select::LockWait;
        let st = self.select.statement()?;
        let engine = self.session.engine();
        let caps = engine.capabilities();
        let (ok, what) = match st.lock_wait {
            LockWait::Wait => (true, ""),
            LockWait::NoWait => (caps.lock_nowait, "SELECT … FOR UPDATE NOWAIT"),
            LockWait::SkipLocked => (caps.lock_skip_locked, "SELECT … FOR UPDATE SKIP LOCKED"),
        };
        if ok || !st.for_update {
            return Ok(());
        }
        Err(Error::unsupported(
            format!("{what} (server {})", caps.server_version.as_deref().unwrap_or("unknown")),
            engine.dialect().name(),
        ))
    }

    /// The SQL text this query runs.
    ///
    /// # Errors
    /// As [`Select::to_sql`].
    pub fn sql(&self) -> Result<String> {
        self.statement().map(|s| s.sql)
    }

    fn capped(&self, cap: u64) -> Result<Statement> {
        self.session_statement()?.to_sql_capped(self.session.engine().dialect(), cap)
    }

    /// The number of matching rows (`SELECT COUNT(*)`; wrapped in a subquery when the query has
    /// a limit, an offset or DISTINCT).
    ///
    /// # Errors
    /// As [`Query::all`].
    pub fn count(&self) -> Result<u64> {
        let s = self.count_statement()?;
        let n: i64 = self.session.scalar(&s.sql, &s.params)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The COUNT statement.
    ///
    /// # Errors
    /// As [`Select::to_sql`].
    pub fn count_statement(&self) -> Result<Statement> {
        self.session_statement()?.count_sql(self.session.engine().dialect())
    }

    /// `true` when at least one row matches (`SELECT EXISTS (…)`).
    ///
    /// # Errors
    /// As [`Query::all`].
    pub fn exists(&self) -> Result<bool> {
        let s = self.session_statement()?.exists_sql(self.session.engine().dialect())?;
        self.session.scalar(&s.sql, &s.params)
    }
}

/// The terminal methods of a query of one model, and what only such a query offers (loader
/// options, streaming, bulk UPDATE/DELETE).
impl<'s, M: Model, J> Query<'s, M, J> {
    /// Load relationships of the results with these strategies (SQLAlchemy's
    /// `.options(selectinload(User.posts))`): `selectinload`, `joinedload`, `raiseload`,
    /// `lazyload`, `defaultload`, chained for nested paths. Several calls add up; a later option
    /// for the same path wins.
    ///
    /// ```text
    /// session.query::<User>()
    ///     .options(selectinload(User::posts).selectinload(Post::comments))   // 3 statements in all
    ///     .options(joinedload(Post::author))
    ///     .all()?;
    /// ```
    pub fn options<R: Model, L>(mut self, load: Load<R, L>) -> Self {
        self.options.push(load.steps);
        self
    }

    /// Whether loading needs the relationship loaders (options, or an eager default).
    fn eager(&self) -> bool {
        !self.options.is_empty()
            || M::RELATIONSHIPS.iter().any(|r| !matches!(r.lazy, crate::relation::LoadStrategy::Select))
    }

    fn run(&self, cap: Option<u64>) -> Result<Vec<Handle<M>>> {
        let _populating = self.session.populating(self.populate);
        if self.select.statement()?.for_update {
            // Row locks need a transaction, also in a session that reads without one (rendered
            // first: a database without row locks refuses before anything is sent).
            self.statement()?;
            self.session.ensure_transaction()?;
        }
        if self.eager() {
            return self.session.load_with_options::<M>(self.session_statement()?.into_owned(), &self.options, cap);
        }
        let s = match cap {
            Some(c) => self.capped(c)?,
            None => self.statement()?,
        };
        let mut out = self.session.load::<M>(&s.sql, &s.params)?;
        if !self.select.statement()?.table_joins.is_empty() {
            // A joined row per match: each object once, in the order of its first row.
            let mut seen = std::collections::HashSet::new();
            out.retain(|h| seen.insert(std::rc::Rc::as_ptr(&h.inner) as *const () as usize));
        }
        Ok(out)
    }

    /// Refresh the objects this query returns that the session already holds from their rows,
    /// as if they were expired (SQLAlchemy's `populate_existing()`): without it, an object in
    /// the identity map that is not expired keeps the values it was loaded with. Relationship
    /// fields of a refreshed object read as not loaded again, unless the query's loader options
    /// load them. Applies to `all`, `first`, `one` and `one_or_none`.
    ///
    /// Like the reload of an expired object, an object with unflushed edits (autoflush off) keeps
    /// them; SQLAlchemy overwrites them.
    pub fn populate_existing(mut self) -> Self {
        self.populate = true;
        self
    }

    /// All matching objects, in order (after autoflush).
    ///
    /// # Errors
    /// A rendering error, or the database's (the session then needs `rollback()`).
    pub fn all(&self) -> Result<Vec<Handle<M>>> {
        self.run(None)
    }

    /// Read the results `n` rows at a time when iterated ([`Query::iter`]), SQLAlchemy's
    /// `yield_per`. `all()` is not changed by it.
    pub fn yield_per(mut self, n: usize) -> Self {
        self.fetch = Some(n);
        self
    }

    /// Walk the matching objects in bounded memory: the rows come from the database in batches
    /// of the [`Query::yield_per`] size (1000 by default), through the identity map; objects the
    /// stream loaded that nobody holds leave the session when the next batch is read. The
    /// session's connection is busy until the iterator ends or is dropped: other work on the
    /// session is [`Error::InvalidRequest`] meanwhile. SQLite steps the statement, MySQL reads
    /// the rows one by one from the socket, PostgreSQL fetches from a cursor `n` rows at a time
    /// (`docs/expressions.md` has the measurements).
    ///
    /// ```text
    /// for user in session.query::<User>().order_by(User::id.asc()).yield_per(1000).iter()? {
    ///     let user = user?;
    /// }
    /// ```
    ///
    /// # Errors
    /// A rendering error; [`Error::InvalidRequest`] for `yield_per(0)` and for a query with
    /// eager relationship loading (options, or a relationship declared `lazy = "selectin"`,
    /// `"joined"` or `"raise"`: not built for streams). Each item may be the database's error,
    /// which ends the iteration (the session then needs `rollback()`).
    pub fn iter(&self) -> Result<super::QueryIter<'s, M>> {
        if self.eager() {
            return Err(Error::invalid_request(format!(
                "yield_per/iter() with eager relationship loading is not supported (query of {}): load the \
                 relationships with session.related() or use all()",
                M::TABLE.rust_name
            )));
        }
        let st = self.statement()?;
        let dedupe = !self.select.statement()?.table_joins.is_empty();
        let fetch = self.fetch.unwrap_or(super::stream::DEFAULT_YIELD_PER);
        let stream = self.session.start_stream(st.sql, st.params, fetch)?;
        Ok(super::stream::QueryIter::new(self.session, stream, dedupe))
    }

    /// The first matching object (`LIMIT 1`), or `None`.
    ///
    /// # Errors
    /// As [`Query::all`].
    pub fn first(&self) -> Result<Option<Handle<M>>> {
        Ok(self.run(Some(1))?.into_iter().next())
    }

    /// Exactly one object: [`Error::NotFound`] for none, [`Error::MultipleResults`] for more.
    ///
    /// # Errors
    /// Those two, and those of [`Query::all`].
    pub fn one(&self) -> Result<Handle<M>> {
        self.one_or_none()?.ok_or_else(|| Error::NotFound { what: self.describe() })
    }

    /// One object or `None`: [`Error::MultipleResults`] for more than one.
    ///
    /// # Errors
    /// That, and those of [`Query::all`].
    pub fn one_or_none(&self) -> Result<Option<Handle<M>>> {
        let mut rows = self.run(Some(2))?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(rows.pop()),
            _ => Err(Error::MultipleResults { what: self.describe() }),
        }
    }

    fn describe(&self) -> String {
        match self.statement() {
            Ok(s) => format!("{} where {}", M::TABLE.name, s.sql),
            Err(_) => M::TABLE.name.to_string(),
        }
    }

    /// How [`Query::update`] and [`Query::delete`] keep the session's loaded objects in step
    /// (SQLAlchemy's `synchronize_session`): `Synchronize::Fetch` (the default) reads the
    /// matching keys first; `Synchronize::None` does not.
    pub fn synchronize_session(mut self, sync: super::Synchronize) -> Self {
        self.sync = sync;
        self
    }

    /// `UPDATE <table> SET … WHERE <the query's filters>` in the session's transaction (after
    /// autoflush); the number of rows matched. Loaded objects of those rows get the new values
    /// (see [`Query::synchronize_session`] and the `bulk` module's limits).
    ///
    /// ```text
    /// let n = session.query::<Post>().filter(Post::score.lt(0)).update(|set| set.value(Post::score, 0))?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a query with a limit, offset, DISTINCT or FOR UPDATE, no
    /// column set, or a primary-key column set; the database's errors (the session then needs
    /// `rollback()`).
    pub fn update(&self, f: impl FnOnce(super::UpdateSet<M>) -> super::UpdateSet<M>) -> Result<u64> {
        let set = f(super::UpdateSet::new());
        self.session.bulk_update::<M>(self.select.statement()?, &set.values, self.sync)
    }

    /// `DELETE FROM <table> WHERE <the query's filters>` in the session's transaction (after
    /// autoflush); the number of rows deleted. Loaded objects of those rows become deleted.
    /// Relationship cascades do not apply (a bulk statement sees rows, not objects): children
    /// are left to the database's foreign keys.
    ///
    /// # Errors
    /// As [`Query::update`].
    pub fn delete(&self) -> Result<u64> {
        self.session.bulk_delete::<M>(self.select.statement()?, self.sync)
    }
}
