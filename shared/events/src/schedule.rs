//! When a failed delivery is tried again: after each delay of the schedule in turn (Standard
//! Webhooks' suggestion by default, about 27 hours in all), each stretched or shortened by up
//! to a tenth at random so that retries of many deliveries do not arrive together.

use std::time::Duration;

use rand::Rng;

/// Standard Webhooks' suggested schedule.
pub const DEFAULT: &str = "5s,5m,30m,2h,5h,10h,10h";
/// The variable that replaces it (comma-separated delays: `500ms`, `5s`, `5m`, `2h`, `1d`).
pub const VARIABLE: &str = "COMPLIANCE_WEBHOOK_RETRY_SCHEDULE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::parse(DEFAULT).expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// The variable's schedule, or the default when it is unset.
    pub fn from_env() -> Result<RetrySchedule, String> {
        match std::env::var(VARIABLE) {
            Ok(text) => RetrySchedule::parse(&text).map_err(|e| format!("{VARIABLE}: {e}")),
            Err(_) => Ok(RetrySchedule::default()),
        }
    }

    pub fn parse(text: &str) -> Result<RetrySchedule, String> {
        let delays = text
            .split(',')
            .map(|part| parse_delay(part.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if delays.len() > 20 {
            return Err("at most 20 retries".into());
        }
        Ok(RetrySchedule { delays })
    }

    /// The delay before retry number `retry` (0 for the first), jittered; `None` when the
    /// schedule has no more.
    pub fn delay(&self, retry: usize) -> Option<Duration> {
        let base = *self.delays.get(retry)?;
        let factor = rand::thread_rng().gen_range(0.9..=1.1);
        Some(base.mul_f64(factor))
    }
}

fn parse_delay(text: &str) -> Result<Duration, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a delay such as 5s, 5m, 2h"))?;
    if value == 0 {
        return Err(format!("'{text}' must be above 0"));
    }
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(value)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{text}': the unit must be ms, s, m, h or d")),
    };
    if value.saturating_mul(seconds) > 7 * 86_400 {
        return Err(format!("'{text}' must be at most 7 days"));
    }
    Ok(Duration::from_secs(value * seconds))
}
