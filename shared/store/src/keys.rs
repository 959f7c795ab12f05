//! The single-table key design: every item type's partition and sort key, built here and
//! nowhere else. Both adapters run it unchanged. [`ITEM_TYPES`] is the table of every item type;
//! `docs/single-table.md` shows the same table, and a test holds the two together and checks each
//! row against the functions below.
//!
//! Every segment that comes from a request is an id type of `compliance_domain::ids` (its
//! character set checked when it was parsed) or is hashed first, so no input can contain `#`.

use compliance_domain::identity::ActorKind;
use compliance_domain::ids::{
    EventId, FrameworkKey, KeyId, OrgId, RepoId, ScanId, Uuid, WebhookId,
};

use crate::{Key, SortKeyRange};

/// One row of the table of item types.
pub struct ItemType {
    /// What the item is (also its `entity` attribute, where it has one).
    pub item: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    /// The key of a sample item, built by this module's functions from the placeholders'
    /// sample values (`{org}` = `o1`, `{repo_id:010}` = `0000000007` …).
    pub sample: fn() -> Key,
}

/// Every item type, once.
pub const ITEM_TYPES: &[ItemType] = &[
    ItemType {
        item: "org",
        pk: "ORG#{org}",
        sk: "PROFILE",
        sample: || org_profile(&samples::org()),
    },
    ItemType {
        item: "settings",
        pk: "ORG#{org}",
        sk: "SETTINGS",
        sample: || org_settings(&samples::org()),
    },
    ItemType {
        item: "disabled_controls",
        pk: "ORG#{org}",
        sk: "DISABLED#{framework_key}",
        sample: || disabled_controls(&samples::org(), &samples::framework()),
    },
    ItemType {
        item: "api_key",
        pk: "ORG#{org}",
        sk: "APIKEY#{key_id}",
        sample: || api_key(&samples::org(), &samples::key_id()),
    },
    ItemType {
        item: "api_key_lookup",
        pk: "KEYHASH#{sha256(key)}",
        sk: "KEYHASH",
        sample: || api_key_lookup("h1"),
    },
    ItemType {
        item: "custom_framework",
        pk: "ORG#{org}",
        sk: "CUSTOMFW#{framework_key}",
        sample: || custom_framework(&samples::org(), &samples::framework()),
    },
    ItemType {
        item: "repo_counter",
        pk: "ORG#{org}",
        sk: "COUNTER#REPO",
        sample: || repo_counter(&samples::org()),
    },
    ItemType {
        item: "custom_framework_counter",
        pk: "ORG#{org}",
        sk: "COUNTER#CUSTOMFW",
        sample: || custom_framework_counter(&samples::org()),
    },
    ItemType {
        item: "repo",
        pk: "ORG#{org}",
        sk: "REPO#{repo_id:010}",
        sample: || repo(&samples::org(), samples::repo()),
    },
    ItemType {
        item: "repo_latest_scan",
        pk: "ORG#{org}",
        sk: "REPO#{repo_id:010}#LATEST",
        sample: || repo_latest_scan(&samples::org(), samples::repo()),
    },
    ItemType {
        item: "org_versions",
        pk: "ORG#{org}",
        sk: "REPO!VERSIONS",
        sample: || org_versions(&samples::org()),
    },
    ItemType {
        item: "repo_trend_marker",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "TREND~REPO",
        sample: || repo_trend_marker(&samples::org(), samples::repo()),
    },
    ItemType {
        item: "repo_name",
        pk: "ORG#{org}",
        sk: "REPONAME#{lowercase name}",
        sample: || repo_name(&samples::org(), "n1"),
    },
    ItemType {
        item: "scan",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "SCAN#{scan_id}",
        sample: || scan(&samples::org(), samples::repo(), &samples::scan()),
    },
    ItemType {
        item: "scan_dedup",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "DEDUP#{sha256|key}#{hash}",
        sample: || scan_dedup(&samples::org(), samples::repo(), DedupBy::Content, "h1"),
    },
    ItemType {
        item: "trend (scan)",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "TREND#{at}#scan#{scan_id}",
        sample: || trend_of_scan(&samples::org(), samples::repo(), "t1", &samples::scan()),
    },
    ItemType {
        item: "trend (snapshot)",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "TREND#{day}T00:00:00.000000Z#snapshot",
        sample: || trend_of_day(&samples::org(), samples::repo(), "d1"),
    },
    ItemType {
        item: "repo_index",
        pk: "REPOIDX#{shard:02}",
        sk: "ORG#{org}#REPO#{repo_id:010}",
        sample: || repo_index_entry(&samples::org(), samples::repo()),
    },
    ItemType {
        item: "snapshot_run",
        pk: "SYSTEM",
        sk: "SNAPSHOT#{day}",
        sample: || snapshot_run("d1"),
    },
    ItemType {
        item: "bootstrap",
        pk: "SYSTEM",
        sk: "BOOTSTRAP#{name}",
        sample: || bootstrap_marker("n1"),
    },
    ItemType {
        item: "audit_log_entry",
        pk: "ORG#{org}#AUDIT",
        sk: "{at}#{entry_id}",
        sample: || audit_log_entry(&samples::org(), "t1", "e1"),
    },
    ItemType {
        item: "audit_log_export",
        pk: "SYSTEM#AUDIT_EXPORT",
        sk: "EXPORTED#{entry_id}",
        sample: || audit_log_export_marker("e1"),
    },
    ItemType {
        item: "audit_session",
        pk: "ORG#{org}#OWNER#{owner}",
        sk: "AUDIT#{audit_id}",
        sample: || audit_session(&samples::org(), &samples::owner(), &samples::uuid()),
    },
    ItemType {
        item: "audit_session_listing",
        pk: "ORG#{org}#OWNER#{owner}",
        sk: "AUDITAT#{created_at}#{audit_id}",
        sample: || {
            audit_session_listing(&samples::org(), &samples::owner(), "t1", &samples::uuid())
        },
    },
    ItemType {
        item: "policy",
        pk: "ORG#{org}#OWNER#{owner}",
        sk: "POLICY#{policy_id}",
        sample: || policy(&samples::org(), &samples::owner(), &samples::uuid()),
    },
    ItemType {
        item: "rule",
        pk: "ORG#{org}#OWNER#{owner}#POLICY#{policy_id}",
        sk: "RULE#{position:03}#{rule_id}",
        sample: || {
            policy_rule(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                7,
                "r1",
            )
        },
    },
    ItemType {
        item: "audit_run",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "RUN#{run_id}",
        sample: || {
            audit_run(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                &samples::uuid(),
            )
        },
    },
    ItemType {
        item: "audit_run_findings",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "FINDINGS#{run_id}#{chunk:04}",
        sample: || {
            audit_run_findings(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                &samples::uuid(),
                7,
            )
        },
    },
    ItemType {
        item: "audit_reviewers",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "REVIEWERS",
        sample: || audit_reviewers(&samples::org(), &samples::owner(), &samples::uuid()),
    },
    ItemType {
        item: "audit_review_grant",
        pk: "ORG#{org}#OWNER#{owner}",
        sk: "REVIEWING#{audit_id}",
        sample: || audit_review_grant(&samples::org(), &samples::owner(), &samples::uuid()),
    },
    ItemType {
        item: "alert",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "ALERT#{alert_id}",
        sample: || alert(&samples::org(), &samples::owner(), &samples::uuid(), "a1"),
    },
    ItemType {
        item: "alert_occurrence",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "ALERTOCC#{alert_id}#{run_id}",
        sample: || {
            alert_occurrence(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                "a1",
                &samples::uuid(),
            )
        },
    },
    ItemType {
        item: "alert_trail_entry",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "ALERTLOG#{alert_id}#{seq:06}",
        sample: || {
            alert_trail_entry(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                "a1",
                7,
            )
        },
    },
    ItemType {
        item: "alert_sync",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "ALERTSYNC#{run_id}",
        sample: || {
            alert_sync(
                &samples::org(),
                &samples::owner(),
                &samples::uuid(),
                &samples::uuid(),
            )
        },
    },
    ItemType {
        item: "alert_audit",
        pk: "ORG#{org}",
        sk: "ALERTAUDIT#{audit_id}",
        sample: || alert_audit(&samples::org(), &samples::uuid()),
    },
    ItemType {
        item: "alert_snooze",
        pk: "ORG#{org}#OWNER#{owner}#AUDIT#{audit_id}",
        sk: "SNOOZE#{snooze_key}",
        sample: || alert_snooze(&samples::org(), &samples::owner(), &samples::uuid(), "s1"),
    },
    ItemType {
        item: "scan_finding_keys",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "FINDINGKEYS#{scan_id}#{chunk:04}",
        sample: || scan_finding_keys(&samples::org(), samples::repo(), &samples::scan(), 7),
    },
    ItemType {
        item: "compliance_settings",
        pk: "ORG#{org}",
        sk: "COMPLIANCE_SETTINGS",
        sample: || compliance_settings(&samples::org()),
    },
    ItemType {
        item: "exception",
        pk: "ORG#{org}",
        sk: "EXCEPTION#{repo_id:010}#{exception_id}",
        sample: || repo_exception(&samples::org(), samples::repo(), &samples::uuid()),
    },
    ItemType {
        item: "org_exception",
        pk: "ORG#{org}",
        sk: "EXCEPTION#ORG#{exception_id}",
        sample: || org_exception(&samples::org(), &samples::uuid()),
    },
    ItemType {
        item: "attestation",
        pk: "ORG#{org}",
        sk: "ATTESTATION#{framework_key}#{control_id}",
        sample: || attestation(&samples::org(), &samples::framework(), "c1"),
    },
    ItemType {
        item: "attestation_version",
        pk: "ORG#{org}",
        sk: "ATTESTATIONLOG#{framework_key}#{control_id}#{version:06}",
        sample: || attestation_version(&samples::org(), &samples::framework(), "c1", 7),
    },
    ItemType {
        item: "attestation_file_part",
        pk: "ORG#{org}",
        sk: "ATTESTFILE#{framework_key}#{control_id}#{version:06}#{part:02}",
        sample: || attestation_file_part(&samples::org(), &samples::framework(), "c1", 7, 3),
    },
    ItemType {
        item: "upload",
        pk: "ORG#{org}",
        sk: "UPLOAD#{upload_id}",
        sample: || upload(&samples::org(), &samples::uuid()),
    },
    ItemType {
        item: "repo_posture",
        pk: "ORG#{org}#REPO#{repo_id:010}",
        sk: "POSTURE#{framework_key}",
        sample: || repo_posture(&samples::org(), samples::repo(), &samples::framework()),
    },
    ItemType {
        item: "webhook",
        pk: "ORG#{org}",
        sk: "WEBHOOK#{webhook_id}",
        sample: || webhook(&samples::org(), &samples::webhook()),
    },
    ItemType {
        item: "webhook_delivery",
        pk: "ORG#{org}#WEBHOOK#{webhook_id}",
        sk: "DELIVERY#{event_id}",
        sample: || webhook_delivery(&samples::org(), &samples::webhook(), &samples::event()),
    },
    ItemType {
        item: "webhook_due",
        pk: "WEBHOOKDUE#{delivery_shard}",
        sk: "{due_ms:013}#{org}#{webhook_id}#{event_id}",
        sample: || webhook_due(7, &samples::org(), &samples::webhook(), &samples::event()),
    },
    ItemType {
        item: "reminder_due",
        pk: "REMINDERDUE#{reminder_shard}",
        sk: "{due_ms:013}#{org}#{event_id}",
        sample: || reminder_due(7, &samples::org(), &samples::event()),
    },
];

