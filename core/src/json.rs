//! JSON documents as field types (cargo feature `json`): `serde_json::Value`, and [`Json<T>`]
//! for any `Serialize + DeserializeOwned` type. Stored as `JSONB` on PostgreSQL, `JSON` on MySQL
//! (MariaDB's `JSON` is `LONGTEXT` with a `json_valid` check) and text on SQLite; see
//! `docs/types.md`.
//!
//! A document is bound as its text and read back from the text each database returns, so a value
//! reads back equal (`serde_json::Value`'s objects compare without regard to key order, which
//! PostgreSQL's `JSONB` does not keep). Documents are not comparable in filters: each database
//! compares them differently (PostgreSQL by its `JSONB` order, the others as text).

use crate::error::{Error, Result};
use crate::field::SqlField;
use crate::value::{mismatch, FromValue, SqlType, ToValue, Value, ValueRef};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A field stored as a JSON document: `pub settings: Json<Settings>` for any
/// `Serialize + DeserializeOwned` type (SQLAlchemy's `JSON` type with a Python object).
///
/// ```
/// use athanor_core::json::Json;
/// let tags = Json(vec!["rust".to_string(), "orm".to_string()]);
/// assert_eq!(tags.len(), 2); // Deref to the value
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Json<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// With feature `serde`, a `Json<T>` serializes as its `T` (transparently: `Json(vec![1, 2])` is
/// `[1,2]`, not `[[1,2]]`), so a model holding one serializes its document as nested JSON.
#[cfg(feature = "serde")]
impl<T: Serialize> Serialize for Json<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// With feature `serde`, a `Json<T>` deserializes from a `T`.
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Json<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        T::deserialize(deserializer).map(Json)
    }
}

/// The text of a document, refusing what one database could not store: PostgreSQL's `JSONB`
/// rejects the character U+0000 in a string, so every database refuses it.
fn document<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::invalid(format!("the value does not serialize to JSON: {e}")))?;
    if text.contains("\\u0000") {
        return Err(Error::invalid(
            "a JSON string holding the character U+0000, which PostgreSQL's JSONB cannot store (refused on \
             every database)",
        ));
    }
    Ok(text)
}

fn parse<T: DeserializeOwned>(v: ValueRef<'_>, expected: &'static str) -> Result<T> {
    let text = match v {
        ValueRef::Text(s) => s.as_bytes(),
        ValueRef::Blob(b) => b,
        other => return mismatch(expected, other),
    };
    serde_json::from_slice(text).map_err(|e| Error::TypeMismatch {
        column: String::new(),
        expected,
        found: format!("a document that does not read as {expected} ({e})"),
    })
}

impl FromValue for serde_json::Value {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        parse(v, "a JSON document")
    }
}

impl ToValue for serde_json::Value {
    fn to_value(&self) -> Result<Value> {
        document(self).map(Value::Text)
    }
}

impl SqlField for serde_json::Value {
    const SQL_TYPE: SqlType = SqlType::Json;
    const NULLABLE: bool = false;
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Computed(self)
    }
    fn check(&self) -> Result<()> {
        document(self).map(drop)
    }
}

impl<T: DeserializeOwned> FromValue for Json<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        parse(v, std::any::type_name::<T>()).map(Json)
    }
}

impl<T: Serialize + std::fmt::Debug> ToValue for Json<T> {
    fn to_value(&self) -> Result<Value> {
        document(&self.0).map(Value::Text)
    }
}

impl<T: Serialize + DeserializeOwned + std::fmt::Debug> SqlField for Json<T> {
    const SQL_TYPE: SqlType = SqlType::Json;
    const NULLABLE: bool = false;
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Computed(self)
    }
    fn check(&self) -> Result<()> {
        document(&self.0).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn documents_round_trip_and_nul_is_refused() {
        let v = serde_json::json!({"b": [1, 2.5, null, "x"], "a": {"c": true}});
        let text = v.to_value().ok();
        let back = text.as_ref().and_then(|t| serde_json::Value::from_value(t.as_ref()).ok());
        assert_eq!(back, Some(v));
        assert!(serde_json::json!("a\u{0}b").check().is_err());
        assert!(serde_json::Value::from_value(ValueRef::Text("{oops")).is_err());
        assert!(serde_json::Value::from_value(ValueRef::I64(1)).is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_serializes_transparently() {
        let doc = Json(vec![1, 2]);
        assert_eq!(serde_json::to_string(&doc).unwrap(), "[1,2]");
        let back: Json<Vec<i32>> = serde_json::from_str("[3]").unwrap();
        assert_eq!(back, Json(vec![3]));
    }

    #[test]
    fn a_map_with_non_string_keys_does_not_serialize() {
        let bad = Json(HashMap::from([((1, 2), "x".to_string())]));
        assert!(matches!(bad.check(), Err(Error::InvalidRequest { .. })));
        assert!(bad.to_value().is_err());
        let good: Json<Vec<i32>> = Json::from_value(ValueRef::Text("[1,2]")).unwrap_or_default();
        assert_eq!(good.0, vec![1, 2]);
    }
}
