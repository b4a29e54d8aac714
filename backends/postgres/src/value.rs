//! Values between Athanor and PostgreSQL's wire format. (One file of about 800 lines on purpose:
//! the encoder and the decoder of every `SqlType`, each an exhaustive `match`, read side by side.)
//!
//! PostgreSQL types every parameter of a prepared statement and refuses a binary value of another
//! width (an `INT8` sent for an `INT4` parameter is an error), so parameters are encoded for the
//! type the server inferred ([`encode_params`]). Cells are decoded by the column's type
//! ([`PgRow`]), borrowing text and bytes from the row's buffer.

use athanor_core::{Error, FromValue, Result, Row, SqlType, ValueRef};
use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type};
use std::error::Error as StdError;
use std::fmt::Write as _;

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter converted for its statement's parameter type, ready to be written.
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    Oid(u32),
    F32(f32),
    F64(f64),
    /// Text for a text-like parameter, or bytes for `BYTEA` (both binary: the raw bytes).
    Bytes(&'a [u8]),
    /// Text sent in the text format for the server to parse (a parameter of a type Athanor has no
    /// value for: `NUMERIC`, `DATE`, `UUID`, `JSON` …).
    Parsed(&'a str),
    /// An integer or float spelled out for a `NUMERIC` parameter (text format).
    Numeric(String),
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::I16(v) => v.to_sql(ty, out),
            Param::I32(v) => v.to_sql(ty, out),
            Param::I64(v) => v.to_sql(ty, out),
            Param::Oid(v) => v.to_sql(ty, out),
            Param::F32(v) => v.to_sql(ty, out),
            Param::F64(v) => v.to_sql(ty, out),
            Param::Bytes(v) => {
                out.extend_from_slice(v);
                Ok(IsNull::No)
            }
            Param::Parsed(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            Param::Numeric(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    /// The conversion to the parameter's type was checked by [`encode_params`].
    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> postgres::types::Format {
        match self {
            Param::Parsed(_) | Param::Numeric(_) => postgres::types::Format::Text,
            _ => postgres::types::Format::Binary,
        }
    }

    postgres::types::to_sql_checked!();
}

/// The type itself, or a domain's base type (a domain is sent and received as its base type).
pub(crate) fn base_type(mut ty: &Type) -> &Type {
    // Domains over domains: bounded, in case of a malformed catalog.
    for _ in 0..16 {
        match ty.kind() {
            Kind::Domain(inner) => ty = inner,
            _ => break,
        }
    }
    ty
}

fn is_text(ty: &Type) -> bool {
    matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN) || ty.name() == "citext"
}

fn param_mismatch(n: usize, expected: &'static str, v: ValueRef<'_>, ty: &Type) -> Error {
    Error::type_mismatch(format!("${n}"), expected, format!("{} {v} for a parameter of type {}", v.kind(), ty.name()))
}

/// Largest integer magnitude a float type holds exactly (2^24 for `f32`, 2^53 for `f64`).
const F32_EXACT: u64 = 1 << 24;
const F64_EXACT: u64 = 1 << 53;

/// Convert `params` for the statement's parameter types, in order.
///
/// - integers of any width go to `INT2`/`INT4`/`INT8` (and `OID`) when they fit, else
///   [`Error::TypeMismatch`]; to `REAL`/`DOUBLE PRECISION` when exactly representable;
/// - floats go to `REAL`/`DOUBLE PRECISION` (an `f64` for `REAL` is rounded, if within its range);
/// - integers and floats go to `NUMERIC` spelled in decimal;
/// - decimals go to `NUMERIC` as their digits (text format), to integer and float types when
///   they convert exactly, and to nothing else;
/// - text goes to text types as is, to `BYTEA` as its UTF-8 bytes, and to any other type in the
///   text format for the server to parse (`DATE`, `UUID`, `NUMERIC`, `JSON` …);
/// - bytes go to `BYTEA`, booleans to `BOOLEAN`, NULL to anything.
///
/// A wrong number of parameters is [`Error::InvalidRequest`]. Nothing is sent when conversion
/// fails. (Text containing NUL, which PostgreSQL text cannot hold, is refused before this, by
/// core's `Capabilities::check_params`.)
pub(crate) fn encode_params<'a>(types: &[Type], params: &[ValueRef<'a>]) -> Result<Vec<Param<'a>>> {
    if types.len() != params.len() {
        return Err(Error::invalid_request(format!(
            "the statement has {} parameter(s) but {} value(s) were given",
            types.len(),
            params.len()
        )));
    }
    types.iter().zip(params).enumerate().map(|(i, (ty, v))| encode(i + 1, base_type(ty), *v)).collect()
}

