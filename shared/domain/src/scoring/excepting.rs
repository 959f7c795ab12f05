//! Exceptions applied to a scan: the findings an approved, unexpired exception covers are taken
//! out of the summary the controls are judged on, and kept apart, grouped by when they start to
//! count again, so that each control can say how many of its findings are excepted and when the
//! soonest of them counts again. Pure: the caller says which exceptions apply now and gives the
//! scan's finding keys.
//!
//! A finding covered by several exceptions is excepted until the last of them ends. A finding the
//! stored keys do not hold (past their bound) is never excepted: a bound can only make a score
//! stricter.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::catalog::{CheckType, Control};
use crate::ingest::{FindingGroup, FindingKey, ScanSummary, SeverityCounts};
use chrono::{DateTime, Utc};

use super::matching;

/// Which findings an exception covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Covers {
    Fingerprints(BTreeSet<String>),
    /// A rule's findings, in files the glob matches when there is one.
    Rule {
        rule_id: String,
        path: Option<Glob>,
    },
    Cwe(u32),
}

impl Covers {
    pub fn covers(&self, f: &FindingKey) -> bool {
        match self {
            Covers::Fingerprints(set) => set.contains(&f.fingerprint),
            Covers::Rule { rule_id, path } => {
                *rule_id == f.rule_id
                    && path
                        .as_ref()
                        .is_none_or(|glob| f.path.as_deref().is_some_and(|p| glob.matches(p)))
            }
            Covers::Cwe(id) => f.cwe.binary_search(id).is_ok(),
        }
    }
}

/// An exception that applies now, and when it stops (`None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applying {
    pub covers: Covers,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A path glob: `*` any run of characters but `/`, `**` any run including `/` (and `**/` also
/// none), `?` one character but `/`; everything else literal. Paths are compared as given,
/// without a leading `./` or `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    parts: Vec<Part>,
    /// The literal text before the first wildcard and after the last: most paths are refused on
    /// these alone.
    prefix: String,
    suffix: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(char),
    /// `?`
    One,
    /// `*`
    Segment,
    /// `**`, or `**/`
    Any,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut parts = Vec::new();
        let mut chars = normalised(pattern).chars().peekable();
        while let Some(c) = chars.next() {
            parts.push(match c {
                '?' => Part::One,
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next();
                    }
                    Part::Any
                }
                '*' => Part::Segment,
                c => Part::Literal(c),
            });
        }
        let literal = |p: &Part| match p {
            Part::Literal(c) => Some(*c),
            _ => None,
        };
        let prefix = parts.iter().map_while(literal).collect();
        let suffix: String = if parts.iter().all(|p| literal(p).is_some()) {
            String::new()
        } else {
            let mut tail: Vec<char> = parts.iter().rev().map_while(literal).collect();
            tail.reverse();
            tail.into_iter().collect()
        };
        Glob {
            parts,
            prefix,
            suffix,
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        let path = normalised(path);
        if !path.starts_with(&self.prefix) || !path.ends_with(&self.suffix) {
            return false;
        }
        let text: Vec<char> = path.chars().collect();
        // Positions of the text reachable after each part: two rows, reused (linear in parts ×
        // text, whatever the pattern).
        let mut at = vec![false; text.len() + 1];
        let mut next = vec![false; text.len() + 1];
        at[0] = true;
        for part in &self.parts {
            next.fill(false);
            for i in 0..=text.len() {
                if !at[i] {
                    continue;
                }
                match part {
                    Part::Literal(c) => {
                        if text.get(i) == Some(c) {
                            next[i + 1] = true;
                        }
                    }
                    Part::One => {
                        if text.get(i).is_some_and(|c| *c != '/') {
                            next[i + 1] = true;
                        }
                    }
                    Part::Segment => {
                        next[i] = true;
                        let mut j = i;
                        while j < text.len() && text[j] != '/' {
                            j += 1;
                            next[j] = true;
                        }
                    }
                    Part::Any => {
                        next[i..].fill(true);
                        break;
                    }
                }
            }
            std::mem::swap(&mut at, &mut next);
            if !at.contains(&true) {
                return false;
            }
        }
        at[text.len()]
    }
}

