use serde::{Deserialize, Serialize};

/// What kind of evidence a control is judged on: the reference's ten check types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckType {
    Secrets,
    SastSecurity,
    SastCrypto,
    SastAuth,
    ScanRecency,
    QualityGates,
    PrReviews,
    ScaVulns,
    CodeQuality,
    IacIssues,
}

impl CheckType {
    pub const ALL: [CheckType; 10] = [
        CheckType::Secrets,
        CheckType::SastSecurity,
        CheckType::SastCrypto,
        CheckType::SastAuth,
        CheckType::ScanRecency,
        CheckType::QualityGates,
        CheckType::PrReviews,
        CheckType::ScaVulns,
        CheckType::CodeQuality,
        CheckType::IacIssues,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckType::Secrets => "secrets",
            CheckType::SastSecurity => "sast_security",
            CheckType::SastCrypto => "sast_crypto",
            CheckType::SastAuth => "sast_auth",
            CheckType::ScanRecency => "scan_recency",
            CheckType::QualityGates => "quality_gates",
            CheckType::PrReviews => "pr_reviews",
            CheckType::ScaVulns => "sca_vulns",
            CheckType::CodeQuality => "code_quality",
            CheckType::IacIssues => "iac_issues",
        }
    }

    /// Check types judged on counted findings (the others on repository signals).
    pub fn is_finding_based(self) -> bool {
        !matches!(
            self,
            CheckType::ScanRecency | CheckType::QualityGates | CheckType::PrReviews
        )
    }

    pub fn valid_list() -> String {
        CheckType::ALL.map(CheckType::as_str).join(", ")
    }
}

impl std::fmt::Display for CheckType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CheckType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckType::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown check_type '{s}' (expected one of: {})",
                    CheckType::valid_list()
                )
            })
    }
}

/// Finding severities, least severe first; `Ord` follows severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity '{s}' (expected critical, high, medium, low or info)")
            })
    }
}
