//! Responses bounded by construction. API Gateway and Lambda refuse a response over 6 MB, and
//! the documented limits (50 custom frameworks of 200 controls) allow lists far larger than
//! that; such a list is answered in pages of whole items, each page within a budget, with a
//! cursor naming where the next page starts.

use serde::Serialize;
use serde_json::value::RawValue;

use super::error::ApiError;
use compliance_store::Cursor;

/// What one response may carry of a long list: well under the 6 MB limit, with room for the
/// rest of the body.
pub const RESPONSE_BUDGET: usize = 4 * 1024 * 1024;

/// A `cursor` query parameter of a budgeted list: the key of the last item already sent.
pub fn resume_after(cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            Cursor::decode(c)
                .map(|c| c.sort_key().to_string())
                .map_err(|_| ApiError::query("cursor", "invalid cursor"))
        })
        .transpose()
}

/// One page of a budgeted list: each item with its key, as JSON, and the next page's cursor.
pub type SizedPage<'a> = (Vec<(&'a str, Box<RawValue>)>, Option<String>);

/// The items with a key after `after` (`items` come in ascending key order), whole, as many as
/// `budget` bytes of JSON hold (at least one), and the cursor of the next page when items
/// remain.
pub fn page_by_size<'a, T: Serialize + 'a>(
    items: impl IntoIterator<Item = (&'a str, &'a T)>,
    after: Option<&str>,
    budget: usize,
) -> Result<SizedPage<'a>, ApiError> {
    let mut page: Vec<(&str, Box<RawValue>)> = Vec::new();
    let mut used = 0;
    for (key, item) in items {
        if after.is_some_and(|after| key <= after) {
            continue;
        }
        let raw = serde_json::value::to_raw_value(item).map_err(ApiError::internal)?;
        used += raw.get().len();
        if used > budget && !page.is_empty() {
            let last = page.last().map(|(k, _)| *k).unwrap_or_default();
            return Ok((page, Some(Cursor::from_sort_key(last).encode())));
        }
        page.push((key, raw));
    }
    Ok((page, None))
}
