//! Pages of a query that keep only some items: the store pages by items read, a listing by items
//! kept, so a page is filled from as many store pages as it takes, within a bound on what one
//! request may read.

use compliance_store::record::{Record, Records};
use compliance_store::{Cursor, Query, Store, StoreError};

/// Items read from the store per round trip when everything is wanted.
pub const PAGE: usize = 1_000;

/// The most items one listing request reads: past it, the page comes back short, with a cursor.
pub const MAX_SCANNED: usize = 2_000;

/// Up to `limit` items of `query` (its direction and range) that `keep` keeps, after `cursor`;
/// and the cursor after the last item read when more may follow.
pub async fn filtered<T: Record>(
    store: &dyn Store,
    query: Query,
    limit: usize,
    mut cursor: Option<Cursor>,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
    let mut kept = Vec::new();
    let mut scanned = 0;
    loop {
        let page_query = Query {
            limit,
            cursor: cursor.take(),
            ..query.clone()
        };
        let (page, next): (Vec<T>, _) = store.query_records(&page_query).await?;
        let count = page.len();
        for (i, item) in page.into_iter().enumerate() {
            let after = Cursor::from_sort_key(item.key().sk);
            if keep(&item) {
                kept.push(item);
            }
            if kept.len() == limit {
                let more = i + 1 < count || next.is_some();
                return Ok((kept, more.then_some(after)));
            }
        }
        scanned += count;
        match next {
            Some(c) if scanned < MAX_SCANNED => cursor = Some(c),
            other => return Ok((kept, other)),
        }
    }
}

/// Every item of `query` (its direction and range), page after page: for reads that need all of
/// a bounded set (an org's exceptions, a scan's key chunks).
pub async fn all<T: Record>(store: &dyn Store, query: Query) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page_query = Query {
            limit: PAGE,
            cursor: cursor.take(),
            ..query.clone()
        };
        let (page, next): (Vec<T>, _) = store.query_records(&page_query).await?;
        out.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
