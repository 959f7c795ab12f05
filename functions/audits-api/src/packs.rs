//! The prebuilt packs: their list, one pack with its rules and the record fields they read,
//! and a dry run of a pack over records (nothing stored) to backtest thresholds.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_http::body::{FromBody, Object};
use compliance_http::{parse_json, ApiError, AppState, Caller, FieldError, Params, RawBody};
use compliance_packs::engine::FieldSpec;
use compliance_packs::{packs as all_packs, NamedList, Pack, PolicyType, Rule, NAMED_LISTS};
use serde::{Deserialize, Serialize};

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

/// The JSON envelope: records as an array, with the options of the query.
pub struct Envelope {
    records: Vec<u8>,
    thresholds: Vec<(String, f64)>,
    rule_ids: Option<Vec<String>>,
    findings_limit: Option<u32>,
}

/// The envelope may carry this many records (the body limit bounds it anyway).
const MAX_ENVELOPE_RECORDS: usize = 100_000;

impl FromBody for Envelope {
    fn from_body(body: &mut Object) -> Option<Self> {
        let records = body.required("records", |f| {
            f.array(1, MAX_ENVELOPE_RECORDS, |r| {
                let record = r.raw_object()?;
                let mut line = serde_json::to_vec(record).ok()?;
                line.push(b'\n');
                Some(line)
            })
        });
        let thresholds = body.optional("thresholds", |f| f.entries(100, |_, value| value.number()));
        let rule_ids = body.optional("rule_ids", |f| {
            f.array(1, 100, |id| id.string().map(str::to_string))
        });
        let findings_limit = body.optional("findings_limit", |f| {
            let v = f
                .value()
                .as_u64()
                .filter(|n| *n <= u64::from(MAX_DRY_RUN_FINDINGS));
            match v {
                Some(n) => Some(n as u32),
                None => f.invalid(format!(
                    "Expected an integer between 0 and {MAX_DRY_RUN_FINDINGS}"
                )),
            }
        });
        Some(Envelope {
            records: records?.concat(),
            thresholds: thresholds?.unwrap_or_default(),
            rule_ids: rule_ids?,
            findings_limit: findings_limit?,
        })
    }
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

fn invalid_query(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidQuery(vec![FieldError::at(field, message)])
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
    let mut thresholds = match &query.thresholds {
        Some(text) => parse_thresholds(text).map_err(|e| invalid_query("thresholds", e))?,
        None => Vec::new(),
    };
    let mut rule_ids: Option<Vec<String>> = query.rule_ids.as_deref().map(|ids| {
        ids.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let mut findings_limit = query.findings_limit;
    let envelope = compliance_http::upload::mime(&headers) == "application/json";
    let upload = if envelope {
        let bytes = compliance_http::upload::decode(&headers, &body, "records")?;
        let e: Envelope =
            compliance_http::body::read(&parse_json(&bytes)?).map_err(ApiError::Validation)?;
        thresholds.extend(e.thresholds);
        rule_ids = e.rule_ids.or(rule_ids);
        findings_limit = e.findings_limit.or(findings_limit);
        Upload {
            format: RecordFormat::Ndjson,
            bytes: e.records,
        }
    } else {
        input::read(&headers, &body)?
    };
    drop(body);
    let limit = findings_limit.unwrap_or(DEFAULT_DRY_RUN_FINDINGS);
    if limit > MAX_DRY_RUN_FINDINGS {
        return Err(invalid_query(
            "findings_limit",
            format!("must be between 0 and {MAX_DRY_RUN_FINDINGS}"),
        ));
    }
    let at: &dyn Fn(&str, String) -> ApiError = if envelope {
        &|field, message| ApiError::Validation(vec![FieldError::at(field, message)])
    } else {
        &|field, message| invalid_query(field, message)
    };
    let rules = rules_to_run(t.pack(), rule_ids.as_deref(), &thresholds, at)?;
    if rules.is_empty() {
        return Err(at("rule_ids", "Select at least one rule".into()));
    }
    let thresholds: Vec<Option<f64>> = rules.iter().map(|r| r.threshold).collect();
    let format = upload.format;
    let now = state.now();
    let evaluation = input::evaluate(t, rules, upload, envelope, now, limit as usize).await?;
    let outcome = Outcome::of(&evaluation, &thresholds);
    Ok(Json(DryRun {
        policy_type: t,
        evaluated_at: now,
        format,
        outcome,
        findings: StoredFinding::numbered("dry-run", evaluation.findings),
    }))
}
