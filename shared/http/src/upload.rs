//! Uploaded documents (scan reports, audit records): the media type, and the body decompressed
//! when `Content-Encoding: gzip`, within caps before and after decompression.

use std::io::Read;

use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::HeaderMap;

use crate::ApiError;

/// What one request may carry (API Gateway's own limit is 10 MB).
pub const MAX_COMPRESSED_BYTES: usize = 10 * 1024 * 1024;
/// What a document may expand to: far above real documents, far below a zip bomb.
pub const MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// The media type of `Content-Type`, lower-cased, without parameters (`text/csv`).
pub fn mime(headers: &HeaderMap) -> String {
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

/// The document, decompressed when `Content-Encoding: gzip`, within
/// [`MAX_DECOMPRESSED_BYTES`]; `what` names it in messages ("report", "records").
pub fn decode(headers: &HeaderMap, body: &[u8], what: &str) -> Result<Vec<u8>, ApiError> {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(body.to_vec()),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            let read = flate2::read::MultiGzDecoder::new(body)
                .take(MAX_DECOMPRESSED_BYTES as u64 + 1)
                .read_to_end(&mut out);
            match read {
                Err(_) => Err(ApiError::BadRequest(
                    "Content-Encoding is gzip but the body is not valid gzip".into(),
                )),
                Ok(n) if n > MAX_DECOMPRESSED_BYTES => Err(ApiError::PayloadTooLarge(format!(
                    "The decompressed {what} exceed{} {} MiB",
                    if what.ends_with('s') { "" } else { "s" },
                    MAX_DECOMPRESSED_BYTES / (1024 * 1024)
                ))),
                Ok(_) => Ok(out),
            }
        }
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding {other} is not supported (use gzip or none)"
        ))),
    }
}
