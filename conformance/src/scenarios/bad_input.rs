//! Bad input gives a typed error before anything is sent, the same on every database, and the
//! session stays usable: LIKE patterns with NUL, escape characters of more than one byte, `in_()`
//! lists longer than the database's bind limit, raw SQL with each dialect's quoting.

use crate::harness::TestDb;
use crate::models::*;
use athanor::prelude::*;

fn seed(db: &TestDb) -> Result<Session> {
    db.create_all()?;
    let s = db.session();
    for (i, name) in ["secret-alpha", "beta", "caf\u{e9}"].iter().enumerate() {
        s.add(Customer::new(name, &format!("b{i}@x"), 30));
    }
    s.commit()?;
    Ok(s)
}

fn names(hs: &[Handle<Customer>]) -> Vec<String> {
    hs.iter().map(|h| h.get().name.clone()).collect()
}

fn unsupported<T: std::fmt::Debug>(r: Result<T>, what: &str) {
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{what}: expected Error::Unsupported, got {r:?}");
}

/// A LIKE pattern containing NUL is refused before it is sent, on every database (SQLite would
/// cut the pattern at the NUL and match rows it should not; PostgreSQL cannot store NUL in text).
/// The session is usable afterwards.
pub fn like_pattern_with_nul_is_refused(db: &TestDb) -> Result<()> {
    let s = seed(db)?;
    db.clear_sql();
    let q = |c: athanor::Condition<Customer>| s.query::<Customer>().filter(c).order_by(Customer::id.asc()).all();
    unsupported(q(Customer::name.contains("\0")), "contains(NUL)");
    unsupported(q(Customer::name.contains("alpha\0x")), "contains(alpha NUL x)");
    unsupported(q(Customer::name.startswith("secret\0")), "startswith");
    unsupported(q(Customer::name.endswith("\0alpha")), "endswith");
    unsupported(q(Customer::name.like("%\0%")), "like");
    unsupported(q(Customer::name.not_like("x\0")), "not_like");
    unsupported(q(Customer::name.ilike("%ALPHA\0%")), "ilike");
    assert!(db.take_sql().iter().all(|q| !q.contains("LIKE")), "nothing with LIKE was sent");
    assert_eq!(names(&q(Customer::name.contains("alpha"))?), ["secret-alpha"], "the session is usable");
    s.commit()?;
    Ok(())
}

/// `like(…).escape(c)` takes one single-byte (ASCII) character on every database: MySQL compares
/// a multi-byte escape character byte-wise and silently matches nothing. Refused before sending.
pub fn like_escape_must_be_one_ascii_character(db: &TestDb) -> Result<()> {
    let s = seed(db)?;
    let q = |c: athanor::Condition<Customer>| s.query::<Customer>().filter(c).order_by(Customer::id.asc()).all();
    unsupported(q(Customer::name.like("secret\u{e9}-%").escape('\u{e9}')), "escape('é')");
    unsupported(q(Customer::name.like("x").escape('\u{2603}')), "escape('☃')");
    unsupported(q(Customer::name.like("x").escape('\0')), "escape(NUL)");
    assert_eq!(names(&q(Customer::name.like("secret#-%").escape('#'))?), ["secret-alpha"]);
    assert_eq!(names(&q(Customer::name.like("caf\u{e9}"))?), ["caf\u{e9}"], "a multi-byte pattern is fine");
    s.commit()?;
    Ok(())
}

