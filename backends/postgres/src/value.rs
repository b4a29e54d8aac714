//! Values between Athanor and PostgreSQL's wire format.
//!
//! PostgreSQL types every parameter of a prepared statement and refuses a binary value of another
//! width (an `INT8` sent for an `INT4` parameter is an error), so parameters are encoded for the
//! type the server inferred ([`encode_params`]). Cells are decoded by the column's type
//! ([`PgRow`]), borrowing text and bytes from the row's buffer.

use athanor_core::{Error, Result, Row, ValueRef};
use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type};
use std::error::Error as StdError;

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
/// - text goes to text types as is, to `BYTEA` as its UTF-8 bytes, and to any other type in the
///   text format for the server to parse (`DATE`, `UUID`, `NUMERIC`, `JSON` …);
/// - bytes go to `BYTEA`, booleans to `BOOLEAN`, NULL to anything.
///
/// Text containing NUL is [`Error::Unsupported`] (PostgreSQL text cannot hold it); a wrong number
/// of parameters is [`Error::InvalidRequest`]. Nothing is sent when conversion fails.
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
    if let ValueRef::Text(s) = v {
        if s.contains('\0') {
            return Err(Error::unsupported(
                format!("text containing the NUL character (parameter ${n})"),
                "postgresql",
            ));
        }
    }
    if v.is_null() {
        return Ok(Param::Null);
    }
    let int = match v {
        ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => v.as_i64(),
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

/// A cell decoded from its column's type; NULL of any supported type is [`ValueRef::Null`].
struct Cell<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        let v = match *base_type(ty) {
            Type::BOOL => ValueRef::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => ValueRef::I16(i16::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::I32(i32::from_sql(ty, raw)?),
            Type::INT8 => ValueRef::I64(i64::from_sql(ty, raw)?),
            Type::OID => ValueRef::I64(u32::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => ValueRef::F32(f32::from_sql(ty, raw)?),
            Type::FLOAT8 => ValueRef::F64(f64::from_sql(ty, raw)?),
            Type::BYTEA => ValueRef::Blob(<&[u8]>::from_sql(ty, raw)?),
            ref t if is_text(t) || matches!(t.kind(), Kind::Enum(_)) => ValueRef::Text(std::str::from_utf8(raw)?),
            _ => return Err(format!("no portable value for PostgreSQL type {}", ty.name()).into()),
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_ty: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Cell(ValueRef::Null))
    }

    fn accepts(ty: &Type) -> bool {
        decodable(ty)
    }
}

/// `true` for the column types a cell can be read from.
fn decodable(ty: &Type) -> bool {
    let ty = base_type(ty);
    matches!(
        *ty,
        Type::BOOL | Type::INT2 | Type::INT4 | Type::INT8 | Type::OID | Type::FLOAT4 | Type::FLOAT8 | Type::BYTEA
    ) || is_text(ty)
        || matches!(ty.kind(), Kind::Enum(_))
}

/// What a row can hold, for type-mismatch messages.
const PORTABLE: &str = "a boolean, integer, float, text or bytea column";

/// A row streamed from the server.
///
/// Cells decode by column type: `INT2`/`INT4`/`INT8` → `I16`/`I32`/`I64` (`OID` → `I64`),
/// `REAL`/`DOUBLE PRECISION` → `F32`/`F64`, `BOOLEAN` → `Bool`, `TEXT`/`VARCHAR`/`CHAR(n)`/`NAME`/
/// `CITEXT` and enum labels → borrowed `Text`, `BYTEA` → borrowed `Blob`, domains as their base type. Other types
/// (`NUMERIC`, dates, `UUID`, `JSON`, arrays …) are [`Error::TypeMismatch`] naming the type, NULL or
/// not: cast them in SQL (`CAST(x AS TEXT)`, `x::float8`).
pub(crate) struct PgRow<'r> {
    pub(crate) row: &'r postgres::Row,
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
        if !decodable(ty) {
            return Err(Error::type_mismatch(col.name(), PORTABLE, format!("PostgreSQL type {}", ty.name())));
        }
        match self.row.try_get::<_, Cell<'_>>(idx) {
            Ok(Cell(v)) => Ok(v),
            Err(e) => Err(Error::type_mismatch(
                col.name(),
                PORTABLE,
                format!(
                    "undecodable {} value: {}",
                    ty.name(),
                    e.source().map_or_else(|| e.to_string(), |s| s.to_string())
                ),
            )),
        }
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
    fn text_and_bytes() {
        assert!(matches!(enc(Type::TEXT, ValueRef::Text("x")), Ok(Param::Bytes(b"x"))));
        assert!(matches!(enc(Type::VARCHAR, ValueRef::Text("")), Ok(Param::Bytes(b""))));
        assert!(matches!(enc(Type::BYTEA, ValueRef::Blob(&[0, 1])), Ok(Param::Bytes(&[0, 1]))));
        assert!(matches!(enc(Type::DATE, ValueRef::Text("2024-01-02")), Ok(Param::Parsed("2024-01-02"))));
        assert!(matches!(enc(Type::TEXT, ValueRef::I64(1)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::TEXT, ValueRef::Blob(b"x")), Err(Error::TypeMismatch { .. })));
        assert!(matches!(enc(Type::DATE, ValueRef::I64(1)), Err(Error::TypeMismatch { .. })));
        assert!(matches!(
            enc(Type::TEXT, ValueRef::Text("a\0b")),
            Err(Error::Unsupported { dialect: "postgresql", .. })
        ));
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
