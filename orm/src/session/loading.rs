//! Loading relationships (SQLAlchemy's `orm/strategies.py` and `strategy_options.py`): the
//! loader options ([`selectinload`], [`joinedload`], [`raiseload`], [`lazyload`],
//! [`defaultload`]), the joined eager load built into a query's statement, the `IN` queries of
//! selectin loading, and `Session::related`, the one explicit lazy load.
//!
//! Statement counts are fixed by the plan, not by the data: a query with `selectinload` chains
//! `n` levels deep runs `1 + n` statements (more only when a level's keys exceed the database's
//! bind-parameter limit and are sent in chunks); `joinedload` adds no statement.

use super::collections::{typed_all, AnyHandle, LoadCtx, ModelMarker, ModelType, RelKind, Relationship};
use super::identity::{Key, KeyPart};
use super::integrity::is_database_error;
use super::loaders;
use super::state::{Handle, ObjectState};
use super::{Inner, Session};
use crate::expr::{ColumnRef, Expr};
use crate::model::Model;
use crate::relation::{LoadStrategy, ModelRef, RelationKind, RelationshipDef};
use athanor_core::engine::FastState;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::sql::select::{EagerJoin, Through};
use athanor_core::sql::SelectStatement;
use athanor_core::value::{Value, ValueRef};
use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The loaders' sets and maps: keyed by instance addresses and key parts, hashed like the
/// identity map (std's SipHash was a fifth of a selectin load's time).
type FastSet<T> = HashSet<T, FastState>;
type FastMap<K, V> = HashMap<K, V, FastState>;
use std::fmt;
use std::marker::PhantomData;

/// What one step of a loader option asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// A strategy.
    Use(LoadStrategy),
    /// The relationship's own default (a path step only: `defaultload`).
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Step {
    owner: TypeId,
    idx: usize,
    ask: Ask,
}

/// A loader option: a path of relationships from model `R`, ending at model `L`, each step with
/// the strategy to load it with. Built by [`selectinload`], [`joinedload`], [`raiseload`],
/// [`lazyload`] or [`defaultload`] and chained to go deeper:
/// `selectinload(User::posts).selectinload(Post::comments)`. Each step must start from the
/// model the previous one reached, or the chain does not compile.
///
/// Passed to `Query::options`. A chain that starts at the query's model applies from the
/// query's objects down that exact path; a chain that starts at another model applies wherever
/// the load reaches objects of that model (`joinedload(Post::author)` in a query of users that
/// also loads their posts).
pub struct Load<R, L> {
    pub(super) steps: Vec<Step>,
    _m: PhantomData<fn() -> (R, L)>,
}

impl<R, L> Clone for Load<R, L> {
    fn clone(&self) -> Self {
        Load { steps: self.steps.clone(), _m: PhantomData }
    }
}

impl<R, L> fmt::Debug for Load<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.steps.iter().map(|s| (s.idx, s.ask))).finish()
    }
}

fn start<P: Model, T: Model, K>(rel: Relationship<P, T, K>, ask: Ask) -> Load<P, T> {
    Load { steps: vec![Step { owner: TypeId::of::<P>(), idx: rel.index(), ask }], _m: PhantomData }
}

/// Load the relationship with one `SELECT … WHERE key IN (…)` for all the objects that reached
/// it (SQLAlchemy's `selectinload`).
pub fn selectinload<P: Model, T: Model, K>(rel: Relationship<P, T, K>) -> Load<P, T> {
    start(rel, Ask::Use(LoadStrategy::Selectin))
}

/// Load the relationship by a `LEFT OUTER JOIN` in the statement that loads its owners
/// (SQLAlchemy's `joinedload`). With a collection and a LIMIT/OFFSET, the owners are limited in
/// a subquery first. Not with `with_for_update` ([`Error::Unsupported`]).
pub fn joinedload<P: Model, T: Model, K>(rel: Relationship<P, T, K>) -> Load<P, T> {
    start(rel, Ask::Use(LoadStrategy::Joined))
}

/// Forbid loading the relationship on demand: `Session::related` on the loaded objects fails
/// with [`Error::LazyLoadForbidden`] (SQLAlchemy's `raiseload`).
pub fn raiseload<P: Model, T: Model, K>(rel: Relationship<P, T, K>) -> Load<P, T> {
    start(rel, Ask::Use(LoadStrategy::Raise))
}

