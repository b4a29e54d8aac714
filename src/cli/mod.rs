//! The `athanor` command line (cargo feature `cli`): `db create|drop`, `reflect`, `copy`,
//! `migrate …` and `completions`. The plain `athanor` binary (crate `athanor-cli`) runs it
//! without models; an application's own binary runs it with its models, which `migrate
//! generate` and `migrate check` need, under its own name, version and about text
//! ([`app!`] reads them from the application's `Cargo.toml`):
//!
//! ```no_run
//! // src/bin/manage.rs of the application: `cargo run --bin manage -- migrate generate -m "add pages"`
//! fn main() -> std::process::ExitCode {
//!     let base = athanor::Base::new(); // .register::<User>().register::<Post>() …
//!     athanor::cli::run(athanor::cli::app!(), &base)
//! }
//! ```
//!
//! Exit codes: 0 success; 1 the command could not do what was asked (the database exists, does
//! not exist, the server refused, `--verify` found a difference: the message says which), and
//! `check` / `migrate check` found the schema differs from the models ([`Error::SchemaDrift`],
//! listing the differences); 2 bad usage (clap's); 3 the database or server could not be
//! reached; 4 a malformed URL or a backend not compiled in.

mod progress;
mod rust;

use crate::admin::{create_database, drop_database, Outcome};
use crate::reflect::ReflectedTable;
use crate::{create_engine, Base, Error};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Athanor's command-line tool: one codebase on SQLite, PostgreSQL and MySQL/MariaDB.
#[derive(Parser, Debug)]
#[command(name = "athanor", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success; 1 the command failed (the message says why), or `check` found \
                          the database differs from the models; 2 bad usage; 3 the database could not be reached; \
                          4 a malformed URL or a backend not compiled in.";

/// The program a command line belongs to: the name, version and about text its `--help` and
/// `--version` show. [`app!`] makes the application's from its `Cargo.toml`; [`App::ATHANOR`]
/// is the plain `athanor` binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// The program's name (`Usage: <name> …`).
    pub name: &'static str,
    /// Its version (`--version` prints `<name> <version>`).
    pub version: &'static str,
    /// One line saying what it is (the top of `--help`).
    pub about: &'static str,
}

impl App {
    /// The plain `athanor` binary.
    pub const ATHANOR: App = App {
        name: "athanor",
        version: env!("CARGO_PKG_VERSION"),
        about: "Athanor's command-line tool: one codebase on SQLite, PostgreSQL and MySQL/MariaDB.",
    };

    /// The command line with this program's name, version and about text.
    fn command(&self) -> clap::Command {
        Cli::command().name(self.name).bin_name(self.name).version(self.version).about(self.about).long_about(None)
    }
}

/// The [`App`] of the crate that calls it: the binary's name (the package's outside a binary),
/// and the package's version and description, read from the calling crate's Cargo metadata at
/// compile time. `athanor::cli::run(athanor::cli::app!(), &base)`.
#[macro_export]
#[doc(hidden)]
macro_rules! __athanor_cli_app {
    () => {
        $crate::cli::App {
            name: match ::core::option_env!("CARGO_BIN_NAME") {
                ::core::option::Option::Some(name) => name,
                ::core::option::Option::None => ::core::env!("CARGO_PKG_NAME"),
            },
            version: ::core::env!("CARGO_PKG_VERSION"),
            about: ::core::env!("CARGO_PKG_DESCRIPTION"),
        }
    };
}

