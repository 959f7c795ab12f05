//! Uploaded documents (scan reports, audit records): the media type, and the body decompressed
//! when `Content-Encoding: gzip`, within caps before and after decompression.

use std::io::Read;

use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::HeaderMap;

use crate::ApiError;

/// Lambda's quota on a synchronous invocation's payload: the whole API Gateway event (headers,
/// request context and body) must fit in it, whatever API Gateway itself would accept (10 MB).
pub const LAMBDA_EVENT_MAX_BYTES: usize = 6_291_456;
/// The most an HTTP API (payload format 2.0) event holds besides its body. API Gateway accepts
/// at most 10,240 bytes of request line and headers; the event repeats some of them (the path in
/// `rawPath`, `requestContext.http.path` and `pathParameters`, the query in `rawQueryString` and
/// `queryStringParameters`, the user agent in `requestContext.http.userAgent`), JSON escaping at
/// most doubles a header value's bytes (quotes, backslashes; control characters are not allowed
/// in headers), and the request context's own fields take under 2 KiB: 3 × 2 × 10,240 + 2,048
/// rounded up to 64 KiB.
pub const EVENT_ENVELOPE_MAX_BYTES: usize = 64 * 1024;
/// What the body of one request may carry (4,669,440 bytes, 4.45 MiB): API Gateway base64-encodes
/// a binary body (a gzip report) into the event, 4 bytes for 3, so this is the most whose base64
/// fits beside the largest envelope. The local server enforces the same, so what it accepts a
/// deployed function receives.
pub const MAX_DIRECT_BODY_BYTES: usize =
    (LAMBDA_EVENT_MAX_BYTES - EVENT_ENVELOPE_MAX_BYTES) / 4 * 3;
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
        None | Some("") | Some("identity") => {
            fits_the_event_as_text(body)?;
            Ok(body.to_vec())
        }
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

/// A body sent as text is not base64-encoded into the Lambda event but placed in it as a JSON
/// string, where each quote, backslash and control character takes 2 bytes (6 for the control
/// characters without a short escape): within [`MAX_DIRECT_BODY_BYTES`] such a body can still
/// overflow the event. Refused here as API Gateway would refuse it, with the way out.
fn fits_the_event_as_text(body: &[u8]) -> Result<(), ApiError> {
    let budget = LAMBDA_EVENT_MAX_BYTES - EVENT_ENVELOPE_MAX_BYTES;
    let escaped = json_string_len(body);
    if escaped <= budget {
        return Ok(());
    }
    Err(ApiError::PayloadTooLarge(format!(
        "Request body of {} bytes takes {escaped} bytes in the Lambda event once its quotes, \
         backslashes and control characters are escaped, over the {budget} bytes an event has \
         for a body: send it gzip-compressed (Content-Encoding: gzip)",
        body.len()
    )))
}

/// The bytes of `body` as the contents of a JSON string (RFC 8259 escapes).
fn json_string_len(body: &[u8]) -> usize {
    body.iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn the_direct_limit_is_the_largest_base64_beside_the_envelope() {
        assert_eq!(MAX_DIRECT_BODY_BYTES, 4_669_440);
        assert!(
            MAX_DIRECT_BODY_BYTES.div_ceil(3) * 4 + EVENT_ENVELOPE_MAX_BYTES
                <= LAMBDA_EVENT_MAX_BYTES
        );
        assert!(
            (MAX_DIRECT_BODY_BYTES + 3).div_ceil(3) * 4 + EVENT_ENVELOPE_MAX_BYTES
                > LAMBDA_EVENT_MAX_BYTES
        );
    }

    #[test]
    fn json_escapes_counted_as_a_json_encoder_writes_them() {
        let body: Vec<u8> = (0u8..=127).chain("\"\\é".bytes()).collect();
        let text = String::from_utf8(body.clone()).unwrap();
        let encoded = serde_json::to_string(&text).unwrap();
        assert_eq!(json_string_len(&body), encoded.len() - 2);
    }

    #[test]
    fn a_text_body_too_escaped_for_the_event_is_refused_and_its_gzip_is_not() {
        let quotes = vec![b'"'; MAX_DIRECT_BODY_BYTES];
        let err = decode(&HeaderMap::new(), &quotes, "report").unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        assert!(err.to_string().contains("gzip"), "{err}");
        let plain = vec![b'a'; MAX_DIRECT_BODY_BYTES];
        assert!(decode(&HeaderMap::new(), &plain, "report").is_ok());
    }
}
