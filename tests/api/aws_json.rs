//! The signed calls of AWS's JSON protocol the functions make without an SDK (Secrets Manager's
//! `GetSecretValue`, Step Functions' `StartExecution`), against a stand-in on loopback that
//! checks each request as AWS would: the operation, the media type and the SigV4 signature
//! (signed again from the request it received, with the test credentials, for the service's
//! signing name in `us-east-1`).

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode as Status};
use compliance_auth::aws_json::{self, CallError, Service, STEP_FUNCTIONS};
use process_upload::fanout::{Starter, StepFunctions};
use serde_json::{json, Value};

/// What the stand-in answers to one operation's input.
pub(crate) type Answer = Arc<dyn Fn(&str, &Value) -> (Status, Value) + Send + Sync>;

/// A stand-in for `service` on loopback: refuses (403 `InvalidSignatureException`) what AWS
/// would refuse, hands the rest to `answer`. Its URL, and the (operation, input) it was sent.
pub(crate) async fn stand_in(
    service: &'static Service,
    answer: Answer,
) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let seen = got.clone();
    let handler = move |headers: HeaderMap, body: String| {
        let (answer, seen) = (answer.clone(), seen.clone());
        async move {
            let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
            let refused = |why: &str| {
                (
                    Status::FORBIDDEN,
                    axum::Json(json!({"__type": "InvalidSignatureException", "message": why})),
                )
            };
            let target = header("x-amz-target");
            let Some(operation) = target
                .strip_prefix(service.target_prefix)
                .and_then(|t| t.strip_prefix('.'))
            else {
                return refused("not an operation of this service");
            };
            if header("content-type") != service.content_type {
                return refused("not this service's AWS JSON version");
            }
            let date =
                chrono::NaiveDateTime::parse_from_str(header("x-amz-date"), "%Y%m%dT%H%M%SZ");
            let Ok(date) = date else {
                return refused("no x-amz-date");
            };
            let credentials =
                aws_credential_types::Credentials::new("test", "test", None, None, "tests");
            let identity: aws_smithy_runtime_api::client::identity::Identity = credentials.into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name(service.signing_name)
                .time(date.and_utc().into())
                .settings(SigningSettings::default())
                .build()
                .unwrap()
                .into();
            let url = format!("http://{}/", header("host"));
            let signed = [
                ("content-type", header("content-type")),
                ("x-amz-target", target),
            ];
            let signable = SignableRequest::new(
                "POST",
                &url,
                signed.into_iter(),
                SignableBody::Bytes(body.as_bytes()),
            )
            .unwrap();
            let (instructions, _) = sign(signable, &params).unwrap().into_parts();
            let expected = instructions
                .headers()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            if header("authorization") != expected {
                return refused("the signature does not match");
            }
            let Ok(input) = serde_json::from_str::<Value>(&body) else {
                return (
                    Status::BAD_REQUEST,
                    axum::Json(json!({"__type": "SerializationException"})),
                );
            };
            seen.lock()
                .unwrap()
                .push((operation.to_string(), input.clone()));
            let (status, body) = answer(operation, &input);
            (status, axum::Json(body))
        }
    };
    let router = axum::Router::new().route("/", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/"), got)
}

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:audit-run";

/// Step Functions as its API reference answers `StartExecution`: the execution's ARN; a name
/// already used with another input is `ExecutionAlreadyExists`; the first `throttled` calls
/// are throttled.
fn step_functions(throttled: usize) -> Answer {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let started: Mutex<Vec<(String, String)>> = Mutex::default();
    Arc::new(move |operation, input| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < throttled {
            let throttled = json!({"__type": "ThrottlingException", "message": "Rate exceeded"});
            return (Status::BAD_REQUEST, throttled);
        }
        assert_eq!(operation, "StartExecution");
        let name = input["name"].as_str().unwrap().to_string();
        let given = input["input"].as_str().unwrap().to_string();
        let mut started = started.lock().unwrap();
        if let Some((_, was)) = started.iter().find(|(n, _)| *n == name) {
            if *was != given {
                let exists = json!({
                    "__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists",
                    "message": format!("Execution Already Exists: '{name}'"),
                });
                return (Status::BAD_REQUEST, exists);
            }
        } else {
            started.push((name.clone(), given));
        }
        let arn = format!("arn:aws:states:us-east-1:123456789012:execution:audit-run:{name}");
        (Status::OK, json!({"executionArn": arn, "startDate": 1.7e9}))
    })
}

