//! `athanor`: the command-line tool. Today it creates and drops databases (`athanor db create
//! URL`, `athanor db drop URL`) and prints shell completions; reflection, `copy` and migrations
//! are to come (issue 14).
//!
//! Exit codes: 0 success; 1 the command could not do what was asked (the database exists, does
//! not exist, or the server refused: the message says which); 2 bad usage (clap's); 3 the
//! database or server could not be reached; 4 a malformed URL or a backend not compiled in.

use athanor::admin::{create_database, drop_database, Outcome};
use athanor::Error;
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
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "athanor", &mut out);
            Ok(String::from_utf8_lossy(&out).trim_end().to_string())
        }
    }
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
