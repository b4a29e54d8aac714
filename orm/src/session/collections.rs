//! Relationship fields (SQLAlchemy's `orm/collections.py` and the relationship side of
//! `attributes.py`): [`HasMany`], [`ManyToMany`] and [`BelongsTo`] hold handles of related
//! objects, or "not loaded". Reading them never does I/O; `Session::related` loads them.
//!
//! The session sees a field through the object-safe [`AnyRelation`] and the related model
//! through [`ModelType`], so the unit of work and the loaders are written once for every model.

use super::identity::IdentityMap;
use super::state::{Erased, Handle};
use super::{identity_row, Shared};
use crate::model::Model;
use crate::relation::RelationshipDef;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::schema::TableDef;
use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

/// A handle of any model (the session's view of a related object).
#[doc(hidden)]
#[derive(Clone)]
pub struct AnyHandle(pub(super) Rc<dyn Erased>);

impl AnyHandle {
    pub(super) fn ptr_eq(&self, other: &AnyHandle) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
    pub(super) fn addr(&self) -> usize {
        Rc::as_ptr(&self.0) as *const () as usize
    }
    fn typed<T: Model>(&self) -> Result<Handle<T>> {
        match Handle::from_erased(self.0.clone()) {
            Some(h) => Ok(h),
            None => Err(Error::invalid_request(format!(
                "a {} cannot be related where a {} is expected",
                self.0.table().rust_name,
                T::TABLE.rust_name
            ))),
        }
    }
}

impl<T: Model> From<&Handle<T>> for AnyHandle {
    fn from(h: &Handle<T>) -> Self {
        AnyHandle(h.inner.clone())
    }
}

impl fmt::Debug for AnyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(&*self.0, f)
    }
}

/// `Post(3)`, or `Post(new)` before the key is known: no recursion into related objects.
fn describe(i: &dyn Erased, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match &i.meta().try_borrow().ok().and_then(|m| m.key.clone()) {
        Some(k) => write!(f, "{}({k})", i.table().rust_name),
        None => write!(f, "{}(new)", i.table().rust_name),
    }
}

/// What the session needs of a relationship field, whatever its kind and target.
///
/// Implemented by [`HasMany`], [`ManyToMany`] and [`BelongsTo`]; used by the code
/// `#[derive(Model)]` writes.
#[doc(hidden)]
pub trait AnyRelation {
    /// Holds the related objects (possibly none).
    fn is_loaded(&self) -> bool;
    /// Marked by `raiseload` / `lazy = "raise"`.
    fn is_forbidden(&self) -> bool;
    /// The related objects (none when not loaded).
    fn members(&self) -> Vec<AnyHandle>;
    /// Replace the contents: loaded with these objects.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an object of another model, or several for a `BelongsTo`.
    fn set_members(&mut self, members: Vec<AnyHandle>) -> Result<()>;
    /// Mark "loading forbidden" unless loaded.
    fn forbid(&mut self);
    /// Back to "not loaded".
    fn reset(&mut self);
    /// The other side's change (`back_populates`): add this object (a collection that is not
    /// loaded is left alone), or point at it.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for an object of another model.
    fn link(&mut self, h: &AnyHandle) -> Result<()>;
    /// The other side's change: remove this object, or stop pointing at it.
    fn unlink(&mut self, h: &AnyHandle);
    /// Changed by the program while not loaded (`push` onto a collection never loaded).
    fn changed_unloaded(&self) -> bool;
    /// Treat a change while not loaded as complete (a new object's collection was empty).
    fn settle(&mut self);
    /// Copy another field of the same type (contents and state).
    ///
    /// # Errors
    /// As [`AnyRelation::set_members`].
    fn copy_from(&mut self, other: &dyn AnyRelation) -> Result<()> {
        if other.is_loaded() {
            self.set_members(other.members())?;
            if other.changed_unloaded() {
                self.mark_changed_unloaded();
            }
        } else if other.is_forbidden() {
            self.reset();
            self.forbid();
        } else {
            self.reset();
        }
        Ok(())
    }
    /// Set the "changed while not loaded" mark.
    fn mark_changed_unloaded(&mut self);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotLoaded,
    Forbidden,
    Loaded,
}

