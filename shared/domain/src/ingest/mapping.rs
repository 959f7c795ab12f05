//! Which check type a finding belongs to, and which check types a tool covers: a DATA table of
//! tool profiles ([`TOOL_PROFILES`]) plus CWE- and tag-based refinement. docs/ingestion.md
//! reproduces the table; change both together.

use crate::catalog::CheckType;

use CheckType::{CodeQuality, IacIssues, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};

/// How a profile recognises a tool from `tool.driver.name` (compared lower-cased, trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    Exact(&'static str),
    Prefix(&'static str),
    Contains(&'static str),
}

impl NameMatch {
    fn matches(self, lower_name: &str) -> bool {
        match self {
            NameMatch::Exact(p) => lower_name == p,
            NameMatch::Prefix(p) => lower_name.starts_with(p),
            NameMatch::Contains(p) => lower_name.contains(p),
        }
    }
}

/// How a tool's results are sorted into check types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Every result is this check type (gitleaks → secrets, checkov → iac_issues …).
    Fixed(CheckType),
    /// Security-only SAST (bandit, gosec …): every result is SAST, split by CWE/tags
    /// ([`sast_split`]).
    SecuritySast,
    /// SAST with quality rules too (CodeQL, Semgrep): a rule tagged `security` or carrying a
    /// `security-severity` is SAST (split); a rule tagged only with quality tags
    /// (maintainability, correctness …) is code_quality; an untagged rule is SAST (split).
    MixedSast,
    /// A linter (ESLint): SAST (split) with security evidence (`security` tag,
    /// `security-severity`, a CWE, a security-plugin rule prefix), code_quality otherwise.
    Linter,
    /// A multi-scanner sorted by result tags (trivy): `vulnerability` → sca_vulns,
    /// `misconfiguration` → iac_issues, `secret` → secrets, else the given default.
    ByTags(CheckType),
}

/// What a rule-id prefix maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleClass {
    Is(CheckType),
    /// SAST, split by CWE/tags.
    Sast,
}

/// One row of the mapping table.
#[derive(Debug, Clone, Copy)]
pub struct ToolProfile {
    /// Short name used in docs and tests.
    pub id: &'static str,
    pub names: &'static [NameMatch],
    pub family: Family,
    /// Check types a completed run of this tool is evidence for, even with zero results.
    pub covers: &'static [CheckType],
    /// Rule-id prefixes (case-insensitive) that override the family: first match wins.
    pub rule_prefixes: &'static [(&'static str, RuleClass)],
    /// The tool writes severity only in rule text (Snyk `"High severity - …"`, Anchore
    /// `"Severity=Low"`): read it there (severity step 4).
    pub severity_in_rule_text: bool,
}

const SAST: &[CheckType] = &[SastSecurity, SastCrypto, SastAuth];

const fn profile(
    id: &'static str,
    names: &'static [NameMatch],
    family: Family,
    covers: &'static [CheckType],
) -> ToolProfile {
    ToolProfile {
        id,
        names,
        family,
        covers,
        rule_prefixes: &[],
        severity_in_rule_text: false,
    }
}

use NameMatch::{Contains, Exact, Prefix};

