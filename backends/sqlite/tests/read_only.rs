//! Read-only SQLite databases: `mode=ro` opens the file read-only (reads work, writes fail with
//! `Error::ReadOnly`, the file is not touched) and `immutable=1` reads a WAL database in a
//! directory the process cannot write, which no other mode can.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::{ConnectOptions, Engine, EngineConfig, Error, Result, Value};
use athanor_sqlite::backend;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn engine(url: &str) -> Result<Engine> {
    let o = ConnectOptions::parse(url)?;
    Engine::new((backend().open)(&o)?, &o, EngineConfig::default())
}

fn url(path: &Path, options: &str) -> String {
    format!("sqlite://{}{options}", path.display())
}

/// A WAL database with three rows in `dir`, closed (no `-wal`/`-shm` files left).
fn make_wal_database(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("ro.db");
    {
        let e = engine(&url(&path, ""))?;
        e.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", &[])?;
        for (id, name) in [(1, "ann"), (2, "bob"), (3, "cy")] {
            e.execute("INSERT INTO t (id, name) VALUES (?, ?)", &[Value::I64(id), Value::from(name)])?;
        }
        let mut c = e.connect()?;
        assert_eq!(c.query_scalar::<String>("PRAGMA journal_mode", &[])?, "wal");
        c.query("PRAGMA wal_checkpoint(TRUNCATE)", &[])?;
    }
    // The last connection to close removes the WAL files; the pool closes them on its threads.
    let start = Instant::now();
    while side_files(&path).next().is_some() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(side_files(&path).count(), 0, "the WAL files are gone once every connection is closed");
    // Byte 18 and 19 of the header: 2 and 2 in WAL mode.
    let header = std::fs::read(&path).unwrap();
    assert_eq!((header[18], header[19]), (2, 2), "the file is in WAL mode");
    Ok(path)
}

fn side_files(path: &Path) -> impl Iterator<Item = PathBuf> {
    let p = path.to_path_buf();
    ["-wal", "-shm", "-journal"]
        .into_iter()
        .map(move |s| PathBuf::from(format!("{}{s}", p.display())))
        .filter(|f| f.exists())
}

fn names(e: &Engine) -> Result<Vec<String>> {
    let mut c = e.connect()?;
    c.query("SELECT name FROM t ORDER BY id", &[])?.iter().map(|r| r.get::<String>(0)).collect()
}

/// Writes through every path an application takes fail with `Error::ReadOnly`, and the engine
/// still reads afterwards.
fn writes_are_refused(e: &Engine) -> Result<()> {
    let insert = e.execute("INSERT INTO t (id, name) VALUES (4, 'dee')", &[]);
    assert!(matches!(insert, Err(Error::ReadOnly { .. })), "{insert:?}");
    let mut c = e.connect()?;
    c.begin()?;
    assert_eq!(c.query_scalar::<i64>("SELECT count(*) FROM t", &[])?, 3);
    let update = c.execute("UPDATE t SET name = 'x' WHERE id = 1", &[]);
    assert!(matches!(update, Err(Error::ReadOnly { .. })), "{update:?}");
    c.rollback()?;
    let ddl = c.batch_execute("CREATE TABLE u (x INTEGER)");
    assert!(matches!(ddl, Err(Error::ReadOnly { .. })), "{ddl:?}");
    assert_eq!(names(e)?, ["ann", "bob", "cy"]);
    Ok(())
}

/// `mode=ro`: reads work, every write fails with `Error::ReadOnly`, the journal mode is left as
/// the file has it, and the database file is byte for byte unchanged.
#[test]
fn mode_ro_reads_and_refuses_writes_without_touching_the_file() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = make_wal_database(dir.path())?;
    let before = std::fs::read(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    {
        let e = engine(&url(&path, "?mode=ro"))?;
        assert_eq!(names(&e)?, ["ann", "bob", "cy"]);
        let mut c = e.connect()?;
        assert_eq!(c.query_scalar::<String>("PRAGMA journal_mode", &[])?, "wal", "not switched at connect");
        drop(c);
        writes_are_refused(&e)?;
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file is unchanged");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
    // In memory there is nothing to read.
    assert!(matches!(engine("sqlite::memory:?mode=ro"), Err(Error::Config { .. })));
    Ok(())
}

/// `immutable=1`: reads work without creating the `-wal`/`-shm` files (so in a directory the
/// process cannot write), writes fail with `Error::ReadOnly`.
#[test]
fn immutable_reads_without_creating_wal_files() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let path = make_wal_database(dir.path())?;
    let before = std::fs::read(&path).unwrap();
    {
        let e = engine(&url(&path, "?immutable=1"))?;
        assert_eq!(names(&e)?, ["ann", "bob", "cy"]);
        writes_are_refused(&e)?;
        assert_eq!(side_files(&path).count(), 0, "no -wal or -shm file was made");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    Ok(())
}

const CHILD: &str = "ATHANOR_SQLITE_RO_CHILD";

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// A WAL database whose file and directory this process may not write (chmod 444 / 555): an
/// ordinary open, and `mode=ro`, fail at the first read (SQLite cannot make the `-shm` file
/// WAL readers need), `immutable=1` reads it and refuses writes with `Error::ReadOnly`.
///
/// Root ignores permission bits, so under root the checks run in a child process of this test
/// binary as user `nobody` (`setpriv`); where `setpriv` is missing the test says so and passes.
#[test]
fn unwritable_wal_database_opens_with_immutable() -> Result<()> {
    if let Ok(path) = std::env::var(CHILD) {
        return unwritable_checks(Path::new(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make_wal_database(dir.path())?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let outcome = if is_root() {
        let exe = std::env::current_exe().unwrap();
        let run = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(["--exact", "unwritable_wal_database_opens_with_immutable", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .output();
        match run {
            Ok(out) => {
                let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                assert!(out.status.success(), "the unprivileged child failed:\n{text}");
                assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
                Ok(())
            }
            Err(e) => {
                eprintln!("SKIPPED unwritable_wal_database_opens_with_immutable: running as root without setpriv: {e}");
                Ok(())
            }
        }
    } else {
        unwritable_checks(&path)
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    outcome
}

fn unwritable_checks(path: &Path) -> Result<()> {
    assert!(std::fs::OpenOptions::new().append(true).open(path).is_err(), "the file must not be writable here");
    for options in ["", "?mode=ro"] {
        let r = engine(&url(path, options)).and_then(|e| names(&e));
        assert!(r.is_err(), "{options:?}: reading a WAL database needs its directory writable: {r:?}");
    }
    let e = engine(&url(path, "?immutable=1"))?;
    assert_eq!(names(&e)?, ["ann", "bob", "cy"]);
    writes_are_refused(&e)?;
    assert_eq!(side_files(path).count(), 0);
    Ok(())
}
