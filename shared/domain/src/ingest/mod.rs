//! Scan ingestion: SARIF 2.1.0 and the native scan document, normalised into findings
//! ([`NormalisedScan`]) and reduced to the bounded summary stored per scan ([`ScanSummary`]).
//!
//! - [`parse_sarif`]: a SARIF 2.1.0 log → [`NormalisedScan`].
//! - [`summarise_sarif`]: a SARIF 2.1.0 log → [`ScanSummary`] in one pass, never holding its
//!   findings (the same summary as `summarise(&parse_sarif(..)?, ..)`);
//!   [`summarise_sarif_keyed`] also gives the bounded [`FindingKeys`] exceptions are matched on.
//! - [`summarise_sarif_stream`]: the same from a [`ReportSource`] (a file), in memory bounded
//!   by the summary whatever the report's size, with the SHA-256 of the bytes read.
//! - [`parse_native`]: the native JSON document → [`NativeScan`] (scan + [`Signals`] + times).
//! - [`parse_signals`]: repository [`Signals`] sent alongside a SARIF log.
//! - [`summarise`]: [`NormalisedScan`] + [`Signals`] → [`ScanSummary`], bounded whatever the
//!   report's size.
//!
//! The rules (tool mapping table, severity order, CWE extraction, exclusions, failed runs,
//! coverage, formats, bounds) are documented in `docs/ingestion.md`. Pure library code: no I/O
//! but reading a [`ReportSource`] the caller hands over; gzip and size limits belong to the HTTP
//! layer.

mod error;
mod loose;
pub mod mapping;
pub mod model;
pub mod native;
pub mod sarif;
pub mod severity;
pub mod summary;
mod work;

pub use error::IngestError;
pub use model::{
    ExclusionCounts, Finding, FindingKey, FindingKeys, Location, NormalisedScan, SuppressionPolicy,
    SuppressionRequest, Suppressions, ToolRun, FINDING_KEYS_MAX, SUPPRESSIONS_MAX,
};
pub use native::{parse_native, parse_signals, NativeScan, PullRequestStats, QualityGate, Signals};
pub use sarif::{
    parse_sarif, summarise_sarif, summarise_sarif_for, summarise_sarif_keyed,
    summarise_sarif_stream, summarise_sarif_stream_for, Ingested, ReportSource, StreamError,
    Summarised,
};
pub use summary::{
    summarise, FailedTool, FindingGroup, ScanSummary, SeverityCounts, ToolSummary, Totals,
};

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod test_support;
