//! `athanor reflect`: a schema made by `create_all` is listed, and `--rust` prints models that
//! compile (the printed structs for the conformance schemas are checked in under `reflected/`
//! and compiled into this test).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::process::Command;

/// The models `reflect --rust` printed for the blog schema on SQLite, compiled here.
#[allow(dead_code, missing_docs, clippy::all)]
mod blog_sqlite {
    include!("reflected/blog_sqlite.rs");
}

/// And for a database another tool made (`other_tool_schema`), compiled and used to read it.
#[allow(dead_code, missing_docs, clippy::all)]
mod other_sqlite {
    include!("reflected/other_sqlite.rs");
}

/// And for the naming schema (`NAMING_SCHEMA`), with both namings.
#[allow(dead_code, missing_docs, clippy::all)]
mod naming_sqlite {
    include!("reflected/naming_sqlite.rs");
}

/// The same with `--naming database`.
#[allow(dead_code, missing_docs, clippy::all)]
mod naming_database_sqlite {
    include!("reflected/naming_database_sqlite.rs");
}

/// And for the schema of every column type.
#[allow(dead_code, missing_docs, clippy::all)]
mod types_sqlite {
    include!("reflected/types_sqlite.rs");
}

fn reflect(url: &str, rust: bool) -> String {
    reflect_with(url, if rust { &["--rust"] } else { &[] })
}

fn reflect_with(url: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_athanor"));
    cmd.args(["reflect", url]).args(args);
    let out = cmd.output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh SQLite file with `base`'s tables.
fn schema(base: &athanor::Base) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    base.metadata().create_all(&athanor::create_engine(&url).unwrap()).unwrap();
    (dir, url)
}

fn golden(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reflected").join(name);
    if std::env::var("ATHANOR_BLESS").is_ok() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(got, want, "{name} differs (ATHANOR_BLESS=1 rewrites it; read the diff first)");
}

#[test]
fn rust_output_for_the_blog_schema_compiles_and_is_stable() {
    let (_dir, url) = schema(&athanor_conformance::models::blog::base());
    golden("blog_sqlite.rs", &reflect(&url, true));
    // The printed models make the same schema again.
    use blog_sqlite::*;
    let (_again, url2) = schema(
        &athanor::Base::new()
            .register::<Users>()
            .register::<Categories>()
            .register::<Posts>()
            .register::<Comments>()
            .register::<Tags>()
            .register::<Reviews>(),
    );
    assert_eq!(reflect(&url2, false), reflect(&url, false));
}

#[test]
fn rust_output_for_every_column_type_compiles() {
    let (_dir, url) = schema(&athanor_conformance::models::base());
    golden("types_sqlite.rs", &reflect(&url, true));
}

#[test]
fn listing_shows_keys_constraints_and_indexes() {
    let (_dir, url) = schema(&athanor_conformance::models::blog::base());
    let text = reflect(&url, false);
    for line in [
        "table posts",
        "  id INTEGER (BigInt) NOT NULL generated",
        "  primary key (id)",
        "  foreign key (user_id) references users (id)",
        "  index ix_posts_user_id (user_id)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing in:\n{text}");
    }
    assert!(text.contains("  unique (name)"), "{text}");
}

