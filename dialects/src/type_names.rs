//! The one mapping from each database's type names to Athanor's portable types: the names its
//! catalog reports and the names other tools write in DDL (SQLAlchemy, Django, Rails, hand-written
//! `CREATE TABLE`s), read as the portable type whose values the column holds. Each dialect's
//! [`Dialect::portable_type`](athanor_core::Dialect::portable_type) is one of these functions,
//! and reflection, `reflect --rust`, `copy` and migrations all read type names through it.
//! docs/types.md ("Type names of databases Athanor did not create") is the table in prose, and
//! the tests below are its exact inputs and outputs.
//!
//! A name with no portable type is an `Err` with the reason (an array, a range, an interval …);
//! reflection keeps the reason with the column, and `reflect --rust` and `copy` refuse such a
//! column naming `table.column` and suggesting a `--type-map table.column=Type` override.
//!
//! Names arrive split by [`parse_type_name`] (lower case, arguments apart: `NUMERIC(10, 2)` →
//! `numeric`, `[10, 2]`), so spacing and case do not matter.

use athanor_core::reflect::{native, parse_type_name, NativeType};
use athanor_core::SqlType;

/// Why a type name has no portable type.
pub type Refusal = &'static str;

/// `true` when `args` is one argument, 32 or 36: `CHAR(32)` (a UUID's hex digits, as SQLAlchemy's
/// `Uuid` and Django's `UUIDField` store it without a native type) or `CHAR(36)` (with hyphens).
fn uuid_width(args: &[u32]) -> bool {
    matches!(args, [32] | [36])
}

/// SQLite: Athanor's own names, then the names other tools write (exact names, by convention),
/// then SQLite's own affinity rules (<https://sqlite.org/datatype3.html>, 3.1) for every other
/// name, so every declared name maps:
///
/// | declared name | portable type |
/// |---|---|
/// | `BOOLEAN`, `BOOL` | `Bool` |
/// | `DATETIME`, `TIMESTAMP`, `DATETIME2`, `SMALLDATETIME`, `TIMESTAMP WITHOUT TIME ZONE` | `DateTime` (civil: read as written, no zone) |
/// | `TIMESTAMPTZ`, `TIMESTAMP WITH TIME ZONE` | `Timestamp` |
/// | `DATE` | `Date` |
/// | `TIME` | `Time` |
/// | `NUMERIC(p,s)`, `DECIMAL(p,s)`, `NUMERIC`, `DECIMAL`, `MONEY` | `Decimal` (with `(p,s)` when given) |
/// | `UUID`, `GUID`, `UNIQUEIDENTIFIER`, `CHAR(32)`, `CHAR(36)` | `Uuid` |
/// | `JSON`, `JSONB` | `Json` |
/// | `ENUM('a', …)` | `Text` (the values are the column's allowed values) |
/// | `TINYINT UNSIGNED`, `SMALLINT UNSIGNED`, `INT UNSIGNED`, `UNSIGNED BIG INT` | `U8`, `U16`, `U32`, `U64` |
/// | any other name containing `INT` (`INTEGER`, `BIGINT`, `INT8`, `MEDIUMINT` …) | `BigInt` (INTEGER affinity: 64-bit) |
/// | containing `CHAR`, `CLOB` or `TEXT` (`VARCHAR(n)`, `NVARCHAR`, `CHARACTER(20)`) | `Text` (with `n`) |
/// | containing `BLOB`, or no name | `Blob` |
/// | containing `REAL`, `FLOA` or `DOUB` (`DOUBLE PRECISION`, `FLOAT`) | `Double` |
/// | anything else (NUMERIC affinity: `NUMBER`, `YEAR` …) | `Decimal` (as SQLAlchemy reads NUMERIC affinity) |
///
/// The affinity rules are SQLite's, in its order: `FLOATING POINT` holds `INT`, so it is an
/// integer, as SQLite stores it.
///
/// # Errors
/// Never: every name has an affinity. (The `Result` keeps the three functions alike.)
pub fn sqlite(name: &str) -> Result<NativeType, Refusal> {
    // `ENUM('a', …)` (a MySQL dump): text, its values the column's allowed values.
    if athanor_core::reflect::enum_values(name).is_some() {
        return Ok(native(SqlType::Text, &[]));
    }
    let (base, args) = parse_type_name(name);
    let t = match base.as_str() {
        // Athanor's own DDL names.
        "decimal_text" => SqlType::Decimal,
        "json_text" => SqlType::Json,
        "uuid_blob" => SqlType::Uuid,
        "timestamp_text" => SqlType::Timestamp,
        "date_text" => SqlType::Date,
        "datetime_text" => SqlType::DateTime,
        "time_text" => SqlType::Time,
        "tinyint unsigned" => SqlType::U8,
        "smallint unsigned" => SqlType::U16,
        "int unsigned" => SqlType::U32,
        "unsigned big int" | "bigint unsigned" => SqlType::U64,
        // Other tools' names.
        "boolean" | "bool" => SqlType::Bool,
        "datetime" | "timestamp" | "datetime2" | "smalldatetime" | "timestamp without time zone" => SqlType::DateTime,
        "timestamptz" | "timestamp with time zone" => SqlType::Timestamp,
        "date" => SqlType::Date,
        "time" | "time without time zone" => SqlType::Time,
        "numeric" | "decimal" | "money" => SqlType::Decimal,
        "uuid" | "guid" | "uniqueidentifier" => SqlType::Uuid,
        "char" | "character" | "nchar" if uuid_width(&args) => SqlType::Uuid,
        "json" | "jsonb" => SqlType::Json,
        // SQLite's affinity rules, in order.
        b if b.contains("int") => SqlType::BigInt,
        b if b.contains("char") || b.contains("clob") || b.contains("text") => SqlType::Text,
        b if b.is_empty() || b.contains("blob") => SqlType::Blob,
        b if b.contains("real") || b.contains("floa") || b.contains("doub") => SqlType::Double,
        _ => SqlType::Decimal,
    };
    Ok(native(t, &args))
}

