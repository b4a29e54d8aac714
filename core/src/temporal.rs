//! Instants as Athanor stores them: microseconds since 1970-01-01T00:00:00Z
//! ([`crate::Value::Timestamp`]), their calendar form, and the one text form written to SQLite.
//!
//! Pure arithmetic on the proleptic Gregorian calendar (no time-zone database): backends use it
//! to encode and decode their native date-time types, and `FromValue` uses it to read the text a
//! database or another client wrote.

use crate::error::{Error, Result};
use std::fmt::Write as _;

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The earliest instant every database stores: 0001-01-01T00:00:00Z.
pub const MIN_TIMESTAMP: i64 = -62_135_596_800_000_000;

/// The latest instant every database stores: 9999-12-31T23:59:59.999999Z.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799_999_999;

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day counted from 1970-01-01 of a proleptic Gregorian date (`month` 1–12, `day` 1–31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An instant's UTC calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// The year (1–9999 for a portable instant).
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
    /// 0–999 999.
    pub micro: u32,
}

/// The UTC calendar fields of an instant.
pub fn civil_from_micros(micros: i64) -> Civil {
    let (year, month, day) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
    let in_day = micros.rem_euclid(MICROS_PER_DAY);
    let secs = in_day / 1_000_000;
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs / 60 % 60) as u32,
        second: (secs % 60) as u32,
        micro: (in_day % 1_000_000) as u32,
    }
}

/// The instant of UTC calendar fields.
pub fn micros_from_civil(c: &Civil) -> i64 {
    let secs = i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second);
    days_from_civil(c.year, c.month, c.day) * MICROS_PER_DAY + secs * 1_000_000 + i64::from(c.micro)
}

/// [`Error::InvalidRequest`] for an instant outside 0001-01-01 … 9999-12-31 UTC, the range every
/// database stores (MySQL's `DATETIME` ends at 9999; SQLite's text sorts only with four-digit
/// years).
///
/// # Errors
/// As above.
pub fn check_timestamp(micros: i64) -> Result<()> {
    if (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&micros) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the timestamp {micros} µs after 1970-01-01 is outside 0001-01-01 … 9999-12-31 UTC, the range every \
             database stores"
        )))
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six fraction digits: the form stored in SQLite, which
/// sorts as text in time order for years 0001–9999.
pub fn format_timestamp(micros: i64) -> String {
    let c = civil_from_micros(micros);
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micro
    );
    out
}

/// The parts of a date-time text: the calendar fields (UTC when `offset` says so), the
/// nanoseconds of the second, and the offset in seconds when the text has one.
struct Parsed {
    civil: Civil,
    nanos: i64,
    offset: Option<i64>,
}

fn digits(r: &[u8]) -> Option<i64> {
    if r.is_empty() || !r.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(r).ok()?.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    (days_from_civil(year + i64::from(month == 12), month % 12 + 1, 1) - days_from_civil(year, month, 1)) as u32
}

/// `YYYY-MM-DD`: (year, month, day) when it is a real date.
fn parse_ymd(b: &[u8]) -> Option<(i64, u32, u32)> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let (month, day) = (month as u32, day as u32);
    (day <= days_in_month(year, month)).then_some((year, month, day))
}

/// `HH:MM[:SS[.fraction]]` then the rest: (hour, minute, second, nanoseconds, rest).
fn parse_hms(b: &[u8]) -> Option<(u32, u32, u32, i64, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (hour, minute) = (digits(&b[0..2])?, digits(&b[3..5])?);
    let mut i = 5;
    let mut second = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let frac = &b[start..i];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            nanos = digits(frac)? * 10_i64.pow(9 - frac.len() as u32);
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((hour as u32, minute as u32, second as u32, nanos, &b[i..]))
}

/// `Z`, `+HH[:MM]`, `-HH[:MM]` (`Some(seconds)`), or nothing (`None`).
fn parse_offset(b: &[u8]) -> Option<Option<i64>> {
    Some(match b {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            Some(if *sign == b'-' { -o } else { o })
        }
        _ => return None,
    })
}

fn parse_date_time(s: &str) -> Option<Parsed> {
    let b = s.trim().as_bytes();
    if b.len() < 16 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = parse_ymd(&b[..10])?;
    let (hour, minute, second, nanos, rest) = parse_hms(&b[11..])?;
    let offset = parse_offset(rest)?;
    Some(Parsed { civil: Civil { year, month, day, hour, minute, second, micro: 0 }, nanos, offset })
}

/// Read an instant from text: `YYYY-MM-DD`, `T` or a space, `HH:MM[:SS[.fraction]]`, then `Z`,
/// `+HH[:MM]`, `-HH[:MM]` or nothing (UTC). A fraction finer than a microsecond is truncated
/// toward the past. This reads what Athanor writes to SQLite, what PostgreSQL and MySQL render,
/// and the usual ISO 8601 text another client writes. `None` when the text is not such an
/// instant.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let p = parse_date_time(s)?;
    let micros = micros_from_civil(&p.civil) - p.offset.unwrap_or(0) * 1_000_000;
    Some(micros + p.nanos.div_euclid(1000))
}

