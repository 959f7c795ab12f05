//! A run too large for one function: its records partitioned once (by `process-upload`), each
//! partition evaluated by its own function (a Step Functions distributed map over the partition
//! objects), the parts' results merged and the run stored (one more function). The three steps
//! are `compliance_packs::engine::spill`'s, the code the local server runs on a thread pool.
//!
//! Objects, all under the upload's id and expired with the bucket's one-day rule should a step
//! never clean up:
//! - `partitions/{upload_id}/run.json`: the [`RunPlan`] (who, which rules, the manifest);
//! - `partitions/{upload_id}/parts/{file}`: the partition files, the map's items;
//! - `results/{upload_id}/{file}.json`: each partition's result.
//!
//! `run-partitions` runs the [`Step`]s the state machine (`statemachine/audit-run.asl.json`)
//! sends.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use audits_api::runs::model::RecordFormat;
use audits_api::runs::{self, own_audit, store_run, Evaluated, MAX_STORED_FINDINGS};
use chrono::{DateTime, Utc};
use compliance_auth::aws_json::{self, CallError, STEP_FUNCTIONS};
use compliance_domain::ids::{OrgId, Uuid};
use compliance_http::ApiError;
use compliance_packs::engine::spill::{self, Manifest, PartResult, SpillOptions};
use compliance_packs::engine::{self, RuleRun};
use compliance_packs::{PolicyType, Rule};
use compliance_uploads::records;
use compliance_uploads::{max_concurrency, Upload, UploadResult, UploadStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::decoded::Source;
use crate::run::{record_format, spill_error};
use crate::{Outcome, ProcessError, Processor};

/// What the merge step needs of the run, written beside its partitions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunPlan {
    pub org_id: OrgId,
    pub upload_id: Uuid,
    pub policy_type: PolicyType,
    /// The rules as they run (their thresholds at partitioning).
    pub rules: Vec<Rule>,
    pub format: RecordFormat,
    #[serde(with = "compliance_domain::time::micros")]
    pub started_at: DateTime<Utc>,
    pub manifest: Manifest,
}

pub fn plan_key(upload_id: &Uuid) -> String {
    format!("partitions/{upload_id}/run.json")
}

pub fn parts_prefix(upload_id: &Uuid) -> String {
    format!("partitions/{upload_id}/parts/")
}

pub fn result_key(upload_id: &Uuid, file: &str) -> String {
    format!("results/{upload_id}/{file}.json")
}

/// Starts the partitioned evaluation (`StartExecution` of the state machine in AWS).
#[async_trait]
pub trait Starter: Send + Sync {
    async fn start(&self, name: &str, input: serde_json::Value) -> Result<String, String>;
}

/// The state machine of `RUN_STATE_MACHINE_ARN`, started by one signed `StartExecution`.
pub struct StepFunctions {
    pub state_machine_arn: String,
    /// Another endpoint than the region's (tests).
    pub endpoint: Option<String>,
}

#[async_trait]
impl Starter for StepFunctions {
    async fn start(&self, name: &str, input: serde_json::Value) -> Result<String, String> {
        let request = json!({
            "stateMachineArn": self.state_machine_arn,
            "name": name,
            "input": input.to_string(),
        });
        let started = aws_json::call(
            &STEP_FUNCTIONS,
            "StartExecution",
            &request,
            self.endpoint.as_deref(),
        )
        .await;
        match started {
            Ok(started) => started["executionArn"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("StartExecution answered no executionArn: {started}")),
            // The upload's id names the execution, so an execution of that name is this run's:
            // started by an earlier attempt whose answer was lost, and since finished (a running
            // one answers its ARN again).
            Err(CallError::Refused { kind, .. }) if kind == "ExecutionAlreadyExists" => {
                Ok(execution_arn(&self.state_machine_arn, name))
            }
            Err(e) => Err(format!("StartExecution of {}: {e}", self.state_machine_arn)),
        }
    }
}

/// The ARN of the execution `name` of a state machine (`arn:…:stateMachine:M` →
/// `arn:…:execution:M:name`).
fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// When a run fans out: from this many decompressed bytes (estimated from the object's size),
/// and how.
#[derive(Clone)]
pub struct Fanout {
    pub starter: Arc<dyn Starter>,
    /// The bucket the execution lists partitions in.
    pub bucket: String,
    pub min_bytes: u64,
}

/// The default threshold: what one function reads and evaluates in about five minutes of its
/// fifteen at the spilled path's measured rate on one Lambda vCPU pair (≈ 60 MB/s).
pub const FANOUT_MIN_BYTES: u64 = 16 << 30;

/// The fan-out of `RUN_STATE_MACHINE_ARN` (none without it), from `RUN_FANOUT_MIN_BYTES`
/// decompressed bytes ([`FANOUT_MIN_BYTES`] by default).
pub async fn from_env(bucket: String) -> Result<Option<Fanout>, String> {
    let Some(arn) = std::env::var("RUN_STATE_MACHINE_ARN")
        .ok()
        .filter(|a| !a.is_empty())
    else {
        return Ok(None);
    };
    let min_bytes = match std::env::var("RUN_FANOUT_MIN_BYTES") {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("RUN_FANOUT_MIN_BYTES must be a number of bytes, not {v:?}"))?,
        Err(_) => FANOUT_MIN_BYTES,
    };
    Ok(Some(Fanout {
        starter: Arc::new(StepFunctions {
            state_machine_arn: arn,
            endpoint: None,
        }),
        bucket,
        min_bytes,
    }))
}