/// The fan-out's starter sends Step Functions what `StartExecution` takes (the machine, the
/// upload's id as the execution's name, the input as a JSON string), signed; a throttled call
/// is tried again; the same start twice is the same execution; and an execution of that name
/// which Step Functions will not start again (finished) is taken as the run's own, since the
/// name is the upload's id.
#[tokio::test]
async fn a_large_run_starts_its_execution_by_one_signed_call() {
    test_support::set_local_aws_env();
    let (endpoint, got) = stand_in(&STEP_FUNCTIONS, step_functions(1)).await;
    let starter = StepFunctions {
        state_machine_arn: MACHINE.into(),
        endpoint: Some(endpoint),
    };
    let input = json!({"upload_id": "7f1c", "bucket": "uploads", "partitions_prefix": "partitions/7f1c/parts/"});
    let arn = starter.start("7f1c", input.clone()).await.unwrap();
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:execution:audit-run:7f1c"
    );
    let sent = got.lock().unwrap().clone();
    assert_eq!(
        sent.len(),
        2,
        "the throttled call, then the same call again"
    );
    assert_eq!(sent[0], sent[1]);
    let (operation, request) = &sent[1];
    assert_eq!(operation, "StartExecution");
    assert_eq!(request["stateMachineArn"], MACHINE);
    assert_eq!(request["name"], "7f1c");
    let carried: Value = serde_json::from_str(request["input"].as_str().unwrap()).unwrap();
    assert_eq!(carried, input);

    assert_eq!(starter.start("7f1c", input).await.unwrap(), arn);
    let again = starter.start("7f1c", json!({"upload_id": "7f1c", "retried": true}));
    assert_eq!(again.await.unwrap(), arn);
    let calls = got.lock().unwrap().len();
    assert_eq!(calls, 4, "each start one call, the throttled one twice");
}

/// A call that fails for good says so with the service's error; one that cannot reach the
/// service says which service, after its bounded attempts.
#[tokio::test]
async fn failed_calls_name_the_service_and_its_error() {
    test_support::set_local_aws_env();
    let denied: Answer = Arc::new(|_, _| {
        let body = json!({"__type": "AccessDeniedException", "message": "not authorized to perform: states:StartExecution"});
        (Status::BAD_REQUEST, body)
    });
    let (endpoint, got) = stand_in(&STEP_FUNCTIONS, denied).await;
    let input = json!({"stateMachineArn": MACHINE, "name": "x", "input": "{}"});
    let e = aws_json::call(&STEP_FUNCTIONS, "StartExecution", &input, Some(&endpoint))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CallError::Refused { status: 400, kind, .. } if kind == "AccessDeniedException"),
        "{e:?}"
    );
    assert_eq!(got.lock().unwrap().len(), 1, "a refusal is not tried again");
    let starter = StepFunctions {
        state_machine_arn: MACHINE.into(),
        endpoint: Some(endpoint.clone()),
    };
    let refused = starter.start("x", json!({})).await.unwrap_err();
    assert!(refused.contains("AccessDeniedException"), "{refused}");
    assert!(refused.contains(MACHINE), "{refused}");

    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let e = aws_json::call(&STEP_FUNCTIONS, "StartExecution", &input, Some(&nowhere))
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with("Step Functions did not answer"),
        "{e}"
    );
}

/// In Lambda the SDK's configuration comes from the function's environment alone: the region
/// (`AWS_REGION`, else `AWS_DEFAULT_REGION`) and the role's session credentials; without a
/// key pair there are no credentials (a call then fails saying so) rather than a search of
/// profiles and metadata services.
#[tokio::test]
async fn a_functions_aws_configuration_is_its_environment() {
    use aws_credential_types::provider::ProvideCredentials;
    use compliance_store::aws::lambda_environment;
    let lambda = std::collections::HashMap::from([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "us-east-2"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "session"),
    ]);
    let config = lambda_environment(|name| lambda.get(name).map(|v| v.to_string()));
    assert_eq!(config.region().unwrap().as_ref(), "eu-west-1");
    let credentials = config
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
    assert_eq!(credentials.secret_access_key(), "secret");
    assert_eq!(credentials.session_token(), Some("session"));

    let fallback = std::collections::HashMap::from([("AWS_DEFAULT_REGION", "us-east-2")]);
    let config = lambda_environment(|name| fallback.get(name).map(|v| v.to_string()));
    assert_eq!(config.region().unwrap().as_ref(), "us-east-2");
    assert!(config.credentials_provider().is_none());
    let config = lambda_environment(|_| None);
    assert!(config.region().is_none());
}