/// The sample values of [`ItemType::sample`], and of each placeholder in the patterns.
pub mod samples {
    use super::*;

    pub const PLACEHOLDERS: &[(&str, &str)] = &[
        ("{org}", "o1"),
        ("{framework_key}", "f1"),
        ("{key_id}", "k1"),
        ("{sha256(key)}", "h1"),
        ("{repo_id:010}", "0000000007"),
        ("{lowercase name}", "n1"),
        ("{scan_id}", "0000000000000aaaaaaaa"),
        ("{sha256|key}", "sha256"),
        ("{hash}", "h1"),
        ("{at}", "t1"),
        ("{day}", "d1"),
        ("{shard:02}", "24"),
        ("{name}", "n1"),
        ("{entry_id}", "e1"),
        ("{owner}", "api_key:6b31"),
        ("{audit_id}", "00000000-0000-0000-0000-000000000001"),
        ("{created_at}", "t1"),
        ("{policy_id}", "00000000-0000-0000-0000-000000000001"),
        ("{position:03}", "007"),
        ("{rule_id}", "r1"),
        ("{run_id}", "00000000-0000-0000-0000-000000000001"),
        ("{chunk:04}", "0007"),
        ("{upload_id}", "00000000-0000-0000-0000-000000000001"),
        ("{exception_id}", "00000000-0000-0000-0000-000000000001"),
        ("{control_id}", "c1"),
        ("{version:06}", "000007"),
        ("{part:02}", "03"),
        ("{alert_id}", "a1"),
        ("{seq:06}", "000007"),
        ("{snooze_key}", "s1"),
        ("{webhook_id}", "wh_00000000000000000000000001"),
        ("{event_id}", "evt_000000000100000000000000ab"),
        ("{delivery_shard}", "0"),
        ("{reminder_shard}", "1"),
        ("{due_ms:013}", "0000000000007"),
    ];

