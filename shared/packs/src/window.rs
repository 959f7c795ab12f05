//! A rule's `time_window`: an amount and a unit, written in one syntax.
//!
//! ```text
//! <n>m  <n>h  <n>d  <n>w                            minutes, hours, days, weeks (fixed length)
//! <n> business day(s)  <n> month(s)  <n> year(s)    calendar units (singular when n is 1)
//! ```
//!
//! `n` is a whole number from 1, without leading zeros or spaces: `15m`, `24h`, `72h`, `7d`,
//! `2w`, `1 business day`, `3 business days`, `1 month`, `6 months`, `1 year`. Parsing accepts
//! exactly this canonical form, so `parse(s)?.to_string() == s`.

use chrono::{DateTime, Datelike, Months, TimeDelta, Utc, Weekday};

/// The unit of a [`TimeWindow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowUnit {
    Minute,
    Hour,
    Day,
    Week,
    /// Monday to Friday (no holiday calendar).
    BusinessDay,
    Month,
    Year,
}

/// How a unit is written after the amount.
enum Spelling {
    /// Right after the digits: `24h`.
    Symbol(&'static str),
    /// After a space, singular for 1 and plural otherwise: `1 month`, `6 months`.
    Words(&'static str, &'static str),
}

const UNITS: [(WindowUnit, Spelling); 7] = [
    (WindowUnit::Minute, Spelling::Symbol("m")),
    (WindowUnit::Hour, Spelling::Symbol("h")),
    (WindowUnit::Day, Spelling::Symbol("d")),
    (WindowUnit::Week, Spelling::Symbol("w")),
    (
        WindowUnit::BusinessDay,
        Spelling::Words("business day", "business days"),
    ),
    (WindowUnit::Month, Spelling::Words("month", "months")),
    (WindowUnit::Year, Spelling::Words("year", "years")),
];

const SYNTAX: &str = "expected <n>m, <n>h, <n>d, <n>w, '<n> business day(s)', '<n> month(s)' or \
                      '<n> year(s)' with a whole number n >= 1 (singular unit for 1), e.g. 24h, 7d, \
                      1 business day, 1 month";

impl WindowUnit {
    fn spelling(self) -> &'static Spelling {
        &UNITS
            .iter()
            .find(|(unit, _)| *unit == self)
            .expect("every unit has a spelling")
            .1
    }

    /// Whether the unit follows the calendar (business days, months, years) rather than having a
    /// fixed length.
    pub fn is_calendar(self) -> bool {
        matches!(self.spelling(), Spelling::Words(..))
    }
}

/// A length of time: `amount` × `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub amount: u32,
    pub unit: WindowUnit,
}

impl TimeWindow {
    /// Parses the canonical syntax (see the module docs).
    pub fn parse(s: &str) -> Result<TimeWindow, String> {
        let fail = || format!("time window '{s}': {SYNTAX}");
        let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (number, rest) = s.split_at(digits);
        if number.is_empty() || number.starts_with('0') {
            return Err(fail());
        }
        let amount: u32 = number
            .parse()
            .map_err(|_| format!("time window '{s}': amount too large"))?;
        let unit = UNITS
            .iter()
            .find(|(_, spelling)| match spelling {
                Spelling::Symbol(symbol) => rest == *symbol,
                Spelling::Words(one, many) => {
                    rest.strip_prefix(' ') == Some(if amount == 1 { one } else { many })
                }
            })
            .map(|(unit, _)| *unit)
            .ok_or_else(fail)?;
        Ok(TimeWindow { amount, unit })
    }

    /// The window's length when the unit has a fixed one (minutes to weeks); `None` for calendar
    /// units.
    pub fn fixed_duration(&self) -> Option<TimeDelta> {
        let n = i64::from(self.amount);
        match self.unit {
            WindowUnit::Minute => TimeDelta::try_minutes(n),
            WindowUnit::Hour => TimeDelta::try_hours(n),
            WindowUnit::Day => TimeDelta::try_days(n),
            WindowUnit::Week => TimeDelta::try_weeks(n),
            WindowUnit::BusinessDay | WindowUnit::Month | WindowUnit::Year => None,
        }
    }

    /// The end of the window that starts at `start` (a deadline): fixed units are added as
    /// durations; months and years move to the same day of the month (the month's last day when
    /// it is shorter); business days skip Saturdays and Sundays, keeping the time of day (from a
    /// weekend, the first business day is the next Monday). `None` on overflow.
    pub fn end_from(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.unit {
            WindowUnit::Month => start.checked_add_months(Months::new(self.amount)),
            WindowUnit::Year => start.checked_add_months(Months::new(self.amount.checked_mul(12)?)),
            WindowUnit::BusinessDay => add_business_days(start, self.amount),
            _ => start.checked_add_signed(self.fixed_duration()?),
        }
    }
}

