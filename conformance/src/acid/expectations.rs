//! What each database is expected to do: the Hermitage isolation matrix, the per-backend fault
//! hooks and the known gaps. This is the one place of the ACID suite where backend names appear.
//!
//! The matrix comes from the databases' documentation and Hermitage's published results
//! (PostgreSQL 9.3 and MySQL 5.6 InnoDB, re-checked on the servers this suite runs against:
//! PostgreSQL 15 and MariaDB 10.11 with `innodb_snapshot_isolation=OFF`, its default before
//! MariaDB 11.6.2), completed for the cells Hermitage did not run by the documented mechanism of
//! each level (PostgreSQL's repeatable read refuses to update a row changed since its snapshot;
//! InnoDB's serializable turns plain reads into shared-lock reads; SQLite has one writer per
//! database and, in rollback-journal mode, readers that block commits). Every cell is asserted by a
//! test named `<target>_<level>_<anomaly>`; `docs/guarantees.md` is rendered from this table and a
//! test checks that it is up to date.
//!
//! A cell says whether the run showed the anomaly's phenomenon, decided by its definition from
//! the recorded reads, writes and outcomes ([`crate::acid::phenomena`]). Whether the run's whole
//! history was serializable is a separate expectation of each row ([`Row::unserializable`],
//! judged by [`crate::acid::serial`]): a script can show another anomaly than the one it is named
//! after (the G1b script at read committed shows a non-repeatable read, which is G-single, not
//! G1b).

use crate::acid::phenomena::Phenomenon;
use athanor::IsolationLevel;
use std::fmt;

/// How a database dealt with one anomaly test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The anomaly happened: the transactions observed or produced a non-serializable result.
    Allowed,
    /// Prevented by blocking: a step waited for another transaction to finish, then went on with a
    /// serializable result.
    Blocked,
    /// Prevented by an error: a step (or a commit) failed with [`athanor::Error::SerializationFailure`]
    /// (serialization failure, deadlock, `SQLITE_BUSY`), the transaction was rolled back and can be
    /// retried.
    Aborted,
    /// Prevented by what the reads saw: nothing waited and nothing failed; each read saw committed
    /// data from a snapshot (or, in SQLite's rollback-journal mode, the last committed pages).
    Snapshot,
    /// The database has no such isolation level: beginning the transaction is
    /// [`athanor::Error::Unsupported`] and nothing is sent.
    Unsupported,
}

impl Outcome {
    /// The word used in the docs' matrix.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Allowed => "**allowed**",
            Outcome::Blocked => "blocks",
            Outcome::Aborted => "error",
            Outcome::Snapshot => "snapshot",
            Outcome::Unsupported => "n/a",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Allowed => "allowed",
            Outcome::Blocked => "prevented by blocking",
            Outcome::Aborted => "prevented by an error",
            Outcome::Snapshot => "prevented by snapshot reads",
            Outcome::Unsupported => "unsupported level",
        })
    }
}

/// The Hermitage anomaly tests, in the order of the matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anomaly {
    /// Write cycles (dirty writes).
    G0,
    /// Aborted reads.
    G1a,
    /// Intermediate reads.
    G1b,
    /// Circular information flow.
    G1c,
    /// Observed transaction vanishes.
    Otv,
    /// Predicate-many-preceders, read predicate.
    Pmp,
    /// Predicate-many-preceders, write predicate.
    PmpWrite,
    /// Lost update.
    P4,
    /// Read skew.
    GSingle,
    /// Read skew on a write predicate.
    GSingleWrite,
    /// Write skew.
    G2Item,
    /// Anti-dependency cycles on a predicate (phantom write skew).
    G2,
}

impl Anomaly {
    /// Every anomaly, in the matrix's column order.
    pub const ALL: [Anomaly; 12] = [
        Anomaly::G0,
        Anomaly::G1a,
        Anomaly::G1b,
        Anomaly::G1c,
        Anomaly::Otv,
        Anomaly::Pmp,
        Anomaly::PmpWrite,
        Anomaly::P4,
        Anomaly::GSingle,
        Anomaly::GSingleWrite,
        Anomaly::G2Item,
        Anomaly::G2,
    ];