    pub fn org() -> OrgId {
        OrgId::parse("o1").expect("sample")
    }
    pub fn framework() -> FrameworkKey {
        FrameworkKey::parse("f1").expect("sample")
    }
    pub fn key_id() -> KeyId {
        KeyId::parse("k1").expect("sample")
    }
    pub fn repo() -> RepoId {
        RepoId::new(7).expect("sample")
    }
    pub fn scan() -> ScanId {
        ScanId::parse("0000000000000aaaaaaaa").expect("sample")
    }
    pub fn uuid() -> Uuid {
        Uuid::parse("00000000-0000-0000-0000-000000000001").expect("sample")
    }
    pub fn webhook() -> WebhookId {
        WebhookId::parse("wh_00000000000000000000000001").expect("sample")
    }
    pub fn event() -> EventId {
        EventId::parse("evt_000000000100000000000000ab").expect("sample")
    }
    pub fn owner() -> String {
        owner_segment(ActorKind::ApiKey, "k1")
    }
}

fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

pub fn org_profile(org: &OrgId) -> Key {
    Key::new(org_pk(org), "PROFILE")
}

/// The framework selection (`enabled_keys`).
pub fn org_settings(org: &OrgId) -> Key {
    Key::new(org_pk(org), "SETTINGS")
}