/// Leave the relationship to `Session::related` (SQLAlchemy's `lazyload`), overriding an eager
/// default.
pub fn lazyload<P: Model, T: Model, K>(rel: Relationship<P, T, K>) -> Load<P, T> {
    start(rel, Ask::Use(LoadStrategy::Select))
}

/// Keep the relationship's own strategy, to set options deeper on the path (SQLAlchemy's
/// `defaultload`).
pub fn defaultload<P: Model, T: Model, K>(rel: Relationship<P, T, K>) -> Load<P, T> {
    start(rel, Ask::Default)
}

impl<R, L: Model> Load<R, L> {
    fn then<T: Model, K>(mut self, rel: Relationship<L, T, K>, ask: Ask) -> Load<R, T> {
        self.steps.push(Step { owner: TypeId::of::<L>(), idx: rel.index(), ask });
        Load { steps: self.steps, _m: PhantomData }
    }
    /// Then load `rel` of the objects reached with [`selectinload`].
    pub fn selectinload<T: Model, K>(self, rel: Relationship<L, T, K>) -> Load<R, T> {
        self.then(rel, Ask::Use(LoadStrategy::Selectin))
    }
    /// Then load `rel` of the objects reached with [`joinedload`].
    pub fn joinedload<T: Model, K>(self, rel: Relationship<L, T, K>) -> Load<R, T> {
        self.then(rel, Ask::Use(LoadStrategy::Joined))
    }
    /// Then forbid loading `rel` on demand ([`raiseload`]).
    pub fn raiseload<T: Model, K>(self, rel: Relationship<L, T, K>) -> Load<R, T> {
        self.then(rel, Ask::Use(LoadStrategy::Raise))
    }
    /// Then leave `rel` to `Session::related` ([`lazyload`]).
    pub fn lazyload<T: Model, K>(self, rel: Relationship<L, T, K>) -> Load<R, T> {
        self.then(rel, Ask::Use(LoadStrategy::Select))
    }
    /// Then keep `rel`'s own strategy ([`defaultload`]).
    pub fn defaultload<T: Model, K>(self, rel: Relationship<L, T, K>) -> Load<R, T> {
        self.then(rel, Ask::Default)
    }
}

type Path = Vec<(TypeId, usize)>;

/// The options of one load, and the model it starts from.
pub(super) struct Plan<'a> {
    pub(super) root: TypeId,
    pub(super) options: &'a [Vec<Step>],
}

impl Plan<'_> {
    /// The strategy for relationship `idx` of `owner`, reached by `path`: the last option that
    /// names this step, else the relationship's default.
    fn strategy(
        &self,
        path: &[(TypeId, usize)],
        owner: TypeId,
        idx: usize,
        rel: &RelationshipDef,
    ) -> (LoadStrategy, bool) {
        let full_len = path.len() + 1;
        let at = |i: usize| if i < path.len() { path[i] } else { (owner, idx) };
        let mut found = None;
        for chain in self.options {
            let Some(first) = chain.first() else { continue };
            let anchored = first.owner == self.root;
            for k in 1..=chain.len() {
                let prefix = &chain[..k];
                let matches = if anchored {
                    k == full_len && prefix.iter().enumerate().all(|(i, s)| (s.owner, s.idx) == at(i))
                } else {
                    k <= full_len && prefix.iter().enumerate().all(|(i, s)| (s.owner, s.idx) == at(full_len - k + i))
                };
                if matches {
                    if let Ask::Use(s) = prefix[k - 1].ask {
                        found = Some(s);
                    }
                }
            }
        }
        match found {
            Some(s) => (s, true),
            None => (rel.lazy, false),
        }
    }
}

/// A joined eager load in a statement: which relationship, hanging from which node.
struct JoinNode {
    parent: Option<usize>,
    rel: &'static RelationshipDef,
    /// The relationship's position among its owner's.
    idx: usize,
}