/// Read a civil date-time (no time zone) from text, as [`parse_timestamp`] but without an
/// offset: text with one (`Z` included) is `None`, since a civil value has no zone to convert
/// to. Microseconds since 1970-01-01T00:00:00 of the same calendar.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let p = parse_date_time(s)?;
    if p.offset.is_some() {
        return None;
    }
    Some(micros_from_civil(&p.civil) + p.nanos.div_euclid(1000))
}

/// Read a date, `YYYY-MM-DD`: days since 1970-01-01. A date-time at midnight with no offset
/// (`2009-01-01 00:00:00`, what other tools store in a `DATE` column on SQLite) is that date;
/// any other time of day is `None`, since reading it as a date would drop the time.
pub fn parse_date(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.len() > 10 {
        let p = parse_date_time(t)?;
        let c = p.civil;
        let midnight = c.hour == 0 && c.minute == 0 && c.second == 0 && p.nanos == 0 && p.offset.is_none();
        return midnight.then(|| days_from_civil(c.year, c.month, c.day));
    }
    let (y, m, d) = parse_ymd(t.as_bytes())?;
    Some(days_from_civil(y, m, d))
}

/// Read a time of day, `HH:MM[:SS[.fraction]]`: microseconds since midnight (a finer fraction
/// truncated).
pub fn parse_time(s: &str) -> Option<i64> {
    let (h, m, sec, nanos, rest) = parse_hms(s.trim().as_bytes())?;
    if !rest.is_empty() {
        return None;
    }
    Some((i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec)) * 1_000_000 + nanos / 1000)
}

/// `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff`: the civil date-time stored in SQLite (fixed width).
pub fn format_datetime(micros: i64) -> String {
    let mut t = format_timestamp(micros);
    t.pop(); // the `Z`
    t
}

/// `HH:MM:SS.ffffff`: the time of day stored in SQLite (fixed width).
pub fn format_time(micros: i64) -> String {
    let c = civil_from_micros(micros.rem_euclid(MICROS_PER_DAY));
    format!("{:02}:{:02}:{:02}.{:06}", c.hour, c.minute, c.second, c.micro)
}

/// [`Error::InvalidRequest`] for a date outside 0001-01-01 … 9999-12-31.
///
/// # Errors
/// As above.
pub fn check_date(days: i64) -> Result<()> {
    check_timestamp(days.saturating_mul(MICROS_PER_DAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_arithmetic_round_trips_and_knows_the_range() {
        for days in [-719_162, -1, 0, 1, 10_957, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(format_timestamp(MIN_TIMESTAMP), "0001-01-01T00:00:00.000000Z");
        assert_eq!(format_timestamp(MAX_TIMESTAMP), "9999-12-31T23:59:59.999999Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999999Z");
        assert!(check_timestamp(MIN_TIMESTAMP).is_ok() && check_timestamp(MIN_TIMESTAMP - 1).is_err());
        assert!(check_timestamp(MAX_TIMESTAMP).is_ok() && check_timestamp(MAX_TIMESTAMP + 1).is_err());
    }

    #[test]
    fn text_forms_of_databases_and_clients_parse() {
        let t = 951_782_400_123_456; // 2000-02-29T00:00:00.123456Z
        for s in [
            "2000-02-29T00:00:00.123456Z",
            "2000-02-29 00:00:00.123456",
            "2000-02-29 00:00:00.123456+00:00",
            "2000-02-29 01:30:00.123456+01:30",
            "2000-02-28T23:00:00.1234569-01",
            "2000-02-29t00:00:00.123456z",
        ] {
            assert_eq!(parse_timestamp(s), Some(t), "{s}");
        }
        assert_eq!(parse_timestamp("2000-02-29 00:00"), Some(951_782_400_000_000));
        assert_eq!(parse_datetime("2000-02-29 00:00:00.5"), Some(951_782_400_500_000));
        assert_eq!(parse_datetime("2000-02-29T00:00:00Z"), None, "a civil value has no zone");
        assert_eq!(parse_date("2000-02-29"), Some(11_016));
        assert_eq!(parse_date("1999-02-29"), None);
        assert_eq!(parse_date("2000-02-29 00:00:00"), Some(11_016));
        assert_eq!(parse_date("2000-02-29T00:00:00.000"), Some(11_016));
        assert_eq!(parse_date("2000-02-29 00:00:01"), None, "a time of day would be lost");
        assert_eq!(parse_date("2000-02-29 00:00:00Z"), None, "an instant is no date");
        assert_eq!(parse_time("23:59:59.9999999"), Some(86_399_999_999));
        assert_eq!(parse_time("10:20"), Some(37_200_000_000));
        assert_eq!(format_date(11_016), "2000-02-29");
        assert_eq!(format_datetime(951_782_400_500_000), "2000-02-29T00:00:00.500000");
        assert_eq!(format_time(37_230_000_001), "10:20:30.000001");
        assert_eq!(parse_timestamp(&format_timestamp(-1)), Some(-1));
        for bad in [
            "2001-02-29 00:00:00",
            "2000-13-01 00:00:00",
            "2000-01-01",
            "2000-01-01 24:00:00",
            "x",
            "2000-01-01 00:00:00+5",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
