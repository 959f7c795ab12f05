//! S3's `ObjectCreated` notification, as the Lambda receives it: each record's object processed
//! in turn. A failure that may pass (the store, S3) fails the invocation, so that Lambda retries
//! the event (asynchronous invocations are retried twice); an upload's own fault does not.

use aws_lambda_events::event::s3::S3Event;

use crate::{lease, process, ProcessError, Processed, Processor};

/// S3 event keys are URL-encoded, spaces as `+`.
pub fn object_key(encoded: &str) -> String {
    form_urlencoded::parse(format!("k={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Processes every object of the event; the first passing failure is returned after all were
/// tried.
pub async fn handle(p: &Processor, event: S3Event) -> Result<Vec<Processed>, ProcessError> {
    let mut done = Vec::new();
    let mut first_error = None;
    for record in event.records {
        let Some(key) = record.s3.object.key.as_deref().map(object_key) else {
            continue;
        };
        match process(p, &key, lease()).await {
            Ok(processed) => done.push(processed),
            Err(e) => {
                tracing::error!(key, error = %e, "upload not processed; the event will be retried");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(object_key("uploads/o1/a+b%2Bc"), "uploads/o1/a b+c");
    }
}