/// The joined loads of a statement that loads `model` objects reached by `path`, depth first.
fn join_tree(plan: &Plan<'_>, model: ModelRef, path: &Path, parent: Option<usize>, out: &mut Vec<JoinNode>) {
    for (idx, rel) in model.relationships().iter().enumerate() {
        let (s, explicit) = plan.strategy(path, model.type_id(), idx, rel);
        if s != LoadStrategy::Joined {
            continue;
        }
        let step = (model.type_id(), idx);
        // A relationship's own `lazy = "joined"` does not recurse into itself (a tree would
        // never end); an explicit option path may, to its own depth. A hard bound besides.
        if (!explicit && path.contains(&step)) || path.len() >= 16 {
            continue;
        }
        out.push(JoinNode { parent, rel, idx });
        let me = out.len() - 1;
        let mut sub = path.clone();
        sub.push(step);
        join_tree(plan, rel.target, &sub, Some(me), out);
    }
}

fn eager_join(n: &JoinNode) -> EagerJoin {
    let rel = n.rel;
    let owner_cols = rel.owner.columns;
    let target = rel.target.table();
    let order: Vec<(&'static str, bool)> = if rel.is_collection() {
        rel.order_keys().into_iter().filter_map(|(c, d)| target.columns.get(c).map(|c| (c.name, d))).collect()
    } else {
        Vec::new()
    };
    let name = |cols: &'static [athanor_core::schema::ColumnDef], i: usize| cols.get(i).map_or("?", |c| c.name);
    let via = rel.secondary.map(|s| (s, name(s.columns, rel.secondary_local), name(s.columns, rel.secondary_remote)));
    EagerJoin {
        parent: n.parent,
        parent_column: name(owner_cols, rel.local),
        table: target,
        column: name(target.columns, rel.remote),
        via,
        collection: rel.is_collection(),
        order,
    }
}

/// A row seen from a column offset: the cells of one table in a joined row.
pub(super) struct OffsetRow<'a> {
    pub(super) row: &'a dyn Row,
    pub(super) offset: usize,
    pub(super) len: usize,
}

impl Row for OffsetRow<'_> {
    fn len(&self) -> usize {
        self.len
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        if idx >= self.len {
            return Err(Error::invalid_request(format!(
                "no column {idx} in a joined row part of {} columns",
                self.len
            )));
        }
        self.row.get(self.offset + idx)
    }
}

/// What a load statement returned.
struct Loaded {
    /// The statement's own objects, each once, in the order first seen.
    roots: Vec<AnyHandle>,
    /// For a many-to-many load: (the owner's key, the object) per row.
    through: Vec<(Value, AnyHandle)>,
    /// Per join node: the parent objects in order with their related objects.
    joined: Vec<Vec<(AnyHandle, Vec<AnyHandle>)>>,
}

