labels! {
    /// What kind of evidence a control is judged on: the reference's ten check types.
    pub enum CheckType as "check_type" {
        Secrets => "secrets",
        SastSecurity => "sast_security",
        SastCrypto => "sast_crypto",
        SastAuth => "sast_auth",
        ScanRecency => "scan_recency",
        QualityGates => "quality_gates",
        PrReviews => "pr_reviews",
        ScaVulns => "sca_vulns",
        CodeQuality => "code_quality",
        IacIssues => "iac_issues",
        /// What no scanner can prove (a policy reviewed, an access review done): judged by the
        /// org's attestation only.
        Manual => "manual",
    }
}

impl CheckType {
    /// Check types judged on counted findings (the others on repository signals).
    pub fn is_finding_based(self) -> bool {
        !matches!(
            self,
            CheckType::ScanRecency
                | CheckType::QualityGates
                | CheckType::PrReviews
                | CheckType::Manual
        )
    }

    pub fn valid_list() -> String {
        CheckType::LABELS.join(", ")
    }
}

labels! {
    /// Finding severities, least severe first; `Ord` follows severity.
    pub enum Severity as "severity" {
        Info => "info",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}