/// One framework's controls marked Not Applicable.
pub fn disabled_controls(org: &OrgId, framework: &FrameworkKey) -> Key {
    Key::new(org_pk(org), format!("DISABLED#{framework}"))
}

pub fn all_disabled_controls(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("DISABLED#".into()))
}

pub fn api_key(org: &OrgId, key_id: &KeyId) -> Key {
    Key::new(org_pk(org), format!("APIKEY#{key_id}"))
}

pub fn api_keys(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("APIKEY#".into()))
}

/// The one global lookup: by the hash of a 256-bit secret, reachable only with the secret.
pub fn api_key_lookup(hash_hex: &str) -> Key {
    Key::new(format!("KEYHASH#{hash_hex}"), "KEYHASH")
}

pub fn custom_framework(org: &OrgId, framework: &FrameworkKey) -> Key {
    Key::new(org_pk(org), format!("CUSTOMFW#{framework}"))
}

pub fn custom_frameworks(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("CUSTOMFW#".into()))
}

/// The atomic counter that numbers the org's repositories.
pub fn repo_counter(org: &OrgId) -> Key {
    Key::new(org_pk(org), "COUNTER#REPO")
}

/// The atomic counter that numbers the org's custom frameworks.
pub fn custom_framework_counter(org: &OrgId) -> Key {
    Key::new(org_pk(org), "COUNTER#CUSTOMFW")
}

pub fn repo(org: &OrgId, repo: RepoId) -> Key {
    Key::new(org_pk(org), format!("REPO#{:010}", repo.get()))
}

/// The org's repositories, each followed by the pointer to its latest scan when it has one (see
/// [`repo_latest_scan`]): every item's entity says which it is.
pub fn repos(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("REPO#".into()))
}

/// The pointer to a repository's latest scan, in the org's partition. Its sort key sorts right
/// after the repository's own (`REPO#0000000007` < `REPO#0000000007#LATEST` <
/// `REPO#0000000008`), so one Query of [`repos`] reads each repository with its latest scan's id.
pub fn repo_latest_scan(org: &OrgId, repo: RepoId) -> Key {
    Key::new(org_pk(org), format!("REPO#{:010}#LATEST", repo.get()))
}

/// The parts of the org's partition that scoring reads, each counted in the org's versions
/// item ([`org_versions`]): a change to any item of a part adds one to its counter in the same
/// atomic write (the store does it, [`counted_part`]), so whoever holds a part read at some
/// count knows it still holds while the count is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgPart {
    /// `PROFILE`: the plan.
    Profile,
    /// `SETTINGS` and every `DISABLED#…`: the framework selection and disabled controls.
    Settings,
    /// `CUSTOMFW#…`.
    CustomFrameworks,
    /// `ATTESTATION#…` (the versions, `ATTESTATIONLOG#…`, are not read by scoring).
    Attestations,
    /// `EXCEPTION#…`, of the repositories and of the org.
    Exceptions,
}

impl OrgPart {
    pub const ALL: [OrgPart; 5] = [
        OrgPart::Profile,
        OrgPart::Settings,
        OrgPart::CustomFrameworks,
        OrgPart::Attestations,
        OrgPart::Exceptions,
    ];

    /// Its counter's attribute in the versions item.
    pub fn attr(self) -> &'static str {
        match self {
            OrgPart::Profile => "profile",
            OrgPart::Settings => "settings",
            OrgPart::CustomFrameworks => "custom_frameworks",
            OrgPart::Attestations => "attestations",
            OrgPart::Exceptions => "exceptions",
        }
    }
}

/// The org's change counters, one per [`OrgPart`]. Its sort key sorts right before the org's
/// first repository (`REPO!` < `REPO#`), so the Query of the org-wide summary's first page
/// ([`repos_with_versions`]) reads it with the repositories.
pub fn org_versions(org: &OrgId) -> Key {
    Key::new(org_pk(org), VERSIONS_SK)
}

const VERSIONS_SK: &str = "REPO!VERSIONS";

/// The `entity` of the org's versions item.
pub const ORG_VERSIONS_ENTITY: &str = "org_versions";

/// The org's versions item, then its repositories each with the pointer to its latest scan.
pub fn repos_with_versions(org: &OrgId) -> (String, SortKeyRange) {
    (
        org_pk(org),
        // '~' sorts after every character of a repository's sort keys.
        SortKeyRange::Between(org_versions(org).sk, "REPO#~".into()),
    )
}

/// Which org's versions item a change of `key` counts in, and as which part: `None` for every
/// item scoring does not read from the org's partition.
pub fn counted_part(key: &Key) -> Option<(Key, OrgPart)> {
    let org = key.pk.strip_prefix("ORG#").filter(|o| !o.contains('#'))?;
    let sk = key.sk.as_str();
    let part = if sk == "PROFILE" {
        OrgPart::Profile
    } else if sk == "SETTINGS" || sk.starts_with("DISABLED#") {
        OrgPart::Settings
    } else if sk.starts_with("CUSTOMFW#") {
        OrgPart::CustomFrameworks
    } else if sk.starts_with("ATTESTATION#") {
        OrgPart::Attestations
    } else if sk.starts_with("EXCEPTION#") {
        OrgPart::Exceptions
    } else {
        return None;
    };
    Some((Key::new(format!("ORG#{org}"), VERSIONS_SK), part))
}

