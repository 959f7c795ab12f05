//! Outages answered as outages: the API over DynamoDB Local through a fault-injecting proxy on
//! loopback. While the proxy resets connections, stalls, or answers DynamoDB's throttling
//! error, store-backed operations answer 503 with `Retry-After` within the client's stated time
//! (never a 500), the readiness check says so while the liveness check stays up, nothing is
//! half-written, and everything answers again once the proxy passes traffic. A table whose
//! endpoint has nothing listening (DynamoDB Local stopped) is the same 503.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use compliance_store::dynamo::{CallLimits, DynamoStore};
use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::{dynamo_endpoint, dynamo_store, spawn_app_with, TestApp, TestStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Fault {
    Pass = 0,
    /// Every connection closed as soon as it is accepted.
    Reset = 1,
    /// Connections accepted, nothing ever answered.
    Stall = 2,
    /// Every request answered with DynamoDB's throttling error.
    Throttle = 3,
}

/// A TCP proxy in front of DynamoDB Local whose behaviour the test switches.
struct Proxy {
    addr: SocketAddr,
    fault: Arc<AtomicU8>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(AtomicU8::new(Fault::Pass as u8));
        let mode = fault.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let mode = mode.clone();
                tokio::spawn(async move { serve(client, upstream, mode).await });
            }
        });
        Proxy { addr, fault }
    }

    /// Switches the fault, once the connections already passing have been cut.
    async fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn current(mode: &AtomicU8) -> Fault {
    match mode.load(Ordering::SeqCst) {
        0 => Fault::Pass,
        1 => Fault::Reset,
        2 => Fault::Stall,
        _ => Fault::Throttle,
    }
}

/// One connection, by the fault at its start; a passing connection is cut when the fault
/// changes (so the client's pooled connections meet the outage too).
async fn serve(mut client: TcpStream, upstream: SocketAddr, mode: Arc<AtomicU8>) {
    match current(&mode) {
        Fault::Reset => drop(client),
        Fault::Stall => tokio::time::sleep(Duration::from_secs(60)).await,
        Fault::Throttle => throttle(client, &mode).await,
        Fault::Pass => {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let watch = async {
                while current(&mode) == Fault::Pass {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = watch => {}
            }
        }
    }
}

/// Answers every request of the connection as DynamoDB does when it throttles, while the fault
/// lasts (then closes it, so the client's pool does not keep a throttling connection).
async fn throttle(mut client: TcpStream, mode: &AtomicU8) {
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: proxy\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // A request: its head, then as many bytes as its content-length says.
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match client.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            match client.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        if current(mode) != Fault::Throttle || client.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Limits short enough for a test: each attempt 1 s, the call 3 s.
fn short() -> CallLimits {
    CallLimits {
        connect: Duration::from_millis(500),
        attempt: Duration::from_secs(1),
        call: Duration::from_secs(3),
        attempts: 3,
    }
}

/// The app over a fresh DynamoDB Local table reached through `endpoint`.
async fn app_through(endpoint: &str) -> TestApp {
    let table = dynamo_store().await.table().to_string();
    let client = DynamoStore::client_with(Some(endpoint), short()).await;
    let store = Arc::new(DynamoStore::new(client, table));
    spawn_app_with(
        TestStore {
            store,
            feed: None,
            dir: None,
        },
        None,
    )
    .await
}

/// A 503 with `Retry-After`, saying which dependency, within the stated time.
async fn unavailable(app: &TestApp, method: Method, path: &str, body: Option<serde_json::Value>) {
    let started = Instant::now();
    let resp = app
        .call(method.clone(), path, Some(&app.admin_key), body)
        .await;
    let took = started.elapsed();
    assert_eq!(
        resp.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{method} {path}: {:?}",
        resp.body
    );
    assert_eq!(resp.headers["retry-after"], "5", "{method} {path}");
    let said = resp.body.to_string();
    assert!(said.contains("data store"), "{method} {path}: {said}");
    // Within the call's limit (3 s here), with room for a busy machine.
    assert!(
        took < Duration::from_secs(8),
        "{method} {path} took {took:?}"
    );
}

#[tokio::test]
async fn store_outages_answer_503_with_retry_after_and_nothing_half_written() {
    let upstream: SocketAddr = dynamo_endpoint()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    let app = app_through(&format!("http://{}", proxy.addr)).await;
    let created = app.post("/api/repos", json!({"name": "before"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let repo = created.body["repo_id"].as_u64().unwrap();
    let score = format!("/api/compliance/score/{repo}");
    assert_eq!(app.get(&score).await.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/api/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body, json!({"status": "ready", "store": "dynamodb"}));

    for fault in [Fault::Reset, Fault::Throttle, Fault::Stall] {
        proxy.set(fault).await;
        unavailable(&app, Method::GET, "/api/ready", None).await;
        if fault == Fault::Stall {
            continue; // each stalled call waits out the limit: one is enough
        }
        unavailable(&app, Method::GET, &score, None).await;
        unavailable(&app, Method::GET, "/api/repos", None).await;
        let body = Some(json!({"name": format!("during-{fault:?}")}));
        unavailable(&app, Method::POST, "/api/repos", body).await;
        // The liveness check touches nothing and stays up.
        let health = app.call(Method::GET, "/api/health", None, None).await;
        assert_eq!(health.status, StatusCode::OK);
    }

    proxy.set(Fault::Pass).await;
    assert_eq!(app.get(&score).await.status, StatusCode::OK);
    let listed = app.get("/api/repos").await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<&str> = listed.body["repos"]
        .as_array()
        .or_else(|| listed.body["repositories"].as_array())
        .unwrap_or_else(|| panic!("{:?}", listed.body))
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["before"],
        "nothing of the refused creations was written"
    );
    let again = app.post("/api/repos", json!({"name": "after"})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
}

#[tokio::test]
async fn a_stopped_table_endpoint_is_unavailable_not_an_error() {
    // A port with nothing listening: DynamoDB Local stopped.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = DynamoStore::client_with(Some(&endpoint), short()).await;
    let store = DynamoStore::new(client, "missing");
    let started = Instant::now();
    let err = compliance_store::Store::get(&store, &compliance_store::Key::new("PK", "SK"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, compliance_store::StoreError::Unavailable(_)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
}