#[derive(Clone, Default)]
enum Slot<V> {
    #[default]
    NotLoaded,
    Forbidden,
    Loaded(V),
}

macro_rules! collection {
    ($name:ident, $what:literal, $example:literal) => {
        #[doc = concat!("A ", $what, " relationship field: the related objects, or \"not loaded\".")]
        ///
        /// `Default` is "not loaded"; `Session::related` loads it, or an eager loader option
        /// (`selectinload`, `joinedload`) fills it when the owner is queried. Reading never does
        /// I/O. Changing it inside [`Handle::edit`] is recorded: `back_populates` updates the
        /// other side in memory, and the next flush writes the change.
        ///
        /// Changing a collection that was never loaded is refused by `Handle::edit` for an object
        /// already in the database (load it first: the change would otherwise be a guess);
        /// a new object's collections start empty and loaded.
        ///
        /// Equality is identity of the related instances. `Debug` prints their keys only (no
        /// recursion into the graph).
        ///
        /// ```text
        #[doc = $example]
        /// ```
        pub struct $name<T: Model> {
            state: State,
            items: Vec<Handle<T>>,
            changed_unloaded: bool,
        }

        impl<T: Model> Default for $name<T> {
            fn default() -> Self {
                $name { state: State::NotLoaded, items: Vec::new(), changed_unloaded: false }
            }
        }

        impl<T: Model> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name { state: self.state, items: self.items.clone(), changed_unloaded: self.changed_unloaded }
            }
        }

        impl<T: Model> PartialEq for $name<T> {
            fn eq(&self, other: &Self) -> bool {
                self.state == other.state
                    && self.items.len() == other.items.len()
                    && self.items.iter().zip(&other.items).all(|(x, y)| Handle::ptr_eq(x, y))
            }
        }

        impl<T: Model> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.state {
                    State::NotLoaded => write!(f, "<not loaded>"),
                    State::Forbidden => write!(f, "<not loaded: raise>"),
                    State::Loaded => {
                        let mut l = f.debug_list();
                        for h in &self.items {
                            l.entry(&AnyHandle::from(h));
                        }
                        l.finish()
                    }
                }
            }
        }

        impl<T: Model> $name<T> {
            /// Not loaded (the same as `Default`).
            pub fn new() -> Self {
                Self::default()
            }

            /// Loaded with these objects (to build a new object with its children).
            pub fn of<'a>(items: impl IntoIterator<Item = &'a Handle<T>>) -> Self {
                $name { state: State::Loaded, items: items.into_iter().cloned().collect(), changed_unloaded: false }
            }

            /// The related objects when loaded; `None` when not loaded. No I/O.
            pub fn loaded(&self) -> Option<&[Handle<T>]> {
                (self.state == State::Loaded).then_some(self.items.as_slice())
            }

            /// `true` when loaded.
            pub fn is_loaded(&self) -> bool {
                self.state == State::Loaded
            }

            /// The related objects, or an empty slice when not loaded.
            pub fn iter(&self) -> std::slice::Iter<'_, Handle<T>> {
                self.loaded().unwrap_or(&[]).iter()
            }

            /// How many related objects are loaded (0 when not loaded).
            pub fn len(&self) -> usize {
                self.loaded().map_or(0, <[_]>::len)
            }

            /// `true` when no related object is loaded.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// `true` when `h` is among the loaded objects.
            pub fn contains(&self, h: &Handle<T>) -> bool {
                self.iter().any(|x| Handle::ptr_eq(x, h))
            }

            fn items_mut(&mut self) -> &mut Vec<Handle<T>> {
                if self.state != State::Loaded {
                    self.state = State::Loaded;
                    self.items.clear();
                    self.changed_unloaded = true;
                }
                &mut self.items
            }

            /// Add an object (no effect if it is already there).
            pub fn push(&mut self, h: &Handle<T>) {
                let items = self.items_mut();
                if !items.iter().any(|x| Handle::ptr_eq(x, h)) {
                    items.push(h.clone());
                }
            }

            /// Remove an object; `true` if it was there.
            pub fn remove(&mut self, h: &Handle<T>) -> bool {
                let items = self.items_mut();
                let before = items.len();
                items.retain(|x| !Handle::ptr_eq(x, h));
                items.len() != before
            }

            /// Remove every object.
            pub fn clear(&mut self) {
                self.items_mut().clear();
            }

            /// Replace the contents.
            pub fn set<'a>(&mut self, items: impl IntoIterator<Item = &'a Handle<T>>) {
                let items_mut = self.items_mut();
                items_mut.clear();
                for h in items {
                    if !items_mut.iter().any(|x| Handle::ptr_eq(x, h)) {
                        items_mut.push(h.clone());
                    }
                }
            }
        }

        impl<'a, T: Model> IntoIterator for &'a $name<T> {
            type Item = &'a Handle<T>;
            type IntoIter = std::slice::Iter<'a, Handle<T>>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl<T: Model> AnyRelation for $name<T> {
            fn is_loaded(&self) -> bool {
                self.state == State::Loaded
            }
            fn is_forbidden(&self) -> bool {
                self.state == State::Forbidden
            }
            fn members(&self) -> Vec<AnyHandle> {
                self.iter().map(AnyHandle::from).collect()
            }
            fn set_members(&mut self, members: Vec<AnyHandle>) -> Result<()> {
                let v = members.iter().map(AnyHandle::typed::<T>).collect::<Result<Vec<_>>>()?;
                self.state = State::Loaded;
                self.items = v;
                self.changed_unloaded = false;
                Ok(())
            }
            fn forbid(&mut self) {
                if self.state != State::Loaded {
                    self.state = State::Forbidden;
                }
            }
            fn reset(&mut self) {
                self.state = State::NotLoaded;
                self.items.clear();
                self.changed_unloaded = false;
            }
            fn link(&mut self, h: &AnyHandle) -> Result<()> {
                if self.state == State::Loaded {
                    let h = h.typed::<T>()?;
                    if !self.items.iter().any(|x| Handle::ptr_eq(x, &h)) {
                        self.items.push(h);
                    }
                }
                Ok(())
            }
            fn unlink(&mut self, h: &AnyHandle) {
                self.items.retain(|x| !AnyHandle::from(x).ptr_eq(h));
            }
            fn changed_unloaded(&self) -> bool {
                self.changed_unloaded
            }
            fn settle(&mut self) {
                self.changed_unloaded = false;
            }
            fn mark_changed_unloaded(&mut self) {
                self.changed_unloaded = true;
            }
        }
    };
}

