//! The loaders of every model the program has used, by type: how the session makes instances
//! of a relationship's target from rows when nothing typed names that model (eager defaults,
//! nested loads, the flush's loads of a deleted object's children).
//!
//! A relationship names its target as plain data ([`ModelRef`](crate::relation::ModelRef)), not
//! as code: if one model's loading code named the next model's, the compiler would instantiate
//! the loaders of every model reachable through relationships from every model, one inside the
//! other, and a chain of about 100 models would reach the recursion limit. Instead, the first
//! time a session meets a model it registers the model's loader and those of every model
//! reachable through relationships ([`Model::register_loaders`], which `#[derive(Model)]`
//! writes as one call per relationship: the compiler sees each model's own function, never a
//! nesting).

use super::collections::{ModelMarker, ModelType};
use crate::model::Model;
use crate::relation::ModelRef;
use athanor_core::error::{Error, Result};
use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

/// The registered loaders (process-wide: a model's loader is the same in every session).
static LOADERS: RwLock<Loaders> = RwLock::new(Loaders { by_type: BTreeMap::new() });

/// Registered loaders, keyed by model type. Filled by [`Model::register_loaders`].
#[doc(hidden)]
pub struct Loaders {
    by_type: BTreeMap<TypeId, &'static dyn ModelType>,
}

impl Loaders {
    /// Register `M`'s loader; `false` when it already was (the caller stops there, so cycles of
    /// relationships end).
    pub fn add<M: Model>(&mut self) -> bool {
        let mut added = false;
        self.by_type.entry(TypeId::of::<M>()).or_insert_with(|| {
            added = true;
            &ModelMarker::<M>::NEW
        });
        added
    }
}

/// Register `M`'s loader and those of the models its relationships reach, unless done.
pub(super) fn ensure<M: Model>() {
    let known = LOADERS.read().unwrap_or_else(PoisonError::into_inner).by_type.contains_key(&TypeId::of::<M>());
    if !known {
        M::register_loaders(&mut LOADERS.write().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The loader of a relationship's target.
///
/// # Errors
/// [`Error::InvalidRequest`] when the model was never registered: every model reachable from
/// one the session has met is, so this is a hand-written `Model::register_loaders` that left a
/// target out.
pub(super) fn loader(model: ModelRef) -> Result<&'static dyn ModelType> {
    let found = LOADERS.read().unwrap_or_else(PoisonError::into_inner).by_type.get(&model.type_id()).copied();
    found.ok_or_else(|| {
        Error::invalid_request(format!(
            "no loader is registered for {}: its Model::register_loaders must register the models its \
             relationships reach (#[derive(Model)] does)",
            model.table().rust_name
        ))
    })
}