impl Session {
    /// Run a load statement: decode each row's objects through the identity map (no autoflush:
    /// the caller did it).
    fn run_load(
        &self,
        st: &athanor_core::sql::Statement,
        model: &'static dyn ModelType,
        through: bool,
        nodes: &[JoinNode],
    ) -> Result<Loaded> {
        let node_loaders = nodes.iter().map(|n| loaders::loader(n.rel.target)).collect::<Result<Vec<_>>>()?;
        let weak = Rc::downgrade(&self.shared);
        let mut inner = self.inner();
        inner.ensure_read_conn()?;
        let origin = inner.next_origin();
        let refs: Vec<ValueRef<'_>> = st.params.iter().map(Value::as_ref).collect();
        let mut out =
            Loaded { roots: Vec::new(), through: Vec::new(), joined: nodes.iter().map(|_| Vec::new()).collect() };
        let mut seen: FastSet<usize> = FastSet::with_capacity_and_hasher(64, FastState::default());
        let mut joined_at: Vec<FastMap<usize, (usize, FastSet<usize>)>> =
            nodes.iter().map(|_| FastMap::default()).collect();
        let root_len = model.table().columns.len();
        let first = usize::from(through);
        // Each row's objects per join node (one buffer for all rows).
        let mut here: Vec<Option<AnyHandle>> = Vec::with_capacity(nodes.len());
        let r = {
            let Inner { conn, identity, .. } = &mut *inner;
            let conn = conn.as_mut().ok_or_else(|| Error::invalid_request("no connection"))?;
            let mut ctx = LoadCtx { identity, session: &weak, origin };
            conn.query_read_refs(&st.sql, &refs, &mut |row| {
                let part = OffsetRow { row, offset: first, len: root_len };
                let Some(root) = model.load_row(&mut ctx, &part)? else {
                    return Err(Error::invalid_request(format!("a {} row without a key", model.table().name)));
                };
                if through {
                    out.through.push((row.get(0)?.to_owned(), root.clone()));
                }
                if seen.insert(root.addr()) {
                    out.roots.push(root.clone());
                }
                let mut offset = first + root_len;
                here.clear();
                for (i, n) in nodes.iter().enumerate() {
                    let len = n.rel.target.table().columns.len();
                    let part = OffsetRow { row, offset, len };
                    offset += len;
                    let parent = match n.parent {
                        None => Some(root.clone()),
                        Some(p) => here.get(p).cloned().flatten(),
                    };
                    let child = match &parent {
                        Some(_) => node_loaders[i].load_row(&mut ctx, &part)?,
                        None => None,
                    };
                    if let Some(parent) = parent {
                        let list = &mut out.joined[i];
                        let (at, members) = joined_at[i].entry(parent.addr()).or_insert_with(|| {
                            list.push((parent.clone(), Vec::new()));
                            (list.len() - 1, FastSet::default())
                        });
                        if let Some(c) = &child {
                            if members.insert(c.addr()) {
                                list[*at].1.push(c.clone());
                            }
                        }
                    }
                    here.push(child);
                }
                Ok(())
            })
        };
        if let Err(e) = &r {
            if is_database_error(e) {
                inner.read_failed(e);
            }
        }
        r?;
        drop(inner);
        for (i, n) in nodes.iter().enumerate() {
            let idx = n.idx;
            for (parent, members) in std::mem::take(&mut out.joined[i]) {
                fill(&parent, idx, members.clone())?;
                out.joined[i].push((parent, members));
            }
        }
        Ok(out)
    }

    /// Load the objects of `stmt` (a SELECT of `M`'s columns) with the plan's options: the
    /// joined loads in the statement itself, then the selectin loads level by level.
    pub(super) fn load_with_options<M: Model>(
        &self,
        mut stmt: SelectStatement,
        options: &[Vec<Step>],
        cap: Option<u64>,
    ) -> Result<Vec<Handle<M>>> {
        self.prepare_read()?;
        loaders::ensure::<M>();
        let model = ModelRef::of::<M>();
        let plan = Plan { root: TypeId::of::<M>(), options };
        let mut nodes = Vec::new();
        join_tree(&plan, model, &Vec::new(), None, &mut nodes);
        stmt.joins = nodes.iter().map(eager_join).collect();
        let engine = self.engine();
        let dialect = engine.dialect();
        let st = match cap {
            Some(c) => stmt.to_sql_capped(dialect, c)?,
            None => stmt.to_sql(dialect)?,
        };
        let loaded = self.run_load(&st, &ModelMarker::<M>::NEW, false, &nodes)?;
        let mut visited = FastSet::default();
        self.after_load(&plan, &loaded.roots, model, &Vec::new(), &mut visited)?;
        typed_all::<M>(&loaded.roots)
    }

    /// After `objs` of `model` (reached by `path`) are loaded: forbid, or load by selectin, or
    /// descend into joined results, per relationship.
    fn after_load(
        &self,
        plan: &Plan<'_>,
        objs: &[AnyHandle],
        model: ModelRef,
        path: &Path,
        visited: &mut FastSet<(usize, usize)>,
    ) -> Result<()> {
        if objs.is_empty() {
            return Ok(());
        }
        for (idx, rel) in model.relationships().iter().enumerate() {
            let (strategy, _) = plan.strategy(path, model.type_id(), idx, rel);
            if strategy == LoadStrategy::Select {
                continue;
            }
            visited.reserve(objs.len());
            let fresh: Vec<AnyHandle> = objs.iter().filter(|o| visited.insert((o.addr(), idx))).cloned().collect();
            if fresh.is_empty() {
                continue;
            }
            let mut sub = path.clone();
            sub.push((model.type_id(), idx));
            match strategy {
                LoadStrategy::Select => {}
                LoadStrategy::Raise => {
                    for o in &fresh {
                        o.0.with_relation_mut(idx, &mut |f| {
                            f.forbid();
                            Ok(())
                        })?;
                    }
                }
                LoadStrategy::Selectin | LoadStrategy::Joined => {
                    if strategy == LoadStrategy::Selectin || fresh.iter().any(|o| !is_loaded(o, idx)) {
                        let need: Vec<AnyHandle> = fresh.iter().filter(|o| !is_loaded(o, idx)).cloned().collect();
                        self.select_in(plan, rel, idx, &need, &sub)?;
                    }
                    let mut children = Vec::new();
                    let mut seen = FastSet::with_capacity_and_hasher(fresh.len() * 4, FastState::default());
                    for o in &fresh {
                        o.0.with_relation(idx, &mut |f| {
                            for m in f.members() {
                                if seen.insert(m.addr()) {
                                    children.push(m);
                                }
                            }
                        })?;
                    }
                    self.after_load(plan, &children, rel.target, &sub, visited)?;
                }
            }
        }
        Ok(())
    }

