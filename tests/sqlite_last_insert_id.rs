//! SQLite's generated keys without `RETURNING` (`KeyRecovery::LastInsertIdLast`): the rowids of
//! one multi-row INSERT are consecutive and `last_insert_rowid()` is the last row's, so the unit
//! of work computes the others, but only where the dialect's probe finds that safe. Each
//! fallback is shown with the keys checked against the rows: a trigger on the table (it could
//! insert into the table itself: `INSERT … RETURNING`), and a table whose largest key leaves no
//! room below `i64::MAX` (SQLite then picks random free rowids: one row per INSERT).

use athanor::prelude::*;
use std::sync::{Arc, Mutex};

/// A row with a generated key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "lid_rows")]
pub struct LidRow {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
}

/// The INSERT statements an engine sent.
type Log = Arc<Mutex<Vec<String>>>;

/// A fresh SQLite database with the table, and the log of its INSERT statements.
fn setup() -> athanor::Result<(tempfile::TempDir, Engine, Log)> {
    let dir = tempfile::tempdir().map_err(|e| Error::invalid_request(e.to_string()))?;
    let url = format!("sqlite://{}", dir.path().join("lid.db").display());
    let engine = athanor::create_engine(&url)?;
    Base::new().register::<LidRow>().metadata().create_all(&engine)?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    engine.on_statement(move |ev| {
        if ev.sql.starts_with("INSERT") {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(ev.sql.to_string());
        }
    });
    Ok((dir, engine, log))
}

/// Add `names` in one flush; the keys written back, each checked against its row.
fn add(engine: &Engine, names: &[&str]) -> athanor::Result<Vec<i64>> {
    let s = sessionmaker(engine).session();
    let handles: Vec<_> = names.iter().map(|n| s.add(LidRow { id: None, name: n.to_string() })).collect();
    s.commit()?;
    let fresh = sessionmaker(engine).session();
    let mut keys = Vec::new();
    for (h, name) in handles.iter().zip(names) {
        let id = h.get().id.expect("key written back");
        let row = fresh.get::<LidRow>(id)?.map(|r| r.get().name.clone());
        assert_eq!(row.as_deref(), Some(*name), "key {id} is the row's");
        keys.push(id);
    }
    Ok(keys)
}

fn take(log: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()))
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn add_names(engine: &Engine, names: &[String]) -> athanor::Result<Vec<i64>> {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    add(engine, &refs)
}

/// `(statements with RETURNING, statements without)` among the INSERTs logged.
fn shapes(sent: &[String]) -> (usize, usize) {
    let ret = sent.iter().filter(|s| s.contains("RETURNING")).count();
    (ret, sent.len() - ret)
}

#[test]
fn keys_come_from_the_last_rowid_without_returning() -> athanor::Result<()> {
    let (_dir, engine, log) = setup()?;
    assert_eq!(engine.capabilities().key_recovery, athanor::backend::KeyRecovery::LastInsertIdLast);
    // Rows that fit one INSERT: RETURNING, no probe.
    assert_eq!(add(&engine, &["a", "b", "c"])?, [1, 2, 3]);
    assert_eq!(shapes(&take(&log)), (1, 0));
    // After a gap (an explicit key), the next rows follow the largest key: the first INSERT
    // with RETURNING (it takes the write lock), the probe, then the last rowid.
    engine.execute("INSERT INTO lid_rows (id, name) VALUES (100, 'x')", &[])?;
    take(&log);
    let keys = add_names(&engine, &names("n", 1200))?;
    assert_eq!(keys, (101..1301).collect::<Vec<i64>>());
    let sent = take(&log);
    assert_eq!(shapes(&sent), (1, 2), "{:?}", sent.iter().map(|s| &s[..40]).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn a_trigger_on_the_table_falls_back_to_returning() -> athanor::Result<()> {
    let (_dir, engine, log) = setup()?;
    // A trigger that inserts into the table itself (for a row of the second INSERT): the
    // rowids of that INSERT are not consecutive.
    engine.execute(
        "CREATE TRIGGER lid_shadow AFTER INSERT ON lid_rows WHEN NEW.name = 'n600' BEGIN \
         INSERT INTO lid_rows (name) VALUES ('shadow'); END",
        &[],
    )?;
    take(&log);
    let keys = add_names(&engine, &names("n", 1000))?;
    let mut want: Vec<i64> = (1..=601).collect();
    want.extend(603..=1001);
    assert_eq!(keys, want, "the shadow row took key 602");
    assert_eq!(shapes(&take(&log)), (2, 0), "RETURNING throughout");
    Ok(())
}

#[test]
fn keys_near_i64_max_are_still_right() -> athanor::Result<()> {
    let (_dir, engine, log) = setup()?;
    // Room for exactly 600 more keys: the first INSERT with RETURNING, then the last rowid up
    // to i64::MAX.
    engine.execute("INSERT INTO lid_rows (id, name) VALUES (?, 'edge')", &[Value::I64(i64::MAX - 600)])?;
    take(&log);
    let keys = add_names(&engine, &names("a", 600))?;
    assert_eq!(keys, ((i64::MAX - 599)..=i64::MAX).collect::<Vec<i64>>());
    assert_eq!(shapes(&take(&log)), (1, 1));
    // Room for 502 keys, 600 rows: after the first INSERT the probe finds no room for the
    // other 100; SQLite picks random free rowids for them, one row per INSERT, each exact.
    let (_dir2, engine2, log2) = setup()?;
    engine2.execute("INSERT INTO lid_rows (id, name) VALUES (?, 'edge')", &[Value::I64(i64::MAX - 502)])?;
    take(&log2);
    let keys = add_names(&engine2, &names("b", 600))?;
    assert_eq!(keys[..502], ((i64::MAX - 501)..=i64::MAX).collect::<Vec<i64>>()[..]);
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 600);
    let sent = take(&log2);
    assert_eq!(shapes(&sent), (101, 0));
    assert!(sent[1..].iter().all(|s| !s.contains("), (")), "one row per INSERT after the probe");
    Ok(())
}
