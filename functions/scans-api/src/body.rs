//! Which format a scan report is (its bytes are read by `compliance_http::upload`).

use axum::http::HeaderMap;
use compliance_http::upload::mime;
use compliance_http::ApiError;
use compliance_services::scans::ScanFormat;
use serde::de::IgnoredAny;
use serde::Deserialize;

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
        "application/json" => Ok(json_format(serde_json::from_slice(report))),
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/sarif+json or application/json".into(),
        )),
    }
}

/// [`format`]'s choice for `application/json`, the document read from a stream (an upload).
pub fn json_format_of(report: impl std::io::Read) -> ScanFormat {
    json_format(serde_json::from_reader(report))
}

fn json_format(top: serde_json::Result<TopLevel>) -> ScanFormat {
    match top {
        Ok(TopLevel {
            runs: None,
            tool: Some(_),
        }) => ScanFormat::Native,
        _ => ScanFormat::Sarif,
    }
}
