//! The serialized forms docs/serde.md lists for the field types of the type features, with
//! feature `serde`: each type crate's own serde feature, turned on by athanor-core's.
#![cfg(all(
    feature = "serde",
    feature = "json",
    feature = "decimal",
    feature = "jiff",
    feature = "chrono",
    feature = "time",
    feature = "uuid"
))]
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor_core::serde_json::{self, json, Value};

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Each form, and the value read back from it.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: T, form: Value) {
    assert_eq!(to_json(&v), form);
    assert_eq!(serde_json::from_value::<T>(form).unwrap(), v);
}

#[test]
fn decimals_are_exact_strings() {
    round_trip(rust_decimal::Decimal::new(1250, 2), json!("12.50"));
    round_trip(rust_decimal::Decimal::new(-1, 28), json!("-0.0000000000000000000000000001"));
    // A JSON number reads too.
    assert_eq!(serde_json::from_value::<rust_decimal::Decimal>(json!(7.5)).unwrap(), rust_decimal::Decimal::new(75, 1));
}

#[test]
fn jiff_types_are_iso_8601_text() {
    round_trip("2024-03-01T12:00:00.123456Z".parse::<jiff::Timestamp>().unwrap(), json!("2024-03-01T12:00:00.123456Z"));
    round_trip(jiff::civil::date(2024, 3, 1), json!("2024-03-01"));
    round_trip(jiff::civil::date(2024, 3, 1).at(12, 0, 0, 0), json!("2024-03-01T12:00:00"));
    round_trip(jiff::civil::time(12, 30, 0, 500_000_000), json!("12:30:00.5"));
    // Another offset reads as the same instant.
    let t: jiff::Timestamp = serde_json::from_value(json!("2024-03-01T14:00:00+02:00")).unwrap();
    assert_eq!(to_json(&t), json!("2024-03-01T12:00:00Z"));
}

#[test]
fn chrono_types_are_rfc_3339_text() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let dt = d.and_hms_micro_opt(12, 0, 0, 250_000).unwrap();
    round_trip(Utc.from_utc_datetime(&dt), json!("2024-03-01T12:00:00.250Z"));
    round_trip(d, json!("2024-03-01"));
    round_trip(dt, json!("2024-03-01T12:00:00.250"));
    round_trip(dt.time(), json!("12:00:00.250"));
    let t: chrono::DateTime<Utc> = serde_json::from_value(json!("2024-03-01T14:00:00+02:00")).unwrap();
    assert_eq!(to_json(&t), json!("2024-03-01T12:00:00Z"));
}

#[test]
fn time_types_are_the_time_crates_text() {
    use time::{Date, Month, PrimitiveDateTime, Time};
    let d = Date::from_calendar_date(2024, Month::March, 1).unwrap();
    let t = Time::from_hms_milli(12, 0, 0, 250).unwrap();
    let dt = PrimitiveDateTime::new(d, t);
    round_trip(dt.assume_utc(), json!("2024-03-01 12:00:00.25 +00:00:00"));
    round_trip(dt, json!("2024-03-01 12:00:00.25"));
    round_trip(d, json!("2024-03-01"));
    round_trip(t, json!("12:00:00.25"));
    // RFC 3339 with `#[serde(with = "time::serde::rfc3339")]` (time's `serde-well-known`, on).
    struct At(time::OffsetDateTime);
    impl serde::Serialize for At {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            time::serde::rfc3339::serialize(&self.0, s)
        }
    }
    assert_eq!(to_json(&At(dt.assume_utc())), json!("2024-03-01T12:00:00.25Z"));
}

#[test]
fn uuids_are_hyphenated_text() {
    let u = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
    round_trip(u, json!("67e55044-10b1-426f-9247-bb680e5fe0c8"));
    assert_eq!(serde_json::from_value::<uuid::Uuid>(json!("67e5504410b1426f9247bb680e5fe0c8")).unwrap(), u);
}

#[test]
fn floats_beyond_json_are_null() {
    assert_eq!(to_json(&f64::NAN), Value::Null);
    assert_eq!(to_json(&f32::INFINITY), Value::Null);
    assert!(serde_json::from_value::<f64>(Value::Null).is_err());
    assert_eq!(to_json(&vec![1u8, 2]), json!([1, 2]));
}

#[test]
fn json_documents_are_nested() {
    round_trip(json!({"a": [1, 2.5, null]}), json!({"a": [1, 2.5, null]}));
    round_trip(athanor_core::json::Json(vec!["x".to_string()]), json!(["x"]));
}
