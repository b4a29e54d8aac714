//! `athanor`: the command-line tool. It creates and drops databases (`athanor db create URL`,
//! `athanor db drop URL`), reads a database's schema (`athanor reflect URL [--rust]`) and prints
//! shell completions; `copy` and migrations are to come (issue 14).
//!
//! Exit codes: 0 success; 1 the command could not do what was asked (the database exists, does
//! not exist, or the server refused: the message says which); 2 bad usage (clap's); 3 the
//! database or server could not be reached; 4 a malformed URL or a backend not compiled in.

mod progress;
mod rust;

use athanor::admin::{create_database, drop_database, Outcome};
use athanor::reflect::ReflectedTable;
use athanor::{create_engine, Error};
use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Athanor's command-line tool: one codebase on SQLite, PostgreSQL and MySQL/MariaDB.
#[derive(Parser, Debug)]
#[command(name = "athanor", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success; 1 the command failed (the message says why); 2 bad usage; \
                          3 the database could not be reached; 4 a malformed URL or a backend not compiled in.";

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
    },
    /// Print a completion script for a shell: `athanor completions bash > /etc/bash_completion.d/athanor`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
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

/// The exit code of an error (see the crate docs).
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Connection { .. } | Error::PoolTimeout { .. } => 3,
        Error::Config { .. } => 4,
        _ => 1,
    }
}

fn run(cli: Cli) -> Result<String, Error> {
    let shown = |url: &str| athanor::backend::ConnectOptions::parse(url).map(|o| o.redacted());
    match cli.command {
        Command::Db(DbCommand::Create { url, if_not_exists }) => Ok(match create_database(&url, if_not_exists)? {
            Outcome::Done => format!("created {}", shown(&url)?),
            Outcome::Unchanged => format!("{} already exists", shown(&url)?),
        }),
        Command::Db(DbCommand::Drop { url, if_exists }) => Ok(match drop_database(&url, if_exists)? {
            Outcome::Done => format!("dropped {}", shown(&url)?),
            Outcome::Unchanged => format!("{} does not exist", shown(&url)?),
        }),
        Command::Reflect { url, rust, tables } => {
            let engine = create_engine(&url)?;
            let mut conn = engine.connect()?;
            let names = if tables.is_empty() { athanor::reflect::table_names(&mut conn)? } else { tables };
            let reflected =
                names.iter().map(|n| athanor::reflect::reflect_table(&mut conn, n)).collect::<Result<Vec<_>, _>>()?;
            Ok(if rust { rust::to_rust(&reflected).trim_end().to_string() } else { describe(&reflected) })
        }
        Command::Copy { src, dst, create, tables, resume, verify, batch } => {
            let options = athanor::copy::CopyOptions { tables, create, resume, verify, batch_rows: batch };
            let (from, to) = (create_engine(&src)?, create_engine(&dst)?);
            let mut bars = progress::Bars::new();
            let reports = athanor::copy::copy(&from, &to, &options, &mut bars)?;
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
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "athanor", &mut out);
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
            let portable = c.portable.map_or_else(|| "unmapped".to_string(), |p| format!("{:?}", p.sql_type));
            let mut line = format!("  {} {} ({portable})", c.name, c.native_type);
            line.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
            if let Some(d) = &c.default {
                line.push_str(&format!(" DEFAULT {d}"));
            }
            if c.autoincrement {
                line.push_str(" generated");
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

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("athanor: {e}");
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
