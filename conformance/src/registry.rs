//! The check that no scenario is forgotten: every `pub fn` in `src/scenarios/*.rs` and
//! `src/acid/*.rs` whose first parameter is the [`TestDb`](crate::harness::TestDb) is a
//! scenario, and must be named exactly once in the lists of `conformance_tests!` or
//! `acid_tests!`. Each suite's `every_scenario_is_registered_once` test compares the sources
//! with the lists the macro was given, so a scenario written but not listed fails that test
//! instead of compiling and never running.
//!
//! The lists stay hand-written (they carry each scenario's `requires(…)`), and the check reads
//! the sources as text at test time: a scenario is recognised by its signature,
//! `pub fn <name>(db: &TestDb…` (or `_db`), on one line or wrapped by rustfmt.

use std::collections::BTreeMap;
use std::path::Path;

/// A registered group: the source module (`"query"` for `src/scenarios/query.rs`) and the
/// names its list holds, with their requirements.
pub type Group<'a> = (&'a str, &'a [(&'a str, &'a [crate::harness::Requirement])]);

/// The scenario functions `source` defines, in order: each `pub fn` whose first parameter is
/// `db: &TestDb` or `_db: &TestDb`.
pub fn scenario_functions(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("pub fn ") {
        let after = &rest[at + "pub fn ".len()..];
        rest = after;
        let name_end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        let (name, signature) = after.split_at(name_end);
        let Some(params) = signature.strip_prefix('(') else { continue };
        let first = params.trim_start();
        if first.starts_with("db: &TestDb") || first.starts_with("_db: &TestDb") {
            found.push(name.to_string());
        }
    }
    found
}

/// What is wrong between the scenario sources under `src/<dir>/` and the `groups` registered
/// for them: one line per scenario that is not registered, registered more than once, or
/// registered but not defined. Empty when they agree.
pub fn mismatches(dir: &str, groups: &[Group<'_>]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut defined: BTreeMap<(String, String), ()> = BTreeMap::new();
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| panic!("reading {}: {e}", root.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("reading {}: {e}", root.display())).path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let module = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for name in scenario_functions(&source) {
            defined.insert((module.clone(), name), ());
        }
    }
    let mut registered: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (module, scenarios) in groups {
        for (name, _) in *scenarios {
            *registered.entry((module.to_string(), name.to_string())).or_default() += 1;
        }
    }
    let mut problems = Vec::new();
    for key @ (module, name) in defined.keys() {
        match registered.get(key).copied().unwrap_or(0) {
            0 => problems.push(format!("src/{dir}/{module}.rs: scenario `{name}` is not registered")),
            1 => {}
            n => problems.push(format!("src/{dir}/{module}.rs: scenario `{name}` is registered {n} times")),
        }
    }
    for key @ (module, name) in registered.keys() {
        if !defined.contains_key(key) {
            problems.push(format!("src/{dir}/{module}.rs: `{name}` is registered but is no scenario there"));
        }
    }
    problems
}

/// Panics, listing each mismatch, unless every scenario under `src/<dir>/` is registered
/// exactly once in `groups`.
pub fn check(dir: &str, groups: &[Group<'_>]) {
    let problems = mismatches(dir, groups);
    assert!(
        problems.is_empty(),
        "the scenario lists in conformance/src/lib.rs disagree with the sources:\n{}",
        problems.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_found_by_their_first_parameter() {
        let source = "\
pub fn one(db: &TestDb) -> Result<()> { Ok(()) }
fn helper(db: &TestDb) -> Result<()> { Ok(()) }
pub fn unused(_db: &TestDb) -> Result<()> { Ok(()) }
pub fn wrapped(
    db: &TestDb,
    child: &str,
) -> Result<()> { Ok(()) }
pub fn not_a_scenario(x: u8) -> u8 { x }
pub fn generic<T>(db: &TestDb) {}
";
        assert_eq!(scenario_functions(source), ["one", "unused", "wrapped"]);
    }

    #[test]
    fn missing_twice_and_unknown_registrations_are_reported() {
        let groups: &[Group<'_>] = &[
            ("mapping", &[("metadata_describes_tables", &[]), ("create_all_is_idempotent", &[])]),
            ("mapping", &[("create_all_is_idempotent", &[]), ("no_such_scenario", &[])]),
        ];
        let problems = mismatches("scenarios", groups);
        let expected = [
            "src/scenarios/mapping.rs: scenario `create_all_is_idempotent` is registered 2 times",
            "src/scenarios/mapping.rs: scenario `create_all_orders_by_foreign_keys` is not registered",
        ];
        for line in expected {
            assert!(problems.iter().any(|p| p == line), "{line} missing from {problems:#?}");
        }
        assert!(problems.iter().any(|p| p.contains("`no_such_scenario` is registered but is no scenario there")));
        assert!(problems.iter().any(|p| p.contains("query.rs: scenario `filter_and_order_by` is not registered")));
    }
}
