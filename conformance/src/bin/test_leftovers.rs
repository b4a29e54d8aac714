//! `test_leftovers [--legacy]`: drop what finished test processes left on the test servers
//! (`ATHANOR_TEST_POSTGRES_URL`, `ATHANOR_TEST_MYSQL_URL`, defaults the local ones); a server that
//! cannot be reached is reported and skipped. `.ci/leftovers sweep` runs it.
//!
//! Without flags it does what every test process does when it starts (see
//! `athanor_conformance::scratch`): each `ath_<token>_…` schema and database whose owner lock is
//! free is dropped; a running test process's are kept.
//!
//! `--legacy` also drops the names Athanor's tests made before owner locks existed:
//! `ath<pid>_…` schemas/databases and `athanor_{copy,migrate,admin}_<pid>` databases whose
//! process id is not running **on this machine** (Linux `/proc` only). Use it only when every
//! test run against these servers runs on this machine: a process elsewhere cannot be seen.

use athanor_conformance::athanor::{self, create_engine, Connection, Value};
use athanor_conformance::scratch::{self, Server};
use std::collections::BTreeSet;

fn main() {
    let legacy = std::env::args().skip(1).any(|a| a == "--legacy");
    if std::env::args().skip(1).any(|a| a != "--legacy") {
        eprintln!("usage: test_leftovers [--legacy]");
        std::process::exit(2);
    }
    let mut failed = false;
    for backend in ["postgres", "mysql"] {
        // The local test servers unless configured (this tool sweeps; it is not a test).
        let url = athanor::testing::configured_url(backend).unwrap_or_else(|| match backend {
            "postgres" => "postgres://postgres@127.0.0.1:5432/test".to_string(),
            _ => "mysql://root@127.0.0.1:3306/test".to_string(),
        });
        let Some(server) = Server::of(&url) else { continue };
        let mut conn = match create_engine(&url).and_then(|e| e.connect()) {
            Ok(c) => c,
            Err(e) => {
                println!("{backend}: not reachable, skipped: {e}");
                continue;
            }
        };
        let swept = scratch::sweep(&mut conn, server, None);
        println!("{backend}: dropped {swept} schema(s)/database(s) of finished test processes");
        if legacy {
            match sweep_legacy(&mut conn, server) {
                Ok((dropped, kept)) => println!(
                    "{backend}: dropped {dropped} legacy schema(s)/database(s); kept {kept} of running processes"
                ),
                Err(e) => {
                    failed = true;
                    eprintln!("{backend}: legacy sweep failed: {e}");
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// The process ids running on this machine, or an error where `/proc` cannot tell.
fn running_pids() -> athanor::Result<BTreeSet<u32>> {
    let dir = std::fs::read_dir("/proc")
        .map_err(|e| athanor::Error::invalid_request(format!("cannot list /proc (Linux only): {e}")))?;
    Ok(dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
}

/// The process id a legacy name carries and whether it was kept modulo 100 000 (`ath<pid>_…`).
fn legacy_pid(name: &str) -> Option<(u32, bool)> {
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    if let Some(rest) = name.strip_prefix("ath") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with('_') {
            return Some((digits.parse().ok()?, true));
        }
    }
    for prefix in ["athanor_copy_", "athanor_migrate_", "athanor_admin_"] {
        if let Some(digits) = name.strip_prefix(prefix) {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return Some((digits.parse().ok()?, false));
            }
        }
    }
    None
}

fn sweep_legacy(conn: &mut Connection, server: Server) -> athanor::Result<(usize, usize)> {
    let running = running_pids()?;
    let mut found: Vec<(bool, String)> = Vec::new(); // (is a PostgreSQL schema, name)
    let mut names = |sql: &str, schema: bool| -> athanor::Result<()> {
        for row in conn.query(sql, &[Value::Text("ath%".into())])? {
            found.push((schema, row.get::<String>(0)?));
        }
        Ok(())
    };
    match server {
        Server::Postgres => {
            names("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", true)?;
            names("SELECT datname FROM pg_database WHERE datname LIKE $1", false)?;
        }
        Server::MySql => names("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?", false)?,
    }
    let (mut dropped, mut kept) = (0, 0);
    for (schema, name) in found {
        let Some((pid, modulo)) = legacy_pid(&name) else { continue };
        let alive = if modulo { running.iter().any(|p| p % 100_000 == pid) } else { running.contains(&pid) };
        if alive {
            kept += 1;
            continue;
        }
        let sql = match (server, schema) {
            (Server::Postgres, true) => format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
            (Server::Postgres, false) => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            (Server::MySql, _) => format!("DROP DATABASE IF EXISTS `{name}`"),
        };
        match conn.batch_execute(&sql) {
            Ok(()) => dropped += 1,
            Err(e) => eprintln!("{sql}: {e}"),
        }
    }
    Ok((dropped, kept))
}