/// PostgreSQL: `format_type`'s names (what reflection reads), the DDL spellings of them
/// (`int4`, `serial`, `varchar`, `timestamptz` …), and `enum('a', …)`, how the dialect's catalog
/// query reports a column of an enum type (its labels, read as the column's allowed values).
///
/// | catalog name | portable type |
/// |---|---|
/// | `boolean` | `Bool` |
/// | `smallint`, `integer`, `bigint` (and `smallserial`, `serial`, `bigserial`: identity and serial keys are generated) | `SmallInt`, `Integer`, `BigInt` |
/// | `real`, `double precision` | `Real`, `Double` |
/// | `text`, `character varying(n)`, `character(n)`, `citext`, `name`, an enum type | `Text` (with `n`; an enum's labels as allowed values) |
/// | `bytea` | `Blob` |
/// | `uuid` | `Uuid` |
/// | `timestamp with time zone` | `Timestamp` |
/// | `timestamp without time zone` | `DateTime` |
/// | `date`, `time without time zone` | `Date`, `Time` |
/// | `numeric(p,s)`, `numeric` | `Decimal` |
/// | `json`, `jsonb` | `Json` |
///
/// Refused, with the reason: arrays, `interval`, `time with time zone`, `money`, bit strings,
/// ranges, network, geometric, text-search and other types (what the backend cannot read as a
/// portable value).
///
/// # Errors
/// The reason a name has no portable type.
pub fn postgres(name: &str) -> Result<NativeType, Refusal> {
    if name.trim_end().ends_with(']') {
        return Err("an array: no portable type holds a list (a child table or a JSON column does)");
    }
    if athanor_core::reflect::enum_values(name).is_some() {
        return Ok(native(SqlType::Text, &[]));
    }
    let (base, args) = parse_type_name(name);
    let t = match base.as_str() {
        "boolean" | "bool" => SqlType::Bool,
        "smallint" | "int2" | "smallserial" | "serial2" => SqlType::SmallInt,
        "integer" | "int" | "int4" | "serial" | "serial4" => SqlType::Integer,
        "bigint" | "int8" | "bigserial" | "serial8" => SqlType::BigInt,
        "real" | "float4" => SqlType::Real,
        "double precision" | "float8" | "float" => SqlType::Double,
        "text" | "character varying" | "varchar" | "character" | "char" | "bpchar" | "citext" | "name" => SqlType::Text,
        "bytea" => SqlType::Blob,
        "uuid" => SqlType::Uuid,
        "timestamp with time zone" | "timestamptz" => SqlType::Timestamp,
        "timestamp without time zone" | "timestamp" => SqlType::DateTime,
        "date" => SqlType::Date,
        "time without time zone" | "time" => SqlType::Time,
        "numeric" | "decimal" => SqlType::Decimal,
        "jsonb" | "json" => SqlType::Json,
        "interval" => return Err("an interval: no portable type holds a duration"),
        "time with time zone" | "timetz" => {
            return Err("a time of day with an offset: no portable type keeps the offset")
        }
        "money" => return Err("money is formatted by the server's locale; cast it to numeric"),
        "bit" | "bit varying" | "varbit" => return Err("a bit string: no portable type holds one"),
        b if b.ends_with("range") || b.ends_with("multirange") => {
            return Err("a range: no portable type holds one (two columns do)")
        }
        _ => return Err("a type Athanor has no portable type for (network, geometric, text search, composite …)"),
    };
    Ok(native(t, &args))
}

