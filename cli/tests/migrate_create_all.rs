//! A migration builds the tables `create_all` builds: a model with every kind of constraint
//! (composite primary key, unique, foreign key, index, the CHECK of a `#[derive(DbEnum)]`
//! column, text and integer defaults, nullable columns, lengths, decimal precision) is migrated
//! from nothing, and the reflected schema equals the one `create_all` makes, on SQLite,
//! PostgreSQL and MySQL/MariaDB (two databases each, compared table by table). Then the enum
//! gains a variant: `migrate check` reports the difference (the library's `check`, and the CLI
//! with exit code 1), the generated migration changes the CHECK, and the database again equals
//! `create_all`'s; a third migration adds a column of another enum; and so on the way back down. Every database made here is dropped at the end,
//! passing or failing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)] // a test

mod common;

use athanor::migrate::{self, Migration};
use athanor::prelude::*;
use athanor::reflect::{self, ColumnAspect, Difference, ReflectedTable};

macro_rules! models {
    ($($variant:ident),*; $($extra:tt)*) => {
        #[derive(athanor::DbEnum, Debug, Clone, Copy, PartialEq)]
        pub enum Status { $($variant),* }

        #[derive(athanor::DbEnum, Debug, Clone, Copy, PartialEq)]
        pub enum Kind { Bug, Feature }

        #[derive(athanor::DbEnum, Debug, Clone, Copy, PartialEq)]
        #[db_enum(int)]
        pub enum Level { Low = 1, High = 10 }

        #[derive(Model, Debug, Clone)]
        #[model(table = "oc_owners")]
        pub struct Owner {
            #[column(primary_key)]
            pub id: Option<i64>,
            #[column(unique, length = 120)]
            pub email: String,
            #[column(index, length = 80)]
            pub name: String,
            pub nickname: Option<String>,
        }

        #[derive(Model, Debug, Clone)]
        #[model(table = "oc_tickets")]
        pub struct Ticket {
            #[column(primary_key)]
            pub id: Option<i64>,
            #[column(foreign_key = "oc_owners.id", index)]
            pub owner_id: i64,
            pub status: Status,
            pub level: Option<Level>,
            #[column(default = 3)]
            pub priority: i32,
            #[column(default = "new", length = 20)]
            pub label: String,
            #[column(precision = 12, scale = 2)]
            pub price: athanor::Decimal,
            $($extra)*
        }

        #[derive(Model, Debug, Clone)]
        #[model(table = "oc_ticket_tags")]
        pub struct TicketTag {
            #[column(primary_key, foreign_key = "oc_tickets.id")]
            pub ticket_id: i64,
            #[column(primary_key, length = 40)]
            pub tag: String,
        }

        pub fn base() -> Base {
            Base::new().register::<Owner>().register::<Ticket>().register::<TicketTag>()
        }
    };
}

mod v1 {
    use athanor::prelude::*;
    models!(Open, Closed;);
}

/// The enum gains a variant (the column's length stays: only the CHECK differs).
mod v2 {
    use athanor::prelude::*;
    models!(Open, Closed, Done;);
}

/// A column of another enum is added.
mod v3 {
    use athanor::prelude::*;
    models!(Open, Closed, Done; pub kind: Option<Kind>,);
}

/// The tables of the database, but the version table.
fn schema(url: &str) -> Vec<ReflectedTable> {
    let engine = create_engine(url).unwrap();
    let mut conn = engine.connect().unwrap();
    reflect::reflect(&mut conn).unwrap().into_iter().filter(|t| t.name != migrate::VERSION_TABLE).collect()
}

/// The two databases hold the same tables, as reflection reads them.
fn same_schema(made_by_create_all: &str, migrated: &str, step: &str) {
    let (want, got) = (schema(made_by_create_all), schema(migrated));
    assert_eq!(want.len(), 3, "{step}: the three tables");
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w, g, "{step}: table {} as create_all makes it, and as migrated", w.name);
    }
    assert_eq!(want.len(), got.len(), "{step}: the same tables");
}

fn create_all(url: &str, base: &Base) {
    base.metadata().create_all(&create_engine(url).unwrap()).unwrap();
}

fn check(url: &str, base: &Base) -> Vec<Difference> {
    let engine = create_engine(url).unwrap();
    let mut conn = engine.connect().unwrap();
    migrate::check(&mut conn, &base.metadata()).unwrap()
}

fn upgrade(url: &str, chain: &[Migration], to: &str) {
    let engine = create_engine(url).unwrap();
    migrate::upgrade(&mut engine.connect().unwrap(), chain, Some(to)).unwrap();
}

