//! The Athanor benchmark runner: the same workloads written three ways (Athanor's Session/Query
//! API, the raw driver, Diesel) on SQLite, PostgreSQL and MySQL/MariaDB, timed in one run.
//!
//! ```text
//! cargo run --release -p athanor-bench --features diesel -- --quick   # N = 1,000 and 10,000, few repetitions
//! cargo run --release -p athanor-bench --features diesel              # the same sizes, more repetitions
//! ```
//!
//! Options: `--backends sqlite,postgres,mysql`, `--sizes 1000,10000`, `--reps K`,
//! `--json PATH` (default `target/athanor-bench.json` in the workspace). Server URLs come from
//! `ATHANOR_TEST_POSTGRES_URL` and `ATHANOR_TEST_MYSQL_URL`; an unreachable server is skipped
//! with one line. Prints a table of medians and the ratios Athanor/raw and Athanor/Diesel.

mod athanor_impl;
mod data;
#[cfg(feature = "diesel")]
mod diesel_impl;
mod harness;
mod raw_mysql;
mod raw_postgres;
mod raw_sqlite;
mod report;

use athanor::{Base, Engine};
#[cfg(feature = "diesel")]
use diesel::Connection as _;
use harness::{median, Contender, Imp, Params, Res, Workload};
use report::Entry;
use std::path::PathBuf;
use std::time::Instant;

/// Reset and inspect the table between workloads (a raw connection of its own).
trait Admin {
    /// Empty the table; keys start again at 1.
    fn reset(&mut self) -> Res<()>;
    /// (smallest key, largest key, row count).
    fn key_range(&mut self) -> Res<(i64, i64, i64)>;
    /// The database's version.
    fn version(&mut self) -> Res<String>;
    /// Fill the `load_assoc` tables (emptied first) with `data::assoc_seed()`.
    fn seed_assoc(&mut self) -> Res<()>;
}

impl Admin for raw_sqlite::RawSqlite {
    fn reset(&mut self) -> Res<()> {
        raw_sqlite::RawSqlite::reset(self)
    }
    fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        raw_sqlite::RawSqlite::key_range(self)
    }
    fn version(&mut self) -> Res<String> {
        Ok(format!("SQLite {}", rusqlite::version()))
    }
    fn seed_assoc(&mut self) -> Res<()> {
        raw_sqlite::RawSqlite::seed_assoc(self)
    }
}
impl Admin for raw_postgres::RawPostgres {
    fn reset(&mut self) -> Res<()> {
        raw_postgres::RawPostgres::reset(self)
    }
    fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        raw_postgres::RawPostgres::key_range(self)
    }
    fn version(&mut self) -> Res<String> {
        raw_postgres::RawPostgres::version(self)
    }
    fn seed_assoc(&mut self) -> Res<()> {
        raw_postgres::RawPostgres::seed_assoc(self)
    }
}
impl Admin for raw_mysql::RawMysql {
    fn reset(&mut self) -> Res<()> {
        raw_mysql::RawMysql::reset(self)
    }
    fn key_range(&mut self) -> Res<(i64, i64, i64)> {
        raw_mysql::RawMysql::key_range(self)
    }
    fn version(&mut self) -> Res<String> {
        raw_mysql::RawMysql::version(self)
    }
    fn seed_assoc(&mut self) -> Res<()> {
        raw_mysql::RawMysql::seed_assoc(self)
    }
}

/// One database with its three contenders.
struct Setup {
    admin: Box<dyn Admin>,
    contenders: Vec<(Imp, Box<dyn Contender>)>,
    _engine: Engine,
}

#[derive(Debug, Clone)]
struct Options {
    quick: bool,
    backends: Vec<String>,
    sizes: Vec<usize>,
    reps: Option<usize>,
    json: PathBuf,
    /// Only these implementations (for profiling one of them).
    imps: Option<Vec<String>>,
    /// Only these workloads (`insert_n` always runs first when one of them reads
    /// `bench_customers`: it fills the table).
    workloads: Option<Vec<String>>,
}

