//! The ACID suite: transactions API, atomicity, consistency, the Hermitage isolation matrix,
//! durability under SIGKILL, connection faults and hostile input, on every backend.
//!
//! Generated per backend by [`acid_tests!`](crate::acid_tests). The run sizes are small by
//! default so the suite stays fast; `ATHANOR_FULL=1` runs the full counts (see [`full`]).
//! What the suite shows is summed up in `docs/guarantees.md`, whose isolation matrix is
//! rendered from [`expectations::MATRIX`].

pub mod atomicity;
pub mod consistency;
pub mod docs;
pub mod durability;
pub mod expectations;
pub mod faults;
pub mod hermitage;
mod hermitage_tests;
pub mod hostile;
pub mod models;
pub mod phenomena;
pub mod serial;
pub mod timeouts;
#[cfg(test)]
mod trace_fixtures;
pub mod transactions;

use crate::harness::{self, TestDb};
use athanor::backend::Capabilities;
use athanor::IsolationLevel;
use std::panic::{self, AssertUnwindSafe};

/// `true` when `ATHANOR_FULL` is `1`/`true`: run the full counts (8 × 500 bank transfers, 100
/// kill trials per configuration, 512 property cases) instead of CI's.
pub fn full() -> bool {
    std::env::var("ATHANOR_FULL").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// `ci` normally, `full` under `ATHANOR_FULL=1`.
pub fn scaled(ci: usize, full_count: usize) -> usize {
    if full() {
        full_count
    } else {
        ci
    }
}

/// The strongest isolation level the database offers.
pub fn strongest_level(caps: &Capabilities) -> IsolationLevel {
    caps.isolation_levels.iter().copied().max().unwrap_or(caps.default_isolation)
}

/// A tiny deterministic random generator (SplitMix64), so runs can be replayed from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A seed from the clock (printed by the tests that use it).
    pub fn seed_from_clock() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Append `key=value` options to a URL.
pub fn url_with(url: &str, options: &[(&str, &str)]) -> String {
    let mut out = url.to_string();
    for (k, v) in options {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Run one ACID scenario through the harness (its own schema/database/file, the skip rule),
/// honouring [`expectations::KNOWN_GAPS`]: a listed scenario that fails prints `KNOWN GAP …`,
/// one that passes fails the test so the entry is removed.
/// A scenario whose `reqs` the engine's capabilities miss is skipped (see [`harness::requires`]).
pub fn run(
    backend: &'static str,
    group: &str,
    name: &str,
    reqs: &[harness::Requirement],
    scenario: fn(&TestDb) -> athanor::Result<()>,
) {
    let Some(db) = harness::open(backend, &format!("acid_{group}_{name}")) else { return };
    if !harness::requires(&db, &format!("acid_{group}::{name}"), reqs) {
        return;
    }
    if let Some(why) = harness::not_through_the_pooler(backend, name) {
        harness::skipped(&db, &format!("acid_{group}::{name}"), why);
        return;
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| scenario(&db)));
    match (expectations::known_gap(backend, name), outcome) {
        (None, Ok(Ok(()))) => {}
        (None, Ok(Err(e))) => panic!("{backend}::{group}::{name} failed: {e}"),
        (None, Err(p)) => panic::resume_unwind(p),
        (Some(why), Ok(Ok(()))) => panic!(
            "{backend}::{group}::{name} is listed in KNOWN_GAPS ({why}) but now passes: remove the entry from \
             conformance/src/acid/expectations.rs"
        ),
        (Some(why), Ok(Err(e))) => eprintln!("KNOWN GAP {backend}::{group}::{name}: {why} (observed: {e})"),
        (Some(why), Err(_)) => eprintln!("KNOWN GAP {backend}::{group}::{name}: {why}"),
    }
}
