//! Identifiers, parsed once at the edge. Every id that can reach a table key or a URL is one of
//! these types: a value of the type has passed its character-set check, so a request can never
//! smuggle `#` (the key separator) or anything else into a key.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A text that is not a valid id of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {what}")]
pub struct InvalidId {
    pub what: &'static str,
}

/// `[A-Za-z0-9_-]{1,64}`: ids we generate, or accept from credentials and paths.
pub fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Declares a string id type: `parse` checks it, `as_str` reads it; serde as a string.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $valid:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                let valid: fn(&str) -> bool = $valid;
                if valid(text) {
                    Ok($name(text.to_string()))
                } else {
                    Err(InvalidId { what: $what })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// An org: generated (a UUID), or named by a verified credential.
    OrgId,
    "org id",
    is_safe_id
);

string_id!(
    /// An API key's public id (`key_` and 16 hex digits), never the secret.
    KeyId,
    "API key id",
    is_safe_id
);

string_id!(
    /// A framework: a built-in key (`soc2`) or an org's own (`^[a-z][a-z0-9_]{1,39}$`).
    FrameworkKey,
    "framework key",
    |k| {
        let b = k.as_bytes();
        (2..=40).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
    }
);

string_id!(
    /// A scan: 13 hex digits of milliseconds since the epoch and 8 random ones, so ids sort by
    /// time.
    ScanId,
    "scan id",
    |id| id.len() == 21 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
);

string_id!(
    /// An audit session, a policy, a run: a hyphenated UUID.
    Uuid,
    "id",
    |id| {
        let b = id.as_bytes();
        b.len() == 36
            && b.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    }
);

string_id!(
    /// A webhook: `wh_` and 26 lowercase letters and digits.
    WebhookId,
    "webhook id",
    |id| {
        id.len() == 29
            && id.starts_with("wh_")
            && id[3..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }
);

string_id!(
    /// An event (also each of its deliveries and their `webhook-id`): `evt_`, 10 hex digits of
    /// seconds since the epoch and 16 of a hash of what it describes, so ids sort by time and the
    /// same change always names the same event.
    EventId,
    "event id",
    |id| {
        id.len() == 30
            && id.starts_with("evt_")
            && id[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
);

/// A repository: a positive integer (within `i64`, as DynamoDB numbers and JSON clients hold
/// it), the org's counter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RepoId(u64);

impl RepoId {
    pub fn new(id: u64) -> Result<Self, InvalidId> {
        if (1..=i64::MAX as u64).contains(&id) {
            Ok(RepoId(id))
        } else {
            Err(InvalidId {
                what: "repository id",
            })
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl FromStr for RepoId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = InvalidId {
            what: "repository id",
        };
        // Digits only: no sign, no space, no `+`.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid);
        }
        s.parse::<u64>().map_err(|_| invalid).and_then(RepoId::new)
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids_are_positive_integers_within_i64() {
        assert_eq!("7".parse::<RepoId>().map(RepoId::get), Ok(7));
        for bad in [
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "",
            "9223372036854775808",
        ] {
            assert!(bad.parse::<RepoId>().is_err(), "{bad}");
        }
        assert!("9223372036854775807".parse::<RepoId>().is_ok());
    }

    #[test]
    fn string_ids_keep_to_their_character_sets() {
        assert!(FrameworkKey::parse("soc2").is_ok());
        assert!(FrameworkKey::parse("nist_csf").is_ok());
        for bad in ["Soc2", "a", "a#b", "1abc", &"a".repeat(41)] {
            assert!(FrameworkKey::parse(bad).is_err(), "{bad}");
        }
        assert!(ScanId::parse("0019a6f0c1e2f3a4b5c6d").is_ok());
        assert!(ScanId::parse("0019A6F0C1E2F3A4B5C6D").is_err());
        assert!(Uuid::parse("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d").is_ok());
        assert!(Uuid::parse("0b1c2d3e4f504a6b8c7d9e0f1a2b3c4d").is_err());
        assert!(OrgId::parse("org-1").is_ok());
        assert!(OrgId::parse("ORG#x").is_err());
        assert_eq!(
            serde_json::from_str::<KeyId>("\"a b\"")
                .unwrap_err()
                .to_string(),
            "not a valid API key id"
        );
    }
}
