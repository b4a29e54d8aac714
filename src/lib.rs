//! # Athanor
//!
//! A SQLAlchemy-style ORM for Rust: one codebase on SQLite, PostgreSQL and MySQL/MariaDB, chosen
//! by the engine URL at run time and by cargo features at build time.
//!
//! ```
//! use athanor::prelude::*;
//!
//! #[derive(Model, Debug, Clone, PartialEq)]
//! #[model(table = "customers")]
//! pub struct Customer {
//!     #[column(primary_key)]
//!     pub id: Option<i64>,
//!     pub name: String,
//!     pub age: i32,
//! }
//!
//! # fn main() -> athanor::Result<()> {
//! let engine = create_engine("sqlite::memory:")?;      // connects on first use
//! let base = Base::new().register::<Customer>();
//! base.metadata().create_all(&engine)?;
//!
//! let session = sessionmaker(&engine).session();
//! let ann = session.add(Customer { id: None, name: "ann".into(), age: 41 });
//! session.commit()?;
//! assert!(ann.get().id.is_some());                   // generated key written back
//!
//! let adults = session.query::<Customer>().filter(Customer::age.ge(18)).order_by(Customer::name.asc()).all()?;
//! assert_eq!(adults.len(), 1);
//! # Ok(()) }
//! ```
//!
//! ## Backends and features
//!
//! | feature | URL schemes | driver |
//! |---|---|---|
//! | `sqlite` (default) | `sqlite:` (also `sqlite+pysqlite:`) | rusqlite, bundled SQLite |
//! | `postgres` | `postgres:`, `postgresql:` (also `postgresql+psycopg2:`, `postgresql+psycopg:`) | postgres |
//! | `mysql` | `mysql:`, `mariadb:` (also `mysql+pymysql:`, `mysql+mysqldb:`) | mysql (pure Rust) |
//!
//! A URL whose backend is not compiled in fails with [`Error::Config`] naming the feature to enable;
//! so does a `+driver` suffix not in this table (`postgresql+asyncpg:`).
#![cfg_attr(test, allow(clippy::unwrap_used))]
//!
//! ## What is where
//!
//! The top level (`athanor::…`) is what a program using Athanor needs: engines and connections,
//! sessions and queries, models and their metadata, expressions, values, errors. [`prelude`] is
//! the usual subset. [`sql`] builds SELECT statements without a session and holds the untyped
//! syntax tree; [`schema`] the catalog (`TableDef`, `ColumnDef`, `SqlType`, …); [`backend`] is the
//! API for writing a backend or a dialect (drivers, raw connections, SQL writers, DDL helpers,
//! `Dialect`, `Capabilities`); programs do not need it. The tools are modules of their own:
//! [`reflect`], [`copy`], `migrate` (feature `migrate`), `cli` (feature `cli`).

/// Exact decimals: the numeric text order SQLite's decimal columns use.
pub use athanor_core::decimal;
/// `Json<T>`, a field stored as a JSON document (cargo feature `json`).
#[cfg(feature = "json")]
pub use athanor_core::json::{self, Json};
/// Reflection: a live database's tables, columns, keys, constraints and indexes, and their
/// differences from the models.
pub use athanor_core::reflect;
/// `rust_decimal::Decimal`, a field stored as an exact decimal (cargo feature `decimal`); its
/// `dec!` macro needs the `rust_decimal_macros` crate, or write `Decimal::new(150, 2)`.
#[cfg(feature = "decimal")]
pub use athanor_core::rust_decimal::Decimal;
/// The `serde_json` crate the `json` feature maps (`athanor::serde_json::json!`).
#[cfg(feature = "json")]
pub use athanor_core::serde_json;
/// Instants as stored: microseconds since the Unix epoch, the portable range, the text form.
pub use athanor_core::temporal;
pub use athanor_core::RetryError;
/// What an [`Error::Timeout`] bounded (a statement's run time or a lock wait).
pub use athanor_core::TimeoutKind;
/// SQL functions with one result type on every database: `func::count(Post::id)`.
pub use athanor_orm::func;
// Engines, connections, values, errors: athanor-core.
pub use athanor_core::{
    params, ColumnValue, Connection, ConsistencyToken, DbNewtype, Engine, EngineConfig, Error, ErrorSource, FromValue,
    IntegrityKind, IsolationLevel, MetaData, ReplicaMetrics, Result, ResultRow, SqlField, StatementEvent,
    StatementMark, ToValue, TxOptions, Value, ValueRef,
};
pub use athanor_core::{text, Text};
// Models, sessions, queries and expressions: athanor-orm.
/// The join list of a dynamic query, `Query<'_, M, Dynamic>` (`Query::into_dynamic`).
pub use athanor_orm::Dynamic;
pub use athanor_orm::{
    alias, and_, case, exists, not_, not_exists, or_, select, select_columns, select_from, sessionmaker, AliasName,
    Aliased, Assignable, Base, Case, CaseStart, CastTo, Column, ColumnQuery, ColumnSelect, Comparable, CompoundPart,
    CompoundQuery, CompoundSelect, Condition, Correlated, Derived, Divisible, Executable, ExprOrdering, FromSubquery,
    GroupKeys, Handle, InQuery, InValues, IntoOrderKey, IntoPrimaryKey, IntoScalar, IntoSubquery, Joinable, Joined,
    MergeOptions, Model, NestedTransaction, Nullable, Numeric, ObjectState, OrderKeys, Ordering, Query, RowItems,
    ScalarExecutable, ScalarExpr, Select, SelectItem, Selection, SelectionIn, Session, SessionConfig, SessionMaker,
    Source, Subquery, TableSource, TextColumn, Textual, TypedRows, TypedText, Values,
};

