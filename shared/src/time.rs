//! Timestamps: one format everywhere (RFC 3339, UTC, microseconds, `Z`), so that stored
//! timestamps sort as strings in sort keys.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn now_rfc3339() -> String {
    rfc3339(Utc::now())
}

/// Parses a client-supplied instant (any offset) into the stored format.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
