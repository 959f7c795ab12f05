//! The one error type of ingestion: where in the document (a JSON-pointer-ish path such as
//! `runs[0].results[3].level`) and what is wrong, in words a caller can act on.

use std::fmt;

/// A rejected scan document. `path` is empty when the problem is the document as a whole
/// (not JSON, empty body); otherwise it names the offending property, e.g. `runs[0].results`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub path: String,
    pub message: String,
}

impl IngestError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Maps a serde_json error met without path tracking: syntax errors carry line and column.
    pub(crate) fn from_json(path: impl Into<String>, err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => IngestError::new(
                path,
                format!(
                    "not valid JSON: {} (line {}, column {})",
                    strip_position(&err.to_string()),
                    err.line(),
                    err.column()
                ),
            ),
            Category::Data => IngestError::new(path, err.to_string()),
        }
    }
}

/// serde_json appends " at line L column C" to its messages; we report the position ourselves.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for IngestError {}

/// Runs a path-tracking deserialisation (slower: used only to explain a failure, or for small
/// documents) and maps its error to an [`IngestError`] carrying the path.
pub(crate) fn explain_with_path<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<T, IngestError> {
    explain_with_path_in(serde_json::Deserializer::from_slice(bytes))
}

/// [`explain_with_path`] over any input serde_json reads: a slice, or a report read from a stream
/// (whose explanation must not hold the document).
pub(crate) fn explain_with_path_in<'de, R, T>(
    mut de: serde_json::Deserializer<R>,
) -> Result<T, IngestError>
where
    R: serde_json::de::Read<'de>,
    T: serde::Deserialize<'de>,
{
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        IngestError::from_json(path, e.inner())
    })?;
    de.end().map_err(|e| IngestError::from_json("", &e))?;
    Ok(value)
}
