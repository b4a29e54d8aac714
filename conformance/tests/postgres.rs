//! The conformance scenarios on postgres.
#![cfg(feature = "postgres")]

athanor_conformance::conformance_tests!(postgres);