    /// Hermitage's name: `G1a`, `PMP-write`, `G-single` …
    pub fn label(self) -> &'static str {
        match self {
            Anomaly::G0 => "G0",
            Anomaly::G1a => "G1a",
            Anomaly::G1b => "G1b",
            Anomaly::G1c => "G1c",
            Anomaly::Otv => "OTV",
            Anomaly::Pmp => "PMP",
            Anomaly::PmpWrite => "PMP-write",
            Anomaly::P4 => "P4",
            Anomaly::GSingle => "G-single",
            Anomaly::GSingleWrite => "G-single-write",
            Anomaly::G2Item => "G2-item",
            Anomaly::G2 => "G2",
        }
    }

    /// The lower-case id used in test names: `g1a`, `pmp_write`, `g_single` …
    pub fn id(self) -> &'static str {
        match self {
            Anomaly::G0 => "g0",
            Anomaly::G1a => "g1a",
            Anomaly::G1b => "g1b",
            Anomaly::G1c => "g1c",
            Anomaly::Otv => "otv",
            Anomaly::Pmp => "pmp",
            Anomaly::PmpWrite => "pmp_write",
            Anomaly::P4 => "p4",
            Anomaly::GSingle => "g_single",
            Anomaly::GSingleWrite => "g_single_write",
            Anomaly::G2Item => "g2_item",
            Anomaly::G2 => "g2",
        }
    }

    /// The enum variant's name (for the generated test macro).
    pub fn variant(self) -> &'static str {
        match self {
            Anomaly::G0 => "G0",
            Anomaly::G1a => "G1a",
            Anomaly::G1b => "G1b",
            Anomaly::G1c => "G1c",
            Anomaly::Otv => "Otv",
            Anomaly::Pmp => "Pmp",
            Anomaly::PmpWrite => "PmpWrite",
            Anomaly::P4 => "P4",
            Anomaly::GSingle => "GSingle",
            Anomaly::GSingleWrite => "GSingleWrite",
            Anomaly::G2Item => "G2Item",
            Anomaly::G2 => "G2",
        }
    }

    /// The phenomenon whose occurrence decides the cell: PMP-write is PMP (on a write
    /// predicate), G-single-write is G-single.
    pub fn phenomenon(self) -> Phenomenon {
        match self {
            Anomaly::G0 => Phenomenon::G0,
            Anomaly::G1a => Phenomenon::G1a,
            Anomaly::G1b => Phenomenon::G1b,
            Anomaly::G1c => Phenomenon::G1c,
            Anomaly::Otv => Phenomenon::Otv,
            Anomaly::Pmp | Anomaly::PmpWrite => Phenomenon::Pmp,
            Anomaly::P4 => Phenomenon::P4,
            Anomaly::GSingle | Anomaly::GSingleWrite => Phenomenon::GSingle,
            Anomaly::G2Item => Phenomenon::G2Item,
            Anomaly::G2 => Phenomenon::G2,
        }
    }

    /// What the anomaly is, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Anomaly::G0 => "write cycles (dirty writes)",
            Anomaly::G1a => "aborted reads",
            Anomaly::G1b => "intermediate reads",
            Anomaly::G1c => "circular information flow",
            Anomaly::Otv => "observed transaction vanishes",
            Anomaly::Pmp => "predicate-many-preceders (read predicate)",
            Anomaly::PmpWrite => "predicate-many-preceders (write predicate)",
            Anomaly::P4 => "lost update",
            Anomaly::GSingle => "read skew",
            Anomaly::GSingleWrite => "read skew on a write predicate",
            Anomaly::G2Item => "write skew",
            Anomaly::G2 => "anti-dependency cycles (predicate write skew)",
        }
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A database configuration the matrix covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// SQLite, a file database with the default settings (WAL mode).
    Sqlite,
    /// SQLite, a file database with `journal_mode=delete` (the rollback journal).
    SqliteRollbackJournal,
    /// PostgreSQL.
    Postgres,
    /// MySQL / MariaDB with InnoDB.
    Mysql,
}

impl Target {
    /// Every target, in the docs' order.
    pub const ALL: [Target; 4] = [Target::Sqlite, Target::SqliteRollbackJournal, Target::Postgres, Target::Mysql];