// Relationships and their loading; bulk statements.
/// A loaded object graph as a `Send + Sync + 'static` value (cargo feature `serde`,
/// docs/serde.md): `handle.to_owned_tree()?`, `Detached::from_handles(&rows)?`.
#[cfg(feature = "serde")]
pub use athanor_orm::Detached;
pub use athanor_orm::{
    defaultload, joinedload, lazyload, raiseload, selectinload, BelongsTo, Cascade, ColumnList, HasMany, Insert,
    LazyLoads, Load, LoadStrategy, Many, ManyToMany, OnConflict, One, RelKind, Relationship, Rows, Synchronize,
    UpdateSet,
};
/// Streaming iterators (`Query::iter`, `ColumnQuery::iter`).
pub use athanor_orm::{Change, ColumnIter, EntityPart, Events, QueryEntities, QueryIter, DEFAULT_YIELD_PER};
/// Copying a live database into another of any kind (`athanor copy`).
pub use athanor_tools::copy;
/// Portable migrations (cargo feature `migrate`): see [`athanor_tools::migrate`], and
/// docs/migrations.md.
#[cfg(feature = "migrate")]
pub mod migrate {
    pub use athanor_tools::migrate::*;

    /// The migration files (`*.json`) of a directory, relative to the crate's `Cargo.toml`,
    /// compiled into the program as an [`EmbeddedMigrations`], in file-name order: a service
    /// brings its database up to date at startup with no files beside it.
    ///
    /// ```no_run
    /// // `migrations/` beside your Cargo.toml; here, this crate's test fixtures.
    /// static MIGRATIONS: athanor::migrate::EmbeddedMigrations = athanor::migrate::embedded!("tests/fixtures/migrations");
    ///
    /// fn main() -> athanor::Result<()> {
    ///     let engine = athanor::create_engine("sqlite://app.db")?;
    ///     MIGRATIONS.upgrade(&engine)?; // one instance migrates, the others wait and find it done
    ///     Ok(())
    /// }
    /// ```
    ///
    /// An edited file rebuilds the program (`include_str!`); a file added to the directory does
    /// not by itself, as with every macro that lists a directory on stable Rust: add a build
    /// script with `println!("cargo:rerun-if-changed=migrations");`. A missing directory is a
    /// compile error; the files are parsed, and their chain checked, when the program reads them
    /// ([`EmbeddedMigrations::chain`], which `upgrade` calls) — a test that calls it catches a
    /// broken file before it ships.
    pub use athanor_derive::embed_migrations as embedded;
}