fn normalised(path: &str) -> &str {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.strip_prefix('/').unwrap_or(path)
}

/// The scan's excepted findings, apart, by when they count again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Excepted {
    /// When the findings count again (`None`: never) → their counts and CWE groups.
    parts: BTreeMap<Option<DateTime<Utc>>, Apart>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Apart {
    counts: BTreeMap<CheckType, SeverityCounts>,
    /// By check type, then CWE ids.
    groups: BTreeMap<CheckType, BTreeMap<Vec<u32>, SeverityCounts>>,
    /// `groups` as the summary's CWE groups, made once the part is complete.
    finding_groups: Vec<FindingGroup>,
}

impl Excepted {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// How many excepted findings would have counted against `control` (judged as the summary
    /// `judged_on` judges it), and the soonest time one of them counts again (`None` when none
    /// ever does).
    pub fn for_control(
        &self,
        control: &Control,
        judged_on: &ScanSummary,
    ) -> Option<(u64, Option<DateTime<Utc>>)> {
        let by_weakness = matching::judged_by_weaknesses(control, judged_on).map(|(m, _)| m);
        let mut total = 0;
        let mut soonest: Option<DateTime<Utc>> = None;
        for (ends, part) in &self.parts {
            let n = match by_weakness {
                Some(mapping) => {
                    matching::matched(control.check_type, mapping, &part.finding_groups)
                        .total()
                        .total()
                }
                None => part
                    .counts
                    .get(&control.check_type)
                    .map_or(0, SeverityCounts::total),
            };
            if n > 0 {
                total += n;
                if let Some(at) = ends {
                    soonest = Some(soonest.map_or(*at, |s| s.min(*at)));
                }
            }
        }
        (total > 0).then_some((total, soonest))
    }

    /// Every excepted finding.
    pub fn total(&self) -> u64 {
        self.parts
            .values()
            .flat_map(|p| p.counts.values())
            .map(SeverityCounts::total)
            .sum()
    }

    /// The soonest time an excepted finding counts again.
    pub fn soonest_end(&self) -> Option<DateTime<Utc>> {
        self.parts.keys().flatten().min().copied()
    }
}

impl Apart {
    fn add(&mut self, f: &FindingKey) {
        self.counts.entry(f.check_type).or_default().add(f.severity);
        let of_type = self.groups.entry(f.check_type).or_default();
        // Looked up by slice: the ids are copied once per group, not per finding.
        match of_type.get_mut(f.cwe.as_slice()) {
            Some(counts) => counts.add(f.severity),
            None => of_type.entry(f.cwe.clone()).or_default().add(f.severity),
        }
    }

    fn finding_groups(&self) -> Vec<FindingGroup> {
        self.groups
            .iter()
            .flat_map(|(check_type, of_type)| {
                of_type.iter().map(|(cwe, counts)| FindingGroup {
                    check_type: *check_type,
                    cwe: cwe.clone(),
                    overflow: false,
                    counts: *counts,
                })
            })
            .collect()
    }
}

/// The summary without the findings `exceptions` cover, and those findings apart. `keys` are the
/// scan's finding keys (some may be missing past their bound: those findings stay counted).
pub fn apply(
    summary: &ScanSummary,
    keys: &[FindingKey],
    exceptions: &[Applying],
) -> (ScanSummary, Excepted) {
    let index = Index::new(exceptions);
    let mut excepted = Excepted::default();
    // Only the few findings kept as evidence need to be told apart by fingerprint.
    let top: HashSet<&str> = summary
        .top_findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut top_excepted = HashSet::new();
    for key in keys {
        // Excepted until the last covering exception ends; `None` (never) outlasts every date.
        let mut ends: Option<Option<DateTime<Utc>>> = None;
        for e in index.covering(key) {
            ends = Some(match (ends, e.expires_at) {
                (None, at) => at,
                (Some(None), _) | (_, None) => None,
                (Some(Some(a)), Some(b)) => Some(a.max(b)),
            });
            if ends == Some(None) {
                break;
            }
        }
        let Some(ends) = ends else { continue };
        excepted.parts.entry(ends).or_default().add(key);
        if top.contains(key.fingerprint.as_str()) {
            top_excepted.insert(key.fingerprint.as_str());
        }
    }
    let mut kept = summary.clone();
    for part in excepted.parts.values_mut() {
        take_out(&mut kept, part);
        part.finding_groups = part.finding_groups();
    }
    kept.top_findings
        .retain(|f| !top_excepted.contains(f.fingerprint.as_str()));
    (kept, excepted)
}