collection!(HasMany, "one-to-many", "user.posts.push(&post)   // inside user_handle.edit(|user| …)");
collection!(
    ManyToMany,
    "many-to-many (through an association table)",
    "post.tags.push(&tag)   // inside post_handle.edit(|post| …)"
);

/// A many-to-one relationship field: the related object (or none), or "not loaded".
///
/// `Default` is "not loaded". [`BelongsTo::set`] and [`BelongsTo::clear`] work whether or not it
/// was loaded (the foreign key is written from it at the next flush). Equality is identity;
/// `Debug` prints the key only.
pub struct BelongsTo<T: Model> {
    slot: Slot<Option<Handle<T>>>,
}

impl<T: Model> Default for BelongsTo<T> {
    fn default() -> Self {
        BelongsTo { slot: Slot::NotLoaded }
    }
}

impl<T: Model> Clone for BelongsTo<T> {
    fn clone(&self) -> Self {
        BelongsTo { slot: self.slot.clone() }
    }
}

impl<T: Model> PartialEq for BelongsTo<T> {
    fn eq(&self, other: &Self) -> bool {
        match (&self.slot, &other.slot) {
            (Slot::Loaded(Some(a)), Slot::Loaded(Some(b))) => Handle::ptr_eq(a, b),
            (Slot::Loaded(None), Slot::Loaded(None))
            | (Slot::NotLoaded, Slot::NotLoaded)
            | (Slot::Forbidden, Slot::Forbidden) => true,
            _ => false,
        }
    }
}

