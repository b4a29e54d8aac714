//! [`ValueRef`] parameters -> `mysql::Value`, and rows of `mysql::Value` -> [`ValueRef`] cells:
//! this backend's codec (the contract is `athanor_core::Row`'s).
//!
//! Cells are read by column type ([`Codec`]): integers → `I64` (an unsigned value above
//! `i64::MAX` is a `TypeMismatch`), `FLOAT`/`DOUBLE` → `F32`/`F64`, text → borrowed `Text`,
//! binary strings → borrowed `Blob`; `DECIMAL` of any scale → its exact digits as borrowed `Decimal`;
//! `DATE` → `YYYY-MM-DD`, `DATETIME`/`TIMESTAMP` → `YYYY-MM-DD HH:MM:SS[.ffffff]`, `TIME` →
//! `[-]HH:MM:SS[.ffffff]` (fraction without trailing zeros, whichever protocol carried the row);
//! `JSON` → `Text`; `BIT` → `Blob`.

use athanor_core::{Error, Result, Row, SqlType, ValueRef};
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::{Column, Value};
use std::fmt::Write as _;

/// The `binary` character set: the column holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// Convert parameters: a [`ValueRef::Decimal`] is sent as its digits (a string, which the server
/// converts exactly for a `DECIMAL` column). (NaN and ±infinity, which MySQL cannot store, are refused before this by
/// core's `Capabilities::check_params`.)
///
/// # Errors
/// [`Error::InvalidRequest`] for a [`ValueRef::Computed`], which the engine resolves before a
/// driver sees it.
pub(crate) fn to_params(params: &[ValueRef<'_>]) -> Result<Vec<Value>> {
    params.iter().map(|p| to_value(*p)).collect()
}

fn to_value(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::NULL,
        ValueRef::Bool(b) => Value::Int(b.into()),
        ValueRef::I16(i) => Value::Int(i.into()),
        ValueRef::I32(i) => Value::Int(i.into()),
        ValueRef::I64(i) => Value::Int(i),
        // Within i64 (core refuses a larger one first), as the BIGINT column holds it.
        ValueRef::U64(u) => Value::UInt(u),
        ValueRef::Computed(_) => {
            return Err(Error::invalid_request("a computed parameter reached the driver unresolved"))
        }
        ValueRef::F32(f) => Value::Float(f),
        ValueRef::F64(f) => Value::Double(f),
        ValueRef::Text(s) | ValueRef::Decimal(s) => Value::Bytes(s.as_bytes().to_vec()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
        // An instant as a DATETIME in UTC (the range was checked by core).
        ValueRef::Date(days) => {
            let (y, m, d) = athanor_core::temporal::civil_from_days(days.into());
            Value::Date(u16::try_from(y).unwrap_or(0), m as u8, d as u8, 0, 0, 0, 0)
        }
        ValueRef::Time(us) => {
            let c = athanor_core::temporal::civil_from_micros(us);
            Value::Time(false, 0, c.hour as u8, c.minute as u8, c.second as u8, c.micro)
        }
        ValueRef::Timestamp(us) | ValueRef::DateTime(us) => {
            let c = athanor_core::temporal::civil_from_micros(us);
            Value::Date(
                u16::try_from(c.year).unwrap_or(0),
                c.month as u8,
                c.day as u8,
                c.hour as u8,
                c.minute as u8,
                c.second as u8,
                c.micro,
            )
        }
    })
}

/// How a column's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// A portable type, read by [`decode_portable`].
    Portable(SqlType),
    /// `DECIMAL`/`NUMERIC`: the exact digits.
    Decimal,
    /// `DATE`.
    Date,
    /// `DATETIME`, `TIMESTAMP`.
    DateTime,
    /// `TIME`.
    Time,
    /// `JSON` (reports the binary charset on MySQL 8 but holds UTF-8 text).
    Json,
    /// `BIT(n)`: the bits as bytes.
    Bit,
}

