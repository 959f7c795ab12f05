//! The single-table key design: every item type's partition and sort key, in one place.
//! Both adapters run it unchanged; `docs/single-table.md` is the same table in prose.
//!
//! | item                | PK                          | SK                              |
//! |---------------------|-----------------------------|---------------------------------|
//! | org profile         | `ORG#{org}`                 | `PROFILE`                       |
//! | org settings        | `ORG#{org}`                 | `SETTINGS`                      |
//! | API key (listing)   | `ORG#{org}`                 | `APIKEY#{key_id}`               |
//! | custom framework    | `ORG#{org}`                 | `CUSTOMFW#{framework_key}`      |
//! | repo id counter     | `ORG#{org}`                 | `COUNTER#REPO`                  |
//! | repository          | `ORG#{org}`                 | `REPO#{repo_id:010}`            |
//! | API key (lookup)    | `KEYHASH#{sha256(key)}`     | `KEYHASH`                       |
//! | audit entry         | `ORG#{org}#AUDIT`           | `{rfc3339 micros}#{entry_id}`   |
//! | bootstrap marker    | `SYSTEM`                    | `BOOTSTRAP#{name}`              |
//!
//! Org ids are generated (`[a-z0-9-]`), and every segment that comes from a request is checked
//! against a strict character set before it reaches a key, so no input can contain `#`.

use crate::store::{Key, SortKeyRange};

pub const ENTITY: &str = "entity";

pub fn org_pk(org: &str) -> String {
    format!("ORG#{org}")
}

pub fn org_profile(org: &str) -> Key {
    Key::new(org_pk(org), "PROFILE")
}

pub fn org_settings(org: &str) -> Key {
    Key::new(org_pk(org), "SETTINGS")
}

pub fn api_key(org: &str, key_id: &str) -> Key {
    Key::new(org_pk(org), format!("APIKEY#{key_id}"))
}

pub fn api_keys(org: &str) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("APIKEY#".into()))
}

pub fn api_key_lookup(hash_hex: &str) -> Key {
    Key::new(format!("KEYHASH#{hash_hex}"), "KEYHASH")
}

pub fn audit_pk(org: &str) -> String {
    format!("ORG#{org}#AUDIT")
}

/// Sort keys order audit entries by time; the id breaks ties within one microsecond.
pub fn audit_entry(org: &str, at_rfc3339: &str, entry_id: &str) -> Key {
    Key::new(audit_pk(org), format!("{at_rfc3339}#{entry_id}"))
}

/// Audit entries between two RFC 3339 instants (both inclusive, as UTC with the same format).
pub fn audit_range(from: &str, to: &str) -> SortKeyRange {
    // '#' < '~': "{to}~" sorts after every entry stamped exactly `to`.
    SortKeyRange::Between(from.to_string(), format!("{to}~"))
}

pub fn bootstrap_marker(name: &str) -> Key {
    Key::new("SYSTEM", format!("BOOTSTRAP#{name}"))
}

pub const CUSTOM_FRAMEWORK_PREFIX: &str = "CUSTOMFW#";

pub fn custom_framework(org: &str, framework_key: &str) -> Key {
    Key::new(
        org_pk(org),
        format!("{CUSTOM_FRAMEWORK_PREFIX}{framework_key}"),
    )
}

pub fn counter(org: &str, name: &str) -> Key {
    Key::new(org_pk(org), format!("COUNTER#{name}"))
}
