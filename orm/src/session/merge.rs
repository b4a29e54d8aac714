//! `Session::merge` (SQLAlchemy's `session.merge(obj)`): the state of an object from outside
//! the session (deserialized, detached, built by hand) copied onto the one object of this
//! session with the same primary key, loaded from the database when the session does not hold
//! it; without a row, the object becomes new. `merge_with(obj, MergeOptions { load: false })`
//! trusts the object to be what the database holds: no SELECT, nothing written.

use super::identity::Key;
use super::state::{Handle, Meta, ModelRow, ObjectState};
use super::Session;
use crate::model::Model;
use athanor_core::error::{Error, Result};
use athanor_core::value::{Value, ValueRef};
use std::rc::Rc;

/// How [`Session::merge_with`] finds the object to copy onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeOptions {
    /// `true` ([`Session::merge`]): an object the session does not hold is loaded by its key (one
    /// SELECT), its columns are set from the given object's, and the next flush writes those
    /// that differ. `false` (SQLAlchemy's `load=False`): the given object is taken to be what the
    /// database holds: with no SELECT it becomes the session's persistent object (or is copied
    /// onto the one the session holds), clean, and nothing is written for it.
    pub load: bool,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions { load: true }
    }
}

/// `obj`'s columns in a fresh value, its relationship fields not loaded.
fn columns_only<M: Model>(obj: &M) -> Result<M> {
    M::from_row(&ModelRow(obj))
}

fn key_values<M: Model>(obj: &M) -> Vec<Value> {
    M::TABLE.primary_key().map(|i| obj.column_value(i).to_owned()).collect()
}

impl Session {
    /// Copy the state of `obj`, an object from outside this session (deserialized from a
    /// request, detached from another session, built by hand), onto this session's object with
    /// the same primary key, and return that object's handle (SQLAlchemy's `session.merge(obj)`):
    ///
    /// - the session holds an object with that key: its columns are set from `obj`'s, as
    ///   [`Handle::edit`] would (the next flush writes exactly the columns that differ);
    /// - it does not: the row is loaded by its key (one SELECT, as [`Session::get`]) and the
    ///   same happens;
    /// - there is no such row, or `obj`'s key is not set (a generated key still `None`): a copy
    ///   of `obj` is added as new ([`Session::add`]), inserted by the next flush.
    ///
    /// `obj` itself stays outside the session. For a model with `#[column(version)]`, `obj`'s
    /// version must be the one the session's object has (a merge of an object read before
    /// another transaction changed the row is [`Error::StaleData`], as in SQLAlchemy).
    ///
    /// Partial: relationship fields are not merged (no `merge` cascade): `obj`'s are ignored,
    /// and the session's object keeps its own; a new object starts with them not loaded.
    ///
    /// # Errors
    /// The SELECT's errors; [`Error::StaleData`] for a version that differs; the errors of
    /// [`Handle::edit`] (the session's object is borrowed).
    pub fn merge<M: Model>(&self, obj: M) -> Result<Handle<M>> {
        self.merge_with(obj, MergeOptions::default())
    }

    /// As [`Session::merge`], of a handle (detached, or of another session): its current column
    /// values are merged. With `load: false` it must have no unflushed edits.
    ///
    /// # Errors
    /// As [`Session::merge_with`]; [`Error::InvalidRequest`] with `load: false` for a handle
    /// with unflushed edits.
    pub fn merge_handle<M: Model>(&self, h: &Handle<M>, options: MergeOptions) -> Result<Handle<M>> {
        if !options.load && h.inner.meta().borrow().listed_modified {
            return Err(Error::invalid_request(format!(
                "merge with load: false of a {} with unflushed edits: the object must be what the database holds",
                M::TABLE.rust_name
            )));
        }
        let copy = columns_only(&*h.get())?;
        self.merge_with(copy, options)
    }

