//! Layers every deployed router gets once, at the top: a request id (API Gateway's under
//! Lambda), a tracing span carrying it and X-Ray's trace id, the request's metrics (EMF), and
//! JSON bodies for unknown routes and wrong methods.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tracing::Instrument;

use super::error::ApiError;
use super::REQUEST_ID_HEADER;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn request_id(mut req: Request, next: Next) -> Response {
    let lambda_id = match req
        .extensions()
        .get::<lambda_http::request::RequestContext>()
    {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    let id = lambda_id
        .or_else(|| {
            req.headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| acceptable_client_id(v))
                .map(str::to_string)
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    // X-Ray's trace id (active tracing) in every log line of the request, to go from a log
    // line to its trace and back.
    let trace_id = req
        .extensions()
        .get::<lambda_http::Context>()
        .and_then(|c| c.xray_trace_id.clone())
        .or_else(|| {
            req.headers()
                .get("x-amzn-trace-id")
                .and_then(|v| v.to_str().ok())
                .filter(|v| v.len() <= 256)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let operation = match req.extensions().get::<MatchedPath>() {
        Some(route) => format!("{} {}", req.method(), route.as_str()),
        None => "unmatched".to_string(),
    };
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = %trace_id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, "response"));
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    compliance_services::metrics::request(&operation, status, latency_ms);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Not found".into())
}

/// axum answers a wrong method with an empty 405 and an `Allow` header; give it a JSON body.
async fn json_method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let body = Json(json!({"detail": "Method not allowed"})).into_response();
    parts
        .headers
        .extend(body.headers().iter().map(|(k, v)| (k.clone(), v.clone())));
    Response::from_parts(parts, body.into_body())
}

/// The deployed shape of a router: JSON 404/405, request ids, tracing.
pub fn finish(router: Router) -> Router {
    with_common_layers(router.fallback(not_found))
}

pub fn with_common_layers(router: Router) -> Router {
    router
        .layer(middleware::map_response(json_method_not_allowed))
        .layer(middleware::from_fn(request_id))
}
