//! Extractors: who calls ([`Caller`], [`Admin`]), from where ([`Meta`]), and with what body
//! ([`JsonBody`]), each rejecting with an [`ApiError`].

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::body::{self, FromBody};
use super::error::ApiError;
use super::layers::RequestId;
use super::problem::FieldError;
use super::state::AppState;
use compliance_domain::identity::Principal;
use compliance_services::audit_log::RequestMeta;

/// Any authenticated caller.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Caller(state.auth.authenticate(&parts.headers).await?))
    }
}

/// A caller with the admin or owner role (403 otherwise).
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if !principal.is_admin() {
            return Err(ApiError::AdminRequired);
        }
        Ok(Admin(principal))
    }
}

const MAX_USER_AGENT: usize = 512;

/// Request id, source IP and user agent: from API Gateway's request context under Lambda,
/// from the socket under the local server.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let lambda_ip = match parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
                ctx.http.source_ip.clone()
            }
            _ => None,
        };
        let source_ip = lambda_ip.or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        });
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        Ok(Meta(RequestMeta {
            request_id,
            source_ip,
            user_agent,
        }))
    }
}

/// A JSON body: `Content-Type` must be JSON (415), the size within the router's limit (413),
/// and a parse error names the field where it happened (400).
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Turns a serde path (`controls[2].check_type`) into a JSON path array.
fn path_parts(path: &serde_path_to_error::Path) -> Vec<Value> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(json!(index)),
            Segment::Map { key } => Some(json!(key)),
            Segment::Enum { variant } => Some(json!(variant)),
            Segment::Unknown => None,
        })
        .collect()
}

/// The body as JSON: well-formed, without duplicate keys at any depth.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    check_json(bytes)?;
    serde_json::from_slice(bytes).map_err(json_problem)
}

/// What [`parse_json`] checks, without building the tree (for a reader that streams the body).
pub fn check_json(bytes: &[u8]) -> Result<(), ApiError> {
    super::strict_json::check_no_duplicate_keys(bytes).map_err(json_problem)
}

/// An error of the JSON reader, worded for the body as a whole.
pub fn json_problem(e: serde_json::Error) -> ApiError {
    let message = match e.classify() {
        serde_json::error::Category::Data => {
            let text = e.to_string();
            text.split(" at line ").next().unwrap_or(&text).to_string()
        }
        _ => format!("Malformed JSON: {e}"),
    };
    ApiError::Validation(vec![FieldError::new(vec![], message)])
}

impl<S: Send + Sync, T: FromBody> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !is_json(&content_type) {
            return Err(ApiError::UnsupportedMediaType(
                "Content-Type must be application/json".into(),
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        Ok(JsonBody(body::read(&parse_json(&bytes)?)?))
    }
}

/// The body's bytes within the router's limit (413 beyond it).
pub struct RawBody(pub Bytes);

/// The body limit of a router (see [`with_body_limit`]), for the 413's message.
#[derive(Clone, Copy)]
pub struct BodyLimit {
    max: usize,
    /// What the limit is and what to do instead, when the size alone does not say it.
    advice: Option<&'static str>,
    /// The endpoint that takes what is over the limit.
    uploads: Option<&'static str>,
}

/// Caps the router's request bodies at `max` bytes: 413 beyond, naming the limit.
pub fn with_body_limit(router: axum::Router, max: usize) -> axum::Router {
    limited(
        router,
        BodyLimit {
            max,
            advice: None,
            uploads: None,
        },
    )
}

/// Caps the router's request bodies at what one Lambda invocation receives
/// ([`MAX_DIRECT_BODY_BYTES`](crate::upload::MAX_DIRECT_BODY_BYTES)), the 413 saying so and
/// naming `uploads`, the endpoint that takes larger documents.
pub fn with_direct_body_limit(router: axum::Router, uploads: &'static str) -> axum::Router {
    limited(
        router,
        BodyLimit {
            max: crate::upload::MAX_DIRECT_BODY_BYTES,
            advice: Some(
                "what one Lambda invocation receives once API Gateway has base64-encoded it); \
                 compress it with gzip (Content-Encoding: gzip) if it is not",
            ),
            uploads: Some(uploads),
        },
    )
}

fn limited(router: axum::Router, limit: BodyLimit) -> axum::Router {
    router
        .layer(axum::extract::DefaultBodyLimit::max(limit.max))
        .layer(axum::Extension(limit))
}

fn too_large(limit: Option<BodyLimit>) -> ApiError {
    ApiError::PayloadTooLarge(match limit {
        Some(BodyLimit {
            max,
            advice: Some(advice),
            uploads,
        }) => {
            let larger = uploads.map_or(String::new(), |path| {
                format!(
                    "; for a larger document, announce an upload with POST {path} and send the \
                     file to the form it answers"
                )
            });
            format!("Request body over this endpoint's limit of {max} bytes ({advice}{larger}")
        }
        Some(BodyLimit {
            max, advice: None, ..
        }) => {
            format!(
                "Request body over this endpoint's limit of {} KiB",
                max / 1024
            )
        }
        None => "Request body too large".into(),
    })
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = req.extensions().get::<BodyLimit>().copied();
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    ApiError::BadRequest("Could not read the request body".into())
                }
            })
    }
}

/// Query-string parameters, with a 400 naming the parameter that did not parse.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| {
                let path = path_parts(e.path());
                ApiError::InvalidQuery(vec![FieldError::new(
                    path,
                    format!("invalid query parameter: {}", e.into_inner()),
                )])
            })
    }
}

/// `limit` and `cursor` of every listing.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

/// Checks a listing's `limit` (1..=100) and decodes its `cursor`.
pub fn page_args(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(usize, Option<compliance_store::Cursor>), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::query(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    // `?cursor=` (empty) is the first page, as no cursor is.
    let cursor = cursor
        .filter(|c| !c.is_empty())
        .map(compliance_store::Cursor::decode)
        .transpose()
        .map_err(|_| ApiError::query("cursor", "invalid cursor"))?;
    Ok((limit as usize, cursor))
}

/// A caller that may send data (scans, repositories): member or above (403 for viewers).
pub struct Contributor(pub Principal);

impl FromRequestParts<AppState> for Contributor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if principal.role < compliance_domain::plans::Role::Member {
            return Err(ApiError::Forbidden("Member role required".into()));
        }
        Ok(Contributor(principal))
    }
}