/// The mapping table, first matching row wins (so specific Snyk products come before the
/// generic `snyk` prefix). A tool matching no row is "unknown": see [`classify`].
pub const TOOL_PROFILES: &[ToolProfile] = &[
    // Secret scanners.
    profile(
        "gitleaks",
        &[Contains("gitleaks")],
        Family::Fixed(Secrets),
        &[Secrets],
    ),
    profile(
        "trufflehog",
        &[Contains("trufflehog")],
        Family::Fixed(Secrets),
        &[Secrets],
    ),
    profile(
        "detect-secrets",
        &[Contains("detect-secrets"), Contains("detect secrets")],
        Family::Fixed(Secrets),
        &[Secrets],
    ),
    profile(
        "ggshield",
        &[Contains("ggshield"), Contains("gitguardian")],
        Family::Fixed(Secrets),
        &[Secrets],
    ),
    // Snyk: Code is SAST, IaC is IaC, Open Source and Container are SCA.
    profile(
        "snyk-code",
        &[Exact("snykcode"), Contains("snyk code")],
        Family::SecuritySast,
        SAST,
    ),
    profile(
        "snyk-iac",
        &[Contains("snyk iac"), Contains("snyk infrastructure")],
        Family::Fixed(IacIssues),
        &[IacIssues],
    ),
    ToolProfile {
        severity_in_rule_text: true,
        ..profile(
            "snyk",
            &[Prefix("snyk")],
            Family::Fixed(ScaVulns),
            &[ScaVulns],
        )
    },
    // SAST with quality queries too.
    profile(
        "codeql",
        &[Contains("codeql"), Exact("lgtm.com")],
        Family::MixedSast,
        SAST,
    ),
    profile("semgrep", &[Contains("semgrep")], Family::MixedSast, SAST),
    // Security-only SAST.
    profile(
        "security-sast",
        &[
            Exact("bandit"),
            Exact("gosec"),
            Exact("brakeman"),
            Exact("flawfinder"),
            Contains("njsscan"),
            Contains("security code scan"),
            Contains("devskim"),
            Contains("horusec"),
        ],
        Family::SecuritySast,
        SAST,
    ),
    // Linters.
    ToolProfile {
        rule_prefixes: &[
            ("no-secrets/", RuleClass::Is(Secrets)),
            ("security/", RuleClass::Sast),
            ("security-node/", RuleClass::Sast),
            ("no-unsanitized/", RuleClass::Sast),
            ("@microsoft/sdl/", RuleClass::Sast),
            ("xss/", RuleClass::Sast),
            ("scanjs-rules/", RuleClass::Sast),
        ],
        ..profile(
            "eslint",
            &[Contains("eslint")],
            Family::Linter,
            &[CodeQuality],
        )
    },
    // IaC scanners.
    ToolProfile {
        rule_prefixes: &[
            ("CKV_SECRET", RuleClass::Is(Secrets)),
            ("CKV_CVE", RuleClass::Is(ScaVulns)),
            ("BC_VUL", RuleClass::Is(ScaVulns)),
            ("CVE-", RuleClass::Is(ScaVulns)),
            ("GHSA-", RuleClass::Is(ScaVulns)),
        ],
        ..profile(
            "checkov",
            &[Contains("checkov")],
            Family::Fixed(IacIssues),
            &[IacIssues],
        )
    },
    profile(
        "iac-scanners",
        &[Exact("tfsec"), Contains("kics"), Contains("terrascan")],
        Family::Fixed(IacIssues),
        &[IacIssues],
    ),
    // Configuration benchmarks: misconfiguration, the nearest check type is iac_issues.
    profile(
        "cis-cat",
        &[Contains("ciscat"), Contains("cis-cat")],
        Family::Fixed(IacIssues),
        &[IacIssues],
    ),
    // Trivy scans vulnerabilities, misconfigurations and secrets: sorted by tags; covers what its
    // rules and results show (nothing when it reports none: a clean trivy run does not say what
    // it scanned).
    profile("trivy", &[Contains("trivy")], Family::ByTags(ScaVulns), &[]),
    // Vulnerability scanners.
    ToolProfile {
        severity_in_rule_text: true,
        ..profile(
            "grype",
            &[Contains("grype"), Contains("anchore")],
            Family::Fixed(ScaVulns),
            &[ScaVulns],
        )
    },
    profile(
        "sca-scanners",
        &[Contains("osv-scanner"), Contains("dependency-check")],
        Family::Fixed(ScaVulns),
        &[ScaVulns],
    ),
    profile(
        "nessus",
        &[Contains("nessus")],
        Family::Fixed(ScaVulns),
        &[ScaVulns],
    ),
];

/// The profile for a SARIF `tool.driver.name`, if the tool is known.
pub fn profile_for(tool_name: &str) -> Option<&'static ToolProfile> {
    let lower = tool_name.trim().to_ascii_lowercase();
    TOOL_PROFILES
        .iter()
        .find(|p| p.names.iter().any(|m| m.matches(&lower)))
}

// --- CWE-based refinement -------------------------------------------------------------------

