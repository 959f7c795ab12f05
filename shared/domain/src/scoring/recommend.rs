//! Recommendation refinement: a control's static badge, refined by the repository's latest scan
//! (rules in the module documentation of `scoring`).

use crate::catalog::{CheckType, Control, Domain, Recommendation};
use crate::ingest::{QualityGate, ScanSummary};

use super::matching;
use super::reason::plural_s;

/// Which control domains a repository language makes relevant. Names are compared
/// case-insensitively; aliases share a row.
const LANGUAGE_DOMAINS: &[(&[&str], &[Domain])] = &[
    (&["python"], &[Domain::Crypto, Domain::Injection]),
    (&["go", "golang"], &[Domain::Crypto, Domain::Injection]),
    (&["c", "c++", "cpp"], &[Domain::Crypto, Domain::Injection]),
    (
        &["java", "kotlin", "scala"],
        &[Domain::Auth, Domain::Crypto],
    ),
    (&["c#", "csharp"], &[Domain::Auth, Domain::Crypto]),
    (
        &["javascript", "js", "typescript", "ts", "ruby", "php"],
        &[Domain::Auth, Domain::Injection],
    ),
    (&["rust", "swift", "objective-c", "objc"], &[Domain::Crypto]),
];

/// Languages that are infrastructure code themselves.
const IAC_LANGUAGES: &[&str] = &["hcl", "terraform", "dockerfile"];

/// The badge and one-line reason of `control` for a repository whose latest scan is `summary`
/// (`None`: no scan, the static baseline).
pub fn refine_recommendation(
    control: &Control,
    summary: Option<&ScanSummary>,
) -> (Recommendation, String) {
    let baseline = (
        control.recommendation,
        control.recommendation_reason.clone(),
    );
    let Some(summary) = summary else {
        return baseline;
    };
    if let Some(why) = findings_against(control, summary) {
        return (Recommendation::Required, why);
    }
    let upgraded = upgrade(control.recommendation);
    if upgraded == control.recommendation {
        return baseline;
    }
    let signal = stack_match(control.domain, summary).or_else(|| {
        is_iac_control(control)
            .then(|| iac_evidence(summary))
            .flatten()
            .map(|what| format!("the repository holds infrastructure code ({what})"))
    });
    match signal {
        Some(why) => (
            upgraded,
            format!("Upgraded from {}: {why}", control.recommendation.as_str()),
        ),
        None => baseline,
    }
}

fn upgrade(badge: Recommendation) -> Recommendation {
    match badge {
        Recommendation::Optional => Recommendation::Recommended,
        Recommendation::Recommended | Recommendation::Required => Recommendation::Required,
    }
}

/// Real evidence against `control` in the latest scan, described.
fn findings_against(control: &Control, summary: &ScanSummary) -> Option<String> {
    let signals = &summary.signals;
    let check_type = control.check_type;
    if let Some((mapping, groups)) = matching::judged_by_weaknesses(control, summary) {
        let n = matching::matched(check_type, mapping, groups)
            .total()
            .total();
        return (n > 0).then(|| {
            format!(
                "{n} finding{} matching its CWE ids or, without CWE id, its check type \
                 {check_type} in the latest scan",
                plural_s(n)
            )
        });
    }
    match check_type {
        CheckType::ScanRecency => None,
        CheckType::QualityGates => (signals.quality_gate == Some(QualityGate::Failed))
            .then(|| "The quality gate failed in the latest scan".to_string()),
        CheckType::PrReviews => signals.pull_requests.as_ref().and_then(|pr| {
            let unapproved = pr.merged - pr.reviewed.min(pr.merged);
            (unapproved > 0).then(|| {
                format!(
                    "{unapproved} of {} merged pull requests had no approving review in the \
                     latest scan",
                    pr.merged
                )
            })
        }),
        _ => {
            let n = summary.counts.get(&check_type).map_or(0, |c| c.total());
            (n > 0).then(|| {
                format!(
                    "{n} finding{} of {check_type} in the latest scan",
                    plural_s(n)
                )
            })
        }
    }
}

/// A repository language that maps to `domain`, described.
fn stack_match(domain: Domain, summary: &ScanSummary) -> Option<String> {
    summary.signals.languages.iter().find_map(|language| {
        let lower = language.to_lowercase();
        LANGUAGE_DOMAINS
            .iter()
            .any(|(names, domains)| names.contains(&lower.as_str()) && domains.contains(&domain))
            .then(|| format!("the repository uses {lower}, where {domain} controls apply"))
    })
}

fn is_iac_control(control: &Control) -> bool {
    matches!(control.domain, Domain::Iac | Domain::Containers)
        || control.check_type == CheckType::IacIssues
}

/// Evidence that the repository holds infrastructure code, described; strongest first.
fn iac_evidence(summary: &ScanSummary) -> Option<String> {
    let findings = summary
        .counts
        .get(&CheckType::IacIssues)
        .map_or(0, |c| c.total());
    if findings > 0 {
        return Some(format!(
            "{findings} iac_issues finding{}",
            plural_s(findings)
        ));
    }
    let signals = &summary.signals;
    if let Some((kind, file)) = signals
        .files
        .iter()
        .find_map(|file| iac_file_kind(file).map(|kind| (kind, file)))
    {
        return Some(format!("{kind}: {file}"));
    }
    if let Some(language) = signals
        .languages
        .iter()
        .find(|l| IAC_LANGUAGES.contains(&l.to_lowercase().as_str()))
    {
        return Some(format!("language {}", language.to_lowercase()));
    }
    summary
        .covered
        .contains(&CheckType::IacIssues)
        .then(|| "a tool in the latest scan covered iac_issues".to_string())
}

/// What kind of infrastructure file `path` is, by its base name (CloudFormation also by a
/// `cloudformation` folder).
pub(super) fn iac_file_kind(path: &str) -> Option<&'static str> {
    let full = path.to_ascii_lowercase();
    let base = full.rsplit(['/', '\\']).next().unwrap_or(&full);
    let is_yaml = |stem: &str| {
        ["yaml", "yml"]
            .iter()
            .any(|ext| base.strip_prefix(stem).and_then(|r| r.strip_prefix('.')) == Some(ext))
    };
    if base == "dockerfile"
        || base == "containerfile"
        || base.starts_with("dockerfile.")
        || base.ends_with(".dockerfile")
    {
        Some("Dockerfile")
    } else if base.starts_with("docker-compose") || is_yaml("compose") {
        Some("Docker Compose")
    } else if base.ends_with(".tf") || base.ends_with(".tf.json") || base.ends_with(".tfvars") {
        Some("Terraform")
    } else if full.contains("cloudformation")
        || base.ends_with(".template")
        || is_yaml("template")
        || base == "template.json"
    {
        Some("CloudFormation")
    } else if is_yaml("kustomization") || is_yaml("chart") {
        Some("Kubernetes")
    } else {
        None
    }
}