fn encode<'a>(n: usize, ty: &Type, v: ValueRef<'a>) -> Result<Param<'a>> {
    if v.is_null() {
        return Ok(Param::Null);
    }
    if let ValueRef::Decimal(d) = v {
        return encode_decimal(n, ty, v, d);
    }
    let int = match v {
        ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) | ValueRef::U64(_) => v.as_i64(),
        _ => None,
    };
    let p = match *ty {
        Type::INT2 => match int {
            Some(i) => Param::I16(i16::try_from(i).map_err(|_| param_mismatch(n, "i16", v, ty))?),
            None => return text_or(n, ty, v, "i16"),
        },
        Type::INT4 => match int {
            Some(i) => Param::I32(i32::try_from(i).map_err(|_| param_mismatch(n, "i32", v, ty))?),
            None => return text_or(n, ty, v, "i32"),
        },
        Type::INT8 => match int {
            Some(i) => Param::I64(i),
            None => return text_or(n, ty, v, "i64"),
        },
        Type::OID => match int {
            Some(i) => Param::Oid(u32::try_from(i).map_err(|_| param_mismatch(n, "u32", v, ty))?),
            None => return text_or(n, ty, v, "u32"),
        },
        Type::FLOAT4 => match (v, int) {
            (ValueRef::F32(f), _) => Param::F32(f),
            (ValueRef::F64(f), _) if !f.is_finite() || f.abs() <= f64::from(f32::MAX) => Param::F32(f as f32),
            (_, Some(i)) if i.unsigned_abs() <= F32_EXACT => Param::F32(i as f32),
            _ => return text_or(n, ty, v, "f32"),
        },
        Type::FLOAT8 => match (v, int) {
            (ValueRef::F64(f), _) => Param::F64(f),
            (ValueRef::F32(f), _) => Param::F64(f.into()),
            (_, Some(i)) if i.unsigned_abs() <= F64_EXACT => Param::F64(i as f64),
            _ => return text_or(n, ty, v, "f64"),
        },
        Type::NUMERIC => {
            let spelled = match v {
                ValueRef::F32(f) => float_text(f.into(), f.to_string()),
                ValueRef::F64(f) => float_text(f, f.to_string()),
                _ => match int {
                    Some(i) => i.to_string(),
                    None => return text_or(n, ty, v, "a number"),
                },
            };
            Param::Numeric(spelled)
        }
        Type::BOOL => match v {
            ValueRef::Bool(b) => Param::Bool(b),
            _ => return text_or(n, ty, v, "bool"),
        },
        // An instant: microseconds since 2000-01-01 UTC in the binary format.
        Type::TIMESTAMPTZ => match v {
            ValueRef::Timestamp(us) => Param::I64(us - PG_EPOCH_MICROS),
            _ => return text_or(n, ty, v, "an instant"),
        },
        // Civil values in the binary format: days and microseconds since 2000-01-01, and
        // microseconds since midnight.
        Type::TIMESTAMP => match v {
            ValueRef::DateTime(us) => Param::I64(us - PG_EPOCH_MICROS),
            _ => return text_or(n, ty, v, "a date and time"),
        },
        Type::DATE => match v {
            ValueRef::Date(days) => Param::I32(days - PG_EPOCH_DAYS as i32),
            _ => return text_or(n, ty, v, "a date"),
        },
        Type::TIME => match v {
            ValueRef::Time(us) => Param::I64(us),
            _ => return text_or(n, ty, v, "a time of day"),
        },
        // The binary format of a UUID is its 16 bytes; text is parsed by the server.
        Type::UUID => match v {
            ValueRef::Blob(b) if b.len() == 16 => Param::Bytes(b),
            ValueRef::Text(s) => Param::Parsed(s),
            _ => return Err(param_mismatch(n, "a UUID (16 bytes or its text)", v, ty)),
        },
        Type::BYTEA => match v {
            ValueRef::Blob(b) => Param::Bytes(b),
            ValueRef::Text(s) => Param::Bytes(s.as_bytes()),
            _ => return Err(param_mismatch(n, "Vec<u8>", v, ty)),
        },
        ref t if is_text(t) => match v {
            ValueRef::Text(s) => Param::Bytes(s.as_bytes()),
            _ => return Err(param_mismatch(n, "String", v, ty)),
        },
        _ => return text_or(n, ty, v, "text (for the server to parse)"),
    };
    Ok(p)
}

