//! The catalog's data model: frameworks, their controls, and the labels a control carries.

use serde::{Deserialize, Serialize};

use super::check_type::CheckType;
use super::condition::PassCondition;
use crate::plans::Plan;

/// The badge a control shows in the picker: whether an org should keep it enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recommendation {
    /// Keep enabled: a baseline for any codebase.
    Required,
    /// Keep enabled if the stack matches the control's domain.
    Recommended,
    /// Niche: enable when it applies.
    Optional,
}

impl Recommendation {
    pub const ALL: [Recommendation; 3] = [
        Recommendation::Required,
        Recommendation::Recommended,
        Recommendation::Optional,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::Required => "required",
            Recommendation::Recommended => "recommended",
            Recommendation::Optional => "optional",
        }
    }
}

impl std::fmt::Display for Recommendation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Recommendation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Recommendation::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown recommendation '{s}' (expected required, recommended or optional)")
            })
    }
}

/// The technical area a control is about. Recommendation refinement matches it against a
/// repository's signals (its languages, its IaC files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Secrets, keys and credentials in code.
    Credentials,
    /// Cryptography: algorithms, TLS, key handling.
    Crypto,
    /// Authentication and authorisation logic.
    Auth,
    /// Injection and other input-handling flaws in first-party code.
    Injection,
    /// Third-party components and their known vulnerabilities.
    Dependencies,
    /// Infrastructure as code: Terraform, CloudFormation, Kubernetes manifests.
    Iac,
    /// Container images and Dockerfiles.
    Containers,
    /// Audit logging and security monitoring.
    Logging,
    /// Engineering process: reviews, scan cadence, change management.
    Process,
    /// Code quality and quality gates.
    Quality,
    /// Cross-cutting application security.
    General,
}

impl Domain {
    pub const ALL: [Domain; 11] = [
        Domain::Credentials,
        Domain::Crypto,
        Domain::Auth,
        Domain::Injection,
        Domain::Dependencies,
        Domain::Iac,
        Domain::Containers,
        Domain::Logging,
        Domain::Process,
        Domain::Quality,
        Domain::General,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Credentials => "credentials",
            Domain::Crypto => "crypto",
            Domain::Auth => "auth",
            Domain::Injection => "injection",
            Domain::Dependencies => "dependencies",
            Domain::Iac => "iac",
            Domain::Containers => "containers",
            Domain::Logging => "logging",
            Domain::Process => "process",
            Domain::Quality => "quality",
            Domain::General => "general",
        }
    }

    /// The domain a control of `check_type` has when nothing more specific is known (custom
    /// framework controls carry no domain of their own).
    pub fn for_check_type(check_type: CheckType) -> Domain {
        match check_type {
            CheckType::Secrets => Domain::Credentials,
            CheckType::SastSecurity => Domain::Injection,
            CheckType::SastCrypto => Domain::Crypto,
            CheckType::SastAuth => Domain::Auth,
            CheckType::ScaVulns => Domain::Dependencies,
            CheckType::IacIssues => Domain::Iac,
            CheckType::ScanRecency | CheckType::PrReviews => Domain::Process,
            CheckType::QualityGates | CheckType::CodeQuality => Domain::Quality,
        }
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Domain {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                let valid = Domain::ALL.map(Domain::as_str).join(", ");
                format!("unknown domain '{s}' (expected one of: {valid})")
            })
    }
}

/// One requirement of a framework, judged on one check type's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The requirement's own identifier in its standard (`CC6.1`, `A.8.28`, `A01:2021`, …).
    pub id: String,
    pub name: String,
    pub category: String,
    /// What the control asks of the codebase, in our words.
    pub description: String,
    pub check_type: CheckType,
    pub pass_condition: PassCondition,
    /// The static baseline badge; the controls endpoint may refine it with scan data.
    pub recommendation: Recommendation,
    /// One line.
    pub recommendation_reason: String,
    pub domain: Domain,
}

/// A compliance framework: built-in (from the catalog) or an org's custom one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Framework {
    /// Stable identifier (`soc2`, …, or a custom key).
    pub key: String,
    pub name: String,
    /// One line.
    pub description: String,
    /// The lowest plan that may enable it; `None`: every plan.
    pub requires_plan: Option<Plan>,
    pub custom: bool,
    pub controls: Vec<Control>,
}

impl Framework {
    /// The control with this id (ids are compared exactly).
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}