impl<T: Model> fmt::Debug for BelongsTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.slot {
            Slot::NotLoaded => write!(f, "<not loaded>"),
            Slot::Forbidden => write!(f, "<not loaded: raise>"),
            Slot::Loaded(None) => write!(f, "None"),
            Slot::Loaded(Some(h)) => fmt::Debug::fmt(&AnyHandle::from(h), f),
        }
    }
}

impl<T: Model> BelongsTo<T> {
    /// Not loaded (the same as `Default`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Pointing at `h` (to build a new object with its parent).
    pub fn to(h: &Handle<T>) -> Self {
        BelongsTo { slot: Slot::Loaded(Some(h.clone())) }
    }

    /// `Some(related)` when loaded (`Some(None)`: loaded, and there is none); `None` when not
    /// loaded. No I/O.
    pub fn loaded(&self) -> Option<Option<&Handle<T>>> {
        match &self.slot {
            Slot::Loaded(v) => Some(v.as_ref()),
            _ => None,
        }
    }

    /// The related object if loaded and present.
    pub fn get(&self) -> Option<&Handle<T>> {
        self.loaded().flatten()
    }

    /// `true` when loaded.
    pub fn is_loaded(&self) -> bool {
        matches!(self.slot, Slot::Loaded(_))
    }

    /// Point at `h`.
    pub fn set(&mut self, h: &Handle<T>) {
        self.slot = Slot::Loaded(Some(h.clone()));
    }

    /// Point at nothing (the foreign key becomes NULL at the next flush).
    pub fn clear(&mut self) {
        self.slot = Slot::Loaded(None);
    }
}

impl<T: Model> AnyRelation for BelongsTo<T> {
    fn is_loaded(&self) -> bool {
        matches!(self.slot, Slot::Loaded(_))
    }
    fn is_forbidden(&self) -> bool {
        matches!(self.slot, Slot::Forbidden)
    }
    fn members(&self) -> Vec<AnyHandle> {
        self.get().map(AnyHandle::from).into_iter().collect()
    }
    fn set_members(&mut self, members: Vec<AnyHandle>) -> Result<()> {
        let v = match members.as_slice() {
            [] => None,
            [one] => Some(one.typed::<T>()?),
            _ => {
                return Err(Error::invalid_request(format!(
                    "several {} for one many-to-one relationship",
                    T::TABLE.rust_name
                )))
            }
        };
        self.slot = Slot::Loaded(v);
        Ok(())
    }
    fn forbid(&mut self) {
        if !self.is_loaded() {
            self.slot = Slot::Forbidden;
        }
    }
    fn reset(&mut self) {
        self.slot = Slot::NotLoaded;
    }
    fn link(&mut self, h: &AnyHandle) -> Result<()> {
        self.slot = Slot::Loaded(Some(h.typed::<T>()?));
        Ok(())
    }
    fn unlink(&mut self, h: &AnyHandle) {
        if self.get().is_some_and(|x| AnyHandle::from(x).ptr_eq(h)) {
            self.slot = Slot::Loaded(None);
        }
    }
    fn changed_unloaded(&self) -> bool {
        false
    }
    fn settle(&mut self) {}
    fn mark_changed_unloaded(&mut self) {}
}

/// The related model of a relationship, seen by the session without its type: its table, its
/// relationships, and how to make its instances from rows.
#[doc(hidden)]
pub trait ModelType: Sync + 'static {
    /// The model's table.
    fn table(&self) -> &'static TableDef;
    /// The model's relationships.
    fn relationships(&self) -> &'static [RelationshipDef];
    /// The model's type.
    fn type_id(&self) -> TypeId;
    /// The instance for a row whose cells are the model's columns (through the identity map);
    /// `None` when the key cells are NULL (an outer join found nothing).
    ///
    /// # Errors
    /// A cell that does not decode.
    fn load_row(&self, ctx: &mut LoadCtx<'_>, row: &dyn Row) -> Result<Option<AnyHandle>>;
}