/// Generate the two migrations on a scratch SQLite database: v1 from nothing, then v2.
fn generate_chain(dir: &std::path::Path) -> Vec<Migration> {
    let url = format!("sqlite://{}", dir.join("gen.db").display());
    let mut chain: Vec<Migration> = Vec::new();
    for (message, base) in [("tickets", v1::base()), ("tickets can be done", v2::base()), ("kinds", v3::base())] {
        let engine = create_engine(&url).unwrap();
        let mut conn = engine.connect().unwrap();
        let ops = migrate::generate(&mut conn, &base.metadata()).unwrap();
        chain.push(migrate::next(&chain, message, ops));
        migrate::upgrade(&mut conn, &chain, None).unwrap();
    }
    chain
}

/// On one database kind: `ca1`, `ca2`, `ca3` made by create_all of v1, v2, v3, `mig` by the
/// chain.
fn walk([ca1, ca2, ca3, mig]: [&str; 4], chain: &[Migration], dir: &std::path::Path) {
    create_all(ca1, &v1::base());
    create_all(ca2, &v2::base());
    create_all(ca3, &v3::base());
    assert_eq!(check(ca1, &v1::base()), [], "create_all's database matches its models");

    upgrade(mig, chain, "0001");
    same_schema(ca1, mig, "after 0001");
    assert_eq!(check(mig, &v1::base()), [], "migrated to v1, the database matches v1");

    // v2's enum has one more variant: the library and the CLI report it.
    let drift = check(mig, &v2::base());
    assert!(
        drift.iter().any(|d| matches!(d, Difference::Column { column, aspects, .. }
            if column == "status" && aspects.contains(&ColumnAspect::AllowedValues))),
        "{drift:?}"
    );
    let cli = |base: &Base, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", mig, "--dir", dir.to_str().unwrap()]);
        athanor::cli::run_args(Some(base), all)
    };
    let err = cli(&v2::base(), &["check"]).unwrap_err();
    assert!(matches!(err, athanor::Error::SchemaDrift { .. }), "{err:?}");
    assert_eq!(athanor::cli::exit_code(&err), 1);
    let shown = err.to_string();
    assert!(
        shown.contains("oc_tickets.status: ")
            && shown.contains("allowed values: model ('Closed', 'Done', 'Open'), database ('Closed', 'Open')"),
        "{shown}"
    );
    assert_eq!(cli(&v1::base(), &["migrate", "check"]).unwrap(), "the database matches the models");

    upgrade(mig, chain, "0002");
    same_schema(ca2, mig, "after 0002");
    assert_eq!(check(mig, &v2::base()), [], "migrated to v2, the database matches v2");

    upgrade(mig, chain, "0003");
    same_schema(ca3, mig, "after 0003");
    assert_eq!(check(mig, &v3::base()), [], "migrated to v3, the database matches v3");

    let engine = create_engine(mig).unwrap();
    migrate::downgrade(&mut engine.connect().unwrap(), chain, Some("0001")).unwrap();
    drop(engine);
    same_schema(ca1, mig, "downgraded to 0001");
    assert_eq!(check(mig, &v1::base()), [], "downgraded, the database matches v1 again");
}

#[test]
fn migrations_build_the_tables_create_all_builds_and_check_sees_enum_values() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    let chain = generate_chain(dir.path());
    // The files carry the allowed values, and read back the same.
    for m in &chain {
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(migrations.join(m.file_name()), m.to_json().unwrap()).unwrap();
    }
    assert_eq!(migrate::load_dir(&migrations).unwrap(), chain);
    assert!(chain[0].to_json().unwrap().contains("\"allowed\""), "{}", chain[0].to_json().unwrap());
    let ops: Vec<Vec<String>> = chain.iter().map(|m| m.upgrade.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(ops[2], ["add column oc_tickets.kind (Text)"]);
    assert!(chain[2].to_json().unwrap().contains(r#""allowed": ["#), "{}", chain[2].to_json().unwrap());
    assert_eq!(
        ops[1],
        ["alter column oc_tickets.status: Text(6) NOT NULL IN ('Open', 'Closed') → Text(6) NOT NULL IN ('Open', 'Closed', \
          'Done')"]
    );

    let file = |n: &str| format!("sqlite://{}", dir.path().join(n).display());
    walk([&file("ca1.db"), &file("ca2.db"), &file("ca3.db"), &file("mig.db")], &chain, &migrations);

    for (var, default) in [
        ("ATHANOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
        ("ATHANOR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    ] {
        // Each database's guard drops it when the test ends, passing or panicking.
        let mut dbs = Vec::new();
        for part in ["ca1", "ca2", "ca3", "mig"] {
            match common::fresh_database(var, default, &format!("oc_{part}"), "migrations against create_all") {
                Some(db) => dbs.push(db),
                None => break,
            }
        }
        if let [(_, ca1), (_, ca2), (_, ca3), (_, mig)] = &dbs[..] {
            walk([ca1, ca2, ca3, mig], &chain, &migrations);
        }
    }
}
