//! `uuid::Uuid` (cargo feature `uuid`): stored as its 16 bytes (`UUID` on PostgreSQL,
//! `BINARY(16)` on MySQL, `BLOB` on SQLite), so it sorts by its bytes on every database.

use super::*;
use crate::value::mismatch;

impl FromValue for uuid::Uuid {
    /// From 16 bytes, or from text in any form `uuid` parses (hyphenated, simple, braced,
    /// URN: what PostgreSQL renders and what another client may have stored as text).
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => uuid::Uuid::from_slice(b).or_else(|_| mismatch("Uuid", v)),
            ValueRef::Text(s) => uuid::Uuid::try_parse(s).or_else(|_| mismatch("Uuid", v)),
            other => mismatch("Uuid", other),
        }
    }
}

impl SqlField for uuid::Uuid {
    const SQL_TYPE: SqlType = SqlType::Uuid;
    const NULLABLE: bool = false;
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Blob(self.as_bytes())
    }
}

impl From<uuid::Uuid> for Value {
    fn from(v: uuid::Uuid) -> Value {
        Value::Blob(v.as_bytes().to_vec())
    }
}

column_value!(uuid::Uuid);
