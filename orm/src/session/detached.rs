//! [`Detached<M>`]: a loaded object graph as an owned, `Send + Sync + 'static` value (cargo
//! feature `serde`; docs/serde.md), to return models from the closure a service runs on a
//! blocking thread.
//!
//! A model with a relationship holds [`Handle`]s (`Rc`s into its session), so it cannot cross
//! threads. A `Detached<M>` holds what it takes to make the model again: each object's column
//! values as the [`Value`]s a flush would bind (plain data), its class (the table and a function
//! of the model that rebuilds it), and, for each relationship that is loaded, the related objects
//! as nodes of the same kind. [`Detached::into_model`] (or serializing it) rebuilds the model on
//! the thread that needs it: `M::from_row` over the values, then each loaded relationship filled
//! with rebuilt objects held by new handles (detached, as objects of a closed session are).
//!
//! The graph is captured as a tree, by the rule serialization follows (`serialize.rs`): a
//! relationship holding an object the capture is inside of (a back-reference: `book.author` under
//! `author.books`) is captured as not loaded. So the rebuilt graph has no cycle (nothing leaks),
//! it serializes to the same JSON as the original, and an object reached by two paths (a tag of
//! two books) is captured, and rebuilt, twice.

use super::collections::{AnyHandle, AnyRelation};
use super::identity::Key;
use super::state::{Erased, Handle, Meta, ModelValues, ObjectState};
use crate::model::Model;
use crate::relation::RelationshipDef;
use athanor_core::error::{Error, Result};
use athanor_core::row::Row;
use athanor_core::schema::TableDef;
use athanor_core::value::{Value, ValueRef};
use std::fmt;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

/// How a captured object of some model is made again (`rebuild::<M>`).
pub(super) type Rebuild = fn(&Node) -> Result<AnyHandle>;

/// One captured object: its model's table and rebuild function, its column values, whether it
/// has a row, and its relationships (`None`: not loaded).
#[derive(Clone)]
pub(super) struct Node {
    table: &'static TableDef,
    relationships: &'static [RelationshipDef],
    rebuild: Rebuild,
    values: Vec<Value>,
    /// Read from (or written to) the database: rebuilt as detached, with its key. Otherwise
    /// (transient, pending) rebuilt as transient: adding it inserts it.
    has_row: bool,
    rels: Vec<Option<Vec<Node>>>,
}

/// A loaded object graph as an owned value: `Send + Sync + 'static`, `Clone`, `Debug`; with
/// `M: Serialize`, it serializes exactly as the model does (`serde_json::to_value(&*h.get())`),
/// nested loaded relationships included, on any thread. Made by [`Handle::to_owned_tree`],
/// [`Detached::from_handles`] or [`Detached::of`]; turned back into the model by
/// [`Detached::into_model`] (or [`Detached::into_handle`]) on any thread.
///
/// What it holds, and how it comes back (docs/serde.md):
/// - the columns of each object as its row would be written (an object read from the database
///   comes back equal; a new one as the flush would store it: an instant to the microsecond, a
///   decimal at its column's scale);
/// - each loaded relationship, except back-references (a relationship holding an object the
///   capture is inside of, which serialization would write as not loaded), so the graph is a
///   tree: an object reached by two paths comes back as two equal objects;
/// - related objects come back held by new handles: *detached* (as after the session closed:
///   [`Session::add_handle`](crate::Session::add_handle) attaches one, and its relationships
///   then read as not loaded) for objects that had a row, *transient* for new ones; unflushed
///   edits are not recorded in them (flush first).
///
/// Nothing is read from the database: an expired object is captured with its last known
/// values, as [`Handle::get`] shows them.
pub struct Detached<M> {
    node: Node,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Detached<M> {
    fn clone(&self) -> Self {
        Detached { node: self.node.clone(), _model: PhantomData }
    }
}

impl<M: Model> Detached<M> {
    /// Capture a model value and the related objects its loaded relationships hold (the value
    /// itself has no session state: it comes back by [`Detached::into_handle`] as a new,
    /// transient object). [`Handle::to_owned_tree`] captures a handle's object.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when a related object is being changed at that moment
    /// (borrowed by the session); a field value that cannot be made into its parameter (a
    /// JSON document that does not serialize).
    pub fn of(value: &M) -> Result<Self> {
        let start = value as *const M as usize;
        let node = capture(
            M::TABLE,
            M::RELATIONSHIPS,
            rebuild::<M>,
            value,
            false,
            |idx, f| match value.relationship(idx) {
                Some(r) => {
                    f(r);
                    Ok(())
                }
                None => Err(no_relationship(M::TABLE, idx)),
            },
            &mut vec![start],
        )?;
        Ok(Detached { node, _model: PhantomData })
    }

