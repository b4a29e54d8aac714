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
