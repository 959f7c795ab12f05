//! The DynamoDB adapter. Reads are strongly consistent, so a read after a write (and the
//! version check before an optimistic write) sees the latest state, as on the embedded store.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde_json::Value;

use super::record::ENTITY;
use super::{
    check_batch, prepare_write, Condition, Cursor, Item, Key, Page, Projection, Query,
    SortKeyRange, Store, StoreError, WriteOp, PK, SK,
};
use crate::aws::jitter;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    instance: u64,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            instance: super::next_instance(),
        }
    }

    /// A client from the standard AWS environment (region, credentials, and
    /// `AWS_ENDPOINT_URL_DYNAMODB` or `endpoint` for DynamoDB Local), with [`CallLimits`]'
    /// defaults.
    pub async fn client_from_env(endpoint: Option<&str>) -> Client {
        Self::client_with(endpoint, CallLimits::default()).await
    }

    /// The same with other limits (the outage tests make them short).
    pub async fn client_with(endpoint: Option<&str>, limits: CallLimits) -> Client {
        let config = crate::aws::service_config("DYNAMODB", endpoint)
            .await
            .timeout_config(limits.timeouts())
            .retry_config(limits.retries())
            .build();
        Client::new(&config)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// How long a store call may take, and how often it is tried: an unreachable, throttling or
/// stalled table fails a request within `call` (answered 503), not at the function's timeout.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub connect: Duration,
    /// One attempt.
    pub attempt: Duration,
    /// The call with its retries.
    pub call: Duration,
    pub attempts: u32,
}

impl Default for CallLimits {
    /// A connection within 1 s, an attempt within 2 s, three attempts, the call within 4 s: a
    /// request meeting a stalled table answers 503 well within its function's 10 s.
    fn default() -> Self {
        CallLimits {
            connect: Duration::from_secs(1),
            attempt: Duration::from_secs(2),
            call: Duration::from_secs(4),
            attempts: 3,
        }
    }
}

impl CallLimits {
    fn timeouts(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.call)
            .build()
    }

    /// Throttling and transient errors retried, quickly backed off.
    fn retries(&self) -> aws_config::retry::RetryConfig {
        aws_config::retry::RetryConfig::standard()
            .with_max_attempts(self.attempts)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(1))
    }
}

/// How often a transaction cancelled by a conflict is tried again (waits of up to 20, 40 … 640
/// ms: at most 1.3 s in all).
const CONFLICT_RETRIES: u32 = 6;

/// How often keys DynamoDB leaves unprocessed (under load) are asked for again.
const BATCH_RETRIES: u32 = 4;

/// Error codes of DynamoDB that say it is overloaded or failing, not that the request is wrong.
const OUTAGE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
];

/// A modeled error of a call: an outage when its code says so.
fn service<E: ProvideErrorMetadata + std::error::Error + 'static>(e: E) -> StoreError {
    let outage = e.code().is_some_and(|code| OUTAGE_CODES.contains(&code));
    let text = DisplayErrorContext(e).to_string();
    if outage {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

/// A failed call: an outage (no connection, no answer in time, throttling, any 5xx) is
/// [`StoreError::Unavailable`]; a single write meeting a transaction on its item is a
/// [`StoreError::Conflict`]; anything else is a [`StoreError::Backend`] bug.
fn sdk<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let outage = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(failed) => {
            if failed.err().code() == Some("TransactionConflictException") {
                return StoreError::Conflict;
            }
            failed.raw().status().is_server_error()
                || failed
                    .err()
                    .code()
                    .is_some_and(|code| OUTAGE_CODES.contains(&code))
        }
        _ => false,
    };
    let text = DisplayErrorContext(e).to_string();
    if outage {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

/// Items and values in the SDK's attribute form and back: serde_dynamo, the same conversion the
/// stream images go through (`crate::stream`), so an item reads the same whichever way it came.
fn to_attrs(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(item).map_err(|e| StoreError::Invalid(format!("unstorable item: {e}")))
}

fn to_attr(value: &Value) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| StoreError::Invalid(format!("unstorable value: {e}")))
}

pub(crate) fn to_item(attrs: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    serde_dynamo::from_item(attrs).map_err(|e| StoreError::Backend(format!("unreadable item: {e}")))
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// A condition as a DynamoDB expression with its placeholder names and values.
struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: Option<HashMap<String, AttributeValue>>,
}

