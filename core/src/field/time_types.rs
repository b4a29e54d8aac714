//! The time crate's types (cargo feature `time`), stored as jiff's are (see `docs/types.md`):
//! `OffsetDateTime` as an instant (UTC only: another offset is refused before writing, since the
//! column keeps no offset), `Date`, `PrimitiveDateTime` and `Time` as civil values.

use super::*;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

fn date_days(d: &Date) -> i32 {
    d.to_julian_day() - UNIX_EPOCH_JULIAN_DAY
}

fn date_of(days: i64) -> Option<Date> {
    Date::from_julian_day(i32::try_from(days).ok()?.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()
}

fn time_micros(t: &Time) -> i64 {
    let (h, m, s, us) = t.as_hms_micro();
    (i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * 1_000_000 + i64::from(us)
}

fn time_of(us: i64) -> Option<Time> {
    if !(0..crate::temporal::MICROS_PER_DAY).contains(&us) {
        return None;
    }
    let secs = us / 1_000_000;
    Time::from_hms_micro((secs / 3600) as u8, (secs / 60 % 60) as u8, (secs % 60) as u8, (us % 1_000_000) as u32).ok()
}

fn datetime_micros(dt: &PrimitiveDateTime) -> i64 {
    i64::from(date_days(&dt.date())) * crate::temporal::MICROS_PER_DAY + time_micros(&dt.time())
}

fn datetime_of(us: i64) -> Option<PrimitiveDateTime> {
    let date = date_of(us.div_euclid(crate::temporal::MICROS_PER_DAY))?;
    Some(PrimitiveDateTime::new(date, time_of(us.rem_euclid(crate::temporal::MICROS_PER_DAY))?))
}

/// The instant in microseconds, floored, whatever the offset.
fn instant_micros(t: &OffsetDateTime) -> i64 {
    let us = t.unix_timestamp_nanos().div_euclid(1000);
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

temporal_field!(
    OffsetDateTime,
    "time::OffsetDateTime",
    Timestamp,
    instant_micros,
    |us| datetime_of(us).map(PrimitiveDateTime::assume_utc),
    crate::temporal::parse_timestamp,
    |t: &OffsetDateTime| {
        if !t.offset().is_utc() {
            return Err(Error::invalid(format!(
                "the instant {t} has the offset {}, but the column stores UTC and keeps no offset: convert it \
                 with .to_offset(time::UtcOffset::UTC)",
                t.offset()
            )));
        }
        crate::temporal::check_timestamp(instant_micros(t))
    }
);
temporal_field!(Date, "time::Date", Date, date_days, date_of, crate::temporal::parse_date, |d: &Date| {
    crate::temporal::check_date(date_days(d).into())
});
temporal_field!(
    PrimitiveDateTime,
    "time::PrimitiveDateTime",
    DateTime,
    datetime_micros,
    datetime_of,
    crate::temporal::parse_datetime,
    |dt: &PrimitiveDateTime| crate::temporal::check_timestamp(datetime_micros(dt))
);
temporal_field!(Time, "time::Time", Time, time_micros, time_of, crate::temporal::parse_time, |_: &Time| Ok(()));