/// A decimal parameter: the exact digits in the text format for `NUMERIC` (the server parses
/// them); for an integer or float parameter, the number when the decimal converts exactly (as a
/// cell would, by [`FromValue`]), else [`Error::TypeMismatch`]; for any other type (text
/// included) a type mismatch.
fn encode_decimal<'a>(n: usize, ty: &Type, v: ValueRef<'a>, d: &'a str) -> Result<Param<'a>> {
    let exact = |expected: &'static str| move |_| param_mismatch(n, expected, v, ty);
    match *ty {
        Type::NUMERIC => Ok(Param::Parsed(d)),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
            let i = i64::from_value(v).map_err(exact("an integer"))?;
            encode(n, ty, ValueRef::I64(i))
        }
        Type::FLOAT4 => f32::from_value(v).map(Param::F32).map_err(exact("f32")),
        Type::FLOAT8 => f64::from_value(v).map(Param::F64).map_err(exact("f64")),
        _ => Err(param_mismatch(n, "a number", v, ty)),
    }
}

/// NaN and the infinities as `NUMERIC` spells them.
fn float_text(f: f64, shortest: String) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "Infinity".into()
    } else if f == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        shortest
    }
}

/// Text is sent for the server to parse; anything else does not convert.
fn text_or<'a>(n: usize, ty: &Type, v: ValueRef<'a>, expected: &'static str) -> Result<Param<'a>> {
    match v {
        ValueRef::Text(s) => Ok(Param::Parsed(s)),
        _ => Err(param_mismatch(n, expected, v, ty)),
    }
}

// ---------------------------------------------------------------------------------------------
// The codec: cells of every column type Athanor reads, from PostgreSQL's binary format.

/// How a column type is read: as a portable type, or (until typed values exist for them) as exact
/// text rendered from the binary format (see `athanor_core::Row` for the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// A portable type, decoded by [`decode_portable`].
    Portable(SqlType),
    /// `OID` (an unsigned 32-bit integer) → `I64`.
    Oid,
    /// `NUMERIC` → its exact decimal text (`NaN`, `Infinity`, `-Infinity` as PostgreSQL spells them).
    Numeric,
    /// `DATE` → `YYYY-MM-DD`.
    Date,
    /// `TIME` → `HH:MM:SS[.ffffff]`.
    Time,
    /// `TIMETZ` → `HH:MM:SS[.ffffff]+HH:MM`.
    TimeTz,
    /// `TIMESTAMP` → `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    Timestamp,
    /// `TIMESTAMPTZ` → `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` (UTC).
    TimestampTz,
    /// `UUID` → canonical lower-case hex.
    Uuid,
    /// `JSON` → the document (borrowed).
    Json,
    /// `JSONB` → the document (borrowed, after the format's version byte).
    Jsonb,
}

impl Codec {
    /// The codec for a column type (a domain reads as its base type); `None` for the types that
    /// have no portable value (arrays, ranges, `INTERVAL`, composite types …).
    pub(crate) fn of(ty: &Type) -> Option<Codec> {
        let ty = base_type(ty);
        Some(match *ty {
            Type::BOOL => Codec::Portable(SqlType::Bool),
            Type::INT2 => Codec::Portable(SqlType::SmallInt),
            Type::INT4 => Codec::Portable(SqlType::Integer),
            Type::INT8 => Codec::Portable(SqlType::BigInt),
            Type::FLOAT4 => Codec::Portable(SqlType::Real),
            Type::FLOAT8 => Codec::Portable(SqlType::Double),
            Type::BYTEA => Codec::Portable(SqlType::Blob),
            Type::OID => Codec::Oid,
            Type::NUMERIC => Codec::Numeric,
            Type::DATE => Codec::Date,
            Type::TIME => Codec::Time,
            Type::TIMETZ => Codec::TimeTz,
            Type::TIMESTAMP => Codec::Timestamp,
            Type::TIMESTAMPTZ => Codec::TimestampTz,
            Type::UUID => Codec::Uuid,
            Type::JSON => Codec::Json,
            Type::JSONB => Codec::Jsonb,
            ref t if is_text(t) || matches!(t.kind(), Kind::Enum(_)) => Codec::Portable(SqlType::Text),
            _ => return None,
        })
    }

    /// `true` when the cell is text rendered into a new string (not borrowed from the row).
    pub(crate) fn renders(self) -> bool {
        matches!(
            self,
            Codec::Numeric
                | Codec::Date
                | Codec::Time
                | Codec::TimeTz
                | Codec::Timestamp
                | Codec::TimestampTz
                | Codec::Uuid
        )
    }
}