    /// [`Handle::to_owned_tree`] of each handle (the rows of a query).
    ///
    /// # Errors
    /// As [`Handle::to_owned_tree`].
    pub fn from_handles(rows: &[Handle<M>]) -> Result<Vec<Self>> {
        rows.iter().map(Handle::to_owned_tree).collect()
    }

    /// The model, made again on this thread: its columns, and its loaded relationships holding
    /// the related objects made again (detached or transient, see [`Detached`]).
    ///
    /// # Errors
    /// A value a field refuses (a [`DbNewtype`](athanor_core::DbNewtype) whose check changed),
    /// [`Error::TypeMismatch`] naming the column, as when a row is read.
    pub fn into_model(self) -> Result<M> {
        build::<M>(&self.node)
    }

    /// [`Detached::into_model`] without consuming the value.
    ///
    /// # Errors
    /// As [`Detached::into_model`].
    pub fn to_model(&self) -> Result<M> {
        build::<M>(&self.node)
    }

    /// The object held by a new handle: detached when it had a row (attach it with
    /// [`Session::add_handle`](crate::Session::add_handle); edits made to it are then written),
    /// transient otherwise (`add_handle` makes it pending).
    ///
    /// # Errors
    /// As [`Detached::into_model`].
    pub fn into_handle(self) -> Result<Handle<M>> {
        let m = build::<M>(&self.node)?;
        handle_of(m, self.node.has_row)
    }
}

impl<M: Model> Handle<M> {
    /// The object and every related object its loaded relationships reach, as an owned
    /// [`Detached`] value that crosses threads (feature `serde`): the one call that lets a
    /// service's blocking closure return models. No I/O.
    ///
    /// ```text
    /// let books = sessions.run(|s| {
    ///     let rows = s.query::<Book>().options(selectinload(Book::author)).options(selectinload(Book::tags)).all()?;
    ///     Detached::from_handles(&rows)
    /// }).await?;
    /// Json(books)   // serializes as the models do
    /// ```
    ///
    /// # Errors
    /// As [`Detached::of`].
    pub fn to_owned_tree(&self) -> Result<Detached<M>> {
        let node = capture_erased(&self.erased(), &mut Vec::new())?;
        Ok(Detached { node, _model: PhantomData })
    }
}

fn no_relationship(table: &TableDef, idx: usize) -> Error {
    Error::invalid_request(format!("{} has no relationship #{idx}", table.rust_name))
}

/// A field's value as its parameter, owned.
fn owned(v: ValueRef<'_>) -> Result<Value> {
    match v {
        ValueRef::Computed(c) => c.to_value(),
        other => Ok(other.to_owned()),
    }
}

/// `true` when `m` is an object the capture is inside of.
fn is_ancestor(m: &AnyHandle, inside: &[usize]) -> bool {
    let (start, len) = m.0.value_span();
    inside.iter().any(|p| (start..start + len).contains(p))
}

/// Capture one object: its values, then each relationship (`relation(idx, f)` lends field
/// `idx` to `f`), with `inside` the addresses of the objects the capture is inside of (this
/// one's included).
fn capture(
    table: &'static TableDef,
    relationships: &'static [RelationshipDef],
    rebuild: Rebuild,
    values: &dyn ModelValues,
    has_row: bool,
    mut relation: impl FnMut(usize, &mut dyn FnMut(&dyn AnyRelation)) -> Result<()>,
    inside: &mut Vec<usize>,
) -> Result<Node> {
    let values = (0..table.columns.len()).map(|i| owned(values.value_at(i))).collect::<Result<Vec<_>>>()?;
    let mut rels = Vec::with_capacity(relationships.len());
    for idx in 0..relationships.len() {
        let mut members = None;
        relation(idx, &mut |f| {
            if f.is_loaded() {
                members = Some(f.members());
            }
        })?;
        rels.push(match members {
            Some(ms) if !ms.iter().any(|m| is_ancestor(m, inside)) => {
                Some(ms.iter().map(|m| capture_erased(&m.0, inside)).collect::<Result<Vec<_>>>()?)
            }
            _ => None,
        });
    }
    Ok(Node { table, relationships, rebuild, values, has_row, rels })
}

/// Capture an object held by a handle.
fn capture_erased(obj: &Rc<dyn Erased>, inside: &mut Vec<usize>) -> Result<Node> {
    let has_row =
        matches!(obj.meta().borrow().state, ObjectState::Persistent | ObjectState::Detached | ObjectState::Deleted);
    // The values are copied before the relationships are walked, so no borrow is held meanwhile.
    let values: Vec<Value> = {
        let v = obj.values()?;
        (0..obj.table().columns.len()).map(|i| owned(v.value_at(i))).collect::<Result<_>>()?
    };
    inside.push(obj.value_span().0);
    let node = capture(
        obj.table(),
        obj.relationships(),
        obj.rebuilder(),
        &Values(&values),
        has_row,
        |idx, f| obj.with_relation(idx, f),
        inside,
    );
    inside.pop();
    node
}

/// Owned values as a model's values (for [`capture`]).
struct Values<'a>(&'a [Value]);

