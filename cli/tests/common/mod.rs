//! What the CLI tests share: a fresh database of their own on a test server.

use athanor::backend::ConnectOptions;
use athanor_conformance::scratch::Scratch;

/// A fresh database `ath_<token>_<label>` on the server `var` names: its guard, which drops it
/// when the test ends, passing or panicking (see `athanor::testing::scratch`), and its URL; or
/// `None` after one `SKIPPED` line when `var` is unset (`example` is the URL the line suggests)
/// or the server cannot be reached (a failure under `CI=true`): `athanor::testing`'s rule.
pub fn fresh_database(var: &str, example: &str, label: &str, what: &str) -> Option<(Scratch, String)> {
    let Some(server) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) else {
        println!("SKIPPED {what}: {var} is not set (e.g. {var}={example})");
        return None;
    };
    if let Err(e) = athanor::create_engine(&server).and_then(|e| e.connect().map(drop)) {
        let shown = ConnectOptions::parse(&server).map(|o| o.redacted()).unwrap_or_default();
        assert!(!athanor::testing::in_ci(), "server at {shown} is unreachable in CI: {e}");
        println!("SKIPPED {what} at {shown}: {e}");
        return None;
    }
    Some(Scratch::fresh_database(&server, label).unwrap_or_else(|e| panic!("a fresh database for {what}: {e}")))
}
