//! Rebuild when a migration file is added (`athanor::migrate::embedded!` sees edits by itself,
//! not new files).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