impl ModelValues for Values<'_> {
    fn value_at(&self, idx: usize) -> ValueRef<'_> {
        self.0.get(idx).map_or(ValueRef::Null, Value::as_ref)
    }
    fn check_values(&self) -> Result<()> {
        Ok(())
    }
}

/// Captured values as a row, for `Model::from_row`.
struct NodeRow<'a>(&'a Node);

impl Row for NodeRow<'_> {
    fn len(&self) -> usize {
        self.0.values.len()
    }
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.0
            .values
            .get(idx)
            .map(Value::as_ref)
            .ok_or_else(|| Error::invalid_request(format!("no column {idx} in {}", self.0.table.name)))
    }
}

/// The model of a node, with its loaded relationships filled with rebuilt objects.
fn build<M: Model>(node: &Node) -> Result<M> {
    let mut m = M::from_row(&NodeRow(node))?;
    for (idx, rel) in node.rels.iter().enumerate() {
        let Some(children) = rel else { continue };
        let handles = children.iter().map(|c| (c.rebuild)(c)).collect::<Result<Vec<_>>>()?;
        m.relationship_mut(idx).ok_or_else(|| no_relationship(M::TABLE, idx))?.set_members(handles)?;
    }
    Ok(m)
}

/// A rebuilt object held by a new handle: detached with its key when it had a row, else
/// transient.
fn handle_of<M: Model>(m: M, has_row: bool) -> Result<Handle<M>> {
    let (state, key) =
        if has_row { (ObjectState::Detached, Some(Key::of_model(&m)?)) } else { (ObjectState::Transient, None) };
    Ok(Handle::new(
        m,
        Meta {
            state,
            key,
            expired: false,
            listed_modified: false,
            editing: false,
            exprs: Default::default(),
            session: Weak::new(),
            origin: 0,
        },
    ))
}

/// [`Rebuild`] for model `M` (what `Erased::rebuilder` gives).
pub(super) fn rebuild<M: Model>(node: &Node) -> Result<AnyHandle> {
    let m = build::<M>(node)?;
    Ok(AnyHandle(handle_of(m, node.has_row)?.erased()))
}

/// `Book { id: 1, title: "Dune", author: Author { … }, tags: [Tag { … }] }`: the columns by
/// field name, then the relationships (`<not loaded>` for those not captured).
impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Cell<'a>(ValueRef<'a>);
        impl fmt::Debug for Cell<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        struct NotLoaded;
        impl fmt::Debug for NotLoaded {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("<not loaded>")
            }
        }
        let mut s = f.debug_struct(self.table.rust_name);
        for (col, v) in self.table.columns.iter().zip(&self.values) {
            s.field(col.field, &Cell(v.as_ref()));
        }
        for (def, rel) in self.relationships.iter().zip(&self.rels) {
            match rel {
                None => s.field(def.name, &NotLoaded),
                Some(nodes) if def.is_collection() => s.field(def.name, nodes),
                Some(nodes) => match nodes.first() {
                    Some(n) => s.field(def.name, n),
                    None => s.field(def.name, &None::<()>),
                },
            };
        }
        s.finish()
    }
}

impl<M> fmt::Debug for Detached<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Detached(")?;
        fmt::Debug::fmt(&self.node, f)?;
        f.write_str(")")
    }
}

/// Feature `serde`: serialized as the model is (made again on this thread, then serialized),
/// so the JSON equals `serde_json::to_value(&*handle.get())` of the captured handle.
///
/// # Errors
/// The serializer's error for a value the model refuses ([`Detached::into_model`]).
impl<M: Model + serde::Serialize> serde::Serialize for Detached<M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let m = self.to_model().map_err(<S::Error as serde::ser::Error>::custom)?;
        m.serialize(serializer)
    }
}

/// Feature `serde`: the model deserialized (its nested relationships as new objects), then
/// captured as by [`Detached::of`].
impl<'de, M: Model + serde::Deserialize<'de>> serde::Deserialize<'de> for Detached<M> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let m = M::deserialize(deserializer)?;
        Detached::of(&m).map_err(<D::Error as serde::de::Error>::custom)
    }
}
