//! The catalog's data model: frameworks, their controls, and the labels a control carries.

use serde::Serialize;

use super::check_type::CheckType;
use super::condition::PassCondition;
use crate::plans::Plan;

labels! {
    /// The badge a control shows in the picker: whether an org should keep it enabled.
    pub enum Recommendation as "recommendation" {
        /// Keep enabled: a baseline for any codebase.
        Required => "required",
        /// Keep enabled if the stack matches the control's domain.
        Recommended => "recommended",
        /// Niche: enable when it applies.
        Optional => "optional",
    }
}

labels! {
    /// The technical area a control is about. Recommendation refinement matches it against a
    /// repository's signals (its languages, its IaC files).
    pub enum Domain as "domain" {
        /// Secrets, keys and credentials in code.
        Credentials => "credentials",
        /// Cryptography: algorithms, TLS, key handling.
        Crypto => "crypto",
        /// Authentication and authorisation logic.
        Auth => "auth",
        /// Injection and other input-handling flaws in first-party code.
        Injection => "injection",
        /// Third-party components and their known vulnerabilities.
        Dependencies => "dependencies",
        /// Infrastructure as code: Terraform, CloudFormation, Kubernetes manifests.
        Iac => "iac",
        /// Container images and Dockerfiles.
        Containers => "containers",
        /// Audit logging and security monitoring.
        Logging => "logging",
        /// Engineering process: reviews, scan cadence, change management.
        Process => "process",
        /// Code quality and quality gates.
        Quality => "quality",
        /// Cross-cutting application security.
        General => "general",
    }
}

impl Domain {
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
            CheckType::ScanRecency | CheckType::PrReviews | CheckType::Manual => Domain::Process,
            CheckType::QualityGates | CheckType::CodeQuality => Domain::Quality,
        }
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
    /// The weaknesses the control covers, when a published mapping (or the org) names them:
    /// a finding that carries CWE ids then counts against the control only when they meet.
    pub weaknesses: Option<WeaknessMapping>,
}

/// The largest CWE id accepted anywhere (MITRE's ids start at 1).
pub const CWE_ID_MAX: u32 = 99_999;

/// The CWE ids a control covers, and where the mapping comes from.
///
/// A control with a mapping is judged on the findings whose CWE ids meet its own (and on those
/// without any CWE id, of its check type); see the `scoring` module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeaknessMapping {
    /// Ascending, without duplicates, never empty, each in 1..=[`CWE_ID_MAX`].
    pub cwe: Vec<u32>,
    /// The published mapping cited (`OWASP Top 10:2021, A01 "List of Mapped CWEs"`), or
    /// `custom` for an org's own framework.
    pub source: String,
}

impl WeaknessMapping {
    /// A mapping of these ids (sorted and deduplicated here), or why it cannot be one: no id
    /// at all, an id outside 1..=[`CWE_ID_MAX`], or an empty source.
    pub fn new(
        cwe: impl IntoIterator<Item = u32>,
        source: impl Into<String>,
    ) -> Result<WeaknessMapping, String> {
        let mut cwe: Vec<u32> = cwe.into_iter().collect();
        if let Some(bad) = cwe.iter().find(|id| !(1..=CWE_ID_MAX).contains(*id)) {
            return Err(format!(
                "CWE id {bad} is out of range: a CWE id is a number from 1 to {CWE_ID_MAX}"
            ));
        }
        cwe.sort_unstable();
        cwe.dedup();
        if cwe.is_empty() {
            return Err("a weakness mapping lists at least one CWE id".to_string());
        }
        let source = source.into();
        if source.trim().is_empty() {
            return Err("a weakness mapping names its source".to_string());
        }
        Ok(WeaknessMapping { cwe, source })
    }

    /// Whether the mapping lists `cwe`.
    pub fn contains(&self, cwe: u32) -> bool {
        self.cwe.binary_search(&cwe).is_ok()
    }

    /// Whether the mapping lists any of `ids` (ascending, as a finding's CWE ids are).
    pub fn meets(&self, ids: &[u32]) -> bool {
        ids.iter().any(|id| self.contains(*id))
    }
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

/// The controls whose weakness mapping lists `cwe`, in framework order then control order:
/// what a finding carrying that CWE id can count against (see the `scoring` module
/// documentation for which findings a mapped control counts).
pub fn controls_for_cwe<'a>(
    cwe: u32,
    frameworks: impl IntoIterator<Item = &'a Framework>,
) -> Vec<(&'a Framework, &'a Control)> {
    frameworks
        .into_iter()
        .flat_map(|f| f.controls.iter().map(move |c| (f, c)))
        .filter(|(_, c)| c.weaknesses.as_ref().is_some_and(|m| m.contains(cwe)))
        .collect()
}