    /// [`Session::merge`] with options: `MergeOptions { load: false }` is SQLAlchemy's
    /// `merge(obj, load=False)`, for objects known to be what the database holds (read from a
    /// cache): no SELECT is sent and nothing is written. An object the session holds gets
    /// `obj`'s columns as what it read (not as edits); otherwise a copy of `obj` becomes a
    /// persistent, unmodified object of the session.
    ///
    /// # Errors
    /// As [`Session::merge`]; with `load: false`, [`Error::InvalidRequest`] for an object whose
    /// key is not set (it cannot be in the database), or when the session's object with that key
    /// has unflushed edits (they would be lost).
    pub fn merge_with<M: Model>(&self, obj: M, options: MergeOptions) -> Result<Handle<M>> {
        self.check_failed()?;
        let values = key_values(&obj);
        let keyless = values.iter().any(|v| matches!(v, Value::Null));
        if keyless {
            if !options.load {
                return Err(Error::invalid_request(format!(
                    "merge with load: false of a {} whose primary key is not set: only objects in the database \
                     can be merged without loading",
                    M::TABLE.rust_name
                )));
            }
            return Ok(self.add(columns_only(&obj)?));
        }
        if options.load {
            return match self.get::<M>(values)? {
                Some(target) => {
                    check_version(&target, &obj)?;
                    target.edit(|t| copy_columns(&obj, t))??;
                    Ok(target)
                }
                None => Ok(self.add(columns_only(&obj)?)),
            };
        }
        let key = Key::of_model(&obj)?;
        let held = {
            let inner = self.inner();
            inner.identity.typed::<M>().and_then(|m| m.get(&key)).cloned()
        };
        match held {
            Some(inst) => {
                let target = Handle::from_instance(inst);
                {
                    let meta = target.inner.meta().borrow();
                    if meta.listed_modified || meta.state != ObjectState::Persistent {
                        return Err(Error::invalid_request(format!(
                            "merge with load: false onto a {} of this session that has unflushed changes ({:?}): \
                             flush first, or merge with load: true",
                            M::TABLE.rust_name,
                            meta.state
                        )));
                    }
                }
                check_version(&target, &obj)?;
                let fresh = columns_only(&obj)?;
                {
                    let inst = target.instance_rc()?;
                    let mut slot = inst.value.try_borrow_mut().map_err(|_| {
                        Error::invalid_request(format!(
                            "this {} is borrowed (a Ref from Handle::get is alive) while merge replaces its values",
                            M::TABLE.rust_name
                        ))
                    })?;
                    copy_columns(&fresh, &mut slot)?;
                }
                target.inner.meta().borrow_mut().expired = false;
                Ok(target)
            }
            None => {
                let h = Handle::new(
                    columns_only(&obj)?,
                    Meta {
                        state: ObjectState::Persistent,
                        key: Some(key.clone()),
                        expired: false,
                        listed_modified: false,
                        editing: false,
                        session: Rc::downgrade(&self.shared),
                        exprs: Default::default(),
                        origin: 0,
                    },
                );
                self.inner().identity.typed_mut::<M>().insert(key, h.instance_rc()?);
                Ok(h)
            }
        }
    }
}

/// Set every column of `to` but the primary key from `from`.
fn copy_columns<M: Model>(from: &M, to: &mut M) -> Result<()> {
    for (idx, col) in M::TABLE.columns.iter().enumerate() {
        if col.primary_key {
            continue;
        }
        let v = from.column_value(idx);
        if !v.same_as(to.column_value(idx)) {
            to.set_column(idx, v)?;
        }
    }
    Ok(())
}

/// A versioned model's merged object must carry the version the session's object has.
fn check_version<M: Model>(target: &Handle<M>, obj: &M) -> Result<()> {
    let Some(idx) = M::VERSION_COLUMN else { return Ok(()) };
    let theirs = obj.column_value(idx);
    let ours = target.get().column_value(idx).to_owned();
    if matches!(theirs, ValueRef::Null) || theirs.same_as(ours.as_ref()) {
        return Ok(());
    }
    Err(Error::StaleData {
        model: M::TABLE.rust_name,
        table: M::TABLE.name.to_string(),
        key: Key::of_model(obj).map(|k| k.to_string()).unwrap_or_default(),
        version: ours.as_ref().as_i64(),
        expected: 1,
        matched: 0,
    })
}
