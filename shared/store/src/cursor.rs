use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::StoreError;

/// An opaque pagination cursor: the sort key of the last item returned. The partition always
/// comes from the caller's own query, so a forged cursor can at worst move within that partition
/// (and is range-checked by [`super::Query::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn from_sort_key(sk: impl Into<String>) -> Self {
        Cursor(sk.into())
    }

    pub fn sort_key(&self) -> &str {
        &self.0
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn decode(text: &str) -> Result<Self, StoreError> {
        if text.len() > 2048 {
            return Err(StoreError::InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| StoreError::InvalidCursor)?;
        let sk = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
        if sk.is_empty() {
            return Err(StoreError::InvalidCursor);
        }
        Ok(Cursor(sk))
    }
}
