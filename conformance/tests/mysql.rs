//! The conformance scenarios on mysql.
#![cfg(feature = "mysql")]

athanor_conformance::conformance_tests!(mysql);