    /// The prefix of its test names: `sqlite`, `sqlite_rollback_journal`, `postgres`, `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Sqlite => "sqlite",
            Target::SqliteRollbackJournal => "sqlite_rollback_journal",
            Target::Postgres => "postgres",
            Target::Mysql => "mysql",
        }
    }

    /// The variant's name (for the generated test macro).
    pub fn variant(self) -> &'static str {
        match self {
            Target::Sqlite => "Sqlite",
            Target::SqliteRollbackJournal => "SqliteRollbackJournal",
            Target::Postgres => "Postgres",
            Target::Mysql => "Mysql",
        }
    }

    /// The harness backend it runs on.
    pub fn backend(self) -> &'static str {
        match self {
            Target::Sqlite | Target::SqliteRollbackJournal => "sqlite",
            Target::Postgres => "postgres",
            Target::Mysql => "mysql",
        }
    }

    /// How the docs name it.
    pub fn title(self) -> &'static str {
        match self {
            Target::Sqlite => "SQLite (file, default settings: WAL)",
            Target::SqliteRollbackJournal => "SQLite (file, `journal_mode=delete`: rollback journal)",
            Target::Postgres => "PostgreSQL",
            Target::Mysql => "MySQL / MariaDB (InnoDB)",
        }
    }

    /// Engine URL options the Hermitage tests add to the harness URL. SQLite waits for locks up to
    /// `busy_timeout`: long enough that a step blocked behind another session's next step is
    /// released by it, not by the timeout.
    pub fn hermitage_options(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Target::Sqlite => &[("busy_timeout", "10000")],
            Target::SqliteRollbackJournal => &[("busy_timeout", "10000"), ("journal_mode", "delete")],
            Target::Postgres | Target::Mysql => &[],
        }
    }

    /// The targets that run on a harness backend.
    pub fn of_backend(backend: &str) -> Vec<Target> {
        Target::ALL.into_iter().filter(|t| t.backend() == backend).collect()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One row of the matrix: a target at a level, the outcome of every anomaly (in
/// [`Anomaly::ALL`] order), and what the database actually provides.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The database configuration.
    pub target: Target,
    /// The isolation level asked for.
    pub level: IsolationLevel,
    /// The expected outcome per anomaly.
    pub outcomes: [Outcome; 12],
    /// The scripts whose run's whole history is expected not to be serializable (whatever
    /// anomaly made it so); every other script's is expected serializable.
    pub unserializable: &'static [Anomaly],
    /// What the level amounts to.
    pub actual: &'static str,
}

const A: Outcome = Outcome::Allowed;
const B: Outcome = Outcome::Blocked;
const E: Outcome = Outcome::Aborted;
const S: Outcome = Outcome::Snapshot;
const U: Outcome = Outcome::Unsupported;

use IsolationLevel::{ReadCommitted as RC, ReadUncommitted as RU, RepeatableRead as RR, Serializable as SER};

/// No script's history is non-serializable.
const NONE: &[Anomaly] = &[];
/// Every script's but G0's and G1a's history is non-serializable (read committed).
#[rustfmt::skip]
const ALL_BUT_G0_G1A: &[Anomaly] = &[
    Anomaly::G1b, Anomaly::G1c, Anomaly::Otv, Anomaly::Pmp, Anomaly::PmpWrite, Anomaly::P4, Anomaly::GSingle,
    Anomaly::GSingleWrite, Anomaly::G2Item, Anomaly::G2,
];

/// The expected outcome of every (target, level, anomaly). Columns:
/// G0 G1a G1b G1c OTV PMP PMP-write P4 G-single G-single-write G2-item G2.
#[rustfmt::skip]
pub const MATRIX: &[Row] = &[
    //                                               G0 G1a G1b G1c OTV PMP PMPw P4 Gs Gsw G2i G2
    Row { target: Target::Sqlite,    level: RU,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::Sqlite,    level: RC,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::Sqlite,    level: RR,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::Sqlite,    level: SER, outcomes: [B, S, S, B, B, S, E, E, S, E, E, E], unserializable: NONE, actual: "serializable (snapshot + one writer)" },
    Row { target: Target::SqliteRollbackJournal, level: RU,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::SqliteRollbackJournal, level: RC,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::SqliteRollbackJournal, level: RR,  outcomes: [U, U, U, U, U, U, U, U, U, U, U, U], unserializable: NONE, actual: "refused" },
    Row { target: Target::SqliteRollbackJournal, level: SER, outcomes: [B, S, B, B, B, B, E, E, B, E, E, E], unserializable: NONE, actual: "serializable (database lock)" },
    // Read committed, G1b / G1c / OTV: prevented (Hermitage's table too), yet the histories are
    // not serializable: G1b's T2 reads row 1 as 10, then as T1's committed 11, and OTV's T3 reads
    // T1's rows twice, then T2's (non-repeatable reads: G-single); G1c's transactions each read
    // the other's row from before the other's write (write skew: G2-item).
    Row { target: Target::Postgres,  level: RU,  outcomes: [B, S, S, S, B, A, A, A, A, A, A, A], unserializable: ALL_BUT_G0_G1A, actual: "monotonic atomic view (= read committed)" },
    Row { target: Target::Postgres,  level: RC,  outcomes: [B, S, S, S, B, A, A, A, A, A, A, A], unserializable: ALL_BUT_G0_G1A, actual: "monotonic atomic view" },
    // Repeatable read, G1c: no circular information flow, but write skew (G2-item), which snapshot
    // isolation allows.
    Row { target: Target::Postgres,  level: RR,  outcomes: [E, S, S, S, E, S, E, E, S, E, A, A], unserializable: &[Anomaly::G1c, Anomaly::G2Item, Anomaly::G2], actual: "snapshot isolation" },
    Row { target: Target::Postgres,  level: SER, outcomes: [E, S, S, E, E, S, E, E, S, E, E, E], unserializable: NONE, actual: "serializable (SSI)" },
    // PMP-write: T2 reads T1's uncommitted row 1 = 20, deletes it after T1 commits, and then
    // finds nothing: T1 then T2.
    Row { target: Target::Mysql,     level: RU,  outcomes: [B, A, A, A, A, A, B, A, A, A, A, A], unserializable: &[Anomaly::G1a, Anomaly::G1b, Anomaly::G1c, Anomaly::Otv, Anomaly::Pmp, Anomaly::P4, Anomaly::GSingle, Anomaly::GSingleWrite, Anomaly::G2Item, Anomaly::G2], actual: "read uncommitted" },
    // G1b / G1c / OTV as for PostgreSQL read committed. PMP-write: T2's read sees row 2 = 20
    // from before T1; its delete waits for T1, then deletes row 1 (20 after T1's +10): the two
    // predicate reads of `value = 20` have different preceders.
    Row { target: Target::Mysql,     level: RC,  outcomes: [B, S, S, S, B, A, A, A, A, A, A, A], unserializable: ALL_BUT_G0_G1A, actual: "monotonic atomic view" },
    // G1c: write skew from snapshot reads, as for PostgreSQL repeatable read.
    Row { target: Target::Mysql,     level: RR,  outcomes: [B, S, S, S, B, S, A, A, S, A, A, A], unserializable: &[Anomaly::G1c, Anomaly::PmpWrite, Anomaly::P4, Anomaly::GSingleWrite, Anomaly::G2Item, Anomaly::G2], actual: "monotonic atomic view (snapshot reads, current-row writes)" },
    Row { target: Target::Mysql,     level: SER, outcomes: [B, B, B, E, B, B, B, E, B, E, E, E], unserializable: NONE, actual: "serializable (two-phase locking)" },
];

/// A cell of Hermitage's published summary table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// ✓: the level prevents the anomaly.
    Prevented,
    /// —: the level does not prevent it.
    Allowed,
    /// R/O: prevented in a read-only transaction, not when the transaction writes (PMP-write,
    /// G-single-write).
    ReadOnly,
}