fn condition_expr(condition: &Condition) -> Result<Expr, StoreError> {
    let pk_name = HashMap::from([("#pk".to_string(), PK.to_string())]);
    Ok(match condition {
        Condition::NotExists => Expr {
            text: "attribute_not_exists(#pk)".into(),
            names: pk_name,
            values: None,
        },
        Condition::Exists => Expr {
            text: "attribute_exists(#pk)".into(),
            names: pk_name,
            values: None,
        },
        Condition::Equals(attr, value) => Expr {
            text: "#a = :v".into(),
            names: HashMap::from([("#a".to_string(), attr.clone())]),
            values: Some(HashMap::from([(":v".to_string(), to_attr(value)?)])),
        },
        Condition::Missing(attr) => Expr {
            text: "attribute_exists(#pk) AND attribute_not_exists(#a)".into(),
            names: HashMap::from([
                ("#pk".to_string(), PK.to_string()),
                ("#a".to_string(), attr.clone()),
            ]),
            values: None,
        },
    })
}

macro_rules! with_condition {
    ($builder:expr, $condition:expr) => {{
        let mut b = $builder;
        if let Some(c) = $condition {
            let e = condition_expr(c)?;
            b = b
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(e.values);
        }
        b
    }};
}

fn transact_item(op: &WriteOp, table: &str) -> Result<TransactWriteItem, StoreError> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Invalid(e.to_string());
    let item = match op {
        WriteOp::Put { item, condition } => TransactWriteItem::builder().put(
            with_condition!(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(to_attrs(item)?)),
                condition.as_ref()
            )
            .build()
            .map_err(build)?,
        ),
        WriteOp::Delete { key, condition } => TransactWriteItem::builder().delete(
            with_condition!(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key_attrs(key))),
                condition.as_ref()
            )
            .build()
            .map_err(build)?,
        ),
        WriteOp::Add { key, attrs, entity } => {
            let mut names: HashMap<String, String> = attrs
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("#a{i}"), (*a).to_string()))
                .collect();
            names.insert("#entity".into(), ENTITY.into());
            let adds: Vec<String> = (0..attrs.len()).map(|i| format!("#a{i} :one")).collect();
            TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key_attrs(key)))
                    .update_expression(format!("SET #entity = :entity ADD {}", adds.join(", ")))
                    .set_expression_attribute_names(Some(names))
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .expression_attribute_values(":entity", AttributeValue::S((*entity).into()))
                    .build()
                    .map_err(build)?,
            )
        }
        WriteOp::Check { key, condition } => TransactWriteItem::builder().condition_check(
            with_condition!(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key_attrs(key))),
                Some(condition)
            )
            .build()
            .map_err(build)?,
        ),
    };
    Ok(item.build())
}

