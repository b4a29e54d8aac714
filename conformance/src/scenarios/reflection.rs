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

/// A table as another tool writes it, read through a model after a copy into SQLite.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "hw_items")]
struct HwItem {
    #[column(primary_key)]
    id: Option<i64>,
    #[column(length = 40)]
    name: String,
    #[column(precision = 10, scale = 2)]
    price: athanor::Decimal,
    released: jiff::civil::DateTime,
    day: Option<jiff::civil::Date>,
    starts: Option<jiff::civil::Time>,
    flag: bool,
    active: Option<bool>,
    uid: uuid::Uuid,
    doc: Option<athanor::serde_json::Value>,
    big: Option<i64>,
    ratio: Option<f64>,
    mood: Option<String>,
    artist_id: Option<i64>,
}

/// The hand-written DDL of each database (the names SQLAlchemy, Django, Rails and sample
/// databases write), the rows as another client stores them, the portable type each column is
/// expected to read as, and the columns refused (with the start of the reason).
type HandWritten =
    (&'static [&'static str], &'static [(&'static str, &'static str)], &'static [(&'static str, &'static str)]);

fn hand_written(dialect: &str) -> HandWritten {
    match dialect {
        "sqlite" => (
            &[
                "CREATE TABLE hw_artists (id INTEGER NOT NULL PRIMARY KEY, name NVARCHAR(120))",
                "CREATE TABLE hw_items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, \
                 price NUMERIC(10,2) NOT NULL, released DATETIME NOT NULL, day DATE, starts TIME, flag BOOLEAN NOT NULL, \
                 active BOOL, uid CHAR(32) NOT NULL, doc JSON, big BIGINT, ratio REAL, \
                 mood VARCHAR(5) CHECK (mood IN ('sad', 'ok', 'happy')), artist_id INTEGER REFERENCES hw_artists (id))",
                "INSERT INTO hw_artists (id, name) VALUES (1, 'AC/DC')",
                // As Python's sqlite3 stores them: NUMERIC affinity turns 0.99 into a REAL, 3 into an INTEGER.
                "INSERT INTO hw_items VALUES (1, 'one', 0.99, '2009-01-01 00:00:00', '2009-01-01', '10:20:30', 1, 1, \
                 '6f1c2a4e9b3d4c8ea1f0123456789abc', '{\"a\": [1, 2]}', 9007199254740993, 0.5, 'ok', 1)",
                "INSERT INTO hw_items VALUES (2, 'two', 12.5, '2009-01-02T03:04:05.123456', NULL, NULL, 0, 0, \
                 '00000000000000000000000000000001', NULL, NULL, NULL, 'happy', NULL)",
                "INSERT INTO hw_items VALUES (3, 'three', 3, '2010-12-31 23:59:59', '2010-12-31', '00:00:00', 1, NULL, \
                 'ffffffffffffffffffffffffffffffff', '[]', -1, -2.25, NULL, 1)",
            ],
            &[
                ("id", "BigInt"),
                ("name", "Text(40)"),
                ("price", "Decimal(10,2)"),
                ("released", "DateTime"),
                ("day", "Date"),
                ("starts", "Time"),
                ("flag", "Bool"),
                ("active", "Bool"),
                ("uid", "Uuid"),
                ("doc", "Json"),
                ("big", "BigInt"),
                ("ratio", "Double"),
                ("mood", "Text(5)"),
                ("artist_id", "BigInt"),
            ],
            &[],
        ),
        "postgres" => (
            &[
                "CREATE TYPE hw_mood AS ENUM ('sad', 'ok', 'happy')",
                "CREATE TABLE hw_artists (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(120))",
                "CREATE TABLE hw_items (id serial PRIMARY KEY, name varchar(40) NOT NULL, price numeric(10,2) NOT NULL, \
                 released timestamp without time zone NOT NULL, day date, starts time, flag boolean NOT NULL, \
                 active boolean, uid uuid NOT NULL, doc jsonb, big bigint, ratio double precision, mood hw_mood, \
                 artist_id integer REFERENCES hw_artists (id))",
                "CREATE TABLE hw_refused (id bigint PRIMARY KEY, tags text[], span interval)",
                "INSERT INTO hw_artists (id, name) VALUES (1, 'AC/DC')",
                "INSERT INTO hw_items VALUES (1, 'one', 0.99, '2009-01-01 00:00:00', '2009-01-01', '10:20:30', true, true, \
                 '6f1c2a4e-9b3d-4c8e-a1f0-123456789abc', '{\"a\": [1, 2]}', 9007199254740993, 0.5, 'ok', 1)",
                "INSERT INTO hw_items VALUES (2, 'two', 12.5, '2009-01-02T03:04:05.123456', NULL, NULL, false, false, \
                 '00000000-0000-0000-0000-000000000001', NULL, NULL, NULL, 'happy', NULL)",
                "INSERT INTO hw_items VALUES (3, 'three', 3, '2010-12-31 23:59:59', '2010-12-31', '00:00:00', true, NULL, \
                 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', -1, -2.25, NULL, 1)",
            ],
            &[
                ("id", "Integer"),
                ("name", "Text(40)"),
                ("price", "Decimal(10,2)"),
                ("released", "DateTime"),
                ("day", "Date"),
                ("starts", "Time"),
                ("flag", "Bool"),
                ("active", "Bool"),
                ("uid", "Uuid"),
                ("doc", "Json"),
                ("big", "BigInt"),
                ("ratio", "Double"),
                ("mood", "Text"),
                ("artist_id", "Integer"),
            ],
            &[("hw_refused.tags", "an array"), ("hw_refused.span", "an interval")],
        ),
        _ => (
            &[
                "CREATE TABLE hw_artists (id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(120)) ENGINE=InnoDB",
                "CREATE TABLE hw_items (id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, \
                 price decimal(10,2) NOT NULL, released datetime(6) NOT NULL, day date, starts time, \
                 flag tinyint(1) NOT NULL, active bit(1), uid char(36) NOT NULL, doc json, big bigint(20), ratio double, \
                 mood enum('sad','ok','happy'), artist_id int(11), \
                 FOREIGN KEY (artist_id) REFERENCES hw_artists (id)) ENGINE=InnoDB",
                "CREATE TABLE hw_refused (id bigint PRIMARY KEY, sizes set('s','m','l'), bits bit(8)) ENGINE=InnoDB",
                "INSERT INTO hw_artists (id, name) VALUES (1, 'AC/DC')",
                "INSERT INTO hw_items VALUES (1, 'one', 0.99, '2009-01-01 00:00:00', '2009-01-01', '10:20:30', 1, b'1', \
                 '6f1c2a4e-9b3d-4c8e-a1f0-123456789abc', '{\"a\": [1, 2]}', 9007199254740993, 0.5, 'ok', 1)",
                "INSERT INTO hw_items VALUES (2, 'two', 12.5, '2009-01-02 03:04:05.123456', NULL, NULL, 0, b'0', \
                 '00000000-0000-0000-0000-000000000001', NULL, NULL, NULL, 'happy', NULL)",
                "INSERT INTO hw_items VALUES (3, 'three', 3, '2010-12-31 23:59:59', '2010-12-31', '00:00:00', 1, NULL, \
                 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', -1, -2.25, NULL, 1)",
            ],
            &[
                ("id", "Integer"),
                ("name", "Text(40)"),
                ("price", "Decimal(10,2)"),
                ("released", "DateTime"),
                ("day", "Date"),
                ("starts", "Time"),
                ("flag", "Bool"),
                ("active", "Bool"),
                ("uid", "Uuid"),
                ("doc", "Json"),
                ("big", "BigInt"),
                ("ratio", "Double"),
                ("mood", "Text"),
                ("artist_id", "Integer"),
            ],
            &[("hw_refused.sizes", "a SET"), ("hw_refused.bits", "a bit string")],
        ),
    }
}

