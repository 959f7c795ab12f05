//! RFC 3339 timestamps as microseconds since the Unix epoch (UTC). A run reads millions of them,
//! so they are parsed by hand, without allocating; civil-date arithmetic is Howard Hinnant's.

use chrono::{DateTime, SecondsFormat, Utc};

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    s.get(at..at + n)?.iter().try_fold(0u32, |v, &c| {
        c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
    })
}

fn expect(s: &[u8], at: usize, allowed: &[u8]) -> Option<()> {
    allowed.contains(s.get(at)?).then_some(())
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (RFC 3339's `date-time`; `t` or a space may stand
/// for `T`, `z` for `Z`). Fractions beyond microseconds are truncated; leap seconds are not
/// accepted.
pub(crate) fn parse_micros(s: &[u8]) -> Option<i64> {
    let year = digits(s, 0, 4)?;
    expect(s, 4, b"-")?;
    let month = digits(s, 5, 2)?;
    expect(s, 7, b"-")?;
    let day = digits(s, 8, 2)?;
    expect(s, 10, b"Tt ")?;
    let hour = digits(s, 11, 2)?;
    expect(s, 13, b":")?;
    let minute = digits(s, 14, 2)?;
    expect(s, 16, b":")?;
    let second = digits(s, 17, 2)?;
    let year = i64::from(year);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut at = 19;
    let mut micros = 0i64;
    if s.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while let Some(c) = s.get(at).filter(|c| c.is_ascii_digit()) {
            if at - start < 6 {
                micros = micros * 10 + i64::from(c - b'0');
            }
            at += 1;
        }
        let written = at - start;
        if written == 0 {
            return None;
        }
        for _ in written..6 {
            micros *= 10;
        }
    }
    let offset_seconds = match s.get(at)? {
        b'Z' | b'z' if s.len() == at + 1 => 0,
        sign @ (b'+' | b'-') if s.len() == at + 6 => {
            let hours = digits(s, at + 1, 2)?;
            expect(s, at + 3, b":")?;
            let minutes = digits(s, at + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'+' {
                seconds
            } else {
                -seconds
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

pub(crate) fn to_datetime(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

pub(crate) fn from_datetime(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The instant as RFC 3339 in UTC, with as many fraction digits as it needs.
pub(crate) fn format_micros(micros: i64) -> String {
    to_datetime(micros).map_or_else(
        || micros.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_micros(s: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc).timestamp_micros())
    }

    #[test]
    fn agrees_with_chrono() {
        for s in [
            "2025-03-03T10:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999Z",
            "2024-02-29T12:30:45.5+02:00",
            "2024-12-31T23:59:59.1234567-05:30",
            "2000-02-29T00:00:00z",
            "2025-03-03t10:00:00Z",
            "2025-03-03 10:00:00+00:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
        ] {
            let mine = parse_micros(s.as_bytes());
            let theirs = chrono_micros(&s.replace(' ', "T"));
            assert_eq!(mine, theirs, "{s}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for s in [
            "",
            "2025-03-03",
            "2025-03-03T10:00:00",
            "2025-02-29T10:00:00Z",
            "2025-13-01T10:00:00Z",
            "2025-03-03T24:00:00Z",
            "2025-03-03T10:60:00Z",
            "2025-03-03T10:00:60Z",
            "2025-03-03T10:00:00.Z",
            "2025-03-03T10:00:00Z ",
            "2025-03-03T10:00:00+0100",
            "2025-03-03T10:00:00+24:00",
            "20250303T100000Z",
            "yesterday",
        ] {
            assert_eq!(parse_micros(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in (-1_000_000..1_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            format_micros(parse_micros(b"2025-03-03T10:00:00Z").unwrap()),
            "2025-03-03T10:00:00Z"
        );
    }
}
