//! serde for the object graph (cargo feature `serde`; docs/serde.md): `Serialize` and
//! `Deserialize` for the relationship fields ([`HasMany`], [`ManyToMany`], [`BelongsTo`]) and
//! `Serialize` for [`Handle`], so that `#[derive(Model, Serialize, Deserialize)]` works on a model
//! with relationships.
//!
//! # What a relationship field writes
//!
//! - loaded: the related object nested (`BelongsTo`: the object, or `null` when there is none;
//!   `HasMany` / `ManyToMany`: an array);
//! - not loaded (or marked `raise`): `null`; with
//!   `#[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]` the field is left out;
//! - a *back-reference*, a field holding an object that is being serialized (the field's own
//!   object, or one the serializer is inside of: `book.author` while serializing
//!   `author.books`): as not loaded. The output is a tree, so a graph with cycles (which
//!   `back_populates` makes whenever both sides are loaded) ends.
//!
//! Objects being serialized are known by address: a thread-local list holds, for each level the
//! serializer is inside of, an address inside that object (the object's own when it is reached
//! through a handle; the field's when the root is a borrowed model, `&*handle.get()`, which lies
//! inside the handle's instance).
//!
//! # What a relationship field reads
//!
//! Absent or `null`: not loaded. A nested value: a new (transient) object, related; the session
//! adds it with its owner (`save-update` cascade), as SQLAlchemy does with related objects given
//! to a constructor. A nested object is always new: one with the key of an existing row is
//! inserted again (and refused by the database); relate existing rows by their foreign key
//! column, or load them and relate them in [`Handle::edit`].

use super::collections::{BelongsTo, HasMany, ManyToMany};
use super::state::{Handle, Meta, ObjectState};
use crate::model::Model;
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Error as _, Serialize, SerializeSeq, Serializer};
use std::cell::RefCell;
use std::rc::Weak;

thread_local! {
    /// An address inside each object the serializer of this thread is inside of, outermost
    /// first.
    static INSIDE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// One level of [`INSIDE`], left when dropped (also when serialization fails or unwinds).
struct Level;

impl Level {
    fn enter(addr: usize) -> Level {
        INSIDE.with(|s| s.borrow_mut().push(addr));
        Level
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        let _ = INSIDE.try_with(|s| s.borrow_mut().pop());
    }
}

/// `true` when `h`'s object is being serialized on this thread, or holds `field` (the address of
/// the relationship field that refers to it: a self-reference).
fn is_back_reference<T: Model>(h: &Handle<T>, field: usize) -> bool {
    let start = h.instance().value.as_ptr() as usize;
    let end = start + std::mem::size_of::<T>();
    let inside = |p: usize| (start..end).contains(&p);
    inside(field) || INSIDE.with(|s| s.borrow().iter().any(|&p| inside(p)))
}

fn address<F>(field: &F) -> usize {
    field as *const F as usize
}

/// The objects a collection writes: `None` (written as not loaded) when it is not loaded or holds
/// a back-reference.
fn written<T: Model>(items: Option<&[Handle<T>]>, field: usize) -> Option<&[Handle<T>]> {
    items.filter(|items| !items.iter().any(|h| is_back_reference(h, field)))
}

/// A relationship field, as serde sees it ([`is_unloaded`]). Sealed: implemented by
/// [`HasMany`], [`ManyToMany`] and [`BelongsTo`].
pub trait SerializedRelation: sealed::Sealed {
    /// `true` when the field is written as not loaded.
    fn written_as_unloaded(&self) -> bool;
}

mod sealed {
    pub trait Sealed {}
}

/// `true` when a relationship field is written as not loaded: it is not loaded (or marked
/// `raise`), or it holds an object being serialized (a back-reference). For serde's
/// `skip_serializing_if`, to leave such fields out instead of writing `null`:
///
/// ```text
/// #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
/// #[relationship(back_populates = "author")]
/// pub books: HasMany<Book>,
/// ```
///
/// (a compiled example is the facade's `athanor::serialization`, and docs/serde.md).
pub fn is_unloaded<R: SerializedRelation>(field: &R) -> bool {
    field.written_as_unloaded()
}

/// A collection's objects, as a sequence.
struct Seq<'a, T: Model>(&'a [Handle<T>]);