#[doc(inline)]
pub use crate::__athanor_cli_app as app;

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or drop a whole database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Read a database's schema from its catalog: tables, columns (portable type, nullability,
    /// length, precision, default), primary keys, foreign keys, unique constraints, indexes.
    Reflect {
        /// The database URL.
        url: String,
        /// Print `#[derive(Model)]` structs (relationships inferred from the foreign keys).
        #[arg(long)]
        rust: bool,
        /// Only these tables (comma-separated).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Read a column as this portable type: `table.column=Type` (Text, Text(40), BigInt,
        /// Decimal(10,2), DateTime, Uuid …; see docs/types.md). Needed with --rust for a column
        /// whose type has no portable type; repeatable.
        #[arg(long = "type-map", value_name = "TABLE.COLUMN=TYPE")]
        type_map: Vec<String>,
        /// With --rust, how structs and fields are named: `rust` (snake_case fields, CamelCase
        /// structs) or `database` (each table and column name as the database spells it, where
        /// it is a legal Rust name).
        #[arg(long, value_enum, default_value_t = rust::Naming::Rust)]
        naming: rust::Naming,
    },
    /// Copy a database into another of any kind: tables created in foreign-key order with each
    /// database's types (--create), rows in batches inside transactions, generated keys carried
    /// and the destination's counters moved past them.
    Copy {
        /// The source database URL.
        src: String,
        /// The destination database URL.
        dst: String,
        /// Create the tables the destination lacks.
        #[arg(long)]
        create: bool,
        /// Only these tables (comma-separated; the tables they refer to must be copied too or
        /// exist on the destination).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Skip tables already copied whole, and copy again tables copied in part.
        #[arg(long)]
        resume: bool,
        /// Compare row counts and a checksum of every value afterwards; exit 1 on a mismatch.
        #[arg(long)]
        verify: bool,
        /// Rows per batch (one transaction each).
        #[arg(long, default_value_t = 5000)]
        batch: usize,
        /// Read a source column as this portable type: `table.column=Type` (Text, Text(40),
        /// BigInt, Decimal(10,2), DateTime, Uuid …; see docs/types.md). Needed for a column whose
        /// type has no portable type; repeatable.
        #[arg(long = "type-map", value_name = "TABLE.COLUMN=TYPE")]
        type_map: Vec<String>,
    },
    /// Portable migrations: generate from the models, upgrade, downgrade, status, history,
    /// stamp, and check (a CI drift gate).
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Exit 1 listing the differences when the database does not match the models: a CI drift
    /// gate (the same as `migrate check`; needs the application's binary).
    Check {
        #[command(flatten)]
        target: Target,
    },
    /// Print a completion script for a shell: `athanor completions bash > /etc/bash_completion.d/athanor`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Where the migrations are and which database they run on.
#[derive(clap::Args, Debug)]
struct Target {
    /// The database URL (default: the DATABASE_URL environment variable).
    #[arg(long, env = "DATABASE_URL")]
    url: String,
    /// The migrations directory.
    #[arg(long, default_value = "migrations")]
    dir: std::path::PathBuf,
}