/// Hermitage's published summary table (README of <https://github.com/ept/hermitage>, commit
/// `000346ffae2963d257553bc34a67cbbee23c3d0b`, PostgreSQL 9.3 and MySQL 5.6 InnoDB), for the
/// targets this suite runs. Columns: G0 G1a G1b G1c OTV PMP P4 G-single G2-item G2. A test
/// checks [`MATRIX`] against it: ✓ means both variants of the column (PMP and PMP-write, G-single
/// and G-single-write) are prevented, — that the plain one is allowed, R/O that the plain one is
/// prevented and the write one allowed.
#[rustfmt::skip]
pub const HERMITAGE_PUBLISHED: &[(Target, IsolationLevel, [Published; 10])] = {
    use Published::{Allowed as N, Prevented as Y, ReadOnly as R};
    &[
        //                                G0 G1a G1b G1c OTV PMP P4 Gs G2i G2
        (Target::Postgres, RC,  [Y, Y, Y, Y, Y, N, N, N, N, N]),
        (Target::Postgres, RR,  [Y, Y, Y, Y, Y, Y, Y, Y, N, N]),
        (Target::Postgres, SER, [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y]),
        (Target::Mysql,    RU,  [Y, N, N, N, N, N, N, N, N, N]),
        (Target::Mysql,    RC,  [Y, Y, Y, Y, Y, N, N, N, N, N]),
        (Target::Mysql,    RR,  [Y, Y, Y, Y, Y, R, N, R, N, N]),
        (Target::Mysql,    SER, [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y]),
    ]
};

