//! Hostile input: arbitrary strings and extreme numbers round-trip exactly through insert,
//! filter and update (values are always bound, never spliced into SQL); identifiers with quotes,
//! spaces and reserved words are quoted correctly or refused; malformed URLs, bad credentials,
//! unknown databases, missing tables and mistyped results are typed errors, never panics.

use crate::acid::models::{HostileRow, Weird};
use crate::acid::{scaled, url_with};
use crate::harness::TestDb;
use crate::models::{Narrow, Wide};
use athanor::prelude::*;
use athanor::schema::{ColumnDef, SqlType, TableDef};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Strings that have broken SQL built by concatenation.
pub const CLASSICS: &[&str] = &[
    "'; DROP TABLE hostile_values; --",
    "\"; DROP TABLE hostile_values; --",
    "`; DROP TABLE hostile_values; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "1; DELETE FROM hostile_values",
    "\\'; DELETE FROM hostile_values; --",
    "\\",
    "\\\\'",
    "'",
    "''",
    "%",
    "_",
    "%' OR 1=1 --",
    "$1",
    "?",
    ":name",
    "/* comment */",
    "-- comment",
    "\u{0}",
    "a\u{0}b",
    "E'\\x00'",
    "\r\n\t",
    "Robert'); DROP TABLE students;--",
    "𝄞 Ünïcødé 表 \u{202e}rtl\u{feff}",
    "trailing spaces   ",
    "",
];

fn hostile_string() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = vec![
        '\'', '"', '\\', '-', ';', '`', '%', '_', '\n', '\r', '\t', '\0', 'é', '𝄞', '\u{202e}', ' ', 'a', 'Z', '$',
        '?', ':', '/', '*', '#', '\u{feff}', 'ß', '中', '\u{7f}', '\u{1}',
    ];
    let long_alphabet = alphabet.clone();
    prop_oneof![
        3 => any::<String>(),
        3 => proptest::collection::vec(proptest::sample::select(alphabet), 0..64).prop_map(String::from_iter),
        2 => proptest::sample::select(CLASSICS.to_vec()).prop_map(String::from),
        1 => (proptest::sample::select(long_alphabet), 1000..20_000usize)
            .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect::<String>()),
    ]
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), proptest::sample::select(vec![i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1])]
}

fn extreme_i32() -> impl Strategy<Value = i32> {
    prop_oneof![any::<i32>(), proptest::sample::select(vec![i32::MIN, i32::MAX, 0, -1])]
}

fn extreme_i16() -> impl Strategy<Value = i16> {
    prop_oneof![any::<i16>(), proptest::sample::select(vec![i16::MIN, i16::MAX, 0, -1])]
}

fn extreme_f64(nan: bool, inf: bool) -> impl Strategy<Value = f64> {
    let specials = vec![f64::MIN, f64::MAX, f64::MIN_POSITIVE, f64::EPSILON, 5e-324, 0.0, -0.0, 0.1, -1.5e300];
    prop_oneof![any::<f64>(), proptest::sample::select(specials)].prop_map(move |f| {
        if (f.is_nan() && !nan) || (f.is_infinite() && !inf) {
            0.5
        } else {
            f
        }
    })
}

fn extreme_f32(nan: bool, inf: bool) -> impl Strategy<Value = f32> {
    let specials = vec![f32::MIN, f32::MAX, f32::MIN_POSITIVE, f32::EPSILON, 1e-45, 0.0, -0.0, 0.1];
    prop_oneof![any::<f32>(), proptest::sample::select(specials)].prop_map(move |f| {
        if (f.is_nan() && !nan) || (f.is_infinite() && !inf) {
            0.5
        } else {
            f
        }
    })
}

/// Exact equality; floats by value (`==`, so -0.0 equals 0.0: SQLite stores a REAL -0.0 as the
/// integer 0), NaN equal to NaN.
fn same(a: &HostileRow, b: &HostileRow) -> bool {
    let f64_same = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    let f32_same = |x: f32, y: f32| x == y || (x.is_nan() && y.is_nan());
    a.id == b.id
        && a.s == b.s
        && a.n == b.n
        && a.i == b.i
        && a.h == b.h
        && f64_same(a.f, b.f)
        && f32_same(a.r, b.r)
        && a.b == b.b
}

