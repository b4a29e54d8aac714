//! The conformance scenarios on postgres.
#![cfg(feature = "postgres")]

athanor_conformance::conformance_tests!(postgres);
athanor_conformance::acid_tests!(postgres);