impl Codec {
    pub(crate) fn of(col: &Column) -> Codec {
        use ColumnType::*;
        match col.column_type() {
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG | MYSQL_TYPE_LONGLONG
            | MYSQL_TYPE_YEAR => Codec::Portable(SqlType::BigInt),
            MYSQL_TYPE_FLOAT => Codec::Portable(SqlType::Real),
            MYSQL_TYPE_DOUBLE => Codec::Portable(SqlType::Double),
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Codec::Decimal,
            MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => Codec::Date,
            MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 | MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => {
                Codec::DateTime
            }
            MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Codec::Time,
            MYSQL_TYPE_JSON => Codec::Json,
            MYSQL_TYPE_BIT => Codec::Bit,
            _ if col.character_set() == BINARY_CHARSET && !col.flags().contains(ColumnFlags::ENUM_FLAG) => {
                Codec::Portable(SqlType::Blob)
            }
            _ => Codec::Portable(SqlType::Text),
        }
    }
}

/// The type name a column of each portable type, as the MySQL dialect creates it, reports
/// through [`athanor_core::Row::column_type`] (`Text` with a length is `VARCHAR`). Exhaustive: a
/// new [`SqlType`] does not compile until this backend says what it is stored as;
/// [`decode_portable`] then says how it is read.
pub fn native_type(t: SqlType) -> &'static str {
    match t {
        SqlType::Bool => "TINYINT",
        SqlType::SmallInt => "SMALLINT",
        SqlType::Integer => "INT",
        SqlType::BigInt => "BIGINT",
        SqlType::Real => "FLOAT",
        SqlType::Double => "DOUBLE",
        SqlType::Text => "TEXT",
        SqlType::Blob => "BLOB",
        SqlType::U8 => "TINYINT UNSIGNED",
        SqlType::U16 => "SMALLINT UNSIGNED",
        SqlType::U32 => "INT UNSIGNED",
        SqlType::Uuid => "BINARY",
        SqlType::Timestamp | SqlType::DateTime => "DATETIME",
        SqlType::Date => "DATE",
        SqlType::Time => "TIME",
        SqlType::U64 => "BIGINT",
        SqlType::Decimal => "DECIMAL",
        SqlType::Json => "JSON",
    }
}

/// The database's name for a column's type.
fn type_name(col: &Column) -> &'static str {
    use ColumnType::*;
    let binary = col.character_set() == BINARY_CHARSET;
    match col.column_type() {
        MYSQL_TYPE_TINY => "TINYINT",
        MYSQL_TYPE_SHORT => "SMALLINT",
        MYSQL_TYPE_INT24 => "MEDIUMINT",
        MYSQL_TYPE_LONG => "INT",
        MYSQL_TYPE_LONGLONG => "BIGINT",
        MYSQL_TYPE_YEAR => "YEAR",
        MYSQL_TYPE_FLOAT => "FLOAT",
        MYSQL_TYPE_DOUBLE => "DOUBLE",
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "DATE",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "DATETIME",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "TIME",
        MYSQL_TYPE_JSON => "JSON",
        MYSQL_TYPE_BIT => "BIT",
        MYSQL_TYPE_NULL => "NULL",
        _ if col.flags().contains(ColumnFlags::ENUM_FLAG) => "ENUM",
        _ if col.flags().contains(ColumnFlags::SET_FLAG) => "SET",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING if binary => "VARBINARY",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => "VARCHAR",
        MYSQL_TYPE_STRING if binary => "BINARY",
        MYSQL_TYPE_STRING => "CHAR",
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB if binary => "BLOB",
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => "TEXT",
        MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        _ => "UNKNOWN",
    }
}

/// One row as the driver returned it, decoded on demand by column type.
pub(crate) struct MySqlRow<'a> {
    row: &'a mysql::Row,
    /// Dates and times rendered as SQL text (the binary protocol sends them as numbers), by cell
    /// index; empty (no allocation) for rows without such cells.
    rendered: Vec<(usize, String)>,
}

impl<'a> MySqlRow<'a> {
    pub(crate) fn new(row: &'a mysql::Row) -> Self {
        let mut rendered = Vec::new();
        for (i, col) in row.columns_ref().iter().enumerate() {
            if let Some(v @ (Value::Date(..) | Value::Time(..))) = row.as_ref(i) {
                rendered.push((i, render_temporal(v, Codec::of(col))));
            }
        }
        MySqlRow { row, rendered }
    }
}

/// `.ffffff` without trailing zeros; nothing for zero.
fn write_fraction(s: &mut String, us: u32) {
    if us != 0 {
        let start = s.len();
        let _ = write!(s, ".{us:06}");
        let kept = s[start..].trim_end_matches('0').len();
        s.truncate(start + kept);
    }
}