/// Hard-coded credentials (CWE-798, CWE-259 password, CWE-260 password in config): counted as
/// `secrets` whichever tool found them — a credential committed to the repository is exactly
/// what the secrets controls are about.
pub const SECRETS_CWES: &[u32] = &[259, 260, 798];

/// Cryptography: broken/risky algorithms, weak keys and randomness, certificate validation,
/// cleartext storage and transmission, weak password hashing.
pub const CRYPTO_CWES: &[u32] = &[
    261, 295, 296, 297, 298, 299, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322,
    323, 324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 334, 335, 336, 337, 338, 339, 340, 347,
    614, 757, 759, 760, 780, 916, 1204, 1240, 1241,
];

/// Authentication, authorisation, credentials and session management.
pub const AUTH_CWES: &[u32] = &[
    255, 256, 257, 262, 263, 269, 284, 285, 286, 287, 288, 289, 290, 291, 294, 302, 303, 304, 305,
    306, 307, 308, 309, 384, 521, 522, 523, 549, 613, 620, 639, 640, 645, 862, 863, 1220, 1390,
    1391,
];

/// The SAST check type for a finding with these CWE ids and tag facts: secrets over crypto over
/// auth over plain security (first list a CWE is in, in that priority). With no CWE at all, tag
/// keywords decide (`secret`; `crypto…`; `authentication`/`authorization`), else sast_security.
pub fn sast_split(rule_id: &str, cwes: &[u32], tags: &TagFacts) -> CheckType {
    if cwes.iter().any(|c| SECRETS_CWES.contains(c)) || names_hardcoded_secret(rule_id) {
        return Secrets;
    }
    if cwes.iter().any(|c| CRYPTO_CWES.contains(c)) {
        return SastCrypto;
    }
    if cwes.iter().any(|c| AUTH_CWES.contains(c)) {
        return SastAuth;
    }
    if cwes.is_empty() {
        if tags.has(TagFacts::SECRET) {
            return Secrets;
        }
        if tags.has(TagFacts::CRYPTO_WORD) {
            return SastCrypto;
        }
        if tags.has(TagFacts::AUTH_WORD) {
            return SastAuth;
        }
    }
    SastSecurity
}

/// A SAST rule named for a hard-coded credential (Snyk Code `javascript/HardcodedSecret`,
/// `python/HardcodedNonCryptoSecret`, `hardcoded-password`, ...), whatever CWE its tool gives
/// it (Snyk uses CWE-547, "hard-coded constants"): the documented decision counts hard-coded
/// credentials found by SAST as secrets.
pub fn names_hardcoded_secret(rule_id: &str) -> bool {
    // Most names do not start with "hardcoded": tell without building the normalised name.
    let last = rule_id.rsplit(['/', '.', ':']).next().unwrap_or(rule_id);
    let mut normalised = last
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .map(|c| c.to_ascii_lowercase());
    if !"hardcoded".chars().all(|h| normalised.next() == Some(h)) {
        return false;
    }
    let name = rule_id
        .rsplit(['/', '.', ':'])
        .next()
        .unwrap_or(rule_id)
        .to_ascii_lowercase()
        .replace(['-', '_', ' '], "");
    name.starts_with("hardcoded")
        && [
            "secret",
            "credential",
            "password",
            "passwd",
            "token",
            "apikey",
        ]
        .iter()
        .any(|w| name.contains(w))
}

// --- Tags -----------------------------------------------------------------------------------

/// What a rule's and result's tags say, folded into flags (bounded work: tags are capped by the
/// parser and each is looked at once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagFacts {
    pub flags: u16,
    /// A tag that is a severity word (trivy writes `HIGH`): the first one seen.
    pub severity: Option<crate::catalog::Severity>,
}

impl TagFacts {
    pub const SECURITY: u16 = 1;
    pub const QUALITY: u16 = 1 << 1;
    pub const VULNERABILITY: u16 = 1 << 2;
    pub const MISCONFIGURATION: u16 = 1 << 3;
    pub const SECRET: u16 = 1 << 4;
    pub const CRYPTO_WORD: u16 = 1 << 5;
    pub const AUTH_WORD: u16 = 1 << 6;
    /// Not a tag: the rule or result has a usable `security-severity`.
    pub const SECURITY_SEVERITY: u16 = 1 << 7;

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub fn merge(&mut self, other: &TagFacts) {
        self.flags |= other.flags;
        if self.severity.is_none() {
            self.severity = other.severity;
        }
    }

