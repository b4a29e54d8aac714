//! The `athanor` binary as a user runs it: output, messages and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::process::{Command, Output};

fn athanor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athanor")).args(args).output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn db_create_and_drop_an_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let url = format!("sqlite://{}", path.display());
    let out = athanor(&["db", "create", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("created sqlite://"));
    assert!(path.exists());
    let again = athanor(&["db", "create", &url]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already exists"), "{}", text(&again.stderr));
    assert_eq!(athanor(&["db", "create", "--if-not-exists", &url]).status.code(), Some(0));
    assert_eq!(athanor(&["db", "drop", &url]).status.code(), Some(0));
    assert!(!path.exists());
    let missing = athanor(&["db", "drop", &url]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("does not exist"));
    assert_eq!(athanor(&["db", "drop", "--if-exists", &url]).status.code(), Some(0));
}

#[test]
fn exit_codes_tell_usage_unreachable_and_bad_urls_apart() {
    assert_eq!(athanor(&["db", "create"]).status.code(), Some(2), "a missing argument is a usage error");
    assert_eq!(athanor(&["db", "frobnicate"]).status.code(), Some(2));
    let bad = athanor(&["db", "create", "nonsense"]);
    assert_eq!(bad.status.code(), Some(4), "{}", text(&bad.stderr));
    // Nothing listens on port 1.
    let unreachable = athanor(&["db", "create", "postgres://postgres@127.0.0.1:1/x?connect_timeout=2"]);
    assert_eq!(unreachable.status.code(), Some(3), "{}", text(&unreachable.stderr));
}

#[test]
fn every_command_has_help_and_completions_are_printed() {
    for args in [
        &["--help"][..],
        &["db", "--help"],
        &["db", "create", "--help"],
        &["db", "drop", "--help"],
        &["reflect", "--help"],
        &["copy", "--help"],
        &["migrate", "--help"],
        &["migrate", "generate", "--help"],
        &["migrate", "upgrade", "--help"],
        &["migrate", "downgrade", "--help"],
        &["migrate", "status", "--help"],
        &["migrate", "history", "--help"],
        &["migrate", "stamp", "--help"],
        &["migrate", "check", "--help"],
        &["check", "--help"],
        &["completions", "--help"],
    ] {
        let out = athanor(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: athanor"), "{args:?}: {}", text(&out.stdout));
    }
    assert!(text(&athanor(&["--help"]).stdout).contains("Exit codes:"));
    let bash = athanor(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(text(&bash.stdout).contains("_athanor()"), "{}", text(&bash.stdout));
}

#[test]
fn an_application_binary_shows_its_own_name_version_and_about() {
    use athanor::cli::{run_args_as, App};
    // `app!()` reads the calling crate's Cargo metadata (here this test's package; in a binary
    // the binary's name).
    let app = athanor::cli::app!();
    assert_eq!(
        (app.name, app.version, app.about),
        ("athanor-cli", env!("CARGO_PKG_VERSION"), env!("CARGO_PKG_DESCRIPTION"))
    );
    let shop = App { name: "shop-admin", version: "2.5.1", about: "Shop administration: migrations and copies." };
    let help = run_args_as(&shop, None, ["--help"]).unwrap();
    assert!(help.starts_with("Shop administration: migrations and copies.\n"), "{help}");
    assert!(help.contains("Usage: shop-admin <COMMAND>") && help.contains("Exit codes:"), "{help}");
    assert!(!help.contains("Athanor's command-line tool"), "{help}");
    assert_eq!(run_args_as(&shop, None, ["--version"]).unwrap(), "shop-admin 2.5.1");
    let sub = run_args_as(&shop, None, ["migrate", "check", "--help"]).unwrap();
    assert!(sub.contains("Usage: shop-admin migrate check"), "{sub}");
    let bash = run_args_as(&shop, None, ["completions", "bash"]).unwrap();
    assert!(bash.contains("-o default shop-admin") && !bash.contains("athanor"), "{bash}");
    // A usage error is still one, with the application's name.
    let bad = run_args_as(&shop, None, ["frobnicate"]).unwrap_err();
    assert!(bad.to_string().contains("Usage: shop-admin"), "{bad}");

    // The plain binary keeps Athanor's.
    let version = athanor(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(text(&version.stdout), format!("athanor {}\n", env!("CARGO_PKG_VERSION")));
    let help = athanor(&["--help"]);
    assert!(text(&help.stdout).starts_with("Athanor's command-line tool"), "{}", text(&help.stdout));
    assert_eq!(athanor::cli::run_args(None, ["--version"]).unwrap(), format!("athanor {}", env!("CARGO_PKG_VERSION")));
}
