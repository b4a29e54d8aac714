//! The unit of work recovers generated keys the way the *connection* reports, not the dialect's
//! static sheet: a connection that reports `KeyRecovery::LastInsertIdPerRow` at connect (MySQL
//! when the server does not promise consecutive keys) gets one INSERT per row that needs a key.
//! Shown on SQLite through a driver that adjusts the capabilities; a single-row INSERT's
//! `last_insert_rowid()` is exact there. (The consecutive mode is MySQL's own and runs in the
//! MySQL conformance suite: SQLite's `last_insert_rowid()` names the *last* row of a multi-row
//! INSERT, MySQL's `LAST_INSERT_ID()` the first.)

use athanor::prelude::*;
use athanor_core::{
    Capabilities, ConnectOptions, Dialect, Driver, EngineConfig, KeyRecovery, RawConnection, Row, ValueRef,
};
use std::sync::{Arc, Mutex};

/// A row with a generated key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "keyed")]
pub struct Keyed {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
}

/// SQLite, reporting LAST_INSERT_ID-style key recovery: `reported` from each connection.
struct Reporting {
    inner: Arc<dyn Driver>,
    reported: KeyRecovery,
}

impl Driver for Reporting {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.inner.dialect()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { key_recovery: KeyRecovery::LastInsertIdConsecutive, ..self.inner.capabilities() }
    }
    fn connect(&self) -> athanor::Result<Box<dyn RawConnection>> {
        Ok(Box::new(Conn { inner: self.inner.connect()?, reported: self.reported }))
    }
}

struct Conn {
    inner: Box<dyn RawConnection>,
    reported: KeyRecovery,
}

impl RawConnection for Conn {
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> athanor::Result<u64> {
        self.inner.execute(sql, params)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&dyn Row) -> athanor::Result<()>,
    ) -> athanor::Result<()> {
        self.inner.query(sql, params, on_row)
    }
    fn batch_execute(&mut self, sql: &str) -> athanor::Result<()> {
        self.inner.batch_execute(sql)
    }
    fn last_insert_id(&mut self) -> athanor::Result<Option<i64>> {
        self.inner.last_insert_id()
    }
    fn adjust_capabilities(&self, caps: &mut Capabilities) {
        self.inner.adjust_capabilities(caps);
        caps.key_recovery = self.reported;
    }
    fn ping(&mut self) -> athanor::Result<()> {
        self.inner.ping()
    }
    fn is_broken(&self) -> bool {
        self.inner.is_broken()
    }
}

/// Insert three rows needing keys; the INSERT statements sent and the keys written back.
fn insert_three(reported: KeyRecovery) -> athanor::Result<(Vec<String>, Vec<i64>)> {
    let dir = tempfile::tempdir().map_err(|e| Error::invalid_request(e.to_string()))?;
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let o = ConnectOptions::parse(&url)?;
    let inner = (athanor_sqlite::backend().open)(&o)?;
    let engine = Engine::new(Arc::new(Reporting { inner, reported }), &o, EngineConfig::default())?;
    Base::new().register::<Keyed>().metadata().create_all(&engine)?;
    assert_eq!(engine.capabilities().key_recovery, reported, "the connection's report is the engine's");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    engine.on_statement(move |ev| {
        if ev.sql.starts_with("INSERT") {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(ev.sql.to_string());
        }
    });
    let s = sessionmaker(&engine).session();
    let handles: Vec<_> = ["a", "b", "c"].iter().map(|n| s.add(Keyed { id: None, name: n.to_string() })).collect();
    s.commit()?;
    let keys = handles.iter().map(|h| h.get().id.unwrap_or(-1)).collect();
    let fresh = sessionmaker(&engine).session();
    for (h, name) in handles.iter().zip(["a", "b", "c"]) {
        let id = h.get().id.unwrap_or(-1);
        let row = fresh.get::<Keyed>(id)?.map(|r| r.get().name.clone());
        assert_eq!(row.as_deref(), Some(name), "key {id} is the row's");
    }
    let sent = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((sent, keys))
}

#[test]
fn per_row_key_recovery_inserts_one_row_per_statement() -> athanor::Result<()> {
    let (sent, keys) = insert_three(KeyRecovery::LastInsertIdPerRow)?;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent.iter().all(|s| !s.contains("), (")), "{sent:?}");
    assert_eq!(keys, [1, 2, 3]);
    Ok(())
}
