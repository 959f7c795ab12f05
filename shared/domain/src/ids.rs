//! Character-set checks for anything from a request that becomes part of a table key.

/// Ids we generate or accept from credentials: `[A-Za-z0-9_-]{1,64}`.
pub fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
