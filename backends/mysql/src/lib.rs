//! PLACEHOLDER: replaced by the mysql backend implementation.
use athanor_core::{Backend, ConnectOptions, Driver, Error, Result};
use std::sync::Arc;

fn open(_o: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Err(Error::Config { message: "the mysql backend is being written".into() })
}

/// The mysql backend descriptor.
pub const BACKEND: Backend = Backend { name: "mysql", schemes: &["mysql"], open };
