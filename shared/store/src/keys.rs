//! The single-table key design: every item type's partition and sort key, in one place.
//! Both adapters run it unchanged; `docs/single-table.md` is the same table in prose.
//!
//! | item                | PK                          | SK                              |
//! |---------------------|-----------------------------|---------------------------------|
//! | org profile         | `ORG#{org}`                 | `PROFILE`                       |
//! | org settings        | `ORG#{org}`                 | `SETTINGS`                      |
//! | disabled controls   | `ORG#{org}`                 | `DISABLED#{framework_key}`      |
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

use crate::{Key, SortKeyRange};

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

/// One framework's controls marked Not Applicable.
pub fn disabled_controls(org: &str, framework_key: &str) -> Key {
    Key::new(org_pk(org), format!("DISABLED#{framework_key}"))
}

pub fn all_disabled_controls(org: &str) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("DISABLED#".into()))
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

pub fn repo(org: &str, repo_id: u64) -> Key {
    Key::new(org_pk(org), format!("REPO#{repo_id:010}"))
}

pub fn repos(org: &str) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("REPO#".into()))
}

/// Create-once guard of a repository name (lowercased) within the org.
pub fn repo_name(org: &str, lowercase_name: &str) -> Key {
    Key::new(org_pk(org), format!("REPONAME#{lowercase_name}"))
}

/// A repository's own partition: its scans, idempotency records and trend points.
pub fn repo_pk(org: &str, repo_id: u64) -> String {
    format!("ORG#{org}#REPO#{repo_id:010}")
}

pub const SCAN_PREFIX: &str = "SCAN#";

/// Scan ids sort by time, so the newest scan is the last sort key.
pub fn scan(org: &str, repo_id: u64, scan_id: &str) -> Key {
    Key::new(repo_pk(org, repo_id), format!("{SCAN_PREFIX}{scan_id}"))
}

/// Idempotency: the hash of a report's bytes, or the client's `Idempotency-Key`.
pub fn scan_dedup(org: &str, repo_id: u64, kind: &str, value: &str) -> Key {
    Key::new(repo_pk(org, repo_id), format!("DEDUP#{kind}#{value}"))
}

/// Trend points sort by time within the repository's partition.
pub const TREND_PREFIX: &str = "TREND#";

/// Shards of the repository index the daily snapshot walks (no Scan of the table).
pub const REPO_INDEX_SHARDS: u32 = 32;

/// The shard of a repository: a stable hash of its org and id.
pub fn repo_index_shard(org: &str, repo_id: u64) -> u32 {
    // FNV-1a: stable across processes and releases, unlike the std hasher.
    let mut h: u32 = 0x811c_9dc5;
    for b in org.bytes().chain(repo_id.to_be_bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % REPO_INDEX_SHARDS
}

pub fn repo_index_pk(shard: u32) -> String {
    format!("REPOIDX#{shard:02}")
}

pub fn repo_index_entry(org: &str, repo_id: u64) -> Key {
    Key::new(
        repo_index_pk(repo_index_shard(org, repo_id)),
        format!("ORG#{org}#REPO#{repo_id:010}"),
    )
}

/// The daily snapshot's progress: which shard, and where in it.
pub fn snapshot_run(day: &str) -> Key {
    Key::new("SYSTEM", format!("SNAPSHOT#{day}"))
}