/// Models as serde sees them (cargo feature `serde`; docs/serde.md has the whole story and the
/// serialized form of every field type).
///
/// `#[derive(Model, Serialize, Deserialize)]` works on a model with relationship fields: a
/// loaded relationship serializes nested (a `BelongsTo` as the object or `null`, a `HasMany` or
/// `ManyToMany` as an array); one not loaded as `null`, or not at all with
/// `#[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]`; a back-reference to an
/// object being serialized (`book.author` inside `author.books`) as not loaded, so cycles end.
/// Deserializing, `null` or an absent field is "not loaded" and a nested value a new object,
/// which `Session::add` adds with its owner.
///
/// ```
/// use athanor::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
/// #[model(table = "authors")]
/// pub struct Author {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     pub name: String,
///     #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
///     #[relationship(back_populates = "author")]
///     pub books: HasMany<Book>,
/// }
///
/// #[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
/// #[model(table = "books")]
/// pub struct Book {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     #[column(foreign_key = "authors.id")]
///     pub author_id: Option<i64>,
///     pub title: String,
///     #[relationship(back_populates = "books")]
///     pub author: BelongsTo<Author>,
/// }
///
/// # fn main() -> athanor::Result<()> {
/// let engine = create_engine("sqlite::memory:")?;
/// Base::new().register::<Author>().register::<Book>().metadata().create_all(&engine)?;
/// let s = sessionmaker(&engine).session();
/// let ann = s.add(Author { name: "Ann".into(), ..Default::default() });
/// s.add(Book { title: "Dune".into(), author: BelongsTo::to(&ann), ..Default::default() });
/// s.commit()?;
///
/// let books = s.query::<Book>().options(selectinload(Book::author)).all()?;
/// let json = athanor::serde_json::to_string(&books).unwrap();
/// assert_eq!(json, r#"[{"id":1,"author_id":1,"title":"Dune","author":{"id":1,"name":"Ann"}}]"#);
///
/// // The same, as an owned value another thread serializes.
/// let owned = athanor::Detached::from_handles(&books)?;
/// let there = std::thread::spawn(move || athanor::serde_json::to_string(&owned).unwrap());
/// assert_eq!(there.join().unwrap(), json);
/// # Ok(()) }
/// ```
#[cfg(feature = "serde")]
pub mod serialization {
    pub use athanor_orm::serialization::{is_unloaded, Detached, SerializedRelation};
}

pub mod admin;
#[cfg(feature = "cli")]
pub mod cli;
pub mod testing;

/// Statement telemetry (docs/observability.md): every statement is a `tracing` span named
/// `db.statement` of target [`SQL_TARGET`](telemetry::SQL_TARGET), with OpenTelemetry's stable
/// database attributes; these are the helpers that name it, and the pool's gauges
/// ([`Engine::pool_metrics`]).
pub mod telemetry {
    pub use athanor_core::{error_type, summarize, system_name, PoolMetrics, SQL_TARGET};
}

/// The three dialects, to render a session-free statement for any database without its backend
/// compiled in: `athanor::select::<User>().to_sql(&athanor::dialects::PostgresDialect)`.
pub mod dialects {
    pub use athanor_dialects::{MySqlDialect, PostgresDialect, SqliteDialect};
}
/// One `#[test]` per backend around a function that takes an [`Engine`] on a fresh database of
/// its own (docs/testing.md; the runtime and its skip rule are [`testing`]'s):
///
/// ```
/// use athanor::prelude::*;
///
/// #[derive(Model)]
/// #[model(table = "notes")]
/// pub struct Note {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     pub text: String,
/// }
///
/// pub fn base() -> Base {
///     Base::new().register::<Note>()
/// }
///
/// // Tests `saves::sqlite`, `saves::postgres` and `saves::mysql`; each gets its own database
/// // (from `ATHANOR_TEST_<BACKEND>_URL`; SQLite: a temporary file) with `base()`'s tables.
/// #[athanor::test(backends(sqlite, postgres, mysql), base = base)]
/// fn saves(engine: Engine) -> athanor::Result<()> {
///     let session = sessionmaker(&engine).session();
///     session.add(Note { id: None, text: "hi".into() });
///     session.commit()
/// }
/// # fn main() {}
/// ```
///
/// Arguments: `backends(…)` (default all three), `base = path` (a `fn() -> Base`) or
/// `migrations = "dir"` (applied with feature `migrate`; relative to the crate's manifest), and
/// `keep_on_failure` (a failed test's database stays, named by a `KEPT` line).
///
/// A module that glob-imports the crate root (`use athanor::*;`) sees two `test` attributes; it
/// names the built-in one with `use core::prelude::v1::test;` (the prelude has no `test`).
pub use athanor_derive::test;
pub use athanor_derive::{DbEnum, Model};

