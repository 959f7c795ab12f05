//! Content negotiation: which representation a client asked for in `Accept`.

use axum::http::header::ACCEPT;
use axum::http::HeaderMap;

/// Whether the client asked for CSV: `text/csv` (or `text/*`) ranks above JSON in `Accept`.
pub fn wants_csv(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (mut csv, mut json) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" => csv = csv.max(q + 0.001),
            "text/*" => csv = csv.max(q),
            "application/json" => json = json.max(q + 0.001),
            "application/*" | "*/*" => json = json.max(q),
            _ => {}
        }
    }
    csv > json
}
