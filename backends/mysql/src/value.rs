//! [`ValueRef`] parameters -> `mysql::Value`, and rows of `mysql::Value` -> [`ValueRef`] cells.

use athanor_core::{Error, Result, Row, ValueRef};
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::{Column, Value};
use std::fmt::Write as _;

/// The `binary` character set: the column holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// Convert parameters. NaN and ±infinity are [`Error::Unsupported`]: MySQL has no way to store them.
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
        ValueRef::F32(f) if f.is_finite() => Value::Float(f),
        ValueRef::F64(f) if f.is_finite() => Value::Double(f),
        ValueRef::F32(f) => return Err(non_finite(f.into())),
        ValueRef::F64(f) => return Err(non_finite(f)),
        ValueRef::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    })
}

fn non_finite(f: f64) -> Error {
    Error::Unsupported { feature: format!("storing the float {f} (NaN and infinities)"), dialect: "mysql" }
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
        for i in 0..row.len() {
            if let Some(v @ (Value::Date(..) | Value::Time(..))) = row.as_ref(i) {
                rendered.push((i, render_temporal(v)));
            }
        }
        MySqlRow { row, rendered }
    }
}

fn render_temporal(v: &Value) -> String {
    let mut s = String::with_capacity(26);
    match *v {
        Value::Date(y, mo, d, h, mi, sec, us) => {
            let _ = write!(s, "{y:04}-{mo:02}-{d:02}");
            if h != 0 || mi != 0 || sec != 0 || us != 0 {
                let _ = write!(s, " {h:02}:{mi:02}:{sec:02}");
                if us != 0 {
                    let _ = write!(s, ".{us:06}");
                }
            }
        }
        Value::Time(neg, days, h, mi, sec, us) => {
            let hours = u64::from(days) * 24 + u64::from(h);
            let _ = write!(s, "{}{hours:02}:{mi:02}:{sec:02}", if neg { "-" } else { "" });
            if us != 0 {
                let _ = write!(s, ".{us:06}");
            }
        }
        _ => {}
    }
    s
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
}

fn mismatch(col: &Column, expected: &'static str, found: impl Into<String>) -> Error {
    Error::TypeMismatch { column: col.name_str().into_owned(), expected, found: found.into() }
}

fn unsigned(u: u64, col: &Column) -> Result<ValueRef<'static>> {
    i64::try_from(u).map(ValueRef::I64).map_err(|_| mismatch(col, "i64", format!("unsigned integer {u}")))
}

fn is_integer(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR
    )
}

fn is_temporal(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_DATE
            | MYSQL_TYPE_NEWDATE
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_TIME2
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_DATETIME2
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_TIMESTAMP2
    )
}

fn text<'a>(b: &'a [u8], col: &Column) -> Result<&'a str> {
    std::str::from_utf8(b).map_err(|_| mismatch(col, "text", "bytes that are not UTF-8"))
}

/// Decode a cell the driver gave as bytes: every cell of a text-protocol row, and strings,
/// blobs and decimals in the binary protocol.
fn decode_bytes<'a>(b: &'a [u8], col: &Column) -> Result<ValueRef<'a>> {
    use ColumnType::*;
    let t = col.column_type();
    if is_integer(t) {
        let s = text(b, col)?;
        return match s.parse::<i64>() {
            Ok(i) => Ok(ValueRef::I64(i)),
            Err(_) => match s.parse::<u64>() {
                Ok(u) => unsigned(u, col),
                Err(_) => Err(mismatch(col, "i64", format!("{s:?}"))),
            },
        };
    }
    match t {
        MYSQL_TYPE_FLOAT => {
            let s = text(b, col)?;
            s.parse::<f32>().map(ValueRef::F32).map_err(|_| mismatch(col, "f32", format!("{s:?}")))
        }
        MYSQL_TYPE_DOUBLE => {
            let s = text(b, col)?;
            s.parse::<f64>().map(ValueRef::F64).map_err(|_| mismatch(col, "f64", format!("{s:?}")))
        }
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => {
            let s = text(b, col)?;
            if col.decimals() == 0 {
                // SUM() of integers is DECIMAL(n, 0): an integer when it fits, else its exact text.
                Ok(s.parse::<i64>().map(ValueRef::I64).unwrap_or(ValueRef::Text(s)))
            } else {
                s.parse::<f64>().map(ValueRef::F64).map_err(|_| mismatch(col, "f64", format!("{s:?}")))
            }
        }
        MYSQL_TYPE_BIT => Ok(ValueRef::Blob(b)),
        // JSON reports the binary charset on MySQL 8 but holds UTF-8 text.
        MYSQL_TYPE_JSON => text(b, col).map(ValueRef::Text),
        _ if is_temporal(t) => text(b, col).map(ValueRef::Text),
        _ if col.character_set() == BINARY_CHARSET && !col.flags().contains(ColumnFlags::ENUM_FLAG) => {
            Ok(ValueRef::Blob(b))
        }
        _ => text(b, col).map(ValueRef::Text),
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
        ])
        .unwrap();
        assert_eq!(
            p,
            vec![
                Value::NULL,
                Value::Int(1),
                Value::Int(-2),
                Value::Int(3),
                Value::Int(i64::MIN),
                Value::Float(1.5),
                Value::Double(-0.25),
                Value::Bytes("é".as_bytes().to_vec()),
                Value::Bytes(vec![0, 255]),
            ]
        );
        for bad in [ValueRef::F64(f64::NAN), ValueRef::F64(f64::INFINITY), ValueRef::F32(f32::NEG_INFINITY)] {
            assert!(matches!(to_params(&[bad]), Err(Error::Unsupported { dialect: "mysql", .. })), "{bad:?}");
        }
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
        ];
        let expected = [
            Ok(ValueRef::I64(-42)),
            Err(()),
            Ok(ValueRef::I64(7)),
            Ok(ValueRef::F32(1.5)),
            Ok(ValueRef::F64(0.1)),
            Ok(ValueRef::I64(123)),
            Ok(ValueRef::F64(34.5)),
            Ok(ValueRef::Text("héllo")),
            Ok(ValueRef::Blob(&[0, 0x7f])),
            Ok(ValueRef::Text("2024-01-31 12:00:00")),
            Ok(ValueRef::Text("99999999999999999999999")),
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
            ],
            cols,
        );
        let r = MySqlRow::new(&r);
        assert_eq!(r.len(), 8);
        assert_eq!(r.get(0).unwrap(), ValueRef::I64(5));
        assert!(matches!(r.get(1), Err(Error::TypeMismatch { .. })));
        assert_eq!(r.get(2).unwrap(), ValueRef::F32(0.5));
        assert_eq!(r.get(3).unwrap(), ValueRef::F64(2.0));
        assert_eq!(r.get(4).unwrap(), ValueRef::Text("2024-01-31 12:05:06.000007"));
        assert_eq!(r.get(5).unwrap(), ValueRef::Text("-26:03:04"));
        assert_eq!(r.get(6).unwrap(), ValueRef::Blob(&[1, 2]));
        assert_eq!(r.get(7).unwrap(), ValueRef::Null);
        assert!(matches!(r.get(8), Err(Error::InvalidRequest { .. })));
    }
}
