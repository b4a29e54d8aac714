//! `jiff::Timestamp` (cargo feature `jiff`, the documented choice for instants): stored in UTC
//! with microsecond precision. A finer value is truncated toward the past when bound.

use super::*;

fn micros(t: &jiff::Timestamp) -> i64 {
    // Floor to whole microseconds (jiff's own range fits an i64 of them).
    let us = t.as_nanosecond().div_euclid(1000);
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

fn date_days(d: &jiff::civil::Date) -> i32 {
    let days = crate::temporal::days_from_civil(d.year().into(), d.month() as u32, d.day() as u32);
    i32::try_from(days).unwrap_or(i32::MIN)
}

fn date_of_days(days: i64) -> Option<jiff::civil::Date> {
    let (y, m, d) = crate::temporal::civil_from_days(days);
    jiff::civil::Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

fn time_micros(t: &jiff::civil::Time) -> i64 {
    (i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())) * 1_000_000
        + i64::from(t.subsec_nanosecond()) / 1000
}

fn time_of_micros(us: i64) -> Option<jiff::civil::Time> {
    if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
        return None;
    }
    let secs = us / 1_000_000;
    jiff::civil::Time::new(
        (secs / 3600) as i8,
        (secs / 60 % 60) as i8,
        (secs % 60) as i8,
        (us % 1_000_000 * 1000) as i32,
    )
    .ok()
}

fn datetime_micros(dt: &jiff::civil::DateTime) -> i64 {
    i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
}

fn datetime_of(us: i64) -> Option<jiff::civil::DateTime> {
    let date = date_of_days(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
    let time = time_of_micros(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?;
    Some(jiff::civil::DateTime::from_parts(date, time))
}

fn range<T: SqlField>(v: &T) -> Result<()> {
    temporal_range(v.as_value_ref())
}

temporal_field!(
    jiff::Timestamp,
    "jiff::Timestamp",
    Timestamp,
    micros,
    |us| jiff::Timestamp::from_microsecond(us).ok(),
    crate::temporal::parse_timestamp,
    range
);
temporal_field!(
    jiff::civil::Date,
    "jiff::civil::Date",
    Date,
    date_days,
    date_of_days,
    crate::temporal::parse_date,
    range
);
temporal_field!(
    jiff::civil::DateTime,
    "jiff::civil::DateTime",
    DateTime,
    datetime_micros,
    datetime_of,
    crate::temporal::parse_datetime,
    range
);
temporal_field!(
    jiff::civil::Time,
    "jiff::civil::Time",
    Time,
    time_micros,
    time_of_micros,
    crate::temporal::parse_time,
    range
);