/// The workspace's root directory (the JSON goes to its `target/`, wherever cargo builds).
fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map_or(here.clone(), PathBuf::from)
}

fn usage() -> &'static str {
    "usage: athanor-bench [--quick] [--backends sqlite,postgres,mysql] [--sizes 1000,10000] [--reps K] [--json PATH]\n\
     \x20                    [--only athanor,raw,diesel] [--workloads select_all,...]"
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        quick: false,
        backends: vec!["sqlite".into(), "postgres".into(), "mysql".into()],
        sizes: vec![1_000, 10_000],
        reps: None,
        imps: None,
        workloads: None,
        json: workspace_root().join("target").join("athanor-bench.json"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = || -> Res<String> {
            inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{key} needs a value\n{}", usage()).into())
        };
        match key.as_str() {
            "--quick" => o.quick = true,
            "--backends" => o.backends = value()?.split(',').map(|s| s.trim().to_string()).collect(),
            "--sizes" => {
                o.sizes = value()?.split(',').map(|s| s.trim().parse::<usize>()).collect::<Result<_, _>>()?;
                if o.sizes.iter().any(|&n| n < 10) {
                    return Err("sizes must be at least 10".into());
                }
            }
            "--reps" => o.reps = Some(value()?.parse()?),
            "--json" => o.json = PathBuf::from(value()?),
            "--only" => o.imps = Some(value()?.split(',').map(|s| s.trim().to_string()).collect()),
            "--workloads" => o.workloads = Some(value()?.split(',').map(|s| s.trim().to_string()).collect()),
            "--bench" => {} // passed by `cargo bench`
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
        }
    }
    Ok(o)
}

/// Repetitions (after one warm-up pass) for a size.
fn reps_for(o: &Options, n: usize) -> usize {
    o.reps.unwrap_or(match (o.quick, n >= 10_000) {
        (true, false) => 9,
        (true, true) => 7,
        (false, false) => 21,
        (false, true) => 11,
    })
}

/// `url` without the options only Athanor reads (`statement_cache`, docs/scaling.md), for the
/// raw driver and Diesel, which refuse them.
fn driver_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_string() };
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("statement_cache=")).collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

fn server_url(backend: &str) -> String {
    let var = format!("ATHANOR_TEST_{}_URL", backend.to_ascii_uppercase());
    std::env::var(&var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| match backend {
        "postgres" => "postgres://postgres@127.0.0.1:5432/test".to_string(),
        _ => "mysql://root@127.0.0.1:3306/test".to_string(),
    })
}

/// Fresh `bench_customers` and `load_assoc` tables made by Athanor's metadata (the same DDL for
/// everyone).
fn fresh_table(engine: &Engine) -> Res<()> {
    let base = Base::new()
        .register::<data::Customer>()
        .register::<data::BUser>()
        .register::<data::BPost>()
        .register::<data::BComment>();
    base.metadata().drop_all(engine)?;
    base.metadata().create_all(engine)?;
    Ok(())
}

