//! The conformance scenarios on mysql.
#![cfg(feature = "mysql")]

athanor_conformance::conformance_tests!(mysql);
athanor_conformance::acid_tests!(mysql);