/// A binary-protocol date or time as text: a `DATE` column without its (zero) time of day.
fn render_temporal(v: &Value, codec: Codec) -> String {
    let mut s = String::with_capacity(26);
    match *v {
        Value::Date(y, mo, d, h, mi, sec, us) => {
            let _ = write!(s, "{y:04}-{mo:02}-{d:02}");
            if codec != Codec::Date || h != 0 || mi != 0 || sec != 0 || us != 0 {
                let _ = write!(s, " {h:02}:{mi:02}:{sec:02}");
                write_fraction(&mut s, us);
            }
        }
        Value::Time(neg, days, h, mi, sec, us) => {
            let hours = u64::from(days) * 24 + u64::from(h);
            let _ = write!(s, "{}{hours:02}:{mi:02}:{sec:02}", if neg { "-" } else { "" });
            write_fraction(&mut s, us);
        }
        _ => {}
    }
    s
}

/// Text-protocol temporal text with the fraction's trailing zeros (and a bare `.`) removed, as
/// the binary protocol's values are rendered: `12:00:00.500000` → `12:00:00.5`.
fn trim_fraction(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let t = s.trim_end_matches('0');
    t.strip_suffix('.').unwrap_or(t)
}

impl Row for MySqlRow<'_> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        let (Some(col), Some(value)) = (self.row.columns_ref().get(idx), self.row.as_ref(idx)) else {
            return Err(Error::InvalidRequest {
                message: format!("column index {idx} out of range (row has {})", self.row.len()),
            });
        };
        match value {
            Value::NULL => Ok(ValueRef::Null),
            Value::Int(i) => Ok(ValueRef::I64(*i)),
            Value::UInt(u) => unsigned(*u, col),
            Value::Float(f) => Ok(ValueRef::F32(*f)),
            Value::Double(f) => Ok(ValueRef::F64(*f)),
            Value::Bytes(b) => decode_bytes(b, col),
            Value::Date(..) | Value::Time(..) => match self.rendered.iter().find(|(i, _)| *i == idx) {
                Some((_, s)) => Ok(ValueRef::Text(s)),
                None => Err(mismatch(col, "a portable value", "a date")),
            },
        }
    }

    fn column_name(&self, idx: usize) -> Option<&str> {
        self.row.columns_ref().get(idx).and_then(|c| std::str::from_utf8(c.name_ref()).ok())
    }

    fn column_type(&self, idx: usize) -> Option<&str> {
        self.row.columns_ref().get(idx).map(type_name)
    }
}

fn mismatch(col: &Column, expected: &'static str, found: impl Into<String>) -> Error {
    Error::TypeMismatch { column: col.name_str().into_owned(), expected, found: found.into() }
}

fn unsigned(u: u64, col: &Column) -> Result<ValueRef<'static>> {
    i64::try_from(u).map(ValueRef::I64).map_err(|_| mismatch(col, "i64", format!("unsigned integer {u}")))
}

fn text<'a>(b: &'a [u8], col: &Column) -> Result<&'a str> {
    std::str::from_utf8(b).map_err(|_| mismatch(col, "text", "bytes that are not UTF-8"))
}

/// Read a cell of a portable type that the driver gave as bytes (every cell of a text-protocol
/// row; strings and blobs in the binary protocol).
fn decode_portable<'a>(t: SqlType, b: &'a [u8], col: &Column) -> Result<ValueRef<'a>> {
    match t {
        // MySQL's booleans and integers of every width are read as i64.
        SqlType::Bool
        | SqlType::SmallInt
        | SqlType::Integer
        | SqlType::BigInt
        | SqlType::U8
        | SqlType::U16
        | SqlType::U32
        | SqlType::U64 => {
            let s = text(b, col)?;
            match s.parse::<i64>() {
                Ok(i) => Ok(ValueRef::I64(i)),
                Err(_) => match s.parse::<u64>() {
                    Ok(u) => unsigned(u, col),
                    Err(_) => Err(mismatch(col, "i64", format!("{s:?}"))),
                },
            }
        }
        SqlType::Real => {
            let s = text(b, col)?;
            s.parse::<f32>().map(ValueRef::F32).map_err(|_| mismatch(col, "f32", format!("{s:?}")))
        }
        SqlType::Double => {
            let s = text(b, col)?;
            s.parse::<f64>().map(ValueRef::F64).map_err(|_| mismatch(col, "f64", format!("{s:?}")))
        }
        SqlType::Text | SqlType::Json | SqlType::Timestamp | SqlType::Date | SqlType::DateTime | SqlType::Time => {
            text(b, col).map(ValueRef::Text)
        }
        SqlType::Decimal => text(b, col).map(ValueRef::Decimal),
        SqlType::Blob | SqlType::Uuid => Ok(ValueRef::Blob(b)),
    }
}