fn setup(backend: &str, scratch: &std::path::Path) -> Res<(String, Setup)> {
    match backend {
        "sqlite" => {
            let path = scratch.join("bench.db");
            let url = format!("sqlite://{}", path.display());
            let engine = athanor::create_engine(&url)?;
            fresh_table(&engine)?;
            #[allow(unused_mut)]
            let mut contenders: Vec<(Imp, Box<dyn Contender>)> = vec![
                (Imp::Athanor, Box::new(athanor_impl::AthanorContender::new(&engine))),
                (Imp::Raw, Box::new(raw_sqlite::RawSqlite::open(&path)?)),
            ];
            #[cfg(feature = "diesel")]
            contenders.push((
                Imp::Diesel,
                Box::new(diesel_impl::DieselSqlite(
                    diesel::SqliteConnection::establish(&path.display().to_string())?,
                    Default::default(),
                )),
            ));
            let admin = Box::new(raw_sqlite::RawSqlite::open(&path)?);
            Ok((url, Setup { admin, contenders, _engine: engine }))
        }
        "postgres" => {
            let url = server_url("postgres");
            let engine = athanor::create_engine(&url)?;
            engine.connect().map_err(|e| Skip(url.clone(), e.to_string()))?;
            fresh_table(&engine)?;
            #[allow(unused_mut)]
            let mut contenders: Vec<(Imp, Box<dyn Contender>)> = vec![
                (Imp::Athanor, Box::new(athanor_impl::AthanorContender::new(&engine))),
                (Imp::Raw, Box::new(raw_postgres::RawPostgres::connect(&driver_url(&url))?)),
            ];
            #[cfg(feature = "diesel")]
            contenders.push((
                Imp::Diesel,
                Box::new(diesel_impl::DieselPostgres(
                    diesel::PgConnection::establish(&driver_url(&url))?,
                    Default::default(),
                )),
            ));
            let admin = Box::new(raw_postgres::RawPostgres::connect(&driver_url(&url))?);
            Ok((url, Setup { admin, contenders, _engine: engine }))
        }
        "mysql" => {
            let url = server_url("mysql");
            let engine = athanor::create_engine(&url)?;
            engine.connect().map_err(|e| Skip(url.clone(), e.to_string()))?;
            fresh_table(&engine)?;
            #[allow(unused_mut)]
            let mut contenders: Vec<(Imp, Box<dyn Contender>)> = vec![
                (Imp::Athanor, Box::new(athanor_impl::AthanorContender::new(&engine))),
                (Imp::Raw, Box::new(raw_mysql::RawMysql::connect(&url)?)),
            ];
            #[cfg(feature = "diesel")]
            contenders.push((
                Imp::Diesel,
                Box::new(diesel_impl::DieselMysql(diesel::MysqlConnection::establish(&url)?, Default::default())),
            ));
            let admin = Box::new(raw_mysql::RawMysql::connect(&url)?);
            Ok((url, Setup { admin, contenders, _engine: engine }))
        }
        other => Err(format!("unknown backend {other} (expected sqlite, postgres or mysql)").into()),
    }
}

/// An unreachable server: (url, reason).
#[derive(Debug)]
struct Skip(String, String);
impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} unreachable: {}", self.0, self.1)
    }
}
impl std::error::Error for Skip {}

fn expected_count(w: Workload, rows: &[data::NewRow]) -> usize {
    match w {
        Workload::InsertN | Workload::SelectAll => rows.len(),
        Workload::FilterOrder => data::adults(rows),
        Workload::GetByPk
        | Workload::GetByPkTxEach
        | Workload::GetByPkOneSession
        | Workload::GetByPkHit
        | Workload::FilterOne
        | Workload::UpdateDirty => rows.len() / 10,
        // The comments reached through users → posts → comments (the full shape is checked too).
        Workload::LoadAssoc => data::ASSOC_SHAPE.2,
    }
}

