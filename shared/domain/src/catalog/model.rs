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
            CheckType::ScanRecency | CheckType::PrReviews => Domain::Process,
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