/// Create-once guard of a repository name (lowercased) within the org.
pub fn repo_name(org: &OrgId, lowercase_name: &str) -> Key {
    Key::new(org_pk(org), format!("REPONAME#{lowercase_name}"))
}

/// A repository's own partition: its scans, idempotency records and trend points.
fn repo_pk(org: &OrgId, repo: RepoId) -> String {
    format!("ORG#{org}#REPO#{:010}", repo.get())
}

/// Scan ids sort by time, so the newest scan is the last sort key.
pub fn scan(org: &OrgId, repo: RepoId, scan: &ScanId) -> Key {
    Key::new(repo_pk(org, repo), format!("SCAN#{scan}"))
}

pub fn scans(org: &OrgId, repo: RepoId) -> (String, SortKeyRange) {
    (repo_pk(org, repo), SortKeyRange::Prefix("SCAN#".into()))
}

/// What a scan's idempotency record is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DedupBy {
    /// The SHA-256 of the report's bytes.
    Content,
    /// The SHA-256 of the client's `Idempotency-Key`.
    ClientKey,
}

pub fn scan_dedup(org: &OrgId, repo: RepoId, by: DedupBy, hash_hex: &str) -> Key {
    let kind = match by {
        DedupBy::Content => "sha256",
        DedupBy::ClientKey => "key",
    };
    Key::new(repo_pk(org, repo), format!("DEDUP#{kind}#{hash_hex}"))
}

/// A trend point per scored scan: its time and id, so a scan is scored once.
pub fn trend_of_scan(org: &OrgId, repo: RepoId, at_rfc3339: &str, scan: &ScanId) -> Key {
    Key::new(
        repo_pk(org, repo),
        format!("TREND#{at_rfc3339}#scan#{scan}"),
    )
}

/// A trend point per day of the snapshot, sorting with the day's first instant.
pub fn trend_of_day(org: &OrgId, repo: RepoId, day: &str) -> Key {
    Key::new(
        repo_pk(org, repo),
        format!("TREND#{day}T00:00:00.000000Z#snapshot"),
    )
}

/// Written with the repository: it sorts after every trend point (`TREND#…` < `TREND~`), so
/// the newest-first Query of a trend window reads it first and tells, in the same request, that
/// the repository exists even when the window holds no point.
pub fn repo_trend_marker(org: &OrgId, repo: RepoId) -> Key {
    Key::new(repo_pk(org, repo), "TREND~REPO")
}

/// The trend points from `from` (RFC 3339, the stored format) on, and the repository's marker
/// ([`repo_trend_marker`]) after them.
pub fn trend_since(org: &OrgId, repo: RepoId, from_rfc3339: &str) -> (String, SortKeyRange) {
    (
        repo_pk(org, repo),
        SortKeyRange::Between(
            format!("TREND#{from_rfc3339}"),
            repo_trend_marker(org, repo).sk,
        ),
    )
}

/// Shards of the repository index the daily snapshot walks (no Scan of the table).
pub const REPO_INDEX_SHARDS: u32 = 32;

/// The shard of a repository: a stable hash of its org and id.
pub fn repo_index_shard(org: &OrgId, repo: RepoId) -> u32 {
    fnv1a(org.as_str().bytes().chain(repo.get().to_be_bytes())) % REPO_INDEX_SHARDS
}

