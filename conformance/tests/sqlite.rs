//! The conformance scenarios on sqlite.
#![cfg(feature = "sqlite")]

athanor_conformance::conformance_tests!(sqlite);
athanor_conformance::acid_tests!(sqlite);
