//! A scan report's bytes: size caps before and after gzip, and which format it is.

use std::io::Read;

use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::HeaderMap;
use compliance_http::ApiError;
use compliance_services::scans::ScanFormat;
use serde::de::IgnoredAny;
use serde::Deserialize;

/// What one request may carry (API Gateway's own limit is 10 MB).
pub const MAX_COMPRESSED_BYTES: usize = 10 * 1024 * 1024;
/// What a report may expand to: far above real reports, far below a zip bomb.
pub const MAX_REPORT_BYTES: usize = 64 * 1024 * 1024;

fn mime(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The report, decompressed when `Content-Encoding: gzip`, within [`MAX_REPORT_BYTES`].
pub fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body.to_vec()),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            let read = flate2::read::MultiGzDecoder::new(body)
                .take(MAX_REPORT_BYTES as u64 + 1)
                .read_to_end(&mut out);
            match read {
                Err(_) => Err(ApiError::BadRequest(
                    "Content-Encoding is gzip but the body is not valid gzip".into(),
                )),
                Ok(n) if n > MAX_REPORT_BYTES => Err(ApiError::PayloadTooLarge(format!(
                    "The decompressed report exceeds {} MiB",
                    MAX_REPORT_BYTES / (1024 * 1024)
                ))),
                Ok(_) => Ok(out),
            }
        }
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {other} is not supported (use gzip or none)"
        ))),
    }
}

/// The keys at the top of the document that tell the two formats apart.
#[derive(Deserialize)]
struct TopLevel {
    runs: Option<IgnoredAny>,
    tool: Option<IgnoredAny>,
}

/// SARIF for `application/sarif+json`; for `application/json`, the native document when it has
/// a `tool` and no `runs`, SARIF otherwise (whose parser then says what is missing).
pub fn format(headers: &HeaderMap, report: &[u8]) -> Result<ScanFormat, ApiError> {
    match mime(headers).as_str() {
        "application/sarif+json" => Ok(ScanFormat::Sarif),
        "application/json" => Ok(match serde_json::from_slice::<TopLevel>(report) {
            Ok(TopLevel {
                runs: None,
                tool: Some(_),
            }) => ScanFormat::Native,
            _ => ScanFormat::Sarif,
        }),
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/sarif+json or application/json".into(),
        )),
    }
}