/// FNV-1a: stable across processes and releases, unlike the std hasher.
fn fnv1a(bytes: impl Iterator<Item = u8>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Every entry of one shard of the repository index.
pub fn repo_index(shard: u32) -> (String, SortKeyRange) {
    (format!("REPOIDX#{shard:02}"), SortKeyRange::All)
}

pub fn repo_index_entry(org: &OrgId, repo: RepoId) -> Key {
    Key::new(
        format!("REPOIDX#{:02}", repo_index_shard(org, repo)),
        repo_pk(org, repo),
    )
}

/// The daily snapshot's progress: which shard, and where in it.
pub fn snapshot_run(day: &str) -> Key {
    Key::new("SYSTEM", format!("SNAPSHOT#{day}"))
}

/// Makes a one-time set-up (the local server's demo org) happen once.
pub fn bootstrap_marker(name: &str) -> Key {
    Key::new("SYSTEM", format!("BOOTSTRAP#{name}"))
}

/// The org's audit log: a partition of its own, so listing is a newest-first range query.
fn audit_log_pk(org: &OrgId) -> String {
    format!("ORG#{org}#AUDIT")
}

/// Sort keys order audit-log entries by time; the id breaks ties within one microsecond.
pub fn audit_log_entry(org: &OrgId, at_rfc3339: &str, entry_id: &str) -> Key {
    Key::new(audit_log_pk(org), format!("{at_rfc3339}#{entry_id}"))
}

/// The org's audit-log entries between two RFC 3339 instants (both inclusive, in the stored
/// format).
pub fn audit_log_between(org: &OrgId, from: &str, to: &str) -> (String, SortKeyRange) {
    // '#' < '~': "{to}~" sorts after every entry stamped exactly `to`.
    (
        audit_log_pk(org),
        SortKeyRange::Between(from.to_string(), format!("{to}~")),
    )
}

/// Marks an audit-log entry as exported, so a redelivered stream record prints nothing twice.
pub fn audit_log_export_marker(entry_id: &str) -> Key {
    Key::new("SYSTEM#AUDIT_EXPORT", format!("EXPORTED#{entry_id}"))
}

/// The creator of audit sessions, as a key segment: the credential kind and its subject, hex
/// encoded (an identity provider's subject may contain anything).
pub fn owner_segment(kind: ActorKind, actor_id: &str) -> String {
    let hex: String = actor_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{kind}:{hex}")
}

/// Everything one principal creates in the Audits API lives in its own partition, so
/// "visible only to its creator" holds by construction.
fn owner_pk(org: &OrgId, owner: &str) -> String {
    format!("ORG#{org}#OWNER#{owner}")
}

pub fn audit_session(org: &OrgId, owner: &str, audit_id: &Uuid) -> Key {
    Key::new(owner_pk(org, owner), format!("AUDIT#{audit_id}"))
}

/// The listing entry of an audit session, ordered by creation time.
pub fn audit_session_listing(
    org: &OrgId,
    owner: &str,
    created_at_rfc3339: &str,
    audit_id: &Uuid,
) -> Key {
    Key::new(
        owner_pk(org, owner),
        format!("AUDITAT#{created_at_rfc3339}#{audit_id}"),
    )
}

pub fn audit_session_listings(org: &OrgId, owner: &str) -> (String, SortKeyRange) {
    (
        owner_pk(org, owner),
        SortKeyRange::Prefix("AUDITAT#".into()),
    )
}

pub fn policy(org: &OrgId, owner: &str, policy_id: &Uuid) -> Key {
    Key::new(owner_pk(org, owner), format!("POLICY#{policy_id}"))
}

fn policy_rules_pk(org: &OrgId, owner: &str, policy_id: &Uuid) -> String {
    format!("{}#POLICY#{policy_id}", owner_pk(org, owner))
}

/// A policy's rule, in pack order.
pub fn policy_rule(
    org: &OrgId,
    owner: &str,
    policy_id: &Uuid,
    position: usize,
    rule_id: &str,
) -> Key {
    Key::new(
        policy_rules_pk(org, owner, policy_id),
        format!("RULE#{position:03}#{rule_id}"),
    )
}

pub fn policy_rules(org: &OrgId, owner: &str, policy_id: &Uuid) -> (String, SortKeyRange) {
    (
        policy_rules_pk(org, owner, policy_id),
        SortKeyRange::Prefix("RULE#".into()),
    )
}

/// An audit's runs and their findings: in the audit's own partition, under its owner.
fn audit_runs_pk(org: &OrgId, owner: &str, audit_id: &Uuid) -> String {
    format!("{}#AUDIT#{audit_id}", owner_pk(org, owner))
}

/// A run of an audit. Run ids are time-ordered UUIDs (v7), so the sort key orders runs by start.
pub fn audit_run(org: &OrgId, owner: &str, audit_id: &Uuid, run_id: &Uuid) -> Key {
    Key::new(audit_runs_pk(org, owner, audit_id), format!("RUN#{run_id}"))
}

pub fn audit_runs(org: &OrgId, owner: &str, audit_id: &Uuid) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix("RUN#".into()),
    )
}

/// One chunk of a run's stored findings, in finding order.
pub fn audit_run_findings(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    run_id: &Uuid,
    chunk: usize,
) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("FINDINGS#{run_id}#{chunk:04}"),
    )
}

pub fn audit_run_findings_chunks(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    run_id: &Uuid,
) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix(format!("FINDINGS#{run_id}#")),
    )
}

/// The reviewers an audit's creator named: in the audit's partition.
pub fn audit_reviewers(org: &OrgId, owner: &str, audit_id: &Uuid) -> Key {
    Key::new(audit_runs_pk(org, owner, audit_id), "REVIEWERS")
}

/// A reviewer's way to an audit it was named on: in the reviewer's own partition (the only one
/// its requests name), holding the audit's owner.
pub fn audit_review_grant(org: &OrgId, reviewer: &str, audit_id: &Uuid) -> Key {
    Key::new(owner_pk(org, reviewer), format!("REVIEWING#{audit_id}"))
}

/// An alert of an audit: what runs found about one (rule, group value, window), deduplicated.
/// Alert ids are hex digests (no `#`), so `ALERT#` never prefixes the `ALERTOCC#`, `ALERTLOG#`
/// and `ALERTSYNC#` items beside them.
pub fn alert(org: &OrgId, owner: &str, audit_id: &Uuid, alert_id: &str) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("ALERT#{alert_id}"),
    )
}