/// MySQL and MariaDB: `COLUMN_TYPE`'s names (display widths are ignored, but `tinyint(1)` is
/// the boolean convention), Athanor's own DDL names, and `json` (MariaDB's `JSON` is `longtext`
/// with a `json_valid` check, which the dialect's catalog query reports as `json`).
///
/// | catalog name | portable type |
/// |---|---|
/// | `tinyint(1)`, `bit(1)`, `bool`, `boolean` | `Bool` |
/// | `tinyint`, `smallint`, `year` | `SmallInt` |
/// | `mediumint`, `int` | `Integer` |
/// | `bigint` | `BigInt` |
/// | `tinyint unsigned`, `smallint unsigned`, `mediumint unsigned`, `int unsigned`, `bigint unsigned` | `U8`, `U16`, `U32`, `U32`, `U64` |
/// | `float`, `double`, `real`, `double precision` | `Real`, `Double` |
/// | `char(32)`, `char(36)`, `binary(16)` | `Uuid` |
/// | `varchar(n)`, `char(n)`, `tinytext`, `text`, `mediumtext`, `longtext`, `enum('a', …)` | `Text` (with `n`; an enum's values as allowed values) |
/// | `binary(n)`, `varbinary(n)`, `tinyblob`, `blob`, `mediumblob`, `longblob` | `Blob` |
/// | `datetime`, `timestamp` | `DateTime` (a `TIMESTAMP` as the session's time zone shows it) |
/// | `date`, `time` | `Date`, `Time` |
/// | `decimal(p,s)`, `numeric(p,s)` | `Decimal` |
/// | `json` | `Json` |
/// | `uuid` (MariaDB 10.7) | `Uuid` |
///
/// Refused, with the reason: `set(…)`, `bit(n)` for n > 1, spatial types.
///
/// # Errors
/// The reason a name has no portable type.
pub fn mysql(name: &str) -> Result<NativeType, Refusal> {
    if athanor_core::reflect::enum_values(name).is_some() {
        return Ok(native(SqlType::Text, &[]));
    }
    let (base, args) = parse_type_name(name);
    // `zerofill` only pads the display.
    let base = base.strip_suffix(" zerofill").unwrap_or(&base);
    let t = match base {
        "bool" | "boolean" => SqlType::Bool,
        "tinyint" if args.first() == Some(&1) => SqlType::Bool,
        "bit" if args.is_empty() || args == [1] => SqlType::Bool,
        "bit" => return Err("a bit string longer than one bit: no portable type holds one"),
        "tinyint unsigned" => SqlType::U8,
        "smallint unsigned" => SqlType::U16,
        "mediumint unsigned" | "int unsigned" | "integer unsigned" => SqlType::U32,
        "bigint unsigned" => SqlType::U64,
        "tinyint" | "smallint" | "year" => SqlType::SmallInt,
        "mediumint" | "int" | "integer" => SqlType::Integer,
        "bigint" => SqlType::BigInt,
        "float" if args.first().is_some_and(|p| *p > 24) => SqlType::Double,
        "float" => SqlType::Real,
        "double" | "real" | "double precision" => SqlType::Double,
        "char" if uuid_width(&args) => SqlType::Uuid,
        "binary" if args.first() == Some(&16) => SqlType::Uuid,
        // MariaDB 10.7's UUID (Django 5 makes its UUIDField one there).
        "uuid" => SqlType::Uuid,
        "longtext" | "text" | "mediumtext" | "tinytext" | "varchar" | "char" => SqlType::Text,
        "longblob" | "blob" | "mediumblob" | "tinyblob" | "binary" | "varbinary" => SqlType::Blob,
        "datetime" | "timestamp" => SqlType::DateTime,
        "date" => SqlType::Date,
        "time" => SqlType::Time,
        "decimal" | "numeric" | "dec" | "fixed" => SqlType::Decimal,
        "json" => SqlType::Json,
        b if b.starts_with("set") => return Err("a SET holds several values: no portable type holds a set"),
        "float unsigned" | "double unsigned" | "decimal unsigned" => {
            return Err("an unsigned float or decimal: say which portable type with --type-map")
        }
        _ => return Err("a type Athanor has no portable type for (spatial, …)"),
    };
    // Display widths (`int(11)`) and fractional-second digits (`datetime(6)`) are no lengths.
    let args = match t {
        SqlType::Text if matches!(base, "varchar" | "char") => &args[..],
        SqlType::Decimal => &args[..],
        _ => &[][..],
    };
    Ok(native(t, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use athanor_core::reflect::portable_name;

    /// Each name → the portable type as `--type-map` spells it, or `!` and the start of the reason.
    fn check(map: fn(&str) -> Result<NativeType, Refusal>, table: &[(&str, &str)]) {
        for (name, want) in table {
            let got = match map(name) {
                Ok(t) => portable_name(t),
                Err(why) => format!("! {why}"),
            };
            assert!(
                if let Some(reason) = want.strip_prefix('!') {
                    got.starts_with(&format!("!{reason}"))
                } else {
                    got == *want
                },
                "{name:?}: got {got}, want {want}"
            );
        }
    }

    #[test]
    fn sqlite_names_map_by_convention_then_affinity() {
        check(
            sqlite,
            &[
                // What SQLAlchemy, Django, Rails and the sample databases write.
                ("DATETIME", "DateTime"),
                ("datetime(6)", "DateTime"),
                ("TIMESTAMP", "DateTime"),
                ("TIMESTAMP WITH TIME ZONE", "Timestamp"),
                ("DATE", "Date"),
                ("TIME", "Time"),
                ("NUMERIC(10,2)", "Decimal(10,2)"),
                ("DECIMAL(10, 2)", "Decimal(10,2)"),
                ("decimal", "Decimal"),
                ("NUMERIC", "Decimal"),
                ("BOOLEAN", "Bool"),
                ("bool", "Bool"),
                ("VARCHAR(40)", "Text(40)"),
                ("NVARCHAR(160)", "Text(160)"),
                ("varchar", "Text"),
                ("CHAR(32)", "Uuid"),
                ("char(36)", "Uuid"),
                ("UUID", "Uuid"),
                ("CHAR(3)", "Text(3)"),
                ("JSON", "Json"),
                ("ENUM('s','m')", "Text"),
                ("BIGINT", "BigInt"),
                ("INTEGER", "BigInt"),
                ("SMALLINT", "BigInt"),
                ("integer unsigned", "BigInt"),
                ("REAL", "Double"),
                ("DOUBLE", "Double"),
                ("DOUBLE PRECISION", "Double"),
                ("FLOAT", "Double"),
                ("TEXT", "Text"),
                ("CLOB", "Text"),
                ("BLOB", "Blob"),
                ("", "Blob"),
                // SQLite's affinity rules, in their order.
                ("FLOATING POINT", "BigInt"),
                ("CHARINT", "BigInt"),
                ("POINT", "BigInt"),
                ("STRING", "Decimal"),
                ("NUMBER", "Decimal"),
                ("YEAR", "Decimal"),
                // Athanor's own.
                ("DECIMAL_TEXT(12,2) COLLATE athanor_decimal", "Decimal(12,2)"),
                ("TIMESTAMP_TEXT", "Timestamp"),
                ("DATETIME_TEXT", "DateTime"),
                ("DATE_TEXT", "Date"),
                ("TIME_TEXT", "Time"),
                ("UUID_BLOB", "Uuid"),
                ("JSON_TEXT", "Json"),
                ("TINYINT UNSIGNED", "U8"),
                ("SMALLINT UNSIGNED", "U16"),
                ("INT UNSIGNED", "U32"),
                ("UNSIGNED BIG INT", "U64"),
            ],
        );
    }

    #[test]
    fn postgres_catalog_names_map_and_the_others_say_why_not() {
        check(
            postgres,
            &[
                ("boolean", "Bool"),
                ("smallint", "SmallInt"),
                ("integer", "Integer"),
                ("bigint", "BigInt"),
                ("serial", "Integer"),
                ("bigserial", "BigInt"),
                ("real", "Real"),
                ("double precision", "Double"),
                ("text", "Text"),
                ("character varying(40)", "Text(40)"),
                ("character varying", "Text"),
                ("character(36)", "Text(36)"),
                ("bytea", "Blob"),
                ("uuid", "Uuid"),
                ("timestamp with time zone", "Timestamp"),
                ("timestamp(6) with time zone", "Timestamp"),
                ("timestamp without time zone", "DateTime"),
                ("timestamp(3) without time zone", "DateTime"),
                ("date", "Date"),
                ("time without time zone", "Time"),
                ("numeric(10,2)", "Decimal(10,2)"),
                ("numeric", "Decimal"),
                ("json", "Json"),
                ("jsonb", "Json"),
                ("enum('sad','ok','happy')", "Text"),
                ("integer[]", "! an array"),
                ("character varying(20)[]", "! an array"),
                ("interval", "! an interval"),
                ("time with time zone", "! a time of day with an offset"),
                ("money", "! money"),
                ("bit(1)", "! a bit string"),
                ("tstzrange", "! a range"),
                ("inet", "! a type Athanor has no portable type for"),
            ],
        );
    }

    #[test]
    fn mysql_catalog_names_map_and_the_others_say_why_not() {
        check(
            mysql,
            &[
                ("tinyint(1)", "Bool"),
                ("bit(1)", "Bool"),
                ("tinyint(4)", "SmallInt"),
                ("tinyint", "SmallInt"),
                ("smallint(6)", "SmallInt"),
                ("year(4)", "SmallInt"),
                ("mediumint(9)", "Integer"),
                ("int(11)", "Integer"),
                ("int", "Integer"),
                ("bigint(20)", "BigInt"),
                ("tinyint(3) unsigned", "U8"),
                ("smallint unsigned", "U16"),
                ("mediumint(8) unsigned", "U32"),
                ("int(10) unsigned", "U32"),
                ("bigint(20) unsigned", "U64"),
                ("int(10) unsigned zerofill", "U32"),
                ("float", "Real"),
                ("double", "Double"),
                ("char(36)", "Uuid"),
                ("char(32)", "Uuid"),
                ("binary(16)", "Uuid"),
                ("uuid", "Uuid"),
                ("varchar(255)", "Text(255)"),
                ("char(2)", "Text(2)"),
                ("longtext", "Text"),
                ("tinytext", "Text"),
                ("enum('small','medium','large')", "Text"),
                ("varbinary(20)", "Blob"),
                ("longblob", "Blob"),
                ("datetime", "DateTime"),
                ("datetime(6)", "DateTime"),
                ("timestamp", "DateTime"),
                ("date", "Date"),
                ("time(6)", "Time"),
                ("decimal(10,2)", "Decimal(10,2)"),
                ("json", "Json"),
                ("set('a','b')", "! a SET"),
                ("bit(8)", "! a bit string"),
                ("geometry", "! a type Athanor has no portable type for"),
            ],
        );
    }
}
