//! Compile-fail tests: what `#[derive(Model)]` and the typed column handles reject, and how.
//!
//! Regenerate the expected messages with `TRYBUILD=overwrite cargo test -p athanor-derive --test ui`
//! and read every changed `.stderr` before keeping it.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
