//! Reflection: what `create_all` made reads back from the database's catalog equal to the
//! models, on every backend (every column type, keys, unique constraints, indexes, foreign keys).

use crate::harness::TestDb;
use athanor::prelude::*;
use athanor::reflect::{compare, reflect, reflect_table, table_names};

/// Every table of `base` reflects back with no difference from its model.
fn reflects_back(db: &TestDb, base: &Base) -> Result<()> {
    base.metadata().create_all(&db.engine)?;
    let mut conn = db.engine.connect()?;
    let names = table_names(&mut conn)?;
    for table in base.metadata().tables() {
        assert!(names.iter().any(|n| n == table.name), "{} is listed: {names:?}", table.name);
        let found = reflect_table(&mut conn, table.name)?;
        let diff = compare(db.engine.dialect(), table, &found)?;
        let shown: Vec<String> = diff.iter().map(ToString::to_string).collect();
        assert!(shown.is_empty(), "{} differs from its model:\n  {}", table.name, shown.join("\n  "));
    }
    Ok(())
}

/// The models of every column type (and unique, indexed, defaulted columns) reflect back equal.
pub fn create_all_reflects_back_equal(db: &TestDb) -> Result<()> {
    reflects_back(db, &crate::models::base())?;
    // An enum's CHECK reads back as its values, on every database.
    let mut conn = db.engine.connect()?;
    let tasks = reflect_table(&mut conn, "tasks")?;
    let stage = tasks.column("stage").expect("tasks.stage");
    assert_eq!(stage.allowed, ["'Open'", "'in_progress'", "'Closed'"], "{stage:?}");
    assert_eq!(tasks.column("level").map(|c| c.allowed.clone()), Some(vec!["1".into(), "10".into(), "100".into()]));
    Ok(())
}

/// The blog graph (foreign keys, an association table with a composite key, a self-reference)
/// reflects back equal, with what each database keeps of the constraints' names.
pub fn foreign_keys_and_composite_keys_reflect(db: &TestDb) -> Result<()> {
    let base = crate::models::blog::base();
    reflects_back(db, &base)?;
    let mut conn = db.engine.connect()?;
    let all = reflect(&mut conn)?;
    let posts = all.iter().find(|t| t.name == "posts").expect("posts is reflected");
    let fk = posts.foreign_keys.iter().find(|f| f.referred_table == "users").expect("posts → users");
    assert_eq!(
        (fk.columns.as_slice(), fk.referred_columns.as_slice()),
        (&["user_id".to_string()][..], &["id".to_string()][..])
    );
    match db.engine.dialect().name() {
        "sqlite" => assert_eq!(fk.name, None, "SQLite keeps no foreign-key names"),
        _ => assert_eq!(fk.name.as_deref(), Some("fk_posts_user_id_users")),
    }
    let id = posts.column("id").expect("posts.id");
    assert!(id.autoincrement && !id.nullable, "{id:?}");
    // A table that is not there is a typed error.
    let missing = reflect_table(&mut conn, "no_such_table");
    assert!(matches!(missing, Err(Error::InvalidRequest { .. })), "{missing:?}");
    Ok(())
}

/// A column changed behind the model's back is reported, readably.
pub fn column_added_behind_the_model_is_reported_as_a_difference(db: &TestDb) -> Result<()> {
    let base = crate::models::base();
    base.metadata().create_all(&db.engine)?;
    let mut conn = db.engine.connect()?;
    conn.batch_execute("ALTER TABLE customers ADD COLUMN nickname VARCHAR(20)")?;
    let table = base.metadata().table("customers").expect("customers is a model");
    let diff = compare(db.engine.dialect(), table, &reflect_table(&mut conn, "customers")?)?;
    let shown: Vec<String> = diff.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["customers.nickname: in the database, not in the model"]);
    Ok(())
}