/// The exceptions by what they look at, so that finding a finding's covering exceptions costs a
/// few lookups however many there are (a path glob is tried only on its rule's findings).
struct Index<'a> {
    by_fingerprint: HashMap<&'a str, Vec<&'a Applying>>,
    by_rule: HashMap<&'a str, Vec<&'a Applying>>,
    by_cwe: HashMap<u32, Vec<&'a Applying>>,
}

impl<'a> Index<'a> {
    fn new(exceptions: &'a [Applying]) -> Self {
        let mut index = Index {
            by_fingerprint: HashMap::new(),
            by_rule: HashMap::new(),
            by_cwe: HashMap::new(),
        };
        for e in exceptions {
            match &e.covers {
                Covers::Fingerprints(set) => {
                    for fp in set {
                        index.by_fingerprint.entry(fp.as_str()).or_default().push(e);
                    }
                }
                Covers::Rule { rule_id, .. } => {
                    index.by_rule.entry(rule_id.as_str()).or_default().push(e)
                }
                Covers::Cwe(id) => index.by_cwe.entry(*id).or_default().push(e),
            }
        }
        index
    }

    fn covering<'k>(&'k self, key: &'k FindingKey) -> impl Iterator<Item = &'a Applying> + 'k {
        fn of<'k, 'a>(list: Option<&'k Vec<&'a Applying>>) -> &'k [&'a Applying] {
            list.map_or(&[], Vec::as_slice)
        }
        let by_fingerprint = of(self.by_fingerprint.get(key.fingerprint.as_str()));
        let by_rule = of(self.by_rule.get(key.rule_id.as_str()))
            .iter()
            .filter(|e| e.covers.covers(key));
        let by_cwe = key.cwe.iter().flat_map(move |id| of(self.by_cwe.get(id)));
        by_fingerprint.iter().chain(by_rule).chain(by_cwe).copied()
    }
}

/// Takes a part's findings out of the summary's counts, totals and CWE groups (each group's from
/// its exact group, or its check type's overflow group when the bound merged it there).
fn take_out(summary: &mut ScanSummary, part: &Apart) {
    for (check_type, c) in &part.counts {
        if let Some(counts) = summary.counts.get_mut(check_type) {
            less(counts, c);
        }
        summary.totals.findings = summary.totals.findings.saturating_sub(c.total());
        less(&mut summary.totals.by_severity, c);
    }
    let Some(groups) = summary.finding_groups.as_mut() else {
        return;
    };
    for (check_type, of_type) in &part.groups {
        for (cwe, c) in of_type {
            let exact = groups
                .iter()
                .position(|g| !g.overflow && g.check_type == *check_type && g.cwe == *cwe);
            let overflow = || {
                groups
                    .iter()
                    .position(|g| g.overflow && g.check_type == *check_type)
            };
            if let Some(i) = exact.or_else(overflow) {
                less(&mut groups[i].counts, c);
            }
        }
    }
}