/// The columns of [`HERMITAGE_PUBLISHED`]: each one's plain anomaly and, for PMP and G-single,
/// its write variant.
pub const PUBLISHED_COLUMNS: [(Anomaly, Option<Anomaly>); 10] = [
    (Anomaly::G0, None),
    (Anomaly::G1a, None),
    (Anomaly::G1b, None),
    (Anomaly::G1c, None),
    (Anomaly::Otv, None),
    (Anomaly::Pmp, Some(Anomaly::PmpWrite)),
    (Anomaly::P4, None),
    (Anomaly::GSingle, Some(Anomaly::GSingleWrite)),
    (Anomaly::G2Item, None),
    (Anomaly::G2, None),
];

/// The expected outcome of one cell.
///
/// # Panics
/// If the matrix lacks the (target, level) row (a test checks that it has all of them).
pub fn expected(target: Target, level: IsolationLevel, anomaly: Anomaly) -> Outcome {
    let row = MATRIX
        .iter()
        .find(|r| r.target == target && r.level == level)
        .unwrap_or_else(|| panic!("the matrix has no row for {target} {level}"));
    let col = Anomaly::ALL.iter().position(|a| *a == anomaly).unwrap_or(0);
    row.outcomes[col]
}

/// Whether the run of `anomaly`'s script at `level` on `target` is expected to have a
/// serializable history (the matrix's separate column).
///
/// # Panics
/// If the matrix lacks the (target, level) row.
pub fn expected_serializable(target: Target, level: IsolationLevel, anomaly: Anomaly) -> bool {
    let row = MATRIX
        .iter()
        .find(|r| r.target == target && r.level == level)
        .unwrap_or_else(|| panic!("the matrix has no row for {target} {level}"));
    !row.unserializable.contains(&anomaly)
}

/// Backend-specific SQL the fault-injection tests need: how to learn a connection's server-side
/// id, how to kill it from another connection, and how to see that it is gone. `None` for
/// SQLite, which has no server.
#[derive(Debug, Clone, Copy)]
pub struct KillHooks {
    /// A query returning the current connection's id as one integer.
    pub own_id: &'static str,
    /// A statement killing the connection whose id is `{id}` (an integer read from the server).
    pub kill: &'static str,
    /// A query with one parameter, the id, counting the server's connections with that id.
    pub alive: &'static str,
}

/// The fault-injection hooks of a harness backend.
pub fn kill_hooks(backend: &str) -> Option<KillHooks> {
    match backend {
        "postgres" => Some(KillHooks {
            own_id: "SELECT CAST(pg_backend_pid() AS BIGINT)",
            kill: "SELECT pg_terminate_backend({id})",
            alive: "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1",
        }),
        "mysql" => Some(KillHooks {
            own_id: "SELECT CAST(CONNECTION_ID() AS SIGNED)",
            kill: "KILL {id}",
            alive: "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
        }),
        _ => None,
    }
}

/// The configurations (a label and the URL options added) under which the durability kill loop
/// runs on a backend: its default one, and for SQLite (whose default is WAL) the rollback
/// journal too.
pub fn durability_variants(backend: &str) -> &'static [(&'static str, &'static [(&'static str, &'static str)])] {
    match backend {
        "sqlite" => &[("wal (default)", &[]), ("rollback journal", &[("journal_mode", "delete")])],
        _ => &[("default", &[])],
    }
}

/// Known gaps: (backend, scenario, why). A scenario listed here still runs; its failure is
/// reported as `KNOWN GAP …` on stderr instead of failing the test, and its success fails the
/// test so the entry gets removed (SQLAlchemy's "expected failures").
pub const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// The known gap of a scenario on a backend, if any.
pub fn known_gap(backend: &str, scenario: &str) -> Option<&'static str> {
    KNOWN_GAPS.iter().find(|(b, s, _)| *b == backend && *s == scenario).map(|(_, _, why)| *why)
}