/// The execution's input, as `statemachine/audit-run.asl.json` reads it.
pub fn execution_input(bucket: &str, upload: &Upload) -> serde_json::Value {
    json!({
        "upload_id": upload.upload_id,
        "bucket": bucket,
        "partitions_prefix": parts_prefix(&upload.upload_id),
        "max_concurrency": max_concurrency(upload.plan),
    })
}

/// Partitions the records into the bucket and starts their evaluation; the upload stays
/// `processing` until the merge step completes it (or the failure step fails it).
pub(crate) async fn fan_out(
    p: &Processor,
    fanout: &Fanout,
    claimed: &Upload,
    policy_type: PolicyType,
    rules: Vec<Rule>,
    source: Source,
    estimate: u64,
) -> Result<String, Outcome> {
    let format = record_format(claimed.content_type);
    let started_at = p.state.now();
    let scratch =
        tempfile_dir(p.objects.scratch()).map_err(|e| Outcome::Retry(ProcessError::internal(e)))?;
    let dir = scratch.path().to_path_buf();
    let partition_rules = rules.clone();
    let manifest = compliance_services::tasks::blocking(move || {
        let runs: Vec<RuleRun> = partition_rules.iter().map(RuleRun::as_written).collect();
        let options = SpillOptions::new(&dir, estimate, engine::default_partitions());
        let reader = source.open().map_err(ApiError::internal)?;
        spill::partition(
            &runs,
            policy_type.schema(),
            format.engine(),
            reader,
            &options,
        )
        .map_err(|e| spill_error(e, &source))
    })
    .await
    .map_err(ApiError::internal)??;
    if manifest.records == 0 {
        return Err(ApiError::BadRequest("The upload holds no records".into()).into());
    }
    let upload_id = &claimed.upload_id;
    for task in manifest.tasks() {
        let key = format!("{}{}", parts_prefix(upload_id), task.file);
        p.objects
            .put_file(&key, &scratch.path().join(&task.file))
            .await
            .map_err(|e| Outcome::Retry(e.into()))?;
    }
    let plan = RunPlan {
        org_id: claimed.org_id.clone(),
        upload_id: upload_id.clone(),
        policy_type,
        rules,
        format,
        started_at,
        manifest,
    };
    let plan_file = scratch.path().join("run.json");
    std::fs::write(
        &plan_file,
        serde_json::to_vec(&plan).expect("a plan serialises"),
    )
    .map_err(|e| Outcome::Retry(ProcessError::internal(e)))?;
    p.objects
        .put_file(&plan_key(upload_id), &plan_file)
        .await
        .map_err(|e| Outcome::Retry(e.into()))?;
    let input = execution_input(&fanout.bucket, claimed);
    // The upload's id names the execution: a second start of the same run finds the first
    // execution (Step Functions runs a name once) rather than running it twice.
    fanout
        .starter
        .start(upload_id.as_ref(), input)
        .await
        .map_err(|e| Outcome::Retry(ProcessError::Internal(e)))
}

fn tempfile_dir(scratch: &Path) -> std::io::Result<tempfile::TempDir> {
    std::fs::create_dir_all(scratch)?;
    tempfile::tempdir_in(scratch)
}

/// One step of the state machine, as its states send it.
#[derive(Debug, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Evaluate {
        upload_id: Uuid,
        key: String,
    },
    Merge {
        upload_id: Uuid,
    },
    Fail {
        upload_id: Uuid,
        error: Option<String>,
        cause: Option<String>,
    },
}

async fn plan(p: &Processor, upload_id: &Uuid) -> Result<RunPlan, ProcessError> {
    read_json(p, &plan_key(upload_id)).await
}

async fn read_json<T: serde::de::DeserializeOwned>(
    p: &Processor,
    key: &str,
) -> Result<T, ProcessError> {
    let fetched = p.objects.fetch(key).await?;
    let bytes = std::fs::read(&fetched.path).map_err(ProcessError::internal)?;
    serde_json::from_slice(&bytes).map_err(|e| ProcessError::internal(format!("{key}: {e}")))
}

/// Runs one step; what it answers is the state's output.
pub async fn run_step(p: &Processor, step: Step) -> Result<serde_json::Value, ProcessError> {
    match step {
        Step::Evaluate { upload_id, key } => evaluate(p, &upload_id, &key).await,
        Step::Merge { upload_id } => merge(p, &upload_id).await,
        Step::Fail {
            upload_id,
            error,
            cause,
        } => fail(p, &upload_id, error, cause).await,
    }
}