/// Everything a program using Athanor usually needs.
pub mod prelude {
    pub use crate::{
        alias, and_, case, create_engine, defaultload, exists, func, joinedload, lazyload, not_, not_exists, or_,
        params, raiseload, select, select_columns, selectinload, sessionmaker, text, AliasName, Aliased, Base,
        BelongsTo, Connection, DbEnum, DbNewtype, Engine, Error, Handle, HasMany, IsolationLevel, Joinable, LazyLoads,
        ManyToMany, Model, Query, Result, Rows, Session, SessionMaker, TextColumn, TxOptions, TypedText, Value,
    };
}

/// SELECT statements built without a session and rendered by a dialect:
/// `sql::select::<Customer>().filter(…).to_sql(engine.dialect())`,
/// `sql::select_columns((User::name, func::count(Post::id))).join(User::posts).group_by(User::name)`,
/// and their UNIONs.
///
/// The untyped syntax tree the typed expressions build ([`sql::Expr`], [`sql::Scalar`], …) is
/// here too, for code that inspects or assembles statements as data.
pub mod sql {
    pub use athanor_core::sql::ast::{
        ArithOp, CastType, CmpOp, ColumnRef, DatePart, DecimalFunc, Expr, NullsOrder, NumberKind, Operand, OrderKey,
        Scalar, SqlFunc,
    };
    pub use athanor_core::sql::select::{CompoundStatement, DerivedTable, FromQuery, SetOperator, SubqueryStatement};
    pub use athanor_core::sql::{text, SelectStatement, Statement, Text};
    pub use athanor_orm::{select, select_columns, select_from, ColumnSelect, CompoundSelect, FromSubquery, Select};
}

/// The catalog: tables and columns as plain `'static` data ([`schema::TableDef`],
/// [`schema::ColumnDef`], …) as `#[derive(Model)]` writes them and reflection reads them, the
/// portable column types ([`schema::SqlType`]), and relationship descriptions.
pub mod schema {
    pub use athanor_core::{ColumnDef, ConstraintDef, DefaultValue, ForeignKeyDef, SqlType, TableDef};
    pub use athanor_orm::{RelationKind, RelationshipDef};
}

/// The API for implementing a backend (a [`Driver`](backend::Driver) and its
/// [`RawConnection`](backend::RawConnection)) or a [`Dialect`](backend::Dialect): what
/// `athanor-sqlite`, `athanor-postgres` and `athanor-mysql` use. Programs using Athanor do not
/// need it. (Backend crates depend on `athanor-core`, where the same items live at the top
/// level.)
pub mod backend {
    /// The `statement_timeout` / `lock_timeout` URL options every backend applies.
    pub use athanor_core::Timeouts;
    pub use athanor_core::{
        ansi_column_type, create_table_statements, drop_table_statement, percent_decode, quoted, write_ansi_literal,
        write_ident_list, Backend, BatchUpdate, Capabilities, ConnectDeadline, ConnectOptions, DbError, Dialect,
        Driver, KeyRecovery, LexicalForms, RawConnection, Row, DEFAULT_CONNECT_TIMEOUT, ENGINE_OPTIONS,
    };
    /// For a [`Model`](crate::Model) written by hand: read a cell as a field, check a
    /// generated key (what `#[derive(Model)]` writes).
    pub use athanor_orm::{decode_cell, generated_key};

    /// The SQL writer and the statement builders the session uses ([`sql::SqlWriter`],
    /// [`sql::insert`], [`sql::update`], …).
    pub mod sql {
        pub use athanor_core::sql::*;
    }

    /// The backends compiled into this build, by cargo feature.
    pub const BACKENDS: &[Backend] = &[
        #[cfg(feature = "sqlite")]
        athanor_sqlite::backend(),
        #[cfg(feature = "postgres")]
        athanor_postgres::backend(),
        #[cfg(feature = "mysql")]
        athanor_mysql::backend(),
    ];

    /// The backends compiled into this build.
    pub fn backends() -> Vec<Backend> {
        BACKENDS.to_vec()
    }
}

