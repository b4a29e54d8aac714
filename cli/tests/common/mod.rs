//! What the CLI tests share: a fresh database of their own on a test server.

use athanor::backend::ConnectOptions;
use athanor_conformance::scratch::Scratch;

/// A fresh database `ath_<token>_<label>` on the server `var` names (default `default`): its
/// guard, which drops it when the test ends, passing or panicking (see
/// `athanor_conformance::scratch`), and its URL; or `None` after one `SKIPPED` line when the
/// server cannot be reached (a failure under `CI=true`).
pub fn fresh_database(var: &str, default: &str, label: &str, what: &str) -> Option<(Scratch, String)> {
    let server = std::env::var(var).unwrap_or_else(|_| default.into());
    if let Err(e) = athanor::create_engine(&server).and_then(|e| e.connect().map(drop)) {
        let shown = ConnectOptions::parse(&server).map(|o| o.redacted()).unwrap_or_default();
        assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "server at {shown} is unreachable in CI: {e}");
        println!("SKIPPED {what} at {shown}: {e}");
        return None;
    }
    Some(Scratch::fresh_database(&server, label).unwrap_or_else(|e| panic!("a fresh database for {what}: {e}")))
}