/// `a - b`, severity by severity (never below zero).
fn less(a: &mut SeverityCounts, b: &SeverityCounts) {
    a.critical = a.critical.saturating_sub(b.critical);
    a.high = a.high.saturating_sub(b.high);
    a.medium = a.medium.saturating_sub(b.medium);
    a.low = a.low.saturating_sub(b.low);
    a.info = a.info.saturating_sub(b.info);
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::catalog::{PassCondition, Severity, WeaknessMapping};
    use crate::ingest::Signals;
    use crate::scoring::testkit::{self, counts, default_control, framework, grouped_summary, now};
    use crate::scoring::{score, ControlStatus, FrameworkInput, ScanInput};

    fn key(fp: &str, rule: &str, path: &str, cwe: &[u32], severity: Severity) -> FindingKey {
        FindingKey {
            fingerprint: fp.into(),
            rule_id: rule.into(),
            path: Some(path.into()),
            cwe: cwe.to_vec(),
            check_type: CheckType::SastSecurity,
            severity,
        }
    }

    /// Three SAST findings: an injection in a test file and in the code (CWE-89), and a path
    /// traversal (CWE-22); the summary ingestion would store for them, and their keys.
    fn scan() -> (ScanSummary, Vec<FindingKey>) {
        let keys = vec![
            key(
                "f1",
                "js/sql-injection",
                "test/db.js",
                &[89],
                Severity::High,
            ),
            key("f2", "js/sql-injection", "src/db.js", &[89], Severity::High),
            key(
                "f3",
                "js/path-injection",
                "src/files.js",
                &[22],
                Severity::Medium,
            ),
        ];
        let summary = grouped_summary(
            &[CheckType::SastSecurity],
            &[
                (CheckType::SastSecurity, vec![89], counts(0, 2, 0, 0, 0)),
                (CheckType::SastSecurity, vec![22], counts(0, 0, 1, 0, 0)),
            ],
            Signals::default(),
        );
        (summary, keys)
    }

    fn rule(rule_id: &str, path: Option<&str>, days: Option<i64>) -> Applying {
        Applying {
            covers: Covers::Rule {
                rule_id: rule_id.into(),
                path: path.map(Glob::new),
            },
            expires_at: days.map(|d| now() + Duration::days(d)),
        }
    }

    #[test]
    fn nothing_applying_changes_nothing() {
        let (summary, keys) = scan();
        let (kept, excepted) = apply(&summary, &keys, &[]);
        assert_eq!(kept, summary);
        assert!(excepted.is_empty());
        assert_eq!(excepted.total(), 0);
    }

    #[test]
    fn covered_findings_leave_the_counts_and_groups() {
        let (summary, keys) = scan();
        let (kept, excepted) = apply(
            &summary,
            &keys,
            &[rule("js/sql-injection", Some("test/**"), Some(30))],
        );
        assert_eq!(kept.totals.findings, 2);
        assert_eq!(kept.counts[&CheckType::SastSecurity], counts(0, 1, 1, 0, 0));
        let groups = kept.finding_groups.as_ref().unwrap();
        let of = |cwe: u32| groups.iter().find(|g| g.cwe == [cwe]).unwrap().counts;
        assert_eq!(
            (of(89), of(22)),
            (counts(0, 1, 0, 0, 0), counts(0, 0, 1, 0, 0))
        );
        assert_eq!(excepted.total(), 1);
        assert_eq!(excepted.soonest_end(), Some(now() + Duration::days(30)));
        // Kept plus excepted is the scan.
        let (all_rule, all) = apply(&summary, &keys, &[rule("js/sql-injection", None, None)]);
        assert_eq!(
            all_rule.totals.findings + all.total(),
            summary.totals.findings
        );
        // By fingerprint and by CWE alike.
        let by_fp = Applying {
            covers: Covers::Fingerprints(["f3".to_string()].into()),
            expires_at: None,
        };
        let by_cwe = Applying {
            covers: Covers::Cwe(89),
            expires_at: None,
        };
        let (kept, excepted) = apply(&summary, &keys, &[by_fp, by_cwe]);
        assert_eq!((kept.totals.findings, excepted.total()), (0, 3));
        assert_eq!(excepted.soonest_end(), None);
    }

    #[test]
    fn a_finding_is_excepted_until_its_last_exception_ends() {
        let (summary, keys) = scan();
        let (_, excepted) = apply(
            &summary,
            &keys[..1],
            &[
                rule("js/sql-injection", None, Some(5)),
                rule("js/sql-injection", Some("test/*"), Some(90)),
            ],
        );
        assert_eq!(excepted.soonest_end(), Some(now() + Duration::days(90)));
        let (_, excepted) = apply(
            &summary,
            &keys[..1],
            &[
                rule("js/sql-injection", None, Some(5)),
                rule("js/sql-injection", None, None),
            ],
        );
        assert_eq!(excepted.soonest_end(), None);
        assert_eq!(excepted.total(), 1);
    }

    /// A control passes with exceptions visibly: its evidence counts the excepted findings and
    /// the soonest end, its reason says so; a CWE-mapped control counts only those it matches.
    #[test]
    fn controls_show_their_excepted_findings() {
        let (summary, keys) = scan();
        let injection = {
            let mut c = testkit::control("INJ", CheckType::SastSecurity, PassCondition::NoFindings);
            c.weaknesses = Some(WeaknessMapping::new([89], "custom").unwrap());
            c
        };
        let all_sast = default_control("SAST", CheckType::SastSecurity);
        let fw = framework("t", vec![injection, all_sast]);
        let inputs = [FrameworkInput {
            framework: &fw,
            disabled: &[],
            attested: &[],
        }];
        let exceptions = [
            rule("js/sql-injection", Some("test/**"), Some(30)),
            rule("js/sql-injection", Some("src/**"), Some(10)),
        ];
        let (kept, excepted) = apply(&summary, &keys, &exceptions);
        let scan = ScanInput {
            summary: &kept,
            completed_at: now() - Duration::hours(1),
            excepted: Some(&excepted),
        };
        let report = score(&inputs, Some(&scan), now());
        let controls = &report.frameworks["t"].controls;
        let inj = controls.iter().find(|c| c.id == "INJ").unwrap();
        assert_eq!(inj.status, ControlStatus::Pass);
        assert_eq!(inj.evidence.excepted, Some(2));
        assert_eq!(
            inj.evidence.exceptions_expire_at,
            Some(now() + Duration::days(10))
        );
        assert!(
            inj.reason.contains("2 more findings excepted"),
            "{}",
            inj.reason
        );
        let sast = controls.iter().find(|c| c.id == "SAST").unwrap();
        assert_eq!(sast.status, ControlStatus::Partial);
        assert_eq!(sast.evidence.excepted, Some(2));
        // Without exceptions the evidence has no such fields.
        let plain = ScanInput {
            summary: &summary,
            completed_at: now() - Duration::hours(1),
            excepted: None,
        };
        let report = score(&inputs, Some(&plain), now());
        let json = serde_json::to_value(&report).unwrap();
        assert!(!json.to_string().contains("excepted"), "{json}");
    }

    #[test]
    fn globs_match_paths_as_shells_and_gitignore_do() {
        let cases = [
            ("test/**", "test/a.js", true),
            ("test/**", "test/deep/er/a.js", true),
            ("test/**", "src/test/a.js", false),
            ("**/test/**", "src/test/a.js", true),
            ("**/test/**", "test/a.js", true),
            ("src/*.js", "src/a.js", true),
            ("src/*.js", "src/lib/a.js", false),
            ("src/**/*.js", "src/a.js", true),
            ("src/**/*.js", "src/lib/x/a.js", true),
            ("src/?.js", "src/a.js", true),
            ("src/?.js", "src/ab.js", false),
            ("*.min.js", "vendor/jquery.min.js", false),
            ("**/*.min.js", "vendor/jquery.min.js", true),
            ("./docs/*", "docs/x.md", true),
            ("docs/*", "/docs/x.md", true),
            (
                "a*b*c*d*e*f*g*h*i*j",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (glob, path, expected) in cases {
            assert_eq!(Glob::new(glob).matches(path), expected, "{glob} vs {path}");
        }
    }
}
