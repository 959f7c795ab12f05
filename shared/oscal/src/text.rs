//! What OSCAL's datatypes accept, and how our identifiers and texts are made to fit.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// The namespace of every UUID this API mints for OSCAL documents (a UUID v5 of it and a
/// stable name is the same for the same thing, in every document and every run).
pub const UUID_NAMESPACE: Uuid = Uuid::from_u128(0x5f0c_2b1e_7d4a_4c3e_9a61_0c8d_2e4f_6b17);

/// The namespace of our own property names: a name, not a location (`.invalid` is reserved
/// for names that resolve nowhere, RFC 2606).
pub const PROP_NS: &str = "https://compliance-api.invalid/ns/oscal";

/// A UUID v5 of `name` in [`UUID_NAMESPACE`]: stable for the same name.
pub fn stable_uuid(name: &str) -> Uuid {
    Uuid::new_v5(&UUID_NAMESPACE, name.as_bytes())
}

/// `2026-03-05T09:00:00.250000Z`: OSCAL's date-time with a zone, in microseconds like every
/// other time the API writes.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An OSCAL token (an XML NCName, ASCII here) naming a control of a catalog: the catalog key
/// (a framework or pack key: a letter, then letters, digits and `_`, never a `.`), a `.`, then
/// the control id with every character other than an ASCII letter, digit, `.` or `-` written as
/// `_` + its code in hex + `_` (`A01:2021` → `A01_3a_2021`). Different ids give different
/// tokens, and the token names the catalog: `owasp.A01_3a_2021`, `soc2.CC8.1`.
pub fn control_token(catalog: &str, control_id: &str) -> String {
    let mut token = String::with_capacity(catalog.len() + control_id.len() + 8);
    token.push_str(catalog);
    token.push('.');
    for c in control_id.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            token.push(c);
        } else {
            token.push_str(&format!("_{:x}_", u32::from(c)));
        }
    }
    token
}

/// OSCAL's string datatype: no leading or trailing white space, no line breaks (its pattern
/// is `^\S(.*\S)?$`), not empty. Control characters become spaces, runs of white space one
/// space; `None` when nothing is left.
pub fn single_line(text: &str) -> Option<String> {
    let collapsed = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_tokens_are_ncnames_and_distinct() {
        assert_eq!(control_token("soc2", "CC8.1"), "soc2.CC8.1");
        assert_eq!(control_token("owasp", "A01:2021"), "owasp.A01_3a_2021");
        assert_eq!(
            control_token("hipaa", "164.312(a)(1)"),
            "hipaa.164.312_28_a_29__28_1_29_"
        );
        assert_ne!(
            control_token("x", "A_3a_B"),
            control_token("x", "A:B"),
            "an underscore is escaped too"
        );
        let ncname = |t: &str| {
            let mut chars = t.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        };
        for id in [
            "CC8.1",
            "A01:2021",
            "1.2.1",
            "164.312(a)(1)",
            "PR.AA-01",
            "a/b c",
        ] {
            assert!(ncname(&control_token("nist_csf", id)), "{id}");
        }
    }

    #[test]
    fn stable_uuids_are_v5_and_stable() {
        let a = stable_uuid("org/o1/repo/1");
        assert_eq!(a, stable_uuid("org/o1/repo/1"));
        assert_ne!(a, stable_uuid("org/o1/repo/2"));
        assert_eq!(a.get_version_num(), 5);
    }

    #[test]
    fn single_line_texts() {
        assert_eq!(single_line("  a\n b\t\u{7}c "), Some("a b c".into()));
        assert_eq!(single_line(" \n "), None);
    }

    #[test]
    fn timestamps_carry_a_zone() {
        let at = DateTime::parse_from_rfc3339("2026-03-05T09:00:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(at), "2026-03-05T09:00:00.250000Z");
    }
}