fn is_weekend(t: DateTime<Utc>) -> bool {
    matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_business_day(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut next = t.checked_add_signed(TimeDelta::days(1))?;
    while is_weekend(next) {
        next = next.checked_add_signed(TimeDelta::days(1))?;
    }
    Some(next)
}

fn add_business_days(start: DateTime<Utc>, amount: u32) -> Option<DateTime<Utc>> {
    let (mut t, mut left) = (start, amount);
    if is_weekend(t) && left > 0 {
        t = next_business_day(t)?;
        left -= 1;
    }
    // From a weekday, five business days are exactly one calendar week.
    t = t.checked_add_signed(TimeDelta::try_weeks(i64::from(left / 5))?)?;
    for _ in 0..left % 5 {
        t = next_business_day(t)?;
    }
    Some(t)
}

impl std::fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.unit.spelling() {
            Spelling::Symbol(symbol) => write!(f, "{}{symbol}", self.amount),
            Spelling::Words(one, _) if self.amount == 1 => write!(f, "1 {one}"),
            Spelling::Words(_, many) => write!(f, "{} {many}", self.amount),
        }
    }
}

impl std::str::FromStr for TimeWindow {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeWindow::parse(s)
    }
}

impl serde::Serialize for TimeWindow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TimeWindow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TimeWindow::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn canonical_strings_round_trip() {
        for s in [
            "15m",
            "24h",
            "72h",
            "7d",
            "2w",
            "1 business day",
            "3 business days",
            "1 month",
            "6 months",
            "1 year",
            "5 years",
        ] {
            let w = TimeWindow::parse(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(w.to_string(), s);
        }
        assert_eq!(
            TimeWindow::parse("1 business day"),
            Ok(TimeWindow {
                amount: 1,
                unit: WindowUnit::BusinessDay
            })
        );
        assert_eq!(
            TimeWindow::parse("72h"),
            Ok(TimeWindow {
                amount: 72,
                unit: WindowUnit::Hour
            })
        );
    }

    #[test]
    fn other_spellings_are_rejected() {
        for s in [
            "",
            "h",
            "0h",
            "024h",
            "24 h",
            "24H",
            "24hours",
            "24 hours",
            "1 months",
            "2 month",
            "1 business days",
            "1  month",
            "1 day",
            "-1d",
            "1.5d",
            "99999999999h",
            " 7d",
            "7d ",
        ] {
            assert!(TimeWindow::parse(s).is_err(), "'{s}' was accepted");
        }
        assert_eq!(
            TimeWindow::parse("3 weeks").unwrap_err(),
            format!("time window '3 weeks': {SYNTAX}")
        );
    }

    #[test]
    fn fixed_and_calendar_units() {
        let hours = TimeWindow::parse("72h").unwrap();
        assert_eq!(hours.fixed_duration(), Some(TimeDelta::hours(72)));
        assert!(!hours.unit.is_calendar());
        let month = TimeWindow::parse("1 month").unwrap();
        assert_eq!(month.fixed_duration(), None);
        assert!(month.unit.is_calendar());
    }

    #[test]
    fn deadlines_follow_the_calendar() {
        let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        let end = |w: &str, start| TimeWindow::parse(w).unwrap().end_from(start).unwrap();
        // 72h after becoming aware of a breach.
        assert_eq!(end("72h", at(2024, 3, 1, 9)), at(2024, 3, 4, 9));
        // One month: same day next month, clamped to the month's end.
        assert_eq!(end("1 month", at(2024, 1, 15, 9)), at(2024, 2, 15, 9));
        assert_eq!(end("1 month", at(2024, 1, 31, 9)), at(2024, 2, 29, 9));
        assert_eq!(end("1 year", at(2024, 2, 29, 9)), at(2025, 2, 28, 9));
        // 2024-03-01 is a Friday.
        assert_eq!(end("1 business day", at(2024, 3, 1, 9)), at(2024, 3, 4, 9));
        assert_eq!(end("5 business days", at(2024, 3, 1, 9)), at(2024, 3, 8, 9));
        assert_eq!(
            end("6 business days", at(2024, 3, 1, 9)),
            at(2024, 3, 11, 9)
        );
        // From Saturday the first business day is Monday.
        assert_eq!(end("1 business day", at(2024, 3, 2, 9)), at(2024, 3, 4, 9));
        assert_eq!(end("5 business days", at(2024, 3, 2, 9)), at(2024, 3, 8, 9));
        assert_eq!(
            TimeWindow {
                amount: u32::MAX,
                unit: WindowUnit::Year
            }
            .end_from(at(2024, 1, 1, 0)),
            None
        );
    }

    #[test]
    fn serde_uses_the_string() {
        let w: TimeWindow = serde_json::from_str("\"1 business day\"").unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), "\"1 business day\"");
        assert!(serde_json::from_str::<TimeWindow>("\"1 bday\"").is_err());
    }
}
