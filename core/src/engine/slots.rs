//! Async slots (cargo feature `tokio`): how many callers may hold one of this engine's
//! connections on a blocking thread at once.
//!
//! An async bridge (the ORM's `SessionMaker::run`) takes a slot before it hands a closure to a
//! blocking thread, so it never starts more blocking work than the pool has connections: the
//! callers beyond that wait here, as futures (no thread is held while waiting), in arrival
//! order, and give up after the engine's `pool_timeout` with [`Error::PoolTimeout`], as a
//! checkout would. The deadline is kept by the engine's own scheduler threads, not by a runtime
//! timer, so the wait works on any executor (a tokio runtime built without `enable_time`
//! included). Only `tokio::sync` is used, which needs no runtime.

use super::Engine;
use crate::error::{Error, Result};
use scheduled_thread_pool::{JobHandle, ScheduledThreadPool};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The right to use one of the engine's connections on a blocking thread, until dropped
/// ([`Engine::acquire_slot`]). `Send + Sync + 'static`: it moves into the blocking closure.
#[derive(Debug)]
pub struct AsyncSlot {
    _permit: OwnedSemaphorePermit,
}

/// The engine's slots: one per pooled connection.
pub(super) fn slots(pool_size: u32) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(pool_size.max(1) as usize))
}

/// A future that becomes ready when the engine's scheduler fires it (or the job is lost).
struct Deadline {
    state: Arc<Mutex<DeadlineState>>,
    job: JobHandle,
}

#[derive(Default)]
struct DeadlineState {
    fired: bool,
    waker: Option<Waker>,
}

impl Deadline {
    fn after(scheduler: &ScheduledThreadPool, delay: std::time::Duration) -> Deadline {
        let state = Arc::new(Mutex::new(DeadlineState::default()));
        let shared = state.clone();
        let job = scheduler.execute_after(delay, move || {
            let waker = match shared.lock() {
                Ok(mut s) => {
                    s.fired = true;
                    s.waker.take()
                }
                Err(_) => None,
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
        Deadline { state, job }
    }

    fn poll_fired(&self, waker: &Waker) -> bool {
        match self.state.lock() {
            Ok(mut s) => {
                if !s.fired {
                    s.waker = Some(waker.clone());
                }
                s.fired
            }
            // A poisoned lock cannot come from the job above (it does not panic): give up waiting.
            Err(_) => true,
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.job.cancel();
    }
}

/// Counts a waiter in the pool's gauge while it waits (also when the future is dropped).
struct Waiting<'e>(&'e Engine);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.inner.waiters.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Engine {
    /// Wait, without blocking a thread, for one of this engine's slots: at most `pool_size`
    /// slots are out at once, so work handed to blocking threads with a slot each never waits
    /// for a connection the pool cannot give. Waiters are served in arrival order; they count in
    /// [`Engine::pool_metrics`]'s `waiters`, and a wait that gives up in its `timeouts`.
    ///
    /// Dropping the future gives up the place in the queue (nothing is held). The slot is
    /// returned when the [`AsyncSlot`] is dropped.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] when no slot came free within the engine's `pool_timeout`.
    pub async fn acquire_slot(&self) -> Result<AsyncSlot> {
        let slots = self.inner.slots.clone();
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Ok(AsyncSlot { _permit: permit });
        }
        self.inner.waiters.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(self);
        let start = Instant::now();
        let timeout = self.inner.config.pool_timeout;
        let deadline = Deadline::after(&self.inner.scheduler, timeout);
        let mut acquire = pin!(slots.acquire_owned());
        let won = poll_fn(|cx| {
            if let Poll::Ready(r) = acquire.as_mut().poll(cx) {
                return Poll::Ready(r.ok());
            }
            if deadline.poll_fired(cx.waker()) {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        match won {
            Some(permit) => Ok(AsyncSlot { _permit: permit }),
            None => {
                self.inner.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(Error::PoolTimeout { waited: start.elapsed(), pool_size: self.inner.pool.max_size() })
            }
        }
    }

    /// Slots free now (for tests and gauges): `pool_size` minus the slots out.
    pub fn free_slots(&self) -> usize {
        self.inner.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::task::{Context, Wake};
    use std::time::Duration;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_deadline_fires_from_the_scheduler_and_wakes_its_waiter() {
        let pool = ScheduledThreadPool::new(1);
        let d = Deadline::after(&pool, Duration::from_millis(20));
        let flag = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        assert!(!d.poll_fired(&waker));
        let start = Instant::now();
        while !flag.0.load(Ordering::SeqCst) {
            assert!(start.elapsed() < Duration::from_secs(10), "the deadline never fired");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(d.poll_fired(&waker));
        let _ = Context::from_waker(&waker);
    }

    #[test]
    fn a_dropped_deadline_cancels_its_job() {
        let pool = ScheduledThreadPool::new(1);
        let d = Deadline::after(&pool, Duration::from_millis(30));
        let state = d.state.clone();
        drop(d);
        std::thread::sleep(Duration::from_millis(80));
        assert!(!state.lock().unwrap().fired);
    }
}