/// What the code generated by `#[derive(Model)]` names besides the public API. Not a public
/// API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use athanor_core::Row;
    pub use athanor_orm::relation::{
        association_column, column_position, find_foreign_key, has_relationship, referenced_column, single_primary_key,
        FK_AMBIGUOUS, FK_NONE,
    };
    pub use athanor_orm::{
        check_field, decode_cell, decode_value, generated_key, set_field, AnyRelation, Cells, ModelMarker,
    };
    // Everything else the derives name: generated code uses only `::athanor::__private::…` paths,
    // so the facade's top level can change without breaking it.
    pub use athanor_core::{
        ColumnDef, ColumnValue, DefaultValue, Error, ForeignKeyDef, FromValue, Result, SqlField, SqlType, TableDef,
        Value, ValueRef,
    };
    /// `#[db_enum(serde)]`.
    #[cfg(feature = "serde")]
    pub use athanor_orm::__serde as serde;
    pub use athanor_orm::{
        Cascade, Column, LoadStrategy, Loaders, Many, Model, ModelRef, One, RelationKind, Relationship, RelationshipDef,
    };
    // `#[athanor::test]`.
    pub use crate::testing::{run as test_run, Setup as TestSetup, TestOptions};
}

/// Which cargo feature provides each URL scheme (including backends not compiled in, so the error
/// can name the feature).
const SCHEME_FEATURES: &[(&str, &str)] = &[
    ("sqlite", "sqlite"),
    ("postgres", "postgres"),
    ("postgresql", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
];

fn open_driver(options: &backend::ConnectOptions) -> Result<std::sync::Arc<dyn backend::Driver>> {
    let compiled = backend::backends();
    match compiled.iter().find(|b| b.schemes.contains(&options.scheme.as_str())) {
        Some(b) => {
            check_driver_hint(b, options)?;
            (b.open)(options)
        }
        None => Err(no_backend_error(&options.scheme, &compiled)),
    }
}

/// Refuse a `+driver` suffix the backend does not list ([`backend::Backend::drivers`]): a URL
/// written for another driver (`postgresql+asyncpg://`) is not silently read as if it named none.
fn check_driver_hint(b: &backend::Backend, options: &backend::ConnectOptions) -> Result<()> {
    match options.driver_hint.as_deref() {
        Some(d) if !b.drivers.contains(&d) => Err(Error::Config {
            message: format!(
                "unknown driver {d:?} in the URL scheme {scheme}+{d}: Athanor's {name} backend accepts {accepted}, \
                 or no +driver at all",
                scheme = options.scheme,
                name = b.name,
                accepted = if b.drivers.is_empty() {
                    "no +driver suffix".to_string()
                } else {
                    b.drivers.iter().map(|x| format!("{}+{x}", options.scheme)).collect::<Vec<_>>().join(", ")
                },
            ),
        }),
        _ => Ok(()),
    }
}

/// The error for a scheme no compiled-in backend accepts: names the cargo feature when the
/// scheme is known, lists the compiled-in schemes otherwise.
fn no_backend_error(scheme: &str, compiled: &[backend::Backend]) -> Error {
    match SCHEME_FEATURES.iter().find(|(s, _)| *s == scheme) {
        Some((_, feature)) => Error::Config {
            message: format!(
                "the {feature} backend is not compiled in: enable the `{feature}` cargo feature of athanor \
                 (athanor = {{ version = \"…\", features = [\"{feature}\"] }}) to use {scheme}:// URLs"
            ),
        },
        None => {
            let known: Vec<&str> = compiled.iter().flat_map(|b| b.schemes.iter().copied()).collect();
            Error::Config {
                message: format!(
                    "unknown database URL scheme {scheme:?}; this build knows: {}",
                    if known.is_empty() { "none (enable a backend feature)".to_string() } else { known.join(", ") }
                ),
            }
        }
    }
}

/// Create an engine from a URL. Never connects: the first `connect()`/`execute()` does.
///
/// URLs: `sqlite://relative.db`, `sqlite:///absolute.db`, `sqlite::memory:` (also `sqlite://`
/// and `sqlite:///:memory:`), `postgres://user:pass@host:5432/db`, `mysql://user@host/db`,
/// `mariadb://…`; the SQLAlchemy spellings `postgresql+psycopg2://…`, `postgresql+psycopg://…`,
/// `mysql+pymysql://…`, `mysql+mysqldb://…` and `sqlite+pysqlite://…` work too (another
/// `+driver` is refused). Query options: `pool_size`, `pool_timeout` (seconds), `pool_pre_ping`, `echo`,
/// `isolation_level`, `replicas=host:port,…` (read replicas, docs/scaling.md), and backend
/// options documented by each backend.
///
/// # Errors
/// [`Error::Config`] for a malformed URL, an unknown scheme or `+driver` suffix, a backend not
/// compiled in (naming the feature) or a bad option; [`Error::Unsupported`] for `replicas` on a
/// database without replication (SQLite).
pub fn create_engine(url: &str) -> Result<Engine> {
    create_engine_with(url, |_| {})
}

/// [`create_engine`], then adjust the settings read from the URL in code.
///
/// ```
/// let engine = athanor::create_engine_with("sqlite::memory:", |c| c.echo = true).unwrap();
/// assert!(engine.config().echo);
/// ```
pub fn create_engine_with(url: &str, configure: impl FnOnce(&mut EngineConfig)) -> Result<Engine> {
    let options = backend::ConnectOptions::parse(url)?;
    let mut config = EngineConfig::from_options(&options)?;
    configure(&mut config);
    let driver = open_driver(&options)?;
    let hosts = athanor_core::engine::replica_hosts(&options)?;
    let engine = Engine::new(driver, &options, config.clone())?;
    if !hosts.is_empty() {
        // Each replica: the primary's URL with its host and port, its own pool.
        let mut replicas = Vec::with_capacity(hosts.len());
        for (host, port) in hosts {
            let mut o = options.clone();
            o.host = Some(host);
            o.port = port.or(options.port);
            o.options.retain(|(k, _)| k != "replicas");
            replicas.push(Engine::new(open_driver(&o)?, &o, config.clone())?);
        }
        engine.attach_replicas(replicas)?;
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;
    // The built-in `#[test]`, not the glob-imported `athanor::test`.
    use ::core::prelude::v1::test;

    #[test]
    fn missing_backend_names_the_feature() {
        for (scheme, feature) in [("postgresql", "postgres"), ("mariadb", "mysql"), ("sqlite", "sqlite")] {
            let e = no_backend_error(scheme, &[]);
            let msg = e.to_string();
            assert!(matches!(e, Error::Config { .. }));
            assert!(msg.contains(&format!("`{feature}` cargo feature")), "{msg}");
        }
    }

    #[test]
    fn unknown_driver_suffixes_are_refused() {
        for url in [
            "sqlite+anything://x.db",
            "sqlite+://x.db",
            "postgresql+asyncpg://u:p@h/db",
            "postgres+pymysql://h/db",
            "mysql+psycopg2://h/db",
            "mariadb+asyncmy://h/db",
        ] {
            match create_engine(url) {
                Err(Error::Config { message }) => assert!(message.contains("unknown driver"), "{url}: {message}"),
                other => panic!("{url}: expected a Config error, got {other:?}"),
            }
        }
        for url in ["sqlite+pysqlite://", "sqlite://", "SQLite+PySQLite://"] {
            create_engine(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        #[cfg(feature = "postgres")]
        for url in ["postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db", "postgres://u@h/db"] {
            create_engine(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        #[cfg(feature = "mysql")]
        for url in ["mysql+pymysql://u@h/db", "mysql+mysqldb://u@h/db", "mariadb+pymysql://u@h/db"] {
            create_engine(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    /// A failed connect, the engine and its driver never show the password (nothing listens on
    /// port 1, so each connect fails at once).
    #[test]
    fn connect_errors_and_debug_never_show_the_password() {
        let mut urls = vec!["sqlite:ann:Pw-s3cr3t-X@h"];
        if cfg!(feature = "postgres") {
            urls.push("postgresql+psycopg2://ann:Pw-s3cr3t-X@127.0.0.1:1/db?connect_timeout=2");
        }
        if cfg!(feature = "mysql") {
            urls.push("mysql://ann:Pw-s3cr3t-X@127.0.0.1:1/db?connect_timeout=2");
        }
        for url in urls {
            let shown = match create_engine(url) {
                Err(e) => format!("{e} {e:?}"),
                Ok(engine) => {
                    let e = engine.connect().expect_err("nothing listens there");
                    format!("{e} {e:?} {engine:?} {}", engine.url())
                }
            };
            assert!(!shown.contains("s3cr3t"), "{url}: {shown}");
        }
    }

    #[test]
    fn unknown_scheme_lists_known_ones() {
        let msg = no_backend_error("oracle", &backend::backends()).to_string();
        assert!(msg.contains("\"oracle\""), "{msg}");
        assert!(msg.contains("sqlite"), "{msg}");
    }
}