/// The type name each portable type is created as by the PostgreSQL dialect (and reported as by
/// [`athanor_core::Row::column_type`]). Exhaustive: a new [`SqlType`] does not compile until this
/// backend says what it is stored as; [`decode_portable`] then says how it is read.
pub fn native_type(t: SqlType) -> &'static str {
    match t {
        SqlType::Bool => "bool",
        SqlType::SmallInt => "int2",
        SqlType::Integer => "int4",
        SqlType::BigInt => "int8",
        SqlType::Real => "float4",
        SqlType::Double => "float8",
        SqlType::Text => "text",
        SqlType::Blob => "bytea",
        SqlType::U8 => "int2",
        SqlType::U16 => "int4",
        SqlType::U32 => "int8",
        SqlType::Uuid => "uuid",
        SqlType::Timestamp => "timestamptz",
        SqlType::Date => "date",
        SqlType::DateTime => "timestamp",
        SqlType::Time => "time",
        SqlType::U64 => "int8",
        SqlType::Decimal => "numeric",
        SqlType::Json => "jsonb",
    }
}

type Decoded<'a> = std::result::Result<ValueRef<'a>, BoxError>;

/// Read a cell of a portable type from the binary format.
fn decode_portable<'a>(t: SqlType, ty: &Type, raw: &'a [u8]) -> Decoded<'a> {
    Ok(match t {
        SqlType::Bool => ValueRef::Bool(bool::from_sql(ty, raw)?),
        SqlType::SmallInt => ValueRef::I16(i16::from_sql(ty, raw)?),
        SqlType::Integer => ValueRef::I32(i32::from_sql(ty, raw)?),
        SqlType::BigInt => ValueRef::I64(i64::from_sql(ty, raw)?),
        SqlType::Real => ValueRef::F32(f32::from_sql(ty, raw)?),
        SqlType::Double => ValueRef::F64(f64::from_sql(ty, raw)?),
        SqlType::Text => ValueRef::Text(std::str::from_utf8(raw)?),
        SqlType::Blob | SqlType::Uuid => ValueRef::Blob(raw),
        // Stored in the next wider signed type (never produced by `Codec::of`, which names the
        // stored type).
        SqlType::U8 => ValueRef::I16(i16::from_sql(ty, raw)?),
        SqlType::U16 => ValueRef::I32(i32::from_sql(ty, raw)?),
        SqlType::U32 => ValueRef::I64(i64::from_sql(ty, raw)?),
        SqlType::Timestamp => ValueRef::Timestamp(i64::from_sql(ty, raw)?.saturating_add(PG_EPOCH_MICROS)),
        SqlType::DateTime => ValueRef::DateTime(i64::from_sql(ty, raw)?.saturating_add(PG_EPOCH_MICROS)),
        SqlType::Date => ValueRef::Date(i32::from_sql(ty, raw)?.saturating_add(PG_EPOCH_DAYS as i32)),
        SqlType::Time => ValueRef::Time(i64::from_sql(ty, raw)?),
        // Stored in int8 and jsonb; never produced by `Codec::of` either.
        SqlType::U64 => ValueRef::I64(i64::from_sql(ty, raw)?),
        SqlType::Json => return decode_borrowed(Codec::Jsonb, ty, raw),
        // NUMERIC's digits are rendered (`Codec::Numeric`), not borrowed.
        SqlType::Decimal => return Err("a NUMERIC cell is rendered as text, not decoded in place".into()),
    })
}

/// Read a cell that borrows from the row (every codec but the rendering ones).
fn decode_borrowed<'a>(codec: Codec, ty: &Type, raw: &'a [u8]) -> Decoded<'a> {
    match codec {
        Codec::Portable(t) => decode_portable(t, ty, raw),
        Codec::Oid => Ok(ValueRef::I64(u32::from_sql(ty, raw)?.into())),
        Codec::Json => Ok(ValueRef::Text(std::str::from_utf8(raw)?)),
        Codec::Jsonb => match raw.split_first() {
            Some((1, doc)) => Ok(ValueRef::Text(std::str::from_utf8(doc)?)),
            _ => Err("unknown JSONB format version".into()),
        },
        _ => Err("a rendered type read as borrowed".into()),
    }
}