impl<T: Model + Serialize> Serialize for Seq<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for h in self.0 {
            seq.serialize_element(h)?;
        }
        seq.end()
    }
}

macro_rules! collection_serde {
    ($name:ident) => {
        impl<T: Model> sealed::Sealed for $name<T> {}

        impl<T: Model> SerializedRelation for $name<T> {
            fn written_as_unloaded(&self) -> bool {
                written(self.loaded(), address(self)).is_none()
            }
        }

        /// Feature `serde`: the related objects as an array when loaded; `null` when not loaded
        /// or a back-reference (see [`is_unloaded`] to leave the field out instead).
        impl<T: Model + Serialize> Serialize for $name<T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let field = address(self);
                match written(self.loaded(), field) {
                    Some(items) => {
                        let _owner = Level::enter(field);
                        serializer.serialize_some(&Seq(items))
                    }
                    None => serializer.serialize_none(),
                }
            }
        }

        /// Feature `serde`: absent or `null` is not loaded; an array makes new (transient)
        /// objects, added with their owner by `Session::add`.
        impl<'de, T: Model + Deserialize<'de>> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(match Option::<Vec<T>>::deserialize(deserializer)? {
                    None => $name::new(),
                    Some(items) => {
                        let handles: Vec<Handle<T>> = items.into_iter().map(Handle::transient).collect();
                        $name::of(&handles)
                    }
                })
            }
        }
    };
}

collection_serde!(HasMany);
collection_serde!(ManyToMany);

impl<T: Model> sealed::Sealed for BelongsTo<T> {}

impl<T: Model> SerializedRelation for BelongsTo<T> {
    fn written_as_unloaded(&self) -> bool {
        match self.loaded() {
            None => true,
            Some(None) => false,
            Some(Some(h)) => is_back_reference(h, address(self)),
        }
    }
}

/// Feature `serde`: the related object when loaded, `null` when loaded and there is none, not
/// loaded, or a back-reference (see [`is_unloaded`] to leave the field out in those two cases).
impl<T: Model + Serialize> Serialize for BelongsTo<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let field = address(self);
        match self.loaded() {
            Some(Some(h)) if !is_back_reference(h, field) => {
                let _owner = Level::enter(field);
                serializer.serialize_some(h)
            }
            _ => serializer.serialize_none(),
        }
    }
}

/// Feature `serde`: absent or `null` is not loaded; an object makes a new (transient) one,
/// added with its owner by `Session::add`.
impl<'de, T: Model + Deserialize<'de>> Deserialize<'de> for BelongsTo<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => BelongsTo::new(),
            Some(v) => BelongsTo::to(&Handle::transient(v)),
        })
    }
}

/// Feature `serde`: the object, as the model serializes (`serde_json::to_value(&handles)` for
/// the rows of a query); its relationships as their fields write them.
///
/// # Errors
/// The serializer's error when the object is being changed at that moment (a reference from
/// [`Handle::get`] cannot be taken), or the model's own.
impl<T: Model + Serialize> Serialize for Handle<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inst = self.instance();
        let value = inst.value.try_borrow().map_err(|_| {
            S::Error::custom(format!("this {} is being changed and cannot be serialized now", T::TABLE.rust_name))
        })?;
        let _me = Level::enter(inst.value.as_ptr() as usize);
        T::serialize(&value, serializer)
    }
}

impl<M: Model> Handle<M> {
    /// A new object outside any session (transient), as deserialized into a relationship field.
    pub(super) fn transient(value: M) -> Self {
        Handle::new(
            value,
            Meta {
                state: ObjectState::Transient,
                key: None,
                expired: false,
                listed_modified: false,
                editing: false,
                exprs: Default::default(),
                session: Weak::new(),
                origin: 0,
            },
        )
    }
}
