//! PLACEHOLDER: replaced by the postgres backend implementation.
use athanor_core::{Backend, ConnectOptions, Driver, Error, Result};
use std::sync::Arc;

fn open(_o: &ConnectOptions) -> Result<Arc<dyn Driver>> {
    Err(Error::Config { message: "the postgres backend is being written".into() })
}

/// The postgres backend descriptor.
pub const BACKEND: Backend = Backend { name: "postgres", schemes: &["postgres"], open };