/// Decode a cell the driver gave as bytes.
fn decode_bytes<'a>(b: &'a [u8], col: &Column) -> Result<ValueRef<'a>> {
    match Codec::of(col) {
        Codec::Portable(t) => decode_portable(t, b, col),
        // Exact digits, whatever the scale (`SUM()` of integers is `DECIMAL(n, 0)`).
        Codec::Decimal => text(b, col).map(ValueRef::Decimal),
        Codec::Json => text(b, col).map(ValueRef::Text),
        Codec::Date | Codec::DateTime | Codec::Time => text(b, col).map(|s| ValueRef::Text(trim_fraction(s))),
        Codec::Bit => Ok(ValueRef::Blob(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: ColumnType, charset: u16) -> Column {
        Column::new(t).with_character_set(charset).with_name(b"c")
    }

    fn row(values: Vec<Value>, cols: Vec<Column>) -> mysql::Row {
        mysql_common::row::new_row(values, cols.into())
    }

    #[test]
    fn params() {
        let p = to_params(&[
            ValueRef::Null,
            ValueRef::Bool(true),
            ValueRef::I16(-2),
            ValueRef::I32(3),
            ValueRef::I64(i64::MIN),
            ValueRef::F32(1.5),
            ValueRef::F64(-0.25),
            ValueRef::Text("é"),
            ValueRef::Blob(&[0, 255]),
            ValueRef::Decimal("-12.50"),
            ValueRef::U64(7),
        ]);
        assert_eq!(
            p.ok(),
            Some(vec![
                Value::NULL,
                Value::Int(1),
                Value::Int(-2),
                Value::Int(3),
                Value::Int(i64::MIN),
                Value::Float(1.5),
                Value::Double(-0.25),
                Value::Bytes("é".as_bytes().to_vec()),
                Value::Bytes(vec![0, 255]),
                Value::Bytes(b"-12.50".to_vec()),
                Value::UInt(7),
            ])
        );
        let d = rust_decimal_free_computed();
        assert!(to_params(&[ValueRef::Computed(&d)]).is_err(), "the engine resolves computed values");
    }

    /// A computed value without any type feature.
    fn rust_decimal_free_computed() -> impl athanor_core::ToValue {
        #[derive(Debug)]
        struct Made;
        impl athanor_core::ToValue for Made {
            fn to_value(&self) -> athanor_core::Result<athanor_core::Value> {
                Ok(athanor_core::Value::I64(1))
            }
        }
        Made
    }

    #[test]
    fn text_protocol_cells_are_parsed_by_column_type() {
        use ColumnType::*;
        let cols = [
            col(MYSQL_TYPE_LONGLONG, 63),
            col(MYSQL_TYPE_LONGLONG, 63).with_flags(ColumnFlags::UNSIGNED_FLAG),
            col(MYSQL_TYPE_LONGLONG, 63).with_flags(ColumnFlags::UNSIGNED_FLAG),
            col(MYSQL_TYPE_FLOAT, 63),
            col(MYSQL_TYPE_DOUBLE, 63),
            col(MYSQL_TYPE_NEWDECIMAL, 63),
            col(MYSQL_TYPE_NEWDECIMAL, 63).with_decimals(4),
            col(MYSQL_TYPE_VAR_STRING, 45),
            col(MYSQL_TYPE_BLOB, 63),
            col(MYSQL_TYPE_DATETIME, 63),
            col(MYSQL_TYPE_NEWDECIMAL, 63),
            col(MYSQL_TYPE_DATETIME, 63).with_decimals(6),
            col(MYSQL_TYPE_TIME, 63).with_decimals(6),
            col(MYSQL_TYPE_DATE, 63),
        ];
        let vals = [
            "-42",
            "18446744073709551615",
            "7",
            "1.5",
            "0.1",
            "123",
            "34.5000",
            "héllo",
            "\u{0}\u{7f}",
            "2024-01-31 12:00:00",
            "99999999999999999999999",
            "2024-01-31 12:00:00.500000",
            "-838:59:59.000000",
            "2024-02-29",
        ];
        let expected = [
            Ok(ValueRef::I64(-42)),
            Err(()),
            Ok(ValueRef::I64(7)),
            Ok(ValueRef::F32(1.5)),
            Ok(ValueRef::F64(0.1)),
            Ok(ValueRef::Decimal("123")),
            Ok(ValueRef::Decimal("34.5000")),
            Ok(ValueRef::Text("héllo")),
            Ok(ValueRef::Blob(&[0, 0x7f])),
            Ok(ValueRef::Text("2024-01-31 12:00:00")),
            Ok(ValueRef::Decimal("99999999999999999999999")),
            Ok(ValueRef::Text("2024-01-31 12:00:00.5")),
            Ok(ValueRef::Text("-838:59:59")),
            Ok(ValueRef::Text("2024-02-29")),
        ];
        for ((c, v), want) in cols.iter().zip(vals).zip(expected) {
            let got = decode_bytes(v.as_bytes(), c);
            match want {
                Ok(w) => assert_eq!(got.unwrap(), w, "{v}"),
                Err(()) => assert!(matches!(got, Err(Error::TypeMismatch { .. })), "{v}: {got:?}"),
            }
        }
        assert!(matches!(decode_bytes(&[0xff], &col(MYSQL_TYPE_VAR_STRING, 45)), Err(Error::TypeMismatch { .. })));
    }

    #[test]
    fn binary_protocol_cells() {
        use ColumnType::*;
        let cols = vec![
            col(MYSQL_TYPE_LONGLONG, 63),
            col(MYSQL_TYPE_LONGLONG, 63),
            col(MYSQL_TYPE_FLOAT, 63),
            col(MYSQL_TYPE_DOUBLE, 63),
            col(MYSQL_TYPE_DATETIME, 63),
            col(MYSQL_TYPE_TIME, 63),
            col(MYSQL_TYPE_LONG_BLOB, 63),
            col(MYSQL_TYPE_NULL, 63),
            col(MYSQL_TYPE_DATE, 63),
            col(MYSQL_TYPE_DATETIME, 63),
            col(MYSQL_TYPE_NEWDECIMAL, 63).with_decimals(2),
        ];
        let r = row(
            vec![
                Value::Int(5),
                Value::UInt(u64::MAX),
                Value::Float(0.5),
                Value::Double(2.0),
                Value::Date(2024, 1, 31, 12, 5, 6, 7),
                Value::Time(true, 1, 2, 3, 4, 0),
                Value::Bytes(vec![1, 2]),
                Value::NULL,
                Value::Date(2024, 2, 29, 0, 0, 0, 0),
                Value::Date(2024, 2, 29, 0, 0, 0, 500_000),
                Value::Bytes(b"-1.50".to_vec()),
            ],
            cols,
        );
        let r = MySqlRow::new(&r);
        assert_eq!(r.len(), 11);
        assert_eq!(r.get(0).unwrap(), ValueRef::I64(5));
        assert!(matches!(r.get(1), Err(Error::TypeMismatch { .. })));
        assert_eq!(r.get(2).unwrap(), ValueRef::F32(0.5));
        assert_eq!(r.get(3).unwrap(), ValueRef::F64(2.0));
        assert_eq!(r.get(4).unwrap(), ValueRef::Text("2024-01-31 12:05:06.000007"));
        assert_eq!(r.get(5).unwrap(), ValueRef::Text("-26:03:04"));
        assert_eq!(r.get(6).unwrap(), ValueRef::Blob(&[1, 2]));
        assert_eq!(r.get(7).unwrap(), ValueRef::Null);
        assert_eq!(r.get(8).unwrap(), ValueRef::Text("2024-02-29"));
        assert_eq!(r.get(9).unwrap(), ValueRef::Text("2024-02-29 00:00:00.5"));
        assert_eq!(r.get(10).unwrap(), ValueRef::Decimal("-1.50"));
        assert!(matches!(r.get(11), Err(Error::InvalidRequest { .. })));
        assert_eq!(r.column_name(0), Some("c"));
        assert_eq!(r.column_type(8), Some("DATE"));
        assert_eq!(r.index_of("c"), Some(0));
    }
}