    /// Folds one tag in; returns the CWE id the tag names, if any.
    pub fn add_tag(&mut self, tag: &str) -> Option<u32> {
        let tag = tag.trim();
        if tag.is_empty() || tag.len() > 200 {
            return None;
        }
        if let Some(cwe) = cwe_from_tag(tag) {
            return Some(cwe);
        }
        let lower = tag.to_ascii_lowercase();
        match lower.as_str() {
            "security" => self.flags |= Self::SECURITY,
            "vulnerability" | "vulnerabilities" => self.flags |= Self::VULNERABILITY,
            "misconfiguration" | "misconfig" => self.flags |= Self::MISCONFIGURATION,
            "secret" | "secrets" => self.flags |= Self::SECRET,
            "maintainability" | "reliability" | "correctness" | "readability" | "performance"
            | "style" | "best-practice" | "best-practices" | "bestpractice" | "code-quality"
            | "quality" | "complexity" | "useless-code" | "language-features" | "convention"
            | "portability" | "efficiency" => self.flags |= Self::QUALITY,
            _ => {
                if self.severity.is_none() {
                    if let Some(s) = super::severity::severity_from_label(&lower) {
                        // Only unambiguous severity words count as severity tags.
                        if matches!(
                            lower.as_str(),
                            "critical"
                                | "high"
                                | "medium"
                                | "moderate"
                                | "low"
                                | "negligible"
                                | "info"
                                | "informational"
                        ) {
                            self.severity = Some(s);
                            return None;
                        }
                    }
                }
                if lower.contains("crypto") {
                    self.flags |= Self::CRYPTO_WORD;
                }
                if lower.contains("authentication") || lower.contains("authorization") {
                    self.flags |= Self::AUTH_WORD;
                }
            }
        }
        None
    }
}

/// A CWE id from a tag: `CWE-798`, `cwe-79`, `external/cwe/cwe-079`, `CWE-79: Improper …`.
pub fn cwe_from_tag(tag: &str) -> Option<u32> {
    let t = tag.trim();
    let t = strip_prefix_ignore_case(t, "external/cwe/").unwrap_or(t);
    let rest =
        strip_prefix_ignore_case(t, "cwe-").or_else(|| strip_prefix_ignore_case(t, "cwe:"))?;
    leading_number(rest.trim_start())
}

/// A CWE id from an id-like value: `CWE-79`, `cwe-079`, `CWE:79`, `79`.
pub fn parse_cwe(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Some(n) = cwe_from_tag(t) {
        return Some(n);
    }
    let t = strip_prefix_ignore_case(t, "cwe").unwrap_or(t);
    let digits = t.trim();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return leading_number(digits);
    }
    None
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        Some(&text[prefix.len()..])
    } else {
        None
    }
}