    /// Selectin loading of relationship `rel` (position `idx`) for `need`: one `IN` query per
    /// chunk of keys (none for a many-to-one whose targets are all in the identity map).
    fn select_in(
        &self,
        plan: &Plan<'_>,
        rel: &'static RelationshipDef,
        idx: usize,
        need: &[AnyHandle],
        path: &Path,
    ) -> Result<()> {
        if need.is_empty() {
            return Ok(());
        }
        let target = rel.target;
        let ttable = target.table();
        // The owners by the value their side of the relationship compares.
        let mut owners: Vec<(Value, Vec<AnyHandle>)> = Vec::new();
        let mut at: FastMap<KeyPart, usize> = FastMap::with_capacity_and_hasher(need.len(), FastState::default());
        for o in need {
            let v = o.0.column(rel.local)?;
            if matches!(v, Value::Null) {
                fill(o, idx, Vec::new())?;
                continue;
            }
            let k = KeyPart::from_value(v.as_ref(), rel.owner, rel.local)?;
            match at.get(&k) {
                Some(&i) => owners[i].1.push(o.clone()),
                None => {
                    at.insert(k, owners.len());
                    owners.push((v, vec![o.clone()]));
                }
            }
        }
        let mut found: FastMap<KeyPart, Vec<AnyHandle>> =
            FastMap::with_capacity_and_hasher(need.len(), FastState::default());
        let mut keys: Vec<Value> = owners.iter().map(|(v, _)| v.clone()).collect();
        if rel.kind == RelationKind::ManyToOne && crate::relation::single_primary_key(ttable) == rel.remote {
            // Targets already in the identity map need no SQL.
            let inner = self.inner();
            keys.retain(|v| {
                let Ok(key) = Key::from_values(std::slice::from_ref(v), ttable) else { return true };
                match inner.identity.get_erased(target.type_id(), &key) {
                    Some(i) if !i.meta().borrow().expired && i.meta().borrow().state == ObjectState::Persistent => {
                        if let Ok(k) = KeyPart::from_value(v.as_ref(), rel.owner, rel.local) {
                            found.insert(k, vec![AnyHandle(i)]);
                        }
                        false
                    }
                    _ => true,
                }
            });
        }
        let engine = self.engine();
        let dialect = engine.dialect();
        // The engine's capabilities: the backend may report a lower limit than the dialect's sheet.
        let chunk = engine.capabilities().max_bind_params.clamp(1, 30_000);
        let mut nodes = Vec::new();
        join_tree(plan, target, path, None, &mut nodes);
        for part in keys.chunks(chunk) {
            let (stmt, through) = select_in_statement(rel, part, &nodes)?;
            let st = stmt.to_sql(dialect)?;
            let loaded = self.run_load(&st, loaders::loader(target)?, through, &nodes)?;
            if through {
                for (owner_key, child) in loaded.through {
                    let k = KeyPart::from_value(owner_key.as_ref(), rel.owner, rel.local)?;
                    found.entry(k).or_default().push(child);
                }
            } else {
                // The value each object holds on the compared column groups it under its owner.
                for child in loaded.roots {
                    let v = child.0.column(rel.remote)?;
                    if matches!(v, Value::Null) {
                        continue;
                    }
                    let k = KeyPart::from_value(v.as_ref(), ttable, rel.remote)?;
                    found.entry(k).or_default().push(child);
                }
            }
        }
        for (v, mut list) in owners {
            let k = KeyPart::from_value(v.as_ref(), rel.owner, rel.local)?;
            let members = found.remove(&k).unwrap_or_default();
            let last = list.pop();
            for o in list {
                fill(&o, idx, members.clone())?;
            }
            if let Some(o) = last {
                fill(&o, idx, members)?;
            }
        }
        Ok(())
    }

