//! The document as the reference path and the failure explanations read it: whole, from its
//! start, as many times as they need, whether it is held in memory (a slice) or reopened from its
//! source (see `stream`).

use serde::Deserialize;

use crate::ingest::error::{explain_with_path, IngestError};

pub(super) trait Input {
    /// The document's first byte that is not ASCII whitespace, if any.
    fn first_byte(&self) -> Option<u8>;
    /// The whole document as `T`, trailing characters refused (as `serde_json::from_slice`).
    fn parse<'s, T: Deserialize<'s>>(&'s self) -> Result<T, serde_json::Error>;
    /// The same with path tracking (slower: only to explain a failure), its error carrying the
    /// path.
    fn parse_with_path<'s, T: Deserialize<'s>>(&'s self) -> Result<T, IngestError>;
}

impl Input for [u8] {
    fn first_byte(&self) -> Option<u8> {
        self.iter().copied().find(|b| !b.is_ascii_whitespace())
    }
    fn parse<'s, T: Deserialize<'s>>(&'s self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self)
    }
    fn parse_with_path<'s, T: Deserialize<'s>>(&'s self) -> Result<T, IngestError> {
        explain_with_path(self)
    }
}