#[derive(Subcommand, Debug)]
enum MigrateCommand {
    /// Write the migration that makes the database match the models (needs the application's
    /// binary: `athanor::cli::run(athanor::cli::app!(), &base)`).
    Generate {
        #[command(flatten)]
        target: Target,
        /// What it is for.
        #[arg(short, long)]
        message: String,
    },
    /// Apply the migrations after the database's version, up to REVISION (default: the last).
    Upgrade {
        #[command(flatten)]
        target: Target,
        /// The last migration to apply.
        revision: Option<String>,
    },
    /// Undo migrations down to REVISION (`base` undoes all; default: the last one only).
    Downgrade {
        #[command(flatten)]
        target: Target,
        /// The migration to go back to, or `base`.
        revision: Option<String>,
    },
    /// The database's version and the migrations not applied.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// The migrations, in order.
    History {
        /// The migrations directory.
        #[arg(long, default_value = "migrations")]
        dir: std::path::PathBuf,
    },
    /// Record REVISION (or `base`) as the database's version without running anything.
    Stamp {
        #[command(flatten)]
        target: Target,
        /// The migration, or `base`.
        revision: String,
    },
    /// Exit 1 listing the differences when the database does not match the models (needs the
    /// application's binary).
    Check {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Create the database a URL names: `CREATE DATABASE` on PostgreSQL and MySQL (utf8mb4,
    /// binary collation), the file on SQLite.
    Create {
        /// The database URL: sqlite://app.db, postgres://user@host/app, mysql://user@host/app.
        url: String,
        /// Succeed when it already exists.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// Drop the database a URL names, with everything in it: `DROP DATABASE`, or remove the
    /// SQLite file and its -wal/-shm/-journal files.
    Drop {
        /// The database URL.
        url: String,
        /// Succeed when it does not exist.
        #[arg(long)]
        if_exists: bool,
    },
}

fn needs_models<'a>(models: Option<&'a Base>, what: &str) -> Result<&'a Base, Error> {
    models.ok_or_else(|| {
        Error::invalid_request(format!(
            "`migrate {what}` compares the database with the application's models: run it from the application's \
             binary, which calls athanor::cli::run(athanor::cli::app!(), &base)"
        ))
    })
}

fn migrate(command: MigrateCommand, models: Option<&Base>) -> Result<String, Error> {
    use crate::migrate as m;
    let revision = |r: Option<String>| r.filter(|r| r != "base");
    match command {
        MigrateCommand::History { dir } => {
            let chain = m::load_dir(&dir)?;
            if chain.is_empty() {
                return Ok(format!("no migrations in {}", dir.display()));
            }
            Ok(chain
                .iter()
                .map(|x| format!("{} {} ({} operation(s))", x.id, x.message, x.upgrade.len()))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        MigrateCommand::Generate { target, message } => {
            let base = needs_models(models, "generate")?;
            let chain = m::load_dir(&target.dir)?;
            let engine = create_engine(&target.url)?;
            let mut conn = engine.connect()?;
            let current = m::current_version(&mut conn)?;
            if current.as_deref() != chain.last().map(|x| x.id.as_str()) {
                return Err(Error::invalid_request(format!(
                    "the database is at {}, not at the last migration {}: upgrade it first",
                    current.as_deref().unwrap_or("base"),
                    chain.last().map_or("base", |x| x.id.as_str())
                )));
            }
            let ops = m::generate(&mut conn, &base.metadata())?;
            if ops.is_empty() {
                return Ok("the database matches the models: no migration written".into());
            }
            let migration = m::next(&chain, &message, ops);
            std::fs::create_dir_all(&target.dir)
                .map_err(|e| Error::invalid_request(format!("cannot create {}: {e}", target.dir.display())))?;
            let path = target.dir.join(migration.file_name());
            std::fs::write(&path, migration.to_json()? + "\n")
                .map_err(|e| Error::invalid_request(format!("cannot write {}: {e}", path.display())))?;
            let ops: Vec<String> = migration.upgrade.iter().map(|o| format!("  {o}")).collect();
            Ok(format!("wrote {}\n{}", path.display(), ops.join("\n")))
        }
        MigrateCommand::Upgrade { target, revision: r } => {
            let chain = m::load_dir(&target.dir)?;
            let mut conn = create_engine(&target.url)?.connect()?;
            let done = m::upgrade(&mut conn, &chain, revision(r).as_deref())?;
            Ok(if done.is_empty() { "already up to date".into() } else { format!("upgraded: {}", done.join(", ")) })
        }
        MigrateCommand::Downgrade { target, revision: r } => {
            let chain = m::load_dir(&target.dir)?;
            let mut conn = create_engine(&target.url)?.connect()?;
            let to = match r.as_deref() {
                Some("base") => None,
                Some(id) => Some(id.to_string()),
                // One step back.
                None => {
                    let current = m::current_version(&mut conn)?;
                    let i = chain.iter().position(|x| Some(&x.id) == current.as_ref());
                    i.and_then(|i| i.checked_sub(1)).map(|p| chain[p].id.clone())
                }
            };
            let done = m::downgrade(&mut conn, &chain, to.as_deref())?;
            Ok(if done.is_empty() { "nothing to downgrade".into() } else { format!("downgraded: {}", done.join(", ")) })
        }
        MigrateCommand::Status { target } => {
            let chain = m::load_dir(&target.dir)?;
            let mut conn = create_engine(&target.url)?.connect()?;
            let current = m::current_version(&mut conn)?;
            let at = current.as_deref().and_then(|c| chain.iter().position(|x| x.id == c)).map_or(0, |i| i + 1);
            let pending: Vec<String> = chain[at..].iter().map(|x| format!("  {} {}", x.id, x.message)).collect();
            Ok(format!(
                "version: {}\n{}",
                current.as_deref().unwrap_or("base"),
                if pending.is_empty() { "up to date".to_string() } else { format!("pending:\n{}", pending.join("\n")) }
            ))
        }
        MigrateCommand::Stamp { target, revision: r } => {
            let chain = m::load_dir(&target.dir)?;
            let mut conn = create_engine(&target.url)?.connect()?;
            let r = revision(Some(r));
            m::stamp(&mut conn, &chain, r.as_deref())?;
            Ok(format!("stamped {}", r.as_deref().unwrap_or("base")))
        }
        MigrateCommand::Check { target } => {
            let base = needs_models(models, "check")?;
            let mut conn = create_engine(&target.url)?.connect()?;
            let differences = m::check(&mut conn, &base.metadata())?;
            if differences.is_empty() {
                return Ok("the database matches the models".into());
            }
            Err(Error::SchemaDrift { differences: differences.iter().map(ToString::to_string).collect() })
        }
    }
}

fn execute(app: &App, cli: Cli, models: Option<&Base>) -> Result<String, Error> {
    let shown = |url: &str| crate::backend::ConnectOptions::parse(url).map(|o| o.redacted());
    match cli.command {
        Command::Db(DbCommand::Create { url, if_not_exists }) => Ok(match create_database(&url, if_not_exists)? {
            Outcome::Done => format!("created {}", shown(&url)?),
            Outcome::Unchanged => format!("{} already exists", shown(&url)?),
        }),
        Command::Db(DbCommand::Drop { url, if_exists }) => Ok(match drop_database(&url, if_exists)? {
            Outcome::Done => format!("dropped {}", shown(&url)?),
            Outcome::Unchanged => format!("{} does not exist", shown(&url)?),
        }),
        Command::Reflect { url, rust, tables, type_map, naming } => {
            let type_map = crate::reflect::TypeMap::parse(&type_map)?;
            let engine = create_engine(&url)?;
            let mut conn = engine.connect()?;
            let names = if tables.is_empty() { crate::reflect::table_names(&mut conn)? } else { tables };
            let mut reflected = crate::reflect::reflect_tables(&mut conn, &names)?;
            type_map.apply(&mut reflected)?;
            if rust {
                // A model without a column of the table would be no model of it.
                crate::reflect::check_mapped(&reflected)?;
                return Ok(rust::to_rust(&reflected, naming).trim_end().to_string());
            }
            Ok(describe(&reflected))
        }
        Command::Copy { src, dst, create, tables, resume, verify, batch, type_map } => {
            let type_map = crate::reflect::TypeMap::parse(&type_map)?;
            let options = crate::copy::CopyOptions { tables, create, resume, verify, batch_rows: batch, type_map };
            let (from, to) = (create_engine(&src)?, create_engine(&dst)?);
            let mut bars = progress::Bars::new();
            let reports = crate::copy::copy(&from, &to, &options, &mut bars)?;
            let mut lines = Vec::new();
            let mut bad = Vec::new();
            for r in &reports {
                let mut line = match (r.skipped, r.created) {
                    (true, _) => format!("{}: already complete, skipped", r.table),
                    (false, true) => format!("{}: created, {} row(s) copied", r.table, r.copied),
                    (false, false) => format!("{}: {} row(s) copied", r.table, r.copied),
                };
                if let Some((s, d, same)) = r.verified {
                    line.push_str(&format!(
                        "; verify: {s} / {d} rows, checksums {}",
                        if same { "equal" } else { "DIFFER" }
                    ));
                }
                if !r.ok() {
                    bad.push(r.table.clone());
                }
                lines.push(line);
            }
            if !bad.is_empty() {
                return Err(Error::invalid_request(format!(
                    "{}\nverification failed for: {}",
                    lines.join("\n"),
                    bad.join(", ")
                )));
            }
            Ok(lines.join("\n"))
        }
        Command::Migrate(command) => migrate(command, models),
        Command::Check { target } => migrate(MigrateCommand::Check { target }, models),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut app.command(), app.name, &mut out);
            Ok(String::from_utf8_lossy(&out).trim_end().to_string())
        }
    }
}

/// The plain listing of `athanor reflect`.
fn describe(tables: &[ReflectedTable]) -> String {
    let mut out = Vec::new();
    for t in tables {
        out.push(format!("table {}", t.name));
        for c in &t.columns {
            let portable = c.portable.map_or_else(
                || format!("unmapped: {}", c.unmapped.as_deref().unwrap_or("no portable type")),
                crate::reflect::portable_name,
            );
            let mut line = format!("  {} {} ({portable})", c.name, c.native_type);
            line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            if let Some(d) = &c.default {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            if c.autoincrement {
                line.push_str(" generated");
            }
            if !c.allowed.is_empty() {
                line.push_str(&format!(" IN ({})", c.allowed.join(", ")));
            }
            out.push(line);
        }
        out.push(format!("  primary key ({})", t.primary_key.join(", ")));
        for u in &t.unique_constraints {
            out.push(format!(
                "  unique {}({})",
                u.name.as_deref().map(|n| format!("{n} ")).unwrap_or_default(),
                u.columns.join(", ")
            ));
        }
        for i in &t.indexes {
            let kind = if i.unique { "unique index" } else { "index" };
            out.push(format!("  {kind} {} ({})", i.name.as_deref().unwrap_or("?"), i.columns.join(", ")));
        }
        for f in &t.foreign_keys {
            let name = f.name.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
            out.push(format!(
                "  foreign key {name}({}) references {} ({})",
                f.columns.join(", "),
                f.referred_table,
                f.referred_columns.join(", ")
            ));
        }
    }
    out.join("\n")
}

/// Run the command line of `std::env::args()` as program `app` (its `--help` and `--version`
/// show `app`'s name, version and about text) with the application's models (so `migrate
/// generate` and `migrate check` can compare them with the database), print the result and
/// return the exit code: `athanor::cli::run(athanor::cli::app!(), &base)`.
pub fn run(app: App, models: &Base) -> ExitCode {
    run_as(&app, Some(models))
}

/// Parse `argv` (with the program name) as program `app`; `--help` and `--version` are clap
/// "errors" of their own kinds.
fn parse(app: &App, argv: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, clap::Error> {
    Cli::from_arg_matches(&app.command().try_get_matches_from(argv)?)
}

/// Run one command line (`args` without the program name) as the plain `athanor` program and
/// return what it prints, for embedding and tests: `run_args(Some(&base), ["migrate", "check",
/// "--url", url])`.
///
/// # Errors
/// As [`run_args_as`].
pub fn run_args<I, S>(models: Option<&Base>, args: I) -> Result<String, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    run_args_as(&App::ATHANOR, models, args)
}

/// Run one command line (`args` without the program name) as program `app` and return what it
/// prints (for `--help` and `--version`, the text they show).
///
/// # Errors
/// The command's error ([`exit_code`] tells its exit code); a usage error as
/// [`Error::InvalidRequest`] with clap's message.
pub fn run_args_as<I, S>(app: &App, models: Option<&Base>, args: I) -> Result<String, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from(app.name)).chain(args.into_iter().map(Into::into));
    match parse(app, argv) {
        Ok(cli) => execute(app, cli, models),
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            Ok(e.render().to_string().trim_end().to_string())
        }
        Err(e) => Err(Error::invalid_request(e.to_string())),
    }
}

/// The exit code of a command's error: 3 for a database that cannot be reached, 4 for a bad URL
/// or a backend not compiled in, 1 otherwise (a schema that differs from the models,
/// [`Error::SchemaDrift`], included).
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Connection { .. } | Error::PoolTimeout { .. } => 3,
        Error::Config { .. } => 4,
        _ => 1,
    }
}

/// The command line of `std::env::args()` as the plain `athanor` program, with `models` if
/// given: the `athanor` binary is `run_with(None)`.
pub fn run_with(models: Option<&Base>) -> ExitCode {
    run_as(&App::ATHANOR, models)
}

fn run_as(app: &App, models: Option<&Base>) -> ExitCode {
    // A usage error exits 2 (clap's); --help and --version print and exit 0.
    let cli = parse(app, std::env::args_os()).unwrap_or_else(|e| e.exit());
    match execute(app, cli, models) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", app.name);
            ExitCode::from(exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