impl DynamoStore {
    /// One item alone goes through PutItem/DeleteItem: half the cost of a transaction.
    async fn write_one(&self, op: &WriteOp, key: Key) -> Result<(), StoreError> {
        let failed = || StoreError::ConditionFailed {
            index: 0,
            key: key.clone(),
        };
        match op {
            WriteOp::Put { item, condition } => {
                let req = with_condition!(
                    self.client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(to_attrs(item)?)),
                    condition.as_ref()
                );
                match req.send().await {
                    Ok(_) => Ok(()),
                    Err(SdkError::ServiceError(e))
                        if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
                    {
                        Err(failed())
                    }
                    Err(e) => Err(sdk(e)),
                }
            }
            WriteOp::Delete { key: k, condition } => {
                let req = with_condition!(
                    self.client
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(k))),
                    condition.as_ref()
                );
                match req.send().await {
                    Ok(_) => Ok(()),
                    Err(SdkError::ServiceError(e))
                        if matches!(
                            e.err(),
                            DeleteItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        Err(failed())
                    }
                    Err(e) => Err(sdk(e)),
                }
            }
            WriteOp::Check { .. } | WriteOp::Add { .. } => {
                self.write_many(std::slice::from_ref(op), &[key]).await
            }
        }
    }

    /// A transaction cancelled by another one on the same item wrote nothing, so it is tried
    /// again a few times after a short random wait (AWS's advice); the org's versions item
    /// ([`crate::keys::org_versions`]) is in every change of what scoring reads, so two such
    /// changes of one org at the same moment meet there.
    async fn write_retrying(&self, ops: &[WriteOp], keys: &[Key]) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match self.write_many(ops, keys).await {
                Err(StoreError::Conflict) if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(jitter(Duration::from_millis(10 << attempt))).await;
                }
                done => return done,
            }
        }
    }

    async fn write_many(&self, ops: &[WriteOp], keys: &[Key]) -> Result<(), StoreError> {
        let items = ops
            .iter()
            .map(|op| transact_item(op, &self.table))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    let reasons = tc.cancellation_reasons();
                    let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
                    if let Some(index) =
                        (0..reasons.len()).find(|&i| code(i) == "ConditionalCheckFailed")
                    {
                        return Err(StoreError::ConditionFailed {
                            index,
                            key: keys[index].clone(),
                        });
                    }
                    if (0..reasons.len()).any(|i| code(i) == "TransactionConflict") {
                        return Err(StoreError::Conflict);
                    }
                    if (0..reasons.len()).any(|i| {
                        ["ThrottlingError", "ProvisionedThroughputExceeded"].contains(&code(i))
                    }) {
                        return Err(StoreError::Unavailable(format!(
                            "transaction throttled: {:?}",
                            reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                        )));
                    }
                    Err(StoreError::Backend(format!(
                        "transaction cancelled: {:?}",
                        reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                    )))
                }
                TransactWriteItemsError::TransactionInProgressException(_) => {
                    Err(StoreError::Conflict)
                }
                _ if e.raw().status().is_server_error() => Err(StoreError::Unavailable(format!(
                    "DynamoDB answered {}",
                    e.raw().status()
                ))),
                _ => Err(service(e.into_err())),
            },
            Err(e) => Err(sdk(e)),
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    fn adapter(&self) -> &'static str {
        "dynamodb"
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.map(to_item).transpose()
    }

    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        check_batch(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // DynamoDB refuses a key asked twice in one batch.
        let mut unique: Vec<&Key> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Invalid(e.to_string());
        let mut wanted = KeysAndAttributes::builder()
            .set_keys(Some(unique.iter().map(|k| key_attrs(k)).collect()))
            .consistent_read(true);
        if let Some(p) = projection {
            let (expression, names) = p.expression();
            wanted = wanted
                .projection_expression(expression)
                .set_expression_attribute_names(Some(names));
        }
        let mut pending = wanted.build().map_err(build)?;
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(unique.len());
        let mut attempt = 0;
        loop {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(sdk)?;
            let items = out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default();
            for attrs in items {
                let item = to_item(attrs)?;
                if let Some(key) = Key::of(&item) {
                    found.insert(key, item);
                }
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys().is_empty() => {
                    if attempt == BATCH_RETRIES {
                        return Err(StoreError::Unavailable(format!(
                            "{} keys of a batch read left unprocessed",
                            rest.keys().len()
                        )));
                    }
                    attempt += 1;
                    tokio::time::sleep(jitter(Duration::from_millis(20 << attempt))).await;
                    pending = rest;
                }
                _ => break,
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn instance(&self) -> u64 {
        self.instance
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
        let condition = match &query.range {
            SortKeyRange::All => "#pk = :pk".to_string(),
            SortKeyRange::Prefix(p) if p.is_empty() => "#pk = :pk".to_string(),
            SortKeyRange::Prefix(p) => {
                names.insert("#sk".into(), SK.into());
                values.insert(":p".into(), AttributeValue::S(p.clone()));
                "#pk = :pk AND begins_with(#sk, :p)".to_string()
            }
            SortKeyRange::Between(lo, hi) => {
                if lo > hi {
                    return Ok(Page::default());
                }
                names.insert("#sk".into(), SK.into());
                values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                "#pk = :pk AND #sk BETWEEN :lo AND :hi".to_string()
            }
        };
        let projection = query.projection.as_ref().map(|p| {
            let (expression, projected) = p.expression();
            names.extend(projected);
            expression
        });
        // Ask for one more than the limit, so a cursor is returned only when more items follow.
        let wanted = query.limit + 1;
        let mut items: Vec<Item> = Vec::new();
        let mut start = query
            .cursor
            .as_ref()
            .map(|c| key_attrs(&Key::new(query.pk.clone(), c.sort_key())));
        loop {
            let remaining = (wanted - items.len()).min(1000) as i32;
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(query.forward)
                .set_projection_expression(projection.clone())
                .consistent_read(true)
                .limit(remaining)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk)?;
            let next_start = out.last_evaluated_key.clone();
            for attrs in out.items.unwrap_or_default() {
                items.push(to_item(attrs)?);
            }
            match next_start {
                Some(k) if items.len() < wanted => start = Some(k),
                _ => break,
            }
        }
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .and_then(Key::of)
                .map(|k| Cursor::from_sort_key(k.sk))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (ops, mut keys) = prepare_write(ops)?;
        if ops.len() == 1 {
            return self.write_one(&ops[0], keys.remove(0)).await;
        }
        self.write_retrying(&ops, &keys).await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .update_expression("ADD #a :by")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":by", AttributeValue::N(by.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk)?;
        out.attributes()
            .and_then(|a| a.get(attr))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| StoreError::Backend(format!("counter {attr} of {key} not returned")))
    }
}
