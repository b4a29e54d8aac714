//! `athanor copy`: a round trip SQLite → PostgreSQL → MySQL → SQLite of a schema with every
//! column type, foreign keys (a self-reference and a composite key among them), unique
//! constraints and indexes is lossless, and bad input is refused before any row moves. The
//! servers are the local test servers (`ATHANOR_TEST_POSTGRES_URL`, `ATHANOR_TEST_MYSQL_URL`);
//! the test makes and drops databases of its own there. Without them it prints one `SKIPPED`
//! line and passes, unless `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

mod common;

use athanor::admin::drop_database;
use athanor::prelude::*;
use athanor_conformance::models::{blog, Contact, Doc, Email, Event, Gadget, Level, Price, Shift, Stage, Task};
use std::process::{Command, Output};

fn athanor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athanor")).args(args).output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = athanor(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "athanor {args:?} failed:\n{err}");
    String::from_utf8(out.stdout).unwrap()
}

fn base() -> Base {
    blog::base()
        .register::<Gadget>()
        .register::<Event>()
        .register::<Shift>()
        .register::<Price>()
        .register::<Doc>()
        .register::<Task>()
        .register::<Contact>()
}

/// Rows of every type, and a blog graph written with plain SQL.
fn fill(url: &str) {
    let engine = create_engine(url).unwrap();
    base().metadata().create_all(&engine).unwrap();
    let s = sessionmaker(&engine).session();
    for i in 0..40u32 {
        let id = uuid::Uuid::from_u128(u128::from(i).rotate_left(64) ^ 0xfeed);
        s.add(Gadget {
            id,
            label: format!("g{i}"),
            level: (i * 7 % 256) as u8,
            port: (i * 1999) as u16,
            count: i.wrapping_mul(2_654_435_761),
            tag: (i % 2 == 0).then_some(id),
            ocount: (i % 3 == 0).then_some(u32::MAX - i),
        });
        let at = jiff::Timestamp::from_microsecond(1_700_000_000_000_000 + i64::from(i) * 1_234_567).unwrap();
        s.add(Event { id: None, name: format!("e{i}"), at, ends: (i % 2 == 1).then_some(at) });
        s.add(Shift {
            id: None,
            day: jiff::civil::date(2024, 2, 1 + (i % 28) as i8),
            starts: jiff::civil::time((i % 24) as i8, 30, 15, 250_000_000),
            planned: jiff::civil::date(1999, 12, 31).at(23, 59, 59, 999_999_000),
            other: None,
        });
        s.add(Price {
            id: None,
            label: format!("p{i}"),
            amount: athanor::Decimal::new(i64::from(i) * 12_345 - 200_000, 2),
            rate: (i % 4 != 0).then(|| athanor::Decimal::new(i64::from(i) * 7, 10)),
            serial: u64::from(i) << 40,
        });
        s.add(Doc {
            id: None,
            name: format!("d{i}"),
            body: athanor::serde_json::json!({"i": i, "tags": ["a", "b"], "nested": {"x": 1.5, "y": null}}),
            meta: None,
        });
        s.add(Task {
            id: None,
            stage: [Stage::Open, Stage::Working, Stage::Closed][i as usize % 3],
            level: (i % 2 == 0).then_some(Level::High),
        });
        s.add(Contact { id: None, email: Email::parse(&format!("c{i}@example.com")).unwrap(), backup: None });
    }
    s.commit().unwrap();
    let mut conn = engine.connect().unwrap();
    for sql in [
        "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob'), (7, 'cy')",
        "INSERT INTO categories (id, parent_id, name) VALUES (1, NULL, 'root'), (2, 1, 'rust'), (3, 2, 'orm')",
        "INSERT INTO posts (id, user_id, category_id, title, score) VALUES (1, 1, 2, 'hello', 3), (2, 7, 3, 'world', -1), (5, NULL, NULL, 'orphan', 0)",
        "INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'first'), (2, 1, 'second'), (3, 2, 'x')",
        "INSERT INTO tags (id, name) VALUES (1, 'db'), (2, 'rust')",
        "INSERT INTO post_tags (post_id, tag_id) VALUES (1, 1), (1, 2), (2, 2)",
        "INSERT INTO reviews (id, post_id, stars) VALUES (1, 2, 5)",
    ] {
        conn.batch_execute(sql).unwrap();
    }
}

/// A fresh database on a test server (its guard and URL), or `None` after the skip line.
fn fresh(var: &str, default: &str, name: &str) -> Option<(athanor_conformance::scratch::Scratch, String)> {
    common::fresh_database(var, default, name, "copy round trip")
}

fn all<M: Model + Clone>(url: &str) -> Vec<M> {
    let engine = create_engine(url).unwrap();
    let s = sessionmaker(&engine).session();
    let rows: Vec<M> = s.query::<M>().all().unwrap().iter().map(|h| h.cloned()).collect();
    rows
}

