//! `#[derive(Model)]` for Athanor: maps a struct with named fields to a table.
//!
//! Use it through the `athanor` crate (`use athanor::Model;`), which documents the attributes.
//! This crate is a thin shim: [`model`] parses and checks the input, [`expand`] writes the code;
//! both are plain functions over `proc_macro2` tokens, unit-tested here.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod db_enum;
mod embed;
mod expand;
mod features;
mod known;
mod model;
mod relationship;
mod test_attr;

use proc_macro::TokenStream;

/// Map a struct to a database table: implements `athanor::Model` and adds a typed column handle
/// per field (`Customer::age`, an `athanor::Column<Customer, i32>`).
///
/// ```
/// use athanor::Model;
///
/// #[derive(Model)]
/// #[model(table = "customers")]            // required
/// pub struct Customer {
///     #[column(primary_key)]               // at least one; Option<i16|i32|i64> alone = generated key
///     pub id: Option<i64>,
///     pub name: String,                    // NOT NULL
///     pub address: Option<String>,         // NULL allowed
///     #[column(unique, length = 255)]      // uq_customers_email, VARCHAR(255)
///     pub email: String,
///     #[column(index, default = 18)]       // ix_customers_age, DEFAULT 18
///     pub age: i32,
///     #[column(foreign_key = "customers.id", name = "parent_id")]
///     pub parent: Option<i64>,
/// }
///
/// assert_eq!(Customer::TABLE.columns[5].name, "parent_id");
/// let adults = Customer::age.ge(18); // a Condition<Customer>; `Customer::age.ge("x")` does not compile
/// # let _ = adults;
/// ```
///
/// Column attributes: `primary_key`, `unique`, `index`, `length = N` (String columns only),
/// `default = <integer | float | string | bool literal>` (checked against the field's type),
/// `foreign_key = "table.column"`, `name = "db_name"` (default: the field's name), and
/// `autoincrement = false` to supply a single integer key yourself (the field is then not an
/// `Option`). Field types: `bool i16 i32 i64 u8 u16 u32 f32 f64 String Vec<u8>`, the
/// feature-gated `uuid::Uuid` and date/time types of jiff, chrono and time, `#[derive(DbEnum)]`
/// enums, `DbNewtype` types, and `Option` of each (see `docs/types.md`); a primary key is never
/// NULL. Composite keys: mark several fields `primary_key`.
///
/// Relationship fields (`athanor::HasMany<T>`, `BelongsTo<T>`, `ManyToMany<T>`) are not columns;
/// each gets a typed handle (`User::posts`, an `athanor::Relationship`) for `Session::related`
/// and loader options, and takes `#[relationship(back_populates = "…", foreign_key = "…",
/// secondary = "…", secondary_columns = "a, b", cascade = "…", order_by = "…", lazy = "…")]`.
/// The foreign key is found at compile time from the two models' `foreign_key` columns; a
/// missing or ambiguous one fails the build naming both models. See the `athanor` crate's
/// `docs/relationships.md`.
///
/// ```
/// use athanor::prelude::*;
///
/// #[derive(Model, Default)]
/// #[model(table = "authors")]
/// pub struct Author {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     #[relationship(back_populates = "author", cascade = "all, delete-orphan")]
///     pub books: HasMany<Book>,
/// }
///
/// #[derive(Model, Default)]
/// #[model(table = "books")]
/// pub struct Book {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     #[column(foreign_key = "authors.id")]
///     pub author_id: Option<i64>,
///     #[relationship(back_populates = "books")]
///     pub author: BelongsTo<Author>,
/// }
///
/// assert_eq!(Author::RELATIONSHIPS[0].target.table().name, "books");
/// assert_eq!(Book::TABLE.columns.len(), 2); // relationship fields are not columns
/// ```
#[proc_macro_derive(Model, attributes(model, column, relationship))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// A Rust enum of unit variants as a column type (`#[derive(DbEnum)]`): stored as text, the
/// variant's name (or `#[db_enum(rename = "…")]`), in a `VARCHAR` as long as the longest; or,
/// with `#[db_enum(int)]` on the enum, as an integer (the variant's explicit discriminant, else
/// its position). The column gets `CHECK (col IN (…))` listing the values, so another client
/// cannot store a value the enum does not have; a value that is not a variant reads as
/// `Error::TypeMismatch` naming the column.
///
/// With athanor's cargo feature `serde`, `#[db_enum(serde)]` on the enum also derives serde's
/// `Serialize` and `Deserialize` as the value is stored: `"live"` for `Published` below, `10` for
/// `Priority::High` (docs/serde.md); serde's own derive would write the variant's name.
///
/// ```
/// use athanor::{DbEnum, Model};
///
/// #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
/// pub enum Status {
///     Draft,
///     #[db_enum(rename = "live")]
///     Published,
/// }
///
/// #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
/// #[db_enum(int)]
/// pub enum Priority { Low = 1, High = 10 }
///
/// #[derive(Model)]
/// #[model(table = "articles")]
/// pub struct Article {
///     #[column(primary_key)]
///     pub id: Option<i64>,
///     pub status: Status,
///     pub priority: Option<Priority>,
/// }
///
/// let drafts = Article::status.eq(Status::Draft);
/// # let _ = drafts;
/// assert_eq!(Article::TABLE.columns[1].length, Some(5));
/// ```
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    db_enum::derive(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The migration files of a directory (relative to the crate's manifest) compiled into the
/// program: an `athanor::migrate::EmbeddedMigrations`. Used as `athanor::migrate::embedded!`,
/// which documents it (and docs/migrations.md).
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// One `#[test]` per backend around a function that takes an `Engine` on a fresh database:
/// `#[athanor::test(backends(sqlite, postgres, mysql), base = app::base)]`. Used as
/// `athanor::test`, which documents it (and docs/testing.md).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
