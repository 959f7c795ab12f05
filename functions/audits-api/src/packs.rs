//! The prebuilt packs: their list, one pack with its rules and the record fields they read,
//! and a dry run of a pack over records (nothing stored) to backtest thresholds.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_http::{ApiError, AppState, Caller, Params, RawBody};
use compliance_packs::engine::{FieldSpec, InputError, Records};
use compliance_packs::{packs as all_packs, NamedList, Pack, PolicyType, Rule, NAMED_LISTS};
use serde::{Deserialize, Serialize};

use crate::envelope;
use crate::runs::input::{self, Upload};
use crate::runs::model::{Outcome, RecordFormat, StoredFinding};
use crate::thresholds::with_threshold;

#[derive(Serialize)]
pub struct PackCategory {
    pub name: String,
    pub rule_count: usize,
}

#[derive(Serialize)]
pub struct PackSummary {
    pub policy_type: PolicyType,
    pub name: &'static str,
    pub description: &'static str,
    pub version: &'static str,
    pub rule_count: usize,
    pub categories: Vec<PackCategory>,
}

impl PackSummary {
    fn of(p: &'static Pack) -> Self {
        PackSummary {
            policy_type: p.policy_type,
            name: &p.name,
            description: &p.description,
            version: &p.version,
            rule_count: p.rules.len(),
            categories: p
                .categories()
                .into_iter()
                .map(|c| PackCategory {
                    rule_count: p.rules.iter().filter(|r| r.category == c).count(),
                    name: c,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct PackList {
    pub packs: Vec<PackSummary>,
}

pub async fn list(Caller(_): Caller) -> Json<PackList> {
    Json(PackList {
        packs: all_packs().iter().map(PackSummary::of).collect(),
    })
}

/// One pack: what a run of it reads and how it judges.
#[derive(Serialize)]
pub struct PackDetail {
    #[serde(flatten)]
    pub summary: PackSummary,
    /// Every record field the rules read, with its type and the rules that read it; records are
    /// cited by `id`, and windowed rules read `timestamp`.
    pub record_fields: &'static [FieldSpec],
    /// The named lists the rules may refer to, with the values the engine uses.
    pub named_lists: &'static [NamedList],
    pub rules: &'static [Rule],
}

fn pack_not_found() -> ApiError {
    ApiError::NotFound("Policy pack not found".into())
}

fn policy_type(text: &str) -> Result<PolicyType, ApiError> {
    text.parse().map_err(|_| pack_not_found())
}

pub async fn get(
    Caller(_): Caller,
    Path(policy_type_text): Path<String>,
) -> Result<Json<PackDetail>, ApiError> {
    let t = policy_type(&policy_type_text)?;
    let p = t.pack();
    Ok(Json(PackDetail {
        summary: PackSummary::of(p),
        record_fields: t.schema().fields(),
        named_lists: NAMED_LISTS,
        rules: &p.rules,
    }))
}

/// At most this many findings in a dry run's answer (nothing is stored to page through).
pub const MAX_DRY_RUN_FINDINGS: u32 = 1_000;
const DEFAULT_DRY_RUN_FINDINGS: u32 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateQuery {
    /// `aml-ctr-001:5000,aml-tm-001:30`.
    thresholds: Option<String>,
    /// `aml-ctr-001,aml-tm-001`: only these rules.
    rule_ids: Option<String>,
    findings_limit: Option<u32>,
}

#[derive(Serialize)]
pub struct DryRun {
    pub policy_type: PolicyType,
    #[serde(with = "compliance_domain::time::micros")]
    pub evaluated_at: DateTime<Utc>,
    pub format: RecordFormat,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The first findings, most severe first (`findings_limit`, at most 1000).
    pub findings: Vec<StoredFinding>,
}

/// `rule:value,rule:value`.
fn parse_thresholds(text: &str) -> Result<Vec<(String, f64)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (rule, value) = pair
                .split_once(':')
                .ok_or_else(|| format!("'{pair}' is not rule_id:number"))?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("'{pair}': the threshold is not a number"))?;
            Ok((rule.trim().to_string(), value))
        })
        .collect()
}

/// The pack's rules to run (all, or those named), each with its threshold (overridden where
/// asked); problems name the parameter.
fn rules_to_run(
    p: &Pack,
    rule_ids: Option<&[String]>,
    thresholds: &[(String, f64)],
    at: &dyn Fn(&str, String) -> ApiError,
) -> Result<Vec<Rule>, ApiError> {
    let known = |id: &str, what: &str| {
        p.rule(id).ok_or_else(|| {
            at(
                what,
                format!("Unknown rule '{id}' for policy_type '{}'", p.policy_type),
            )
        })
    };
    let mut overrides: BTreeMap<&str, Rule> = BTreeMap::new();
    for (id, value) in thresholds {
        let rule = known(id, "thresholds")?;
        let changed = with_threshold(rule, *value).map_err(|e| at("thresholds", e))?;
        overrides.insert(rule.rule_id.as_str(), changed);
    }
    let mut selected = Vec::new();
    match rule_ids {
        Some(ids) => {
            for id in ids {
                known(id, "rule_ids")?;
            }
            selected.extend(p.rules.iter().filter(|r| ids.contains(&r.rule_id)));
        }
        None => selected.extend(p.rules.iter()),
    }
    Ok(selected
        .into_iter()
        .map(|r| {
            overrides
                .get(r.rule_id.as_str())
                .cloned()
                .unwrap_or_else(|| r.clone())
        })
        .collect())
}

/// `POST /api/policy-packs/{policy_type}/evaluate`: the pack over the records, nothing stored.
pub async fn evaluate(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(policy_type_text): Path<String>,
    Params(query): Params<EvaluateQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<DryRun>, ApiError> {
    let t = policy_type(&policy_type_text)?;
    let thresholds = match &query.thresholds {
        Some(text) => parse_thresholds(text).map_err(|e| ApiError::query("thresholds", e))?,
        None => Vec::new(),
    };
    let rule_ids: Option<Vec<String>> = query.rule_ids.as_deref().map(|ids| {
        ids.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let asked = Asked {
        thresholds,
        rule_ids,
        findings_limit: query.findings_limit,
    };
    let now = state.now();
    // Decompressing, reading and evaluating up to 64 MiB is CPU work: off the async workers.
    compliance_services::tasks::blocking(move || dry_run(t, asked, &headers, body, now))
        .await
        .map_err(ApiError::internal)?
        .map(Json)
}

/// What the query (and then the envelope) asks of a dry run.
struct Asked {
    thresholds: Vec<(String, f64)>,
    rule_ids: Option<Vec<String>>,
    findings_limit: Option<u32>,
}

/// The records of a dry run: read already (the envelope's), or to read (NDJSON or CSV).
enum Source {
    Read(Box<Result<Records<'static>, InputError>>),
    Upload(Upload),
}

fn dry_run(
    t: PolicyType,
    mut asked: Asked,
    headers: &HeaderMap,
    body: Bytes,
    now: DateTime<Utc>,
) -> Result<DryRun, ApiError> {
    let is_envelope = compliance_http::upload::mime(headers) == "application/json";
    let (format, source) = if is_envelope {
        let bytes = compliance_http::upload::decode(headers, &body, "records")?;
        drop(body);
        let e = envelope::read(t.schema(), &bytes)?;
        asked.thresholds.extend(e.thresholds);
        asked.rule_ids = e.rule_ids.or(asked.rule_ids);
        asked.findings_limit = e.findings_limit.or(asked.findings_limit);
        (RecordFormat::Ndjson, Source::Read(Box::new(e.records)))
    } else {
        let upload = input::read(headers, &body)?;
        drop(body);
        (upload.format, Source::Upload(upload))
    };
    let limit = asked.findings_limit.unwrap_or(DEFAULT_DRY_RUN_FINDINGS);
    if limit > MAX_DRY_RUN_FINDINGS {
        return Err(ApiError::query(
            "findings_limit",
            format!("must be between 0 and {MAX_DRY_RUN_FINDINGS}"),
        ));
    }
    let at: &dyn Fn(&str, String) -> ApiError = if is_envelope {
        &|field, message| ApiError::field(field, message)
    } else {
        &|field, message| ApiError::query(field, message)
    };
    let rules = rules_to_run(t.pack(), asked.rule_ids.as_deref(), &asked.thresholds, at)?;
    if rules.is_empty() {
        return Err(at("rule_ids", "Select at least one rule".into()));
    }
    let records = match source {
        Source::Read(records) => (*records).map_err(|e| input::input_error(e, true))?,
        Source::Upload(upload) => input::parse(t, &upload)?,
    };
    let evaluation = input::evaluate_records(&rules, &records, now, limit as usize)?;
    drop(records);
    let thresholds: Vec<Option<f64>> = rules.iter().map(|r| r.threshold).collect();
    Ok(DryRun {
        policy_type: t,
        evaluated_at: now,
        format,
        outcome: Outcome::of(&evaluation, &thresholds),
        findings: StoredFinding::numbered("dry-run", evaluation.findings),
    })
}