/// Tables made by hand-written DDL, with the type names other tools write, reflect with a
/// portable type for every column (the names with none are refused, naming the column and the
/// `--type-map` override), and copy into SQLite with every value intact.
pub fn hand_written_tables_reflect_map_and_copy(db: &TestDb) -> Result<()> {
    use athanor::copy::{copy, CopyOptions};
    use athanor::reflect::{portable_name, TypeMap};
    let (ddl, types, refused) = hand_written(db.engine.dialect().name());
    let mut conn = db.engine.connect()?;
    for sql in ddl {
        conn.batch_execute(sql)?;
    }
    let items = reflect_table(&mut conn, "hw_items")?;
    let got: Vec<(String, String)> = items
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.portable.map_or_else(|| format!("unmapped {}", c.native_type), portable_name)))
        .collect();
    let want: Vec<(String, String)> = types.iter().map(|(c, t)| (c.to_string(), t.to_string())).collect();
    assert_eq!(got, want, "the portable types of hw_items");
    let mood = items.column("mood").expect("hw_items.mood");
    assert_eq!(mood.allowed, ["'sad'", "'ok'", "'happy'"], "an enum's values or a CHECK's: {mood:?}");
    assert!(
        items.column("id").is_some_and(|c| c.autoincrement),
        "serial, identity and AUTO_INCREMENT keys are generated"
    );
    drop(conn);

    let dir = tempfile::tempdir().map_err(|e| Error::invalid_request(e.to_string()))?;
    let copy_url = format!("sqlite://{}", dir.path().join("copy.db").display());
    let dst = create_engine(&copy_url)?;
    if !refused.is_empty() {
        // Every column without a portable type is named, with its reason and the override.
        let all = copy(&db.engine, &dst, &CopyOptions { create: true, ..CopyOptions::default() }, &mut ());
        let message = all.expect_err("a table with unmapped columns is refused").to_string();
        for (column, reason) in refused {
            assert!(message.contains(&format!("{column} of type")), "{column} named in: {message}");
            assert!(message.contains(reason), "{reason} in: {message}");
            assert!(message.contains(&format!("--type-map {column}=")), "the override for {column} in: {message}");
        }
        assert!(TypeMap::parse(&["hw_items.nope=Text"])?.apply(&mut [items.clone()]).is_err(), "a typo is refused");
    }
    let options = CopyOptions {
        tables: vec!["hw_artists".into(), "hw_items".into()],
        create: true,
        verify: true,
        ..CopyOptions::default()
    };
    let reports = copy(&db.engine, &dst, &options, &mut ())?;
    for r in &reports {
        assert!(r.ok() && r.created, "{r:?}");
    }
    assert_eq!(reports.iter().map(|r| r.copied).collect::<Vec<_>>(), [1, 3]);
    let s = athanor::sessionmaker(&dst).session();
    let rows: Vec<HwItem> = s.query::<HwItem>().order_by(HwItem::id.asc()).all()?.iter().map(|h| h.cloned()).collect();
    let uid = |u: u128| uuid::Uuid::from_u128(u);
    let want = vec![
        HwItem {
            id: Some(1),
            name: "one".into(),
            price: athanor::Decimal::new(99, 2),
            released: jiff::civil::date(2009, 1, 1).at(0, 0, 0, 0),
            day: Some(jiff::civil::date(2009, 1, 1)),
            starts: Some(jiff::civil::time(10, 20, 30, 0)),
            flag: true,
            active: Some(true),
            uid: uid(0x6f1c2a4e_9b3d_4c8e_a1f0_123456789abc),
            doc: Some(athanor::serde_json::json!({"a": [1, 2]})),
            big: Some(9_007_199_254_740_993),
            ratio: Some(0.5),
            mood: Some("ok".into()),
            artist_id: Some(1),
        },
        HwItem {
            id: Some(2),
            name: "two".into(),
            price: athanor::Decimal::new(1250, 2),
            released: jiff::civil::date(2009, 1, 2).at(3, 4, 5, 123_456_000),
            day: None,
            starts: None,
            flag: false,
            active: Some(false),
            uid: uid(1),
            doc: None,
            big: None,
            ratio: None,
            mood: Some("happy".into()),
            artist_id: None,
        },
        HwItem {
            id: Some(3),
            name: "three".into(),
            price: athanor::Decimal::new(300, 2),
            released: jiff::civil::date(2010, 12, 31).at(23, 59, 59, 0),
            day: Some(jiff::civil::date(2010, 12, 31)),
            starts: Some(jiff::civil::time(0, 0, 0, 0)),
            flag: true,
            active: None,
            uid: uid(u128::MAX),
            doc: Some(athanor::serde_json::json!([])),
            big: Some(-1),
            ratio: Some(-2.25),
            mood: None,
            artist_id: Some(1),
        },
    ];
    assert_eq!(rows, want);
    // The decimals print at the column's scale whatever the source stored (a REAL on SQLite).
    assert_eq!(rows.iter().map(|r| r.price.to_string()).collect::<Vec<_>>(), ["0.99", "12.50", "3.00"]);
    // The same model reads the cells where the other tool stored them: a REAL or INTEGER price,
    // DATETIME text with a space or a `T`, a UUID as 32 hex digits or as text, a BIT(1).
    let s = db.session();
    let source: Vec<HwItem> =
        s.query::<HwItem>().order_by(HwItem::id.asc()).all()?.iter().map(|h| h.cloned()).collect();
    assert_eq!(source, want, "read in place");
    if db.engine.dialect().name() == "sqlite" {
        // A cell no field reads without a loss is a type mismatch naming the column and the row.
        let mut conn = db.engine.connect()?;
        conn.batch_execute(
            "INSERT INTO hw_items VALUES (4, 'four', 'n/a', '2009-01-01 00:00:00', NULL, NULL, 1, NULL, \
             '6f1c2a4e9b3d4c8ea1f0123456789abc', NULL, NULL, NULL, NULL, NULL); \
             INSERT INTO hw_items VALUES (5, 'five', 1, '2009-01-01 10:00:00+02:00', NULL, NULL, 1, NULL, \
             '6f1c2a4e9b3d4c8ea1f0123456789abc', NULL, NULL, NULL, NULL, NULL)",
        )?;
        for (id, column, found) in [
            (4, "hw_items.price", "text \"n/a\" in the row with id = 4"),
            (5, "hw_items.released", "in the row with id = 5"),
        ] {
            match db.session().query::<HwItem>().filter(HwItem::id.eq(Some(id))).all() {
                Err(Error::TypeMismatch { column: c, found: f, .. }) => {
                    assert_eq!(c, column);
                    assert!(f.contains(found), "{f}");
                }
                other => panic!("expected a type mismatch for {column}, got {other:?}"),
            }
        }
    }
    Ok(())
}