/// `ModelType` for model `T` (the derive writes `&ModelMarker::<Post>::NEW`).
#[doc(hidden)]
pub struct ModelMarker<T>(PhantomData<fn() -> T>);

impl<T> ModelMarker<T> {
    /// The marker.
    pub const NEW: Self = ModelMarker(PhantomData);
}

/// What a loader needs to put rows into a session: its identity map and a back reference.
#[doc(hidden)]
pub struct LoadCtx<'a> {
    pub(super) identity: &'a mut IdentityMap,
    pub(super) session: &'a Weak<Shared>,
    /// The result number to stamp on each object (0: none; see `lazy.rs`).
    pub(super) origin: u64,
}

impl<T: Model> ModelType for ModelMarker<T> {
    fn table(&self) -> &'static TableDef {
        T::TABLE
    }
    fn relationships(&self) -> &'static [RelationshipDef] {
        T::RELATIONSHIPS
    }
    fn type_id(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn load_row(&self, ctx: &mut LoadCtx<'_>, row: &dyn Row) -> Result<Option<AnyHandle>> {
        let first_key = T::TABLE.primary_key().next().unwrap_or(0);
        if row.get(first_key)?.is_null() {
            return Ok(None);
        }
        let (inst, _) = identity_row::<T>(ctx.identity.typed_mut::<T>(), ctx.session, row, ctx.origin)?;
        Ok(Some(AnyHandle(inst)))
    }
}

/// One relationship of model `P` to model `T`, as a typed handle (`User::posts`):
/// `session.related(&user, User::posts)`, `selectinload(User::posts)`. `K` is [`Many`] or
/// [`One`]. Using it with another model's handle does not compile.
pub struct Relationship<P, T, K> {
    idx: usize,
    _m: PhantomData<Marks<P, T, K>>,
}

type Marks<P, T, K> = fn() -> (P, T, K);

impl<P, T, K> Clone for Relationship<P, T, K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, T, K> Copy for Relationship<P, T, K> {}

impl<P, T, K> fmt::Debug for Relationship<P, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relationship({})", self.idx)
    }
}

impl<P: Model, T: Model, K> Relationship<P, T, K> {
    /// The handle of `P::RELATIONSHIPS[idx]` (written by the derive).
    pub const fn new(idx: usize) -> Self {
        Relationship { idx, _m: PhantomData }
    }

    /// The position in `P::RELATIONSHIPS`.
    pub fn index(&self) -> usize {
        self.idx
    }

    /// The description.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the position is out of range (a hand-written handle).
    pub fn def(&self) -> Result<&'static RelationshipDef> {
        P::RELATIONSHIPS
            .get(self.idx)
            .ok_or_else(|| Error::invalid_request(format!("{} has no relationship #{}", P::TABLE.rust_name, self.idx)))
    }
}

/// The kind of a collection relationship: `session.related` returns `Vec<Handle<T>>`.
#[derive(Debug, Clone, Copy)]
pub struct Many;
/// The kind of a many-to-one relationship: `session.related` returns `Option<Handle<T>>`.
#[derive(Debug, Clone, Copy)]
pub struct One;

/// What `Session::related` returns for a relationship kind.
pub trait RelKind {
    /// `Vec<Handle<T>>` or `Option<Handle<T>>`.
    type Loaded<T: Model>;
    /// Wrap the loaded handles.
    fn wrap<T: Model>(v: Vec<Handle<T>>) -> Self::Loaded<T>;
}
impl RelKind for Many {
    type Loaded<T: Model> = Vec<Handle<T>>;
    fn wrap<T: Model>(v: Vec<Handle<T>>) -> Vec<Handle<T>> {
        v
    }
}
impl RelKind for One {
    type Loaded<T: Model> = Option<Handle<T>>;
    fn wrap<T: Model>(v: Vec<Handle<T>>) -> Option<Handle<T>> {
        v.into_iter().next()
    }
}

pub(super) fn typed_all<T: Model>(v: &[AnyHandle]) -> Result<Vec<Handle<T>>> {
    v.iter().map(AnyHandle::typed::<T>).collect()
}