pub fn alerts(org: &OrgId, owner: &str, audit_id: &Uuid) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix("ALERT#".into()),
    )
}

/// One run's occurrence of an alert (run ids are time-ordered: oldest first).
pub fn alert_occurrence(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    alert_id: &str,
    run_id: &Uuid,
) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("ALERTOCC#{alert_id}#{run_id}"),
    )
}

pub fn alert_occurrences(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    alert_id: &str,
) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix(format!("ALERTOCC#{alert_id}#")),
    )
}

/// An entry of an alert's trail (its hash chain), numbered from 1.
pub fn alert_trail_entry(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    alert_id: &str,
    seq: u32,
) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("ALERTLOG#{alert_id}#{seq:06}"),
    )
}

pub fn alert_trail(
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    alert_id: &str,
) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix(format!("ALERTLOG#{alert_id}#")),
    )
}

/// Marks a run whose findings have opened or updated the audit's alerts.
pub fn alert_sync(org: &OrgId, owner: &str, audit_id: &Uuid, run_id: &Uuid) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("ALERTSYNC#{run_id}"),
    )
}

pub fn alert_syncs(org: &OrgId, owner: &str, audit_id: &Uuid) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix("ALERTSYNC#".into()),
    )
}

/// An audit that has alerts, in the org's partition with its owner: what the org's queue counts
/// read (one Query finds every audit's partition).
pub fn alert_audit(org: &OrgId, audit_id: &Uuid) -> Key {
    Key::new(org_pk(org), format!("ALERTAUDIT#{audit_id}"))
}

pub fn alert_audits(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("ALERTAUDIT#".into()))
}

/// A snooze of one (rule, group value) of an audit; `snooze_key` is their digest.
pub fn alert_snooze(org: &OrgId, owner: &str, audit_id: &Uuid, snooze_key: &str) -> Key {
    Key::new(
        audit_runs_pk(org, owner, audit_id),
        format!("SNOOZE#{snooze_key}"),
    )
}

pub fn alert_snoozes(org: &OrgId, owner: &str, audit_id: &Uuid) -> (String, SortKeyRange) {
    (
        audit_runs_pk(org, owner, audit_id),
        SortKeyRange::Prefix("SNOOZE#".into()),
    )
}

/// An upload: what a client announced it will send to object storage, and how its processing
/// went. In the org's partition: uploads are few, and the upload's object key names only its org
/// and id, which is all `process-upload` knows when the object arrives.
pub fn upload(org: &OrgId, upload_id: &Uuid) -> Key {
    Key::new(org_pk(org), format!("UPLOAD#{upload_id}"))
}

/// An exception to a repository's findings. Exceptions live in the org's partition, a
/// repository's under its id, so that one Query reads every exception of the org (the org's
/// summary) and one reads a repository's.
pub fn repo_exception(org: &OrgId, repo: RepoId, exception_id: &Uuid) -> Key {
    Key::new(
        org_pk(org),
        format!("EXCEPTION#{:010}#{exception_id}", repo.get()),
    )
}

pub fn repo_exceptions(org: &OrgId, repo: RepoId) -> (String, SortKeyRange) {
    (
        org_pk(org),
        SortKeyRange::Prefix(format!("EXCEPTION#{:010}#", repo.get())),
    )
}

/// An exception to the findings of every repository of the org.
pub fn org_exception(org: &OrgId, exception_id: &Uuid) -> Key {
    Key::new(org_pk(org), format!("EXCEPTION#ORG#{exception_id}"))
}

pub fn org_exceptions(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("EXCEPTION#ORG#".into()))
}

/// Every exception of the org: its repositories' and its own.
pub fn all_exceptions(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("EXCEPTION#".into()))
}

/// A chunk of a scan's finding keys (what exceptions are matched on), beside the scan.
pub fn scan_finding_keys(org: &OrgId, repo: RepoId, scan: &ScanId, chunk: usize) -> Key {
    Key::new(repo_pk(org, repo), format!("FINDINGKEYS#{scan}#{chunk:04}"))
}

/// Every chunk of a scan's finding keys, in order.
pub fn scan_finding_keys_all(org: &OrgId, repo: RepoId, scan: &ScanId) -> (String, SortKeyRange) {
    (
        repo_pk(org, repo),
        SortKeyRange::Prefix(format!("FINDINGKEYS#{scan}#")),
    )
}

/// A control's attestation in force. Control ids hold no `#` (letters, digits and `._:()-/`),
/// so a prefix of framework and control id names one control's items.
pub fn attestation(org: &OrgId, framework: &FrameworkKey, control_id: &str) -> Key {
    Key::new(org_pk(org), format!("ATTESTATION#{framework}#{control_id}"))
}

/// Every attestation in force in the org (not their versions: `ATTESTATIONLOG#` sorts apart).
pub fn attestations(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("ATTESTATION#".into()))
}