type Case = (String, String, i64, i32, i16, f64, f32, Vec<u8>);

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// One property case: insert, read back, filter by the text and the integers, update to other
/// hostile values, read and filter again. Text with NUL where the database cannot store it must
/// be refused with `Error::Unsupported` and nothing written.
fn roundtrip_case(db: &TestDb, case: Case, tried: &AtomicUsize) -> Result<(), TestCaseError> {
    let (s1, s2, n, i, h, f, r, b) = case;
    tried.fetch_add(1, Ordering::Relaxed);
    let nul_ok = db.caps().text_allows_nul;
    let e = |e: Error| fail(format!("{e}"));
    let table = athanor::backend::quoted(db.engine.dialect(), "hostile_values").map_err(e)?;
    db.engine.execute(&format!("DELETE FROM {table}"), &[]).map_err(e)?;
    let s = db.session();
    let row = HostileRow { id: None, s: s1.clone(), n, i, h, f, r, b: b.clone() };
    let handle = s.add(row.clone());
    let refused = !nul_ok && s1.contains('\0');
    match s.commit() {
        Err(Error::Unsupported { .. }) if refused => {
            s.rollback().map_err(e)?;
            let left = db.session().query::<HostileRow>().count().map_err(e)?;
            prop_assert_eq!(left, 0, "a refused value wrote nothing");
            return Ok(());
        }
        Err(err) => return Err(fail(format!("insert of {row:?} failed: {err:?}"))),
        Ok(()) if refused => return Err(fail(format!("text with NUL accepted: {s1:?}"))),
        Ok(()) => {}
    }
    let id = handle.get().id.ok_or_else(|| fail("no key".into()))?;
    let want = HostileRow { id: Some(id), ..row };
    let fresh = db.session();
    let got = fresh.get::<HostileRow>(id).map_err(e)?.ok_or_else(|| fail("row gone".into()))?;
    prop_assert!(same(&got.get(), &want), "read back {:?}, wrote {:?}", *got.get(), want);
    let by_text = fresh.query::<HostileRow>().filter(HostileRow::s.eq(s1.clone())).all().map_err(e)?;
    prop_assert_eq!(by_text.len(), 1, "filter by the text {:?}", s1);
    let by_ints = fresh
        .query::<HostileRow>()
        .filter(HostileRow::n.eq(n) & HostileRow::i.eq(i) & HostileRow::h.eq(h))
        .count()
        .map_err(e)?;
    prop_assert_eq!(by_ints, 1);
    // Update to other hostile values.
    let refused2 = !nul_ok && s2.contains('\0');
    got.edit(|row| {
        row.s = s2.clone();
        row.n = n.wrapping_neg();
        row.b.reverse();
    })
    .map_err(e)?;
    match fresh.commit() {
        Err(Error::Unsupported { .. }) if refused2 => {
            fresh.rollback().map_err(e)?;
            return Ok(());
        }
        Err(err) => return Err(fail(format!("update to {s2:?} failed: {err:?}"))),
        Ok(()) if refused2 => return Err(fail(format!("text with NUL accepted: {s2:?}"))),
        Ok(()) => {}
    }
    let mut want2 = want.clone();
    want2.s = s2.clone();
    want2.n = n.wrapping_neg();
    want2.b.reverse();
    let again = db.session();
    let got2 = again.get::<HostileRow>(id).map_err(e)?.ok_or_else(|| fail("row gone".into()))?;
    prop_assert!(same(&got2.get(), &want2), "read back {:?}, wrote {:?}", *got2.get(), want2);
    let by_new = again.query::<HostileRow>().filter(HostileRow::s.eq(s2.clone())).count().map_err(e)?;
    prop_assert_eq!(by_new, 1, "filter by the new text {:?}", s2);
    // PAD SPACE collations (MySQL) compare 'a' and 'a  ' equal; elsewhere the old text is gone.
    if s1.trim_end_matches(' ') != s2.trim_end_matches(' ') {
        let by_old = again.query::<HostileRow>().filter(HostileRow::s.eq(s1)).count().map_err(e)?;
        prop_assert_eq!(by_old, 0);
    }
    Ok(())
}