    /// The related objects of `h` through `rel`: from memory when the field is loaded (and the
    /// object not expired), else by one SELECT (after autoflush), which also fills the field.
    /// The target model's own eager defaults (`lazy = "selectin"`, `"joined"`) apply below.
    ///
    /// ```text
    /// let posts: Vec<Handle<Post>> = session.related(&ann, User::posts)?;
    /// let author: Option<Handle<User>> = session.related(&post, Post::author)?;
    /// ```
    ///
    /// # Errors
    /// [`Error::LazyLoadForbidden`] when the field is not loaded and the relationship is marked
    /// `raise` (by `raiseload` or `lazy = "raise"`); [`Error::LazyLoadInLoop`] in a session made
    /// with `lazy_loads(LazyLoads::Raise)` when the load would send a statement for a second
    /// object of the same query result (nothing is sent); [`Error::DetachedInstance`] for a detached
    /// object whose field is not loaded (SQLAlchemy's `DetachedInstanceError`: `add_handle` it
    /// first); [`Error::InvalidRequest`] for an object of another session; the database's errors.
    pub fn related<P: Model, T: Model, K: RelKind>(
        &self,
        h: &Handle<P>,
        rel: Relationship<P, T, K>,
    ) -> Result<K::Loaded<T>> {
        let def = rel.def()?;
        let idx = rel.index();
        loaders::ensure::<P>();
        let (state, expired, owned) = {
            let m = h.inner.meta().borrow();
            (m.state, m.expired, self.owns(&m))
        };
        let mut loaded = false;
        let mut forbidden = false;
        let mut members = Vec::new();
        h.inner.with_relation(idx, &mut |f| {
            loaded = f.is_loaded();
            forbidden = f.is_forbidden();
            members = f.members();
        })?;
        if loaded && (!expired || state != ObjectState::Persistent) {
            return Ok(K::wrap(typed_all::<T>(&members)?));
        }
        if forbidden || (!loaded && def.lazy == LoadStrategy::Raise) {
            return Err(Error::LazyLoadForbidden { model: P::TABLE.rust_name, relationship: def.name });
        }
        if state == ObjectState::Detached {
            return Err(Error::DetachedInstance {
                model: P::TABLE.rust_name,
                operation: format!("load {}", def.describe()),
            });
        }
        let pending = state == ObjectState::Pending;
        if !owned || !(pending || state == ObjectState::Persistent) {
            return Err(Error::invalid_request(format!(
                "{} of a {state:?} {} cannot be loaded: it is not in this session",
                def.describe(),
                P::TABLE.rust_name
            )));
        }
        if pending && def.is_collection() {
            // A new object's collections hold what was put in them: nothing is in the database.
            return Ok(K::wrap(typed_all::<T>(&members)?));
        }
        // (A pending object's many-to-one is looked up by its foreign key, after autoflush.)
        let me = AnyHandle::from(h);
        let origin = super::lazy::origin_of(&h.inner.meta().borrow());
        if origin != 0 && !super::lazy::served_from_memory(&self.inner(), def, &me) {
            // N+1 detection (`SessionMaker::lazy_loads`): before anything is sent.
            self.check_lazy_load(origin, me.addr(), (TypeId::of::<P>(), P::TABLE.rust_name), idx, def.name)?;
        }
        self.prepare_read()?;
        me.0.with_relation_mut(idx, &mut |f| {
            f.reset();
            Ok(())
        })?;
        let plan = Plan { root: TypeId::of::<P>(), options: &[] };
        let path = vec![(TypeId::of::<P>(), idx)];
        self.select_in(&plan, def, idx, std::slice::from_ref(&me), &path)?;
        me.0.with_relation(idx, &mut |f| members = f.members())?;
        let mut visited = FastSet::default();
        self.after_load(&plan, &members, def.target, &path, &mut visited)?;
        Ok(K::wrap(typed_all::<T>(&members)?))
    }
}

