//! Declarative mapping, MetaData and create_all/drop_all.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;
use athanor::schema::SqlType;

/// `metadata()` lists tables with columns, types, nullability, keys, constraints and indexes.
pub fn metadata_describes_tables(_db: &TestDb) -> Result<()> {
    let base = base();
    let md = base.metadata();
    let customers = md.table("customers").expect("customers registered");
    let names: Vec<&str> = customers.columns.iter().map(|c| c.name).collect();
    assert_eq!(names, ["id", "name", "address", "email", "age"]);
    let id = &customers.columns[0];
    assert!(id.primary_key && id.autoincrement && !id.nullable);
    assert_eq!(id.sql_type, SqlType::BigInt);
    assert!(customers.columns[2].nullable, "Option<String> is nullable");
    assert!(!customers.columns[1].nullable, "String is NOT NULL");
    assert_eq!(customers.unique_constraints()[0].name, "uq_customers_email");
    assert_eq!(customers.columns[3].length, Some(255));
    let orders = md.table("orders").expect("orders registered");
    let fks = orders.foreign_keys();
    assert_eq!(fks.len(), 1);
    assert_eq!(fks[0].0, "fk_orders_customer_id_customers");
    assert_eq!((fks[0].2.table, fks[0].2.column), ("customers", "id"));
    assert_eq!(orders.indexes()[0].name, "ix_orders_customer_id");
    let m = md.table("memberships").expect("memberships");
    assert_eq!(m.primary_key().count(), 2);
    assert!(m.autoincrement_column().is_none(), "composite keys are not generated");
    let sorted: Vec<&str> = md.sorted_tables()?.iter().map(|t| t.name).collect();
    let pos = |n: &str| sorted.iter().position(|x| *x == n).expect("present");
    assert!(pos("customers") < pos("orders") && pos("parents") < pos("children"));
    Ok(())
}

/// `create_all` creates the tables; running it again is a no-op; `drop_all` removes them.
pub fn create_all_is_idempotent(db: &TestDb) -> Result<()> {
    db.create_all()?;
    db.clear_sql();
    db.create_all()?;
    let second = db.take_sql();
    assert!(second.iter().all(|s| !s.starts_with("CREATE")), "second create_all created something: {second:?}");
    let s = db.session();
    s.add(Customer::new("a", "a@x", 1));
    s.commit()?;
    base().metadata().drop_all(&db.engine)?;
    let drops: Vec<String> = db.take_sql().into_iter().filter(|s| s.starts_with("DROP")).collect();
    let pos = |t: &str| drops.iter().position(|s| s == &format!("DROP TABLE {t}")).expect("dropped");
    assert!(pos("orders") < pos("customers"), "children are dropped first: {drops:?}");
    assert!(pos("children") < pos("parents"));
    // And everything can be created again.
    db.create_all()?;
    assert_eq!(db.session().query::<Customer>().count()?, 0);
    Ok(())
}

/// Tables are created parents first.
pub fn create_all_orders_by_foreign_keys(db: &TestDb) -> Result<()> {
    db.create_all()?;
    let creates: Vec<String> = db.take_sql().into_iter().filter(|s| s.starts_with("CREATE TABLE")).collect();
    let pos = |t: &str| creates.iter().position(|s| s.starts_with(&format!("CREATE TABLE {t} ("))).expect("created");
    assert!(pos("customers") < pos("orders"));
    assert!(pos("parents") < pos("children"));
    Ok(())
}

/// A foreign key to an unregistered table is a clear error, before any SQL.
pub fn create_all_rejects_unknown_foreign_key_table(db: &TestDb) -> Result<()> {
    let base = Base::new().register::<Order>();
    let err = base.metadata().create_all(&db.engine).expect_err("orders without customers");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("customers"), "{err}");
    Ok(())
}
