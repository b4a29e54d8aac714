//! Selectin loading sends its `IN` lists in chunks under the engine's bind-parameter limit: one
//! statement per chunk, the same graph. Shown on SQLite through a driver that reports a limit of
//! 4 parameters (the real limits — 32766 on SQLite, 65535 on PostgreSQL and MySQL — need tens of
//! thousands of parents to reach).
#![allow(missing_docs)] // test models

use athanor::prelude::*;
use athanor_core::{Capabilities, ConnectOptions, Dialect, Driver, EngineConfig, RawConnection};
use std::sync::{Arc, Mutex};

#[derive(Model, Debug, Clone, Default)]
#[model(table = "owners")]
pub struct Owner {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[relationship(back_populates = "owner")]
    pub pets: HasMany<Pet>,
}

#[derive(Model, Debug, Clone, Default)]
#[model(table = "pets")]
pub struct Pet {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "owners.id")]
    pub owner_id: Option<i64>,
    pub name: String,
    #[relationship(back_populates = "pets")]
    pub owner: BelongsTo<Owner>,
}

/// SQLite with a bind-parameter limit of 4.
struct Limited(Arc<dyn Driver>);

impl Driver for Limited {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.0.dialect()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities { max_bind_params: 4, ..self.0.capabilities() }
    }
    fn connect(&self) -> athanor::Result<Box<dyn RawConnection>> {
        self.0.connect()
    }
}

#[test]
fn selectin_chunks_under_the_bind_limit() -> athanor::Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::invalid_request(e.to_string()))?;
    let url = format!("sqlite://{}", dir.path().join("chunks.db").display());
    let o = ConnectOptions::parse(&url)?;
    let engine = Engine::new(Arc::new(Limited((athanor_sqlite::backend().open)(&o)?)), &o, EngineConfig::default())?;
    assert_eq!(engine.capabilities().max_bind_params, 4);
    Base::new().register::<Owner>().register::<Pet>().metadata().create_all(&engine)?;
    let s = sessionmaker(&engine).session();
    for i in 0..10 {
        let owner = s.add(Owner { name: format!("o{i}"), ..Default::default() });
        for j in 0..2 {
            s.add(Pet { name: format!("p{i}.{j}"), owner: BelongsTo::to(&owner), ..Default::default() });
        }
    }
    s.commit()?;

    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    engine.on_statement(move |ev| {
        if ev.sql.starts_with("SELECT") {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push((ev.sql.to_string(), ev.params.len()));
        }
    });
    let s = sessionmaker(&engine).session();
    let owners = s.query::<Owner>().order_by(Owner::id.asc()).options(selectinload(Owner::pets)).all()?;
    let sent = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    // 1 for the owners, then 10 keys in chunks of 4, 4 and 2.
    let sizes: Vec<usize> = sent.iter().map(|(_, n)| *n).collect();
    assert_eq!(sizes, [0, 4, 4, 2], "{sent:?}");
    for (i, o) in owners.iter().enumerate() {
        let names: Vec<String> = o.get().pets.iter().map(|p| p.get().name.clone()).collect();
        assert_eq!(names, [format!("p{i}.0"), format!("p{i}.1")]);
    }
    Ok(())
}