/// Evaluates one partition object into its result object.
async fn evaluate(
    p: &Processor,
    upload_id: &Uuid,
    key: &str,
) -> Result<serde_json::Value, ProcessError> {
    let plan = plan(p, upload_id).await?;
    let file = key.rsplit('/').next().unwrap_or_default().to_string();
    let task = plan
        .manifest
        .tasks()
        .into_iter()
        .find(|t| t.file == file)
        .ok_or_else(|| ProcessError::Internal(format!("{key} is no partition of {upload_id}")))?;
    let fetched = p.objects.fetch(key).await?;
    let (path, now) = (fetched.path.clone(), plan.started_at);
    let part = compliance_services::tasks::blocking(move || {
        let runs: Vec<RuleRun> = plan.rules.iter().map(RuleRun::as_written).collect();
        let file = std::fs::File::open(&path).map_err(ProcessError::internal)?;
        spill::evaluate_part(
            &runs,
            plan.policy_type.schema(),
            &task,
            std::io::BufReader::new(file),
            now,
            MAX_STORED_FINDINGS,
        )
        .map_err(ProcessError::internal)
    })
    .await
    .map_err(ProcessError::internal)??;
    drop(fetched);
    let out =
        tempfile::NamedTempFile::new_in(p.objects.scratch()).map_err(ProcessError::internal)?;
    std::fs::write(
        out.path(),
        serde_json::to_vec(&part).expect("a result serialises"),
    )
    .map_err(ProcessError::internal)?;
    p.objects
        .put_file(&result_key(upload_id, &file), out.path())
        .await?;
    Ok(json!({"records": part.records}))
}

/// Merges the results, stores the run with the upload's completion, removes the objects.
async fn merge(p: &Processor, upload_id: &Uuid) -> Result<serde_json::Value, ProcessError> {
    let plan = plan(p, upload_id).await?;
    let mut parts: Vec<PartResult> = Vec::new();
    for key in p.objects.list(&format!("results/{upload_id}/")).await? {
        parts.push(read_json(p, &key).await?);
    }
    let runs: Vec<RuleRun> = plan.rules.iter().map(RuleRun::as_written).collect();
    let evaluation = spill::merge(&runs, &plan.manifest, MAX_STORED_FINDINGS, parts)
        .map_err(ProcessError::internal)?;
    let store = p.state.store.as_ref();
    let upload = records::get(store, &plan.org_id, upload_id)
        .await?
        .ok_or_else(|| ProcessError::Internal(format!("upload {upload_id} not found")))?;
    if upload.status == UploadStatus::Complete {
        // A retried merge whose first attempt stored the run.
        cleanup(p, upload_id).await?;
        return Ok(json!({"run_id": upload.result}));
    }
    match &upload.target {
        compliance_uploads::Target::Run { audit_id, .. } => {
            let principal = upload.uploader.principal(&plan.org_id);
            let audit = own_audit(&p.state, &principal, audit_id.as_str())
                .await
                .map_err(ProcessError::internal)?;
            let run_id = runs::new_run_id();
            let now = p.state.now();
            let run = Evaluated {
                run_id: run_id.clone(),
                rules: &plan.rules,
                evaluation,
                format: plan.format,
                input_bytes: plan.manifest.bytes_read,
                started_at: plan.started_at,
                finished_at: now,
            };
            let ctx = upload
                .uploader
                .audit(&plan.org_id, p.state.audit_retention_days, now);
            let complete = records::complete_op(&upload, UploadResult::Run { run_id }, now);
            store_run(&p.state, &ctx, &principal, &audit, run, vec![complete])
                .await
                .map_err(ProcessError::internal)?;
        }
        compliance_uploads::Target::Scan { .. } => {
            return Err(ProcessError::Internal(format!(
                "upload {upload_id} is not a run's"
            )))
        }
    }
    cleanup(p, upload_id).await?;
    let done = records::get(store, &plan.org_id, upload_id).await?;
    Ok(json!({"result": done.and_then(|u| u.result)}))
}

/// Records the failure on the upload (nothing was stored) and removes the objects.
async fn fail(
    p: &Processor,
    upload_id: &Uuid,
    error: Option<String>,
    cause: Option<String>,
) -> Result<serde_json::Value, ProcessError> {
    let plan = plan(p, upload_id).await?;
    let store = p.state.store.as_ref();
    if let Some(upload) = records::get(store, &plan.org_id, upload_id).await? {
        if upload.status == UploadStatus::Processing {
            tracing::error!(%upload_id, ?error, ?cause, "the partitioned evaluation failed");
            let problem = ApiError::Failed(
                "The partitioned evaluation of the records failed; nothing was stored: retry \
                 the upload",
                error.unwrap_or_default(),
            )
            .upload_problem(true);
            let ctx =
                upload
                    .uploader
                    .audit(&plan.org_id, p.state.audit_retention_days, p.state.now());
            records::fail(store, &ctx, &upload, problem).await?;
        }
    }
    cleanup(p, upload_id).await?;
    Ok(json!({"failed": upload_id}))
}

async fn cleanup(p: &Processor, upload_id: &Uuid) -> Result<(), ProcessError> {
    for prefix in [
        format!("partitions/{upload_id}/"),
        format!("results/{upload_id}/"),
    ] {
        for key in p.objects.list(&prefix).await? {
            p.objects.delete(&key).await?;
        }
    }
    Ok(())
}