/// A database another tool made (the declared names of a classic sample database and of
/// SQLAlchemy/Django on SQLite): every column gets a field type, and `--type-map` reads a
/// column as another portable type.
#[test]
fn rust_output_for_a_database_another_tool_made_has_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("other.db").display());
    let engine = athanor::create_engine(&url).unwrap();
    engine
        .connect()
        .unwrap()
        .batch_execute(
            "CREATE TABLE \"Track\" (\"TrackId\" INTEGER NOT NULL PRIMARY KEY, \"Name\" NVARCHAR(200) NOT NULL, \
             \"UnitPrice\" NUMERIC(10,2) NOT NULL, \"BirthDate\" DATETIME, \"Day\" DATE, \"Code\" CHAR(36), \
             \"Flag\" BOOLEAN NOT NULL, \"Doc\" JSON, \"Weight\" DOUBLE)",
        )
        .unwrap();
    let rust = reflect(&url, true);
    for line in [
        "    pub name: String,",
        "    #[column(name = \"UnitPrice\", precision = 10, scale = 2)]",
        "    pub unit_price: athanor::Decimal,",
        "    pub birth_date: Option<jiff::civil::DateTime>,",
        "    pub day: Option<jiff::civil::Date>,",
        "    pub code: Option<uuid::Uuid>,",
        "    pub flag: bool,",
        "    pub doc: Option<athanor::serde_json::Value>,",
        "    pub weight: Option<f64>,",
    ] {
        assert!(rust.lines().any(|l| l == line), "{line:?} missing in:\n{rust}");
    }
    assert!(!rust.contains("no Athanor field type"), "{rust}");
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_athanor")).args(args).output().unwrap();
    let mapped = run(&["reflect", &url, "--rust", "--type-map", "Track.Code=Text(36)"]);
    assert_eq!(mapped.status.code(), Some(0), "{}", String::from_utf8_lossy(&mapped.stderr));
    let mapped = String::from_utf8(mapped.stdout).unwrap();
    assert!(mapped.contains("    #[column(name = \"Code\", length = 36)]\n    pub code: Option<String>,"), "{mapped}");
    let listed = String::from_utf8(run(&["reflect", &url, "--type-map", "Track.Code=Text(36)"]).stdout).unwrap();
    assert!(listed.contains("  Code CHAR(36) (Text(36)) NULL"), "{listed}");
    for (bad, says) in [
        ("Track.Code=Textual", "is not a portable type"),
        ("Track=Text", "expected table.column=Type"),
        ("Track.Nope=Text", "no such column"),
    ] {
        let out = run(&["reflect", &url, "--rust", "--type-map", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A classic sample database's shape, as another tool made it on SQLite: CamelCase names, a
/// self-reference, `NUMERIC(10,2)` prices stored as REAL, `DATETIME` text.
const OTHER_TOOL_SCHEMA: &str = "\
    CREATE TABLE \"Artist\" (\"ArtistId\" INTEGER NOT NULL PRIMARY KEY, \"Name\" NVARCHAR(120));
    CREATE TABLE \"Album\" (\"AlbumId\" INTEGER NOT NULL PRIMARY KEY, \"Title\" NVARCHAR(160) NOT NULL,
        \"ArtistId\" INTEGER NOT NULL REFERENCES \"Artist\" (\"ArtistId\"));
    CREATE TABLE \"Track\" (\"TrackId\" INTEGER NOT NULL PRIMARY KEY, \"Name\" NVARCHAR(200) NOT NULL,
        \"AlbumId\" INTEGER REFERENCES \"Album\" (\"AlbumId\"), \"Milliseconds\" INTEGER NOT NULL,
        \"UnitPrice\" NUMERIC(10,2) NOT NULL);
    CREATE TABLE \"Playlist\" (\"PlaylistId\" INTEGER NOT NULL PRIMARY KEY, \"Name\" NVARCHAR(120));
    CREATE TABLE \"PlaylistTrack\" (\"PlaylistId\" INTEGER NOT NULL REFERENCES \"Playlist\" (\"PlaylistId\"),
        \"TrackId\" INTEGER NOT NULL REFERENCES \"Track\" (\"TrackId\"), PRIMARY KEY (\"PlaylistId\", \"TrackId\"));
    CREATE TABLE \"Employee\" (\"EmployeeId\" INTEGER NOT NULL PRIMARY KEY, \"LastName\" NVARCHAR(20) NOT NULL,
        \"ReportsTo\" INTEGER REFERENCES \"Employee\" (\"EmployeeId\"), \"BirthDate\" DATETIME, \"HireDate\" DATE);
    INSERT INTO \"Artist\" VALUES (1, 'AC/DC');
    INSERT INTO \"Album\" VALUES (1, 'For Those About To Rock', 1);
    INSERT INTO \"Track\" VALUES (1, 'For Those About To Rock', 1, 343719, 0.99), (2, 'Balls to the Wall', NULL, 342562, 1.5);
    INSERT INTO \"Playlist\" VALUES (1, 'Music'), (2, 'Empty');
    INSERT INTO \"PlaylistTrack\" VALUES (1, 1), (1, 2);
    INSERT INTO \"Employee\" VALUES (1, 'Adams', NULL, '1962-02-18 00:00:00', '2002-08-14 00:00:00'),
        (2, 'Edwards', 1, '1958-12-08 00:00:00', '2002-05-01');";

/// `reflect --rust` of a database another tool made compiles (the checked-in output is a module
/// of this test), reads like Rust (`unit_price`, `Album::artist`, `Artist::albums`, the association
/// table `PlaylistTrack` as `Playlist::tracks` / `Track::playlists`), and its models read the
/// rows as the other tool stored them.
#[test]
fn rust_output_for_a_database_another_tool_made_compiles_and_reads_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("chinook.db").display());
    let engine = athanor::create_engine(&url).unwrap();
    engine.connect().unwrap().batch_execute(OTHER_TOOL_SCHEMA).unwrap();
    golden("other_sqlite.rs", &reflect(&url, true));
    use other_sqlite::*;
    let s = athanor::sessionmaker(&engine).session();
    let tracks: Vec<(String, String)> = s
        .query::<Track>()
        .order_by(Track::track_id.asc())
        .all()
        .unwrap()
        .iter()
        .map(|t| (t.get().name.clone(), t.get().unit_price.to_string()))
        .collect();
    assert_eq!(
        tracks,
        [("For Those About To Rock".into(), "0.99".into()), ("Balls to the Wall".into(), "1.50".into())]
    );
    let edwards = s.query::<Employee>().filter(Employee::last_name.eq("Edwards")).one().unwrap();
    let e = edwards.get().clone();
    assert_eq!(e.birth_date, Some(jiff::civil::date(1958, 12, 8).at(0, 0, 0, 0)));
    assert_eq!(e.hire_date, Some(jiff::civil::date(2002, 5, 1)));
    let music = s.query::<Playlist>().filter(Playlist::name.eq(Some("Music".to_string()))).one().unwrap();
    let names: Vec<String> =
        s.related(&music, Playlist::tracks).unwrap().iter().map(|t| t.get().name.clone()).collect();
    assert_eq!(names, ["For Those About To Rock", "Balls to the Wall"]);
    let first = s.query::<Track>().filter(Track::track_id.eq(Some(1))).one().unwrap();
    assert_eq!(s.related(&first, Track::playlists).unwrap().len(), 1);
    let adams = s.query::<Employee>().filter(Employee::last_name.eq("Adams")).one().unwrap();
    assert_eq!(adams.get().hire_date, Some(jiff::civil::date(2002, 8, 14)), "a DATE stored as midnight date-time");
}

/// Relationship names for a self-reference (a key without `Id`, and one with), a parent
/// reference, two keys to one table, and an association table with a column of its own.
const NAMING_SCHEMA: &str = "\
    CREATE TABLE \"Employee\" (\"EmployeeId\" INTEGER NOT NULL PRIMARY KEY, \"LastName\" NVARCHAR(20) NOT NULL,
        \"ReportsTo\" INTEGER REFERENCES \"Employee\" (\"EmployeeId\"),
        \"MentorId\" INTEGER REFERENCES \"Employee\" (\"EmployeeId\"));
    CREATE TABLE categories (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER REFERENCES categories (id),
        name VARCHAR(40) NOT NULL);
    CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL);
    CREATE TABLE messages (id INTEGER NOT NULL PRIMARY KEY, sender_id INTEGER NOT NULL REFERENCES users (id),
        recipient_id INTEGER REFERENCES users (id), body TEXT NOT NULL);
    CREATE TABLE products (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL);
    CREATE TABLE orders (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
    CREATE TABLE order_lines (order_id INTEGER NOT NULL REFERENCES orders (id),
        product_id INTEGER NOT NULL REFERENCES products (id), quantity INTEGER NOT NULL,
        PRIMARY KEY (order_id, product_id));
    INSERT INTO \"Employee\" VALUES (1, 'Adams', NULL, NULL), (2, 'Edwards', 1, NULL), (3, 'Peacock', 2, 1),
        (4, 'Park', 2, 2);
    INSERT INTO categories VALUES (1, NULL, 'root'), (2, 1, 'rust'), (3, 1, 'sql');
    INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
    INSERT INTO messages VALUES (1, 1, 2, 'hi bob'), (2, 2, 1, 'hi ann'), (3, 1, NULL, 'to all');
    INSERT INTO products VALUES (1, 'tea'), (2, 'cup');
    INSERT INTO orders VALUES (1, 1);
    INSERT INTO order_lines VALUES (1, 1, 3), (1, 2, 1);";

/// `reflect --rust` names relationships as the module `athanor::cli`'s `rust.rs` documents
/// (`Employee::reports_to` / `Employee::reports`, `mentor` / `mentor_of`, `Categories::parent` /
/// `children`, `Users::sender_messages` / `recipient_messages`), keeps an association table
/// with a column of its own as a model, and `--naming database` keeps the database's names;
/// both outputs compile (they are modules of this test), make their schema with `create_all`,
/// and read the rows.
#[test]
fn relationship_names_and_naming_option() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("naming.db").display());
    let engine = athanor::create_engine(&url).unwrap();
    engine.connect().unwrap().batch_execute(NAMING_SCHEMA).unwrap();
    golden("naming_sqlite.rs", &reflect(&url, true));
    golden("naming_database_sqlite.rs", &reflect_with(&url, &["--rust", "--naming", "database"]));
    {
        use naming_sqlite::*;
        let models = athanor::Base::new()
            .register::<Employee>()
            .register::<Categories>()
            .register::<Users>()
            .register::<Messages>()
            .register::<Products>()
            .register::<Orders>()
            .register::<OrderLines>();
        let _again = schema(&models);
        let s = athanor::sessionmaker(&engine).session();
        let edwards = s.query::<Employee>().filter(Employee::last_name.eq("Edwards")).one().unwrap();
        let reports: Vec<String> =
            s.related(&edwards, Employee::reports).unwrap().iter().map(|e| e.get().last_name.clone()).collect();
        assert_eq!(reports, ["Peacock", "Park"]);
        let boss = s.related(&edwards, Employee::reports_to).unwrap().map(|e| e.get().last_name.clone());
        assert_eq!(boss.as_deref(), Some("Adams"));
        let mentored = s.related(&edwards, Employee::mentor_of).unwrap();
        assert_eq!(mentored.len(), 1);
        let root = s.query::<Categories>().filter(Categories::name.eq("root")).one().unwrap();
        assert_eq!(s.related(&root, Categories::children).unwrap().len(), 2);
        let ann = s.query::<Users>().filter(Users::name.eq("ann")).one().unwrap();
        assert_eq!(s.related(&ann, Users::sender_messages).unwrap().len(), 2);
        assert_eq!(s.related(&ann, Users::recipient_messages).unwrap().len(), 1);
        let order = s.query::<Orders>().one().unwrap();
        let lines = s.related(&order, Orders::order_lines).unwrap();
        assert_eq!(lines.iter().map(|l| l.get().quantity).sum::<i64>(), 4);
    }
    {
        use naming_database_sqlite::*;
        let models = athanor::Base::new()
            .register::<Employee>()
            .register::<categories>()
            .register::<users>()
            .register::<messages>()
            .register::<products>()
            .register::<orders>()
            .register::<order_lines>();
        let _again = schema(&models);
        let s = athanor::sessionmaker(&engine).session();
        let edwards = s.query::<Employee>().filter(Employee::LastName.eq("Edwards")).one().unwrap();
        assert_eq!(edwards.get().ReportsTo, Some(1));
        assert_eq!(s.related(&edwards, Employee::reports).unwrap().len(), 2);
    }
}

/// Why an association table with columns of its own gets no `ManyToMany` (the comment
/// `reflect --rust` prints above it): a `ManyToMany` through it declares the table again with
/// its two key columns only, and `create_all` refuses the two definitions.
#[test]
fn a_many_to_many_through_a_model_table_is_a_second_definition() {
    use naming_sqlite::{OrderLines, Products};
    #[derive(athanor::Model, Debug, Clone)]
    #[model(table = "orders")]
    pub struct OrdersThrough {
        #[column(primary_key)]
        pub id: Option<i64>,
        #[relationship(secondary = "order_lines", secondary_columns = "order_id, product_id")]
        pub products: athanor::ManyToMany<Products>,
    }
    let dir = tempfile::tempdir().unwrap();
    let engine = athanor::create_engine(&format!("sqlite://{}", dir.path().join("m.db").display())).unwrap();
    let base = athanor::Base::new().register::<Products>().register::<OrderLines>().register::<OrdersThrough>();
    let err = base.metadata().create_all(&engine).unwrap_err().to_string();
    assert!(err.contains("two models map table \"order_lines\""), "{err}");
}