/// An `in_()` list within the bind limit runs as one statement; one value more is refused with
/// `Error::Unsupported` naming the limit, before anything is sent, and the connection and the
/// session stay usable (PostgreSQL used to drop the connection, the others to fail on the
/// server).
pub fn in_list_over_the_bind_limit_is_refused(db: &TestDb) -> Result<()> {
    let s = seed(db)?;
    let limit = db.caps().max_bind_params;
    let id = s.query::<Customer>().filter(Customer::name.eq("beta")).one()?.get().id.expect("flushed");
    // Exactly the limit: one statement with `limit` parameters.
    let at_limit: Vec<i64> = (0..limit as i64).map(|i| if i == 7 { id } else { -i - 1 }).collect();
    assert_eq!(names(&s.query::<Customer>().filter(Customer::id.in_(at_limit)).all()?), ["beta"]);
    db.clear_sql();
    let over: Vec<i64> = (0..=limit as i64).map(|i| if i == 7 { id } else { -i - 1 }).collect();
    let r = s.query::<Customer>().filter(Customer::id.in_(over.clone())).all();
    match &r {
        Err(Error::Unsupported { feature, .. }) => {
            assert!(feature.contains(&(limit + 1).to_string()) && feature.contains(&limit.to_string()), "{feature}")
        }
        other => panic!("expected Error::Unsupported, got {other:?}"),
    }
    assert!(db.take_sql().iter().all(|q| !q.contains(" IN (")), "nothing was sent");
    unsupported(s.query::<Customer>().filter(Customer::id.not_in(over.clone())).count(), "not_in count");
    unsupported(s.query::<Customer>().filter(Customer::id.in_(over)).delete(), "bulk delete over the limit");
    // The session and its connection are usable afterwards, in the same transaction.
    let beta = s.get::<Customer>(id)?.expect("still there");
    beta.edit(|c| c.age = 31)?;
    s.commit()?;
    let fresh = db.session();
    assert_eq!(fresh.get::<Customer>(id)?.expect("row").get().age, 31);
    Ok(())
}

/// Raw SQL written in each database's own literal and comment forms runs unchanged: a `:name`
/// inside a literal or comment is not a bind, and a real bind next to them is. The forms are
/// picked from the dialect's [`athanor::backend::LexicalForms`] (PostgreSQL `$$…$$`,
/// `$tag$…$tag$`, `E'…\'…'`, nested comments; MySQL `"…\"…"`, `'…\'…'`, `# …`, `1--1`;
/// SQLite `[…]` identifiers), and what the database returns proves it read them the same way.
pub fn raw_sql_reads_each_dialects_literals_and_comments(db: &TestDb) -> Result<()> {
    let dialect = db.engine.dialect();
    let forms = dialect.lexical_forms();
    // (SQL expression, the text it reads as)
    let mut cols: Vec<(&str, &str)> = vec![("':a'", ":a"), ("'x'':b'", "x':b"), ("'-- :c'", "-- :c")];
    if forms.escape_strings {
        cols.push(("E'it\\'s :e'", "it's :e"));
        cols.push(("e'\\\\:f'", "\\:f"));
    }
    if forms.dollar_quoted_strings {
        cols.push(("$$a ':g' :h$$", "a ':g' :h"));
        cols.push(("$q$b $$ :i$q$", "b $$ :i"));
    }
    if forms.double_quoted_strings {
        cols.push(("\"say \\\"hi\\\" :j\"", "say \"hi\" :j"));
    }
    if dialect.backslash_escapes() {
        cols.push(("'it\\'s :k'", "it's :k"));
    }
    let mut sql = String::from("SELECT :n AS n");
    for (k, (expr, _)) in cols.iter().enumerate() {
        sql.push_str(&format!(", {expr} AS c{k}"));
    }
    if forms.bracket_identifiers {
        sql.push_str(", 'w' AS [w:z]");
    }
    if forms.dash_comment_needs_space {
        sql.push_str(", 7--:m AS m");
    }
    sql.push_str(" -- :o\n /* :p */");
    if forms.hash_comments {
        sql.push_str(" # :q\n");
    }
    if forms.nested_block_comments {
        sql.push_str(" /* a /* :r */ :s */");
    }
    let mut t = text(sql.as_str()).bind("n", "v");
    if forms.dash_comment_needs_space {
        t = t.bind("m", 1i64);
    }
    let s = db.session();
    let rows = s.execute(t)?;
    assert_eq!(rows.len(), 1, "{sql}");
    let row = &rows[0];
    assert_eq!(row.get::<String>("n")?, "v", "{sql}");
    for (k, (expr, want)) in cols.iter().enumerate() {
        assert_eq!(row.get::<String>(format!("c{k}").as_str())?, *want, "{expr} in {sql}");
    }
    if forms.bracket_identifiers {
        assert_eq!(row.get::<String>("w:z")?, "w");
    }
    if forms.dash_comment_needs_space {
        assert_eq!(row.get::<i64>("m")?, 8, "7 - (-1)");
    }
    s.commit()?;
    Ok(())
}