/// Property test: 64 cases in CI (512 under `ATHANOR_FULL=1`) of arbitrary and hostile strings
/// (quotes, backslashes, `--`, `;`, NUL, unicode, up to 20 000 characters) and extreme integers
/// and floats (NaN and ±∞ only where the capabilities say they are stored), plus every
/// [`CLASSICS`] string once.
pub fn strings_and_numbers_roundtrip(db: &TestDb) -> Result<()> {
    Base::new().register::<HostileRow>().metadata().create_all(&db.engine)?;
    let caps = db.caps().clone();
    let tried = AtomicUsize::new(0);
    for classic in CLASSICS {
        let case =
            (classic.to_string(), classic.chars().rev().collect(), 1, 2, 3, 0.25, 0.5, classic.as_bytes().to_vec());
        roundtrip_case(db, case, &tried).map_err(|e| Error::invalid_request(format!("{classic:?}: {e}")))?;
    }
    let cases = scaled(64, 512) as u32;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (
        hostile_string(),
        hostile_string(),
        extreme_i64(),
        extreme_i32(),
        extreme_i16(),
        extreme_f64(caps.stores_nan, caps.stores_infinity),
        extreme_f32(caps.stores_nan, caps.stores_infinity),
        proptest::collection::vec(any::<u8>(), 0..300),
    );
    runner
        .run(&strategy, |case| roundtrip_case(db, case, &tried))
        .map_err(|e| Error::invalid_request(format!("property failed: {e}")))?;
    let left = db.session().query::<HostileRow>().count()?;
    assert!(left <= 1, "no statement ever ran from a value: {left} rows");
    eprintln!("hostile values on {}: {} cases tried", db.backend, tried.load(Ordering::Relaxed));
    Ok(())
}

fn weird_roundtrip<const N: usize>(db: &TestDb) -> Result<()> {
    let table = Weird::<N>::TABLE;
    let base = Base::new().register::<Weird<N>>();
    base.metadata().create_all(&db.engine)?;
    base.metadata().create_all(&db.engine)?; // finds the table by its weird name: idempotent
    let s = db.session();
    let w = |key, quoted: &str, tick: &str, group| Weird::<N> { key, quoted: quoted.into(), tick: tick.into(), group };
    s.add_all([w(1, "q'1\"", "t`1", 7), w(2, "q'2", "t`2", 8), w(3, "q'3", "--;", 9)]);
    s.commit()?;
    let ctx = |e: Error| Error::invalid_request(format!("table {:?}: {e}", table.name));
    let found = s.query::<Weird<N>>().filter_by("a \"quoted\" col", "q'1\"").all().map_err(ctx)?;
    assert_eq!(found.len(), 1, "{:?}", table.name);
    assert_eq!(found[0].get().tick, "t`1");
    let two = s.get::<Weird<N>>(2i64)?.ok_or_else(|| Error::NotFound { what: "key 2".into() })?;
    two.edit(|x| x.group = 80)?;
    let three = s.get::<Weird<N>>(3i64)?.ok_or_else(|| Error::NotFound { what: "key 3".into() })?;
    s.delete(&three)?;
    s.commit()?;
    let check = db.session();
    let rows = check.query::<Weird<N>>().filter_by("group", 80).all().map_err(ctx)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(check.query::<Weird<N>>().count()?, 2);
    drop(check); // ends its read transaction (SQLite: a reader blocks DDL)
    let ddl = athanor::backend::drop_table_statement(db.engine.dialect(), table)?;
    db.engine.execute(&ddl, &[])?;
    Ok(())
}

/// Tables and columns named with both quote characters, spaces, reserved words, `--`, `;` and
/// unicode are created, written, filtered, updated, deleted from and dropped through a
/// hand-written `Model`; empty, NUL-containing and over-long identifiers are refused with
/// `Error::InvalidRequest` before anything is sent.
pub fn identifiers_are_quoted_or_refused(db: &TestDb) -> Result<()> {
    weird_roundtrip::<0>(db)?;
    weird_roundtrip::<1>(db)?;
    weird_roundtrip::<2>(db)?;
    weird_roundtrip::<3>(db)?;
    let dialect = db.engine.dialect();
    let too_long: &'static str = Box::leak("x".repeat(dialect.max_identifier_length() + 1).into_boxed_str());
    for bad in ["", "a\0b", too_long] {
        let r = athanor::backend::quoted(dialect, bad);
        assert!(matches!(r, Err(Error::InvalidRequest { .. })), "{bad:?}: {r:?}");
        let cols: &'static [ColumnDef] = Box::leak(
            vec![ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) }].into_boxed_slice(),
        );
        let t: &'static TableDef = Box::leak(Box::new(TableDef { name: bad, rust_name: "Bad", columns: cols }));
        let r = athanor::backend::create_table_statements(dialect, t);
        assert!(matches!(r, Err(Error::InvalidRequest { .. })), "{bad:?}: {r:?}");
        let before = db.engine.statement_count();
        // A good table next to the bad one: create_all renders every table's DDL before it sends
        // anything, so neither is created and not even an existence check is sent.
        let mut meta = athanor::MetaData::new();
        meta.add(<crate::models::Customer as Model>::TABLE);
        meta.add(t);
        let r = meta.create_all(&db.engine);
        assert!(matches!(r, Err(Error::InvalidRequest { .. })), "{bad:?}: {r:?}");
        assert_eq!(db.engine.statement_count(), before, "nothing was sent for {bad:?}");
    }
    Ok(())
}