/// Run every workload at size `n` on one database (`load_assoc`, of a fixed size, only at the
/// first size: `first`).
fn run_size(backend: &str, s: &mut Setup, n: usize, first: bool, o: &Options, out: &mut Vec<Entry>) -> Res<()> {
    let listed = |w: Workload| o.workloads.as_ref().is_none_or(|l| l.iter().any(|x| x == w.name()));
    let customers_needed = Workload::ALL.iter().any(|&w| w.per_size() && listed(w));
    let rows = data::rows(n);
    let mut p = Params { rows, first_id: 1, lookup: Vec::new(), update_slot: 0 };
    for w in Workload::ALL {
        let runs = listed(w) || (w == Workload::InsertN && customers_needed);
        if !runs {
            continue;
        }
        if !w.per_size() && !first {
            continue;
        }
        // insert_n fills the table for the others: when not asked for, it runs once, untimed.
        // load_assoc has its own tables of a fixed size, filled once (untimed) here.
        let (n, reps) = if w.per_size() {
            (n, if listed(w) { reps_for(o, n) } else { 0 })
        } else {
            s.admin.seed_assoc()?;
            (data::ASSOC_USERS, reps_for(o, data::ASSOC_USERS))
        };
        if w != Workload::InsertN && w.per_size() && p.lookup.is_empty() {
            // The read workloads see the N rows the insert workload left (keys 1..=N).
            let (lo, hi, count) = s.admin.key_range()?;
            if count != n as i64 || hi - lo + 1 != n as i64 {
                return Err(format!("after insert_n the table holds {count} rows, keys {lo}..={hi}").into());
            }
            p.first_id = lo;
            p.lookup = data::lookup_ids(lo, n);
        }
        let expected = expected_count(w, &p.rows);
        let mut times: Vec<Vec<std::time::Duration>> = vec![Vec::new(); s.contenders.len()];
        let mut statements = None;
        let mut applies = vec![true; s.contenders.len()];
        // One warm-up pass (statement caches, pool, page cache), then `reps` timed passes; the
        // contenders take turns in a rotating order.
        for rep in 0..=reps {
            let k = s.contenders.len();
            for j in 0..k {
                let i = (j + rep) % k;
                if !applies[i] {
                    continue;
                }
                if w == Workload::InsertN {
                    s.admin.reset()?;
                }
                p.update_slot = i;
                let (imp, c) = &mut s.contenders[i];
                match c.run(w, &p).map_err(|e| format!("{backend} {} {} N={n}: {e}", imp.name(), w.name()))? {
                    None => applies[i] = false,
                    Some((d, count)) => {
                        if count != expected {
                            return Err(format!(
                                "{backend} {} {} N={n}: saw {count} rows, expected {expected}",
                                imp.name(),
                                w.name()
                            )
                            .into());
                        }
                        if w == Workload::LoadAssoc && c.assoc_shape() != Some(data::ASSOC_SHAPE) {
                            return Err(format!(
                                "{backend} {} load_assoc: loaded (users, posts, comments) = {:?}, expected {:?}",
                                imp.name(),
                                c.assoc_shape(),
                                data::ASSOC_SHAPE
                            )
                            .into());
                        }
                        if rep > 0 {
                            times[i].push(d);
                        }
                        if *imp == Imp::Athanor {
                            statements = c.statements();
                        }
                    }
                }
            }
        }
        let mut med = |imp: Imp| {
            s.contenders.iter().position(|(i, _)| *i == imp).and_then(|i| median(std::mem::take(&mut times[i])))
        };
        let entry = Entry {
            backend: backend.to_string(),
            workload: w,
            n,
            reps,
            athanor: med(Imp::Athanor),
            raw: med(Imp::Raw),
            diesel: med(Imp::Diesel),
            athanor_statements: statements,
        };
        if listed(w) {
            eprintln!("  {}", entry.short());
            out.push(entry);
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("athanor-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let o = parse_args()?;
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("athanor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let mut versions = Vec::new();
    let result = (|| -> Res<()> {
        for backend in &o.backends {
            let t0 = Instant::now();
            let (url, mut s) = match setup(backend, &scratch) {
                Ok(x) => x,
                Err(e) => match e.downcast::<Skip>() {
                    Ok(skip) => {
                        let line = format!("SKIPPED backend {backend} at {}: {}", skip.0, skip.1);
                        eprintln!("{line}");
                        notes.push(line);
                        continue;
                    }
                    Err(e) => return Err(format!("{backend}: {e}").into()),
                },
            };
            if let Some(only) = &o.imps {
                s.contenders.retain(|(imp, _)| only.iter().any(|x| x == imp.name()));
            }
            let line = format!("{backend} at {url}: {}", s.admin.version()?);
            eprintln!("{line}");
            versions.push(line);
            for (i, &n) in o.sizes.iter().enumerate() {
                run_size(backend, &mut s, n, i == 0, &o, &mut entries)?;
            }
            eprintln!("{backend} done in {:.1} s", t0.elapsed().as_secs_f64());
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    let mode = if o.quick { "quick" } else { "full" };
    for v in &versions {
        println!("{v}");
    }
    println!();
    println!("{}", report::table(&entries));
    for n in &notes {
        println!("{n}");
    }
    println!("mode {mode}, total {:.1} s", started.elapsed().as_secs_f64());
    if let Some(dir) = o.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&o.json, report::json(&entries, mode))?;
    println!("wrote {}", o.json.display());
    Ok(())
}