#[test]
fn sqlite_to_postgres_to_mysql_to_sqlite_is_lossless() {
    let name = "copy";
    let Some((_pg_db, pg)) = fresh("ATHANOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test", name) else {
        return;
    };
    let Some((_my_db, my)) = fresh("ATHANOR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", name) else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = format!("sqlite://{}", dir.path().join("first.db").display());
    let last = format!("sqlite://{}", dir.path().join("last.db").display());
    fill(&first);

    for (src, dst) in [(&first, &pg), (&pg, &my), (&my, &last)] {
        let out = ok(&["copy", src, dst, "--create", "--verify", "--batch", "7"]);
        assert!(out.contains("posts: created, 3 row(s) copied; verify: 3 / 3 rows, checksums equal"), "{out}");
        assert!(!out.contains("DIFFER"), "{out}");
    }
    // The same schema, but for what PostgreSQL and MySQL cannot tell apart: PostgreSQL has no
    // unsigned integers (u8, u16, u32, u64 come back as the signed type that holds them) and MySQL's
    // DATETIME holds instants and civil date-times alike (an instant comes back as a UTC civil
    // date-time). Every key, constraint, index and enum CHECK is the same (the comparison reads
    // each column's allowed values).
    let engine = create_engine(&last).unwrap();
    let mut conn = engine.connect().unwrap();
    let mut diffs = Vec::new();
    for table in base().metadata().tables() {
        let found = athanor::reflect::reflect_table(&mut conn, table.name).unwrap();
        diffs.extend(
            athanor::reflect::compare(engine.dialect(), table, &found).unwrap().iter().map(ToString::to_string),
        );
    }
    drop(conn);
    assert_eq!(
        diffs,
        [
            "gadgets.level: type: model TINYINT UNSIGNED, database INTEGER",
            "gadgets.port: type: model SMALLINT UNSIGNED, database INTEGER",
            "gadgets.count: type: model INT UNSIGNED, database INTEGER",
            "gadgets.ocount: type: model INT UNSIGNED, database INTEGER",
            "events.at: type: model TIMESTAMP_TEXT, database DATETIME_TEXT",
            "events.ends: type: model TIMESTAMP_TEXT, database DATETIME_TEXT",
            "prices.serial: type: model UNSIGNED BIG INT, database INTEGER",
        ]
    );
    let constraints = |url: &str| -> Vec<String> {
        ok(&["reflect", url])
            .lines()
            .filter(|l| {
                !l.starts_with("  ")
                    || l.starts_with("  primary key")
                    || l.contains("unique")
                    || l.contains("index")
                    || l.contains("foreign key")
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(constraints(&last), constraints(&first), "the same keys, constraints and indexes");
    // Same rows, same values.
    assert_eq!(all::<Gadget>(&last), all::<Gadget>(&first));
    assert_eq!(all::<Event>(&last), all::<Event>(&first));
    assert_eq!(all::<Shift>(&last), all::<Shift>(&first));
    assert_eq!(all::<Price>(&last), all::<Price>(&first));
    assert_eq!(all::<Doc>(&last), all::<Doc>(&first));
    assert_eq!(all::<Task>(&last), all::<Task>(&first));
    assert_eq!(all::<Contact>(&last), all::<Contact>(&first));
    let titles = |url: &str| -> Vec<(Option<i64>, String, Option<i64>)> {
        all::<blog::Post>(url).into_iter().map(|p| (p.id, p.title, p.user_id)).collect()
    };
    assert_eq!(titles(&last), titles(&first));
    // Generated keys continue after the copied ones on every destination.
    for url in [&pg, &my, &last] {
        let engine = create_engine(url).unwrap();
        let s = sessionmaker(&engine).session();
        s.add(blog::User { id: None, name: "new".into(), ..Default::default() });
        s.commit().unwrap();
        let new = s.query::<blog::User>().filter(blog::User::name.eq("new")).one().unwrap();
        assert_eq!(new.get().id, Some(8), "{url}: after the largest copied key, 7");
    }

    // Bad input, refused before any row moves.
    let again = athanor(&["copy", &first, &pg]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    {
        let engine = create_engine(&my).unwrap();
        let mut conn = engine.connect().unwrap();
        conn.batch_execute("ALTER TABLE tags ADD COLUMN color VARCHAR(10)").unwrap();
    }
    let shape = athanor(&["copy", &first, &my, "--tables", "tags", "--resume"]);
    assert_eq!(shape.status.code(), Some(1));
    let shape_err = String::from_utf8_lossy(&shape.stderr);
    assert!(shape_err.contains("exists with another shape") && shape_err.contains("tags.color"), "{shape_err}");
    // --resume: a table copied whole is skipped, one copied in part is emptied and copied
    // again; the tables they refer to need not be copied when the destination has them.
    {
        let engine = create_engine(&pg).unwrap();
        engine.connect().unwrap().batch_execute("DELETE FROM post_tags WHERE tag_id = 1").unwrap();
    }
    let resumed = ok(&["copy", &first, &pg, "--resume", "--verify", "--tables", "tags,post_tags"]);
    assert!(resumed.contains("tags: already complete, skipped"), "{resumed}");
    assert!(resumed.contains("post_tags: 3 row(s) copied; verify: 3 / 3 rows, checksums equal"), "{resumed}");

    for url in [&pg, &my] {
        drop_database(url, false).unwrap();
    }
}

#[test]
fn missing_tables_and_unreachable_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("sqlite://{}", dir.path().join("src.db").display());
    let dst = format!("sqlite://{}", dir.path().join("dst.db").display());
    fill(&src);
    let missing = athanor(&["copy", &src, &dst]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("pass --create"));
    let unknown = athanor(&["copy", &src, &dst, "--create", "--tables", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no table nope"));
    assert_eq!(athanor(&["copy", &src, "postgres://postgres@127.0.0.1:1/x?connect_timeout=2"]).status.code(), Some(3));
    // Nothing was written by the refused runs.
    let out = ok(&["copy", &src, &dst, "--create", "--verify"]);
    assert!(out.contains("gadgets: created, 40 row(s) copied; verify: 40 / 40 rows, checksums equal"), "{out}");
}

/// A database another tool made on SQLite (the declared names of a classic sample database, the
/// cells as Python's `sqlite3` stores them: prices as REAL, dates as text, UUIDs as 32 hex
/// digits) copies SQLite → PostgreSQL → MySQL with every value checked.
#[test]
fn a_sqlite_database_another_tool_made_copies_to_postgres_and_mysql() {
    let name = "copy_other";
    let Some((_pg_db, pg)) = fresh("ATHANOR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test", name) else {
        return;
    };
    let Some((_my_db, my)) = fresh("ATHANOR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test", name) else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = format!("sqlite://{}", dir.path().join("other.db").display());
    create_engine(&first)
        .unwrap()
        .connect()
        .unwrap()
        .batch_execute(
            "CREATE TABLE \"Employee\" (\"EmployeeId\" INTEGER NOT NULL PRIMARY KEY, \"LastName\" NVARCHAR(20) NOT NULL, \
             \"ReportsTo\" INTEGER REFERENCES \"Employee\" (\"EmployeeId\"), \"BirthDate\" DATETIME, \"HireDate\" DATE, \
             \"Salary\" NUMERIC(10,2) NOT NULL, \"Code\" CHAR(32), \"Active\" BOOLEAN NOT NULL, \"Rating\" REAL);
             INSERT INTO \"Employee\" VALUES (1, 'Adams', NULL, '1962-02-18 00:00:00', '2002-08-14', 0.99, \
             '6f1c2a4e9b3d4c8ea1f0123456789abc', 1, 4.5);
             INSERT INTO \"Employee\" VALUES (2, 'Edwards', 1, '1958-12-08T00:00:00.25', '2002-05-01 00:00:00', 12.5, NULL, 0, NULL);
             INSERT INTO \"Employee\" VALUES (3, 'Peacock', 2, NULL, NULL, 3, NULL, 1, -1);",
        )
        .unwrap();
    for (src, dst) in [(&first, &pg), (&pg, &my)] {
        let out = ok(&["copy", src, dst, "--create", "--verify"]);
        assert!(out.contains("Employee: created, 3 row(s) copied; verify: 3 / 3 rows, checksums equal"), "{out}");
    }
    let engine = create_engine(&my).unwrap();
    let rows = engine
        .connect()
        .unwrap()
        .query(
            "SELECT `EmployeeId`, `ReportsTo`, CAST(`BirthDate` AS CHAR), CAST(`HireDate` AS CHAR), \
             CAST(`Salary` AS CHAR), HEX(`Code`), `Active`, `Rating` FROM `Employee` ORDER BY 1",
            &[],
        )
        .unwrap();
    let got: Vec<String> = rows.iter().map(|r| format!("{:?}", r.values())).collect();
    assert_eq!(
        got,
        [
            "[I64(1), Null, Text(\"1962-02-18 00:00:00.000000\"), Text(\"2002-08-14\"), Text(\"0.99\"), \
             Text(\"6F1C2A4E9B3D4C8EA1F0123456789ABC\"), I64(1), F64(4.5)]",
            "[I64(2), I64(1), Text(\"1958-12-08 00:00:00.250000\"), Text(\"2002-05-01\"), Text(\"12.50\"), Null, I64(0), Null]",
            "[I64(3), I64(2), Null, Null, Text(\"3.00\"), Null, I64(1), F64(-1.0)]",
        ]
    );
    let described = ok(&["reflect", &my]);
    for line in ["  Salary decimal(10,2) (Decimal(10,2)) NOT NULL", "  Code binary(16) (Uuid) NULL"] {
        assert!(described.lines().any(|l| l == line), "{line:?} in:\n{described}");
    }
    for url in [&pg, &my] {
        drop_database(url, false).unwrap();
    }
}
