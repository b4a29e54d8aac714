//! The r2d2 side of an engine: the pooled slot, the connection manager that opens through the
//! driver and records connect errors, and each engine's own connector threads.

use crate::dialect::Capabilities;
use crate::driver::{Driver, RawConnection};
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex, OnceLock};

/// A pooled physical connection, what it reported at connect, whether it was invalidated, and
/// how often it was checked out.
pub struct PoolSlot {
    pub(super) raw: Box<dyn RawConnection>,
    pub(super) caps: Arc<Capabilities>,
    pub(super) invalidated: bool,
    pub(super) checkouts: u64,
}

#[derive(Debug, Default)]
pub(super) struct ConnectErrors {
    pub(super) epoch: u64,
    pub(super) last: Option<(u64, Error)>,
}

pub(super) struct Manager {
    pub(super) driver: Arc<dyn Driver>,
    pub(super) errors: Arc<Mutex<ConnectErrors>>,
    /// The driver's capabilities (before any connection adjusted them).
    pub(super) configured: Arc<Capabilities>,
    /// The first connection's adjusted capabilities: the engine's from then on.
    pub(super) connected: Arc<OnceLock<Arc<Capabilities>>>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PoolSlot;
    type Error = Error;

    fn connect(&self) -> Result<PoolSlot> {
        match self.driver.connect() {
            Ok(raw) => {
                let mut caps = Capabilities::clone(&self.configured);
                raw.adjust_capabilities(&mut caps);
                let caps = Arc::new(caps);
                let _ = self.connected.set(caps.clone());
                Ok(PoolSlot { raw, caps, invalidated: false, checkouts: 0 })
            }
            Err(e) => {
                if let Ok(mut g) = self.errors.lock() {
                    g.epoch += 1;
                    let n = g.epoch;
                    g.last = Some((n, e.clone()));
                }
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut PoolSlot) -> Result<()> {
        conn.raw.ping()
    }

    fn has_broken(&self, conn: &mut PoolSlot) -> bool {
        conn.invalidated || conn.raw.is_broken()
    }
}

#[derive(Debug)]
pub(super) struct QuietErrors;
impl r2d2::HandleError<Error> for QuietErrors {
    fn handle_error(&self, error: Error) {
        tracing::debug!(target: "athanor::pool", "connection attempt failed: {error}");
    }
}