/// Render a cell of a text-rendered codec (`Codec::renders`).
pub(crate) fn render(codec: Codec, raw: &[u8]) -> std::result::Result<String, BoxError> {
    let mut out = String::with_capacity(32);
    match codec {
        Codec::Numeric => write_numeric(&mut out, raw)?,
        Codec::Date => write_date(&mut out, i32::from_be_bytes(fixed(raw)?))?,
        Codec::Time => write_time(&mut out, i64::from_be_bytes(fixed(raw)?))?,
        Codec::TimeTz => {
            let (time, zone) = raw.split_at_checked(8).ok_or("TIMETZ value of the wrong size")?;
            write_time(&mut out, i64::from_be_bytes(fixed(time)?))?;
            // PostgreSQL sends the zone as seconds *west* of UTC.
            write_offset(&mut out, -i64::from(i32::from_be_bytes(fixed(zone)?)));
        }
        Codec::Timestamp => write_timestamp(&mut out, i64::from_be_bytes(fixed(raw)?), false)?,
        Codec::TimestampTz => write_timestamp(&mut out, i64::from_be_bytes(fixed(raw)?), true)?,
        Codec::Uuid => {
            let b: [u8; 16] = fixed(raw)?;
            for (i, byte) in b.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                let _ = write!(out, "{byte:02x}");
            }
        }
        Codec::Portable(_) | Codec::Oid | Codec::Json | Codec::Jsonb => return Err("not a rendered type".into()),
    }
    Ok(out)
}

fn fixed<const N: usize>(raw: &[u8]) -> std::result::Result<[u8; N], BoxError> {
    raw.try_into().map_err(|_| format!("a value of {} bytes where {N} were expected", raw.len()).into())
}

/// `NUMERIC`'s binary format (base-10000 digits with a weight and a display scale) as its exact
/// decimal text, as PostgreSQL's own output function writes it.
fn write_numeric(out: &mut String, raw: &[u8]) -> std::result::Result<(), BoxError> {
    let word = |i: usize| -> std::result::Result<u16, BoxError> {
        raw.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or_else(|| "truncated NUMERIC".into())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => {
            out.push_str("NaN");
            return Ok(());
        }
        0xD000 => {
            out.push_str("Infinity");
            return Ok(());
        }
        0xF000 => {
            out.push_str("-Infinity");
            return Ok(());
        }
        _ => return Err(format!("NUMERIC with unknown sign {sign:#x}").into()),
    }
    if raw.len() != 8 + 2 * ndigits {
        return Err("NUMERIC of the wrong size".into());
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        let d = word(8 + 2 * i)?;
        if d > 9999 {
            return Err("NUMERIC digit out of range".into());
        }
        digits.push(d);
    }
    // Digit group `k` counts from the most significant; group `k` has weight `weight - k`.
    let group = |w: i64| -> u16 {
        let k = weight - w;
        usize::try_from(k).ok().and_then(|k| digits.get(k).copied()).unwrap_or(0)
    };
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{}", group(weight));
        for w in (0..weight).rev() {
            let _ = write!(out, "{:04}", group(w));
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut w = -1;
        while out.len() - start < dscale {
            let _ = write!(out, "{:04}", group(w));
            w -= 1;
        }
        out.truncate(start + dscale);
    }
    Ok(())
}

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
use athanor_core::temporal::{civil_from_days, MICROS_PER_DAY};

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds after the Unix epoch.
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * MICROS_PER_DAY;

/// `YYYY-MM-DD` of a day counted from 2000-01-01; years before 1 are astronomical (`0000` is
/// 1 BC, `-0001` is 2 BC), as ISO 8601 writes them.
fn write_day(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days + PG_EPOCH_DAYS);
    if y < 0 {
        let _ = write!(out, "-{:04}-{m:02}-{d:02}", -y);
    } else {
        let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    }
}

fn write_date(out: &mut String, days: i32) -> std::result::Result<(), BoxError> {
    match days {
        i32::MAX => out.push_str("infinity"),
        i32::MIN => out.push_str("-infinity"),
        d => write_day(out, d.into()),
    }
    Ok(())
}

