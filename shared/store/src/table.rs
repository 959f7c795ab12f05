//! The table's definition, in one place: the DynamoDB adapter's `create_table`, the operator
//! CLI and the tests create it from these constants, and a test proves `template.yaml` declares
//! the same.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::{StoreError, PK, SK};

pub const HASH_KEY: &str = PK;
pub const RANGE_KEY: &str = SK;
/// Epoch seconds after which DynamoDB deletes the item (audit retention, idempotency records).
pub const TTL_ATTRIBUTE: &str = "expires_at";
pub const BILLING_MODE: &str = "PAY_PER_REQUEST";
pub const STREAM_VIEW_TYPE: &str = "NEW_AND_OLD_IMAGES";
pub const POINT_IN_TIME_RECOVERY: bool = true;

fn backend(e: impl std::fmt::Debug) -> StoreError {
    StoreError::Backend(format!("{e:?}"))
}

/// Creates the table (and its TTL and point-in-time recovery) and waits until it is active.
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(backend)
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(backend)
    };
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr(HASH_KEY)?)
        .attribute_definitions(attr(RANGE_KEY)?)
        .key_schema(key(HASH_KEY, KeyType::Hash)?)
        .key_schema(key(RANGE_KEY, KeyType::Range)?)
        .billing_mode(BillingMode::from(BILLING_MODE))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(STREAM_VIEW_TYPE))
                .build()
                .map_err(backend)?,
        )
        .send()
        .await
        .map_err(backend)?;
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(backend)?;
        let active = described
            .table()
            .and_then(|t| t.table_status())
            .map(|s| s.as_str() == "ACTIVE")
            .unwrap_or(false);
        if active {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(backend)?,
        )
        .send()
        .await
        .map_err(backend)?;
    let pitr = client
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(POINT_IN_TIME_RECOVERY)
                .build()
                .map_err(backend)?,
        )
        .send()
        .await;
    match pitr {
        Ok(_) => Ok(()),
        // DynamoDB Local has no backups; everything else about the table is as in AWS.
        Err(e) if e.code() == Some("UnknownOperationException") => {
            tracing::warn!(
                table = name,
                "point-in-time recovery not supported by this endpoint"
            );
            Ok(())
        }
        Err(e) => Err(backend(e)),
    }
}