/// One version of a control's attestation, numbered from 1.
pub fn attestation_version(
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
    version: u32,
) -> Key {
    Key::new(
        org_pk(org),
        format!("ATTESTATIONLOG#{framework}#{control_id}#{version:06}"),
    )
}

/// Every version of a control's attestation, oldest first.
pub fn attestation_versions(
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
) -> (String, SortKeyRange) {
    (
        org_pk(org),
        SortKeyRange::Prefix(format!("ATTESTATIONLOG#{framework}#{control_id}#")),
    )
}

/// One part of the file kept with a version of a control's attestation (a file spans a few
/// items, each under DynamoDB's 400 KB).
pub fn attestation_file_part(
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
    version: u32,
    part: u32,
) -> Key {
    Key::new(
        org_pk(org),
        format!("ATTESTFILE#{framework}#{control_id}#{version:06}#{part:02}"),
    )
}

/// Every part of the file of a version of a control's attestation, in order.
pub fn attestation_file_parts(
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
    version: u32,
) -> (String, SortKeyRange) {
    (
        org_pk(org),
        SortKeyRange::Prefix(format!("ATTESTFILE#{framework}#{control_id}#{version:06}#")),
    )
}

/// The org's compliance settings: what accepted SARIF suppressions do, how long an exception
/// may run (the defaults when absent).
pub fn compliance_settings(org: &OrgId) -> Key {
    Key::new(org_pk(org), "COMPLIANCE_SETTINGS")
}

/// What a repository's latest scored scan, and the scan before it, say of one framework's
/// controls, written by the rescoring function; its new image tells `score.changed`.
pub fn repo_posture(org: &OrgId, repo: RepoId, framework: &FrameworkKey) -> Key {
    Key::new(repo_pk(org, repo), format!("POSTURE#{framework}"))
}

/// Every framework's posture of the repository.
pub fn repo_postures(org: &OrgId, repo: RepoId) -> (String, SortKeyRange) {
    (repo_pk(org, repo), SortKeyRange::Prefix("POSTURE#".into()))
}

pub fn webhook(org: &OrgId, webhook: &WebhookId) -> Key {
    Key::new(org_pk(org), format!("WEBHOOK#{webhook}"))
}

/// Every webhook of the org, oldest first (ids are not time-ordered: callers sort).
pub fn webhooks(org: &OrgId) -> (String, SortKeyRange) {
    (org_pk(org), SortKeyRange::Prefix("WEBHOOK#".into()))
}

fn webhook_pk(org: &OrgId, webhook: &WebhookId) -> String {
    format!("ORG#{org}#WEBHOOK#{webhook}")
}

/// One event's delivery to one webhook: the key is taken once, so an event redelivered by the
/// stream never makes a second delivery.
pub fn webhook_delivery(org: &OrgId, webhook: &WebhookId, event: &EventId) -> Key {
    Key::new(webhook_pk(org, webhook), format!("DELIVERY#{event}"))
}

/// A webhook's deliveries, by event id (so by time).
pub fn webhook_deliveries(org: &OrgId, webhook: &WebhookId) -> (String, SortKeyRange) {
    (
        webhook_pk(org, webhook),
        SortKeyRange::Prefix("DELIVERY#".into()),
    )
}

/// Partitions of the queues of due work, so that no one partition takes every write.
pub const DUE_SHARDS: u32 = 8;

/// The due-queue partition of a piece of work, by its parts.
fn due_shard(parts: &[&str]) -> u32 {
    fnv1a(parts.join("|").into_bytes().into_iter()) % DUE_SHARDS
}

/// A delivery attempt due at `due_ms` (milliseconds since the epoch).
pub fn webhook_due(due_ms: u64, org: &OrgId, webhook: &WebhookId, event: &EventId) -> Key {
    let shard = due_shard(&[org.as_str(), webhook.as_str(), event.as_str()]);
    Key::new(
        format!("WEBHOOKDUE#{shard}"),
        format!("{due_ms:013}#{org}#{webhook}#{event}"),
    )
}

/// The attempts of a shard due by `now_ms`, earliest first.
pub fn webhook_due_by(shard: u32, now_ms: u64) -> (String, SortKeyRange) {
    (
        format!("WEBHOOKDUE#{shard}"),
        SortKeyRange::Between("0".into(), format!("{now_ms:013}~")),
    )
}

/// A reminder (an event told by the clock, not by a change) due at `due_ms`.
pub fn reminder_due(due_ms: u64, org: &OrgId, event: &EventId) -> Key {
    let shard = due_shard(&[org.as_str(), event.as_str()]);
    Key::new(
        format!("REMINDERDUE#{shard}"),
        format!("{due_ms:013}#{org}#{event}"),
    )
}

/// The reminders of a shard due by `now_ms`, earliest first.
pub fn reminders_due_by(shard: u32, now_ms: u64) -> (String, SortKeyRange) {
    (
        format!("REMINDERDUE#{shard}"),
        SortKeyRange::Between("0".into(), format!("{now_ms:013}~")),
    )
}