/// `HH:MM:SS` and the fraction of a second, when not zero, without trailing zeros.
fn write_clock(out: &mut String, micros: i64) {
    let secs = micros / 1_000_000;
    let _ = write!(out, "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    write_fraction(out, (micros % 1_000_000) as u32);
}

/// `.ffffff` without trailing zeros; nothing for zero.
pub(crate) fn write_fraction(out: &mut String, micros: u32) {
    if micros != 0 {
        let start = out.len();
        let _ = write!(out, ".{micros:06}");
        let trimmed = out[start..].trim_end_matches('0').len();
        out.truncate(start + trimmed);
    }
}

fn write_time(out: &mut String, micros: i64) -> std::result::Result<(), BoxError> {
    if !(0..=MICROS_PER_DAY).contains(&micros) {
        return Err(format!("time of day out of range ({micros} µs)").into());
    }
    write_clock(out, micros);
    Ok(())
}

fn write_offset(out: &mut String, east_secs: i64) {
    let sign = if east_secs < 0 { '-' } else { '+' };
    let a = east_secs.abs();
    let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if a % 60 != 0 {
        let _ = write!(out, ":{:02}", a % 60);
    }
}

fn write_timestamp(out: &mut String, micros: i64, utc: bool) -> std::result::Result<(), BoxError> {
    match micros {
        i64::MAX => out.push_str("infinity"),
        i64::MIN => out.push_str("-infinity"),
        us => {
            write_day(out, us.div_euclid(MICROS_PER_DAY));
            out.push(' ');
            write_clock(out, us.rem_euclid(MICROS_PER_DAY));
            if utc {
                out.push_str("+00:00");
            }
        }
    }
    Ok(())
}

/// A cell's raw binary value (`None` for NULL), whatever the column type: the codec decodes it.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// What a row can hold, for type-mismatch messages.
const PORTABLE: &str = "a portable value";

/// A row from the server, decoded by [`Codec`] (see `athanor_core::Row` for the contract):
/// `INT2`/`INT4`/`INT8` → `I16`/`I32`/`I64` (`OID` → `I64`), `REAL`/`DOUBLE PRECISION` →
/// `F32`/`F64`, `BOOLEAN` → `Bool`, `TEXT`/`VARCHAR`/`CHAR(n)`/`NAME`/`CITEXT` and enum labels →
/// borrowed `Text`, `BYTEA` → borrowed `Blob`, `JSON`/`JSONB` → borrowed `Text`; `NUMERIC` →
/// `Decimal`, and dates, times, timestamps and `UUID` → `Text`, rendered from the binary format when the row is read
/// (only for statements that have such columns); domains as their base type. Other types
/// (arrays, `INTERVAL`, ranges …) are [`Error::TypeMismatch`] naming the type, NULL or not: cast
/// them in SQL (`CAST(x AS TEXT)`).
pub(crate) struct PgRow<'r> {
    row: &'r postgres::Row,
    /// The rendered cells by index (empty, without allocating, for rows with none).
    rendered: Vec<(usize, std::result::Result<String, String>)>,
}

impl<'r> PgRow<'r> {
    /// `codecs` are the statement's columns' codecs when some of them render text (see
    /// [`Codec::renders`]); empty otherwise.
    pub(crate) fn new(row: &'r postgres::Row, codecs: &[Option<Codec>]) -> Self {
        let mut rendered = Vec::new();
        for (i, codec) in codecs.iter().enumerate() {
            let Some(codec) = codec.filter(|c| c.renders()) else { continue };
            match row.try_get::<_, Raw<'_>>(i) {
                Ok(Raw(Some(raw))) => rendered.push((i, render(codec, raw).map_err(|e| e.to_string()))),
                Ok(Raw(None)) => {}
                Err(e) => rendered.push((i, Err(e.to_string()))),
            }
        }
        PgRow { row, rendered }
    }
}

fn undecodable(col: &postgres::Column, e: impl std::fmt::Display) -> Error {
    Error::type_mismatch(col.name(), PORTABLE, format!("undecodable {} value: {e}", col.type_().name()))
}