fn user_host_split(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some((scheme, host, &rest[end..]))
}

/// `scheme://user:password@host/database?options` of a server URL.
fn server_url(url: &str, user: &str, password: Option<&str>, database: Option<&str>) -> Option<String> {
    let (scheme, host, tail) = user_host_split(url)?;
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let path = database.map_or(path.to_string(), |d| format!("/{d}"));
    let cred = match password {
        Some(p) => format!("{user}:{p}"),
        None => user.to_string(),
    };
    let mut out = format!("{scheme}://{cred}@{host}{path}");
    if let Some(q) = query {
        if database.is_none() {
            out.push('?');
            out.push_str(q);
        }
    }
    Some(url_with(&out, &[("pool_timeout", "5")]))
}

fn no_panic<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => panic!("{what} panicked instead of returning an error"),
    }
}

fn connect(url: &str) -> Result<()> {
    let e = create_engine(url)?;
    e.connect()?.query("SELECT 1", &[])?;
    Ok(())
}

/// Malformed URLs and bad options are `Error::Config` (nothing connects); a wrong password, an
/// unknown user or database and a closed port are `Error::Connection { disconnect: false }`
/// (servers) or `Error::Connection` (SQLite, a file in a missing directory); a missing table is
/// `Error::Database`; a value too wide for the field is `Error::TypeMismatch`. None panics.
pub fn bad_urls_and_credentials_are_typed_errors(db: &TestDb) -> Result<()> {
    let scheme = db.url.split(':').next().unwrap_or("sqlite").to_string();
    let malformed = [
        String::new(),
        "nonsense".into(),
        "://nothing".into(),
        format!("{scheme}x://host/db"),
        "oracle://scott:tiger@host/db".into(),
        url_with(&db.url, &[("pool_size", "many")]),
        url_with(&db.url, &[("pool_size", "0")]),
        url_with(&db.url, &[("pool_timeout", "-1")]),
        url_with(&db.url, &[("isolation_level", "sometimes")]),
        url_with(&db.url, &[("echo", "perhaps")]),
        url_with(&db.url, &[("no_such_option", "1")]),
        format!("{scheme}://%zz@host/db"),
    ];
    for url in &malformed {
        let r = no_panic(url, || create_engine(url).map(|_| ()));
        assert!(matches!(r, Err(Error::Config { .. })), "{url:?}: {r:?}");
    }
    if db.backend == "sqlite" {
        let r = no_panic("missing directory", || connect("sqlite:///nonexistent-dir-athanor/x/y.db"));
        assert!(matches!(r, Err(Error::Connection { .. })), "{r:?}");
        let r = no_panic("bad URL form", || create_engine("sqlite:relative.db").map(|_| ()));
        assert!(matches!(r, Err(Error::Config { .. })), "{r:?}");
    } else if let Some((_, host, _)) = user_host_split(&db.url) {
        let user = db.url.split_once("://").and_then(|(_, r)| r.split_once('@')).map(|(u, _)| u);
        let user = user.map_or("root", |u| u.split(':').next().unwrap_or(u));
        let cases = [
            ("wrong password", server_url(&db.url, user, Some("definitely-wrong-password"), None), true),
            ("unknown user", server_url(&db.url, "athanor_no_such_user", Some("x"), None), false),
            ("unknown database", server_url(&db.url, user, None, Some("athanor_no_such_database")), false),
            (
                "closed port",
                Some(format!("{scheme}://{user}@127.0.0.1:1/db?pool_timeout=5")).filter(|_| !host.is_empty()),
                false,
            ),
        ];
        for (what, url, may_succeed) in cases {
            let Some(url) = url else { continue };
            let r = no_panic(what, || connect(&url));
            match r {
                // A server that trusts local connections ignores the password.
                Ok(()) if may_succeed => eprintln!("note: {what}: the server accepted {url} (trust authentication)"),
                Err(Error::Connection { disconnect: false, .. }) => {}
                other => panic!("{what} ({url}): expected Error::Connection {{ disconnect: false }}, got {other:?}"),
            }
        }
    }
    let r = no_panic("missing table", || db.session().query::<HostileRow>().count());
    assert!(matches!(r, Err(Error::Database { .. })), "{r:?}");
    Base::new().register::<Wide>().metadata().create_all(&db.engine)?;
    let s = db.session();
    s.add(Wide { id: None, n: i64::from(i32::MAX) + 1 });
    s.commit()?;
    let r = no_panic("narrowing", || db.session().query::<Narrow>().all().map(|_| ()));
    assert!(matches!(r, Err(Error::TypeMismatch { .. })), "{r:?}");
    Ok(())
}
