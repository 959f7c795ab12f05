//! Which records an aggregate covers, counted back from the subject's time `t`: fixed-length
//! windows roll over `(t − window, t]`; calendar windows are aligned to the calendar in UTC
//! (the subject's business day and the ones before it, its calendar month and the months before
//! it, its year and the years before it), up to `t`. A weekend belongs to the business day that
//! follows it, as a deposit made on Saturday is booked on Monday.

use super::timestamp::{civil_from_days, days_from_civil, MICROS_PER_DAY};
use crate::{TimeWindow, WindowUnit};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Span {
    Rolling(i64),
    BusinessDays(i64),
    Months(i64),
    Years(i64),
}

/// 1970-01-05, the first Monday after the epoch, as a day number.
const FIRST_MONDAY: i64 = 4;

impl Span {
    pub(crate) fn of(w: TimeWindow) -> Span {
        let n = i64::from(w.amount);
        match w.unit {
            WindowUnit::BusinessDay => Span::BusinessDays(n),
            WindowUnit::Month => Span::Months(n),
            WindowUnit::Year => Span::Years(n),
            _ => Span::Rolling(
                w.fixed_duration()
                    .and_then(|d| d.num_microseconds())
                    .unwrap_or(i64::MAX),
            ),
        }
    }

    /// The earliest time the window of a subject at `t` includes.
    pub(crate) fn start(self, t: i64) -> i64 {
        match self {
            Span::Rolling(length) => t.saturating_sub(length).saturating_add(1),
            _ => self.opening(t),
        }
    }

    /// Where the window of a subject at `t` opens, as findings show it: the exclusive start of a
    /// rolling window, the first instant of a calendar one.
    pub(crate) fn opening(self, t: i64) -> i64 {
        let day = t.div_euclid(MICROS_PER_DAY);
        let first_day = match self {
            Span::Rolling(length) => return t.saturating_sub(length),
            Span::BusinessDays(n) => business_day_start(business_day(day) - (n - 1)),
            Span::Months(n) => {
                let (y, m, _) = civil_from_days(day);
                let months = y * 12 + i64::from(m - 1) - (n - 1);
                days_from_civil(months.div_euclid(12), (months.rem_euclid(12) + 1) as u32, 1)
            }
            Span::Years(n) => {
                let (y, _, _) = civil_from_days(day);
                days_from_civil(y - (n - 1), 1, 1)
            }
        };
        first_day.saturating_mul(MICROS_PER_DAY)
    }
}

/// The ordinal of the business day a day belongs to (Saturday and Sunday to the next Monday).
fn business_day(day: i64) -> i64 {
    let offset = day - FIRST_MONDAY;
    let (week, weekday) = (offset.div_euclid(7), offset.rem_euclid(7));
    week * 5 + weekday.min(5)
}

/// The first day of a business day's period: a Monday's starts on the Saturday before it.
fn business_day_start(ordinal: i64) -> i64 {
    let (week, weekday) = (ordinal.div_euclid(5), ordinal.rem_euclid(5));
    let day = FIRST_MONDAY + week * 7 + weekday;
    if weekday == 0 {
        day - 2
    } else {
        day
    }
}

#[cfg(test)]
mod tests {
    use super::super::timestamp::{format_micros, parse_micros};
    use super::*;

    fn opening(window: &str, at: &str) -> String {
        let span = Span::of(TimeWindow::parse(window).unwrap());
        format_micros(span.opening(parse_micros(at.as_bytes()).unwrap()))
    }

    #[test]
    fn calendar_windows_open_on_the_calendar() {
        // 2025-03-07 is a Friday, 2025-03-08 a Saturday, 2025-03-10 a Monday.
        assert_eq!(
            opening("1 business day", "2025-03-07T15:00:00Z"),
            "2025-03-07T00:00:00Z"
        );
        assert_eq!(
            opening("1 business day", "2025-03-08T15:00:00Z"),
            "2025-03-08T00:00:00Z"
        );
        assert_eq!(
            opening("1 business day", "2025-03-09T15:00:00Z"),
            "2025-03-08T00:00:00Z"
        );
        assert_eq!(
            opening("1 business day", "2025-03-10T15:00:00Z"),
            "2025-03-08T00:00:00Z"
        );
        assert_eq!(
            opening("1 business day", "2025-03-11T15:00:00Z"),
            "2025-03-11T00:00:00Z"
        );
        assert_eq!(
            opening("2 business days", "2025-03-11T15:00:00Z"),
            "2025-03-08T00:00:00Z"
        );
        assert_eq!(
            opening("3 business days", "2025-03-10T15:00:00Z"),
            "2025-03-06T00:00:00Z"
        );
        assert_eq!(
            opening("1 month", "2025-03-31T23:59:59Z"),
            "2025-03-01T00:00:00Z"
        );
        assert_eq!(
            opening("3 months", "2025-02-10T00:00:00Z"),
            "2024-12-01T00:00:00Z"
        );
        assert_eq!(
            opening("1 year", "2025-07-04T12:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            opening("2 years", "2025-07-04T12:00:00Z"),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(
            opening("24h", "2025-03-10T15:00:00Z"),
            "2025-03-09T15:00:00Z"
        );
        // Before the epoch, too.
        assert_eq!(
            opening("1 business day", "1969-12-28T10:00:00Z"),
            "1969-12-27T00:00:00Z"
        );
    }

    #[test]
    fn business_days_round_trip() {
        for day in -3000..3000 {
            let ordinal = business_day(day);
            let start = business_day_start(ordinal);
            assert!(start <= day, "{day}");
            assert_eq!(business_day(start), ordinal, "{day}");
            assert!(business_day(start - 1) < ordinal, "{day}");
        }
    }
}
