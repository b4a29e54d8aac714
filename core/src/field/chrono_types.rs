//! chrono's types (cargo feature `chrono`), stored as jiff's are (see `docs/types.md`):
//! `DateTime<Utc>` as an instant, `NaiveDate`, `NaiveDateTime` and `NaiveTime` as civil values.
//! A leap second (chrono's 60th second) is stored as 59.999999.

use super::*;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

/// Days from 0001-01-01 (chrono's count) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

fn time_micros(t: &NaiveTime) -> i64 {
    let nanos = t.nanosecond().min(999_999_999);
    i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(nanos / 1000)
}

fn time_of(us: i64) -> Option<NaiveTime> {
    if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
        return None;
    }
    NaiveTime::from_num_seconds_from_midnight_opt((us / 1_000_000) as u32, (us % 1_000_000 * 1000) as u32)
}

fn date_days(d: &NaiveDate) -> i32 {
    d.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

fn date_of(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?.checked_add(UNIX_EPOCH_FROM_CE)?)
}

fn datetime_micros(dt: &NaiveDateTime) -> i64 {
    i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
}

fn datetime_of(us: i64) -> Option<NaiveDateTime> {
    let date = date_of(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
    Some(date.and_time(time_of(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?))
}

fn range<T: SqlField>(v: &T) -> Result<()> {
    temporal_range(v.as_value_ref())
}

temporal_field!(
    DateTime<Utc>,
    "chrono::DateTime<Utc>",
    Timestamp,
    |t: &DateTime<Utc>| datetime_micros(&t.naive_utc()),
    |us| datetime_of(us).map(|dt| dt.and_utc()),
    crate::temporal::parse_timestamp,
    range
);
temporal_field!(NaiveDate, "chrono::NaiveDate", Date, date_days, date_of, crate::temporal::parse_date, range);
temporal_field!(
    NaiveDateTime,
    "chrono::NaiveDateTime",
    DateTime,
    datetime_micros,
    datetime_of,
    crate::temporal::parse_datetime,
    range
);
temporal_field!(NaiveTime, "chrono::NaiveTime", Time, time_micros, time_of, crate::temporal::parse_time, range);