fn is_loaded(o: &AnyHandle, idx: usize) -> bool {
    let mut loaded = false;
    let _ = o.0.with_relation(idx, &mut |f| loaded = f.is_loaded());
    loaded
}

/// Fill a relationship field that is not loaded (a loaded one is kept: like an object's
/// columns, it changes only when the object is expired and reloaded).
///
/// A one-to-many collection also sets its children's many-to-one side where that is not
/// loaded (`post.author` after loading `user.posts`): no statement is needed for it.
fn fill(o: &AnyHandle, idx: usize, members: Vec<AnyHandle>) -> Result<()> {
    let mut filled = false;
    let mut give = Some(members);
    o.0.with_relation_mut(idx, &mut |f| {
        if f.is_loaded() {
            return Ok(());
        }
        filled = true;
        f.set_members(give.take().unwrap_or_default())
    })?;
    let members = match give {
        Some(m) => m,
        None => {
            let mut now = Vec::new();
            o.0.with_relation(idx, &mut |f| now = f.members())?;
            now
        }
    };
    let rel = &o.0.relationships()[idx];
    if filled && rel.kind == RelationKind::OneToMany {
        if let Some((rev_idx, rev)) = rel.reverse() {
            if rev.kind == RelationKind::ManyToOne {
                for m in &members {
                    m.0.with_relation_mut(rev_idx, &mut |f| if f.is_loaded() { Ok(()) } else { f.link(o) })?;
                }
            }
        }
    }
    Ok(())
}

impl Session {
    /// Load relationship `idx` of `owners` now, replacing what their fields hold (no
    /// autoflush: the flush calls this for the children of deleted objects). One `IN` query.
    pub(super) fn load_related_many(
        &self,
        rel: &'static RelationshipDef,
        idx: usize,
        owners: &[AnyHandle],
    ) -> Result<()> {
        let Some(first) = owners.first() else { return Ok(()) };
        for o in owners {
            o.0.with_relation_mut(idx, &mut |f| {
                f.reset();
                Ok(())
            })?;
        }
        let ty = first.0.model().type_id();
        let plan = Plan { root: ty, options: &[] };
        self.select_in(&plan, rel, idx, owners, &vec![(ty, idx)])
    }
}

/// The `IN` query of [`Session::select_in`] for one chunk of keys: the target table filtered on
/// the compared column (through the association table for a many-to-many, which the second
/// value says), in the relationship's order, with the eager joins below it.
fn select_in_statement(
    rel: &'static RelationshipDef,
    part: &[Value],
    nodes: &[JoinNode],
) -> Result<(SelectStatement, bool)> {
    let ttable = rel.target.table();
    let mut stmt = SelectStatement::new(ttable);
    let (filter_col, through) = match rel.kind {
        RelationKind::ManyToMany => {
            let assoc = rel
                .secondary
                .ok_or_else(|| Error::invalid_request(format!("{} has no association table", rel.describe())))?;
            let col = |i: usize| assoc.columns.get(i).map_or("?", |c| c.name);
            stmt.through = Some(Through {
                table: assoc,
                owner_column: col(rel.secondary_local),
                target_column: col(rel.secondary_remote),
                referenced: ttable.columns.get(rel.remote).map_or("?", |c| c.name),
            });
            (ColumnRef::new(assoc.name, col(rel.secondary_local)), true)
        }
        _ => (ColumnRef::new(ttable.name, ttable.columns.get(rel.remote).map_or("?", |c| c.name)), false),
    };
    stmt.filters.push(Expr::InList { column: filter_col, values: part.to_vec(), negated: false });
    if rel.is_collection() {
        for (c, desc) in rel.order_keys() {
            if let Some(col) = ttable.columns.get(c) {
                stmt.order.push(crate::expr::OrderKey::new(ColumnRef::new(ttable.name, col.name), desc));
            }
        }
    }
    stmt.joins = nodes.iter().map(eager_join).collect();
    Ok((stmt, through))
}