/// Leading decimal digits as a CWE id: at least one digit, then no further alphanumeric (so
/// `79a` is not CWE-79), value 1..=99999.
fn leading_number(text: &str) -> Option<u32> {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 || end > 6 {
        return None;
    }
    if text[end..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let n: u32 = text[..end].parse().ok()?;
    (1..=99_999).contains(&n).then_some(n)
}

// --- Classification -------------------------------------------------------------------------

/// The check type of one result (or declared rule).
///
/// Order: the profile's rule-id prefixes; then the profile's family; a tool matching no
/// profile is sorted by tags (`secret` → secrets, `vulnerability` → sca_vulns,
/// `misconfiguration` → iac_issues), then as SAST (split) with security evidence (`security`
/// tag, `security-severity`, a CWE), else code_quality.
pub fn classify(
    profile: Option<&ToolProfile>,
    rule_id: &str,
    cwes: &[u32],
    tags: &TagFacts,
) -> CheckType {
    let security_evidence = tags.has(TagFacts::SECURITY) || tags.has(TagFacts::SECURITY_SEVERITY);
    let Some(profile) = profile else {
        if tags.has(TagFacts::SECRET) {
            return Secrets;
        }
        if tags.has(TagFacts::VULNERABILITY) {
            return ScaVulns;
        }
        if tags.has(TagFacts::MISCONFIGURATION) {
            return IacIssues;
        }
        if security_evidence || !cwes.is_empty() {
            return sast_split(rule_id, cwes, tags);
        }
        return CodeQuality;
    };
    for (prefix, class) in profile.rule_prefixes {
        if strip_prefix_ignore_case(rule_id, prefix).is_some() {
            return match class {
                RuleClass::Is(ct) => *ct,
                RuleClass::Sast => sast_split(rule_id, cwes, tags),
            };
        }
    }
    match profile.family {
        Family::Fixed(ct) => ct,
        Family::SecuritySast => sast_split(rule_id, cwes, tags),
        Family::MixedSast => {
            if !security_evidence && tags.has(TagFacts::QUALITY) {
                CodeQuality
            } else {
                sast_split(rule_id, cwes, tags)
            }
        }
        Family::Linter => {
            if security_evidence || !cwes.is_empty() {
                sast_split(rule_id, cwes, tags)
            } else {
                CodeQuality
            }
        }
        Family::ByTags(default) => {
            if tags.has(TagFacts::VULNERABILITY) {
                ScaVulns
            } else if tags.has(TagFacts::MISCONFIGURATION) {
                IacIssues
            } else if tags.has(TagFacts::SECRET) {
                Secrets
            } else {
                default
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(tags: &[&str]) -> (TagFacts, Vec<u32>) {
        let mut f = TagFacts::default();
        let mut cwes = Vec::new();
        for t in tags {
            if let Some(c) = f.add_tag(t) {
                cwes.push(c);
            }
        }
        (f, cwes)
    }

    fn class(tool: &str, rule: &str, tags: &[&str]) -> CheckType {
        let (f, cwes) = facts(tags);
        classify(profile_for(tool), rule, &cwes, &f)
    }

    #[test]
    fn profiles_match_real_driver_names() {
        let id = |name: &str| profile_for(name).map(|p| p.id);
        assert_eq!(id("gitleaks"), Some("gitleaks"));
        assert_eq!(id("Semgrep OSS"), Some("semgrep"));
        assert_eq!(id("CodeQL"), Some("codeql"));
        assert_eq!(id("CodeQL command-line toolchain"), Some("codeql"));
        assert_eq!(id("LGTM.com"), Some("codeql"));
        assert_eq!(id("Bandit"), Some("security-sast"));
        assert_eq!(id("gosec"), Some("security-sast"));
        assert_eq!(id("Flawfinder"), Some("security-sast"));
        assert_eq!(id("ESLint"), Some("eslint"));
        assert_eq!(id("Checkov"), Some("checkov"));
        assert_eq!(id("Trivy"), Some("trivy"));
        assert_eq!(id("Snyk Open Source"), Some("snyk"));
        assert_eq!(id("Snyk Container"), Some("snyk"));
        assert_eq!(id("SnykCode"), Some("snyk-code"));
        assert_eq!(id("Snyk IaC"), Some("snyk-iac"));
        assert_eq!(id("Anchore Container Vulnerability Report"), Some("grype"));
        assert_eq!(id("grype"), Some("grype"));
        assert_eq!(id("Nessus"), Some("nessus"));
        assert_eq!(id("CisCat"), Some("cis-cat"));
        assert_eq!(id("CweSamplerScanner"), None);
        assert_eq!(id("WorkItemFiler testing"), None);
    }

    #[test]
    fn cwe_parsing() {
        assert_eq!(cwe_from_tag("CWE-798"), Some(798));
        assert_eq!(cwe_from_tag("external/cwe/cwe-605"), Some(605));
        assert_eq!(cwe_from_tag("external/cwe/cwe-079"), Some(79));
        assert_eq!(cwe_from_tag("cwe-79"), Some(79));
        assert_eq!(cwe_from_tag("CWE-89: Improper Neutralization"), Some(89));
        assert_eq!(cwe_from_tag("cwe-79a"), None);
        assert_eq!(cwe_from_tag("security"), None);
        assert_eq!(cwe_from_tag("cwe-"), None);
        assert_eq!(cwe_from_tag("CWE-0"), None);
        assert_eq!(cwe_from_tag("OWASP-A03:2021 - Injection"), None);
        assert_eq!(parse_cwe("CWE-120"), Some(120));
        assert_eq!(parse_cwe("120"), Some(120));
        assert_eq!(parse_cwe(" cwe 22 "), Some(22));
        assert_eq!(parse_cwe("CVE-2019-1549"), None);
        assert_eq!(parse_cwe("abc"), None);
    }

    #[test]
    fn hard_coded_credentials_named_by_the_rule_are_secrets() {
        for (tool, rule) in [
            ("SnykCode", "javascript/HardcodedSecret"),
            ("SnykCode", "python/HardcodedNonCryptoSecret"),
            ("Snyk Code", "java/HardcodedPassword"),
            ("semgrep", "generic.secrets.hardcoded-password"),
        ] {
            assert_eq!(
                class(tool, rule, &["security", "CWE-547"]),
                Secrets,
                "{rule}"
            );
        }
        // Other hard-coded things are not credentials.
        assert_eq!(
            class(
                "SnykCode",
                "javascript/HardcodedIV",
                &["security", "CWE-329"]
            ),
            SastCrypto
        );
        assert_eq!(
            class("SnykCode", "python/Sqli", &["security", "CWE-89"]),
            SastSecurity
        );
    }

    #[test]
    fn tool_defaults() {
        assert_eq!(class("gitleaks", "aws-access-key", &[]), Secrets);
        assert_eq!(class("Checkov", "CKV_AWS_283", &[]), IacIssues);
        assert_eq!(class("Checkov", "CKV_SECRET_2", &[]), Secrets);
        assert_eq!(class("Checkov", "CKV_CVE_2021_1", &[]), ScaVulns);
        assert_eq!(
            class(
                "Snyk Open Source",
                "SNYK-JS-LODASH-1",
                &["security", "CWE-78"]
            ),
            ScaVulns
        );
        assert_eq!(
            class("Anchore Container Vulnerability Report", "X", &[]),
            ScaVulns
        );
        assert_eq!(class("Nessus", "12345", &["security"]), ScaVulns);
        assert_eq!(class("CisCat", "rule.id.2", &["security"]), IacIssues);
    }

    #[test]
    fn sast_split_by_cwe() {
        assert_eq!(
            class("Bandit", "B104", &["security", "external/cwe/cwe-605"]),
            SastSecurity
        );
        assert_eq!(
            class("Bandit", "B303", &["security", "cwe-327"]),
            SastCrypto
        );
        assert_eq!(
            class("Bandit", "B501", &["security", "CWE-295"]),
            SastCrypto
        );
        assert_eq!(
            class(
                "semgrep",
                "r",
                &["security", "CWE-287: Improper Authentication"]
            ),
            SastAuth
        );
        assert_eq!(
            class(
                "CodeQL",
                "js/missing-rate-limiting",
                &["security", "external/cwe/cwe-770", "external/cwe/cwe-307"]
            ),
            SastAuth
        );
        // Hard-coded credentials go to secrets (documented decision), even next to crypto CWEs.
        assert_eq!(
            class(
                "CodeQL",
                "js/hardcoded-credentials",
                &[
                    "security",
                    "external/cwe/cwe-259",
                    "external/cwe/cwe-321",
                    "external/cwe/cwe-798"
                ]
            ),
            Secrets
        );
        assert_eq!(class("Bandit", "B105", &["security", "cwe-259"]), Secrets);
        // Crypto beats auth when both appear.
        assert_eq!(class("semgrep", "r", &["CWE-916", "CWE-522"]), SastCrypto);
        // Without a CWE, tag keywords refine.
        assert_eq!(
            class(
                "semgrep",
                "r",
                &["security", "OWASP-A02:2021 - Cryptographic Failures"]
            ),
            SastCrypto
        );
        assert_eq!(
            class(
                "semgrep",
                "r",
                &[
                    "security",
                    "A07:2021 - Identification and Authentication Failures"
                ]
            ),
            SastAuth
        );
        // …but a CWE wins over keywords.
        assert_eq!(
            class("semgrep", "r", &["CWE-22", "Broken Authentication"]),
            SastSecurity
        );
        assert_eq!(class("gosec", "G101", &[]), SastSecurity);
    }

    #[test]
    fn mixed_sast_quality_rules_are_code_quality() {
        assert_eq!(
            class("CodeQL", "js/unused-local-variable", &["maintainability"]),
            CodeQuality
        );
        assert_eq!(
            class(
                "CodeQL",
                "js/inconsistent-use-of-new",
                &["reliability", "correctness", "language-features"]
            ),
            CodeQuality
        );
        // `security` wins over quality tags.
        assert_eq!(
            class(
                "CodeQL",
                "js/command-line-injection",
                &["correctness", "security", "external/cwe/cwe-078"]
            ),
            SastSecurity
        );
        // Untagged semgrep rule: SAST.
        assert_eq!(class("Semgrep OSS", "rules.classic", &[]), SastSecurity);
    }

    #[test]
    fn linter_rules() {
        assert_eq!(class("ESLint", "no-unused-vars", &[]), CodeQuality);
        assert_eq!(class("ESLint", "css/no-empty-blocks", &[]), CodeQuality);
        assert_eq!(
            class("ESLint", "security/detect-eval-with-expression", &[]),
            SastSecurity
        );
        assert_eq!(class("ESLint", "no-secrets/no-secrets", &[]), Secrets);
        assert_eq!(
            class("ESLint", "some-plugin/rule", &["CWE-327"]),
            SastCrypto
        );
        assert_eq!(
            class("ESLint", "some-plugin/rule", &["security"]),
            SastSecurity
        );
    }

    #[test]
    fn trivy_by_tags() {
        assert_eq!(
            class(
                "Trivy",
                "CVE-2019-1549",
                &["vulnerability", "security", "MEDIUM"]
            ),
            ScaVulns
        );
        assert_eq!(
            class(
                "Trivy",
                "AWS-0086",
                &["misconfiguration", "security", "HIGH"]
            ),
            IacIssues
        );
        assert_eq!(
            class(
                "Trivy",
                "aws-access-key-id",
                &["secret", "security", "CRITICAL"]
            ),
            Secrets
        );
        assert_eq!(class("Trivy", "x", &[]), ScaVulns);
    }

    #[test]
    fn unknown_tools() {
        assert_eq!(
            class(
                "CweSamplerScanner",
                "CWE-79",
                &["security", "external/cwe/cwe-79"]
            ),
            SastSecurity
        );
        assert_eq!(
            class(
                "CweSamplerScanner",
                "CWE-798",
                &["security", "external/cwe/cwe-798"]
            ),
            Secrets
        );
        assert_eq!(
            class(
                "CweSamplerScanner",
                "CWE-1220",
                &["security", "external/cwe/cwe-1220"]
            ),
            SastAuth
        );
        assert_eq!(class("Some scanner", "r", &["vulnerability"]), ScaVulns);
        assert_eq!(class("Some scanner", "r", &["misconfiguration"]), IacIssues);
        assert_eq!(class("WorkItemFiler testing", "TST0001", &[]), CodeQuality);
    }

    #[test]
    fn severity_tags() {
        let (f, _) = facts(&["vulnerability", "security", "MEDIUM"]);
        assert_eq!(f.severity, Some(crate::catalog::Severity::Medium));
        let (f, _) = facts(&["error", "warning"]);
        assert_eq!(f.severity, None);
    }

    #[test]
    fn cwe_lists_are_sorted_and_disjoint() {
        for list in [SECRETS_CWES, CRYPTO_CWES, AUTH_CWES] {
            assert!(list.windows(2).all(|w| w[0] < w[1]));
        }
        for c in CRYPTO_CWES {
            assert!(!AUTH_CWES.contains(c) && !SECRETS_CWES.contains(c), "{c}");
        }
        for c in AUTH_CWES {
            assert!(!SECRETS_CWES.contains(c), "{c}");
        }
    }
}
