//! Athanor's tools, built on the engine and reflection of `athanor-core` (no ORM type, no
//! database named): [`copy`] copies a live database into another of any kind, and `migrate`
//! (cargo feature `migrate`) writes, checks and applies portable migration files. The command
//! line that drives them (`athanor::cli`) lives in the facade, which knows the compiled-in
//! backends. Users depend on `athanor` (features `migrate`, `cli`), not on this crate.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod copy;
#[cfg(feature = "migrate")]
pub mod migrate;
