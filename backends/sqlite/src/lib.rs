//! PLACEHOLDER: replaced by the sqlite backend implementation.
use athanor_core::{Backend, ConnectOptions, Driver, Error, Result};
use std::sync::Arc;

fn open(_o: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Err(Error::Config { message: "the sqlite backend is being written".into() })
}

/// The sqlite backend descriptor.
pub const BACKEND: Backend = Backend { name: "sqlite", schemes: &["sqlite"], open };