impl Row for PgRow<'_> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        let col = self.row.columns().get(idx).ok_or_else(|| {
            Error::invalid_request(format!("column index {idx} out of range (row has {})", self.row.len()))
        })?;
        let ty = col.type_();
        let Some(codec) = Codec::of(ty) else {
            return Err(Error::type_mismatch(col.name(), PORTABLE, format!("PostgreSQL type {}", ty.name())));
        };
        let raw = match self.row.try_get::<_, Raw<'_>>(idx) {
            Ok(Raw(Some(raw))) => raw,
            Ok(Raw(None)) => return Ok(ValueRef::Null),
            Err(e) => return Err(undecodable(col, e)),
        };
        if codec.renders() {
            return match self.rendered.iter().find(|(i, _)| *i == idx) {
                Some((_, Ok(s))) if codec == Codec::Numeric => Ok(ValueRef::Decimal(s)),
                Some((_, Ok(s))) => Ok(ValueRef::Text(s)),
                Some((_, Err(e))) => Err(undecodable(col, e)),
                None => Err(undecodable(col, "not rendered")),
            };
        }
        decode_borrowed(codec, ty, raw).map_err(|e| undecodable(col, e))
    }

    fn column_name(&self, idx: usize) -> Option<&str> {
        self.row.columns().get(idx).map(postgres::Column::name)
    }

    fn column_type(&self, idx: usize) -> Option<&str> {
        self.row.columns().get(idx).map(|c| c.type_().name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(ty: Type, v: ValueRef<'_>) -> Result<Param<'_>> {
        encode_params(&[ty], &[v]).map(|mut p| p.remove(0))
    }

    #[test]
    fn integers_narrow_with_range_checks() {
        assert!(matches!(enc(Type::INT4, ValueRef::I64(7)), Ok(Param::I32(7))));
        assert!(matches!(enc(Type::INT2, ValueRef::I64(-32768)), Ok(Param::I16(-32768))));
        assert!(matches!(enc(Type::INT8, ValueRef::I16(3)), Ok(Param::I64(3))));
        match enc(Type::INT4, ValueRef::I64(i64::from(i32::MAX) + 1)) {
            Err(Error::TypeMismatch { column, expected, found }) => {
                assert_eq!(column, "$1");
                assert_eq!(expected, "i32");
                assert!(found.contains("int4"), "{found}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(enc(Type::INT2, ValueRef::I32(40000)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::INT4, ValueRef::Bool(true)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::OID, ValueRef::I64(-1)), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn floats() {
        assert!(matches!(enc(Type::FLOAT8, ValueRef::F32(0.5)), Ok(Param::F64(x)) if x == 0.5));
        assert!(matches!(enc(Type::FLOAT4, ValueRef::F64(f64::NAN)), Ok(Param::F32(x)) if x.is_nan()));
        assert!(matches!(enc(Type::FLOAT4, ValueRef::F64(1e300)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::FLOAT8, ValueRef::I64(3)), Ok(Param::F64(x)) if x == 3.0));
        assert!(matches!(enc(Type::FLOAT8, ValueRef::I64(i64::MAX)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::FLOAT4, ValueRef::I32(1 << 25)), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn numeric_is_spelled() {
        let Ok(Param::Numeric(n)) = enc(Type::NUMERIC, ValueRef::I64(-12)) else { panic!() };
        assert_eq!(n, "-12");
        let Ok(Param::Numeric(n)) = enc(Type::NUMERIC, ValueRef::F64(f64::NEG_INFINITY)) else { panic!() };
        assert_eq!(n, "-Infinity");
        let Ok(Param::Numeric(n)) = enc(Type::NUMERIC, ValueRef::F32(0.1)) else { panic!() };
        assert_eq!(n, "0.1");
    }

    #[test]
    fn decimals_are_sent_exactly_or_not_at_all() {
        assert!(matches!(enc(Type::NUMERIC, ValueRef::Decimal("-12.50")), Ok(Param::Parsed("-12.50"))));
        assert!(matches!(enc(Type::INT4, ValueRef::Decimal("7.00")), Ok(Param::I32(7))));
        assert!(matches!(enc(Type::INT2, ValueRef::Decimal("7.5")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::INT2, ValueRef::Decimal("40000")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::FLOAT8, ValueRef::Decimal("0.25")), Ok(Param::F64(x)) if x == 0.25));
        assert!(matches!(enc(Type::FLOAT4, ValueRef::Decimal("16777217")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::TEXT, ValueRef::Decimal("1")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::DATE, ValueRef::Decimal("1")), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn text_and_bytes() {
        assert!(matches!(enc(Type::TEXT, ValueRef::Text("x")), Ok(Param::Bytes(b"x"))));
        assert!(matches!(enc(Type::VARCHAR, ValueRef::Text("")), Ok(Param::Bytes(b""))));
        assert!(matches!(enc(Type::BYTEA, ValueRef::Blob(&[0, 1])), Ok(Param::Bytes(&[0, 1]))));
        assert!(matches!(enc(Type::DATE, ValueRef::Text("2024-01-02")), Ok(Param::Parsed("2024-01-02"))));
        assert!(matches!(enc(Type::TEXT, ValueRef::I64(1)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::TEXT, ValueRef::Blob(b"x")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::DATE, ValueRef::I64(1)), Err(Error::TypeMismatch { .. })));
    }

    /// NUMERIC's binary format: ndigits, weight, sign, dscale, then base-10000 digits.
    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale].into_iter().chain(digits.iter().copied()) {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v
    }

    fn rendered(codec: Codec, raw: &[u8]) -> String {
        render(codec, raw).unwrap()
    }

    #[test]
    fn numeric_renders_exact_digits() {
        let n = |w, s, d, g: &[u16]| rendered(Codec::Numeric, &numeric(w, s, d, g));
        assert_eq!(n(0, 0, 2, &[1234, 5600]), "1234.56");
        assert_eq!(n(0, 0x4000, 2, &[12, 5000]), "-12.50");
        assert_eq!(n(1, 0, 0, &[1, 0]), "10000");
        assert_eq!(n(2, 0, 0, &[1]), "100000000");
        assert_eq!(n(-1, 0, 5, &[12]), "0.00120");
        assert_eq!(n(-2, 0, 8, &[5]), "0.00000005");
        assert_eq!(n(0, 0, 0, &[]), "0");
        assert_eq!(n(0, 0, 3, &[]), "0.000");
        assert_eq!(n(0, 0, 16, &[2, 5000]), "2.5000000000000000");
        assert_eq!(n(0, 0xC000, 0, &[]), "NaN");
        assert_eq!(n(0, 0xF000, 0, &[]), "-Infinity");
        assert!(render(Codec::Numeric, &numeric(0, 0, 0, &[10000])).is_err());
        assert!(render(Codec::Numeric, &[0, 1]).is_err());
    }

    #[test]
    fn dates_and_times_render_as_iso_8601() {
        let day = |d: i32| rendered(Codec::Date, &d.to_be_bytes());
        assert_eq!(day(0), "2000-01-01");
        assert_eq!(day(-1), "1999-12-31");
        assert_eq!(day(8825), "2024-02-29");
        assert_eq!(day(-730_485), "0000-01-01");
        assert_eq!(day(-730_486), "-0001-12-31");
        assert_eq!(day(i32::MAX), "infinity");
        let ts = |us: i64| rendered(Codec::Timestamp, &us.to_be_bytes());
        assert_eq!(ts(0), "2000-01-01 00:00:00");
        assert_eq!(ts(-1), "1999-12-31 23:59:59.999999");
        assert_eq!(ts(8825 * MICROS_PER_DAY + 37_230_500_000), "2024-02-29 10:20:30.5");
        assert_eq!(rendered(Codec::TimestampTz, &1_000_i64.to_be_bytes()), "2000-01-01 00:00:00.001+00:00");
        assert_eq!(rendered(Codec::Time, &37_230_000_001_i64.to_be_bytes()), "10:20:30.000001");
        let mut tz = 37_230_000_000_i64.to_be_bytes().to_vec();
        tz.extend_from_slice(&(-19_800_i32).to_be_bytes());
        assert_eq!(rendered(Codec::TimeTz, &tz), "10:20:30+05:30");
        assert!(render(Codec::Date, &[0, 0]).is_err());
        assert!(render(Codec::Time, &(MICROS_PER_DAY + 1).to_be_bytes()).is_err());
    }

    #[test]
    fn uuid_and_json() {
        let u: Vec<u8> = (0u8..16).map(|i| i * 17).collect();
        assert_eq!(rendered(Codec::Uuid, &u), "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(decode_borrowed(Codec::Jsonb, &Type::JSONB, b"\x01{}").unwrap(), ValueRef::Text("{}"));
        assert!(decode_borrowed(Codec::Jsonb, &Type::JSONB, b"\x02{}").is_err());
        assert_eq!(decode_borrowed(Codec::Json, &Type::JSON, b"[1]").unwrap(), ValueRef::Text("[1]"));
    }

    #[test]
    fn every_portable_type_has_a_codec_of_its_native_type() {
        use SqlType::*;
        for t in [Bool, SmallInt, Integer, BigInt, Real, Double, Text, Blob] {
            let ty =
                [Type::BOOL, Type::INT2, Type::INT4, Type::INT8, Type::FLOAT4, Type::FLOAT8, Type::TEXT, Type::BYTEA]
                    .into_iter()
                    .find(|ty| ty.name() == native_type(t))
                    .unwrap();
            assert_eq!(Codec::of(&ty), Some(Codec::Portable(t)), "{t:?}");
        }
    }

    #[test]
    fn null_goes_anywhere_and_counts_must_match() {
        assert!(matches!(enc(Type::INT4, ValueRef::Null), Ok(Param::Null)));
        assert!(matches!(enc(Type::JSONB, ValueRef::Null), Ok(Param::Null)));
        assert!(matches!(encode_params(&[Type::INT4], &[]), Err(Error::InvalidRequest { .. })));
    }

    #[test]
    fn bool_needs_bool() {
        assert!(matches!(enc(Type::BOOL, ValueRef::Bool(true)), Ok(Param::Bool(true))));
        assert!(matches!(enc(Type::BOOL, ValueRef::I64(1)), Err(Error::TypeMismatch { .. })));
    }
}
